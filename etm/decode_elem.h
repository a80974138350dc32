/* What a trace decoder reports: the elements of decoded trace, the
 * callbacks it calls, its statuses. Apart from etm/decode.h so that the
 * OpenCSD engine (decode_engine.c) and the process around it (decode.c,
 * decode_child.c) share them without including each other. */
#ifndef ETM_DECODE_ELEM_H
#define ETM_DECODE_ELEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "etm/trace_types.h"

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

#endif
