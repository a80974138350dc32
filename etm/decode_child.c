/* The decoder child: see decode_child.h. The parent's end first, then the
 * child's. */
#include "etm/decode_child.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "etm/decode_engine.h"

/* What both see: the piece of trace to decode, and how far the child got
 * (written by the child as it goes, read by the parent when it died). */
struct child_shared {
	uint64_t progress_lo, progress_hi;
	uint8_t data[ETM_CHILD_PIECE];
};

struct child_cmd {
	uint32_t op, len;
	uint64_t arg;
};

struct etm_child {
	pid_t pid;                      /* 0 once reaped */
	int fd;
	struct child_shared *shm;
	unsigned stall_ms;
	uint64_t waited_ms;             /* waiting within the current command */
	uint64_t nrecs;
	size_t rpos, rlen;
	uint8_t rbuf[65536];
};

static unsigned children_started;   /* for CSG_TEST_DECODER_NTH */

static _Noreturn void child_main(struct etm_engine *eng, int fd, struct child_shared *shm,
				 pid_t parent, unsigned nth);

static unsigned stall_ms(void)
{
	const char *s = getenv("CSG_DECODER_TIMEOUT_MS");
	char *end;
	unsigned long v = s ? strtoul(s, &end, 10) : 0;
	return s && *s && !*end && v > 0 && v <= 3600000 ? (unsigned)v : ETM_CHILD_STALL_MS;
}

struct etm_child *etm_child_start(struct etm_engine *eng, char *err, size_t errlen)
{
	int sv[2];
	struct etm_child *c = calloc(1, sizeof *c);
	if (!c) {
		etm_fail(err, errlen, "cannot start the trace decoder: out of memory");
		return NULL;
	}
	c->shm = mmap(NULL, sizeof *c->shm, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (c->shm == MAP_FAILED) {
		etm_fail(err, errlen, "cannot start the trace decoder: mmap: %s", strerror(errno));
		free(c);
		return NULL;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		etm_fail(err, errlen, "cannot start the trace decoder: socketpair: %s", strerror(errno));
		munmap(c->shm, sizeof *c->shm);
		free(c);
		return NULL;
	}
	c->stall_ms = stall_ms();
	pid_t parent = getpid();
	unsigned nth = ++children_started;
	c->pid = fork();
	if (c->pid == 0) {
		close(sv[0]);
		child_main(eng, sv[1], c->shm, parent, nth);
	}
	close(sv[1]);
	if (c->pid < 0) {
		etm_fail(err, errlen, "cannot start the trace decoder: fork: %s", strerror(errno));
		close(sv[0]);
		munmap(c->shm, sizeof *c->shm);
		free(c);
		return NULL;
	}
	c->fd = sv[0];
	return c;
}

static void reap(struct etm_child *c, int *status)
{
	*status = 0;
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);      /* no effect on one already dead */
		while (waitpid(c->pid, status, 0) < 0 && errno == EINTR)
			;
		c->pid = 0;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

void etm_child_stop(struct etm_child *c)
{
	int status;
	if (!c)
		return;
	reap(c, &status);
	munmap(c->shm, sizeof *c->shm);
	free(c);
}

/* The child is gone (its socket closed): why, from its wait status. */
static int died(struct etm_child *c, char *why, size_t whylen)
{
	int status;
	reap(c, &status);
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		const char *name = sigabbrev_np(sig);
		if (sig == SIGXCPU)
			return etm_fail(why, whylen, "ran out of CPU time (%d s per command)",
					ETM_CHILD_COMMAND_SECONDS);
		if (name)
			return etm_fail(why, whylen, "crashed (SIG%s)", name);
		return etm_fail(why, whylen, "crashed (signal %d)", sig);
	}
	if (WIFEXITED(status))
		return etm_fail(why, whylen, "died (exit status %d)", WEXITSTATUS(status));
	return etm_fail(why, whylen, "died");
}

/* Something the child did that it must not: it is killed. */
static int killed(struct etm_child *c, char *why, size_t whylen, const char *what)
{
	int status;
	reap(c, &status);
	return etm_fail(why, whylen, "%s", what);
}

static int send_all(struct etm_child *c, const void *p, size_t len)
{
	const uint8_t *b = p;
	while (len) {
		ssize_t n = send(c->fd, b, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

int etm_child_send(struct etm_child *c, enum etm_child_op op, uint64_t arg,
		   const uint8_t *data, size_t len, char *why, size_t whylen)
{
	struct child_cmd cmd = {(uint32_t)op, (uint32_t)len, arg};
	if (c->pid <= 0)
		return etm_fail(why, whylen, "is not running");
	if (op == CHILD_FEED) {
		if (len > ETM_CHILD_PIECE)
			return killed(c, why, whylen, "was given too much at once");
		memcpy(c->shm->data, data, len);
	}
	if (op != CHILD_MEM_REPLY)
		c->waited_ms = 0;
	if (send_all(c, &cmd, sizeof cmd) < 0 ||
	    (op == CHILD_MEM_REPLY && len && send_all(c, data, len) < 0))
		return died(c, why, whylen);
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Wait for more bytes from the child within the limits. */
static int fill(struct etm_child *c, char *why, size_t whylen)
{
	uint64_t budget = (uint64_t)ETM_CHILD_COMMAND_SECONDS * 1000;
	if (c->rpos) {
		memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
		c->rlen -= c->rpos;
		c->rpos = 0;
	}
	for (;;) {
		if (c->waited_ms >= budget)
			return killed(c, why, whylen, "took longer than a command may");
		uint64_t wait = budget - c->waited_ms < c->stall_ms ? budget - c->waited_ms : c->stall_ms;
		struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
		uint64_t t0 = now_ms();
		int r = poll(&pfd, 1, (int)wait);
		c->waited_ms += now_ms() - t0;
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			char msg[80];
			snprintf(msg, sizeof msg, "made no progress for %u.%u s", c->stall_ms / 1000,
				 c->stall_ms % 1000 / 100);
			return killed(c, why, whylen, msg);
		}
		ssize_t n = recv(c->fd, c->rbuf + c->rlen, sizeof c->rbuf - c->rlen, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return died(c, why, whylen);
		c->rlen += (size_t)n;
		return 0;
	}
}

int etm_child_next(struct etm_child *c, struct wire_rec *rec, char *why, size_t whylen)
{
	if (c->pid <= 0)
		return etm_fail(why, whylen, "is not running");
	for (;;) {
		long n = wire_get(c->rbuf + c->rpos, c->rlen - c->rpos, rec);
		if (n < 0)
			return killed(c, why, whylen, "sent a malformed record");
		if (n > 0) {
			c->rpos += (size_t)n;
			uint64_t lo, hi;
			etm_child_progress(c, &lo, &hi);
			if (++c->nrecs > ETM_CHILD_RECORDS_PER_BYTE * hi + (1u << 20)) {
				char msg[120];
				snprintf(msg, sizeof msg, "produced more than %llu records from %llu bytes",
					 (unsigned long long)c->nrecs - 1, (unsigned long long)hi);
				return killed(c, why, whylen, msg);
			}
			return 0;
		}
		if (fill(c, why, whylen) < 0)
			return -1;
	}
}

void etm_child_progress(const struct etm_child *c, uint64_t *lo, uint64_t *hi)
{
	*lo = __atomic_load_n(&c->shm->progress_lo, __ATOMIC_RELAXED);
	*hi = __atomic_load_n(&c->shm->progress_hi, __ATOMIC_RELAXED);
	if (*hi < *lo)
		*hi = *lo;
}

/* ---- the child ------------------------------------------------------------ */

#define BATCH 32768

static struct {
	bool active;
	int fd;
	struct child_shared *shm;
	struct etm_engine *eng;
	size_t nbatch;
	uint8_t batch[BATCH];
	/* test-only fault */
	bool fault_armed;
	uint64_t fault_at;
	const char *fault;
} cs;

bool etm_child_active(void)
{
	return cs.active;
}

static void write_all(const void *p, size_t len)
{
	const uint8_t *b = p;
	while (len) {
		ssize_t n = send(cs.fd, b, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(0);       /* the parent is gone */
		b += n;
		len -= (size_t)n;
	}
}

static void read_all(void *p, size_t len)
{
	uint8_t *b = p;
	while (len) {
		ssize_t n = recv(cs.fd, b, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(0);       /* the parent closed: done */
		b += n;
		len -= (size_t)n;
	}
}

static void flush_batch(void)
{
	if (cs.nbatch)
		write_all(cs.batch, cs.nbatch);
	cs.nbatch = 0;
}

static void room(void)
{
	if (cs.nbatch > BATCH - WIRE_REC_MAX)
		flush_batch();
}

/* The packet behind an element started at its index: what crashes later
 * is at or after it. OpenCSD's indexes are 32-bit: recovered from the
 * end of the step being decoded. */
static void progress_to(uint32_t index)
{
	uint64_t lo = __atomic_load_n(&cs.shm->progress_lo, __ATOMIC_RELAXED);
	uint64_t hi = __atomic_load_n(&cs.shm->progress_hi, __ATOMIC_RELAXED);
	uint64_t behind = (uint32_t)((uint32_t)hi - index);
	if (behind <= hi && hi - behind > lo && hi - behind < hi)
		__atomic_store_n(&cs.shm->progress_lo, hi - behind, __ATOMIC_RELAXED);
}

static int child_elem(void *ctx, const struct etm_elem *e)
{
	(void)ctx;
	progress_to((uint32_t)e->index);
	room();
	cs.nbatch += wire_put_elem(cs.batch + cs.nbatch, e);
	return 0;
}

uint32_t etm_child_mem_read(uint32_t slot, uint64_t addr, uint8_t trace_id, uint32_t len,
			    uint8_t *buf)
{
	struct child_cmd reply;
	if (len > ETM_CHILD_MEM_REPLY_MAX)
		len = ETM_CHILD_MEM_REPLY_MAX;
	room();
	cs.nbatch += wire_put_memreq(cs.batch + cs.nbatch, slot, addr, trace_id, len);
	flush_batch();
	read_all(&reply, sizeof reply);
	if (reply.op != CHILD_MEM_REPLY || reply.len > len)
		_exit(3);
	read_all(buf, reply.len);
	return reply.len;
}

static void set_progress(uint64_t lo, uint64_t hi)
{
	__atomic_store_n(&cs.shm->progress_lo, lo, __ATOMIC_RELAXED);
	__atomic_store_n(&cs.shm->progress_hi, hi, __ATOMIC_RELAXED);
}

static volatile void *fault_sink;

/* CSG_TEST_DECODER_FAULT: what a broken decoder does, for the tests. */
static _Noreturn void test_fault(void)
{
	const char *k = cs.fault;
	if (!strcmp(k, "abort"))
		abort();
	if (!strcmp(k, "hang"))
		for (;;)
			pause();
	struct rlimit as;
	if (!strcmp(k, "alloc") && (getrlimit(RLIMIT_AS, &as) < 0 || as.rlim_cur == RLIM_INFINITY))
		abort();        /* no limit took (qemu-user ignores it): do not eat the machine */
	if (!strcmp(k, "alloc"))
		for (;;) {
			void *p = malloc(1u << 20);
			if (!p)
				abort();
			fault_sink = p;
		}
	if (!strcmp(k, "flood")) {
		struct etm_elem e = {.kind = ETM_ELEM_ERROR, .message = "flood"};
		for (;;)
			child_elem(NULL, &e);
	}
	if (!strcmp(k, "garble")) {
		uint8_t bad[3] = {99, 0, 0};
		write_all(bad, sizeof bad);
		for (;;)
			pause();
	}
	raise(SIGSEGV);
	_exit(4);
}

static void arm_fault(unsigned nth)
{
	const char *at = getenv("CSG_TEST_DECODER_CRASH"), *only = getenv("CSG_TEST_DECODER_NTH");
	char *end;
	if (!at || !*at)
		return;
	cs.fault_at = strtoull(at, &end, 0);
	if (*end || (only && strtoul(only, NULL, 10) != nth))
		return;
	cs.fault = getenv("CSG_TEST_DECODER_FAULT") ? getenv("CSG_TEST_DECODER_FAULT") : "segv";
	cs.fault_armed = true;
}

/* Decode LEN bytes of the shared piece, stream offset OFFSET onwards, in
 * small steps so that progress says closely where a crash happened. */
static enum etm_decode_status child_feed(uint64_t offset, size_t len)
{
	size_t done = 0;
	while (done < len) {
		size_t n = len - done < 4096 ? len - done : 4096, used;
		uint64_t at = offset + done;
		if (cs.fault_armed && cs.fault_at >= at && cs.fault_at < at + n) {
			if (cs.fault_at == at) {
				set_progress(at, at + n);
				flush_batch();
				test_fault();
			}
			n = (size_t)(cs.fault_at - at);
		}
		set_progress(at, at + n);
		if (etm_engine_feed(cs.eng, cs.shm->data + done, n, &used) == ETM_DECODE_ERROR)
			return ETM_DECODE_ERROR;
		done += n;
		if (cs.nbatch > BATCH / 2)
			flush_batch();
	}
	return ETM_DECODE_OK;
}

/* A command may take ETM_CHILD_COMMAND_SECONDS of CPU more than so far. */
static void cpu_budget(void)
{
	struct rusage ru;
	struct rlimit rl;
	if (getrusage(RUSAGE_SELF, &ru) < 0 || getrlimit(RLIMIT_CPU, &rl) < 0)
		return;
	rlim_t soft = (rlim_t)ru.ru_utime.tv_sec + (rlim_t)ru.ru_stime.tv_sec + 1 + ETM_CHILD_COMMAND_SECONDS;
	if (rl.rlim_max != RLIM_INFINITY && soft > rl.rlim_max)
		soft = rl.rlim_max;
	rl.rlim_cur = soft;
	setrlimit(RLIMIT_CPU, &rl);
}

/* Address space: what was inherited plus ETM_CHILD_MEM_MB. */
static void mem_budget(void)
{
	unsigned long long pages = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (!f)
		return;
	int got = fscanf(f, "%llu", &pages);
	fclose(f);
	if (got != 1)
		return;
	struct rlimit rl;
	if (getrlimit(RLIMIT_AS, &rl) < 0)
		return;
	rlim_t want = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + ((rlim_t)ETM_CHILD_MEM_MB << 20);
	if (rl.rlim_max == RLIM_INFINITY || want < rl.rlim_max)
		rl.rlim_cur = want;
	setrlimit(RLIMIT_AS, &rl);
}

/* Die with the parent; die of a crash by its signal (even under a
 * sanitizer's handlers); no core files; nothing but our socket open. */
static void child_process(pid_t parent, int *fd)
{
	static const int dfl[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGTERM, SIGHUP};
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	for (size_t i = 0; i < sizeof dfl / sizeof dfl[0]; i++)
		signal(dfl[i], SIG_DFL);
	signal(SIGINT, SIG_IGN);        /* the parent decides about ^C */
	signal(SIGPIPE, SIG_IGN);
	struct rlimit core = {0, 0};
	setrlimit(RLIMIT_CORE, &core);
	if (*fd != 3 && dup2(*fd, 3) == 3) {
		close(*fd);
		*fd = 3;
	}
	close_range((unsigned)*fd + 1, ~0u, 0);
	mem_budget();
}

static _Noreturn void child_main(struct etm_engine *eng, int fd, struct child_shared *shm,
				 pid_t parent, unsigned nth)
{
	child_process(parent, &fd);
	cs.active = true;
	cs.fd = fd;
	cs.shm = shm;
	cs.eng = eng;
	arm_fault(nth);
	etm_engine_set_output(eng, child_elem, NULL);
	for (;;) {
		struct child_cmd cmd;
		enum etm_decode_status st = ETM_DECODE_OK;
		read_all(&cmd, sizeof cmd);
		cpu_budget();
		switch (cmd.op) {
		case CHILD_FEED:
			st = child_feed(cmd.arg, cmd.len);
			break;
		case CHILD_END:
			set_progress(cmd.arg, cmd.arg);
			while ((st = etm_engine_end(eng)) == ETM_DECODE_PAUSED)
				;
			break;
		case CHILD_RESET:
			st = etm_engine_reset(eng);
			break;
		case CHILD_RECOVER:
			etm_engine_set_recover(eng, cmd.arg != 0);
			break;
		default:
			_exit(3);
		}
		room();
		cs.nbatch += wire_put_done(cs.batch + cs.nbatch, st,
					   st == ETM_DECODE_ERROR ? etm_engine_error(eng) : "");
		flush_batch();
	}
}
