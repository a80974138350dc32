/* The server's view of decoded CoreSight trace: instruction ranges with
 * the class of their last instruction, decoded by etm/decode.c.
 *
 * A separate translation unit with its own plain types because etm/decode.h
 * and etm/config.h both define `enum etm_arch` (and `etm_format` as an enum
 * and as a struct), so no file can include both. */
#ifndef SERVER_TRACEDEC_H
#define SERVER_TRACEDEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Values equal etm/decode.h's enum etm_insn_class and enum etm_isa. */
enum tdec_class {
	TDEC_OTHER, TDEC_JUMP, TDEC_CALL, TDEC_RETURN, TDEC_EXC_RETURN, TDEC_BARRIER, TDEC_WAIT,
};
enum tdec_isa { TDEC_ISA_ARM, TDEC_ISA_THUMB, TDEC_ISA_A64, TDEC_ISA_OTHER };

#define TDEC_GAP_BEFORE   0x01u   /* trace lost / not continuous just before */
#define TDEC_EXC_BEFORE   0x02u   /* an exception was taken just before */
#define TDEC_TAKEN        0x04u   /* last instruction executed (branch taken) */

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
#define TDEC_RANGES_PER_BYTE 8u

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

/* The registers of one trace unit, as a decoder needs them. */
enum tdec_protocol { TDEC_ETMV3, TDEC_PTM, TDEC_ETMV4, TDEC_ETE };
struct tdec_unit {
	int cpu;
	enum tdec_protocol protocol;
	bool aa64;                  /* core runs AArch64 (ETMv4/ETE on Armv8) */
	bool profile_r, profile_m;  /* default A profile */
	uint32_t etmidr, etmcr, etmccer, etmtraceidr;          /* ETMv3/PTM */
	uint32_t etmccr;                                       /* if have_etmccr */
	uint32_t trcidr[14], trcconfigr, trctraceidr, trcdevarch; /* ETMv4/ETE */
	uint32_t have_trcidr;       /* bit N: trcidr[N] known */
	bool have_etmccr;
};

/* Program memory: fill BUF with up to LEN bytes at ADDR, return how many. */
typedef uint32_t (*tdec_mem_fn)(void *ctx, uint64_t addr, uint32_t len, uint8_t *buf);

/* Decode DATA (CoreSight frames when FORMATTED, else the raw stream of
 * UNITS[0]) with the trace units UNITS, adding ranges to OUT (positions
 * continue from OUT->fed; the window drops older ones as it goes). Decoder
 * errors resynchronise and are counted in OUT. Returns 0, or -1 with ERR
 * when no decoder could be set up. */
int tdec_decode(const struct tdec_unit *units, size_t n_units, bool formatted,
		const uint8_t *data, size_t len, tdec_mem_fn mem, void *mem_ctx,
		struct trace_ranges *out, char *err, size_t errlen);

/* Streaming over a decoder set up elsewhere (server/replay.c): LEN bytes
 * of trace from READ, fed in windows of TDEC_FEED_WINDOW bytes, so
 * neither the trace nor its decode is ever in memory whole. Returns 0, or
 * -1 with ERR when READ fails or the decoder stops. */
#define TDEC_FEED_WINDOW (1u << 20)
struct etm_decoder;
/* Fill BUF with LEN trace bytes at OFFSET: 0, or -1 with errno set (0 = the file ended). */
typedef int (*tdec_read_fn)(void *ctx, uint64_t offset, void *buf, size_t len);
int tdec_decode_stream(struct etm_decoder *dec, tdec_read_fn read, void *read_ctx, uint64_t len,
		       struct trace_ranges *out, char *err, size_t errlen);

const char *tdec_class_name(unsigned cls);
const char *tdec_isa_name(unsigned isa);

#endif
