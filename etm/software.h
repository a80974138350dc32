/* The software branch recorder as a trace source: where no trace unit
 * exists, the daemon single-steps a traced thread and every step that does
 * not land on the next instruction is a taken branch (etm/swbtrace.h keeps
 * them). This source serves them as gdb's bts blocks (read_blocks); it has
 * no raw trace. */
#ifndef ETM_SOFTWARE_H
#define ETM_SOFTWARE_H

#include "etm/source.h"

/* REC runs the recorder; NOTE says why there is no trace hardware. */
struct etm_source *etm_software_new(const struct etm_recorder *rec, const char *note);

#endif
