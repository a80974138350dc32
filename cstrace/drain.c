/* Draining the trace: see drain.h. */
#include "cstrace/drain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cstrace/btrace_doc.h"
#include "cstrace/stop_reply.h"

static void record_gap(struct cap *k, struct cthread *t)
{
	t->gaps = realloc(t->gaps, (t->ngaps + 1) * sizeof(*t->gaps));
	if (!t->gaps)
		abort();
	t->gaps[t->ngaps++].offset = k->coresight ? t->bytes : t->nblocks;
	k->overflows++;
}

int drain_thread(struct cap *k, struct cthread *t, bool final)
{
	int rc;
	if (!t->traced || t->gone)
		return 0;
	if (k->coresight && k->no_delta && !final)
		return 0;
	if ((rc = cap_select_thread(k, t)) != RSP_OK) {
		if (cap_link_failed(rc))
			return cap_fail(k, rc, "selecting a thread");
		t->gone = true;
		return 0;
	}
	if (k->coresight) {
		rc = btrace_doc_read_coresight(k, t, k->no_delta ? "all" : "delta");
		if (rc == RSP_ERROR_REPLY && !strcmp(k->c.err, "Overflow.")) {
			record_gap(k, t);
			rc = btrace_doc_read_coresight(k, t, "new");
		} else if (rc == RSP_ERROR_REPLY && strstr(k->c.err, "elta") && !k->no_delta) {
			/* no deltas from this server (or a replayed capture):
			 * the whole trace at the end */
			k->no_delta = true;
			rc = final ? btrace_doc_read_coresight(k, t, "all") : RSP_OK;
		}
	} else {
		struct buf doc = BUF_INIT;
		if (t->read_once) {
			rc = btrace_doc_read_bts(k, t, "delta", &doc);
		} else {
			/* The first read: one byte of a delta fails if the ring
			 * wrapped before it (an overflow too); the document comes
			 * with all, since a first delta's oldest block has no begin
			 * (gdb stitches it to its own first PC). */
			rc = rsp_client_command(&k->c, "qXfer:btrace:read:delta:0,1", &doc);
			if (rc == RSP_OK || (rc == RSP_ERROR_REPLY && strcmp(k->c.err, "Overflow.") != 0)) {
				rc = btrace_doc_read_bts(k, t, "all", &doc);
			}
		}
		if (rc == RSP_ERROR_REPLY && !strcmp(k->c.err, "Overflow.")) {
			record_gap(k, t);
			rc = btrace_doc_read_bts(k, t, "new", &doc);
		}
		if (rc == RSP_OK && btrace_doc_take_blocks(k, t, &doc) < 0)
			rc = RSP_PROTOCOL;
		if (rc == RSP_OK) {
			t->read_once = true;
			t->reads++;
		}
		buf_free(&doc);
	}
	if (rc == LOCAL_FAIL)
		return -1;
	if (rc == RSP_ERROR_REPLY && (strstr(k->c.err, "not enabled") || strstr(k->c.err, "No such thread") ||
				      strstr(k->c.err, "Could not read the thread"))) {
		t->gone = true;     /* the thread exited meanwhile */
		return 0;
	}
	if (rc != RSP_OK) {
		char what[64];
		snprintf(what, sizeof(what), "reading the trace of thread %ld", t->tid);
		return cap_fail(k, rc, what);
	}
	return 0;
}

int drain_update_threads(struct cap *k)
{
	struct buf r = BUF_INIT;
	for (size_t i = 0; i < k->nthreads; i++)
		k->threads[i].listed = false;
	int rc = rsp_client_command(&k->c, "qfThreadInfo", &r);
	while (rc == RSP_OK && r.data[0] == 'm') {
		for (char *p = r.data + 1; *p;) {
			long pid = 0, tid = 0;
			char *comma = strchr(p, ',');
			if (comma)
				*comma = '\0';
			bool ok = stop_parse_ptid(p, k->pid, &pid, &tid);
			struct cthread *known = ok ? cap_find_thread(k, tid) : NULL;
			if (known)
				known->listed = true;
			if (!known && ok && (!k->pid || pid == k->pid)) {
				struct cthread *t = cap_add_thread(k, pid, tid);
				t->listed = true;
				/* non-stop: a new thread runs (its stop, if any, is reported) */
				t->running = k->nonstop;
				struct buf q = BUF_INIT;
				int qrc = cap_select_thread(k, t);
				if (qrc == RSP_OK)
					qrc = rsp_client_commandf(&k->c, &q, "Qbtrace:%s", k->coresight ? "CoreSight" : "bts");
				t->traced = qrc == RSP_OK || (qrc == RSP_ERROR_REPLY && strstr(k->c.err, "already"));
				buf_free(&q);
				if (cap_link_failed(qrc)) {
					buf_free(&r);
					return cap_fail(k, qrc, "tracing a new thread");
				}
			}
			if (!comma)
				break;
			p = comma + 1;
		}
		rc = rsp_client_command(&k->c, "qsThreadInfo", &r);
	}
	bool complete = rc == RSP_OK && r.data[0] == 'l';
	buf_free(&r);
	if (cap_link_failed(rc))
		return cap_fail(k, rc, "listing threads");
	/* Not listed: exited (their trace went with them). But a thread is
	 * read before it exits where its exit is caught (a live process of a
	 * known architecture; in a replay nothing exits), so one never read
	 * that leaves the list is the server's mistake, not an empty trace. */
	bool exits_read = (!k->live || k->ad) && !(k->coresight && k->no_delta) && !k->exited;
	for (size_t i = 0; complete && i < k->nthreads; i++) {
		struct cthread *t = &k->threads[i];
		if (t->listed || t->gone)
			continue;
		if (t->traced && !t->reads && exits_read) {
			snprintf(k->error, sizeof(k->error), "the server's thread list omits thread %ld, which is "
				 "traced and whose trace was never read", t->tid);
			k->conn_lost = k->bad_reply = true;
			return -1;
		}
		t->gone = true, t->running = false;
	}
	return 0;
}

int drain_all(struct cap *k, bool final)
{
	if (drain_update_threads(k) < 0)
		return -1;
	for (size_t i = 0; i < k->nthreads; i++)
		if (drain_thread(k, &k->threads[i], final) < 0)
			return -1;
	drain_show_progress(k, false);
	return 0;
}

void drain_show_progress(struct cap *k, bool force)
{
	if (!k->o->progress)
		return;
	double t = cap_now();
	if (!force && t - k->last_progress < 0.25)
		return;
	k->last_progress = t;
	double el = t - (k->t_traced ? k->t_traced : k->t0);
	double mib = (double)k->trace_bytes / (1 << 20);
	size_t nblocks = 0;
	for (size_t i = 0; i < k->nthreads; i++)
		nblocks += k->threads[i].nblocks;
	if (k->coresight)
		fprintf(stderr, "\r\033[Kcstrace capture: %s%s%.2f MiB of trace, %.2f MiB/s, %.1f s%s",
			k->o->label ? k->o->label : "", k->o->label ? ": " : "", mib, el > 0 ? mib / el : 0.0,
			el, k->overflows ? " (overflowed)" : "");
	else
		fprintf(stderr, "\r\033[Kcstrace capture: %s%s%zu blocks (%.2f MiB), %.0f blocks/s, %.1f s%s",
			k->o->label ? k->o->label : "", k->o->label ? ": " : "", nblocks, mib,
			el > 0 ? (double)nblocks / el : 0.0, el, k->overflows ? " (overflowed)" : "");
	k->progress_shown = true;
}

const char *drain_limit_reached(struct cap *k, double deadline)
{
	const struct capture_opts *o = k->o;
	if (o->interrupted && *o->interrupted)
		return "interrupted (Ctrl-C)";
	if (deadline && cap_now() >= deadline)
		return "time limit";
	if (o->max_size && k->trace_bytes >= o->max_size)
		return "size limit";
	return NULL;
}

bool drain_dump_later(struct cap *k)
{
	return k->running_drain_due && drain_limit_reached(k, k->deadline);
}

int drain_if_due(struct cap *k)
{
	if (!k->running_drain_due || cap_now() < k->running_drain_due)
		return 0;
	if (drain_all(k, false) < 0)
		return -1;
	k->drains++;
	k->running_drain_due = cap_now() + k->o->drain_ms / 1000.0;
	return 0;
}
