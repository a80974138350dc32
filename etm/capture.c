/* `cstrace capture`: see capture.h.
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
#include "etm/capture.h"

#include <dirent.h>
#include <errno.h>
#include <expat.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "etm/decode.h"
#include "etm/snapshot.h"
#include "common/buf.h"
#include "protocol/client.h"
#include "common/hex.h"
#include "protocol/escape.h"

#define MAX_MAPPING (256u << 20)     /* larger executable mappings are not dumped */
#define MAX_ELF (256u << 20)
#define MAX_CPUS 256
#define PAGE 4096u
#define MAX_FETCHED_PAGES 16384u  /* 64 MiB fetched while decoding */
/* a local failure (disk), distinct from every rsp_status */
#define LOCAL_FAIL (-100)
/* a drain in the middle of something failed (and said why) */
#define DRAIN_FAILED (-101)
#define MAX_REGS 32
#define DUMP_PIECE (256u << 10)  /* memory read between two drains (non-stop) */

void capture_opts_init(struct capture_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->format = "auto";
	o->drain_ms = 100;
	o->connect_timeout_ms = 5000;
	o->reply_timeout_ms = 30000;
	o->memory = true;
}

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
	bool drain_failed;
	bool no_delta;          /* the server cannot read CoreSight deltas */
	long pid;
	char arch[64];
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

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void msg(struct cap *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void msg(struct cap *k, const char *fmt, ...)
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

/* --------------------------------------------------------------- socket */

static long sock_read(void *ctx, void *buf, size_t len, int timeout_ms)
{
	struct cap *k = ctx;
	double deadline = timeout_ms >= 0 ? now() + timeout_ms / 1000.0 : 0;
	for (;;) {
		int wait = -1;
		if (timeout_ms >= 0) {
			double left = deadline - now();
			wait = left > 0 ? (int)(left * 1000) + 1 : 0;
		}
		struct pollfd pfd = {.fd = k->fd, .events = POLLIN};
		int r = poll(&pfd, 1, wait);
		if (r < 0 && errno == EINTR) {
			if (k->waiting_stop && k->o->interrupted && *k->o->interrupted)
				return RSP_IO_TIMEOUT;
			continue;
		}
		if (r < 0)
			return -1;
		if (r == 0)
			return RSP_IO_TIMEOUT;
		ssize_t n = recv(k->fd, buf, len, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		return n < 0 ? -1 : (long)n;
	}
}

static int sock_write(void *ctx, const void *buf, size_t len)
{
	struct cap *k = ctx;
	const char *p = buf;
	while (len) {
		ssize_t n = send(k->fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* HOST:PORT, [V6]:PORT or :PORT (localhost). */
static int split_target(const char *target, char *host, size_t hl, char *port, size_t pl)
{
	const char *colon;
	if (target[0] == '[') {
		const char *close = strchr(target, ']');
		if (!close || close[1] != ':')
			return -1;
		snprintf(host, hl, "%.*s", (int)(close - target - 1), target + 1);
		colon = close + 1;
	} else {
		colon = strrchr(target, ':');
		if (!colon)
			return -1;
		snprintf(host, hl, "%.*s", (int)(colon - target), target);
	}
	if (!host[0])
		snprintf(host, hl, "localhost");
	snprintf(port, pl, "%s", colon + 1);
	return port[0] ? 0 : -1;
}

static int connect_target(struct cap *k)
{
	char host[256], port[32];
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
	if (split_target(k->o->target, host, sizeof(host), port, sizeof(port)) < 0) {
		snprintf(k->error, sizeof(k->error), "%s: expected HOST:PORT", k->o->target);
		return -1;
	}
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc) {
		snprintf(k->error, sizeof(k->error), "%s: %s", k->o->target, gai_strerror(rc));
		return -1;
	}
	int last_errno = 0;
	for (ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
		if (fd < 0) {
			last_errno = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
			last_errno = errno;
			close(fd);
			continue;
		}
		struct pollfd pfd = {.fd = fd, .events = POLLOUT};
		int err = 0;
		socklen_t el = sizeof(err);
		int r;
		while ((r = poll(&pfd, 1, k->o->connect_timeout_ms)) < 0 && errno == EINTR)
			;
		if (r == 0)
			err = ETIMEDOUT;
		else if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
			err = errno;
		if (err) {
			last_errno = err;
			close(fd);
			continue;
		}
		int flags = fcntl(fd, F_GETFL);
		fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		k->fd = fd;
		freeaddrinfo(res);
		return 0;
	}
	freeaddrinfo(res);
	snprintf(k->error, sizeof(k->error), "cannot connect to %s: %s", k->o->target,
		 strerror(last_errno ? last_errno : ECONNREFUSED));
	return -1;
}

/* ------------------------------------------------------------ helpers */

/* A failed exchange: the link (conn_lost) or the server's refusal. */
static int fail_rc(struct cap *k, int rc, const char *what)
{
	if (rc == RSP_PROTOCOL) {
		/* nothing sensible can follow a corrupt reply: as a lost link */
		k->conn_lost = k->bad_reply = true;
		snprintf(k->error, sizeof(k->error), "%s: bad reply from the server: %s", what, k->c.err);
	} else if (rc == RSP_EOF || rc == RSP_IO_ERROR || rc == RSP_TIMEOUT) {
		k->conn_lost = true;
		snprintf(k->error, sizeof(k->error), "%s: connection lost: %s", what, rsp_status_name(rc));
	} else {
		snprintf(k->error, sizeof(k->error), "%s: %s", what, k->c.err);
	}
	return -1;
}

static bool link_failed(int rc)
{
	return rc == RSP_EOF || rc == RSP_IO_ERROR || rc == RSP_TIMEOUT || rc == RSP_PROTOCOL;
}

static char *path_in(struct cap *k, const char *name)
{
	static char p[PATH_MAX + 128];
	snprintf(p, sizeof(p), "%s/%s", k->tmpdir, name);
	return p;
}

static int select_thread(struct cap *k, const struct cthread *t)
{
	struct buf r = BUF_INIT;
	int rc = k->multiprocess ? rsp_client_commandf(&k->c, &r, "Hgp%lx.%lx", t->pid, t->tid)
				 : rsp_client_commandf(&k->c, &r, "Hg%lx", t->tid);
	buf_free(&r);
	return rc;
}

static struct cthread *find_thread(struct cap *k, long tid)
{
	for (size_t i = 0; i < k->nthreads; i++)
		if (k->threads[i].tid == tid)
			return &k->threads[i];
	return NULL;
}

static struct cthread *add_thread(struct cap *k, long pid, long tid)
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

/* "p1a2b.1a2c" or "1a2c" (a thread ID of a stop reply or thread list). */
static bool parse_ptid(const char *s, long pid_default, long *pid, long *tid)
{
	char *end;
	if (*s == 'p') {
		*pid = strtol(s + 1, &end, 16);
		if (*end != '.')
			return false;
		*tid = strtol(end + 1, &end, 16);
	} else {
		*pid = pid_default;
		*tid = strtol(s, &end, 16);
	}
	return end != s && *tid > 0;
}

struct stop {
	char kind;              /* 'T', 'S', 'W', 'X', 'N' */
	int sig;
	long pid, tid;
	bool syscall_entry;
	long syscall;
	bool swbreak;
	bool have_pc;
	uint64_t pc;
};

/* Register number of the PC in stop replies, as hex. */
static const char *pc_regnum(const char *arch)
{
	if (strstr(arch, "x86-64"))
		return "10";
	if (strstr(arch, "aarch64"))
		return "20";
	if (!strncmp(arch, "arm", 3))
		return "0f";
	return NULL;
}

static void parse_stop(const char *r, long pid_default, const char *pc_reg, struct stop *st)
{
	memset(st, 0, sizeof(*st));
	st->kind = r[0];
	st->pid = pid_default;
	if ((st->kind == 'T' || st->kind == 'S' || st->kind == 'W' || st->kind == 'X') &&
	    hex_value((unsigned char)r[1]) >= 0 && hex_value((unsigned char)r[2]) >= 0)
		st->sig = hex_value((unsigned char)r[1]) << 4 | hex_value((unsigned char)r[2]);
	if (st->kind != 'T')
		return;
	for (const char *p = r + 3; *p;) {
		const char *semi = strchr(p, ';');
		size_t len = semi ? (size_t)(semi - p) : strlen(p);
		if (!strncmp(p, "thread:", 7))
			parse_ptid(p + 7, pid_default, &st->pid, &st->tid);
		else if (!strncmp(p, "syscall_entry:", 14)) {
			st->syscall_entry = true;
			st->syscall = strtol(p + 14, NULL, 16);
		} else if (!strncmp(p, "swbreak:", 8) || (len >= 5 && !strncmp(p, "hwbreak", 7))) {
			st->swbreak = true;
		} else if (pc_reg && !strncmp(p, pc_reg, strlen(pc_reg)) && p[strlen(pc_reg)] == ':') {
			/* the expedited PC: target-endian bytes, little here */
			const char *h = p + strlen(pc_reg) + 1;
			size_t nd = len - strlen(pc_reg) - 1;
			st->pc = 0;
			for (size_t b = 0; b + 1 < nd && b < 16; b += 2) {
				int hi = hex_value((unsigned char)h[b]), lo = hex_value((unsigned char)h[b + 1]);
				if (hi < 0 || lo < 0)
					break;
				st->pc |= (uint64_t)(hi << 4 | lo) << (4 * b);
			}
			st->have_pc = true;
		}
		p = semi ? semi + 1 : p + len;
	}
}

/* exit and exit_group of the target's architecture. */
static bool exit_syscalls(const char *arch, long *exit_nr, long *exit_group_nr)
{
	if (strstr(arch, "x86-64")) {
		*exit_nr = 60;
		*exit_group_nr = 231;
	} else if (strstr(arch, "aarch64")) {
		*exit_nr = 93;
		*exit_group_nr = 94;
	} else if (!strncmp(arch, "arm", 3)) {
		*exit_nr = 1;
		*exit_group_nr = 248;
	} else {
		return false;
	}
	return true;
}

static int breakpoint_kind(const char *arch)
{
	if (strstr(arch, "x86"))
		return 1;
	return 4;
}

/* --------------------------------------------------- CoreSight document */

struct etm_parse {
	struct cap *k;
	struct cthread *t;
	XML_Parser p;
	bool in_raw;
	int nibble;             /* -1, or the first digit of a byte */
	bool new_config;        /* this document's first cpu-etm-config seen */
	struct cpu_cfg *cur;
	unsigned char out[8192];
	size_t nout;
	bool failed;            /* writing the trace file failed */
	bool bad_hex;           /* <raw> held something else than hex digits */
};

static bool attr_u(const char **attrs, const char *name, unsigned long long *v)
{
	for (size_t i = 0; attrs[i]; i += 2)
		if (!strcmp(attrs[i], name)) {
			char *end;
			*v = strtoull(attrs[i + 1], &end, 0);
			return end != attrs[i + 1];
		}
	return false;
}

/* Register name of a config attribute: reg_idr0 -> TRCIDR0 (ETMv4/ETE),
 * reg_ctrl -> ETMCR (ETMv3/PTM). */
static void reg_name(const char *attr, bool v4, char *out, size_t outlen)
{
	static const struct { const char *attr, *name; } v3[] = {
		{"reg_ctrl", "ETMCR"}, {"reg_trc_id", "ETMTRACEIDR"}, {"reg_ccer", "ETMCCER"},
		{"reg_idr", "ETMIDR"}, {"reg_ccr", "ETMCCR"},
	};
	if (!v4)
		for (size_t i = 0; i < sizeof(v3) / sizeof(v3[0]); i++)
			if (!strcmp(attr, v3[i].attr)) {
				snprintf(out, outlen, "%s", v3[i].name);
				return;
			}
	const char *s = strncmp(attr, "reg_", 4) ? attr : attr + 4;
	size_t n = (size_t)snprintf(out, outlen, "%s", v4 ? "TRC" : "ETM");
	for (; *s && n + 1 < outlen; s++)
		out[n++] = (char)(*s >= 'a' && *s <= 'z' ? *s - 32 : *s);
	out[n] = '\0';
}

static void flush_raw(struct etm_parse *e)
{
	if (!e->nout)
		return;
	if (e->t->f && fwrite(e->out, 1, e->nout, e->t->f) != e->nout)
		e->failed = true;
	e->t->bytes += e->nout;
	e->k->trace_bytes += e->nout;
	e->nout = 0;
}

static void XMLCALL etm_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct etm_parse *e = ud;
	struct cap *k = e->k;
	unsigned long long v;
	if (!strcmp(name, "raw")) {
		e->in_raw = true;
		e->nibble = -1;
	} else if (!strcmp(name, "source-config")) {
		k->trace_id = attr_u(attrs, "trace_id", &v) ? (unsigned)v : 0;
	} else if (!strcmp(name, "cpu-etm-config")) {
		if (!e->new_config) {
			e->new_config = true;
			k->ncpus = 0;
		}
		if (k->ncpus >= MAX_CPUS) {
			e->cur = NULL;
			return;
		}
		e->cur = &k->cpus[k->ncpus++];
		memset(e->cur, 0, sizeof(*e->cur));
		if (attr_u(attrs, "cpu_id", &v)) e->cur->cpu_id = (unsigned)v;
		if (attr_u(attrs, "arch_ver", &v)) e->cur->arch_ver = (unsigned)v;
		if (attr_u(attrs, "core_prof", &v)) e->cur->core_prof = (unsigned)v;
		if (attr_u(attrs, "protocol", &v)) e->cur->protocol = (unsigned)v;
	} else if ((!strcmp(name, "etmv4-config") || !strcmp(name, "etmv3-config")) && e->cur) {
		bool v4 = name[3] == 'v' && name[4] == '4';
		for (size_t i = 0; attrs[i] && e->cur->nregs < MAX_REGS; i += 2) {
			struct reg *r = &e->cur->regs[e->cur->nregs];
			char *end;
			r->value = strtoull(attrs[i + 1], &end, 0);
			if (end == attrs[i + 1])
				continue;
			reg_name(attrs[i], v4, r->name, sizeof(r->name));
			e->cur->nregs++;
		}
		k->have_config = true;
	} else if (!strcmp(name, "sink-config")) {
		k->formatted = attr_u(attrs, "formatted", &v) ? v != 0 : true;
	}
}

static void XMLCALL etm_end(void *ud, const XML_Char *name)
{
	struct etm_parse *e = ud;
	if (!strcmp(name, "raw")) {
		flush_raw(e);
		e->in_raw = false;
		if (e->nibble >= 0)
			e->bad_hex = true;      /* an odd number of digits */
	} else if (!strcmp(name, "cpu-etm-config")) {
		e->cur = NULL;
	}
}

/* hex digit values; -1 for anything else */
static signed char hex_digit[256];
static bool hex_digit_ready;

static void init_hex_digits(void)
{
	for (int c = 0; c < 256; c++)
		hex_digit[c] = (signed char)hex_value(c);
	hex_digit_ready = true;
}

static void XMLCALL etm_text(void *ud, const XML_Char *s, int len)
{
	struct etm_parse *e = ud;
	if (!e->in_raw)
		return;
	for (int i = 0; i < len; i++) {
		int d = hex_digit[(unsigned char)s[i]];
		if (d < 0) {
			/* line breaks around the hex; anything else is corrupt */
			if (s[i] != '\n' && s[i] != '\r' && s[i] != ' ' && s[i] != '\t')
				e->bad_hex = true;
			continue;
		}
		if (e->nibble < 0) {
			e->nibble = d;
			continue;
		}
		e->out[e->nout++] = (unsigned char)(e->nibble << 4 | d);
		e->nibble = -1;
		if (e->nout == sizeof(e->out))
			flush_raw(e);
	}
}

static int etm_chunk(void *ctx, const char *data, size_t len)
{
	struct etm_parse *e = ctx;
	if (XML_Parse(e->p, data, (int)len, 0) == XML_STATUS_ERROR || e->failed || e->bad_hex)
		return -1;
	return 0;
}

/* One qXfer:btrace:read:ANNEX of the general thread T, streamed into its
 * trace file. */
static int read_etm(struct cap *k, struct cthread *t, const char *annex)
{
	struct etm_parse e = {.k = k, .t = t, .nibble = -1};
	if (!hex_digit_ready)
		init_hex_digits();
	e.p = XML_ParserCreate(NULL);
	if (!e.p)
		abort();
	XML_SetUserData(e.p, &e);
	XML_SetElementHandler(e.p, etm_start, etm_end);
	XML_SetCharacterDataHandler(e.p, etm_text);
	if (!t->f) {
		t->f = fopen(path_in(k, t->file), "ab");
		if (!t->f) {
			snprintf(k->error, sizeof(k->error), "%s: %s", t->file, strerror(errno));
			XML_ParserFree(e.p);
			return LOCAL_FAIL;
		}
	}
	int rc = rsp_client_xfer_read(&k->c, "btrace", annex, NULL, etm_chunk, &e);
	if (rc == RSP_OK && XML_Parse(e.p, "", 0, 1) == XML_STATUS_ERROR)
		rc = RSP_PROTOCOL;
	if (rc == RSP_PROTOCOL && e.bad_hex)
		snprintf(k->c.err, sizeof(k->c.err), "btrace document: <raw> is not hex digits");
	else if (rc == RSP_PROTOCOL && XML_GetErrorCode(e.p) != XML_ERROR_NONE)
		snprintf(k->c.err, sizeof(k->c.err), "btrace document: %s at line %lu",
			 XML_ErrorString(XML_GetErrorCode(e.p)), (unsigned long)XML_GetCurrentLineNumber(e.p));
	if (e.failed) {
		snprintf(k->error, sizeof(k->error), "%s: write failed: %s", t->file, strerror(errno));
		XML_ParserFree(e.p);
		return LOCAL_FAIL;
	}
	flush_raw(&e);
	fflush(t->f);
	XML_ParserFree(e.p);
	t->reads++;
	return rc;
}

/* ------------------------------------------------------------ bts blocks */

static void add_block(struct cthread *t, uint64_t b, uint64_t e)
{
	if (t->nblocks == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 1024;
		t->blocks = realloc(t->blocks, t->cap * sizeof(*t->blocks));
		if (!t->blocks)
			abort();
	}
	t->blocks[t->nblocks++] = (struct block){b, e};
}

/* Blocks of a bts document, appended oldest first; a delta's begin="0"
 * block continues the newest block held. */
static int take_blocks(struct cap *k, struct cthread *t, const struct buf *doc)
{
	struct block *tmp = NULL;
	size_t n = 0, cap = 0;
	const char *p = doc->data ? doc->data : "", *end = p + doc->len;
	/* element by element, each search bounded by it (a document has
	 * hundreds of thousands of blocks) */
	while ((p = memchr(p, '<', (size_t)(end - p)))) {
		const char *close = memchr(p, '>', (size_t)(end - p));
		if (!close)
			break;
		if ((size_t)(close - p) < 7 || memcmp(p, "<block ", 7) != 0) {
			p = close;
			continue;
		}
		const char *b = memmem(p, (size_t)(close - p), "begin=\"", 7);
		const char *e = memmem(p, (size_t)(close - p), " end=\"", 6);
		if (!b || !e)
			break;
		e++;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			tmp = realloc(tmp, cap * sizeof(*tmp));
			if (!tmp)
				abort();
		}
		tmp[n].begin = strtoull(b + 7, NULL, 16);
		tmp[n].end = strtoull(e + 5, NULL, 16);
		n++;
		p = close;
	}
	for (size_t i = n; i-- > 0;) {
		if (tmp[i].begin == 0) {
			if (t->nblocks)
				t->blocks[t->nblocks - 1].end = tmp[i].end;
			continue;
		}
		add_block(t, tmp[i].begin, tmp[i].end);
	}
	k->trace_bytes += doc->len;
	free(tmp);
	return 0;
}

/* ------------------------------------------------------------ draining */

static void record_gap(struct cap *k, struct cthread *t)
{
	t->gaps = realloc(t->gaps, (t->ngaps + 1) * sizeof(*t->gaps));
	if (!t->gaps)
		abort();
	t->gaps[t->ngaps++].offset = k->coresight ? t->bytes : t->nblocks;
	k->overflows++;
}

/* Read what arrived for T since the last read. FINAL: the last read
 * (a server without CoreSight deltas gives the whole trace then). */
static int drain_thread(struct cap *k, struct cthread *t, bool final)
{
	int rc;
	if (!t->traced || t->gone)
		return 0;
	if (k->coresight && k->no_delta && !final)
		return 0;
	if ((rc = select_thread(k, t)) != RSP_OK) {
		if (link_failed(rc))
			return fail_rc(k, rc, "selecting a thread");
		t->gone = true;
		return 0;
	}
	if (k->coresight) {
		rc = read_etm(k, t, k->no_delta ? "all" : "delta");
		if (rc == RSP_ERROR_REPLY && !strcmp(k->c.err, "Overflow.")) {
			record_gap(k, t);
			rc = read_etm(k, t, "new");
		} else if (rc == RSP_ERROR_REPLY && strstr(k->c.err, "elta") && !k->no_delta) {
			/* no deltas from this server (or a replayed capture):
			 * the whole trace at the end */
			k->no_delta = true;
			rc = final ? read_etm(k, t, "all") : RSP_OK;
		}
	} else {
		struct buf doc = BUF_INIT;
		if (t->read_once) {
			rc = rsp_client_xfer_read(&k->c, "btrace", "delta", &doc, NULL, NULL);
		} else {
			/* The first read: one byte of a delta fails if the ring
			 * wrapped before it (an overflow too); the document comes
			 * with all, since a first delta's oldest block has no begin
			 * (gdb stitches it to its own first PC). */
			rc = rsp_client_command(&k->c, "qXfer:btrace:read:delta:0,1", &doc);
			if (rc == RSP_OK || (rc == RSP_ERROR_REPLY && strcmp(k->c.err, "Overflow.") != 0)) {
				buf_reset(&doc);
				rc = rsp_client_xfer_read(&k->c, "btrace", "all", &doc, NULL, NULL);
			}
		}
		if (rc == RSP_ERROR_REPLY && !strcmp(k->c.err, "Overflow.")) {
			record_gap(k, t);
			rc = rsp_client_xfer_read(&k->c, "btrace", "new", &doc, NULL, NULL);
		}
		if (rc == RSP_OK) {
			take_blocks(k, t, &doc);
			t->read_once = true;
			t->reads++;
		}
		buf_free(&doc);
	}
	if (rc == LOCAL_FAIL)
		return -1;
	if (rc == RSP_ERROR_REPLY && (strstr(k->c.err, "not enabled") || strstr(k->c.err, "No such thread") ||
				      strstr(k->c.err, "Could not read the thread"))) {
		t->gone = true;     /* the thread exited meanwhile */
		return 0;
	}
	if (rc != RSP_OK)
		return fail_rc(k, rc, "reading the trace");
	return 0;
}

/* Threads the server lists; new ones are traced (the server traces new
 * threads of a CoreSight-traced process itself: then Qbtrace says OK). */
static int update_threads(struct cap *k)
{
	struct buf r = BUF_INIT;
	for (size_t i = 0; i < k->nthreads; i++)
		k->threads[i].listed = false;
	int rc = rsp_client_command(&k->c, "qfThreadInfo", &r);
	while (rc == RSP_OK && r.data[0] == 'm') {
		for (char *p = r.data + 1; *p;) {
			long pid = 0, tid = 0;
			char *comma = strchr(p, ',');
			if (comma)
				*comma = '\0';
			bool ok = parse_ptid(p, k->pid, &pid, &tid);
			struct cthread *known = ok ? find_thread(k, tid) : NULL;
			if (known)
				known->listed = true;
			if (!known && ok && (!k->pid || pid == k->pid)) {
				struct cthread *t = add_thread(k, pid, tid);
				t->listed = true;
				/* non-stop: a new thread runs (its stop, if any, is reported) */
				t->running = k->nonstop;
				struct buf q = BUF_INIT;
				int qrc = select_thread(k, t);
				if (qrc == RSP_OK)
					qrc = rsp_client_commandf(&k->c, &q, "Qbtrace:%s", k->coresight ? "CoreSight" : "bts");
				t->traced = qrc == RSP_OK || (qrc == RSP_ERROR_REPLY && strstr(k->c.err, "already"));
				buf_free(&q);
				if (link_failed(qrc)) {
					buf_free(&r);
					return fail_rc(k, qrc, "tracing a new thread");
				}
			}
			if (!comma)
				break;
			p = comma + 1;
		}
		rc = rsp_client_command(&k->c, "qsThreadInfo", &r);
	}
	bool complete = rc == RSP_OK && r.data[0] == 'l';
	buf_free(&r);
	if (link_failed(rc))
		return fail_rc(k, rc, "listing threads");
	/* not listed: exited (their trace went with them) */
	for (size_t i = 0; complete && i < k->nthreads; i++)
		if (!k->threads[i].listed)
			k->threads[i].gone = true, k->threads[i].running = false;
	return 0;
}

static void show_progress(struct cap *k, bool force)
{
	if (!k->o->progress)
		return;
	double t = now();
	if (!force && t - k->last_progress < 0.25)
		return;
	k->last_progress = t;
	double el = t - (k->t_traced ? k->t_traced : k->t0);
	double mib = (double)k->trace_bytes / (1 << 20);
	size_t nblocks = 0;
	for (size_t i = 0; i < k->nthreads; i++)
		nblocks += k->threads[i].nblocks;
	if (k->coresight)
		fprintf(stderr, "\r\033[Kcstrace capture: %s%s%.2f MiB of trace, %.2f MiB/s, %.1f s%s",
			k->o->label ? k->o->label : "", k->o->label ? ": " : "", mib, el > 0 ? mib / el : 0.0,
			el, k->overflows ? " (overflowed)" : "");
	else
		fprintf(stderr, "\r\033[Kcstrace capture: %s%s%zu blocks (%.2f MiB), %.0f blocks/s, %.1f s%s",
			k->o->label ? k->o->label : "", k->o->label ? ": " : "", nblocks, mib,
			el > 0 ? (double)nblocks / el : 0.0, el, k->overflows ? " (overflowed)" : "");
	k->progress_shown = true;
}

static int drain_all(struct cap *k, bool final)
{
	if (update_threads(k) < 0)
		return -1;
	for (size_t i = 0; i < k->nthreads; i++)
		if (drain_thread(k, &k->threads[i], final) < 0)
			return -1;
	show_progress(k, false);
	return 0;
}

static const char *limit_reached(struct cap *k, double deadline);

/* Non-stop, while the program runs, a limit (time, size, Ctrl-C) was
 * reached: a long read of memory or a file stops so the program is
 * stopped on time; it is read (again) once the program has stopped. */
static bool dump_later(struct cap *k)
{
	return k->running_drain_due && limit_reached(k, k->deadline);
}

/* Non-stop, while the program runs: the trace read if its drain is due
 * (reading a big file or mapping takes long enough to let it wrap). */
static int drain_if_due(struct cap *k)
{
	if (!k->running_drain_due || now() < k->running_drain_due)
		return 0;
	if (drain_all(k, false) < 0)
		return -1;
	k->drains++;
	k->running_drain_due = now() + k->o->drain_ms / 1000.0;
	return 0;
}

/* --------------------------------------------------------- memory dumps */

/* Whole file PATH on the server's machine via vFile (host I/O): 0, 1 if
 * it cannot be read (or is larger than MAX), or a failed rsp_status. */
static int vfile_read(struct cap *k, const char *path, size_t max, struct buf *out)
{
	struct buf r = BUF_INIT, hexpath = BUF_INIT;
	buf_reset(out);
	buf_hex(&hexpath, path, strlen(path));
	int rc = rsp_client_commandf(&k->c, &r, "vFile:open:%s,0,0", hexpath.data);
	buf_free(&hexpath);
	if (rc != RSP_OK || r.data[0] != 'F' || r.data[1] == '-') {
		buf_free(&r);
		return link_failed(rc) ? rc : 1;
	}
	long fd = strtol(r.data + 1, NULL, 16);
	uint64_t off = 0;
	size_t chunk = k->c.packet_size > 64 ? (k->c.packet_size - 32) / 2 : 0x1000;
	int result = 0;
	for (;;) {
		rc = rsp_client_commandf(&k->c, &r, "vFile:pread:%lx,%zx,%llx", fd, chunk, (unsigned long long)off);
		if (link_failed(rc)) {
			result = rc;
			break;
		}
		if (rc != RSP_OK || r.data[0] != 'F' || r.data[1] == '-') {
			result = 1;
			break;
		}
		char *semi = strchr(r.data, ';');
		long n = strtol(r.data + 1, NULL, 16);
		if (n <= 0 || !semi)
			break;          /* end of file */
		long got = bin_unescape(semi + 1, r.len - (size_t)(semi + 1 - r.data));
		if (got != n) {
			result = 1;
			break;
		}
		buf_append(out, semi + 1, (size_t)n);
		off += (uint64_t)n;
		if (out->len > max) {
			result = 1;
			break;
		}
		if (dump_later(k)) {
			result = 1;     /* not now */
			break;
		}
		if (drain_if_due(k) < 0) {
			result = DRAIN_FAILED;
			break;
		}
	}
	if (result >= 0) {
		rc = rsp_client_commandf(&k->c, &r, "vFile:close:%lx", fd);
		if (link_failed(rc))
			result = rc;
	}
	buf_free(&r);
	return result;
}

static bool dumped(struct cap *k, uint64_t addr, uint64_t len)
{
	for (size_t i = 0; i < k->ndumps; i++)
		if (k->dumps[i].address == addr && k->dumps[i].length >= len)
			return true;
	return false;
}

static int save_dump(struct cap *k, uint64_t addr, const void *data, uint64_t len, const char *name)
{
	struct dump d = {.address = addr, .length = len};
	snprintf(d.file, sizeof(d.file), "mem/%llx.bin", (unsigned long long)addr);
	mkdir(path_in(k, "mem"), 0755);
	FILE *f = fopen(path_in(k, d.file), "wb");
	bool ok = f && fwrite(data, 1, (size_t)len, f) == (size_t)len;
	if (f && fclose(f) != 0)
		ok = false;
	if (!ok) {
		snprintf(k->error, sizeof(k->error), "%s: write failed: %s", d.file, strerror(errno));
		return -1;
	}
	d.name = strdup(name ? name : "");
	k->dumps = realloc(k->dumps, (k->ndumps + 1) * sizeof(*k->dumps));
	if (!k->dumps)
		abort();
	k->dumps[k->ndumps++] = d;
	k->dumped_bytes += len;
	return 0;
}

/* Read [ADDR, ADDR+LEN) over the protocol into mem/ADDR.bin. */
static int dump_region(struct cap *k, uint64_t addr, uint64_t len, const char *name)
{
	if (!len || len > MAX_MAPPING || dumped(k, addr, len))
		return 0;
	unsigned char *data = malloc((size_t)len);
	if (!data)
		return 0;
	/* Non-stop: the program runs on while a big mapping is read, so the
	 * trace is drained in between, on time, before the buffer wraps. */
	uint64_t got = 0;
	while (got < len) {
		size_t piece = len - got < DUMP_PIECE ? (size_t)(len - got) : DUMP_PIECE;
		long n = rsp_client_read_memory(&k->c, addr + got, piece, data + got);
		if (n < 0) {
			free(data);
			return fail_rc(k, (int)n, "reading memory");
		}
		got += (uint64_t)n;
		if ((size_t)n < piece)
			break;          /* unreadable from here on */
		if (dump_later(k)) {
			free(data);
			return 0;       /* read whole once the program is stopped */
		}
		if (drain_if_due(k) < 0) {
			free(data);
			return -1;
		}
	}
	int rc = got > 0 ? save_dump(k, addr, data, got, name) : 0;
	free(data);
	return rc;
}

/* Executable mappings of the live process from /proc/PID/maps. */
static int dump_maps(struct cap *k)
{
	char path[64];
	struct buf maps = BUF_INIT;
	snprintf(path, sizeof(path), "/proc/%ld/maps", k->pid);
	int rc = vfile_read(k, path, 16u << 20, &maps);
	if (rc != 0) {
		buf_free(&maps);
		return rc == DRAIN_FAILED ? -1 : rc < 0 ? fail_rc(k, rc, "reading the memory map") : 0;
	}
	for (char *line = maps.data; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		unsigned long long start, end;
		char perms[8];
		int name_at = 0;
		if (sscanf(line, "%llx-%llx %7s %*s %*s %*s %n", &start, &end, perms, &name_at) >= 3 &&
		    perms[2] == 'x' && strncmp(line + name_at, "[vsyscall]", 10) != 0) {
			int drc = dump_region(k, start, end - start, name_at ? line + name_at : "");
			if (drc < 0) {
				buf_free(&maps);
				return drc;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	buf_free(&maps);
	return 0;
}

/* A target with no process maps (a replayed capture): the loadable
 * segments of its executable file, read from memory. */
static int dump_exec_file(struct cap *k)
{
	struct buf path = BUF_INIT, elfdata = BUF_INIT;
	char annex[32];
	snprintf(annex, sizeof(annex), "%lx", k->pid);
	int rc = rsp_client_xfer_read(&k->c, "exec-file", annex, &path, NULL, NULL);
	if (rc != RSP_OK || !path.len) {
		buf_free(&path);
		return link_failed(rc) ? fail_rc(k, rc, "reading the executable's name") : 0;
	}
	rc = vfile_read(k, path.data, MAX_ELF, &elfdata);
	if (rc != 0 || !elfdata.len) {
		buf_free(&path);
		buf_free(&elfdata);
		return rc == DRAIN_FAILED ? -1 : rc < 0 ? fail_rc(k, rc, "reading the executable") : 0;
	}
	elf_version(EV_CURRENT);
	Elf *elf = elf_memory(elfdata.data, elfdata.len);
	size_t nph = 0;
	int result = 0;
	if (elf && elf_kind(elf) == ELF_K_ELF && elf_getphdrnum(elf, &nph) == 0) {
		for (size_t i = 0; i < nph && result == 0; i++) {
			GElf_Phdr ph;
			if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD || !ph.p_filesz ||
			    !(ph.p_flags & PF_X))
				continue;
			result = dump_region(k, ph.p_vaddr, ph.p_filesz, path.data);
		}
	}
	if (elf)
		elf_end(elf);
	buf_free(&path);
	buf_free(&elfdata);
	return result;
}

static int dump_memory(struct cap *k)
{
	if (k->live && k->o->memory && dump_maps(k) < 0)
		return -1;
	if (!k->live && k->o->memory && dump_exec_file(k) < 0)
		return -1;
	return 0;
}

/* ------------------------------------------------------------- writing */

static int write_text(struct cap *k, const char *name, const char *text, size_t len)
{
	FILE *f = fopen(path_in(k, name), "w");
	bool ok = f && fwrite(text, 1, len, f) == len;
	if (f && fclose(f) != 0)
		ok = false;
	if (!ok) {
		snprintf(k->error, sizeof(k->error), "%s: %s", name, strerror(errno));
		return -1;
	}
	return 0;
}

static const char *source_type(unsigned protocol)
{
	switch (protocol) {
	case 1: return "ETM3.5";
	case 2: return "ETM4";
	case 4: return "PTM1.1";
	case 6: return "ETE";
	}
	return NULL;
}

static void core_name(const struct cpu_cfg *c, char *out, size_t outlen)
{
	char prof = c->core_prof == 1 ? 'M' : c->core_prof == 2 ? 'R' : 'A';
	switch (c->arch_ver) {
	case 2: snprintf(out, outlen, "ARMv7-%c", prof); break;
	case 3: snprintf(out, outlen, "ARMv8-%c", prof); break;
	case 4: snprintf(out, outlen, "ARMv8.3-%c", prof); break;
	default: snprintf(out, outlen, "ARM-AA64"); break;
	}
}

/* Does thread T get a trace buffer in the snapshot? The first thread
 * always (trace.bin), the others when they have trace. */
static bool in_snapshot(const struct cap *k, const struct cthread *t)
{
	return t == &k->threads[0] || t->bytes > 0;
}

/* Names in the snapshot: the first thread's buffer ETB_0 with sources
 * ETM_<cpu> on cores cpu_<cpu>; another thread's ETB_<tid>, ETM_<cpu>_<tid>
 * and cpu_<cpu>_<tid> (one core device per source: OpenCSD keys
 * [core_trace_sources] by core, so a core names one source only). */
static void snapshot_suffix(const struct cap *k, const struct cthread *t, char *out, size_t outlen)
{
	if (t == &k->threads[0])
		out[0] = '\0';
	else
		snprintf(out, outlen, "_%ld", t->tid);
}

static void buffer_name(const struct cap *k, const struct cthread *t, char *out, size_t outlen)
{
	if (t == &k->threads[0])
		snprintf(out, outlen, "ETB_0");
	else
		snprintf(out, outlen, "ETB_%ld", t->tid);
}

/* The OpenCSD snapshot: every thread's trace its own buffer (as perf
 * keeps one AUX buffer per thread), each buffer with its own trace
 * source and core device per CPU of the trace unit configuration, every
 * memory dump listed for every core. trc_pkt_lister decodes the first
 * buffer by default, another with -src_name ETB_<tid>. */
static int write_snapshot(struct cap *k)
{
	struct buf b = BUF_INIT, tr = BUF_INIT, src = BUF_INIT, cores = BUF_INIT;
	int rc = 0;
	size_t dev = 0, nbuf = 0;
	buf_puts(&b, "[snapshot]\nversion=1.0\ndescription=cstrace capture\n\n[device_list]\n");
	for (size_t ti = 0; ti < k->nthreads || ti == 0; ti++) {
		const struct cthread *t = k->nthreads ? &k->threads[ti] : NULL;
		char sfx[32] = "";
		if (t && !in_snapshot(k, t))
			continue;
		if (t)
			snapshot_suffix(k, t, sfx, sizeof(sfx));
		for (size_t i = 0; i < k->ncpus; i++) {
			buf_printf(&b, "device%zu=cpu_%zu%s.ini\n", dev, i, sfx);
			dev++;
			buf_printf(&b, "device%zu=etm_%zu%s.ini\n", dev, i, sfx);
			dev++;
		}
		if (!t)
			break;
	}
	buf_puts(&b, "\n[trace]\nmetadata=trace.ini\n");
	rc = write_text(k, "snapshot.ini", b.data, b.len);

	buf_puts(&tr, "[trace_buffers]\nbuffers=");
	for (size_t ti = 0; rc == 0 && (ti < k->nthreads || ti == 0); ti++) {
		const struct cthread *t = k->nthreads ? &k->threads[ti] : NULL;
		char sfx[32] = "", bname[32] = "ETB_0";
		if (t && !in_snapshot(k, t))
			continue;
		if (t) {
			snapshot_suffix(k, t, sfx, sizeof(sfx));
			buffer_name(k, t, bname, sizeof(bname));
		}
		buf_printf(&tr, "%sbuffer%zu", nbuf ? "," : "", nbuf);
		/* the [bufferN] sections go after the list: collected in B */
		if (nbuf == 0)
			buf_reset(&b);
		buf_printf(&b, "\n[buffer%zu]\nname=%s\nfile=%s\nformat=%s\n", nbuf, bname,
			   t ? t->file : "trace.bin", k->formatted ? "coresight" : "source_data");
		nbuf++;
		for (size_t i = 0; i < k->ncpus && rc == 0; i++) {
			const struct cpu_cfg *c = &k->cpus[i];
			const char *type = source_type(c->protocol);
			char core[32], name[64];
			core_name(c, core, sizeof(core));
			buf_printf(&src, "ETM_%zu%s=%s\n", i, sfx, bname);
			buf_printf(&cores, "cpu_%zu%s=ETM_%zu%s\n", i, sfx, i, sfx);
			struct buf d = BUF_INIT;
			buf_printf(&d, "[device]\nname=cpu_%zu%s\nclass=core\ntype=%s\n\n[regs]\nPC=0\n", i, sfx, core);
			for (size_t m = 0; m < k->ndumps; m++)
				buf_printf(&d, "\n[dump%zu]\nfile=%s\naddress=0x%llx\nlength=0x%llx\n", m + 1,
					   k->dumps[m].file, (unsigned long long)k->dumps[m].address,
					   (unsigned long long)k->dumps[m].length);
			snprintf(name, sizeof(name), "cpu_%zu%s.ini", i, sfx);
			rc = write_text(k, name, d.data, d.len);
			buf_reset(&d);
			buf_printf(&d, "[device]\nname=ETM_%zu%s\nclass=trace_source\ntype=%s\n\n[regs]\n", i, sfx,
				   type ? type : "unknown");
			for (size_t r = 0; r < c->nregs; r++)
				buf_printf(&d, "%s=0x%llx\n", c->regs[r].name, (unsigned long long)c->regs[r].value);
			snprintf(name, sizeof(name), "etm_%zu%s.ini", i, sfx);
			if (rc == 0)
				rc = write_text(k, name, d.data, d.len);
			buf_free(&d);
		}
		if (!t)
			break;
	}
	if (rc == 0) {
		buf_puts(&tr, "\n");
		buf_append(&tr, b.data, b.len);
		buf_puts(&tr, "\n[source_buffers]\n");
		buf_append(&tr, src.data ? src.data : "", src.len);
		buf_puts(&tr, "\n[core_trace_sources]\n");
		buf_append(&tr, cores.data ? cores.data : "", cores.len);
		rc = write_text(k, "trace.ini", tr.data, tr.len);
	}
	buf_free(&b);
	buf_free(&tr);
	buf_free(&src);
	buf_free(&cores);
	return rc;
}

static int write_blocks(struct cap *k)
{
	for (size_t i = 0; i < k->nthreads; i++) {
		struct cthread *t = &k->threads[i];
		struct buf txt = BUF_INIT, xml = BUF_INIT;
		char name[64];
		size_t g = 0;
		buf_puts(&txt, "# blocks of executed instructions, oldest first: BEGIN END (END is the\n"
			 "# address of the block's last instruction, as in gdb's bts format)\n");
		for (size_t j = 0; j <= t->nblocks; j++) {
			while (g < t->ngaps && t->gaps[g].offset == j) {
				buf_puts(&txt, "# overflow: trace was lost here\n");
				g++;
			}
			if (j < t->nblocks)
				buf_printf(&txt, "0x%llx 0x%llx\n", (unsigned long long)t->blocks[j].begin,
					   (unsigned long long)t->blocks[j].end);
		}
		buf_puts(&xml, "<!DOCTYPE btrace SYSTEM \"btrace.dtd\">\n<btrace version=\"1.0\">\n");
		for (size_t j = t->nblocks; j-- > 0;)
			buf_printf(&xml, "<block begin=\"0x%llx\" end=\"0x%llx\"/>\n",
				   (unsigned long long)t->blocks[j].begin, (unsigned long long)t->blocks[j].end);
		buf_puts(&xml, "</btrace>\n");
		if (i == 0)
			snprintf(name, sizeof(name), "blocks.txt");
		else
			snprintf(name, sizeof(name), "blocks-%ld.txt", t->tid);
		int rc = write_text(k, name, txt.data, txt.len);
		if (i == 0)
			snprintf(name, sizeof(name), "btrace.xml");
		else
			snprintf(name, sizeof(name), "btrace-%ld.xml", t->tid);
		if (rc == 0)
			rc = write_text(k, name, xml.data, xml.len);
		buf_free(&txt);
		buf_free(&xml);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static void json_str(struct buf *b, const char *s)
{
	buf_putc(b, '"');
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			buf_printf(b, "\\%c", ch);
		else if (ch == '\n')
			buf_puts(b, "\\n");
		else if (ch < 0x20)
			buf_printf(b, "\\u%04x", ch);
		else
			buf_putc(b, (char)ch);
	}
	buf_putc(b, '"');
}


/* A target that tells no memory map (a replayed snapshot of memory
 * dumps): decode the captured trace here, fetching each page the decoder
 * asks for over the protocol, and keep those pages as the dumps. */
struct page {
	uint64_t addr;
	uint32_t len;           /* readable bytes from addr (0: unreadable) */
	uint8_t *data;
};

struct fetcher {
	struct cap *k;
	struct page *pages;
	size_t n, cap;
	bool link_failed;
};

static uint32_t fetch_mem(void *ctx, uint64_t addr, uint8_t trace_id, uint32_t len, uint8_t *buf)
{
	struct fetcher *f = ctx;
	(void)trace_id;
	uint64_t base = addr & ~(uint64_t)(PAGE - 1);
	struct page *pg = NULL;
	for (size_t i = f->n; i-- > 0;)
		if (f->pages[i].addr == base) {
			pg = &f->pages[i];
			break;
		}
	if (!pg) {
		if (f->link_failed || f->n >= MAX_FETCHED_PAGES)
			return 0;
		uint8_t *data = malloc(PAGE);
		if (!data)
			return 0;
		long got = rsp_client_read_memory(&f->k->c, base, PAGE, data);
		if (got < 0) {
			f->link_failed = true;
			fail_rc(f->k, (int)got, "reading memory for the trace");
			free(data);
			return 0;
		}
		if (f->n == f->cap) {
			f->cap = f->cap ? f->cap * 2 : 64;
			f->pages = realloc(f->pages, f->cap * sizeof(*f->pages));
			if (!f->pages)
				abort();
		}
		pg = &f->pages[f->n++];
		pg->addr = base;
		pg->len = (uint32_t)got;
		pg->data = data;
	}
	uint64_t off = addr - base;
	if (off >= pg->len)
		return 0;
	uint32_t take = pg->len - (uint32_t)off < len ? pg->len - (uint32_t)off : len;
	memcpy(buf, pg->data + off, take);
	/* the rest of a read that crosses into the next page */
	if (take < len && pg->len == PAGE)
		take += fetch_mem(ctx, base + PAGE, trace_id, len - take, buf + take);
	return take;
}

static int ignore_elem(void *ctx, const struct etm_elem *e)
{
	(void)ctx;
	(void)e;
	return 0;
}

static int cmp_page(const void *a, const void *b)
{
	uint64_t x = ((const struct page *)a)->addr, y = ((const struct page *)b)->addr;
	return x < y ? -1 : x > y;
}

static int dump_by_decoding(struct cap *k)
{
	char err[512];
	struct fetcher f = {.k = k};
	int rc = 0;
	if (write_snapshot(k) < 0)
		return -1;
	struct etm_snapshot *ss = etm_snapshot_load(k->tmpdir, err, sizeof(err));
	/* every thread's buffer: the pages any of them executes */
	for (size_t bi = 0; bi < (ss ? ss->nbuffers : 1) && !f.link_failed; bi++) {
		struct etm_decoder *dec = ss ? etm_snapshot_decoder(ss, bi, -1, NULL, NULL, NULL, err, sizeof(err))
					     : NULL;
		char *path = ss ? etm_snapshot_buffer_path(ss, bi) : NULL;
		FILE *in = path ? fopen(path, "rb") : NULL;
		/* all of the address space but its last page (OpenCSD wants an even end) */
		if (!dec || !in || etm_decoder_add_mem_callback(dec, 0, UINT64_MAX - PAGE + 1, fetch_mem, &f) < 0) {
			/* not decodable here: the snapshot simply has no memory */
			if (bi == 0)
				msg(k, "no memory dumps: the trace cannot be decoded here (%s)",
				    dec ? etm_decoder_error(dec) : err);
		} else {
			etm_decoder_set_output(dec, ignore_elem, NULL);
			uint8_t chunk[65536];
			size_t n;
			while (!f.link_failed && (n = fread(chunk, 1, sizeof(chunk), in)) > 0) {
				size_t used;
				if (etm_decoder_feed(dec, chunk, n, &used) == ETM_DECODE_ERROR)
					break;
			}
			if (!f.link_failed)
				etm_decoder_end(dec);
		}
		if (in)
			fclose(in);
		free(path);
		if (dec)
			etm_decoder_free(dec);
	}
	if (f.link_failed) {
		rc = -1;
		goto out;
	}
	/* contiguous readable pages become one dump each */
	if (f.n)
		qsort(f.pages, f.n, sizeof(*f.pages), cmp_page);
	for (size_t i = 0; i < f.n && rc == 0;) {
		size_t j = i;
		uint64_t len = 0;
		while (j < f.n && f.pages[j].len && f.pages[j].addr == f.pages[i].addr + len) {
			len += f.pages[j].len;
			j++;
			if (f.pages[j - 1].len < PAGE)
				break;
		}
		if (!len) {
			i++;
			continue;
		}
		uint8_t *data = malloc((size_t)len);
		if (!data)
			abort();
		for (size_t p = i; p < j; p++)
			memcpy(data + (f.pages[p].addr - f.pages[i].addr), f.pages[p].data, f.pages[p].len);
		rc = save_dump(k, f.pages[i].addr, data, len, "(pages the trace executes)");
		free(data);
		i = j;
	}
out:
	etm_snapshot_free(ss);
	for (size_t i = 0; i < f.n; i++)
		free(f.pages[i].data);
	free(f.pages);
	return rc;
}

static int write_json(struct cap *k, int exit_code)
{
	const struct capture_opts *o = k->o;
	struct buf b = BUF_INIT;
	double run = (k->t_run_end ? k->t_run_end : k->t_end) - (k->t_traced ? k->t_traced : k->t_end);
	buf_printf(&b, "{\n  \"version\": 1,\n  \"complete\": %s,\n  \"exit_code\": %d,\n  \"end_reason\": ",
		   k->conn_lost ? "false" : "true", exit_code);
	json_str(&b, k->end_reason ? k->end_reason : "error");
	buf_puts(&b, ",\n  \"error\": ");
	if (k->error[0])
		json_str(&b, k->error);
	else
		buf_puts(&b, "null");
	buf_puts(&b, ",\n  \"target\": {\n    \"address\": ");
	json_str(&b, o->target);
	buf_printf(&b, ",\n    \"pid\": %ld,\n    \"started\": %s,\n    \"attached\": %s,\n    \"architecture\": ",
		   k->pid, k->started ? "true" : "false", o->attach_pid ? "true" : "false");
	json_str(&b, k->arch);
	buf_puts(&b, ",\n    \"program\": [");
	for (int i = 0; i < o->prog_argc; i++) {
		if (i)
			buf_puts(&b, ", ");
		json_str(&b, o->prog_argv[i]);
	}
	buf_puts(&b, "]\n  },\n  \"configuration\": {\n    \"format\": ");
	json_str(&b, k->coresight ? "CoreSight" : "bts");
	buf_printf(&b, ",\n    \"requested_size\": %llu,\n    \"buffer_size\": %llu,\n    \"options\": [",
		   (unsigned long long)o->size, (unsigned long long)k->buffer_size);
	for (size_t i = 0; i < o->nconf; i++) {
		if (i)
			buf_puts(&b, ", ");
		json_str(&b, o->conf[i]);
	}
	buf_puts(&b, "],\n    \"stop_at\": [");
	for (size_t i = 0; i < o->nstop_at; i++)
		buf_printf(&b, "%s\"0x%llx\"", i ? ", " : "", (unsigned long long)o->stop_at[i]);
	buf_printf(&b, "],\n    \"time_limit_s\": %g,\n    \"max_size\": %llu,\n    \"drain_interval_ms\": %d,\n"
		   "    \"btrace_conf\": ", o->time_limit, (unsigned long long)o->max_size, o->drain_ms);
	json_str(&b, k->conf_xml.data ? k->conf_xml.data : "");
	buf_printf(&b, ",\n    \"drained_while_running\": %s,\n    \"mode\": \"%s\",\n    \"mode_reason\": ",
		   k->coresight && k->no_delta ? "false" : "true", k->nonstop ? "non-stop" : "all-stop");
	json_str(&b, k->mode_reason);
	buf_puts(&b, "\n  },\n");
	buf_printf(&b, "  \"trace\": {\n    \"bytes\": %llu,\n    \"overflows\": %u,\n    \"drains\": %u,\n",
		   (unsigned long long)k->trace_bytes, k->overflows, k->drains);
	if (k->coresight) {
		buf_printf(&b, "    \"snapshot\": %s,\n    \"buffer_format\": \"%s\",\n    \"trace_id\": %u,\n"
			   "    \"cpus\": %zu,\n", k->have_config ? "true" : "false",
			   k->formatted ? "coresight" : "source_data", k->trace_id, k->ncpus);
	}
	buf_puts(&b, "    \"threads\": [");
	for (size_t i = 0; i < k->nthreads; i++) {
		const struct cthread *t = &k->threads[i];
		buf_printf(&b, "%s\n      {\"pid\": %ld, \"tid\": %ld, \"traced\": %s, \"reads\": %u, ", i ? "," : "",
			   t->pid, t->tid, t->traced ? "true" : "false", t->reads);
		if (k->coresight) {
			char bname[32];
			buffer_name(k, t, bname, sizeof(bname));
			buf_printf(&b, "\"file\": \"%s\", \"bytes\": %llu, \"buffer\": ", t->file,
				   (unsigned long long)t->bytes);
			if (k->have_config && in_snapshot(k, t))
				buf_printf(&b, "\"%s\", ", bname);
			else
				buf_puts(&b, "null, ");
		}
		else
			buf_printf(&b, "\"blocks\": %zu, ", t->nblocks);
		buf_printf(&b, "\"overflow_gaps\": [");
		for (size_t g = 0; g < t->ngaps; g++)
			buf_printf(&b, "%s{\"at_%s\": %llu}", g ? ", " : "", k->coresight ? "byte" : "block",
				   (unsigned long long)t->gaps[g].offset);
		buf_puts(&b, "]}");
	}
	buf_puts(&b, "\n    ]\n  },\n  \"memory\": [");
	for (size_t i = 0; i < k->ndumps; i++) {
		buf_printf(&b, "%s\n    {\"file\": \"%s\", \"address\": %llu, \"length\": %llu, \"name\": ", i ? "," : "",
			   k->dumps[i].file, (unsigned long long)k->dumps[i].address,
			   (unsigned long long)k->dumps[i].length);
		json_str(&b, k->dumps[i].name);
		buf_putc(&b, '}');
	}
	double total = k->t_end - k->t0;
	buf_printf(&b, "\n  ],\n  \"timings\": {\n    \"connect_s\": %.6f,\n    \"setup_s\": %.6f,\n"
		   "    \"run_s\": %.6f,\n    \"total_s\": %.6f,\n    \"trace_mib_per_s\": %.3f\n  },\n",
		   k->t_connected ? k->t_connected - k->t0 : 0.0,
		   k->t_traced && k->t_connected ? k->t_traced - k->t_connected : 0.0, run > 0 ? run : 0.0,
		   total, total > 0 ? (double)k->trace_bytes / (1 << 20) / total : 0.0);
	buf_printf(&b, "  \"protocol\": {\"bytes_in\": %llu, \"bytes_out\": %llu, \"packets_in\": %llu, "
		   "\"packets_out\": %llu, \"notifications_in\": %llu}\n}\n", (unsigned long long)k->c.bytes_in,
		   (unsigned long long)k->c.bytes_out, (unsigned long long)k->c.packets_in,
		   (unsigned long long)k->c.packets_out, (unsigned long long)k->c.notifications_in);
	int rc = write_text(k, "capture.json", b.data, b.len);
	buf_free(&b);
	return rc;
}

/* ------------------------------------------------------------ session */

/* Non-stop, after vRun, vAttach or '?': the stop in R (a stop reply, or
 * "OK" with the stops to ask for with '?'), and the server's queue of
 * stop replies emptied with vStopped: it sends no notification before. */
static int nonstop_settle(struct cap *k, struct buf *r)
{
	int rc = RSP_OK;
	struct buf more = BUF_INIT;
	if (!strcmp(r->data ? r->data : "", "OK"))
		rc = rsp_client_command(&k->c, "?", r);
	for (int i = 0; rc == RSP_OK && i < 65536; i++) {
		rc = rsp_client_command(&k->c, "vStopped", &more);
		if (rc != RSP_OK || !strcmp(more.data, "OK"))
			break;
	}
	buf_free(&more);
	/* an old server may not know vStopped outside a notification */
	return rc == RSP_UNSUPPORTED || rc == RSP_ERROR_REPLY ? RSP_OK : rc;
}

static int setup(struct cap *k)
{
	const struct capture_opts *o = k->o;
	struct buf r = BUF_INIT;
	int rc;
	char value[64];

	k->c.timeout_ms = o->reply_timeout_ms;
	/* a server may greet with an ack of its own */
	rc = rsp_client_command(&k->c, "qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+;no-resumed+", &r);
	if (rc != RSP_OK)
		goto fail_link;
	snprintf(k->qsup, sizeof(k->qsup), "%s", r.data);
	k->multiprocess = rsp_feature(k->qsup, "multiprocess");
	if (rsp_feature_value(k->qsup, "PacketSize", value, sizeof(value))) {
		unsigned long ps = strtoul(value, NULL, 16);
		if (ps >= 256)
			k->c.packet_size = ps;
	}
	if (rsp_feature(k->qsup, "QStartNoAckMode") &&
	    rsp_client_command(&k->c, "QStartNoAckMode", &r) == RSP_OK)
		k->c.noack = true;
	/* Non-stop: the trace is read while the program runs, which is
	 * never stopped for it. Before vRun/vAttach, as gdb does. */
	if (o->all_stop) {
		snprintf(k->mode_reason, sizeof(k->mode_reason), "--all-stop");
	} else if (!rsp_feature(k->qsup, "QNonStop")) {
		snprintf(k->mode_reason, sizeof(k->mode_reason), "the server offers no non-stop mode");
	} else if ((rc = rsp_client_command(&k->c, "QNonStop:1", &r)) == RSP_OK) {
		k->nonstop = true;
		snprintf(k->mode_reason, sizeof(k->mode_reason), "offered by the server");
	} else if (link_failed(rc)) {
		goto fail_link;
	} else {
		snprintf(k->mode_reason, sizeof(k->mode_reason), "QNonStop:1 refused (%.100s)", k->c.err);
	}

	if (!strcmp(o->format, "CoreSight") || !strcmp(o->format, "etm"))
		k->coresight = true;
	else if (!strcmp(o->format, "bts"))
		k->coresight = false;
	else
		k->coresight = rsp_feature(k->qsup, "Qbtrace:CoreSight");
	if (!rsp_feature(k->qsup, k->coresight ? "Qbtrace:CoreSight" : "Qbtrace:bts")) {
		snprintf(k->error, sizeof(k->error), "the server offers no %s branch tracing%s",
			 k->coresight ? "CoreSight" : "bts",
			 rsp_feature(k->qsup, "Qbtrace:bts") ? " (only bts: try --format bts)" : "");
		goto fail_target;
	}
	if (!k->coresight && o->nconf) {
		snprintf(k->error, sizeof(k->error), "%s needs CoreSight trace; the server records "
			 "bts (software) only", o->conf[0]);
		goto fail_target;
	}

	struct buf tdesc = BUF_INIT;
	if (rsp_client_xfer_read(&k->c, "features", "target.xml", &tdesc, NULL, NULL) == RSP_OK) {
		const char *a = strstr(tdesc.data ? tdesc.data : "", "<architecture>");
		if (a) {
			a += 14;
			snprintf(k->arch, sizeof(k->arch), "%.*s", (int)strcspn(a, "<"), a);
		}
	}
	buf_free(&tdesc);

	struct stop st;
	if (o->prog_argc) {
		struct buf pkt = BUF_INIT;
		if ((rc = rsp_client_command(&k->c, "!", &r)) != RSP_OK && link_failed(rc))
			goto fail_link;
		buf_puts(&pkt, "vRun");
		for (int i = 0; i < o->prog_argc; i++) {
			buf_putc(&pkt, ';');
			buf_hex(&pkt, o->prog_argv[i], strlen(o->prog_argv[i]));
		}
		rc = rsp_client_command(&k->c, pkt.data, &r);
		buf_free(&pkt);
		if (rc != RSP_OK) {
			if (link_failed(rc))
				goto fail_link;
			snprintf(k->error, sizeof(k->error), "running %s: %s", o->prog_argv[0], k->c.err);
			goto fail_target;
		}
		k->started = true;
	} else if (o->attach_pid) {
		if ((rc = rsp_client_command(&k->c, "!", &r)) != RSP_OK && link_failed(rc))
			goto fail_link;
		rc = rsp_client_commandf(&k->c, &r, "vAttach;%lx", o->attach_pid);
		if (rc != RSP_OK) {
			if (link_failed(rc))
				goto fail_link;
			snprintf(k->error, sizeof(k->error), "attaching to %ld: %s", o->attach_pid, k->c.err);
			goto fail_target;
		}
	} else {
		rc = rsp_client_command(&k->c, "?", &r);
		if (rc != RSP_OK && link_failed(rc))
			goto fail_link;
	}
	if (k->nonstop && rc == RSP_OK && (rc = nonstop_settle(k, &r)) != RSP_OK && link_failed(rc))
		goto fail_link;
	parse_stop(r.data ? r.data : "", o->attach_pid, NULL, &st);
	if (rc != RSP_OK || st.kind != 'T' || !st.tid) {
		snprintf(k->error, sizeof(k->error), "no process to trace (the server answered \"%.40s\"); "
			 "give a program after -- or --attach PID", r.data ? r.data : "");
		goto fail_target;
	}
	k->pid = st.pid ? st.pid : st.tid;
	struct cthread *main_thread = add_thread(k, k->pid, st.tid);

	/* a live process has a shared-library list; a replayed capture not */
	struct buf libs = BUF_INIT;
	rc = rsp_client_xfer_read(&k->c, "libraries-svr4", "", &libs, NULL, NULL);
	buf_free(&libs);
	if (link_failed(rc))
		goto fail_link;
	k->live = rc == RSP_OK;

	long exit_nr, exit_group_nr;
	if (k->live && exit_syscalls(k->arch, &exit_nr, &exit_group_nr)) {
		rc = rsp_client_commandf(&k->c, &r, "QCatchSyscalls:1;%lx;%lx", exit_nr, exit_group_nr);
		if (link_failed(rc))
			goto fail_link;
	}

	if ((rc = select_thread(k, main_thread)) != RSP_OK) {
		if (link_failed(rc))
			goto fail_link;
		snprintf(k->error, sizeof(k->error), "selecting thread %ld: %s", st.tid, k->c.err);
		goto fail_target;
	}
	const char *fmt = k->coresight ? "CoreSight" : "bts";
	if (o->size) {
		rc = rsp_client_commandf(&k->c, &r, "Qbtrace-conf:%s:size=0x%llx", fmt, (unsigned long long)o->size);
		if (rc != RSP_OK) {
			if (link_failed(rc))
				goto fail_link;
			snprintf(k->error, sizeof(k->error), "size=0x%llx: %s", (unsigned long long)o->size, k->c.err);
			goto fail_target;
		}
	}
	for (size_t i = 0; i < o->nconf; i++) {
		rc = rsp_client_commandf(&k->c, &r, "Qbtrace-conf:CoreSight:%s", o->conf[i]);
		if (rc != RSP_OK) {
			if (link_failed(rc))
				goto fail_link;
			snprintf(k->error, sizeof(k->error), "%s: %s", o->conf[i], k->c.err);
			goto fail_target;
		}
	}
	for (size_t i = 0; i < o->nstop_at; i++) {
		if (k->coresight) {
			rc = rsp_client_commandf(&k->c, &r, "Qbtrace-conf:CoreSight:trigger:off-address=0x%llx",
						 (unsigned long long)o->stop_at[i]);
			if (link_failed(rc))
				goto fail_link;
			/* a trace unit without comparators left: the breakpoint still ends it */
		}
		if (k->cannot_run)
			continue;
		rc = rsp_client_commandf(&k->c, &r, "Z0,%llx,%d", (unsigned long long)o->stop_at[i],
					 breakpoint_kind(k->arch));
		if (rc != RSP_OK) {
			if (link_failed(rc))
				goto fail_link;
			if (k->live) {
				snprintf(k->error, sizeof(k->error), "breakpoint at 0x%llx: %s",
					 (unsigned long long)o->stop_at[i], k->c.err);
				goto fail_target;
			}
		}
	}
	rc = rsp_client_commandf(&k->c, &r, "Qbtrace:%s", fmt);
	if (rc != RSP_OK) {
		if (link_failed(rc))
			goto fail_link;
		snprintf(k->error, sizeof(k->error), "enabling %s trace: %s", fmt, k->c.err);
		goto fail_target;
	}
	main_thread->traced = true;
	rc = rsp_client_xfer_read(&k->c, "btrace-conf", "", &k->conf_xml, NULL, NULL);
	if (link_failed(rc))
		goto fail_link;
	const char *sz = k->conf_xml.data ? strstr(k->conf_xml.data, "size=\"") : NULL;
	if (sz)
		k->buffer_size = strtoull(sz + 6, NULL, 16);
	buf_free(&r);
	return 0;
fail_link:
	buf_free(&r);
	return fail_rc(k, rc, "setting up");
fail_target:
	buf_free(&r);
	return -1;
}

enum run_end {
	RUN_FINAL,      /* stopped where the last trace can be read */
	RUN_DONE,       /* nothing more to read (the program is gone) */
	RUN_FAILED,
};

/* A limit or Ctrl-C that ends the capture; NULL if none. */
static const char *limit_reached(struct cap *k, double deadline)
{
	const struct capture_opts *o = k->o;
	if (o->interrupted && *o->interrupted)
		return "interrupted (Ctrl-C)";
	if (deadline && now() >= deadline)
		return "time limit";
	if (o->max_size && k->trace_bytes >= o->max_size)
		return "size limit";
	return NULL;
}

/* All-stop: every drain_ms the program is interrupted (^C), its trace
 * read, and continued. */
static enum run_end run_all_stop(struct cap *k, double deadline)
{
	const struct capture_opts *o = k->o;
	struct buf r = BUF_INIT;
	int sig = 0;
	long exit_nr = -1, exit_group_nr = -1;
	int rc;
	enum run_end end = RUN_FAILED;
	/* Our interrupt's SIGINT not seen yet: the program stopped for
	 * something else first (a caught call), and the SIGINT comes after. */
	bool sigint_owed = false;

	if (!exit_syscalls(k->arch, &exit_nr, &exit_group_nr))
		exit_nr = exit_group_nr = -1;
	for (;;) {
		char cont[8];
		snprintf(cont, sizeof(cont), sig ? "C%02x" : "c", sig);
		if ((rc = rsp_client_send(&k->c, cont, strlen(cont))) != RSP_OK) {
			fail_rc(k, rc, "continuing");
			goto out;
		}
		sig = 0;
		/* Every drain_ms (and on Ctrl-C, or at the time limit) the
		 * program is interrupted so the trace can be read. */
		bool interrupted_by_us = false;
		for (;;) {
			k->waiting_stop = !interrupted_by_us;
			rc = rsp_client_recv(&k->c, &r, interrupted_by_us ? o->reply_timeout_ms : o->drain_ms);
			k->waiting_stop = false;
			if (rc == RSP_OK) {
				if (r.data[0] == 'E') {
					/* a replayed capture cannot run: what it holds is all */
					k->cannot_run = true;
					k->end_reason = "target cannot run (a recorded trace)";
					end = RUN_FINAL;
					goto out;
				}
				if (r.data[0] == 'O' && r.len > 1 && strcmp(r.data, "OK") != 0)
					continue;       /* the program's output */
				break;
			}
			if (rc != RSP_TIMEOUT || interrupted_by_us) {
				fail_rc(k, rc, interrupted_by_us ? "waiting for the program to stop"
								  : "waiting for the program");
				goto out;
			}
			show_progress(k, false);
			if ((rc = rsp_client_interrupt(&k->c)) != RSP_OK) {
				fail_rc(k, rc, "interrupting the program");
				goto out;
			}
			interrupted_by_us = true;
			sigint_owed = true;
		}
		struct stop st;
		parse_stop(r.data, k->pid, pc_regnum(k->arch), &st);
		if (st.kind == 'W' || st.kind == 'X') {
			k->exited = true;
			k->end_reason = "program exited (its last trace was not read: exit not caught)";
			end = RUN_DONE;
			goto out;
		}
		if (st.kind != 'T' && st.kind != 'S') {
			snprintf(k->error, sizeof(k->error), "unexpected stop reply \"%.40s\"", r.data);
			goto out;
		}
		if (drain_all(k, false) < 0)
			goto out;
		k->drains++;
		end = RUN_FINAL;
		if (st.syscall_entry && st.syscall == exit_group_nr) {
			k->at_exit = true;
			k->end_reason = "program exited";
			goto out;
		}
		if (st.swbreak && o->nstop_at) {
			/* our only breakpoints are the stop addresses */
			k->end_reason = "stop address reached";
			goto out;
		}
		if ((k->end_reason = limit_reached(k, deadline)))
			goto out;
		end = RUN_FAILED;
		if (k->live && dump_memory(k) < 0)
			goto out;
		/* the program's own signals go on to it; our SIGINT does not */
		bool our_sigint = st.sig == 2 && sigint_owed && !st.syscall_entry;
		if (our_sigint)
			sigint_owed = false;
		if (st.sig && st.sig != 5 && !our_sigint && !st.syscall_entry)
			sig = st.sig;
	}
out:
	buf_free(&r);
	return end;
}

/* ---------------------------------------------------------- non-stop */

#define MAX_STOP_BATCH 65536

/* The stop replies of one notification: its own, then vStopped's until
 * "OK" (the server sends no further notification before). */
static int stop_batch(struct cap *k, const char *note, struct stop **out, size_t *n)
{
	struct buf r = BUF_INIT;
	size_t cap = 0;
	int rc = RSP_OK;
	*out = NULL;
	*n = 0;
	const char *reply = note + 5;   /* after "Stop:" */
	for (;;) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 8;
			*out = realloc(*out, cap * sizeof(**out));
			if (!*out)
				abort();
		}
		parse_stop(reply, k->pid, pc_regnum(k->arch), &(*out)[*n]);
		if (reply[0] == 'w') {
			/* thread exit: "wAA;ptid" */
			const char *semi = strchr(reply, ';');
			long pid, tid;
			if (semi && parse_ptid(semi + 1, k->pid, &pid, &tid))
				(*out)[*n].tid = tid, (*out)[*n].pid = pid;
		} else if ((reply[0] == 'W' || reply[0] == 'X') && strstr(reply, ";process:")) {
			(*out)[*n].pid = strtol(strstr(reply, ";process:") + 9, NULL, 16);
		}
		(*n)++;
		if (*n >= MAX_STOP_BATCH) {
			snprintf(k->c.err, sizeof(k->c.err), "endless vStopped sequence");
			rc = RSP_PROTOCOL;
			break;
		}
		rc = rsp_client_command(&k->c, "vStopped", &r);
		if (rc != RSP_OK || !strcmp(r.data, "OK"))
			break;
		reply = r.data;
	}
	buf_free(&r);
	if (rc != RSP_OK) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

/* Resume thread T (non-stop), passing SIG (0: none). */
static int resume_thread(struct cap *k, struct cthread *t, int sig)
{
	struct buf r = BUF_INIT;
	char act[8];
	snprintf(act, sizeof(act), sig ? "C%02x" : "c", sig);
	int rc = k->multiprocess ? rsp_client_commandf(&k->c, &r, "vCont;%s:p%lx.%lx", act, t->pid, t->tid)
				 : rsp_client_commandf(&k->c, &r, "vCont;%s:%lx", act, t->tid);
	buf_free(&r);
	if (rc == RSP_OK)
		t->running = true;
	else if (!link_failed(rc))
		t->gone = true;     /* exited meanwhile */
	return rc;
}

static bool is_our_process(struct cap *k, const struct stop *st)
{
	return !k->multiprocess || !st->pid || st->pid == k->pid;
}

/* A thread reported by a stop reply; a new one is traced. */
static struct cthread *stopped_thread(struct cap *k, const struct stop *st)
{
	struct cthread *t = find_thread(k, st->tid);
	if (!t && st->tid && is_our_process(k, st)) {
		if (update_threads(k) < 0)
			return NULL;
		t = find_thread(k, st->tid);
	}
	if (t)
		t->running = false;
	return t;
}

/* Wait up to TIMEOUT_MS for a stop notification and take its batch;
 * RSP_TIMEOUT when none came. */
static int wait_stops(struct cap *k, int timeout_ms, struct stop **stops, size_t *n)
{
	struct buf note = BUF_INIT;
	int rc;
	*stops = NULL;
	*n = 0;
	for (;;) {
		k->waiting_stop = true;
		rc = rsp_client_wait_notification(&k->c, &note, timeout_ms);
		k->waiting_stop = false;
		if (rc != RSP_OK || !strncmp(note.data, "Stop:", 5))
			break;
		/* another kind of notification: none is known, skip it */
	}
	if (rc == RSP_OK)
		rc = stop_batch(k, note.data, stops, n);
	buf_free(&note);
	return rc;
}

static bool any_running(struct cap *k)
{
	for (size_t i = 0; i < k->nthreads; i++)
		if (k->threads[i].running && !k->threads[i].gone)
			return true;
	return false;
}

/* Stop every thread still running (the end of the capture): vCont;t,
 * then their stop notifications. Returns RUN_FINAL, RUN_DONE (the
 * program exited meanwhile) or RUN_FAILED. */
static enum run_end nonstop_stop_all(struct cap *k, long exit_group_nr)
{
	struct buf r = BUF_INIT;
	double deadline = now() + k->o->reply_timeout_ms / 1000.0;
	enum run_end end = RUN_FAILED;
	int rc;
	for (int round = 0; round < 64; round++) {
		if (update_threads(k) < 0)
			goto out;
		if (!any_running(k)) {
			end = RUN_FINAL;
			goto out;
		}
		/* every thread: a stopped one ignores it (no second report) */
		rc = rsp_client_command(&k->c, "vCont;t", &r);
		if (rc != RSP_OK) {
			fail_rc(k, rc, "stopping the program");
			goto out;
		}
		while (any_running(k)) {
			struct stop *stops;
			size_t n;
			int left = (int)((deadline - now()) * 1000);
			rc = wait_stops(k, left > 1000 ? 1000 : left > 0 ? left : 0, &stops, &n);
			if (rc == RSP_TIMEOUT) {
				/* threads that exited unreported leave the list */
				if (update_threads(k) < 0)
					goto out;
				if (now() >= deadline) {
					snprintf(k->error, sizeof(k->error), "the program's threads did not stop "
						 "within %d ms", k->o->reply_timeout_ms);
					goto out;
				}
				continue;
			}
			if (rc != RSP_OK) {
				free(stops);
				fail_rc(k, rc, "waiting for the program to stop");
				goto out;
			}
			for (size_t i = 0; i < n; i++) {
				struct stop *st = &stops[i];
				if ((st->kind == 'W' || st->kind == 'X') && is_our_process(k, st)) {
					k->exited = true;
					end = RUN_DONE;
					free(stops);
					goto out;
				}
				if (st->kind == 'w') {
					struct cthread *t = find_thread(k, st->tid);
					if (t)
						t->gone = true, t->running = false;
					continue;
				}
				if (st->kind != 'T' && st->kind != 'S')
					continue;
				if (!stopped_thread(k, st) && k->conn_lost) {
					free(stops);
					goto out;
				}
				if (st->syscall_entry && st->syscall == exit_group_nr) {
					k->at_exit = true;
					if (!k->end_reason)
						k->end_reason = "program exited";
				}
			}
			free(stops);
		}
		/* new threads listed meanwhile may still run: another round */
	}
	snprintf(k->error, sizeof(k->error), "the program keeps creating threads: it could not be stopped");
out:
	buf_free(&r);
	return end;
}

/* Non-stop: the program runs from start to end; every drain_ms its trace
 * is read while it runs. Stops (a thread's exit caught, a signal, a
 * breakpoint) arrive as notifications and are dealt with one thread at
 * a time while the others run on. */
static enum run_end run_nonstop(struct cap *k, double deadline)
{
	const struct capture_opts *o = k->o;
	struct buf r = BUF_INIT;
	long exit_nr = -1, exit_group_nr = -1;
	enum run_end end = RUN_FAILED;
	int rc;

	if (!exit_syscalls(k->arch, &exit_nr, &exit_group_nr))
		exit_nr = exit_group_nr = -1;
	rc = rsp_client_command(&k->c, "vCont;c", &r);
	if (rc == RSP_ERROR_REPLY) {
		k->cannot_run = true;
		k->end_reason = "target cannot run (a recorded trace)";
		end = RUN_FINAL;
		goto out;
	}
	if (rc != RSP_OK) {
		fail_rc(k, rc, "continuing");
		goto out;
	}
	for (size_t i = 0; i < k->nthreads; i++)
		k->threads[i].running = true;
	double next_drain = now() + o->drain_ms / 1000.0;
	for (;;) {
		int wait = (int)((next_drain - now()) * 1000);
		struct stop *stops = NULL;
		size_t n = 0;
		/* stops coming thick and fast (a program's timer signals) do
		 * not hold the drains off */
		rc = wait > 0 ? wait_stops(k, wait, &stops, &n) : RSP_TIMEOUT;
		if (rc == RSP_TIMEOUT) {
			/* time to drain (or Ctrl-C): read while it runs */
			if ((k->end_reason = limit_reached(k, deadline)))
				break;
			show_progress(k, false);
			if (drain_all(k, false) < 0)
				goto out;
			k->drains++;
			if ((k->end_reason = limit_reached(k, deadline)))
				break;
			next_drain = now() + o->drain_ms / 1000.0;
			k->running_drain_due = next_drain;
			rc = k->live ? dump_memory(k) : 0;
			next_drain = k->running_drain_due;
			k->running_drain_due = 0;
			if (rc < 0)
				goto out;
			continue;
		}
		if (rc != RSP_OK) {
			fail_rc(k, rc, "waiting for the program");
			goto out;
		}
		bool ending = false;
		for (size_t i = 0; i < n && !ending; i++) {
			struct stop *st = &stops[i];
			struct cthread *t;
			switch (st->kind) {
			case 'W':
			case 'X':
				if (!is_our_process(k, st))
					break;
				k->exited = true;
				k->end_reason = "program exited (its last trace was not read: exit not caught)";
				end = RUN_DONE;
				free(stops);
				goto out;
			case 'w':
				if ((t = find_thread(k, st->tid)))
					t->gone = true, t->running = false;
				break;
			case 'T':
			case 'S':
				if (!(t = stopped_thread(k, st))) {
					if (k->conn_lost) {
						free(stops);
						goto out;
					}
					break;  /* not ours */
				}
				if (st->syscall_entry && st->syscall == exit_group_nr) {
					k->at_exit = true;
					k->end_reason = "program exited";
					ending = true;
					break;
				}
				if (st->swbreak && o->nstop_at) {
					k->end_reason = "stop address reached";
					ending = true;
					break;
				}
				/* a thread about to exit: its trace goes with it */
				if (st->syscall_entry && st->syscall == exit_nr && drain_thread(k, t, false) < 0) {
					free(stops);
					goto out;
				}
				int sig = st->sig && st->sig != 5 && !st->syscall_entry ? st->sig : 0;
				if ((rc = resume_thread(k, t, sig)) != RSP_OK && link_failed(rc)) {
					free(stops);
					fail_rc(k, rc, "resuming a thread");
					goto out;
				}
				break;
			default:
				break;  /* 'N': no thread resumed */
			}
		}
		free(stops);
		if (ending)
			break;
	}
	/* the end: every thread stopped where its last trace can be read */
	end = nonstop_stop_all(k, exit_group_nr);
	if (end == RUN_DONE)
		k->end_reason = "program exited (its last trace was not read: exit not caught)";
out:
	buf_free(&r);
	return end;
}

/* Run the program, draining the trace, until it ends or a limit. */
static int run(struct cap *k)
{
	const struct capture_opts *o = k->o;
	double deadline = o->time_limit > 0 ? k->t_traced + o->time_limit : 0;
	enum run_end end = RUN_FAILED;
	k->deadline = deadline;

	if (dump_memory(k) < 0)
		goto out;
	end = k->nonstop ? run_nonstop(k, deadline) : run_all_stop(k, deadline);
	if (end != RUN_FINAL)
		goto out;
	end = RUN_FAILED;
	if ((k->live || !k->ndumps) && dump_memory(k) < 0)
		goto out;
	if (drain_all(k, true) < 0)
		goto out;
	if (k->o->memory && k->coresight && k->have_config && !k->ndumps && dump_by_decoding(k) < 0)
		goto out;
	end = RUN_DONE;
out:
	k->t_run_end = now();
	return end == RUN_DONE ? 0 : -1;
}

/* Non-stop: let the program finish its exit (every thread resumed until
 * the process is reported gone). */
static void nonstop_let_exit(struct cap *k)
{
	struct buf r = BUF_INIT;
	double deadline = now() + k->o->reply_timeout_ms / 1000.0;
	/* nothing more to catch on the way out, no breakpoint to step over */
	if (link_failed(rsp_client_command(&k->c, "QCatchSyscalls:0", &r)))
		goto out;
	for (size_t i = 0; i < k->o->nstop_at && !k->cannot_run; i++)
		if (link_failed(rsp_client_commandf(&k->c, &r, "z0,%llx,%d", (unsigned long long)k->o->stop_at[i],
						    breakpoint_kind(k->arch))))
			goto out;
	if (rsp_client_command(&k->c, "vCont;c", &r) != RSP_OK)
		goto out;
	for (int batches = 0; now() < deadline; batches++) {
		if (batches == 1000) {
			/* it keeps stopping: end it as an unfinished capture's */
			rsp_client_commandf(&k->c, &r, k->multiprocess ? "vKill;%lx" : "k", k->pid);
			break;
		}
		struct stop *stops;
		size_t n;
		int rc = wait_stops(k, (int)((deadline - now()) * 1000) + 1, &stops, &n);
		if (rc != RSP_OK)
			break;
		bool gone = false;
		for (size_t i = 0; i < n; i++) {
			struct cthread *t;
			if ((stops[i].kind == 'W' || stops[i].kind == 'X') && is_our_process(k, &stops[i]))
				gone = true;
			else if ((stops[i].kind == 'T' || stops[i].kind == 'S') && (t = find_thread(k, stops[i].tid)))
				resume_thread(k, t, 0);
		}
		free(stops);
		if (gone) {
			k->exited = true;
			break;
		}
	}
out:
	buf_free(&r);
}

/* Leave the target as we found it: ours killed, an attached one detached. */
static void finish(struct cap *k)
{
	struct buf r = BUF_INIT;
	if (k->conn_lost || k->exited)
		goto out;
	if (k->at_exit && k->nonstop) {
		nonstop_let_exit(k);
	} else if (k->at_exit) {
		/* let it finish its exit: the exit status is its own */
		if (rsp_client_send(&k->c, "c", 1) == RSP_OK)
			rsp_client_recv(&k->c, &r, k->o->reply_timeout_ms);
	} else if (k->started) {
		if (rsp_client_commandf(&k->c, &r, k->multiprocess ? "vKill;%lx" : "k", k->pid) != RSP_OK)
			goto out;
	} else if (k->o->attach_pid) {
		for (size_t i = 0; i < k->nthreads; i++)
			if (k->threads[i].traced && !k->threads[i].gone &&
			    select_thread(k, &k->threads[i]) == RSP_OK)
				rsp_client_command(&k->c, "Qbtrace:off", &r);
		rsp_client_commandf(&k->c, &r, k->multiprocess ? "D;%lx" : "D", k->pid);
	} else {
		/* the server's process (or a replayed capture) stays: untraced */
		for (size_t i = 0; i < k->nthreads; i++)
			if (k->threads[i].traced && !k->threads[i].gone &&
			    select_thread(k, &k->threads[i]) == RSP_OK)
				rsp_client_command(&k->c, "Qbtrace:off", &r);
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

static void free_cap(struct cap *k)
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

int capture_run(const struct capture_opts *o)
{
	struct cap k;
	int exit_code = CAPTURE_OK;
	memset(&k, 0, sizeof(k));
	k.o = o;
	k.fd = -1;
	k.t0 = now();
	rsp_client_init(&k.c, sock_read, sock_write, &k);

	struct stat st;
	if (lstat(o->out_dir, &st) == 0) {
		msg(&k, "%s already exists; choose another output directory", o->out_dir);
		rsp_client_free(&k.c);
		return CAPTURE_BAD;
	}
	if (snprintf(k.tmpdir, sizeof(k.tmpdir), "%s.tmp-XXXXXX", o->out_dir) >= (int)sizeof(k.tmpdir) ||
	    !mkdtemp(k.tmpdir)) {
		msg(&k, "cannot create %s.tmp-XXXXXX: %s", o->out_dir, strerror(errno));
		rsp_client_free(&k.c);
		return CAPTURE_BAD;
	}
	chmod(k.tmpdir, 0755);
	if (connect_target(&k) < 0) {
		msg(&k, "%s", k.error);
		remove_tree(k.tmpdir);
		free_cap(&k);
		return CAPTURE_CONNECT;
	}
	k.t_connected = now();
	if (setup(&k) < 0) {
		msg(&k, "%s", k.error);
		if (!k.conn_lost)
			finish(&k);
		remove_tree(k.tmpdir);
		int code = k.conn_lost ? CAPTURE_CONNECT : CAPTURE_TARGET;
		free_cap(&k);
		return code;
	}
	k.t_traced = now();
	if (run(&k) < 0) {
		if (k.conn_lost)
			exit_code = CAPTURE_CONNECT;
		else if (k.error[0] && strstr(k.error, "write failed"))
			exit_code = CAPTURE_BAD;
		else
			exit_code = CAPTURE_TARGET;
	}
	if (!k.conn_lost)
		finish(&k);
	if (k.conn_lost)
		k.end_reason = k.bad_reply ? "bad reply from the server" : "connection lost";
	for (size_t i = 0; i < k.nthreads; i++)
		if (k.threads[i].f) {
			fclose(k.threads[i].f);
			k.threads[i].f = NULL;
		}
	if (k.progress_shown) {
		show_progress(&k, true);
		fputc('\n', stderr);
		k.progress_shown = false;
	}
	if (exit_code == CAPTURE_OK && k.overflows && o->fail_on_overflow)
		exit_code = CAPTURE_OVERFLOW;
	if (k.coresight && k.have_config && write_snapshot(&k) < 0)
		exit_code = CAPTURE_BAD;
	if (!k.coresight && write_blocks(&k) < 0)
		exit_code = CAPTURE_BAD;
	k.t_end = now();
	if (write_json(&k, exit_code) < 0)
		exit_code = CAPTURE_BAD;
	if (rename(k.tmpdir, o->out_dir) < 0) {
		msg(&k, "renaming %s to %s: %s (the capture stays there)", k.tmpdir, o->out_dir, strerror(errno));
		free_cap(&k);
		return CAPTURE_BAD;
	}
	if (k.error[0])
		msg(&k, "%s", k.error);
	if (k.overflows)
		msg(&k, "trace overflowed %u time%s: trace was lost there (see capture.json)", k.overflows,
		    k.overflows == 1 ? "" : "s");
	if (!o->quiet) {
		char sz[32], mem[32];
		size_t nblocks = 0;
		for (size_t i = 0; i < k.nthreads; i++)
			nblocks += k.threads[i].nblocks;
		human_size(k.coresight ? k.trace_bytes : (uint64_t)nblocks, sz, sizeof(sz));
		human_size(k.dumped_bytes, mem, sizeof(mem));
		if (k.coresight)
			printf("%s: %s%s of CoreSight trace", o->out_dir, k.conn_lost ? "INCOMPLETE: " : "", sz);
		else
			printf("%s: %s%zu bts blocks", o->out_dir, k.conn_lost ? "INCOMPLETE: " : "", nblocks);
		printf(" from %zu thread%s of pid %ld at %s, %zu memory dump%s (%s), %u overflow%s, %.2f s (%s)\n",
		       k.nthreads, k.nthreads == 1 ? "" : "s", k.pid, o->target, k.ndumps,
		       k.ndumps == 1 ? "" : "s", mem, k.overflows, k.overflows == 1 ? "" : "s",
		       k.t_end - k.t0, k.end_reason ? k.end_reason : "error");
		fflush(stdout);
	}
	free_cap(&k);
	return exit_code;
}
