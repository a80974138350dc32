/* Unit tests for the decoder child (etm/decode.c, decode_child.c,
 * decode_wire.c): the records it sends and the parent's checks of them;
 * decoding in the child gives what decoding in-process gives, pauses and
 * memory callbacks included; and a child that crashes, aborts, hangs,
 * allocates without end, floods or garbles costs one decode — an error
 * naming the buffer and the bytes — and the decoder can start afresh.
 * Faults are injected with the test-only CSG_TEST_DECODER_* variables;
 * one real OpenCSD 1.3.3 crash (testsuite/fixtures/decoder-crash) too. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "etm/decode.h"
#include "etm/decode_wire.h"
#include "etm/snapshot.h"
#include "testsuite/unit/check.h"
#include "testsuite/unit/decode_feed.h"

/* ---- records ---------------------------------------------------------------- */

static bool same_elem(const struct etm_elem *a, const struct etm_elem *b)
{
	if (a->kind != b->kind || a->trace_id != b->trace_id || a->index != b->index)
		return false;
	switch (a->kind) {
	case ETM_ELEM_RANGE:
		return a->start == b->start && a->end == b->end && a->num_insns == b->num_insns &&
		       a->last_class == b->last_class && a->last_indirect == b->last_indirect &&
		       a->last_taken == b->last_taken && a->last_cond == b->last_cond &&
		       a->last_size == b->last_size && a->isa == b->isa;
	case ETM_ELEM_GAP:
		return a->gap == b->gap && a->start == b->start && a->end == b->end &&
		       a->num_insns == b->num_insns;
	case ETM_ELEM_ADDR_NACC:
		return a->start == b->start;
	case ETM_ELEM_EXCEPTION:
		return a->exception_number == b->exception_number &&
		       a->has_return_addr == b->has_return_addr && a->return_addr == b->return_addr;
	case ETM_ELEM_CONTEXT:
		return a->isa == b->isa && a->el == b->el && a->el_valid == b->el_valid &&
		       a->aarch64 == b->aarch64 && a->context_id_valid == b->context_id_valid &&
		       a->vmid_valid == b->vmid_valid && a->context_id == b->context_id &&
		       a->vmid == b->vmid;
	case ETM_ELEM_ERROR:
		return a->message && b->message && strcmp(a->message, b->message) == 0;
	default:
		return true;
	}
}

static void test_wire_roundtrip(void)
{
	static const struct etm_elem elems[] = {
		{.kind = ETM_ELEM_RANGE, .trace_id = 0x10, .index = 1ull << 40, .start = 0xffffffc000081000ull,
		 .end = 0xffffffc000081040ull, .num_insns = 16, .last_class = ETM_INSN_WAIT,
		 .last_indirect = true, .last_taken = false, .last_cond = true, .last_size = 2,
		 .isa = ETM_ISA_THUMB},
		{.kind = ETM_ELEM_RANGE, .index = ~0ull, .start = ~0ull - 15, .end = 16, .num_insns = UINT32_MAX},
		{.kind = ETM_ELEM_GAP, .trace_id = 1, .index = 7, .gap = ETM_GAP_NO_PATH, .start = 5,
		 .end = 9, .num_insns = 3},
		{.kind = ETM_ELEM_ADDR_NACC, .index = 8, .start = 0x1234},
		{.kind = ETM_ELEM_EXCEPTION, .index = 9, .exception_number = 0x11,
		 .has_return_addr = true, .return_addr = ~0ull},
		{.kind = ETM_ELEM_EXCEPTION_RETURN, .trace_id = 0x6f, .index = 10},
		{.kind = ETM_ELEM_CONTEXT, .index = 11, .isa = ETM_ISA_A64, .el = 2, .el_valid = true,
		 .aarch64 = true, .vmid_valid = true, .context_id = 0xdeadbeef, .vmid = 42},
		{.kind = ETM_ELEM_ERROR, .index = 12, .message = "bad packet at 12"},
		{.kind = ETM_ELEM_END, .trace_id = 3, .index = 13},
	};
	uint8_t buf[WIRE_REC_MAX];
	struct wire_rec rec;
	for (size_t i = 0; i < sizeof elems / sizeof elems[0]; i++) {
		size_t n = wire_put_elem(buf, &elems[i]);
		CHECK(n > 3 && n <= WIRE_REC_MAX);
		CHECK(wire_get(buf, n, &rec) == (long)n);
		CHECK(rec.type == WIRE_ELEM && same_elem(&rec.elem, &elems[i]));
		/* every cut is "not whole yet", never a misread */
		bool cuts_wait = true;
		for (size_t k = 0; k < n; k++)
			cuts_wait &= wire_get(buf, k, &rec) == 0;
		CHECK(cuts_wait);
	}
	size_t n = wire_put_memreq(buf, 3, 0xffff000012345678ull, 0x12, 4096);
	CHECK(wire_get(buf, n, &rec) == (long)n && rec.type == WIRE_MEMREQ && rec.slot == 3 &&
	      rec.addr == 0xffff000012345678ull && rec.trace_id == 0x12 && rec.len == 4096);
	n = wire_put_done(buf, ETM_DECODE_ERROR, "trace byte 5: bad");
	CHECK(wire_get(buf, n, &rec) == (long)n && rec.type == WIRE_DONE &&
	      rec.status == ETM_DECODE_ERROR && strcmp(rec.text, "trace byte 5: bad") == 0);
	/* a message longer than a record holds is cut, not overrun */
	char longmsg[2000];
	memset(longmsg, 'x', sizeof longmsg - 1);
	longmsg[sizeof longmsg - 1] = '\0';
	struct etm_elem e = {.kind = ETM_ELEM_ERROR, .message = longmsg};
	n = wire_put_elem(buf, &e);
	CHECK(n <= WIRE_REC_MAX && wire_get(buf, n, &rec) == (long)n &&
	      strlen(rec.elem.message) == WIRE_TEXT_MAX);
}

/* What a child gone wrong might send: refused, not believed. */
static void test_wire_malformed(void)
{
	uint8_t buf[WIRE_REC_MAX + 8];
	struct wire_rec rec;
	struct etm_elem e = {.kind = ETM_ELEM_RANGE, .start = 1, .end = 2};
	size_t n = wire_put_elem(buf, &e);

	uint8_t bad[WIRE_REC_MAX + 8];
	memcpy(bad, buf, n);
	bad[0] = 99;                                    /* unknown record */
	CHECK(wire_get(bad, n, &rec) == -1);
	memcpy(bad, buf, n);
	bad[3] = 42;                                    /* unknown element kind */
	CHECK(wire_get(bad, n, &rec) == -1);
	memcpy(bad, buf, n);
	/* body: kind, trace ID, index (LEB128, here 1 byte), start (8),
	 * length (LEB128, 1), insns (LEB128, 1), then last_class */
	bad[3 + 2 + 1 + 8 + 1 + 1] = 200;               /* last_class out of range */
	CHECK(wire_get(bad, n, &rec) == -1);
	memcpy(bad, buf, n);
	bad[1]++;                                       /* body longer than the range holds */
	bad[n] = 0;
	CHECK(wire_get(bad, n + 1, &rec) == -1);
	memcpy(bad, buf, n);
	bad[1]--;                                       /* and shorter */
	CHECK(wire_get(bad, n, &rec) == -1);
	bad[0] = WIRE_ELEM, bad[1] = 0xff, bad[2] = 0xff;       /* longer than any record */
	CHECK(wire_get(bad, sizeof bad, &rec) == -1);

	struct etm_elem er = {.kind = ETM_ELEM_ERROR, .message = "abc"};
	n = wire_put_elem(buf, &er);
	memcpy(bad, buf, n);
	bad[n - 2] = '\0';                              /* a NUL inside the text */
	CHECK(wire_get(bad, n, &rec) == -1);
	memcpy(bad, buf, n);
	bad[3 + 2 + 1] = 0xff;                          /* text length past the body */
	CHECK(wire_get(bad, n, &rec) == -1);

	/* a LEB128 number of more than 64 bits: 11 bytes with the top bit */
	uint8_t over[3 + 2 + 11] = {WIRE_ELEM, 13, 0, ETM_ELEM_END, 0};
	memset(over + 5, 0xff, 10);
	over[15] = 0x01;
	CHECK(wire_get(over, sizeof over, &rec) == -1);
	over[1] = 12, over[14] = 0x7f;                  /* 10 bytes, top bits past 64 */
	CHECK(wire_get(over, sizeof over - 1, &rec) == -1);

	n = wire_put_done(buf, 7, "");                  /* no such status */
	CHECK(wire_get(buf, n, &rec) == -1);
	n = wire_put_done(buf, ETM_DECODE_PAUSED, "");  /* the child never pauses */
	CHECK(wire_get(buf, n, &rec) == -1);
}

/* ---- decoding --------------------------------------------------------------- */

struct log {
	struct etm_elem *e;
	size_t n, cap;
	size_t pause_every, since;
	pid_t mem_pid;          /* the process the memory callback ran in */
};

static int log_elem(void *ctx, const struct etm_elem *e)
{
	struct log *l = ctx;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		l->e = realloc(l->e, l->cap * sizeof *l->e);
	}
	l->e[l->n] = *e;
	l->e[l->n].message = e->message ? strdup(e->message) : NULL;
	l->n++;
	return l->pause_every && ++l->since % l->pause_every == 0;
}

static void log_free(struct log *l)
{
	for (size_t i = 0; i < l->n; i++)
		free((char *)l->e[i].message);
	free(l->e);
	memset(l, 0, sizeof *l);
}

static size_t count_kind(const struct log *l, enum etm_elem_kind k)
{
	size_t n = 0;
	for (size_t i = 0; i < l->n; i++)
		n += l->e[i].kind == k;
	return n;
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b = malloc(1 << 20);
	*len = f ? fread(b, 1, 1 << 20, f) : 0;
	if (f)
		fclose(f);
	return b;
}


static struct etm_snapshot *juno;
static uint8_t *juno_trace;
static size_t juno_len;

static struct etm_decoder *juno_decoder(struct log *log)
{
	char err[512];
	struct etm_decoder *dec = etm_snapshot_decoder(juno, 0, -1, NULL, NULL, NULL, err, sizeof err);
	CHECK(dec != NULL);
	if (dec)
		etm_decoder_set_output(dec, log_elem, log);
	return dec;
}

static void decode_juno(struct log *log, size_t chunk, enum etm_decode_status *st)
{
	struct etm_decoder *dec = juno_decoder(log);
	if (!dec)
		return;
	*st = feed_all(dec, juno_trace, juno_len, chunk);
	etm_decoder_free(dec);
}

static bool same_log(const struct log *a, const struct log *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!same_elem(&a->e[i], &b->e[i]))
			return false;
	return true;
}

/* Element by element what the decoder gives in-process, whatever the
 * chunks and pauses. */
static void test_same_as_in_process(void)
{
	struct log inproc = {0}, whole = {0}, paused = {.pause_every = 7}, small = {0};
	enum etm_decode_status st = ETM_DECODE_ERROR;
	setenv("CSG_DECODER_INPROCESS", "1", 1);
	decode_juno(&inproc, 1 << 20, &st);
	unsetenv("CSG_DECODER_INPROCESS");
	CHECK(st == ETM_DECODE_OK && count_kind(&inproc, ETM_ELEM_RANGE) > 1000);
	decode_juno(&whole, 1 << 20, &st);
	CHECK(st == ETM_DECODE_OK && same_log(&inproc, &whole));
	decode_juno(&paused, 1 << 20, &st);
	CHECK(st == ETM_DECODE_OK && same_log(&inproc, &paused));
	decode_juno(&small, 100, &st);
	CHECK(st == ETM_DECODE_OK && same_log(&inproc, &small));
	log_free(&inproc);
	log_free(&whole);
	log_free(&paused);
	log_free(&small);
}

struct mem_image {
	uint64_t base;
	uint8_t *data;
	size_t len;
	pid_t pid;
	size_t calls;
};

static uint32_t read_image(void *ctx, uint64_t addr, uint8_t trace_id, uint32_t len, uint8_t *buf)
{
	struct mem_image *m = ctx;
	(void)trace_id;
	m->calls++;
	m->pid = getpid();
	if (addr < m->base || addr - m->base >= m->len)
		return 0;
	size_t avail = m->len - (size_t)(addr - m->base);
	uint32_t n = len < avail ? len : (uint32_t)avail;
	memcpy(buf, m->data + (addr - m->base), n);
	return n;
}

/* Memory callbacks run in the caller's process (they may read a process
 * only it may read), and decode as the in-process decoder does. */
static void test_memory_callback(void)
{
	char err[512];
	struct mem_image img = {.base = 0xFFFFFFC000081000ull};
	img.data = read_file(check_shared("opencsd-snapshots/snapshots/juno_r1_1/kernel_dump.bin"), &img.len);
	struct log logs[2] = {{0}, {0}};
	for (int k = 0; k < 2; k++) {
		if (k == 0)
			setenv("CSG_DECODER_INPROCESS", "1", 1);
		struct etm_decoder *dec = etm_decoder_new(ETM_STREAM_FRAMED, err, sizeof err);
		unsetenv("CSG_DECODER_INPROCESS");
		for (size_t i = 0; i < juno->nsources; i++) {
			struct etm_cpu_regs cfg;
			char why[256];
			if (etm_snapshot_source_config(juno, &juno->sources[i], &cfg, why, sizeof why) == 0)
				etm_decoder_add_source(dec, &cfg);
		}
		CHECK(etm_decoder_add_mem_callback(dec, img.base, img.base + img.len, read_image, &img) == 0);
		etm_decoder_set_output(dec, log_elem, &logs[k]);
		img.calls = 0;
		img.pid = 0;
		CHECK(feed_all(dec, juno_trace, juno_len, 4096) == ETM_DECODE_OK);
		CHECK(img.calls > 0 && img.pid == getpid());
		/* setup is closed once decoding started (the child has a copy) */
		if (k == 1) {
			CHECK(etm_decoder_add_mem_buffer(dec, 0x1000, img.data, 16) == -1);
			CHECK(strstr(etm_decoder_error(dec), "must be added before decoding starts") != NULL);
		}
		etm_decoder_free(dec);
	}
	CHECK(count_kind(&logs[0], ETM_ELEM_RANGE) > 1000 && same_log(&logs[0], &logs[1]));
	log_free(&logs[0]);
	log_free(&logs[1]);
	free(img.data);
}

/* Decode juno with a fault injected at byte AT; the one error it ended
 * with, copied into MSG. */
static void decode_with_fault(const char *kind, unsigned at, struct log *log, char *msg, size_t msglen)
{
	char n[32];
	snprintf(n, sizeof n, "%u", at);
	setenv("CSG_TEST_DECODER_CRASH", n, 1);
	setenv("CSG_TEST_DECODER_FAULT", kind, 1);
	setenv("CSG_DECODER_TIMEOUT_MS", "300", 1);
	struct etm_decoder *dec = juno_decoder(log);
	msg[0] = '\0';
	/* the child reads them when it starts, at the first feed */
	CHECK(dec && feed_all(dec, juno_trace, juno_len, 4096) == ETM_DECODE_ERROR);
	unsetenv("CSG_TEST_DECODER_CRASH");
	unsetenv("CSG_TEST_DECODER_FAULT");
	unsetenv("CSG_DECODER_TIMEOUT_MS");
	if (!dec)
		return;
	snprintf(msg, msglen, "%s", etm_decoder_error(dec));
	/* It stays failed, with the same words, until a reset... */
	size_t used = 1;
	CHECK(etm_decoder_feed(dec, juno_trace, 16, &used) == ETM_DECODE_ERROR && used == 0);
	CHECK(etm_decoder_end(dec) == ETM_DECODE_ERROR && strcmp(etm_decoder_error(dec), msg) == 0);
	/* ...after which a new child decodes the trace whole (the fault
	 * variables are read when a child starts). */
	struct log again = {0};
	etm_decoder_set_output(dec, log_elem, &again);
	CHECK(etm_decoder_reset(dec) == ETM_DECODE_OK);
	CHECK(feed_all(dec, juno_trace, juno_len, 4096) == ETM_DECODE_OK);
	CHECK(count_kind(&again, ETM_ELEM_RANGE) > 1000);
	log_free(&again);
	etm_decoder_free(dec);
}

/* The last element is the one error, saying the decode stopped. */
static bool ends_with_one_loss(const struct log *l, const char *msg)
{
	size_t losses = 0;
	for (size_t i = 0; i < l->n; i++)
		losses += l->e[i].kind == ETM_ELEM_ERROR && strstr(l->e[i].message, "decode of this trace stopped");
	return losses == 1 && l->n && l->e[l->n - 1].kind == ETM_ELEM_ERROR &&
	       strcmp(l->e[l->n - 1].message, msg) == 0;
}

static void test_faults(void)
{
	static const struct {
		const char *kind, *says;
	} faults[] = {
		{"segv", "trace decoder crashed (SIGSEGV) decoding buffer ETB_0 (cstrace.bin) bytes 20000-"},
		{"abort", "trace decoder crashed (SIGABRT) decoding buffer ETB_0 (cstrace.bin) bytes 20000-"},
		{"hang", "trace decoder made no progress for 0.3 s decoding buffer ETB_0 (cstrace.bin) bytes 20000-"},
		{"flood", "trace decoder produced more than "},
		{"garble", "trace decoder sent a malformed record decoding buffer ETB_0 (cstrace.bin) bytes 20000-"},
		{"alloc", "trace decoder "},
	};
	for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
		struct log log = {0};
		char msg[600];
		decode_with_fault(faults[i].kind, 20000, &log, msg, sizeof msg);
		if (!strstr(msg, faults[i].says))
			fprintf(stderr, "  %s: %s\n", faults[i].kind, msg);
		CHECK(strstr(msg, faults[i].says) == msg);
		CHECK(strstr(msg, "; decode of this trace stopped") != NULL);
		CHECK(ends_with_one_loss(&log, msg));
		/* what came before the fault was delivered */
		CHECK(count_kind(&log, ETM_ELEM_RANGE) > 100);
		if (!strcmp(faults[i].kind, "alloc"))
			CHECK(strstr(msg, "crashed (SIGABRT)") || strstr(msg, "died (exit status"));
		log_free(&log);
	}
}

/* A real OpenCSD 1.3.3 crash: raw ETE trace that kills it in
 * TrcPktDecodeEtmV4I::mispredictAtom. One error, and we go on. */
static void test_real_crash(void)
{
	char err[512];
	size_t len;
	uint8_t *bad = read_file("testsuite/fixtures/decoder-crash/ete-mispredict.bin", &len);
	struct etm_snapshot *ss = etm_snapshot_load(check_shared("opencsd-snapshots/snapshots-ete/ete_spec_1"),
						    err, sizeof err);
	CHECK(ss && len == 152);
	struct etm_decoder *dec = ss ? etm_snapshot_decoder(ss, 0, -1, NULL, NULL, NULL, err, sizeof err) : NULL;
	CHECK(dec != NULL);
	if (dec && len) {
		struct log log = {0};
		etm_decoder_set_output(dec, log_elem, &log);
		CHECK(feed_all(dec, bad, len, len) == ETM_DECODE_ERROR);
		const char *msg = etm_decoder_error(dec);
		CHECK(strstr(msg, "trace decoder crashed (SIGSEGV) decoding buffer ETB_1 (session1.bin) bytes ") == msg);
		CHECK(ends_with_one_loss(&log, msg));
		log_free(&log);
	}
	etm_decoder_free(dec);
	etm_snapshot_free(ss);
	free(bad);
}

int main(void)
{
	test_wire_roundtrip();
	test_wire_malformed();
	char err[512];
	if (!check_shared_present(check_shared("opencsd-snapshots/snapshots")))
		return check_done("test_etm_decode_child");
	juno = etm_snapshot_load(check_shared("opencsd-snapshots/snapshots/juno_r1_1"), err, sizeof err);
	CHECK(juno != NULL);
	if (!juno)
		return check_done("test_etm_decode_child");
	char *tpath = etm_snapshot_buffer_path(juno, 0);
	juno_trace = read_file(tpath, &juno_len);
	free(tpath);
	CHECK(juno_len == 65536);
	test_same_as_in_process();
	test_memory_callback();
	test_faults();
	test_real_crash();
	etm_snapshot_free(juno);
	free(juno_trace);
	return check_done("test_etm_decode_child");
}
