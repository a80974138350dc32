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
 * end - last_size. 24 bytes: a 64 KiB ETB dump gives ~230k of them. */
struct trace_range {
	uint64_t begin, end;
	uint32_t ninsns;
	uint8_t last_size, cls, isa, flags;
};

struct trace_ranges {
	struct trace_range *r;
	size_t n, cap;
	uint64_t ninsns;            /* sum of r[].ninsns */
	unsigned ngaps, nerrors, noverflows, nnacc;
	uint64_t first_nacc;        /* first address without a memory image */
	char first_error[160];
};

void trace_ranges_free(struct trace_ranges *tr);
void trace_ranges_reset(struct trace_ranges *tr);
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
 * UNITS[0]) with the trace units UNITS, appending ranges to OUT. Decoder
 * errors resynchronise and are counted in OUT. Returns 0, or -1 with ERR
 * when no decoder could be set up. */
int tdec_decode(const struct tdec_unit *units, size_t n_units, bool formatted,
		const uint8_t *data, size_t len, tdec_mem_fn mem, void *mem_ctx,
		struct trace_ranges *out, char *err, size_t errlen);

const char *tdec_class_name(unsigned cls);
const char *tdec_isa_name(unsigned isa);

#endif
