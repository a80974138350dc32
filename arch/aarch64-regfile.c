/* The AArch64 register file of one machine: the optional register sets it
 * has (SVE at its vector length, pointer authentication, MTE, TLS), with
 * the gdb numbers and raw-block places gdbserver 13 gives them
 * (gdb/arch/aarch64.c aarch64_create_target_description), the target
 * description, and the SVE register set (NT_ARM_SVE) packed to and from
 * the block as gdb/nat/aarch64-sve-linux-ptrace.c does. No ptrace and no
 * host headers here: built on every architecture, test_arch_aarch64_regs
 * runs it on synthetic data. */
#include "arch/aarch64-regfile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "arch/aarch64-tdesc.inc"

static const char tdesc_pauth[] =
	"<?xml version=\"1.0\"?>\n"
	"<!DOCTYPE feature SYSTEM \"gdb-target.dtd\">\n"
	"<feature name=\"org.gnu.gdb.aarch64.pauth\">\n"
	"  <reg name=\"pauth_dmask\" bitsize=\"64\"/>\n"
	"  <reg name=\"pauth_cmask\" bitsize=\"64\"/>\n"
	"</feature>\n";

static const char tdesc_mte[] =
	"<?xml version=\"1.0\"?>\n"
	"<!DOCTYPE feature SYSTEM \"gdb-target.dtd\">\n"
	"<feature name=\"org.gnu.gdb.aarch64.mte\">\n"
	"  <reg name=\"tag_ctl\" bitsize=\"64\" type=\"uint64\" group=\"system\" save-restore=\"no\"/>\n"
	"</feature>\n";

#define N16(p) p "0", p "1", p "2", p "3", p "4", p "5", p "6", p "7", \
	p "8", p "9", p "10", p "11", p "12", p "13", p "14", p "15"
#define N32(p) N16(p), p "16", p "17", p "18", p "19", p "20", p "21", p "22", p "23", \
	p "24", p "25", p "26", p "27", p "28", p "29", p "30", p "31"
static const char *const xnames[31] = {
	"x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12",
	"x13", "x14", "x15", "x16", "x17", "x18", "x19", "x20", "x21", "x22", "x23",
	"x24", "x25", "x26", "x27", "x28", "x29", "x30",
};
static const char *const vnames[32] = {N32("v")};
static const char *const znames[32] = {N32("z")};
static const char *const pnames[16] = {N16("p")};

/* Append to a fixed buffer; sets *FULL instead of overflowing. */
static void app(char *buf, size_t cap, bool *full, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void app(char *buf, size_t cap, bool *full, const char *fmt, ...)
{
	size_t have = strlen(buf);
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + have, cap - have, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap - have)
		*full = true;
}

struct flag { const char *name; int start, end; };

static void app_flags(char *buf, size_t cap, bool *full, const char *id,
		      const struct flag *fl, size_t n)
{
	app(buf, cap, full, "  <flags id=\"%s\" size=\"4\">\n", id);
	for (size_t i = 0; i < n; i++)
		app(buf, cap, full, "    <field name=\"%s\" start=\"%d\" end=\"%d\" type=\"%s\"/>\n",
		    fl[i].name, fl[i].start, fl[i].end, fl[i].start == fl[i].end ? "bool" : "uint32");
	app(buf, cap, full, "  </flags>\n");
}

/* org.gnu.gdb.aarch64.sve for VQ 128-bit chunks per Z register, as
 * gdbserver prints gdb/features/aarch64-sve.c (print_xml_feature). */
static bool sve_xml(char *buf, size_t cap, unsigned vq, int first_regno)
{
	static const struct { const char *id, *elem; unsigned per_q; } vec[] = {
		{"svevqu", "uint128", 1}, {"svevqs", "int128", 1},
		{"svevdf", "ieee_double", 2}, {"svevdu", "uint64", 2}, {"svevds", "int64", 2},
		{"svevsf", "ieee_single", 4}, {"svevsu", "uint32", 4}, {"svevss", "int32", 4},
		{"svevhf", "ieee_half", 8}, {"svevhu", "uint16", 8}, {"svevhs", "int16", 8},
		{"svevbu", "uint8", 16}, {"svevbs", "int8", 16},
	};
	static const char *const unions =
		"  <union id=\"svevnq\">\n    <field name=\"u\" type=\"svevqu\"/>\n"
		"    <field name=\"s\" type=\"svevqs\"/>\n  </union>\n"
		"  <union id=\"svevnd\">\n    <field name=\"f\" type=\"svevdf\"/>\n"
		"    <field name=\"u\" type=\"svevdu\"/>\n    <field name=\"s\" type=\"svevds\"/>\n  </union>\n"
		"  <union id=\"svevns\">\n    <field name=\"f\" type=\"svevsf\"/>\n"
		"    <field name=\"u\" type=\"svevsu\"/>\n    <field name=\"s\" type=\"svevss\"/>\n  </union>\n"
		"  <union id=\"svevnh\">\n    <field name=\"f\" type=\"svevhf\"/>\n"
		"    <field name=\"u\" type=\"svevhu\"/>\n    <field name=\"s\" type=\"svevhs\"/>\n  </union>\n"
		"  <union id=\"svevnb\">\n    <field name=\"u\" type=\"svevbu\"/>\n"
		"    <field name=\"s\" type=\"svevbs\"/>\n  </union>\n"
		"  <union id=\"svev\">\n    <field name=\"q\" type=\"svevnq\"/>\n"
		"    <field name=\"d\" type=\"svevnd\"/>\n    <field name=\"s\" type=\"svevns\"/>\n"
		"    <field name=\"h\" type=\"svevnh\"/>\n    <field name=\"b\" type=\"svevnb\"/>\n  </union>\n";
	static const struct flag fpsr[] = {
		{"IOC", 0, 0}, {"DZC", 1, 1}, {"OFC", 2, 2}, {"UFC", 3, 3}, {"IXC", 4, 4},
		{"IDC", 7, 7}, {"QC", 27, 27}, {"V", 28, 28}, {"C", 29, 29}, {"Z", 30, 30},
		{"N", 31, 31},
	};
	static const struct flag fpcr[] = {
		{"FIZ", 0, 0}, {"AH", 1, 1}, {"NEP", 2, 2}, {"IOE", 8, 8}, {"DZE", 9, 9},
		{"OFE", 10, 10}, {"UFE", 11, 11}, {"IXE", 12, 12}, {"EBF", 13, 13},
		{"IDE", 15, 15}, {"Len", 16, 18}, {"FZ16", 19, 19}, {"Stride", 20, 21},
		{"RMode", 22, 23}, {"FZ", 24, 24}, {"DN", 25, 25}, {"AHP", 26, 26},
	};
	bool full = false;
	int r = first_regno;
	buf[0] = '\0';
	app(buf, cap, &full, "<?xml version=\"1.0\"?>\n<!DOCTYPE feature SYSTEM \"gdb-target.dtd\">\n"
	    "<feature name=\"org.gnu.gdb.aarch64.sve\">\n");
	for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++)
		app(buf, cap, &full, "  <vector id=\"%s\" type=\"%s\" count=\"%u\"/>\n",
		    vec[i].id, vec[i].elem, vec[i].per_q * vq);
	app(buf, cap, &full, "%s  <vector id=\"svep\" type=\"uint8\" count=\"%u\"/>\n", unions, 2 * vq);
	app_flags(buf, cap, &full, "fpsr_flags", fpsr, sizeof fpsr / sizeof fpsr[0]);
	app_flags(buf, cap, &full, "fpcr_flags", fpcr, sizeof fpcr / sizeof fpcr[0]);
	for (int i = 0; i < 32; i++)
		app(buf, cap, &full, "  <reg name=\"%s\" bitsize=\"%u\" type=\"svev\" regnum=\"%d\"/>\n",
		    znames[i], 128 * vq, r++);
	app(buf, cap, &full, "  <reg name=\"fpsr\" bitsize=\"32\" type=\"fpsr_flags\" regnum=\"%d\"/>\n", r++);
	app(buf, cap, &full, "  <reg name=\"fpcr\" bitsize=\"32\" type=\"fpcr_flags\" regnum=\"%d\"/>\n", r++);
	for (int i = 0; i < 17; i++)
		app(buf, cap, &full, "  <reg name=\"%s\" bitsize=\"%u\" type=\"svep\" regnum=\"%d\"/>\n",
		    i < 16 ? pnames[i] : "ffr", 16 * vq, r++);
	app(buf, cap, &full, "  <reg name=\"vg\" bitsize=\"64\" type=\"int\" regnum=\"%d\"/>\n</feature>\n", r);
	return !full;
}

static void add_reg(struct a64_regfile *a, const char *name, unsigned size)
{
	a->regs[a->rf.nregs++] = (struct arch_reg){name, (uint16_t)size, (uint32_t)a->rf.size, true};
	a->rf.size += size;
}

static void add_feature(struct a64_regfile *a, const char *annex, const char *xml)
{
	a->features[a->rf.nfeatures++] = (struct arch_feature){annex, xml};
	/* (cannot overflow: target.xml is sized for every include) */
	app(a->target_xml, sizeof a->target_xml, &(bool){false},
	    "  <xi:include href=\"%s\"/>\n", annex);
}

int a64_regfile_build(const struct a64_features *f, struct a64_regfile *a)
{
	if (f->vq > A64_MAX_VQ || f->tls > 2) {
		errno = EINVAL;
		return -1;
	}
	memset(a, 0, sizeof *a);
	a->f = *f;
	a->rf.regs = a->regs;
	a->rf.features = a->features;
	a->rf.memtags = f->mte;
	a->p0 = a->ffr = a->vg = a->pauth_dmask = a->tag_ctl = a->tpidr = -1;
	snprintf(a->target_xml, sizeof a->target_xml,
		 "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n<target>\n"
		 "  <architecture>aarch64</architecture>\n  <osabi>GNU/Linux</osabi>\n");
	a->features[a->rf.nfeatures++] = (struct arch_feature){"target.xml", a->target_xml};

	for (int i = 0; i < 31; i++)
		add_reg(a, xnames[i], 8);
	add_reg(a, "sp", 8);
	add_reg(a, "pc", 8);
	add_reg(a, "cpsr", 4);
	add_feature(a, "aarch64-core.xml", tdesc_aarch64_core);
	if (f->vq == 0) {
		for (int i = 0; i < 32; i++)
			add_reg(a, vnames[i], 16);
		add_feature(a, "aarch64-fpu.xml", tdesc_aarch64_fpu);
	} else {
		if (!sve_xml(a->sve_xml, sizeof a->sve_xml, f->vq, (int)a->rf.nregs))
			return -1;
		for (int i = 0; i < 32; i++)
			add_reg(a, znames[i], 16 * f->vq);
		add_feature(a, "aarch64-sve.xml", a->sve_xml);
	}
	a->fpsr = (int)a->rf.nregs;
	add_reg(a, "fpsr", 4);
	add_reg(a, "fpcr", 4);
	if (f->vq) {
		a->p0 = (int)a->rf.nregs;
		for (int i = 0; i < 16; i++)
			add_reg(a, pnames[i], 2 * f->vq);
		a->ffr = (int)a->rf.nregs;
		add_reg(a, "ffr", 2 * f->vq);
		a->vg = (int)a->rf.nregs;
		add_reg(a, "vg", 8);
	}
	if (f->pauth) {
		a->pauth_dmask = (int)a->rf.nregs;
		add_reg(a, "pauth_dmask", 8);
		add_reg(a, "pauth_cmask", 8);
		add_feature(a, "aarch64-pauth.xml", tdesc_pauth);
	}
	if (f->mte) {
		a->tag_ctl = (int)a->rf.nregs;
		add_reg(a, "tag_ctl", 8);
		add_feature(a, "aarch64-mte.xml", tdesc_mte);
	}
	if (f->tls) {
		a->tpidr = (int)a->rf.nregs;
		snprintf(a->tls_xml, sizeof a->tls_xml,
			 "<?xml version=\"1.0\"?>\n<!DOCTYPE feature SYSTEM \"gdb-target.dtd\">\n"
			 "<feature name=\"org.gnu.gdb.aarch64.tls\">\n"
			 "  <reg name=\"tpidr\" bitsize=\"64\" type=\"data_ptr\"/>\n%s</feature>\n",
			 f->tls > 1 ? "  <reg name=\"tpidr2\" bitsize=\"64\" type=\"data_ptr\"/>\n" : "");
		add_reg(a, "tpidr", 8);
		if (f->tls > 1)
			add_reg(a, "tpidr2", 8);
		add_feature(a, "aarch64-tls.xml", a->tls_xml);
	}
	app(a->target_xml, sizeof a->target_xml, &(bool){false}, "</target>\n");

	/* As gdbserver 13: frame pointer, stack pointer, pc, and vg with SVE
	 * (gdb 13 does not act on it; later gdbs pick the description by it). */
	int *e = a->expedite;
	*e++ = A64_X29;
	*e++ = A64_SP;
	*e++ = A64_PC;
	if (a->vg >= 0)
		*e++ = a->vg;
	*e = -1;
	return 0;
}

/* --- NT_ARM_SVE ----------------------------------------------------------- */

/* Image fields are little-endian whatever the host (the tests run this on
 * any machine); so is the raw block, the target's byte order. */
static uint64_t get_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = n; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

/* The fields of struct user_sve_header we use. */
struct sve_header {
	uint32_t size;
	uint16_t vl, flags;
};

static uint8_t *reg_at(const struct a64_regfile *a, uint8_t *regs, int regno)
{
	return regs + a->regs[regno].offset;
}

/* The image's header, checked as gdb does: a valid vector length, and a
 * size that is the one of its format at that length (and fits in LEN). */
static bool sve_header(const uint8_t *img, size_t len, struct sve_header *h, unsigned *vq)
{
	if (len < A64_SVE_HDR_LEN)
		return false;
	h->size = (uint32_t)get_le(img + A64_SVE_HDR_SIZE, 4);
	h->vl = (uint16_t)get_le(img + A64_SVE_HDR_VL, 2);
	h->flags = (uint16_t)get_le(img + A64_SVE_HDR_FLAGS, 2);
	if (!A64_SVE_VL_VALID(h->vl))
		return false;
	*vq = h->vl / A64_SVE_VQ_BYTES;
	return h->size == A64_SVE_PT_SIZE(*vq, h->flags) && h->size <= len;
}

/* H's size, vl and flags into IMG (max_size and max_vl are the kernel's). */
static void put_header(uint8_t *img, const struct sve_header *h)
{
	put_le(img + A64_SVE_HDR_SIZE, h->size, 4);
	put_le(img + A64_SVE_HDR_VL, h->vl, 2);
	put_le(img + A64_SVE_HDR_FLAGS, h->flags, 2);
}

int a64_sve_to_regs(const struct a64_regfile *a, const uint8_t *img, size_t len, uint8_t *regs)
{
	struct sve_header h;
	unsigned tvq;
	if (!a->f.vq || !sve_header(img, len, &h, &tvq)) {
		errno = EINVAL;
		return -1;
	}
	/* A thread at another vector length than the description's: the
	 * lanes both have, the rest zero (gdbserver 13 would misplace them). */
	size_t zbytes = A64_SVE_ZREG_SIZE(a->f.vq), pbytes = A64_SVE_PREG_SIZE(a->f.vq);
	size_t zcopy = A64_SVE_ZREG_SIZE(tvq < a->f.vq ? tvq : a->f.vq), pcopy = zcopy / 8;
	for (int i = 0; i < 32; i++)
		memset(reg_at(a, regs, A64_V0 + i), 0, zbytes);
	for (int i = 0; i < 17; i++)
		memset(reg_at(a, regs, a->p0 + i), 0, pbytes);
	if ((h.flags & A64_SVE_PT_REGS_MASK) == A64_SVE_PT_REGS_SVE) {
		for (int i = 0; i < 32; i++)
			memcpy(reg_at(a, regs, A64_V0 + i), img + A64_SVE_PT_ZREG_OFFSET(tvq, i), zcopy);
		for (int i = 0; i < 16; i++)
			memcpy(reg_at(a, regs, a->p0 + i), img + A64_SVE_PT_PREG_OFFSET(tvq, i), pcopy);
		memcpy(reg_at(a, regs, a->ffr), img + A64_SVE_PT_FFR_OFFSET(tvq), pcopy);
		memcpy(reg_at(a, regs, a->fpsr), img + A64_SVE_PT_FPSR_OFFSET(tvq), 4);
		memcpy(reg_at(a, regs, a->fpsr + 1), img + A64_SVE_PT_FPCR_OFFSET(tvq), 4);
	} else {
		/* No SVE state yet: the V registers are the low 128 bits of
		 * the Z registers, everything else is zero. */
		const uint8_t *fp = img + A64_SVE_PT_REGS_OFFSET;
		for (int i = 0; i < 32; i++)
			memcpy(reg_at(a, regs, A64_V0 + i), fp + A64_FPSIMD_VREGS + 16 * i, 16);
		memcpy(reg_at(a, regs, a->fpsr), fp + A64_FPSIMD_FPSR, 4);
		memcpy(reg_at(a, regs, a->fpsr + 1), fp + A64_FPSIMD_FPCR, 4);
	}
	put_le(reg_at(a, regs, a->vg), h.vl / 8u, 8);
	return 0;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Whether REGS hold state that only the SVE format can carry. */
static bool has_sve_state(const struct a64_regfile *a, const uint8_t *regs)
{
	for (int i = 0; i < 32; i++)
		if (!all_zero(regs + a->regs[A64_V0 + i].offset + 16, A64_SVE_ZREG_SIZE(a->f.vq) - 16))
			return true;
	for (int i = 0; i < 17; i++)
		if (!all_zero(regs + a->regs[a->p0 + i].offset, A64_SVE_PREG_SIZE(a->f.vq)))
			return true;
	return false;
}

/* FPSIMD format at vector length VL: the V parts of the Z registers. */
static size_t put_fpsimd(const struct a64_regfile *a, const uint8_t *regs, uint8_t *img,
			 struct sve_header *h, uint16_t vl)
{
	uint8_t *fp = img + A64_SVE_PT_REGS_OFFSET;
	/* From another format: zero, reserved words included; from FPSIMD
	 * they are kept as the kernel gave them. */
	if ((h->flags & A64_SVE_PT_REGS_MASK) != A64_SVE_PT_REGS_FPSIMD)
		memset(fp, 0, A64_FPSIMD_STATE_SIZE);
	for (int i = 0; i < 32; i++)
		memcpy(fp + A64_FPSIMD_VREGS + 16 * i, regs + a->regs[A64_V0 + i].offset, 16);
	memcpy(fp + A64_FPSIMD_FPSR, regs + a->regs[a->fpsr].offset, 4);
	memcpy(fp + A64_FPSIMD_FPCR, regs + a->regs[a->fpsr + 1].offset, 4);
	h->vl = vl;
	h->flags = (uint16_t)((h->flags & ~A64_SVE_PT_REGS_MASK) | A64_SVE_PT_REGS_FPSIMD);
	h->size = (uint32_t)A64_SVE_PT_FPSIMD_SIZE;
	put_header(img, h);
	return h->size;
}

ssize_t a64_sve_from_regs(const struct a64_regfile *a, const uint8_t *regs, uint8_t *img, size_t cap)
{
	struct sve_header h;
	unsigned tvq;
	if (!a->f.vq || !sve_header(img, cap, &h, &tvq)) {
		errno = EINVAL;
		return -1;
	}
	uint64_t vg = get_le(regs + a->regs[a->vg].offset, 8);
	if (vg != h.vl / 8u) {
		/* A new vector length, as gdb's native target sets it: the
		 * kernel keeps the V parts and zeroes the rest of the state. */
		if (vg == 0 || vg > 2u * A64_MAX_VQ || !A64_SVE_VL_VALID(vg * 8)) {
			errno = EINVAL;
			return -1;
		}
		return (ssize_t)put_fpsimd(a, regs, img, &h, (uint16_t)(vg * 8));
	}
	bool sve = (h.flags & A64_SVE_PT_REGS_MASK) == A64_SVE_PT_REGS_SVE;
	if (!sve && !has_sve_state(a, regs))
		return (ssize_t)put_fpsimd(a, regs, img, &h, h.vl);   /* stays FPSIMD, as gdbserver */
	size_t size = A64_SVE_PT_SVE_SIZE(tvq);
	if (size > cap) {
		errno = ENOSPC;
		return -1;
	}
	if (!sve) {
		/* Into the SVE format: lanes past the description's width
		 * (a thread at a longer length) are zero, as FPSIMD implies. */
		memset(img + A64_SVE_PT_REGS_OFFSET, 0, size - A64_SVE_PT_REGS_OFFSET);
		h.flags = (uint16_t)((h.flags & ~A64_SVE_PT_REGS_MASK) | A64_SVE_PT_REGS_SVE);
		h.size = (uint32_t)size;
		put_header(img, &h);
	}
	size_t zcopy = A64_SVE_ZREG_SIZE(tvq < a->f.vq ? tvq : a->f.vq), pcopy = zcopy / 8;
	for (int i = 0; i < 32; i++)
		memcpy(img + A64_SVE_PT_ZREG_OFFSET(tvq, i), regs + a->regs[A64_V0 + i].offset, zcopy);
	for (int i = 0; i < 16; i++)
		memcpy(img + A64_SVE_PT_PREG_OFFSET(tvq, i), regs + a->regs[a->p0 + i].offset, pcopy);
	memcpy(img + A64_SVE_PT_FFR_OFFSET(tvq), regs + a->regs[a->ffr].offset, pcopy);
	memcpy(img + A64_SVE_PT_FPSR_OFFSET(tvq), regs + a->regs[a->fpsr].offset, 4);
	memcpy(img + A64_SVE_PT_FPCR_OFFSET(tvq), regs + a->regs[a->fpsr + 1].offset, 4);
	return (ssize_t)size;
}

/* --- MTE allocation tags ---------------------------------------------------- */

size_t a64_mte_granules(uint64_t addr, uint64_t len)
{
	if (len == 0)
		return 0;
	uint64_t first = addr & ~(uint64_t)15, last = (addr + len - 1) & ~(uint64_t)15;
	return (size_t)((last - first) / 16 + 1);
}
