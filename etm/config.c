#include "etm/config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


void etm_config_init(struct etm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->cpu = -1;
	cfg->buffer_size = ETM_DEFAULT_BUFFER_SIZE;
	cfg->mode = ETM_MODE_FULL;
}

/* gdb sends sizes as "0x%x"; accept bare hex too, like gdbserver's strtoul(,16). */
static int parse_hex(const char *value, uint64_t *out)
{
	if (!value || !*value)
		return -1;
	const char *p = value;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	if (!isxdigit((unsigned char)*p))
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(p, &end, 16);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

static int parse_bool(const char *value, bool *out)
{
	if (!strcmp(value, "yes") || !strcmp(value, "1") || !strcmp(value, "on"))
		*out = true;
	else if (!strcmp(value, "no") || !strcmp(value, "0") || !strcmp(value, "off"))
		*out = false;
	else
		return -1;
	return 0;
}

const struct etm_config_flag etm_config_flags[ETM_CONFIG_NFLAGS] = {
	{ "cycle-accurate", offsetof(struct etm_config, cycle_accurate) },
	{ "timestamps", offsetof(struct etm_config, timestamps) },
	{ "return-stack", offsetof(struct etm_config, return_stack) },
	{ "branch-broadcast", offsetof(struct etm_config, branch_broadcast) },
	{ "context-id", offsetof(struct etm_config, context_id) },
	{ "kernel", offsetof(struct etm_config, trace_kernel) },
};

int etm_config_set(struct etm_config *cfg, const char *name, const char *value,
		   char *err, size_t errlen)
{
	uint64_t v = 0;
	bool b;
	if (!value)
		value = "";
	for (size_t i = 0; i < ETM_CONFIG_NFLAGS; i++) {
		if (strcmp(name, etm_config_flags[i].name))
			continue;
		if (parse_bool(value, &b))
			return etm_fail(err, errlen, "Bad %s value \"%s\": use yes or no.", name, value);
		*(bool *)((char *)cfg + etm_config_flags[i].offset) = b;
		return 0;
	}
	if (!strcmp(name, "sink")) {
		if (strlen(value) >= sizeof(cfg->sink))
			return etm_fail(err, errlen, "Sink name too long.");
		for (const char *p = value; *p; p++)
			if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.')
				return etm_fail(err, errlen, "Bad sink name \"%s\".", value);
		snprintf(cfg->sink, sizeof(cfg->sink), "%s", strcmp(value, "default") ? value : "");
		return 0;
	}
	if (!strcmp(name, "mode")) {
		if (!strcmp(value, "full"))
			cfg->mode = ETM_MODE_FULL;
		else if (!strcmp(value, "snapshot"))
			cfg->mode = ETM_MODE_SNAPSHOT;
		else
			return etm_fail(err, errlen, "Bad mode \"%s\": use full or snapshot.", value);
		return 0;
	}
	if (!strcmp(name, "filter:clear")) {
		cfg->n_ranges = cfg->n_start = cfg->n_stop = 0;
		cfg->range_open = false;
		cfg->context_pid = 0;
		return 0;
	}
	if (!strcmp(name, "core") && !strcmp(value, "any")) {
		cfg->cpu = -1;
		return 0;
	}
	if (parse_hex(value, &v))
		return etm_fail(err, errlen, "Bad %s value \"%s\".", name, value);

	if (!strcmp(name, "size")) {
		if (v < 4096 || v > UINT32_MAX)
			return etm_fail(err, errlen, "Bad size value: 0x%" PRIx64 " is outside 4 KiB..4 GiB.", v);
		cfg->buffer_size = v;
	} else if (!strcmp(name, "core")) {
		if (v > 4095)
			return etm_fail(err, errlen, "Bad core number 0x%" PRIx64 ".", v);
		cfg->cpu = (int)v;
	} else if (!strcmp(name, "id")) {
		/* IDs 0 and 0x70-0x7f are reserved by the CoreSight architecture. */
		if (v == 0 || v >= 0x70)
			return etm_fail(err, errlen, "Bad trace ID 0x%" PRIx64 ": must be 0x1..0x6f.", v);
		cfg->trace_id = (unsigned)v;
	} else if (!strcmp(name, "filter:context")) {
		if (v == 0 || v > INT32_MAX)
			return etm_fail(err, errlen, "Bad context (process ID) 0x%" PRIx64 ".", v);
		cfg->context_pid = (uint32_t)v;
	} else if (!strcmp(name, "filter:start-address")) {
		if (cfg->range_open)
			return etm_fail(err, errlen, "filter:start-address given twice without filter:end-address.");
		if (cfg->n_ranges >= ETM_MAX_ADDR_RANGES)
			return etm_fail(err, errlen, "Too many address ranges (at most %d).", ETM_MAX_ADDR_RANGES);
		cfg->ranges[cfg->n_ranges].start = v;
		cfg->range_open = true;
	} else if (!strcmp(name, "filter:end-address")) {
		if (!cfg->range_open)
			return etm_fail(err, errlen, "filter:end-address without filter:start-address.");
		if (v <= cfg->ranges[cfg->n_ranges].start)
			return etm_fail(err, errlen, "Address range end 0x%" PRIx64 " is not above its start 0x%" PRIx64 ".",
				    v, cfg->ranges[cfg->n_ranges].start);
		cfg->ranges[cfg->n_ranges++].end = v;
		cfg->range_open = false;
	} else if (!strcmp(name, "trigger:on-address")) {
		if (cfg->n_start >= ETM_MAX_TRIGGERS)
			return etm_fail(err, errlen, "Too many start triggers (at most %d).", ETM_MAX_TRIGGERS);
		cfg->start_addrs[cfg->n_start++] = v;
	} else if (!strcmp(name, "trigger:off-address")) {
		if (cfg->n_stop >= ETM_MAX_TRIGGERS)
			return etm_fail(err, errlen, "Too many stop triggers (at most %d).", ETM_MAX_TRIGGERS);
		cfg->stop_addrs[cfg->n_stop++] = v;
	} else if (!strcmp(name, "cc-threshold")) {
		if (v == 0 || v > 0xfff)
			return etm_fail(err, errlen, "Bad cc-threshold 0x%" PRIx64 ": must be 0x1..0xfff.", v);
		cfg->cc_threshold = (uint32_t)v;
	} else {
		return etm_fail(err, errlen, "Bad Qbtrace configuration option.");
	}
	return 0;
}

int etm_addr_cmp_pairs(const struct etm_cpu_regs *regs)
{
	switch (regs->unit) {
	case ETM_UNIT_ETMV4:
	case ETM_UNIT_ETE:
		if (!(regs->have_trcidr & (1u << 4)))
			return -1;
		return (int)etm_bits(regs->trcidr[4], 3, 0);
	case ETM_UNIT_ETMV3:
	case ETM_UNIT_PTM:
		if (!(regs->have & ETM_HAVE_ETMCCR))
			return -1;
		return (int)etm_bits(regs->etmccr, 3, 0);
	default:
		return -1;
	}
}

static int check_etm4(const struct etm_config *cfg, const struct etm_cpu_regs *r,
		      char *err, size_t errlen)
{
	uint32_t idr0 = r->trcidr[0], idr2 = r->trcidr[2];
	int cpu = r->cpu;
	if (!(r->have_trcidr & 0x7))
		return etm_fail(err, errlen, "cpu %d: TRCIDR0..2 not available.", cpu);
	if (cfg->cycle_accurate && !(idr0 & (1u << 7)))
		return etm_fail(err, errlen, "cpu %d: cycle-accurate tracing not implemented (TRCIDR0.TRCCCI=0).", cpu);
	if (cfg->cycle_accurate && cfg->cc_threshold && (r->have_trcidr & (1u << 3))) {
		uint32_t min = etm_bits(r->trcidr[3], 11, 0);
		if (cfg->cc_threshold < min)
			return etm_fail(err, errlen, "cpu %d: cc-threshold 0x%x below TRCIDR3.CCITMIN 0x%x.",
				    cpu, cfg->cc_threshold, min);
	}
	if (cfg->timestamps && etm_bits(idr0, 28, 24) == 0)
		return etm_fail(err, errlen, "cpu %d: no global timestamps (TRCIDR0.TSSIZE=0).", cpu);
	/* etm4_config_timestamp_event needs a counter to generate the event. */
	if (cfg->timestamps && (r->have_trcidr & (1u << 5)) && etm_bits(r->trcidr[5], 30, 28) == 0)
		return etm_fail(err, errlen, "cpu %d: timestamps need a counter (TRCIDR5.NUMCNTR=0).", cpu);
	if (cfg->return_stack && !(idr0 & (1u << 9)))
		return etm_fail(err, errlen, "cpu %d: no return stack (TRCIDR0.RETSTACK=0); the driver would drop it silently.", cpu);
	if (cfg->branch_broadcast && !(idr0 & (1u << 5)))
		return etm_fail(err, errlen, "cpu %d: branch broadcast not implemented (TRCIDR0.TRCBB=0).", cpu);
	if (cfg->context_id && etm_bits(idr2, 9, 5) != 4)
		return etm_fail(err, errlen, "cpu %d: 32-bit context ID not traceable (TRCIDR2.CIDSIZE=%u).",
			    cpu, etm_bits(idr2, 9, 5));
	return 0;
}

static int check_etm3(const struct etm_config *cfg, const struct etm_cpu_regs *r,
		      char *err, size_t errlen)
{
	int cpu = r->cpu;
	if (!(r->have & ETM_HAVE_ETMCCER))
		return etm_fail(err, errlen, "cpu %d: ETMCCER not available.", cpu);
	/* ETM3X_SUPPORTED_OPTIONS: cycacc, timestamp, retstack only. */
	if (cfg->branch_broadcast)
		return etm_fail(err, errlen, "cpu %d: the %s perf driver accepts no branch broadcast.", cpu, etm_unit_name(r->unit));
	if (cfg->context_id)
		return etm_fail(err, errlen, "cpu %d: the %s perf driver cannot trace context IDs.", cpu, etm_unit_name(r->unit));
	if (cfg->timestamps && !(r->etmccer & ETMCCER_TIMESTAMP))
		return etm_fail(err, errlen, "cpu %d: no timestamps (ETMCCER bit 22 = 0).", cpu);
	if (cfg->return_stack && !(r->etmccer & ETMCCER_RETSTACK))
		return etm_fail(err, errlen, "cpu %d: no return stack (ETMCCER bit 23 = 0); the driver would drop it silently.", cpu);
	if (cfg->cc_threshold)
		return etm_fail(err, errlen, "cpu %d: %s has no cycle-count threshold.", cpu, etm_unit_name(r->unit));
	return 0;
}

int etm_config_check(const struct etm_config *cfg, const struct etm_cpu_regs *regs,
		     char *err, size_t errlen)
{
	int rc;
	if (cfg->range_open)
		return etm_fail(err, errlen, "filter:start-address 0x%" PRIx64 " has no filter:end-address.",
			    cfg->ranges[cfg->n_ranges].start);
	if (cfg->cpu >= 0 && regs->cpu != cfg->cpu)
		return 0;   /* this CPU is not used */
	switch (regs->unit) {
	case ETM_UNIT_ETMV4:
	case ETM_UNIT_ETE:
		rc = check_etm4(cfg, regs, err, errlen);
		break;
	case ETM_UNIT_ETMV3:
	case ETM_UNIT_PTM:
		rc = check_etm3(cfg, regs, err, errlen);
		break;
	default:
		return etm_fail(err, errlen, "cpu %d: unknown trace unit architecture.", regs->cpu);
	}
	if (rc)
		return rc;

	/* The kernel refuses ranges mixed with start/stop filters
	 * (etm_addr_filters_validate); each range takes a comparator pair,
	 * each start or stop address one comparator. */
	unsigned singles = cfg->n_start + cfg->n_stop;
	if (cfg->n_ranges && singles)
		return etm_fail(err, errlen, "Address ranges and start/stop triggers cannot be combined (the driver's filters are either ranges or start/stop).");
	if (!cfg->n_ranges && !singles)
		return 0;
	int pairs = etm_addr_cmp_pairs(regs);
	const char *field = (regs->unit == ETM_UNIT_ETMV3 || regs->unit == ETM_UNIT_PTM)
			    ? "ETMCCR" : "TRCIDR4.NUMACPAIRS";
	if (pairs < 0)
		return etm_fail(err, errlen, "cpu %d: %s not available, cannot check address filters.", regs->cpu, field);
	if (cfg->n_ranges > (unsigned)pairs)
		return etm_fail(err, errlen, "cpu %d: %u address ranges requested but %s allows %d.",
			    regs->cpu, cfg->n_ranges, field, pairs);
	if (singles > (unsigned)pairs * 2)
		return etm_fail(err, errlen, "cpu %d: %u start/stop addresses requested but %s gives %d comparators.",
			    regs->cpu, singles, field, pairs * 2);
	return 0;
}

/* ---- formats ----------------------------------------------------------- */

int etm_format_parse(const char *name, const char *text, struct etm_pmu_format *out,
		     char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", name);
	const char *p = text;
	while (*p == ' ')
		p++;
	static const char *const fields[] = { "config:", "config1:", "config2:", "config3:" };
	int field = -1;
	for (int i = 0; i < 4; i++) {
		size_t n = strlen(fields[i]);
		if (!strncmp(p, fields[i], n)) {
			field = i;
			p += n;
			break;
		}
	}
	if (field < 0)
		return etm_fail(err, errlen, "format/%s: unknown field in \"%.40s\".", name, text);
	out->field = field;
	/* "lo", "lo-hi", comma separated. */
	for (;;) {
		char *end;
		errno = 0;
		unsigned long lo = strtoul(p, &end, 10), hi;
		if (end == p || errno || lo > 63)
			return etm_fail(err, errlen, "format/%s: bad bit list \"%.40s\".", name, text);
		p = end;
		hi = lo;
		if (*p == '-') {
			p++;
			hi = strtoul(p, &end, 10);
			if (end == p || hi > 63 || hi < lo)
				return etm_fail(err, errlen, "format/%s: bad bit range \"%.40s\".", name, text);
			p = end;
		}
		for (unsigned long b = lo; b <= hi; b++)
			out->mask |= 1ull << b;
		if (*p != ',')
			break;
		p++;
	}
	while (*p == '\n' || *p == ' ')
		p++;
	if (*p)
		return etm_fail(err, errlen, "format/%s: trailing text in \"%.40s\".", name, text);
	return 0;
}

const struct etm_pmu_format *etm_formats_find(const struct etm_pmu_formats *fmts, const char *name)
{
	for (unsigned i = 0; i < fmts->n; i++)
		if (!strcmp(fmts->f[i].name, name))
			return &fmts->f[i];
	return NULL;
}

void etm_format_apply(const struct etm_pmu_format *f, uint64_t value, uint64_t attr_config[4])
{
	for (unsigned b = 0; b < 64; b++) {
		if (!(f->mask & (1ull << b)))
			continue;
		if (value & 1)
			attr_config[f->field] |= 1ull << b;
		else
			attr_config[f->field] &= ~(1ull << b);
		value >>= 1;
	}
}

uint64_t etm_format_value(const struct etm_pmu_format *f, const uint64_t attr_config[4])
{
	uint64_t v = 0;
	unsigned out = 0;
	for (unsigned b = 0; b < 64; b++) {
		if (!(f->mask & (1ull << b)))
			continue;
		if (attr_config[f->field] & (1ull << b))
			v |= 1ull << out;
		out++;
	}
	return v;
}

static int set_format(const struct etm_pmu_formats *fmts, const char *name, uint64_t value,
		      uint64_t attr_config[4], char *err, size_t errlen)
{
	const struct etm_pmu_format *f = etm_formats_find(fmts, name);
	if (!f)
		return etm_fail(err, errlen, "The kernel's cs_etm PMU has no '%s' format: option not supported.", name);
	etm_format_apply(f, value, attr_config);
	return 0;
}

int etm_perf_attr_config(const struct etm_config *cfg, const struct etm_pmu_formats *fmts,
			 uint32_t sink_hash, uint64_t attr_config[4],
			 char *err, size_t errlen)
{
	memset(attr_config, 0, 4 * sizeof(attr_config[0]));
	if (cfg->cycle_accurate && set_format(fmts, "cycacc", 1, attr_config, err, errlen))
		return -1;
	if (cfg->cc_threshold && set_format(fmts, "cc_threshold", cfg->cc_threshold, attr_config, err, errlen))
		return -1;
	if (cfg->timestamps && set_format(fmts, "timestamp", 1, attr_config, err, errlen))
		return -1;
	if (cfg->return_stack && set_format(fmts, "retstack", 1, attr_config, err, errlen))
		return -1;
	if (cfg->branch_broadcast && set_format(fmts, "branch_broadcast", 1, attr_config, err, errlen))
		return -1;
	/* "contextid" is the alias the kernel picked at boot (config:14 or 15). */
	if (cfg->context_id && set_format(fmts, "contextid", 1, attr_config, err, errlen))
		return -1;
	if (sink_hash && set_format(fmts, "sinkid", sink_hash, attr_config, err, errlen))
		return -1;
	return 0;
}

/* Value of a named boolean format, defaulting to the kernel's fixed bit
 * (include/linux/coresight-pmu.h) when the format file is absent. */
static bool opt(const uint64_t attr_config[4], const struct etm_pmu_formats *fmts,
		const char *name, int fixed_bit)
{
	const struct etm_pmu_format *f = fmts ? etm_formats_find(fmts, name) : NULL;
	if (f)
		return etm_format_value(f, attr_config) != 0;
	return fixed_bit >= 0 && (attr_config[0] & (1ull << fixed_bit));
}

int etm4_trcconfigr(const uint64_t attr_config[4], const struct etm_pmu_formats *fmts,
		    const struct etm_cpu_regs *regs, const struct etm_kernel_env *env,
		    uint32_t *trcconfigr, char *err, size_t errlen)
{
	uint32_t cfg = 0, idr0 = regs->trcidr[0];
	if (opt(attr_config, fmts, "cycacc", 12))
		cfg |= TRCCONFIGR_CCI;
	if (opt(attr_config, fmts, "timestamp", 28)) {
		if ((regs->have_trcidr & (1u << 5)) && etm_bits(regs->trcidr[5], 30, 28) == 0)
			return etm_fail(err, errlen, "cpu %d: timestamp event needs a counter (TRCIDR5.NUMCNTR=0): EINVAL at enable.", regs->cpu);
		cfg |= TRCCONFIGR_TS;
	}
	if (opt(attr_config, fmts, "contextid1", 14) && env->root_pid_ns)
		cfg |= TRCCONFIGR_CID;
	if (opt(attr_config, fmts, "contextid2", 15)) {
		if (!env->kernel_at_el2)
			return etm_fail(err, errlen, "cpu %d: contextid2 needs the kernel at EL2 (VHE): EINVAL at enable.", regs->cpu);
		if (env->root_pid_ns)
			cfg |= TRCCONFIGR_VMID | TRCCONFIGR_VMIDOPT;
	}
	if (opt(attr_config, fmts, "retstack", 29) && (idr0 & (1u << 9)))
		cfg |= TRCCONFIGR_RS;
	if (opt(attr_config, fmts, "branch_broadcast", 8)) {
		if (!(idr0 & (1u << 5)))
			return etm_fail(err, errlen, "cpu %d: branch broadcast without TRCIDR0.TRCBB: EINVAL at enable.", regs->cpu);
		cfg |= TRCCONFIGR_BB;
	}
	*trcconfigr = cfg;
	return 0;
}

int etm3_etmcr(const uint64_t attr_config[4], const struct etm_cpu_regs *regs,
	       const struct etm_kernel_env *env, uint32_t *etmcr,
	       char *err, size_t errlen)
{
	const uint64_t supported = ETMCR_CYC_ACC | ETMCR_TIMESTAMP_EN | ETMCR_RETURN_STACK;
	if (attr_config[0] & ~supported)
		return etm_fail(err, errlen, "cpu %d: config 0x%" PRIx64 " has bits the %s driver refuses (only cycacc, timestamp, retstack): EINVAL.",
			    regs->cpu, attr_config[0], etm_unit_name(regs->unit));
	uint32_t ctrl = (uint32_t)attr_config[0];
	if (!env->root_pid_ns)
		ctrl &= ~ETMCR_CTXID_SIZE;
	if ((ctrl & ETMCR_RETURN_STACK) && !(regs->etmccer & ETMCCER_RETSTACK))
		ctrl &= ~ETMCR_RETURN_STACK;
	*etmcr = ctrl;
	return 0;
}

unsigned etm_legacy_trace_id(int cpu)
{
	/* perf's cs_etm_get_legacy_trace_id keeps IDs below the reserved 0x70. */
	return 0x10u + 2u * (unsigned)(cpu % 48);
}
