/* btrace documents: parsed back with expat and checked element by element
 * (block order and gdbserver's delta semantics, the CoreSight raw document
 * with registers from the fixture boards, btrace-conf). */
#include <expat.h>
#include <stdlib.h>
#include <string.h>

#include "etm/btrace_xml.h"
#include "etm/perf.h"
#include "common/hex.h"
#include "testsuite/unit/check.h"

#define MAX_EL 64
struct el {
	char name[32];
	char attrs[16][2][64];
	int n_attrs;
	int depth;
};
struct doc {
	struct el el[MAX_EL];
	int n, depth;
	struct buf text;       /* character data of <raw> */
	bool in_raw;
};

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct doc *d = ud;
	if (!strcmp(name, "raw"))
		d->in_raw = true;
	if (d->n < MAX_EL) {
		struct el *e = &d->el[d->n++];
		snprintf(e->name, sizeof(e->name), "%s", name);
		e->depth = d->depth;
		for (int i = 0; atts[i] && e->n_attrs < 16; i += 2, e->n_attrs++) {
			snprintf(e->attrs[e->n_attrs][0], 64, "%s", atts[i]);
			snprintf(e->attrs[e->n_attrs][1], 64, "%s", atts[i + 1]);
		}
	}
	d->depth++;
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
	struct doc *d = ud;
	d->depth--;
	if (!strcmp(name, "raw"))
		d->in_raw = false;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
	struct doc *d = ud;
	if (d->in_raw)
		buf_append(&d->text, s, (size_t)len);
}

/* Parse TEXT; false when expat rejects it. */
static bool parse(const char *text, struct doc *d)
{
	memset(d, 0, sizeof(*d));
	XML_Parser p = XML_ParserCreate(NULL);
	XML_SetUserData(p, d);
	XML_SetElementHandler(p, on_start, on_end);
	XML_SetCharacterDataHandler(p, on_text);
	bool ok = XML_Parse(p, text, (int)strlen(text), 1) == XML_STATUS_OK;
	if (!ok)
		fprintf(stderr, "expat: %s at line %lu\n", XML_ErrorString(XML_GetErrorCode(p)),
			(unsigned long)XML_GetCurrentLineNumber(p));
	XML_ParserFree(p);
	return ok;
}

static const char *attr(const struct el *e, const char *name)
{
	for (int i = 0; i < e->n_attrs; i++)
		if (!strcmp(e->attrs[i][0], name))
			return e->attrs[i][1];
	return NULL;
}

static int count(const struct doc *d, const char *name)
{
	int n = 0;
	for (int i = 0; i < d->n; i++)
		n += !strcmp(d->el[i].name, name);
	return n;
}

static const struct el *nth(const struct doc *d, const char *name, int k)
{
	for (int i = 0; i < d->n; i++)
		if (!strcmp(d->el[i].name, name) && k-- == 0)
			return &d->el[i];
	return NULL;
}

/* Block K as "begin-end". */
static const char *blk(const struct doc *d, int k)
{
	static char s[80];
	const struct el *e = nth(d, "block", k);
	if (!e)
		return "(none)";
	snprintf(s, sizeof(s), "%s-%s", attr(e, "begin"), attr(e, "end"));
	return s;
}

static void test_blocks(void)
{
	const struct btrace_range r[] = {
		{ 0x1000, 0x1010, 0x100c },   /* oldest: ends in a branch at 0x100c */
		{ 0x2000, 0x2008, 0x2004 },
		{ 0x3000, 0x3020, 0x301c },   /* newest */
	};
	struct buf out = BUF_INIT;
	struct doc d;

	btrace_xml_blocks(&out, r, 3, 0x3010, BTRACE_READ_ALL);
	CHECK(parse(out.data, &d));
	CHECK(!strcmp(d.el[0].name, "btrace") && attr(&d.el[0], "version") && !strcmp(attr(&d.el[0], "version"), "1.0"));
	CHECK(count(&d, "block") == 3);
	CHECK_STR(blk(&d, 0), "0x3000-0x3010");   /* newest first, ends at the PC */
	CHECK_STR(blk(&d, 1), "0x2000-0x2004");   /* end = last instruction, inclusive */
	CHECK_STR(blk(&d, 2), "0x1000-0x100c");
	CHECK(strstr(out.data, "begin=\"0x0\"") == NULL);
	buf_reset(&out);

	btrace_xml_blocks(&out, r, 3, 0x3010, BTRACE_READ_NEW);
	CHECK(parse(out.data, &d) && count(&d, "block") == 3 && !strcmp(blk(&d, 2), "0x1000-0x100c"));
	buf_reset(&out);

	/* delta: the oldest new block starts at 0 for gdb to stitch. */
	btrace_xml_blocks(&out, r, 3, 0x3010, BTRACE_READ_DELTA);
	CHECK(parse(out.data, &d) && count(&d, "block") == 3);
	CHECK_STR(blk(&d, 0), "0x3000-0x3010");
	CHECK_STR(blk(&d, 2), "0x0-0x100c");
	buf_reset(&out);

	/* PC after the last recorded branch: its own block, newest. */
	btrace_xml_blocks(&out, r, 3, 0x5000, BTRACE_READ_ALL);
	CHECK(parse(out.data, &d) && count(&d, "block") == 4);
	CHECK_STR(blk(&d, 0), "0x5000-0x5000");
	CHECK_STR(blk(&d, 1), "0x3000-0x301c");
	CHECK_STR(blk(&d, 3), "0x1000-0x100c");
	buf_reset(&out);
	btrace_xml_blocks(&out, r, 1, 0x5000, BTRACE_READ_DELTA);
	CHECK(parse(out.data, &d) && count(&d, "block") == 2);
	CHECK_STR(blk(&d, 0), "0x5000-0x5000");
	CHECK_STR(blk(&d, 1), "0x0-0x100c");
	buf_reset(&out);

	/* PC on the newest range's last instruction. */
	btrace_xml_blocks(&out, r, 3, 0x301c, BTRACE_READ_ALL);
	CHECK(parse(out.data, &d) && count(&d, "block") == 3 && !strcmp(blk(&d, 0), "0x3000-0x301c"));
	buf_reset(&out);

	/* Nothing new: delta = {0, pc}; new = empty; all = current instruction. */
	btrace_xml_blocks(&out, NULL, 0, 0x4242, BTRACE_READ_DELTA);
	CHECK(parse(out.data, &d) && count(&d, "block") == 1 && !strcmp(blk(&d, 0), "0x0-0x4242"));
	buf_reset(&out);
	btrace_xml_blocks(&out, NULL, 0, 0x4242, BTRACE_READ_NEW);
	CHECK(parse(out.data, &d) && count(&d, "block") == 0 && count(&d, "btrace") == 1);
	buf_reset(&out);
	btrace_xml_blocks(&out, NULL, 0, 0x4242, BTRACE_READ_ALL);
	CHECK(parse(out.data, &d) && count(&d, "block") == 1 && !strcmp(blk(&d, 0), "0x4242-0x4242"));
	buf_free(&out);

	enum btrace_read_type t;
	CHECK(btrace_read_type_parse("all", &t) == 0 && t == BTRACE_READ_ALL);
	CHECK(btrace_read_type_parse("new", &t) == 0 && t == BTRACE_READ_NEW);
	CHECK(btrace_read_type_parse("delta", &t) == 0 && t == BTRACE_READ_DELTA);
	CHECK(btrace_read_type_parse("al", &t) == -1);
}

static void etm_doc(const char *fixture, struct buf *out, struct doc *d, const uint8_t *raw, size_t len)
{
	char err[ETM_ERR_LEN];
	struct etm_source *src = etm_perf_source_new(fixture, "/proc", err, sizeof(err));
	CHECK(src != NULL);
	if (!src)
		return;
	int n = src->ops->nr_cpus(src);
	struct etm_cpu_regs regs[16];
	for (int c = 0; c < n && c < 16; c++)
		CHECK(src->ops->cpu_regs(src, c, &regs[c], err, sizeof(err)) == 0);
	struct etm_sink_info sink;
	src->ops->sink(src, &sink);
	buf_reset(out);
	CHECK(btrace_xml_etm(out, regs, (size_t)n, &sink, 0, raw, len, err, sizeof(err)) == 0);
	CHECK(parse(out->data, d));
	etm_source_free(src);
}

static void test_etm(void)
{
	struct buf out = BUF_INIT;
	struct doc d;
	uint8_t raw[300];
	for (size_t i = 0; i < sizeof(raw); i++)
		raw[i] = (uint8_t)(i * 31 + 7);

	etm_doc("testsuite/fixtures/sysfs/juno-etmv4", &out, &d, raw, sizeof(raw));
	CHECK(!strcmp(attr(&d.el[0], "version"), "1.0"));
	CHECK(count(&d, "etm") == 1 && count(&d, "etm-config") == 1 && count(&d, "source-config") == 1);
	CHECK(count(&d, "cpu-etm-config") == 6 && count(&d, "etmv4-config") == 6 && count(&d, "sink-config") == 1);
	const struct el *c0 = nth(&d, "cpu-etm-config", 0), *c5 = nth(&d, "cpu-etm-config", 5);
	CHECK(c0 && !strcmp(attr(c0, "protocol"), "0x2") && !strcmp(attr(c0, "core_prof"), "0x3") &&
	      !strcmp(attr(c0, "arch_ver"), "0x3") && !strcmp(attr(c0, "cpu_id"), "0x0"));
	CHECK(c5 && !strcmp(attr(c5, "cpu_id"), "0x5"));
	const struct el *v4 = nth(&d, "etmv4-config", 1);
	CHECK(v4 && !strcmp(attr(v4, "reg_idr0"), "0x28000ea1") && !strcmp(attr(v4, "reg_idr1"), "0x4100f403") &&
	      !strcmp(attr(v4, "reg_idr2"), "0x488") && !strcmp(attr(v4, "reg_idr8"), "0x0") &&
	      !strcmp(attr(v4, "reg_configr"), "0x0") && !strcmp(attr(v4, "reg_traceidr"), "0x12"));
	CHECK(v4 && attr(v4, "reg_devarch") == NULL);
	/* element nesting: cpu-etm-config inside source-config inside etm-config */
	CHECK(c0 && nth(&d, "source-config", 0) && c0->depth == nth(&d, "source-config", 0)->depth + 1);
	const struct el *sk = nth(&d, "sink-config", 0);
	CHECK(sk && !strcmp(attr(sk, "formatted"), "0x1") && !strcmp(attr(sk, "frame_aligned"), "0x1") &&
	      !strcmp(attr(sk, "reset_on_4x_sync"), "0x1") && !strcmp(attr(sk, "fsyncs"), "0x0") &&
	      !strcmp(attr(sk, "hsyncs"), "0x0") && attr(sk, "sink_id") == NULL);
	/* <raw> round-trips the bytes. */
	char *hex = d.text.data;
	while (hex && (*hex == '\n' || *hex == ' '))
		hex++;
	size_t hl = hex ? strcspn(hex, "\n ") : 0;
	uint8_t back[300];
	CHECK(hl == 600 && hex_decode(hex, hl, back) == 300 && memcmp(back, raw, 300) == 0);
	buf_free(&d.text);

	etm_doc("testsuite/fixtures/sysfs/ete-trbe", &out, &d, NULL, 0);
	CHECK(count(&d, "raw") == 0 && count(&d, "etmv4-config") == 2);
	c0 = nth(&d, "cpu-etm-config", 0);
	CHECK(c0 && !strcmp(attr(c0, "protocol"), "0x6") && !strcmp(attr(c0, "arch_ver"), "0x5"));
	v4 = nth(&d, "etmv4-config", 0);
	CHECK(v4 && attr(v4, "reg_devarch") && !strcmp(attr(v4, "reg_devarch"), "0x47715a13"));
	sk = nth(&d, "sink-config", 0);
	CHECK(sk && !strcmp(attr(sk, "formatted"), "0x0"));
	buf_free(&d.text);

	etm_doc("testsuite/fixtures/sysfs/a15-ptm", &out, &d, raw, 16);
	CHECK(count(&d, "etmv3-config") == 5 && count(&d, "etmv4-config") == 0);
	CHECK(!strcmp(attr(nth(&d, "cpu-etm-config", 0), "protocol"), "0x1"));
	CHECK(!strcmp(attr(nth(&d, "cpu-etm-config", 4), "protocol"), "0x4"));
	CHECK(!strcmp(attr(nth(&d, "cpu-etm-config", 4), "arch_ver"), "0x2"));
	const struct el *v3 = nth(&d, "etmv3-config", 3);
	CHECK(v3 && !strcmp(attr(v3, "reg_idr"), "0x411cf312") && !strcmp(attr(v3, "reg_ccer"), "0x34c01ac2") &&
	      !strcmp(attr(v3, "reg_trc_id"), "0x16") && !strcmp(attr(v3, "reg_ctrl"), "0x0"));
	buf_free(&d.text);

	/* trace_id and sink name attributes, and a refusal for bad registers. */
	struct etm_cpu_regs r = { .cpu = 0, .unit = ETM_UNIT_ETMV4, .have_trcidr = 0x107, .have = ETM_HAVE_TRACEID,
				  .trctraceidr = 0x10 };
	r.trcidr[1] = 0x4100f430;     /* TRCARCHMIN 3 -> V8 */
	struct etm_sink_info sink = { .formatted = true };
	snprintf(sink.name, sizeof(sink.name), "tmc_etr0");
	char err[ETM_ERR_LEN];
	buf_reset(&out);
	CHECK(btrace_xml_etm(&out, &r, 1, &sink, 0x10, NULL, 0, err, sizeof(err)) == 0);
	CHECK(parse(out.data, &d));
	CHECK(!strcmp(attr(nth(&d, "source-config", 0), "trace_id"), "0x10"));
	CHECK(!strcmp(attr(nth(&d, "sink-config", 0), "sink_id"), "tmc_etr0"));
	CHECK(!strcmp(attr(nth(&d, "cpu-etm-config", 0), "arch_ver"), "0x3"));
	r.trcidr[1] = 0x4100f440;     /* TRCARCHMIN 4 -> AA64 */
	buf_reset(&out);
	CHECK(btrace_xml_etm(&out, &r, 1, &sink, 0, NULL, 0, err, sizeof(err)) == 0);
	CHECK(parse(out.data, &d) && !strcmp(attr(nth(&d, "cpu-etm-config", 0), "arch_ver"), "0x5"));
	buf_reset(&out);
	buf_puts(&out, "keep");
	r.have_trcidr = 0x7;          /* no TRCIDR8 */
	CHECK(btrace_xml_etm(&out, &r, 1, &sink, 0, NULL, 0, err, sizeof(err)) == -1);
	CHECK(strstr(err, "TRCIDR0/1/2/8") != NULL);
	CHECK_STR(out.data, "keep");   /* nothing half-written */
	r.unit = ETM_UNIT_UNKNOWN;
	CHECK(btrace_xml_etm(&out, &r, 1, &sink, 0, NULL, 0, err, sizeof(err)) == -1);
	buf_free(&out);
}

static void test_conf(void)
{
	struct buf out = BUF_INIT;
	struct doc d;
	btrace_xml_conf_bts(&out, 0x10000);
	CHECK(parse(out.data, &d));
	CHECK(!strcmp(d.el[0].name, "btrace-conf") && !strcmp(attr(&d.el[0], "version"), "1.0"));
	CHECK(count(&d, "bts") == 1 && !strcmp(attr(nth(&d, "bts", 0), "size"), "0x10000"));
	buf_reset(&out);

	struct etm_config c;
	char err[ETM_ERR_LEN];
	etm_config_init(&c);
	btrace_xml_conf_etm(&out, &c);
	CHECK(parse(out.data, &d) && count(&d, "etm") == 1);
	const struct el *e = nth(&d, "etm", 0);
	CHECK(e && !strcmp(attr(e, "size"), "0x40000") && !strcmp(attr(e, "sink"), "default") &&
	      attr(e, "filter") == NULL && !strcmp(attr(e, "config"), "mode=full"));
	buf_reset(&out);

	CHECK(etm_config_set(&c, "sink", "tmc_etr0", err, sizeof(err)) == 0);
	CHECK(etm_config_set(&c, "filter:start-address", "0x400000", err, sizeof(err)) == 0);
	CHECK(etm_config_set(&c, "filter:end-address", "0x401000", err, sizeof(err)) == 0);
	CHECK(etm_config_set(&c, "filter:context", "0x4d2", err, sizeof(err)) == 0);
	CHECK(etm_config_set(&c, "core", "0x1", err, sizeof(err)) == 0);
	CHECK(etm_config_set(&c, "timestamps", "yes", err, sizeof(err)) == 0);
	CHECK(etm_config_set(&c, "mode", "snapshot", err, sizeof(err)) == 0);
	btrace_xml_conf_etm(&out, &c);
	CHECK(parse(out.data, &d));
	e = nth(&d, "etm", 0);
	CHECK(e && !strcmp(attr(e, "sink"), "tmc_etr0"));
	CHECK(e && !strcmp(attr(e, "filter"), "0x400000-0x401000,context:0x4d2"));
	CHECK(e && !strcmp(attr(e, "config"), "core=0x1,timestamps,mode=snapshot"));
	buf_free(&out);
}

int main(void)
{
	test_blocks();
	test_etm();
	test_conf();
	return check_done("test_etm_xml");
}
