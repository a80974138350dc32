/* One capture's state and the helpers every part of the capture client
 * uses: messages, failed exchanges, files in the capture directory, the
 * table of the program's threads. The parts, in the order a capture
 * runs them (capture.c calls them):
 *   link.c         the TCP connection the remote protocol runs over
 *   setup.c        handshake, the program started or attached, trace enabled
 *   run.c          the program run to its end, the trace drained meanwhile
 *   drain.c        one read of every thread's new trace; the limits
 *   btrace_doc.c   qXfer:btrace documents: CoreSight XML, bts blocks
 *   stop_reply.c   stop replies and notifications parsed
 *   memory.c       memory dumps of the executed mappings
 *   decode_dump.c  or of the pages the trace executes, found by decoding
 *   snapshot_out.c the OpenCSD snapshot or the bts block list written
 *   capture_json.c capture.json written */
#ifndef CSTRACE_SESSION_H
#define CSTRACE_SESSION_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "arch/arch_desc.h"
#include "common/buf.h"
#include "cstrace/capture_opts.h"
#include "protocol/client.h"

#define MAX_CPUS 256
#define MAX_REGS 32
/* a local failure (disk), distinct from every rsp_status */
#define LOCAL_FAIL (-100)
/* a drain in the middle of something failed (and said why) */
#define DRAIN_FAILED (-101)
struct reg {
	char name[32];
	uint64_t value;
};

struct cpu_cfg {
	unsigned cpu_id, arch_ver, core_prof, protocol;
	struct reg regs[MAX_REGS];
	size_t nregs;
};

struct gap {
	uint64_t offset;        /* trace bytes (or blocks) captured before the loss */
};

struct block {
	uint64_t begin, end;
};

struct cthread {
	long pid, tid;
	bool traced;
	bool gone;
	bool running;           /* non-stop: resumed and no stop reported since */
	bool listed;            /* in the last thread list */
	bool read_once;         /* bts: read before (a delta continues it) */
	char file[64];          /* CoreSight: trace file in the directory */
	FILE *f;
	uint64_t bytes;         /* CoreSight bytes written */
	struct block *blocks;   /* bts, oldest first */
	size_t nblocks, cap;
	struct gap *gaps;
	size_t ngaps;
	unsigned reads;
};

struct dump {
	uint64_t address, length;
	char file[64];
	char *name;
};

struct cap {
	const struct capture_opts *o;
	int fd;
	struct rsp_client c;
	char qsup[4096];
	bool multiprocess;
	char tmpdir[PATH_MAX];
	bool coresight;
	bool live;              /* a process whose /proc maps the server can read */
	bool started;           /* we ran it (vRun): killed at the end if still there */
	bool exited;
	bool at_exit;           /* stopped at the program's exit_group */
	bool cannot_run;        /* a replayed capture: nothing runs */
	bool nonstop;           /* QNonStop:1 accepted: the trace is read while it runs */
	char mode_reason[160];  /* why this mode */
	unsigned drains;        /* reads of the trace before the end */
	double running_drain_due;   /* non-stop, program running: next drain (else 0) */
	double deadline;        /* the time limit's end (0: none) */
	bool no_delta;          /* the server cannot read CoreSight deltas */
	long pid;
	char arch[64];          /* gdb's name for it, from target.xml */
	const struct arch_desc *ad;     /* what we know of it (NULL: nothing) */
	struct cthread *threads;
	size_t nthreads;
	/* the trace unit configuration from the last CoreSight document */
	struct cpu_cfg cpus[MAX_CPUS];
	size_t ncpus;
	bool have_config;
	bool formatted;
	unsigned trace_id;
	struct buf conf_xml;    /* qXfer:btrace-conf:read */
	uint64_t buffer_size;   /* as the server reported it */
	struct dump *dumps;
	size_t ndumps;
	uint64_t dumped_bytes;
	unsigned overflows;
	uint64_t trace_bytes;
	const char *end_reason;
	char error[512];
	bool conn_lost;
	bool bad_reply;         /* conn_lost because of a corrupt reply */
	bool waiting_stop;      /* SIGINT ends the wait for a stop reply */
	double t0, t_connected, t_traced, t_run_end, t_end;
	double last_progress;
	bool progress_shown;
};

/* Monotonic seconds. */
double cap_now(void);
/* A message on stderr ("cstrace capture: LABEL: ..."), clearing the
 * progress line first. */
void cap_msg(struct cap *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A failed exchange RC of WHAT into k->error: a lost link (conn_lost) or
 * the server's refusal. Returns -1. */
int cap_fail(struct cap *k, int rc, const char *what);
/* Everything K holds: threads and their files, dumps, the link. */
void cap_free(struct cap *k);
/* RC says the link is gone (or corrupt): nothing more can be asked. */
bool cap_link_failed(int rc);
/* NAME in the capture directory (a static buffer: use it at once). */
char *cap_path(struct cap *k, const char *name);
/* Write file NAME of the capture directory; -1 with k->error set. */
int cap_write_file(struct cap *k, const char *name, const char *text, size_t len);

/* Make T the server's general thread (Hg). */
int cap_select_thread(struct cap *k, const struct cthread *t);
struct cthread *cap_find_thread(struct cap *k, long tid);
/* A new thread, its trace file named (trace.bin for the first). */
struct cthread *cap_add_thread(struct cap *k, long pid, long tid);

/* Z0 kind of the target's breakpoints. */
int cap_breakpoint_kind(const struct cap *k);

#endif
