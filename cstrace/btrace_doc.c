/* btrace documents: see btrace_doc.h. */
#include "cstrace/btrace_doc.h"

#include <errno.h>
#include <expat.h>
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"

uint64_t btrace_doc_limit(bool coresight, uint64_t buffer_size, bool whole)
{
	/* a size the server claims counts up to the largest buffer there is */
	uint64_t size = buffer_size < BUFFER_SIZE_MAX ? buffer_size : BUFFER_SIZE_MAX;
	if (!coresight) {
		uint64_t cap = size ? 8 * size + (1u << 20) : BTS_DOC_MAX;
		return cap < BTS_DOC_MAX ? cap : BTS_DOC_MAX;
	}
	if (whole || !size)
		return 2 * size > RAW_DOC_MAX ? 2 * size : RAW_DOC_MAX;
	return 2 * size + RAW_DOC_SLACK;
}

/* What every chunk of a document is checked against: the time limit
 * (a read may outlast --time by --timeout, no more). Returns false with
 * WHY set when the read must stop. */
static bool read_in_time(struct cap *k, const struct cthread *t, char *why, size_t whylen)
{
	double grace = k->o->reply_timeout_ms > 0 ? k->o->reply_timeout_ms / 1000.0 : 0;
	if (!k->deadline || cap_now() < k->deadline + grace)
		return true;
	snprintf(why, whylen, "thread %ld's trace was still being read %.1f s after the time limit "
		 "(--time, plus --timeout for a last read): the read was cut", t->tid, grace);
	return false;
}

/* ------------------------------------------------------- CoreSight */

struct etm_parse {
	struct cap *k;
	struct cthread *t;
	XML_Parser p;
	uint64_t fed, raw_chars;        /* document bytes, and those inside <raw> */
	uint64_t raw_bytes;             /* trace bytes of this document */
	uint64_t limit;                 /* of raw_bytes (btrace_doc_limit) */
	bool over;                      /* the document went past it */
	char why[200];                  /* why the read was stopped */
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

/* The decoded bytes written, up to --max-size: past it the document is
 * still read to its end (so a broken one is seen), its trace dropped. */
static void flush_raw(struct etm_parse *e)
{
	struct cap *k = e->k;
	size_t n = e->nout;
	e->nout = 0;
	if (e->raw_bytes + n > e->limit) {
		/* past the document's limit: not a byte more (etm_chunk ends it) */
		n = e->raw_bytes < e->limit ? (size_t)(e->limit - e->raw_bytes) : 0;
		e->over = true;
	}
	e->raw_bytes += n;
	if (k->o->max_size) {
		uint64_t room = k->trace_bytes < k->o->max_size ? k->o->max_size - k->trace_bytes : 0;
		if (n > room)
			n = (size_t)room;
	}
	if (!n)
		return;
	if (e->t->f && fwrite(e->out, 1, n, e->t->f) != n)
		e->failed = true;
	e->t->bytes += n;
	k->trace_bytes += n;
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
	e->raw_chars += (uint64_t)len;
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

/* The document so far within its limits; false with e->why set if not. */
static bool etm_within_limits(struct etm_parse *e)
{
	if (e->over) {
		snprintf(e->why, sizeof(e->why), "btrace document of thread %ld: more than %llu bytes of trace in "
			 "one read (limit: twice the server's trace buffer of %llu bytes)", e->t->tid,
			 (unsigned long long)e->limit, (unsigned long long)e->k->buffer_size);
		return false;
	}
	if (e->fed - e->raw_chars > DOC_MARKUP_MAX) {
		snprintf(e->why, sizeof(e->why), "btrace document of thread %ld: more than %u bytes outside <raw>",
			 e->t->tid, DOC_MARKUP_MAX);
		return false;
	}
	return true;
}

static int etm_chunk(void *ctx, const char *data, size_t len)
{
	struct etm_parse *e = ctx;
	if (XML_Parse(e->p, data, (int)len, 0) == XML_STATUS_ERROR || e->failed || e->bad_hex)
		return -1;
	e->fed += len;
	if (!etm_within_limits(e))
		return -1;
	return read_in_time(e->k, e->t, e->why, sizeof(e->why)) ? 0 : -1;
}

int btrace_doc_read_coresight(struct cap *k, struct cthread *t, const char *annex)
{
	struct etm_parse e = {.k = k, .t = t, .nibble = -1};
	e.limit = btrace_doc_limit(true, k->buffer_size, !strcmp(annex, "all"));
	e.p = XML_ParserCreate(NULL);
	if (!e.p)
		abort();
	XML_SetUserData(e.p, &e);
	XML_SetElementHandler(e.p, etm_start, etm_end);
	XML_SetCharacterDataHandler(e.p, etm_text);
	if (!t->f) {
		t->f = fopen(cap_path(k, t->file), "ab");
		if (!t->f) {
			snprintf(k->error, sizeof(k->error), "%s: write failed: cannot create it: %s", t->file,
				 strerror(errno));
			XML_ParserFree(e.p);
			return LOCAL_FAIL;
		}
	}
	int rc = rsp_client_xfer_read(&k->c, "btrace", annex, NULL, etm_chunk, &e);
	if (rc == RSP_OK && XML_Parse(e.p, "", 0, 1) == XML_STATUS_ERROR)
		rc = RSP_PROTOCOL;
	if (rc == RSP_OK && !etm_within_limits(&e))
		rc = RSP_PROTOCOL;      /* its last bytes went past the limit */
	if (rc == RSP_PROTOCOL && e.why[0])
		snprintf(k->c.err, sizeof(k->c.err), "%s", e.why);
	else if (rc == RSP_PROTOCOL && e.bad_hex)
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

struct bts_read {
	struct cap *k;
	struct cthread *t;
	struct buf *doc;
	uint64_t limit;
	char why[200];
};

static int bts_chunk(void *ctx, const char *data, size_t len)
{
	struct bts_read *b = ctx;
	if (b->doc->len + len > b->limit) {
		snprintf(b->why, sizeof(b->why), "btrace document of thread %ld: larger than %llu bytes (limit: "
			 "8 times the server's trace buffer of %llu bytes, plus 1 MiB; at most 256 MiB)", b->t->tid,
			 (unsigned long long)b->limit, (unsigned long long)b->k->buffer_size);
		return -1;
	}
	buf_append(b->doc, data, len);
	return read_in_time(b->k, b->t, b->why, sizeof(b->why)) ? 0 : -1;
}

int btrace_doc_read_bts(struct cap *k, struct cthread *t, const char *annex, struct buf *doc)
{
	struct bts_read b = {.k = k, .t = t, .doc = doc};
	b.limit = btrace_doc_limit(false, k->buffer_size, false);
	buf_reset(doc);
	int rc = rsp_client_xfer_read(&k->c, "btrace", annex, NULL, bts_chunk, &b);
	if (rc == RSP_PROTOCOL && b.why[0])
		snprintf(k->c.err, sizeof(k->c.err), "%s", b.why);
	return rc;
}

/* The hex number of attribute NAME (` NAME="0x..."`) in the element
 * [P, END): false if it is missing or not a number. */
static bool block_attr(const char *p, const char *end, const char *name, uint64_t *v)
{
	char key[16];
	int kl = snprintf(key, sizeof(key), " %s=\"", name);
	const char *a = memmem(p, (size_t)(end - p), key, (size_t)kl);
	if (!a)
		return false;
	a += kl;
	const char *q = memchr(a, '"', (size_t)(end - a));
	if (!q || q == a || (size_t)(q - a) > 18)
		return false;
	char num[20];
	memcpy(num, a, (size_t)(q - a));
	num[q - a] = '\0';
	char *stop;
	errno = 0;
	*v = strtoull(num, &stop, 16);
	return *stop == '\0' && errno == 0 && num[0] != '-';
}

int btrace_doc_take_blocks(struct cap *k, struct cthread *t, const struct buf *doc)
{
	struct block *tmp = NULL;
	size_t n = 0, cap = 0;
	const char *p = doc->data ? doc->data : "", *end = p + doc->len;
	int rc = 0;
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
		struct block b;
		if (!block_attr(p + 6, close, "begin", &b.begin) || !block_attr(p + 6, close, "end", &b.end)) {
			snprintf(k->c.err, sizeof(k->c.err), "btrace document of thread %ld: block %zu has no "
				 "begin and end addresses: \"%.60s\"", t->tid, n + 1, p);
			rc = -1;
			break;
		}
		/* begin 0: a delta's oldest block, continuing the newest held */
		if (b.begin && b.begin > b.end) {
			snprintf(k->c.err, sizeof(k->c.err), "btrace document of thread %ld: block %zu begins at "
				 "0x%llx, after its end 0x%llx", t->tid, n + 1, (unsigned long long)b.begin,
				 (unsigned long long)b.end);
			rc = -1;
			break;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			tmp = realloc(tmp, cap * sizeof(*tmp));
			if (!tmp)
				abort();
		}
		tmp[n++] = b;
		p = close;
	}
	for (size_t i = n; rc == 0 && i-- > 0;) {
		if (tmp[i].begin == 0) {
			if (t->nblocks)
				t->blocks[t->nblocks - 1].end = tmp[i].end;
			continue;
		}
		add_block(t, tmp[i].begin, tmp[i].end);
	}
	if (rc == 0)
		k->trace_bytes += doc->len;
	free(tmp);
	return rc;
}
