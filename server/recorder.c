/* The software branch recorder of the live target: see recorder.h. */
#include "server/recorder.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server/ptrace_lwp.h"
#include "etm/source.h"
#include "etm/swbtrace.h"
#include "server/ptrace_tracestep.h"
#include "server/swfast.h"

bool target_btrace_per_insn;

static int sw_step_begin(struct thread *t);
static bool recorded_step_over_syscall(struct thread *t);

/* Every resume of a live thread comes here: a recorded thread's step
 * starts from its PC (bt_pc), and a step becomes breakpoints or a syscall
 * stop where the hardware cannot step it. */
void resume_thread(struct thread *t, int request, int sig)
{
	/* Off a tracepoint's breakpoint first (one step without it). */
	request = tracestep_begin(t, request);
	/* A step cut short by an event goes on from where it began. */
	if (t->bt && !t->step_interrupted) {
		uint8_t *regs = lwp_gp_regs(t);
		t->bt_pc = regs ? the_arch.get_pc(regs) : 0;
		t->bt_isa = regs && the_arch.disasm_isa ? (int)the_arch.disasm_isa(regs) : 0;
	}
	bool step = request == PTRACE_SINGLESTEP;
	/* (With hardware single-step, a recorded thread's exclusive-load
	 * sequence still runs as one: see arch_ops.step_targets.) */
	if (step && ((t->sw_stepping && t->sw_step_syscall) || recorded_step_over_syscall(t)))
		request = PTRACE_SYSCALL;
	else if (step && (!the_arch.can_single_step || (t->bt && the_arch.step_targets)))
		request = sw_step_begin(t);
	t->step_interrupted = false;
	t->step_over_wanted = 0;   /* it runs: whatever it meets is news again */
	t->bt_sig = sig;
	lwp_resume(t, request, sig, step || (t->sw_stepping && request == PTRACE_SYSCALL));
}

/* A recorded thread that gdb let continue, at a system call instruction
 * while calls are caught: a single step would pass the call's entry and
 * return by unseen, so it is stepped with PTRACE_SYSCALL (as arm steps
 * every system call), which stops at both. */
static bool recorded_step_over_syscall(struct thread *t)
{
	if (!t->bt || t->resume != RESUME_CONTINUE || !target_settings.catch_syscalls ||
	    !the_arch.disasm_isa)
		return false;
	uint8_t *regs = lwp_gp_regs(t);
	uint8_t code[16];
	struct disasm_insn in;
	ssize_t got = regs ? lwp_read_memory(t->proc, the_arch.get_pc(regs), code, sizeof code) : -1;
	if (got <= 0 || disasm_one(the_arch.disasm_isa(regs), code, (size_t)got, the_arch.get_pc(regs), &in) <= 0 ||
	    !in.syscall)
		return false;
	t->sw_stepping = true;
	t->sw_step_syscall = true;
	return true;
}

/* --- the recorder's fast path (see swfast.h) ------------------------------ */

static ssize_t read_code(void *proc, uint64_t addr, void *buf, size_t len)
{
	return lwp_read_memory(proc, addr, buf, len);
}

/* Take T's temporary breakpoint out of memory. RUNNING: the thread may
 * be hitting it right now, so its trap is still recognised once. */
static void temp_bp_remove(struct process *p, struct temp_bp *tb)
{
	if (!tb->armed)
		return;
	tb->armed = false;
	raw_write(p, tb->addr, tb->saved, tb->len);
	/* gdb's own breakpoint there stays in. */
	for (struct breakpoint *b = p->breakpoints; b; b = b->next) {
		if (b->addr >= tb->addr + tb->len || b->addr + b->len <= tb->addr ||
		    breakpoint_lifted(p, b->addr))
			continue;
		const uint8_t *insn;
		if (the_arch.sw_breakpoint(b->kind, &insn) == b->len)
			raw_write(p, b->addr, insn, b->len);
	}
	/* So does another thread's step breakpoint (arm: threads stepping
	 * the same code). */
	for (struct thread *o = p->threads; o; o = o->next)
		for (int k = 0; k < 3; k++) {
			const struct temp_bp *ob = &o->tbp[k];
			const uint8_t *insn;
			if (ob->armed && ob->addr < tb->addr + tb->len && ob->addr + ob->len > tb->addr &&
			    the_arch.sw_breakpoint(ob->kind, &insn) == ob->len)
				raw_write(p, ob->addr, insn, ob->len);
		}
}

static bool temp_bp_plant(struct process *p, struct temp_bp *tb, uint64_t addr, enum disasm_isa isa)
{
	int kind = isa == DISASM_X86_64 ? 1 : isa == DISASM_T32 ? 2 : 4;
	const uint8_t *insn;
	int len = the_arch.sw_breakpoint(kind, &insn);
	if (len <= 0 || len > 16)
		return false;
	if (lwp_read_memory(p, addr, tb->saved, (size_t)len) != len ||
	    raw_write(p, addr, insn, (size_t)len) != len)
		return false;
	tb->armed = true;
	tb->addr = addr;
	tb->len = (uint8_t)len;
	tb->kind = kind;
	return true;
}

void fast_disarm(struct thread *t, bool running)
{
	if (t->fast_state != FAST_ARMED) {
		if (!running)
			t->fast_state = FAST_NONE;
		return;
	}
	temp_bp_remove(t->proc, &t->tbp[0]);
	t->fast_state = running ? FAST_STALE : FAST_NONE;
}

static bool fast_arm(struct thread *t, uint64_t addr, enum disasm_isa isa)
{
	if (!temp_bp_plant(t->proc, &t->tbp[0], addr, isa))
		return false;
	t->fast_state = FAST_ARMED;
	return true;
}

/* A temporary breakpoint is seen by every thread of the address space:
 * it is only used while T is the one thread there, which is also why the
 * breakpoint can be taken out to step the branch under it. */
static bool fast_path_usable(struct thread *t)
{
	struct process *p = t->proc;
	return !target_btrace_per_insn && (the_arch.can_single_step || the_arch.step_targets) &&
	       the_arch.disasm_isa &&
	       disasm_available(NULL) && p->threads == t && !t->next && !p->vfork_parent;
}

/* --- stepping without PTRACE_SINGLESTEP (arm) ------------------------------ */

static ssize_t emulation_memory(void *proc, bool write, uint64_t addr, void *buf, size_t len)
{
	/* Reads see the program's bytes; writes are a call's push. */
	return write ? raw_write(proc, addr, buf, len) : lwp_read_memory(proc, addr, buf, len);
}

void sw_step_disarm(struct thread *t)
{
	temp_bp_remove(t->proc, &t->tbp[1]);
	temp_bp_remove(t->proc, &t->tbp[2]);
	t->sw_stepping = false;
	t->sw_step_syscall = false;
}

/* Another thread's step breakpoint in memory at ADDR? */
static bool foreign_step_bp_at(struct thread *t, uint64_t addr)
{
	for (struct thread *o = t->proc->threads; o; o = o->next)
		for (int k = 0; o != t && k < 3; k++)
			if (o->tbp[k].armed && o->tbp[k].addr <= addr && addr < o->tbp[k].addr + o->tbp[k].len)
				return true;
	return false;
}

/* T (stopped with SIGTRAP) ran into another thread's step breakpoint, or
 * into one taken out of memory since it trapped: the instruction at its
 * PC has not run. Not when a breakpoint of T's own or of gdb is there, or
 * the program's own breakpoint instruction. */
bool sw_step_foreign_trap(struct thread *t)
{
	struct process *p = t->proc;
	uint8_t *regs = lwp_gp_regs(t);
	if (!regs)
		return false;
	uint64_t pc = the_arch.get_pc(regs);
	for (int k = 0; k < 3; k++)
		if (t->tbp[k].armed && t->tbp[k].addr == pc)
			return false;
	if (find_breakpoint(p, pc))
		return false;
	if (foreign_step_bp_at(t, pc))
		return true;
	if (ptrace(PTRACE_GETSIGINFO, t->tid, 0, &t->siginfo) < 0)
		return false;
	t->siginfo_valid = true;
	if (t->siginfo.si_code != TRAP_BRKPT)
		return false;
	uint8_t now[4];
	if (raw_read(p, pc, now, sizeof now) != (ssize_t)sizeof now)
		return false;
	bool thumb = the_arch.disasm_isa && the_arch.disasm_isa(regs) == DISASM_T32;
	for (int kind = thumb ? 2 : 4; kind <= (thumb ? 3 : 4); kind++) {
		const uint8_t *insn;
		int len = the_arch.sw_breakpoint(kind, &insn);
		if (len > 0 && len <= (int)sizeof now && memcmp(now, insn, (size_t)len) == 0)
			return false;
	}
	return true;
}

/* T trapped on another thread's step breakpoint, still at its PC: run
 * again now, it would trap again at once, for as long as the owner (two
 * threads stepping the same code) takes to get there; waiting for the
 * owner to take it out lets the owner have the CPU. Parked threads hold
 * no breakpoint of their own, so no two wait for each other. */
void park_or_resume(struct thread *t)
{
	uint8_t *regs = lwp_gp_regs(t);
	uint64_t pc = regs ? the_arch.get_pc(regs) : 0;
	if (regs && foreign_step_bp_at(t, pc)) {
		debug("park %d at %#llx\n", t->tid, (unsigned long long)pc);
		t->parked = true;
		t->parked_pc = pc;
		return;
	}
	resume_as_asked(t, 0);
}

/* Resume the parked threads whose PC is free again. */
void unpark_threads(void)
{
	for (struct process *p = processes; p; p = p->next)
		for (struct thread *t = p->threads; t; t = t->next)
			if (t->parked && !foreign_step_bp_at(t, t->parked_pc)) {
				debug("unpark %d\n", t->tid);
				t->parked = false;
				resume_as_asked(t, 0);
			}
}


uint64_t target_trace_pc(struct thread *t, uint64_t pc)
{
	uint8_t *regs = the_arch.trace_isa == ARCH_TRACE_A32 && the_arch.disasm_isa ? thread_regs(t) : NULL;
	return regs && the_arch.disasm_isa(regs) == DISASM_T32 ? pc | 1 : pc;
}

/* A taken branch of T: into its ring, and to the source that encodes
 * branches (an emulated ETM) when one asked for them. */
static void record_branch(struct thread *t, uint64_t from, uint64_t to)
{
	swbtrace_add(t->bt, from, to);
	if (t->bt_sink)
		t->bt_sink->ops->record_branch(t->bt_sink, t->tid, from, target_trace_pc(t, to));
}

/* Breakpoints where the instruction at T's PC can go; returns the ptrace
 * request that runs it there. */
static int sw_step_begin(struct thread *t)
{
	struct process *p = t->proc;
	if (t->sw_stepping && t->sw_step_syscall)
		return PTRACE_SYSCALL;   /* an event in the middle of it */
	uint8_t *regs = lwp_gp_regs(t);
	uint64_t out[2], pc = regs ? the_arch.get_pc(regs) : 0;
	uint8_t code[32];   /* an IT instruction and the four it covers */
	int n = -1;
	ssize_t got = regs ? lwp_read_memory(p, pc, code, sizeof code) : -1;
	if (got > 0 && the_arch.step_targets)
		n = the_arch.step_targets(code, (size_t)got, regs, emulation_memory, p, out);
	t->sw_stepping = true;
	debug("step %d at %#llx: %d targets %#llx %#llx\n", t->tid, (unsigned long long)pc, n,
	      n > 0 ? (unsigned long long)out[0] : 0ULL, n > 1 ? (unsigned long long)out[1] : 0ULL);
	if (n == 0) {
		t->sw_step_syscall = true;
		return PTRACE_SYSCALL;
	}
	bool a64 = regs && the_arch.disasm_isa && the_arch.disasm_isa(regs) == DISASM_A64;
	for (int i = 0; i < n; i++) {
		uint64_t at = a64 ? out[i] : out[i] & ~(uint64_t)1;
		enum disasm_isa isa = a64 ? DISASM_A64 : out[i] & 1 ? DISASM_T32 : DISASM_A32;
		if (at == pc || !temp_bp_plant(p, &t->tbp[1 + i], at, isa)) {
			n = -1;
			break;
		}
	}
	if (n > 0)
		p->sw_step_used = true;
	if (n < 0 && the_arch.can_single_step) {
		sw_step_disarm(t);   /* an ordinary instruction: the hardware steps it */
		return PTRACE_SINGLESTEP;
	}
	if (n < 0) {
		/* Where it goes is unknown: it runs free, and gdb is told that
		 * the trace has a hole (as after an overflow). */
		struct disasm_insn in;
		if (got <= 0 || !regs || disasm_one(the_arch.disasm_isa(regs), code, (size_t)got, pc, &in) <= 0)
			snprintf(in.text, sizeof in.text, "?");
		fprintf(stderr, "csgdbserver: thread %d: cannot tell where \"%s\" at %#llx goes; "
			"branch trace lost until it stops\n", t->tid, in.text, (unsigned long long)pc);
		sw_step_disarm(t);
		if (t->bt)
			t->bt->lost_since_read = true;
	}
	return PTRACE_CONT;
}

/* Resume recorded thread T that gdb let continue: up to the next
 * control-flow instruction under a temporary breakpoint, or one step. */
void resume_recorded(struct thread *t, int sig)
{
	struct process *p = t->proc;
	uint8_t *regs = lwp_gp_regs(t);
	/* A signal to deliver: the step shows where its handler starts. */
	if (sig || t->step_interrupted || !regs || !fast_path_usable(t))
		goto step;
	if (!p->fast && !(p->fast = swfast_new(p->pid, "/proc")))
		goto step;
	uint64_t pc = the_arch.get_pc(regs);
	enum disasm_isa isa = the_arch.disasm_isa(regs);
	struct swfast_stop stop;
	if (!swfast_next_stop(p->fast, isa, pc, read_code, p, &stop) || stop.addr == pc)
		goto step;
	/* gdb's breakpoint there stops the thread as well (and is reported). */
	if (!find_breakpoint(p, stop.addr) && !fast_arm(t, stop.addr, isa))
		goto step;
	t->fast_insn_size = (uint8_t)stop.insn.size;
	t->bt->runs++;
	debug("run %d from %#llx to %#llx (%s)\n", t->tid, (unsigned long long)pc,
	      (unsigned long long)stop.addr, stop.insn.text);
	resume_thread(t, PTRACE_CONT, 0);
	return;
step:
	resume_thread(t, PTRACE_SINGLESTEP, sig);
}

/* Resume T the way gdb last asked for. */
void resume_as_asked(struct thread *t, int sig)
{
	if (t->bt && t->resume == RESUME_CONTINUE)
		resume_recorded(t, sig);
	else
		resume_thread(t, resume_request(t), sig);
}

void resume_over_sigstop(struct thread *t, int sig)
{
	if (t->stop_expected)
		t->resumed_over_sigstop = true;
	resume_as_asked(t, sig);
}

/* T stopped with SIGTRAP: was it its temporary breakpoint? Then the PC
 * is put back on the breakpoint's address. */
bool fast_trap_is_ours(struct thread *t)
{
	uint8_t *regs = lwp_gp_regs(t);
	if (!regs)
		return false;
	uint64_t pc = the_arch.get_pc(regs) - the_arch.decr_pc_after_break;
	if (pc != t->tbp[0].addr)
		return false;
	/* Running (not stepping) into the breakpoint's address: only a
	 * hardware breakpoint could trap there as well. */
	if (t->proc->nhw || !the_arch.decr_pc_after_break) {
		if (ptrace(PTRACE_GETSIGINFO, t->tid, 0, &t->siginfo) < 0)
			return false;
		t->siginfo_valid = true;
		if (t->siginfo.si_code != SI_KERNEL && t->siginfo.si_code != TRAP_BRKPT)
			return false;
	}
	the_arch.set_pc(regs, pc);
	return true;
}

/* T stopped at its temporary breakpoint (PC put back on it in REGS, not
 * yet stored): work the branch out without a step where the arch can,
 * record it and run on to the next one. False when the branch is to be
 * stepped instead. */
bool fast_emulate(struct thread *t)
{
	struct process *p = t->proc;
	uint64_t at = t->tbp[0].addr;
	if (!t->bt || t->resume != RESUME_CONTINUE || !the_arch.emulate_branch ||
	    find_breakpoint(p, at) || !fast_path_usable(t) || !p->fast)
		return false;
	uint8_t code[16];
	ssize_t n = lwp_read_memory(p, at, code, sizeof code);
	if (n <= 0 || !the_arch.emulate_branch(code, (size_t)n, t->regs, emulation_memory, p))
		return false;
	uint64_t to = the_arch.get_pc(t->regs);
	t->bt->emulated++;
	if (to != at + t->fast_insn_size) {
		record_branch(t, at, to);
	}
	enum disasm_isa isa = the_arch.disasm_isa(t->regs);
	struct swfast_stop stop;
	bool run = swfast_next_stop(p->fast, isa, to, read_code, p, &stop) && stop.addr != to;
	/* A loop comes back to the same branch: its breakpoint stays in. */
	if (!run || stop.addr != at) {
		fast_disarm(t, false);
		if (run && !find_breakpoint(p, stop.addr) && !fast_arm(t, stop.addr, isa))
			run = false;
	}
	if (lwp_store_gp_regs(t) < 0) {
		fast_disarm(t, false);
		return true;   /* gone; its exit is on its way */
	}
	if (run) {
		t->fast_insn_size = (uint8_t)stop.insn.size;
		t->bt->runs++;
		resume_thread(t, PTRACE_CONT, 0);
	} else {
		resume_thread(t, PTRACE_SINGLESTEP, 0);
	}
	return true;
}

/* A recorded thread made one step from T->bt_pc: a taken branch unless
 * it landed on the next instruction. */
void record_step(struct thread *t)
{
	uint8_t *regs = lwp_gp_regs(t);
	if (!regs)
		return;
	uint64_t pc = the_arch.get_pc(regs);
	uint8_t code[16];
	ssize_t n = lwp_read_memory(t->proc, t->bt_pc, code, sizeof code);
	struct disasm_insn insn;
	int len = -1;
	bool flow = true, it = false, exclusive = false;
	if (n > 0 && the_arch.disasm_isa &&
	    (len = disasm_one((enum disasm_isa)t->bt_isa, code, (size_t)n, t->bt_pc, &insn)) > 0) {
		flow = insn.flow;
		it = insn.it_count > 0;
		exclusive = insn.exclusive;
		if (insn.syscall && t->proc->fast)
			swfast_maps_changed(t->proc->fast);
	} else if (n > 0) {
		len = the_arch.insn_length(code, (size_t)n, regs);
	}
	t->bt->steps++;
	uint64_t from = t->bt_pc;
	if (len >= 0 && pc == from + (uint64_t)len)
		return;
	/* (A Thumb IT block is stepped as one: its instructions run in line;
	 * so is an ARM ldrex..strex sequence, its one branch taken or not.) */
	if (len >= 0 && (!flow || it || exclusive) && !t->bt_sig && the_arch.disasm_isa) {
		/* No branch and no signal, yet not at the next instruction:
		 * an x86 string instruction with rep stops after each
		 * iteration (at itself), and a step trap can go missing (cpuid
		 * in a VM), so that more instructions ran. The branch is then
		 * the first control-flow instruction on the way. */
		if (pc == from)
			return;
		uint64_t at = from + (uint64_t)len;
		for (int i = 0; i < 16; i++) {
			struct disasm_insn next;
			n = lwp_read_memory(t->proc, at, code, sizeof code);
			if (n <= 0 || disasm_one((enum disasm_isa)t->bt_isa, code, (size_t)n, at, &next) <= 0)
				break;
			if (!next.flow || next.it_count ||
			    (exclusive && next.has_target && next.target != pc)) {
				at += next.size;
				if (at == pc)
					return;
				continue;
			}
			if (pc == at + next.size)
				return;
			from = at;
			break;
		}
	}
	record_branch(t, from, pc);
}

void target_btrace_disable(struct thread *t)
{
	fast_disarm(t, !t->stopped);
	/* stopped at a caught call's entry in a recorded step: the step ends
	 * here, the call's return comes as for any thread */
	if (t->stopped && t->sw_stepping && t->sw_step_syscall && t->in_syscall)
		sw_step_disarm(t);
	swbtrace_free(t->bt);
	t->bt = NULL;
	t->bt_sink = NULL;
}

/* Take our breakpoints out of a process that we are about to let go. */
void breakpoints_uninsert(struct process *p)
{
	for (struct thread *t = p->threads; t; t = t->next)
		fast_disarm(t, false);
	for (struct breakpoint *b = p->breakpoints; b; b = b->next)
		raw_write(p, b->addr, b->saved, b->len);
	free_breakpoints(p);
}
