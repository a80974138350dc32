/* A client's session: the options the server runs with, the protocol
 * state of the connection, and the threads gdb's packets name. */
#ifndef SERVER_SESSION_H
#define SERVER_SESSION_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/buf.h"
#include "server/hostio.h"
#include "server/remote.h"
#include "server/target.h"

struct options {
	const char *comm;
	char **prog_argv;       /* program and arguments, or NULL */
	pid_t attach_pid;
	bool multi;
	bool once;
	int baud;
	bool debug;
	bool remote_debug;
	bool no_run;            /* refuse to start programs or write files */
	const char *replay_dir;
	/* --disable-packet, for testing gdb against a poorer server */
	bool no_vcont, no_tthread, no_qc, no_qfthreadinfo, no_t;
};

/* Per-connection protocol state plus what outlives connections. */
struct session {
	struct remote remote;
	const struct options *opts;

	bool extended;
	bool multiprocess;
	bool swbreak, hwbreak;
	bool no_resumed;
	bool vcont_supported;
	bool exit_requested;
	bool reply_sent;        /* the handler already answered */

	/* Non-stop: stop replies waiting for gdb's vStopped; the head is the
	 * one gdb was (or is being) notified of. */
	bool non_stop;
	struct stop_event *notif;
	size_t notif_len, notif_cap;

	pid_t gen_pid, gen_tid;     /* Hg: 0 = any */
	pid_t cont_pid, cont_tid;   /* Hc: -1 = all */
	struct stop_event last;     /* what '?' reports */
	bool have_last;

	char **last_run_argv;       /* for R and an empty vRun */
	struct hostio hostio;       /* the client's open files (vFile) */
	struct buf xfer;            /* qXfer document being served in chunks */
	char xfer_key[64];
};

#define SESSION(ctx) ((struct session *)(ctx))

void format_ptid(struct session *s, struct buf *b, pid_t pid, pid_t tid);
/* Parse a thread id: "p<pid>.<tid>", "p<pid>", "<tid>", "-1", "0".
 * -1 means all, 0 means any. */
bool parse_ptid(const char **pp, const char *end, pid_t *pid, pid_t *tid);
/* The thread a ptid names (0/-1: any one). */
struct thread *lookup_ptid(pid_t pid, pid_t tid);
/* gdb's general thread (Hg), or the first one. */
struct thread *general_thread(struct session *s);
struct process *general_process(struct session *s);

#endif
