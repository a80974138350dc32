/* qXfer:btrace-calls:read: the call/return classification of the general
 * thread's trace (etm/calls.h, doc/protocol.md), built from the same
 * ranges and PC as the blocks qXfer:btrace:read serves, for every source.
 * Decoded sources (perf cs_etm, emulated ETMv4, replayed captures) carry
 * OpenCSD's class of each range's last instruction; the software
 * recorder's blocks are classified here with capstone. */
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "arch/disasm.h"
#include "etm/calls.h"
#include "etm/swbtrace.h"
#include "protocol/packet.h"
#include "protocol/qxfer.h"
#include "server/btrace.h"
#include "server/btrace_state.h"
#include "server/reply.h"
#include "server/session.h"
#include "server/threads.h"
#include "server/xfer.h"

/* Thumb instructions of R up to ADDR, by the first halfword of each. */
static uint64_t thumb_count(void *ctx, const struct trace_range *r, uint64_t addr)
{
	struct bt_thread *t = ctx;
	if (r->isa != ETM_ISA_THUMB)
		return r->ninsns;
	uint64_t n = 0;
	for (uint64_t a = r->begin; a <= addr && n < r->ninsns; n++) {
		uint8_t hw[2];
		unsigned top = bt_read_memory(t, a, hw, 2) == 2 ? hw[1] >> 3 : 0;
		a += top == 0x1d || top == 0x1e || top == 0x1f ? 4 : 2;
	}
	return n ? n : 1;
}

/* What a software-recorded block [BEGIN, LAST] is, cached by address:
 * loops end the same blocks again and again. */
#define KIND_CACHE 4096u
struct sw_kind {
	uint64_t begin, last, ninsns;
	uint8_t cls;
	bool valid;
};

#define MAX_BLOCK_BYTES (1u << 16)

static void classify_block(struct bt_thread *t, enum disasm_isa isa, uint64_t begin, uint64_t last,
			   struct sw_kind *k)
{
	*k = (struct sw_kind){begin, last, 1, ETM_INSN_OTHER, true};
	if (last < begin || last - begin > MAX_BLOCK_BYTES)
		return;
	size_t len = (size_t)(last - begin) + 16;
	uint8_t *code = malloc(len);
	if (!code)
		abort();
	size_t got = bt_read_memory(t, begin, code, len);
	uint64_t a = begin, n = 0;
	struct disasm_insn in;
	while (a <= last && a - begin < got) {
		int size = disasm_one(isa, code + (a - begin), got - (size_t)(a - begin), a, &in);
		if (size <= 0)
			break;
		n++;
		if (a == last && in.kind != DISASM_KIND_OTHER)
			k->cls = in.kind == DISASM_KIND_CALL ? ETM_INSN_CALL :
				 in.kind == DISASM_KIND_RETURN ? ETM_INSN_RETURN : ETM_INSN_JUMP;
		a += (uint64_t)size;
	}
	k->ninsns = n ? n : 1;
	free(code);
}

/* The software recorder's blocks as ranges (not marked read: gdb's next
 * delta stays its own); NULL when the thread records nothing. */
static struct trace_range *software_ranges(struct bt_thread *t, uint64_t pc, size_t *n)
{
	struct thread *th = find_thread(t->tid);
	uint8_t *regs = th ? thread_regs(th) : NULL;
	struct btrace_range *b;
	if (!th || !th->bt || !the_arch.disasm_isa || !regs || !swbtrace_peek(th->bt, false, pc, &b, n))
		return NULL;
	enum disasm_isa isa = the_arch.disasm_isa(regs);
	struct sw_kind *cache = calloc(KIND_CACHE, sizeof *cache);
	struct trace_range *r = calloc(*n ? *n : 1, sizeof *r);
	if (!cache || !r)
		abort();
	for (size_t i = 0; i < *n; i++) {
		struct sw_kind *k = &cache[(b[i].begin * 31 + b[i].last) % KIND_CACHE];
		if (!k->valid || k->begin != b[i].begin || k->last != b[i].last)
			classify_block(t, isa, b[i].begin, b[i].last, k);
		r[i] = (struct trace_range){.begin = b[i].begin, .end = b[i].last + 1, .ninsns = (uint32_t)k->ninsns,
					    .last_size = 1, .cls = k->cls, .flags = ETM_RANGE_TAKEN,
					    .isa = isa == DISASM_T32 ? ETM_ISA_THUMB : ETM_ISA_OTHER};
	}
	free(cache);
	free(b);
	return r;
}

/* ANNEX: empty for the general thread, else the thread's id in hex
 * ("p<pid>.<tid>" or "<tid>", as gdb writes thread ids). */
static bool annex_tid(const char *annex, pid_t *tid)
{
	const char *p = annex[0] == 'p' ? strchr(annex, '.') : NULL;
	const char *digits = p ? p + 1 : annex;
	char *end;
	*tid = 0;
	if (!annex[0])
		return true;
	unsigned long v = strtoul(digits, &end, 16);
	if (!*digits || *end || v == 0 || v > 0x7fffffff)
		return false;
	*tid = (pid_t)v;
	return true;
}

static const char *build_calls(struct session *s, const char *key, const char *annex, struct buf *doc)
{
	(void)key;
	pid_t tid;
	if (!annex_tid(annex, &tid))
		return "Bad annex: expected nothing (the general thread) or a thread id.";
	struct buf why = BUF_INIT;
	struct bt_thread *t = bt_trace_thread(s, tid, &why);
	buf_free(&why);
	if (!t)
		return "Btrace not enabled.";
	uint64_t pc;
	if (!bt_thread_pc(t, &pc))
		return "Could not read the thread's PC.";
	if (bt_source()->ops->read_blocks) {
		size_t n = 0;
		struct trace_range *r = software_ranges(t, pc, &n);
		/* x86: every count is exact already (capstone walked the block) */
		calls_doc(doc, r, r ? n : 0, pc, false, thumb_count, t);
		free(r);
		return NULL;
	}
	if (t->fmt != BT_BTS)
		return "The thread's trace is served raw (format CoreSight): the client decodes it.";
	const struct trace_ranges *tr = bt_held(t);
	calls_doc(doc, trace_ranges_first(tr), tr->n, pc, true, thumb_count, t);
	return NULL;
}

/* Chunks of one read come from one build, as for qXfer:btrace:read. */
static const struct xfer_object calls_object = {.build = build_calls, .strict = true};

void handle_xfer_btrace_calls(void *ctx, const char *a, size_t n, struct buf *reply)
{
	struct session *s = ctx;
	char annex[32], key[64];
	const char *range;
	size_t range_len;
	if (!btrace_xfer_args(a, n, annex, sizeof annex, &range, &range_len, reply))
		return;
	struct thread *th = general_thread(s);
	snprintf(key, sizeof key, "btrace-calls:%.24s:%d", annex, th ? (int)th->tid : 0);
	/* (a length beyond one packet gets one packet's worth: xfer_reply) */
	xfer_cache_serve(s, key, range, range_len, &calls_object, annex, reply);
}
