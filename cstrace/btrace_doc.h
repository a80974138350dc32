/* The qXfer:btrace:read documents of a capture: a CoreSight document's
 * <raw> hex streamed into the thread's trace file (its trace unit
 * configuration kept for the snapshot), a bts document's blocks appended
 * to the thread's list. */
#ifndef CSTRACE_BTRACE_DOC_H
#define CSTRACE_BTRACE_DOC_H

#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"
#include "cstrace/session.h"

/* Limits on what one read (one qXfer:btrace:read document) may bring; a
 * server sending more is broken or hostile, and the capture ends with an
 * error (doc/manual.md, "Limits"). */
#define BTS_DOC_MAX (256ull << 20)      /* bts: the document, held in memory */
#define RAW_DOC_MAX (1ull << 30)        /* CoreSight trace, whole trace or size unknown */
#define RAW_DOC_SLACK (64u << 10)
#define DOC_MARKUP_MAX (1u << 20)       /* CoreSight: the XML around <raw> */
#define BUFFER_SIZE_MAX (4ull << 30)    /* the largest trace buffer a server takes */

/* The most one document may hold, BUFFER_SIZE being the server's trace
 * buffer (btrace-conf; 0: unknown; counted up to BUFFER_SIZE_MAX): bts,
 * its bytes (8 x BUFFER_SIZE + 1 MiB, at most BTS_DOC_MAX); CoreSight, its
 * trace bytes (a delta 2 x BUFFER_SIZE + RAW_DOC_SLACK; WHOLE, the whole
 * trace read at once, or an unknown size: RAW_DOC_MAX, or 2 x BUFFER_SIZE
 * if larger). */
uint64_t btrace_doc_limit(bool coresight, uint64_t buffer_size, bool whole);

/* One qXfer:btrace:read:ANNEX of the general thread T, streamed into its
 * trace file (at most --max-size in all: the rest of the document is
 * read and dropped): an rsp_status, or LOCAL_FAIL (k->error says why).
 * A document past its limit, or still coming --timeout after --time, is
 * RSP_PROTOCOL with k->c.err saying so. */
int btrace_doc_read_coresight(struct cap *k, struct cthread *t, const char *annex);

/* One bts qXfer:btrace:read:ANNEX of the general thread T into DOC,
 * within the limits above: an rsp_status (k->c.err says why). */
int btrace_doc_read_bts(struct cap *k, struct cthread *t, const char *annex, struct buf *doc);

/* Blocks of the bts document DOC, appended to T's oldest first; a
 * delta's begin="0" block continues the newest block held. -1 (nothing
 * taken, k->c.err says why) for a block without its addresses or one
 * that begins after its end. */
int btrace_doc_take_blocks(struct cap *k, struct cthread *t, const struct buf *doc);

#endif
