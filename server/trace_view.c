/* Looking at trace frames: QTFrame, the selected frame answering g/p/m,
 * qXfer:traceframe-info, and the raw buffer (qTBuffer, for tsave). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"
#include "protocol/packet.h"
#include "protocol/qxfer.h"
#include "server/reply.h"
#include "server/trace_state.h"
#include "server/tracepoint.h"
#include "server/xfer.h"

size_t trace_regblock_size(void)
{
	const struct arch_regfile *rf = target_regfile();
	size_t n = 0;
	for (size_t i = 0; i < rf->nregs; i++)
		if (rf->regs[i].in_g)
			n += rf->regs[i].size;
	return n;
}

void trace_regs_to_block(const uint8_t *raw, uint8_t *block)
{
	const struct arch_regfile *rf = target_regfile();
	for (size_t i = 0; i < rf->nregs; i++)
		if (rf->regs[i].in_g) {
			memcpy(block, raw + rf->regs[i].offset, rf->regs[i].size);
			block += rf->regs[i].size;
		}
}

/* The raw register block (target_regfile's layout) of a frame's 'g'-laid
 * block, in a buffer reused from call to call; registers outside 'g' are
 * zero. NULL when out of memory. */
static uint8_t *block_to_raw(const uint8_t *block)
{
	static uint8_t *raw;
	static size_t raw_size;
	const struct arch_regfile *rf = target_regfile();
	if (raw_size != rf->size) {
		free(raw);
		raw = calloc(1, rf->size);
		raw_size = raw ? rf->size : 0;
	}
	if (!raw)
		return NULL;
	memset(raw, 0, raw_size);
	for (size_t i = 0; i < rf->nregs && block; i++)
		if (rf->regs[i].in_g) {
			memcpy(raw + rf->regs[i].offset, block, rf->regs[i].size);
			block += rf->regs[i].size;
		}
	return raw;
}

uint64_t trace_frame_pc(const struct trace_frame *f)
{
	const uint8_t *block = tframe_regs(f, trace_state.buf.regsize);
	const uint8_t *regs = block ? block_to_raw(block) : NULL;
	if (regs)
		return the_arch.get_pc(regs);
	const struct tracepoint *tp = tp_find_number(&trace_state.defs, tframe_tpnum(f));
	return tp ? tp->addr : 0;
}

/* From the frame after the selected one (the search does not wrap):
 * the first whose PC is inside [LO, HI] (or outside it), or whose
 * tracepoint is TPNUM (when TPNUM >= 0). -1 when none. */
static long find_next(uint64_t lo, uint64_t hi, bool inside, long tpnum)
{
	const struct trace_buffer *b = &trace_state.buf;
	for (size_t i = (size_t)(trace_state.frame + 1); i < tbuf_count(b); i++) {
		const struct trace_frame *f = tbuf_frame(b, i);
		if (tpnum >= 0) {
			if (tframe_tpnum(f) == (unsigned)tpnum)
				return (long)i;
			continue;
		}
		uint64_t pc = trace_frame_pc(f);
		if (inside == (lo <= pc && pc <= hi))
			return (long)i;
	}
	return -1;
}

static bool starts(const char **p, const char *end, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(end - *p) < n || memcmp(*p, word, n))
		return false;
	*p += n;
	return true;
}

/* QTFrame:N | pc:ADDR | tdp:N | range:LO:HI | outside:LO:HI */
void handle_qtframe(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	struct trace_state *ts = &trace_state;
	const char *p = a, *end = a + n;
	uint64_t lo, hi, v;
	long found;
	bool ok;
	if (starts(&p, end, "pc:")) {
		ok = hex_parse_u64(&p, end, &lo) && p == end;
		found = ok ? find_next(lo, lo, true, -1) : -1;
	} else if (starts(&p, end, "tdp:")) {
		ok = hex_parse_u64(&p, end, &v) && p == end;   /* ffffffff: gdb's -1 */
		found = ok && v <= 0xffff ? find_next(0, 0, true, (long)v) : -1;
	} else if (starts(&p, end, "range:") || starts(&p, end, "outside:")) {
		bool inside = a[0] == 'r';
		ok = hex_parse_u64_sep(&p, end, ':', &lo) && hex_parse_u64(&p, end, &hi) && p == end;
		found = ok ? find_next(lo, hi, inside, -1) : -1;
	} else {
		ok = hex_parse_u64(&p, end, &v) && p == end;
		if (ok && (v == 0xffffffffu || v == UINT64_MAX)) {
			ts->frame = -1;   /* back to the live program */
			ts->generation++;
			reply_ok(reply);
			return;
		}
		found = ok && v < tbuf_count(&ts->buf) ? (long)v : -1;
	}
	if (!ok) {
		reply_error(reply, 1);
		return;
	}
	if (found < 0) {
		/* gdb keeps its selection on F-1, and so do we (gdbserver) */
		buf_puts(reply, "F-1");
		return;
	}
	ts->frame = found;
	ts->generation++;
	buf_printf(reply, "F%lxT%x", found, tframe_tpnum(tbuf_frame(&ts->buf, (size_t)found)));
}

/* qTBuffer:OFFSET,LENGTH: the raw frames, "l" at the end. */
void handle_qtbuffer_read(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	const char *p = a, *end = a + n;
	uint64_t offset, len;
	if (!hex_parse_u64_sep(&p, end, ',', &offset) || !hex_parse_u64(&p, end, &len) || p != end) {
		reply_error(reply, 1);
		return;
	}
	struct trace_buffer *b = &trace_state.buf;
	if (offset == b->used) {
		buf_puts(reply, "l");
		return;
	}
	size_t max = RSP_PACKET_SIZE / 2 - 16;
	if (len > max)
		len = max;
	uint8_t *data = malloc(len ? len : 1);
	ssize_t got = data ? tbuf_raw_read(b, offset, data, (size_t)len) : -1;
	if (got < 0)
		reply_error(reply, 1);
	else
		buf_hex(reply, data, (size_t)got);
	free(data);
}

static const struct trace_frame *selected(void)
{
	return trace_state.frame >= 0 ? tbuf_frame(&trace_state.buf, (size_t)trace_state.frame) : NULL;
}

static void frame_info_block(void *ctx, char type, uint64_t addr, size_t len)
{
	struct buf *doc = ctx;
	if (type == 'M')
		buf_printf(doc, "<memory start=\"0x%" PRIx64 "\" length=\"0x%zx\"/>\n", addr, len);
	else if (type == 'V')
		buf_printf(doc, "<tvar id=\"%d\"/>\n", (int)(int32_t)addr);
}

static const char *build_traceframe_info(struct session *s, const char *key, const char *annex,
					 struct buf *doc)
{
	(void)s; (void)key; (void)annex;
	const struct trace_frame *f = selected();
	if (!f)
		return "No trace frame selected.";
	buf_puts(doc, "<traceframe-info>\n");
	tframe_walk(f, trace_state.buf.regsize, frame_info_block, doc);
	buf_puts(doc, "</traceframe-info>\n");
	return NULL;
}

void handle_xfer_traceframe_info(void *ctx, const char *a, size_t n, struct buf *reply)
{
	char annex[64], key[64];
	const char *range;
	size_t range_len;
	if (!xfer_split_annex(a, n, annex, sizeof annex, &range, &range_len) || annex[0]) {
		reply_error(reply, 1);
		return;
	}
	snprintf(key, sizeof key, "traceframe-info:%u:%ld", trace_state.generation, trace_state.frame);
	const struct xfer_object obj = {.build = build_traceframe_info};
	xfer_cache_serve(ctx, key, range, range_len, &obj, annex, reply);
}

/* --- the selected frame answers g, p, m ----------------------------------- */

/* The frame's registers (raw layout) and which are known: all of 'g'
 * from its block; without one, only the PC, its tracepoint's address
 * (gdbserver). NULL: out of memory. */
static const uint8_t *frame_regs(const struct trace_frame *f, bool *pc_only)
{
	const uint8_t *block = trace_state.buf.regsize == trace_regblock_size()
			       ? tframe_regs(f, trace_state.buf.regsize) : NULL;
	*pc_only = !block;
	uint64_t pc = block ? 0 : trace_frame_pc(f);
	uint8_t *raw = block_to_raw(block);
	if (raw && !block)
		the_arch.set_pc(raw, pc);
	return raw;
}

static void put_reg(struct buf *reply, const uint8_t *regs, const struct arch_reg *r, bool known)
{
	if (known) {
		buf_hex(reply, regs + r->offset, r->size);
		return;
	}
	for (size_t k = 0; k < 2u * r->size; k++)
		buf_putc(reply, 'x');
}

static bool known(const struct arch_reg *r, int regno, bool pc_only)
{
	return r->in_g && (!pc_only || regno == the_arch.pc_regno);
}

static void frame_g(const struct trace_frame *f, struct buf *reply)
{
	const struct arch_regfile *rf = target_regfile();
	bool pc_only;
	const uint8_t *regs = frame_regs(f, &pc_only);
	if (!regs) {
		reply_error(reply, 1);
		return;
	}
	for (size_t i = 0; i < rf->nregs; i++)
		if (rf->regs[i].in_g && rf->regs[i].size)
			put_reg(reply, regs, &rf->regs[i], known(&rf->regs[i], (int)i, pc_only));
}

static void frame_p(const struct trace_frame *f, const char *a, size_t n, struct buf *reply)
{
	const struct arch_regfile *rf = target_regfile();
	const char *p = a, *end = a + n;
	uint64_t regno;
	bool pc_only;
	const uint8_t *regs = frame_regs(f, &pc_only);
	if (!regs || !hex_parse_u64(&p, end, &regno) || p != end || regno >= rf->nregs ||
	    !rf->regs[regno].size) {
		reply_error(reply, 1);
		return;
	}
	put_reg(reply, regs, &rf->regs[regno], known(&rf->regs[regno], (int)regno, pc_only));
}

static bool in_readonly(uint64_t addr, uint64_t len)
{
	for (size_t i = 0; i < trace_state.nro; i++)
		if (trace_state.ro[i].start <= addr && len && addr + len - 1 <= trace_state.ro[i].end &&
		    addr + len - 1 >= addr)
			return true;
	return false;
}

/* [ADDR, ADDR+LEN) lies in one mapping of the traced process that cannot
 * be written (code, constants): what the program has there now is what it
 * had at any frame. gdb asks for code to unwind a frame, and its QTro
 * list is of unrelocated sections in a PIE program, useless there. */
static bool in_unwritable_mapping(uint64_t addr, uint64_t len)
{
	char path[64], line[512];
	snprintf(path, sizeof path, "/proc/%d/maps", (int)trace_state.pid);
	FILE *f = trace_state.pid > 0 ? fopen(path, "r") : NULL;
	bool found = false;
	while (f && !found && fgets(line, sizeof line, f)) {
		unsigned long long lo, hi;
		char perms[8];
		if (sscanf(line, "%llx-%llx %7s", &lo, &hi, perms) == 3 && perms[1] == '-' &&
		    perms[0] == 'r' && lo <= addr && addr < hi && len <= hi - addr)
			found = true;
	}
	if (f)
		fclose(f);
	return found;
}

/* m: what the frame holds from ADDR on (gdb asks again for the rest); an
 * error where it holds nothing, unless the memory is read-only (QTro, or
 * a mapping that cannot be written): then the program's (false:
 * handle_m answers). */
static bool frame_m(const struct trace_frame *f, const char *a, size_t n, struct buf *reply)
{
	const char *p = a, *end = a + n;
	uint64_t addr, len;
	if (!hex_parse_u64_sep(&p, end, ',', &addr) || !hex_parse_u64(&p, end, &len) || p != end) {
		reply_error(reply, 1);
		return true;
	}
	size_t max = RSP_PACKET_SIZE / 2 - 16;
	if (len > max)
		len = max;
	uint8_t *data = malloc(len ? len : 1);
	size_t got = data ? tframe_read_mem(f, trace_state.buf.regsize, addr, data, (size_t)len) : 0;
	if (got || !len)
		buf_hex(reply, data, got);
	free(data);
	if (got || !len)
		return true;
	if ((in_readonly(addr, len) || in_unwritable_mapping(addr, len)) && processes)
		return false;
	reply_error(reply, 1);
	return true;
}

bool traceframe_serves(struct session *s, const char *pkt, size_t len, struct buf *reply)
{
	(void)s;
	const struct trace_frame *f = selected();
	if (!f || !len)
		return false;
	switch (pkt[0]) {
	case 'g':
		if (len != 1)
			return false;
		frame_g(f, reply);
		return true;
	case 'p':
		frame_p(f, pkt + 1, len - 1, reply);
		return true;
	case 'm':
		return frame_m(f, pkt + 1, len - 1, reply);
	case 'G': case 'P': case 'M': case 'X':
		/* A frame is a record: it cannot be written (gdbserver). */
		reply_error_msg(reply, "A trace frame is selected: its registers and memory are read-only.");
		return true;
	default:
		return false;
	}
}
