/* The live target's stops: see ptrace_status.h. */
#include "server/ptrace_status.h"

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

#include "server/btrace.h"
#include "server/ptrace_lwp.h"
#include "server/ptrace_tracestep.h"
#include "server/ptrace_stepover.h"
#include "server/recorder.h"
#include "etm/swbtrace.h"
#include "server/swfast.h"
#include "server/trace_hit.h"

struct stray *strays;


void remove_thread(struct thread *t)
{
	stepover_thread_gone(t);
	btrace_thread_gone(t);
	trace_thread_gone(t);
	if (!t->proc->gone)
		tracestep_forget(t);
	if (!t->proc->gone)
		fast_disarm(t, false);
	swbtrace_free(t->bt);
	thread_delete(t);
}

void ptrace_mourn(struct process *p)
{
	while (p->threads)
		remove_thread(p->threads);
	free_breakpoints(p);
	swfast_free(p->fast);
	if (p->mem_fd >= 0)
		close(p->mem_fd);
	process_delete(p);
}

static struct stray *take_stray(pid_t pid)
{
	for (struct stray **pp = &strays; *pp; pp = &(*pp)->next) {
		if ((*pp)->pid == pid) {
			struct stray *s = *pp;
			*pp = s->next;
			return s;
		}
	}
	return NULL;
}

/* Wait for a new clone/fork child's first stop. */
static void wait_new_child(pid_t pid)
{
	struct stray *s = take_stray(pid);
	if (s) {
		free(s);
		return;
	}
	int status = 0;
	debug("new child %d: waiting for its first stop\n", pid);
	while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR)
		;
	debug("new child %d: status %#x\n", pid, status);
}

static void classify_trap(struct thread *t, struct stop_event *ev)
{
	if (ptrace(PTRACE_GETSIGINFO, t->tid, 0, &t->siginfo) == 0)
		t->siginfo_valid = true;
	else
		memset(&t->siginfo, 0, sizeof t->siginfo);
	uint8_t *regs = lwp_gp_regs(t);
	uint64_t data_addr = 0;
	size_t which = 0;
	enum trap_cause cause = the_arch.trap_cause(t->tid, &t->siginfo, t->proc->hw,
						   t->proc->nhw, &data_addr, &which);
	switch (cause) {
	case TRAP_CAUSE_HW_BREAK:
		ev->reason = REASON_HWBREAK;
		return;
	case TRAP_CAUSE_WATCH: {
		enum hw_point_type ty = t->proc->hw[which].type;
		ev->reason = ty == HW_WRITE ? REASON_WATCH : ty == HW_READ ? REASON_RWATCH : REASON_AWATCH;
		ev->data_addr = data_addr;
		return;
	}
	case TRAP_CAUSE_SINGLESTEP:
		ev->reason = REASON_STEP;
		return;
	case TRAP_CAUSE_OTHER:
		break;
	}
	if (!regs)
		return;
	int code = t->siginfo.si_code;
	if (code == SI_KERNEL || code == TRAP_BRKPT) {
		uint64_t pc = the_arch.get_pc(regs) - the_arch.decr_pc_after_break;
		if (find_breakpoint(t->proc, pc)) {
			ev->reason = REASON_SWBREAK;
			if (the_arch.decr_pc_after_break) {
				the_arch.set_pc(regs, pc);
				lwp_store_gp_regs(t);
			}
			return;
		}
	}
	/* A step over a syscall instruction reports TRAP_BRKPT, not
	 * TRAP_TRACE (x86 user_single_step_report): a stepping thread's
	 * trap that no breakpoint explains is its step. */
	/* A step that delivered a signal stops at the handler's first
	 * instruction through ptrace_notify(SIGTRAP): si_code is SIGTRAP. A
	 * step over a system call on arm64 is the kernel's generic
	 * user_single_step_report: SI_USER from pid 0. */
	if (t->stepping && (code == TRAP_BRKPT || code == TRAP_TRACE || code == SI_KERNEL ||
			    code == SIGTRAP || (code == SI_USER && t->siginfo.si_pid == 0)))
		ev->reason = REASON_STEP;
}

/* A SIGTRAP at a breakpoint or after a step: tracepoints there collect;
 * their own breakpoints' stops never reach gdb. */
static enum trace_verdict tracepoint_stop(struct thread *t, const struct stop_event *ev)
{
	if (ev->reason != REASON_SWBREAK && ev->reason != REASON_STEP)
		return TRACE_PASS;
	uint8_t *regs = lwp_gp_regs(t);
	if (!regs)
		return TRACE_PASS;
	uint64_t pc = the_arch.get_pc(regs);
	struct breakpoint *b = ev->reason == REASON_SWBREAK ? find_breakpoint(t->proc, pc) : NULL;
	if (b && !b->by_trace)
		return TRACE_PASS;
	return trace_thread_stopped(t, pc, b != NULL, b && b->by_gdb);
}

static bool handle_status_of(struct thread *t, int status, struct stop_event *ev);

bool handle_status(struct thread *t, int status, struct stop_event *ev)
{
	debug("%d: status %#x%s%s\n", t->tid, status, t->stop_expected ? " (SIGSTOP expected)" : "",
	      t->stop_requested ? " (stop requested)" : "");
	if (!handle_status_of(t, status, ev))
		return false;
	/* Any stop answers gdb's request to stop the thread: our SIGSTOP,
	 * when it comes, is not news any more. */
	struct thread *reporter = find_thread(ev->tid);
	if (reporter)
		reporter->stop_requested = false;
	return true;
}

/* What handle_status_of knows of a stop while it goes through it. */
struct stop_status {
	int sig;
	int event;
	bool sw_step_done;      /* a software step got where it goes */
	long syscall_returned;  /* a caught call's return ended the step, or -1 */
	bool stepped_over;      /* the end of a step over a breakpoint (ptrace_stepover.h) */
};

enum status_verdict { STATUS_HANDLED, STATUS_REPORT, STATUS_GO_ON };

/* The recorder's stops (its temporary breakpoints, software steps, steps
 * cut short by an event): handled, reported, or the rest goes on. */
static enum status_verdict recorder_stop(struct thread *t, struct stop_status *st, struct stop_event *ev)
{
	struct process *p = t->proc;
	if (t->fast_state != FAST_NONE) {
		bool hit = st->sig == SIGTRAP && st->event == 0 && fast_trap_is_ours(t);
		if (hit && fast_emulate(t))
			return STATUS_HANDLED;
		fast_disarm(t, false);
		if (hit) {
			if (the_arch.decr_pc_after_break)
				lwp_store_gp_regs(t);
			uint64_t at = t->tbp[0].addr;
			if (find_breakpoint(p, at)) {
				/* gdb's breakpoint is here too: that is the news
				 * (unless its conditions say it is not). */
				ev->kind = STOP_SIGNAL;
				ev->sig = SIGTRAP;
				ev->reason = REASON_SWBREAK;
				return stepover_breakpoint_is_news(t, ev) ? STATUS_REPORT : STATUS_HANDLED;
			}
			/* Step the branch itself and record where it went. */
			if (t->bt && t->resume == RESUME_CONTINUE)
				resume_thread(t, PTRACE_SINGLESTEP, 0);
			else
				resume_as_asked(t, 0);
			return STATUS_HANDLED;
		}
	}
	/* Temporary breakpoints are seen by every thread: one that stopped at
	 * another's runs the same instruction again (stepping anew). */
	if ((!the_arch.can_single_step || p->sw_step_used) && st->sig == SIGTRAP && st->event == 0 &&
	    p->threads->next && sw_step_foreign_trap(t)) {
		if (t->sw_stepping)
			sw_step_disarm(t);
		park_or_resume(t);
		return STATUS_HANDLED;
	}
	/* Software step (no PTRACE_SINGLESTEP): did it get where it goes? */
	if (t->sw_stepping) {
		if (t->sw_step_syscall && st->sig == (SIGTRAP | 0x80)) {
			struct __ptrace_syscall_info info;
			long got = ptrace(PTRACE_GET_SYSCALL_INFO, t->tid, (void *)sizeof info, &info);
			long nr = -1;
			bool caught = false;
			if (t->bt && t->resume == RESUME_CONTINUE && target_settings.catch_syscalls) {
				uint8_t *regs = lwp_regs(t);
				nr = regs ? the_arch.syscall_number(regs) : -1;
				caught = catching_syscall(nr);
			}
			if (got > 0 && info.op == PTRACE_SYSCALL_INFO_ENTRY) {
				t->in_syscall = true;
				t->step_interrupted = true;
				if (caught) {
					/* the step goes on to its return when resumed */
					ev->kind = STOP_SYSCALL_ENTRY;
					ev->syscall = nr;
					return STATUS_REPORT;
				}
				resume_thread(t, PTRACE_SYSCALL, 0);
				return STATUS_HANDLED;
			}
			/* Its end: the step is done (after a sigreturn, far away). */
			t->in_syscall = false;
			sw_step_disarm(t);
			st->sw_step_done = true;
			st->syscall_returned = caught ? nr : -1;
			st->sig = SIGTRAP;
		} else if (st->sig == SIGTRAP && st->event == 0) {
			uint8_t *regs = lwp_gp_regs(t);
			uint64_t pc = regs ? the_arch.get_pc(regs) : 0;
			for (int k = 1; k < 3; k++)
				if (t->tbp[k].armed && t->tbp[k].addr == pc)
					st->sw_step_done = true;
			sw_step_disarm(t);
		} else if (!(st->event && st->event != PTRACE_EVENT_EXEC && t->sw_step_syscall)) {
			/* A signal first: the instruction did not run. (An event in
			 * the middle of the system call leaves the step going.) */
			sw_step_disarm(t);
		}
	}
	/* An event in the middle of a recorded step: the step goes on. */
	if (t->bt && t->stepping && (st->event || st->sig == (SIGTRAP | 0x80) ||
				     (st->sig == SIGSTOP && t->stop_expected)))
		t->step_interrupted = true;

	return STATUS_GO_ON;
}

static bool clone_stop(struct thread *t, struct stop_event *ev)
{
	struct process *p = t->proc;
	unsigned long msg = 0;
	ptrace(PTRACE_GETEVENTMSG, t->tid, 0, &msg);
	pid_t ntid = (pid_t)msg;
	wait_new_child(ntid);
	struct thread *nt = add_thread(p, ntid);
	nt->new_thread = true;
	nt->resume = t->resume == RESUME_STOP ? RESUME_STOP : RESUME_CONTINUE;
	if (target_settings.thread_events) {
		/* The news is the new thread's; its creator goes on as gdb
		 * asked (gdb does not know it stopped), as in gdbserver. */
		if (t->stop_requested) {
			t->stop_requested = false;
			t->has_pending = true;
			t->pending = (struct stop_event){.kind = STOP_SIGNAL, .pid = p->pid, .tid = t->tid};
		} else if (t->resume != RESUME_STOP) {
			resume_as_asked(t, 0);
		}
		ev->kind = STOP_THREAD_CREATED;
		ev->tid = ntid;
		return true;
	}
	resume_as_asked(t, 0);
	/* born while a breakpoint is out for a step over: held too */
	if (p->stepping_over)
		nt->held = true;
	else if (nt->resume != RESUME_STOP)
		resume_as_asked(nt, 0);
	return false;
}

static bool fork_stop(struct thread *t, int event, struct stop_event *ev)
{
	struct process *p = t->proc;
	unsigned long msg = 0;
	ptrace(PTRACE_GETEVENTMSG, t->tid, 0, &msg);
	pid_t child = (pid_t)msg;
	wait_new_child(child);
	bool vfork = event == PTRACE_EVENT_VFORK;
	bool report = vfork ? target_settings.report_vfork : target_settings.report_fork;
	struct process *cp = add_process(child, false);
	cp->attached = p->attached;
	add_thread(cp, child);
	/* Nor the recorder's temporary one (none is in while a system
	 * call is stepped, but the copy must never keep one). */
	for (struct thread *o = p->threads; o; o = o->next)
		for (int k = 0; k < 3; k++)
			if (o->tbp[k].armed)
				raw_write(cp, o->tbp[k].addr, o->tbp[k].saved, o->tbp[k].len);
	/* The child's memory holds our breakpoint instructions. */
	for (struct breakpoint *b = p->breakpoints; b; b = b->next) {
		struct breakpoint *nb = malloc(sizeof *nb);
		if (!nb)
			abort();
		*nb = *b;
		nb->next = cp->breakpoints;
		cp->breakpoints = nb;
		/* out for a step over in the parent: the child's copy goes in
		 * (a vfork child shares the memory: the parent's step puts it back) */
		const uint8_t *insn;
		if (!vfork && breakpoint_lifted(p, b->addr) &&
		    the_arch.sw_breakpoint(b->kind, &insn) == b->len)
			raw_write(cp, b->addr, insn, b->len);
	}
	if (!report) {
		breakpoints_uninsert(cp);
		ptrace(PTRACE_DETACH, child, 0, 0);
		ptrace_mourn(cp);
		resume_as_asked(t, 0);
		return false;
	}
	ev->kind = vfork ? STOP_VFORK : STOP_FORK;
	ev->child_pid = child;
	cp->fork_parent_tid = t->tid;
	if (vfork)
		p->vfork_parent = true;
	return true;
}

static bool vfork_done_stop(struct thread *t, struct stop_event *ev)
{
	struct process *p = t->proc;
	p->vfork_parent = false;
	if (target_settings.report_vfork) {
		ev->kind = STOP_VFORK_DONE;
		return true;
	}
	resume_as_asked(t, 0);
	return false;
}

static bool exec_stop(struct thread *t, struct stop_event *ev)
{
	struct process *p = t->proc;
	/* The old image is gone: its breakpoints and other threads too,
	 * the recorder's decoded blocks, and its temporary breakpoint
	 * (never to be put back into the new image). */
	free_breakpoints(p);
	if (p->fast)
		swfast_flush(p->fast);
	t->fast_state = FAST_NONE;
	for (int k = 0; k < 3; k++)
		t->tbp[k].armed = false;
	t->sw_stepping = t->sw_step_syscall = false;
	t->step_interrupted = false;
	if (p->mem_fd >= 0) {
		close(p->mem_fd);
		p->mem_fd = -1;
	}
	unsigned long former = 0;
	ptrace(PTRACE_GETEVENTMSG, t->tid, 0, &former);
	/* Reported under the leader's id, the exec'ing thread carries
	 * on as gdb last resumed it (e.g. alone, scheduler-locking). */
	struct thread *execer = find_thread((pid_t)former);
	if (execer && execer != t && execer->proc == p) {
		t->resume = execer->resume;
		t->resume_sig = execer->resume_sig;
		struct swbtrace *bt = t->bt;
		t->bt = execer->bt;
		execer->bt = bt;
	}
	/* breakpoints out for a step over stay out: the image they were in is gone */
	for (struct thread *o = p->threads; o; o = o->next) {
		o->lifted_at = 0;
		o->tracestepping = false;
	}
	for (struct thread *o = p->threads, *next; o; o = next) {
		next = o->next;
		if (o != t)
			remove_thread(o);
	}
	if (t->tid != p->pid)
		t->tid = p->pid;   /* a non-leader exec takes over the leader's id */
	/* Held for another thread's step over (ptrace_stepover.h), which the
	 * exec ended: the one thread left carries the exec's news now. */
	t->held = false;
	t->step_over_wanted = 0;
	ev->tid = t->tid;
	t->in_syscall = false;
	settle_after_exec(p->pid, t->tid);
	t->regs_valid = false;
	if (target_settings.report_exec) {
		ev->kind = STOP_EXEC;
		return true;
	}
	ev->kind = STOP_SIGNAL;
	ev->sig = SIGTRAP;
	return true;
}

/* A system call stop (PTRACE_O_TRACESYSGOOD). */
static bool syscall_stop(struct thread *t, struct stop_event *ev)
{
	/* Ask the kernel whether this is the entry or the exit: a toggle
	 * goes wrong after a step or a plain continue in mid-syscall. */
	struct __ptrace_syscall_info info;
	long got = ptrace(PTRACE_GET_SYSCALL_INFO, t->tid, (void *)sizeof info, &info);
	if (got > 0 && info.op == PTRACE_SYSCALL_INFO_ENTRY)
		t->in_syscall = true;
	else if (got > 0 && info.op == PTRACE_SYSCALL_INFO_EXIT)
		t->in_syscall = false;
	else
		t->in_syscall = !t->in_syscall;
	uint8_t *regs = lwp_regs(t);
	long nr = regs ? the_arch.syscall_number(regs) : -1;
	if (catching_syscall(nr)) {
		ev->kind = t->in_syscall ? STOP_SYSCALL_ENTRY : STOP_SYSCALL_RETURN;
		ev->syscall = nr;
		return true;
	}
	resume_as_asked(t, 0);
	return false;
}

/* Our SIGSTOP. */
static bool sigstop_stop(struct thread *t, struct stop_event *ev)
{
	t->stop_expected = false;
	if (t->stop_requested) {
		t->stop_requested = false;
		ev->kind = STOP_SIGNAL;
		ev->sig = 0;
		return true;
	}
	/* Sent to stop it for an earlier event, but gdb has resumed it
	 * since: it goes on as gdb asked. */
	if (t->resumed_over_sigstop) {
		t->resumed_over_sigstop = false;
		if (t->bt)
			resume_as_asked(t, 0);
		else
			resume_thread(t, t->last_request, 0);
	}
	return false;   /* ours; the thread stays stopped */
}

/* A signal: SIGTRAP (breakpoints, steps, recorded steps) or another. */
static bool signal_stop(struct thread *t, const struct stop_status *st, struct stop_event *ev)
{
	int sig = st->sig;
	ev->kind = STOP_SIGNAL;
	ev->sig = sig;
	if (sig == SIGTRAP) {
		if (st->sw_step_done)
			ev->reason = REASON_STEP;
		else
			classify_trap(t, ev);
		switch (tracepoint_stop(t, ev)) {
		case TRACE_STEP:   /* while-stepping */
			if (at_tracepoint_breakpoint(t))
				stepover_resume(t);
			else
				resume_thread(t, PTRACE_SINGLESTEP, 0);
			return false;
		case TRACE_RESUME:
			stepover_resume(t);
			return false;
		case TRACE_PASS:
			break;
		}
		/* a breakpoint whose conditions are false, or a dprintf */
		if (!stepover_breakpoint_is_news(t, ev))
			return false;
		/* the step over one: the thread goes on as gdb asked */
		if (st->stepped_over && ev->reason == REASON_STEP && !t->bt) {
			if (t->stop_requested) {
				t->stop_requested = false;
				ev->sig = 0;
				ev->reason = REASON_NONE;
				return true;
			}
			if (t->resume == RESUME_CONTINUE) {
				stepover_resume(t);   /* (onto the next tracepoint, say) */
				return false;
			}
		}
		if (t->bt && ev->reason == REASON_STEP) {
			record_step(t);
			if (st->syscall_returned >= 0) {
				ev->kind = STOP_SYSCALL_RETURN;
				ev->syscall = st->syscall_returned;
				ev->reason = REASON_NONE;
				return true;
			}
			if (t->resume == RESUME_CONTINUE) {
				resume_recorded(t, 0);
				return false;
			}
			/* gdb asked to stop a thread we were stepping only to record
			 * it: this step is the stop it wants (T00, not a SIGTRAP);
			 * the SIGSTOP still in flight is swallowed later. */
			if (t->resume == RESUME_STOP && t->stop_requested) {
				t->stop_requested = false;
				ev->sig = 0;
				ev->reason = REASON_NONE;
				return true;
			}
		}
		if (ev->reason == REASON_STEP && t->resume == RESUME_RANGE) {
			uint8_t *regs = lwp_regs(t);
			uint64_t pc = regs ? the_arch.get_pc(regs) : 0;
			if (pc >= t->range_start && pc < t->range_end) {
				resume_thread(t, PTRACE_SINGLESTEP, 0);
				return false;
			}
		}
		return true;
	}
	if (ptrace(PTRACE_GETSIGINFO, t->tid, 0, &t->siginfo) == 0)
		t->siginfo_valid = true;
	/* gdb's own signal, held back by the thread's mask until now */
	if (sig == t->requeued_sig && t->resume != RESUME_STOP) {
		t->requeued_sig = 0;
		resume_as_asked(t, sig);
		return false;
	}
	/* Signals gdb said to pass go straight back, unless gdb is stepping
	 * this thread and wants to see where it lands. */
	/* Nor SIGSEGV and SIGILL, which may be gdb's own doing (a dummy-frame
	 * breakpoint on a non-executable stack), as gdbserver does. */
	if (sig > 0 && sig < 256 && target_settings.pass_signals[sig] &&
	    t->resume == RESUME_CONTINUE && sig != SIGSEGV && sig != SIGILL) {
		resume_as_asked(t, sig);
		return false;
	}
	return true;
}

static bool handle_status_of(struct thread *t, int status, struct stop_event *ev)
{
	struct process *p = t->proc;
	memset(ev, 0, sizeof *ev);
	ev->pid = p->pid;
	ev->tid = t->tid;
	bool stepped_over = stepover_status(t, status);

	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		if (t->tid != p->pid) {
			/* A fatal signal takes the whole group; the leader's
			 * status, the process's, is still to come. */
			if (WIFSIGNALED(status))
				p->dying = true;
			remove_thread(t);
			return false;
		}
		ev->kind = WIFEXITED(status) ? STOP_EXITED : STOP_SIGNALLED;
		ev->sig = WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status);
		p->gone = true;
		return true;
	}
	if (!WIFSTOPPED(status))
		return false;
	t->stopped = true;
	t->regs_valid = false;
	t->gp_valid = false;
	if (stepped_over)
		stepover_cut_short(t);
	struct stop_status st = {.sig = WSTOPSIG(status), .event = status >> 16, .syscall_returned = -1,
				 .stepped_over = stepped_over};

	enum status_verdict v = recorder_stop(t, &st, ev);
	if (v != STATUS_GO_ON)
		return v == STATUS_REPORT;
	int request;
	if (tracestep_finish(t, st.sig, st.event, &request)) {
		/* The step's debug status is read (and so cleared: x86 DR6) as
		 * for any trap, lest the next trap look like a step. */
		siginfo_t si = {0};
		uint64_t data_addr;
		size_t which;
		ptrace(PTRACE_GETSIGINFO, t->tid, 0, &si);
		the_arch.trap_cause(t->tid, &si, p->hw, p->nhw, &data_addr, &which);
		resume_thread(t, request, 0);   /* off the tracepoint: on as asked */
		return false;
	}
	if (st.event == PTRACE_EVENT_CLONE)
		return clone_stop(t, ev);
	if (st.event == PTRACE_EVENT_FORK || st.event == PTRACE_EVENT_VFORK)
		return fork_stop(t, st.event, ev);
	if (st.event == PTRACE_EVENT_VFORK_DONE)
		return vfork_done_stop(t, ev);
	if (st.event == PTRACE_EVENT_EXEC)
		return exec_stop(t, ev);
	if (st.sig == (SIGTRAP | 0x80))
		return syscall_stop(t, ev);
	if (st.sig == SIGSTOP && t->stop_expected)
		return sigstop_stop(t, ev);
	return signal_stop(t, &st, ev);
}

int target_btrace_enable(struct thread *t, uint64_t size, struct etm_source *sink,
			 char *err, size_t errlen)
{
	if (t->bt) {
		snprintf(err, errlen, "Btrace already enabled.");
		return -1;
	}
	/* 32-bit arm has no hardware single-step: it steps by breakpoints on
	 * where the instruction can go (step_targets, sw_step_begin). */
	if ((!the_arch.can_single_step && !the_arch.step_targets) || !the_arch.insn_length) {
		snprintf(err, errlen, "Software branch recording needs single-step, "
			 "which %s lacks.", the_arch.name);
		return -1;
	}
	/* A running thread (non-stop) is stopped for a moment to learn where
	 * recording starts, then runs on, single-stepped. */
	bool was_running = !t->stopped;
	if (was_running) {
		if (!t->stop_expected) {
			send_tgkill(t->proc->pid, t->tid, SIGSTOP);
			t->stop_expected = true;
		}
		t->resumed_over_sigstop = false;
		while (!t->stopped) {
			int status;
			struct stop_event ev;
			pid_t tid = t->tid;
			if (waitpid(tid, &status, __WALL) < 0) {
				if (errno == EINTR)
					continue;
				snprintf(err, errlen, "Thread %d is gone.", tid);
				return -1;
			}
			if (handle_status(t, status, &ev)) {
				if (ev.kind == STOP_EXITED || ev.kind == STOP_SIGNALLED) {
					snprintf(err, errlen, "Thread %d exited.", tid);
					return -1;
				}
				t->has_pending = true;   /* reported at the next chance */
				t->pending = ev;
				was_running = false;
			}
		}
	}
	uint8_t *regs = lwp_regs(t);
	if (!regs) {
		snprintf(err, errlen, "Cannot read the registers of thread %d.", t->tid);
		return -1;
	}
	t->bt = swbtrace_new(size, the_arch.get_pc(regs));
	t->bt_sink = sink;
	/* The code may have changed while nobody looked. */
	if (t->proc->fast)
		swfast_flush(t->proc->fast);
	if (t->bt && was_running)
		resume_as_asked(t, 0);
	if (!t->bt) {
		snprintf(err, errlen, "Cannot allocate %llu bytes of trace buffer.",
			 (unsigned long long)size);
		return -1;
	}
	return 0;
}
