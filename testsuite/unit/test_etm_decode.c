/* Unit tests for etm/decode.c and etm/snapshot.c: ini parsing, snapshot and
 * capture loading, decoding real recorded trace (OpenCSD snapshots, the
 * Cortex-R5 captures) through every memory path, pausing, and corrupt or
 * truncated input. Range-by-range equality with trc_pkt_lister is checked by
 * testsuite/etm/compare-trc-pkt-lister.sh. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "etm/decode.h"
#include "etm/snapshot.h"
#include "testsuite/unit/check.h"
#include "testsuite/unit/decode_feed.h"

static char *path_of(const char *rel)
{
	/* Enough slots that no caller's path is reused while it is held. */
	static char bufs[64][1024];
	static int next;
	char *b = bufs[next++ % 64];
	snprintf(b, sizeof(bufs[0]), "%s", check_shared(rel));
	return b;
}

static void *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return buf;
}

/* ------------------------------------------------------- element log */

struct log {
	struct etm_elem *e;
	size_t n, cap;
	size_t pause_every;     /* pause after this many elements (0 = never) */
	size_t since_pause;
	size_t pauses;
};

static int log_elem(void *ctx, const struct etm_elem *e)
{
	struct log *l = ctx;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		l->e = realloc(l->e, l->cap * sizeof(*l->e));
	}
	l->e[l->n] = *e;
	l->e[l->n].message = NULL;      /* not kept past the callback */
	l->n++;
	if (l->pause_every && ++l->since_pause >= l->pause_every) {
		l->since_pause = 0;
		l->pauses++;
		return 1;
	}
	return 0;
}

static size_t count_kind(const struct log *l, enum etm_elem_kind k)
{
	size_t n = 0;
	for (size_t i = 0; i < l->n; i++)
		n += l->e[i].kind == k;
	return n;
}

static bool same_ranges(const struct log *a, const struct log *b)
{
	size_t i = 0, j = 0;
	for (;;) {
		while (i < a->n && a->e[i].kind != ETM_ELEM_RANGE)
			i++;
		while (j < b->n && b->e[j].kind != ETM_ELEM_RANGE)
			j++;
		if (i == a->n || j == b->n)
			return i == a->n && j == b->n;
		const struct etm_elem *x = &a->e[i++], *y = &b->e[j++];
		if (x->start != y->start || x->end != y->end || x->trace_id != y->trace_id ||
		    x->num_insns != y->num_insns || x->last_class != y->last_class ||
		    x->isa != y->isa)
			return false;
	}
}


/* When not 0: decode only the first FEED_LIMIT bytes of the trace. */
static size_t feed_limit;

static int decode_snapshot(const char *dir, int only_id, struct log *log, size_t chunk)
{
	char err[512];
	struct etm_snapshot *ss = etm_snapshot_load(dir, err, sizeof(err));
	if (!ss) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	struct etm_decoder *dec = etm_snapshot_decoder(ss, 0, only_id, NULL, NULL, NULL, err, sizeof(err));
	char *tpath = etm_snapshot_buffer_path(ss, 0);
	size_t len = 0;
	uint8_t *data = read_all(tpath, &len);
	int rc = -1;
	if (feed_limit && feed_limit < len)
		len = feed_limit;
	if (dec && data) {
		etm_decoder_set_output(dec, log_elem, log);
		rc = feed_all(dec, data, len, chunk) == ETM_DECODE_ERROR ? -1 : 0;
	} else if (!dec) {
		fprintf(stderr, "%s\n", err);
	}
	free(data);
	free(tpath);
	etm_decoder_free(dec);
	etm_snapshot_free(ss);
	return rc;
}

/* -------------------------------------------------------------- tests */

static void test_ini(void)
{
	static const char text[] =
		"; comment line\r\n"
		"[device]\r\n"
		"  name = ETM_0   ; trailing comment\r\n"
		"type=ETM4\n"
		"\n"
		"# hash comment\n"
		"[ regs ]\n"
		"TRCIDR0(0x078)=0x28000EA1\n"
		"TRCCONFIGR (0x004) = 193\n"
		"ETMCR(id:0x0)=0x10001000\n"
		"BAD(0x1)=banana\n"
		"WIDE(size:64)=0x100000000\n"
		"empty=\n";
	struct etm_ini ini;
	char err[256] = "";
	uint32_t v = 0;

	CHECK(etm_ini_parse(text, sizeof(text) - 1, "t.ini", &ini, err, sizeof(err)) == 0);
	CHECK(ini.nsections == 2);
	const struct etm_ini_section *dev = etm_ini_find(&ini, "DEVICE");
	CHECK(dev != NULL);
	CHECK_STR(etm_ini_get(dev, "Name"), "ETM_0");
	CHECK_STR(etm_ini_get(dev, "type"), "ETM4");
	CHECK(etm_ini_get(dev, "class") == NULL);
	const struct etm_ini_section *regs = etm_ini_find(&ini, "regs");
	CHECK(regs != NULL && regs->nentries == 6);
	CHECK(etm_ini_reg(regs, "TRCIDR0", &v) == 1 && v == 0x28000EA1);
	CHECK(etm_ini_reg(regs, "TRCCONFIGR", &v) == 1 && v == 193);
	CHECK(etm_ini_reg(regs, "etmcr", &v) == 1 && v == 0x10001000);
	CHECK(etm_ini_reg(regs, "TRCIDR", &v) == 0);   /* prefix of a name is not the name */
	CHECK(etm_ini_reg(regs, "BAD", &v) == -1);
	CHECK(etm_ini_reg(regs, "WIDE", &v) == -1);
	CHECK(etm_ini_reg(regs, "EMPTY", &v) == -1);
	CHECK(etm_ini_reg(regs, "MISSING", &v) == 0);
	CHECK_STR(etm_ini_get(regs, "empty"), "");
	etm_ini_free(&ini);

	static const struct {
		const char *text, *want;
	} bad[] = {
		{"[device]\nno equals sign here\n", "bad.ini:2: expected [section] or key=value"},
		{"name=x\n[device]\n", "bad.ini:1: key=value before any [section]"},
		{"[device\nname=x\n", "bad.ini:1: section header without ']'"},
		{"[device]\n=value\n", "bad.ini:2: empty key"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		CHECK(etm_ini_parse(bad[i].text, strlen(bad[i].text), "bad.ini", &ini, err, sizeof(err)) == -1);
		CHECK(strncmp(err, bad[i].want, strlen(bad[i].want)) == 0);
		CHECK(ini.nsections == 0 && ini.sections == NULL);
	}
	static const char binary[] = "[device]\nname=a\0b\n";
	CHECK(etm_ini_parse(binary, sizeof(binary) - 1, "bin.ini", &ini, err, sizeof(err)) == -1);
	CHECK(strstr(err, "NUL") != NULL);
	/* Empty input is a valid, empty ini. */
	CHECK(etm_ini_parse("", 0, "empty.ini", &ini, err, sizeof(err)) == 0 && ini.nsections == 0);
	etm_ini_free(&ini);
}

static void test_core_names(void)
{
	enum etm_core_arch a;
	enum etm_profile p;
	CHECK(etm_core_by_name("Cortex-A53", &a, &p) && a == ETM_CORE_V8 && p == ETM_PROFILE_A);
	CHECK(etm_core_by_name("Cortex-R5", &a, &p) && a == ETM_CORE_V7 && p == ETM_PROFILE_R);
	CHECK(etm_core_by_name("Cortex-A55", &a, &p) && a == ETM_CORE_V8R3);
	CHECK(etm_core_by_name("ARMv7-A", &a, &p) && a == ETM_CORE_V7 && p == ETM_PROFILE_A);
	CHECK(etm_core_by_name("ARMv8.2-R", &a, &p) && a == ETM_CORE_V8 && p == ETM_PROFILE_R);
	CHECK(etm_core_by_name("ARMv8.3-A", &a, &p) && a == ETM_CORE_V8R3);
	CHECK(etm_core_by_name("ARMv9-A", &a, &p) && a == ETM_CORE_AA64);
	CHECK(etm_core_by_name("ARM-AA64", &a, &p) && a == ETM_CORE_AA64 && p == ETM_PROFILE_A);
	CHECK(etm_core_by_name("ARM-aa64-M", &a, &p) && p == ETM_PROFILE_M);
	CHECK(!etm_core_by_name("Cortex-M55", &a, &p));    /* unknown to OpenCSD 1.3.3 */
	CHECK(!etm_core_by_name("ARMv8.2", &a, &p));
	CHECK(!etm_core_by_name("ARMv8-Q", &a, &p));
	CHECK(!etm_core_by_name("", &a, &p));
}

static char tmpdir[64];

static void write_text(const char *name, const char *text)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	FILE *f = fopen(p, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_snapshot_errors(void)
{
	char err[512] = "";
	struct etm_snapshot *ss;

	CHECK(etm_snapshot_load("/nonexistent/dir", err, sizeof(err)) == NULL);
	CHECK(strstr(err, "No such file") != NULL);

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_etm_decode.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		CHECK(!"mkdtemp");
		return;
	}
	CHECK(etm_snapshot_load(tmpdir, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "not a snapshot") != NULL);

	write_text("snapshot.ini", "[snapshot]\nversion=2.0\n[device_list]\ndevice0=etm.ini\n");
	CHECK(etm_snapshot_load(tmpdir, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "unsupported snapshot version 2.0") != NULL);

	write_text("snapshot.ini", "[snapshot]\nversion=1.0\n[device_list]\ndevice0=etm.ini\n");
	CHECK(etm_snapshot_load(tmpdir, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "etm.ini: No such file") != NULL);

	write_text("etm.ini", "[device]\nclass=trace_source\ntype=ETM4\n");
	CHECK(etm_snapshot_load(tmpdir, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "needs name= and type=") != NULL);

	write_text("etm.ini", "[device]\nname=ETM_0\ntype=ETM4\n[regs]\nTRCIDR0=0x28000EA1\n");
	CHECK(etm_snapshot_load(tmpdir, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "no [trace] metadata=") != NULL);

	write_text("snapshot.ini", "[snapshot]\nversion=1.0\n[device_list]\ndevice0=etm.ini\n"
				   "device1=cpu.ini\n[trace]\nmetadata=trace.ini\n");
	write_text("cpu.ini", "[device]\nname=cpu_0\nclass=core\ntype=Cortex-A53\n"
			      "[dump1]\nfile=mem.bin\naddress=0x1000\n"
			      "[dump2]\nfile=mem.bin\naddress=zero\n");
	write_text("trace.ini", "[trace_buffers]\nbuffers=buffer0\n[buffer0]\nname=ETB_0\nfile=trace.bin\n"
				"format=coresight\n[source_buffers]\nETM_0=ETB_0\n[core_trace_sources]\ncpu_0=ETM_0\n");
	CHECK(etm_snapshot_load(tmpdir, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "[dump2] needs a numeric address=") != NULL);

	/* Loads, but ETM_0 lacks required registers: the decoder says so. */
	write_text("cpu.ini", "[device]\nname=cpu_0\nclass=core\ntype=Cortex-A53\n");
	ss = etm_snapshot_load(tmpdir, err, sizeof(err));
	CHECK(ss != NULL);
	if (ss) {
		struct etm_cpu_regs cfg;
		char why[512] = "";
		CHECK(ss->nbuffers == 1 && ss->nsources == 1);
		CHECK(etm_snapshot_source_config(ss, &ss->sources[0], &cfg, why, sizeof(why)) == -1);
		CHECK(strstr(why, "register TRCCONFIGR is missing") != NULL);
		CHECK(etm_snapshot_decoder(ss, 0, -1, NULL, NULL, NULL, err, sizeof(err)) == NULL);
		CHECK(strstr(err, "no source could be set up") != NULL);
		etm_snapshot_free(ss);
	}

	/* An unknown buffer format is an error, not a guess. */
	write_text("etm.ini", "[device]\nname=ETM_0\ntype=ETM4\n[regs]\nTRCIDR0=0x28000EA1\n"
			      "TRCIDR2=0x488\nTRCCONFIGR=0xC1\nTRCTRACEIDR=0x10\n");
	write_text("trace.ini", "[trace_buffers]\nbuffers=buffer0\n[buffer0]\nname=ETB_0\nfile=trace.bin\n"
				"format=mystery\n[source_buffers]\nETM_0=ETB_0\n[core_trace_sources]\ncpu_0=ETM_0\n");
	ss = etm_snapshot_load(tmpdir, err, sizeof(err));
	CHECK(ss != NULL);
	if (ss) {
		CHECK(etm_snapshot_decoder(ss, 0, -1, NULL, NULL, NULL, err, sizeof(err)) == NULL);
		CHECK(strstr(err, "unknown format=mystery") != NULL);
		etm_snapshot_free(ss);
	}
	static const char *files[] = {"snapshot.ini", "etm.ini", "cpu.ini", "trace.ini"};
	for (size_t i = 0; i < 4; i++) {
		char p[256];
		snprintf(p, sizeof(p), "%s/%s", tmpdir, files[i]);
		unlink(p);
	}
	rmdir(tmpdir);
}

static void test_snapshot_model(void)
{
	char err[512];
	struct etm_snapshot *ss = etm_snapshot_load(path_of("opencsd-snapshots/snapshots/TC2"), err, sizeof(err));
	CHECK(ss != NULL);
	if (!ss)
		return;
	/* Sources sorted by name, cores from [core_trace_sources]. */
	CHECK(ss->nsources == 6);
	CHECK_STR(ss->sources[0].name, "ETM_0");
	CHECK_STR(ss->sources[0].core, "cpu_0");
	CHECK_STR(ss->sources[3].name, "ITM_0");
	CHECK(ss->sources[3].core == NULL);
	CHECK_STR(ss->sources[4].core, "cpu_3");
	struct etm_cpu_regs cfg;
	char why[256];
	CHECK(etm_snapshot_source_config(ss, &ss->sources[0], &cfg, why, sizeof(why)) == 0);
	CHECK(cfg.unit == ETM_UNIT_ETMV3 && cfg.etmcr == 0x10001860 &&
	      etm_trace_id(&cfg) == 0x10 && cfg.core_arch == ETM_CORE_V7);
	CHECK(etm_snapshot_source_config(ss, &ss->sources[3], &cfg, why, sizeof(why)) == 1);
	CHECK(etm_snapshot_source_config(ss, &ss->sources[5], &cfg, why, sizeof(why)) == 0);
	CHECK(cfg.unit == ETM_UNIT_PTM && etm_trace_id(&cfg) == 0x14);
	const struct etm_ss_device *cpu = etm_snapshot_device(ss, "cpu_0");
	CHECK(cpu && cpu->ndumps == 1 && cpu->dumps[0].address == 0xC0008000 &&
	      cpu->dumps[0].length == 0x50000);
	etm_snapshot_free(ss);

	/* STM-only: the decoder refuses and says there is no instruction trace. */
	ss = etm_snapshot_load(path_of("opencsd-snapshots/snapshots/stm_only"), err, sizeof(err));
	CHECK(ss != NULL);
	if (ss) {
		bool no_insn = false;
		CHECK(etm_snapshot_decoder(ss, 0, -1, NULL, NULL, &no_insn, err, sizeof(err)) == NULL);
		CHECK(no_insn);
		etm_snapshot_free(ss);
	}
}

/* juno_r1_1: 6 ETMv4 sources in one formatted ETB buffer, kernel image. */
static void test_decode_juno(void)
{
	const char *dir = path_of("opencsd-snapshots/snapshots/juno_r1_1");
	struct log all = {0}, paused = {0}, small = {0}, id10 = {0};

	CHECK(decode_snapshot(dir, -1, &all, 1 << 20) == 0);
	size_t nr = count_kind(&all, ETM_ELEM_RANGE);
	CHECK(nr > 1000);
	size_t calls = 0, rets = 0, bad = 0, ids = 0;
	for (size_t i = 0; i < all.n; i++) {
		const struct etm_elem *e = &all.e[i];
		if (e->kind != ETM_ELEM_RANGE)
			continue;
		bad += e->end <= e->start || e->num_insns == 0 || e->isa != ETM_ISA_A64 ||
		       (e->end - e->start) != 4ull * e->num_insns;
		ids |= 1u << (e->trace_id - 0x10);
		calls += e->last_class == ETM_INSN_CALL && e->last_taken;
		rets += e->last_class == ETM_INSN_RETURN;
	}
	CHECK(bad == 0);
	CHECK(calls > 0 && rets > 0);
	CHECK(ids & 1);
	CHECK(count_kind(&all, ETM_ELEM_GAP) > 0);          /* NO_SYNC, TRACE_ON */
	CHECK(count_kind(&all, ETM_ELEM_EXCEPTION) > 0);
	CHECK(count_kind(&all, ETM_ELEM_CONTEXT) > 0);
	CHECK(count_kind(&all, ETM_ELEM_END) == 6);          /* one per trace ID */
	CHECK(count_kind(&all, ETM_ELEM_ERROR) == 0);

	/* Pausing every 7 elements (decode in windows) changes nothing. */
	paused.pause_every = 7;
	CHECK(decode_snapshot(dir, -1, &paused, 1 << 20) == 0);
	CHECK(paused.pauses > 100);
	CHECK(paused.n == all.n && same_ranges(&all, &paused));

	/* Nor does feeding 64 bytes at a time. */
	CHECK(decode_snapshot(dir, -1, &small, 64) == 0);
	CHECK(small.n == all.n && same_ranges(&all, &small));

	/* --id: exactly the ID 0x10 subsequence. */
	CHECK(decode_snapshot(dir, 0x10, &id10, 1 << 20) == 0);
	struct log filtered = {0};
	for (size_t i = 0; i < all.n; i++)
		if (all.e[i].trace_id == 0x10)
			log_elem(&filtered, &all.e[i]);
	CHECK(count_kind(&id10, ETM_ELEM_RANGE) > 0);
	CHECK(same_ranges(&filtered, &id10));
	free(filtered.e);
	free(all.e);
	free(paused.e);
	free(small.e);
	free(id10.e);
}

/* Memory through a callback (the /proc/PID/mem path) decodes as the file. */
struct mem_image {
	uint64_t base;
	uint8_t *data;
	size_t len;
	size_t calls;
	unsigned bad_ids;
};

static uint32_t read_image(void *ctx, uint64_t addr, uint8_t trace_id, uint32_t len, uint8_t *buf)
{
	struct mem_image *m = ctx;
	m->calls++;
	m->bad_ids += trace_id < 0x10 || trace_id > 0x15;
	if (addr < m->base || addr - m->base >= m->len)
		return 0;
	size_t avail = m->len - (size_t)(addr - m->base);
	uint32_t n = len < avail ? len : (uint32_t)avail;
	memcpy(buf, m->data + (addr - m->base), n);
	return n;
}

static struct etm_decoder *juno_decoder(void)
{
	char err[512];
	struct etm_snapshot *ss = etm_snapshot_load(path_of("opencsd-snapshots/snapshots/juno_r1_1"), err, sizeof(err));
	struct etm_decoder *dec = etm_decoder_new(ETM_STREAM_FRAMED, err, sizeof(err));
	for (size_t i = 0; ss && dec && i < ss->nsources; i++) {
		struct etm_cpu_regs cfg;
		char why[256];
		if (etm_snapshot_source_config(ss, &ss->sources[i], &cfg, why, sizeof(why)) == 0)
			CHECK(etm_decoder_add_source(dec, &cfg) == 0);
	}
	etm_snapshot_free(ss);
	return dec;
}

/* A trace cut inside a 16-byte frame decodes as far as its whole frames
 * go, whatever the feeding chunks (odd ones cut frames between calls), and
 * says so once, at the byte where the whole frames end. */
static void test_cut_mid_frame(void)
{
	const char *dir = path_of("opencsd-snapshots/snapshots/juno_r1_1");
	struct log whole = {0}, cut = {0}, cut_odd = {0};
	size_t at = 16 * 1000;

	feed_limit = at;
	CHECK(decode_snapshot(dir, -1, &whole, 1 << 20) == 0);
	feed_limit = at + 9;
	CHECK(decode_snapshot(dir, -1, &cut, 1 << 20) == 0);
	CHECK(decode_snapshot(dir, -1, &cut_odd, 7) == 0);
	feed_limit = 0;
	CHECK(count_kind(&whole, ETM_ELEM_RANGE) > 100);
	CHECK(same_ranges(&whole, &cut));
	CHECK(same_ranges(&whole, &cut_odd));
	size_t errs = count_kind(&whole, ETM_ELEM_ERROR);
	CHECK(count_kind(&cut, ETM_ELEM_ERROR) == errs + 1);
	CHECK(count_kind(&cut_odd, ETM_ELEM_ERROR) == errs + 1);
	const struct etm_elem *last = NULL;
	for (size_t i = 0; i < cut_odd.n; i++)
		if (cut_odd.e[i].kind == ETM_ELEM_ERROR)
			last = &cut_odd.e[i];
	CHECK(last && last->index == at);
	free(whole.e);
	free(cut.e);
	free(cut_odd.e);
}

static void test_memory_paths(void)
{
	const char *dump = path_of("opencsd-snapshots/snapshots/juno_r1_1/kernel_dump.bin");
	const char *trace = path_of("opencsd-snapshots/snapshots/juno_r1_1/cstrace.bin");
	struct mem_image img = {.base = 0xFFFFFFC000081000ull};
	size_t tlen = 0;
	uint8_t *tdata = read_all(trace, &tlen);
	struct log by_file = {0}, by_cb = {0}, by_buf = {0};

	img.data = read_all(dump, &img.len);
	CHECK(img.data && tdata);
	if (!img.data || !tdata)
		goto out;

	struct etm_decoder *dec = juno_decoder();
	CHECK(etm_decoder_add_mem_file(dec, img.base, dump, 0, 0) == 0);
	etm_decoder_set_output(dec, log_elem, &by_file);
	CHECK(feed_all(dec, tdata, tlen, 4096) == ETM_DECODE_OK);
	etm_decoder_free(dec);

	dec = juno_decoder();
	CHECK(etm_decoder_add_mem_callback(dec, img.base, img.base + img.len, read_image, &img) == 0);
	etm_decoder_set_output(dec, log_elem, &by_cb);
	CHECK(feed_all(dec, tdata, tlen, 4096) == ETM_DECODE_OK);
	etm_decoder_free(dec);
	CHECK(img.calls > 0 && img.bad_ids == 0);
	CHECK(count_kind(&by_file, ETM_ELEM_RANGE) > 1000);
	CHECK(same_ranges(&by_file, &by_cb));

	dec = juno_decoder();
	CHECK(etm_decoder_add_mem_buffer(dec, img.base, img.data, img.len) == 0);
	/* A second image over the same addresses is refused, clearly. */
	CHECK(etm_decoder_add_mem_buffer(dec, img.base + 0x100, img.data, 16) == -1);
	CHECK(strstr(etm_decoder_error(dec), "overlaps an earlier image") != NULL);
	CHECK(etm_decoder_add_mem_file(dec, 0x1000, "/nonexistent.bin", 0, 0) == -1);
	CHECK(strstr(etm_decoder_error(dec), "/nonexistent.bin: No such file") != NULL);
	CHECK(etm_decoder_add_mem_file(dec, 0x1000, dump, 1u << 30, 0) == -1);
	CHECK(strstr(etm_decoder_error(dec), "beyond the end of the file") != NULL);
	CHECK(etm_decoder_add_elf(dec, dump, 0) == -1);
	CHECK(strstr(etm_decoder_error(dec), "not an ELF file") != NULL);
	etm_decoder_set_output(dec, log_elem, &by_buf);
	CHECK(feed_all(dec, tdata, tlen, 4096) == ETM_DECODE_OK);
	etm_decoder_free(dec);
	CHECK(same_ranges(&by_file, &by_buf));

	/* Without memory: no ranges, only "no memory here" elements. */
	struct log nomem = {0};
	dec = juno_decoder();
	etm_decoder_set_output(dec, log_elem, &nomem);
	CHECK(feed_all(dec, tdata, tlen, 4096) == ETM_DECODE_OK);
	etm_decoder_free(dec);
	CHECK(count_kind(&nomem, ETM_ELEM_RANGE) == 0);
	CHECK(count_kind(&nomem, ETM_ELEM_ADDR_NACC) > 0);
	free(nomem.e);
out:
	free(img.data);
	free(tdata);
	free(by_file.e);
	free(by_cb.e);
	free(by_buf.e);
}

static void test_decoder_config_errors(void)
{
	char err[256] = "";
	struct etm_cpu_regs cfg = {
		.unit = ETM_UNIT_ETMV4, .core_arch = ETM_CORE_V8, .profile = ETM_PROFILE_A,
		.trcidr = {[0] = 0x28000EA1, [1] = 0x4100F403, [2] = 0x488},
		.trcconfigr = 0xC1, .trctraceidr = 0x10,
	};
	struct etm_decoder *dec = etm_decoder_new(ETM_STREAM_RAW, err, sizeof(err));
	CHECK(dec != NULL);
	if (!dec)
		return;
	size_t used;
	CHECK(etm_decoder_feed(dec, (const uint8_t *)"x", 1, &used) == ETM_DECODE_ERROR);
	CHECK(strstr(etm_decoder_error(dec), "no trace source") != NULL);
	CHECK(etm_decoder_add_source(dec, &cfg) == 0);
	CHECK(etm_decoder_add_source(dec, &cfg) == -1);
	CHECK(strstr(etm_decoder_error(dec), "one source only") != NULL);
	etm_decoder_free(dec);

	dec = etm_decoder_new(ETM_STREAM_FRAMED, err, sizeof(err));
	cfg.trctraceidr = 0;
	CHECK(etm_decoder_add_source(dec, &cfg) == -1);
	CHECK(strstr(etm_decoder_error(dec), "reserved") != NULL);
	cfg.trctraceidr = 0x10;
	CHECK(etm_decoder_add_source(dec, &cfg) == 0);
	/* The same trace ID twice cannot be told apart: refused. */
	CHECK(etm_decoder_add_source(dec, &cfg) == -1);
	CHECK(etm_decoder_num_sources(dec) == 1);
	etm_decoder_free(dec);

	CHECK(etm_decoder_new((enum etm_stream_format)42, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "unknown trace format") != NULL);
}

/* xorshift: the same "random" corruption every run. */
static uint32_t rng_state = 0x12345678;
static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

/* Corrupt and truncated trace: decoding ends, with errors or gaps, never a crash. */
static void test_corrupt_input(void)
{
	const char *trace = path_of("opencsd-snapshots/snapshots/juno_r1_1/cstrace.bin");
	const char *dump = path_of("opencsd-snapshots/snapshots/juno_r1_1/kernel_dump.bin");
	size_t tlen = 0;
	uint8_t *orig = read_all(trace, &tlen);
	CHECK(orig != NULL);
	if (!orig)
		return;
	for (int round = 0; round < 12; round++) {
		uint8_t *data = malloc(tlen);
		size_t len = tlen;
		memcpy(data, orig, tlen);
		if (round < 8) {
			for (int k = 0; k < 64 << round; k++)
				data[rng() % tlen] ^= (uint8_t)(1u << (rng() % 8));
		} else if (round < 11) {
			len = rng() % tlen;     /* truncated anywhere, even mid-frame */
		} else {
			for (size_t k = 0; k < tlen; k++)
				data[k] = (uint8_t)rng();
		}
		struct etm_decoder *dec = juno_decoder();
		struct log l = {0};
		CHECK(etm_decoder_add_mem_file(dec, 0xFFFFFFC000081000ull, dump, 0, 0) == 0);
		etm_decoder_set_output(dec, log_elem, &l);
		enum etm_decode_status st = feed_all(dec, data, len, 1000);
		CHECK(st == ETM_DECODE_OK);
		CHECK(etm_decoder_bytes(dec) == len);
		etm_decoder_free(dec);
		bool sane = true;
		for (size_t i = 0; i < l.n; i++)
			if (l.e[i].kind == ETM_ELEM_RANGE && l.e[i].end <= l.e[i].start)
				sane = false;
		CHECK(sane);
		if (round < 8)   /* flipped bits must show up as gaps or errors */
			CHECK(count_kind(&l, ETM_ELEM_GAP) + count_kind(&l, ETM_ELEM_ERROR) > 0);
		free(l.e);
		free(data);
	}

	/* Random bytes as a raw ETE stream: never in sync, so a gap and no range. */
	struct etm_cpu_regs ete = {
		.unit = ETM_UNIT_ETE, .core_arch = ETM_CORE_AA64, .profile = ETM_PROFILE_A,
		.trcidr = {[0] = 0x28000EA1, [1] = 0x4100F403, [2] = 0x488},
		.trcconfigr = 0xC1, .trctraceidr = 0x10, .trcdevarch = 0x47705A13,
	};
	char err[256];
	struct etm_decoder *dec = etm_decoder_new(ETM_STREAM_RAW, err, sizeof(err));
	struct log l = {0};
	CHECK(etm_decoder_add_source(dec, &ete) == 0);
	etm_decoder_set_output(dec, log_elem, &l);
	uint8_t junk[8192];
	for (size_t k = 0; k < sizeof(junk); k++)
		junk[k] = (uint8_t)rng();
	CHECK(feed_all(dec, junk, sizeof(junk), 512) == ETM_DECODE_OK);
	CHECK(count_kind(&l, ETM_ELEM_GAP) >= 1 && count_kind(&l, ETM_ELEM_RANGE) == 0);
	etm_decoder_free(dec);
	free(l.e);
	free(orig);
}

/* The Zephyr capture holds an ETMv3 data-trace packet that OpenCSD cannot
 * decode (a fatal error, where trc_pkt_lister stops). Stop mode stops there
 * and stays stopped until reset; recover mode reports it and goes on. */
static void decode_capture(const char *cap, bool recover, struct log *l, enum etm_decode_status *st,
			   uint64_t *bytes, bool test_reset)
{
	char err[512];
	struct etm_snapshot *ss = etm_snapshot_load(cap, err, sizeof(err));
	struct etm_decoder *dec = ss ? etm_snapshot_decoder(ss, 0, -1, NULL, NULL, NULL, err, sizeof(err)) : NULL;
	char *tpath = ss ? etm_snapshot_buffer_path(ss, 0) : NULL;
	size_t len = 0;
	uint8_t *data = tpath ? read_all(tpath, &len) : NULL;
	CHECK(dec && data);
	if (dec && data) {
		etm_decoder_set_recover(dec, recover);
		etm_decoder_set_output(dec, log_elem, l);
		*st = feed_all(dec, data, len, 4096);
		*bytes = etm_decoder_bytes(dec);
		if (test_reset) {
			size_t used;
			etm_decoder_set_output(dec, NULL, NULL);
			CHECK(etm_decoder_feed(dec, data, 16, &used) == ETM_DECODE_ERROR);
			CHECK(etm_decoder_reset(dec) == ETM_DECODE_OK);
			CHECK(etm_decoder_feed(dec, data, 4096, &used) == ETM_DECODE_OK && used == 4096);
		}
	}
	free(data);
	free(tpath);
	etm_decoder_free(dec);
	etm_snapshot_free(ss);
}

static void test_fatal_error(void)
{
	const char *cap = path_of("etmv3-cortex-r5/zephyr");
	struct log stop = {0}, go_on = {0};
	enum etm_decode_status st_stop = ETM_DECODE_OK, st_go = ETM_DECODE_ERROR;
	uint64_t b_stop = 0, b_go = 0;

	decode_capture(cap, false, &stop, &st_stop, &b_stop, true);
	decode_capture(cap, true, &go_on, &st_go, &b_go, false);
	CHECK(st_stop == ETM_DECODE_ERROR);
	CHECK(count_kind(&stop, ETM_ELEM_ERROR) == 1);
	CHECK(b_stop > 0 && b_stop < 65536);
	CHECK(st_go == ETM_DECODE_OK && b_go == 65536);
	CHECK(count_kind(&go_on, ETM_ELEM_ERROR) >= 1);
	size_t ns = count_kind(&stop, ETM_ELEM_RANGE), ng = count_kind(&go_on, ETM_ELEM_RANGE);
	CHECK(ns > 1000 && ng >= ns);
	/* Up to the error both saw the same ranges. */
	struct log prefix = {0};
	for (size_t i = 0, r = 0; i < go_on.n && r < ns; i++) {
		log_elem(&prefix, &go_on.e[i]);
		r += go_on.e[i].kind == ETM_ELEM_RANGE;
	}
	CHECK(same_ranges(&stop, &prefix));
	free(prefix.e);
	free(stop.e);
	free(go_on.e);
}

/* A capture (trace.bin + etm.ini + ELF) decodes the same from the ELF as
 * from the snapshot we write for it (segments dumped to files). */
static void test_capture_roundtrip(void)
{
	const char *cap = path_of("etmv3-cortex-r5/freertos");
	char err[512], out[64];
	struct log from_elf = {0}, from_dump = {0};

	struct etm_snapshot *ss = etm_snapshot_load(cap, err, sizeof(err));
	CHECK(ss != NULL);
	if (!ss) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	CHECK(ss->is_capture && ss->elf_path && strstr(ss->elf_path, "freertos.elf"));
	CHECK(ss->nsources == 1 && ss->nbuffers == 1);
	struct etm_cpu_regs cfg;
	char why[256];
	CHECK(etm_snapshot_source_config(ss, &ss->sources[0], &cfg, why, sizeof(why)) == 0);
	CHECK(cfg.unit == ETM_UNIT_ETMV3 && cfg.etmidr == 0x4104f230 &&
	      cfg.etmcr == 0xc40 && etm_trace_id(&cfg) == 0x10);

	snprintf(out, sizeof(out), "/tmp/test_etm_capture.XXXXXX");
	CHECK(mkdtemp(out) != NULL);
	CHECK(etm_snapshot_write(ss, out, err, sizeof(err)) == 0);
	etm_snapshot_free(ss);

	CHECK(decode_snapshot(cap, -1, &from_elf, 1 << 16) == 0);
	CHECK(decode_snapshot(out, -1, &from_dump, 1 << 16) == 0);
	size_t n = count_kind(&from_elf, ETM_ELEM_RANGE), thumb = 0, arm = 0;
	CHECK(n > 10000);
	CHECK(count_kind(&from_elf, ETM_ELEM_ADDR_NACC) == 0);  /* every address in the ELF */
	CHECK(same_ranges(&from_elf, &from_dump));
	for (size_t i = 0; i < from_elf.n; i++) {
		thumb += from_elf.e[i].kind == ETM_ELEM_RANGE && from_elf.e[i].isa == ETM_ISA_THUMB;
		arm += from_elf.e[i].kind == ETM_ELEM_RANGE && from_elf.e[i].isa == ETM_ISA_ARM;
	}
	CHECK(thumb + arm == n);

	/* Writing a snapshot of a snapshot is refused. */
	struct etm_snapshot *again = etm_snapshot_load(out, err, sizeof(err));
	CHECK(again && !again->is_capture);
	if (again) {
		CHECK(etm_snapshot_write(again, out, err, sizeof(err)) == -1);
		CHECK(strstr(err, "already an OpenCSD snapshot") != NULL);
		etm_snapshot_free(again);
	}
	DIR *d = opendir(out);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char p[400];
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", out, de->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(out);
	free(from_elf.e);
	free(from_dump.e);
}

int main(void)
{
	test_ini();
	test_core_names();
	test_decoder_config_errors();
	if (!check_shared_present(check_shared("opencsd-snapshots/snapshots")))
		return check_done("test_etm_decode");
	test_snapshot_errors();
	test_snapshot_model();
	test_decode_juno();
	test_cut_mid_frame();
	test_memory_paths();
	test_corrupt_input();
	test_fatal_error();
	test_capture_roundtrip();
	return check_done("test_etm_decode");
}
