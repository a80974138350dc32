/* Software branch recording: a traced thread is single-stepped and every
 * step that does not land on the next instruction is a taken branch. It
 * serves gdb's "bts" format where no trace hardware exists. The records
 * live in a ring of the size gdb asked for; when it wraps, the oldest go
 * and the next read says so (never silently). */
#ifndef ETM_SWBTRACE_H
#define ETM_SWBTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "etm/ranges.h"

struct swbtrace {
	uint64_t *from, *to;    /* ring of branch records */
	size_t cap, head, count;
	uint64_t start_pc;      /* first instruction of the oldest range */
	uint64_t total;         /* records ever added */
	uint64_t read_total;    /* TOTAL at the last read (for "delta") */
	bool lost_since_read;   /* records dropped since the last read */
	uint64_t size;          /* bytes, as reported in btrace-conf */
	uint64_t steps;         /* instructions stepped, for statistics */
	uint64_t runs;          /* runs to a temporary breakpoint (fast path) */
	uint64_t emulated;      /* branches worked out without a step */
};

/* SIZE bytes of buffer (16 bytes a record), rounded up to whole pages as
 * the kernel does for a BTS buffer; bt->size tells what was obtained. */
struct swbtrace *swbtrace_new(uint64_t size, uint64_t start_pc);
void swbtrace_free(struct swbtrace *bt);
void swbtrace_add(struct swbtrace *bt, uint64_t from, uint64_t to);

/* Ranges since the start of the buffer (SINCE_LAST false) or since the
 * last read (true), ending with the run from the last branch's target up
 * to PC, where the thread stopped; malloc'd into *OUT. Returns false when
 * SINCE_LAST was asked but records were lost since the last read (gdb then
 * re-reads everything). Marks the buffer as read. */
bool swbtrace_ranges(struct swbtrace *bt, bool since_last, uint64_t pc,
		     struct btrace_range **out, size_t *n);
/* The same ranges without marking them read (a second reader: the call
 * classification must not take gdb's next delta away). */
bool swbtrace_peek(const struct swbtrace *bt, bool since_last, uint64_t pc,
		   struct btrace_range **out, size_t *n);

#endif
