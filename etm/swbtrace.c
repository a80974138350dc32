/* The software branch recorder's ring: see swbtrace.h. */
#include "etm/swbtrace.h"

#include <stdlib.h>

struct swbtrace *swbtrace_new(uint64_t size, uint64_t start_pc)
{
	struct swbtrace *bt = calloc(1, sizeof *bt);
	if (!bt)
		return NULL;
	size = (size + 4095) & ~(uint64_t)4095;
	bt->cap = (size_t)(size / 16);
	bt->from = calloc(bt->cap, sizeof *bt->from);
	bt->to = calloc(bt->cap, sizeof *bt->to);
	if (!bt->from || !bt->to) {
		swbtrace_free(bt);
		return NULL;
	}
	bt->size = bt->cap * 16;
	bt->start_pc = start_pc;
	return bt;
}

void swbtrace_free(struct swbtrace *bt)
{
	if (!bt)
		return;
	free(bt->from);
	free(bt->to);
	free(bt);
}

void swbtrace_add(struct swbtrace *bt, uint64_t from, uint64_t to)
{
	if (bt->count == bt->cap) {
		/* Drop the oldest: its target starts the oldest range now. */
		size_t oldest = (bt->head + bt->cap - bt->count) % bt->cap;
		bt->start_pc = bt->to[oldest];
		bt->count--;
		/* lost only if not read yet: a reader that keeps up loses nothing */
		if (bt->total - bt->read_total >= bt->cap)
			bt->lost_since_read = true;
	}
	bt->from[bt->head] = from;
	bt->to[bt->head] = to;
	bt->head = (bt->head + 1) % bt->cap;
	bt->count++;
	bt->total++;
}

bool swbtrace_ranges(struct swbtrace *bt, bool since_last, uint64_t pc,
		     struct btrace_range **out, size_t *n)
{
	if (!swbtrace_peek(bt, since_last, pc, out, n))
		return false;
	bt->read_total = bt->total;
	bt->lost_since_read = false;
	return true;
}

bool swbtrace_peek(const struct swbtrace *bt, bool since_last, uint64_t pc,
		   struct btrace_range **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (since_last && bt->lost_since_read)
		return false;
	size_t first = 0;
	if (since_last) {
		uint64_t fresh = bt->total - bt->read_total;
		first = bt->count - (size_t)(fresh < bt->count ? fresh : bt->count);
	}
	size_t want = bt->count - first;
	struct btrace_range *r = calloc(want + 1, sizeof *r);
	if (!r)
		return false;
	size_t base = (bt->head + bt->cap - bt->count) % bt->cap;
	for (size_t i = first; i < bt->count; i++) {
		size_t k = (base + i) % bt->cap;
		size_t prev = (base + i + bt->cap - 1) % bt->cap;
		uint64_t begin = i == 0 ? bt->start_pc : bt->to[prev];
		/* For "delta" the oldest range's begin is unknown to gdb's block
		 * format anyway (it stitches with its last PC). */
		r[i - first] = (struct btrace_range){begin, bt->from[k] + 1, bt->from[k]};
	}
	/* The run since the last branch, up to where the thread stopped. */
	uint64_t tail = bt->count ? bt->to[(bt->head + bt->cap - 1) % bt->cap] : bt->start_pc;
	if (tail <= pc)
		r[want++] = (struct btrace_range){tail, pc + 1, pc};
	*out = r;
	*n = want;
	return true;
}
