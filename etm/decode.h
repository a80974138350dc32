/* CoreSight trace decoding over OpenCSD's C API (ETMv3, PTM, ETMv4, ETE).
 *
 * A decoder takes one trace stream (CoreSight-formatted frames carrying
 * several trace IDs, or the raw stream of one source) plus program memory,
 * and reports instruction ranges, gaps and exceptions through a callback,
 * in trace order. It is streaming: feed any amount at a time; the callback
 * may ask to pause, so a caller can decode a huge trace in windows and
 * never hold it decoded whole. */
#ifndef ETM_DECODE_H
#define ETM_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "etm/trace_types.h"

/* Architecture and profile of a core by name ("Cortex-A53", "ARMv8.2-A",
 * "ARM-AA64"), the names OpenCSD snapshots use. False if unknown. */
bool etm_core_by_name(const char *core_name, enum etm_core_arch *arch, enum etm_profile *profile);

enum etm_elem_kind {
	ETM_ELEM_RANGE,         /* instructions [start, end) executed */
	ETM_ELEM_GAP,           /* trace is not continuous here: see gap */
	ETM_ELEM_ADDR_NACC,     /* no memory image at addr: decode cannot follow */
	ETM_ELEM_EXCEPTION,
	ETM_ELEM_EXCEPTION_RETURN,
	ETM_ELEM_CONTEXT,       /* EL / context ID / VMID / AArch64 changed */
	ETM_ELEM_ERROR,         /* decoder error; message in elem->message */
	ETM_ELEM_END,           /* end of trace for this ID */
};

enum etm_gap_reason {
	ETM_GAP_NO_SYNC,        /* decoder waiting for a sync point */
	ETM_GAP_TRACE_ON,       /* trace (re)started: filtering or start */
	ETM_GAP_OVERFLOW,       /* the ETM overflowed: trace was lost */
	ETM_GAP_DEBUG,          /* restart after debug state */
	ETM_GAP_DISCARD,        /* speculative trace discarded */
	ETM_GAP_BAD_PACKET,     /* corrupt input, decoder resynchronises */
	ETM_GAP_RESET,          /* decoder was reset (non-contiguous data) */
	ETM_GAP_NO_PATH,        /* instructions ran but the path is unknown */
	ETM_GAP_ADDR_UNKNOWN,   /* address unknown until next address packet */
};

struct etm_elem {
	enum etm_elem_kind kind;
	uint8_t trace_id;
	uint64_t index;                 /* byte offset in the fed stream */
	/* ETM_ELEM_RANGE */
	uint64_t start, end;            /* end is exclusive */
	uint32_t num_insns;
	enum etm_insn_class last_class;
	bool last_indirect;             /* last instruction was an indirect branch */
	bool last_taken;                /* last instruction executed / branch taken */
	bool last_cond;
	uint8_t last_size;              /* bytes */
	enum etm_isa isa;
	/* ETM_ELEM_GAP */
	enum etm_gap_reason gap;
	/* ETM_ELEM_ADDR_NACC: start = address that could not be read */
	/* ETM_ELEM_EXCEPTION */
	uint32_t exception_number;
	bool has_return_addr;
	uint64_t return_addr;           /* preferred return address */
	/* ETM_ELEM_CONTEXT */
	uint8_t el;
	bool el_valid, aarch64, context_id_valid, vmid_valid;
	uint32_t context_id, vmid;
	/* ETM_ELEM_ERROR */
	const char *message;
};

/* Return 0 to go on, non-zero to pause: etm_decoder_feed/end then return
 * ETM_DECODE_PAUSED and the pending elements come on the next call. */
typedef int (*etm_elem_fn)(void *ctx, const struct etm_elem *elem);

/* Program memory callback: fill BUF with up to LEN bytes at ADDR as seen by
 * the core behind TRACE_ID; return how many were read (0 = inaccessible). */
typedef uint32_t (*etm_mem_read_fn)(void *ctx, uint64_t addr, uint8_t trace_id,
				    uint32_t len, uint8_t *buf);

enum etm_decode_status {
	ETM_DECODE_OK = 0,
	ETM_DECODE_PAUSED = 1,
	ETM_DECODE_ERROR = -1,
};

struct etm_decoder;

/* ERR (may be NULL) receives a message on failure. */
struct etm_decoder *etm_decoder_new(enum etm_stream_format format, char *err, size_t errlen);
void etm_decoder_free(struct etm_decoder *dec);

/* Add a trace unit (its trace ID from ETMTRACEIDR / TRCTRACEIDR). A
 * raw-format decoder takes exactly one. */
int etm_decoder_add_source(struct etm_decoder *dec, const struct etm_cpu_regs *regs);

/* Memory images. Overlapping an existing image fails with a message (the
 * first image added wins, as in OpenCSD's snapshot reader). */
int etm_decoder_add_mem_buffer(struct etm_decoder *dec, uint64_t addr,
			       const void *data, size_t len);  /* DATA must outlive DEC */
/* LEN 0 = the rest of the file from OFFSET. The file is mapped, not read. */
int etm_decoder_add_mem_file(struct etm_decoder *dec, uint64_t addr, const char *path,
			     uint64_t offset, uint64_t len);
/* Every PT_LOAD segment with file contents, at its virtual address plus BIAS. */
int etm_decoder_add_elf(struct etm_decoder *dec, const char *path, uint64_t bias);
/* Memory [start, end) served by a callback, e.g. /proc/PID/mem. */
int etm_decoder_add_mem_callback(struct etm_decoder *dec, uint64_t start, uint64_t end,
				 etm_mem_read_fn fn, void *ctx);

void etm_decoder_set_output(struct etm_decoder *dec, etm_elem_fn fn, void *ctx);

/* Keep decoding after a fatal decoder error (default true): report it as an
 * ETM_ELEM_ERROR, reset, and resynchronise at the next sync point. False
 * stops at the first one, as trc_pkt_lister does. */
void etm_decoder_set_recover(struct etm_decoder *dec, bool recover);

/* Decode LEN bytes; *CONSUMED says how many were taken (all of them unless
 * PAUSED or ERROR). After PAUSED call again with the rest. */
enum etm_decode_status etm_decoder_feed(struct etm_decoder *dec, const uint8_t *data,
					size_t len, size_t *consumed);
/* End of trace: flush every decoder. Repeat while it returns PAUSED. */
enum etm_decode_status etm_decoder_end(struct etm_decoder *dec);
/* Forget decode state (next data is not contiguous with the last). */
enum etm_decode_status etm_decoder_reset(struct etm_decoder *dec);

/* Message of the last failure. */
const char *etm_decoder_error(const struct etm_decoder *dec);
/* Statistics. */
uint64_t etm_decoder_bytes(const struct etm_decoder *dec);
unsigned etm_decoder_num_sources(const struct etm_decoder *dec);

const char *etm_gap_reason_name(enum etm_gap_reason r);

#endif
