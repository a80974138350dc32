/* The packet table and the per-connection loop: every packet name maps to
 * its handler in one table (packets.c); a session begins, is served and
 * ends here. */
#ifndef SERVER_PACKETS_H
#define SERVER_PACKETS_H

#include <stddef.h>

#include "common/buf.h"
#include "server/session.h"

/* A client connected / is gone / the server exits: per-connection state
 * is reset in session_begin and freed in session_free, nowhere else. */
void session_begin(struct session *s);
void session_end(struct session *s);
void session_free(struct session *s);
/* Serve one connection until it closes or exit is requested. */
void session_serve(struct session *s);
/* Handle one packet payload; the reply payload is left in REPLY. */
void session_dispatch(struct session *s, const char *pkt, size_t len, struct buf *reply);

#endif
