/* x86-64 register file from the XSAVE area (see x86_xsave.h). The
 * description and numbering are those of gdb's
 * amd64_create_target_description as gdbserver 13 serves it on Linux:
 * core, sse, linux, segments, then avx, mpx, avx512 and pkeys when XCR0
 * has them; gdbserver's 'g' holds every register, so ours does too. */
#include "arch/x86_xsave.h"

#include <stdio.h>
#include <string.h>

#include "arch/x86_64-tdesc.inc"

#define REG(n, sz, off) {n, sz, off, true}
const struct arch_reg x86_base_regs[R_BASE_COUNT] = {
	REG("rax", 8, 0), REG("rbx", 8, 8), REG("rcx", 8, 16), REG("rdx", 8, 24),
	REG("rsi", 8, 32), REG("rdi", 8, 40), REG("rbp", 8, 48), REG("rsp", 8, 56),
	REG("r8", 8, 64), REG("r9", 8, 72), REG("r10", 8, 80), REG("r11", 8, 88),
	REG("r12", 8, 96), REG("r13", 8, 104), REG("r14", 8, 112), REG("r15", 8, 120),
	REG("rip", 8, 128), REG("eflags", 4, 136),
	REG("cs", 4, 140), REG("ss", 4, 144), REG("ds", 4, 148), REG("es", 4, 152),
	REG("fs", 4, 156), REG("gs", 4, 160),
	REG("st0", 10, 164), REG("st1", 10, 174), REG("st2", 10, 184), REG("st3", 10, 194),
	REG("st4", 10, 204), REG("st5", 10, 214), REG("st6", 10, 224), REG("st7", 10, 234),
	REG("fctrl", 4, 244), REG("fstat", 4, 248), REG("ftag", 4, 252), REG("fiseg", 4, 256),
	REG("fioff", 4, 260), REG("foseg", 4, 264), REG("fooff", 4, 268), REG("fop", 4, 272),
	REG("xmm0", 16, 276), REG("xmm1", 16, 292), REG("xmm2", 16, 308), REG("xmm3", 16, 324),
	REG("xmm4", 16, 340), REG("xmm5", 16, 356), REG("xmm6", 16, 372), REG("xmm7", 16, 388),
	REG("xmm8", 16, 404), REG("xmm9", 16, 420), REG("xmm10", 16, 436), REG("xmm11", 16, 452),
	REG("xmm12", 16, 468), REG("xmm13", 16, 484), REG("xmm14", 16, 500), REG("xmm15", 16, 516),
	REG("mxcsr", 4, 532), REG("orig_rax", 8, 536),
	REG("fs_base", 8, 544), REG("gs_base", 8, 552),
};

/* How a register is kept in the image: most are bytes to copy; the x87
 * control words are narrower there than gdb's 32 bits, and the tag word
 * is abridged to one bit per register. */
enum {
	K_PLAIN, K_U16, K_FTAG, K_FOP, K_MXCSR,
};

/* Places in the legacy region (FXSAVE64 format). */
#define XS_FCW 0
#define XS_FSW 2
#define XS_FTW 4
#define XS_FOP 6
#define XS_FIP 8
#define XS_FDP 16
#define XS_MXCSR 24
#define XS_ST 32
#define XS_XMM 160

/* Init values: what XRSTOR loads for a component whose XSTATE_BV bit is
 * clear (Intel SDM vol. 1, 13.6). */
#define FCW_INIT 0x37f
#define FTAG_INIT 0xffff
#define MXCSR_INIT 0x1f80

/* The architectural size of the components we show registers of. */
static const struct {
	int comp;
	uint32_t size;
} known_sizes[] = {
	{XC_AVX, 256}, {XC_BNDREGS, 64}, {XC_BNDCSR, 64}, {XC_OPMASK, 64}, {XC_ZMM_H, 512}, {XC_HI16_ZMM, 1024}, {XC_PKRU, 8},
};

int x86_xsave_layout(uint64_t xcr0, size_t size, const struct x86_cpuid *sub, size_t nsub,
		     struct x86_xsave_layout *l, char *why, size_t whylen)
{
	memset(l, 0, sizeof *l);
	l->xcr0 = xcr0;
	l->size = size;
	l->offset[XC_X87] = 0;
	l->csize[XC_X87] = XS_XMM;
	l->offset[XC_SSE] = XS_XMM;
	l->csize[XC_SSE] = 256;
	if ((xcr0 & 3) != 3) {
		snprintf(why, whylen, "XCR0 %#llx lacks x87 or SSE", (unsigned long long)xcr0);
		return -1;
	}
	if (size == 0) {
		if (xcr0 != 3) {
			snprintf(why, whylen, "XCR0 %#llx without an XSAVE area", (unsigned long long)xcr0);
			return -1;
		}
		return 0;
	}
	if (size < XS_HEADER_END) {
		snprintf(why, whylen, "XSAVE area of %zu bytes is shorter than its header", size);
		return -1;
	}
	/* AVX-512 is all three components or none (XSETBV refuses others). */
	uint64_t avx512 = xcr0 & XC_AVX512_MASK;
	if (avx512 && (avx512 != XC_AVX512_MASK || !(xcr0 & XC_BIT(XC_AVX)))) {
		snprintf(why, whylen, "XCR0 %#llx has part of AVX-512", (unsigned long long)xcr0);
		return -1;
	}
	/* So is MPX (Intel SDM: XSETBV faults when XCR0[3] != XCR0[4]). */
	uint64_t mpx = xcr0 & XC_MPX_MASK;
	if (mpx && mpx != XC_MPX_MASK) {
		snprintf(why, whylen, "XCR0 %#llx has part of MPX", (unsigned long long)xcr0);
		return -1;
	}
	for (int c = 2; c < XC_MAX; c++) {
		if (!(xcr0 & XC_BIT(c)))
			continue;
		if ((size_t)c >= nsub || sub[c].eax == 0) {
			snprintf(why, whylen, "CPUID 0xD has no size for component %d of XCR0", c);
			return -1;
		}
		l->offset[c] = sub[c].ebx;
		l->csize[c] = sub[c].eax;
		if (l->offset[c] < XS_HEADER_END || (size_t)l->offset[c] + l->csize[c] > size) {
			snprintf(why, whylen, "component %d at %u+%u is outside the %zu-byte area",
				 c, l->offset[c], l->csize[c], size);
			return -1;
		}
	}
	for (size_t i = 0; i < sizeof known_sizes / sizeof known_sizes[0]; i++) {
		int c = known_sizes[i].comp;
		if ((xcr0 & XC_BIT(c)) && l->csize[c] != known_sizes[i].size) {
			snprintf(why, whylen, "component %d has %u bytes, not %u",
				 c, l->csize[c], known_sizes[i].size);
			return -1;
		}
	}
	return 0;
}

uint64_t x86_xsave_xcr0(const uint8_t *xs, size_t len)
{
	uint64_t v = 0;
	if (len >= XS_SW_XCR0 + 8)
		memcpy(&v, xs + XS_SW_XCR0, 8);
	return v;
}

/* --- the register file ---------------------------------------------------- */

struct builder {
	struct x86_regfile *f;
	size_t n;
	uint32_t off;
};

static void add(struct builder *b, const char *name, uint16_t size, int comp, int kind,
		uint32_t xs_offset)
{
	struct x86_regfile *f = b->f;
	snprintf(f->names[b->n], sizeof f->names[b->n], "%s", name);
	f->regs[b->n] = (struct arch_reg){f->names[b->n], size, b->off, true};
	f->xregs[b->n] = (struct x86_xreg){(int8_t)comp, (uint8_t)kind, xs_offset};
	b->off += size;
	b->n++;
}

/* Registers numbered NAME<first>..NAME<first+count-1><suffix>, STRIDE
 * bytes apart in the image from XS_OFFSET. */
static void add_run(struct builder *b, const char *name, int first, int count, const char *suffix,
		    uint16_t size, int comp, uint32_t xs_offset, uint32_t stride)
{
	for (int i = 0; i < count; i++) {
		char n[12];
		snprintf(n, sizeof n, "%s%d%s", name, first + i, suffix);
		add(b, n, size, comp, K_PLAIN, xs_offset + stride * (uint32_t)i);
	}
}

/* The base registers: general ones (not in the image), x87 and SSE. */
static void add_base(struct builder *b)
{
	for (int r = 0; r < R_BASE_COUNT; r++) {
		const struct arch_reg *br = &x86_base_regs[r];
		int comp = -1, kind = K_PLAIN;
		uint32_t xo = 0;
		if (r >= R_ST0 && r < R_FCTRL) {
			comp = XC_X87;
			xo = XS_ST + 16 * (uint32_t)(r - R_ST0);
		} else if (r >= R_FCTRL && r <= R_FOP) {
			static const struct { uint8_t kind; uint8_t off; } x87[] = {
				[R_FCTRL - R_FCTRL] = {K_U16, XS_FCW},
				[R_FSTAT - R_FCTRL] = {K_U16, XS_FSW},
				[R_FTAG - R_FCTRL] = {K_FTAG, XS_FTW},
				[R_FISEG - R_FCTRL] = {K_U16, XS_FIP + 4},
				[R_FIOFF - R_FCTRL] = {K_PLAIN, XS_FIP},
				[R_FOSEG - R_FCTRL] = {K_U16, XS_FDP + 4},
				[R_FOOFF - R_FCTRL] = {K_PLAIN, XS_FDP},
				[R_FOP - R_FCTRL] = {K_FOP, XS_FOP},
			};
			comp = XC_X87;
			kind = x87[r - R_FCTRL].kind;
			xo = x87[r - R_FCTRL].off;
		} else if (r >= R_XMM0 && r < R_MXCSR) {
			comp = XC_SSE;
			xo = XS_XMM + 16 * (uint32_t)(r - R_XMM0);
		} else if (r == R_MXCSR) {
			comp = XC_SSE;
			kind = K_MXCSR;
			xo = XS_MXCSR;
		}
		add(b, br->name, br->size, comp, kind, xo);
	}
}

static void add_feature(struct x86_regfile *f, size_t *nf, const char *annex, const char *xml)
{
	f->features[(*nf)++] = (struct arch_feature){annex, xml};
}

int x86_regfile_build(const struct x86_xsave_layout *l, struct x86_regfile *f)
{
	memset(f, 0, sizeof *f);
	f->layout = *l;
	struct builder b = {f, 0, 0};
	size_t nf = 0;
	add_feature(f, &nf, "target.xml", f->target_xml);
	add_feature(f, &nf, "64bit-core.xml", tdesc_x86_64bit_core);
	add_feature(f, &nf, "64bit-sse.xml", tdesc_x86_64bit_sse);
	add_feature(f, &nf, "64bit-linux.xml", tdesc_x86_64bit_linux);
	add_feature(f, &nf, "64bit-segments.xml", tdesc_x86_64bit_segments);
	add_base(&b);
	const uint32_t *o = l->offset;
	if (l->xcr0 & XC_BIT(XC_AVX)) {
		add_feature(f, &nf, "64bit-avx.xml", tdesc_x86_64bit_avx);
		add_run(&b, "ymm", 0, 16, "h", 16, XC_AVX, o[XC_AVX], 16);
	}
	if ((l->xcr0 & XC_MPX_MASK) == XC_MPX_MASK) {
		/* BNDREGS: bnd0-3, lower and upper bound; BNDCSR: BNDCFGU,
		 * then BNDSTATUS (gdbserver's i387-fp.c reads them there) */
		add_feature(f, &nf, "64bit-mpx.xml", tdesc_x86_64bit_mpx);
		add_run(&b, "bnd", 0, 4, "raw", 16, XC_BNDREGS, o[XC_BNDREGS], 16);
		add(&b, "bndcfgu", 8, XC_BNDCSR, K_PLAIN, o[XC_BNDCSR]);
		add(&b, "bndstatus", 8, XC_BNDCSR, K_PLAIN, o[XC_BNDCSR] + 8);
	}
	if ((l->xcr0 & XC_AVX512_MASK) == XC_AVX512_MASK) {
		/* Hi16_ZMM holds zmm16-31 whole: xmm, ymm upper and zmm upper
		 * quarters of each 64 bytes. */
		add_feature(f, &nf, "64bit-avx512.xml", tdesc_x86_64bit_avx512);
		add_run(&b, "xmm", 16, 16, "", 16, XC_HI16_ZMM, o[XC_HI16_ZMM], 64);
		add_run(&b, "ymm", 16, 16, "h", 16, XC_HI16_ZMM, o[XC_HI16_ZMM] + 16, 64);
		add_run(&b, "k", 0, 8, "", 8, XC_OPMASK, o[XC_OPMASK], 8);
		add_run(&b, "zmm", 0, 16, "h", 32, XC_ZMM_H, o[XC_ZMM_H], 32);
		add_run(&b, "zmm", 16, 16, "h", 32, XC_HI16_ZMM, o[XC_HI16_ZMM] + 32, 64);
	}
	if (l->xcr0 & XC_BIT(XC_PKRU)) {
		add_feature(f, &nf, "64bit-pkeys.xml", tdesc_x86_64bit_pkeys);
		add(&b, "pkru", 4, XC_PKRU, K_PLAIN, o[XC_PKRU]);
	}

	size_t used = (size_t)snprintf(f->target_xml, sizeof f->target_xml,
		"<?xml version=\"1.0\"?>\n"
		"<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
		"<target>\n"
		"  <architecture>i386:x86-64</architecture>\n"
		"  <osabi>GNU/Linux</osabi>\n");
	for (size_t i = 1; i < nf; i++)
		used += (size_t)snprintf(f->target_xml + used, sizeof f->target_xml - used,
					 "  <xi:include href=\"%s\"/>\n", f->features[i].annex);
	snprintf(f->target_xml + used, sizeof f->target_xml - used, "</target>\n");

	f->rf = (struct arch_regfile){.features = f->features, .nfeatures = nf,
				      .regs = f->regs, .nregs = b.n, .size = b.off};
	return 0;
}

/* --- image <-> raw block --------------------------------------------------- */

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

/* Tag of a physical x87 register from its contents (FXSAVE only keeps
 * empty/non-empty): 0 valid, 1 zero, 2 special. */
static int x87_tag(const uint8_t *raw)
{
	int integer = raw[7] & 0x80;
	unsigned exponent = (unsigned)((raw[9] & 0x7f) << 8 | raw[8]);
	int fraction_zero = 1;
	for (int i = 0; i < 8; i++)
		if ((i < 7 ? raw[i] : (raw[7] & 0x7f)) != 0)
			fraction_zero = 0;
	if (exponent == 0x7fff)
		return 2;
	if (exponent == 0)
		return fraction_zero && !integer ? 1 : 2;
	return integer ? 0 : 2;
}

static uint32_t full_ftag(const uint8_t *xs)
{
	int top = (get16(xs + XS_FSW) >> 11) & 7;
	uint32_t ftag = 0;
	for (int phys = 7; phys >= 0; phys--) {
		int tag = 3;
		if (xs[XS_FTW] & (1 << phys))
			tag = x87_tag(xs + XS_ST + 16 * ((phys + 8 - top) % 8));
		ftag |= (uint32_t)tag << (2 * phys);
	}
	return ftag;
}

static uint64_t xstate_bv(const struct x86_regfile *f, const uint8_t *xs)
{
	uint64_t bv = XC_BIT(XC_X87) | XC_BIT(XC_SSE);   /* FXSAVE: always there */
	if (f->layout.size)
		memcpy(&bv, xs + XS_XSTATE_BV, 8);
	return bv;
}

void x86_xsave_unpack(const struct x86_regfile *f, const uint8_t *xs, uint8_t *regs)
{
	uint64_t bv = xstate_bv(f, xs);
	for (size_t i = 0; i < f->rf.nregs; i++) {
		const struct x86_xreg *x = &f->xregs[i];
		const struct arch_reg *r = &f->regs[i];
		if (x->comp < 0)
			continue;
		uint8_t *dst = regs + r->offset;
		const uint8_t *src = xs + x->xs_offset;
		bool live = bv & XC_BIT(x->comp);
		uint32_t v = 0;
		memset(dst, 0, r->size);
		switch (x->kind) {
		case K_PLAIN:
			if (live)
				memcpy(dst, src, r->size);
			continue;
		case K_U16:
			v = live ? get16(src) : x->xs_offset == XS_FCW ? FCW_INIT : 0;
			break;
		case K_FTAG:
			v = live ? full_ftag(xs) : FTAG_INIT;
			break;
		case K_FOP:
			v = live ? get16(src) & 0x7ff : 0;
			break;
		case K_MXCSR:
			/* XSAVE keeps MXCSR with SSE or AVX state. */
			live = bv & (XC_BIT(XC_SSE) | XC_BIT(XC_AVX));
			memcpy(&v, src, 4);
			v = live ? v : MXCSR_INIT;
			break;
		}
		memcpy(dst, &v, 4);
	}
}

static void pack_one(const struct x86_xreg *x, const struct arch_reg *r, const uint8_t *src,
		     uint8_t *xs)
{
	uint8_t *dst = xs + x->xs_offset;
	uint32_t v = 0;
	memcpy(&v, src, 4 <= r->size ? 4 : r->size);
	switch (x->kind) {
	case K_PLAIN:
		memcpy(dst, src, r->size);
		break;
	case K_U16:
		put16(dst, (uint16_t)v);
		break;
	case K_FTAG: {
		uint8_t abridged = 0;
		for (int phys = 0; phys < 8; phys++)
			if (((v >> (2 * phys)) & 3) != 3)
				abridged |= (uint8_t)(1 << phys);
		*dst = abridged;
		break;
	}
	case K_FOP:   /* the opcode is 11 bits; keep the word's others */
		put16(dst, (uint16_t)((get16(dst) & 0xf800) | (v & 0x7ff)));
		break;
	case K_MXCSR:
		memcpy(dst, &v, 4);
		break;
	}
}

uint64_t x86_xsave_pack(const struct x86_regfile *f, const uint8_t *regs, uint8_t *xs,
			uint8_t *scratch)
{
	x86_xsave_unpack(f, xs, scratch);
	uint64_t changed = 0;
	for (size_t i = 0; i < f->rf.nregs; i++) {
		const struct arch_reg *r = &f->regs[i];
		if (f->xregs[i].comp >= 0 &&
		    memcmp(regs + r->offset, scratch + r->offset, r->size) != 0)
			changed |= XC_BIT(f->xregs[i].comp);
	}
	if (!changed)
		return 0;
	/* A component is written whole: its unchanged registers hold what
	 * the image meant, init values included. */
	for (size_t i = 0; i < f->rf.nregs; i++)
		if (f->xregs[i].comp >= 0 && (changed & XC_BIT(f->xregs[i].comp)))
			pack_one(&f->xregs[i], &f->regs[i], regs + f->regs[i].offset, xs);
	if (f->layout.size) {
		uint64_t bv = xstate_bv(f, xs) | changed;
		memcpy(xs + XS_XSTATE_BV, &bv, 8);
	}
	return changed;
}
