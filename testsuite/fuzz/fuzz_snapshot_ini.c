/* libFuzzer harness: the snapshot reader (etm/snapshot.c) — ini parsing,
 * the snapshot model, each buffer's decoder set up from it (sources,
 * memory dumps; no trace is decoded, fuzz_trace_decode does that).
 *
 * The input is up to five ini files separated by NUL bytes, written as
 * snapshot.ini, trace.ini, a.ini, b.ini and c.ini into a directory that
 * also holds t.bin (a trace) and m.bin (4 KiB of memory) for them to
 * name. A part is also parsed alone, as any ini. `make fuzz` runs it. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "etm/decode.h"
#include "etm/snapshot.h"

static const char *const names[] = {"snapshot.ini", "trace.ini", "a.ini", "b.ini", "c.ini"};
#define NFILES (sizeof(names) / sizeof(names[0]))
static char dir[64];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void write_file(const char *name, const void *data, size_t len)
{
	char path[128];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* Called once by libFuzzer and by replay_main.c before any input. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	static uint8_t mem[4096], trace[64];
	snprintf(dir, sizeof dir, "/tmp/fuzz_snapshot_ini.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(1);
	}
	for (size_t i = 0; i < sizeof mem; i++)
		mem[i] = (uint8_t)(i * 7);
	memset(trace, 0, sizeof trace);
	write_file("m.bin", mem, sizeof mem);
	write_file("t.bin", trace, sizeof trace);
	return 0;
}

static void quiet(void *ctx, const char *msg)
{
	(void)ctx, (void)msg;
}

static void parse_alone(const uint8_t *text, size_t len)
{
	struct etm_ini ini;
	char err[256];
	if (etm_ini_parse((const char *)text, len, "fuzz.ini", &ini, err, sizeof err) != 0)
		return;
	const struct etm_ini_section *regs = etm_ini_find(&ini, "regs");
	uint32_t v;
	etm_ini_reg(regs, "TRCIDR0", &v);
	etm_ini_reg(regs, "ETMCR", &v);
	etm_ini_get(etm_ini_find(&ini, "device"), "name");
	etm_ini_free(&ini);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t part = 0, start = 0;
	for (size_t i = 0; i <= size && part < NFILES; i++) {
		if (i < size && data[i] != 0)
			continue;
		write_file(names[part], data + start, i - start);
		parse_alone(data + start, i - start);
		part++;
		start = i + 1;
	}
	for (size_t p = part; p < NFILES; p++) {
		char path[128];
		snprintf(path, sizeof path, "%s/%s", dir, names[p]);
		unlink(path);
	}
	char err[512];
	struct etm_snapshot *ss = etm_snapshot_load(dir, err, sizeof err);
	if (!ss)
		return 0;
	for (size_t b = 0; b < ss->nbuffers; b++) {
		bool no_insn;
		struct etm_decoder *dec = etm_snapshot_decoder(ss, b, -1, quiet, NULL, &no_insn, err, sizeof err);
		etm_decoder_free(dec);
		free(etm_snapshot_buffer_path(ss, b));
	}
	etm_snapshot_free(ss);
	return 0;
}
