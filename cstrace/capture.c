/* `cstrace capture`: see capture.h; session.h lists the parts.
 *
 * Every drain_ms the trace that arrived is read (qXfer:btrace:read delta:
 * CoreSight bytes, or bts blocks), new threads and newly mapped code
 * looked for. Non-stop (QNonStop:1, when offered): the program runs all
 * along, its threads' stops come as %Stop notifications and are handled
 * one thread at a time; at the end every thread is stopped (vCont;t).
 * All-stop (--all-stop, or no non-stop): the program is interrupted for
 * each read and continued. The program's exit is caught at its exit_group
 * syscall entry (QCatchSyscalls) so that its last trace and its memory
 * can still be read. */
#include "cstrace/capture.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cstrace/capture_json.h"
#include "cstrace/decode_dump.h"
#include "cstrace/drain.h"
#include "cstrace/link.h"
#include "cstrace/memory.h"
#include "cstrace/run.h"
#include "cstrace/session.h"
#include "cstrace/setup.h"
#include "cstrace/snapshot_out.h"

/* Run the program, draining the trace, until it ends or a limit. */
static int run_capture(struct cap *k)
{
	const struct capture_opts *o = k->o;
	double deadline = o->time_limit > 0 ? k->t_traced + o->time_limit : 0;
	enum run_end end = RUN_FAILED;
	k->deadline = deadline;

	if (memory_dump(k) < 0)
		goto out;
	end = k->nonstop ? run_nonstop(k, deadline) : run_all_stop(k, deadline);
	if (end != RUN_FINAL)
		goto out;
	end = RUN_FAILED;
	if ((k->live || !k->ndumps) && memory_dump(k) < 0)
		goto out;
	if (drain_all(k, true) < 0)
		goto out;
	if (k->o->memory && k->coresight && k->have_config && !k->ndumps && decode_dump_pages(k) < 0)
		goto out;
	end = RUN_DONE;
out:
	k->t_run_end = cap_now();
	return end == RUN_DONE ? 0 : -1;
}

/* Trace off on every thread still traced. */
static void untrace(struct cap *k, struct buf *r)
{
	for (size_t i = 0; i < k->nthreads; i++)
		if (k->threads[i].traced && !k->threads[i].gone && cap_select_thread(k, &k->threads[i]) == RSP_OK)
			rsp_client_command(&k->c, "Qbtrace:off", r);
}

/* Leave the target as we found it: ours killed, an attached one detached. */
static void finish(struct cap *k)
{
	struct buf r = BUF_INIT;
	if (k->conn_lost || k->exited)
		goto out;
	if (k->at_exit && k->nonstop) {
		run_nonstop_let_exit(k);
	} else if (k->at_exit) {
		/* let it finish its exit: the exit status is its own */
		if (rsp_client_send(&k->c, "c", 1) == RSP_OK)
			rsp_client_recv(&k->c, &r, k->o->reply_timeout_ms);
	} else if (k->started) {
		if (rsp_client_commandf(&k->c, &r, k->multiprocess ? "vKill;%lx" : "k", k->pid) != RSP_OK)
			goto out;
	} else if (k->o->attach_pid) {
		untrace(k, &r);
		rsp_client_commandf(&k->c, &r, k->multiprocess ? "D;%lx" : "D", k->pid);
	} else {
		/* the server's process (or a replayed capture) stays: untraced */
		untrace(k, &r);
	}
out:
	buf_free(&r);
}

static void remove_tree(const char *dir)
{
	/* only our own temporary directory: files and mem/ */
	struct stat st;
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return;
	char mem[PATH_MAX + 8];
	snprintf(mem, sizeof(mem), "%s/mem", dir);
	for (int pass = 0; pass < 2; pass++) {
		const char *d = pass == 0 ? mem : dir;
		DIR *dh = opendir(d);
		if (!dh)
			continue;
		struct dirent *de;
		while ((de = readdir(dh))) {
			if (de->d_name[0] == '.')
				continue;
			char p[PATH_MAX + 300];
			snprintf(p, sizeof(p), "%s/%s", d, de->d_name);
			unlink(p);
		}
		closedir(dh);
		rmdir(d);
	}
}

void cap_free(struct cap *k)
{
	for (size_t i = 0; i < k->nthreads; i++) {
		if (k->threads[i].f)
			fclose(k->threads[i].f);
		free(k->threads[i].blocks);
		free(k->threads[i].gaps);
	}
	free(k->threads);
	for (size_t i = 0; i < k->ndumps; i++)
		free(k->dumps[i].name);
	free(k->dumps);
	buf_free(&k->conf_xml);
	rsp_client_free(&k->c);
	if (k->fd >= 0)
		close(k->fd);
}

static void human_size(uint64_t n, char *out, size_t outlen)
{
	if (n >= (10u << 20))
		snprintf(out, outlen, "%.1f MiB", (double)n / (1 << 20));
	else if (n >= (10u << 10))
		snprintf(out, outlen, "%.1f KiB", (double)n / 1024);
	else
		snprintf(out, outlen, "%llu bytes", (unsigned long long)n);
}

/* The capture directory made under its temporary name; false (and said
 * why) if it cannot be. */
static bool make_tmpdir(struct cap *k)
{
	const struct capture_opts *o = k->o;
	struct stat st;
	if (lstat(o->out_dir, &st) == 0) {
		cap_msg(k, "%s already exists; choose another output directory", o->out_dir);
		return false;
	}
	if (snprintf(k->tmpdir, sizeof(k->tmpdir), "%s.tmp-XXXXXX", o->out_dir) >= (int)sizeof(k->tmpdir) ||
	    !mkdtemp(k->tmpdir)) {
		cap_msg(k, "cannot create %s.tmp-XXXXXX: %s", o->out_dir, strerror(errno));
		return false;
	}
	chmod(k->tmpdir, 0755);
	return true;
}

/* The trace files and capture.json written; EXIT_CODE as it stands then. */
static int write_outputs(struct cap *k, int exit_code)
{
	for (size_t i = 0; i < k->nthreads; i++)
		if (k->threads[i].f) {
			fclose(k->threads[i].f);
			k->threads[i].f = NULL;
		}
	if (k->progress_shown) {
		drain_show_progress(k, true);
		fputc('\n', stderr);
		k->progress_shown = false;
	}
	if (exit_code == CAPTURE_OK && k->overflows && k->o->fail_on_overflow)
		exit_code = CAPTURE_OVERFLOW;
	if (k->coresight && k->have_config && snapshot_out_write(k) < 0)
		exit_code = CAPTURE_BAD;
	if (!k->coresight && snapshot_out_write_blocks(k) < 0)
		exit_code = CAPTURE_BAD;
	k->t_end = cap_now();
	if (capture_json_write(k, exit_code) < 0)
		exit_code = CAPTURE_BAD;
	return exit_code;
}

/* What capture.json's "complete" says: the capture ended as asked (the
 * program's end, a limit, Ctrl-C), with nothing cut short. */
static bool capture_complete(int exit_code)
{
	return exit_code == CAPTURE_OK || exit_code == CAPTURE_OVERFLOW;
}

/* The one-line summary on stdout. */
static void print_summary(struct cap *k, int exit_code)
{
	const char *cut = capture_complete(exit_code) ? "" : "INCOMPLETE: ";
	const struct capture_opts *o = k->o;
	char sz[32], mem[32];
	size_t nblocks = 0;
	for (size_t i = 0; i < k->nthreads; i++)
		nblocks += k->threads[i].nblocks;
	human_size(k->coresight ? k->trace_bytes : (uint64_t)nblocks, sz, sizeof(sz));
	human_size(k->dumped_bytes, mem, sizeof(mem));
	if (k->coresight)
		printf("%s: %s%s of CoreSight trace", o->out_dir, cut, sz);
	else
		printf("%s: %s%zu bts blocks", o->out_dir, cut, nblocks);
	printf(" from %zu thread%s of pid %ld at %s, %zu memory dump%s (%s), %u overflow%s, %.2f s (%s)\n",
	       k->nthreads, k->nthreads == 1 ? "" : "s", k->pid, o->target, k->ndumps,
	       k->ndumps == 1 ? "" : "s", mem, k->overflows, k->overflows == 1 ? "" : "s",
	       k->t_end - k->t0, k->end_reason ? k->end_reason : "error");
	fflush(stdout);
}

/* Connected and set up: run, leave the target as found, write it all
 * down. Returns an enum capture_exit. */
static int capture_connected(struct cap *k)
{
	int exit_code = CAPTURE_OK;
	k->t_traced = cap_now();
	/* Cut short: by the disk (1), else by the server or the link (4:
	 * 5 says nothing was written, and here something is). */
	if (run_capture(k) < 0) {
		exit_code = !k->conn_lost && strstr(k->error, "write failed") ? CAPTURE_BAD : CAPTURE_CONNECT;
		k->end_reason = NULL;   /* "error": what the run was ending for did not happen */
	}
	if (!k->conn_lost)
		finish(k);
	if (k->conn_lost)
		k->end_reason = k->bad_reply ? "bad reply from the server" : "connection lost";
	exit_code = write_outputs(k, exit_code);
	if (rename(k->tmpdir, k->o->out_dir) < 0) {
		cap_msg(k, "renaming %s to %s: %s (the capture stays there)", k->tmpdir, k->o->out_dir,
			strerror(errno));
		return CAPTURE_BAD;
	}
	if (k->error[0])
		cap_msg(k, "%s", k->error);
	if (k->overflows)
		cap_msg(k, "trace overflowed %u time%s: trace was lost there (see capture.json)", k->overflows,
			k->overflows == 1 ? "" : "s");
	if (!k->o->quiet)
		print_summary(k, exit_code);
	return exit_code;
}

int capture_run(const struct capture_opts *o)
{
	struct cap k;
	int exit_code;
	memset(&k, 0, sizeof(k));
	k.o = o;
	k.fd = -1;
	k.t0 = cap_now();
	link_client_init(&k);
	if (!make_tmpdir(&k)) {
		rsp_client_free(&k.c);
		return CAPTURE_BAD;
	}
	if (link_connect(&k) < 0) {
		cap_msg(&k, "%s", k.error);
		remove_tree(k.tmpdir);
		cap_free(&k);
		return CAPTURE_CONNECT;
	}
	k.t_connected = cap_now();
	if (setup_capture(&k) < 0) {
		cap_msg(&k, "%s", k.error);
		if (!k.conn_lost)
			finish(&k);
		remove_tree(k.tmpdir);
		exit_code = k.conn_lost ? CAPTURE_CONNECT : CAPTURE_TARGET;
	} else {
		exit_code = capture_connected(&k);
	}
	cap_free(&k);
	return exit_code;
}
