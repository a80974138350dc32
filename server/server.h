/* The daemon's session state and packet handlers (gdbserver's server). */
#ifndef SERVER_SERVER_H
#define SERVER_SERVER_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/buf.h"
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
	struct buf xfer;            /* qXfer document being served in chunks */
	char xfer_key[64];
};

/* Serve one connection until it closes or exit is requested. */
void session_serve(struct session *s);
void session_reset(struct session *s);
/* Handle one packet payload; the reply payload is left in REPLY. */
void session_dispatch(struct session *s, const char *pkt, size_t len, struct buf *reply);

/* Handlers in other files reply through these. */
void reply_error(struct buf *reply, int code);
void reply_error_msg(struct buf *reply, const char *msg);
void reply_ok(struct buf *reply);

struct thread *general_thread(struct session *s);
void format_ptid(struct session *s, struct buf *b, pid_t pid, pid_t tid);

/* qXfer objects (server/xfer.c). Each builds the whole document into DOC
 * or returns an error message. */
const char *xfer_threads(struct session *s, struct buf *doc);
const char *xfer_libraries_svr4(struct session *s, struct buf *doc);
const char *xfer_auxv(struct session *s, struct buf *doc);
const char *xfer_exec_file(struct session *s, const char *annex, struct buf *doc);
const char *xfer_osdata(struct session *s, const char *annex, struct buf *doc);

/* vFile (server/hostio.c). */
void handle_vfile(struct session *s, const char *args, size_t len, struct buf *reply);
void hostio_reset(void);

/* qRcmd (server/monitor.c). */
void handle_monitor(struct session *s, const char *cmd, struct buf *out_text, struct buf *reply);

#endif
