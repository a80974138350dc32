/* capture.json: what was captured, from where, how, and how it ended
 * (doc/cstrace.1 describes its fields). */
#ifndef CSTRACE_CAPTURE_JSON_H
#define CSTRACE_CAPTURE_JSON_H

#include "cstrace/session.h"

/* Write capture.json for a capture ending with EXIT_CODE ("complete":
 * true for 0 and 6 only); 0, or -1 with k->error set. */
int capture_json_write(struct cap *k, int exit_code);

#endif
