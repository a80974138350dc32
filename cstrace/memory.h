/* Memory dumps: the executable mappings of a live process (its
 * /proc/PID/maps read through vFile), or the executable segments of a
 * replayed capture's ELF file; each into mem/ADDR.bin. Non-stop, the
 * program runs on meanwhile: the trace is drained between the pieces. */
#ifndef CSTRACE_MEMORY_H
#define CSTRACE_MEMORY_H

#include <stdint.h>

#include "cstrace/session.h"

/* Dump what is not dumped yet; 0, or -1 with k->error set. */
int memory_dump(struct cap *k);

/* Keep LEN bytes of DATA read at ADDR as mem/ADDR.bin, listed with NAME. */
int memory_save_dump(struct cap *k, uint64_t addr, const void *data, uint64_t len, const char *name);

#endif
