/* cstrace: command-line companion of csgdbserver for CoreSight trace.
 *
 *   cstrace decode DIR [--ranges] [--id N] [--buffer NAME] [--stop-on-error] [-q]
 *   cstrace info DIR
 *   cstrace snapshot CAPTURE_DIR OUT_DIR
 *   cstrace capture HOST:PORT... [OPTIONS] [-- PROG ARGS...]
 *
 * Exit status: 0 done, 1 bad input or decode errors, 2 usage, 3 nothing to
 * decode (no instruction-trace source); capture: 4 connection failed or
 * lost, 5 the target refused, 6 trace overflowed (--fail-on-overflow). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "etm/capture.h"
#include "etm/decode.h"
#include "etm/snapshot.h"

enum { EXIT_OK = 0, EXIT_BAD = 1, EXIT_USAGE = 2, EXIT_NOTHING = 3 };

#define READ_CHUNK (256u << 10) /* trace bytes read and decoded at a time */

static const char usage_text[] =
	"Usage: cstrace COMMAND [ARGS]\n"
	"\n"
	"Commands:\n"
	"  decode DIR [OPTIONS]        decode an OpenCSD snapshot directory, or a capture\n"
	"                              directory (trace.bin + etm.ini + one ELF image)\n"
	"      --ranges                print only instruction ranges, one per line:\n"
	"                              0xSTART 0xEND (END exclusive), in trace order\n"
	"      --id N                  decode only trace ID N (0x01-0x6f)\n"
	"      --buffer NAME           decode only the named trace buffer (default: all\n"
	"                              buffers holding instruction trace)\n"
	"      --stop-on-error         stop at the first decoder error (as trc_pkt_lister\n"
	"                              does) instead of resynchronising\n"
	"      -q, --quiet             no warnings on stderr\n"
	"  info DIR                    list the trace buffers and sources of DIR\n"
	"  snapshot CAPTURE_DIR OUT    write a capture directory as an OpenCSD snapshot\n"
	"                              (ELF segments dumped to .bin files), e.g. for\n"
	"                              trc_pkt_lister -ss_dir OUT -decode\n"
	"  capture HOST:PORT... [OPTIONS] [-- PROG [ARGS...]]\n"
	"                              record a branch trace from csgdbserver over TCP\n"
	"                              (no gdb needed) into a capture directory: an\n"
	"                              OpenCSD snapshot (CoreSight) or a block list (bts),\n"
	"                              memory dumps, capture.json. With PROG the server\n"
	"                              (--multi) runs it; else --attach PID, else the\n"
	"                              process the server already has.\n"
	"      -o, --output DIR        capture directory (default capture-DATE-TIME);\n"
	"                              several targets: one subdirectory HOST_PORT each\n"
	"      --target HOST:PORT      another board to capture at the same time\n"
	"      --attach PID            trace a running process\n"
	"      --format F              auto (default: CoreSight if offered, else bts),\n"
	"                              CoreSight or bts\n"
	"      --size BYTES            trace buffer size (K/M suffixes)\n"
	"      --core N, --id N, --sink NAME, --mode full|snapshot, --context PID\n"
	"      --range START-END       trace only this address range (repeatable)\n"
	"      --start-at ADDR         start trace when ADDR executes (trigger)\n"
	"      --stop-at ADDR          stop trace and end the capture at ADDR\n"
	"      --conf NAME=VALUE       any Qbtrace-conf:CoreSight option (repeatable)\n"
	"      --time SECONDS          end the capture after this long\n"
	"      --max-size BYTES        end it when this much trace has been read\n"
	"      --drain-interval MS     read the trace this often while it runs (100)\n"
	"      --all-stop              stop the program for each read (default: read it\n"
	"                              running, in non-stop mode, if the server offers it)\n"
	"      --timeout SECONDS       wait this long for a reply (30)\n"
	"      --fail-on-overflow      exit 6 when trace was lost\n"
	"      --no-memory             no memory dumps\n"
	"      --progress, --no-progress   progress on stderr (default: if a terminal)\n"
	"      -q, --quiet             no summary line\n"
	"  help, --help                this text\n"
	"\n"
	"Exit status: 0 done, 1 bad input or decode errors, 2 usage error,\n"
	"3 nothing to decode (no instruction-trace source); capture: 4 connection\n"
	"failed or lost, or a corrupt reply (what was captured is kept, marked\n"
	"incomplete), 5 the target\n"
	"refused (program, attach or trace options), 6 trace overflowed with\n"
	"--fail-on-overflow.\n";

static void usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "cstrace: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'cstrace --help'.\n");
}

/* ------------------------------------------------------------- output */

/* A large stdout buffer with our own hex: ranges are printed by the million. */
struct out {
	char buf[1 << 16];
	size_t len;
	bool failed;
};

static void out_flush(struct out *o)
{
	if (o->len && fwrite(o->buf, 1, o->len, stdout) != o->len)
		o->failed = true;
	o->len = 0;
}

static void out_reserve(struct out *o, size_t n)
{
	if (o->len + n > sizeof(o->buf))
		out_flush(o);
}

static void out_hex(struct out *o, uint64_t v)
{
	char tmp[16];
	int n = 0;
	static const char digits[] = "0123456789abcdef";
	do {
		tmp[n++] = digits[v & 15];
		v >>= 4;
	} while (v);
	o->buf[o->len++] = '0';
	o->buf[o->len++] = 'x';
	while (n)
		o->buf[o->len++] = tmp[--n];
}

static void out_printf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;
	out_reserve(o, 512);
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, sizeof(o->buf) - o->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n < sizeof(o->buf) - o->len ? (size_t)n : sizeof(o->buf) - o->len - 1;
}

struct decode_run {
	struct out *out;
	bool ranges_only;
	bool quiet;
	unsigned long long nranges, nerrors, noverflows;
};

static int on_elem(void *ctx, const struct etm_elem *e)
{
	struct decode_run *r = ctx;
	struct out *o = r->out;

	if (e->kind == ETM_ELEM_RANGE)
		r->nranges++;
	if (e->kind == ETM_ELEM_ERROR) {
		r->nerrors++;
		if (!r->quiet)
			fprintf(stderr, "cstrace: decode error: %s\n", e->message);
	}
	if (e->kind == ETM_ELEM_GAP && e->gap == ETM_GAP_OVERFLOW)
		r->noverflows++;
	if (r->ranges_only) {
		if (e->kind == ETM_ELEM_RANGE) {
			out_reserve(o, 40);
			out_hex(o, e->start);
			o->buf[o->len++] = ' ';
			out_hex(o, e->end);
			o->buf[o->len++] = '\n';
		}
		return 0;
	}
	switch (e->kind) {
	case ETM_ELEM_RANGE:
		out_printf(o, "ID:%02x range 0x%llx 0x%llx insns=%u isa=%s last=%s%s%s\n", e->trace_id,
			   (unsigned long long)e->start, (unsigned long long)e->end, e->num_insns,
			   etm_isa_name(e->isa), etm_insn_class_name(e->last_class),
			   e->last_indirect ? " indirect" : "",
			   e->last_taken ? " taken" : " not-taken");
		break;
	case ETM_ELEM_GAP:
		if (e->gap == ETM_GAP_NO_PATH)
			out_printf(o, "ID:%02x gap %s 0x%llx 0x%llx insns=%u\n", e->trace_id,
				   etm_gap_reason_name(e->gap), (unsigned long long)e->start,
				   (unsigned long long)e->end, e->num_insns);
		else
			out_printf(o, "ID:%02x gap %s\n", e->trace_id, etm_gap_reason_name(e->gap));
		break;
	case ETM_ELEM_ADDR_NACC:
		out_printf(o, "ID:%02x gap no-memory 0x%llx\n", e->trace_id, (unsigned long long)e->start);
		break;
	case ETM_ELEM_EXCEPTION:
		if (e->has_return_addr)
			out_printf(o, "ID:%02x exception 0x%x return=0x%llx\n", e->trace_id,
				   e->exception_number, (unsigned long long)e->return_addr);
		else
			out_printf(o, "ID:%02x exception 0x%x\n", e->trace_id, e->exception_number);
		break;
	case ETM_ELEM_EXCEPTION_RETURN:
		out_printf(o, "ID:%02x exception-return\n", e->trace_id);
		break;
	case ETM_ELEM_CONTEXT:
		out_printf(o, "ID:%02x context isa=%s", e->trace_id, etm_isa_name(e->isa));
		if (e->el_valid)
			out_printf(o, " el=%u", e->el);
		if (e->context_id_valid)
			out_printf(o, " context-id=0x%x", e->context_id);
		if (e->vmid_valid)
			out_printf(o, " vmid=0x%x", e->vmid);
		out_printf(o, "\n");
		break;
	case ETM_ELEM_ERROR:
		out_printf(o, "ID:%02x error %s\n", e->trace_id, e->message);
		break;
	case ETM_ELEM_END:
		out_printf(o, "ID:%02x end\n", e->trace_id);
		break;
	}
	return 0;
}

static void on_warn(void *ctx, const char *msg)
{
	const struct decode_run *r = ctx;
	if (!r->quiet)
		fprintf(stderr, "cstrace: warning: %s\n", msg);
}

/* Stream one buffer's trace file through DEC in READ_CHUNK pieces. */
static int decode_file(struct etm_decoder *dec, const char *path, struct decode_run *run)
{
	uint8_t *buf = malloc(READ_CHUNK);
	int fd, rc = 0;
	ssize_t n;

	if (!buf) {
		fprintf(stderr, "cstrace: out of memory\n");
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "cstrace: %s: %s\n", path, strerror(errno));
		free(buf);
		return -1;
	}
	for (;;) {
		size_t got = 0;
		/* Fill the chunk so frames stay 16-byte aligned across reads. */
		while (got < READ_CHUNK && (n = read(fd, buf + got, READ_CHUNK - got)) > 0)
			got += (size_t)n;
		if (n < 0 && got < READ_CHUNK) {
			fprintf(stderr, "cstrace: %s: %s\n", path, strerror(errno));
			rc = -1;
			break;
		}
		if (!got)
			break;
		size_t used;
		enum etm_decode_status st = etm_decoder_feed(dec, buf, got, &used);
		if (st == ETM_DECODE_ERROR) {
			rc = -1;
			break;
		}
		if (got < READ_CHUNK)
			break;
	}
	if (rc == 0 && etm_decoder_end(dec) == ETM_DECODE_ERROR)
		rc = -1;
	if (rc < 0 && etm_decoder_error(dec)[0] && !run->nerrors)
		fprintf(stderr, "cstrace: %s\n", etm_decoder_error(dec));
	close(fd);
	free(buf);
	return rc;
}

static int parse_id(const char *s, int *id)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 0);
	if (errno || end == s || *end || v <= 0 || v >= 0x70)
		return -1;
	*id = (int)v;
	return 0;
}

static int cmd_decode(int argc, char **argv)
{
	static const struct option opts[] = {
		{"ranges", no_argument, NULL, 'r'},
		{"id", required_argument, NULL, 'i'},
		{"buffer", required_argument, NULL, 'b'},
		{"stop-on-error", no_argument, NULL, 's'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct decode_run run = {0};
	const char *buffer = NULL;
	bool stop_on_error = false;
	int only_id = -1, c, rc = EXIT_OK;
	unsigned decoded = 0;
	char err[512];
	struct etm_snapshot *ss;
	static struct out out;

	optind = 1;
	while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (c) {
		case 'r': run.ranges_only = true; break;
		case 'i':
			if (parse_id(optarg, &only_id) < 0) {
				usage_error("--id %s: trace IDs are 0x01-0x6f", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'b': buffer = optarg; break;
		case 's': stop_on_error = true; break;
		case 'q': run.quiet = true; break;
		case 'h': fputs(usage_text, stdout); return EXIT_OK;
		default: fprintf(stderr, "Try 'cstrace --help'.\n"); return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		usage_error("%s", optind >= argc ? "decode needs a directory" : "decode takes one directory");
		return EXIT_USAGE;
	}
	ss = etm_snapshot_load(argv[optind], err, sizeof(err));
	if (!ss) {
		fprintf(stderr, "cstrace: %s\n", err);
		return EXIT_BAD;
	}
	int want = -1;
	if (buffer && (want = etm_snapshot_find_buffer(ss, buffer)) < 0) {
		fprintf(stderr, "cstrace: %s: no trace buffer named %s\n", argv[optind], buffer);
		etm_snapshot_free(ss);
		return EXIT_BAD;
	}
	run.out = &out;
	for (size_t b = 0; b < ss->nbuffers; b++) {
		bool no_insn;
		if (want >= 0 && (size_t)want != b)
			continue;
		struct etm_decoder *dec = etm_snapshot_decoder(ss, b, only_id, on_warn, &run, &no_insn,
							       err, sizeof(err));
		if (!dec) {
			/* A buffer of STM/ITM, or without the asked-for ID: skip it
			 * unless it was the one asked for. */
			if (want >= 0 || (!no_insn && only_id < 0)) {
				fprintf(stderr, "cstrace: %s\n", err);
				rc = EXIT_BAD;
			} else if (!run.quiet) {
				fprintf(stderr, "cstrace: skipping: %s\n", err);
			}
			if (want >= 0 && no_insn)
				rc = EXIT_NOTHING;
			continue;
		}
		char *path = etm_snapshot_buffer_path(ss, b);
		etm_decoder_set_recover(dec, !stop_on_error);
		etm_decoder_set_output(dec, on_elem, &run);
		if (!run.ranges_only)
			out_printf(&out, "# buffer %s (%s, %s): %u source%s\n", ss->buffers[b].name,
				   ss->buffers[b].file, ss->buffers[b].format,
				   etm_decoder_num_sources(dec), etm_decoder_num_sources(dec) == 1 ? "" : "s");
		if (!path || decode_file(dec, path, &run) < 0)
			rc = EXIT_BAD;
		free(path);
		etm_decoder_free(dec);
		decoded++;
	}
	out_flush(&out);
	if (fflush(stdout) != 0 || out.failed) {
		fprintf(stderr, "cstrace: writing output: %s\n", strerror(errno));
		rc = EXIT_BAD;
	}
	if (!decoded && rc == EXIT_OK) {
		fprintf(stderr, "cstrace: %s: nothing to decode: no instruction-trace source%s\n",
			argv[optind], only_id >= 0 ? " with that trace ID" : "");
		rc = EXIT_NOTHING;
	}
	if (run.nerrors && rc == EXIT_OK)
		rc = EXIT_BAD;
	if (run.noverflows && !run.quiet)
		fprintf(stderr, "cstrace: warning: trace overflowed %llu time%s: trace was lost there\n",
			run.noverflows, run.noverflows == 1 ? "" : "s");
	etm_snapshot_free(ss);
	return rc;
}

static int cmd_info(int argc, char **argv)
{
	char err[512], why[512];
	struct etm_snapshot *ss;

	if (argc != 2) {
		usage_error("%s", "info takes one directory");
		return EXIT_USAGE;
	}
	ss = etm_snapshot_load(argv[1], err, sizeof(err));
	if (!ss) {
		fprintf(stderr, "cstrace: %s\n", err);
		return EXIT_BAD;
	}
	printf("%s: %s\n", argv[1], ss->is_capture ? "capture" : "snapshot");
	if (ss->elf_path)
		printf("elf %s\n", ss->elf_path);
	for (size_t b = 0; b < ss->nbuffers; b++) {
		printf("buffer %s file=%s format=%s\n", ss->buffers[b].name, ss->buffers[b].file,
		       ss->buffers[b].format);
		for (size_t i = 0; i < ss->nsources; i++) {
			const struct etm_ss_source *s = &ss->sources[i];
			struct etm_cpu_regs cfg;
			if (!s->buffer || strcmp(s->buffer, ss->buffers[b].name) != 0)
				continue;
			int rc = etm_snapshot_source_config(ss, s, &cfg, why, sizeof(why));
			if (rc == 0)
				printf("  source %s core=%s protocol=%s id=0x%02x\n", s->name, s->core,
				       etm_unit_name(cfg.unit), etm_trace_id(&cfg));
			else
				printf("  source %s not decoded: %s\n", s->name, why);
		}
	}
	etm_snapshot_free(ss);
	return EXIT_OK;
}

static int cmd_snapshot(int argc, char **argv)
{
	char err[512];
	struct etm_snapshot *ss;
	int rc = EXIT_OK;

	if (argc != 3) {
		usage_error("%s", "snapshot takes CAPTURE_DIR OUT_DIR");
		return EXIT_USAGE;
	}
	ss = etm_snapshot_load(argv[1], err, sizeof(err));
	if (!ss) {
		fprintf(stderr, "cstrace: %s\n", err);
		return EXIT_BAD;
	}
	if (etm_snapshot_write(ss, argv[2], err, sizeof(err)) < 0) {
		fprintf(stderr, "cstrace: %s\n", err);
		rc = EXIT_BAD;
	}
	etm_snapshot_free(ss);
	return rc;
}


/* ------------------------------------------------------------ capture */

static volatile sig_atomic_t capture_interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	capture_interrupted = 1;
}

/* "123", "0x7b", "64K", "1M" */
static bool parse_size_arg(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-')
		return false;
	if (*end == 'K' || *end == 'k')
		v <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		v <<= 20, end++;
	else if (*end == 'G' || *end == 'g')
		v <<= 30, end++;
	if (*end)
		return false;
	*out = v;
	return true;
}

static bool parse_addr(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-')
		return false;
	*out = v;
	return true;
}

/* Keeps the Qbtrace-conf strings alive for the run. */
static char conf_store[CAPTURE_MAX_CONF][128];

static bool add_conf(struct capture_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool add_conf(struct capture_opts *o, const char *fmt, ...)
{
	va_list ap;
	if (o->nconf >= CAPTURE_MAX_CONF) {
		usage_error("%s", "too many trace options");
		return false;
	}
	va_start(ap, fmt);
	vsnprintf(conf_store[o->nconf], sizeof(conf_store[0]), fmt, ap);
	va_end(ap);
	o->conf[o->nconf] = conf_store[o->nconf];
	o->nconf++;
	return true;
}

static int cmd_capture(int argc, char **argv)
{
	enum { O_TARGET = 256, O_ATTACH, O_FORMAT, O_SIZE, O_CORE, O_ID, O_SINK, O_MODE, O_CONTEXT,
	       O_RANGE, O_START_AT, O_STOP_AT, O_CONF, O_TIME, O_MAX_SIZE, O_DRAIN, O_TIMEOUT,
	       O_FAIL_OVERFLOW, O_NO_MEMORY, O_PROGRESS, O_NO_PROGRESS, O_ALL_STOP };
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'},
		{"target", required_argument, NULL, O_TARGET},
		{"attach", required_argument, NULL, O_ATTACH},
		{"format", required_argument, NULL, O_FORMAT},
		{"size", required_argument, NULL, O_SIZE},
		{"core", required_argument, NULL, O_CORE},
		{"id", required_argument, NULL, O_ID},
		{"sink", required_argument, NULL, O_SINK},
		{"mode", required_argument, NULL, O_MODE},
		{"context", required_argument, NULL, O_CONTEXT},
		{"range", required_argument, NULL, O_RANGE},
		{"start-at", required_argument, NULL, O_START_AT},
		{"stop-at", required_argument, NULL, O_STOP_AT},
		{"conf", required_argument, NULL, O_CONF},
		{"time", required_argument, NULL, O_TIME},
		{"max-size", required_argument, NULL, O_MAX_SIZE},
		{"drain-interval", required_argument, NULL, O_DRAIN},
		{"all-stop", no_argument, NULL, O_ALL_STOP},
		{"timeout", required_argument, NULL, O_TIMEOUT},
		{"fail-on-overflow", no_argument, NULL, O_FAIL_OVERFLOW},
		{"no-memory", no_argument, NULL, O_NO_MEMORY},
		{"progress", no_argument, NULL, O_PROGRESS},
		{"no-progress", no_argument, NULL, O_NO_PROGRESS},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct capture_opts o;
	const char *targets[64];
	size_t ntargets = 0;
	const char *out = NULL;
	int c, nopt = argc;
	uint64_t v, v2;
	char *end;

	capture_opts_init(&o);
	o.progress = isatty(2);
	/* PROG and its arguments follow "--"; getopt must not see them */
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			nopt = i;
			o.prog_argv = argv + i + 1;
			o.prog_argc = argc - i - 1;
			break;
		}
	if (o.prog_argv && o.prog_argc == 0) {
		usage_error("%s", "capture: -- must be followed by a program");
		return EXIT_USAGE;
	}
	optind = 1;
	while ((c = getopt_long(nopt, argv, "o:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'q': o.quiet = true; break;
		case 'h': fputs(usage_text, stdout); return EXIT_OK;
		case O_TARGET:
			if (ntargets >= sizeof(targets) / sizeof(targets[0])) {
				usage_error("%s", "too many targets");
				return EXIT_USAGE;
			}
			targets[ntargets++] = optarg;
			break;
		case O_ATTACH:
			o.attach_pid = strtol(optarg, &end, 10);
			if (*end || end == optarg || o.attach_pid <= 0) {
				usage_error("--attach %s: expected a process ID", optarg);
				return EXIT_USAGE;
			}
			break;
		case O_FORMAT:
			if (strcmp(optarg, "auto") && strcmp(optarg, "CoreSight") && strcmp(optarg, "bts") &&
			    strcmp(optarg, "etm")) {
				usage_error("--format %s: use auto, CoreSight or bts", optarg);
				return EXIT_USAGE;
			}
			o.format = optarg;
			break;
		case O_SIZE:
			if (!parse_size_arg(optarg, &o.size) || !o.size || o.size > 0xffffffffull) {
				usage_error("--size %s: expected a size in bytes (K/M suffixes), at most 4G-1", optarg);
				return EXIT_USAGE;
			}
			break;
		case O_CORE:
		case O_ID:
		case O_CONTEXT:
			if (!parse_addr(optarg, &v) || v > 0xffffffffull) {
				usage_error("expected a number, got %s", optarg);
				return EXIT_USAGE;
			}
			if (!add_conf(&o, "%s=0x%llx", c == O_CORE ? "core" : c == O_ID ? "id" : "filter:context",
				      (unsigned long long)v))
				return EXIT_USAGE;
			break;
		case O_SINK:
			if (!add_conf(&o, "sink=%s", optarg))
				return EXIT_USAGE;
			break;
		case O_MODE:
			if (strcmp(optarg, "full") && strcmp(optarg, "snapshot")) {
				usage_error("--mode %s: use full or snapshot", optarg);
				return EXIT_USAGE;
			}
			if (!add_conf(&o, "mode=%s", optarg))
				return EXIT_USAGE;
			break;
		case O_RANGE: {
			char a[64];
			const char *dash = strchr(optarg, '-');
			snprintf(a, sizeof(a), "%.*s", dash ? (int)(dash - optarg) : 0, optarg);
			if (!dash || !parse_addr(a, &v) || !parse_addr(dash + 1, &v2) || v2 <= v) {
				usage_error("--range %s: expected START-END with START < END", optarg);
				return EXIT_USAGE;
			}
			if (!add_conf(&o, "filter:start-address=0x%llx", (unsigned long long)v) ||
			    !add_conf(&o, "filter:end-address=0x%llx", (unsigned long long)v2))
				return EXIT_USAGE;
			break;
		}
		case O_START_AT:
			if (!parse_addr(optarg, &v)) {
				usage_error("--start-at %s: expected an address", optarg);
				return EXIT_USAGE;
			}
			if (!add_conf(&o, "trigger:on-address=0x%llx", (unsigned long long)v))
				return EXIT_USAGE;
			break;
		case O_STOP_AT:
			if (!parse_addr(optarg, &v) || o.nstop_at >= CAPTURE_MAX_STOPS) {
				usage_error("--stop-at %s: expected an address (at most 16)", optarg);
				return EXIT_USAGE;
			}
			o.stop_at[o.nstop_at++] = v;
			break;
		case O_CONF:
			if (!strchr(optarg, '=') || strchr(optarg, '#') || strchr(optarg, '$')) {
				usage_error("--conf %s: expected NAME=VALUE", optarg);
				return EXIT_USAGE;
			}
			if (!add_conf(&o, "%s", optarg))
				return EXIT_USAGE;
			break;
		case O_TIME:
			o.time_limit = strtod(optarg, &end);
			if (*end || end == optarg || !(o.time_limit > 0)) {
				usage_error("--time %s: expected seconds", optarg);
				return EXIT_USAGE;
			}
			break;
		case O_MAX_SIZE:
			if (!parse_size_arg(optarg, &o.max_size) || !o.max_size) {
				usage_error("--max-size %s: expected a size in bytes", optarg);
				return EXIT_USAGE;
			}
			break;
		case O_DRAIN:
			o.drain_ms = (int)strtol(optarg, &end, 10);
			if (*end || end == optarg || o.drain_ms < 1 || o.drain_ms > 3600000) {
				usage_error("--drain-interval %s: expected milliseconds", optarg);
				return EXIT_USAGE;
			}
			break;
		case O_TIMEOUT: {
			double t = strtod(optarg, &end);
			if (*end || end == optarg || !(t > 0) || t > 86400) {
				usage_error("--timeout %s: expected seconds", optarg);
				return EXIT_USAGE;
			}
			o.reply_timeout_ms = o.connect_timeout_ms = (int)(t * 1000);
			break;
		}
		case O_FAIL_OVERFLOW: o.fail_on_overflow = true; break;
		case O_ALL_STOP: o.all_stop = true; break;
		case O_NO_MEMORY: o.memory = false; break;
		case O_PROGRESS: o.progress = true; break;
		case O_NO_PROGRESS: o.progress = false; break;
		default: fprintf(stderr, "Try 'cstrace --help'.\n"); return EXIT_USAGE;
		}
	}
	for (int i = optind; i < nopt; i++) {
		if (ntargets >= sizeof(targets) / sizeof(targets[0])) {
			usage_error("%s", "too many targets");
			return EXIT_USAGE;
		}
		if (!strchr(argv[i], ':')) {
			usage_error("capture: %s is not HOST:PORT (put the program after --)", argv[i]);
			return EXIT_USAGE;
		}
		targets[ntargets++] = argv[i];
	}
	if (!ntargets) {
		usage_error("%s", "capture needs a target HOST:PORT");
		return EXIT_USAGE;
	}
	if (o.attach_pid && o.prog_argv) {
		usage_error("%s", "capture: --attach and a program after -- exclude each other");
		return EXIT_USAGE;
	}
	char defname[64];
	if (!out) {
		time_t t = time(NULL);
		struct tm tm;
		localtime_r(&t, &tm);
		strftime(defname, sizeof(defname), "capture-%Y%m%d-%H%M%S", &tm);
		out = defname;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigaction(SIGINT, &sa, NULL);       /* no SA_RESTART: waits end */
	o.interrupted = &capture_interrupted;

	if (ntargets == 1) {
		o.target = targets[0];
		o.out_dir = out;
		return capture_run(&o);
	}
	/* Several boards at once: one process each, a subdirectory each. */
	if (mkdir(out, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "cstrace: %s: %s\n", out, strerror(errno));
		return EXIT_BAD;
	}
	static char dirs[64][PATH_MAX];
	pid_t pids[64];
	o.progress = false;
	for (size_t i = 0; i < ntargets; i++) {
		char name[256];
		snprintf(name, sizeof(name), "%s", targets[i]);
		for (char *p = name; *p; p++)
			if (*p == ':' || *p == '/' || *p == '[' || *p == ']')
				*p = '_';
		snprintf(dirs[i], sizeof(dirs[i]), "%s/%s", out, name);
		fflush(NULL);
		pids[i] = fork();
		if (pids[i] < 0) {
			fprintf(stderr, "cstrace: fork: %s\n", strerror(errno));
			return EXIT_BAD;
		}
		if (pids[i] == 0) {
			o.target = targets[i];
			o.out_dir = dirs[i];
			o.label = targets[i];
			_exit(capture_run(&o));
		}
	}
	int worst = EXIT_OK;
	for (size_t i = 0; i < ntargets; i++) {
		int status;
		while (waitpid(pids[i], &status, 0) < 0 && errno == EINTR)
			;
		int code = WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_BAD;
		if (code > worst)
			worst = code;
	}
	return worst;
}

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
	{"capture", cmd_capture},
	{"decode", cmd_decode},
	{"info", cmd_info},
	{"snapshot", cmd_snapshot},
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	usage_error("unknown command '%s'", argv[1]);
	return EXIT_USAGE;
}
