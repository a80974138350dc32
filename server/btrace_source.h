/* What btrace needs of live threads and at start-up: the trace source to
 * use, the software recorder's callbacks for the sources it drives, and
 * thread memory cached for the decoder. Private to server/btrace*.c. */
#ifndef SERVER_BTRACE_SOURCE_H
#define SERVER_BTRACE_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "etm/source.h"
#include "server/target.h"

/* The source for live threads: a perf.data recording (PERFDATA, exits on
 * failure), else perf cs_etm, else the software recorder (driving an
 * emulated ETMv4 where the trace is Arm's), else NULL. NOTE receives why
 * there is no trace hardware. */
struct etm_source *btrace_open_source(const char *perfdata, char *note, size_t notelen);

/* Where a running thread (non-stop) is, without reading its registers
 * (ptrace cannot): the recorder's PC before its current step. */
bool btrace_running_pc(struct thread *th, uint64_t *pc);

/* Process memory for the decoder, cached per executable mapping (OpenCSD
 * asks a few bytes at a time). */
struct mem_cache {
	struct process *proc;
	struct { uint64_t start, end; uint8_t *data; } *maps;
	size_t n;
	bool maps_read;
};
uint32_t mem_cache_read(void *ctx, uint64_t addr, uint32_t len, uint8_t *buf);
void mem_cache_free(struct mem_cache *mc);

#endif
