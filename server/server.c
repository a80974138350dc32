/* Packet handlers and the per-connection loop. Each packet name maps to a
 * handler in one table (see handlers[] at the end). */
#include "server/server.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <unistd.h>

#include "protocol/dispatch.h"
#include "common/hex.h"
#include "protocol/escape.h"
#include "protocol/qxfer.h"
#include "server/btrace.h"
#include "server/signals.h"
#include "server/thread_db.h"

/* Handler flags. */
#define NEEDS_PROCESS 1u   /* reply E01 when nothing is being debugged */

#define SESSION(ctx) ((struct session *)(ctx))

/* Largest memory transfer per m/M/X, in bytes (a hex reply doubles it). */
#define MAX_MEM_XFER (RSP_PACKET_SIZE / 2 - 16)

void reply_error(struct buf *reply, int code)
{
	buf_reset(reply);
	buf_printf(reply, "E%02x", code & 0xff);
}

void reply_error_msg(struct buf *reply, const char *msg)
{
	buf_reset(reply);
	buf_puts(reply, "E.");
	buf_puts(reply, msg);
}

void reply_ok(struct buf *reply)
{
	buf_reset(reply);
	buf_puts(reply, "OK");
}

void format_ptid(struct session *s, struct buf *b, pid_t pid, pid_t tid)
{
	if (s->multiprocess)
		buf_printf(b, "p%x.%x", (unsigned)pid, (unsigned)tid);
	else
		buf_printf(b, "%x", (unsigned)tid);
}

/* Parse a thread id: "p<pid>.<tid>", "p<pid>", "<tid>", "-1", "0".
 * -1 means all, 0 means any. */
static bool parse_ptid(const char **pp, const char *end, pid_t *pid, pid_t *tid)
{
	const char *p = *pp;
	uint64_t v;
	*pid = -1;
	*tid = -1;
	if (p < end && *p == 'p') {
		p++;
		if (p + 1 < end + 1 && p < end && *p == '-') {
			if (p + 1 >= end || p[1] != '1')
				return false;
			p += 2;
		} else {
			if (!hex_parse_u64(&p, end, &v))
				return false;
			*pid = (pid_t)v;
		}
		if (p < end && *p == '.') {
			p++;
			if (p < end && *p == '-') {
				if (p + 1 >= end || p[1] != '1')
					return false;
				p += 2;
				*tid = -1;
			} else {
				if (!hex_parse_u64(&p, end, &v))
					return false;
				*tid = (pid_t)v;
			}
		}
		*pp = p;
		return true;
	}
	if (p < end && *p == '-') {
		if (p + 1 >= end || p[1] != '1')
			return false;
		*pp = p + 2;
		return true;
	}
	if (!hex_parse_u64(&p, end, &v))
		return false;
	*tid = (pid_t)v;
	*pid = v == 0 ? 0 : -1;
	if (v == 0)
		*tid = 0;
	*pp = p;
	return true;
}

/* The thread a ptid names (0/-1: any one). */
static struct thread *lookup_ptid(pid_t pid, pid_t tid)
{
	if (tid > 0)
		return find_thread(tid);
	if (pid > 0) {
		struct process *p = find_process(pid);
		return p ? p->threads : NULL;
	}
	return first_thread();
}

struct thread *general_thread(struct session *s)
{
	struct thread *t = lookup_ptid(s->gen_pid, s->gen_tid);
	if (!t)
		t = first_thread();
	return t;
}

static struct process *general_process(struct session *s)
{
	struct thread *t = general_thread(s);
	return t ? t->proc : NULL;
}

/* The target refuses REQ: REPLY says why (an empty reply: unsupported). */
static bool refused(enum target_request req, struct buf *reply)
{
	const char *why = target_refuses(req);
	if (!why)
		return false;
	if (why[0])
		reply_error_msg(reply, why);
	else
		buf_reset(reply);
	return true;
}

/* --- stop replies ------------------------------------------------------ */

static void append_hex_path(struct buf *b, pid_t pid)
{
	char link[64], path[4096];
	snprintf(link, sizeof link, "/proc/%d/exe", pid);
	ssize_t n = readlink(link, path, sizeof path - 1);
	if (n < 0)
		n = 0;
	buf_hex(b, path, (size_t)n);
}

static void format_stop_reply(struct session *s, const struct stop_event *ev, struct buf *r)
{
	buf_reset(r);
	switch (ev->kind) {
	case STOP_EXITED:
		buf_printf(r, "W%02x", ev->sig & 0xff);
		if (s->multiprocess)
			buf_printf(r, ";process:%x", (unsigned)ev->pid);
		return;
	case STOP_SIGNALLED:
		buf_printf(r, "X%02x", signal_to_gdb(ev->sig) & 0xff);
		if (s->multiprocess)
			buf_printf(r, ";process:%x", (unsigned)ev->pid);
		return;
	case STOP_NO_RESUMED:
		buf_puts(r, s->no_resumed ? "N" : "W00");
		return;
	case STOP_THREAD_EXITED:
		buf_puts(r, "w0;");
		format_ptid(s, r, ev->pid, ev->tid);
		return;
	default:
		break;
	}
	int sig = ev->kind == STOP_SIGNAL ? signal_to_gdb(ev->sig) : GDB_SIGNAL_TRAP;
	if (s->opts && s->opts->no_t) {
		buf_printf(r, "S%02x", sig);
		return;
	}
	buf_printf(r, "T%02x", sig);
	struct thread *t = find_thread(ev->tid);
	uint8_t *regs = t ? thread_regs(t) : NULL;
	if (regs) {
		const struct arch_regfile *rf = target_regfile();
		for (const int *e = the_target->expedite(); *e >= 0; e++) {
			const struct arch_reg *reg = &rf->regs[*e];
			if (!target_register_available(t, *e))
				continue;
			buf_printf(r, "%02x:", *e);
			buf_hex(r, regs + reg->offset, reg->size);
			buf_putc(r, ';');
		}
	}
	if (!s->opts || !s->opts->no_tthread) {
		buf_puts(r, "thread:");
		format_ptid(s, r, ev->pid, ev->tid);
		buf_putc(r, ';');
	}
	switch (ev->kind) {
	case STOP_FORK:
	case STOP_VFORK:
		buf_puts(r, ev->kind == STOP_FORK ? "fork:" : "vfork:");
		format_ptid(s, r, ev->child_pid, ev->child_pid);
		buf_putc(r, ';');
		break;
	case STOP_VFORK_DONE:
		buf_puts(r, "vforkdone:;");
		break;
	case STOP_EXEC:
		buf_puts(r, "exec:");
		append_hex_path(r, ev->pid);
		buf_putc(r, ';');
		break;
	case STOP_SYSCALL_ENTRY:
		buf_printf(r, "syscall_entry:%lx;", ev->syscall);
		break;
	case STOP_SYSCALL_RETURN:
		buf_printf(r, "syscall_return:%lx;", ev->syscall);
		break;
	case STOP_THREAD_CREATED:
		buf_puts(r, "create:;");
		break;
	default:
		break;
	}
	switch (ev->reason) {
	case REASON_SWBREAK:
		if (s->swbreak)
			buf_puts(r, "swbreak:;");
		break;
	case REASON_HWBREAK:
		if (s->hwbreak)
			buf_puts(r, "hwbreak:;");
		break;
	case REASON_WATCH:
		buf_printf(r, "watch:%" PRIx64 ";", ev->data_addr);
		break;
	case REASON_RWATCH:
		buf_printf(r, "rwatch:%" PRIx64 ";", ev->data_addr);
		break;
	case REASON_AWATCH:
		buf_printf(r, "awatch:%" PRIx64 ";", ev->data_addr);
		break;
	default:
		break;
	}
}

static void note_stop(struct session *s, const struct stop_event *ev)
{
	s->last = *ev;
	s->have_last = true;
	if (ev->kind == STOP_EXEC || ev->kind == STOP_EXITED || ev->kind == STOP_SIGNALLED)
		thread_db_forget(ev->pid);   /* its libthread_db agent is stale */
	if (ev->kind == STOP_EXITED) {
		fprintf(stderr, "\nChild exited with status %d\n", ev->sig);
	} else if (ev->kind == STOP_SIGNALLED) {
		fprintf(stderr, "\nChild terminated with signal = 0x%x (%s)\n",
			signal_to_gdb(ev->sig), strsignal(ev->sig));
	} else if (ev->kind != STOP_NO_RESUMED) {
		s->gen_pid = ev->pid;
		s->gen_tid = ev->tid;
	}
}

/* Resume as set up in the threads, wait for the next event, reply. */
static void resume_and_report(struct session *s, struct buf *reply)
{
	struct stop_event ev;
	s->xfer_key[0] = '\0';   /* documents describe the stopped state */
	target_resume_all();
	for (;;) {
		enum wait_result w = target_wait(s->remote.closed ? -1 : s->remote.in_fd, &ev);
		if (w == WAIT_CLIENT) {
			if (remote_check_interrupt(&s->remote))
				target_interrupt();
			else if (s->remote.closed) {
				/* gdb is gone while the program runs: stop it; the
				 * connection's end decides whether to kill or keep it. */
				target_stop_all();
				buf_reset(reply);
				return;
			}
			continue;
		}
		if (w == WAIT_ERROR) {
			reply_error(reply, 1);
			return;
		}
		break;
	}
	note_stop(s, &ev);
	format_stop_reply(s, &ev, reply);
}

static void set_all_resume(enum resume_kind kind)
{
	for (struct process *p = processes; p; p = p->next)
		for (struct thread *t = p->threads; t; t = t->next) {
			t->resume = kind;
			t->resume_sig = 0;
		}
}

/* --- packets ------------------------------------------------------------ */

static void nonstop_status(struct session *s, struct buf *reply);

static void handle_extended(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)a; (void)n;
	SESSION(ctx)->extended = true;
	reply_ok(reply);
}

static void handle_status(void *ctx, const char *a, size_t n, struct buf *reply)
{
	struct session *s = ctx;
	(void)a; (void)n;
	if (!processes) {
		buf_puts(reply, "W00");
		return;
	}
	if (s->non_stop) {
		nonstop_status(s, reply);
		return;
	}
	struct thread *t = general_thread(s);
	struct stop_event ev = s->have_last && find_thread(s->last.tid) ? s->last : t->pending;
	if (ev.kind == STOP_NONE || ev.kind == STOP_EXITED || ev.kind == STOP_SIGNALLED ||
	    !find_thread(ev.tid)) {
		ev = (struct stop_event){.kind = STOP_SIGNAL, .sig = SIGTRAP,
					 .pid = t->proc->pid, .tid = t->tid};
	}
	note_stop(s, &ev);
	format_stop_reply(s, &ev, reply);
}

/* Legacy c/C/s/S [sig;][addr] */
static void legacy_resume(struct session *s, bool step, bool with_sig, const char *a, size_t n,
			  struct buf *reply)
{
	const char *p = a, *end = a + n;
	int sig = 0;
	uint64_t v;
	if (refused(TREQ_RUN, reply))
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

static void handle_c(void *ctx, const char *a, size_t n, struct buf *r) { legacy_resume(ctx, false, false, a, n, r); }
static void handle_C(void *ctx, const char *a, size_t n, struct buf *r) { legacy_resume(ctx, false, true, a, n, r); }
static void handle_s(void *ctx, const char *a, size_t n, struct buf *r) { legacy_resume(ctx, true, false, a, n, r); }
static void handle_S(void *ctx, const char *a, size_t n, struct buf *r) { legacy_resume(ctx, true, true, a, n, r); }

static void handle_vcont_query(void *ctx, const char *a, size_t n, struct buf *reply)
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

static void handle_vcont(void *ctx, const char *a, size_t n, struct buf *reply)
{
	struct session *s = ctx;
	const char *p = a, *end = a + n;
	struct vcont_action acts[64];
	size_t nacts = 0;
	if (refused(TREQ_RUN, reply))
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
			bool keep = s->non_stop && !t->stopped;
			enum resume_kind old_resume = t->resume;
			int old_sig = t->resume_sig;
			t->resume = RESUME_STOP;
			t->resume_sig = 0;
			for (size_t i = 0; i < nacts; i++) {
				if (!action_matches(&acts[i], t))
					continue;
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
					if (s->non_stop)
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
		s->xfer_key[0] = '\0';
		target_resume_all();
		reply_ok(reply);
		return;
	}
	resume_and_report(s, reply);
	return;
bad:
	reply_error(reply, 1);
}

static void handle_detach(void *ctx, const char *a, size_t n, struct buf *reply)
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

static void handle_g(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)a; (void)n;
	struct thread *t = general_thread(ctx);
	uint8_t *regs = t ? thread_regs(t) : NULL;
	const struct arch_regfile *rf = target_regfile();
	if (!regs && t && errno == ESRCH) {
		/* Killed from outside while stopped: its registers are gone.
		 * Zeros, as gdbserver sends, let gdb resume it and hear of its
		 * death (an E reply or 'x's stop gdb short: "PC register is
		 * not available"). */
		for (size_t i = 0; i < 2 * rf->size; i++)
			buf_putc(reply, '0');
		return;
	}
	if (!regs) {
		reply_error(reply, 1);
		return;
	}
	if (!the_target->register_available) {
		buf_hex(reply, regs, rf->size);
		return;
	}
	/* Registers the target does not know are 'x's. */
	for (size_t i = 0; i < rf->nregs; i++) {
		const struct arch_reg *r = &rf->regs[i];
		if (!r->in_g || !r->size)
			continue;
		if (target_register_available(t, (int)i))
			buf_hex(reply, regs + r->offset, r->size);
		else
			for (size_t k = 0; k < 2u * r->size; k++)
				buf_putc(reply, 'x');
	}
}

/* G and P decode into a copy of the registers; the cache takes the copy
 * only once the thread has (thread_write_regs), so that bad input or a
 * write the kernel refuses changes nothing. */
static void handle_G(void *ctx, const char *a, size_t n, struct buf *reply)
{
	if (refused(TREQ_WRITE, reply))
		return;
	struct thread *t = general_thread(ctx);
	size_t size = target_regfile()->size;
	uint8_t *regs = t ? thread_regs(t) : NULL;
	uint8_t *copy = regs && n == 2 * size ? malloc(size) : NULL;
	if (!copy || hex_decode(a, n, copy) < 0 || thread_write_regs(t, copy) < 0)
		reply_error(reply, 1);
	else
		reply_ok(reply);
	free(copy);
}

static void handle_p(void *ctx, const char *a, size_t n, struct buf *reply)
{
	const char *p = a, *end = a + n;
	uint64_t regno;
	struct thread *t = general_thread(ctx);
	const struct arch_regfile *rf = target_regfile();
	if (!hex_parse_u64(&p, end, &regno) || p != end || regno >= rf->nregs || !t ||
	    !rf->regs[regno].size) {
		reply_error(reply, 1);
		return;
	}
	uint8_t *regs = thread_regs(t);
	const struct arch_reg *r = &rf->regs[regno];
	if (!regs && errno == ESRCH) {
		for (size_t i = 0; i < 2u * r->size; i++)
			buf_putc(reply, '0');   /* killed from outside: see handle_g */
		return;
	}
	if (!regs) {
		reply_error(reply, 1);
		return;
	}
	if (!target_register_available(t, (int)regno)) {
		for (size_t i = 0; i < 2u * r->size; i++)
			buf_putc(reply, 'x');
		return;
	}
	buf_hex(reply, regs + r->offset, r->size);
}

static void handle_P(void *ctx, const char *a, size_t n, struct buf *reply)
{
	const char *p = a, *end = a + n;
	uint64_t regno;
	struct thread *t = general_thread(ctx);
	const struct arch_regfile *rf = target_regfile();
	if (refused(TREQ_WRITE, reply))
		return;
	if (!hex_parse_u64_sep(&p, end, '=', &regno) || regno >= rf->nregs || !t) {
		reply_error(reply, 1);
		return;
	}
	const struct arch_reg *r = &rf->regs[regno];
	uint8_t *regs = thread_regs(t);
	uint8_t *copy = regs && (size_t)(end - p) == 2u * r->size ? malloc(rf->size) : NULL;
	if (copy)
		memcpy(copy, regs, rf->size);
	if (!copy || hex_decode(p, (size_t)(end - p), copy + r->offset) < 0 ||
	    thread_write_regs(t, copy) < 0)
		reply_error(reply, 1);
	else
		reply_ok(reply);
	free(copy);
}

static void handle_H(void *ctx, const char *a, size_t n, struct buf *reply)
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

static void handle_kill(void *ctx, const char *a, size_t n, struct buf *reply)
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

static bool parse_addr_len(const char **p, const char *end, char sep, uint64_t *addr, uint64_t *len)
{
	return hex_parse_u64_sep(p, end, ',', addr) &&
	       (sep ? hex_parse_u64_sep(p, end, sep, len) : hex_parse_u64(p, end, len));
}

static void handle_m(void *ctx, const char *a, size_t n, struct buf *reply)
{
	const char *p = a, *end = a + n;
	uint64_t addr, len;
	struct process *proc = general_process(ctx);
	if (!parse_addr_len(&p, end, 0, &addr, &len) || p != end || !proc) {
		reply_error(reply, 1);
		return;
	}
	if (len > MAX_MEM_XFER)
		len = MAX_MEM_XFER;
	buf_reserve(reply, 2 * len);
	uint8_t *tmp = malloc(len ? len : 1);
	if (!tmp) {
		reply_error(reply, 1);
		return;
	}
	ssize_t got = target_read_memory(proc, addr, tmp, len);
	if (got <= 0 && len > 0)
		reply_error(reply, 1);
	else
		buf_hex(reply, tmp, (size_t)(got > 0 ? got : 0));
	free(tmp);
}

static void write_mem_reply(struct process *proc, uint64_t addr, const void *data, size_t len,
			    struct buf *reply)
{
	if (len == 0) {
		reply_ok(reply);
		return;
	}
	if (target_write_memory(proc, addr, data, len) != (ssize_t)len)
		reply_error(reply, 1);
	else
		reply_ok(reply);
}

static void handle_M(void *ctx, const char *a, size_t n, struct buf *reply)
{
	const char *p = a, *end = a + n;
	uint64_t addr, len;
	struct process *proc = general_process(ctx);
	if (refused(TREQ_WRITE, reply))
		return;
	if (!parse_addr_len(&p, end, ':', &addr, &len) || !proc ||
	    (size_t)(end - p) != 2 * len || len > RSP_PACKET_SIZE) {
		reply_error(reply, 1);
		return;
	}
	uint8_t *tmp = malloc(len ? len : 1);
	if (!tmp || hex_decode(p, (size_t)(end - p), tmp) < 0) {
		free(tmp);
		reply_error(reply, 1);
		return;
	}
	write_mem_reply(proc, addr, tmp, len, reply);
	free(tmp);
}

static void handle_X(void *ctx, const char *a, size_t n, struct buf *reply)
{
	const char *p = a, *end = a + n;
	uint64_t addr, len;
	struct process *proc = general_process(ctx);
	if (refused(TREQ_WRITE, reply))
		return;
	if (!parse_addr_len(&p, end, ':', &addr, &len) || !proc || len > RSP_PACKET_SIZE) {
		reply_error(reply, 1);
		return;
	}
	size_t data_len = (size_t)(end - p);
	char *tmp = malloc(data_len + 1);
	if (!tmp) {
		reply_error(reply, 1);
		return;
	}
	memcpy(tmp, p, data_len);
	long got = bin_unescape(tmp, data_len);
	if (got != (long)len)
		reply_error(reply, 1);
	else
		write_mem_reply(proc, addr, tmp, len, reply);
	free(tmp);
}

static void handle_point(struct session *s, bool insert, const char *a, size_t n, struct buf *reply)
{
	const char *p = a, *end = a + n;
	uint64_t type, addr, kind;
	struct process *proc = general_process(s);
	if (!hex_parse_u64_sep(&p, end, ',', &type) || !hex_parse_u64_sep(&p, end, ',', &addr) ||
	    !hex_parse_u64(&p, end, &kind) || (p != end && *p != ';') || !proc || type > 4) {
		reply_error(reply, 1);
		return;
	}
	int rc = insert ? target_insert_point(proc, (int)type, addr, (int)kind)
			: target_remove_point(proc, (int)type, addr, (int)kind);
	if (rc == 0)
		reply_ok(reply);
	else if (rc > 0)
		buf_reset(reply);
	else
		reply_error(reply, 1);
}

static void handle_Z(void *ctx, const char *a, size_t n, struct buf *r) { handle_point(ctx, true, a, n, r); }
static void handle_z(void *ctx, const char *a, size_t n, struct buf *r) { handle_point(ctx, false, a, n, r); }

static void handle_thread_alive(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	const char *p = a, *end = a + n;
	pid_t pid, tid;
	if (!parse_ptid(&p, end, &pid, &tid) || p != end) {
		reply_error(reply, 1);
		return;
	}
	struct thread *t = tid > 0 ? find_thread(tid) : NULL;
	if (t && target_thread_alive(t))
		reply_ok(reply);
	else
		reply_error(reply, 1);
}

static void handle_qattached(void *ctx, const char *a, size_t n, struct buf *reply)
{
	struct process *p = general_process(ctx);
	if (n > 1 && a[0] == ':') {
		const char *q = a + 1, *end = a + n;
		uint64_t pid;
		if (hex_parse_u64(&q, end, &pid))
			p = find_process((pid_t)pid);
	}
	if (!p) {
		reply_error(reply, 1);
		return;
	}
	buf_puts(reply, p->attached ? "1" : "0");
}

static void handle_qC(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)a; (void)n;
	struct thread *t = general_thread(ctx);
	if (!t) {
		buf_puts(reply, "QC0");   /* gdb: no current thread */
		return;
	}
	buf_puts(reply, "QC");
	format_ptid(ctx, reply, t->proc->pid, t->tid);
}

static void handle_qfthreadinfo(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)a; (void)n;
	bool first = true;
	buf_putc(reply, processes ? 'm' : 'l');
	for (struct process *p = processes; p; p = p->next)
		for (struct thread *t = p->threads; t && !target_fork_unreported(p); t = t->next) {
			if (!first)
				buf_putc(reply, ',');
			first = false;
			format_ptid(ctx, reply, p->pid, t->tid);
		}
}

static void handle_qsthreadinfo(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx; (void)a; (void)n;
	buf_putc(reply, 'l');
}

/* CRC-32 as gdb computes it (big-endian polynomial 0x04c11db7). */
static uint32_t gdb_crc32(uint32_t crc, const uint8_t *p, size_t len)
{
	while (len--) {
		crc ^= (uint32_t)*p++ << 24;
		for (int i = 0; i < 8; i++)
			crc = crc & 0x80000000u ? (crc << 1) ^ 0x04c11db7u : crc << 1;
	}
	return crc;
}

static void handle_qcrc(void *ctx, const char *a, size_t n, struct buf *reply)
{
	const char *p = a, *end = a + n;
	uint64_t addr, len;
	struct process *proc = general_process(ctx);
	if (refused(TREQ_SCAN_MEMORY, reply))
		return;
	if (!parse_addr_len(&p, end, 0, &addr, &len) || p != end || !proc) {
		reply_error(reply, 1);
		return;
	}
	uint32_t crc = 0xffffffffu;
	uint8_t chunk[65536];
	while (len) {
		size_t want = len < sizeof chunk ? (size_t)len : sizeof chunk;
		if (target_read_memory(proc, addr, chunk, want) != (ssize_t)want) {
			reply_error(reply, 3);
			return;
		}
		crc = gdb_crc32(crc, chunk, want);
		addr += want;
		len -= want;
	}
	buf_printf(reply, "C%08x", crc);
}

static void handle_qsearch(void *ctx, const char *a, size_t n, struct buf *reply)
{
	const char *p = a, *end = a + n;
	uint64_t addr, len;
	struct process *proc = general_process(ctx);
	if (refused(TREQ_SCAN_MEMORY, reply))
		return;
	if (!hex_parse_u64_sep(&p, end, ';', &addr) || !hex_parse_u64_sep(&p, end, ';', &len) ||
	    !proc) {
		reply_error(reply, 1);
		return;
	}
	size_t plen = (size_t)(end - p);
	char *pattern = malloc(plen + 1);
	if (!pattern) {
		reply_error(reply, 1);
		return;
	}
	memcpy(pattern, p, plen);
	long pat_len = bin_unescape(pattern, plen);
	if (pat_len <= 0) {
		free(pattern);
		reply_error(reply, 1);
		return;
	}
	/* Search in chunks that overlap by the pattern length. */
	size_t chunk = 65536 + (size_t)pat_len;
	uint8_t *buf = malloc(chunk);
	bool found = false;
	uint64_t pos = addr, found_at = 0;
	while (buf && !found && pos < addr + len) {
		uint64_t left = addr + len - pos;
		size_t want = left < chunk ? (size_t)left : chunk;
		ssize_t got = target_read_memory(proc, pos, buf, want);
		if (got < (ssize_t)want && (got < pat_len || got <= 0)) {
			free(buf);
			free(pattern);
			reply_error(reply, 1);
			return;
		}
		void *hit = memmem(buf, (size_t)got, pattern, (size_t)pat_len);
		if (hit) {
			found = true;
			found_at = pos + (uint64_t)((uint8_t *)hit - buf);
		}
		if (want <= (size_t)pat_len)
			break;
		pos += want - (size_t)pat_len + 1;
	}
	free(buf);
	free(pattern);
	if (found)
		buf_printf(reply, "1,%" PRIx64, found_at);
	else
		buf_puts(reply, "0");
}

/* "qSymbol::" (new symbols, e.g. a library was loaded): libthread_db may
 * ask gdb for symbols now; the final OK ends the exchange. */
static void handle_qsymbol(void *ctx, const char *a, size_t n, struct buf *reply)
{
	if (n == 1 && a[0] == ':' && !target_refuses(TREQ_THREAD_DB))
		thread_db_qsymbol(ctx);
	reply_ok(reply);
}

/* qGetTLSAddr:PTID,OFFSET,LM: address of a __thread variable, through
 * libthread_db (server/thread_db.c); E01 while it is not set up. */
static void handle_qgettlsaddr(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	const char *p = a, *end = a + n;
	pid_t pid, tid;
	uint64_t offset, lm, addr;
	bool ok = parse_ptid(&p, end, &pid, &tid) && p < end && *p++ == ',' &&
		  hex_parse_u64_sep(&p, end, ',', &offset) && hex_parse_u64(&p, end, &lm) && p == end;
	/* one thread: "any" or "all" name none (gdbserver: E01 too) */
	struct thread *t = ok && tid > 0 && !target_refuses(TREQ_THREAD_DB) ? find_thread(tid) : NULL;
	if (t && pid > 0 && t->proc->pid != pid)
		t = NULL;
	int err = t ? thread_db_tls_address(t, offset, lm, &addr) : 1;
	if (err == 0)
		buf_printf(reply, "%" PRIx64, addr);
	else if (err > 0)
		reply_error(reply, 1);
}

/* qOffsets: like gdbserver on Linux, no answer. gdb relocates a PIE from
 * auxv and the svr4 library list; a Text= offset on top of that made it
 * look for sections at their link-time addresses (compare-sections.exp
 * failed with "target memory fault"). */
static void handle_qoffsets(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx; (void)a; (void)n;
	buf_reset(reply);
}

static void handle_qsupported(void *ctx, const char *a, size_t n, struct buf *reply)
{
	struct session *s = ctx;
	bool fork_ev = false, vfork_ev = false, exec_ev = false;
	/* gdb lists what it supports after ':' separated by ';'. */
	char *copy = strndup(a, n);
	for (char *save, *tok = strtok_r(copy, ":;", &save); tok; tok = strtok_r(NULL, ";", &save)) {
		if (!strcmp(tok, "multiprocess+"))
			s->multiprocess = true;
		else if (!strcmp(tok, "swbreak+"))
			s->swbreak = true;
		else if (!strcmp(tok, "hwbreak+"))
			s->hwbreak = true;
		else if (!strcmp(tok, "fork-events+"))
			fork_ev = true;
		else if (!strcmp(tok, "vfork-events+"))
			vfork_ev = true;
		else if (!strcmp(tok, "exec-events+"))
			exec_ev = true;
		else if (!strcmp(tok, "no-resumed+"))
			s->no_resumed = true;
		else if (!strcmp(tok, "vContSupported+"))
			s->vcont_supported = true;
	}
	free(copy);
	target_settings.report_fork = fork_ev;
	target_settings.report_vfork = vfork_ev;
	target_settings.report_exec = exec_ev;
	buf_printf(reply, "PacketSize=%x;QPassSignals+;QProgramSignals+;QStartNoAckMode+;"
		   "QCatchSyscalls+;QDisableRandomization+;QStartupWithShell+;"
		   "QEnvironmentHexEncoded+;QEnvironmentReset+;QEnvironmentUnset+;"
		   "QSetWorkingDir+;QThreadEvents+;QNonStop+;qXfer:features:read+;qXfer:auxv:read+;"
		   "qXfer:exec-file:read+;qXfer:libraries-svr4:read+;qXfer:threads:read+;"
		   "qXfer:siginfo:read+;qXfer:siginfo:write+;qXfer:osdata:read+;"
		   "multiprocess+;swbreak+;hwbreak+;vContSupported+;no-resumed+",
		   RSP_PACKET_SIZE);
	if (fork_ev)
		buf_puts(reply, ";fork-events+");
	if (vfork_ev)
		buf_puts(reply, ";vfork-events+");
	if (exec_ev)
		buf_puts(reply, ";exec-events+");
	if (target_regfile()->memtags)
		buf_puts(reply, ";memory-tagging+");
	btrace_qsupported(reply);   /* only when there is trace to serve */
}

static void handle_qrcmd(void *ctx, const char *a, size_t n, struct buf *reply)
{
	struct session *s = ctx;
	char *cmd = malloc(n / 2 + 1);
	if (!cmd || hex_decode(a, n, cmd) < 0) {
		free(cmd);
		reply_error(reply, 1);
		return;
	}
	cmd[n / 2] = '\0';
	struct buf text = BUF_INIT;
	handle_monitor(s, cmd, &text, reply);
	if (text.len) {
		/* Console output goes first as an O packet. */
		struct buf out = BUF_INIT;
		buf_putc(&out, 'O');
		buf_hex(&out, text.data, text.len);
		remote_putpkt(&s->remote, out.data, out.len);
		buf_free(&out);
	}
	buf_free(&text);
	free(cmd);
}

static void handle_noack(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)a; (void)n;
	struct session *s = ctx;
	/* The OK still travels with an ack; no-ack starts after it. */
	remote_putpkt(&s->remote, "OK", 2);
	s->remote.noack = true;
	buf_reset(reply);
	s->reply_sent = true;
}

static void parse_signal_list(const char *a, size_t n, bool *table)
{
	memset(table, 0, 256 * sizeof *table);
	const char *p = a, *end = a + n;
	while (p < end) {
		uint64_t v;
		if (!hex_parse_u64(&p, end, &v))
			break;
		int host = signal_from_gdb((int)v);
		if (host > 0 && host < 256)
			table[host] = true;
		if (p < end && *p == ';')
			p++;
		else
			break;
	}
}

static void handle_qpasssignals(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	parse_signal_list(a, n, target_settings.pass_signals);
	reply_ok(reply);
}

static void handle_qprogramsignals(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	parse_signal_list(a, n, target_settings.program_signals);
	target_settings.program_signals_set = true;
	reply_ok(reply);
}

static void handle_qcatchsyscalls(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	const char *p = a, *end = a + n;
	if (p < end && *p == '0' && p + 1 == end) {
		target_settings.catch_syscalls = false;
		reply_ok(reply);
		return;
	}
	if (p >= end || *p != '1') {
		reply_error(reply, 1);
		return;
	}
	p++;
	free(target_settings.syscalls);
	target_settings.syscalls = NULL;
	target_settings.nsyscalls = 0;
	target_settings.catch_any_syscall = p == end;
	while (p < end && *p == ';') {
		uint64_t v;
		p++;
		if (!hex_parse_u64(&p, end, &v)) {
			reply_error(reply, 1);
			return;
		}
		long *grown = realloc(target_settings.syscalls,
				      (target_settings.nsyscalls + 1) * sizeof(long));
		if (!grown)
			abort();
		target_settings.syscalls = grown;
		target_settings.syscalls[target_settings.nsyscalls++] = (long)v;
	}
	target_settings.catch_syscalls = true;
	reply_ok(reply);
}

static bool parse_bool_arg(const char *a, size_t n, bool *out)
{
	if (n != 1 || (a[0] != '0' && a[0] != '1'))
		return false;
	*out = a[0] == '1';
	return true;
}

/* "Q...:0" / "Q...:1" packets that set one flag. */
static void set_flag(const char *a, size_t n, bool *flag, struct buf *reply)
{
	if (parse_bool_arg(a, n, flag))
		reply_ok(reply);
	else
		reply_error(reply, 1);
}

static void handle_qdisablerandom(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	set_flag(a, n, &target_settings.disable_randomization, reply);
}

static void handle_qstartupwithshell(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	set_flag(a, n, &target_settings.startup_with_shell, reply);
}

static void handle_qthreadevents(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	set_flag(a, n, &target_settings.thread_events, reply);
}

static void handle_qnonstop(void *ctx, const char *a, size_t n, struct buf *reply)
{
	struct session *s = ctx;
	bool on;
	if (!parse_bool_arg(a, n, &on)) {
		reply_error(reply, 1);
		return;
	}
	s->non_stop = target_non_stop = on;
	s->notif_len = 0;
	reply_ok(reply);
}

/* Non-stop: queue a stop reply; the first one goes out as a notification. */
static void notify_stop(struct session *s, const struct stop_event *ev)
{
	if (s->notif_len == s->notif_cap) {
		s->notif_cap = s->notif_cap ? 2 * s->notif_cap : 16;
		s->notif = realloc(s->notif, s->notif_cap * sizeof *s->notif);
		if (!s->notif)
			abort();
	}
	s->notif[s->notif_len++] = *ev;
	/* An asynchronous notification does not move gdb's general thread:
	 * gdb goes on reading the thread it selected with Hg. */
	pid_t gen_pid = s->gen_pid, gen_tid = s->gen_tid;
	note_stop(s, ev);
	s->gen_pid = gen_pid;
	s->gen_tid = gen_tid;
	if (s->notif_len == 1) {
		struct buf msg = BUF_INIT;
		buf_puts(&msg, "Stop:");
		struct buf r = BUF_INIT;
		format_stop_reply(s, ev, &r);
		buf_append(&msg, r.data, r.len);
		remote_notify(&s->remote, msg.data, msg.len);
		buf_free(&r);
		buf_free(&msg);
	}
}

static void handle_vstopped(void *ctx, const char *a, size_t n, struct buf *reply)
{
	struct session *s = ctx;
	(void)a; (void)n;
	if (s->notif_len) {
		memmove(s->notif, s->notif + 1, (s->notif_len - 1) * sizeof *s->notif);
		s->notif_len--;
	}
	if (s->notif_len)
		format_stop_reply(s, &s->notif[0], reply);
	else
		reply_ok(reply);
}

/* Non-stop '?': every stopped thread's status, the first as the reply. */
static void nonstop_status(struct session *s, struct buf *reply)
{
	s->notif_len = 0;
	for (struct process *p = processes; p; p = p->next)
		for (struct thread *t = p->threads; t; t = t->next) {
			if (!t->stopped)
				continue;
			struct stop_event ev = {.kind = STOP_SIGNAL, .sig = 0, .pid = p->pid, .tid = t->tid};
			if (s->have_last && s->last.tid == t->tid && s->last.kind == STOP_SIGNAL)
				ev = s->last;
			else if (t->pending.kind == STOP_SIGNAL && t->pending.tid == t->tid)
				ev = t->pending;
			if (s->notif_len == s->notif_cap) {
				s->notif_cap = s->notif_cap ? 2 * s->notif_cap : 16;
				s->notif = realloc(s->notif, s->notif_cap * sizeof *s->notif);
				if (!s->notif)
					abort();
			}
			s->notif[s->notif_len++] = ev;
		}
	if (s->notif_len)
		format_stop_reply(s, &s->notif[0], reply);
	else
		reply_ok(reply);
}

/* --- environment ------------------------------------------------------ */

extern char **environ;

static size_t env_count(void)
{
	size_t n = 0;
	while (target_settings.env && target_settings.env[n])
		n++;
	return n;
}

static void env_reset(void)
{
	for (size_t i = 0; target_settings.env && target_settings.env[i]; i++)
		free(target_settings.env[i]);
	free(target_settings.env);
	size_t n = 0;
	while (environ[n])
		n++;
	target_settings.env = calloc(n + 1, sizeof(char *));
	if (!target_settings.env)
		abort();
	for (size_t i = 0; i < n; i++)
		target_settings.env[i] = strdup(environ[i]);
}

static void env_unset(const char *name)
{
	size_t len = strlen(name), n = env_count(), o = 0;
	for (size_t i = 0; i < n; i++) {
		char *e = target_settings.env[i];
		if (strncmp(e, name, len) == 0 && e[len] == '=')
			free(e);
		else
			target_settings.env[o++] = e;
	}
	target_settings.env[o] = NULL;
}

static void env_set(const char *assignment)
{
	const char *eq = strchr(assignment, '=');
	if (!eq)
		return;
	char *name = strndup(assignment, (size_t)(eq - assignment));
	env_unset(name);
	free(name);
	size_t n = env_count();
	char **grown = realloc(target_settings.env, (n + 2) * sizeof(char *));
	if (!grown)
		abort();
	target_settings.env = grown;
	grown[n] = strdup(assignment);
	grown[n + 1] = NULL;
}

static char *hex_to_string(const char *a, size_t n)
{
	char *s = malloc(n / 2 + 1);
	if (!s)
		return NULL;
	if (hex_decode(a, n, s) < 0) {
		free(s);
		return NULL;
	}
	s[n / 2] = '\0';
	return s;
}

static void handle_qenv_hex(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	char *s = hex_to_string(a, n);
	if (!s || !strchr(s, '=')) {
		free(s);
		reply_error(reply, 1);
		return;
	}
	env_set(s);
	free(s);
	reply_ok(reply);
}

static void handle_qenv_unset(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	char *s = hex_to_string(a, n);
	if (!s) {
		reply_error(reply, 1);
		return;
	}
	env_unset(s);
	free(s);
	reply_ok(reply);
}

static void handle_qenv_reset(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx; (void)a; (void)n;
	env_reset();
	reply_ok(reply);
}

static void handle_qsetworkingdir(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	free(target_settings.cwd);
	target_settings.cwd = NULL;
	if (n) {
		target_settings.cwd = hex_to_string(a, n);
		if (!target_settings.cwd) {
			reply_error(reply, 1);
			return;
		}
	}
	reply_ok(reply);
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

static void start_program(struct session *s, char **argv, struct buf *reply)
{
	char err[512];
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

static void handle_vrun(void *ctx, const char *a, size_t n, struct buf *reply)
{
	struct session *s = ctx;
	const char *p = a, *end = a + n;
	if (refused(TREQ_RUN, reply))
		return;
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

static void handle_vattach(void *ctx, const char *a, size_t n, struct buf *reply)
{
	struct session *s = ctx;
	const char *p = a, *end = a + n;
	uint64_t pid;
	if (refused(TREQ_RUN, reply))
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

static void handle_vkill(void *ctx, const char *a, size_t n, struct buf *reply)
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

static void handle_restart(void *ctx, const char *a, size_t n, struct buf *reply)
{
	struct session *s = ctx;
	(void)a; (void)n;
	buf_reset(reply);
	if (!s->extended || !s->last_run_argv)
		return;
	while (processes)
		target_kill(processes);
	struct buf ignored = BUF_INIT;
	start_program(s, s->last_run_argv, &ignored);
	buf_free(&ignored);
	buf_reset(reply);
}

static void handle_vctrlc(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)a; (void)n;
	if (refused(TREQ_INTERRUPT, reply))
		return;
	if (!SESSION(ctx)->non_stop) {
		reply_error(reply, 1);   /* all-stop interrupts with a raw ^C */
		return;
	}
	target_interrupt();
	reply_ok(reply);
}

static void handle_empty(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx; (void)a; (void)n;
	buf_reset(reply);
}

/* --- qXfer ------------------------------------------------------------ */

static void serve_doc(struct session *s, const char *key, const char *range, size_t range_len,
		      const char *(*build)(struct session *, const char *, struct buf *),
		      const char *annex, struct buf *reply)
{
	unsigned long long offset, length;
	if (xfer_parse_range(range, range_len, &offset, &length) < 0) {
		reply_error(reply, 1);
		return;
	}
	/* Build at offset 0; later chunks come from the same document. */
	if (offset == 0 || strcmp(s->xfer_key, key) != 0) {
		buf_reset(&s->xfer);
		const char *err = build(s, annex, &s->xfer);
		if (err) {
			s->xfer_key[0] = '\0';
			reply_error_msg(reply, err);
			return;
		}
		snprintf(s->xfer_key, sizeof s->xfer_key, "%s", key);
	}
	xfer_reply(reply, s->xfer.data ? s->xfer.data : "", s->xfer.len, range, range_len);
}

static const char *build_threads(struct session *s, const char *annex, struct buf *doc)
{
	(void)annex;
	return xfer_threads(s, doc);
}

static const char *build_libraries(struct session *s, const char *annex, struct buf *doc)
{
	(void)annex;
	return xfer_libraries_svr4(s, doc);
}

static const char *build_auxv(struct session *s, const char *annex, struct buf *doc)
{
	(void)annex;
	return xfer_auxv(s, doc);
}

static const char *build_exec_file(struct session *s, const char *annex, struct buf *doc)
{
	return xfer_exec_file(s, annex, doc);
}

static const char *build_osdata(struct session *s, const char *annex, struct buf *doc)
{
	return xfer_osdata(s, annex, doc);
}

static const char *build_siginfo(struct session *s, const char *annex, struct buf *doc)
{
	(void)annex;
	struct thread *t = general_thread(s);
	siginfo_t si;
	if (!t || target_siginfo_read(t, &si) < 0)
		return "No signal information for this thread.";
	buf_append(doc, &si, sizeof si);
	return NULL;
}


static void xfer_object(struct session *s, const char *object,
			const char *(*build)(struct session *, const char *, struct buf *),
			bool needs_process, int refusal, const char *a, size_t n, struct buf *reply)
{
	if (refusal >= 0 && refused((enum target_request)refusal, reply))
		return;
	char annex[256], key[64];
	const char *range;
	size_t range_len;
	if (!xfer_split_annex(a, n, annex, sizeof annex, &range, &range_len)) {
		reply_error(reply, 1);
		return;
	}
	if (needs_process && !processes) {
		reply_error_msg(reply, "No process.");
		return;
	}
	snprintf(key, sizeof key, "%s:%.40s", object, annex);
	serve_doc(s, key, range, range_len, build, annex, reply);
}

static void handle_xfer_features(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	char annex[256];
	const char *range;
	size_t range_len;
	if (!xfer_split_annex(a, n, annex, sizeof annex, &range, &range_len)) {
		reply_error(reply, 1);
		return;
	}
	const char *xml = arch_feature(target_regfile(), annex);
	if (!xml) {
		reply_error_msg(reply, "No such target description file.");
		return;
	}
	if (xfer_reply(reply, xml, strlen(xml), range, range_len) < 0)
		reply_error(reply, 1);
}

static void handle_xfer_threads(void *ctx, const char *a, size_t n, struct buf *r) { xfer_object(ctx, "threads", build_threads, false, -1, a, n, r); }
static void handle_xfer_libraries(void *ctx, const char *a, size_t n, struct buf *r) { xfer_object(ctx, "libraries-svr4", build_libraries, true, TREQ_LIBRARIES, a, n, r); }
static void handle_xfer_auxv(void *ctx, const char *a, size_t n, struct buf *r) { xfer_object(ctx, "auxv", build_auxv, true, TREQ_AUXV, a, n, r); }
static void handle_xfer_exec_file(void *ctx, const char *a, size_t n, struct buf *r) { xfer_object(ctx, "exec-file", build_exec_file, false, -1, a, n, r); }
static void handle_xfer_osdata(void *ctx, const char *a, size_t n, struct buf *r) { xfer_object(ctx, "osdata", build_osdata, false, -1, a, n, r); }
static void handle_xfer_siginfo(void *ctx, const char *a, size_t n, struct buf *r) { xfer_object(ctx, "siginfo", build_siginfo, true, TREQ_SIGINFO, a, n, r); }

static void handle_xfer_siginfo_write(void *ctx, const char *a, size_t n, struct buf *reply)
{
	struct thread *t = general_thread(ctx);
	const char *p = a, *end = a + n;
	uint64_t offset;
	if (refused(TREQ_WRITE, reply))
		return;
	/* ":OFFSET:DATA" (annex empty) */
	if (p < end && *p == ':')
		p++;
	if (!t || !hex_parse_u64_sep(&p, end, ':', &offset)) {
		reply_error(reply, 1);
		return;
	}
	siginfo_t si;
	if (target_siginfo_read(t, &si) < 0) {
		reply_error(reply, 1);
		return;
	}
	size_t len = (size_t)(end - p);
	char *data = malloc(len + 1);
	if (!data) {
		reply_error(reply, 1);
		return;
	}
	memcpy(data, p, len);
	long got = bin_unescape(data, len);
	if (got < 0 || offset > sizeof si) {
		free(data);
		reply_error(reply, 1);
		return;
	}
	size_t take = (size_t)got;
	if (offset + take > sizeof si)
		take = sizeof si - (size_t)offset;
	memcpy((char *)&si + offset, data, take);
	free(data);
	if (target_siginfo_write(t, &si) < 0) {
		reply_error(reply, 1);
		return;
	}
	SESSION(ctx)->xfer_key[0] = '\0';
	buf_printf(reply, "%zx", take);
}

/* MTE: "ADDR,LEN:TYPE" of qMemTags and QMemTags; false when malformed or
 * there is no thread to ask (tags are per process: any of its threads). */
static bool memtags_args(void *ctx, const char **p, const char *end, uint64_t *addr,
			 uint64_t *len, uint64_t *type, struct thread **t)
{
	*t = general_thread(ctx);
	return *t && hex_parse_u64_sep(p, end, ',', addr) && hex_parse_u64_sep(p, end, ':', len) &&
	       hex_parse_u64(p, end, type) && *type <= INT32_MAX;
}

static void handle_qmemtags(void *ctx, const char *a, size_t n, struct buf *reply)
{
	const char *p = a, *end = a + n;
	uint64_t addr, len, type;
	struct thread *t;
	/* one hex-encoded byte per 16-byte granule in a packet */
	static uint8_t tags[RSP_PACKET_SIZE / 2 - 1];
	ssize_t got = -1;
	if (memtags_args(ctx, &p, end, &addr, &len, &type, &t) && p == end)
		got = the_arch.memtags_read(t->tid, (int)type, addr, len, tags, sizeof tags);
	if (got <= 0) {
		reply_error(reply, 1);
		return;
	}
	buf_putc(reply, 'm');
	buf_hex(reply, tags, (size_t)got);
}

static void handle_Qmemtags(void *ctx, const char *a, size_t n, struct buf *reply)
{
	const char *p = a, *end = a + n;
	uint64_t addr, len, type;
	struct thread *t;
	static uint8_t tags[RSP_PACKET_SIZE / 2];
	long ntags = -1;
	if (memtags_args(ctx, &p, end, &addr, &len, &type, &t) && p < end && *p++ == ':' &&
	    (size_t)(end - p) / 2 <= sizeof tags)
		ntags = hex_decode(p, (size_t)(end - p), tags);
	if (ntags < 0 || the_arch.memtags_write(t->tid, (int)type, addr, len, tags, (size_t)ntags) < 0) {
		reply_error(reply, 1);
		return;
	}
	reply_ok(reply);
}

static void handle_vfile_packet(void *ctx, const char *a, size_t n, struct buf *reply)
{
	handle_vfile(ctx, a, n, reply);
}

static const struct packet_handler handlers[] = {
	{"!", true, 0, handle_extended},
	{"?", true, 0, handle_status},
	{"c", false, NEEDS_PROCESS, handle_c},
	{"C", false, NEEDS_PROCESS, handle_C},
	{"s", false, NEEDS_PROCESS, handle_s},
	{"S", false, NEEDS_PROCESS, handle_S},
	{"D", false, NEEDS_PROCESS, handle_detach},
	{"g", true, NEEDS_PROCESS, handle_g},
	{"G", false, NEEDS_PROCESS, handle_G},
	{"p", false, NEEDS_PROCESS, handle_p},
	{"P", false, NEEDS_PROCESS, handle_P},
	{"H", false, 0, handle_H},
	{"k", true, 0, handle_kill},
	{"m", false, NEEDS_PROCESS, handle_m},
	{"M", false, NEEDS_PROCESS, handle_M},
	{"X", false, NEEDS_PROCESS, handle_X},
	{"Z", false, NEEDS_PROCESS, handle_Z},
	{"z", false, NEEDS_PROCESS, handle_z},
	{"T", false, 0, handle_thread_alive},
	{"R", false, 0, handle_restart},
	{"qAttached", false, 0, handle_qattached},
	{"qC", true, 0, handle_qC},
	{"qCRC:", false, NEEDS_PROCESS, handle_qcrc},
	{"qfThreadInfo", true, 0, handle_qfthreadinfo},
	{"qsThreadInfo", true, 0, handle_qsthreadinfo},
	{"qOffsets", true, NEEDS_PROCESS, handle_qoffsets},
	{"qRcmd,", false, 0, handle_qrcmd},
	{"qSearch:memory:", false, NEEDS_PROCESS, handle_qsearch},
	{"qSupported", false, 0, handle_qsupported},
	{"qSymbol:", false, 0, handle_qsymbol},
	{"qGetTLSAddr:", false, NEEDS_PROCESS, handle_qgettlsaddr},
	{"qXfer:features:read:", false, 0, handle_xfer_features},
	{"qXfer:btrace:read:", false, 0, handle_xfer_btrace},
	{"qXfer:btrace-conf:read:", false, 0, handle_xfer_btrace_conf},
	{"Qbtrace:", false, 0, handle_qbtrace},
	{"Qbtrace-conf:", false, 0, handle_qbtrace_conf},
	{"qXfer:threads:read:", false, 0, handle_xfer_threads},
	{"qXfer:libraries-svr4:read:", false, 0, handle_xfer_libraries},
	{"qXfer:auxv:read:", false, 0, handle_xfer_auxv},
	{"qXfer:exec-file:read:", false, 0, handle_xfer_exec_file},
	{"qXfer:osdata:read:", false, 0, handle_xfer_osdata},
	{"qXfer:siginfo:read:", false, 0, handle_xfer_siginfo},
	{"qXfer:siginfo:write:", false, NEEDS_PROCESS, handle_xfer_siginfo_write},
	{"QStartNoAckMode", true, 0, handle_noack},
	{"QPassSignals:", false, 0, handle_qpasssignals},
	{"QProgramSignals:", false, 0, handle_qprogramsignals},
	{"QCatchSyscalls:", false, 0, handle_qcatchsyscalls},
	{"QDisableRandomization:", false, 0, handle_qdisablerandom},
	{"QStartupWithShell:", false, 0, handle_qstartupwithshell},
	{"QEnvironmentHexEncoded:", false, 0, handle_qenv_hex},
	{"QEnvironmentUnset:", false, 0, handle_qenv_unset},
	{"QEnvironmentReset", true, 0, handle_qenv_reset},
	{"QSetWorkingDir:", false, 0, handle_qsetworkingdir},
	{"QThreadEvents:", false, 0, handle_qthreadevents},
	{"QNonStop:", false, 0, handle_qnonstop},
	{"vCont?", true, 0, handle_vcont_query},
	{"vCont", false, NEEDS_PROCESS, handle_vcont},
	{"vRun", false, 0, handle_vrun},
	{"vAttach;", false, 0, handle_vattach},
	{"vKill;", false, 0, handle_vkill},
	{"vCtrlC", true, NEEDS_PROCESS, handle_vctrlc},
	{"vStopped", true, 0, handle_vstopped},
	{"vFile:", false, 0, handle_vfile_packet},
	{"qMemTags:", false, NEEDS_PROCESS, handle_qmemtags},
	{"QMemTags:", false, NEEDS_PROCESS, handle_Qmemtags},
	{"vMustReplyEmpty", true, 0, handle_empty},
};

static bool packet_disabled(struct session *s, const struct packet_handler *h)
{
	const struct options *o = s->opts;
	if (!o)
		return false;
	return (o->no_vcont && (h->fn == handle_vcont || h->fn == handle_vcont_query)) ||
	       (o->no_qc && h->fn == handle_qC) ||
	       (o->no_qfthreadinfo && (h->fn == handle_qfthreadinfo || h->fn == handle_qsthreadinfo));
}

/* Memory tagging only where the machine has it (empty reply otherwise). */
static bool packet_absent(const struct packet_handler *h)
{
	return (h->fn == handle_qmemtags || h->fn == handle_Qmemtags) && !target_regfile()->memtags;
}

void session_dispatch(struct session *s, const char *pkt, size_t len, struct buf *reply)
{
	const char *args;
	buf_reset(reply);
	const struct packet_handler *h =
		dispatch_find(handlers, sizeof handlers / sizeof handlers[0], pkt, len, &args);
	if (!h || packet_disabled(s, h) || packet_absent(h))
		return;   /* unknown packet: empty reply */
	if ((h->flags & NEEDS_PROCESS) && !processes) {
		reply_error(reply, 1);
		return;
	}
	h->fn(s, args, (size_t)(pkt + len - args), reply);
}

void session_reset(struct session *s)
{
	s->extended = false;
	s->multiprocess = s->swbreak = s->hwbreak = false;
	s->no_resumed = s->vcont_supported = false;
	s->gen_pid = s->gen_tid = 0;
	s->cont_pid = s->cont_tid = -1;
	buf_reset(&s->xfer);
	s->xfer_key[0] = '\0';
	target_settings.thread_events = false;
	s->non_stop = target_non_stop = false;
	s->notif_len = 0;
	target_settings.report_fork = target_settings.report_vfork = false;
	target_settings.report_exec = false;
	if (!target_settings.env)
		env_reset();
}

void session_serve(struct session *s)
{
	struct buf pkt = BUF_INIT, reply = BUF_INIT;
	while (!s->exit_requested) {
		if (s->non_stop && !remote_input_pending(&s->remote)) {
			/* Threads run while gdb talks: watch both. */
			struct stop_event ev;
			while (target_next_event(&ev))
				notify_stop(s, &ev);
			struct pollfd fds[2] = {{s->remote.in_fd, POLLIN, 0}, {target_event_fd(), POLLIN, 0}};
			if (poll(fds, 2, -1) < 0 && errno != EINTR)
				break;
			if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
		}
		enum getpkt_result r = remote_getpkt(&s->remote, &pkt);
		if (r == GETPKT_CLOSED)
			break;
		if (r == GETPKT_INTERRUPT) {
			/* A ^C that crossed a stop reply: the SIGINT waits in the
			 * stopped process and shows at the next resume, so it is
			 * not lost (gdb sent it believing the program runs). */
			if (processes)
				target_interrupt();
			continue;
		}
		/* R, k and vMustReplyEmpty-style packets with no reply. */
		bool no_reply = (pkt.len >= 1 && (pkt.data[0] == 'R' || (pkt.data[0] == 'k' && pkt.len == 1)));
		s->reply_sent = false;
		session_dispatch(s, pkt.data, pkt.len, &reply);
		if (s->reply_sent)
			continue;   /* the handler sent its reply itself */
		if (s->remote.closed)
			break;
		if (no_reply)
			continue;
		if (remote_putpkt(&s->remote, reply.data ? reply.data : "", reply.len) < 0)
			break;
	}
	buf_free(&pkt);
	buf_free(&reply);
}
