/* Stop replies: see stop_reply.h. */
#include "server/stop_reply.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/reply.h"
#include "server/settings.h"
#include "server/signals.h"
#include "server/thread_db.h"
#include "server/xfer.h"


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

void format_stop_reply(struct session *s, const struct stop_event *ev, struct buf *r)
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

void note_stop(struct session *s, const struct stop_event *ev)
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
void resume_and_report(struct session *s, struct buf *reply)
{
	struct stop_event ev;
	xfer_cache_forget(s);   /* documents describe the stopped state */
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

void set_all_resume(enum resume_kind kind)
{
	for (struct process *p = processes; p; p = p->next)
		for (struct thread *t = p->threads; t; t = t->next) {
			t->resume = kind;
			t->resume_sig = 0;
		}
}

/* Non-stop: queue a stop reply; the first one goes out as a notification. */
void notify_stop(struct session *s, const struct stop_event *ev)
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

void handle_vstopped(void *ctx, const char *a, size_t n, struct buf *reply)
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

void handle_status_query(void *ctx, const char *a, size_t n, struct buf *reply)
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

void handle_qnonstop(void *ctx, const char *a, size_t n, struct buf *reply)
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
