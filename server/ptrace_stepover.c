/* Stepping over a breakpoint gdb is not to hear of: see ptrace_stepover.h. */
#include "server/ptrace_stepover.h"

#include <sys/ptrace.h>
#include <sys/wait.h>

#include "server/agent_points.h"
#include "server/ptrace_lwp.h"
#include "server/ptrace_tracestep.h"
#include "server/recorder.h"

/* The Z0/Z1 kind the breakpoint of TYPE at ADDR was inserted with, -1 when
 * gdb removed it since. */
static int point_kind(struct process *p, int type, uint64_t addr)
{
	if (type == 0) {
		struct breakpoint *b = find_breakpoint(p, addr);
		return b ? b->kind : -1;
	}
	for (size_t i = 0; i < p->nhw; i++)
		if (p->hw[i].type == HW_EXEC && p->hw[i].addr == addr)
			return (int)p->hw[i].len;
	return -1;
}

/* The breakpoint type T's event EV is a hit of (0: Z0, 1: Z1), or -1;
 * ANY_RESUME: even where gdb did not let T run (it asked it to stop). */
static int hit_type(const struct thread *t, const struct stop_event *ev, bool any_resume)
{
	if (ev->kind != STOP_SIGNAL || ev->sig != SIGTRAP ||
	    (!any_resume && (t->resume != RESUME_CONTINUE || t->stop_requested)))
		return -1;
	return ev->reason == REASON_SWBREAK ? 0 : ev->reason == REASON_HWBREAK ? 1 : -1;
}

/* Take the breakpoint out and step T over it: the other threads are
 * stopped (held) by now. */
static void step_over_start(struct thread *t)
{
	struct process *p = t->proc;
	p->step_over_started = true;
	uint64_t addr = p->step_over_addr;
	int out = p->step_over_type == 0 ? breakpoint_lift(t, addr)
					 : lwp_remove_point(p, p->step_over_type, addr, p->step_over_kind);
	if (out < 0) {
		debug("%d: cannot take the breakpoint at %#llx out to step over it\n", t->tid,
		      (unsigned long long)addr);
		p->stepping_over = NULL;
		p->step_over_reinsert = false;
		if (p->step_over_tracepoint) {
			resume_over_sigstop(t, 0);   /* gone meanwhile: nothing to step over */
			return;
		}
		/* the hit is reported after all: gdb steps over it itself */
		t->has_pending = true;
		t->pending = (struct stop_event){.kind = STOP_SIGNAL, .sig = SIGTRAP, .pid = p->pid,
						 .tid = t->tid,
						 .reason = p->step_over_type ? REASON_HWBREAK : REASON_SWBREAK};
		return;
	}
	debug("%d: steps over the breakpoint at %#llx\n", t->tid, (unsigned long long)addr);
	resume_thread(t, PTRACE_SINGLESTEP, 0);
}

/* The other threads of T's process are asked to stop (held: gdb believes
 * they run); once they are, stepover_progress starts the step. Their
 * SIGSTOPs come back through the wait loop like any other (no waiting in
 * here: this runs inside the handling of T's status). */
static void step_over_begin(struct thread *t, enum step_over_wanted what, uint64_t addr)
{
	struct process *p = t->proc;
	int type = what == STEP_OVER_Z1;
	int kind = point_kind(p, type, addr);
	if (kind < 0) {
		resume_over_sigstop(t, 0);   /* gdb took it out meanwhile */
		return;
	}
	p->stepping_over = t;
	p->step_over_type = type;
	p->step_over_tracepoint = what == STEP_OVER_TRACEPOINT;
	p->step_over_addr = addr;
	p->step_over_kind = kind;
	p->step_over_reinsert = type != 0;
	p->step_over_started = false;
	bool waiting = false;
	for (struct thread *u = p->threads; u; u = u->next) {
		if (u == t || (u->stopped && !u->parked))
			continue;
		u->held = true;
		u->parked = false;   /* stopped already; let go with the others */
		if (u->stopped)
			continue;
		waiting = true;
		if (!u->stop_expected) {
			send_tgkill(p->pid, u->tid, SIGSTOP);
			u->stop_expected = true;
		}
		u->resumed_over_sigstop = false;
	}
	if (!waiting)
		step_over_start(t);
}

/* The hit of EV is not news: the conditions are false or it ran commands
 * (evaluated once per hit). */
static bool hit_is_silent(struct thread *t, struct stop_event *ev, int *type, uint64_t *pc,
			  bool any_resume)
{
	*type = hit_type(t, ev, any_resume);
	if (*type < 0 || ev->agent_checked)
		return false;
	ev->agent_checked = true;
	uint8_t *regs = lwp_gp_regs(t);
	if (!regs)
		return false;
	*pc = the_arch.get_pc(regs);
	/* on the program's own breakpoint instruction gdb must skip it */
	struct breakpoint *b = *type == 0 ? find_breakpoint(t->proc, *pc) : NULL;
	if (b && breakpoint_is_permanent(b))
		return false;
	return agent_point_here(t->proc->pid, *type, *pc) && !agent_point_hit(t, *type, *pc);
}

bool stepover_breakpoint_is_news(struct thread *t, struct stop_event *ev)
{
	/* held threads' hits are looked at when they are let go (one that
	 * escaped the hold, e.g. born meanwhile, is held now) */
	if (t->proc->stepping_over && t->proc->stepping_over != t)
		t->held = true;
	if (t->proc->stepping_over || t->held)
		return true;
	int type;
	uint64_t pc;
	if (t->stop_requested && t->resume == RESUME_STOP) {
		/* gdb asked it to stop and it met such a breakpoint first: the
		 * stop gdb asked for is the news, the step over comes when gdb
		 * resumes it */
		if (hit_is_silent(t, ev, &type, &pc, true)) {
			ev->sig = 0;
			ev->reason = REASON_NONE;
			t->stop_requested = false;
			t->step_over_wanted = (uint8_t)(type + 1);
		}
		return true;
	}
	if (!hit_is_silent(t, ev, &type, &pc, false))
		return true;
	step_over_begin(t, (enum step_over_wanted)(type + 1), pc);
	return false;
}

void stepover_resume(struct thread *t)
{
	if (!at_tracepoint_breakpoint(t)) {
		resume_over_sigstop(t, 0);
		return;
	}
	struct process *p = t->proc;
	if (p->stepping_over || t->held) {
		/* its turn comes (stepover_progress) */
		t->held = true;
		t->step_over_wanted = STEP_OVER_TRACEPOINT;
		return;
	}
	uint8_t *regs = lwp_gp_regs(t);
	step_over_begin(t, STEP_OVER_TRACEPOINT, regs ? the_arch.get_pc(regs) : 0);
}

static void step_over_end(struct process *p, bool reinsert)
{
	struct thread *t = p->stepping_over;
	p->stepping_over = NULL;
	if (p->step_over_type == 0) {
		if (t)
			breakpoint_drop(t, reinsert);
	} else if (reinsert && p->step_over_reinsert &&
		   lwp_insert_point(p, p->step_over_type, p->step_over_addr, p->step_over_kind) < 0) {
		debug("cannot put the breakpoint at %#llx back\n", (unsigned long long)p->step_over_addr);
	}
	p->step_over_reinsert = false;
}

/* What T, cut short or put off, still has to step over. */
static enum step_over_wanted step_over_kind_of(const struct process *p)
{
	return p->step_over_tracepoint ? STEP_OVER_TRACEPOINT
				       : (enum step_over_wanted)(p->step_over_type + 1);
}

bool stepover_status(struct thread *t, int status)
{
	struct process *p = t->proc;
	/* an exec replaced the image the breakpoint was in */
	bool exec = WIFSTOPPED(status) && status >> 16 == PTRACE_EVENT_EXEC;
	if (p->stepping_over && p->stepping_over != t && exec) {
		/* A thread that execs takes the leader's id, so the exec of the
		 * one stepping over comes as the leader's: the step over ends
		 * (the other threads are gone), nothing goes back. */
		step_over_end(p, false);
		return false;
	}
	if (p->stepping_over != t)
		return false;
	bool process_gone = (WIFEXITED(status) || WIFSIGNALED(status)) && t->tid == p->pid;
	step_over_end(p, !exec && !process_gone);
	return true;
}

void stepover_cut_short(struct thread *t)
{
	struct process *p = t->proc;
	uint8_t *regs = lwp_gp_regs(t);
	if (regs && the_arch.get_pc(regs) == p->step_over_addr &&
	    point_kind(p, p->step_over_type, p->step_over_addr) >= 0)
		t->step_over_wanted = step_over_kind_of(p);
}

void stepover_thread_gone(struct thread *t)
{
	if (t->proc->stepping_over == t)
		step_over_end(t->proc, !t->proc->gone);
}

bool stepover_recheck_pending(struct thread *t)
{
	int type;
	uint64_t pc;
	if (!t->has_pending || t->proc->stepping_over || !hit_is_silent(t, &t->pending, &type, &pc, false))
		return false;
	t->has_pending = false;
	t->step_over_wanted = (uint8_t)(type + 1);   /* STEP_OVER_Z0 or _Z1 */
	return true;
}

bool stepover_settle_for_stop(struct thread *t)
{
	int type;
	uint64_t pc;
	if (!t->has_pending || !hit_is_silent(t, &t->pending, &type, &pc, true))
		return false;
	t->pending = (struct stop_event){.kind = STOP_SIGNAL, .pid = t->proc->pid, .tid = t->tid};
	t->step_over_wanted = (uint8_t)(type + 1);
	return true;
}

/* Let held thread U go: with its news, if it has some, kept for gdb
 * (a breakpoint hit of no interest to gdb waits for its own step over). */
static void release(struct thread *u)
{
	u->held = false;
	if (u->has_pending) {
		/* gdb asked it to stop meanwhile: a silent hit is that stop */
		if (u->resume == RESUME_STOP)
			stepover_settle_for_stop(u);
		else
			stepover_recheck_pending(u);
		return;
	}
	if (u->step_over_wanted)
		return;   /* its own step over comes next */
	/* as after our SIGSTOP once gdb resumed it (sigstop_stop) */
	if (u->bt || !u->last_request) {
		resume_over_sigstop(u, 0);
		return;
	}
	if (u->stop_expected)
		u->resumed_over_sigstop = true;
	resume_thread(u, u->last_request, 0);
}

void stepover_progress(void)
{
	for (struct process *p = processes; p; p = p->next) {
		struct thread *t = p->stepping_over;
		if (t && !p->step_over_started) {
			bool all_held = true;
			for (struct thread *u = p->threads; u; u = u->next)
				all_held &= !u->held || u->stopped;
			if (all_held)
				step_over_start(t);
		}
		if (p->stepping_over)
			continue;
		for (struct thread *u = p->threads; u; u = u->next)
			if (u->held && u->stopped)
				release(u);
		for (struct thread *u = p->threads; u; u = u->next) {
			/* only where gdb let it run (all-stop: not while gdb steps
			 * another thread) */
			if (!u->stopped || !step_over_due(u))
				continue;
			enum step_over_wanted what = u->step_over_wanted;
			uint8_t *regs = lwp_gp_regs(u);
			u->step_over_wanted = 0;
			if (regs)
				step_over_begin(u, what, the_arch.get_pc(regs));
			break;
		}
	}
}

bool stepover_pending_start(const struct thread *t)
{
	return t->proc->stepping_over == t && !t->proc->step_over_started;
}

void stepover_cancel(struct thread *t)
{
	struct process *p = t->proc;
	if (p->stepping_over == t && !p->step_over_started) {
		t->step_over_wanted = step_over_kind_of(p);
		p->stepping_over = NULL;
		p->step_over_reinsert = false;
	}
}

void stepover_drop_holds(void)
{
	for (struct process *p = processes; p; p = p->next) {
		struct thread *t = p->stepping_over;
		/* not started: it waits, stopped on the breakpoint, for gdb's
		 * next resume */
		if (t)
			stepover_cancel(t);
		for (struct thread *u = p->threads; u; u = u->next)
			u->held = false;
	}
}

/* (A software breakpoint stays recorded while lifted: ptrace_lwp.h.) */
int stepover_insert_point(struct process *p, int type, uint64_t addr, int kind)
{
	if (p->stepping_over && type != 0 && p->step_over_type == type && p->step_over_addr == addr) {
		p->step_over_reinsert = true;
		p->step_over_kind = kind;
		return 0;
	}
	return lwp_insert_point(p, type, addr, kind);
}

int stepover_remove_point(struct process *p, int type, uint64_t addr, int kind)
{
	if (p->stepping_over && type != 0 && p->step_over_type == type && p->step_over_addr == addr &&
	    p->step_over_reinsert) {
		p->step_over_reinsert = false;
		return 0;
	}
	return lwp_remove_point(p, type, addr, kind);
}
