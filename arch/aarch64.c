/* AArch64 Linux: registers, target description, BRK, NT_ARM_HW_BREAK/WATCH. */
#include "arch/aarch64.h"

#include <capstone/capstone.h>

#include <elf.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
/* After <sys/ptrace.h>: both name the PTRACE_* requests. */
#include <asm/ptrace.h>

#include "arch/aarch64-tdesc.inc"

static const char tdesc_target[] =
	"<?xml version=\"1.0\"?>\n"
	"<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
	"<target>\n"
	"  <architecture>aarch64</architecture>\n"
	"  <osabi>GNU/Linux</osabi>\n"
	"  <xi:include href=\"aarch64-core.xml\"/>\n"
	"  <xi:include href=\"aarch64-fpu.xml\"/>\n"
	"</target>\n";

static const struct arch_feature a64_features[] = {
	{"target.xml", tdesc_target},
	{"aarch64-core.xml", tdesc_aarch64_core},
	{"aarch64-fpu.xml", tdesc_aarch64_fpu},
};

/* gdb register numbers of the description above. */
enum {
	R_X0, R_X29 = 29, R_X30, R_SP, R_PC, R_CPSR,
	R_V0, R_FPSR = R_V0 + 32, R_FPCR, R_COUNT
};

#define OFF_V0 268      /* 33 eight-byte registers, then the 4-byte cpsr */
#define OFF_FPSR (OFF_V0 + 32 * 16)
#define A64_REGS_SIZE (OFF_FPSR + 8)

#define X(n) {"x" #n, 8, 8 * (n), true}
#define V(n) {"v" #n, 16, OFF_V0 + 16 * (n), true}
static const struct arch_reg a64_regs[R_COUNT] = {
	X(0), X(1), X(2), X(3), X(4), X(5), X(6), X(7), X(8), X(9),
	X(10), X(11), X(12), X(13), X(14), X(15), X(16), X(17), X(18), X(19),
	X(20), X(21), X(22), X(23), X(24), X(25), X(26), X(27), X(28), X(29),
	X(30),
	{"sp", 8, 248, true}, {"pc", 8, 256, true}, {"cpsr", 4, 264, true},
	V(0), V(1), V(2), V(3), V(4), V(5), V(6), V(7), V(8), V(9),
	V(10), V(11), V(12), V(13), V(14), V(15), V(16), V(17), V(18), V(19),
	V(20), V(21), V(22), V(23), V(24), V(25), V(26), V(27), V(28), V(29),
	V(30), V(31),
	{"fpsr", 4, OFF_FPSR, true}, {"fpcr", 4, OFF_FPSR + 4, true},
};

/* As gdbserver: frame pointer, stack pointer, pc. */
static const int a64_expedite[] = {R_X29, R_SP, R_PC, -1};

static int getregset(pid_t tid, int note, void *data, size_t size)
{
	struct iovec iov = {data, size};
	return ptrace(PTRACE_GETREGSET, tid, note, &iov) < 0 ? -1 : 0;
}

static int setregset(pid_t tid, int note, void *data, size_t size)
{
	struct iovec iov = {data, size};
	return ptrace(PTRACE_SETREGSET, tid, note, &iov) < 0 ? -1 : 0;
}

static int a64_fetch_regs(pid_t tid, uint8_t *regs)
{
	struct user_pt_regs gp;
	struct user_fpsimd_state fp;
	if (getregset(tid, NT_PRSTATUS, &gp, sizeof gp) < 0 ||
	    getregset(tid, NT_FPREGSET, &fp, sizeof fp) < 0)
		return -1;
	memset(regs, 0, A64_REGS_SIZE);
	memcpy(regs, gp.regs, sizeof gp.regs);
	memcpy(regs + a64_regs[R_SP].offset, &gp.sp, 8);
	memcpy(regs + a64_regs[R_PC].offset, &gp.pc, 8);
	uint32_t cpsr = (uint32_t)gp.pstate;
	memcpy(regs + a64_regs[R_CPSR].offset, &cpsr, 4);
	memcpy(regs + OFF_V0, fp.vregs, sizeof fp.vregs);
	memcpy(regs + a64_regs[R_FPSR].offset, &fp.fpsr, 4);
	memcpy(regs + a64_regs[R_FPCR].offset, &fp.fpcr, 4);
	return 0;
}

static int a64_fetch_gp_regs(pid_t tid, uint8_t *regs)
{
	struct user_pt_regs gp;
	if (getregset(tid, NT_PRSTATUS, &gp, sizeof gp) < 0)
		return -1;
	memcpy(regs, gp.regs, sizeof gp.regs);
	memcpy(regs + a64_regs[R_SP].offset, &gp.sp, 8);
	memcpy(regs + a64_regs[R_PC].offset, &gp.pc, 8);
	uint32_t cpsr = (uint32_t)gp.pstate;
	memcpy(regs + a64_regs[R_CPSR].offset, &cpsr, 4);
	return 0;
}

/* The general registers of the block into GP (the upper half of pstate
 * stays as the kernel has it). */
static void a64_pack_gp(struct user_pt_regs *gp, const uint8_t *regs)
{
	memcpy(gp->regs, regs, sizeof gp->regs);
	memcpy(&gp->sp, regs + a64_regs[R_SP].offset, 8);
	memcpy(&gp->pc, regs + a64_regs[R_PC].offset, 8);
	uint32_t cpsr;
	memcpy(&cpsr, regs + a64_regs[R_CPSR].offset, 4);
	gp->pstate = (gp->pstate & ~(uint64_t)0xffffffff) | cpsr;
}

static int a64_store_gp_regs(pid_t tid, const uint8_t *regs)
{
	struct user_pt_regs gp;
	if (getregset(tid, NT_PRSTATUS, &gp, sizeof gp) < 0)
		return -1;
	a64_pack_gp(&gp, regs);
	return setregset(tid, NT_PRSTATUS, &gp, sizeof gp);
}

/* Read, modify, write: keeps what the block does not hold (the upper half
 * of pstate, the reserved words) as the kernel has it. */
static int a64_store_regs(pid_t tid, const uint8_t *regs)
{
	struct user_pt_regs gp;
	struct user_fpsimd_state fp;
	if (getregset(tid, NT_PRSTATUS, &gp, sizeof gp) < 0 ||
	    getregset(tid, NT_FPREGSET, &fp, sizeof fp) < 0)
		return -1;
	a64_pack_gp(&gp, regs);
	memcpy(fp.vregs, regs + OFF_V0, sizeof fp.vregs);
	memcpy(&fp.fpsr, regs + a64_regs[R_FPSR].offset, 4);
	memcpy(&fp.fpcr, regs + a64_regs[R_FPCR].offset, 4);
	if (setregset(tid, NT_PRSTATUS, &gp, sizeof gp) < 0 ||
	    setregset(tid, NT_FPREGSET, &fp, sizeof fp) < 0)
		return -1;
	return 0;
}

static uint64_t a64_get_pc(const uint8_t *regs)
{
	uint64_t pc;
	memcpy(&pc, regs + a64_regs[R_PC].offset, 8);
	return pc;
}

static void a64_set_pc(uint8_t *regs, uint64_t pc)
{
	memcpy(regs + a64_regs[R_PC].offset, &pc, 8);
}

/* gdb asks for kind 4: BRK #0, little-endian. */
static int a64_sw_breakpoint(int kind, const uint8_t **insn)
{
	static const uint8_t brk0[] = {0x00, 0x00, 0x20, 0xd4};
	if (kind != 4)
		return -1;
	*insn = brk0;
	return 4;
}

/* --- debug registers ---------------------------------------------------- */

/* Fixed kernels (Linux >= 4.10) take any contiguous byte mask in a
 * watchpoint's BAS field; older ones only 0x01, 0x03, 0x0f and 0xff and say
 * EINVAL to anything else (gdb's PR external/20207), after which we widen. */
static bool any_contiguous_range = true;

static uint32_t a64_ctrl(enum hw_point_type type, unsigned offset, unsigned len)
{
	uint32_t ttype = type == HW_EXEC ? 0 : type == HW_READ ? 1 : type == HW_WRITE ? 2 : 3;
	/* type, byte mask, EL0 only, enabled */
	return ttype << 3 | ((1u << len) - 1) << (5 + offset) | 2u << 1 | 1u;
}

/* Piece I of the watched range [ADDR, ADDR+LEN): one 8-byte aligned
 * doubleword and the bytes of it watched. Returns false past the end. */
static bool watch_piece(uint64_t addr, uint64_t len, bool any_range, size_t i,
			uint64_t *base, unsigned *offset, unsigned *bytes)
{
	uint64_t first = addr & ~(uint64_t)7;
	uint64_t end = addr + len;
	uint64_t b = first + 8 * (uint64_t)i;
	if (i > 0 && (b < first || b >= end))
		return false;
	uint64_t lo = b > addr ? b : addr;
	uint64_t hi = end - b < 8 ? end : b + 8;
	*base = b;
	*offset = (unsigned)(lo - b);
	*bytes = (unsigned)(hi - lo);
	if (!any_range) {
		/* Smallest of 1, 2, 4, 8 bytes from the doubleword's start. */
		unsigned need = *offset + *bytes;
		*offset = 0;
		*bytes = need <= 1 ? 1 : need <= 2 ? 2 : need <= 4 ? 4 : 8;
	}
	return true;
}

static int add_slot(struct a64_hw_slot *slots, unsigned *used, unsigned cap,
		    uint64_t addr, uint32_t ctrl, size_t point)
{
	for (unsigned i = 0; i < *used; i++)
		if (slots[i].addr == addr && slots[i].ctrl == ctrl)
			return 0;   /* same address and control: share, like gdb */
	if (*used == cap) {
		errno = ENOSPC;
		return -1;
	}
	slots[(*used)++] = (struct a64_hw_slot){addr, ctrl, point};
	return 0;
}

int a64_hw_layout(const struct hw_point *pts, size_t n, unsigned nbp, unsigned nwp,
		  bool any_range, struct a64_hw_slot *bp, unsigned *nbp_used,
		  struct a64_hw_slot *wp, unsigned *nwp_used)
{
	*nbp_used = *nwp_used = 0;
	for (size_t i = 0; i < n; i++) {
		const struct hw_point *p = &pts[i];
		if (p->type == HW_EXEC) {
			/* A64 instructions: 4 bytes, aligned (Z1 kind 4). */
			if (p->len != 4 || (p->addr & 3)) {
				errno = EINVAL;
				return -1;
			}
			if (add_slot(bp, nbp_used, nbp, p->addr, a64_ctrl(HW_EXEC, 0, 4), i) < 0)
				return -1;
			continue;
		}
		if (p->type != HW_WRITE && p->type != HW_READ && p->type != HW_ACCESS) {
			errno = EINVAL;
			return -1;
		}
		if (p->len == 0 || p->addr + p->len < p->addr) {
			errno = EINVAL;
			return -1;
		}
		uint64_t base;
		unsigned offset, bytes;
		for (size_t k = 0; watch_piece(p->addr, p->len, any_range, k, &base, &offset, &bytes); k++)
			if (add_slot(wp, nwp_used, nwp, base, a64_ctrl(p->type, offset, bytes), i) < 0)
				return -1;
	}
	return 0;
}

static unsigned debug_slots(uint32_t dbg_info)
{
	unsigned debug_arch = (dbg_info >> 8) & 0xff;
	unsigned slots = dbg_info & 0xff;
	/* 6 is ARMv8 debug; later versions keep its registers. */
	if (debug_arch < 6)
		return 0;
	return slots > A64_MAX_SLOTS ? A64_MAX_SLOTS : slots;
}

/* Slots of this machine, read once from the first stopped thread. */
static int hw_capacity(pid_t tid, unsigned *nbp, unsigned *nwp)
{
	static bool known;
	static unsigned bp_slots, wp_slots;
	if (!known) {
		struct user_hwdebug_state st;
		memset(&st, 0, sizeof st);
		if (getregset(tid, NT_ARM_HW_WATCH, &st, sizeof st) < 0)
			return -1;
		wp_slots = debug_slots(st.dbg_info);
		memset(&st, 0, sizeof st);
		if (getregset(tid, NT_ARM_HW_BREAK, &st, sizeof st) < 0)
			return -1;
		bp_slots = debug_slots(st.dbg_info);
		known = true;
	}
	*nbp = bp_slots;
	*nwp = wp_slots;
	return 0;
}

static int write_slots(pid_t tid, int note, const struct a64_hw_slot *slots,
		       unsigned used, unsigned count)
{
	struct user_hwdebug_state st;
	memset(&st, 0, sizeof st);
	for (unsigned i = 0; i < used; i++) {
		st.dbg_regs[i].addr = slots[i].addr;
		st.dbg_regs[i].ctrl = slots[i].ctrl;
	}
	/* All COUNT slots, so the ones no longer used are cleared. */
	size_t size = offsetof(struct user_hwdebug_state, dbg_regs) + count * sizeof st.dbg_regs[0];
	return setregset(tid, note, &st, size);
}

static int a64_hw_points_apply(pid_t tid, const struct hw_point *pts, size_t n, bool check_only)
{
	unsigned nbp, nwp;
	if (hw_capacity(tid, &nbp, &nwp) < 0)
		return n == 0 ? 0 : -1;   /* nothing can have been set either */
	struct a64_hw_slot bp[A64_MAX_SLOTS], wp[A64_MAX_SLOTS];
	unsigned nbp_used, nwp_used;
	if (a64_hw_layout(pts, n, nbp, nwp, any_contiguous_range, bp, &nbp_used, wp, &nwp_used) < 0)
		return -1;
	if (check_only)
		return 0;
	if (nbp && write_slots(tid, NT_ARM_HW_BREAK, bp, nbp_used, nbp) < 0)
		return -1;
	if (!nwp || write_slots(tid, NT_ARM_HW_WATCH, wp, nwp_used, nwp) == 0)
		return 0;
	if (errno != EINVAL || !any_contiguous_range)
		return -1;
	any_contiguous_range = false;
	if (a64_hw_layout(pts, n, nbp, nwp, false, bp, &nbp_used, wp, &nwp_used) < 0)
		return -1;
	return write_slots(tid, NT_ARM_HW_WATCH, wp, nwp_used, nwp);
}

enum trap_cause a64_trap_match(const siginfo_t *si, const struct hw_point *pts, size_t n,
			       bool any_range, uint64_t *data_addr, size_t *which)
{
	if (si->si_signo != SIGTRAP)
		return TRAP_CAUSE_OTHER;
	if (si->si_code == TRAP_TRACE)
		return TRAP_CAUSE_SINGLESTEP;
	if (si->si_code != TRAP_HWBKPT)
		return TRAP_CAUSE_OTHER;
	/* The kernel reports the breakpoint's address, or the first byte the
	 * watched access touched (top byte: tag, not address). */
	uint64_t trap = (uint64_t)(uintptr_t)si->si_addr & 0x00ffffffffffffffull;

	for (size_t i = 0; i < n; i++)
		if (pts[i].type != HW_EXEC && trap >= pts[i].addr && trap - pts[i].addr < pts[i].len) {
			*which = i;
			*data_addr = trap;
			return TRAP_CAUSE_WATCH;
		}
	/* An access that starts below a watched doubleword, or hits the bytes
	 * widened for alignment: report an address inside the watched range,
	 * so gdb matches it to its watchpoint (as gdb's aarch64 code does). */
	for (size_t i = 0; i < n; i++) {
		uint64_t first = pts[i].addr & ~(uint64_t)7;
		if (pts[i].type == HW_EXEC || trap < first)
			continue;
		/* Only the piece in trap's doubleword can hold it. */
		uint64_t base;
		unsigned offset, bytes;
		size_t k = (size_t)(((trap & ~(uint64_t)7) - first) / 8);
		if (watch_piece(pts[i].addr, pts[i].len, any_range, k, &base, &offset, &bytes) &&
		    trap < base + offset + bytes) {
			*which = i;
			*data_addr = base > pts[i].addr ? base : pts[i].addr;
			return TRAP_CAUSE_WATCH;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (pts[i].type == HW_EXEC && pts[i].addr == trap) {
			*which = i;
			return TRAP_CAUSE_HW_BREAK;
		}
	return TRAP_CAUSE_OTHER;
}

static enum trap_cause a64_trap_cause(pid_t tid, const siginfo_t *si,
				      const struct hw_point *pts, size_t n,
				      uint64_t *data_addr, size_t *which)
{
	(void)tid;
	return a64_trap_match(si, pts, n, any_contiguous_range, data_addr, which);
}

static long a64_syscall_number(const uint8_t *regs)
{
	int64_t nr;
	memcpy(&nr, regs + a64_regs[8].offset, 8);
	return (long)nr;
}

static int a64_insn_length(const uint8_t *code, size_t avail, const uint8_t *regs)
{
	(void)code; (void)regs;
	return avail >= 4 ? 4 : -1;   /* A64 instructions are all 4 bytes */
}

/* --- branch emulation for the recorder's fast path ------------------------ */

static uint64_t xreg(const uint8_t *regs, int n)
{
	uint64_t v;
	memcpy(&v, regs + a64_regs[n].offset, 8);
	return v;
}

/* The value of capstone register REG (x0-x30, w0-w30, xzr, wzr) in *V. */
static bool cs_reg_value(const uint8_t *regs, unsigned reg, uint64_t *v)
{
	if (reg >= ARM64_REG_X0 && reg <= ARM64_REG_X28)
		*v = xreg(regs, (int)(reg - ARM64_REG_X0));
	else if (reg == ARM64_REG_X29 || reg == ARM64_REG_X30)
		*v = xreg(regs, reg == ARM64_REG_X29 ? 29 : 30);
	else if (reg >= ARM64_REG_W0 && reg <= ARM64_REG_W30)
		*v = (uint32_t)xreg(regs, (int)(reg - ARM64_REG_W0));
	else if (reg == ARM64_REG_XZR || reg == ARM64_REG_WZR)
		*v = 0;
	else
		return false;
	return true;
}

static bool cond_holds(arm64_cc cc, uint32_t cpsr)
{
	bool n = cpsr >> 31 & 1, z = cpsr >> 30 & 1, c = cpsr >> 29 & 1, v = cpsr >> 28 & 1;
	switch (cc) {
	case ARM64_CC_EQ: return z;
	case ARM64_CC_NE: return !z;
	case ARM64_CC_HS: return c;
	case ARM64_CC_LO: return !c;
	case ARM64_CC_MI: return n;
	case ARM64_CC_PL: return !n;
	case ARM64_CC_VS: return v;
	case ARM64_CC_VC: return !v;
	case ARM64_CC_HI: return c && !z;
	case ARM64_CC_LS: return !c || z;
	case ARM64_CC_GE: return n == v;
	case ARM64_CC_LT: return n != v;
	case ARM64_CC_GT: return !z && n == v;
	case ARM64_CC_LE: return z || n != v;
	default: return true;   /* AL, NV, none */
	}
}

/* b, b.cond, bl, br, blr, ret, cbz/cbnz, tbz/tbnz: where they go, from
 * the registers. Anything else (pointer-authenticated branches, svc,
 * brk...) is stepped. */
static bool a64_emulate_branch(const uint8_t *code, size_t avail, uint8_t *regs,
			       ssize_t (*mem)(void *, bool, uint64_t, void *, size_t), void *ctx)
{
	(void)mem; (void)ctx;
	uint64_t pc = xreg(regs, R_PC), next = pc + 4, target, v;
	const cs_insn *in = disasm_raw(DISASM_A64, code, avail, pc);
	if (!in)
		return false;
	const cs_arm64 *a = &in->detail->arm64;
	const cs_arm64_op *op = a->operands;
	bool link = false;
	switch (in->id) {
	case ARM64_INS_B:
	case ARM64_INS_BL:
		if (a->op_count != 1 || op[0].type != ARM64_OP_IMM)
			return false;
		target = cond_holds(a->cc, (uint32_t)xreg(regs, R_CPSR)) ? (uint64_t)op[0].imm : next;
		link = in->id == ARM64_INS_BL;
		break;
	case ARM64_INS_BR:
	case ARM64_INS_BLR:
		if (a->op_count != 1 || op[0].type != ARM64_OP_REG || !cs_reg_value(regs, op[0].reg, &target))
			return false;
		link = in->id == ARM64_INS_BLR;
		break;
	case ARM64_INS_RET:
		if (a->op_count == 0)
			target = xreg(regs, R_X30);
		else if (a->op_count != 1 || op[0].type != ARM64_OP_REG ||
			 !cs_reg_value(regs, op[0].reg, &target))
			return false;
		break;
	case ARM64_INS_CBZ:
	case ARM64_INS_CBNZ:
		if (a->op_count != 2 || op[0].type != ARM64_OP_REG || op[1].type != ARM64_OP_IMM ||
		    !cs_reg_value(regs, op[0].reg, &v))
			return false;
		target = (v == 0) == (in->id == ARM64_INS_CBZ) ? (uint64_t)op[1].imm : next;
		break;
	case ARM64_INS_TBZ:
	case ARM64_INS_TBNZ:
		if (a->op_count != 3 || op[0].type != ARM64_OP_REG || op[1].type != ARM64_OP_IMM ||
		    op[2].type != ARM64_OP_IMM || op[1].imm < 0 || op[1].imm > 63 ||
		    !cs_reg_value(regs, op[0].reg, &v))
			return false;
		target = ((v >> op[1].imm & 1) == 0) == (in->id == ARM64_INS_TBZ) ? (uint64_t)op[2].imm : next;
		break;
	default:
		return false;
	}
	if (link)
		memcpy(regs + a64_regs[R_X30].offset, &next, 8);
	memcpy(regs + a64_regs[R_PC].offset, &target, 8);
	return true;
}

/* An exclusive load at the PC starts an atomic sequence (outline atomics'
 * LL/SC fallback, say): a stop before its store-exclusive clears the
 * exclusive monitor and the store fails at every retry, so the recorder
 * runs it as one, as gdb does (aarch64_software_single_step): to after
 * the store-exclusive, or where its one conditional branch goes. -1 for
 * anything else (single-stepped). */
static int a64_step_targets(const uint8_t *code, size_t avail, const uint8_t *regs,
			    ssize_t (*mem)(void *, bool, uint64_t, void *, size_t), void *ctx,
			    uint64_t out[2])
{
	uint64_t pc = xreg(regs, R_PC);
	struct disasm_insn first;
	if (disasm_one(DISASM_A64, code, avail, pc, &first) <= 0 || !first.exclusive)
		return -1;
	uint8_t seq[4 * 17];
	ssize_t got = -1;
	/* shorter reads too: the sequence may end near the end of a mapping */
	for (size_t want = sizeof seq; got <= 0 && want >= 16; want /= 2)
		got = mem(ctx, false, pc, seq, want);
	bool have_branch = false;
	uint64_t branch_to = 0;
	for (size_t off = 4; off + 4 <= (size_t)(got > 0 ? got : 0) && off <= 4 * 16; off += 4) {
		const cs_insn *in = disasm_raw(DISASM_A64, seq + off, 4, pc + off);
		if (!in)
			return -1;
		switch (in->id) {
		case ARM64_INS_STXR: case ARM64_INS_STXRB: case ARM64_INS_STXRH: case ARM64_INS_STXP:
		case ARM64_INS_STLXR: case ARM64_INS_STLXRB: case ARM64_INS_STLXRH: case ARM64_INS_STLXP: {
			uint64_t end = pc + off + 4;
			out[0] = end;
			if (!have_branch || (branch_to >= pc && branch_to < end))
				return 1;
			out[1] = branch_to;
			return 2;
		}
		default:
			break;
		}
		struct disasm_insn d;
		if (disasm_one(DISASM_A64, seq + off, 4, pc + off, &d) <= 0)
			return -1;
		if (!d.flow)
			continue;
		const cs_arm64 *a = &in->detail->arm64;
		bool cond_branch = (in->id == ARM64_INS_B && a->cc != ARM64_CC_AL &&
				    a->cc != ARM64_CC_NV && a->cc != ARM64_CC_INVALID) ||
				   in->id == ARM64_INS_CBZ || in->id == ARM64_INS_CBNZ ||
				   in->id == ARM64_INS_TBZ || in->id == ARM64_INS_TBNZ;
		if (!cond_branch || !d.has_target || have_branch)
			return -1;
		have_branch = true;
		branch_to = d.target;
	}
	return -1;
}

static enum disasm_isa a64_disasm_isa(const uint8_t *regs)
{
	(void)regs;
	return DISASM_A64;
}

/* This file's register file is the same on every machine it runs on. */
static int a64_probe(struct arch_regfile *rf)
{
	rf->features = a64_features;
	rf->nfeatures = sizeof a64_features / sizeof a64_features[0];
	rf->regs = a64_regs;
	rf->nregs = R_COUNT;
	rf->size = A64_REGS_SIZE;
	return 0;
}

const struct arch_ops the_arch = {
	.name = "aarch64",
	.probe = a64_probe,
	.pc_regno = R_PC,
	.expedite = a64_expedite,
	.fetch_regs = a64_fetch_regs,
	.store_regs = a64_store_regs,
	.get_pc = a64_get_pc,
	.set_pc = a64_set_pc,
	.sw_breakpoint = a64_sw_breakpoint,
	.decr_pc_after_break = 0,
	.can_single_step = true,
	.hw_points_apply = a64_hw_points_apply,
	.trap_cause = a64_trap_cause,
	.syscall_number = a64_syscall_number,
	.insn_length = a64_insn_length,
	.disasm_isa = a64_disasm_isa,
	.fetch_gp_regs = a64_fetch_gp_regs,
	.store_gp_regs = a64_store_gp_regs,
	.emulate_branch = a64_emulate_branch,
	.step_targets = a64_step_targets,
};
