/* The capture directory's trace files: the OpenCSD snapshot of a
 * CoreSight capture (snapshot.ini, trace.ini, a cpu_N and etm_N .ini per
 * CPU of the trace unit configuration), or the block lists of a bts one
 * (blocks.txt, btrace.xml). */
#ifndef CSTRACE_SNAPSHOT_OUT_H
#define CSTRACE_SNAPSHOT_OUT_H

#include <stdbool.h>
#include <stddef.h>

#include "cstrace/session.h"

/* Does thread T get a trace buffer in the snapshot? The first thread
 * always (trace.bin), the others when they have trace. */
bool snapshot_out_has_buffer(const struct cap *k, const struct cthread *t);
/* Name of T's trace buffer: ETB_0 for the first thread, else ETB_<tid>. */
void snapshot_out_buffer_name(const struct cap *k, const struct cthread *t, char *out, size_t outlen);

/* The OpenCSD snapshot; 0, or -1 with k->error set. */
int snapshot_out_write(struct cap *k);
/* The bts block lists, one pair of files per thread. */
int snapshot_out_write_blocks(struct cap *k);

#endif
