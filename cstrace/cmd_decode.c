/* decode, info, snapshot: see cmd_decode.h. */
#include "cstrace/cmd_decode.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cstrace/usage.h"
#include "etm/decode.h"
#include "etm/snapshot.h"

#define READ_CHUNK (256u << 10) /* trace bytes read and decoded at a time */

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

int cmd_decode(int argc, char **argv)
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

static int show_info(struct etm_snapshot *ss, char **argv)
{
	char why[512];
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
	return EXIT_OK;
}

static int write_snapshot(struct etm_snapshot *ss, char **argv)
{
	char err[512];
	if (etm_snapshot_write(ss, argv[2], err, sizeof(err)) < 0) {
		fprintf(stderr, "cstrace: %s\n", err);
		return EXIT_BAD;
	}
	return EXIT_OK;
}

/* RUN on the directory argv[1] loaded, when ARGC is WANT_ARGC (else
 * USAGE is the error). */
static int with_dir(int argc, char **argv, int want_argc, const char *usage,
		    int (*run)(struct etm_snapshot *ss, char **argv))
{
	char err[512];
	if (argc != want_argc) {
		usage_error("%s", usage);
		return EXIT_USAGE;
	}
	struct etm_snapshot *ss = etm_snapshot_load(argv[1], err, sizeof(err));
	if (!ss) {
		fprintf(stderr, "cstrace: %s\n", err);
		return EXIT_BAD;
	}
	int rc = run(ss, argv);
	etm_snapshot_free(ss);
	return rc;
}

int cmd_info(int argc, char **argv)
{
	return with_dir(argc, argv, 2, "info takes one directory", show_info);
}

int cmd_snapshot(int argc, char **argv)
{
	return with_dir(argc, argv, 3, "snapshot takes CAPTURE_DIR OUT_DIR", write_snapshot);
}
