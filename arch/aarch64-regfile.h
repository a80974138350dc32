/* The AArch64 register file of a set of features (SVE vector length, PAC,
 * MTE, TLS), its target description, and the NT_ARM_SVE register set
 * packed to and from the raw block. Pure functions of their arguments, no
 * host headers or struct layouts: built on every architecture so that
 * test_arch_aarch64_regs runs whatever machine runs the tests
 * (arch/aarch64.c asks the CPU and kernel). */
#ifndef ARCH_AARCH64_REGFILE_H
#define ARCH_AARCH64_REGFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "arch/arch.h"

/* --- the NT_ARM_SVE register set ------------------------------------------
 * Our own copy of the layout, since the kernel's macros exist only in
 * aarch64 headers: Linux UAPI arch/arm64/include/uapi/asm/ptrace.h
 * (struct user_sve_header, SVE_PT_*), asm/sve_context.h (__SVE_*) and
 * struct user_fpsimd_state. Offsets count from the start of the header;
 * every field is little-endian. arch/aarch64.c checks these against the
 * kernel's macros at compile time. */

#define A64_SVE_VQ_BYTES 16                  /* __SVE_VQ_BYTES */
#define A64_SVE_VQ_MAX 512                   /* __SVE_VQ_MAX */
#define A64_SVE_VL_VALID(vl) \
	((vl) % A64_SVE_VQ_BYTES == 0 && (vl) >= A64_SVE_VQ_BYTES && \
	 (vl) <= A64_SVE_VQ_MAX * A64_SVE_VQ_BYTES)

/* struct user_sve_header: u32 size, u32 max_size, u16 vl, u16 max_vl,
 * u16 flags, u16 reserved. */
#define A64_SVE_HDR_SIZE 0
#define A64_SVE_HDR_MAX_SIZE 4
#define A64_SVE_HDR_VL 8
#define A64_SVE_HDR_MAX_VL 10
#define A64_SVE_HDR_FLAGS 12
#define A64_SVE_HDR_LEN 16
#define A64_SVE_PT_REGS_MASK 1u              /* flags: the payload's format */
#define A64_SVE_PT_REGS_FPSIMD 0u
#define A64_SVE_PT_REGS_SVE 1u

/* The payload, at the header's size rounded up to a quadword
 * (SVE_PT_REGS_OFFSET). */
#define A64_SVE_PT_REGS_OFFSET \
	((size_t)(A64_SVE_HDR_LEN + A64_SVE_VQ_BYTES - 1) / A64_SVE_VQ_BYTES * A64_SVE_VQ_BYTES)

/* FPSIMD format: struct user_fpsimd_state, __uint128_t vregs[32], u32
 * fpsr, u32 fpcr, u32 __reserved[2]. */
#define A64_FPSIMD_VREGS 0
#define A64_FPSIMD_FPSR 512
#define A64_FPSIMD_FPCR 516
#define A64_FPSIMD_STATE_SIZE 528

/* SVE format: z0-z31 of 16*VQ bytes, p0-p15 and ffr of 2*VQ, then fpsr
 * and fpcr at the next quadword (SVE_PT_SVE_*_OFFSET). */
#define A64_SVE_ZREG_SIZE(vq) ((size_t)(vq) * A64_SVE_VQ_BYTES)
#define A64_SVE_PREG_SIZE(vq) ((size_t)(vq) * (A64_SVE_VQ_BYTES / 8))
#define A64_SVE_PT_ZREG_OFFSET(vq, n) (A64_SVE_PT_REGS_OFFSET + A64_SVE_ZREG_SIZE(vq) * (size_t)(n))
#define A64_SVE_PT_PREG_OFFSET(vq, n) \
	(A64_SVE_PT_ZREG_OFFSET(vq, 32) + A64_SVE_PREG_SIZE(vq) * (size_t)(n))
#define A64_SVE_PT_FFR_OFFSET(vq) A64_SVE_PT_PREG_OFFSET(vq, 16)
#define A64_SVE_PT_FPSR_OFFSET(vq) \
	((A64_SVE_PT_FFR_OFFSET(vq) + A64_SVE_PREG_SIZE(vq) + A64_SVE_VQ_BYTES - 1) \
	 / A64_SVE_VQ_BYTES * A64_SVE_VQ_BYTES)
#define A64_SVE_PT_FPCR_OFFSET(vq) (A64_SVE_PT_FPSR_OFFSET(vq) + 4)

/* The whole image, header included (SVE_PT_SIZE): the SVE payload is
 * rounded up to a quadword, the FPSIMD one is not. */
#define A64_SVE_PT_SVE_SIZE(vq) \
	(A64_SVE_PT_REGS_OFFSET + (A64_SVE_PT_FPCR_OFFSET(vq) + 4 - A64_SVE_PT_REGS_OFFSET \
				   + A64_SVE_VQ_BYTES - 1) / A64_SVE_VQ_BYTES * A64_SVE_VQ_BYTES)
#define A64_SVE_PT_FPSIMD_SIZE (A64_SVE_PT_REGS_OFFSET + A64_FPSIMD_STATE_SIZE)
#define A64_SVE_PT_SIZE(vq, flags) \
	(((flags) & A64_SVE_PT_REGS_MASK) == A64_SVE_PT_REGS_SVE ? \
	 A64_SVE_PT_SVE_SIZE(vq) : A64_SVE_PT_FPSIMD_SIZE)

/* --- the register file ------------------------------------------------------ */

#define A64_MAX_VQ 16      /* 2048-bit vectors, the architecture's limit */

/* What the CPU and kernel have beyond the base registers. */
struct a64_features {
	unsigned vq;        /* SVE vector length in 128-bit chunks; 0: no SVE */
	bool pauth;         /* pointer authentication (HWCAP_PACA) */
	bool mte;           /* memory tagging (HWCAP2_MTE) */
	unsigned tls;       /* NT_ARM_TLS registers: 1 tpidr, 2 tpidr and tpidr2 */
};

/* gdb numbers that do not move: the core feature, then v0 (or z0). */
enum { A64_X29 = 29, A64_X30, A64_SP, A64_PC, A64_CPSR, A64_V0 };

#define A64_MAX_REGS (A64_V0 + 32 + 2 + 17 + 1 + 2 + 1 + 2)
#define A64_SVE_XML_MAX 12288

/* A register file and its description, numbered as gdbserver 13 numbers
 * it: core, fpu or sve, pauth, mte, tls. The raw block is in the target's
 * byte order, little-endian. */
struct a64_regfile {
	struct a64_features f;
	struct arch_regfile rf;
	struct arch_reg regs[A64_MAX_REGS];
	struct arch_feature features[6];
	int fpsr;           /* fpcr follows */
	int p0, ffr, vg;    /* -1 without SVE */
	int pauth_dmask;    /* pauth_cmask follows; -1 without PAC */
	int tag_ctl;        /* -1 without MTE */
	int tpidr;          /* tpidr2 follows when f.tls is 2; -1 without TLS */
	int expedite[5];    /* x29, sp, pc (+ vg), -1 */
	char target_xml[640];
	char sve_xml[A64_SVE_XML_MAX];
	char tls_xml[384];
};

/* Lay out A for F; -1 (errno EINVAL) for a vector length past the limit. */
int a64_regfile_build(const struct a64_features *f, struct a64_regfile *a);

/* NT_ARM_SVE image IMG (LEN bytes, header and FPSIMD or SVE format, as
 * PTRACE_GETREGSET returns it) into z, p, ffr, fpsr, fpcr, vg of REGS.
 * A thread at another vector length than A's shows the lanes both have,
 * zero above, and its own vg. -1 (EINVAL) for a malformed image. */
int a64_sve_to_regs(const struct a64_regfile *a, const uint8_t *img, size_t len, uint8_t *regs);

/* REGS into IMG, the thread's image read just before (CAP bytes of room):
 * FPSIMD format while nothing needs more (as gdbserver, so that writing a
 * V register does not switch the thread to SVE state), lanes past A's
 * width kept, and a changed vg as a new vector length (FPSIMD format:
 * the kernel keeps the V parts). Returns the bytes to write, or -1. */
ssize_t a64_sve_from_regs(const struct a64_regfile *a, const uint8_t *regs, uint8_t *img, size_t cap);

/* MTE: allocation-tag granules (16 bytes) that [ADDR, ADDR+LEN) touches. */
size_t a64_mte_granules(uint64_t addr, uint64_t len);

#endif
