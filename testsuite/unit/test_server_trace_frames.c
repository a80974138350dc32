/* The trace buffer (server/trace_frames.c): gdbserver's frame layout,
 * memory and variable lookups, linear and circular limits, raw reads. */
#include <stdlib.h>
#include <string.h>

#include "common/le.h"
#include "server/trace_frames.h"
#include "testsuite/unit/check.h"

#define REGSIZE 16

static const struct trace_frame *add_frame(struct trace_buffer *b, struct trace_frame_builder *f,
					   unsigned tpnum, uint64_t addr, const char *mem, bool *ok)
{
	uint8_t regs[REGSIZE];
	for (int i = 0; i < REGSIZE; i++)
		regs[i] = (uint8_t)(tpnum + i);
	tfb_begin(f, b, tpnum);
	tfb_regs(f, regs, REGSIZE);
	tfb_mem(f, addr, (const uint8_t *)mem, strlen(mem));
	tfb_var(f, 7, -5);
	*ok = tbuf_commit(b, f);
	return tbuf_frame(b, tbuf_count(b) - 1);
}

static void test_layout(void)
{
	struct trace_buffer b;
	struct trace_frame_builder f = {0};
	bool ok;
	tbuf_init(&b, 4096, REGSIZE);
	const struct trace_frame *fr = add_frame(&b, &f, 3, 0x1000, "abcd", &ok);
	CHECK(ok);
	/* 6 + (1 + 16) + (1 + 8 + 2 + 4) + (1 + 4 + 8) */
	CHECK(fr && fr->len == 51);
	CHECK(le16(fr->data) == 3);
	CHECK(le32(fr->data + 2) == 51 - TFRAME_HEADER);
	CHECK(fr->data[6] == 'R' && fr->data[7] == 3);
	CHECK(fr->data[23] == 'M' && le64(fr->data + 24) == 0x1000 && le16(fr->data + 32) == 4);
	CHECK(!memcmp(fr->data + 34, "abcd", 4));
	CHECK(fr->data[38] == 'V' && le32(fr->data + 39) == 7 && (int64_t)le64(fr->data + 43) == -5);
	CHECK(tframe_tpnum(fr) == 3);
	CHECK(tframe_regs(fr, REGSIZE) == fr->data + 7);
	CHECK(b.used == 51 && tbuf_free_bytes(&b) == 4096 - 51 && b.created == 1);

	uint8_t out[8];
	CHECK(tframe_read_mem(fr, REGSIZE, 0x1001, out, 8) == 3 && !memcmp(out, "bcd", 3));
	CHECK(tframe_read_mem(fr, REGSIZE, 0x1000, out, 2) == 2 && !memcmp(out, "ab", 2));
	CHECK(tframe_read_mem(fr, REGSIZE, 0x1004, out, 8) == 0);
	CHECK(tframe_read_mem(fr, REGSIZE, 0xfff, out, 8) == 0);
	int64_t v = 0;
	CHECK(tframe_var(fr, REGSIZE, 7, &v) && v == -5);
	CHECK(!tframe_var(fr, REGSIZE, 8, &v));
	tfb_free(&f);
	tbuf_free(&b);
}

/* Blocks longer than 65535 bytes are split; the last value of a variable
 * collected twice counts. */
static void test_long_memory_and_last_var(void)
{
	struct trace_buffer b;
	struct trace_frame_builder f = {0};
	tbuf_init(&b, 1 << 20, REGSIZE);
	uint8_t *big = malloc(70000);
	for (int i = 0; i < 70000; i++)
		big[i] = (uint8_t)(i * 7);
	tfb_begin(&f, &b, 1);
	tfb_mem(&f, 0x10000, big, 70000);
	tfb_var(&f, 2, 10);
	tfb_var(&f, 2, 11);
	CHECK(tbuf_commit(&b, &f));
	const struct trace_frame *fr = tbuf_frame(&b, 0);
	uint8_t out[100];
	CHECK(tframe_read_mem(fr, REGSIZE, 0x10000 + 65530, out, 100) == 5);
	CHECK(!memcmp(out, big + 65530, 5));
	CHECK(tframe_read_mem(fr, REGSIZE, 0x10000 + 65535, out, 100) == 100);
	CHECK(!memcmp(out, big + 65535, 100));
	int64_t v;
	CHECK(tframe_var(fr, REGSIZE, 2, &v) && v == 11);
	CHECK(tframe_regs(fr, REGSIZE) == NULL);
	free(big);
	tfb_free(&f);
	tbuf_free(&b);
}

static void test_linear_and_circular(void)
{
	struct trace_buffer b;
	struct trace_frame_builder f = {0};
	bool ok;
	tbuf_init(&b, 120, REGSIZE);   /* two frames of 51 */
	add_frame(&b, &f, 1, 0x10, "aaaa", &ok);
	CHECK(ok);
	add_frame(&b, &f, 2, 0x20, "bbbb", &ok);
	CHECK(ok);
	add_frame(&b, &f, 3, 0x30, "cccc", &ok);
	CHECK(!ok);   /* linear: full */
	CHECK(tbuf_count(&b) == 2 && b.used == 102 && b.created == 2);
	b.circular = true;
	add_frame(&b, &f, 3, 0x30, "cccc", &ok);
	CHECK(ok);
	CHECK(tbuf_count(&b) == 2 && b.created == 3);
	CHECK(tframe_tpnum(tbuf_frame(&b, 0)) == 2 && tframe_tpnum(tbuf_frame(&b, 1)) == 3);
	CHECK(tbuf_frame(&b, 2) == NULL);
	/* a frame larger than the whole buffer: never held, nothing dropped */
	uint8_t big[200] = {0};
	tfb_begin(&f, &b, 4);
	tfb_mem(&f, 0, big, sizeof big);
	CHECK(f.overflow);
	CHECK(!tbuf_commit(&b, &f));
	CHECK(tbuf_count(&b) == 2);
	/* many frames through a small circular buffer: bounded, in order */
	for (unsigned i = 0; i < 10000; i++)
		add_frame(&b, &f, 5 + i % 100, i, "dddd", &ok);
	CHECK(ok && tbuf_count(&b) == 2 && b.used <= b.size);
	CHECK(tframe_tpnum(tbuf_frame(&b, 1)) == 5 + 9999 % 100);
	tbuf_clear(&b);
	CHECK(tbuf_count(&b) == 0 && b.used == 0 && b.created == 0);
	tfb_free(&f);
	tbuf_free(&b);
}

static void test_raw_read(void)
{
	struct trace_buffer b;
	struct trace_frame_builder f = {0};
	bool ok;
	tbuf_init(&b, 4096, REGSIZE);
	uint8_t all[4096];
	size_t total = 0;
	for (unsigned i = 1; i <= 5; i++) {
		const struct trace_frame *fr = add_frame(&b, &f, i, i * 0x100, "xyz", &ok);
		memcpy(all + total, fr->data, fr->len);
		total += fr->len;
	}
	uint8_t out[4096];
	CHECK(tbuf_raw_read(&b, 0, out, sizeof out) == (ssize_t)total && !memcmp(out, all, total));
	/* in small pieces, as tsave reads, and out of order */
	size_t at = 0;
	ssize_t got;
	while ((got = tbuf_raw_read(&b, at, out + at, 7)) > 0)
		at += (size_t)got;
	CHECK(at == total && !memcmp(out, all, total));
	CHECK(tbuf_raw_read(&b, 60, out, 10) == 10 && !memcmp(out, all + 60, 10));
	CHECK(tbuf_raw_read(&b, 3, out, 10) == 10 && !memcmp(out, all + 3, 10));
	CHECK(tbuf_raw_read(&b, total, out, 10) == 0);
	CHECK(tbuf_raw_read(&b, total + 1, out, 10) == -1);
	CHECK(tbuf_raw_read(&b, UINT64_MAX, out, 10) == -1);
	tfb_free(&f);
	tbuf_free(&b);
}

static void count_block(void *ctx, char type, uint64_t addr, size_t len)
{
	(void)addr; (void)len;
	int *n = ctx;
	n[type == 'R' ? 0 : type == 'M' ? 1 : 2]++;
}

/* A frame whose blocks run past its end is walked up to there, no
 * further (frames are ours, but a bad one must not read past it). */
static void test_malformed_frame(void)
{
	uint8_t data[] = {1, 0, 9, 0, 0, 0, 'M', 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	struct trace_frame fr = {data, sizeof data};
	uint8_t out[4];
	int64_t v;
	int n[3] = {0, 0, 0};
	CHECK(tframe_read_mem(&fr, REGSIZE, 0, out, 4) == 0);
	CHECK(!tframe_var(&fr, REGSIZE, 0, &v));
	CHECK(!tframe_walk(&fr, REGSIZE, count_block, n));
	CHECK(n[1] == 0);
	uint8_t data2[] = {1, 0, 2, 0, 0, 0, 'Q', 0};
	struct trace_frame fr2 = {data2, sizeof data2};
	CHECK(!tframe_walk(&fr2, REGSIZE, count_block, n));
	CHECK(tframe_regs(&fr2, REGSIZE) == NULL);
}

int main(void)
{
	test_layout();
	test_long_memory_and_last_var();
	test_linear_and_circular();
	test_raw_read();
	test_malformed_frame();
	return check_done("test_server_trace_frames");
}
