/* The software branch recorder's ring: ranges, delta reads, and wrap
 * (oldest records dropped and reported, never silently). */
#include <stdlib.h>

#include "check.h"
#include "server/swbtrace.h"

static void test_ranges(void)
{
	struct swbtrace *bt = swbtrace_new(16 * 8, 0x1000);
	/* Rounded up to a page, as the kernel does for BTS. */
	CHECK(bt && bt->size == 4096 && bt->cap == 256);
	swbtrace_add(bt, 0x1010, 0x2000);   /* ran 0x1000..0x1010, jumped */
	swbtrace_add(bt, 0x2008, 0x1014);   /* ran 0x2000..0x2008, returned */
	struct btrace_range *r;
	size_t n;
	CHECK(swbtrace_ranges(bt, false, 0x1018, &r, &n));
	CHECK(n == 3);
	CHECK(r[0].begin == 0x1000 && r[0].last == 0x1010);
	CHECK(r[1].begin == 0x2000 && r[1].last == 0x2008);
	/* The run since the last branch ends at the stop PC. */
	CHECK(r[2].begin == 0x1014 && r[2].last == 0x1018 && r[2].end == 0x1019);
	free(r);
	/* Nothing new since that read but the stop PC's run. */
	CHECK(swbtrace_ranges(bt, true, 0x1018, &r, &n) && n == 1);
	free(r);
	swbtrace_add(bt, 0x1020, 0x3000);
	CHECK(swbtrace_ranges(bt, true, 0x3004, &r, &n) && n == 2);
	CHECK(r[0].begin == 0x1014 && r[0].last == 0x1020);
	CHECK(r[1].begin == 0x3000 && r[1].last == 0x3004);
	free(r);
	swbtrace_free(bt);
}

static void test_wrap(void)
{
	struct swbtrace *bt = swbtrace_new(4096, 0x100);
	uint64_t records = bt->cap + 6;
	for (uint64_t i = 0; i < records; i++)
		swbtrace_add(bt, 0x100000 + i * 0x10, 0x200000 + i * 0x10);
	CHECK(bt->count == bt->cap && bt->total == records);
	struct btrace_range *r;
	size_t n;
	uint64_t pc = 0x200000 + (records - 1) * 0x10 + 2;
	/* A delta read after a wrap fails: gdb must re-read everything. */
	CHECK(!swbtrace_ranges(bt, true, pc, &r, &n));
	CHECK(swbtrace_ranges(bt, false, pc, &r, &n) && n == bt->cap + 1);
	/* The oldest kept range starts where the last dropped branch went. */
	CHECK(r[0].begin == 0x200000 + 5 * 0x10 && r[0].last == 0x100000 + 6 * 0x10);
	CHECK(r[bt->cap - 1].last == 0x100000 + (records - 1) * 0x10);
	CHECK(r[bt->cap].last == pc);
	free(r);
	CHECK(swbtrace_ranges(bt, true, pc, &r, &n) && n == 1);
	free(r);
	swbtrace_free(bt);
}

int main(void)
{
	test_ranges();
	test_wrap();
	return check_done("test_server_swbtrace");
}
