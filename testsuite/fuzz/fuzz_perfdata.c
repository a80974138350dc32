/* libFuzzer harness: perf.data (etm/perfdata.c) as `--etm-perfdata` and
 * cstrace read it — the parser, the replay of each CPU's AUX stream
 * through small rings that wrap, and the trace source the server serves
 * from it. FUZZ_MAX_LEN=32768 (run.sh: the seeds are real files of up to
 * 24 KiB). `make fuzz` runs it. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "etm/perfdata.h"

static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Called once by libFuzzer and by replay_main.c before any input. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	snprintf(path, sizeof path, "/tmp/fuzz_perfdata.%d", (int)getpid());
	return 0;
}

static void replay_each_cpu(const struct perfdata *pd)
{
	for (unsigned i = 0; i < pd->n_cpus; i++) {
		struct auxring ring;
		struct etm_read out;
		char err[256];
		etm_read_init(&out);
		perfdata_replay(pd, pd->cpus[i].cpu, 256, 4096, 1 + i % 3, &ring, &out, err, sizeof err);
		etm_read_free(&out);
	}
}

static void serve(void)
{
	char err[256];
	struct etm_source *src = etm_perfdata_source_new(path, err, sizeof err);
	if (!src)
		return;
	struct etm_config cfg;
	struct etm_read out;
	etm_config_init(&cfg);
	etm_read_init(&out);
	if (src->ops->enable(src, 1, &cfg, err, sizeof err) == 0)
		src->ops->read_new(src, 1, &out, err, sizeof err);
	int n = src->ops->nr_cpus(src);
	if (n > 4096)
		abort();        /* PERFDATA_MAX_CPUS */
	for (int c = 0; c < n; c++) {
		struct etm_cpu_regs r;
		src->ops->cpu_regs(src, c, &r, err, sizeof err);
	}
	struct etm_sink_info sink;
	src->ops->sink(src, &sink);
	etm_read_free(&out);
	etm_source_free(src);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct perfdata pd;
	char err[256];
	if (perfdata_parse(data, size, &pd, err, sizeof err) == 0) {
		replay_each_cpu(&pd);
		perfdata_free(&pd);
	}
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	serve();
	unlink(path);
	return 0;
}
