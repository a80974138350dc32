/* What `cstrace capture` is asked to do (cmd_capture.c fills it from
 * the command line), and its exit codes. */
#ifndef CSTRACE_CAPTURE_OPTS_H
#define CSTRACE_CAPTURE_OPTS_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit codes of `cstrace capture` (1-3 are cstrace's generic ones). */
enum capture_exit {
	CAPTURE_OK = 0,
	CAPTURE_BAD = 1,          /* local problem: output directory, disk */
	CAPTURE_USAGE = 2,
	CAPTURE_CONNECT = 4,      /* could not connect, or the connection was lost */
	CAPTURE_TARGET = 5,       /* the server refused: run, attach, trace options */
	CAPTURE_OVERFLOW = 6,     /* trace was lost and --fail-on-overflow was given */
};

#define CAPTURE_MAX_STOPS 16
#define CAPTURE_MAX_CONF 64

struct capture_opts {
	const char *target;          /* HOST:PORT */
	const char *out_dir;         /* final name of the capture directory */
	char *const *prog_argv;      /* vRun this (NULL: none) */
	int prog_argc;
	long attach_pid;             /* vAttach (0: none) */
	const char *format;          /* "auto", "CoreSight" or "bts" */
	uint64_t size;               /* trace buffer size (0: the server's default) */
	const char *conf[CAPTURE_MAX_CONF];   /* Qbtrace-conf:CoreSight: NAME=VALUE */
	size_t nconf;
	uint64_t stop_at[CAPTURE_MAX_STOPS];  /* end the capture when reached */
	size_t nstop_at;
	double time_limit;           /* seconds, 0: none */
	uint64_t max_size;           /* trace bytes (or blocks for bts), 0: none */
	int drain_ms;                /* read the trace this often while it runs */
	int connect_timeout_ms;
	int reply_timeout_ms;
	bool fail_on_overflow;
	bool all_stop;               /* drain by interrupting, even if non-stop is offered */
	bool memory;                 /* dump executed mappings */
	bool progress;               /* progress line on stderr */
	bool quiet;                  /* no summary line */
	const char *label;           /* prefix of messages (several targets) */
	volatile sig_atomic_t *interrupted;  /* set by the SIGINT handler */
};

/* The defaults: format auto, drain every 100 ms, timeouts 5 s (connect)
 * and 30 s (replies), memory dumped. */
void capture_opts_init(struct capture_opts *o);

#endif
