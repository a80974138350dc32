/* sysfs reading against the three fixture trees (Juno ETMv4, ETE+TRBE,
 * TC2 ETMv3/PTM), cross-checked with the register values of the real
 * boards' OpenCSD snapshots; missing/garbled files; the perf source's
 * configuration path on those trees (everything before perf_event_open). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "etm/perf.h"
#include "etm/sysfs.h"
#include "testsuite/unit/check.h"

#define FIX "testsuite/fixtures/sysfs"
static char err[ETM_ERR_LEN];


/* Value of register NAME in an OpenCSD snapshot .ini ("NAME(0x..)=0x.."). */
static int ini_reg(const char *path, const char *name, uint32_t *out)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[256];
	size_t n = strlen(name);
	int rc = -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, name, n) || (line[n] != '(' && line[n] != '='))
			continue;
		char *eq = strchr(line, '=');
		if (eq) {
			*out = (uint32_t)strtoul(eq + 1, NULL, 0);
			rc = 0;
		}
		break;
	}
	fclose(f);
	return rc;
}

static void check_against_ini(const struct etm_cpu_regs *r, const char *ini,
			      const char *const *names, const uint32_t *values, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t want;
		int rc = ini_reg(ini, names[i], &want);
		CHECK(rc == 0);
		if (rc == 0 && values[i] != want)
			fprintf(stderr, "cpu %d %s: sysfs 0x%x, snapshot 0x%x\n", r->cpu, names[i], values[i], want);
		CHECK(rc == 0 && values[i] == want);
	}
}

static void test_juno(void)
{
	struct etm_pmu pmu;
	int rc = etm_pmu_read(FIX "/juno-etmv4", &pmu, err, sizeof(err));
	CHECK(rc == 0);
	if (rc) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	CHECK(pmu.type == 8);
	CHECK(pmu.nr_addr_filters == 8);
	CHECK(pmu.n_cpus == 6);
	CHECK(pmu.n_sinks == 2);
	CHECK(pmu.formats.n == 10);
	const struct etm_pmu_format *f = etm_formats_find(&pmu.formats, "timestamp");
	CHECK(f && f->field == 0 && f->mask == 1ull << 28);
	f = etm_formats_find(&pmu.formats, "contextid");
	CHECK(f && f->mask == 1ull << 14);
	uint32_t hash = 0;
	CHECK(etm_pmu_sink_hash(&pmu, "tmc_etr0", &hash, err, sizeof(err)) == 0 && hash == 0x6d4e7f31);
	CHECK(etm_pmu_sink_hash(&pmu, "tmc_etr9", &hash, err, sizeof(err)) == -1);
	CHECK(strstr(err, "tmc_etf0") && strstr(err, "tmc_etr0"));
	CHECK(etm_pmu_cpu(&pmu, 6) == NULL);

	char ini[512];
	for (int cpu = 0; cpu < 6; cpu++) {
		const struct etm_cpu_regs *r = etm_pmu_cpu(&pmu, cpu);
		CHECK(r && r->unit == ETM_UNIT_ETMV4);
		if (!r)
			continue;
		CHECK((r->have_trcidr & 0x3fff) == 0x3fff);
		CHECK(r->have & ETM_HAVE_AUTHSTATUS);
		CHECK(r->trctraceidr == 0x10u + 2u * (unsigned)cpu);
		CHECK(etm_addr_cmp_pairs(r) == 4);
		/* ETM_N is device_(6+N).ini in the snapshot. */
		snprintf(ini, sizeof(ini), "%s/device_%d.ini", check_shared("opencsd-snapshots/snapshots/juno_r1_1"), 6 + cpu);
		static const char *const names[] = { "TRCIDR0", "TRCIDR1", "TRCIDR2", "TRCIDR8", "TRCAUTHSTATUS", "TRCCONFIGR" };
		uint32_t vals[] = { r->trcidr[0], r->trcidr[1], r->trcidr[2], r->trcidr[8], r->trcauthstatus, r->trcconfigr };
		check_against_ini(r, ini, names, vals, 6);
	}
	/* A53 and A57 differ in TRCIDR1 (revision). */
	CHECK(etm_pmu_cpu(&pmu, 0)->trcidr[1] == 0x4100f403);
	CHECK(etm_pmu_cpu(&pmu, 5)->trcidr[1] == 0x4100f402);
	etm_pmu_free(&pmu);
}

static void test_ete(void)
{
	struct etm_pmu pmu;
	int rc = etm_pmu_read(FIX "/ete-trbe", &pmu, err, sizeof(err));
	CHECK(rc == 0);
	if (rc)
		return;
	CHECK(pmu.n_cpus == 2);
	CHECK(etm_formats_find(&pmu.formats, "cc_threshold") != NULL);
	CHECK(etm_formats_find(&pmu.formats, "contextid")->mask == 1ull << 15);
	for (int cpu = 0; cpu < 2; cpu++) {
		const struct etm_cpu_regs *r = etm_pmu_cpu(&pmu, cpu);
		CHECK(r && r->unit == ETM_UNIT_ETE);
		CHECK(r && r->trcdevarch == 0x47715a13 && r->trcidr[0] == 0x288006a1 &&
		      r->trcidr[1] == 0x4100fff0 && r->trcidr[2] == 0xc0001088);
	}
	CHECK(etm_sink_is_raw(pmu.sinks[0].name));
	etm_pmu_free(&pmu);
}

static void test_tc2(void)
{
	struct etm_pmu pmu;
	int rc = etm_pmu_read(FIX "/a15-ptm", &pmu, err, sizeof(err));
	CHECK(rc == 0);
	if (rc)
		return;
	CHECK(pmu.type == 7 && pmu.n_cpus == 5);
	CHECK(etm_formats_find(&pmu.formats, "contextid2") == NULL);
	char ini[512];
	for (int cpu = 0; cpu < 5; cpu++) {
		const struct etm_cpu_regs *r = etm_pmu_cpu(&pmu, cpu);
		CHECK(r != NULL);
		if (!r)
			continue;
		CHECK(r->unit == (cpu < 3 ? ETM_UNIT_ETMV3 : ETM_UNIT_PTM));
		CHECK((r->have & (ETM_HAVE_ETMIDR | ETM_HAVE_ETMCCER | ETM_HAVE_ETMCCR | ETM_HAVE_TRACEID | ETM_HAVE_CONFIGR)) ==
		      (ETM_HAVE_ETMIDR | ETM_HAVE_ETMCCER | ETM_HAVE_ETMCCR | ETM_HAVE_TRACEID | ETM_HAVE_CONFIGR));
		CHECK(r->etmtraceidr == 0x10u + 2u * (unsigned)cpu);
		CHECK(etm_addr_cmp_pairs(r) == 4);
		/* ETM_0..2 = device_5..7, PTM_0..1 = device_8..9 */
		snprintf(ini, sizeof(ini), "%s/device_%d.ini", check_shared("opencsd-snapshots/snapshots/TC2"), 5 + cpu);
		static const char *const names[] = { "ETMCR", "ETMIDR", "ETMCCER" };
		uint32_t vals[] = { r->etmcr, r->etmidr, r->etmccer };
		check_against_ini(r, ini, names, vals, 3);
	}
	etm_pmu_free(&pmu);
}

/* Copy a fixture to a scratch directory so files can be broken. */
static int scratch_copy(const char *fixture, char *dir, size_t size)
{
	snprintf(dir, size, "/tmp/test_etm_sysfs.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "cp -R '%s/bus' '%s/'", fixture, dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void scratch_remove(const char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0);
}

static void write_file(const char *dir, const char *rel, const char *text)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/%s/%s", dir, ETM_PMU_PATH, rel);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void remove_file(const char *dir, const char *rel)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/%s/%s", dir, ETM_PMU_PATH, rel);
	CHECK(unlink(path) == 0);
}

static void test_bad_trees(void)
{
	struct etm_pmu pmu;
	char dir[64];

	CHECK(etm_pmu_read("/nonexistent-sysfs", &pmu, err, sizeof(err)) == -1);
	CHECK(strstr(err, "no CoreSight ETM perf PMU") && strstr(err, "/nonexistent-sysfs/bus/event_source/devices/cs_etm"));

	if (scratch_copy(FIX "/juno-etmv4", dir, sizeof(dir))) {
		CHECK(!"scratch copy");
		return;
	}
	remove_file(dir, "cpu1/trcidr/trcidr1");
	CHECK(etm_pmu_read(dir, &pmu, err, sizeof(err)) == -1);
	CHECK(strstr(err, "cpu1/trcidr/trcidr1: No such file or directory") != NULL);
	write_file(dir, "cpu1/trcidr/trcidr1", "0x4100f403\n");
	CHECK(etm_pmu_read(dir, &pmu, err, sizeof(err)) == 0);
	etm_pmu_free(&pmu);

	/* Optional registers may be absent: TRCIDR4 missing => filters unknown. */
	remove_file(dir, "cpu2/trcidr/trcidr4");
	CHECK(etm_pmu_read(dir, &pmu, err, sizeof(err)) == 0);
	CHECK(etm_pmu_cpu(&pmu, 2) && !(etm_pmu_cpu(&pmu, 2)->have_trcidr & (1u << 4)));
	CHECK(etm_addr_cmp_pairs(etm_pmu_cpu(&pmu, 2)) == -1);
	etm_pmu_free(&pmu);

	write_file(dir, "cpu3/trcidr/trcidr0", "garbage\n");
	CHECK(etm_pmu_read(dir, &pmu, err, sizeof(err)) == -1);
	CHECK(strstr(err, "cpu3/trcidr/trcidr0: not a number") != NULL);
	write_file(dir, "cpu3/trcidr/trcidr0", "0x1ffffffff\n");
	CHECK(etm_pmu_read(dir, &pmu, err, sizeof(err)) == -1);
	CHECK(strstr(err, "does not fit") != NULL);
	write_file(dir, "cpu3/trcidr/trcidr0", "0x28000ea1\n");

	write_file(dir, "format/cycacc", "config:twelve\n");
	CHECK(etm_pmu_read(dir, &pmu, err, sizeof(err)) == -1);
	CHECK(strstr(err, "format/cycacc") != NULL);
	write_file(dir, "format/cycacc", "config:12\n");

	remove_file(dir, "type");
	CHECK(etm_pmu_read(dir, &pmu, err, sizeof(err)) == -1);
	CHECK(strstr(err, "cs_etm/type: No such file or directory") != NULL);
	scratch_remove(dir);

	/* A cpuN with neither ETMv4 nor ETMv3 registers. */
	if (scratch_copy(FIX "/a15-ptm", dir, sizeof(dir)) == 0) {
		remove_file(dir, "cpu4/mgmt/etmccer");
		CHECK(etm_pmu_read(dir, &pmu, err, sizeof(err)) == -1);
		CHECK(strstr(err, "not a CoreSight ETM") != NULL);
		scratch_remove(dir);
	}
}

static void test_perf_source_on_fixtures(void)
{
	struct etm_source *src = etm_perf_source_new(FIX "/juno-etmv4", "/proc", err, sizeof(err));
	CHECK(src != NULL);
	if (!src)
		return;
	CHECK(src->ops->nr_cpus(src) == 6);
	struct etm_sink_info sink;
	CHECK(src->ops->sink(src, &sink) == 0 && sink.formatted && sink.frame_aligned && sink.reset_on_4x_sync);
	struct etm_cpu_regs r;
	CHECK(src->ops->cpu_regs(src, 3, &r, err, sizeof(err)) == 0);
	CHECK(r.trctraceidr == 0x16 && r.trcconfigr == 0);  /* no session yet: nothing enabled */
	CHECK(src->ops->cpu_regs(src, 9, &r, err, sizeof(err)) == -1);

	/* Configurations the hardware or driver cannot do are refused before
	 * any perf_event_open. */
	struct etm_config c;
	etm_config_init(&c);
	for (unsigned i = 0; i < 5; i++)
		c.ranges[i] = (struct etm_addr_range){ 0x400000 + 0x100 * i, 0x400080 + 0x100 * i };
	c.n_ranges = 5;
	CHECK(src->ops->enable(src, getpid(), &c, err, sizeof(err)) == -1);
	CHECK(strstr(err, "TRCIDR4.NUMACPAIRS allows 4") != NULL);
	etm_config_init(&c);
	snprintf(c.sink, sizeof(c.sink), "tmc_etb7");
	CHECK(src->ops->enable(src, getpid(), &c, err, sizeof(err)) == -1);
	CHECK(strstr(err, "No sink \"tmc_etb7\"") != NULL);
	etm_config_init(&c);
	c.trace_id = 0x20;
	c.cpu = 1;
	CHECK(src->ops->enable(src, getpid(), &c, err, sizeof(err)) == -1);
	CHECK_STR(err, "The perf driver assigns trace ID 0x12 to CPU 1; 0x20 cannot be requested.");
	c.cpu = 7;
	CHECK(src->ops->enable(src, getpid(), &c, err, sizeof(err)) == -1);
	CHECK_STR(err, "CPU 7 has no trace unit.");
	etm_config_init(&c);
	c.cc_threshold = 0x100;
	c.cycle_accurate = true;
	CHECK(src->ops->enable(src, getpid(), &c, err, sizeof(err)) == -1);
	CHECK(strstr(err, "'cc_threshold'") != NULL);
	CHECK(src->ops->read_new(src, getpid(), NULL, err, sizeof(err)) == -1);
	CHECK_STR(err, "Btrace not enabled.");
	CHECK(src->ops->disable(src, getpid(), err, sizeof(err)) == -1);
	etm_source_free(src);

	/* TRBE sinks: raw data by default. */
	src = etm_perf_source_new(FIX "/ete-trbe", "/proc", err, sizeof(err));
	CHECK(src != NULL);
	if (src) {
		CHECK(src->ops->sink(src, &sink) == 0 && !sink.formatted && !sink.frame_aligned);
		CHECK(src->ops->cpu_regs(src, 1, &r, err, sizeof(err)) == 0 && r.unit == ETM_UNIT_ETE && r.trctraceidr == 0x12);
		etm_source_free(src);
	}
	src = etm_perf_source_new(FIX "/a15-ptm", "/proc", err, sizeof(err));
	CHECK(src != NULL);
	if (src) {
		CHECK(src->ops->cpu_regs(src, 4, &r, err, sizeof(err)) == 0);
		CHECK(r.unit == ETM_UNIT_PTM && r.etmcr == 0 && r.etmtraceidr == 0x18 && r.etmidr == 0x411cf312);
		etm_config_init(&c);
		c.branch_broadcast = true;
		CHECK(src->ops->enable(src, getpid(), &c, err, sizeof(err)) == -1);
		CHECK(strstr(err, "no branch broadcast") != NULL);
		etm_source_free(src);
	}
	CHECK(etm_perf_source_new(FIX "/none", "/proc", err, sizeof(err)) == NULL);
	CHECK(strstr(err, "no CoreSight ETM perf PMU") != NULL);
}

int main(void)
{
	/* the real boards' registers to compare with */
	if (!check_shared_present(check_shared("opencsd-snapshots/snapshots")))
		return check_done("test_etm_sysfs");
	test_juno();
	test_ete();
	test_tc2();
	test_bad_trees();
	test_perf_source_on_fixtures();
	return check_done("test_etm_sysfs");
}
