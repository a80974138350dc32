/* The packet table and the per-connection loop: see packets.h. */

#include "server/packets.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"
#include "protocol/dispatch.h"
#include "server/btrace.h"
#include "server/exec_control.h"
#include "server/queries.h"
#include "server/regs_mem.h"
#include "server/reply.h"
#include "server/settings.h"
#include "server/stop_reply.h"
#include "server/thread_db.h"
#include "server/tracepoint.h"
#include "server/xfer.h"

/* Handler flags. */
#define NEEDS_PROCESS 1u   /* reply E01 when nothing is being debugged */


/* gdbserver's look_up_one_symbol: "qSymbol:HEXNAME" goes out as the reply
 * to gdb's last qSymbol packet; gdb answers "qSymbol:ADDR:HEXNAME" or
 * "qSymbol::HEXNAME", and may read memory or files meanwhile. Returns 1
 * found, 0 not, -1 when the exchange broke down. */
static int ask_client_for_symbol(void *ctx, const char *name, uint64_t *addr)
{
	struct session *s = ctx;
	struct buf req = BUF_INIT, pkt = BUF_INIT, reply = BUF_INIT;
	int rc = -1;
	buf_puts(&req, "qSymbol:");
	buf_hex(&req, name, strlen(name));
	if (remote_putpkt(&s->remote, req.data, req.len) < 0)
		goto out;
	for (;;) {
		enum getpkt_result r = remote_getpkt(&s->remote, &pkt);
		if (r == GETPKT_CLOSED)
			goto out;
		if (r == GETPKT_INTERRUPT)
			continue;
		bool mem = pkt.len > 0 && pkt.data[0] == 'm';
		bool file = pkt.len >= 6 && !memcmp(pkt.data, "vFile:", 6);
		if (!mem && !file)
			break;
		session_dispatch(s, pkt.data, pkt.len, &reply);
		if (remote_putpkt(&s->remote, reply.data ? reply.data : "", reply.len) < 0)
			goto out;
	}
	bool is_symbol = pkt.len >= 8 && !memcmp(pkt.data, "qSymbol:", 8);
	const char *p = is_symbol ? pkt.data + 8 : NULL, *end = pkt.data + pkt.len;
	uint64_t v;
	if (is_symbol && p < end && *p == ':') {
		rc = 0;     /* gdb does not know it */
	} else if (is_symbol && hex_parse_u64_sep(&p, end, ':', &v)) {
		*addr = v;
		rc = 1;
	} else {
		fprintf(stderr, "Malformed response to qSymbol, ignoring: %.*s\n",
			(int)(pkt.len > 80 ? 80 : pkt.len), pkt.data ? pkt.data : "");
	}
out:
	buf_free(&req);
	buf_free(&pkt);
	buf_free(&reply);
	return rc;
}

/* "qSymbol::" (new symbols, e.g. a library was loaded): libthread_db may
 * ask gdb for symbols now; the final OK ends the exchange. */
static void handle_qsymbol(void *ctx, const char *a, size_t n, struct buf *reply)
{
	if (n == 1 && a[0] == ':' && !target_refuses(TREQ_THREAD_DB) && processes)
		thread_db_qsymbol(general_thread(ctx), ask_client_for_symbol, ctx);
	reply_ok(reply);
}

static const struct packet_handler handlers[] = {
	{"!", true, 0, handle_extended},
	{"?", true, 0, handle_status_query},
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
	{"qXfer:btrace-calls:read:", false, 0, handle_xfer_btrace_calls},
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
	/* Tracepoints (tracepoint.c, trace_view.c). */
	{"QTinit", true, NEEDS_PROCESS, handle_qtinit},
	{"QTDP:", false, 0, handle_qtdp},
	{"QTDPsrc:", false, 0, handle_qtdpsrc},
	{"QTDV:", false, 0, handle_qtdv},
	{"QTro", false, 0, handle_qtro},
	{"QTStart", true, 0, handle_qtstart},
	{"QTStop", true, 0, handle_qtstop},
	{"qTStatus", true, 0, handle_qtstatus},
	{"QTFrame:", false, 0, handle_qtframe},
	{"qTfP", true, 0, handle_qtfp},
	{"qTsP", true, 0, handle_qtsp},
	{"qTfV", true, 0, handle_qtfv},
	{"qTsV", true, 0, handle_qtsv},
	{"qTV:", false, 0, handle_qtv},
	{"qTP:", false, 0, handle_qtp},
	{"QTBuffer:size:", false, 0, handle_qtbuffer_size},
	{"QTBuffer:circular:", false, 0, handle_qtbuffer_circular},
	{"qTBuffer:", false, 0, handle_qtbuffer_read},
	{"QTNotes:", false, 0, handle_qtnotes},
	{"QTDisconnected:", false, 0, handle_qtdisconnected},
	{"QTEnable:", false, 0, handle_qtenable},
	{"QTDisable:", false, 0, handle_qtdisable},
	{"QAllow:", false, 0, handle_qallow},
	{"qXfer:traceframe-info:read:", false, 0, handle_xfer_traceframe_info},
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
	if (traceframe_serves(s, pkt, len, reply))
		return;   /* gdb looks at a trace frame (tfind) */
	if ((h->flags & NEEDS_PROCESS) && !processes) {
		reply_error(reply, 1);
		return;
	}
	h->fn(s, args, (size_t)(pkt + len - args), reply);
}

/* A client connected: every per-connection state starts afresh, here. */
void session_begin(struct session *s)
{
	s->extended = false;
	s->multiprocess = s->swbreak = s->hwbreak = false;
	s->no_resumed = s->vcont_supported = false;
	s->gen_pid = s->gen_tid = 0;
	s->cont_pid = s->cont_tid = -1;
	buf_reset(&s->xfer);
	xfer_cache_forget(s);
	target_settings.thread_events = false;
	s->non_stop = target_non_stop = false;
	s->notif_len = 0;
	target_settings.report_fork = target_settings.report_vfork = false;
	target_settings.report_exec = false;
	if (!target_settings.env)
		env_reset();
	target_new_client();
	btrace_new_client();
}

/* The client is gone. */
void session_end(struct session *s)
{
	tracepoint_client_gone();
	remote_close(&s->remote);
	hostio_reset(&s->hostio);
}

/* The server exits: what the session holds goes. */
void session_free(struct session *s)
{
	buf_free(&s->xfer);
	for (size_t k = 0; s->last_run_argv && s->last_run_argv[k]; k++)
		free(s->last_run_argv[k]);
	free(s->last_run_argv);
	s->last_run_argv = NULL;
	free(s->notif);
	s->notif = NULL;
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
