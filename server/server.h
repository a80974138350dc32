/* Transitional: what the lead's and the trace helper's files (hostio.c,
 * monitor.c, thread_db.c, btrace.c) still include in one place. The
 * server's own files include the headers below directly; this one goes
 * once those files do too. */
#ifndef SERVER_SERVER_H
#define SERVER_SERVER_H

#include <stddef.h>

#include "common/buf.h"
#include "server/reply.h"
#include "server/session.h"

/* packets.c */
void session_dispatch(struct session *s, const char *pkt, size_t len, struct buf *reply);

/* vFile (server/hostio.c). */
void handle_vfile(struct session *s, const char *args, size_t len, struct buf *reply);
void hostio_reset(void);

/* qRcmd (server/monitor.c). */
void handle_monitor(struct session *s, const char *cmd, struct buf *out_text, struct buf *reply);

#endif
