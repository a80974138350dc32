/* The cs_etm perf PMU as sysfs describes it: PMU type, format bits, sinks,
 * and each CPU's trace unit registers. The sysfs root is a parameter
 * ("/sys" on a target; a fixture directory in tests). Layout read:
 *   ROOT/bus/event_source/devices/cs_etm/{type,nr_addr_filters,format/NAME,sinks/NAME}
 *   .../cs_etm/cpuN/trcidr/trcidr0..13, cpuN/mgmt/{trcauthstatus,trcdevarch,trctraceid}
 *   .../cs_etm/cpuN/mgmt/{etmcr,etmidr,etmccer,etmccr,etmtraceidr} (ETMv3/PTM)
 * ETM flavour per CPU as perf decides it (tools/perf/arch/arm/util/cs-etm.c). */
#ifndef ETM_SYSFS_H
#define ETM_SYSFS_H

#include <limits.h>
#include <stdint.h>

#include "etm/config.h"

#define ETM_PMU_PATH "bus/event_source/devices/cs_etm"
#define ETM_MAX_SINKS 32

struct etm_sink_entry {
	char name[ETM_SINK_NAME_LEN];
	uint32_t hash;                /* value of sinks/NAME, goes to config2 */
};

struct etm_pmu {
	char dir[PATH_MAX];           /* ROOT/bus/event_source/devices/cs_etm */
	uint32_t type;                /* perf_event_attr.type */
	int nr_addr_filters;          /* -1 when the file is absent */
	struct etm_pmu_formats formats;
	struct etm_sink_entry sinks[ETM_MAX_SINKS];
	unsigned n_sinks;
	struct etm_cpu_regs *cpus;    /* sorted by cpu number */
	unsigned n_cpus;
};

/* Read the whole PMU description. A missing required file (type, format/,
 * a CPU's ID registers) is an error naming the path. */
int etm_pmu_read(const char *sysfs_root, struct etm_pmu *pmu, char *err, size_t errlen);
void etm_pmu_free(struct etm_pmu *pmu);

/* The CPU's registers, or NULL when CPU has no trace unit. */
const struct etm_cpu_regs *etm_pmu_cpu(const struct etm_pmu *pmu, int cpu);
/* Sink hash by name; -1 with ERR listing the sinks there are. */
int etm_pmu_sink_hash(const struct etm_pmu *pmu, const char *name, uint32_t *hash,
		      char *err, size_t errlen);
/* Trace unit format of the sink name: TRBE sinks are raw, others framed. */
bool etm_sink_is_raw(const char *name);

/* Read one CPU's trace unit from DIR (a cs_etm/cpuN directory). */
int etm_sysfs_read_cpu(const char *dir, int cpu, struct etm_cpu_regs *out,
		       char *err, size_t errlen);

/* Read a number (0x hex or decimal) from PATH. Returns 0, -1 with ERR. */
int etm_sysfs_read_u64(const char *path, uint64_t *out, char *err, size_t errlen);

#endif
