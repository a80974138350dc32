/* The call/return classification of a thread's trace, as the
 * qXfer:btrace-calls:read document gives it (doc/protocol.md): the blocks
 * gdb gets from qXfer:btrace:read, in the same order and with the same
 * merging and the same last block (up to where the thread stands), each
 * with its instruction count, the nesting level of its first instruction
 * and the calls, returns, exceptions and gaps inside it by instruction
 * offset. gdb numbers its instruction history from these blocks, so a
 * client maps the document onto gdb's numbers without decoding anything
 * (stock gdb 13 classifies no ARM instruction as call or return). */
#ifndef ETM_CALLS_H
#define ETM_CALLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "etm/ranges.h"

#define CALLS_DOC_VERSION 1

/* Instructions of R from its begin up to and including ADDR (ADDR inside
 * R): Thumb and x86 need the code to tell; NULL counts 2-byte Thumb. */
typedef uint64_t (*calls_count_fn)(void *ctx, const struct trace_range *r, uint64_t addr);

/* Append the document for ranges R[0..N) (oldest first) of a thread
 * standing at PC. MERGE: contiguous ranges are one block (as
 * server/btrace.c serves decoded ranges); false for recorded blocks,
 * which gdb gets one by one. */
void calls_doc(struct buf *out, const struct trace_range *r, size_t n, uint64_t pc, bool merge,
	       calls_count_fn count, void *ctx);

#endif
