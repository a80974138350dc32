/* Trace sources for live threads and the recorder they drive: see
 * btrace_source.h. */
#include "server/btrace_source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "etm/emulated.h"
#include "etm/perf.h"
#include "etm/perfdata.h"
#include "etm/software.h"
#include "etm/swbtrace.h"

bool btrace_running_pc(struct thread *th, uint64_t *pc)
{
	if (!th->bt)
		return false;
	*pc = th->bt_pc;
	return true;
}

/* ---- the recorder, for the software and emulated sources -------------- */

/* The source that wants every recorded branch (the emulated ETM), else NULL. */
static struct etm_source *branch_sink;

static int rec_start(void *ctx, int tid, uint64_t size, uint64_t *pc, char *err, size_t errlen)
{
	(void)ctx;
	struct thread *th = find_thread(tid);
	if (!th)
		return etm_fail(err, errlen, "No such thread.");
	if (target_btrace_enable(th, size, branch_sink, err, errlen) < 0)
		return -1;
	/* Where recording starts (a running thread, non-stop, was stopped
	 * for a moment to learn it and runs on). */
	*pc = target_trace_pc(th, th->bt->start_pc);
	return 0;
}

static void rec_stop(void *ctx, int tid)
{
	(void)ctx;
	struct thread *th = find_thread(tid);
	if (th)
		target_btrace_disable(th);
}

static struct swbtrace *rec_ring(void *ctx, int tid)
{
	(void)ctx;
	struct thread *th = find_thread(tid);
	return th ? th->bt : NULL;
}

static bool rec_where(void *ctx, int tid, uint64_t *pc)
{
	(void)ctx;
	struct thread *th = find_thread(tid);
	uint8_t *regs = th && th->stopped ? thread_regs(th) : NULL;
	if (regs) {
		*pc = target_trace_pc(th, the_arch.get_pc(regs));
		return true;
	}
	/* running: where its step began */
	if (!th || !btrace_running_pc(th, pc))
		return false;
	*pc |= th->bt_isa == DISASM_T32;
	return true;
}

/* Thread TID's memory for the encoder's walks, our breakpoints masked. */
static size_t rec_read(void *ctx, int tid, uint64_t addr, void *buf, size_t len)
{
	(void)ctx;
	struct thread *th = find_thread(tid);
	ssize_t got = th ? target_read_memory(th->proc, addr, buf, len) : -1;
	return got > 0 ? (size_t)got : 0;
}

static const struct etm_recorder recorder = {
	.start = rec_start, .stop = rec_stop, .ring = rec_ring, .where = rec_where, .read = rec_read,
};

struct etm_source *btrace_open_source(const char *perfdata, char *note, size_t notelen)
{
	char err[ETM_ERR_LEN];
	if (perfdata) {
		struct etm_source *src = etm_perfdata_source_new(perfdata, err, sizeof err);
		if (!src) {
			fprintf(stderr, "csgdbserver: --etm-perfdata %s: %s\n", perfdata, err);
			exit(1);
		}
		return src;
	}
	struct etm_source *src = etm_perf_source_new("/sys", "/proc", note, notelen);
	if (src)
		return src;
	if (!(the_arch.can_single_step || the_arch.step_targets) || !the_arch.insn_length)
		return NULL;
	/* No trace hardware on Arm: the recorder feeds an emulated ETMv4 and
	 * everything downstream is the hardware path. */
	if (the_arch.trace_isa != ARCH_TRACE_NONE && !getenv("CSGDBSERVER_NO_EMULATED_ETM")) {
		src = etm_emulated_recorded_new(the_arch.trace_isa == ARCH_TRACE_A64 ? ETM_EMULATED_A64 :
						ETM_EMULATED_A32, &recorder, note);
		if (src) {
			branch_sink = src;
			return src;
		}
	}
	return etm_software_new(&recorder, note);
}

/* ---- live memory for the decoder ----------------------------------------- */

#define MAX_CACHED_MAPPING (64u << 20)

static void mem_cache_load_maps(struct mem_cache *mc)
{
	char path[64], line[512];
	mc->maps_read = true;
	snprintf(path, sizeof path, "/proc/%d/maps", mc->proc->pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		unsigned long long start, end;
		char perms[8];
		if (sscanf(line, "%llx-%llx %7s", &start, &end, perms) != 3 || perms[0] != 'r' ||
		    perms[2] != 'x' || end - start > MAX_CACHED_MAPPING)
			continue;
		void *grown = realloc(mc->maps, (mc->n + 1) * sizeof *mc->maps);
		if (!grown)
			abort();
		mc->maps = grown;
		mc->maps[mc->n].start = start;
		mc->maps[mc->n].end = end;
		mc->maps[mc->n].data = NULL;
		mc->n++;
	}
	fclose(f);
}

uint32_t mem_cache_read(void *ctx, uint64_t addr, uint32_t len, uint8_t *buf)
{
	struct mem_cache *mc = ctx;
	if (!mc->maps_read)
		mem_cache_load_maps(mc);
	for (size_t i = 0; i < mc->n; i++) {
		if (addr < mc->maps[i].start || addr >= mc->maps[i].end)
			continue;
		size_t size = (size_t)(mc->maps[i].end - mc->maps[i].start);
		if (!mc->maps[i].data) {
			uint8_t *data = malloc(size);
			if (!data)
				return 0;
			if (target_read_memory(mc->proc, mc->maps[i].start, data, size) != (ssize_t)size) {
				free(data);
				return 0;
			}
			mc->maps[i].data = data;
		}
		uint64_t left = mc->maps[i].end - addr;
		uint32_t take = left < len ? (uint32_t)left : len;
		memcpy(buf, mc->maps[i].data + (addr - mc->maps[i].start), take);
		return take;
	}
	return 0;
}

void mem_cache_free(struct mem_cache *mc)
{
	for (size_t i = 0; i < mc->n; i++)
		free(mc->maps[i].data);
	free(mc->maps);
}
