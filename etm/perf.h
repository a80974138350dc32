/* The perf cs_etm trace source, without the perf tool: one per-thread event
 * (pid = tid, cpu = core= or -1) per traced thread, a record ring + AUX
 * area mmap each, read through etm/auxring.c. New threads are traced by
 * calling enable for them as they appear (per-thread events cannot
 * inherit: perf_mmap refuses cpu == -1 with inherit).
 * Reference: shared/reference/coresight-perf.md §1. */
#ifndef ETM_PERF_H
#define ETM_PERF_H

#include "etm/source.h"
#include "etm/sysfs.h"
#include "common/buf.h"

/* Open the source on the PMU under SYSFS_ROOT ("/sys"). Fails with a clear
 * error when there is no cs_etm PMU. PROC_ROOT ("/proc") is where thread
 * maps are read for address filters. */
struct etm_source *etm_perf_source_new(const char *sysfs_root, const char *proc_root,
				       char *err, size_t errlen);

/* The PMU description the source uses (for qSupported / monitor output). */
const struct etm_pmu *etm_perf_source_pmu(struct etm_source *src);

/* Build the PERF_EVENT_IOC_SET_FILTER string for CFG's address ranges and
 * start/stop triggers. User addresses are turned into file offsets of the
 * mapping holding them (MAPS_TEXT = /proc/TID/maps), as the kernel wants
 * "filter 0xOFF/SIZE@/path", "start 0xOFF@/path", "stop 0xOFF@/path".
 * Empty OUT when CFG has no filters. Returns 0, -1 with ERR. */
int etm_perf_filter_string(const struct etm_config *cfg, const char *maps_text,
			   struct buf *out, char *err, size_t errlen);

/* AUX buffer size for a requested size: a power-of-two number of pages,
 * at least one page. */
uint64_t etm_perf_aux_size(uint64_t requested, uint64_t page_size);

/* Fill an auxring view from a mapped perf_event_mmap_page (PAGE), its
 * record ring right behind it and the AUX mapping AUX. Reads the heads with
 * the barrier the ABI asks for. Split out so tests can run it on memory. */
struct auxring_view;
void etm_perf_view(const void *page, const void *aux, struct auxring_view *v);
/* Store the new tails (after a full barrier), as the ABI asks. AUX tail is
 * written only when WRITE_AUX (full mode). */
void etm_perf_commit(void *page, uint64_t data_tail, uint64_t aux_tail, bool write_aux);

#endif
