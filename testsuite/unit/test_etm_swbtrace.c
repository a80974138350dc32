/* The software branch recorder's ring: ranges, delta reads, and wrap
 * (oldest records dropped and reported, never silently). */
#include <stdlib.h>

#include "check.h"
#include "etm/swbtrace.h"

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

/* The ring wraps over records already read: a delta read (a client
 * draining while the thread runs) gets exactly the fresh ones. */
static void test_wrap_read(void)
{
	struct swbtrace *bt = swbtrace_new(4096, 0x100);
	struct btrace_range *r;
	size_t n;
	uint64_t i = 0;
	for (int round = 0; round < 5; round++) {
		uint64_t upto = i + bt->cap - 1;    /* fewer than the ring holds */
		for (; i < upto; i++)
			swbtrace_add(bt, 0x100000 + i * 0x10, 0x200000 + i * 0x10);
		uint64_t pc = 0x200000 + (i - 1) * 0x10 + 4;
		CHECK(swbtrace_ranges(bt, true, pc, &r, &n));
		CHECK(n == bt->cap);   /* the fresh records and the run to PC */
		/* the first fresh range begins where the branch before it went */
		uint64_t first = upto - (bt->cap - 1);
		CHECK(r[0].last == 0x100000 + first * 0x10);
		CHECK(round == 0 ? r[0].begin == 0x100 : r[0].begin == 0x200000 + (first - 1) * 0x10);
		CHECK(r[n - 2].last == 0x100000 + (i - 1) * 0x10 && r[n - 1].last == pc);
		free(r);
	}
	CHECK(bt->total == i && bt->count == bt->cap);
	/* one more than the ring holds since the last read: that one is lost */
	for (uint64_t upto = i + bt->cap + 1; i < upto; i++)
		swbtrace_add(bt, 0x100000 + i * 0x10, 0x200000 + i * 0x10);
	CHECK(!swbtrace_ranges(bt, true, 0x200000 + (i - 1) * 0x10, &r, &n));
	swbtrace_free(bt);
}

int main(void)
{
	test_ranges();
	test_wrap();
	test_wrap_read();
	return check_done("test_etm_swbtrace");
}
