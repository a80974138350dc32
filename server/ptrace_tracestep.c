/* Tracepoint breakpoints and stepping off them alone: see ptrace_tracestep.h. */
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

static bool has_trace_bp(const struct process *p)
{
	for (const struct breakpoint *b = p->breakpoints; b; b = b->next)
		if (b->by_trace)
			return true;
	return false;
}

bool at_tracepoint_breakpoint(struct thread *t)
{
	if (!has_trace_bp(t->proc))
		return false;
	uint8_t *regs = lwp_gp_regs(t);
	struct breakpoint *b = regs ? find_breakpoint(t->proc, the_arch.get_pc(regs)) : NULL;
	return b && b->by_trace && !b->by_gdb;
}

static void tracestep_end(struct thread *t, bool put_back)
{
	t->tracestepping = false;
	breakpoint_drop(t, put_back);
}

int tracestep_begin(struct thread *t, int request)
{
	/* every resume comes here: no registers read unless a tracepoint's
	 * breakpoint could be under the PC; a step over with the others held
	 * (ptrace_stepover.h) has lifted it already */
	if (t->proc->stepping_over == t || (!t->tracestepping && !has_trace_bp(t->proc)))
		return request;
	uint8_t *regs = lwp_gp_regs(t);
	uint64_t pc = regs ? the_arch.get_pc(regs) : 0;
	if (t->tracestepping && t->lifted_at != pc)
		tracestep_end(t, true);   /* it went elsewhere (a signal handler) */
	if (!t->tracestepping) {
		if (!at_tracepoint_breakpoint(t) || breakpoint_lift(t, pc) < 0)
			return request;
		t->tracestepping = true;
		debug("%d: stepping over the tracepoint breakpoint at %#llx\n", t->tid,
		      (unsigned long long)pc);
	}
	t->tracestep_request = request;
	return PTRACE_SINGLESTEP;
}

bool tracestep_finish(struct thread *t, int sig, int event, int *request)
{
	if (!t->tracestepping)
		return false;
	tracestep_end(t, event != PTRACE_EVENT_EXEC);
	*request = t->tracestep_request;
	/* Resumed again later (after our SIGSTOP, say): as gdb asked, not
	 * with the step that was cut short. */
	t->last_request = *request;
	/* Done when the step's own trap came; gdb's step is its news. */
	return sig == SIGTRAP && event == 0 && *request != PTRACE_SINGLESTEP;
}

void tracestep_forget(struct thread *t)
{
	if (t->tracestepping)
		tracestep_end(t, !t->proc->gone);
}
