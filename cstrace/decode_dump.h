/* Memory dumps of a target that tells no memory map (a replayed snapshot
 * of memory dumps): the captured trace decoded here, each page the
 * decoder asks for read over the protocol, and those pages kept as the
 * dumps. */
#ifndef CSTRACE_DECODE_DUMP_H
#define CSTRACE_DECODE_DUMP_H

#include "cstrace/session.h"

/* Writes the snapshot first (the decoder reads it); 0, or -1 with
 * k->error set (a local failure or the link lost). */
int decode_dump_pages(struct cap *k);

#endif
