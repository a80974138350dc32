/* The capture command line: see cmd_capture.h. One row per option, each
 * with the function that takes its argument. */
#include "cstrace/cmd_capture.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cstrace/capture.h"
#include "cstrace/usage.h"

#define MAX_TARGETS 64

struct capture_args {
	struct capture_opts o;
	const char *targets[MAX_TARGETS];
	size_t ntargets;
	const char *out;
	/* keeps the Qbtrace-conf strings alive for the run */
	char conf[CAPTURE_MAX_CONF][128];
};

/* ------------------------------------------------------------ numbers */

/* "123", "0x7b"; with SUFFIXES also "64K", "1M", "2G". */
static bool parse_u64(const char *s, bool suffixes, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-')
		return false;
	if (suffixes && *end) {
		const char *units = "KMG", *u = strchr(units, *end >= 'a' ? *end - 32 : *end);
		if (!u || !*u)
			return false;
		v <<= 10 * (u - units + 1);
		end++;
	}
	if (*end)
		return false;
	*out = v;
	return true;
}

static bool parse_seconds(const char *s, double max, double *out)
{
	char *end;
	double v = strtod(s, &end);
	if (*end || end == s || !(v > 0) || (max && v > max))
		return false;
	*out = v;
	return true;
}

/* ------------------------------------------------------------ options */

static bool add_conf(struct capture_args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool add_conf(struct capture_args *a, const char *fmt, ...)
{
	struct capture_opts *o = &a->o;
	va_list ap;
	if (o->nconf >= CAPTURE_MAX_CONF) {
		usage_error("%s", "too many trace options");
		return false;
	}
	va_start(ap, fmt);
	vsnprintf(a->conf[o->nconf], sizeof(a->conf[0]), fmt, ap);
	va_end(ap);
	o->conf[o->nconf] = a->conf[o->nconf];
	o->nconf++;
	return true;
}

static bool add_target(struct capture_args *a, const char *target)
{
	if (a->ntargets >= MAX_TARGETS) {
		usage_error("%s", "too many targets");
		return false;
	}
	a->targets[a->ntargets++] = target;
	return true;
}

static bool opt_output(struct capture_args *a, const char *arg)
{
	a->out = arg;
	return true;
}

static bool opt_attach(struct capture_args *a, const char *arg)
{
	char *end;
	a->o.attach_pid = strtol(arg, &end, 10);
	if (*end || end == arg || a->o.attach_pid <= 0) {
		usage_error("--attach %s: expected a process ID", arg);
		return false;
	}
	return true;
}

static bool opt_format(struct capture_args *a, const char *arg)
{
	if (strcmp(arg, "auto") && strcmp(arg, "CoreSight") && strcmp(arg, "bts") && strcmp(arg, "etm")) {
		usage_error("--format %s: use auto, CoreSight or bts", arg);
		return false;
	}
	a->o.format = arg;
	return true;
}

static bool opt_size(struct capture_args *a, const char *arg)
{
	if (!parse_u64(arg, true, &a->o.size) || !a->o.size || a->o.size > 0xffffffffull) {
		usage_error("--size %s: expected a size in bytes (K/M suffixes), at most 4G-1", arg);
		return false;
	}
	return true;
}

/* --core, --id, --context: a 32-bit number as trace option NAME */
static bool conf_number(struct capture_args *a, const char *name, const char *arg)
{
	uint64_t v;
	if (!parse_u64(arg, false, &v) || v > 0xffffffffull) {
		usage_error("expected a number, got %s", arg);
		return false;
	}
	return add_conf(a, "%s=0x%llx", name, (unsigned long long)v);
}

static bool opt_core(struct capture_args *a, const char *arg)
{
	return conf_number(a, "core", arg);
}

static bool opt_id(struct capture_args *a, const char *arg)
{
	return conf_number(a, "id", arg);
}

static bool opt_context(struct capture_args *a, const char *arg)
{
	return conf_number(a, "filter:context", arg);
}

static bool opt_sink(struct capture_args *a, const char *arg)
{
	return add_conf(a, "sink=%s", arg);
}

static bool opt_mode(struct capture_args *a, const char *arg)
{
	if (strcmp(arg, "full") && strcmp(arg, "snapshot")) {
		usage_error("--mode %s: use full or snapshot", arg);
		return false;
	}
	return add_conf(a, "mode=%s", arg);
}

static bool opt_range(struct capture_args *a, const char *arg)
{
	char start[64];
	uint64_t v, v2;
	const char *dash = strchr(arg, '-');
	snprintf(start, sizeof(start), "%.*s", dash ? (int)(dash - arg) : 0, arg);
	if (!dash || !parse_u64(start, false, &v) || !parse_u64(dash + 1, false, &v2) || v2 <= v) {
		usage_error("--range %s: expected START-END with START < END", arg);
		return false;
	}
	return add_conf(a, "filter:start-address=0x%llx", (unsigned long long)v) &&
	       add_conf(a, "filter:end-address=0x%llx", (unsigned long long)v2);
}

static bool opt_start_at(struct capture_args *a, const char *arg)
{
	uint64_t v;
	if (!parse_u64(arg, false, &v)) {
		usage_error("--start-at %s: expected an address", arg);
		return false;
	}
	return add_conf(a, "trigger:on-address=0x%llx", (unsigned long long)v);
}

static bool opt_stop_at(struct capture_args *a, const char *arg)
{
	uint64_t v;
	if (!parse_u64(arg, false, &v) || a->o.nstop_at >= CAPTURE_MAX_STOPS) {
		usage_error("--stop-at %s: expected an address (at most 16)", arg);
		return false;
	}
	a->o.stop_at[a->o.nstop_at++] = v;
	return true;
}

static bool opt_conf(struct capture_args *a, const char *arg)
{
	if (!strchr(arg, '=') || strchr(arg, '#') || strchr(arg, '$')) {
		usage_error("--conf %s: expected NAME=VALUE", arg);
		return false;
	}
	return add_conf(a, "%s", arg);
}

static bool opt_time(struct capture_args *a, const char *arg)
{
	if (!parse_seconds(arg, 0, &a->o.time_limit)) {
		usage_error("--time %s: expected seconds", arg);
		return false;
	}
	return true;
}

static bool opt_max_size(struct capture_args *a, const char *arg)
{
	if (!parse_u64(arg, true, &a->o.max_size) || !a->o.max_size) {
		usage_error("--max-size %s: expected a size in bytes", arg);
		return false;
	}
	return true;
}

static bool opt_drain(struct capture_args *a, const char *arg)
{
	char *end;
	a->o.drain_ms = (int)strtol(arg, &end, 10);
	if (*end || end == arg || a->o.drain_ms < 1 || a->o.drain_ms > 3600000) {
		usage_error("--drain-interval %s: expected milliseconds", arg);
		return false;
	}
	return true;
}

static bool opt_timeout(struct capture_args *a, const char *arg)
{
	double t;
	if (!parse_seconds(arg, 86400, &t)) {
		usage_error("--timeout %s: expected seconds", arg);
		return false;
	}
	a->o.reply_timeout_ms = a->o.connect_timeout_ms = (int)(t * 1000);
	return true;
}

/* An option with an argument that TAKE takes. */
#define ARG(name, take) {name, required_argument, take, 0, false}
/* A flag: FIELD of struct capture_opts set to VALUE. */
#define FLAG(name, field, value) {name, no_argument, NULL, offsetof(struct capture_opts, field), value}

static const struct capture_option {
	const char *name;
	int has_arg;
	bool (*take)(struct capture_args *a, const char *arg);  /* false: a usage error, said */
	size_t flag;            /* without TAKE: the flag's offset in struct capture_opts ... */
	bool value;             /* ... and what it is set to */
} options[] = {
	ARG("output", opt_output),
	ARG("target", add_target),
	ARG("attach", opt_attach),
	ARG("format", opt_format),
	ARG("size", opt_size),
	ARG("core", opt_core),
	ARG("id", opt_id),
	ARG("sink", opt_sink),
	ARG("mode", opt_mode),
	ARG("context", opt_context),
	ARG("range", opt_range),
	ARG("start-at", opt_start_at),
	ARG("stop-at", opt_stop_at),
	ARG("conf", opt_conf),
	ARG("time", opt_time),
	ARG("max-size", opt_max_size),
	ARG("drain-interval", opt_drain),
	FLAG("all-stop", all_stop, true),
	ARG("timeout", opt_timeout),
	FLAG("fail-on-overflow", fail_on_overflow, true),
	FLAG("no-memory", memory, false),
	FLAG("progress", progress, true),
	FLAG("no-progress", progress, false),
	FLAG("quiet", quiet, true),
};
#define NOPTIONS (sizeof(options) / sizeof(options[0]))
#define OPT_HELP 'h'

/* The options before ARGC (where "--" is): 0, EXIT_USAGE, or -1 for
 * --help (printed). getopt_long's value of a long option is its row. */
static int parse_options(struct capture_args *a, int argc, char **argv)
{
	struct option longopts[NOPTIONS + 2];
	int c;
	for (size_t i = 0; i < NOPTIONS; i++)
		longopts[i] = (struct option){options[i].name, options[i].has_arg, NULL, 256 + (int)i};
	longopts[NOPTIONS] = (struct option){"help", no_argument, NULL, OPT_HELP};
	longopts[NOPTIONS + 1] = (struct option){NULL, 0, NULL, 0};
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
		if (c == OPT_HELP) {
			fputs(usage_text, stdout);
			return -1;
		}
		const char *name = c == 'o' ? "output" : c == 'q' ? "quiet" : NULL;
		size_t row = (size_t)c - 256;
		for (size_t i = 0; name && i < NOPTIONS; i++)
			if (!strcmp(options[i].name, name))
				row = i;
		if (row >= NOPTIONS) {
			fprintf(stderr, "Try 'cstrace --help'.\n");
			return EXIT_USAGE;
		}
		if (!options[row].take)
			*(bool *)((char *)&a->o + options[row].flag) = options[row].value;
		else if (!options[row].take(a, optarg))
			return EXIT_USAGE;
	}
	return 0;
}

/* The command line: options, targets, the program after "--". 0,
 * EXIT_USAGE, or -1 for --help. */
static int parse_command_line(struct capture_args *a, int argc, char **argv)
{
	int nopt = argc;
	/* PROG and its arguments follow "--"; getopt must not see them */
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			nopt = i;
			a->o.prog_argv = argv + i + 1;
			a->o.prog_argc = argc - i - 1;
			break;
		}
	if (a->o.prog_argv && a->o.prog_argc == 0) {
		usage_error("%s", "capture: -- must be followed by a program");
		return EXIT_USAGE;
	}
	int rc = parse_options(a, nopt, argv);
	if (rc)
		return rc;
	for (int i = optind; i < nopt; i++) {
		if (a->ntargets < MAX_TARGETS && !strchr(argv[i], ':')) {
			usage_error("capture: %s is not HOST:PORT (put the program after --)", argv[i]);
			return EXIT_USAGE;
		}
		if (!add_target(a, argv[i]))
			return EXIT_USAGE;
	}
	if (!a->ntargets) {
		usage_error("%s", "capture needs a target HOST:PORT");
		return EXIT_USAGE;
	}
	if (a->o.attach_pid && a->o.prog_argv) {
		usage_error("%s", "capture: --attach and a program after -- exclude each other");
		return EXIT_USAGE;
	}
	return 0;
}

/* ------------------------------------------------------------ running */

static volatile sig_atomic_t capture_interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	capture_interrupted = 1;
}

/* Several boards at once: one process each, a subdirectory HOST_PORT
 * each; the worst exit status. */
static int capture_several(struct capture_args *a)
{
	static char dirs[MAX_TARGETS][PATH_MAX];
	pid_t pids[MAX_TARGETS];
	if (mkdir(a->out, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "cstrace: %s: %s\n", a->out, strerror(errno));
		return EXIT_BAD;
	}
	a->o.progress = false;
	for (size_t i = 0; i < a->ntargets; i++) {
		char name[256];
		snprintf(name, sizeof(name), "%s", a->targets[i]);
		for (char *p = name; *p; p++)
			if (*p == ':' || *p == '/' || *p == '[' || *p == ']')
				*p = '_';
		snprintf(dirs[i], sizeof(dirs[i]), "%s/%s", a->out, name);
		fflush(NULL);
		pids[i] = fork();
		if (pids[i] < 0) {
			fprintf(stderr, "cstrace: fork: %s\n", strerror(errno));
			return EXIT_BAD;
		}
		if (pids[i] == 0) {
			a->o.target = a->targets[i];
			a->o.out_dir = dirs[i];
			a->o.label = a->targets[i];
			_exit(capture_run(&a->o));
		}
	}
	int worst = EXIT_OK;
	for (size_t i = 0; i < a->ntargets; i++) {
		int status;
		while (waitpid(pids[i], &status, 0) < 0 && errno == EINTR)
			;
		int code = WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_BAD;
		if (code > worst)
			worst = code;
	}
	return worst;
}

int cmd_capture(int argc, char **argv)
{
	static struct capture_args a;
	char defname[64];
	capture_opts_init(&a.o);
	a.o.progress = isatty(2);
	int rc = parse_command_line(&a, argc, argv);
	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	if (!a.out) {
		time_t t = time(NULL);
		struct tm tm;
		localtime_r(&t, &tm);
		strftime(defname, sizeof(defname), "capture-%Y%m%d-%H%M%S", &tm);
		a.out = defname;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigaction(SIGINT, &sa, NULL);       /* no SA_RESTART: waits end */
	a.o.interrupted = &capture_interrupted;
	if (a.ntargets == 1) {
		a.o.target = a.targets[0];
		a.o.out_dir = a.out;
		return capture_run(&a.o);
	}
	return capture_several(&a);
}
