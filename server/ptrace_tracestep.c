/* Tracepoint breakpoints and stepping over them: see ptrace_tracestep.h. */
#include "server/ptrace_tracestep.h"

#include <signal.h>
#include <stdio.h>
#include <sys/ptrace.h>

#include "server/ptrace_lwp.h"

int lwp_insert_trace_bp(struct process *p, uint64_t addr, int kind)
{
	struct breakpoint *b = find_breakpoint(p, addr);
	bool gdbs = b && b->by_gdb;
	if (!b && lwp_insert_point(p, 0, addr, kind) < 0)
		return -1;
	b = find_breakpoint(p, addr);
	if (!b)
		return -1;
	b->by_trace = true;
	b->by_gdb = gdbs;
	return 0;
}

int lwp_remove_trace_bp(struct process *p, uint64_t addr)
{
	struct breakpoint *b = find_breakpoint(p, addr);
	if (!b || !b->by_trace)
		return -1;
	b->by_trace = false;
	return b->by_gdb ? 0 : lwp_remove_point(p, 0, addr, b->kind);
}

/* The breakpoint goes back in once no thread of the process is stepping
 * over it any more (a second one may have started meanwhile: it would trap
 * on it in the middle of its step). */
static void put_back(struct thread *t)
{
	uint64_t addr = t->tracestep_addr;
	t->tracestep_addr = 0;
	for (struct thread *o = t->proc->threads; o; o = o->next)
		if (o->tracestep_addr == addr)
			return;
	struct breakpoint *b = find_breakpoint(t->proc, addr);
	const uint8_t *insn;
	debug("%d: tracepoint breakpoint at %#llx back in%s\n", t->tid, (unsigned long long)addr,
	      b ? "" : ": gone meanwhile");
	if (b && the_arch.sw_breakpoint(b->kind, &insn) == b->len)
		raw_write(t->proc, b->addr, insn, b->len);
}

static bool has_trace_bp(const struct process *p)
{
	for (const struct breakpoint *b = p->breakpoints; b; b = b->next)
		if (b->by_trace)
			return true;
	return false;
}

int tracestep_begin(struct thread *t, int request)
{
	/* every resume comes here: no registers read unless a tracepoint's
	 * breakpoint could be under the PC */
	if (!t->tracestep_addr && !has_trace_bp(t->proc))
		return request;
	uint8_t *regs = lwp_gp_regs(t);
	uint64_t pc = regs ? the_arch.get_pc(regs) : 0;
	if (t->tracestep_addr && t->tracestep_addr != pc)
		put_back(t);   /* it went elsewhere (a signal handler) */
	struct breakpoint *b = regs ? find_breakpoint(t->proc, pc) : NULL;
	if (!t->tracestep_addr) {
		if (!b || !b->by_trace || b->by_gdb)
			return request;
		bool out = false;   /* another thread is stepping over it */
		for (struct thread *o = t->proc->threads; o && !out; o = o->next)
			out = o->tracestep_addr == pc;
		if (!out && raw_write(t->proc, pc, b->saved, b->len) != b->len)
			return request;
		t->tracestep_addr = pc;
		debug("%d: stepping over the tracepoint breakpoint at %#llx\n", t->tid,
		      (unsigned long long)pc);
	}
	t->tracestep_request = request;
	return PTRACE_SINGLESTEP;
}

bool tracestep_finish(struct thread *t, int sig, int event, int *request)
{
	if (!t->tracestep_addr)
		return false;
	put_back(t);
	*request = t->tracestep_request;
	/* Resumed again later (after our SIGSTOP, say): as gdb asked, not
	 * with the step that was cut short. */
	t->last_request = *request;
	/* Done when the step's own trap came; gdb's step is its news. */
	return sig == SIGTRAP && event == 0 && *request != PTRACE_SINGLESTEP;
}

void tracestep_forget(struct thread *t)
{
	if (t->tracestep_addr)
		put_back(t);
}
