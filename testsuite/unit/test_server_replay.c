/* server/replay.c and server/tracedec.c on the real Cortex-R5 captures:
 * the live-decode path (tdec_decode: trace unit registers + a memory
 * callback, as used for perf trace of a running process) must give the
 * same ranges as the snapshot path the replay uses (etm_snapshot_decoder
 * with the ELF), range by range. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/replay.h"
#include "server/tracedec.h"
#include "testsuite/unit/check.h"

#define R5 "/work/shared/testdata/etmv3-cortex-r5/"

static uint32_t mem_from_replay(void *ctx, uint64_t addr, uint32_t len, uint8_t *buf)
{
	(void)ctx;
	return (uint32_t)replay_read_memory(addr, buf, len);
}

static void same_ranges_both_paths(const char *capture)
{
	char err[512];
	CHECK(replay_open(capture, err, sizeof err) == 0);
	if (!replay_active()) {
		fprintf(stderr, "%s: %s\n", capture, err);
		return;
	}
	const struct trace_ranges *want = replay_ranges();
	size_t len;
	bool formatted;
	const uint8_t *raw = replay_raw(&len, &formatted);
	CHECK(len == 65536 && formatted);
	struct trace_ranges got = {0};
	int rc = tdec_decode(replay_unit(), 1, formatted, raw, len, mem_from_replay, NULL, &got, err,
			     sizeof err);
	CHECK(rc == 0);
	if (rc)
		fprintf(stderr, "%s: tdec_decode: %s\n", capture, err);
	CHECK(want->n > 1000 && got.n == want->n);
	size_t diff = 0;
	for (size_t i = 0; i < got.n && i < want->n; i++)
		diff += got.r[i].begin != want->r[i].begin || got.r[i].end != want->r[i].end ||
			got.r[i].cls != want->r[i].cls || got.r[i].isa != want->r[i].isa;
	CHECK(diff == 0);
	CHECK(got.ninsns == want->ninsns);
	/* The thread stands after the last range or on its taken branch. */
	const struct trace_range *last = &want->r[want->n - 1];
	CHECK(replay_pc() == last->end || replay_pc() == trace_range_last(last));
	/* Memory at every traced instruction is recorded. */
	size_t unreadable = 0;
	for (size_t i = 0; i < want->n; i++) {
		uint8_t b[4];
		unreadable += replay_read_memory(want->r[i].begin, b, 2) != 2;
	}
	CHECK(unreadable == 0);
	CHECK(replay_symbol(want->r[want->n - 1].begin) != NULL);
	trace_ranges_free(&got);
	replay_close();
	CHECK(!replay_active());
}

int main(void)
{
	char err[512];
	same_ranges_both_paths(R5 "zephyr");
	same_ranges_both_paths(R5 "threadx");

	CHECK(replay_open(R5 "no-such-capture", err, sizeof err) < 0 && strstr(err, "no-such-capture"));
	CHECK(!replay_active());

	/* Garbage through the live path: no range, no crash. */
	struct tdec_unit unit = {.protocol = TDEC_ETMV4, .aa64 = true, .trcidr = {0x28000ea1, 0x4100f403, 0x88},
				 .trctraceidr = 0x10, .trcdevarch = 0x47704a13};
	uint8_t junk[4096];
	srand(7);
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (uint8_t)rand();
	struct trace_ranges tr = {0};
	CHECK(tdec_decode(&unit, 1, true, junk, sizeof junk, mem_from_replay, NULL, &tr, err, sizeof err) == 0);
	CHECK(tr.n == 0);
	trace_ranges_free(&tr);
	CHECK(tdec_decode(&unit, 0, true, junk, sizeof junk, NULL, NULL, &tr, err, sizeof err) < 0 &&
	      strstr(err, "no trace unit"));
	return check_done("test_server_replay");
}
