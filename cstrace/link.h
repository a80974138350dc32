/* The TCP connection to the server, as the remote-protocol client's
 * read and write callbacks (a SIGINT ends a wait for a stop reply). */
#ifndef CSTRACE_LINK_H
#define CSTRACE_LINK_H

#include "cstrace/session.h"

/* k->c reads and writes k->fd. */
void link_client_init(struct cap *k);
/* Connect to k->o->target (HOST:PORT, [V6]:PORT or :PORT) within the
 * connect timeout; 0, or -1 with k->error set. */
int link_connect(struct cap *k);

#endif
