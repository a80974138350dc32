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

enum etm_protocol {
	ETM_PROTO_ETMV3,
	ETM_PROTO_PTM,
	ETM_PROTO_ETMV4,
	ETM_PROTO_ETE,
};

/* Architecture the traced core implements (values are OpenCSD's). */
enum etm_arch {
	ETM_ARCH_V7 = 0x0700,
	ETM_ARCH_V8 = 0x0800,
	ETM_ARCH_V8R3 = 0x0803,
	ETM_ARCH_AA64 = 0x0864,
};

enum etm_profile {
	ETM_PROFILE_M = 1,
	ETM_PROFILE_R = 2,
	ETM_PROFILE_A = 3,
};

/* One trace source: the ETM's register values, as perf's cs-etm-decoder
 * and OpenCSD snapshots give them. The trace ID is taken from
 * ETMTRACEIDR / TRCTRACEIDR. */
struct etm_source_config {
	enum etm_protocol protocol;
	enum etm_arch arch;
	enum etm_profile profile;
	union {
		struct {        /* ETMv3 and PTM */
			uint32_t etmidr, etmcr, etmccer, etmtraceidr;
		} v3;
		struct {        /* ETMv4 and ETE (ETE uses idr0-2, idr8, devarch) */
			uint32_t trcidr0, trcidr1, trcidr2, trcidr8;
			uint32_t trcidr9, trcidr10, trcidr11, trcidr12, trcidr13;
			uint32_t trcconfigr, trctraceidr, trcdevarch;
		} v4;
	} regs;
};

uint8_t etm_source_trace_id(const struct etm_source_config *cfg);
const char *etm_protocol_name(enum etm_protocol p);

/* Architecture and profile of a core by name ("Cortex-A53", "ARMv8.2-A",
 * "ARM-AA64"), the names OpenCSD snapshots use. False if unknown. */
bool etm_core_arch(const char *core_name, enum etm_arch *arch, enum etm_profile *profile);

enum etm_format {
	ETM_FORMAT_FRAMED,      /* CoreSight frames, 16-byte aligned (ETB/ETF/ETR) */
	ETM_FORMAT_FRAMED_FSYNC,/* frames with FSYNC words (TPIU/DSTREAM) */
	ETM_FORMAT_RAW,         /* one source's bytes (TRBE, source_data) */
};

/* What the last instruction of a range was, for call history. */
enum etm_insn_class {
	ETM_INSN_OTHER,
	ETM_INSN_JUMP,
	ETM_INSN_CALL,
	ETM_INSN_RETURN,
	ETM_INSN_EXCEPTION_RETURN,
	ETM_INSN_BARRIER,       /* ISB, DSB/DMB: waypoints on some ETMs */
	ETM_INSN_WAIT,          /* WFI/WFE */
};

enum etm_isa { ETM_ISA_ARM, ETM_ISA_THUMB, ETM_ISA_A64, ETM_ISA_OTHER };

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
struct etm_decoder *etm_decoder_new(enum etm_format format, char *err, size_t errlen);
void etm_decoder_free(struct etm_decoder *dec);

/* Add a trace source. A raw-format decoder takes exactly one. */
int etm_decoder_add_source(struct etm_decoder *dec, const struct etm_source_config *cfg);

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

const char *etm_insn_class_name(enum etm_insn_class c);
const char *etm_gap_reason_name(enum etm_gap_reason r);
const char *etm_isa_name(enum etm_isa isa);

#endif
