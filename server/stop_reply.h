/* Stop replies: formatting (T, S, W, X, N...), what '?' reports, the
 * non-stop notification queue (vStopped), and resuming until the next
 * stop. */
#ifndef SERVER_STOP_REPLY_H
#define SERVER_STOP_REPLY_H

#include "common/buf.h"

struct session;
#include "server/session.h"

void format_stop_reply(struct session *s, const struct stop_event *ev, struct buf *r);
void note_stop(struct session *s, const struct stop_event *ev);
void resume_and_report(struct session *s, struct buf *reply);
void set_all_resume(enum resume_kind kind);
void notify_stop(struct session *s, const struct stop_event *ev);
void handle_vstopped(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_status_query(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qnonstop(void *ctx, const char *a, size_t n, struct buf *reply);

#endif
