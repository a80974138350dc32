/* Queries: see queries.h. */
#include "server/queries.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/hex.h"
#include "protocol/packet.h"
#include "server/btrace.h"
#include "server/reply.h"
#include "server/session.h"
#include "server/monitor.h"
#include "server/reply.h"
#include "server/session.h"
#include "server/thread_db.h"
#include "server/tracepoint.h"


void handle_qattached(void *ctx, const char *a, size_t n, struct buf *reply)
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

void handle_qC(void *ctx, const char *a, size_t n, struct buf *reply)
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

void handle_qfthreadinfo(void *ctx, const char *a, size_t n, struct buf *reply)
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

void handle_qsthreadinfo(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx; (void)a; (void)n;
	buf_putc(reply, 'l');
}

/* qGetTLSAddr:PTID,OFFSET,LM: address of a __thread variable, through
 * libthread_db (server/thread_db.c); E01 while it is not set up. */
void handle_qgettlsaddr(void *ctx, const char *a, size_t n, struct buf *reply)
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
void handle_qoffsets(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx; (void)a; (void)n;
	buf_reset(reply);
}

void handle_qsupported(void *ctx, const char *a, size_t n, struct buf *reply)
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
	tracepoint_qsupported(reply);
	/* target-side conditions and dprintf: where something executes */
	if (!target_refuses(TREQ_AGENT))
		buf_puts(reply, ";ConditionalBreakpoints+;BreakpointCommands+");
}

void handle_qrcmd(void *ctx, const char *a, size_t n, struct buf *reply)
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

void handle_noack(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)a; (void)n;
	struct session *s = ctx;
	/* The OK still travels with an ack; no-ack starts after it. */
	remote_putpkt(&s->remote, "OK", 2);
	s->remote.noack = true;
	buf_reset(reply);
	s->reply_sent = true;
}

void handle_empty(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx; (void)a; (void)n;
	buf_reset(reply);
}

void handle_vfile_packet(void *ctx, const char *a, size_t n, struct buf *reply)
{
	struct session *s = ctx;
	handle_vfile(&s->hostio, s->opts->no_run, a, n, reply);
}
