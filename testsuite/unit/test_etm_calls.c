/* The qXfer:btrace-calls document (etm/calls.c): blocks exactly as
 * qXfer:btrace:read serves them (checked against btrace_xml_blocks), the
 * instruction counts gdb numbers from, the nesting levels and the events
 * by offset; the PC's block; hostile input (empty, zero-length ranges,
 * negative levels, a million ranges). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "common/buf.h"
#include "etm/btrace_xml.h"
#include "etm/calls.h"

#define A32 ETM_ISA_ARM
#define T32 ETM_ISA_THUMB
#define TAKEN ETM_RANGE_TAKEN

static struct trace_range rng(uint64_t begin, uint64_t end, uint32_t n, int cls, int flags, int isa)
{
	return (struct trace_range){.begin = begin, .end = end, .ninsns = n, .last_size = isa == T32 ? 2 : 4,
				    .cls = (uint8_t)cls, .flags = (uint8_t)flags, .isa = (uint8_t)isa};
}

static char *doc_of(const struct trace_range *r, size_t n, uint64_t pc, bool merge, calls_count_fn fn)
{
	struct buf b = BUF_INIT;
	calls_doc(&b, r, n, pc, merge, fn, NULL);
	buf_putc(&b, '\0');
	return buf_steal(&b);
}

/* The <block>s btrace.c would serve for R (contiguous ranges merged, as
 * its blocks_doc does), oldest first, as "begin last" lines. */
static char *served_blocks(const struct trace_range *r, size_t n, uint64_t pc)
{
	struct btrace_range *out = calloc(n + 1, sizeof *out);
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (m && out[m - 1].end == r[i].begin) {
			out[m - 1].end = r[i].end;
			out[m - 1].last = trace_range_last(&r[i]);
			continue;
		}
		out[m++] = (struct btrace_range){r[i].begin, r[i].end, trace_range_last(&r[i])};
	}
	struct buf xml = BUF_INIT, lines = BUF_INIT;
	btrace_xml_blocks(&xml, out, m, pc, BTRACE_READ_ALL);
	buf_putc(&xml, '\0');
	/* newest first in the XML: collect, then reverse */
	size_t cap = 16, k = 0;
	char **each = malloc(cap * sizeof *each);
	/* a plain scan: a sanitizer's strstr measures the whole rest of the
	 * string at every call (quadratic over a million blocks) */
	static const char tag[] = "<block begin=\"0x";
	const char *end = xml.data + xml.len - 1;
	for (const char *p = xml.data; p + sizeof tag - 1 < end; p++) {
		if (*p != '<' || memcmp(p, tag, sizeof tag - 1) != 0)
			continue;
		/* strtoull, not sscanf: glibc's sscanf measures the whole rest
		 * of the string each call (quadratic over a million blocks) */
		char *q;
		unsigned long long b = strtoull(p + 16, &q, 16), e;
		if (strncmp(q, "\" end=\"0x", 9) != 0)
			break;
		e = strtoull(q + 9, NULL, 16);
		if (k == cap)
			each = realloc(each, (cap *= 2) * sizeof *each);
		each[k] = malloc(48);
		snprintf(each[k++], 48, "%llx %llx", b, e);
	}
	while (k--) {
		buf_printf(&lines, "%s\n", each[k]);
		free(each[k]);
	}
	buf_putc(&lines, '\0');
	free(each);
	free(out);
	buf_free(&xml);
	return buf_steal(&lines);
}

/* The "begin last" of each block line of DOC, and the counts' sum. */
static char *doc_blocks(const char *doc, uint64_t *sum, unsigned long long *total)
{
	struct buf lines = BUF_INIT;
	const char *p = strchr(doc, '\n');
	unsigned long long nb;
	*sum = 0;
	sscanf(doc, "btrace-calls 1 %llx %llx", total, &nb);
	while (p && p[1]) {
		char *q;
		unsigned long long b = strtoull(p + 1, &q, 16), l = strtoull(q, &q, 16), c = strtoull(q, &q, 16);
		if (*q != ' ')
			break;
		buf_printf(&lines, "%llx %llx\n", b, l);
		*sum += c;
		p = strchr(p + 1, '\n');
	}
	buf_putc(&lines, '\0');
	return buf_steal(&lines);
}

static void same_blocks_as_served(const struct trace_range *r, size_t n, uint64_t pc)
{
	char *doc = doc_of(r, n, pc, true, NULL), *served = served_blocks(r, n, pc);
	uint64_t sum;
	unsigned long long total = 0;
	char *mine = doc_blocks(doc, &sum, &total);
	CHECK_STR(mine, served);
	CHECK(sum == total);
	free(doc);
	free(served);
	free(mine);
}

static uint64_t thumb_halfwords(void *ctx, const struct trace_range *r, uint64_t addr)
{
	(void)ctx;
	return (addr - r->begin) / 2 + 1;   /* every instruction 2 bytes in these tests */
}

int main(void)
{
	/* nothing traced: the PC alone, as gdb's ALL read gets it */
	char *d = doc_of(NULL, 0, 0x4000, true, NULL);
	CHECK_STR(d, "btrace-calls 1 1 1\n4000 4000 1 0\n");
	free(d);

	/* call, return; the PC outside the newest range: a block of its own */
	struct trace_range r1[] = {
		rng(0x1000, 0x1010, 4, ETM_INSN_CALL, TAKEN, A32),
		rng(0x2000, 0x2008, 2, ETM_INSN_RETURN, TAKEN, A32),
		rng(0x1010, 0x1020, 4, ETM_INSN_JUMP, TAKEN, A32),
	};
	d = doc_of(r1, 3, 0x3000, true, NULL);
	CHECK_STR(d, "btrace-calls 1 b 4\n1000 100c 4 0 3:c\n2000 2004 2 1 1:r\n1010 101c 4 0\n3000 3000 1 0\n");
	free(d);
	same_blocks_as_served(r1, 3, 0x3000);

	/* contiguous ranges merge (a not-taken conditional call is no call;
	 * a call to the next instruction is, inside the merged block) */
	struct trace_range r2[] = {
		rng(0x1000, 0x1008, 2, ETM_INSN_CALL, 0, A32),
		rng(0x1008, 0x1010, 2, ETM_INSN_CALL, TAKEN, A32),
		rng(0x1010, 0x1018, 2, ETM_INSN_RETURN, TAKEN, A32),
		rng(0x100c, 0x1014, 2, ETM_INSN_OTHER, 0, A32),
	};
	d = doc_of(r2, 4, 0x1010, true, NULL);
	/* PC 0x1010 is in the newest range [0x100c, 0x1014): its block ends there */
	CHECK_STR(d, "btrace-calls 1 8 2\n1000 1014 6 0 3:c 5:r\n100c 1010 2 0\n");
	free(d);
	same_blocks_as_served(r2, 4, 0x1010);
	/* unmerged (recorded blocks): one line each */
	d = doc_of(r2, 4, 0x1010, false, NULL);
	CHECK_STR(d, "btrace-calls 1 8 4\n1000 1004 2 0\n1008 100c 2 0 1:c\n1010 1014 2 1 1:r\n100c 1010 2 0\n");
	free(d);

	/* the PC inside the newest block: what is at and after it has not
	 * happened (its call dropped); Thumb counted by the callback */
	struct trace_range r3[] = {
		rng(0x8000, 0x8010, 8, ETM_INSN_CALL, TAKEN, T32),
	};
	d = doc_of(r3, 1, 0x8006, true, thumb_halfwords);
	CHECK_STR(d, "btrace-calls 1 4 1\n8000 8006 4 0\n");
	free(d);
	d = doc_of(r3, 1, 0x800e, true, thumb_halfwords);   /* at the call itself */
	CHECK_STR(d, "btrace-calls 1 8 1\n8000 800e 8 0\n");
	free(d);
	same_blocks_as_served(r3, 1, 0x8006);

	/* gaps keep the level; an exception goes one deeper, its return up;
	 * returns above where the trace began give negative levels */
	struct trace_range r4[] = {
		rng(0x1000, 0x1008, 2, ETM_INSN_RETURN, TAKEN, A32),
		rng(0x5000, 0x5008, 2, ETM_INSN_OTHER, ETM_RANGE_GAP_BEFORE, A32),
		rng(0x9000, 0x9008, 2, ETM_INSN_EXCEPTION_RETURN, ETM_RANGE_EXC_BEFORE | TAKEN, A32),
		rng(0x5008, 0x5010, 2, ETM_INSN_OTHER, 0, A32),
	};
	d = doc_of(r4, 4, 0x500c, true, NULL);
	CHECK_STR(d, "btrace-calls 1 8 4\n1000 1004 2 0 1:r\n5000 5004 2 -1 0:g\n"
		  "9000 9004 2 0 0:x 1:e\n5008 500c 2 -1\n");
	free(d);

	/* hostile: zero-instruction ranges carry no event; the newest range
	 * ending before it begins is not the PC's */
	struct trace_range r5[] = {
		rng(0x1000, 0x1000, 0, ETM_INSN_CALL, TAKEN, A32),
		rng(0x2000, 0x2004, 1, ETM_INSN_OTHER, 0, A32),
	};
	d = doc_of(r5, 2, 0, true, NULL);
	CHECK(strstr(d, ":c") == NULL);
	CHECK(strstr(d, "\n0 0 1 0\n") != NULL);
	free(d);

	/* a million ranges: blocks as served, counts summing to the header */
	size_t big = 1000000;
	struct trace_range *rb = calloc(big, sizeof *rb);
	for (size_t i = 0; i < big; i++) {
		int cls = i % 3 == 0 ? ETM_INSN_CALL : i % 3 == 1 ? ETM_INSN_RETURN : ETM_INSN_JUMP;
		rb[i] = rng(0x10000 + (i % 7) * 0x100, 0x10000 + (i % 7) * 0x100 + 0x20, 8, cls, TAKEN, A32);
	}
	same_blocks_as_served(rb, big, 0x1);
	d = doc_of(rb, big, 0x1, true, NULL);
	unsigned long long total = 0, nb = 0;
	CHECK(sscanf(d, "btrace-calls 1 %llx %llx", &total, &nb) == 2);
	CHECK(total == big * 8 + 1);
	CHECK(nb == big + 1);
	/* calls and returns alternate: levels stay within 0..1 */
	CHECK(strstr(d, " 2\n") == NULL && strstr(d, " -1") == NULL);
	free(d);
	free(rb);
	return check_done("test_etm_calls");
}
