/* A capture's start: the handshake (features, no-ack, non-stop), the
 * trace format chosen, the program run (vRun), attached (vAttach) or
 * found ('?'), its exit caught, the trace configured and enabled. */
#ifndef CSTRACE_SETUP_H
#define CSTRACE_SETUP_H

#include "cstrace/session.h"

/* 0, or -1 with k->error set (k->conn_lost when the link failed). */
int setup_capture(struct cap *k);

#endif
