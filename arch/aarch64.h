/* AArch64 internals exposed for unit tests: the debug-register layout, the
 * register file of a set of features, SVE register-set packing. */
#ifndef ARCH_AARCH64_H
#define ARCH_AARCH64_H

#include "arch/arch.h"

#include <sys/types.h>

#define A64_MAX_SLOTS 16   /* dbg_regs[] of struct user_hwdebug_state */

/* One hardware breakpoint or watchpoint register pair. */
struct a64_hw_slot {
	uint64_t addr;     /* aligned: 4 (breakpoint) or 8 (watchpoint) */
	uint32_t ctrl;     /* type, byte mask, privilege, enable */
	size_t point;      /* first point that uses the slot */
};

/* Spread N points over NBP breakpoint and NWP watchpoint slots, splitting
 * unaligned or long watched ranges over several doublewords. ANY_RANGE:
 * the kernel takes any contiguous byte mask. Returns 0, or -1 with errno
 * ENOSPC (too few slots) or EINVAL (a point the hardware cannot do). */
int a64_hw_layout(const struct hw_point *pts, size_t n, unsigned nbp, unsigned nwp,
		  bool any_range, struct a64_hw_slot *bp, unsigned *nbp_used,
		  struct a64_hw_slot *wp, unsigned *nwp_used);

/* trap_cause without the thread: the siginfo tells all on AArch64. */
enum trap_cause a64_trap_match(const siginfo_t *si, const struct hw_point *pts, size_t n,
			       bool any_range, uint64_t *data_addr, size_t *which);

/* --- register file (arch/aarch64-regfile.c) ----------------------------- */

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
 * it: core, fpu or sve, pauth, mte, tls. */
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
