/* 32-bit ARM (armhf) Linux: registers, target description, ARM and Thumb
 * breakpoints, PTRACE_GETHBPREGS/SETHBPREGS. */
#include "arch/arm.h"

#include <capstone/capstone.h>

#include <elf.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

#include "arch/arm-tdesc.inc"

#ifndef PTRACE_GETHBPREGS
#define PTRACE_GETHBPREGS 29
#define PTRACE_SETHBPREGS 30
#endif
/* The thread's TPIDRURO (TLS pointer); arm kernels have no request to set it. */
#ifndef PTRACE_GET_THREAD_AREA
#define PTRACE_GET_THREAD_AREA 22
#endif
#ifndef NT_ARM_VFP
#define NT_ARM_VFP 0x400
#endif

static const char tdesc_target[] =
	"<?xml version=\"1.0\"?>\n"
	"<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
	"<target>\n"
	"  <architecture>arm</architecture>\n"
	"  <osabi>GNU/Linux</osabi>\n"
	"  <xi:include href=\"arm-core.xml\"/>\n"
	"  <xi:include href=\"arm-vfpv3.xml\"/>\n"
	/* as gdbserver's arm-with-neon: gdb then shows q0-q15 over d0-d31
	 * (no registers of its own; VFPv3-D32 is assumed above already) */
	"  <feature name=\"org.gnu.gdb.arm.neon\"/>\n"
	/* as gdbserver 13's NEON description (aarch32_create_target_description),
	 * which lists it but has no register set to read it from */
	"  <xi:include href=\"arm-tls.xml\"/>\n"
	"</target>\n";

static const char tdesc_arm_tls[] =
	"<?xml version=\"1.0\"?>\n"
	"<!DOCTYPE feature SYSTEM \"gdb-target.dtd\">\n"
	"<feature name=\"org.gnu.gdb.arm.tls\">\n"
	"  <reg name=\"tpidruro\" bitsize=\"32\" type=\"data_ptr\"/>\n"
	"</feature>\n";

static const struct arch_feature arm_features[] = {
	{"target.xml", tdesc_target},
	{"arm-core.xml", tdesc_arm_core},
	{"arm-vfpv3.xml", tdesc_arm_vfpv3},
	{"arm-tls.xml", tdesc_arm_tls},
};

/* gdb register numbers of the description above. arm-core.xml puts cpsr
 * at 25, where the old FPA registers left a gap (16-24): those numbers
 * stay in the table as nameless zero-size registers, so that the table
 * index is gdb's number and the 'g' packet has no bytes for them. */
enum {
	R_R0, R_R7 = 7, R_R11 = 11, R_SP = 13, R_LR, R_PC, R_GAP,
	R_CPSR = 25, R_D0, R_FPSCR = R_D0 + 32, R_TPIDRURO, R_COUNT
};

#define OFF_CPSR 64
#define OFF_D0 68
#define OFF_FPSCR (OFF_D0 + 32 * 8)
#define OFF_TPIDRURO (OFF_FPSCR + 4)
#define ARM_REGS_SIZE (OFF_TPIDRURO + 4)

#define R(n) {"r" #n, 4, 4 * (n), true}
#define GAP {"", 0, OFF_CPSR, false}
#define D(n) {"d" #n, 8, OFF_D0 + 8 * (n), true}
static const struct arch_reg arm_regs[R_COUNT] = {
	R(0), R(1), R(2), R(3), R(4), R(5), R(6), R(7), R(8), R(9), R(10), R(11), R(12),
	{"sp", 4, 52, true}, {"lr", 4, 56, true}, {"pc", 4, 60, true},
	GAP, GAP, GAP, GAP, GAP, GAP, GAP, GAP, GAP,
	{"cpsr", 4, OFF_CPSR, true},
	D(0), D(1), D(2), D(3), D(4), D(5), D(6), D(7), D(8), D(9),
	D(10), D(11), D(12), D(13), D(14), D(15), D(16), D(17), D(18), D(19),
	D(20), D(21), D(22), D(23), D(24), D(25), D(26), D(27), D(28), D(29),
	D(30), D(31),
	{"fpscr", 4, OFF_FPSCR, true},
	{"tpidruro", 4, OFF_TPIDRURO, true},
};

/* As gdbserver: frame pointer, stack pointer, pc. */
static const int arm_expedite[] = {R_R11, R_SP, R_PC, -1};

/* NT_PRSTATUS is struct pt_regs: r0-r15, cpsr, orig_r0. */
#define GP_WORDS 18
/* NT_ARM_VFP is struct user_vfp: d0-d31 then fpscr, 260 bytes. */
#define VFP_SIZE (32 * 8 + 4)

/* gdbserver hides bits 20-23 of the CPSR (reserved) and keeps the
 * kernel's value of them when writing; so do we. */
#define CPSR_RESERVED 0x00f00000u

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

static int arm_fetch_regs(pid_t tid, uint8_t *regs)
{
	uint32_t gp[GP_WORDS];
	uint8_t vfp[VFP_SIZE];
	if (getregset(tid, NT_PRSTATUS, gp, sizeof gp) < 0 ||
	    getregset(tid, NT_ARM_VFP, vfp, sizeof vfp) < 0)
		return -1;
	memset(regs, 0, ARM_REGS_SIZE);
	memcpy(regs, gp, 16 * 4);
	uint32_t cpsr = gp[16] & ~CPSR_RESERVED;
	memcpy(regs + OFF_CPSR, &cpsr, 4);
	memcpy(regs + OFF_D0, vfp, VFP_SIZE);
	uint32_t tp;
	if (ptrace(PTRACE_GET_THREAD_AREA, tid, NULL, &tp) == 0)
		memcpy(regs + OFF_TPIDRURO, &tp, 4);
	return 0;
}

static int arm_store_regs(pid_t tid, const uint8_t *regs)
{
	uint32_t gp[GP_WORDS];
	uint8_t vfp[VFP_SIZE];
	/* tpidruro is read-only: refuse a change before writing anything. */
	uint32_t tp = 0;
	if (ptrace(PTRACE_GET_THREAD_AREA, tid, NULL, &tp) < 0)
		tp = 0;   /* what arm_fetch_regs showed */
	if (memcmp(&tp, regs + OFF_TPIDRURO, 4) != 0) {
		errno = EPERM;
		return -1;
	}
	/* Read first: orig_r0 and the reserved CPSR bits stay as they are. */
	if (getregset(tid, NT_PRSTATUS, gp, sizeof gp) < 0)
		return -1;
	memcpy(gp, regs, 16 * 4);
	uint32_t cpsr;
	memcpy(&cpsr, regs + OFF_CPSR, 4);
	gp[16] = (cpsr & ~CPSR_RESERVED) | (gp[16] & CPSR_RESERVED);
	memcpy(vfp, regs + OFF_D0, VFP_SIZE);
	if (setregset(tid, NT_PRSTATUS, gp, sizeof gp) < 0 ||
	    setregset(tid, NT_ARM_VFP, vfp, sizeof vfp) < 0)
		return -1;
	return 0;
}

static uint64_t arm_get_pc(const uint8_t *regs)
{
	uint32_t pc;
	memcpy(&pc, regs + arm_regs[R_PC].offset, 4);
	return pc;
}

static void arm_set_pc(uint8_t *regs, uint64_t pc)
{
	uint32_t v = (uint32_t)pc;
	memcpy(regs + arm_regs[R_PC].offset, &v, 4);
}

/* Z0 kinds as gdb's arm_breakpoint_kind_from_pc: 2 Thumb, 3 Thumb-2 (a
 * 32-bit instruction), 4 ARM. The instructions are those of gdbserver
 * (linux-aarch32-low.cc) and the kernel's undefined-instruction hooks,
 * which turn them into SIGTRAP/TRAP_BRKPT with the pc on them. */
static int arm_sw_breakpoint(int kind, const uint8_t **insn)
{
	static const uint8_t thumb[] = {0x01, 0xde};              /* 0xde01 */
	static const uint8_t thumb2[] = {0xf0, 0xf7, 0x00, 0xa0}; /* 0xf7f0 0xa000 */
	static const uint8_t arm[] = {0xf0, 0x01, 0xf0, 0xe7};    /* 0xe7f001f0 */
	switch (kind) {
	case 2:
		*insn = thumb;
		return 2;
	case 3:
		*insn = thumb2;
		return 4;
	case 4:
		*insn = arm;
		return 4;
	default:
		return -1;
	}
}

/* --- debug registers ---------------------------------------------------- */

/* Control word as gdbserver's arm_hwbp_control_initialize: byte address
 * select, type (0 execute, 1 load, 2 store, 3 both), privilege, enable. */
static uint32_t arm_ctrl(enum hw_point_type type, unsigned bytes)
{
	uint32_t t = type == HW_EXEC ? 0 : type == HW_READ ? 1 : type == HW_WRITE ? 2 : 3;
	return ((1u << bytes) - 1) << 5 | t << 3 | 3u << 1 | 1u;
}

struct piece {
	uint32_t addr;
	unsigned bytes;
};

/* Cut [ADDR, ADDR+LEN) into pieces the kernel accepts. A 3-byte rest of a
 * word is widened to the word (trap_cause then reports an address inside
 * the watched range). Returns the count, or MAX + 1 when there are more. */
static size_t watch_pieces(uint64_t addr, uint64_t len, unsigned max_wp_len,
			   struct piece *out, size_t max)
{
	size_t n = 0;
	uint64_t cur = addr, end = addr + len;
	while (cur < end) {
		if (n == max)
			return max + 1;
		uint64_t word = cur & ~(uint64_t)3;
		uint64_t hi = end < word + 4 ? end : word + 4;
		unsigned offset = (unsigned)(cur - word), bytes = (unsigned)(hi - cur);
		if (max_wp_len >= 8 && (cur & 7) == 0 && end - cur >= 8) {
			out[n++] = (struct piece){(uint32_t)cur, 8};
			hi = cur + 8;
		} else if (bytes == 1 || (bytes == 2 && offset <= 2)) {
			out[n++] = (struct piece){(uint32_t)cur, bytes};
		} else {
			out[n++] = (struct piece){(uint32_t)word, 4};
		}
		cur = hi;
	}
	return n;
}

static int add_slot(struct arm_hw_slot *slots, unsigned *used, unsigned cap,
		    uint32_t addr, uint32_t ctrl, size_t point)
{
	for (unsigned i = 0; i < *used; i++)
		if (slots[i].addr == addr && slots[i].ctrl == ctrl)
			return 0;   /* same address and control: share */
	if (*used == cap) {
		errno = ENOSPC;
		return -1;
	}
	slots[(*used)++] = (struct arm_hw_slot){addr, ctrl, point};
	return 0;
}

int arm_hw_layout(const struct hw_point *pts, size_t n, const struct arm_hw_info *info,
		  struct arm_hw_slot *bp, unsigned *nbp_used,
		  struct arm_hw_slot *wp, unsigned *nwp_used)
{
	unsigned nbp = info->bp_count < ARM_MAX_SLOTS ? info->bp_count : ARM_MAX_SLOTS;
	unsigned nwp = info->wp_count < ARM_MAX_SLOTS ? info->wp_count : ARM_MAX_SLOTS;
	*nbp_used = *nwp_used = 0;
	for (size_t i = 0; i < n; i++) {
		const struct hw_point *p = &pts[i];
		if (p->addr > UINT32_MAX || p->len == 0 || p->addr + p->len - 1 > UINT32_MAX) {
			errno = EINVAL;
			return -1;
		}
		if (p->type == HW_EXEC) {
			/* The Z1 kind is the mode: Thumb (2, 3) or ARM (4). */
			uint32_t addr = (uint32_t)p->addr;
			unsigned bytes;
			if (p->len == 2 || p->len == 3) {
				addr &= ~1u;
				bytes = 2;
			} else if (p->len == 4) {
				addr &= ~3u;
				bytes = 4;
			} else {
				errno = EINVAL;
				return -1;
			}
			if (add_slot(bp, nbp_used, nbp, addr, arm_ctrl(HW_EXEC, bytes), i) < 0)
				return -1;
			continue;
		}
		if (p->type != HW_WRITE && p->type != HW_READ && p->type != HW_ACCESS) {
			errno = EINVAL;
			return -1;
		}
		struct piece pieces[ARM_MAX_SLOTS];
		size_t np = watch_pieces(p->addr, p->len, info->max_wp_len, pieces, ARM_MAX_SLOTS);
		if (np > ARM_MAX_SLOTS) {
			errno = ENOSPC;
			return -1;
		}
		for (size_t k = 0; k < np; k++)
			if (add_slot(wp, nwp_used, nwp, pieces[k].addr,
				     arm_ctrl(p->type, pieces[k].bytes), i) < 0)
				return -1;
	}
	return 0;
}

static int hbp_get(pid_t tid, long num, uint32_t *val)
{
	return ptrace(PTRACE_GETHBPREGS, tid, (void *)num, val) < 0 ? -1 : 0;
}

static int hbp_set(pid_t tid, long num, uint32_t val)
{
	return ptrace(PTRACE_SETHBPREGS, tid, (void *)num, &val) < 0 ? -1 : 0;
}

/* Debug hardware of this machine, read once from the first stopped thread. */
static const struct arm_hw_info *hw_capacity(pid_t tid)
{
	static bool known;
	static struct arm_hw_info info;
	if (!known) {
		uint32_t val;
		if (hbp_get(tid, 0, &val) < 0) {
			/* No ptrace hw-breakpoint interface in this kernel. */
			if (errno == EIO || errno == EINVAL)
				errno = EOPNOTSUPP;
			return NULL;
		}
		/* Debug architecture 0: none usable, so no slots. */
		if ((val >> 24) & 0xff) {
			info.max_wp_len = (val >> 16) & 0xff;
			info.wp_count = (val >> 8) & 0xff;
			info.bp_count = val & 0xff;
		}
		known = true;
	}
	return &info;
}

/* Make slot pair ADDR_NUM, ADDR_NUM + 1 (negative: watchpoints) hold WANT,
 * or be disabled when WANT is NULL. */
static int write_slot(pid_t tid, long addr_num, const struct arm_hw_slot *want)
{
	long ctrl_num = addr_num > 0 ? addr_num + 1 : addr_num - 1;
	uint32_t cur_addr, cur_ctrl;
	if (hbp_get(tid, addr_num, &cur_addr) < 0 || hbp_get(tid, ctrl_num, &cur_ctrl) < 0)
		return -1;
	if (!want)
		return (cur_ctrl & 1) ? hbp_set(tid, ctrl_num, cur_ctrl & ~1u) : 0;
	/* The kernel reports privilege as it chose it: compare without. */
	if ((cur_ctrl & 1) && cur_addr == want->addr && (cur_ctrl & ~6u) == (want->ctrl & ~6u))
		return 0;
	/* The kernel checks the address against the length already set, and
	 * the length against the address: a doubleword-aligned address suits
	 * every length, so go through one. */
	if (hbp_set(tid, addr_num, want->addr & ~7u) < 0 ||
	    hbp_set(tid, ctrl_num, want->ctrl) < 0 ||
	    hbp_set(tid, addr_num, want->addr) < 0)
		return -1;
	return 0;
}

static int arm_hw_points_apply(pid_t tid, const struct hw_point *pts, size_t n, bool check_only)
{
	const struct arm_hw_info *info = hw_capacity(tid);
	if (!info)
		return n == 0 ? 0 : -1;   /* nothing can have been set either */
	struct arm_hw_slot bp[ARM_MAX_SLOTS], wp[ARM_MAX_SLOTS];
	unsigned nbp_used, nwp_used;
	if (arm_hw_layout(pts, n, info, bp, &nbp_used, wp, &nwp_used) < 0)
		return -1;
	if (check_only)
		return 0;
	unsigned nbp = info->bp_count < ARM_MAX_SLOTS ? info->bp_count : ARM_MAX_SLOTS;
	unsigned nwp = info->wp_count < ARM_MAX_SLOTS ? info->wp_count : ARM_MAX_SLOTS;
	/* Breakpoint slot i is numbered 2i+1 (address) and 2i+2 (control);
	 * watchpoint slots the same, negated. */
	for (unsigned i = 0; i < nbp; i++)
		if (write_slot(tid, 2 * (long)i + 1, i < nbp_used ? &bp[i] : NULL) < 0)
			return -1;
	for (unsigned i = 0; i < nwp; i++)
		if (write_slot(tid, -(2 * (long)i + 1), i < nwp_used ? &wp[i] : NULL) < 0)
			return -1;
	return 0;
}

static uint64_t clamp_into(uint64_t addr, const struct hw_point *p)
{
	if (addr < p->addr)
		return p->addr;
	if (addr - p->addr >= p->len)
		return p->addr + p->len - 1;
	return addr;
}

enum trap_cause arm_trap_match(const siginfo_t *si, const struct hw_point *pts, size_t n,
			       const struct arm_hw_info *info, uint64_t *data_addr, size_t *which)
{
	if (si->si_signo != SIGTRAP || si->si_code != TRAP_HWBKPT)
		return TRAP_CAUSE_OTHER;
	/* The kernel names the slot in si_errno: 2i+1 for breakpoint i,
	 * -(2i+1) for watchpoint i; si_addr is the breakpoint's address or
	 * the first byte the watched access touched. */
	uint64_t trap = (uint32_t)(uintptr_t)si->si_addr;
	struct arm_hw_slot bp[ARM_MAX_SLOTS], wp[ARM_MAX_SLOTS];
	unsigned nbp_used, nwp_used;
	if (info && arm_hw_layout(pts, n, info, bp, &nbp_used, wp, &nwp_used) == 0) {
		int num = si->si_errno;
		if (num < 0 && num >= -2 * ARM_MAX_SLOTS && (unsigned)(-num - 1) / 2 < nwp_used) {
			*which = wp[(-num - 1) / 2].point;
			*data_addr = clamp_into(trap, &pts[*which]);
			return TRAP_CAUSE_WATCH;
		}
		if (num > 0 && num <= 2 * ARM_MAX_SLOTS && (unsigned)(num - 1) / 2 < nbp_used) {
			*which = bp[(num - 1) / 2].point;
			return TRAP_CAUSE_HW_BREAK;
		}
	}
	/* No slot number we know: go by the address. */
	for (size_t i = 0; i < n; i++)
		if (pts[i].type != HW_EXEC && trap >= pts[i].addr && trap - pts[i].addr < pts[i].len) {
			*which = i;
			*data_addr = trap;
			return TRAP_CAUSE_WATCH;
		}
	for (size_t i = 0; i < n; i++)
		if (pts[i].type == HW_EXEC && (pts[i].addr & ~(uint64_t)1) == (trap & ~(uint64_t)1)) {
			*which = i;
			return TRAP_CAUSE_HW_BREAK;
		}
	return TRAP_CAUSE_OTHER;
}

static enum trap_cause arm_trap_cause(pid_t tid, const siginfo_t *si,
				      const struct hw_point *pts, size_t n,
				      uint64_t *data_addr, size_t *which)
{
	const struct arm_hw_info *info = n ? hw_capacity(tid) : NULL;
	return arm_trap_match(si, pts, n, info, data_addr, which);
}

/* EABI: the number is in r7 (Debian armhf has no OABI). */
static long arm_syscall_number(const uint8_t *regs)
{
	int32_t nr;
	memcpy(&nr, regs + arm_regs[R_R7].offset, 4);
	return (long)nr;
}

static int arm_insn_length(const uint8_t *code, size_t avail, const uint8_t *regs)
{
	uint32_t cpsr;
	memcpy(&cpsr, regs + OFF_CPSR, 4);
	if (!(cpsr & 0x20))
		return avail >= 4 ? 4 : -1;   /* A32 */
	if (avail < 2)
		return -1;
	/* Thumb: a first halfword 0b11101, 0b11110 or 0b11111 starts a 32-bit one. */
	uint16_t hw = (uint16_t)(code[0] | code[1] << 8);
	return (hw & 0xf800) >= 0xe800 ? (avail >= 4 ? 4 : -1) : 2;
}

/* --- successors, for recording without hardware single-step ------------- */

static uint32_t rreg(const uint8_t *regs, int n)
{
	uint32_t v;
	memcpy(&v, regs + arm_regs[n].offset, 4);
	return v;
}

/* The value of capstone register REG as the instruction at PC reads it
 * (the PC reads 8 ahead in A32, 4 in T32). */
static bool arm_cs_reg(const uint8_t *regs, unsigned reg, uint32_t pc, bool thumb, uint32_t *v)
{
	if (reg >= ARM_REG_R0 && reg <= ARM_REG_R12)
		*v = rreg(regs, (int)(reg - ARM_REG_R0));
	else if (reg == ARM_REG_SP)
		*v = rreg(regs, R_SP);
	else if (reg == ARM_REG_LR)
		*v = rreg(regs, R_LR);
	else if (reg == ARM_REG_PC)
		*v = pc + (thumb ? 4 : 8);
	else
		return false;
	return true;
}

static int branch_targets(const uint8_t *code, size_t avail, const uint8_t *regs, uint32_t pc,
			  ssize_t (*mem)(void *, bool, uint64_t, void *, size_t), void *ctx,
			  uint64_t out[2]);

/* An exclusive load at PC (FIRST_SIZE bytes) starts an atomic sequence,
 * stepped as one as gdb does (arm_deal_with_atomic_sequence): a stop
 * before its store-exclusive clears the exclusive monitor and the store
 * fails at every retry. It ends after the strex, or where its one
 * conditional branch goes. -1: not such a sequence (another branch, or
 * no strex within 16 instructions). */
static int exclusive_targets(enum disasm_isa isa, uint32_t pc, unsigned first_size,
			     ssize_t (*mem)(void *, bool, uint64_t, void *, size_t), void *ctx,
			     uint64_t out[2])
{
	uint8_t code[4 * 17];
	ssize_t got = -1;
	/* shorter reads too: the sequence may end near the end of a mapping */
	for (size_t want = sizeof code; got <= 0 && want >= 16; want /= 2)
		got = mem(ctx, false, pc, code, want);
	uint32_t thumb = isa == DISASM_T32;
	bool have_branch = false, stored = false;
	uint32_t branch_to = 0;
	unsigned it_left = 0;
	size_t off = first_size;
	for (int i = 0; i < 16 && got > 0 && off < (size_t)got; i++) {
		struct disasm_insn in;
		if (disasm_one(isa, code + off, (size_t)got - off, pc + off, &in) <= 0)
			return -1;
		const cs_insn *raw = disasm_raw(isa, code + off, (size_t)got - off, pc + off);
		if (!raw)
			return -1;
		off += in.size;
		if (in.it_count) {
			/* Predicates what follows (a strexeq, say); not a branch. */
			it_left = in.it_count;
			continue;
		}
		bool in_it = it_left > 0;   /* conditional by the IT's condition */
		if (it_left)
			it_left--;
		if (raw->id == ARM_INS_STREX || raw->id == ARM_INS_STREXB ||
		    raw->id == ARM_INS_STREXH || raw->id == ARM_INS_STREXD) {
			stored = true;
		} else if (in.flow) {
			const cs_arm *a = &raw->detail->arm;
			bool cond_branch = (raw->id == ARM_INS_B && (in_it || (a->cc != ARM_CC_AL &&
								 a->cc != ARM_CC_INVALID))) ||
					   raw->id == ARM_INS_CBZ || raw->id == ARM_INS_CBNZ;
			if (!cond_branch || !in.has_target || have_branch)
				return -1;
			have_branch = true;
			branch_to = (uint32_t)in.target;
		}
		/* It ends after the strex, or after the IT block the strex is
		 * in: a breakpoint on a conditional instruction may be passed. */
		if (stored && !it_left) {
			uint32_t end = pc + (uint32_t)off;
			out[0] = end | thumb;
			if (!have_branch || (branch_to >= pc && branch_to < end))
				return 1;
			out[1] = branch_to | thumb;
			return 2;
		}
	}
	return -1;
}

/* An IT block is stepped as one: a breakpoint on a conditional
 * instruction in it could be skipped. The block ends after COUNT
 * instructions from AT (CODE); only its last one may be a branch. */
static int it_block_targets(const uint8_t *code, size_t avail, const uint8_t *regs, uint32_t at,
			    unsigned count, ssize_t (*mem)(void *, bool, uint64_t, void *, size_t),
			    void *ctx, uint64_t out[2])
{
	size_t off = 0;
	for (unsigned i = 0; i < count; i++) {
		struct disasm_insn in;
		if (disasm_one(DISASM_T32, code + off, avail - off, at + off, &in) <= 0)
			return -1;
		if (in.flow && !in.exclusive) {
			/* Only registers the block has not changed yet are known:
			 * a branch other than the first one is trusted only when
			 * direct. */
			if (i + 1 != count || (i > 0 && !in.has_target))
				return -1;
			uint64_t t[2];
			int n = branch_targets(code + off, avail - off, regs, at + (uint32_t)off, mem, ctx, t);
			if (n <= 0)
				return -1;
			out[0] = (at + off + in.size) | 1;
			out[1] = t[n - 1];
			return (out[1] | 1) == (out[0] | 1) ? 1 : 2;
		}
		off += in.size;
	}
	out[0] = (at + off) | 1;
	return 1;
}

static int arm_step_targets(const uint8_t *code, size_t avail, const uint8_t *regs,
			    ssize_t (*mem)(void *, bool, uint64_t, void *, size_t), void *ctx,
			    uint64_t out[2])
{
	uint32_t cpsr;
	memcpy(&cpsr, regs + OFF_CPSR, 4);
	uint32_t pc = rreg(regs, R_PC);
	/* Already inside an IT block (stopped there by a signal, say):
	 * ITSTATE[3:0] tells how many instructions are left. */
	unsigned itstate = ((cpsr >> 8) & 0xfc) | ((cpsr >> 25) & 3);
	if ((cpsr & 0x20) && (itstate & 0xf)) {
		unsigned low = itstate & 0xf;
		unsigned left = low & 1 ? 4 : low & 2 ? 3 : low & 4 ? 2 : 1;
		return it_block_targets(code, avail, regs, pc, left, mem, ctx, out);
	}
	return branch_targets(code, avail, regs, pc, mem, ctx, out);
}

typedef ssize_t arm_mem_fn(void *, bool, uint64_t, void *, size_t);

/* add pc, pc, rX, lsl #n (A32 switch tables); add pc, rX (T32) */
static bool add_pc_target(const cs_arm *a, const uint8_t *regs, uint32_t pc, bool thumb,
			  uint32_t *target)
{
	const cs_arm_op *op = a->operands;
	uint32_t sum = 0, v;
	if (a->op_count < 2 || a->op_count > 3 || op[0].type != ARM_OP_REG || op[0].reg != ARM_REG_PC)
		return false;
	for (unsigned i = a->op_count == 2 ? 0 : 1; i < a->op_count; i++) {
		if (op[i].type == ARM_OP_IMM)
			v = (uint32_t)op[i].imm;
		else if (op[i].type != ARM_OP_REG || !arm_cs_reg(regs, op[i].reg, pc, thumb, &v))
			return false;
		else if (op[i].shift.type == ARM_SFT_LSL)
			v <<= op[i].shift.value;
		else if (op[i].shift.type != ARM_SFT_INVALID)
			return false;
		sum += v;
	}
	*target = thumb ? sum | 1 : sum;
	return true;
}

/* pop / ldm with the PC: it is the last register of the list, loaded
 * from the highest address. */
static bool ldm_pc_target(const cs_insn *in, const uint8_t *regs, uint32_t pc, bool thumb,
			  arm_mem_fn *mem, void *ctx, uint32_t *target)
{
	const cs_arm *a = &in->detail->arm;
	const cs_arm_op *op = a->operands;
	unsigned first = in->id == ARM_INS_POP ? 0 : 1;
	if (a->op_count <= first || op[a->op_count - 1].type != ARM_OP_REG ||
	    op[a->op_count - 1].reg != ARM_REG_PC)
		return false;
	uint32_t base, addr, n = a->op_count - first;
	if (in->id == ARM_INS_POP)
		base = rreg(regs, R_SP);
	else if (op[0].type != ARM_OP_REG || !arm_cs_reg(regs, op[0].reg, pc, thumb, &base))
		return false;
	switch (in->id) {
	case ARM_INS_LDMIB: addr = base + 4 * n; break;
	case ARM_INS_LDMDA: addr = base; break;
	case ARM_INS_LDMDB: addr = base - 4; break;
	default: addr = base + 4 * (n - 1); break;
	}
	return mem(ctx, false, addr, target, 4) == 4;
}

/* ldr pc, [...]: offset, pre- or post-indexed. */
static bool ldr_pc_target(const cs_arm *a, const uint8_t *regs, uint32_t pc, bool thumb,
			  arm_mem_fn *mem, void *ctx, uint32_t *target)
{
	const cs_arm_op *op = a->operands;
	if (a->op_count < 2 || op[0].type != ARM_OP_REG || op[0].reg != ARM_REG_PC ||
	    op[1].type != ARM_OP_MEM)
		return false;
	const arm_op_mem *m = &op[1].mem;
	uint32_t base, v;
	if (!arm_cs_reg(regs, (unsigned)m->base, pc, thumb, &base))
		return false;
	if (m->base == ARM_REG_PC)
		base &= ~3u;
	uint32_t addr = base;
	if (a->op_count == 2) {   /* offset or pre-indexed; else post-indexed */
		int64_t off = m->disp;
		if (m->index != ARM_REG_INVALID) {
			if (!arm_cs_reg(regs, (unsigned)m->index, pc, thumb, &v))
				return false;
			off = (int64_t)((uint64_t)v << (m->lshift > 0 ? m->lshift : 0));
			if (op[1].subtracted)
				off = -off;
		}
		addr = base + (uint32_t)off;
	}
	return mem(ctx, false, addr, target, 4) == 4;
}

/* tbb / tbh: a table of halfword offsets from the PC. */
static bool table_branch_target(const cs_insn *in, const uint8_t *regs, uint32_t pc, bool thumb,
				arm_mem_fn *mem, void *ctx, uint32_t *target)
{
	const cs_arm *a = &in->detail->arm;
	const cs_arm_op *op = a->operands;
	if (a->op_count != 1 || op[0].type != ARM_OP_MEM)
		return false;
	uint32_t base, index;
	if (!arm_cs_reg(regs, (unsigned)op[0].mem.base, pc, thumb, &base) ||
	    !arm_cs_reg(regs, (unsigned)op[0].mem.index, pc, thumb, &index))
		return false;
	uint16_t entry = 0;
	if (in->id == ARM_INS_TBB) {
		uint8_t b;
		if (mem(ctx, false, base + index, &b, 1) != 1)
			return false;
		entry = b;
	} else if (mem(ctx, false, base + 2 * index, &entry, 2) != 2) {
		return false;
	}
	*target = (pc + 4 + 2u * entry) | 1;
	return true;
}

/* Where the taken branch IN goes (bit 0 set for Thumb); false when it
 * cannot tell. */
static bool flow_target(const cs_insn *in, const uint8_t *regs, uint32_t pc, bool thumb,
			arm_mem_fn *mem, void *ctx, uint32_t *target)
{
	const cs_arm *a = &in->detail->arm;
	const cs_arm_op *op = a->operands;
	switch (in->id) {
	case ARM_INS_B:
	case ARM_INS_BL:
	case ARM_INS_CBZ:
	case ARM_INS_CBNZ:
		if (a->op_count < 1 || op[a->op_count - 1].type != ARM_OP_IMM)
			return false;
		*target = (uint32_t)op[a->op_count - 1].imm | (thumb ? 1 : 0);
		return true;
	case ARM_INS_BLX:
	case ARM_INS_BX:
		if (a->op_count != 1)
			return false;
		if (op[0].type == ARM_OP_IMM) {   /* blx imm switches state */
			*target = thumb ? (uint32_t)op[0].imm & ~3u : (uint32_t)op[0].imm | 1;
			return true;
		}
		return op[0].type == ARM_OP_REG && arm_cs_reg(regs, op[0].reg, pc, thumb, target);
	case ARM_INS_MOV:
		if (a->op_count != 2 || op[0].type != ARM_OP_REG || op[0].reg != ARM_REG_PC ||
		    op[1].type != ARM_OP_REG || !arm_cs_reg(regs, op[1].reg, pc, thumb, target))
			return false;
		if (thumb)
			*target |= 1;
		return true;
	case ARM_INS_ADD:
		return add_pc_target(a, regs, pc, thumb, target);
	case ARM_INS_POP:
	case ARM_INS_LDM:
	case ARM_INS_LDMIB:
	case ARM_INS_LDMDA:
	case ARM_INS_LDMDB:
		return ldm_pc_target(in, regs, pc, thumb, mem, ctx, target);
	case ARM_INS_LDR:
		return ldr_pc_target(a, regs, pc, thumb, mem, ctx, target);
	case ARM_INS_TBB:
	case ARM_INS_TBH:
		return table_branch_target(in, regs, pc, thumb, mem, ctx, target);
	default:
		return false;
	}
}

static int branch_targets(const uint8_t *code, size_t avail, const uint8_t *regs, uint32_t pc,
			  arm_mem_fn *mem, void *ctx, uint64_t out[2])
{
	uint32_t cpsr;
	memcpy(&cpsr, regs + OFF_CPSR, 4);
	bool thumb = cpsr & 0x20;
	enum disasm_isa isa = thumb ? DISASM_T32 : DISASM_A32;
	struct disasm_insn info;
	if (disasm_one(isa, code, avail, pc, &info) <= 0)
		return -1;
	uint32_t next = (pc + info.size) | (thumb ? 1 : 0);
	out[0] = next;
	if (!info.flow)
		return 1;
	if (info.syscall)
		return 0;
	if (info.exclusive) {
		int n = exclusive_targets(isa, pc, info.size, mem, ctx, out);
		return n > 0 ? n : 1;   /* else just the next one (out[0]) */
	}
	if (info.it_count)
		return it_block_targets(code + info.size, avail - info.size, regs, pc + info.size,
					info.it_count, mem, ctx, out);
	const cs_insn *in = disasm_raw(isa, code, avail, pc);
	if (!in)
		return -1;
	const cs_arm *a = &in->detail->arm;
	/* Conditional in its encoding, or cbz/cbnz. (An IT block is stepped
	 * as a whole, its branch with the fall-through: it_block_targets.)
	 * No breakpoint after an unconditional one: that may be data, such
	 * as tbb's table, read by the branch itself. */
	bool may_fall = (a->cc != ARM_CC_AL && a->cc != ARM_CC_INVALID) ||
			in->id == ARM_INS_CBZ || in->id == ARM_INS_CBNZ;
	uint32_t target;
	if (!flow_target(in, regs, pc, thumb, mem, ctx, &target))
		return -1;
	if (!may_fall || (target | 1) == (next | 1)) {
		out[0] = target;
		return 1;
	}
	out[1] = target;
	return 2;
}

static enum disasm_isa arm_disasm_isa(const uint8_t *regs)
{
	uint32_t cpsr;
	memcpy(&cpsr, regs + OFF_CPSR, 4);
	return (cpsr & 0x20) ? DISASM_T32 : DISASM_A32;
}

/* This file's register file is the same on every machine it runs on. */
static int arm_probe(struct arch_regfile *rf)
{
	rf->features = arm_features;
	rf->nfeatures = sizeof arm_features / sizeof arm_features[0];
	rf->regs = arm_regs;
	rf->nregs = R_COUNT;
	rf->size = ARM_REGS_SIZE;
	return 0;
}

/* The thread pointer (TPIDRURO) less IDX, the descriptor's bias. */
static int arm_thread_area(pid_t tid, int idx, uint64_t *base)
{
	uint32_t tp;
	if (ptrace(PTRACE_GET_THREAD_AREA, tid, NULL, &tp) < 0)
		return -1;
	*base = (uint32_t)(tp - (uint32_t)idx);
	return 0;
}

const struct arch_ops the_arch = {
	.name = "arm",
	.trace_isa = ARCH_TRACE_A32,
	.probe = arm_probe,
	.thread_area = arm_thread_area,
	.pc_regno = R_PC,
	.expedite = arm_expedite,
	.fetch_regs = arm_fetch_regs,
	.store_regs = arm_store_regs,
	.get_pc = arm_get_pc,
	.set_pc = arm_set_pc,
	.sw_breakpoint = arm_sw_breakpoint,
	.decr_pc_after_break = 0,
	/* The kernel has no PTRACE_SINGLESTEP on arm: s/S stay out of vCont?
	 * and gdb steps by inserting breakpoints itself. */
	.can_single_step = false,
	.hw_points_apply = arm_hw_points_apply,
	.trap_cause = arm_trap_cause,
	.syscall_number = arm_syscall_number,
	.insn_length = arm_insn_length,
	.disasm_isa = arm_disasm_isa,
	.step_targets = arm_step_targets,
};
