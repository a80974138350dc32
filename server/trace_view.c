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

uint64_t trace_frame_pc(const struct trace_frame *f)
{
	const uint8_t *regs = tframe_regs(f, trace_state.buf.regsize);
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
		ok = hex_parse_u64(&p, end, &v) && p == end && v <= 0xffff;
		found = ok ? find_next(0, 0, true, (long)v) : -1;
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

/* The frame's register block; without one, every register unknown but
 * the PC, which is its tracepoint's address (gdbserver). NULL: none. */
static const uint8_t *frame_regs(const struct trace_frame *f, bool *pc_only)
{
	static uint8_t *guess;
	static size_t guess_size;
	const struct arch_regfile *rf = target_regfile();
	const uint8_t *regs = trace_state.buf.regsize == rf->size ? tframe_regs(f, rf->size) : NULL;
	*pc_only = !regs;
	if (regs)
		return regs;
	if (guess_size != rf->size) {
		free(guess);
		guess = calloc(1, rf->size);
		guess_size = guess ? rf->size : 0;
	}
	if (!guess)
		return NULL;
	memset(guess, 0, guess_size);
	the_arch.set_pc(guess, trace_frame_pc(f));
	return guess;
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
			put_reg(reply, regs, &rf->regs[i], !pc_only || (int)i == the_arch.pc_regno);
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
	put_reg(reply, regs, &rf->regs[regno], !pc_only || (int)regno == the_arch.pc_regno);
}

static bool in_readonly(uint64_t addr, uint64_t len)
{
	for (size_t i = 0; i < trace_state.nro; i++)
		if (trace_state.ro[i].start <= addr && len && addr + len - 1 <= trace_state.ro[i].end &&
		    addr + len - 1 >= addr)
			return true;
	return false;
}

/* m: what the frame holds from ADDR on (gdb asks again for the rest); an
 * error where it holds nothing, unless gdb said the memory is read-only
 * (QTro): then the program's (false: handle_m answers). */
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
	if (in_readonly(addr, len) && processes)
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
