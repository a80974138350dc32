/* The perf cs_etm source on this machine's real /sys. Without a cs_etm
 * PMU it says so in one line and checks only that the source refuses
 * cleanly; the code below perf_event_open is covered by test_etm_sysfs
 * (fixture trees), test_etm_auxring and test_etm_perfdata (recorded data).
 * With a PMU it traces a busy loop of this process and expects trace. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "etm/perf.h"
#include "testsuite/unit/check.h"

static volatile unsigned sink_var;

static void busy(void)
{
	for (unsigned i = 0; i < 2000000; i++)
		sink_var += i & 3 ? i : 1;
}

int main(void)
{
	char err[ETM_ERR_LEN];
	struct stat st;
	if (stat("/sys/bus/event_source/devices/cs_etm", &st) != 0) {
		printf("test_etm_perf_live: SKIPPED: no cs_etm PMU on this machine (/sys/bus/event_source/devices/cs_etm absent)\n");
		struct etm_source *src = etm_perf_source_new("/sys", "/proc", err, sizeof(err));
		CHECK(src == NULL);
		CHECK(strstr(err, "no CoreSight ETM perf PMU") != NULL);
		return check_done("test_etm_perf_live");
	}
	struct etm_source *src = etm_perf_source_new("/sys", "/proc", err, sizeof(err));
	CHECK(src != NULL);
	if (!src) {
		fprintf(stderr, "%s\n", err);
		return check_done("test_etm_perf_live");
	}
	struct etm_config cfg;
	etm_config_init(&cfg);
	cfg.buffer_size = 64 * 1024;
	int tid = (int)gettid();
	int rc = src->ops->enable(src, tid, &cfg, err, sizeof(err));
	CHECK(rc == 0);
	if (rc == 0) {
		busy();
		struct etm_read out;
		etm_read_init(&out);
		CHECK(src->ops->read_new(src, tid, &out, err, sizeof(err)) == 0);
		printf("test_etm_perf_live: %zu bytes in %zu chunks, overflow %d\n",
		       out.data.len, out.n_chunks, out.overflow);
		CHECK(out.data.len > 0);
		etm_read_free(&out);
		CHECK(src->ops->disable(src, tid, err, sizeof(err)) == 0);
	} else {
		fprintf(stderr, "enable: %s\n", err);
	}
	etm_source_free(src);
	return check_done("test_etm_perf_live");
}
