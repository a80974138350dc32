/* ETM configuration: the user's options (what Qbtrace-conf:CoreSight:* sets),
 * the per-CPU ID/configuration registers a decoder needs, validation of the
 * options against those ID registers, and the control registers computed
 * from a perf attr.config exactly as the Linux drivers program them
 * (coresight-etm4x-core.c etm4_parse_event_config, coresight-etm3x-core.c
 * etm_parse_event_config). No Linux calls here: everything is testable. */
#ifndef ETM_CONFIG_H
#define ETM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "etm/trace_types.h"

#define ETM_MAX_ADDR_RANGES 8    /* ETMv4 has at most 8 comparator pairs */
#define ETM_MAX_TRIGGERS 8
#define ETM_SINK_NAME_LEN 64

/* TRCCONFIGR bits (coresight-etm4x.h) */
#define TRCCONFIGR_BB       (1u << 3)
#define TRCCONFIGR_CCI      (1u << 4)
#define TRCCONFIGR_CID      (1u << 6)
#define TRCCONFIGR_VMID     (1u << 7)
#define TRCCONFIGR_TS       (1u << 11)
#define TRCCONFIGR_RS       (1u << 12)
#define TRCCONFIGR_VMIDOPT  (1u << 15)
/* ETMCR bits (coresight-etm.h); perf's format bits equal them */
#define ETMCR_BRANCH_BROADCAST (1u << 8)
#define ETMCR_CYC_ACC          (1u << 12)
#define ETMCR_CTXID_SIZE       (3u << 14)
#define ETMCR_TIMESTAMP_EN     (1u << 28)
#define ETMCR_RETURN_STACK     (1u << 29)
#define ETMCCER_TIMESTAMP      (1u << 22)
#define ETMCCER_RETSTACK       (1u << 23)

struct etm_addr_range {
	uint64_t start, end;          /* end exclusive */
};

enum etm_mode {
	ETM_MODE_FULL = 0,            /* AUX mapped writable: nothing overwritten */
	ETM_MODE_SNAPSHOT,            /* AUX read-only: ring keeps the newest data */
};

/* The user's options for one tracing session. */
struct etm_config {
	int cpu;                      /* core=: trace only on this CPU, -1 = any */
	unsigned trace_id;            /* id=: requested trace ID, 0 = automatic */
	uint32_t context_pid;         /* filter:context=: 0 = the traced thread */
	struct etm_addr_range ranges[ETM_MAX_ADDR_RANGES];
	unsigned n_ranges;
	bool range_open;              /* start-address given, end-address pending */
	uint64_t start_addrs[ETM_MAX_TRIGGERS];   /* trigger:on-address= */
	unsigned n_start;
	uint64_t stop_addrs[ETM_MAX_TRIGGERS];    /* trigger:off-address= */
	unsigned n_stop;
	uint64_t buffer_size;         /* size=: AUX bytes */
	char sink[ETM_SINK_NAME_LEN]; /* sink=: "" = the driver's default */
	enum etm_mode mode;
	bool cycle_accurate, timestamps, return_stack, branch_broadcast;
	bool context_id;              /* trace CONTEXTIDR (the TID under Linux) */
	uint32_t cc_threshold;        /* 0 = driver default */
	bool trace_kernel;            /* default false: exclude_kernel=1 */
};

#define ETM_DEFAULT_BUFFER_SIZE (256u * 1024u)

void etm_config_init(struct etm_config *cfg);

/* The yes/no options by their Qbtrace-conf:CoreSight names, and where each
 * lives in struct etm_config: one table for etm_config_set (parsing) and
 * btrace_xml_conf_etm (printing). */
struct etm_config_flag {
	const char *name;
	size_t offset;                /* of a bool in struct etm_config */
};
#define ETM_CONFIG_NFLAGS 6
extern const struct etm_config_flag etm_config_flags[ETM_CONFIG_NFLAGS];

/* Apply one option "NAME=VALUE" as sent in Qbtrace-conf:CoreSight:NAME=VALUE
 * (NAME: size, core, id, sink, mode, filter:context, filter:start-address,
 * filter:end-address, filter:clear, trigger:on-address, trigger:off-address,
 * cycle-accurate, timestamps, return-stack, branch-broadcast, context-id,
 * cc-threshold, kernel). Numbers are hex like gdb sends them ("0x" optional),
 * booleans yes/no/1/0. Returns 0, or -1 with ERR set. */
int etm_config_set(struct etm_config *cfg, const char *name, const char *value,
		   char *err, size_t errlen);

/* Check CFG against what the trace unit REGS can do (TRCIDR0/2/3/4/5 or
 * ETMCCER/ETMCCR). Returns 0, or -1 with ERR naming the register field. */
int etm_config_check(const struct etm_config *cfg, const struct etm_cpu_regs *regs,
		     char *err, size_t errlen);

/* Number of address comparator pairs the unit has, -1 if unknown. */
int etm_addr_cmp_pairs(const struct etm_cpu_regs *regs);

/* ---- perf attr.config <-> registers ------------------------------------ */

/* One sysfs format/NAME: which attr field and which bits ("config:12",
 * "config2:0-31", "config:0-3,8"). */
struct etm_pmu_format {
	char name[32];
	int field;                    /* 0 config, 1 config1, 2 config2, 3 config3 */
	uint64_t mask;                /* bits of that field */
};

struct etm_pmu_formats {
	struct etm_pmu_format f[32];
	unsigned n;
};

/* Parse a format file's text. Returns 0 or -1 (ERR set). */
int etm_format_parse(const char *name, const char *text, struct etm_pmu_format *out,
		     char *err, size_t errlen);
const struct etm_pmu_format *etm_formats_find(const struct etm_pmu_formats *fmts, const char *name);
/* Place VALUE into the bits of F (low bit of VALUE to the lowest mask bit). */
void etm_format_apply(const struct etm_pmu_format *f, uint64_t value, uint64_t attr_config[4]);
/* Read the value of F back from ATTR_CONFIG. */
uint64_t etm_format_value(const struct etm_pmu_format *f, const uint64_t attr_config[4]);

/* perf attr.config/config1/config2/config3 for CFG, as perf builds them:
 * cycacc, timestamp, retstack, branch_broadcast, contextid, cc_threshold,
 * sinkid (SINK_HASH, 0 = default). An option the kernel has no format for
 * is an error. */
int etm_perf_attr_config(const struct etm_config *cfg, const struct etm_pmu_formats *fmts,
			 uint32_t sink_hash, uint64_t attr_config[4],
			 char *err, size_t errlen);

/* How the running kernel treats the event (affects what it programs). */
struct etm_kernel_env {
	bool root_pid_ns;             /* event owner in the root PID namespace */
	bool kernel_at_el2;           /* VHE: contextid2 (CONTEXTIDR_EL2) usable */
};

/* TRCCONFIGR the etm4x driver programs for ATTR_CONFIG on unit REGS
 * (etm4_parse_event_config). Returns 0, or -1 where the driver returns
 * EINVAL at enable time (branch broadcast without TRCIDR0.TRCBB, contextid2
 * without VHE, timestamps without a counter). */
int etm4_trcconfigr(const uint64_t attr_config[4], const struct etm_pmu_formats *fmts,
		    const struct etm_cpu_regs *regs, const struct etm_kernel_env *env,
		    uint32_t *trcconfigr, char *err, size_t errlen);

/* ETMCR the etm3x driver programs (etm_parse_event_config): attr.config
 * itself, minus what the unit or namespace does not allow. */
int etm3_etmcr(const uint64_t attr_config[4], const struct etm_cpu_regs *regs,
	       const struct etm_kernel_env *env, uint32_t *etmcr,
	       char *err, size_t errlen);

/* The legacy (<= 6.1) trace ID rule: 0x10 + 2*cpu, as perf falls back to. */
unsigned etm_legacy_trace_id(int cpu);

#endif
