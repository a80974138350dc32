/* Replies that handlers in every file send: errors, OK, and a target's
 * refusal. */
#ifndef SERVER_REPLY_H
#define SERVER_REPLY_H

#include <stdbool.h>

#include "common/buf.h"
#include "server/target.h"

void reply_error(struct buf *reply, int code);
void reply_error_msg(struct buf *reply, const char *msg);
void reply_ok(struct buf *reply);
/* The target refuses REQ: REPLY says why (an empty reply: unsupported). */
bool reply_refused(enum target_request req, struct buf *reply);

#endif
