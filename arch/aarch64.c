/* AArch64 Linux: registers (SVE, PAC, MTE, TLS as the machine has them:
 * arch/aarch64-regfile.c lays them out), BRK, NT_ARM_HW_BREAK/WATCH, MTE tags. */
#include "arch/aarch64.h"

#include <capstone/capstone.h>

#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
/* After <sys/ptrace.h>: both name the PTRACE_* requests. */
#include <asm/ptrace.h>

/* This machine's register file, laid out by a64_probe. */
static struct a64_regfile a64;
#define OFF(regno) (a64.regs[(regno)].offset)

/* An NT_ARM_SVE image at the longest vector length there is. */
static uint8_t sve_img[A64_SVE_PT_SVE_SIZE(A64_MAX_VQ)];

/* arch/aarch64-regfile.h's copy of the NT_ARM_SVE layout is the kernel's
 * (checked here, where the kernel's headers are the target's). */
#define SAME_SVE_LAYOUT(vq) \
	(A64_SVE_PT_ZREG_OFFSET(vq, 31) == SVE_PT_SVE_ZREG_OFFSET(vq, 31) && \
	 A64_SVE_PT_PREG_OFFSET(vq, 15) == SVE_PT_SVE_PREG_OFFSET(vq, 15) && \
	 A64_SVE_PT_FFR_OFFSET(vq) == SVE_PT_SVE_FFR_OFFSET(vq) && \
	 A64_SVE_PT_FPSR_OFFSET(vq) == SVE_PT_SVE_FPSR_OFFSET(vq) && \
	 A64_SVE_PT_FPCR_OFFSET(vq) == SVE_PT_SVE_FPCR_OFFSET(vq) && \
	 A64_SVE_PT_SIZE(vq, A64_SVE_PT_REGS_SVE) == SVE_PT_SIZE(vq, SVE_PT_REGS_SVE) && \
	 A64_SVE_PT_SIZE(vq, A64_SVE_PT_REGS_FPSIMD) == SVE_PT_SIZE(vq, SVE_PT_REGS_FPSIMD))
_Static_assert(SAME_SVE_LAYOUT(1) && SAME_SVE_LAYOUT(2) && SAME_SVE_LAYOUT(3) &&
	       SAME_SVE_LAYOUT(4) && SAME_SVE_LAYOUT(16) && SAME_SVE_LAYOUT(512),
	       "NT_ARM_SVE offsets differ from <asm/ptrace.h>");
_Static_assert(A64_SVE_HDR_LEN == sizeof(struct user_sve_header) &&
	       A64_FPSIMD_STATE_SIZE == sizeof(struct user_fpsimd_state) &&
	       A64_FPSIMD_FPSR == offsetof(struct user_fpsimd_state, fpsr) &&
	       A64_FPSIMD_FPCR == offsetof(struct user_fpsimd_state, fpcr) &&
	       A64_SVE_HDR_VL == offsetof(struct user_sve_header, vl) &&
	       A64_SVE_HDR_FLAGS == offsetof(struct user_sve_header, flags) &&
	       A64_SVE_PT_REGS_SVE == SVE_PT_REGS_SVE && A64_SVE_PT_REGS_MASK == SVE_PT_REGS_MASK,
	       "user_sve_header or user_fpsimd_state differ from <asm/ptrace.h>");

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

static int a64_fetch_gp_regs(pid_t tid, uint8_t *regs)
{
	struct user_pt_regs gp;
	if (getregset(tid, NT_PRSTATUS, &gp, sizeof gp) < 0)
		return -1;
	memcpy(regs, gp.regs, sizeof gp.regs);
	memcpy(regs + OFF(A64_SP), &gp.sp, 8);
	memcpy(regs + OFF(A64_PC), &gp.pc, 8);
	uint32_t cpsr = (uint32_t)gp.pstate;
	memcpy(regs + OFF(A64_CPSR), &cpsr, 4);
	return 0;
}

static int a64_fetch_regs(pid_t tid, uint8_t *regs)
{
	memset(regs, 0, a64.rf.size);
	if (a64_fetch_gp_regs(tid, regs) < 0)
		return -1;
	if (a64.f.vq) {
		if (getregset(tid, NT_ARM_SVE, sve_img, sizeof sve_img) < 0 ||
		    a64_sve_to_regs(&a64, sve_img, sizeof sve_img, regs) < 0)
			return -1;
	} else {
		struct user_fpsimd_state fp;
		if (getregset(tid, NT_FPREGSET, &fp, sizeof fp) < 0)
			return -1;
		memcpy(regs + OFF(A64_V0), fp.vregs, sizeof fp.vregs);
		memcpy(regs + OFF(a64.fpsr), &fp.fpsr, 4);
		memcpy(regs + OFF(a64.fpsr + 1), &fp.fpcr, 4);
	}
	/* The optional sets read as zero when the kernel refuses them, as
	 * gdbserver disables a register set that fails: the rest still works. */
	uint64_t w[2];
	if (a64.pauth_dmask >= 0 && getregset(tid, NT_ARM_PAC_MASK, w, 16) == 0)
		memcpy(regs + OFF(a64.pauth_dmask), w, 16);
	if (a64.tag_ctl >= 0 && getregset(tid, NT_ARM_TAGGED_ADDR_CTRL, w, 8) == 0)
		memcpy(regs + OFF(a64.tag_ctl), w, 8);
	if (a64.tpidr >= 0 && getregset(tid, NT_ARM_TLS, w, 8 * a64.f.tls) == 0)
		memcpy(regs + OFF(a64.tpidr), w, 8 * a64.f.tls);
	return 0;
}

/* The general registers of the block into GP (the upper half of pstate
 * stays as the kernel has it). */
static void a64_pack_gp(struct user_pt_regs *gp, const uint8_t *regs)
{
	memcpy(gp->regs, regs, sizeof gp->regs);
	memcpy(&gp->sp, regs + OFF(A64_SP), 8);
	memcpy(&gp->pc, regs + OFF(A64_PC), 8);
	uint32_t cpsr;
	memcpy(&cpsr, regs + OFF(A64_CPSR), 4);
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

static int store_fp(pid_t tid, const uint8_t *regs)
{
	if (a64.f.vq) {
		if (getregset(tid, NT_ARM_SVE, sve_img, sizeof sve_img) < 0)
			return -1;
		ssize_t n = a64_sve_from_regs(&a64, regs, sve_img, sizeof sve_img);
		return n < 0 ? -1 : setregset(tid, NT_ARM_SVE, sve_img, (size_t)n);
	}
	struct user_fpsimd_state fp;
	if (getregset(tid, NT_FPREGSET, &fp, sizeof fp) < 0)
		return -1;
	memcpy(fp.vregs, regs + OFF(A64_V0), sizeof fp.vregs);
	memcpy(&fp.fpsr, regs + OFF(a64.fpsr), 4);
	memcpy(&fp.fpcr, regs + OFF(a64.fpsr + 1), 4);
	return setregset(tid, NT_FPREGSET, &fp, sizeof fp);
}

/* An optional set written only when the block changed it, so a kernel
 * that refuses the set fails only a write that asks for it. */
static int store_changed(pid_t tid, int note, int regno, size_t size, const uint8_t *regs)
{
	uint64_t w[2] = {0, 0};
	if (regno < 0)
		return 0;
	if (getregset(tid, note, w, size) < 0)
		memset(w, 0, sizeof w);   /* what a64_fetch_regs showed */
	if (memcmp(w, regs + OFF(regno), size) == 0)
		return 0;
	memcpy(w, regs + OFF(regno), size);
	return setregset(tid, note, w, size);
}

/* Read, modify, write: keeps what the block does not hold (the upper half
 * of pstate, the reserved words, lanes of a longer vector) as the kernel
 * has it. */
static int a64_store_regs(pid_t tid, const uint8_t *regs)
{
	uint64_t pac[2];
	/* The PAC masks are the kernel's, read-only: refuse a change before
	 * anything is written (gdbserver drops it silently). */
	if (a64.pauth_dmask >= 0 && getregset(tid, NT_ARM_PAC_MASK, pac, 16) == 0 &&
	    memcmp(pac, regs + OFF(a64.pauth_dmask), 16) != 0) {
		errno = EPERM;
		return -1;
	}
	if (a64_store_gp_regs(tid, regs) < 0 || store_fp(tid, regs) < 0)
		return -1;
	if (store_changed(tid, NT_ARM_TAGGED_ADDR_CTRL, a64.tag_ctl, 8, regs) < 0 ||
	    store_changed(tid, NT_ARM_TLS, a64.tpidr, 8 * a64.f.tls, regs) < 0)
		return -1;
	return 0;
}

static uint64_t a64_get_pc(const uint8_t *regs)
{
	uint64_t pc;
	memcpy(&pc, regs + OFF(A64_PC), 8);
	return pc;
}

static void a64_set_pc(uint8_t *regs, uint64_t pc)
{
	memcpy(regs + OFF(A64_PC), &pc, 8);
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
	memcpy(&nr, regs + OFF(8), 8);
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
	memcpy(&v, regs + OFF(n), 8);
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
	uint64_t pc = xreg(regs, A64_PC), next = pc + 4, target, v;
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
		target = cond_holds(a->cc, (uint32_t)xreg(regs, A64_CPSR)) ? (uint64_t)op[0].imm : next;
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
			target = xreg(regs, A64_X30);
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
		memcpy(regs + OFF(A64_X30), &next, 8);
	memcpy(regs + OFF(A64_PC), &target, 8);
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
	uint64_t pc = xreg(regs, A64_PC);
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

/* --- the machine's register sets ------------------------------------------ */

/* The vector length a program the server starts gets: the system default
 * at exec, unless the server's own length is inherited across exec. */
static unsigned sve_vq(void)
{
	int vl = prctl(PR_SVE_GET_VL);
	if (vl < 0)
		return 0;
	unsigned len = (unsigned)vl & PR_SVE_VL_LEN_MASK;
	FILE *f = (vl & PR_SVE_VL_INHERIT) ? NULL : fopen("/proc/sys/abi/sve_default_vector_length", "r");
	if (f) {
		unsigned dflt;
		if (fscanf(f, "%u", &dflt) == 1 && sve_vl_valid(dflt))
			len = dflt;
		fclose(f);
	}
	return sve_vl_valid(len) ? sve_vq_from_vl(len) : 0;
}

/* TLS registers as gdbserver counts them (aarch64_tls_register_count):
 * a 16-byte NT_ARM_TLS read of a stopped child that gives 16 has tpidr2.
 * Without ptrace (qemu-user) tpidr alone, which every kernel has. */
static unsigned tls_count(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) == 0)
			raise(SIGSTOP);
		_exit(0);
	}
	if (pid < 0)
		return 1;
	unsigned n = 1;
	int st;
	if (waitpid(pid, &st, 0) == pid && WIFSTOPPED(st)) {
		uint64_t tls[2];
		struct iovec iov = {tls, sizeof tls};
		if (ptrace(PTRACE_GETREGSET, pid, NT_ARM_TLS, &iov) == 0 && iov.iov_len == sizeof tls)
			n = 2;
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	return n;
}

static int a64_probe(struct arch_regfile *rf)
{
	unsigned long hwcap = getauxval(AT_HWCAP), hwcap2 = getauxval(AT_HWCAP2);
	struct a64_features f = {
		.vq = (hwcap & HWCAP_SVE) ? sve_vq() : 0,
		.pauth = (hwcap & HWCAP_PACA) != 0,
		.mte = (hwcap2 & HWCAP2_MTE) != 0,
		.tls = tls_count(),
	};
	if (a64_regfile_build(&f, &a64) < 0) {
		fprintf(stderr, "csgdbserver: SVE vector length of %u bytes is past the %u the server handles\n",
			16 * f.vq, 16 * A64_MAX_VQ);
		return -1;
	}
	*rf = a64.rf;
	return 0;
}

/* --- MTE allocation tags (PTRACE_PEEKMTETAGS / POKEMTETAGS) ----------------- */

#define MTE_ALLOCATION_TAG 1   /* gdb's aarch64_memtag_type::mte_allocation */
/* Bits 56-63 hold a pointer's logical tag, not part of the address. */
#define ADDR_BITS 0x00ffffffffffffffull

static ssize_t a64_memtags_read(pid_t tid, int type, uint64_t addr, uint64_t len,
				uint8_t *tags, size_t max)
{
	if (type != MTE_ALLOCATION_TAG) {
		errno = EINVAL;
		return -1;
	}
	size_t n = a64_mte_granules(addr & ADDR_BITS, len);
	uint64_t base = addr & ADDR_BITS & ~(uint64_t)15;
	if (n > max) {
		errno = E2BIG;
		return -1;
	}
	/* The kernel may give fewer than asked: go on from there. */
	for (size_t got = 0; got < n;) {
		struct iovec iov = {tags + got, n - got};
		if (ptrace(PTRACE_PEEKMTETAGS, tid, (void *)(uintptr_t)(base + 16 * got), &iov) < 0)
			return -1;
		if (iov.iov_len == 0) {
			errno = EIO;
			return -1;
		}
		got += iov.iov_len;
	}
	return (ssize_t)n;
}

static int a64_memtags_write(pid_t tid, int type, uint64_t addr, uint64_t len,
			     const uint8_t *tags, size_t ntags)
{
	if (type != MTE_ALLOCATION_TAG) {
		errno = EINVAL;
		return -1;
	}
	size_t n = ntags ? a64_mte_granules(addr & ADDR_BITS, len) : 0;
	uint64_t base = addr & ADDR_BITS & ~(uint64_t)15;
	uint8_t chunk[1024];
	for (size_t done = 0; done < n;) {
		size_t k = n - done < sizeof chunk ? n - done : sizeof chunk;
		for (size_t i = 0; i < k; i++)
			chunk[i] = tags[(done + i) % ntags];   /* the tags as a pattern */
		struct iovec iov = {chunk, k};
		if (ptrace(PTRACE_POKEMTETAGS, tid, (void *)(uintptr_t)(base + 16 * done), &iov) < 0)
			return -1;
		if (iov.iov_len == 0) {
			errno = EIO;
			return -1;
		}
		done += iov.iov_len;
	}
	return 0;
}

/* The thread pointer (TPIDR_EL0) less IDX, the descriptor's bias. */
static int a64_thread_area(pid_t tid, int idx, uint64_t *base)
{
	uint64_t tp;
	struct iovec iov = {&tp, sizeof tp};
	if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_ARM_TLS, &iov) < 0)
		return -1;
	*base = tp - (uint64_t)idx;
	return 0;
}

const struct arch_ops the_arch = {
	.name = "aarch64",
	.trace_isa = ARCH_TRACE_A64,
	.probe = a64_probe,
	.thread_area = a64_thread_area,
	.pc_regno = A64_PC,
	.expedite = a64.expedite,
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
	.memtags_read = a64_memtags_read,
	.memtags_write = a64_memtags_write,
};
