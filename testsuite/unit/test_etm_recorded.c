/* etm/recorded.c and etm/ranges.c on the real Cortex-R5 captures:
 * the live-decode path (etm_ranges_decode: trace unit registers + a memory
 * callback, as used for perf trace of a running process) must give the
 * same ranges as the snapshot path the replay uses (etm_snapshot_decoder
 * with the ELF), range by range. And the window every decoded trace is
 * kept in (struct trace_ranges): what it drops, what delta reads see. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etm/recorded.h"
#include "testsuite/unit/check.h"


static uint32_t mem_from_replay(void *ctx, uint64_t addr, uint32_t len, uint8_t *buf)
{
	return ctx ? (uint32_t)etm_recorded_read_memory(ctx, addr, buf, len) : 0;
}

static void same_ranges_both_paths(const char *capture)
{
	char err[512];
	struct etm_recorded *rec = etm_recorded_open(capture, err, sizeof err);
	CHECK(rec != NULL);
	if (!rec) {
		fprintf(stderr, "%s: %s\n", capture, err);
		return;
	}
	/* The start-up window (gdb's default 64 KiB) holds the whole ETB. */
	const struct trace_ranges *want = etm_recorded_window(rec, ETM_RECORDED_FIRST_WINDOW, err, sizeof err);
	CHECK(want && want->seq == 0 && want->n == want->total_ranges);
	bool formatted;
	uint64_t len = etm_recorded_raw_info(rec, &formatted);
	CHECK(len == 65536 && formatted);
	uint8_t *raw = malloc(len);
	CHECK(etm_recorded_raw_read(rec, 0, raw, len) == 0);
	CHECK(etm_recorded_raw_read(rec, len - 4, raw, 8) < 0);
	struct trace_ranges got;
	trace_ranges_init(&got, 0);
	int rc = etm_ranges_decode(etm_recorded_unit(rec), 1, formatted, raw, len, mem_from_replay, rec, &got, err,
			     sizeof err);
	CHECK(rc == 0);
	if (rc)
		fprintf(stderr, "%s: etm_ranges_decode: %s\n", capture, err);
	CHECK(want->n > 1000 && got.n == want->n);
	const struct trace_range *w = trace_ranges_first(want), *g = trace_ranges_first(&got);
	size_t diff = 0;
	for (size_t i = 0; i < got.n && i < want->n; i++)
		diff += g[i].begin != w[i].begin || g[i].end != w[i].end ||
			g[i].cls != w[i].cls || g[i].isa != w[i].isa || g[i].pos != w[i].pos;
	CHECK(diff == 0);
	CHECK(got.ninsns == want->ninsns);
	CHECK(w[want->n - 1].pos < len && w[0].pos <= w[want->n - 1].pos);
	/* The thread stands after the last range or on its taken branch. */
	const struct trace_range *last = &w[want->n - 1];
	CHECK(etm_recorded_pc(rec) == last->end || etm_recorded_pc(rec) == trace_range_last(last));
	/* Memory at every traced instruction is recorded. */
	size_t unreadable = 0;
	for (size_t i = 0; i < want->n; i++) {
		uint8_t b[4];
		unreadable += etm_recorded_read_memory(rec, w[i].begin, b, 2) != 2;
	}
	CHECK(unreadable == 0);
	CHECK(etm_recorded_symbol(rec, w[want->n - 1].begin) != NULL);
	/* A smaller window decodes again and keeps the tail of the same
	 * ranges: those from the newest 4 KiB of trace. */
	uint64_t all = want->n;
	const struct trace_ranges *small = etm_recorded_window(rec, 0x1000, err, sizeof err);
	CHECK(small && small->n < all && small->seq + small->n == all);
	CHECK(small && small->total_ranges == all && small->window == 0x1000);
	if (small && small->n) {
		const struct trace_range *s0 = trace_ranges_first(small);
		CHECK(s0[0].pos + 0x1000 >= len && g[small->seq - 1].pos + 0x1000 < len);
		size_t same = 0;
		for (size_t i = 0; i < small->n; i++)
			same += s0[i].begin == g[small->seq + i].begin && s0[i].end == g[small->seq + i].end;
		CHECK(same == small->n);
	}
	free(raw);
	trace_ranges_free(&got);
	/* The capture as a trace source: its one thread, unit and trace. */
	struct etm_source *src = etm_recorded_source(rec);
	int pid, tid;
	uint64_t pc;
	struct etm_cpu_regs regs;
	CHECK(src->ops->thread(src, &pid, &tid, &pc) && tid == ETM_RECORDED_TID && pc == etm_recorded_pc(rec));
	CHECK(src->ops->cpu_regs(src, 0, &regs, err, sizeof err) == 0 && regs.unit == etm_recorded_unit(rec)->unit);
	CHECK(src->ops->cpu_regs(src, 1, &regs, err, sizeof err) < 0);
	CHECK(src->ops->raw_size(src) == len);
	etm_source_free(src);
	etm_recorded_free(rec);
}

static struct trace_range at(uint64_t pos, uint64_t begin)
{
	return (struct trace_range){.begin = begin, .end = begin + 4, .pos = pos, .ninsns = 1,
				    .last_size = 4};
}

/* The window on its own: trace bytes, count limit, delta read pointers. */
static void window_semantics(void)
{
	struct trace_ranges tr;
	trace_ranges_init(&tr, 100);            /* newest 100 bytes, <= 800 ranges */
	CHECK(tr.window == 100 && tr.max_ranges == 100 * ETM_RANGES_PER_BYTE);
	for (uint64_t p = 0; p < 1000; p++) {
		struct trace_range r = at(p, 0x1000 + 4 * p);
		trace_ranges_push(&tr, &r);
	}
	tr.fed = 1000;
	trace_ranges_trim(&tr);
	/* bytes 900..999 kept: 100 ranges, the 900 before dropped */
	CHECK(tr.n == 100 && tr.seq == 900 && tr.total_ranges == 1000);
	CHECK(trace_ranges_first(&tr)[0].pos == 900 && trace_ranges_first(&tr)[99].pos == 999);
	CHECK(tr.ninsns == 100 && tr.total_insns == 1000 && tr.complete_from == 900);
	CHECK(tr.cap <= 2 * 1024);              /* storage follows the window, not the trace */
	/* delta: a reader at 950 gets the last 50; one at 800 lost ranges */
	size_t from;
	CHECK(trace_ranges_since(&tr, 950, &from) && from == 50);
	CHECK(trace_ranges_since(&tr, trace_ranges_end(&tr), &from) && from == tr.n);
	CHECK(!trace_ranges_since(&tr, 800, &from));
	/* many ranges from one byte: the count limit holds */
	for (int i = 0; i < 2000; i++) {
		struct trace_range r = at(1000, 0x9000);
		trace_ranges_push(&tr, &r);
	}
	CHECK(tr.n == tr.max_ranges && tr.seq == 3000 - tr.max_ranges);
	CHECK(tr.complete_from == 1001);        /* byte 1000's ranges are not all held */
	/* reset: nothing held, numbering goes on, an old mark overflows */
	uint64_t end = trace_ranges_end(&tr);
	trace_ranges_reset(&tr);
	CHECK(tr.n == 0 && trace_ranges_end(&tr) == end && tr.total_ranges == 0);
	CHECK(!trace_ranges_since(&tr, end - 1, &from) && trace_ranges_since(&tr, end, &from));
	trace_ranges_free(&tr);
	/* window 0: everything kept */
	trace_ranges_init(&tr, 0);
	for (uint64_t p = 0; p < 5000; p++) {
		struct trace_range r = at(p, p);
		trace_ranges_push(&tr, &r);
	}
	tr.fed = 1u << 30;
	trace_ranges_trim(&tr);
	CHECK(tr.n == 5000 && tr.seq == 0);
	trace_ranges_free(&tr);
}

int main(void)
{
	char err[512];
	window_semantics();
	if (!check_shared_present(check_shared("etmv3-cortex-r5")))
		return check_done("test_etm_recorded");
	same_ranges_both_paths(check_shared("etmv3-cortex-r5/zephyr"));
	same_ranges_both_paths(check_shared("etmv3-cortex-r5/threadx"));

	CHECK(etm_recorded_open(check_shared("etmv3-cortex-r5/no-such-capture"), err, sizeof err) == NULL &&
	      strstr(err, "no-such-capture"));

	/* Garbage through the live path: no range, no crash. */
	struct etm_cpu_regs unit = {.unit = ETM_UNIT_ETMV4, .core_arch = ETM_CORE_V8, .trcidr = {0x28000ea1, 0x4100f403, 0x88},
				 .trctraceidr = 0x10, .trcdevarch = 0x47704a13};
	uint8_t junk[4096];
	srand(7);
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (uint8_t)rand();
	struct trace_ranges tr;
	trace_ranges_init(&tr, 0x10000);
	CHECK(etm_ranges_decode(&unit, 1, true, junk, sizeof junk, mem_from_replay, NULL, &tr, err, sizeof err) == 0);
	CHECK(tr.n == 0);
	trace_ranges_free(&tr);
	CHECK(etm_ranges_decode(&unit, 0, true, junk, sizeof junk, NULL, NULL, &tr, err, sizeof err) < 0 &&
	      strstr(err, "no trace unit"));
	return check_done("test_etm_recorded");
}
