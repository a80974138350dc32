/* The qXfer:btrace:read documents of a capture: a CoreSight document's
 * <raw> hex streamed into the thread's trace file (its trace unit
 * configuration kept for the snapshot), a bts document's blocks appended
 * to the thread's list. */
#ifndef CSTRACE_BTRACE_DOC_H
#define CSTRACE_BTRACE_DOC_H

#include "common/buf.h"
#include "cstrace/session.h"

/* One qXfer:btrace:read:ANNEX of the general thread T, streamed into its
 * trace file: an rsp_status, or LOCAL_FAIL (k->error says why). */
int btrace_doc_read_coresight(struct cap *k, struct cthread *t, const char *annex);

/* Blocks of the bts document DOC, appended to T's oldest first; a
 * delta's begin="0" block continues the newest block held. */
void btrace_doc_take_blocks(struct cap *k, struct cthread *t, const struct buf *doc);

#endif
