/* Execution-control packets: see exec_control.h. */
#include "server/exec_control.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/hex.h"
#include "server/reply.h"
#include "server/session.h"
#include "server/settings.h"
#include "server/signals.h"
#include "server/stop_reply.h"
#include "server/xfer.h"


void handle_extended(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)a; (void)n;
	SESSION(ctx)->extended = true;
	reply_ok(reply);
}

/* Legacy c/C/s/S [sig;][addr] */
static void legacy_resume(struct session *s, bool step, bool with_sig, const char *a, size_t n,
			  struct buf *reply)
{
	const char *p = a, *end = a + n;
	int sig = 0;
	uint64_t v;
	if (reply_refused(TREQ_RUN, reply))
		return;
	if (with_sig) {
		if (!hex_parse_u64(&p, end, &v)) {
			reply_error(reply, 1);
			return;
		}
		sig = signal_from_gdb((int)v);
		if (p < end && *p == ';')
			p++;
	}
	struct thread *t = lookup_ptid(s->cont_pid, s->cont_tid);
	if (!t || s->cont_tid == -1)
		t = general_thread(s);
	if (p < end) {
		if (!hex_parse_u64(&p, end, &v) || !t) {
			reply_error(reply, 1);
			return;
		}
		uint8_t *regs = thread_regs(t);
		if (regs) {
			the_arch.set_pc(regs, v);
			thread_store_regs(t);
		}
	}
	if (step && !the_arch.can_single_step) {
		buf_reset(reply);   /* gdb then steps in software */
		return;
	}
	set_all_resume(RESUME_CONTINUE);
	if (t) {
		t->resume = step ? RESUME_STEP : RESUME_CONTINUE;
		t->resume_sig = sig;
	}
	resume_and_report(s, reply);
}

void handle_c(void *ctx, const char *a, size_t n, struct buf *r) { legacy_resume(ctx, false, false, a, n, r); }
void handle_C(void *ctx, const char *a, size_t n, struct buf *r) { legacy_resume(ctx, false, true, a, n, r); }
void handle_s(void *ctx, const char *a, size_t n, struct buf *r) { legacy_resume(ctx, true, false, a, n, r); }
void handle_S(void *ctx, const char *a, size_t n, struct buf *r) { legacy_resume(ctx, true, true, a, n, r); }

void handle_vcont_query(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx; (void)a; (void)n;
	buf_puts(reply, the_target->vcont_actions());
}

struct vcont_action {
	char kind;
	int sig;
	uint64_t start, end;
	pid_t pid, tid;
};

static bool action_matches(const struct vcont_action *act, const struct thread *t)
{
	if (act->pid > 0 && act->pid != t->proc->pid)
		return false;
	if (act->tid > 0 && act->tid != t->tid)
		return false;
	return true;
}

static bool stop_is_queued(const struct session *s, const struct thread *t)
{
	for (size_t i = 0; i < s->notif_len; i++) {
		const struct stop_event *ev = &s->notif[i];
		if (ev->tid == t->tid ||
		    ((ev->kind == STOP_FORK || ev->kind == STOP_VFORK) && ev->child_pid == t->proc->pid))
			return true;
	}
	return false;
}

void handle_vcont(void *ctx, const char *a, size_t n, struct buf *reply)
{
	struct session *s = ctx;
	const char *p = a, *end = a + n;
	struct vcont_action acts[64];
	size_t nacts = 0;
	if (reply_refused(TREQ_RUN, reply))
		return;
	while (p < end) {
		if (*p++ != ';' || p >= end || nacts == 64)
			goto bad;
		struct vcont_action *act = &acts[nacts++];
		memset(act, 0, sizeof *act);
		act->kind = *p++;
		act->pid = act->tid = -1;
		uint64_t v;
		switch (act->kind) {
		case 'C':
		case 'S':
			if (!hex_parse_u64(&p, end, &v))
				goto bad;
			act->sig = signal_from_gdb((int)v);
			break;
		case 'r':
			if (!hex_parse_u64_sep(&p, end, ',', &act->start) ||
			    !hex_parse_u64(&p, end, &act->end))
				goto bad;
			break;
		case 'c':
		case 's':
		case 't':
			break;
		default:
			goto bad;
		}
		if ((act->kind == 's' || act->kind == 'S' || act->kind == 'r') &&
		    !the_arch.can_single_step)
			goto bad;
		if (p < end && *p == ':') {
			p++;
			if (!parse_ptid(&p, end, &act->pid, &act->tid))
				goto bad;
		}
	}
	if (nacts == 0 || !processes)
		goto bad;
	for (struct process *pr = processes; pr; pr = pr->next)
		for (struct thread *t = pr->threads; t; t = t->next) {
			/* Non-stop: a running thread no action names keeps going as
			 * it was told (a recorded one must not forget it was
			 * continued, or its next recording step looks like gdb's). */
			bool ran = thread_runs_for_gdb(t);
			bool keep = s->non_stop && ran;
			enum resume_kind old_resume = t->resume;
			int old_sig = t->resume_sig;
			t->resume = RESUME_STOP;
			t->resume_sig = 0;
			for (size_t i = 0; i < nacts; i++) {
				if (!action_matches(&acts[i], t))
					continue;
				/* Non-stop: a thread running (or stepping) for gdb
				 * already ignores a resume, as with gdbserver: a
				 * wildcard `c` must not turn gdb's step of it into a
				 * continue. */
				if (s->non_stop && ran && acts[i].kind != 't')
					break;
				/* gdb has not seen this thread's stop yet (or, for a fork
				 * child, its parent's fork): a wildcard does not mean it. */
				if (s->non_stop && t->stopped && acts[i].tid <= 0 &&
				    acts[i].kind != 't' && stop_is_queued(s, t)) {
					t->resume = RESUME_STOP;
					keep = false;
					break;
				}
				switch (acts[i].kind) {
				case 'c': case 'C':
					t->resume = RESUME_CONTINUE;
					break;
				case 's': case 'S':
					t->resume = RESUME_STEP;
					break;
				case 'r':
					t->resume = RESUME_RANGE;
					t->range_start = acts[i].start;
					t->range_end = acts[i].end;
					break;
				case 't':
					t->resume = RESUME_STOP;
					/* one gdb has seen stop already (and not resumed
					 * since) stops no second time */
					if (s->non_stop && ran)
						target_stop_thread(t);
					break;
				}
				t->resume_sig = acts[i].sig;
				keep = false;
				break;
			}
			if (keep) {
				t->resume = old_resume;
				t->resume_sig = old_sig;
			}
		}
	if (s->non_stop) {
		xfer_cache_forget(s);
		target_resume_all();
		reply_ok(reply);
		return;
	}
	resume_and_report(s, reply);
	return;
bad:
	reply_error(reply, 1);
}

void handle_detach(void *ctx, const char *a, size_t n, struct buf *reply)
{
	struct session *s = ctx;
	const char *p = a, *end = a + n;
	struct process *proc = general_process(s);
	if (p < end && *p == ';') {
		uint64_t pid;
		p++;
		if (!hex_parse_u64(&p, end, &pid)) {
			reply_error(reply, 1);
			return;
		}
		proc = find_process((pid_t)pid);
	}
	if (!proc) {
		reply_error(reply, 1);
		return;
	}
	fprintf(stderr, "Detaching from process %d\n", proc->pid);
	if (target_detach(proc) < 0) {
		reply_error(reply, 1);
		return;
	}
	reply_ok(reply);
	if (!processes && !s->extended)
		s->exit_requested = true;
}

void handle_H(void *ctx, const char *a, size_t n, struct buf *reply)
{
	struct session *s = ctx;
	const char *p = a + 1, *end = a + n;
	pid_t pid, tid;
	if (n < 2 || (a[0] != 'g' && a[0] != 'c') || !parse_ptid(&p, end, &pid, &tid) || p != end) {
		reply_error(reply, 1);
		return;
	}
	if (tid > 0 && !find_thread(tid)) {
		reply_error(reply, 1);
		return;
	}
	if (a[0] == 'g') {
		s->gen_pid = pid;
		s->gen_tid = tid;
	} else {
		s->cont_pid = pid;
		s->cont_tid = tid;
	}
	reply_ok(reply);
}

void handle_kill(void *ctx, const char *a, size_t n, struct buf *reply)
{
	struct session *s = ctx;
	(void)a; (void)n;
	buf_reset(reply);
	if (!processes)
		return;
	fprintf(stderr, "Killing all inferiors\n");
	while (processes)
		target_kill(processes);
	s->last = (struct stop_event){.kind = STOP_SIGNALLED, .sig = SIGKILL};
	/* The traditional protocol ends the server here; gdb expects no reply. */
	if (!s->extended)
		s->exit_requested = true;
}

/* --- extended-remote: run, attach, kill ------------------------------- */

static void free_argv(char **argv)
{
	for (size_t i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

static char **dup_argv(char *const *argv)
{
	size_t n = 0;
	while (argv[n])
		n++;
	char **copy = calloc(n + 1, sizeof *copy);
	if (!copy)
		abort();
	for (size_t i = 0; i < n; i++)
		copy[i] = strdup(argv[i]);
	return copy;
}

/* --no-run: every way into starting a program ends here or in
 * handle_restart, whatever the packet's spelling. */
static bool refuse_run(struct session *s, const char *what)
{
	if (!s->opts->no_run)
		return false;
	fprintf(stderr, "csgdbserver: refused %s: --no-run\n", what);
	return true;
}

static void start_program(struct session *s, char **argv, struct buf *reply)
{
	char err[512];
	if (refuse_run(s, "vRun (running a program)")) {
		reply_error_msg(reply, "Running programs is disabled on this server (--no-run).");
		return;
	}
	char *path = target_program_path(argv[0]);
	free(argv[0]);
	argv[0] = path;
	struct process *p = target_create(argv, err, sizeof err);
	if (!p) {
		fprintf(stderr, "%s\n", err);
		reply_error_msg(reply, err);
		return;
	}
	fprintf(stderr, "Process %s created; pid = %d\n", argv[0], p->pid);
	if (argv != s->last_run_argv) {
		free_argv(s->last_run_argv);
		s->last_run_argv = dup_argv(argv);
	}
	struct stop_event ev = p->threads->pending;
	note_stop(s, &ev);
	format_stop_reply(s, &ev, reply);
}

void handle_vrun(void *ctx, const char *a, size_t n, struct buf *reply)
{
	struct session *s = ctx;
	const char *p = a, *end = a + n;
	if (reply_refused(TREQ_RUN, reply))
		return;
	if (refuse_run(s, "vRun (running a program)")) {
		reply_error_msg(reply, "Running programs is disabled on this server (--no-run).");
		return;
	}
	char **argv = calloc(1, sizeof *argv);
	size_t argc = 0;
	while (p < end && *p == ';') {
		p++;
		const char *semi = memchr(p, ';', (size_t)(end - p));
		size_t len = (size_t)((semi ? semi : end) - p);
		char *arg = hex_to_string(p, len);
		if (!arg) {
			free_argv(argv);
			reply_error(reply, 1);
			return;
		}
		char **grown = realloc(argv, (argc + 2) * sizeof *argv);
		if (!grown)
			abort();
		argv = grown;
		argv[argc++] = arg;
		argv[argc] = NULL;
		p += len;
	}
	if (argc == 0 || argv[0][0] == '\0') {
		/* Empty program: run the one we ran last. */
		if (!s->last_run_argv) {
			free_argv(argv);
			reply_error_msg(reply, "No program to run");
			return;
		}
		if (argc > 1) {
			free(argv[0]);
			argv[0] = strdup(s->last_run_argv[0]);
		} else {
			free_argv(argv);
			argv = dup_argv(s->last_run_argv);
		}
	}
	start_program(s, argv, reply);
	free_argv(argv);
}

void handle_vattach(void *ctx, const char *a, size_t n, struct buf *reply)
{
	struct session *s = ctx;
	const char *p = a, *end = a + n;
	uint64_t pid;
	if (reply_refused(TREQ_RUN, reply))
		return;
	if (!hex_parse_u64(&p, end, &pid) || p != end) {
		reply_error(reply, 1);
		return;
	}
	char err[256];
	struct process *proc = target_attach((pid_t)pid, err, sizeof err);
	if (!proc) {
		fprintf(stderr, "%s\n", err);
		reply_error_msg(reply, err);
		return;
	}
	fprintf(stderr, "Attached; pid = %d\n", proc->pid);
	struct stop_event ev = proc->threads->pending;
	note_stop(s, &ev);
	format_stop_reply(s, &ev, reply);
}

void handle_vkill(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	const char *p = a, *end = a + n;
	uint64_t pid;
	if (!hex_parse_u64(&p, end, &pid)) {
		reply_error(reply, 1);
		return;
	}
	struct process *proc = find_process((pid_t)pid);
	if (!proc) {
		reply_error(reply, 1);
		return;
	}
	target_kill(proc);
	reply_ok(reply);
}

void handle_restart(void *ctx, const char *a, size_t n, struct buf *reply)
{
	struct session *s = ctx;
	(void)a; (void)n;
	buf_reset(reply);
	if (refuse_run(s, "R (restarting the program)") || !s->extended || !s->last_run_argv)
		return;
	while (processes)
		target_kill(processes);
	struct buf ignored = BUF_INIT;
	start_program(s, s->last_run_argv, &ignored);
	buf_free(&ignored);
	buf_reset(reply);
}

void handle_vctrlc(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)a; (void)n;
	if (reply_refused(TREQ_INTERRUPT, reply))
		return;
	if (!SESSION(ctx)->non_stop) {
		reply_error(reply, 1);   /* all-stop interrupts with a raw ^C */
		return;
	}
	target_interrupt();
	reply_ok(reply);
}
