/* x86-64 Linux: registers (laid out from the XSAVE area, arch/x86_xsave.c),
 * int3, DR0-DR7. */
#include "arch/arch.h"
#include "arch/x86_xsave.h"

#include <capstone/capstone.h>

#include <cpuid.h>
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <asm/prctl.h>

/* This machine's register file, laid out by x86_probe. */
static struct x86_regfile x86_file;
/* Debug registers ptrace lets us use: DR0-DR3, or none where the kernel
 * or a VM refuses them (x86_probe finds out). */
static int x86_dr_count = 4;

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
	[R_ORIG_RAX] = offsetof(struct user_regs_struct, orig_rax),
	[R_FS_BASE] = offsetof(struct user_regs_struct, fs_base),
	[R_GS_BASE] = offsetof(struct user_regs_struct, gs_base),
};

static bool is_gpr(int r)
{
	return r <= R_GS || r == R_ORIG_RAX || r == R_FS_BASE || r == R_GS_BASE;
}

/* --- probing the machine -------------------------------------------------- */

static long dr_offset(int i)
{
	return (long)offsetof(struct user, u_debugreg) + (long)i * (long)sizeof(long);
}

/* Arm DR0 as an execution breakpoint in traced PID and disarm it: some
 * VMs and kernels refuse debug registers. Returns 0 or why not (errno). */
static int probe_debug_registers(pid_t pid)
{
	int e = 0;
	if (ptrace(PTRACE_POKEUSER, pid, dr_offset(0), (void *)(uintptr_t)probe_debug_registers) < 0 ||
	    ptrace(PTRACE_POKEUSER, pid, dr_offset(7), 1) < 0)
		e = errno;
	ptrace(PTRACE_POKEUSER, pid, dr_offset(7), 0);
	return e;
}

/* The NT_X86_XSTATE image of a traced child of ours: its size says the
 * area's, its software-reserved bytes XCR0 as the kernel saves it (the
 * way gdbserver learns both). Returns the size, 0 when the kernel has no
 * such regset (FXSAVE only), -1 when no child could be traced. *DR_ERR:
 * why a debug register could not be armed in it, else 0. */
static long probe_child(uint64_t *xcr0, int *dr_err)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (ptrace(PTRACE_TRACEME, 0, 0, 0) == 0)
			raise(SIGSTOP);
		_exit(0);
	}
	int st;
	long size = -1;
	if (waitpid(pid, &st, 0) == pid && WIFSTOPPED(st)) {
		/* Bigger than any area yet (AMX: 11008 bytes); the kernel
		 * says how much of it the regset is. */
		size_t cap = 1 << 20;
		uint8_t *buf = calloc(1, cap);
		struct iovec iov = {buf, cap};
		size = 0;
		if (buf && ptrace(PTRACE_GETREGSET, pid, NT_X86_XSTATE, &iov) == 0 &&
		    iov.iov_len < cap) {
			size = (long)iov.iov_len;
			*xcr0 = x86_xsave_xcr0(buf, iov.iov_len);
		}
		free(buf);
		*dr_err = probe_debug_registers(pid);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return size;
}

static int x86_probe(struct arch_regfile *rf)
{
	uint64_t xcr0 = 3;
	int dr_err = 0;
	long size = probe_child(&xcr0, &dr_err);
	char why[160];
	if (dr_err) {
		fprintf(stderr, "x86_64: debug registers refused by ptrace (%s): "
			"no hardware breakpoints or watchpoints\n", strerror(dr_err));
		x86_dr_count = 0;
	}
	if (size < 0) {
		/* Not traceable here (no ptrace: replay only): ask the CPU. */
		unsigned a, b, c, d;
		size = 0;
		if (__get_cpuid(1, &a, &b, &c, &d) && (c & bit_OSXSAVE)) {
			__asm__ volatile("xgetbv" : "=a"(a), "=d"(d) : "c"(0));
			xcr0 = (uint64_t)d << 32 | a;
			__cpuid_count(0xd, 0, a, b, c, d);
			size = b;
		}
	}
	if (size == 0)
		xcr0 = 3;
	struct x86_cpuid sub[XC_MAX];
	memset(sub, 0, sizeof sub);
	for (unsigned i = 2; i < XC_MAX && size; i++)
		if (xcr0 & XC_BIT(i))
			__cpuid_count(0xd, i, sub[i].eax, sub[i].ebx, sub[i].ecx, sub[i].edx);
	struct x86_xsave_layout l;
	if (x86_xsave_layout(xcr0, (size_t)size, sub, XC_MAX, &l, why, sizeof why) < 0) {
		fprintf(stderr, "x86_64: XSAVE layout: %s\n", why);
		return -1;
	}
	x86_regfile_build(&l, &x86_file);
	*rf = x86_file.rf;
	return 0;
}

/* --- registers ------------------------------------------------------------ */

/* The thread's XSAVE image (or FXSAVE image without XSAVE), malloc'd;
 * *SIZE is its length. NULL with errno on failure. */
static uint8_t *xstate_get(pid_t tid, size_t *size)
{
	*size = x86_file.layout.size ? x86_file.layout.size : XS_LEGACY_SIZE;
	uint8_t *xs = calloc(1, *size);
	if (!xs)
		return NULL;
	int rc;
	if (x86_file.layout.size) {
		struct iovec iov = {xs, *size};
		rc = (int)ptrace(PTRACE_GETREGSET, tid, NT_X86_XSTATE, &iov);
	} else {
		rc = (int)ptrace(PTRACE_GETFPREGS, tid, 0, xs);
	}
	if (rc < 0) {
		int e = errno;
		free(xs);
		errno = e;
		return NULL;
	}
	return xs;
}

/* The kernel takes an NT_X86_XSTATE write only of the whole area. */
static int xstate_set(pid_t tid, uint8_t *xs, size_t size)
{
	if (!x86_file.layout.size)
		return ptrace(PTRACE_SETFPREGS, tid, 0, xs) < 0 ? -1 : 0;
	struct iovec iov = {xs, size};
	return ptrace(PTRACE_SETREGSET, tid, NT_X86_XSTATE, &iov) < 0 ? -1 : 0;
}

static void gp_to_regs(const struct user_regs_struct *gp, uint8_t *regs)
{
	const uint8_t *g = (const uint8_t *)gp;
	for (int r = 0; r < R_BASE_COUNT; r++) {
		if (!is_gpr(r))
			continue;
		memset(regs + x86_base_regs[r].offset, 0, x86_base_regs[r].size);
		memcpy(regs + x86_base_regs[r].offset, g + gpr_offset[r], x86_base_regs[r].size);
	}
}

/* The general registers of the raw block into a user_regs_struct. */
static void pack_gp_regs(const uint8_t *regs, struct user_regs_struct *gp)
{
	uint8_t *g = (uint8_t *)gp;
	for (int r = 0; r < R_BASE_COUNT; r++) {
		if (!is_gpr(r))
			continue;
		uint64_t v = 0;
		memcpy(&v, regs + x86_base_regs[r].offset, x86_base_regs[r].size);
		memcpy(g + gpr_offset[r], &v, 8);
	}
}

static int x86_fetch_gp_regs(pid_t tid, uint8_t *regs)
{
	struct user_regs_struct gp;
	if (ptrace(PTRACE_GETREGS, tid, 0, &gp) < 0)
		return -1;
	gp_to_regs(&gp, regs);
	return 0;
}

static int x86_fetch_regs(pid_t tid, uint8_t *regs)
{
	size_t size;
	uint8_t *xs = xstate_get(tid, &size);
	if (!xs)
		return -1;
	memset(regs, 0, x86_file.rf.size);
	int rc = x86_fetch_gp_regs(tid, regs);
	if (rc == 0)
		x86_xsave_unpack(&x86_file, xs, regs);
	free(xs);
	return rc;
}

static int x86_store_gp_regs(pid_t tid, const uint8_t *regs)
{
	struct user_regs_struct gp;
	memset(&gp, 0, sizeof gp);
	pack_gp_regs(regs, &gp);
	return ptrace(PTRACE_SETREGS, tid, 0, &gp) < 0 ? -1 : 0;
}

/* Only what differs from the thread is written: the components of the
 * XSAVE area whose registers changed (the rest, AMX tiles included, go
 * back as read), then the general registers. A write the kernel refuses
 * leaves the thread as it was: the XSAVE part is put back when the
 * general registers fail after it. */
static int x86_store_regs(pid_t tid, const uint8_t *regs)
{
	size_t size;
	uint8_t *xs = xstate_get(tid, &size);
	uint8_t *orig = xs ? malloc(size) : NULL;
	uint8_t *scratch = orig ? malloc(x86_file.rf.size) : NULL;
	int rc = -1, e = 0;
	uint64_t changed = 0;
	struct user_regs_struct gp, want;
	if (!scratch)
		goto out;
	memcpy(orig, xs, size);
	changed = x86_xsave_pack(&x86_file, regs, xs, scratch);
	if (changed && xstate_set(tid, xs, size) < 0)
		goto out;
	if (ptrace(PTRACE_GETREGS, tid, 0, &gp) < 0)
		goto undo;
	want = gp;
	pack_gp_regs(regs, &want);
	if (memcmp(&want, &gp, sizeof gp) == 0 || ptrace(PTRACE_SETREGS, tid, 0, &want) == 0) {
		rc = 0;
		goto out;
	}
undo:
	e = errno;
	if (changed)
		xstate_set(tid, orig, size);
	errno = e;
out:
	e = errno;
	free(xs);
	free(orig);
	free(scratch);
	errno = e;
	return rc;
}

static uint64_t x86_get_pc(const uint8_t *regs)
{
	uint64_t pc;
	memcpy(&pc, regs + x86_base_regs[R_RIP].offset, 8);
	return pc;
}

static void x86_set_pc(uint8_t *regs, uint64_t pc)
{
	memcpy(regs + x86_base_regs[R_RIP].offset, &pc, 8);
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
			if (used == x86_dr_count) {
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
	memcpy(&nr, regs + x86_base_regs[R_ORIG_RAX].offset, 8);
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
	memcpy(&v, regs + x86_base_regs[r].offset, x86_base_regs[r].size);
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
	memcpy(regs + x86_base_regs[R_RSP].offset, &sp, 8);
	memcpy(regs + x86_base_regs[R_RIP].offset, &target, 8);
	return true;
}

static enum disasm_isa x86_disasm_isa(const uint8_t *regs)
{
	(void)regs;
	return DISASM_X86_64;
}

/* libthread_db names the segment register by its index in struct
 * user_regs_struct (<sys/reg.h>'s FS and GS). */
static int x86_thread_area(pid_t tid, int idx, uint64_t *base)
{
	const int fs = offsetof(struct user_regs_struct, fs) / sizeof(unsigned long long);
	const int gs = offsetof(struct user_regs_struct, gs) / sizeof(unsigned long long);
	int code = idx == fs ? ARCH_GET_FS : idx == gs ? ARCH_GET_GS : -1;
	unsigned long value;
	if (code < 0 || ptrace(PTRACE_ARCH_PRCTL, tid, &value, (void *)(uintptr_t)code) < 0)
		return -1;
	*base = value;
	return 0;
}

const struct arch_ops the_arch = {
	.name = "x86_64",
	.trace_isa = ARCH_TRACE_NONE,
	.probe = x86_probe,
	.thread_area = x86_thread_area,
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
