/* btrace documents: see btrace_doc.h. */
#include "cstrace/btrace_doc.h"

#include <errno.h>
#include <expat.h>
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"

/* ------------------------------------------------------- CoreSight */

struct etm_parse {
	struct cap *k;
	struct cthread *t;
	XML_Parser p;
	bool in_raw;
	int nibble;             /* -1, or the first digit of a byte */
	bool new_config;        /* this document's first cpu-etm-config seen */
	struct cpu_cfg *cur;
	unsigned char out[8192];
	size_t nout;
	bool failed;            /* writing the trace file failed */
	bool bad_hex;           /* <raw> held something else than hex digits */
};

static bool attr_u(const char **attrs, const char *name, unsigned long long *v)
{
	for (size_t i = 0; attrs[i]; i += 2)
		if (!strcmp(attrs[i], name)) {
			char *end;
			*v = strtoull(attrs[i + 1], &end, 0);
			return end != attrs[i + 1];
		}
	return false;
}

/* Register name of a config attribute: reg_idr0 -> TRCIDR0 (ETMv4/ETE),
 * reg_ctrl -> ETMCR (ETMv3/PTM). */
static void reg_name(const char *attr, bool v4, char *out, size_t outlen)
{
	static const struct { const char *attr, *name; } v3[] = {
		{"reg_ctrl", "ETMCR"}, {"reg_trc_id", "ETMTRACEIDR"}, {"reg_ccer", "ETMCCER"},
		{"reg_idr", "ETMIDR"}, {"reg_ccr", "ETMCCR"},
	};
	if (!v4)
		for (size_t i = 0; i < sizeof(v3) / sizeof(v3[0]); i++)
			if (!strcmp(attr, v3[i].attr)) {
				snprintf(out, outlen, "%s", v3[i].name);
				return;
			}
	const char *s = strncmp(attr, "reg_", 4) ? attr : attr + 4;
	size_t n = (size_t)snprintf(out, outlen, "%s", v4 ? "TRC" : "ETM");
	for (; *s && n + 1 < outlen; s++)
		out[n++] = (char)(*s >= 'a' && *s <= 'z' ? *s - 32 : *s);
	out[n] = '\0';
}

static void flush_raw(struct etm_parse *e)
{
	if (!e->nout)
		return;
	if (e->t->f && fwrite(e->out, 1, e->nout, e->t->f) != e->nout)
		e->failed = true;
	e->t->bytes += e->nout;
	e->k->trace_bytes += e->nout;
	e->nout = 0;
}

static void XMLCALL etm_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct etm_parse *e = ud;
	struct cap *k = e->k;
	unsigned long long v;
	if (!strcmp(name, "raw")) {
		e->in_raw = true;
		e->nibble = -1;
	} else if (!strcmp(name, "source-config")) {
		k->trace_id = attr_u(attrs, "trace_id", &v) ? (unsigned)v : 0;
	} else if (!strcmp(name, "cpu-etm-config")) {
		if (!e->new_config) {
			e->new_config = true;
			k->ncpus = 0;
		}
		if (k->ncpus >= MAX_CPUS) {
			e->cur = NULL;
			return;
		}
		e->cur = &k->cpus[k->ncpus++];
		memset(e->cur, 0, sizeof(*e->cur));
		if (attr_u(attrs, "cpu_id", &v)) e->cur->cpu_id = (unsigned)v;
		if (attr_u(attrs, "arch_ver", &v)) e->cur->arch_ver = (unsigned)v;
		if (attr_u(attrs, "core_prof", &v)) e->cur->core_prof = (unsigned)v;
		if (attr_u(attrs, "protocol", &v)) e->cur->protocol = (unsigned)v;
	} else if ((!strcmp(name, "etmv4-config") || !strcmp(name, "etmv3-config")) && e->cur) {
		bool v4 = name[3] == 'v' && name[4] == '4';
		for (size_t i = 0; attrs[i] && e->cur->nregs < MAX_REGS; i += 2) {
			struct reg *r = &e->cur->regs[e->cur->nregs];
			char *end;
			r->value = strtoull(attrs[i + 1], &end, 0);
			if (end == attrs[i + 1])
				continue;
			reg_name(attrs[i], v4, r->name, sizeof(r->name));
			e->cur->nregs++;
		}
		k->have_config = true;
	} else if (!strcmp(name, "sink-config")) {
		k->formatted = attr_u(attrs, "formatted", &v) ? v != 0 : true;
	}
}

static void XMLCALL etm_end(void *ud, const XML_Char *name)
{
	struct etm_parse *e = ud;
	if (!strcmp(name, "raw")) {
		flush_raw(e);
		e->in_raw = false;
		if (e->nibble >= 0)
			e->bad_hex = true;      /* an odd number of digits */
	} else if (!strcmp(name, "cpu-etm-config")) {
		e->cur = NULL;
	}
}

static void XMLCALL etm_text(void *ud, const XML_Char *s, int len)
{
	struct etm_parse *e = ud;
	if (!e->in_raw)
		return;
	for (int i = 0; i < len; i++) {
		int d = hex_value((unsigned char)s[i]);
		if (d < 0) {
			/* line breaks around the hex; anything else is corrupt */
			if (s[i] != '\n' && s[i] != '\r' && s[i] != ' ' && s[i] != '\t')
				e->bad_hex = true;
			continue;
		}
		if (e->nibble < 0) {
			e->nibble = d;
			continue;
		}
		e->out[e->nout++] = (unsigned char)(e->nibble << 4 | d);
		e->nibble = -1;
		if (e->nout == sizeof(e->out))
			flush_raw(e);
	}
}

static int etm_chunk(void *ctx, const char *data, size_t len)
{
	struct etm_parse *e = ctx;
	if (XML_Parse(e->p, data, (int)len, 0) == XML_STATUS_ERROR || e->failed || e->bad_hex)
		return -1;
	return 0;
}

int btrace_doc_read_coresight(struct cap *k, struct cthread *t, const char *annex)
{
	struct etm_parse e = {.k = k, .t = t, .nibble = -1};
	e.p = XML_ParserCreate(NULL);
	if (!e.p)
		abort();
	XML_SetUserData(e.p, &e);
	XML_SetElementHandler(e.p, etm_start, etm_end);
	XML_SetCharacterDataHandler(e.p, etm_text);
	if (!t->f) {
		t->f = fopen(cap_path(k, t->file), "ab");
		if (!t->f) {
			snprintf(k->error, sizeof(k->error), "%s: %s", t->file, strerror(errno));
			XML_ParserFree(e.p);
			return LOCAL_FAIL;
		}
	}
	int rc = rsp_client_xfer_read(&k->c, "btrace", annex, NULL, etm_chunk, &e);
	if (rc == RSP_OK && XML_Parse(e.p, "", 0, 1) == XML_STATUS_ERROR)
		rc = RSP_PROTOCOL;
	if (rc == RSP_PROTOCOL && e.bad_hex)
		snprintf(k->c.err, sizeof(k->c.err), "btrace document: <raw> is not hex digits");
	else if (rc == RSP_PROTOCOL && XML_GetErrorCode(e.p) != XML_ERROR_NONE)
		snprintf(k->c.err, sizeof(k->c.err), "btrace document: %s at line %lu",
			 XML_ErrorString(XML_GetErrorCode(e.p)), (unsigned long)XML_GetCurrentLineNumber(e.p));
	if (e.failed) {
		snprintf(k->error, sizeof(k->error), "%s: write failed: %s", t->file, strerror(errno));
		XML_ParserFree(e.p);
		return LOCAL_FAIL;
	}
	flush_raw(&e);
	fflush(t->f);
	XML_ParserFree(e.p);
	t->reads++;
	return rc;
}

/* ------------------------------------------------------------- bts */

static void add_block(struct cthread *t, uint64_t b, uint64_t e)
{
	if (t->nblocks == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 1024;
		t->blocks = realloc(t->blocks, t->cap * sizeof(*t->blocks));
		if (!t->blocks)
			abort();
	}
	t->blocks[t->nblocks++] = (struct block){b, e};
}

void btrace_doc_take_blocks(struct cap *k, struct cthread *t, const struct buf *doc)
{
	struct block *tmp = NULL;
	size_t n = 0, cap = 0;
	const char *p = doc->data ? doc->data : "", *end = p + doc->len;
	/* element by element, each search bounded by it (a document has
	 * hundreds of thousands of blocks) */
	while ((p = memchr(p, '<', (size_t)(end - p)))) {
		const char *close = memchr(p, '>', (size_t)(end - p));
		if (!close)
			break;
		if ((size_t)(close - p) < 7 || memcmp(p, "<block ", 7) != 0) {
			p = close;
			continue;
		}
		const char *b = memmem(p, (size_t)(close - p), "begin=\"", 7);
		const char *e = memmem(p, (size_t)(close - p), " end=\"", 6);
		if (!b || !e)
			break;
		e++;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			tmp = realloc(tmp, cap * sizeof(*tmp));
			if (!tmp)
				abort();
		}
		tmp[n].begin = strtoull(b + 7, NULL, 16);
		tmp[n].end = strtoull(e + 5, NULL, 16);
		n++;
		p = close;
	}
	for (size_t i = n; i-- > 0;) {
		if (tmp[i].begin == 0) {
			if (t->nblocks)
				t->blocks[t->nblocks - 1].end = tmp[i].end;
			continue;
		}
		add_block(t, tmp[i].begin, tmp[i].end);
	}
	k->trace_bytes += doc->len;
	free(tmp);
}
