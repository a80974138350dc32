/* The AArch64 register file of a feature set (SVE at a vector length, PAC,
 * MTE, TLS) numbered and described as gdbserver 13 does, and NT_ARM_SVE
 * images (FPSIMD and SVE format, at the description's vector length and
 * at others) packed to and from the raw block, on synthetic images laid
 * out by the kernel's documented formula (Documentation/arm64/sve.rst,
 * checked against the uapi macros' values at vq 2 and 4). No kernel or SVE
 * CPU needed: it runs on every machine (and under qemu-user for aarch64). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "arch/aarch64-regfile.h"
#include "testsuite/unit/check.h"

static struct a64_regfile rf;

/* NT_ARM_SVE layout: header 16 bytes, then z0-z31 (16*vq each), p0-p15
 * and ffr (2*vq each), fpsr and fpcr at the next 16-byte boundary. */
static size_t z_off(unsigned vq, int n) { return 16 + 16u * vq * (unsigned)n; }
static size_t p_off(unsigned vq, int n) { return 16 + 512u * vq + 2u * vq * (unsigned)n; }
static size_t fpsr_off(unsigned vq) { return (16 + 546u * vq + 15) / 16 * 16; }
static size_t sve_size(unsigned vq) { return (fpsr_off(vq) + 8 + 15) / 16 * 16; }
#define FPSIMD_SIZE 544   /* header + struct user_fpsimd_state */

/* Image fields and registers are little-endian whatever the host. */
static void le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	while (n-- > 0)
		v = v << 8 | p[n];
	return v;
}

static void header(uint8_t *img, uint32_t size, uint16_t vl, uint16_t flags)
{
	le(img, size, 4);
	le(img + 4, sve_size(16), 4);   /* max_size */
	le(img + 8, vl, 2);
	le(img + 10, 256, 2);            /* max_vl */
	le(img + 12, flags, 2);
}

/* An SVE-format image at VQ: z byte k of zN = N*7+k, p/ffr byte k of
 * register N (ffr: 16) = 0x80|N ^ k, fpsr/fpcr known words. */
static size_t sve_image(uint8_t *img, unsigned vq)
{
	memset(img, 0, sve_size(16));
	header(img, (uint32_t)sve_size(vq), (uint16_t)(16 * vq), 1);
	for (int n = 0; n < 32; n++)
		for (unsigned k = 0; k < 16 * vq; k++)
			img[z_off(vq, n) + k] = (uint8_t)(n * 7 + (int)k);
	for (int n = 0; n < 17; n++)
		for (unsigned k = 0; k < 2 * vq; k++)
			img[p_off(vq, n) + k] = (uint8_t)((0x80 | n) ^ (int)k);
	le(img + fpsr_off(vq), 0x11223344, 4);
	le(img + fpsr_off(vq) + 4, 0x55667788, 4);
	return sve_size(vq);
}

static const uint8_t *reg(const uint8_t *regs, int regno)
{
	return regs + rf.regs[regno].offset;
}

static void test_offsets_formula(void)
{
	/* the uapi macros' values (SVE_PT_SVE_*_OFFSET, SVE_PT_SIZE) */
	CHECK(z_off(2, 1) == 48 && p_off(2, 0) == 1040 && p_off(2, 1) == 1044 && p_off(2, 16) == 1104);
	CHECK(fpsr_off(2) == 1120 && sve_size(2) == 1136);
	CHECK(z_off(4, 1) == 80 && p_off(4, 0) == 2064 && p_off(4, 16) == 2192);
	CHECK(fpsr_off(4) == 2208 && sve_size(4) == 2224);
	/* arch/aarch64-regfile.h's macros, the ones the packing uses, agree
	 * at every length (on aarch64, arch/aarch64.c also checks them
	 * against the kernel's own at compile time) */
	bool same = A64_SVE_PT_FPSIMD_SIZE == FPSIMD_SIZE;
	for (unsigned vq = 1; vq <= A64_SVE_VQ_MAX; vq++) {
		for (int n = 0; n < 32; n++)
			same &= A64_SVE_PT_ZREG_OFFSET(vq, n) == z_off(vq, n);
		for (int n = 0; n < 16; n++)
			same &= A64_SVE_PT_PREG_OFFSET(vq, n) == p_off(vq, n);
		same &= A64_SVE_PT_FFR_OFFSET(vq) == p_off(vq, 16);
		same &= A64_SVE_PT_FPSR_OFFSET(vq) == fpsr_off(vq);
		same &= A64_SVE_PT_FPCR_OFFSET(vq) == fpsr_off(vq) + 4;
		same &= A64_SVE_PT_SIZE(vq, A64_SVE_PT_REGS_SVE) == sve_size(vq);
		same &= A64_SVE_PT_SIZE(vq, A64_SVE_PT_REGS_FPSIMD) == FPSIMD_SIZE;
	}
	CHECK(same);
	CHECK(A64_SVE_PT_SIZE(1, A64_SVE_PT_REGS_SVE) == 592);
}

static void test_layout_base(void)
{
	struct a64_features f = {.tls = 1};
	CHECK(a64_regfile_build(&f, &rf) == 0);
	/* core 0-33, v0-v31 34-65, fpsr 66, fpcr 67, tpidr 68 */
	CHECK(rf.rf.nregs == 69);
	CHECK_STR(rf.regs[A64_V0].name, "v0");
	CHECK(rf.regs[A64_V0].offset == 268 && rf.regs[A64_V0].size == 16);
	CHECK(rf.fpsr == 66 && rf.regs[66].offset == 268 + 512);
	CHECK_STR(rf.regs[68].name, "tpidr");
	CHECK(rf.regs[68].offset == 788 && rf.rf.size == 796);
	CHECK(rf.p0 == -1 && rf.vg == -1 && rf.pauth_dmask == -1 && rf.tag_ctl == -1);
	CHECK(!rf.rf.memtags);
	CHECK(rf.expedite[0] == 29 && rf.expedite[1] == 31 && rf.expedite[2] == 32 && rf.expedite[3] == -1);
	CHECK(rf.rf.nfeatures == 4);
	CHECK(strstr(rf.target_xml, "aarch64-fpu.xml") && strstr(rf.target_xml, "aarch64-tls.xml") &&
	      !strstr(rf.target_xml, "aarch64-sve.xml"));
	CHECK(!strstr(rf.tls_xml, "tpidr2"));
}

static int count(const char *s, const char *needle)
{
	int n = 0;
	for (const char *p = s; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void test_layout_full(void)
{
	struct a64_features f = {.vq = 2, .pauth = true, .mte = true, .tls = 2};
	CHECK(a64_regfile_build(&f, &rf) == 0);
	/* gdb numbers: z0-z31 34-65, fpsr 66, fpcr 67, p0-p15 68-83, ffr 84,
	 * vg 85, pauth 86-87, tag_ctl 88, tpidr 89, tpidr2 90 */
	CHECK(rf.rf.nregs == 91);
	CHECK_STR(rf.regs[A64_V0].name, "z0");
	CHECK(rf.regs[A64_V0].size == 32 && rf.regs[A64_V0 + 31].offset == 268 + 31 * 32);
	CHECK(rf.fpsr == 66 && rf.regs[66].offset == 1292);
	CHECK(rf.p0 == 68 && rf.regs[68].offset == 1300 && rf.regs[68].size == 4);
	CHECK(rf.ffr == 84 && rf.regs[84].offset == 1364);
	CHECK(rf.vg == 85 && rf.regs[85].offset == 1368 && rf.regs[85].size == 8);
	CHECK(rf.pauth_dmask == 86 && rf.regs[86].offset == 1376);
	CHECK_STR(rf.regs[87].name, "pauth_cmask");
	CHECK(rf.tag_ctl == 88 && rf.regs[88].offset == 1392);
	CHECK(rf.tpidr == 89 && rf.regs[90].offset == 1408 && rf.rf.size == 1416);
	CHECK_STR(rf.regs[90].name, "tpidr2");
	CHECK(rf.rf.memtags);
	CHECK(rf.expedite[3] == 85 && rf.expedite[4] == -1);   /* vg, as gdbserver 13 */
	/* the description: what gdbserver's print_xml_feature prints for
	 * create_feature_aarch64_sve (gdb/features/aarch64-sve.c) at vq 2 */
	CHECK(strstr(rf.sve_xml, "<vector id=\"svevqu\" type=\"uint128\" count=\"2\"/>") != NULL);
	CHECK(strstr(rf.sve_xml, "<vector id=\"svevbs\" type=\"int8\" count=\"32\"/>") != NULL);
	CHECK(strstr(rf.sve_xml, "<vector id=\"svep\" type=\"uint8\" count=\"4\"/>") != NULL);
	CHECK(strstr(rf.sve_xml, "<reg name=\"z0\" bitsize=\"256\" type=\"svev\" regnum=\"34\"/>") != NULL);
	CHECK(strstr(rf.sve_xml, "<reg name=\"p15\" bitsize=\"32\" type=\"svep\" regnum=\"83\"/>") != NULL);
	CHECK(strstr(rf.sve_xml, "<reg name=\"vg\" bitsize=\"64\" type=\"int\" regnum=\"85\"/>") != NULL);
	CHECK(strstr(rf.sve_xml, "<field name=\"RMode\" start=\"22\" end=\"23\" type=\"uint32\"/>") != NULL);
	CHECK(count(rf.sve_xml, "<reg ") == 52);
	CHECK(strstr(rf.tls_xml, "\"tpidr2\"") != NULL);
	const char *order[] = {"aarch64-core.xml", "aarch64-sve.xml", "aarch64-pauth.xml",
			       "aarch64-mte.xml", "aarch64-tls.xml"};
	const char *at = rf.target_xml;
	for (size_t i = 0; i < 5; i++) {
		const char *hit = strstr(at, order[i]);
		CHECK(hit != NULL);
		at = hit ? hit : at;
		CHECK_STR(rf.features[i + 1].annex, order[i]);
	}

	f.vq = 16;
	CHECK(a64_regfile_build(&f, &rf) == 0);
	CHECK(strstr(rf.sve_xml, "bitsize=\"2048\"") != NULL && rf.regs[A64_V0].size == 256);
	f.vq = 17;
	CHECK(a64_regfile_build(&f, &rf) < 0);
}

static uint8_t img[16384], regs[16384];

static void test_sve_to_regs(void)
{
	struct a64_features f = {.vq = 2, .tls = 1};
	CHECK(a64_regfile_build(&f, &rf) == 0);
	size_t len = sve_image(img, 2);
	memset(regs, 0xee, sizeof regs);
	CHECK(a64_sve_to_regs(&rf, img, len, regs) == 0);
	bool ok = true;
	for (int n = 0; n < 32; n++)
		ok &= memcmp(reg(regs, A64_V0 + n), img + z_off(2, n), 32) == 0;
	for (int n = 0; n < 17; n++)
		ok &= memcmp(reg(regs, rf.p0 + n), img + p_off(2, n), 4) == 0;
	CHECK(ok);
	CHECK(get(reg(regs, rf.vg), 8) == 4);
	CHECK(memcmp(reg(regs, rf.fpsr), img + fpsr_off(2), 8) == 0);

	/* FPSIMD format: V registers in the low 128 bits, the rest zero */
	memset(img, 0, sizeof img);
	header(img, FPSIMD_SIZE, 32, 0);
	for (int n = 0; n < 32; n++)
		memset(img + 16 + 16 * n, 0x40 + n, 16);
	le(img + 16 + 512, 0x8000001f, 4);
	memset(regs, 0xee, sizeof regs);
	CHECK(a64_sve_to_regs(&rf, img, FPSIMD_SIZE, regs) == 0);
	CHECK(reg(regs, A64_V0 + 5)[15] == 0x45 && reg(regs, A64_V0 + 5)[16] == 0 &&
	      reg(regs, A64_V0 + 5)[31] == 0);
	CHECK(reg(regs, rf.p0)[0] == 0 && reg(regs, rf.ffr)[3] == 0);
	CHECK(get(reg(regs, rf.fpsr), 4) == 0x8000001f && get(reg(regs, rf.vg), 8) == 4);

	/* a thread at vq 4 seen through a vq-2 description: low lanes, its vg */
	len = sve_image(img, 4);
	CHECK(a64_sve_to_regs(&rf, img, len, regs) == 0);
	CHECK(memcmp(reg(regs, A64_V0 + 3), img + z_off(4, 3), 32) == 0);
	CHECK(memcmp(reg(regs, rf.ffr), img + p_off(4, 16), 4) == 0);
	CHECK(memcmp(reg(regs, rf.fpsr), img + fpsr_off(4), 8) == 0);
	CHECK(get(reg(regs, rf.vg), 8) == 8);
	/* ... and a vq-2 thread through a vq-4 description: zero above */
	f.vq = 4;
	CHECK(a64_regfile_build(&f, &rf) == 0);
	len = sve_image(img, 2);
	memset(regs, 0xee, sizeof regs);
	CHECK(a64_sve_to_regs(&rf, img, len, regs) == 0);
	CHECK(memcmp(reg(regs, A64_V0 + 9), img + z_off(2, 9), 32) == 0 && reg(regs, A64_V0 + 9)[32] == 0 &&
	      reg(regs, A64_V0 + 9)[63] == 0 && reg(regs, rf.p0 + 2)[4] == 0);

	/* malformed: size not the format's, a vector length not a multiple of 16 */
	header(img, (uint32_t)sve_size(2) - 16, 32, 1);
	CHECK(a64_sve_to_regs(&rf, img, sizeof img, regs) < 0);
	header(img, FPSIMD_SIZE, 24, 0);
	CHECK(a64_sve_to_regs(&rf, img, sizeof img, regs) < 0);
	header(img, (uint32_t)sve_size(2), 32, 1);
	CHECK(a64_sve_to_regs(&rf, img, 100, regs) < 0);   /* truncated */
}

static void test_sve_from_regs(void)
{
	struct a64_features f = {.vq = 2, .tls = 1};
	CHECK(a64_regfile_build(&f, &rf) == 0);

	/* FPSIMD state and only V parts in the block: stays FPSIMD */
	memset(img, 0, sizeof img);
	header(img, FPSIMD_SIZE, 32, 0);
	CHECK(a64_sve_to_regs(&rf, img, sizeof img, regs) == 0);
	memset((uint8_t *)reg(regs, A64_V0 + 7), 0x77, 16);
	CHECK(a64_sve_from_regs(&rf, regs, img, sizeof img) == FPSIMD_SIZE);
	CHECK(get(img + 12, 2) == 0 && img[16 + 16 * 7] == 0x77 && img[16 + 16 * 7 + 15] == 0x77 && img[16 + 16 * 8] == 0);

	/* the FPSIMD payload's reserved words stay as the kernel gave them */
	le(img + 16 + 520, 0xdeadbeef, 4);
	CHECK(a64_sve_from_regs(&rf, regs, img, sizeof img) == FPSIMD_SIZE &&
	      get(img + 16 + 520, 4) == 0xdeadbeef);

	/* one byte past the V part: the SVE format, everything in place */
	((uint8_t *)reg(regs, A64_V0 + 7))[20] = 0x99;
	((uint8_t *)reg(regs, rf.p0 + 3))[1] = 0x33;
	le((uint8_t *)reg(regs, rf.fpsr + 1), 0x03000000, 4);   /* fpcr */
	CHECK(a64_sve_from_regs(&rf, regs, img, sizeof img) == (ssize_t)sve_size(2));
	CHECK(get(img, 4) == sve_size(2) && get(img + 12, 2) == 1);
	CHECK(img[z_off(2, 7)] == 0x77 && img[z_off(2, 7) + 20] == 0x99 && img[z_off(2, 8)] == 0);
	CHECK(img[p_off(2, 3) + 1] == 0x33 && get(img + fpsr_off(2) + 4, 4) == 0x03000000);

	/* a vq-4 thread through the vq-2 description: its upper lanes kept */
	size_t len = sve_image(img, 4);
	uint8_t orig[4096];
	memcpy(orig, img, len);
	CHECK(a64_sve_to_regs(&rf, img, len, regs) == 0);
	((uint8_t *)reg(regs, A64_V0 + 1))[0] = 0xab;
	CHECK(a64_sve_from_regs(&rf, regs, img, sizeof img) == (ssize_t)len);
	CHECK(img[z_off(4, 1)] == 0xab);
	img[z_off(4, 1)] = orig[z_off(4, 1)];
	CHECK(memcmp(img, orig, len) == 0);

	/* vg changed: a new vector length, the V parts in FPSIMD format */
	len = sve_image(img, 2);
	CHECK(a64_sve_to_regs(&rf, img, len, regs) == 0);
	le((uint8_t *)reg(regs, rf.vg), 8, 8);
	CHECK(a64_sve_from_regs(&rf, regs, img, sizeof img) == FPSIMD_SIZE);
	CHECK(get(img + 16 + 520, 4) == 0);   /* reserved: from SVE format, zero */
	CHECK(get(img + 8, 2) == 64 && get(img + 12, 2) == 0 &&
	      memcmp(img + 16 + 16 * 4, reg(regs, A64_V0 + 4), 16) == 0);
	le((uint8_t *)reg(regs, rf.vg), 3, 8);   /* 24 bytes: not a vector length */
	CHECK(a64_sve_from_regs(&rf, regs, img, sizeof img) < 0);
}

static void test_mte_granules(void)
{
	CHECK(a64_mte_granules(0x1000, 0) == 0);
	CHECK(a64_mte_granules(0x1000, 1) == 1);
	CHECK(a64_mte_granules(0x1000, 16) == 1);
	CHECK(a64_mte_granules(0x1008, 16) == 2);
	CHECK(a64_mte_granules(0x100f, 2) == 2);
	CHECK(a64_mte_granules(0x1000, 4096) == 256);
}

int main(void)
{
	test_offsets_formula();
	test_layout_base();
	test_layout_full();
	test_sve_to_regs();
	test_sve_from_regs();
	test_mte_granules();
	return check_done("test_arch_aarch64_regs");
}
