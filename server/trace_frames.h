/* The trace buffer of tracepoint hits: frames laid out byte for byte as
 * gdbserver's (tracepoint.cc), since qTBuffer hands them to gdb raw and
 * `tsave` writes them into a tfile as they are:
 *   frame:  tpnum (2 bytes) data_size (4 bytes) blocks...
 *   'R' the raw register block (REGSIZE bytes, gdb's register order)
 *   'M' address (8) length (2) bytes...
 *   'V' variable number (4) value (8)
 * little-endian (every target we serve). The buffer holds at most SIZE
 * bytes of frames: a linear buffer refuses a frame that does not fit (the
 * run stops, "tfull"), a circular one drops its oldest frames. Frames are
 * numbered from the oldest one held. Pure: no target, no packets. */
#ifndef SERVER_TRACE_FRAMES_H
#define SERVER_TRACE_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/buf.h"

#define TFRAME_HEADER 6
#define TRACE_BUFFER_DEFAULT (5u * 1024 * 1024)  /* gdbserver's default */
#define TRACE_BUFFER_MAX     (256u * 1024 * 1024) /* larger sizes are refused */

struct trace_frame {
	uint8_t *data;      /* header and blocks */
	size_t len;
};

struct trace_buffer {
	size_t size;            /* capacity in bytes */
	size_t regsize;         /* bytes of an 'R' block */
	bool circular;
	size_t used;            /* bytes of the frames held */
	struct trace_frame *ring;
	size_t cap, head, count;
	unsigned created;       /* frames made this run, dropped ones too */
	/* Where the last raw read ended, so that tsave's reads in order do
	 * not walk the frames from the start each time. */
	size_t cursor_frame;
	uint64_t cursor_offset;
};

/* A frame being collected: blocks are appended, then it is committed. */
struct trace_frame_builder {
	struct buf bytes;
	size_t limit;           /* a frame larger than this cannot be held */
	bool overflow;          /* a block did not fit: the frame is dropped */
};

void tbuf_init(struct trace_buffer *b, size_t size, size_t regsize);
void tbuf_clear(struct trace_buffer *b);
void tbuf_free(struct trace_buffer *b);

void tfb_begin(struct trace_frame_builder *f, const struct trace_buffer *b, unsigned tpnum);
void tfb_regs(struct trace_frame_builder *f, const uint8_t *regs, size_t len);
/* Long ranges become several blocks of at most 65535 bytes. */
void tfb_mem(struct trace_frame_builder *f, uint64_t addr, const uint8_t *data, size_t len);
void tfb_var(struct trace_frame_builder *f, int32_t num, int64_t value);
/* Into the buffer; false when it does not fit (linear buffer full, or
 * the frame alone is larger than the buffer). The builder is reset. */
bool tbuf_commit(struct trace_buffer *b, struct trace_frame_builder *f);
void tfb_free(struct trace_frame_builder *f);

size_t tbuf_count(const struct trace_buffer *b);
size_t tbuf_free_bytes(const struct trace_buffer *b);
/* Frame N (0 = the oldest held), or NULL. */
const struct trace_frame *tbuf_frame(const struct trace_buffer *b, size_t n);

unsigned tframe_tpnum(const struct trace_frame *f);
/* The first register block, or NULL. */
const uint8_t *tframe_regs(const struct trace_frame *f, size_t regsize);
/* As gdbserver's traceframe_read_mem: from the first memory block that
 * holds ADDR, as much as it has up to LEN; 0 when none holds it. */
size_t tframe_read_mem(const struct trace_frame *f, size_t regsize, uint64_t addr,
		       uint8_t *out, size_t len);
/* The last value of variable NUM collected in the frame. */
bool tframe_var(const struct trace_frame *f, size_t regsize, int32_t num, int64_t *value);
/* Each block: TYPE 'R', 'M' (ADDR, LEN) or 'V' (NUM in ADDR). Stops at a
 * malformed block (false). */
bool tframe_walk(const struct trace_frame *f, size_t regsize,
		 void (*fn)(void *ctx, char type, uint64_t addr, size_t len), void *ctx);

/* Raw bytes of the frames, oldest first, from OFFSET: how many were put
 * in OUT (at most LEN), 0 at the end, -1 past the end. */
ssize_t tbuf_raw_read(struct trace_buffer *b, uint64_t offset, uint8_t *out, size_t len);

#endif
