/* x86-64 register file from the XSAVE area: which state components the
 * machine has, where ptrace's NT_X86_XSTATE image keeps them, the register
 * table and target description gdb gets, and moving registers between the
 * image and the raw block. Pure functions of CPUID leaf 0xD, XCR0 and the
 * regset's size, so that every layout can be tested on any machine (the
 * file is built on every architecture; arch/x86_64.c asks the CPU). */
#ifndef ARCH_X86_XSAVE_H
#define ARCH_X86_XSAVE_H

#include <stddef.h>
#include <stdint.h>

#include "arch/arch.h"

/* State components: bit numbers in XCR0 and XSTATE_BV. */
enum {
	XC_X87 = 0, XC_SSE = 1, XC_AVX = 2, XC_BNDREGS = 3, XC_BNDCSR = 4,
	XC_OPMASK = 5, XC_ZMM_H = 6, XC_HI16_ZMM = 7, XC_PKRU = 9,
	XC_MAX = 64,
};
#define XC_BIT(c) (1ull << (c))
#define XC_AVX512_MASK (XC_BIT(XC_OPMASK) | XC_BIT(XC_ZMM_H) | XC_BIT(XC_HI16_ZMM))
#define XC_MPX_MASK (XC_BIT(XC_BNDREGS) | XC_BIT(XC_BNDCSR))

/* Places in the legacy (FXSAVE) region and the XSAVE header. */
#define XS_LEGACY_SIZE 512
#define XS_SW_XCR0 464          /* the kernel's copy of XCR0 (gdb reads it here) */
#define XS_XSTATE_BV 512
#define XS_HEADER_END 576

/* gdb's numbers of the registers every amd64-linux description has, in
 * the raw block at fixed offsets (features core, sse, linux, segments). */
enum {
	R_RAX, R_RBX, R_RCX, R_RDX, R_RSI, R_RDI, R_RBP, R_RSP,
	R_R8, R_R9, R_R10, R_R11, R_R12, R_R13, R_R14, R_R15,
	R_RIP, R_EFLAGS, R_CS, R_SS, R_DS, R_ES, R_FS, R_GS,
	R_ST0, R_FCTRL = R_ST0 + 8, R_FSTAT, R_FTAG, R_FISEG, R_FIOFF, R_FOSEG, R_FOOFF, R_FOP,
	R_XMM0, R_MXCSR = R_XMM0 + 16, R_ORIG_RAX, R_FS_BASE, R_GS_BASE,
	R_BASE_COUNT
};
extern const struct arch_reg x86_base_regs[R_BASE_COUNT];

/* One CPUID(0xD, subleaf) answer. */
struct x86_cpuid {
	uint32_t eax, ebx, ecx, edx;
};

/* Where the components of XCR0 are in an NT_X86_XSTATE image of SIZE
 * bytes (standard format, as ptrace gives it). SIZE 0: no XSAVE, only the
 * 512-byte FXSAVE image of PTRACE_GETFPREGS (x87 and SSE). */
struct x86_xsave_layout {
	uint64_t xcr0;
	size_t size;
	uint32_t offset[XC_MAX];
	uint32_t csize[XC_MAX];
};

/* Fill *L from XCR0, the regset SIZE and CPUID(0xD, i) for i < NSUB.
 * Returns 0, or -1 with a message in WHY (WHYLEN bytes) when they do not
 * fit together (a component past the end, x87/SSE missing...). */
int x86_xsave_layout(uint64_t xcr0, size_t size, const struct x86_cpuid *sub, size_t nsub,
		     struct x86_xsave_layout *l, char *why, size_t whylen);

/* XCR0 as the kernel saved it in an image's software-reserved bytes. */
uint64_t x86_xsave_xcr0(const uint8_t *xs, size_t len);

#define X86_MAX_REGS 160
#define X86_MAX_FEATURES 9

/* A register's place in the image: component (-1: not in it, a general
 * register of PTRACE_GETREGS) and how it is stored there. */
struct x86_xreg {
	int8_t comp;
	uint8_t kind;
	uint32_t xs_offset;
};

/* The register file of one layout; the_regfile points into such one. */
struct x86_regfile {
	struct x86_xsave_layout layout;
	struct arch_reg regs[X86_MAX_REGS];
	struct x86_xreg xregs[X86_MAX_REGS];
	char names[X86_MAX_REGS][12];
	struct arch_feature features[X86_MAX_FEATURES];
	char target_xml[1024];
	struct arch_regfile rf;
};

/* Lay out F for L (the features gdbserver 13 serves for its XCR0). */
int x86_regfile_build(const struct x86_xsave_layout *l, struct x86_regfile *f);

/* The FP/vector registers of F's raw block REGS from the image XS (of
 * F->layout.size bytes, or 512 without XSAVE); a component in its init
 * state reads as its init values, as the CPU would load them. */
void x86_xsave_unpack(const struct x86_regfile *f, const uint8_t *xs, uint8_t *regs);

/* Write into the image XS the components whose registers in REGS differ
 * from what XS holds, and mark them in XSTATE_BV; the others, and state
 * no register shows (AMX tiles, CET...), stay as they are. SCRATCH is
 * F->rf.size bytes. Returns the mask of components written. */
uint64_t x86_xsave_pack(const struct x86_regfile *f, const uint8_t *regs, uint8_t *xs,
			uint8_t *scratch);

#endif
