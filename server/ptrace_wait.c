/* The live target's resume and wait: see ptrace_wait.h. */
#include "server/ptrace_wait.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
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
#include "server/ptrace_status.h"
#include "server/ptrace_stepover.h"
#include "server/ptrace_tracestep.h"
#include "server/recorder.h"

int sigchld_fd = -1;

enum poll_result { POLL_NONE, POLL_HANDLED, POLL_REPORT };


/* A pending breakpoint stop whose breakpoint gdb removed meanwhile is
 * stale: the thread just runs on from the (already backed-up) PC. So is,
 * in all-stop, the end of a step gdb no longer wants: it let the thread
 * continue since (another thread's stop ended its `next`; gdbserver drops
 * it too). (Non-stop gdb never continues a thread it is stepping.) */
bool pending_still_valid(struct thread *t)
{
	if (!target_non_stop && t->pending.kind == STOP_SIGNAL &&
	    t->pending.reason == REASON_STEP && t->resume == RESUME_CONTINUE)
		return false;
	if (t->pending.reason == REASON_SWBREAK) {
		struct process *p = t->proc;
		uint8_t *regs = lwp_regs(t);
		uint64_t pc = regs ? the_arch.get_pc(regs) : 0;
		struct breakpoint *b = regs ? find_breakpoint(p, pc) : NULL;
		/* a tracepoint's is not gdb's news (one out for a step over
		 * stays recorded: breakpoint_lift) */
		if (regs && (!b || !b->by_gdb))
			return false;
	}
	return true;
}

bool ptrace_fork_unreported(const struct process *p)
{
	if (!p->fork_parent_tid)
		return false;
	struct thread *parent = find_thread(p->fork_parent_tid);
	return parent && parent->has_pending && parent->pending.child_pid == p->pid &&
	       (parent->pending.kind == STOP_FORK || parent->pending.kind == STOP_VFORK);
}

/* T is not resumed after all: the signal gdb gave it must not be lost
 * (it would be, were the next resume without one). */
static void defer_resume_signal(struct thread *t)
{
	if (t->resume == RESUME_STOP || !t->resume_sig)
		return;
	if (t->ndeferred < (int)(sizeof t->deferred_sig / sizeof t->deferred_sig[0]))
		t->deferred_sig[t->ndeferred++] = t->resume_sig;
	else
		debug("%d: signal %d dropped, %d already deferred\n", t->tid, t->resume_sig, t->ndeferred);
	t->resume_sig = 0;   /* deferred once, even if asked again */
}

/* The signal T's resume delivers: a deferred one first, and gdb's new one
 * waits behind it. */
static int next_resume_signal(struct thread *t)
{
	if (!t->ndeferred)
		return t->resume_sig;
	int sig = t->deferred_sig[0];
	memmove(&t->deferred_sig[0], &t->deferred_sig[1], (size_t)--t->ndeferred * sizeof t->deferred_sig[0]);
	defer_resume_signal(t);
	return sig;
}

bool ptrace_resume_all(void)
{
	for (struct process *p = processes; p && !target_non_stop; p = p->next)
		for (struct thread *t = p->threads; t; t = t->next) {
			if (t->resume == RESUME_STOP || !t->has_pending)
				continue;
			if (stepover_recheck_pending(t))
				continue;
			if (pending_still_valid(t)) {
				/* All-stop: nothing runs, this news is reported. */
				for (struct process *q = processes; q; q = q->next)
					for (struct thread *u = q->threads; u; u = u->next)
						defer_resume_signal(u);
				return true;
			}
			t->has_pending = false;
		}
	for (struct process *p = processes; p; p = p->next)
		for (struct thread *t = p->threads; t; t = t->next) {
			if (t->resume == RESUME_STOP || !t->stopped || t->held || stepover_pending_start(t) ||
			    ptrace_fork_unreported(p))
				continue;
			/* on a breakpoint gdb is not to hear of: its step over comes
			 * (stepover_progress); asked otherwise, it meets it again */
			if (t->step_over_wanted) {
				if (step_over_due(t) && !t->resume_sig && !t->ndeferred)
					continue;
				t->step_over_wanted = 0;
			}
			/* Non-stop: a thread with news stays stopped to report it. */
			if (t->has_pending && pending_still_valid(t)) {
				defer_resume_signal(t);
				continue;
			}
			t->has_pending = false;
			/* on a tracepoint's breakpoint: it steps over it with the
			 * others held (stepover_progress) */
			if (t->resume == RESUME_CONTINUE && !t->resume_sig && !t->ndeferred &&
			    at_tracepoint_breakpoint(t)) {
				t->step_over_wanted = STEP_OVER_TRACEPOINT;
				continue;
			}
			/* a breakpoint is out for another thread's step over: this
			 * one waits with the held ones (it would run past it) */
			if (p->stepping_over && !t->resume_sig && !t->ndeferred) {
				t->held = true;
				t->last_request = resume_request(t);
				continue;
			}
			/* gdb resumes it: our SIGSTOP in flight must not stop it. */
			resume_over_sigstop(t, next_resume_signal(t));
		}
	return false;
}

/* Collect one waitpid status. POLL_REPORT when a thread has something
 * for gdb (in EV), POLL_HANDLED when the status was dealt with here,
 * POLL_NONE when no child had a status to give. */
static enum poll_result poll_one(pid_t pid, int flags, struct stop_event *ev)
{
	int status;
	pid_t got = waitpid(pid, &status, flags | __WALL);
	if (got <= 0)
		return POLL_NONE;
	struct thread *t = find_thread(got);
	struct process *leaderless = t ? NULL : find_process(got);
	if (leaderless && (WIFEXITED(status) || WIFSIGNALED(status)))
		t = add_thread(leaderless, got);   /* the zombie leader's end: the process's */
	if (leaderless && WIFSTOPPED(status) && status >> 16 == PTRACE_EVENT_EXEC) {
		/* A thread exec'd while the leader was gone: the kernel
		 * reports it under the leader's id. */
		unsigned long former = 0;
		ptrace(PTRACE_GETEVENTMSG, got, 0, &former);
		t = find_thread((pid_t)former);
	}
	if (!t) {
		struct stray *s = malloc(sizeof *s);
		if (!s)
			abort();
		s->pid = got;
		s->status = status;
		s->next = strays;
		strays = s;
		return POLL_HANDLED;
	}
	if (!handle_status(t, status, ev))
		return POLL_HANDLED;
	if (ev->kind == STOP_EXITED || ev->kind == STOP_SIGNALLED)
		return POLL_REPORT;
	t = find_thread(ev->tid);
	if (t) {
		t->has_pending = true;
		t->pending = *ev;
	}
	return POLL_REPORT;
}

static bool pid_is_zombie(pid_t pid)
{
	char path[64], line[128];
	snprintf(path, sizeof path, "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	bool zombie = false;
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, "State:", 6)) {
			zombie = strchr(line, 'Z') != NULL;
			break;
		}
	if (f)
		fclose(f);
	return zombie;
}

/* A running leader that exited (pthread_exit) while its threads live on
 * cannot be waited for: it leaves the list, as in gdbserver, and comes
 * back for the process's exit status (poll_one). */
static bool drop_zombie_leader(struct thread *t)
{
	if (t->tid != t->proc->pid || !t->proc->threads->next || !pid_is_zombie(t->tid))
		return false;
	debug("thread group leader %d is a zombie: dropped\n", t->tid);
	remove_thread(t);
	return true;
}

static void drop_zombie_leaders(void)
{
	for (struct process *p = processes; p; p = p->next) {
		struct thread *leader = find_thread(p->pid);
		if (leader && !leader->stopped && leader->proc == p)
			drop_zombie_leader(leader);
	}
}

/* Stop every thread of ONLY (all processes when NULL). */
void stop_threads(struct process *only)
{
	for (struct process *p = processes; p; p = p->next)
		for (struct thread *t = p->threads; t && (!only || p == only); t = t->next) {
			t->parked = false;   /* stopped already */
			if (t->stopped)
				continue;
			if (!t->stop_expected) {
				send_tgkill(p->pid, t->tid, SIGSTOP);
				t->stop_expected = true;
			}
			/* A SIGSTOP still in flight now serves this stop. */
			t->resumed_over_sigstop = false;
		}
	/* Wait until every thread is stopped; other events become pending. */
	for (;;) {
		struct thread *running = NULL;
		for (struct process *p = processes; p && !running; p = p->next)
			for (struct thread *t = p->threads; t && (!only || p == only); t = t->next)
				if (!t->stopped) {
					running = t;
					break;
				}
		if (!running)
			break;
		if (drop_zombie_leader(running))   /* it would block waitpid */
			continue;
		if (!running->stop_expected) {
			/* born meanwhile (a clone met while stopping): resumed
			 * as its creator was, with no SIGSTOP of ours yet */
			send_tgkill(running->proc->pid, running->tid, SIGSTOP);
			running->stop_expected = true;
			running->resumed_over_sigstop = false;
		}
		struct stop_event ev;
		int status;
		pid_t tid = running->tid;
		pid_t got = waitpid(tid, &status, __WALL);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			/* Gone without a trace (e.g. reaped elsewhere). */
			remove_thread(running);
			continue;
		}
		if (!handle_status(running, status, &ev))
			continue;
		if (ev.kind == STOP_EXITED || ev.kind == STOP_SIGNALLED) {
			struct thread *t = find_thread(ev.tid);
			if (t) {
				t->stopped = true;
				t->has_pending = true;
				t->pending = ev;
			}
			continue;
		}
		struct thread *t = find_thread(ev.tid);
		if (t) {
			t->has_pending = true;
			t->pending = ev;
		}
	}
}

void ptrace_stop_all(void)
{
	stepover_drop_holds();
	stop_threads(NULL);
}

/* Pick which pending event to report: the thread's own first. */
static bool take_pending(struct stop_event *ev)
{
	for (struct process *p = processes; p; p = p->next)
		for (struct thread *t = p->threads; t; t = t->next)
			if (t->has_pending && t->stopped && !t->held) {
				/* All-stop: a thread gdb left stopped keeps its news
				 * until gdb resumes it (not the answer to another
				 * thread's step); exits are news for everyone. */
				if (!target_non_stop && t->resume == RESUME_STOP &&
				    t->pending.kind != STOP_EXITED && t->pending.kind != STOP_SIGNALLED)
					continue;
				if (!pending_still_valid(t)) {
					t->has_pending = false;
					/* gdb believes it runs: it does again */
					if (t->resume != RESUME_STOP)
						resume_over_sigstop(t, 0);
					continue;
				}
				if (t->resume == RESUME_CONTINUE && stepover_recheck_pending(t))
					continue;
				/* a hit of no interest met on the way to gdb's stop
				 * (held meanwhile, so not looked at then) is that stop */
				if (t->resume == RESUME_STOP)
					stepover_settle_for_stop(t);
				*ev = t->pending;
				t->has_pending = false;
				return true;
			}
	return false;
}

static bool any_running(void)
{
	for (struct process *p = processes; p; p = p->next)
		if (p->dying)
			return true;
	for (struct process *p = processes; p; p = p->next)
		for (struct thread *t = p->threads; t; t = t->next)
			if (!t->stopped || t->parked || stepover_pending_start(t) || step_over_due(t))
				return true;
	return false;
}

int ptrace_event_fd(void)
{
	return sigchld_fd;
}

bool ptrace_next_event(struct stop_event *ev)
{
	struct signalfd_siginfo si;
	while (read(sigchld_fd, &si, sizeof si) > 0)
		;
	unpark_threads();
	stepover_progress();
	if (take_pending(ev))
		return true;
	enum poll_result pr;
	/* A recorded (single-stepped) thread always has another status: take
	 * a bounded number so the client is heard in between. */
	int budget = 256;
	while (budget-- > 0 && (pr = poll_one(-1, WNOHANG, ev)) != POLL_NONE) {
		if (pr != POLL_REPORT)
			continue;
		if (ev->kind == STOP_EXITED || ev->kind == STOP_SIGNALLED) {
			struct process *p = find_process(ev->pid);
			if (p)
				ptrace_mourn(p);
			return true;
		}
		struct thread *t = find_thread(ev->tid);
		/* held (ptrace_stepover.h): its news waits for its release */
		if (t && t->held)
			continue;
		if (t)
			t->has_pending = false;
		return true;
	}
	if (budget < 0)
		kill(getpid(), SIGCHLD);   /* statuses left: the caller's poll must not sleep */
	unpark_threads();
	stepover_progress();
	/* (non-stop too: a leader gone while its threads run is dropped from
	 * the thread list, not shown running for ever) */
	drop_zombie_leaders();
	/* news that became reportable meanwhile (a thread that gdb asked to
	 * stop while held has stopped now): no SIGCHLD would bring it later */
	return take_pending(ev);
}

void ptrace_stop_thread(struct thread *t)
{
	/* Already stopped: its stop is queued for gdb or on its way, and
	 * that one answers gdb's request (a second would be spurious). */
	debug("stop %d%s\n", t->tid, t->stopped ? ": already stopped" : "");
	if (t->held && t->has_pending) {
		t->held = false;   /* its news is the stop */
		stepover_settle_for_stop(t);
		return;
	}
	/* (on a breakpoint gdb is not to hear of, it stays so: resumed,
	 * it steps over it unless gdb does) */
	stepover_cancel(t);
	if (t->parked || t->held || t->step_over_wanted) {
		/* Stopped, but gdb believes it runs: its stop is news. */
		t->parked = false;
		t->held = false;
		t->has_pending = true;
		t->pending = (struct stop_event){.kind = STOP_SIGNAL, .pid = t->proc->pid, .tid = t->tid};
		return;
	}
	if (t->stopped)
		return;
	t->stop_requested = true;
	t->resumed_over_sigstop = false;
	if (!t->stop_expected) {
		send_tgkill(t->proc->pid, t->tid, SIGSTOP);
		t->stop_expected = true;
	}
}

enum wait_result ptrace_wait(int client_fd, struct stop_event *ev)
{
	for (;;) {
		struct stop_event got;
		/* Events already collected, e.g. while stopping threads. */
		if (take_pending(ev))
			goto report;
		/* Drain every status: SIGCHLDs coalesce, so one wake-up may
		 * stand for many children. */
		enum poll_result pr;
		int budget = 256;   /* see target_next_event */
		while ((pr = poll_one(-1, WNOHANG, &got)) != POLL_NONE) {
			if (--budget == 0)
				break;
			if (pr != POLL_REPORT)
				continue;
			if (got.kind == STOP_EXITED || got.kind == STOP_SIGNALLED) {
				*ev = got;
				goto report;
			}
			if (take_pending(ev))
				goto report;
		}
		unpark_threads();
		stepover_progress();
		drop_zombie_leaders();
		if (!any_running() && !strays) {
			memset(ev, 0, sizeof *ev);
			ev->kind = STOP_NO_RESUMED;
			return WAIT_EVENT;
		}
		struct pollfd fds[2] = {{sigchld_fd, POLLIN, 0}, {client_fd, POLLIN, 0}};
		int n = poll(fds, client_fd >= 0 ? 2 : 1, budget == 0 ? 0 : -1);
		if (n < 0 && errno != EINTR)
			return WAIT_ERROR;
		if (fds[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(sigchld_fd, &si, sizeof si) > 0)
				;
		}
		if (client_fd >= 0 && fds[1].revents)
			return WAIT_CLIENT;
		/* Strays whose owner never claimed them: processes we don't know
		 * (e.g. a grandchild): nothing to do but drop them. */
		while (strays && !any_running()) {
			struct stray *s = strays;
			strays = s->next;
			free(s);
		}
	}
report:
	if (ev->kind == STOP_EXITED || ev->kind == STOP_SIGNALLED) {
		struct process *p = find_process(ev->pid);
		ptrace_stop_all();
		if (p)
			ptrace_mourn(p);
		return WAIT_EVENT;
	}
	ptrace_stop_all();
	return WAIT_EVENT;
}
