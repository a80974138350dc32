/* Running the program: see run.h. */
#include "cstrace/run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cstrace/drain.h"
#include "cstrace/memory.h"
#include "cstrace/stop_reply.h"

enum run_end run_all_stop(struct cap *k, double deadline)
{
	const struct capture_opts *o = k->o;
	struct buf r = BUF_INIT;
	int sig = 0;
	long exit_group_nr = k->ad ? k->ad->exit_group_nr : -1;
	int rc;
	enum run_end end = RUN_FAILED;
	/* Our interrupt's SIGINT not seen yet: the program stopped for
	 * something else first (a caught call), and the SIGINT comes after. */
	bool sigint_owed = false;

	for (;;) {
		char cont[8];
		snprintf(cont, sizeof(cont), sig ? "C%02x" : "c", sig);
		if ((rc = rsp_client_send(&k->c, cont, strlen(cont))) != RSP_OK) {
			cap_fail(k, rc, "continuing");
			goto out;
		}
		sig = 0;
		/* Every drain_ms (and on Ctrl-C, or at the time limit) the
		 * program is interrupted so the trace can be read; the program's
		 * output meanwhile (O packets, dropped) moves neither time on. */
		bool interrupted_by_us = false;
		double until = cap_now() + o->drain_ms / 1000.0;
		unsigned long console = 0;
		for (;;) {
			int left = (int)((until - cap_now()) * 1000);
			k->waiting_stop = !interrupted_by_us;
			rc = rsp_client_recv(&k->c, &r, left > 0 ? left : 0);
			k->waiting_stop = false;
			if (rc == RSP_OK && r.data[0] == 'E') {
				/* a replayed capture cannot run: what it holds is all */
				k->cannot_run = true;
				k->end_reason = "target cannot run (a recorded trace)";
				end = RUN_FINAL;
				goto out;
			}
			if (rc == RSP_OK) {
				if (!rsp_is_console_output(r.data, r.len))
					break;
				console++;
				if (cap_now() < until)
					continue;
				rc = RSP_TIMEOUT;       /* only output until the time came */
			}
			if (rc == RSP_TIMEOUT && interrupted_by_us)
				snprintf(k->c.err, sizeof(k->c.err), "no stop reply within %d ms of the interrupt%s",
					 o->reply_timeout_ms, console ? ", only console output" : "");
			if (rc != RSP_TIMEOUT || interrupted_by_us) {
				cap_fail(k, rc, interrupted_by_us ? "waiting for the program to stop"
								  : "waiting for the program");
				goto out;
			}
			drain_show_progress(k, false);
			if ((rc = rsp_client_interrupt(&k->c)) != RSP_OK) {
				cap_fail(k, rc, "interrupting the program");
				goto out;
			}
			interrupted_by_us = true;
			sigint_owed = true;
			until = cap_now() + o->reply_timeout_ms / 1000.0;
		}
		struct stop st;
		stop_reply_parse(r.data, k->pid, &st);
		if (st.kind == 'W' || st.kind == 'X') {
			k->exited = true;
			k->end_reason = "program exited (its last trace was not read: exit not caught)";
			end = RUN_DONE;
			goto out;
		}
		if (st.kind != 'T' && st.kind != 'S') {
			snprintf(k->error, sizeof(k->error), "unexpected stop reply \"%.40s\"", r.data);
			goto out;
		}
		if (drain_all(k, false) < 0)
			goto out;
		k->drains++;
		end = RUN_FINAL;
		if (st.syscall_entry && st.syscall == exit_group_nr) {
			k->at_exit = true;
			k->end_reason = "program exited";
			goto out;
		}
		if (st.swbreak && o->nstop_at) {
			/* our only breakpoints are the stop addresses */
			k->end_reason = "stop address reached";
			goto out;
		}
		if ((k->end_reason = drain_limit_reached(k, deadline)))
			goto out;
		end = RUN_FAILED;
		if (k->live && memory_dump(k) < 0)
			goto out;
		/* the program's own signals go on to it; our SIGINT does not */
		bool our_sigint = st.sig == 2 && sigint_owed && !st.syscall_entry;
		if (our_sigint)
			sigint_owed = false;
		if (st.sig && st.sig != 5 && !our_sigint && !st.syscall_entry)
			sig = st.sig;
	}
out:
	buf_free(&r);
	return end;
}

/* ---------------------------------------------------------- non-stop */

#define MAX_STOP_BATCH 65536

/* The stop replies of one notification: its own, then vStopped's until
 * "OK" (the server sends no further notification before). */
static int stop_batch(struct cap *k, const char *note, struct stop **out, size_t *n)
{
	struct buf r = BUF_INIT;
	size_t cap = 0;
	int rc = RSP_OK;
	*out = NULL;
	*n = 0;
	const char *reply = note + 5;   /* after "Stop:" */
	for (;;) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 8;
			*out = realloc(*out, cap * sizeof(**out));
			if (!*out)
				abort();
		}
		stop_reply_parse(reply, k->pid, &(*out)[*n]);
		(*n)++;
		if (*n >= MAX_STOP_BATCH) {
			snprintf(k->c.err, sizeof(k->c.err), "endless vStopped sequence");
			rc = RSP_PROTOCOL;
			break;
		}
		rc = rsp_client_command(&k->c, "vStopped", &r);
		if (rc != RSP_OK || !strcmp(r.data, "OK"))
			break;
		reply = r.data;
	}
	buf_free(&r);
	if (rc != RSP_OK) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

/* Resume thread T (non-stop), passing SIG (0: none). */
static int resume_thread(struct cap *k, struct cthread *t, int sig)
{
	struct buf r = BUF_INIT;
	char act[8];
	snprintf(act, sizeof(act), sig ? "C%02x" : "c", sig);
	int rc = k->multiprocess ? rsp_client_commandf(&k->c, &r, "vCont;%s:p%lx.%lx", act, t->pid, t->tid)
				 : rsp_client_commandf(&k->c, &r, "vCont;%s:%lx", act, t->tid);
	buf_free(&r);
	if (rc == RSP_OK)
		t->running = true;
	else if (!cap_link_failed(rc))
		t->gone = true;     /* exited meanwhile */
	return rc;
}

static bool is_our_process(struct cap *k, const struct stop *st)
{
	return !k->multiprocess || !st->pid || st->pid == k->pid;
}

/* A thread reported by a stop reply; a new one is traced. */
static struct cthread *stopped_thread(struct cap *k, const struct stop *st)
{
	struct cthread *t = cap_find_thread(k, st->tid);
	if (!t && st->tid && is_our_process(k, st)) {
		if (drain_update_threads(k) < 0)
			return NULL;
		t = cap_find_thread(k, st->tid);
	}
	if (t)
		t->running = false;
	return t;
}

/* Wait up to TIMEOUT_MS for a stop notification and take its batch;
 * RSP_TIMEOUT when none came. */
static int wait_stops(struct cap *k, int timeout_ms, struct stop **stops, size_t *n)
{
	struct buf note = BUF_INIT;
	double until = cap_now() + timeout_ms / 1000.0;
	int rc;
	*stops = NULL;
	*n = 0;
	for (;;) {
		int left = (int)((until - cap_now()) * 1000);
		k->waiting_stop = true;
		rc = rsp_client_wait_notification(&k->c, &note, left > 0 ? left : 0);
		k->waiting_stop = false;
		if (rc != RSP_OK || !strncmp(note.data, "Stop:", 5))
			break;
		/* another kind of notification: none is known, skip it (within
		 * the same wait) */
	}
	if (rc == RSP_OK)
		rc = stop_batch(k, note.data, stops, n);
	buf_free(&note);
	return rc;
}

static bool any_running(struct cap *k)
{
	for (size_t i = 0; i < k->nthreads; i++)
		if (k->threads[i].running && !k->threads[i].gone)
			return true;
	return false;
}

/* Stop every thread still running (the end of the capture): vCont;t,
 * then their stop notifications. Returns RUN_FINAL, RUN_DONE (the
 * program exited meanwhile) or RUN_FAILED. */
static enum run_end nonstop_stop_all(struct cap *k, long exit_group_nr)
{
	struct buf r = BUF_INIT;
	double deadline = cap_now() + k->o->reply_timeout_ms / 1000.0;
	enum run_end end = RUN_FAILED;
	int rc;
	for (int round = 0; round < 64; round++) {
		if (drain_update_threads(k) < 0)
			goto out;
		if (!any_running(k)) {
			end = RUN_FINAL;
			goto out;
		}
		/* every thread: a stopped one ignores it (no second report) */
		rc = rsp_client_command(&k->c, "vCont;t", &r);
		if (rc != RSP_OK) {
			cap_fail(k, rc, "stopping the program");
			goto out;
		}
		while (any_running(k)) {
			struct stop *stops;
			size_t n;
			int left = (int)((deadline - cap_now()) * 1000);
			rc = wait_stops(k, left > 1000 ? 1000 : left > 0 ? left : 0, &stops, &n);
			if (rc == RSP_TIMEOUT) {
				/* threads that exited unreported leave the list */
				if (drain_update_threads(k) < 0)
					goto out;
				if (cap_now() >= deadline) {
					snprintf(k->error, sizeof(k->error), "the program's threads did not stop "
						 "within %d ms", k->o->reply_timeout_ms);
					goto out;
				}
				continue;
			}
			if (rc != RSP_OK) {
				free(stops);
				cap_fail(k, rc, "waiting for the program to stop");
				goto out;
			}
			for (size_t i = 0; i < n; i++) {
				struct stop *st = &stops[i];
				if ((st->kind == 'W' || st->kind == 'X') && is_our_process(k, st)) {
					k->exited = true;
					end = RUN_DONE;
					free(stops);
					goto out;
				}
				if (st->kind == 'w') {
					struct cthread *t = cap_find_thread(k, st->tid);
					if (t)
						t->gone = true, t->running = false;
					continue;
				}
				if (st->kind != 'T' && st->kind != 'S')
					continue;
				if (!stopped_thread(k, st) && k->conn_lost) {
					free(stops);
					goto out;
				}
				if (st->syscall_entry && st->syscall == exit_group_nr) {
					k->at_exit = true;
					if (!k->end_reason)
						k->end_reason = "program exited";
				}
			}
			free(stops);
		}
		/* new threads listed meanwhile may still run: another round */
	}
	snprintf(k->error, sizeof(k->error), "the program keeps creating threads: it could not be stopped");
out:
	buf_free(&r);
	return end;
}

/* What one batch of stops means for the run. */
enum batch_end {
	BATCH_GO_ON,
	BATCH_END,              /* stop every thread and read the last trace */
	BATCH_EXITED,           /* the program is gone (its exit not caught) */
	BATCH_FAILED,
};

/* A thread of ours stopped: the end (its exit_group, a stop address),
 * or it is resumed (its trace read first when it is about to exit). */
static enum batch_end thread_stopped(struct cap *k, const struct stop *st)
{
	long exit_nr = k->ad ? k->ad->exit_nr : -1, exit_group_nr = k->ad ? k->ad->exit_group_nr : -1;
	struct cthread *t = stopped_thread(k, st);
	int rc;
	if (!t)
		return k->conn_lost ? BATCH_FAILED : BATCH_GO_ON;      /* not ours */
	if (st->syscall_entry && st->syscall == exit_group_nr) {
		k->at_exit = true;
		k->end_reason = "program exited";
		return BATCH_END;
	}
	if (st->swbreak && k->o->nstop_at) {
		k->end_reason = "stop address reached";
		return BATCH_END;
	}
	/* a thread about to exit: its trace goes with it */
	if (st->syscall_entry && st->syscall == exit_nr && drain_thread(k, t, false) < 0)
		return BATCH_FAILED;
	int sig = st->sig && st->sig != 5 && !st->syscall_entry ? st->sig : 0;
	if ((rc = resume_thread(k, t, sig)) != RSP_OK && cap_link_failed(rc)) {
		cap_fail(k, rc, "resuming a thread");
		return BATCH_FAILED;
	}
	return BATCH_GO_ON;
}

static enum batch_end handle_stops(struct cap *k, const struct stop *stops, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct stop *st = &stops[i];
		enum batch_end e = BATCH_GO_ON;
		struct cthread *t;
		switch (st->kind) {
		case 'W':
		case 'X':
			if (!is_our_process(k, st))
				break;
			k->exited = true;
			k->end_reason = "program exited (its last trace was not read: exit not caught)";
			return BATCH_EXITED;
		case 'w':
			if ((t = cap_find_thread(k, st->tid)))
				t->gone = true, t->running = false;
			break;
		case 'T':
		case 'S':
			e = thread_stopped(k, st);
			break;
		default:
			break;  /* 'N': no thread resumed */
		}
		if (e != BATCH_GO_ON)
			return e;
	}
	return BATCH_GO_ON;
}

/* Time to drain (or Ctrl-C): the trace read while the program runs, then
 * newly mapped code dumped. 1 when a limit ends the run, 0 to go on
 * (*NEXT_DRAIN set), -1 when it failed. */
static int drain_running(struct cap *k, double deadline, double *next_drain)
{
	if ((k->end_reason = drain_limit_reached(k, deadline)))
		return 1;
	drain_show_progress(k, false);
	if (drain_all(k, false) < 0)
		return -1;
	k->drains++;
	if ((k->end_reason = drain_limit_reached(k, deadline)))
		return 1;
	k->running_drain_due = cap_now() + k->o->drain_ms / 1000.0;
	int rc = k->live ? memory_dump(k) : 0;
	*next_drain = k->running_drain_due;
	k->running_drain_due = 0;
	return rc < 0 ? -1 : 0;
}

/* Non-stop: the program runs from start to end; every drain_ms its trace
 * is read while it runs. Stops (a thread's exit caught, a signal, a
 * breakpoint) arrive as notifications and are dealt with one thread at
 * a time while the others run on. */
enum run_end run_nonstop(struct cap *k, double deadline)
{
	struct buf r = BUF_INIT;
	int rc = rsp_client_command(&k->c, "vCont;c", &r);
	buf_free(&r);
	if (rc == RSP_ERROR_REPLY) {
		k->cannot_run = true;
		k->end_reason = "target cannot run (a recorded trace)";
		return RUN_FINAL;
	}
	if (rc != RSP_OK) {
		cap_fail(k, rc, "continuing");
		return RUN_FAILED;
	}
	for (size_t i = 0; i < k->nthreads; i++)
		k->threads[i].running = true;
	double next_drain = cap_now() + k->o->drain_ms / 1000.0;
	for (;;) {
		int wait = (int)((next_drain - cap_now()) * 1000);
		struct stop *stops = NULL;
		size_t n = 0;
		/* stops coming thick and fast (a program's timer signals) do
		 * not hold the drains off */
		rc = wait > 0 ? wait_stops(k, wait, &stops, &n) : RSP_TIMEOUT;
		if (rc == RSP_TIMEOUT) {
			int d = drain_running(k, deadline, &next_drain);
			if (d < 0)
				return RUN_FAILED;
			if (d > 0)
				break;
			continue;
		}
		if (rc != RSP_OK) {
			cap_fail(k, rc, "waiting for the program");
			return RUN_FAILED;
		}
		enum batch_end e = handle_stops(k, stops, n);
		free(stops);
		if (e == BATCH_EXITED)
			return RUN_DONE;
		if (e == BATCH_FAILED)
			return RUN_FAILED;
		if (e == BATCH_END)
			break;
	}
	/* the end: every thread stopped where its last trace can be read */
	enum run_end end = nonstop_stop_all(k, k->ad ? k->ad->exit_group_nr : -1);
	if (end == RUN_DONE)
		k->end_reason = "program exited (its last trace was not read: exit not caught)";
	return end;
}

void run_nonstop_let_exit(struct cap *k)
{
	struct buf r = BUF_INIT;
	double deadline = cap_now() + k->o->reply_timeout_ms / 1000.0;
	/* nothing more to catch on the way out, no breakpoint to step over */
	if (cap_link_failed(rsp_client_command(&k->c, "QCatchSyscalls:0", &r)))
		goto out;
	for (size_t i = 0; i < k->o->nstop_at && !k->cannot_run; i++)
		if (cap_link_failed(rsp_client_commandf(&k->c, &r, "z0,%llx,%d", (unsigned long long)k->o->stop_at[i],
						    cap_breakpoint_kind(k))))
			goto out;
	if (rsp_client_command(&k->c, "vCont;c", &r) != RSP_OK)
		goto out;
	for (int batches = 0; cap_now() < deadline; batches++) {
		if (batches == 1000) {
			/* it keeps stopping: end it as an unfinished capture's */
			rsp_client_commandf(&k->c, &r, k->multiprocess ? "vKill;%lx" : "k", k->pid);
			break;
		}
		struct stop *stops;
		size_t n;
		int rc = wait_stops(k, (int)((deadline - cap_now()) * 1000) + 1, &stops, &n);
		if (rc != RSP_OK)
			break;
		bool gone = false;
		for (size_t i = 0; i < n; i++) {
			struct cthread *t;
			if ((stops[i].kind == 'W' || stops[i].kind == 'X') && is_our_process(k, &stops[i]))
				gone = true;
			else if ((stops[i].kind == 'T' || stops[i].kind == 'S') && (t = cap_find_thread(k, stops[i].tid)))
				resume_thread(k, t, 0);
		}
		free(stops);
		if (gone) {
			k->exited = true;
			break;
		}
	}
out:
	buf_free(&r);
}
