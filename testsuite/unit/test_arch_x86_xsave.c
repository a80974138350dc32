/* The x86-64 register file from XSAVE layouts, whatever CPU runs this:
 * the recorded one of an AVX-512 + AMX machine (../shared/testdata/
 * x86-xsave-amx: CPUID leaf 0xD, an NT_X86_XSTATE image, the description
 * gdbserver served there), and synthetic ones without AVX-512, with PKRU,
 * without XSAVE. Checks the registers and description against
 * gdbserver's, and moving registers between image and raw block: an
 * unchanged block writes nothing back, a changed register changes its
 * bytes only, and AMX state is never touched. */
#include <expat.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_xsave.h"
#include "testsuite/unit/check.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap + 1);
	size_t got;
	while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			char *b = realloc(buf, 2 * cap + 1);
			if (!b) {
				free(buf);
				buf = NULL;
			}
			buf = b;
			cap *= 2;
		}
	}
	fclose(f);
	if (buf)
		buf[n] = '\0';
	*len = n;
	return buf;
}

/* --- target descriptions as gdb reads them -------------------------------- */

struct treg {
	char feature[40], name[16], type[16];
	unsigned bits;
};

struct tdoc {
	char feature[40];
	char includes[X86_MAX_FEATURES][32];
	size_t nincludes;
	struct treg regs[X86_MAX_REGS + 8];
	size_t nregs;
};

static void XMLCALL on_start(void *data, const XML_Char *el, const XML_Char **atts)
{
	struct tdoc *d = data;
	const char *name = "", *bits = "0", *type = "int", *href = "";
	for (size_t i = 0; atts[i]; i += 2) {
		if (!strcmp(atts[i], "name")) name = atts[i + 1];
		if (!strcmp(atts[i], "bitsize")) bits = atts[i + 1];
		if (!strcmp(atts[i], "type")) type = atts[i + 1];
		if (!strcmp(atts[i], "href")) href = atts[i + 1];
	}
	if (!strcmp(el, "feature")) {
		snprintf(d->feature, sizeof d->feature, "%s", name);
	} else if (!strcmp(el, "xi:include") && d->nincludes < X86_MAX_FEATURES) {
		snprintf(d->includes[d->nincludes++], sizeof d->includes[0], "%s", href);
	} else if (!strcmp(el, "reg") && d->nregs < sizeof d->regs / sizeof d->regs[0]) {
		struct treg *r = &d->regs[d->nregs++];
		memcpy(r->feature, d->feature, sizeof r->feature);
		snprintf(r->name, sizeof r->name, "%s", name);
		snprintf(r->type, sizeof r->type, "%s", type);
		r->bits = (unsigned)strtoul(bits, NULL, 10);
	}
}

static void XMLCALL on_end(void *data, const XML_Char *el)
{
	(void)data; (void)el;
}

static bool parse_into(const char *xml, struct tdoc *d)
{
	XML_Parser p = XML_ParserCreate(NULL);
	XML_SetUserData(p, d);
	XML_SetElementHandler(p, on_start, on_end);
	bool ok = XML_Parse(p, xml, (int)strlen(xml), 1) == XML_STATUS_OK;
	if (!ok)
		fprintf(stderr, "XML: %s\n", XML_ErrorString(XML_GetErrorCode(p)));
	XML_ParserFree(p);
	return ok;
}

/* The registers F's description declares: target.xml, then its includes
 * in order, as gdb numbers them. */
static bool served_regs(const struct x86_regfile *f, struct tdoc *out)
{
	static struct tdoc target;
	memset(&target, 0, sizeof target);
	memset(out, 0, sizeof *out);
	if (!parse_into(arch_feature(&f->rf, "target.xml"), &target))
		return false;
	for (size_t i = 0; i < target.nincludes; i++) {
		const char *xml = arch_feature(&f->rf, target.includes[i]);
		CHECK(xml != NULL);
		if (!xml || !parse_into(xml, out))
			return false;
	}
	return target.nincludes == f->rf.nfeatures - 1;
}

/* The description of F names exactly its register table. */
static void check_table_matches_xml(const struct x86_regfile *f, const char *label)
{
	static struct tdoc d;
	CHECK(served_regs(f, &d));
	CHECK(d.nregs == f->rf.nregs);
	uint32_t off = 0;
	for (size_t i = 0; i < d.nregs && i < f->rf.nregs; i++) {
		const struct arch_reg *r = &f->rf.regs[i];
		if (strcmp(r->name, d.regs[i].name) || r->size * 8u != d.regs[i].bits)
			fprintf(stderr, "%s: regnum %zu: table %s/%u, XML %s/%u\n", label, i,
				r->name, r->size * 8u, d.regs[i].name, d.regs[i].bits);
		CHECK_STR(r->name, d.regs[i].name);
		CHECK(r->size * 8u == d.regs[i].bits);
		CHECK(r->offset == off && r->in_g);
		off += r->size;
	}
	CHECK(off == f->rf.size);
}

/* --- the recorded machine -------------------------------------------------- */

struct recorded {
	struct x86_cpuid sub[XC_MAX];
	uint64_t xcr0;
	uint8_t *image;
	size_t size;
	char *gdbserver_xml;
};

static bool load_recorded(const char *dir, struct recorded *rec)
{
	char path[600];
	size_t len;
	memset(rec, 0, sizeof *rec);
	snprintf(path, sizeof path, "%s/testdata/x86-xsave-amx/cpuid-0xd.txt", dir);
	char *txt = slurp(path, &len);
	if (!txt) {
		fprintf(stderr, "FAIL: cannot read %s (shared test data: set CSG_SHARED)\n", path);
		return false;
	}
	for (char *line = strtok(txt, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned s, a, b, c, d;
		unsigned long long x;
		if (sscanf(line, "0xd %u %x %x %x %x", &s, &a, &b, &c, &d) == 5 && s < XC_MAX)
			rec->sub[s] = (struct x86_cpuid){a, b, c, d};
		else if (sscanf(line, "xcr0 %llx", &x) == 1)
			rec->xcr0 = x;
	}
	free(txt);
	snprintf(path, sizeof path, "%s/testdata/x86-xsave-amx/nt-x86-xstate.bin", dir);
	rec->image = (uint8_t *)slurp(path, &rec->size);
	snprintf(path, sizeof path, "%s/testdata/x86-xsave-amx/gdbserver-tdesc.xml", dir);
	char *xml = slurp(path, &len);
	/* gdb printed its session before the XML and after it */
	char *start = xml ? strstr(xml, "<?xml") : NULL, *end = start ? strstr(start, "</target>") : NULL;
	if (!rec->image || !end) {
		fprintf(stderr, "FAIL: cannot read %s\n", path);
		free(xml);
		return false;
	}
	end[strlen("</target>")] = '\0';
	rec->gdbserver_xml = strdup(start);
	free(xml);
	return rec->gdbserver_xml != NULL;
}

/* Names, sizes, types, features and order as gdbserver served them. */
static void check_like_gdbserver(const struct x86_regfile *f, const char *gdbserver_xml)
{
	static struct tdoc ours, theirs;
	memset(&theirs, 0, sizeof theirs);
	CHECK(parse_into(gdbserver_xml, &theirs));
	CHECK(served_regs(f, &ours));
	CHECK(theirs.nregs == 148);
	CHECK(ours.nregs == theirs.nregs);
	for (size_t i = 0; i < ours.nregs && i < theirs.nregs; i++) {
		const struct treg *a = &ours.regs[i], *b = &theirs.regs[i];
		bool same = !strcmp(a->name, b->name) && !strcmp(a->type, b->type) &&
			    !strcmp(a->feature, b->feature) && a->bits == b->bits;
		if (!same)
			fprintf(stderr, "regnum %zu: ours %s %s/%u %s, gdbserver's %s %s/%u %s\n", i,
				a->feature, a->name, a->bits, a->type, b->feature, b->name, b->bits, b->type);
		CHECK(same);
	}
}

static int regno(const struct x86_regfile *f, const char *name)
{
	int r = arch_regno(&f->rf, name);
	if (r < 0)
		fprintf(stderr, "no register %s\n", name);
	CHECK(r >= 0);
	return r < 0 ? 0 : r;
}

static const uint8_t *reg_at(const struct x86_regfile *f, const uint8_t *regs, const char *name)
{
	return regs + f->rf.regs[regno(f, name)].offset;
}

/* The image's bytes that component C owns, for comparing images. */
static bool in_component(const struct x86_xsave_layout *l, int c, size_t i)
{
	if (c == XC_X87)    /* the legacy region but for the SSE and reserved parts */
		return i < 24 || (i >= 32 && i < 160);
	if (c == XC_SSE)
		return (i >= 24 && i < 28) || (i >= 160 && i < 416);
	return i >= l->offset[c] && i < (size_t)l->offset[c] + l->csize[c];
}

/* Change register NAME alone in REGS (unpacked from IMAGE), pack: only
 * component C is written, only its bytes and XSTATE_BV differ, and
 * unpacking gives back REGS with that one register changed. */
static void check_one_write(const struct x86_regfile *f, const uint8_t *image, const uint8_t *regs,
			    const char *name, int c)
{
	const struct arch_regfile *rf = &f->rf;
	size_t isize = f->layout.size ? f->layout.size : XS_LEGACY_SIZE;
	uint8_t *want = malloc(rf->size), *got = malloc(rf->size), *scratch = malloc(rf->size);
	uint8_t *xs = malloc(isize);
	if (!want || !got || !scratch || !xs) {
		CHECK(!"out of memory");
		goto out;
	}
	memcpy(want, regs, rf->size);
	memcpy(xs, image, isize);
	const struct arch_reg *r = &rf->regs[regno(f, name)];
	for (unsigned i = 0; i < r->size; i++)   /* fits fop's 11 bits and fiseg's 16 */
		want[r->offset + i] = i < 2 ? (uint8_t)(0x5a + i * 2) & (i ? 0x07 : 0xff) : (uint8_t)(0x30 + i);
	if (strcmp(name, "fiseg") == 0 || strcmp(name, "fctrl") == 0 || strcmp(name, "fop") == 0)
		memset(want + r->offset + 2, 0, r->size - 2);
	uint64_t changed = x86_xsave_pack(f, want, xs, scratch);
	if (changed != XC_BIT(c))
		fprintf(stderr, "%s: wrote components %#llx\n", name, (unsigned long long)changed);
	CHECK(changed == XC_BIT(c));
	size_t outside = 0;
	for (size_t i = 0; i < isize; i++)
		if (xs[i] != image[i] && !in_component(&f->layout, c, i) &&
		    !(f->layout.size && i >= XS_XSTATE_BV && i < XS_XSTATE_BV + 8))
			outside++;
	if (outside)
		fprintf(stderr, "%s: %zu bytes changed outside component %d\n", name, outside, c);
	CHECK(outside == 0);
	if (f->layout.size) {
		uint64_t bv0, bv1;
		memcpy(&bv0, image + XS_XSTATE_BV, 8);
		memcpy(&bv1, xs + XS_XSTATE_BV, 8);
		CHECK(bv1 == (bv0 | XC_BIT(c)));
	}
	memset(got, 0xee, rf->size);
	x86_xsave_unpack(f, xs, got);
	size_t differ = 0;
	for (size_t i = 0; i < rf->nregs; i++)   /* the general registers are not in it */
		if (f->xregs[i].comp >= 0 && memcmp(got + rf->regs[i].offset, want + rf->regs[i].offset, rf->regs[i].size)) {
			fprintf(stderr, "%s: after writing %s, %s reads back different\n",
				f->layout.size ? "xsave" : "fxsave", name, rf->regs[i].name);
			differ++;
		}
	CHECK(differ == 0);
out:
	free(want);
	free(got);
	free(scratch);
	free(xs);
}

static void test_recorded(const struct recorded *rec)
{
	static struct x86_regfile f;
	struct x86_xsave_layout l;
	char why[160];
	CHECK(rec->size == 11008);
	CHECK(rec->xcr0 == 0x600e7);
	CHECK(x86_xsave_xcr0(rec->image, rec->size) == rec->xcr0);
	CHECK(x86_xsave_layout(rec->xcr0, rec->size, rec->sub, XC_MAX, &l, why, sizeof why) == 0);
	CHECK(l.offset[XC_AVX] == 576 && l.offset[XC_OPMASK] == 1088);
	CHECK(l.offset[XC_ZMM_H] == 1152 && l.offset[XC_HI16_ZMM] == 1664);
	CHECK(l.offset[18] == 2816 && l.csize[18] == 8192);   /* TILEDATA: kept, not shown */
	x86_regfile_build(&l, &f);
	CHECK(f.rf.nregs == 148 && f.rf.size == 2416 && f.rf.nfeatures == 7);
	CHECK(arch_feature(&f.rf, "64bit-avx512.xml") != NULL);
	CHECK(arch_feature(&f.rf, "64bit-pkeys.xml") == NULL);
	check_table_matches_xml(&f, "recorded");
	check_like_gdbserver(&f, rec->gdbserver_xml);

	/* What the image holds (XSTATE_BV 0xa2: SSE, opmask, Hi16_ZMM). */
	uint8_t *regs = calloc(1, f.rf.size), *scratch = malloc(f.rf.size);
	uint8_t *xs = malloc(rec->size);
	if (!regs || !scratch || !xs) {
		CHECK(!"out of memory");
		goto out;
	}
	x86_xsave_unpack(&f, rec->image, regs);
	static const uint8_t xmm0[16] = {0x44, 0x33, 0x22, 0x11};
	CHECK_MEM(reg_at(&f, regs, "xmm0"), xmm0, 16);
	CHECK(arch_reg_get(&f.rf, regs, regno(&f, "fctrl")) == 0x37f);   /* x87: init */
	CHECK(arch_reg_get(&f.rf, regs, regno(&f, "ftag")) == 0xffff);
	CHECK(arch_reg_get(&f.rf, regs, regno(&f, "mxcsr")) == 0x1f80);
	CHECK_MEM(reg_at(&f, regs, "k0"), rec->image + 1088, 64);        /* k0-k7 */
	CHECK_MEM(reg_at(&f, regs, "xmm17"), rec->image + 1664 + 64, 16);
	CHECK_MEM(reg_at(&f, regs, "ymm17h"), rec->image + 1664 + 64 + 16, 16);
	CHECK_MEM(reg_at(&f, regs, "zmm17h"), rec->image + 1664 + 64 + 32, 32);
	static const uint8_t zero[32];
	CHECK_MEM(reg_at(&f, regs, "ymm0h"), zero, 16);                  /* AVX: init */
	CHECK_MEM(reg_at(&f, regs, "zmm0h"), zero, 32);

	/* Unchanged registers write nothing: the image stays byte for byte. */
	memcpy(xs, rec->image, rec->size);
	CHECK(x86_xsave_pack(&f, regs, xs, scratch) == 0);
	CHECK_MEM(xs, rec->image, rec->size);

	static const struct { const char *name; int comp; } one[] = {
		{"xmm0", XC_SSE}, {"xmm15", XC_SSE}, {"mxcsr", XC_SSE}, {"st0", XC_X87},
		{"fctrl", XC_X87}, {"fop", XC_X87}, {"fiseg", XC_X87}, {"ymm0h", XC_AVX},
		{"ymm15h", XC_AVX}, {"k1", XC_OPMASK}, {"k7", XC_OPMASK}, {"zmm0h", XC_ZMM_H},
		{"zmm15h", XC_ZMM_H}, {"xmm16", XC_HI16_ZMM}, {"ymm17h", XC_HI16_ZMM},
		{"zmm17h", XC_HI16_ZMM}, {"zmm31h", XC_HI16_ZMM},
	};
	for (size_t i = 0; i < sizeof one / sizeof one[0]; i++)
		check_one_write(&f, rec->image, regs, one[i].name, one[i].comp);

	/* Every shown register changed at once: they read back, and the
	 * AMX components (TILECFG at 2752, TILEDATA at 2816) are untouched. */
	for (size_t i = 0; i < f.rf.nregs; i++) {
		const struct arch_reg *r = &f.rf.regs[i];
		if (f.xregs[i].comp < 0 || i == (size_t)regno(&f, "ftag"))
			continue;
		for (unsigned b = 0; b < r->size; b++)
			regs[r->offset + b] = (uint8_t)(i * 7 + b);
	}
	arch_reg_set(&f.rf, regs, regno(&f, "fop"), 0x123);
	arch_reg_set(&f.rf, regs, regno(&f, "fiseg"), 0x1234);
	arch_reg_set(&f.rf, regs, regno(&f, "foseg"), 0x4321);
	arch_reg_set(&f.rf, regs, regno(&f, "fctrl"), 0x27f);
	arch_reg_set(&f.rf, regs, regno(&f, "fstat"), 0x3800);
	memcpy(xs, rec->image, rec->size);
	uint64_t all = XC_BIT(XC_X87) | XC_BIT(XC_SSE) | XC_BIT(XC_AVX) | XC_AVX512_MASK;
	CHECK(x86_xsave_pack(&f, regs, xs, scratch) == all);
	CHECK_MEM(xs + 2752, rec->image + 2752, rec->size - 2752);
	CHECK_MEM(xs + XS_SW_XCR0, rec->image + XS_SW_XCR0, 48);
	memset(scratch, 0xee, f.rf.size);
	x86_xsave_unpack(&f, xs, scratch);
	/* ftag is recomputed from the x87 registers' contents */
	size_t differ = 0;
	for (size_t i = 0; i < f.rf.nregs; i++) {
		const struct arch_reg *r = &f.rf.regs[i];
		if (f.xregs[i].comp >= 0 && i != (size_t)regno(&f, "ftag") &&
		    memcmp(scratch + r->offset, regs + r->offset, r->size)) {
			fprintf(stderr, "all written: %s reads back different\n", r->name);
			differ++;
		}
	}
	CHECK(differ == 0);
out:
	free(regs);
	free(scratch);
	free(xs);
}

/* --- synthetic layouts ------------------------------------------------------ */

/* An image for L with XSTATE_BV = XCR0 and bytes that differ per place. */
static uint8_t *synthetic_image(const struct x86_xsave_layout *l)
{
	size_t size = l->size ? l->size : XS_LEGACY_SIZE;
	uint8_t *xs = calloc(1, size);
	if (!xs)
		return NULL;
	for (size_t i = 160; i < 416; i++)
		xs[i] = (uint8_t)(i * 13);
	for (int c = 2; c < XC_MAX && l->size; c++)
		for (uint32_t i = 0; (l->xcr0 & XC_BIT(c)) && i < l->csize[c]; i++)
			xs[l->offset[c] + i] = (uint8_t)(i * 5 + (unsigned)c);
	uint32_t mxcsr = 0x1f80;
	memcpy(xs + 24, &mxcsr, 4);
	xs[0] = 0x7f, xs[1] = 0x03;
	if (l->size) {
		memcpy(xs + XS_SW_XCR0, &l->xcr0, 8);
		memcpy(xs + XS_XSTATE_BV, &l->xcr0, 8);
	}
	return xs;
}

struct synthetic {
	const char *label;
	uint64_t xcr0;
	size_t size;
	struct { int comp; uint32_t size, offset; } comps[7];
	size_t nregs, rsize;
	const char *last_feature, *last_reg;
};

static const struct synthetic synthetics[] = {
	{"AVX, no AVX-512", 0x7, 832, {{XC_AVX, 256, 576}}, 76, 816, "64bit-avx.xml", "ymm15h"},
	{"AVX-512 and PKRU (Skylake-SP)", 0x2e7, 2696,
	 {{XC_AVX, 256, 576}, {XC_OPMASK, 64, 1088}, {XC_ZMM_H, 512, 1152},
	  {XC_HI16_ZMM, 1024, 1664}, {XC_PKRU, 8, 2688}}, 149, 2420, "64bit-pkeys.xml", "pkru"},
	{"PKRU, no AVX-512 (Zen 2)", 0x207, 2440, {{XC_AVX, 256, 576}, {XC_PKRU, 8, 2432}},
	 77, 820, "64bit-pkeys.xml", "pkru"},
	{"SSE only, no XSAVE", 0x3, 0, {{0}}, 60, 560, "64bit-segments.xml", "gs_base"},
	/* QEMU 7.2's TCG "max" CPU (as a guest kernel reports it: "Enabled
	 * xstate features 0x21f, context size is 2696 bytes"): MPX, no
	 * AVX-512; gdbserver 13.1 serves 83 registers there */
	{"MPX and PKRU, no AVX-512 (QEMU TCG max)", 0x21f, 2696,
	 {{XC_AVX, 256, 576}, {XC_BNDREGS, 64, 960}, {XC_BNDCSR, 64, 1024}, {XC_PKRU, 8, 2688}},
	 83, 900, "64bit-pkeys.xml", "pkru"},
	{"MPX, AVX-512 and PKRU (Skylake-SP)", 0x2ff, 2696,
	 {{XC_AVX, 256, 576}, {XC_BNDREGS, 64, 960}, {XC_BNDCSR, 64, 1024}, {XC_OPMASK, 64, 1088},
	  {XC_ZMM_H, 512, 1152}, {XC_HI16_ZMM, 1024, 1664}, {XC_PKRU, 8, 2688}},
	 155, 2500, "64bit-pkeys.xml", "pkru"},
};

static void test_synthetic(const struct synthetic *s)
{
	static struct x86_regfile f;
	struct x86_cpuid sub[XC_MAX];
	struct x86_xsave_layout l;
	char why[160];
	memset(sub, 0, sizeof sub);
	for (size_t i = 0; i < 7 && s->comps[i].comp; i++)
		sub[s->comps[i].comp] = (struct x86_cpuid){s->comps[i].size, s->comps[i].offset, 0, 0};
	int rc = x86_xsave_layout(s->xcr0, s->size, sub, XC_MAX, &l, why, sizeof why);
	if (rc < 0)
		fprintf(stderr, "%s: %s\n", s->label, why);
	CHECK(rc == 0);
	if (rc < 0)
		return;
	x86_regfile_build(&l, &f);
	if (f.rf.nregs != s->nregs || f.rf.size != s->rsize)
		fprintf(stderr, "%s: %zu registers, %zu bytes\n", s->label, f.rf.nregs, f.rf.size);
	CHECK(f.rf.nregs == s->nregs && f.rf.size == s->rsize);
	CHECK_STR(f.rf.features[f.rf.nfeatures - 1].annex, s->last_feature);
	CHECK_STR(f.rf.regs[f.rf.nregs - 1].name, s->last_reg);
	CHECK((arch_feature(&f.rf, "64bit-avx512.xml") != NULL) == ((s->xcr0 & 0xe0) != 0));
	check_table_matches_xml(&f, s->label);

	uint8_t *image = synthetic_image(&l), *regs = calloc(1, f.rf.size);
	uint8_t *scratch = malloc(f.rf.size), *xs = malloc(l.size ? l.size : XS_LEGACY_SIZE);
	if (!image || !regs || !scratch || !xs) {
		CHECK(!"out of memory");
		goto out;
	}
	x86_xsave_unpack(&f, image, regs);
	CHECK_MEM(reg_at(&f, regs, "xmm1"), image + 176, 16);
	memcpy(xs, image, l.size ? l.size : XS_LEGACY_SIZE);
	CHECK(x86_xsave_pack(&f, regs, xs, scratch) == 0);
	CHECK_MEM(xs, image, l.size ? l.size : XS_LEGACY_SIZE);
	check_one_write(&f, image, regs, "xmm3", XC_SSE);
	check_one_write(&f, image, regs, "st7", XC_X87);
	if (s->xcr0 & XC_BIT(XC_AVX)) {
		CHECK_MEM(reg_at(&f, regs, "ymm2h"), image + 576 + 32, 16);
		check_one_write(&f, image, regs, "ymm2h", XC_AVX);
	}
	if (s->xcr0 & XC_BIT(XC_PKRU)) {
		CHECK_MEM(reg_at(&f, regs, "pkru"), image + l.offset[XC_PKRU], 4);
		check_one_write(&f, image, regs, "pkru", XC_PKRU);
	}
	if (s->xcr0 & XC_BIT(XC_OPMASK))
		check_one_write(&f, image, regs, "k3", XC_OPMASK);
	if (s->xcr0 & XC_BIT(XC_BNDREGS)) {
		/* gdb's order: avx, mpx, avx512 */
		CHECK(regno(&f, "bnd0raw") == regno(&f, "ymm15h") + 1);
		CHECK(regno(&f, "bndstatus") == regno(&f, "bnd0raw") + 5);
		CHECK_MEM(reg_at(&f, regs, "bnd1raw"), image + l.offset[XC_BNDREGS] + 16, 16);
		CHECK_MEM(reg_at(&f, regs, "bndcfgu"), image + l.offset[XC_BNDCSR], 8);
		CHECK_MEM(reg_at(&f, regs, "bndstatus"), image + l.offset[XC_BNDCSR] + 8, 8);
		check_one_write(&f, image, regs, "bnd1raw", XC_BNDREGS);
		check_one_write(&f, image, regs, "bndstatus", XC_BNDCSR);
	}
out:
	free(image);
	free(regs);
	free(scratch);
	free(xs);
}

static void test_refused_layouts(void)
{
	struct x86_cpuid sub[XC_MAX];
	struct x86_xsave_layout l;
	char why[160];
	memset(sub, 0, sizeof sub);
	sub[XC_AVX] = (struct x86_cpuid){256, 576, 0, 0};
	CHECK(x86_xsave_layout(0x7, 832, sub, XC_MAX, &l, why, sizeof why) == 0);
	CHECK(x86_xsave_layout(0x5, 832, sub, XC_MAX, &l, why, sizeof why) < 0);   /* no SSE */
	CHECK(x86_xsave_layout(0x7, 800, sub, XC_MAX, &l, why, sizeof why) < 0);   /* past the end */
	CHECK(strstr(why, "outside") != NULL);
	CHECK(x86_xsave_layout(0x7, 0, sub, XC_MAX, &l, why, sizeof why) < 0);     /* AVX, no XSAVE */
	CHECK(x86_xsave_layout(0x7, 500, sub, XC_MAX, &l, why, sizeof why) < 0);   /* no header */
	CHECK(x86_xsave_layout(0x27, 2000, sub, XC_MAX, &l, why, sizeof why) < 0); /* part of AVX-512 */
	CHECK(x86_xsave_layout(0x207, 2440, sub, XC_MAX, &l, why, sizeof why) < 0); /* PKRU: no CPUID */
	sub[XC_PKRU] = (struct x86_cpuid){4, 2432, 0, 0};
	CHECK(x86_xsave_layout(0x207, 2440, sub, XC_MAX, &l, why, sizeof why) < 0); /* wrong size */
	CHECK(x86_xsave_layout(0x207, 2440, sub, 4, &l, why, sizeof why) < 0);      /* short table */
	sub[3] = (struct x86_cpuid){64, 960, 0, 0};
	sub[4] = (struct x86_cpuid){64, 1024, 0, 0};
	CHECK(x86_xsave_layout(0x1f, 1088, sub, XC_MAX, &l, why, sizeof why) == 0);
	CHECK(x86_xsave_layout(0xf, 1088, sub, XC_MAX, &l, why, sizeof why) < 0);  /* part of MPX */
	CHECK(strstr(why, "MPX") != NULL);
	CHECK(x86_xsave_xcr0((const uint8_t *)"", 0) == 0);
}

int main(void)
{
	static struct recorded rec;
	bool have = load_recorded(check_shared_dir(), &rec);
	CHECK(have);
	if (have)
		test_recorded(&rec);
	for (size_t i = 0; i < sizeof synthetics / sizeof synthetics[0]; i++)
		test_synthetic(&synthetics[i]);
	test_refused_layouts();
	free(rec.image);
	free(rec.gdbserver_xml);
	return check_done("test_arch_x86_xsave");
}
