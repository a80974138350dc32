/* x86-64 Linux: registers, target description, int3, DR0-DR7. */
#include "arch/arch.h"

#include <capstone/capstone.h>

#include <elf.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>

#include "arch/x86_64-tdesc.inc"


static const char tdesc_target[] =
	"<?xml version=\"1.0\"?>\n"
	"<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
	"<target>\n"
	"  <architecture>i386:x86-64</architecture>\n"
	"  <osabi>GNU/Linux</osabi>\n"
	"  <xi:include href=\"64bit-core.xml\"/>\n"
	"  <xi:include href=\"64bit-sse.xml\"/>\n"
	"  <xi:include href=\"64bit-linux.xml\"/>\n"
	"  <xi:include href=\"64bit-segments.xml\"/>\n"
	"  <xi:include href=\"64bit-avx.xml\"/>\n"
	"</target>\n";

static const struct arch_feature x86_features[] = {
	{"target.xml", tdesc_target},
	{"64bit-core.xml", tdesc_x86_64bit_core},
	{"64bit-sse.xml", tdesc_x86_64bit_sse},
	{"64bit-linux.xml", tdesc_x86_64bit_linux},
	{"64bit-segments.xml", tdesc_x86_64bit_segments},
	{"64bit-avx.xml", tdesc_x86_64bit_avx},
};

/* gdb register numbers of the amd64-linux description above. */
enum {
	R_RAX, R_RBX, R_RCX, R_RDX, R_RSI, R_RDI, R_RBP, R_RSP,
	R_R8, R_R9, R_R10, R_R11, R_R12, R_R13, R_R14, R_R15,
	R_RIP, R_EFLAGS, R_CS, R_SS, R_DS, R_ES, R_FS, R_GS,
	R_ST0, R_FCTRL = R_ST0 + 8, R_FSTAT, R_FTAG, R_FISEG, R_FIOFF, R_FOSEG, R_FOOFF, R_FOP,
	R_XMM0, R_MXCSR = R_XMM0 + 16, R_ORIG_RAX, R_FS_BASE, R_GS_BASE,
	R_YMM0H, R_COUNT = R_YMM0H + 16
};

#define REG(n, sz, off) {n, sz, off, true}
static const struct arch_reg x86_regs[R_COUNT] = {
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
	REG("ymm0h", 16, 560), REG("ymm1h", 16, 576), REG("ymm2h", 16, 592), REG("ymm3h", 16, 608),
	REG("ymm4h", 16, 624), REG("ymm5h", 16, 640), REG("ymm6h", 16, 656), REG("ymm7h", 16, 672),
	REG("ymm8h", 16, 688), REG("ymm9h", 16, 704), REG("ymm10h", 16, 720), REG("ymm11h", 16, 736),
	REG("ymm12h", 16, 752), REG("ymm13h", 16, 768), REG("ymm14h", 16, 784), REG("ymm15h", 16, 800),
};
#define X86_REGS_SIZE 816

static const int x86_expedite[] = {R_RBP, R_RSP, R_RIP, -1};

/* Where each general register lives in struct user_regs_struct. */
static const size_t gpr_offset[] = {
	[R_RAX] = offsetof(struct user_regs_struct, rax),
	[R_RBX] = offsetof(struct user_regs_struct, rbx),
	[R_RCX] = offsetof(struct user_regs_struct, rcx),
	[R_RDX] = offsetof(struct user_regs_struct, rdx),
	[R_RSI] = offsetof(struct user_regs_struct, rsi),
	[R_RDI] = offsetof(struct user_regs_struct, rdi),
	[R_RBP] = offsetof(struct user_regs_struct, rbp),
	[R_RSP] = offsetof(struct user_regs_struct, rsp),
	[R_R8] = offsetof(struct user_regs_struct, r8),
	[R_R9] = offsetof(struct user_regs_struct, r9),
	[R_R10] = offsetof(struct user_regs_struct, r10),
	[R_R11] = offsetof(struct user_regs_struct, r11),
	[R_R12] = offsetof(struct user_regs_struct, r12),
	[R_R13] = offsetof(struct user_regs_struct, r13),
	[R_R14] = offsetof(struct user_regs_struct, r14),
	[R_R15] = offsetof(struct user_regs_struct, r15),
	[R_RIP] = offsetof(struct user_regs_struct, rip),
	[R_EFLAGS] = offsetof(struct user_regs_struct, eflags),
	[R_CS] = offsetof(struct user_regs_struct, cs),
	[R_SS] = offsetof(struct user_regs_struct, ss),
	[R_DS] = offsetof(struct user_regs_struct, ds),
	[R_ES] = offsetof(struct user_regs_struct, es),
	[R_FS] = offsetof(struct user_regs_struct, fs),
	[R_GS] = offsetof(struct user_regs_struct, gs),
};

/* XSAVE layout (the legacy region is the FXSAVE format). */
#define XS_FCW 0
#define XS_FSW 2
#define XS_FTW 4
#define XS_FOP 6
#define XS_FIP 8
#define XS_FDP 16
#define XS_MXCSR 24
#define XS_ST 32
#define XS_XMM 160
#define XS_XSTATE_BV 512
#define XS_YMMH 576
#define XSTATE_MAX 4096

static void put(uint8_t *regs, int regno, const void *src, size_t n)
{
	memset(regs + x86_regs[regno].offset, 0, x86_regs[regno].size);
	memcpy(regs + x86_regs[regno].offset, src, n);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
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

static void fxsave_to_regs(const uint8_t *xs, uint8_t *regs)
{
	uint16_t fsw, fcw, fop;
	memcpy(&fcw, xs + XS_FCW, 2);
	memcpy(&fsw, xs + XS_FSW, 2);
	memcpy(&fop, xs + XS_FOP, 2);
	uint32_t v = fcw;
	put(regs, R_FCTRL, &v, 4);
	v = fsw;
	put(regs, R_FSTAT, &v, 4);
	int top = (fsw >> 11) & 7;
	uint32_t ftag = 0;
	for (int phys = 7; phys >= 0; phys--) {
		int tag = 3;
		if (xs[XS_FTW] & (1 << phys))
			tag = x87_tag(xs + XS_ST + 16 * ((phys + 8 - top) % 8));
		ftag |= (uint32_t)tag << (2 * phys);
	}
	put(regs, R_FTAG, &ftag, 4);
	v = get32(xs + XS_FIP);
	put(regs, R_FIOFF, &v, 4);
	v = get32(xs + XS_FIP + 4) & 0xffff;
	put(regs, R_FISEG, &v, 4);
	v = get32(xs + XS_FDP);
	put(regs, R_FOOFF, &v, 4);
	v = get32(xs + XS_FDP + 4) & 0xffff;
	put(regs, R_FOSEG, &v, 4);
	v = fop & 0x7ff;
	put(regs, R_FOP, &v, 4);
	for (int i = 0; i < 8; i++)
		put(regs, R_ST0 + i, xs + XS_ST + 16 * i, 10);
	for (int i = 0; i < 16; i++)
		put(regs, R_XMM0 + i, xs + XS_XMM + 16 * i, 16);
	put(regs, R_MXCSR, xs + XS_MXCSR, 4);
}

static void regs_to_fxsave(const uint8_t *regs, uint8_t *xs)
{
	uint16_t v16;
	v16 = (uint16_t)get32(regs + x86_regs[R_FCTRL].offset);
	memcpy(xs + XS_FCW, &v16, 2);
	v16 = (uint16_t)get32(regs + x86_regs[R_FSTAT].offset);
	memcpy(xs + XS_FSW, &v16, 2);
	uint32_t ftag = get32(regs + x86_regs[R_FTAG].offset);
	uint8_t abridged = 0;
	for (int phys = 0; phys < 8; phys++)
		if (((ftag >> (2 * phys)) & 3) != 3)
			abridged |= (uint8_t)(1 << phys);
	xs[XS_FTW] = abridged;
	uint16_t fop;
	memcpy(&fop, xs + XS_FOP, 2);
	fop = (uint16_t)((fop & 0xf800) | (get32(regs + x86_regs[R_FOP].offset) & 0x7ff));
	memcpy(xs + XS_FOP, &fop, 2);
	memcpy(xs + XS_FIP, regs + x86_regs[R_FIOFF].offset, 4);
	memcpy(xs + XS_FIP + 4, regs + x86_regs[R_FISEG].offset, 2);
	memcpy(xs + XS_FDP, regs + x86_regs[R_FOOFF].offset, 4);
	memcpy(xs + XS_FDP + 4, regs + x86_regs[R_FOSEG].offset, 2);
	for (int i = 0; i < 8; i++)
		memcpy(xs + XS_ST + 16 * i, regs + x86_regs[R_ST0 + i].offset, 10);
	for (int i = 0; i < 16; i++)
		memcpy(xs + XS_XMM + 16 * i, regs + x86_regs[R_XMM0 + i].offset, 16);
	memcpy(xs + XS_MXCSR, regs + x86_regs[R_MXCSR].offset, 4);
}

static int x86_fetch_regs(pid_t tid, uint8_t *regs)
{
	struct user_regs_struct gp;
	if (ptrace(PTRACE_GETREGS, tid, 0, &gp) < 0)
		return -1;
	const uint8_t *g = (const uint8_t *)&gp;
	memset(regs, 0, X86_REGS_SIZE);
	for (int r = R_RAX; r <= R_GS; r++)
		put(regs, r, g + gpr_offset[r], x86_regs[r].size);
	put(regs, R_ORIG_RAX, &gp.orig_rax, 8);
	put(regs, R_FS_BASE, &gp.fs_base, 8);
	put(regs, R_GS_BASE, &gp.gs_base, 8);

	uint8_t xs[XSTATE_MAX] = {0};
	struct iovec iov = {xs, sizeof xs};
	if (ptrace(PTRACE_GETREGSET, tid, NT_X86_XSTATE, &iov) == 0) {
		fxsave_to_regs(xs, regs);
		uint64_t bv;
		memcpy(&bv, xs + XS_XSTATE_BV, 8);
		/* Component 2 in its init state means the upper halves are 0. */
		if ((bv & 4) && iov.iov_len >= XS_YMMH + 256)
			for (int i = 0; i < 16; i++)
				put(regs, R_YMM0H + i, xs + XS_YMMH + 16 * i, 16);
	} else if (ptrace(PTRACE_GETFPREGS, tid, 0, xs) == 0) {
		fxsave_to_regs(xs, regs);
	}
	return 0;
}

static int x86_fetch_gp_regs(pid_t tid, uint8_t *regs)
{
	struct user_regs_struct gp;
	if (ptrace(PTRACE_GETREGS, tid, 0, &gp) < 0)
		return -1;
	const uint8_t *g = (const uint8_t *)&gp;
	for (int r = R_RAX; r <= R_GS; r++) {
		memset(regs + x86_regs[r].offset, 0, x86_regs[r].size);
		put(regs, r, g + gpr_offset[r], x86_regs[r].size);
	}
	put(regs, R_ORIG_RAX, &gp.orig_rax, 8);
	put(regs, R_FS_BASE, &gp.fs_base, 8);
	put(regs, R_GS_BASE, &gp.gs_base, 8);
	return 0;
}

/* The general registers of the raw block into a user_regs_struct. */
static void pack_gp_regs(const uint8_t *regs, struct user_regs_struct *gp)
{
	uint8_t *g = (uint8_t *)gp;
	for (int r = R_RAX; r <= R_GS; r++) {
		uint64_t v = 0;
		memcpy(&v, regs + x86_regs[r].offset, x86_regs[r].size);
		memcpy(g + gpr_offset[r], &v, 8);
	}
	memcpy(&gp->orig_rax, regs + x86_regs[R_ORIG_RAX].offset, 8);
	memcpy(&gp->fs_base, regs + x86_regs[R_FS_BASE].offset, 8);
	memcpy(&gp->gs_base, regs + x86_regs[R_GS_BASE].offset, 8);
}

static int x86_store_gp_regs(pid_t tid, const uint8_t *regs)
{
	struct user_regs_struct gp;
	memset(&gp, 0, sizeof gp);
	pack_gp_regs(regs, &gp);
	return ptrace(PTRACE_SETREGS, tid, 0, &gp) < 0 ? -1 : 0;
}

static int x86_store_regs(pid_t tid, const uint8_t *regs)
{
	struct user_regs_struct gp;
	if (ptrace(PTRACE_GETREGS, tid, 0, &gp) < 0)
		return -1;
	pack_gp_regs(regs, &gp);
	if (ptrace(PTRACE_SETREGS, tid, 0, &gp) < 0)
		return -1;

	uint8_t xs[XSTATE_MAX] = {0};
	struct iovec iov = {xs, sizeof xs};
	if (ptrace(PTRACE_GETREGSET, tid, NT_X86_XSTATE, &iov) == 0) {
		regs_to_fxsave(regs, xs);
		if (iov.iov_len >= XS_YMMH + 256) {
			for (int i = 0; i < 16; i++)
				memcpy(xs + XS_YMMH + 16 * i, regs + x86_regs[R_YMM0H + i].offset, 16);
			uint64_t bv;
			memcpy(&bv, xs + XS_XSTATE_BV, 8);
			bv |= 7;  /* x87, SSE and AVX state now hold our values */
			memcpy(xs + XS_XSTATE_BV, &bv, 8);
		}
		return ptrace(PTRACE_SETREGSET, tid, NT_X86_XSTATE, &iov) < 0 ? -1 : 0;
	}
	if (ptrace(PTRACE_GETFPREGS, tid, 0, xs) == 0) {
		regs_to_fxsave(regs, xs);
		return ptrace(PTRACE_SETFPREGS, tid, 0, xs) < 0 ? -1 : 0;
	}
	return 0;
}

static uint64_t x86_get_pc(const uint8_t *regs)
{
	uint64_t pc;
	memcpy(&pc, regs + x86_regs[R_RIP].offset, 8);
	return pc;
}

static void x86_set_pc(uint8_t *regs, uint64_t pc)
{
	memcpy(regs + x86_regs[R_RIP].offset, &pc, 8);
}

static int x86_sw_breakpoint(int kind, const uint8_t **insn)
{
	static const uint8_t int3[] = {0xcc};
	(void)kind;  /* x86 has one breakpoint instruction whatever gdb asks */
	*insn = int3;
	return 1;
}

/* Debug registers: up to 4 aligned slots of 1, 2, 4 or 8 bytes. A point
 * that is not aligned is split over several slots, as gdb's x86-dregs. */
struct dr_slot {
	uint64_t addr;
	unsigned len;
	enum hw_point_type type;
	size_t point;
};

static int dr_layout(const struct hw_point *pts, size_t n, struct dr_slot slots[4])
{
	int used = 0;
	for (size_t i = 0; i < n; i++) {
		if (pts[i].type == HW_READ) {
			errno = EOPNOTSUPP;
			return -1;
		}
		uint64_t addr = pts[i].addr;
		uint64_t left = pts[i].type == HW_EXEC ? 1 : pts[i].len;
		if (left == 0)
			left = 1;
		while (left) {
			unsigned len = 8;
			while (len > 1 && ((addr & (len - 1)) || len > left))
				len /= 2;
			if (used == 4) {
				errno = ENOSPC;
				return -1;
			}
			slots[used++] = (struct dr_slot){addr, len, pts[i].type, i};
			addr += len;
			left -= len;
		}
	}
	return used;
}

static long dr_offset(int i)
{
	return (long)offsetof(struct user, u_debugreg) + (long)i * (long)sizeof(long);
}

static int x86_hw_points_apply(pid_t tid, const struct hw_point *pts, size_t n, bool check_only)
{
	struct dr_slot slots[4];
	int used = dr_layout(pts, n, slots);
	if (used < 0)
		return -1;
	if (check_only)
		return 0;
	unsigned long dr7 = 0;
	for (int i = 0; i < used; i++) {
		unsigned rw = slots[i].type == HW_EXEC ? 0 : slots[i].type == HW_WRITE ? 1 : 3;
		unsigned len = slots[i].type == HW_EXEC ? 0
			: slots[i].len == 1 ? 0 : slots[i].len == 2 ? 1 : slots[i].len == 4 ? 3 : 2;
		dr7 |= 1ul << (2 * i);
		dr7 |= (unsigned long)(rw | len << 2) << (16 + 4 * i);
	}
	/* Disable first so no half-written slot can fire. */
	if (ptrace(PTRACE_POKEUSER, tid, dr_offset(7), 0) < 0)
		return -1;
	for (int i = 0; i < used; i++)
		if (ptrace(PTRACE_POKEUSER, tid, dr_offset(i), slots[i].addr) < 0)
			return -1;
	if (dr7 && ptrace(PTRACE_POKEUSER, tid, dr_offset(7), dr7) < 0)
		return -1;
	return 0;
}

static enum trap_cause x86_trap_cause(pid_t tid, const siginfo_t *si,
				      const struct hw_point *pts, size_t n,
				      uint64_t *data_addr, size_t *which)
{
	errno = 0;
	long dr6 = ptrace(PTRACE_PEEKUSER, tid, dr_offset(6), 0);
	if (errno)
		dr6 = 0;
	struct dr_slot slots[4];
	int used = n ? dr_layout(pts, n, slots) : 0;
	enum trap_cause cause = TRAP_CAUSE_OTHER;
	for (int i = 0; i < used && cause == TRAP_CAUSE_OTHER; i++) {
		if (!(dr6 & (1l << i)))
			continue;
		*which = slots[i].point;
		if (slots[i].type == HW_EXEC) {
			cause = TRAP_CAUSE_HW_BREAK;
		} else {
			*data_addr = slots[i].addr;
			cause = TRAP_CAUSE_WATCH;
		}
	}
	if (cause == TRAP_CAUSE_OTHER && ((dr6 & 0x4000) || si->si_code == TRAP_TRACE))
		cause = TRAP_CAUSE_SINGLESTEP;
	if (dr6)
		ptrace(PTRACE_POKEUSER, tid, dr_offset(6), 0);
	return cause;
}

static long x86_syscall_number(const uint8_t *regs)
{
	int64_t nr;
	memcpy(&nr, regs + x86_regs[R_ORIG_RAX].offset, 8);
	return (long)nr;
}

static int x86_insn_length(const uint8_t *code, size_t avail, const uint8_t *regs)
{
	(void)regs;
	struct disasm_insn in;
	return disasm_one(DISASM_X86_64, code, avail, 0, &in);
}

/* --- branch emulation for the recorder's fast path ------------------------ */

static uint64_t reg64(const uint8_t *regs, int r)
{
	uint64_t v = 0;
	memcpy(&v, regs + x86_regs[r].offset, x86_regs[r].size);
	return v;
}

/* Our number of a capstone 64-bit general register, or -1. */
static int cs_gpr(unsigned reg)
{
	switch (reg) {
	case X86_REG_RAX: return R_RAX;
	case X86_REG_RBX: return R_RBX;
	case X86_REG_RCX: return R_RCX;
	case X86_REG_RDX: return R_RDX;
	case X86_REG_RSI: return R_RSI;
	case X86_REG_RDI: return R_RDI;
	case X86_REG_RBP: return R_RBP;
	case X86_REG_RSP: return R_RSP;
	case X86_REG_R8: return R_R8;
	case X86_REG_R9: return R_R9;
	case X86_REG_R10: return R_R10;
	case X86_REG_R11: return R_R11;
	case X86_REG_R12: return R_R12;
	case X86_REG_R13: return R_R13;
	case X86_REG_R14: return R_R14;
	case X86_REG_R15: return R_R15;
	default: return -1;
	}
}

/* Whether jcc ID is taken with FLAGS; -1 for what is not a plain jcc. */
static int jcc_taken(unsigned id, uint64_t f)
{
	bool cf = f & 1, pf = f & 4, zf = f & 0x40, sf = f & 0x80, of = f & 0x800;
	switch (id) {
	case X86_INS_JA: return !cf && !zf;
	case X86_INS_JAE: return !cf;
	case X86_INS_JB: return cf;
	case X86_INS_JBE: return cf || zf;
	case X86_INS_JE: return zf;
	case X86_INS_JNE: return !zf;
	case X86_INS_JG: return !zf && sf == of;
	case X86_INS_JGE: return sf == of;
	case X86_INS_JL: return sf != of;
	case X86_INS_JLE: return zf || sf != of;
	case X86_INS_JO: return of;
	case X86_INS_JNO: return !of;
	case X86_INS_JP: return pf;
	case X86_INS_JNP: return !pf;
	case X86_INS_JS: return sf;
	case X86_INS_JNS: return !sf;
	default: return -1;
	}
}

/* The value of a jmp/call operand: immediate, register or memory. */
static bool operand_value(const cs_insn *in, const uint8_t *regs,
			  ssize_t (*mem)(void *, bool, uint64_t, void *, size_t), void *ctx,
			  uint64_t *value)
{
	const cs_x86 *x = &in->detail->x86;
	if (x->op_count != 1)
		return false;
	const cs_x86_op *op = &x->operands[0];
	switch (op->type) {
	case X86_OP_IMM:
		*value = (uint64_t)op->imm;
		return true;
	case X86_OP_REG: {
		int r = cs_gpr(op->reg);
		if (r < 0 || op->size != 8)
			return false;
		*value = reg64(regs, r);
		return true;
	}
	case X86_OP_MEM: {
		if (op->size != 8 || op->mem.segment != X86_REG_INVALID)
			return false;
		uint64_t addr = (uint64_t)op->mem.disp;
		if (op->mem.base == X86_REG_RIP) {
			addr += in->address + in->size;
		} else if (op->mem.base != X86_REG_INVALID) {
			int r = cs_gpr(op->mem.base);
			if (r < 0)
				return false;
			addr += reg64(regs, r);
		}
		if (op->mem.index != X86_REG_INVALID) {
			int r = cs_gpr(op->mem.index);
			if (r < 0)
				return false;
			addr += reg64(regs, r) * (uint64_t)op->mem.scale;
		}
		return mem(ctx, false, addr, value, 8) == 8;
	}
	default:
		return false;
	}
}

static bool x86_emulate_branch(const uint8_t *code, size_t avail, uint8_t *regs,
			       ssize_t (*mem)(void *, bool, uint64_t, void *, size_t), void *ctx)
{
	uint64_t pc = reg64(regs, R_RIP);
	const cs_insn *in = disasm_raw(DISASM_X86_64, code, avail, pc);
	if (!in)
		return false;
	uint64_t next = pc + in->size, target, sp = reg64(regs, R_RSP);
	int taken = jcc_taken(in->id, reg64(regs, R_EFLAGS));
	if (taken >= 0) {
		if (in->detail->x86.op_count != 1 || in->detail->x86.operands[0].type != X86_OP_IMM)
			return false;
		target = taken ? (uint64_t)in->detail->x86.operands[0].imm : next;
	} else if (in->id == X86_INS_JMP) {
		if (!operand_value(in, regs, mem, ctx, &target))
			return false;
	} else if (in->id == X86_INS_CALL) {
		if (!operand_value(in, regs, mem, ctx, &target))
			return false;
		sp -= 8;
		if (mem(ctx, true, sp, &next, 8) != 8)
			return false;
	} else if (in->id == X86_INS_RET) {
		const cs_x86 *x = &in->detail->x86;
		if (mem(ctx, false, sp, &target, 8) != 8)
			return false;
		sp += 8;
		if (x->op_count == 1 && x->operands[0].type == X86_OP_IMM)
			sp += (uint64_t)x->operands[0].imm;
		else if (x->op_count != 0)
			return false;
	} else {
		return false;
	}
	memcpy(regs + x86_regs[R_RSP].offset, &sp, 8);
	memcpy(regs + x86_regs[R_RIP].offset, &target, 8);
	return true;
}

static enum disasm_isa x86_disasm_isa(const uint8_t *regs)
{
	(void)regs;
	return DISASM_X86_64;
}

/* This file's register file is the same on every machine it runs on. */
static int x86_probe(struct arch_regfile *rf)
{
	rf->features = x86_features;
	rf->nfeatures = sizeof x86_features / sizeof x86_features[0];
	rf->regs = x86_regs;
	rf->nregs = R_COUNT;
	rf->size = X86_REGS_SIZE;
	return 0;
}

const struct arch_ops the_arch = {
	.name = "x86_64",
	.probe = x86_probe,
	.pc_regno = R_RIP,
	.expedite = x86_expedite,
	.fetch_regs = x86_fetch_regs,
	.store_regs = x86_store_regs,
	.get_pc = x86_get_pc,
	.set_pc = x86_set_pc,
	.sw_breakpoint = x86_sw_breakpoint,
	.decr_pc_after_break = 1,
	.can_single_step = true,
	.hw_points_apply = x86_hw_points_apply,
	.trap_cause = x86_trap_cause,
	.syscall_number = x86_syscall_number,
	.insn_length = x86_insn_length,
	.disasm_isa = x86_disasm_isa,
	.fetch_gp_regs = x86_fetch_gp_regs,
	.store_gp_regs = x86_store_gp_regs,
	.emulate_branch = x86_emulate_branch,
};
