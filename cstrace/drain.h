/* Reading the trace that arrived: every thread's, while the program runs
 * or at the end, new threads traced on the way; and the limits (time,
 * size, Ctrl-C) that end a capture. */
#ifndef CSTRACE_DRAIN_H
#define CSTRACE_DRAIN_H

#include <stdbool.h>

#include "cstrace/session.h"

/* Read what arrived for T since the last read. FINAL: the last read
 * (a server without CoreSight deltas gives the whole trace then).
 * 0, or -1 with k->error set. */
int drain_thread(struct cap *k, struct cthread *t, bool final);
/* The thread list updated (new threads traced), then every thread read. */
int drain_all(struct cap *k, bool final);
/* Threads the server lists; new ones are traced (the server traces new
 * threads of a CoreSight-traced process itself: then Qbtrace says OK). */
int drain_update_threads(struct cap *k);

/* A limit or Ctrl-C that ends the capture; NULL if none. */
const char *drain_limit_reached(struct cap *k, double deadline);
/* Non-stop, while the program runs, a limit was reached: a long read
 * (memory, a file) stops so that the program is stopped on time. */
bool drain_dump_later(struct cap *k);
/* Non-stop, while the program runs: drain_all if its time has come
 * (a long read lasts long enough to let the trace buffer wrap). */
int drain_if_due(struct cap *k);

/* The progress line on stderr (at most 4 a second unless FORCE). */
void drain_show_progress(struct cap *k, bool force);

#endif
