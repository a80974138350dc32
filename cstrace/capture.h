/* `cstrace capture`: record a branch trace from a csgdbserver over TCP,
 * speaking the remote protocol itself (protocol/client.h), into a capture
 * directory: an OpenCSD snapshot (CoreSight trace) or a block list
 * (software bts), memory dumps of the executed mappings, capture.json.
 * The trace is drained while the program runs: in non-stop mode when the
 * server offers it, else by interrupting the program for each read.
 * Written under DIR.tmp-XXXXXX and renamed to DIR at the end, also when
 * the connection was lost (capture.json says "complete": false). */
#ifndef CSTRACE_CAPTURE_H
#define CSTRACE_CAPTURE_H

#include "cstrace/capture_opts.h"

/* Run one capture; returns an enum capture_exit. Messages go to stderr,
 * the one-line summary to stdout. */
int capture_run(const struct capture_opts *o);

#endif
