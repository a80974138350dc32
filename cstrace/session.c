/* The capture's shared helpers: see session.h. */
#include "cstrace/session.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double cap_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cap_msg(struct cap *k, const char *fmt, ...)
{
	va_list ap;
	if (k->progress_shown) {
		fputs("\r\033[K", stderr);
		k->progress_shown = false;
	}
	fprintf(stderr, "cstrace capture: %s%s", k->o->label ? k->o->label : "", k->o->label ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A failed exchange: the link (conn_lost) or the server's refusal. */
int cap_fail(struct cap *k, int rc, const char *what)
{
	if (rc == RSP_PROTOCOL) {
		/* nothing sensible can follow a corrupt reply: as a lost link */
		k->conn_lost = k->bad_reply = true;
		snprintf(k->error, sizeof(k->error), "%s: bad reply from the server: %s", what, k->c.err);
	} else if (rc == RSP_EOF || rc == RSP_IO_ERROR || rc == RSP_TIMEOUT) {
		k->conn_lost = true;
		snprintf(k->error, sizeof(k->error), "%s: connection lost: %s", what,
			 k->c.err[0] ? k->c.err : rsp_status_name(rc));
	} else {
		snprintf(k->error, sizeof(k->error), "%s: %s", what, k->c.err);
	}
	return -1;
}

bool cap_link_failed(int rc)
{
	return rc == RSP_EOF || rc == RSP_IO_ERROR || rc == RSP_TIMEOUT || rc == RSP_PROTOCOL;
}

char *cap_path(struct cap *k, const char *name)
{
	static char p[PATH_MAX + 128];
	snprintf(p, sizeof(p), "%s/%s", k->tmpdir, name);
	return p;
}

int cap_write_file(struct cap *k, const char *name, const char *text, size_t len)
{
	FILE *f = fopen(cap_path(k, name), "w");
	bool ok = f && fwrite(text, 1, len, f) == len;
	if (f && fclose(f) != 0)
		ok = false;
	if (!ok) {
		snprintf(k->error, sizeof(k->error), "%s: %s", name, strerror(errno));
		return -1;
	}
	return 0;
}

int cap_select_thread(struct cap *k, const struct cthread *t)
{
	struct buf r = BUF_INIT;
	int rc = k->multiprocess ? rsp_client_commandf(&k->c, &r, "Hgp%lx.%lx", t->pid, t->tid)
				 : rsp_client_commandf(&k->c, &r, "Hg%lx", t->tid);
	buf_free(&r);
	return rc;
}

struct cthread *cap_find_thread(struct cap *k, long tid)
{
	for (size_t i = 0; i < k->nthreads; i++)
		if (k->threads[i].tid == tid)
			return &k->threads[i];
	return NULL;
}

struct cthread *cap_add_thread(struct cap *k, long pid, long tid)
{
	struct cthread *t = realloc(k->threads, (k->nthreads + 1) * sizeof(*t));
	if (!t)
		abort();
	k->threads = t;
	t = &k->threads[k->nthreads++];
	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->tid = tid;
	if (k->nthreads == 1)
		snprintf(t->file, sizeof(t->file), "trace.bin");
	else
		snprintf(t->file, sizeof(t->file), "trace-%ld.bin", tid);
	return t;
}

int cap_breakpoint_kind(const struct cap *k)
{
	/* unknown: a 4-byte instruction, as on most targets */
	return k->ad ? k->ad->sw_breakpoint_kind : 4;
}
