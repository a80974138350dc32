/* csgdbserver: command line and the connection loop. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/arch.h"
#include "server/btrace.h"
#include "server/capture_target.h"
#include "server/packets.h"
#include "server/session.h"
#include "server/target.h"

#define CSGDBSERVER_VERSION "0.1"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage:\tcsgdbserver [OPTIONS] COMM PROG [ARGS ...]\n"
		"\tcsgdbserver [OPTIONS] --attach COMM PID\n"
		"\tcsgdbserver [OPTIONS] --multi COMM\n"
		"\tcsgdbserver [OPTIONS] --replay DIR COMM\n"
		"\n"
		"COMM may be a tty device (for serial debugging), HOST:PORT to listen\n"
		"for a TCP connection on exactly that host's address, :PORT to listen on\n"
		"the loopback interface only, or '-' or 'stdio' to use stdin/stdout.\n"
		"PROG is the executable program.  ARGS are arguments passed to inferior.\n"
		"PID is the process ID to attach to, when --attach is specified.\n"
		"\n"
		"Operating modes:\n"
		"\n"
		"  --attach              Attach to running process PID.\n"
		"  --multi               Start server without a specific program, and\n"
		"                        only quit when explicitly commanded.\n"
		"  --once                Exit after the first connection has closed.\n"
		"  --replay DIR          Serve a recorded CoreSight trace as a stopped,\n"
		"                        read-only target for record btrace: DIR is an\n"
		"                        OpenCSD snapshot, or trace.bin + etm.ini + ELF.\n"
		"  --help                Print this message and then exit.\n"
		"  --version             Display version information and exit.\n"
		"\n"
		"Other options:\n"
		"\n"
		"  --wrapper WRAPPER --  Run WRAPPER to start new programs.\n"
		"  --disable-randomization\n"
		"                        Run PROG with address space randomization disabled.\n"
		"  --no-disable-randomization\n"
		"                        Don't disable address space randomization.\n"
		"  --startup-with-shell  Start PROG using a shell (default).\n"
		"  --no-startup-with-shell\n"
		"                        Exec PROG directly instead of using a shell.\n"
		"  --baud RATE           Line speed of a serial COMM.\n"
		"\n"
		"Access control:\n"
		"\n"
		"  --allow HOST[/MASK]   Accept TCP connections only from HOST (an IPv4 or\n"
		"                        IPv6 address, or a name resolved at start-up),\n"
		"                        or its network with a MASK of prefix bits.\n"
		"                        Repeatable. Loopback is not implied.\n"
		"  --no-run              Never start a program for a client: vRun and R\n"
		"                        are refused, vFile opens no file for writing.\n"
		"  --etm-perfdata FILE   Trace threads with the CoreSight trace recorded in\n"
		"                        FILE (perf.data with cs_etm) instead of perf.\n"
		"\n"
		"Debug options:\n"
		"\n"
		"  --debug               Enable general debugging output.\n"
		"  --remote-debug        Enable remote protocol debugging output.\n"
		"  --debug-file=FILE     Write debugging output to FILE.\n"
		"  --disable-packet=OPT1[,OPT2,...]\n"
		"                        Disable support for RSP packets or features.\n"
		"                          Options: vCont, T, Tthread, qC, qfThreadInfo,\n"
		"                          threads (all of the thread packets).\n"
		"\n"
		"Report bugs in the project's issue tracker.\n");
}

/* Static so that early exits leave nothing unreachable behind. */
static struct allow_list allow;
static struct buf allow_text = BUF_INIT;   /* the --allow arguments, for the start-up line */

static void version(void)
{
	printf("csgdbserver %s\n"
	       "A gdbserver-compatible debug server with ARM CoreSight ETM branch tracing.\n",
	       CSGDBSERVER_VERSION);
}

/* The command line beyond the options the session keeps. */
struct cmdline {
	struct options opts;
	char **wrapper;
	const char *etm_perfdata;
};

enum { OPT_NEXT, OPT_END, OPT_DONE, OPT_FAIL };

/* --disable-packet=NAMES: for testing gdb against a poorer server. */
static int disable_packets(struct options *opts, const char *names)
{
	char *list = strdup(names), *save = NULL;
	for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "vCont"))
			opts->no_vcont = true;
		else if (!strcmp(tok, "Tthread"))
			opts->no_tthread = true;
		else if (!strcmp(tok, "qC"))
			opts->no_qc = true;
		else if (!strcmp(tok, "qfThreadInfo"))
			opts->no_qfthreadinfo = true;
		else if (!strcmp(tok, "T"))
			opts->no_t = true;
		else if (!strcmp(tok, "threads"))
			opts->no_vcont = opts->no_tthread = opts->no_qc = opts->no_qfthreadinfo = true;
		else {
			fprintf(stderr, "Don't know how to disable \"%s\".\n\n", tok);
			usage(stderr);
			free(list);
			return -1;
		}
	}
	free(list);
	return 0;
}

/* The option at argv[*I] (which may take the next words): OPT_NEXT,
 * OPT_END at "--", OPT_DONE (--help, --version: exit 0), OPT_FAIL. */
static int parse_option(struct cmdline *c, int argc, char **argv, int *i)
{
	const char *a = argv[*i];
	if (strcmp(a, "--") == 0) {
		(*i)++;
		return OPT_END;
	} else if (strcmp(a, "--help") == 0) {
		usage(stdout);
		return OPT_DONE;
	} else if (strcmp(a, "--version") == 0) {
		version();
		return OPT_DONE;
	} else if (strcmp(a, "--attach") == 0) {
		c->opts.attach_pid = -1;
	} else if (strcmp(a, "--replay") == 0 && *i + 1 < argc) {
		c->opts.replay_dir = argv[++*i];
	} else if (strncmp(a, "--replay=", 9) == 0) {
		c->opts.replay_dir = a + 9;
	} else if (strcmp(a, "--etm-perfdata") == 0 && *i + 1 < argc) {
		c->etm_perfdata = argv[++*i];
	} else if (strncmp(a, "--etm-perfdata=", 15) == 0) {
		c->etm_perfdata = a + 15;
	} else if (strcmp(a, "--allow") == 0 || strncmp(a, "--allow=", 8) == 0) {
		const char *spec = a[7] == '=' ? a + 8 : *i + 1 < argc ? argv[++*i] : NULL;
		char err[512];
		if (!spec) {
			fprintf(stderr, "--allow: missing HOST[/MASK]\n");
			return OPT_FAIL;
		}
		if (allow_list_add(&allow, spec, err, sizeof err) < 0) {
			fprintf(stderr, "%s\n", err);
			return OPT_FAIL;
		}
		buf_printf(&allow_text, "%s%s", allow_text.len ? " " : "", spec);
	} else if (strcmp(a, "--no-run") == 0) {
		c->opts.no_run = true;
	} else if (strcmp(a, "--multi") == 0) {
		c->opts.multi = true;
	} else if (strcmp(a, "--once") == 0) {
		c->opts.once = true;
	} else if (strcmp(a, "--debug") == 0) {
		c->opts.debug = true;
	} else if (strcmp(a, "--remote-debug") == 0) {
		c->opts.remote_debug = true;
	} else if (strncmp(a, "--debug-file=", 13) == 0) {
		/* Only debugging output goes there, as with gdbserver. */
		if (debug_out)
			fclose(debug_out);
		debug_out = fopen(a + 13, "w");
		if (!debug_out) {
			perror(a + 13);
			return OPT_FAIL;
		}
		setvbuf(debug_out, NULL, _IOLBF, 0);
	} else if (strncmp(a, "--debug-format=", 15) == 0 ||
		   strcmp(a, "--event-loop-debug") == 0) {
		/* accepted for compatibility; no extra format yet */
	} else if (strncmp(a, "--disable-packet=", 17) == 0) {
		if (disable_packets(&c->opts, a + 17) < 0)
			return OPT_FAIL;
	} else if (strcmp(a, "--disable-randomization") == 0) {
		target_settings.disable_randomization = true;
	} else if (strcmp(a, "--no-disable-randomization") == 0) {
		target_settings.disable_randomization = false;
	} else if (strcmp(a, "--startup-with-shell") == 0) {
		target_settings.startup_with_shell = true;
	} else if (strcmp(a, "--no-startup-with-shell") == 0) {
		target_settings.startup_with_shell = false;
	} else if (strcmp(a, "--baud") == 0 && *i + 1 < argc) {
		c->opts.baud = atoi(argv[++*i]);
	} else if (strncmp(a, "--baud=", 7) == 0) {
		c->opts.baud = atoi(a + 7);
	} else if (strcmp(a, "--wrapper") == 0) {
		int start = ++*i;
		while (*i < argc && strcmp(argv[*i], "--") != 0)
			(*i)++;
		if (*i == argc || *i == start) {
			fprintf(stderr, "Missing wrapper program or its terminating --\n");
			usage(stderr);
			return OPT_FAIL;
		}
		c->wrapper = calloc((size_t)(*i - start + 1), sizeof *c->wrapper);
		if (!c->wrapper)
			return OPT_FAIL;
		for (int k = start; k < *i; k++)
			c->wrapper[k - start] = argv[k];
	} else if (strcmp(a, "--selftest") == 0) {
		printf("Ran 0 unit tests, 0 failed\n");
		return OPT_DONE;
	} else {
		fprintf(stderr, "Unknown argument: %s\n", a);
		usage(stderr);
		return OPT_FAIL;
	}
	return OPT_NEXT;
}

/* COMM and the words after it (I: the first): the program, a PID, or
 * nothing. 0, or -1 after saying what is wrong. */
static int parse_operands(struct options *opts, int argc, char **argv, int i)
{
	if (i >= argc) {
		usage(stderr);
		return -1;
	}
	opts->comm = argv[i++];
	/* "csgdbserver --multi :2345 --allow HOST" would run "--allow". */
	if (i < argc && strncmp(argv[i], "--", 2) == 0) {
		fprintf(stderr, "%s after COMM: options go before COMM "
			"(a program whose name starts with -- is given as ./NAME)\n", argv[i]);
		usage(stderr);
		return -1;
	}
	if (strcmp(opts->comm, "stdio") == 0)
		opts->comm = "-";
	if (allow.given && (strcmp(opts->comm, "-") == 0 || !strchr(opts->comm, ':') ||
			    strchr(opts->comm, '/'))) {
		fprintf(stderr, "--allow applies to TCP connections (HOST:PORT or :PORT), not to %s\n",
			opts->comm);
		return -1;
	}
	if (opts->replay_dir) {
		if (i < argc || opts->attach_pid || opts->multi) {
			fprintf(stderr, "--replay serves a recording: no PROG, --attach or --multi\n");
			usage(stderr);
			return -1;
		}
	} else if (opts->attach_pid) {
		char *end;
		long pid = i < argc ? strtol(argv[i], &end, 10) : 0;
		if (i + 1 != argc || pid <= 0 || *end) {
			fprintf(stderr, "Bad or missing PID for --attach\n");
			usage(stderr);
			return -1;
		}
		opts->attach_pid = (pid_t)pid;
	} else if (i < argc) {
		opts->prog_argv = &argv[i];
	} else if (!opts->multi) {
		usage(stderr);
		return -1;
	}
	return 0;
}

/* What is served: the capture, a program started, a process attached, or
 * (--multi) nothing yet. 0, or -1 after saying why not. */
static int start_target(struct session *s, struct cmdline *c)
{
	if (c->opts.replay_dir) {
		char err[1024];
		if (capture_target_open(c->opts.replay_dir, err, sizeof err) < 0) {
			fprintf(stderr, "%s\nExiting\n", err);
			return -1;
		}
		struct buf about = BUF_INIT;
		capture_target_describe(&about);
		fputs(about.data, stderr);
		buf_free(&about);
	} else {
		btrace_setup(c->etm_perfdata);
	}

	if (c->opts.prog_argv) {
		char err[512];
		c->opts.prog_argv[0] = target_program_path(c->opts.prog_argv[0]);
		struct process *p = target_create(c->opts.prog_argv, err, sizeof err);
		if (!p) {
			fprintf(stderr, "%s\nExiting\n", err);
			return -1;
		}
		fprintf(stderr, "Process %s created; pid = %d\n", c->opts.prog_argv[0], p->pid);
		size_t n = 0;
		while (c->opts.prog_argv[n])
			n++;
		s->last_run_argv = calloc(n + 1, sizeof(char *));
		for (size_t k = 0; k < n; k++)
			s->last_run_argv[k] = strdup(c->opts.prog_argv[k]);
	} else if (c->opts.attach_pid) {
		char err[256];
		struct process *p = target_attach(c->opts.attach_pid, err, sizeof err);
		if (!p) {
			fprintf(stderr, "%s\nExiting\n", err);
			return -1;
		}
		fprintf(stderr, "Attached; pid = %d\n", p->pid);
	}

	return 0;
}

/* Clients one after another until one ends the server; the exit status. */
static int serve_clients(struct session *s, struct listener *l)
{
	int status = 0;
	for (;;) {
		if (listener_accept(l, &s->remote) < 0) {
			status = 1;
			break;
		}
		session_begin(s);
		session_serve(s);
		session_end(s);
		if (s->exit_requested || s->opts->once || l->stdio)
			break;
		/* --multi serves client after client, whatever the last one did
		 * (a port probe, a reset, no `!`), as GNU gdbserver does. */
		if (!s->opts->multi && !s->extended && !processes && !target_outlives_clients())
			break;
		if (s->opts->multi) {
			/* The next client starts from a clean state. */
			target_cleanup_all();
		} else {
			fprintf(stderr, "Remote side has terminated connection.  "
				"csgdbserver will reopen the connection.\n");
		}
	}
	return status;
}

int main(int argc, char **argv)
{
	struct cmdline c = {.opts = {.baud = 0}};
	int i = 1;
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		int r = parse_option(&c, argc, argv, &i);
		if (r == OPT_DONE || r == OPT_FAIL)
			return r == OPT_DONE ? 0 : 1;
		if (r == OPT_END)
			break;
	}
	target_settings.wrapper = c.wrapper;
	if (parse_operands(&c.opts, argc, argv, i) < 0)
		return 1;
	debug_target = c.opts.debug;
	target_settings.stdio_connection = strcmp(c.opts.comm, "-") == 0;
	signal(SIGPIPE, SIG_IGN);
	/* Before any inferior: the probe may fork a child of its own. */
	if (arch_init() < 0)
		return 1;
	if (target_init() < 0) {
		perror("csgdbserver: signalfd");
		return 1;
	}

	struct session s;
	memset(&s, 0, sizeof s);
	s.opts = &c.opts;
	s.remote.log = c.opts.remote_debug;
	session_begin(&s);   /* the environment of the program started below too */
	if (start_target(&s, &c) < 0)
		return 1;

	struct listener l;
	if (listener_open(&l, c.opts.comm, c.opts.baud) < 0) {
		target_cleanup_all();
		fprintf(stderr, "Exiting\n");
		return 1;
	}
	l.allow = &allow;
	if (allow.given)
		fprintf(stderr, "csgdbserver: accepting connections only from %s\n", allow_text.data);
	else if (l.reaches_other_hosts)
		fprintf(stderr, "csgdbserver: any host that reaches %s may connect; "
			"--allow HOST[/MASK] restricts who\n", c.opts.comm);
	int status = serve_clients(&s, &l);
	target_cleanup_all();
	btrace_shutdown();
	capture_target_close();
	listener_close(&l);
	allow_list_free(&allow);
	buf_free(&allow_text);
	session_free(&s);
	free(c.wrapper);
	if (c.opts.prog_argv)
		free(c.opts.prog_argv[0]);
	return status;
}
