/* Decoded trace as the server keeps it: instruction ranges with the class
 * of their last instruction, in a window of the newest ones, decoded by
 * etm/decode.c from a buffer or streamed from a file. */
#ifndef ETM_RANGES_H
#define ETM_RANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "etm/trace_types.h"

/* One sequentially executed instruction range, as gdb's bts blocks
 * want it (btrace_xml_blocks). */
struct btrace_range {
	uint64_t begin;               /* first instruction */
	uint64_t end;                 /* end, exclusive (OpenCSD's en_addr) */
	uint64_t last;                /* address of the last instruction */
};

#define ETM_RANGE_GAP_BEFORE   0x01u   /* trace lost / not continuous just before */
#define ETM_RANGE_EXC_BEFORE   0x02u   /* an exception was taken just before */
#define ETM_RANGE_TAKEN        0x04u   /* last instruction executed (branch taken) */

/* One sequentially executed run: [begin, end), last instruction at
 * end - last_size; POS is the trace byte whose packet produced it. 32
 * bytes: a 64 KiB ETB dump of an ETMv3 gives ~230k of them. */
struct trace_range {
	uint64_t begin, end;
	uint64_t pos;
	uint32_t ninsns;
	uint8_t last_size, cls, isa, flags;
};

/* The decoded trace a server keeps: a window of the newest ranges, never
 * the whole trace. A huge trace streams through it while older ranges are
 * dropped, so memory follows the window, not the trace. Held ranges are
 * buf[start .. start + n), oldest first (contiguous for the callers). */
struct trace_ranges {
	struct trace_range *buf;
	size_t start, n, cap;
	/* Limits, 0 = none: keep the ranges decoded from the newest WINDOW
	 * bytes of trace (as a trace buffer of that size would hold them),
	 * and at most MAX_RANGES of them (pathologically dense trace). */
	uint64_t window, max_ranges;
	uint64_t fed;               /* trace bytes decoded into this so far */
	uint64_t seq;               /* ranges dropped so far = number of buf[start] */
	uint64_t complete_from;     /* every range with pos >= this is held */
	uint64_t ninsns;            /* instructions held */
	uint64_t total_ranges, total_insns;  /* ever decoded, dropped included */
	unsigned ngaps, nerrors, noverflows, nnacc;
	uint64_t first_nacc;        /* first address without a memory image */
	char first_error[160];
};

/* Ranges held per trace byte of window at most: ETMv3 captures give ~4,
 * an ETMv4 atom packet up to 24 in one byte. */
#define ETM_RANGES_PER_BYTE 8u

/* An empty store keeping the ranges of the newest SIZE trace bytes (0 =
 * all, unbounded: tests only). */
void trace_ranges_init(struct trace_ranges *tr, uint64_t size);
void trace_ranges_free(struct trace_ranges *tr);
/* Drop everything held and the statistics (what follows does not connect
 * to what came before); limits and numbering go on. */
void trace_ranges_reset(struct trace_ranges *tr);
void trace_ranges_push(struct trace_ranges *tr, const struct trace_range *r);
/* Drop what is older than the window ending at tr->fed. */
void trace_ranges_trim(struct trace_ranges *tr);
static inline const struct trace_range *trace_ranges_first(const struct trace_ranges *tr)
{
	return tr->buf ? tr->buf + tr->start : NULL;
}
/* Number of the next range to arrive: a read pointer for delta reads. */
static inline uint64_t trace_ranges_end(const struct trace_ranges *tr)
{
	return tr->seq + tr->n;
}
/* The held ranges after read pointer MARK start at index *FROM; false
 * when some of them were dropped before being read (an overflow). */
bool trace_ranges_since(const struct trace_ranges *tr, uint64_t mark, size_t *from);
static inline uint64_t trace_range_last(const struct trace_range *r)
{
	return r->end - r->last_size;
}

/* Program memory: fill BUF with up to LEN bytes at ADDR, return how many. */
typedef uint32_t (*etm_ranges_mem_fn)(void *ctx, uint64_t addr, uint32_t len, uint8_t *buf);

/* Decode DATA (CoreSight frames when FORMATTED, else the raw stream of
 * UNITS[0]) with the trace units UNITS (core architecture unknown: as the
 * decoder defaults it), adding ranges to OUT (positions
 * continue from OUT->fed; the window drops older ones as it goes). Decoder
 * errors resynchronise and are counted in OUT. Returns 0; 1 with ERR when
 * decoding stopped part way (the decoder itself failed: the ranges before
 * it are kept); -1 with ERR when no decoder could be set up. */
int etm_ranges_decode(const struct etm_cpu_regs *units, size_t n_units, bool formatted,
		const uint8_t *data, size_t len, etm_ranges_mem_fn mem, void *mem_ctx,
		struct trace_ranges *out, char *err, size_t errlen);

/* Streaming over a decoder set up elsewhere (a recorded capture): LEN bytes
 * of trace from READ, fed in windows of ETM_FEED_WINDOW bytes, so
 * neither the trace nor its decode is ever in memory whole. Returns 0, or
 * -1 with ERR when READ fails or the decoder stops. */
#define ETM_FEED_WINDOW (1u << 20)
struct etm_decoder;
/* Fill BUF with LEN trace bytes at OFFSET: 0, or -1 with errno set (0 = the file ended). */
typedef int (*etm_trace_read_fn)(void *ctx, uint64_t offset, void *buf, size_t len);
int etm_ranges_decode_stream(struct etm_decoder *dec, etm_trace_read_fn read, void *read_ctx, uint64_t len,
		       struct trace_ranges *out, char *err, size_t errlen);

#endif
