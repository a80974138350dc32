/* The qXfer:btrace-calls:read document: see calls.h and doc/protocol.md. */
#include "etm/calls.h"

#include <inttypes.h>
#include <stdlib.h>

struct event {
	uint64_t off;
	char kind;       /* c call, r return, e exception return, x exception, g gap */
};

/* The block being built: gdb's next <block>. */
struct block {
	uint64_t begin, last, end, count;
	int level;                  /* of its first instruction */
	size_t first_range;         /* index of its first range */
	struct event *ev;
	size_t nev, cap;
};

static void add_event(struct block *b, uint64_t off, char kind)
{
	if (b->nev == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 8;
		b->ev = realloc(b->ev, b->cap * sizeof *b->ev);
		if (!b->ev)
			abort();
	}
	b->ev[b->nev++] = (struct event){off, kind};
}

static void put_block(struct buf *out, const struct block *b)
{
	buf_printf(out, "%" PRIx64 " %" PRIx64 " %" PRIx64 " %d", b->begin, b->last, b->count, b->level);
	for (size_t i = 0; i < b->nev; i++)
		buf_printf(out, " %" PRIx64 ":%c", b->ev[i].off, b->ev[i].kind);
	buf_putc(out, '\n');
}

static uint64_t count_upto(const struct trace_range *r, uint64_t addr, calls_count_fn count, void *ctx)
{
	if (addr >= trace_range_last(r))
		return r->ninsns;
	if (r->isa == ETM_ISA_ARM || r->isa == ETM_ISA_A64)
		return (addr - r->begin) / 4 + 1;
	if (count)
		return count(ctx, r, addr);
	return (addr - r->begin) / 2 + 1;
}

/* The thread stands at PC inside block B (ranges R[B->first_range..N)):
 * the block ends there, and what happens at PC has not happened yet. */
static void cut_at_pc(struct block *b, const struct trace_range *r, size_t n, uint64_t pc,
		      calls_count_fn count, void *ctx)
{
	uint64_t before = 0;
	for (size_t i = b->first_range; i < n; i++) {
		if (pc >= r[i].begin && (pc < r[i].end || pc == trace_range_last(&r[i]))) {
			b->count = before + count_upto(&r[i], pc, count, ctx);
			break;
		}
		before += r[i].ninsns;
	}
	b->last = pc;
	size_t keep = 0;
	for (size_t i = 0; i < b->nev; i++) {
		bool after = b->ev[i].kind == 'x' || b->ev[i].kind == 'g';
		if (b->ev[i].off + (after ? 0 : 1) < b->count)
			b->ev[keep++] = b->ev[i];
	}
	b->nev = keep;
}

void calls_doc(struct buf *out, const struct trace_range *r, size_t n, uint64_t pc, bool merge,
	       calls_count_fn count, void *ctx)
{
	struct buf body = BUF_INIT;
	struct block b = {0};
	bool open = false;
	size_t nblocks = 0;
	uint64_t total = 0;
	int level = 0;
	for (size_t i = 0; i < n; i++) {
		if (open && !(merge && b.end == r[i].begin)) {
			put_block(&body, &b);
			nblocks++;
			total += b.count;
			open = false;
		}
		if (!open) {
			b.begin = r[i].begin;
			b.count = 0;
			b.nev = 0;
			b.first_range = i;
			open = true;
		}
		if (i > 0 && (r[i].flags & ETM_RANGE_GAP_BEFORE)) {
			add_event(&b, b.count, 'g');
		} else if (i > 0 && (r[i].flags & ETM_RANGE_EXC_BEFORE)) {
			add_event(&b, b.count, 'x');
			level++;
		}
		if (b.count == 0)
			b.level = level;
		b.count += r[i].ninsns;
		b.last = trace_range_last(&r[i]);
		b.end = r[i].end;
		if (!(r[i].flags & ETM_RANGE_TAKEN) || !r[i].ninsns)
			continue;
		if (r[i].cls == ETM_INSN_CALL) {
			add_event(&b, b.count - 1, 'c');
			level++;
		} else if (r[i].cls == ETM_INSN_RETURN || r[i].cls == ETM_INSN_EXCEPTION_RETURN) {
			add_event(&b, b.count - 1, r[i].cls == ETM_INSN_RETURN ? 'r' : 'e');
			level--;
		}
	}
	/* The last block ends where the thread stands, as btrace_xml_blocks
	 * cuts it; else the PC is a block of its own. */
	if (open && pc >= b.begin && (pc < b.end || pc == b.last)) {
		cut_at_pc(&b, r, n, pc, count, ctx);
	} else {
		if (open) {
			put_block(&body, &b);
			nblocks++;
			total += b.count;
		}
		b = (struct block){.begin = pc, .last = pc, .count = 1, .level = level, .ev = b.ev};
	}
	put_block(&body, &b);
	nblocks++;
	total += b.count;
	buf_printf(out, "btrace-calls %d %" PRIx64 " %zx\n", CALLS_DOC_VERSION, total, nblocks);
	buf_append(out, body.data, body.len);
	buf_free(&body);
	free(b.ev);
}
