/* One architecture behind one ops struct; the file arch/<name>.c that the
 * Makefile picks for the compiler's target defines `the_arch`. */
#ifndef ARCH_ARCH_H
#define ARCH_ARCH_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "arch/disasm.h"

/* A register as gdb numbers it: index in the table = gdb regnum; OFFSET is
 * its place in the raw register block, which is laid out in gdb's order so
 * that 'g' is the block in hex. */
struct arch_reg {
	const char *name;
	uint16_t size;      /* bytes */
	uint32_t offset;
	bool in_g;          /* part of the 'g' packet (else only via 'p') */
};

/* A file of the target description served by qXfer:features:read. */
struct arch_feature {
	const char *annex;  /* "target.xml", "64bit-core.xml", ... */
	const char *xml;
};

/* The register file of the machine the server runs on and the target
 * description that names it. Machines of one architecture differ (XSAVE
 * components, SVE vector length, PAC, MTE...), so the architecture's probe
 * lays it out at run time from what the CPU and kernel report. */
struct arch_regfile {
	const struct arch_feature *features;  /* features[0] is "target.xml" */
	size_t nfeatures;
	const struct arch_reg *regs;          /* index = gdb regnum */
	size_t nregs;
	size_t size;                          /* bytes of the raw block */
	/* The CPU and kernel tag memory (AArch64 MTE): the server offers
	 * memory-tagging and qMemTags/QMemTags through the memtags ops. */
	bool memtags;
};

enum hw_point_type {
	HW_EXEC = 1,        /* Z1 */
	HW_WRITE = 2,       /* Z2 */
	HW_READ = 3,        /* Z3 */
	HW_ACCESS = 4,      /* Z4 */
};

struct hw_point {
	enum hw_point_type type;
	uint64_t addr;
	uint32_t len;
};

/* Why a thread stopped with SIGTRAP, as far as the debug hardware tells. */
enum trap_cause {
	TRAP_CAUSE_OTHER,       /* breakpoint instruction, step, exec... */
	TRAP_CAUSE_SINGLESTEP,
	TRAP_CAUSE_HW_BREAK,    /* a HW_EXEC point */
	TRAP_CAUSE_WATCH,       /* a data point; *DATA_ADDR and *WHICH are set */
};

/* The instruction sets a CoreSight trace of this machine's code shows. */
enum arch_trace_isa {
	ARCH_TRACE_NONE,    /* no CoreSight here: the software recorder's bts only */
	ARCH_TRACE_A32,     /* A32 and T32; a Thumb address has bit 0 set in trace */
	ARCH_TRACE_A64,
};

struct arch_ops {
	const char *name;              /* "x86_64", "aarch64", "arm" */
	/* What btrace and the emulated ETM trace; with A32 the Thumb state of
	 * a thread is disasm_isa(regs) == DISASM_T32. */
	enum arch_trace_isa trace_isa;

	/* Lay out RF for this machine's CPU and kernel. Called once, by
	 * arch_init(), before any inferior exists (it may fork a probe child);
	 * returns 0, or -1 with a message on stderr. */
	int (*probe)(struct arch_regfile *rf);

	int pc_regno;
	const int *expedite;           /* regnums sent in T replies, -1 ended */

	/* Move registers between a stopped thread and the raw block. */
	int (*fetch_regs)(pid_t tid, uint8_t *regs);
	int (*store_regs)(pid_t tid, const uint8_t *regs);

	uint64_t (*get_pc)(const uint8_t *regs);
	void (*set_pc)(uint8_t *regs, uint64_t pc);

	/* Software breakpoint instruction for Z0 KIND; returns its length and
	 * sets *INSN, or returns -1 for an unknown kind. */
	int (*sw_breakpoint)(int kind, const uint8_t **insn);
	/* The PC after a breakpoint trap points this many bytes past it. */
	unsigned decr_pc_after_break;

	/* Hardware single-step (PTRACE_SINGLESTEP) exists. When false the
	 * server leaves s/S out of vCont? and gdb steps in software. */
	bool can_single_step;

	/* Debug registers. N points are wanted on the thread; returns 0, or -1
	 * with errno ENOSPC when they do not fit (the caller then refuses the
	 * Z packet that asked for the last one). CHECK_ONLY tests fitting. */
	int (*hw_points_apply)(pid_t tid, const struct hw_point *pts, size_t n, bool check_only);
	/* Classify a SIGTRAP given its siginfo. */
	enum trap_cause (*trap_cause)(pid_t tid, const siginfo_t *si,
				      const struct hw_point *pts, size_t n,
				      uint64_t *data_addr, size_t *which);

	/* System call number and return value of a thread stopped at a syscall. */
	long (*syscall_number)(const uint8_t *regs);

	/* Length in bytes of the instruction in CODE (AVAIL bytes read at the
	 * PC of REGS), or -1 when it does not decode. Used by the software
	 * branch recorder to tell a taken branch from the next instruction. */
	int (*insn_length)(const uint8_t *code, size_t avail, const uint8_t *regs);
	/* The instruction set the thread of REGS executes (A32 or T32 on arm
	 * by CPSR.T), for disasm_one. */
	enum disasm_isa (*disasm_isa)(const uint8_t *regs);

	/* Optional, for the recorder's fast path, which runs on every branch:
	 * only the general registers (PC, SP, flags and the integer ones) in
	 * and out of the raw block, with one system call each. */
	int (*fetch_gp_regs)(pid_t tid, uint8_t *regs);
	int (*store_gp_regs)(pid_t tid, const uint8_t *regs);
	/* Optional: carry out the control-flow instruction at the PC of REGS
	 * (CODE, AVAIL bytes) on REGS and through MEM (a call's return
	 * address), without running it. False, with REGS untouched, for what
	 * it does not do exactly (the caller single-steps those). */
	bool (*emulate_branch)(const uint8_t *code, size_t avail, uint8_t *regs,
			       ssize_t (*mem)(void *ctx, bool write, uint64_t addr, void *buf, size_t len),
			       void *ctx);
	/* Without hardware single-step (arm): where the instruction at the PC
	 * of REGS can go next, bit 0 set for Thumb; the recorder plants
	 * breakpoints there and lets it run. Returns how many (1 or 2), 0 for
	 * a system call (run to its end with PTRACE_SYSCALL instead), -1 when
	 * it cannot tell. With single-step (aarch64): only for what must not
	 * be stepped an instruction at a time (an exclusive load's sequence),
	 * -1 for the rest. */
	int (*step_targets)(const uint8_t *code, size_t avail, const uint8_t *regs,
			    ssize_t (*mem)(void *ctx, bool write, uint64_t addr, void *buf, size_t len),
			    void *ctx, uint64_t out[2]);

	/* Optional, used when the_regfile.memtags: the allocation tags of the
	 * granules [ADDR, ADDR+LEN) touches, in the process of TID, one byte
	 * each. TYPE is gdb's tag type number (aarch64: 1, allocation).
	 * memtags_read returns how many (at most MAX), memtags_write sets
	 * them from the N of TAGS repeated as a pattern, as QMemTags means;
	 * -1 with errno (EINVAL: a type it does not know). */
	ssize_t (*memtags_read)(pid_t tid, int type, uint64_t addr, uint64_t len,
				uint8_t *tags, size_t max);
	int (*memtags_write)(pid_t tid, int type, uint64_t addr, uint64_t len,
			     const uint8_t *tags, size_t n);

	/* libthread_db's ps_get_thread_area: the thread pointer of TID for
	 * IDX, which is architecture-specific (x86_64: the FS or GS segment
	 * register number; arm/aarch64: the bias of the thread descriptor
	 * from the thread pointer, to be subtracted). 0, or -1. */
	int (*thread_area)(pid_t tid, int idx, uint64_t *base);
};

extern const struct arch_ops the_arch;
/* This machine's register file: valid after arch_init(). */
extern struct arch_regfile the_regfile;

/* Probe the machine once (later calls return the first result). */
int arch_init(void);

/* Helpers shared by the architecture files. */
uint64_t arch_reg_get(const struct arch_regfile *rf, const uint8_t *regs, int regno);
void arch_reg_set(const struct arch_regfile *rf, uint8_t *regs, int regno, uint64_t value);
int arch_regno(const struct arch_regfile *rf, const char *name);
const char *arch_feature(const struct arch_regfile *rf, const char *annex);

#endif
