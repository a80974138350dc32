/* perf.data recorded with cs_etm on real phones (AOSP simpleperf test
 * data): parsing, registers, and replay of the AUX streams through the
 * same auxring code that reads the live mmap, with rings small enough to
 * wrap. Truncated/corrupted copies must fail cleanly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "etm/perfdata.h"
#include "testsuite/unit/check.h"

static char err[ETM_ERR_LEN];
static char dir[256];

static void path_of(char *out, size_t size, const char *name)
{
	snprintf(out, size, "%s/%s", dir, name);
}

/* The bytes the file stores for CPU's buffer, for comparison. */
static bool equals_file(const struct perfdata *pd, int cpu, const struct etm_read *out)
{
	const uint8_t *want = perfdata_aux_bytes(pd, cpu, 0, out->data.len);
	return want && memcmp(want, out->data.data, out->data.len) == 0;
}

static void test_perf_etm(void)
{
	char path[400];
	struct perfdata pd;
	path_of(path, sizeof(path), "perf_etm.data");
	CHECK(perfdata_open(path, &pd, err, sizeof(err)) == 0);
	if (!pd.file) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	CHECK(pd.have_info && pd.info_version == 1 && pd.pmu_type == 8 && pd.nr_cpus == 8 && !pd.snapshot);
	CHECK(pd.n_cpus == 8 && pd.n_aux == 4 && pd.n_auxtrace == 1 && pd.n_itrace_start == 2);
	CHECK(pd.sample_id_all && (pd.sample_type & 0x80));       /* PERF_SAMPLE_CPU */
	CHECK(pd.attr_config == 0x4000);                         /* contextid */
	for (int cpu = 0; cpu < 8; cpu++) {
		const struct etm_cpu_regs *r = perfdata_cpu(&pd, cpu);
		CHECK(r && r->unit == ETM_UNIT_ETMV4 && r->trcconfigr == 0x40 &&
		      r->trctraceidr == 0x10u + 2u * (unsigned)cpu && r->trcidr[0] == 0x28000ea1 &&
		      r->trcidr[2] == 0x20001088 && r->trcauthstatus == 0x8c);
	}
	/* TRCCONFIGR as the kernel computes it from the recorded attr.config. */
	uint64_t ac[4] = { pd.attr_config, 0, 0, 0 };
	struct etm_kernel_env env = { .root_pid_ns = true };
	uint32_t cfgr;
	CHECK(etm4_trcconfigr(ac, NULL, perfdata_cpu(&pd, 7), &env, &cfgr, err, sizeof(err)) == 0 && cfgr == 0x40);

	/* Replay CPU 7's buffer: 0x180 bytes in 4 chunks, through rings that
	 * wrap (AUX 256 bytes, records 256 bytes), reading after each record,
	 * after every 3, and only at the end. */
	static const unsigned every[] = { 1, 3, 0 };
	for (int k = 0; k < 3; k++) {
		struct auxring ring;
		struct etm_read out;
		etm_read_init(&out);
		int rc = perfdata_replay(&pd, 7, 256, 256, every[k], &ring, &out, err, sizeof(err));
		if (rc)
			fprintf(stderr, "every %u: %s\n", every[k], err);
		CHECK(rc == 0);
		CHECK(out.data.len == 0x180 && out.n_chunks == 4);
		if (out.n_chunks != 4) {
			etm_read_free(&out);
			continue;
		}
		CHECK(out.chunks[0].size == 0x50 && out.chunks[3].size == 0x90 && out.chunks[3].offset == 0xf0);
		CHECK(out.chunks[0].cpu == 7 && !out.chunks[0].raw && !out.overflow && out.bytes_lost == 0);
		CHECK(equals_file(&pd, 7, &out));
		/* Frame-formatted ETR data comes in whole 16-byte frames. */
		for (size_t i = 0; i < out.n_chunks; i++)
			CHECK(out.chunks[i].size % 16 == 0);
		CHECK(ring.itrace_tid == 17235 && ring.n_aux_records == 4);
		etm_read_free(&out);
	}
	/* A CPU without data gives nothing. */
	struct auxring ring;
	struct etm_read out;
	etm_read_init(&out);
	CHECK(perfdata_replay(&pd, 2, 256, 256, 1, &ring, &out, err, sizeof(err)) == 0 && out.data.len == 0);
	/* A record ring smaller than a record (MMAP2: 136 bytes): an error. */
	CHECK(perfdata_replay(&pd, 7, 128, 256, 1, &ring, &out, err, sizeof(err)) == -1);
	CHECK(strstr(err, "does not fit the 0x80 record ring") != NULL);
	/* A ring smaller than one AUX record cannot hold it: an error, not a hang. */
	CHECK(perfdata_replay(&pd, 7, 256, 64, 1, &ring, &out, err, sizeof(err)) == -1);
	CHECK(strstr(err, "exceeds") != NULL);
	etm_read_free(&out);
	perfdata_free(&pd);
}

static void test_unformatted(void)
{
	char path[400];
	struct perfdata pd;
	path_of(path, sizeof(path), "perf_with_unformatted_trace.data");
	CHECK(perfdata_open(path, &pd, err, sizeof(err)) == 0);
	if (!pd.file)
		return;
	CHECK(pd.n_cpus == 2 && pd.n_aux == 7 && pd.attr_config == 0x8000);
	const struct etm_cpu_regs *r = perfdata_cpu(&pd, 0);
	CHECK(r && r->unit == ETM_UNIT_ETE && r->trcdevarch == 0x47715a13 && r->trcconfigr == 0x8080);
	uint64_t ac[4] = { pd.attr_config, 0, 0, 0 };
	struct etm_kernel_env el2 = { .root_pid_ns = true, .kernel_at_el2 = true };
	uint32_t cfgr;
	CHECK(etm4_trcconfigr(ac, NULL, r, &el2, &cfgr, err, sizeof(err)) == 0 && cfgr == 0x8080);

	struct auxring ring;
	struct etm_read out;
	etm_read_init(&out);
	CHECK(perfdata_replay(&pd, 0, 256, 4096, 1, &ring, &out, err, sizeof(err)) == 0);
	CHECK(out.data.len == 0x4c && out.n_chunks == 1 && out.n_chunks && out.chunks[0].raw && !out.overflow);
	CHECK(equals_file(&pd, 0, &out));
	CHECK(ring.raw && ring.n_aux_records == 7);
	etm_read_free(&out);
	perfdata_free(&pd);
}

static void test_missing_aux(void)
{
	char path[400];
	struct perfdata pd;
	path_of(path, sizeof(path), "perf_with_missing_aux_data.data");
	CHECK(perfdata_open(path, &pd, err, sizeof(err)) == 0);
	if (!pd.file)
		return;
	CHECK(pd.n_auxtrace == 0 && pd.n_aux == 6);
	/* ETE magic but TRCDEVARCH.ARCHVER 4: an ETMv4.2. */
	CHECK(perfdata_cpu(&pd, 0) && perfdata_cpu(&pd, 0)->unit == ETM_UNIT_ETMV4);
	struct auxring ring;
	struct etm_read out;
	etm_read_init(&out);
	CHECK(perfdata_replay(&pd, 7, 4096, 1u << 20, 1, &ring, &out, err, sizeof(err)) == 0);
	CHECK(out.data.len == 0 && out.overflow);
	CHECK(out.bytes_lost == 0xa6fc0 + 0x57870 + 0x74e30 + 0x30 + 0x30);
	etm_read_reset(&out);
	CHECK(perfdata_replay(&pd, 4, 4096, 1u << 20, 1, &ring, &out, err, sizeof(err)) == 0);
	CHECK(out.bytes_lost == 0x36b0);
	etm_read_free(&out);
	perfdata_free(&pd);
}

static void test_replay_source(void)
{
	char path[400];
	path_of(path, sizeof(path), "perf_etm.data");
	struct etm_source *src = etm_perfdata_source_new(path, err, sizeof(err));
	CHECK(src != NULL);
	if (!src)
		return;
	struct etm_config c;
	etm_config_init(&c);
	CHECK(src->ops->enable(src, 42, &c, err, sizeof(err)) == 0);
	CHECK(src->ops->enable(src, 42, &c, err, sizeof(err)) == -1);
	struct etm_read out;
	etm_read_init(&out);
	CHECK(src->ops->read_new(src, 42, &out, err, sizeof(err)) == 0);
	CHECK(out.data.len == 0x180 && out.n_chunks == 4);
	etm_read_reset(&out);
	CHECK(src->ops->read_new(src, 42, &out, err, sizeof(err)) == 0 && out.data.len == 0);
	struct etm_cpu_regs r;
	CHECK(src->ops->cpu_regs(src, 7, &r, err, sizeof(err)) == 0 && r.trctraceidr == 0x1e);
	struct etm_sink_info sink;
	CHECK(src->ops->sink(src, &sink) == 0 && sink.formatted);
	CHECK(src->ops->nr_cpus(src) == 8);
	struct etm_config got;
	CHECK(src->ops->conf(src, 42, &got, err, sizeof(err)) == 0 && got.buffer_size == c.buffer_size);
	CHECK(src->ops->disable(src, 42, err, sizeof(err)) == 0);
	CHECK(src->ops->read_new(src, 42, &out, err, sizeof(err)) == -1);
	etm_read_free(&out);
	etm_source_free(src);

	CHECK(etm_perfdata_source_new("/nonexistent.data", err, sizeof(err)) == NULL);
	CHECK(strstr(err, "/nonexistent.data: No such file") != NULL);
}

/* Every truncation and many single-byte corruptions of a real file fail
 * with an error or parse to something consistent — never a crash. */
static void test_damaged(void)
{
	char path[400];
	struct perfdata pd;
	path_of(path, sizeof(path), "perf_etm.data");
	FILE *f = fopen(path, "rb");
	CHECK(f != NULL);
	if (!f)
		return;
	uint8_t *b = malloc(1 << 16);
	size_t len = fread(b, 1, 1 << 16, f);
	fclose(f);
	CHECK(perfdata_parse(b, 50, &pd, err, sizeof(err)) == -1);
	CHECK(strstr(err, "PERFILE2") != NULL);
	size_t failures = 0;
	for (size_t cut = 0; cut < len; cut += 7)
		if (perfdata_parse(b, cut, &pd, err, sizeof(err)) == -1)
			failures++;
		else
			perfdata_free(&pd);
	CHECK(failures > 0);
	srand(99);
	for (int i = 0; i < 3000; i++) {
		uint8_t *c = malloc(len);
		memcpy(c, b, len);
		for (int k = 0; k < 4; k++)
			c[(size_t)rand() % len] = (uint8_t)rand();
		if (perfdata_parse(c, len, &pd, err, sizeof(err)) == 0) {
			struct auxring ring;
			struct etm_read out;
			etm_read_init(&out);
			for (unsigned j = 0; j < pd.n_cpus; j++)
				perfdata_replay(&pd, pd.cpus[j].cpu, 256, 4096, 1, &ring, &out, err, sizeof(err));
			etm_read_free(&out);
			perfdata_free(&pd);
		}
		free(c);
	}
	free(b);
	CHECK(1);   /* reaching here under ASan is the assertion */
}

/* ---- absurd numbers: each mutation of a real file is refused naming the
 * field, or parses into something bounded (issue 16 item 5) ---- */

static uint8_t *real_file(const char *name, size_t *len)
{
	char path[400];
	path_of(path, sizeof(path), name);
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	uint8_t *b = malloc(1 << 16);
	*len = fread(b, 1, 1 << 16, f);
	fclose(f);
	return b;
}

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* The first record of TYPE in the parsed file, or NULL. */
static const struct perfdata_record *find_record(const struct perfdata *pd, uint32_t type)
{
	for (size_t i = 0; i < pd->n_records; i++)
		if (pd->records[i].type == type)
			return &pd->records[i];
	return NULL;
}

/* Parse B with the LE value V (BYTES wide) at OFF: 0/-1 as perfdata_parse. */
static int parse_with(const uint8_t *b, size_t len, size_t off, uint64_t v, int bytes)
{
	struct perfdata pd;
	uint8_t *c = malloc(len);
	memcpy(c, b, len);
	put_le(c + off, v, bytes);
	int rc = perfdata_parse(c, len, &pd, err, sizeof(err));
	if (rc == 0)
		perfdata_free(&pd);
	free(c);
	return rc;
}

static void test_absurd_numbers(void)
{
	size_t len;
	uint8_t *b = real_file("perf_etm.data", &len);
	struct perfdata pd;
	CHECK(b && perfdata_parse(b, len, &pd, err, sizeof(err)) == 0);
	if (!b || !pd.file)
		return;
	const struct perfdata_record *info = find_record(&pd, 70);
	const struct perfdata_record *aux = find_record(&pd, 11);     /* PERF_RECORD_AUX */
	const struct perfdata_record *at = find_record(&pd, 71);
	CHECK(info && aux && at);
	if (!info || !aux || !at) {
		perfdata_free(&pd);
		free(b);
		return;
	}
	/* AUXTRACE_INFO v1: 16 header, 24 priv, then per CPU magic, cpu, n. */
	size_t cpu0 = info->pos + 16 + 24 + 8;
	CHECK(parse_with(b, len, cpu0, 0x7fffffff, 8) == -1);
	CHECK(strstr(err, "CPU 2147483647, out of range (0-4095)") != NULL);
	/* a 64-bit number that truncates to a real CPU is not that CPU */
	CHECK(parse_with(b, len, cpu0, (1ull << 32) | 3, 8) == -1);
	CHECK(strstr(err, "out of range") != NULL);
	/* CPU 1 twice (block 0 claims CPU 1 too) */
	CHECK(parse_with(b, len, cpu0, 1, 8) == -1);
	CHECK(strstr(err, "CPU 1 has two blocks") != NULL);
	/* nr_cpus in priv[1] (pmu type << 32 | nr) */
	CHECK(parse_with(b, len, info->pos + 16 + 8, (8ull << 32) | 100000, 8) == -1);
	CHECK(strstr(err, "100000 CPUs, more than 4096") != NULL);
	/* the sample_id CPU of an AUX record: u32 cpu, u32 res, then
	 * IDENTIFIER when the sample type has it */
	size_t sid_cpu = aux->pos + aux->size - 8 - ((pd.sample_type & (1u << 16)) ? 8 : 0);
	CHECK(parse_with(b, len, sid_cpu, 0x80000000u, 4) == -1);
	CHECK(strstr(err, "is for CPU 2147483648, out of range") != NULL);
	/* AUX offset + size past 2^62 */
	CHECK(parse_with(b, len, aux->pos + 8, ~0ull - 16, 8) == -1);
	CHECK(strstr(err, "past 2^62") != NULL);
	/* AUXTRACE: cpu 70000 refused, -1 (per-thread) taken; offset huge */
	CHECK(parse_with(b, len, at->pos + 40, 70000, 4) == -1);
	CHECK(strstr(err, "CPU 70000") != NULL);
	CHECK(parse_with(b, len, at->pos + 40, 0xffffffffu, 4) == 0);
	CHECK(parse_with(b, len, at->pos + 16, 1ull << 63, 8) == -1);

	/* An AUX record claiming 2^40 bytes the file does not hold: the
	 * source opens without a ring that large, and shows the bytes lost. */
	char path[400];
	snprintf(path, sizeof(path), "/tmp/test_etm_perfdata.%d", (int)getpid());
	uint8_t *c = malloc(len);
	memcpy(c, b, len);
	put_le(c + aux->pos + 16, 1ull << 40, 8);
	FILE *f = fopen(path, "wb");
	CHECK(f && fwrite(c, 1, len, f) == len);
	if (f)
		fclose(f);
	struct etm_source *src = etm_perfdata_source_new(path, err, sizeof(err));
	CHECK(src != NULL);
	if (src) {
		struct etm_config cfg;
		struct etm_read out;
		etm_config_init(&cfg);
		etm_read_init(&out);
		CHECK(src->ops->enable(src, 1, &cfg, err, sizeof(err)) == 0);
		CHECK(src->ops->read_new(src, 1, &out, err, sizeof(err)) == 0);
		CHECK(out.overflow && out.bytes_lost >= (1ull << 40));
		CHECK(src->ops->nr_cpus(src) == 8);
		etm_read_free(&out);
		etm_source_free(src);
	}
	unlink(path);
	free(c);
	perfdata_free(&pd);
	free(b);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "%s", check_shared("simpleperf-etm-perfdata"));
	if (!check_shared_present(dir))
		return check_done("test_etm_perfdata");
	test_perf_etm();
	test_unformatted();
	test_missing_aux();
	test_replay_source();
	test_damaged();
	test_absurd_numbers();
	return check_done("test_etm_perfdata");
}
