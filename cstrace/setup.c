/* Setting a capture up: see setup.h. */
#include "cstrace/setup.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cstrace/stop_reply.h"

/* RC (not RSP_OK) of a step: a lost link, or the server refused what
 * FMT says ("FMT: the server's error"). Returns -1. */
static int refused(struct cap *k, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int refused(struct cap *k, int rc, const char *fmt, ...)
{
	if (cap_link_failed(rc))
		return cap_fail(k, rc, "setting up");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(k->error, sizeof(k->error), fmt, ap);
	va_end(ap);
	size_t n = strlen(k->error);
	snprintf(k->error + n, sizeof(k->error) - n, ": %s", k->c.err);
	return -1;
}

/* Non-stop, after vRun, vAttach or '?': the stop in R (a stop reply, or
 * "OK" with the stops to ask for with '?'), and the server's queue of
 * stop replies emptied with vStopped: it sends no notification before. */
static int nonstop_settle(struct cap *k, struct buf *r)
{
	int rc = RSP_OK;
	struct buf more = BUF_INIT;
	if (!strcmp(r->data ? r->data : "", "OK"))
		rc = rsp_client_command(&k->c, "?", r);
	for (int i = 0; rc == RSP_OK && i < 65536; i++) {
		rc = rsp_client_command(&k->c, "vStopped", &more);
		if (rc != RSP_OK || !strcmp(more.data, "OK"))
			break;
	}
	buf_free(&more);
	/* an old server may not know vStopped outside a notification */
	return rc == RSP_UNSUPPORTED || rc == RSP_ERROR_REPLY ? RSP_OK : rc;
}

/* qSupported, PacketSize, no-ack mode; non-stop if offered and wanted
 * (before vRun/vAttach, as gdb does): the trace is then read while the
 * program runs, which is never stopped for it. */
static int handshake(struct cap *k, struct buf *r)
{
	char value[64];
	/* a server may greet with an ack of its own */
	int rc = rsp_client_command(&k->c, "qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+;no-resumed+", r);
	if (rc != RSP_OK)
		return cap_fail(k, rc, "setting up");
	snprintf(k->qsup, sizeof(k->qsup), "%s", r->data);
	k->multiprocess = rsp_feature(k->qsup, "multiprocess");
	if (rsp_feature_value(k->qsup, "PacketSize", value, sizeof(value))) {
		unsigned long ps = strtoul(value, NULL, 16);
		if (ps >= 256)
			k->c.packet_size = ps;
	}
	if (rsp_feature(k->qsup, "QStartNoAckMode") &&
	    rsp_client_command(&k->c, "QStartNoAckMode", r) == RSP_OK)
		k->c.noack = true;
	if (k->o->all_stop) {
		snprintf(k->mode_reason, sizeof(k->mode_reason), "--all-stop");
	} else if (!rsp_feature(k->qsup, "QNonStop")) {
		snprintf(k->mode_reason, sizeof(k->mode_reason), "the server offers no non-stop mode");
	} else if ((rc = rsp_client_command(&k->c, "QNonStop:1", r)) == RSP_OK) {
		k->nonstop = true;
		snprintf(k->mode_reason, sizeof(k->mode_reason), "offered by the server");
	} else if (cap_link_failed(rc)) {
		return cap_fail(k, rc, "setting up");
	} else {
		snprintf(k->mode_reason, sizeof(k->mode_reason), "QNonStop:1 refused (%.100s)", k->c.err);
	}
	return 0;
}

/* CoreSight or bts, as asked or as offered. */
static int choose_format(struct cap *k)
{
	const struct capture_opts *o = k->o;
	if (!strcmp(o->format, "CoreSight") || !strcmp(o->format, "etm"))
		k->coresight = true;
	else if (!strcmp(o->format, "bts"))
		k->coresight = false;
	else
		k->coresight = rsp_feature(k->qsup, "Qbtrace:CoreSight");
	if (!rsp_feature(k->qsup, k->coresight ? "Qbtrace:CoreSight" : "Qbtrace:bts")) {
		snprintf(k->error, sizeof(k->error), "the server offers no %s branch tracing%s",
			 k->coresight ? "CoreSight" : "bts",
			 rsp_feature(k->qsup, "Qbtrace:bts") ? " (only bts: try --format bts)" : "");
		return -1;
	}
	if (!k->coresight && o->nconf) {
		snprintf(k->error, sizeof(k->error), "%s needs CoreSight trace; the server records "
			 "bts (software) only", o->conf[0]);
		return -1;
	}
	return 0;
}

/* The <architecture> of target.xml, and what we know of it. */
static void read_architecture(struct cap *k)
{
	struct buf tdesc = BUF_INIT;
	if (rsp_client_xfer_read(&k->c, "features", "target.xml", &tdesc, NULL, NULL) == RSP_OK) {
		const char *a = strstr(tdesc.data ? tdesc.data : "", "<architecture>");
		if (a) {
			a += 14;
			snprintf(k->arch, sizeof(k->arch), "%.*s", (int)strcspn(a, "<"), a);
		}
	}
	buf_free(&tdesc);
	k->ad = arch_desc_by_gdb_name(k->arch);
}

/* The program to trace: run (vRun), attached (vAttach), or the one the
 * server has ('?'). Its stop reply is left in R. */
static int start_program(struct cap *k, struct buf *r)
{
	const struct capture_opts *o = k->o;
	int rc;
	if (o->prog_argc || o->attach_pid) {
		/* extended mode for vRun and vAttach */
		if ((rc = rsp_client_command(&k->c, "!", r)) != RSP_OK && cap_link_failed(rc))
			return cap_fail(k, rc, "setting up");
	}
	if (o->prog_argc) {
		struct buf pkt = BUF_INIT;
		buf_puts(&pkt, "vRun");
		for (int i = 0; i < o->prog_argc; i++) {
			buf_putc(&pkt, ';');
			buf_hex(&pkt, o->prog_argv[i], strlen(o->prog_argv[i]));
		}
		rc = rsp_client_command(&k->c, pkt.data, r);
		buf_free(&pkt);
		if (rc != RSP_OK)
			return refused(k, rc, "running %s", o->prog_argv[0]);
		k->started = true;
	} else if (o->attach_pid) {
		rc = rsp_client_commandf(&k->c, r, "vAttach;%lx", o->attach_pid);
		if (rc != RSP_OK)
			return refused(k, rc, "attaching to %ld", o->attach_pid);
	} else {
		rc = rsp_client_command(&k->c, "?", r);
		if (rc != RSP_OK && cap_link_failed(rc))
			return cap_fail(k, rc, "setting up");
	}
	if (k->nonstop && rc == RSP_OK && (rc = nonstop_settle(k, r)) != RSP_OK && cap_link_failed(rc))
		return cap_fail(k, rc, "setting up");
	return rc == RSP_OK ? 0 : 1;
}

/* The program's first thread from its stop reply R (START_RC: 1 if the
 * server answered no stop reply). */
static struct cthread *first_thread(struct cap *k, int start_rc, const struct buf *r)
{
	struct stop st;
	stop_reply_parse(r->data ? r->data : "", k->o->attach_pid, &st);
	if (start_rc != 0 || st.kind != 'T' || !st.tid) {
		snprintf(k->error, sizeof(k->error), "no process to trace (the server answered \"%.40s\"); "
			 "give a program after -- or --attach PID", r->data ? r->data : "");
		return NULL;
	}
	k->pid = st.pid ? st.pid : st.tid;
	return cap_add_thread(k, k->pid, st.tid);
}

/* A live process (it has a shared-library list; a replayed capture not):
 * its exit caught at exit and exit_group so that its last trace and its
 * memory can still be read. */
static int catch_exit(struct cap *k, struct buf *r)
{
	struct buf libs = BUF_INIT;
	int rc = rsp_client_xfer_read(&k->c, "libraries-svr4", "", &libs, NULL, NULL);
	buf_free(&libs);
	if (cap_link_failed(rc))
		return cap_fail(k, rc, "setting up");
	k->live = rc == RSP_OK;
	if (k->live && k->ad) {
		rc = rsp_client_commandf(&k->c, r, "QCatchSyscalls:1;%lx;%lx", k->ad->exit_nr, k->ad->exit_group_nr);
		if (cap_link_failed(rc))
			return cap_fail(k, rc, "setting up");
	}
	return 0;
}

/* The --stop-at addresses: a trace stop trigger (CoreSight) and a
 * breakpoint each. */
static int set_stop_addresses(struct cap *k, struct buf *r)
{
	const struct capture_opts *o = k->o;
	int rc;
	for (size_t i = 0; i < o->nstop_at; i++) {
		if (k->coresight) {
			rc = rsp_client_commandf(&k->c, r, "Qbtrace-conf:CoreSight:trigger:off-address=0x%llx",
						 (unsigned long long)o->stop_at[i]);
			if (cap_link_failed(rc))
				return cap_fail(k, rc, "setting up");
			/* a trace unit without comparators left: the breakpoint still ends it */
		}
		if (k->cannot_run)
			continue;
		rc = rsp_client_commandf(&k->c, r, "Z0,%llx,%d", (unsigned long long)o->stop_at[i],
					 cap_breakpoint_kind(k));
		if (rc != RSP_OK && (cap_link_failed(rc) || k->live))
			return refused(k, rc, "breakpoint at 0x%llx", (unsigned long long)o->stop_at[i]);
	}
	return 0;
}

/* Trace options, then the trace enabled on thread T. */
static int enable_trace(struct cap *k, struct cthread *t, struct buf *r)
{
	const struct capture_opts *o = k->o;
	const char *fmt = k->coresight ? "CoreSight" : "bts";
	int rc;
	if ((rc = cap_select_thread(k, t)) != RSP_OK)
		return refused(k, rc, "selecting thread %ld", t->tid);
	if (o->size) {
		rc = rsp_client_commandf(&k->c, r, "Qbtrace-conf:%s:size=0x%llx", fmt, (unsigned long long)o->size);
		if (rc != RSP_OK)
			return refused(k, rc, "size=0x%llx", (unsigned long long)o->size);
	}
	for (size_t i = 0; i < o->nconf; i++) {
		rc = rsp_client_commandf(&k->c, r, "Qbtrace-conf:CoreSight:%s", o->conf[i]);
		if (rc != RSP_OK)
			return refused(k, rc, "%s", o->conf[i]);
	}
	if (set_stop_addresses(k, r) < 0)
		return -1;
	rc = rsp_client_commandf(&k->c, r, "Qbtrace:%s", fmt);
	if (rc != RSP_OK)
		return refused(k, rc, "enabling %s trace", fmt);
	t->traced = true;
	rc = rsp_client_xfer_read(&k->c, "btrace-conf", "", &k->conf_xml, NULL, NULL);
	if (cap_link_failed(rc))
		return cap_fail(k, rc, "setting up");
	const char *sz = k->conf_xml.data ? strstr(k->conf_xml.data, "size=\"") : NULL;
	if (sz)
		k->buffer_size = strtoull(sz + 6, NULL, 16);
	return 0;
}

int setup_capture(struct cap *k)
{
	struct buf r = BUF_INIT;
	struct cthread *t = NULL;
	int rc;
	k->c.timeout_ms = k->o->reply_timeout_ms;
	if (handshake(k, &r) < 0 || choose_format(k) < 0)
		goto fail;
	read_architecture(k);
	if ((rc = start_program(k, &r)) < 0 || !(t = first_thread(k, rc, &r)))
		goto fail;
	if (catch_exit(k, &r) < 0 || enable_trace(k, t, &r) < 0)
		goto fail;
	buf_free(&r);
	return 0;
fail:
	buf_free(&r);
	return -1;
}
