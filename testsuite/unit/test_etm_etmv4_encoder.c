/* The ETMv4 encoder and the emulated source on small programs assembled
 * for A64 and A32/T32 (bytes below from aarch64-linux-gnu-as /
 * arm-linux-gnueabihf-as, linked at 0x400000 / 0x10000): loops, calls,
 * returns, indirect branches, a syscall, an ISB, a signal, ARM/Thumb
 * interworking; the ring buffer wrapping; ViewInst range filters and
 * start/stop points; frames. Every stream is decoded by OpenCSD's
 * trc_pkt_lister, which must report no error and exactly the ranges the
 * path implies. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "etm/emulated.h"
#include "etm/etmv4_encoder.h"
#include "testsuite/unit/check.h"

#define A64_BASE 0x400000u
static const uint32_t a64_code[] = {
	0xd2800060, /* 400000: mov x0, #3 */
	0xf1000400, /* 400004: subs x0, x0, #1 */
	0x54ffffe1, /* 400008: b.ne 400004 */
	0x94000005, /* 40000c: bl 400020 <func> */
	0x10000101, /* 400010: adr x1, 400030 <target> */
	0xd61f0020, /* 400014: br x1 */
	0xd503201f, /* 400018: nop (signal handler) */
	0xd503201f, /* 40001c: nop */
	0xb4000040, /* 400020: func: cbz x0, 400028 */
	0xd503201f, /* 400024: nop */
	0xd65f03c0, /* 400028: ret */
	0xd503201f, /* 40002c: nop */
	0xd4000001, /* 400030: target: svc #0 */
	0xd5033fdf, /* 400034: isb */
	0xd2800022, /* 400038: mov x2, #1 */
	0x3607fe22, /* 40003c: tbz w2, #0, 400000 */
	0xd503201f, /* 400040: nop */
	0x17ffffef, /* 400044: b 400000 */
};

#define ARM_BASE 0x10000u
static const uint8_t arm_code[] = {
	0x03, 0x20,             /* 10000: movs r0, #3 (Thumb) */
	0x01, 0x38,             /* 10002: subs r0, #1 */
	0xfd, 0xd1,             /* 10004: bne.n 10002 */
	0x00, 0xf0, 0x03, 0xf8, /* 10006: bl 10010 <func> */
	0x03, 0xa1,             /* 1000a: adr r1, 10018 <armcode> */
	0x08, 0x47,             /* 1000c: bx r1 */
	0xc0, 0x46,             /* 1000e: nop */
	0x00, 0xb1,             /* 10010: func: cbz r0, 10014 */
	0xc0, 0x46,             /* 10012: nop */
	0x70, 0x47,             /* 10014: bx lr */
	0xc0, 0x46,             /* 10016: nop */
	0x00, 0x00, 0x00, 0xef, /* 10018: armcode: svc 0 (A32) */
	0x01, 0x20, 0xa0, 0xe3, /* 1001c: mov r2, #1 */
	0x01, 0x00, 0x52, 0xe3, /* 10020: cmp r2, #1 */
	0xfb, 0xff, 0xff, 0x1a, /* 10024: bne 10018 */
	0xff, 0xff, 0xff, 0xfa, /* 10028: blx 1002c <thumb2> */
	0xff, 0xf7, 0xe8, 0xbf, /* 1002c: thumb2: b.w 10000 */
};

static uint8_t a64_mem[sizeof a64_code];

struct image {
	uint64_t base;
	const uint8_t *data;
	size_t len;
};

static size_t image_read(void *ctx, int tid, uint64_t addr, void *buf, size_t len)
{
	(void)tid;
	const struct image *im = ctx;
	if (addr < im->base || addr >= im->base + im->len)
		return 0;
	size_t n = (size_t)(im->base + im->len - addr);
	if (n > len)
		n = len;
	memcpy(buf, im->data + (addr - im->base), n);
	return n;
}

/* ---- what the recorder reports ------------------------------------------------- */

enum ev_kind { EV_RESUME, EV_BRANCH, EV_EXC, EV_STOP };
struct ev {
	enum ev_kind kind;
	uint64_t a, b;
	unsigned type;
};

static void feed(struct etm_source *src, int tid, const struct ev *ev, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		switch (ev[i].kind) {
		case EV_RESUME: etm_emulated_resume(src, tid, ev[i].a); break;
		case EV_BRANCH: etm_emulated_branch(src, tid, ev[i].a, ev[i].b); break;
		case EV_EXC: etm_emulated_exception(src, tid, ev[i].a, ev[i].b, ev[i].type); break;
		case EV_STOP: etm_emulated_stop(src, tid, ev[i].a); break;
		}
	}
}

/* The A64 program's path: the loop twice round, a call, an indirect
 * branch, a syscall, an ISB, a not-taken TBZ, the jump back, then a
 * signal at 0x400004 whose handler returns there, and a stop. */
static const struct ev a64_path[] = {
	{EV_RESUME, 0x400000, 0, 0},
	{EV_BRANCH, 0x400008, 0x400004, 0},
	{EV_BRANCH, 0x400008, 0x400004, 0},
	{EV_BRANCH, 0x40000c, 0x400020, 0},
	{EV_BRANCH, 0x400020, 0x400028, 0},
	{EV_BRANCH, 0x400028, 0x400010, 0},
	{EV_BRANCH, 0x400014, 0x400030, 0},
	{EV_BRANCH, 0x400030, 0x400034, 0},     /* svc: the syscall returns */
	{EV_BRANCH, 0x400044, 0x400000, 0},
	{EV_BRANCH, 0x400004, 0x400018, 0},     /* signal before subs ran */
	{EV_BRANCH, 0x400028, 0x400004, 0},     /* handler returns */
	{EV_STOP, 0x40000c, 0, 0},
};

static const uint64_t a64_ranges[][2] = {
	{0x400000, 0x40000c}, {0x400004, 0x40000c}, {0x400004, 0x40000c}, {0x40000c, 0x400010},
	{0x400020, 0x400024}, {0x400028, 0x40002c}, {0x400010, 0x400018}, {0x400030, 0x400034},
	{0x400034, 0x400038}, {0x400038, 0x400040}, {0x400040, 0x400048}, {0x400000, 0x400004},
	{0x400018, 0x400024}, {0x400024, 0x40002c}, {0x400004, 0x40000c},
};

/* Thumb loop and call, BX to A32, an A32 syscall, a not-taken A32 branch,
 * BLX back to Thumb, B.W to the start. */
static const struct ev arm_path[] = {
	{EV_RESUME, 0x10001, 0, 0},
	{EV_BRANCH, 0x10004, 0x10003, 0},
	{EV_BRANCH, 0x10006, 0x10011, 0},
	{EV_BRANCH, 0x10010, 0x10015, 0},
	{EV_BRANCH, 0x10014, 0x1000b, 0},
	{EV_BRANCH, 0x1000c, 0x10018, 0},
	{EV_BRANCH, 0x10018, 0x1001c, 0},
	{EV_BRANCH, 0x10028, 0x1002d, 0},
	{EV_BRANCH, 0x1002c, 0x10001, 0},
	{EV_STOP, 0x10007, 0, 0},
};

static const uint64_t arm_ranges[][2] = {
	{0x10000, 0x10006}, {0x10002, 0x10006}, {0x10006, 0x1000a}, {0x10010, 0x10012},
	{0x10014, 0x10016}, {0x1000a, 0x1000e}, {0x10018, 0x1001c}, {0x1001c, 0x10028},
	{0x10028, 0x1002c}, {0x1002c, 0x10030}, {0x10000, 0x10006},
};

/* ---- decoding with trc_pkt_lister ------------------------------------------------ */

struct decoded {
	uint64_t r[4096][2];
	size_t n;
	uint64_t exc_ret[64];
	unsigned exc_num[64];
	size_t n_exc;
	unsigned trace_on, errors;
	unsigned ctxtid, n_ctxt;        /* last CONTEXTID seen, PE_CONTEXT elements */
	char first_error[256];
};

static int lister(const char *dir, struct decoded *d)
{
	char cmd[1024];
	memset(d, 0, sizeof(*d));
	snprintf(cmd, sizeof cmd, "cd '%s' && trc_pkt_lister -ss_dir '%s' -decode -logstdout 2>&1", dir, dir);
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	char line[4096];
	while (fgets(line, sizeof line, p)) {
		const char *q;
		unsigned long long s, e;
		unsigned num;
		if ((q = strstr(line, "INSTR_RANGE(exec range=")) &&
		    sscanf(q, "INSTR_RANGE(exec range=0x%llx:[0x%llx]", &s, &e) == 2) {
			if (d->n < 4096) {
				d->r[d->n][0] = s;
				d->r[d->n][1] = e;
			}
			d->n++;
		} else if ((q = strstr(line, "ELEM_EXCEPTION(pref ret addr:0x")) &&
			   sscanf(q, "ELEM_EXCEPTION(pref ret addr:0x%llx", &s) == 1 &&
			   strstr(q, "excep num (0x") &&
			   sscanf(strstr(q, "excep num (0x"), "excep num (0x%x)", &num) == 1) {
			if (d->n_exc < 64) {
				d->exc_ret[d->n_exc] = s;
				d->exc_num[d->n_exc] = num;
			}
			d->n_exc++;
		} else if (strstr(line, "OCSD_GEN_TRC_ELEM_TRACE_ON")) {
			d->trace_on++;
		} else if ((q = strstr(line, "OCSD_GEN_TRC_ELEM_PE_CONTEXT"))) {
			d->n_ctxt++;
			if ((q = strstr(q, "CTXTID=0x")))
				sscanf(q, "CTXTID=0x%x", &d->ctxtid);
		}
		if (strstr(line, "ERROR") || strstr(line, "Error") || strstr(line, "bad-packet") ||
		    strstr(line, "ADDR_NACC")) {
			if (!d->errors)
				snprintf(d->first_error, sizeof d->first_error, "%.200s", line);
			d->errors++;
		}
	}
	return pclose(p) == 0 ? 0 : -1;
}

/* Write the read's bytes as a snapshot of IMAGE and decode it. */
static int decode(struct etm_source *src, const struct etm_read *rd, const struct image *im,
		  struct decoded *d)
{
	char dir[] = "/tmp/emu-enc-XXXXXX", err[256];
	if (!mkdtemp(dir))
		return -1;
	struct etm_cpu_regs regs;
	src->ops->cpu_regs(src, 0, &regs, err, sizeof err);
	struct etm_emulated_mem m = {im->base, im->data, im->len};
	int rc = etm_emulated_write_snapshot(dir, &regs, "Cortex-A57", rd->data.data, rd->data.len,
					     &m, 1, err, sizeof err);
	if (rc == 0)
		rc = lister(dir, d);
	if (d->errors)
		fprintf(stderr, "trc_pkt_lister: %u errors (kept %s), first: %s", d->errors, dir, d->first_error);
	else {
		snprintf(err, sizeof err, "rm -rf '%s'", dir);
		if (system(err) != 0)
			rc = -1;
	}
	return rc;
}

static bool ranges_equal(const struct decoded *d, const uint64_t (*want)[2], size_t n, const char *what)
{
	bool ok = d->n == n;
	for (size_t i = 0; ok && i < n; i++)
		ok = d->r[i][0] == want[i][0] && d->r[i][1] == want[i][1];
	if (!ok) {
		fprintf(stderr, "%s: %zu ranges decoded, %zu expected\n", what, d->n, n);
		for (size_t i = 0; i < d->n && i < 4096; i++)
			fprintf(stderr, "  got %#" PRIx64 "-%#" PRIx64 "%s\n", d->r[i][0], d->r[i][1],
				i < n && (d->r[i][0] != want[i][0] || d->r[i][1] != want[i][1]) ? "  <-- differs" : "");
	}
	return ok;
}

static struct etm_source *new_source(bool a64, const struct image *im, const struct etm_config *cfg, int tid)
{
	char err[256];
	struct etm_source *src = etm_emulated_new(a64 ? ETM_EMULATED_A64 : ETM_EMULATED_A32, image_read,
						  (void *)im);
	if (src->ops->enable(src, tid, cfg, err, sizeof err) != 0) {
		fprintf(stderr, "enable: %s\n", err);
		etm_source_free(src);
		return NULL;
	}
	return src;
}

/* ---- tests ---------------------------------------------------------------------------- */

static void test_path(bool a64)
{
	struct image im = a64 ? (struct image){A64_BASE, a64_mem, sizeof a64_mem}
			      : (struct image){ARM_BASE, arm_code, sizeof arm_code};
	struct etm_config cfg;
	etm_config_init(&cfg);
	struct etm_source *src = new_source(a64, &im, &cfg, 77);
	CHECK(src != NULL);
	if (!src)
		return;
	if (a64)
		feed(src, 77, a64_path, sizeof a64_path / sizeof a64_path[0]);
	else
		feed(src, 77, arm_path, sizeof arm_path / sizeof arm_path[0]);
	struct etm_read rd;
	etm_read_init(&rd);
	char err[256];
	CHECK(src->ops->read_new(src, 77, &rd, err, sizeof err) == 0);
	CHECK(rd.n_chunks == 1 && !rd.overflow && !rd.chunks[0].gap_before && rd.data.len % 16 == 0);
	struct decoded *d = calloc(1, sizeof(*d));
	CHECK(decode(src, &rd, &im, d) == 0);
	CHECK(d->errors == 0);
	if (a64) {
		CHECK(ranges_equal(d, a64_ranges, sizeof a64_ranges / sizeof a64_ranges[0], "a64"));
		/* Syscall: Call (2), return after the SVC; signal: IRQ at 0x400004. */
		CHECK(d->n_exc == 2 && d->exc_num[0] == 2 && d->exc_ret[0] == 0x400034 &&
		      d->exc_num[1] == 0xe && d->exc_ret[1] == 0x400004);
		CHECK(d->trace_on == 3);   /* start, after the syscall, after the signal */
	} else {
		CHECK(ranges_equal(d, arm_ranges, sizeof arm_ranges / sizeof arm_ranges[0], "arm"));
		CHECK(d->n_exc == 1 && d->exc_num[0] == 2 && d->exc_ret[0] == 0x1001c);
	}
	/* Nothing new: an empty read, no loss. */
	etm_read_reset(&rd);
	CHECK(src->ops->read_new(src, 77, &rd, err, sizeof err) == 0);
	CHECK(rd.n_chunks == 0 && !rd.overflow);
	/* A second chunk decodes on its own (it starts with a sync). */
	feed(src, 77, a64 ? a64_path + 3 : arm_path + 2, 1);   /* the call, from where it stopped */
	etm_read_reset(&rd);
	CHECK(src->ops->read_new(src, 77, &rd, err, sizeof err) == 0);
	CHECK(rd.n_chunks == 1);
	CHECK(decode(src, &rd, &im, d) == 0 && d->errors == 0);
	if (a64)
		CHECK(d->n == 1 && d->r[0][0] == 0x40000c && d->r[0][1] == 0x400010);
	else
		CHECK(d->n == 1 && d->r[0][0] == 0x10006 && d->r[0][1] == 0x1000a);
	free(d);
	etm_read_free(&rd);
	etm_source_free(src);
}

/* The path many times round: far more than the buffer holds. */
static void test_ring(void)
{
	struct image im = {A64_BASE, a64_mem, sizeof a64_mem};
	struct etm_config cfg;
	etm_config_init(&cfg);
	cfg.buffer_size = 4096;
	struct etm_source *src = new_source(true, &im, &cfg, 5);
	CHECK(src != NULL);
	if (!src)
		return;
	for (int i = 0; i < 600; i++)
		feed(src, 5, a64_path, sizeof a64_path / sizeof a64_path[0] - 1);
	struct etm_read rd;
	etm_read_init(&rd);
	char err[256];
	CHECK(src->ops->read_new(src, 5, &rd, err, sizeof err) == 0);
	CHECK(rd.overflow && rd.bytes_lost > 0);
	CHECK(rd.n_chunks == 1 && rd.chunks[0].gap_before);
	CHECK(rd.data.len > 0 && rd.data.len <= 4096 && rd.data.len % 16 == 0);
	struct etm_emulated_stats st;
	etm_emulated_stats(src, 5, &st);
	CHECK(st.bytes == st.bytes_lost + rd.data.len);
	/* What is kept starts at a sync: frame with our ID, then A-sync. */
	const uint8_t *f = (const uint8_t *)rd.data.data;
	static const uint8_t zeros[11];
	CHECK(f[0] == ((0x10 << 1) | 1) && memcmp(f + 1, zeros, 11) == 0 && f[12] == 0x80);
	struct decoded *d = calloc(1, sizeof(*d));
	CHECK(decode(src, &rd, &im, d) == 0 && d->errors == 0);
	/* The ranges are the newest part of the repeated path, in order. */
	size_t per = sizeof a64_ranges / sizeof a64_ranges[0] - 1;   /* without the stop */
	CHECK(d->n > per);
	bool tail_ok = d->n > 0 && d->n < 4096;
	for (size_t i = 0; tail_ok && i < d->n; i++) {
		size_t k = (per - (d->n - i) % per) % per;   /* last decoded range = last of the path */
		tail_ok = d->r[i][0] == a64_ranges[k][0] && d->r[i][1] == a64_ranges[k][1];
		if (!tail_ok)
			fprintf(stderr, "ring: range %zu %#" PRIx64 "-%#" PRIx64 " is not path range %zu\n",
				i, d->r[i][0], d->r[i][1], k);
	}
	CHECK(tail_ok);
	/* The loss was reported once: the next read is clean. */
	feed(src, 5, a64_path + 1, 1);
	etm_read_reset(&rd);
	CHECK(src->ops->read_new(src, 5, &rd, err, sizeof err) == 0);
	CHECK(!rd.overflow && rd.bytes_lost == 0 && rd.n_chunks == 1 && !rd.chunks[0].gap_before);
	free(d);
	etm_read_free(&rd);
	etm_source_free(src);
}

static void test_filters(void)
{
	struct image im = {A64_BASE, a64_mem, sizeof a64_mem};
	char err[256];
	struct decoded *d = calloc(1, sizeof(*d));
	struct etm_read rd;
	etm_read_init(&rd);

	/* Only func (0x400020-0x400030): entered by the call, then by falling
	 * into it from the handler. */
	struct etm_config cfg;
	etm_config_init(&cfg);
	CHECK(etm_config_set(&cfg, "filter:start-address", "0x400020", err, sizeof err) == 0);
	CHECK(etm_config_set(&cfg, "filter:end-address", "0x400030", err, sizeof err) == 0);
	struct etm_source *src = new_source(true, &im, &cfg, 9);
	CHECK(src != NULL);
	if (src) {
		feed(src, 9, a64_path, sizeof a64_path / sizeof a64_path[0]);
		CHECK(src->ops->read_new(src, 9, &rd, err, sizeof err) == 0);
		CHECK(decode(src, &rd, &im, d) == 0 && d->errors == 0);
		static const uint64_t want[][2] = {
			{0x400020, 0x400024}, {0x400028, 0x40002c}, {0x400020, 0x400024}, {0x400024, 0x40002c},
		};
		CHECK(ranges_equal(d, want, 4, "range filter"));
		CHECK(d->trace_on == 2 && d->n_exc == 0);
		etm_source_free(src);
	}

	/* Start at the ADR after the call, stop at the ISB (traced). */
	etm_config_init(&cfg);
	CHECK(etm_config_set(&cfg, "trigger:on-address", "0x400010", err, sizeof err) == 0);
	CHECK(etm_config_set(&cfg, "trigger:off-address", "0x400034", err, sizeof err) == 0);
	src = new_source(true, &im, &cfg, 9);
	CHECK(src != NULL);
	if (src) {
		feed(src, 9, a64_path, sizeof a64_path / sizeof a64_path[0]);
		etm_read_reset(&rd);
		CHECK(src->ops->read_new(src, 9, &rd, err, sizeof err) == 0);
		CHECK(decode(src, &rd, &im, d) == 0 && d->errors == 0);
		static const uint64_t want[][2] = {{0x400010, 0x400018}, {0x400030, 0x400034}, {0x400034, 0x400038}};
		CHECK(ranges_equal(d, want, 3, "start/stop"));
		CHECK(d->n_exc == 1 && d->exc_ret[0] == 0x400034);
		etm_source_free(src);
	}

	/* A context filter for another thread: nothing traced. */
	etm_config_init(&cfg);
	cfg.context_pid = 1234;
	src = new_source(true, &im, &cfg, 9);
	CHECK(src != NULL);
	if (src) {
		feed(src, 9, a64_path, sizeof a64_path / sizeof a64_path[0]);
		etm_read_reset(&rd);
		CHECK(src->ops->read_new(src, 9, &rd, err, sizeof err) == 0);
		CHECK(decode(src, &rd, &im, d) == 0 && d->errors == 0 && d->n == 0);
		etm_source_free(src);
	}
	free(d);
	etm_read_free(&rd);
}

/* A path that cannot be: the trace says so (Overflow) and goes on. */
static void test_bad_path(void)
{
	struct image im = {A64_BASE, a64_mem, sizeof a64_mem};
	struct etm_config cfg;
	etm_config_init(&cfg);
	struct etm_source *src = new_source(true, &im, &cfg, 3);
	CHECK(src != NULL);
	if (!src)
		return;
	char err[256];
	etm_emulated_resume(src, 3, 0x400040);
	etm_emulated_branch(src, 3, 0x400014, 0x400030);   /* but "b" at 0x400044 is always taken */
	etm_emulated_branch(src, 3, 0x400030, 0x400034);
	etm_emulated_branch(src, 3, 0x500000, 0x400000);   /* no code there */
	etm_emulated_branch(src, 3, 0x400008, 0x400004);
	struct etm_emulated_stats st;
	etm_emulated_stats(src, 3, &st);
	CHECK(st.walk_failures == 2);
	struct etm_read rd;
	etm_read_init(&rd);
	CHECK(src->ops->read_new(src, 3, &rd, err, sizeof err) == 0);
	struct decoded *d = calloc(1, sizeof(*d));
	CHECK(decode(src, &rd, &im, d) == 0 && d->errors == 0);
	static const uint64_t want[][2] = {{0x400030, 0x400034}, {0x400000, 0x40000c}};
	CHECK(ranges_equal(d, want, 2, "bad path"));
	free(d);
	etm_read_free(&rd);
	etm_source_free(src);
}

/* One walk whose trace is larger than the whole buffer: 40000 not-taken
 * branches. Nothing of it can be kept whole: it is all reported lost and
 * the next read starts at a sync. */
static void test_huge_walk(void)
{
	size_t n = 40000;
	uint8_t *code = malloc(4 * (n + 2));
	for (size_t i = 0; i <= n; i++) {
		/* b.ne .+4, ..., b <start> */
		uint32_t w = i < n ? 0x54000021u : 0x14000000u | ((uint32_t)-(int32_t)n & 0x3ffffffu);
		for (int k = 0; k < 4; k++)
			code[4 * i + (size_t)k] = (uint8_t)(w >> (8 * k));
	}
	struct image im = {0x800000, code, 4 * (n + 1)};
	struct etm_config cfg;
	etm_config_init(&cfg);
	cfg.buffer_size = 4096;
	struct etm_source *src = new_source(true, &im, &cfg, 8);
	CHECK(src != NULL);
	if (!src) {
		free(code);
		return;
	}
	char err[256];
	etm_emulated_resume(src, 8, 0x800000);
	etm_emulated_branch(src, 8, 0x800000 + 4 * n, 0x800000);     /* 40000 N, then E */
	etm_emulated_branch(src, 8, 0x800000, 0x800004);             /* b.ne taken */
	etm_emulated_stop(src, 8, 0x800010);
	struct etm_read rd;
	etm_read_init(&rd);
	CHECK(src->ops->read_new(src, 8, &rd, err, sizeof err) == 0);
	CHECK(rd.overflow && rd.bytes_lost >= 4096);
	struct decoded *d = calloc(1, sizeof(*d));
	if (rd.n_chunks) {
		CHECK(rd.chunks[0].gap_before);
		CHECK(decode(src, &rd, &im, d) == 0 && d->errors == 0);
		/* Whatever is kept is the newest: the taken b.ne, then N, N, N. */
		static const uint64_t want[][2] = {
			{0x800000, 0x800004}, {0x800004, 0x800008}, {0x800008, 0x80000c}, {0x80000c, 0x800010},
		};
		CHECK(d->n <= 4 && ranges_equal(d, want + (4 - d->n), d->n, "huge walk"));
		printf("  huge walk: %zu bytes kept, %" PRIu64 " lost, %zu ranges decoded\n", rd.data.len,
		       rd.bytes_lost, d->n);
	}
	/* A compact atom stream: 40000 N atoms in 8000 packet bytes (format 5),
	 * 9143 in frames; formats 3/2/1 alone would need 15238. */
	struct etm_emulated_stats st;
	etm_emulated_stats(src, 8, &st);
	CHECK(st.atoms == 40005 && st.bytes < 9500);
	free(d);
	etm_read_free(&rd);
	etm_source_free(src);
	free(code);
}

/* Whatever the recorder reports (here: random, mostly impossible paths,
 * filters, small buffers, reads in between), the stream stays valid
 * ETMv4: trc_pkt_lister decodes every read without an error. */
static void test_random(bool a64, unsigned seed)
{
	struct image im = a64 ? (struct image){A64_BASE, a64_mem, sizeof a64_mem}
			      : (struct image){ARM_BASE, arm_code, sizeof arm_code};
	struct etm_config cfg;
	etm_config_init(&cfg);
	cfg.buffer_size = 4096;
	if (seed & 1) {
		cfg.ranges[0] = (struct etm_addr_range){im.base + 8, im.base + 0x30};
		cfg.n_ranges = 1;
	}
	struct etm_source *src = new_source(a64, &im, &cfg, 11);
	CHECK(src != NULL);
	if (!src)
		return;
	struct decoded *d = calloc(1, sizeof(*d));
	struct etm_read rd;
	etm_read_init(&rd);
	char err[256];
	unsigned errors = 0, reads = 0, ranges = 0;
	uint64_t x = seed * 2654435761u + 1;
	for (int round = 0; round < 8; round++) {
		for (int i = 0; i < 400; i++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			unsigned r = (unsigned)(x >> 33);
			/* mostly inside the image, sometimes just outside */
			uint64_t a = im.base + (r % (im.len + 16)) / (a64 ? 4 : 2) * (a64 ? 4 : 2);
			uint64_t b = im.base + ((r >> 8) % (im.len + 16)) / (a64 ? 4 : 2) * (a64 ? 4 : 2);
			if (!a64 && (r & 0x100000))
				b |= 1;
			switch ((r >> 24) % 8) {
			case 0: etm_emulated_resume(src, 11, a); break;
			case 1: etm_emulated_exception(src, 11, a, b, ETMV4_EXC_IRQ); break;
			case 2: etm_emulated_stop(src, 11, a); break;
			default: etm_emulated_branch(src, 11, a, b); break;
			}
		}
		etm_read_reset(&rd);
		CHECK(src->ops->read_new(src, 11, &rd, err, sizeof err) == 0);
		if (rd.data.len) {
			reads++;
			CHECK(decode(src, &rd, &im, d) == 0);
			errors += d->errors;
			ranges += (unsigned)d->n;
		}
	}
	struct etm_emulated_stats st;
	etm_emulated_stats(src, 11, &st);
	CHECK(errors == 0 && reads > 0 && ranges > 0);
	printf("  random %s seed %u: %u reads, %u ranges decoded, %" PRIu64 " walk failures, %" PRIu64
	       " bytes lost, 0 decode errors expected: %u\n", a64 ? "A64" : "A32/T32", seed, reads, ranges,
	       st.walk_failures, st.bytes_lost, errors);
	free(d);
	etm_read_free(&rd);
	etm_source_free(src);
}

/* Two threads traced at once: separate streams, each with its own
 * context ID (what a decoder shows as the thread). */
static void test_threads(void)
{
	struct image im = {A64_BASE, a64_mem, sizeof a64_mem};
	struct etm_config cfg;
	etm_config_init(&cfg);
	char err[256];
	struct etm_source *src = new_source(true, &im, &cfg, 100);
	CHECK(src != NULL);
	if (!src)
		return;
	CHECK(src->ops->enable(src, 101, &cfg, err, sizeof err) == 0);
	size_t n = sizeof a64_path / sizeof a64_path[0];
	for (size_t i = 0; i < n; i++) {
		feed(src, 100, a64_path + i, 1);
		if (i < 4)
			feed(src, 101, a64_path + i, 1);
	}
	struct decoded *d = calloc(1, sizeof(*d));
	struct etm_read rd;
	etm_read_init(&rd);
	CHECK(src->ops->read_new(src, 100, &rd, err, sizeof err) == 0);
	CHECK(decode(src, &rd, &im, d) == 0 && d->errors == 0);
	CHECK(ranges_equal(d, a64_ranges, sizeof a64_ranges / sizeof a64_ranges[0], "thread 100"));
	CHECK(d->n_ctxt >= 1 && d->ctxtid == 100);
	etm_read_reset(&rd);
	CHECK(src->ops->read_new(src, 101, &rd, err, sizeof err) == 0);
	CHECK(decode(src, &rd, &im, d) == 0 && d->errors == 0);
	CHECK(ranges_equal(d, a64_ranges, 4, "thread 101"));
	CHECK(d->n_ctxt >= 1 && d->ctxtid == 101);
	free(d);
	etm_read_free(&rd);
	etm_source_free(src);
}

static void test_source_ops(void)
{
	struct image im = {A64_BASE, a64_mem, sizeof a64_mem};
	char err[256];
	struct etm_source *src = etm_emulated_new(ETM_EMULATED_A64, image_read, &im);
	CHECK(etm_source_is_emulated(src));
	CHECK(strcmp(src->ops->name, "emulated") == 0);
	struct etm_config cfg;
	etm_config_init(&cfg);
	cfg.buffer_size = 1000;
	CHECK(src->ops->enable(src, 1, &cfg, err, sizeof err) != 0 && strstr(err, "Buffer size"));
	etm_config_init(&cfg);
	cfg.trace_kernel = true;
	CHECK(src->ops->enable(src, 1, &cfg, err, sizeof err) != 0 && strstr(err, "user space"));
	etm_config_init(&cfg);
	cfg.cycle_accurate = true;
	CHECK(src->ops->enable(src, 1, &cfg, err, sizeof err) != 0 && strstr(err, "TRCCCI"));
	etm_config_init(&cfg);
	cfg.timestamps = true;
	CHECK(src->ops->enable(src, 1, &cfg, err, sizeof err) != 0 && strstr(err, "TSSIZE"));
	etm_config_init(&cfg);
	cfg.trace_id = 0x70;
	CHECK(src->ops->enable(src, 1, &cfg, err, sizeof err) != 0);
	etm_config_init(&cfg);
	struct etm_config got;
	cfg.trace_id = 0x31;
	cfg.buffer_size = 8192 + 5;
	CHECK(src->ops->enable(src, 1, &cfg, err, sizeof err) == 0);
	CHECK(src->ops->enable(src, 1, &cfg, err, sizeof err) != 0);
	cfg.trace_id = 0x32;        /* a second ID for the one unit */
	CHECK(src->ops->enable(src, 2, &cfg, err, sizeof err) != 0 && strstr(err, "0x31"));
	cfg.trace_id = 0;           /* automatic: the unit's */
	CHECK(src->ops->enable(src, 2, &cfg, err, sizeof err) == 0);
	CHECK(src->ops->conf(src, 2, &got, err, sizeof err) == 0 && got.trace_id == 0x31);
	CHECK(src->ops->disable(src, 2, err, sizeof err) == 0);
	cfg.trace_id = 0x31;
	CHECK(src->ops->conf(src, 1, &got, err, sizeof err) == 0);
	CHECK(got.buffer_size == 8192 && got.trace_id == 0x31 && got.context_id && !strcmp(got.sink, "emulated"));
	CHECK(src->ops->nr_cpus(src) == 1);
	struct etm_cpu_regs r;
	CHECK(src->ops->cpu_regs(src, 0, &r, err, sizeof err) == 0);
	CHECK(r.unit == ETM_UNIT_ETMV4 && r.trctraceidr == 0x31 && (r.trcconfigr & TRCCONFIGR_CID) &&
	      etm_bits(r.trcidr[1], 11, 8) == 4 && etm_bits(r.trcidr[2], 9, 5) == 4 && r.trcidr[8] == 0);
	CHECK(src->ops->cpu_regs(src, 1, &r, err, sizeof err) != 0);
	struct etm_sink_info sink;
	CHECK(src->ops->sink(src, &sink) == 0 && sink.formatted && sink.frame_aligned && !strcmp(sink.name, "emulated"));
	struct etm_read rd;
	etm_read_init(&rd);
	CHECK(src->ops->read_new(src, 2, &rd, err, sizeof err) != 0);
	CHECK(src->ops->disable(src, 1, err, sizeof err) == 0);
	CHECK(src->ops->disable(src, 1, err, sizeof err) != 0);
	etm_read_free(&rd);
	etm_source_free(src);
}

/* Frames: every length round trips through a deformatter written from
 * the CoreSight formatter rules; padding is trace ID 0. */
static void test_formatter(void)
{
	bool ok = true;
	for (size_t len = 0; len <= 40 && ok; len++) {
		uint8_t in[40];
		for (size_t i = 0; i < len; i++)
			in[i] = (uint8_t)(i * 37 + 1);
		struct cs_formatter f;
		struct buf out = {0};
		cs_formatter_init(&f, 0x2a);
		cs_formatter_put(&f, in, len, &out);
		cs_formatter_flush(&f, &out);
		ok = out.len % 16 == 0 && out.len == (len + 13) / 14 * 16;
		uint8_t got[64];
		size_t n = 0;
		unsigned id = 0;
		for (size_t fr = 0; ok && fr < out.len; fr += 16) {
			const uint8_t *b = (const uint8_t *)out.data + fr;
			for (unsigned i = 0; i < 15; i++) {
				bool aux = (i & 1) == 0 && ((b[15] >> (i / 2)) & 1);
				if ((i & 1) == 0 && (b[i] & 1)) {
					unsigned prev = id;
					id = b[i] >> 1;
					if (aux && i < 14) {    /* next byte still belongs to PREV */
						if (prev == 0x2a)
							got[n++] = b[i + 1];
						i++;
					}
					continue;
				}
				uint8_t v = (i & 1) ? b[i] : (uint8_t)(b[i] | aux);
				if (id == 0x2a)
					got[n++] = v;
			}
		}
		ok = ok && n == len && memcmp(got, in, len) == 0;
		if (!ok)
			fprintf(stderr, "formatter: length %zu does not round trip\n", len);
		buf_free(&out);
	}
	CHECK(ok);
}

/* Instruction classes the decoder's walk depends on. */
static void test_classify(void)
{
	struct etmv4_insn in;
	uint8_t b[4];
#define LE(w) (b[0] = (uint8_t)(w), b[1] = (uint8_t)((w) >> 8), b[2] = (uint8_t)((w) >> 16), b[3] = (uint8_t)((w) >> 24))
	LE(0x54ffffe1u); etmv4_classify(ETMV4_ISA_A64, false, 0x400008, b, &in);
	CHECK(in.wp == ETMV4_WP_BRANCH && in.target == 0x400004 && !in.always_taken);
	LE(0x94000005u); etmv4_classify(ETMV4_ISA_A64, false, 0x40000c, b, &in);
	CHECK(in.wp == ETMV4_WP_BRANCH && in.link && in.target == 0x400020 && in.always_taken);
	LE(0x3607fe22u); etmv4_classify(ETMV4_ISA_A64, false, 0x40003c, b, &in);
	CHECK(in.wp == ETMV4_WP_BRANCH && in.target == 0x400000);
	LE(0xd65f03c0u); etmv4_classify(ETMV4_ISA_A64, false, 0, b, &in);
	CHECK(in.wp == ETMV4_WP_INDIRECT);
	LE(0xd65f0bffu);   /* RETAA: a branch for an Armv8.3 decoder only */
	etmv4_classify(ETMV4_ISA_A64, false, 0, b, &in);
	CHECK(in.wp == ETMV4_WP_NONE);
	etmv4_classify(ETMV4_ISA_A64, true, 0, b, &in);
	CHECK(in.wp == ETMV4_WP_INDIRECT);
	LE(0xd5033fdfu); etmv4_classify(ETMV4_ISA_A64, false, 0, b, &in);
	CHECK(in.wp == ETMV4_WP_ISB);
	LE(0xd5033f9fu); etmv4_classify(ETMV4_ISA_A64, false, 0, b, &in);   /* DSB SY */
	CHECK(in.wp == ETMV4_WP_NONE);
	LE(0xd4000001u); etmv4_classify(ETMV4_ISA_A64, false, 0, b, &in);
	CHECK(in.svc && in.wp == ETMV4_WP_NONE);
	LE(0xe8bd8010u); etmv4_classify(ETMV4_ISA_A32, false, 0, b, &in);   /* pop {r4, pc} */
	CHECK(in.wp == ETMV4_WP_INDIRECT && in.always_taken);
	LE(0x1afffffbu); etmv4_classify(ETMV4_ISA_A32, false, 0x10024, b, &in);
	CHECK(in.wp == ETMV4_WP_BRANCH && in.target == 0x10018 && !in.always_taken);
	LE(0xfaffffffu); etmv4_classify(ETMV4_ISA_A32, false, 0x10028, b, &in);
	CHECK(in.wp == ETMV4_WP_BRANCH && in.target == 0x1002c && in.target_isa == ETMV4_ISA_T32);
	memcpy(b, arm_code + 6, 4); etmv4_classify(ETMV4_ISA_T32, false, 0x10006, b, &in);
	CHECK(in.wp == ETMV4_WP_BRANCH && in.size == 4 && in.link && in.target == 0x10010);
	memcpy(b, arm_code + 0x2c, 4); etmv4_classify(ETMV4_ISA_T32, false, 0x1002c, b, &in);
	CHECK(in.wp == ETMV4_WP_BRANCH && in.size == 4 && in.target == 0x10000);
	memcpy(b, arm_code + 0x10, 4); etmv4_classify(ETMV4_ISA_T32, false, 0x10010, b, &in);
	CHECK(in.wp == ETMV4_WP_BRANCH && in.size == 2 && in.target == 0x10014);
	b[0] = 0x10; b[1] = 0xbd; etmv4_classify(ETMV4_ISA_T32, false, 0, b, &in);   /* pop {r4, pc} */
	CHECK(in.wp == ETMV4_WP_INDIRECT && in.size == 2);
	b[0] = 0x00; b[1] = 0xdf; etmv4_classify(ETMV4_ISA_T32, false, 0, b, &in);   /* svc 0 */
	CHECK(in.svc && in.size == 2 && in.wp == ETMV4_WP_NONE);
#undef LE
}

int main(void)
{
	for (size_t i = 0; i < sizeof a64_code / sizeof a64_code[0]; i++)
		for (int k = 0; k < 4; k++)
			a64_mem[4 * i + (size_t)k] = (uint8_t)(a64_code[i] >> (8 * k));
	test_classify();
	test_formatter();
	test_source_ops();
	if (system("command -v trc_pkt_lister >/dev/null 2>&1") != 0) {
		CHECK(!"trc_pkt_lister installed (apt-get install libopencsd-bin)");
		return check_done("etm_etmv4_encoder");
	}
	test_path(true);
	test_path(false);
	test_ring();
	test_filters();
	test_bad_path();
	test_huge_walk();
	test_threads();
	for (unsigned seed = 1; seed <= 4; seed++) {
		test_random(true, seed);
		test_random(false, seed);
	}
	return check_done("etm_etmv4_encoder");
}
