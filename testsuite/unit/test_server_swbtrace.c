/* The software branch recorder's ring: ranges, delta reads, and wrap
 * (oldest records dropped and reported, never silently). */
#include <stdlib.h>

#include "check.h"
#include "server/swbtrace.h"

static void test_ranges(void)
{
	struct swbtrace *bt = swbtrace_new(16 * 8, 0x1000);
	CHECK(bt && bt->cap == 8);
	swbtrace_add(bt, 0x1010, 0x2000);   /* ran 0x1000..0x1010, jumped */
	swbtrace_add(bt, 0x2008, 0x1014);   /* ran 0x2000..0x2008, returned */
	struct btrace_range *r;
	size_t n;
	CHECK(swbtrace_ranges(bt, false, &r, &n));
	CHECK(n == 2);
	CHECK(r[0].begin == 0x1000 && r[0].last == 0x1010);
	CHECK(r[1].begin == 0x2000 && r[1].last == 0x2008);
	free(r);
	/* Nothing new since that read. */
	CHECK(swbtrace_ranges(bt, true, &r, &n) && n == 0);
	free(r);
	swbtrace_add(bt, 0x1020, 0x3000);
	CHECK(swbtrace_ranges(bt, true, &r, &n) && n == 1);
	CHECK(r[0].begin == 0x1014 && r[0].last == 0x1020);
	free(r);
	swbtrace_free(bt);
}

static void test_wrap(void)
{
	struct swbtrace *bt = swbtrace_new(16 * 4, 0x100);
	for (uint64_t i = 0; i < 10; i++)
		swbtrace_add(bt, 0x1000 + i * 0x10, 0x2000 + i * 0x10);
	CHECK(bt->count == 4 && bt->total == 10);
	struct btrace_range *r;
	size_t n;
	/* A delta read after a wrap fails: gdb must re-read everything. */
	CHECK(!swbtrace_ranges(bt, true, &r, &n));
	CHECK(swbtrace_ranges(bt, false, &r, &n) && n == 4);
	/* The oldest kept range starts where the last dropped branch went. */
	CHECK(r[0].begin == 0x2000 + 5 * 0x10 && r[0].last == 0x1000 + 6 * 0x10);
	CHECK(r[3].last == 0x1000 + 9 * 0x10);
	free(r);
	CHECK(swbtrace_ranges(bt, true, &r, &n) && n == 0);
	free(r);
	swbtrace_free(bt);
}

int main(void)
{
	test_ranges();
	test_wrap();
	return check_done("test_server_swbtrace");
}
