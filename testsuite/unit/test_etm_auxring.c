/* AUX ring protocol: byte streams written the way the kernel writes them
 * (AUX data, then PERF_RECORD_AUX; heads advanced after) are read through
 * auxring_read, the code etm/perf.c runs on the live mmap. Covers wrap of
 * both rings, records cut at the head, TRUNCATED/PARTIAL/COLLISION, lost
 * records, holes, snapshot overwrite, HW_ID, corrupt streams, the mmap page
 * accessors and address filter strings. */
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>

#include "etm/auxring.h"
#include "etm/perf.h"
#include "testsuite/unit/check.h"

#define ST (PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU)
static char err[ETM_ERR_LEN];

/* Trace bytes: position-dependent so misplaced copies are caught. */
static uint8_t pattern(uint64_t pos)
{
	return (uint8_t)(pos * 7 + (pos >> 8) * 13 + 1);
}

static void put_trace(struct auxring_sim *s, uint64_t len, bool overwrite)
{
	uint8_t *b = malloc(len);
	for (uint64_t i = 0; i < len; i++)
		b[i] = pattern(s->aux_head + i);
	CHECK(auxring_sim_put_aux(s, b, len, overwrite));
	free(b);
}

static void put_aux_record(struct auxring_sim *s, uint64_t off, uint64_t size, uint64_t flags, uint32_t cpu)
{
	uint8_t rec[64];
	size_t n = auxring_make_aux_record(rec, off, size, flags, ST, 100, 101, cpu);
	CHECK(n == 56);
	CHECK(auxring_sim_put_record(s, rec, n));
}

/* Kernel order: data, head, then the record. */
static void kernel_write(struct auxring_sim *s, uint64_t len, uint64_t flags, uint32_t cpu)
{
	uint64_t off = s->aux_head;
	put_trace(s, len, false);
	put_aux_record(s, off, len, flags, cpu);
}

static int read_once(struct auxring *r, struct auxring_sim *s, struct etm_read *out)
{
	struct auxring_view v;
	uint64_t dt, at;
	auxring_sim_view(s, &v);
	int rc = auxring_read(r, &v, out, &dt, &at, err, sizeof(err));
	s->data_tail = dt;
	s->aux_tail = at;
	return rc;
}

/* Check chunk I holds the pattern of AUX positions [from, from+len). */
static bool chunk_is(const struct etm_read *out, size_t i, uint64_t from, uint64_t len)
{
	if (i >= out->n_chunks || out->chunks[i].size != len)
		return false;
	const uint8_t *p = (const uint8_t *)out->data.data + out->chunks[i].offset;
	for (uint64_t k = 0; k < len; k++)
		if (p[k] != pattern(from + k))
			return false;
	return true;
}

static void test_basic_and_wrap(void)
{
	struct auxring_sim s;
	struct auxring r;
	struct etm_read out;
	CHECK(auxring_sim_init(&s, 256, 256) == 0);  /* 4 AUX records fill the record ring */
	auxring_init(&r, ST, true, false);
	etm_read_init(&out);

	kernel_write(&s, 100, 0, 2);
	CHECK(read_once(&r, &s, &out) == 0);
	CHECK(out.n_chunks == 1 && chunk_is(&out, 0, 0, 100));
	CHECK(out.chunks[0].cpu == 2 && !out.chunks[0].raw && !out.chunks[0].gap_before);
	CHECK(!out.overflow && !out.truncated && out.bytes_lost == 0);
	CHECK(s.aux_tail == 100 && s.data_tail == s.data_head);

	/* Several rounds: AUX data and records straddle both ring ends. */
	uint64_t pos = 100;
	for (int round = 0; round < 20; round++) {
		etm_read_reset(&out);
		uint64_t a = 90 + (uint64_t)round * 3, b = 40;
		kernel_write(&s, a, 0, 1);
		kernel_write(&s, b, 0, 3);
		CHECK(read_once(&r, &s, &out) == 0);
		CHECK(out.n_chunks == 2);
		CHECK(chunk_is(&out, 0, pos, a) && chunk_is(&out, 1, pos + a, b));
		CHECK(out.chunks[0].cpu == 1 && out.chunks[1].cpu == 3);
		CHECK(!out.overflow);
		pos += a + b;
	}
	CHECK(s.aux_head > 4 * 256 && s.data_head > 8 * 256);   /* wrapped many times */
	CHECK(r.n_aux_records == 41);

	/* Full mode: the writer cannot pass the reader's tail. */
	CHECK(!auxring_sim_put_aux(&s, "x", 1, false) || s.aux_head - s.aux_tail <= 256);
	etm_read_free(&out);
	auxring_sim_free(&s);
}

static void test_partial_records(void)
{
	struct auxring_sim s;
	struct auxring r;
	struct etm_read out;
	auxring_sim_init(&s, 128, 256);
	auxring_init(&r, ST, true, false);
	etm_read_init(&out);

	kernel_write(&s, 64, 0, 0);
	/* The head as a reader could see it mid-record: first 20 bytes only. */
	struct auxring_view v;
	uint64_t dt, at;
	auxring_sim_view(&s, &v);
	v.data_head = v.data_tail + 20;
	CHECK(auxring_read(&r, &v, &out, &dt, &at, err, sizeof(err)) == 0);
	CHECK(out.n_chunks == 0 && dt == v.data_tail && at == 0);
	/* Header complete but body not: still nothing consumed. */
	v.data_head = v.data_tail + 8;
	CHECK(auxring_read(&r, &v, &out, &dt, &at, err, sizeof(err)) == 0);
	CHECK(out.n_chunks == 0 && dt == v.data_tail);
	CHECK(read_once(&r, &s, &out) == 0);
	CHECK(out.n_chunks == 1 && chunk_is(&out, 0, 0, 64));

	/* Record visible before user_page->aux_head covers its data (the
	 * kernel writes the record first): wait for the head. */
	etm_read_reset(&out);
	uint64_t off = s.aux_head;
	put_trace(&s, 50, false);
	put_aux_record(&s, off, 50, 0, 0);
	auxring_sim_view(&s, &v);
	v.aux_head = off + 10;
	CHECK(auxring_read(&r, &v, &out, &dt, &at, err, sizeof(err)) == 0);
	CHECK(out.n_chunks == 0 && dt == v.data_tail && at == off);
	CHECK(read_once(&r, &s, &out) == 0);
	CHECK(out.n_chunks == 1 && chunk_is(&out, 0, off, 50));
	etm_read_free(&out);
	auxring_sim_free(&s);
}

static void test_flags(void)
{
	struct auxring_sim s;
	struct auxring r;
	struct etm_read out;
	auxring_sim_init(&s, 1024, 1024);
	auxring_init(&r, ST, true, false);
	etm_read_init(&out);

	/* TRUNCATED: data delivered, tracing stopped; next chunk is after a gap. */
	kernel_write(&s, 128, PERF_AUX_FLAG_TRUNCATED, 0);
	kernel_write(&s, 32, 0, 0);
	CHECK(read_once(&r, &s, &out) == 0);
	CHECK(out.n_chunks == 2 && chunk_is(&out, 0, 0, 128) && chunk_is(&out, 1, 128, 32));
	CHECK(out.truncated && out.overflow);
	CHECK(!out.chunks[0].gap_before && out.chunks[1].gap_before);
	CHECK(out.chunks[0].aux_flags == PERF_AUX_FLAG_TRUNCATED);

	/* COLLISION (TRBE) and PARTIAL: overflow, not a stop. */
	static const uint64_t flags[] = { PERF_AUX_FLAG_COLLISION, PERF_AUX_FLAG_PARTIAL };
	for (int i = 0; i < 2; i++) {
		etm_read_reset(&out);
		uint64_t at = s.aux_head;
		kernel_write(&s, 16, flags[i] | 0x100, 1);
		kernel_write(&s, 16, 0x100, 1);
		CHECK(read_once(&r, &s, &out) == 0);
		CHECK(out.overflow && !out.truncated);
		CHECK(out.n_chunks == 2 && out.chunks[0].raw && out.chunks[1].raw);
		CHECK(out.chunks[1].gap_before && chunk_is(&out, 1, at + 16, 16));
	}

	/* Empty records carry only the format (TRBE FORMAT_RAW): no chunk. */
	etm_read_reset(&out);
	put_aux_record(&s, s.aux_head, 0, 0x100, 1);
	CHECK(read_once(&r, &s, &out) == 0);
	CHECK(out.n_chunks == 0 && !out.overflow && r.raw);
	etm_read_free(&out);
	auxring_sim_free(&s);
}

static void test_lost_and_holes(void)
{
	struct auxring_sim s;
	struct auxring r;
	struct etm_read out;
	auxring_sim_init(&s, 1024, 1024);
	auxring_init(&r, ST, true, false);
	etm_read_init(&out);

	/* AUX record lost (record ring full): its data is still in the AUX
	 * ring and is handed out, unattributed and after a gap. */
	put_trace(&s, 40, false);
	struct { struct perf_event_header h; uint64_t id, lost; uint8_t sid[24]; } lost = {
		.h = { .type = PERF_RECORD_LOST, .size = sizeof(lost) }, .lost = 1 };
	CHECK(auxring_sim_put_record(&s, &lost, sizeof(lost)));
	kernel_write(&s, 24, 0, 5);
	CHECK(read_once(&r, &s, &out) == 0);
	CHECK(out.overflow && r.n_lost_records == 1);
	CHECK(out.n_chunks == 2 && chunk_is(&out, 0, 0, 40) && chunk_is(&out, 1, 40, 24));
	CHECK(out.chunks[0].cpu == -1 && out.chunks[0].gap_before);
	CHECK(out.chunks[1].cpu == 5 && !out.chunks[1].gap_before);
	CHECK(out.bytes_lost == 0);

	/* LOST as the last record: the unclaimed data is still read. */
	etm_read_reset(&out);
	put_trace(&s, 30, false);
	CHECK(auxring_sim_put_record(&s, &lost, sizeof(lost)));
	CHECK(read_once(&r, &s, &out) == 0);
	CHECK(out.n_chunks == 1 && chunk_is(&out, 0, 64, 30) && out.chunks[0].gap_before);
	CHECK(s.aux_tail == 94);

	/* A hole with no LOST record: those bytes never came; count them. */
	etm_read_reset(&out);
	s.aux_head += 100;   /* the producer skipped 100 bytes */
	s.aux_tail = s.aux_head;
	kernel_write(&s, 20, 0, 0);
	CHECK(read_once(&r, &s, &out) == 0);
	CHECK(out.overflow && out.bytes_lost == 100);
	CHECK(out.n_chunks == 1 && out.chunks[0].gap_before && chunk_is(&out, 0, 194, 20));

	/* Duplicate record for data already handed out: ignored. */
	etm_read_reset(&out);
	put_aux_record(&s, 194, 20, 0, 0);
	CHECK(read_once(&r, &s, &out) == 0);
	CHECK(out.n_chunks == 0);
	etm_read_free(&out);
	auxring_sim_free(&s);
}

static void test_snapshot(void)
{
	struct auxring_sim s;
	struct auxring r;
	struct etm_read out;
	auxring_sim_init(&s, 1024, 256);
	auxring_init(&r, ST, true, true);
	etm_read_init(&out);

	/* 1000 bytes through a 256-byte overwrite ring: the newest 256 remain. */
	put_trace(&s, 600, true);
	put_trace(&s, 400, true);
	put_aux_record(&s, 1000, 1000, PERF_AUX_FLAG_OVERWRITE, 2);
	CHECK(read_once(&r, &s, &out) == 0);
	CHECK(out.n_chunks == 1 && chunk_is(&out, 0, 744, 256));
	CHECK(out.overflow && out.bytes_lost == 744 && out.chunks[0].gap_before);
	CHECK(out.chunks[0].cpu == 2);
	CHECK(s.aux_tail == 0);      /* read-only mapping: the tail is never written */

	etm_read_reset(&out);
	put_trace(&s, 100, true);
	CHECK(read_once(&r, &s, &out) == 0);
	CHECK(out.n_chunks == 1 && chunk_is(&out, 0, 1000, 100));
	CHECK(!out.overflow && out.bytes_lost == 0 && !out.chunks[0].gap_before);
	etm_read_reset(&out);
	CHECK(read_once(&r, &s, &out) == 0);
	CHECK(out.n_chunks == 0);
	etm_read_free(&out);
	auxring_sim_free(&s);
}

static void test_hw_id_and_itrace(void)
{
	struct auxring_sim s;
	struct auxring r;
	struct etm_read out;
	auxring_sim_init(&s, 512, 256);
	auxring_init(&r, ST, true, false);
	etm_read_init(&out);
	struct { struct perf_event_header h; uint64_t hw_id; uint32_t pid, tid; uint64_t time; uint32_t cpu, res; } hw = {
		.h = { .type = 21, .size = sizeof(hw) }, .cpu = 3 };
	hw.hw_id = (1ull << 56) | (0x7full << 8) | 0x22;   /* v0.1, sink 0x7f, trace ID 0x22 */
	CHECK(auxring_sim_put_record(&s, &hw, sizeof(hw)));
	hw.cpu = 4;
	hw.hw_id = (1ull << 60) | 0x30;                    /* major 1: unknown layout */
	CHECK(auxring_sim_put_record(&s, &hw, sizeof(hw)));
	struct { struct perf_event_header h; uint32_t pid, tid; uint8_t sid[24]; } it = {
		.h = { .type = PERF_RECORD_ITRACE_START, .size = sizeof(it) }, .pid = 77, .tid = 78 };
	CHECK(auxring_sim_put_record(&s, &it, sizeof(it)));
	/* An unknown record type is stepped over. */
	struct { struct perf_event_header h; uint64_t x; } other = { .h = { .type = 99, .size = 16 } };
	CHECK(auxring_sim_put_record(&s, &other, sizeof(other)));
	CHECK(read_once(&r, &s, &out) == 0);
	CHECK(r.trace_id[3] == 0x22 && r.trace_id[4] == -1 && r.n_bad_records == 1);
	CHECK(r.itrace_pid == 77 && r.itrace_tid == 78);
	CHECK(s.data_tail == s.data_head);
	etm_read_free(&out);
	auxring_sim_free(&s);
}

static void test_corrupt(void)
{
	struct auxring_sim s;
	struct auxring r;
	struct etm_read out;
	auxring_sim_init(&s, 256, 256);
	auxring_init(&r, ST, true, false);
	etm_read_init(&out);
	kernel_write(&s, 16, 0, 0);
	struct perf_event_header bad = { .type = PERF_RECORD_AUX, .size = 4 };
	uint64_t pad = 0;
	CHECK(auxring_sim_put_record(&s, &bad, sizeof(bad)));
	CHECK(auxring_sim_put_record(&s, &pad, sizeof(pad)));
	CHECK(read_once(&r, &s, &out) == -1);
	CHECK(strstr(err, "corrupt perf record") != NULL);
	CHECK(out.n_chunks == 1 && chunk_is(&out, 0, 0, 16));   /* what came before is kept */
	CHECK(out.overflow && s.data_tail == s.data_head);       /* no stall on the bad bytes */

	/* Writer overran the reader. */
	struct auxring_view v;
	uint64_t dt, at;
	auxring_sim_view(&s, &v);
	v.data_head = v.data_tail + 1000;
	CHECK(auxring_read(&r, &v, &out, &dt, &at, err, sizeof(err)) == -1);
	CHECK(strstr(err, "overrun") != NULL && dt == v.data_head);

	/* Random record streams never crash or stall (ASan build checks reads). */
	srand(1234);
	for (int iter = 0; iter < 2000; iter++) {
		auxring_sim_free(&s);
		auxring_sim_init(&s, 256, 256);
		auxring_init(&r, (uint64_t)rand() & 0x1ff, rand() & 1, rand() & 1);
		etm_read_reset(&out);
		uint8_t junk[200];
		for (size_t k = 0; k < sizeof(junk); k++)
			junk[k] = (uint8_t)rand();
		if (rand() & 1) {       /* plausible headers with random bodies */
			for (size_t k = 0; k + 8 <= sizeof(junk); k += 40) {
				struct perf_event_header h = { .type = (uint32_t)(rand() % 24), .size = 40 };
				memcpy(junk + k, &h, sizeof(h));
			}
		}
		auxring_sim_put_record(&s, junk, 8 * (size_t)(rand() % 25));
		put_trace(&s, (uint64_t)(rand() % 200), false);
		auxring_sim_view(&s, &v);
		auxring_read(&r, &v, &out, &dt, &at, err, sizeof(err));
		CHECK(dt >= v.data_tail && dt <= v.data_head);
		CHECK(at >= v.aux_tail && at <= v.aux_head);
		if (dt < v.data_tail || dt > v.data_head || at > v.aux_head)
			break;
	}
	etm_read_free(&out);
	auxring_sim_free(&s);
}

/* The accessors of the live mmap, on a page laid out like the kernel's. */
static void test_mmap_page(void)
{
	size_t page = 4096;
	uint8_t *base = aligned_alloc(page, page * 3);
	uint8_t *aux = aligned_alloc(page, page);
	memset(base, 0, page * 3);
	memset(aux, 0, page);
	struct perf_event_mmap_page *pg = (void *)base;
	pg->data_offset = page;
	pg->data_size = 2 * page;
	pg->aux_offset = 3 * page;
	pg->aux_size = page;
	/* Write one AUX chunk and its record in place. */
	for (int i = 0; i < 300; i++)
		aux[(4000 + i) % page] = pattern((uint64_t)(4000 + i));
	uint8_t rec[64];
	size_t n = auxring_make_aux_record(rec, 4000, 300, 0, ST, 1, 2, 6);
	memcpy(base + page + (2 * page - 16), rec, 16);               /* record wraps the data ring */
	memcpy(base + page, rec + 16, n - 16);
	pg->data_tail = 3 * 2 * page - 16;
	pg->data_head = pg->data_tail + n;
	pg->aux_tail = 4000;
	pg->aux_head = 4300;

	struct auxring_view v;
	etm_perf_view(base, aux, &v);
	CHECK(v.data == base + page && v.data_size == 2 * page && v.aux_size == page);
	CHECK(v.data_head == pg->data_head && v.aux_head == 4300 && v.aux_tail == 4000);
	struct auxring r;
	struct etm_read out;
	uint64_t dt, at;
	auxring_init(&r, ST, true, false);
	r.aux_pos = 4000;
	etm_read_init(&out);
	CHECK(auxring_read(&r, &v, &out, &dt, &at, err, sizeof(err)) == 0);
	CHECK(out.n_chunks == 1 && chunk_is(&out, 0, 4000, 300) && out.chunks[0].cpu == 6);
	etm_perf_commit(base, dt, at, true);
	CHECK(pg->data_tail == pg->data_head && pg->aux_tail == 4300);
	etm_perf_commit(base, dt, 1, false);
	CHECK(pg->aux_tail == 4300);   /* snapshot mode leaves aux_tail alone */
	etm_read_free(&out);
	free(base);
	free(aux);

	CHECK(etm_perf_aux_size(1, 4096) == 4096);
	CHECK(etm_perf_aux_size(4096, 4096) == 4096);
	CHECK(etm_perf_aux_size(100000, 4096) == 131072);
	CHECK(etm_perf_aux_size(0x10000, 16384) == 0x10000);
}

static void test_filters(void)
{
	const char *maps =
		"00400000-00452000 r-xp 00000000 08:02 173521                             /usr/bin/prog\n"
		"00651000-00652000 r--p 00051000 08:02 173521                             /usr/bin/prog\n"
		"01b6e000-01b8f000 rw-p 00000000 00:00 0                                  [heap]\n"
		"7f1c2a000000-7f1c2a1c5000 r-xp 00026000 08:02 131                        /lib/x86_64-linux-gnu/libc.so.6\n"
		"7f1c2b000000-7f1c2b001000 r-xp 00000000 08:02 99                         /tmp/my lib.so\n";
	struct etm_config c;
	struct buf out = BUF_INIT;
	etm_config_init(&c);
	CHECK(etm_perf_filter_string(&c, maps, &out, err, sizeof(err)) == 0 && out.len == 0);
	c.ranges[0] = (struct etm_addr_range){ 0x401000, 0x402000 };
	c.ranges[1] = (struct etm_addr_range){ 0x7f1c2a001000, 0x7f1c2a001100 };
	c.n_ranges = 2;
	CHECK(etm_perf_filter_string(&c, maps, &out, err, sizeof(err)) == 0);
	CHECK_STR(out.data, "filter 0x1000/0x1000@/usr/bin/prog filter 0x27000/0x100@/lib/x86_64-linux-gnu/libc.so.6");
	c.n_ranges = 0;
	c.start_addrs[0] = 0x651100;
	c.n_start = 1;
	c.stop_addrs[0] = 0x400010;
	c.n_stop = 1;
	CHECK(etm_perf_filter_string(&c, maps, &out, err, sizeof(err)) == 0);
	CHECK_STR(out.data, "start 0x51100@/usr/bin/prog stop 0x10@/usr/bin/prog");

	c.n_start = c.n_stop = 0;
	c.ranges[0] = (struct etm_addr_range){ 0x1b6e000, 0x1b6f000 };
	c.n_ranges = 1;
	CHECK(etm_perf_filter_string(&c, maps, &out, err, sizeof(err)) == -1);
	CHECK_STR(err, "Address 0x1b6e000 is not in a file mapping of the traced process.");
	c.ranges[0] = (struct etm_addr_range){ 0x451000, 0x652000 };
	CHECK(etm_perf_filter_string(&c, maps, &out, err, sizeof(err)) == -1);
	CHECK(strstr(err, "spans several mappings") != NULL);
	c.ranges[0] = (struct etm_addr_range){ 0x7f1c2b000000, 0x7f1c2b000100 };
	CHECK(etm_perf_filter_string(&c, maps, &out, err, sizeof(err)) == -1);
	CHECK(strstr(err, "space or comma") != NULL);
	/* Kernel tracing: unmapped (kernel) addresses pass as they are. */
	c.trace_kernel = true;
	c.ranges[0] = (struct etm_addr_range){ 0xffffffc000081000, 0xffffffc000082000 };
	CHECK(etm_perf_filter_string(&c, maps, &out, err, sizeof(err)) == 0);
	CHECK_STR(out.data, "filter 0xffffffc000081000/0x1000");
	buf_free(&out);
}

int main(void)
{
	test_basic_and_wrap();
	test_partial_records();
	test_flags();
	test_lost_and_holes();
	test_snapshot();
	test_hw_id_and_itrace();
	test_corrupt();
	test_mmap_page();
	test_filters();
	return check_done("test_etm_auxring");
}
