/* The software branch recorder's fast path (run to the next branch under a
 * temporary breakpoint, step only that) against stepping every
 * instruction: the same programs, recorded both ways through the live target,
 * must give the same (from, to) list, thread by thread. Also the block
 * cache (swfast.c) on its own. Needs ptrace: under qemu-user it says so
 * and skips that part (the QEMU guests run it for real). */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "arch/disasm.h"
#include "etm/source.h"
#include "server/btrace.h"
#include "etm/swbtrace.h"
#include "server/swfast.h"
#include "server/target.h"

struct branch { int thread; uint64_t from, to; };

static struct {
	struct branch *b;
	size_t n, cap;
	pid_t tids[16];
	int ntids;
	uint64_t steps, runs, emulated;   /* of the threads recorded, summed at their end */
} rec;

static int thread_index(pid_t tid)
{
	for (int i = 0; i < rec.ntids; i++)
		if (rec.tids[i] == tid)
			return i;
	if (rec.ntids == 16)
		return 15;
	rec.tids[rec.ntids] = tid;
	return rec.ntids++;
}

/* The recorder hands each branch to its thread's sink, as to an emulated
 * ETM unit. */
static void on_branch(struct etm_source *src, int tid, uint64_t from, uint64_t to)
{
	(void)src;
	if (rec.n == rec.cap) {
		rec.cap = rec.cap ? 2 * rec.cap : 4096;
		rec.b = realloc(rec.b, rec.cap * sizeof *rec.b);
		if (!rec.b)
			abort();
	}
	rec.b[rec.n++] = (struct branch){thread_index(tid), from, to};
}

static void sink_free(struct etm_source *src)
{
	(void)src;
}

static const struct etm_source_ops sink_ops = {
	.name = "test sink", .record_branch = on_branch, .free = sink_free,
};
static struct etm_source sink = {&sink_ops};

/* The live target tells btrace of threads that come and go; this test
 * stands in for btrace (linked before libserver.a's) to sum the
 * recorder's statistics of each thread at its end. */
void btrace_thread_added(struct thread *t)
{
	(void)t;
}

void btrace_thread_gone(struct thread *t)
{
	if (t->bt) {
		rec.steps += t->bt->steps;
		rec.runs += t->bt->runs;
		rec.emulated += t->bt->emulated;
	}
}

/* Run PROG ARGS to its end with every thread recorded, passing signals
 * as gdb would. Returns the exit code, or -1. */
static int record_run(char **argv, bool per_insn, double *secs)
{
	char err[256];
	memset(&rec, 0, sizeof rec);
	target_btrace_per_insn = per_insn;
	target_settings.startup_with_shell = false;
	target_settings.thread_events = true;
	struct process *p = target_create(argv, err, sizeof err);
	if (!p) {
		fprintf(stderr, "start %s: %s\n", argv[0], err);
		return -1;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	thread_index(p->pid);
	if (target_btrace_enable(p->threads, 1 << 16, &sink, err, sizeof err) < 0) {
		fprintf(stderr, "enable: %s\n", err);
		return -1;
	}
	int sig = 0;
	for (;;) {
		for (struct process *q = processes; q; q = q->next)
			for (struct thread *t = q->threads; t; t = t->next) {
				t->resume = RESUME_CONTINUE;
				t->resume_sig = 0;
				t->new_thread = false;
			}
		struct stop_event ev;
		struct thread *reporter = find_thread(p->pid);
		(void)reporter;
		/* The signal goes back to the thread that got it. */
		static pid_t sig_tid;
		if (sig && find_thread(sig_tid))
			find_thread(sig_tid)->resume_sig = sig;
		sig = 0;
		target_resume_all();
		if (target_wait(-1, &ev) != WAIT_EVENT)
			return -1;
		if (ev.kind == STOP_EXITED || ev.kind == STOP_SIGNALLED) {
			clock_gettime(CLOCK_MONOTONIC, &t1);
			*secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
			return ev.kind == STOP_EXITED ? ev.sig : 128 + ev.sig;
		}
		if (ev.kind == STOP_THREAD_CREATED) {
			struct thread *nt = find_thread(ev.tid);
			thread_index(ev.tid);
			if (nt && target_btrace_enable(nt, 1 << 16, &sink, err, sizeof err) < 0)
				fprintf(stderr, "enable new thread: %s\n", err);
			continue;
		}
		if (getenv("SWFAST_VERBOSE")) {
			struct thread *st = find_thread(ev.tid);
			uint8_t *r = st ? thread_regs(st) : NULL;
			fprintf(stderr, "stop kind %d sig %d tid %d pc %#llx; last branches:", ev.kind,
				ev.sig, ev.tid, r ? (unsigned long long)the_arch.get_pc(r) : 0ull);
			for (size_t i = rec.n > 6 ? rec.n - 6 : 0; i < rec.n; i++)
				fprintf(stderr, " %#llx->%#llx", (unsigned long long)rec.b[i].from,
					(unsigned long long)rec.b[i].to);
			fprintf(stderr, "\n");
		}
		if (ev.kind == STOP_SIGNAL && ev.sig != SIGTRAP && ev.sig != SIGSTOP) {
			sig = ev.sig;
			sig_tid = ev.tid;
		}
	}
}

static bool same_lists(const struct branch *a, size_t na, const struct branch *b, size_t nb,
		       const char *what)
{
	/* Per thread, in order (threads interleave differently from run to run). */
	bool same = true;
	for (int th = 0; th < 16 && same; th++) {
		size_t i = 0, j = 0;
		for (;;) {
			while (i < na && a[i].thread != th)
				i++;
			while (j < nb && b[j].thread != th)
				j++;
			if (i == na || j == nb) {
				if (i != na || j != nb) {
					fprintf(stderr, "%s: thread %d: one list ends first (%zu/%zu, %zu/%zu)\n",
						what, th, i, na, j, nb);
					same = false;
				}
				break;
			}
			if (a[i].from != b[j].from || a[i].to != b[j].to) {
				fprintf(stderr, "%s: thread %d: record %zu: %#llx->%#llx stepped, "
					"%#llx->%#llx fast\n", what, th, i,
					(unsigned long long)a[i].from, (unsigned long long)a[i].to,
					(unsigned long long)b[j].from, (unsigned long long)b[j].to);
				same = false;
				break;
			}
			i++;
			j++;
		}
	}
	return same;
}

static char prog[PATH_MAX];

static void compare(const char *mode, const char *arg, size_t min_branches)
{
	char *argv[] = {prog, (char *)mode, (char *)arg, NULL};
	double slow_s = 0, fast_s = 0;
	int rc_slow = record_run(argv, true, &slow_s);
	struct branch *slow = rec.b;
	size_t nslow = rec.n;
	uint64_t slow_steps = rec.steps;
	rec.b = NULL;
	int rc_fast = record_run(argv, false, &fast_s);
	printf("  %s %s: exit %d/%d, %zu branches; stepped: %llu steps %.2fs; fast: %llu runs, "
	       "%llu emulated, %llu steps %.2fs\n",
	       mode, arg ? arg : "", rc_slow, rc_fast, nslow, (unsigned long long)slow_steps, slow_s,
	       (unsigned long long)rec.runs, (unsigned long long)rec.emulated,
	       (unsigned long long)rec.steps, fast_s);
	CHECK(rc_slow == 0);
	CHECK(rc_fast == 0);
	CHECK(nslow >= min_branches);
	CHECK(same_lists(slow, nslow, rec.b, rec.n, mode));
	/* The fast path was taken: it stepped far fewer instructions. */
	CHECK(rec.runs > 0);
	CHECK(rec.steps < slow_steps / 2);
	free(slow);
	free(rec.b);
	rec.b = NULL;
}

/* ---- the block cache alone -------------------------------------------- */

struct fake_mem { uint64_t base; uint8_t bytes[64]; };

static ssize_t fake_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct fake_mem *m = ctx;
	if (addr < m->base || addr >= m->base + sizeof m->bytes)
		return -1;
	size_t off = (size_t)(addr - m->base);
	size_t n = len < sizeof m->bytes - off ? len : sizeof m->bytes - off;
	memcpy(buf, m->bytes + off, n);
	return (ssize_t)n;
}

static void test_cache(void)
{
	if (!disasm_available(NULL))
		return;
	/* A fake /proc with one r-x mapping and one rwx mapping. */
	char dir[] = "/tmp/swfast.XXXXXX";
	if (!mkdtemp(dir))
		return;
	char path[256];
	snprintf(path, sizeof path, "%s/1", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/1/maps", dir);
	FILE *fp = fopen(path, "w");
	fprintf(fp, "1000-2000 r-xp 00000000 00:00 0 /bin/x\n"
		    "3000-4000 rwxp 00000000 00:00 0\n");
	fclose(fp);
	struct swfast *f = swfast_new(1, dir);
	/* x86: mov eax,1; add eax,2; jne .; ret */
	struct fake_mem m = {0x1000, {0xb8, 1, 0, 0, 0, 0x83, 0xc0, 0x02, 0x75, 0xfe, 0xc3}};
	struct swfast_stop stop;
	struct swfast_stats st;
	CHECK(swfast_next_stop(f, DISASM_X86_64, 0x1000, fake_read, &m, &stop));
	CHECK(stop.addr == 0x1008 && stop.insn.flow && stop.insn.has_target && stop.insn.target == 0x1008);
	CHECK(swfast_next_stop(f, DISASM_X86_64, 0x1000, fake_read, &m, &stop) && stop.addr == 0x1008);
	swfast_stats(f, &st);
	CHECK(st.decoded == 1 && st.hits == 1);
	/* The code changes under the cached block: once told that code may
	 * have changed (a system call, a write), it is compared and decoded
	 * afresh. */
	m.bytes[5] = 0xc3;   /* ret right after the mov */
	swfast_code_changed(f);
	CHECK(swfast_next_stop(f, DISASM_X86_64, 0x1000, fake_read, &m, &stop) && stop.addr == 0x1005);
	swfast_stats(f, &st);
	CHECK(st.changed == 1 && st.decoded == 2);
	/* Unchanged bytes after a system call: still the cached block. */
	swfast_maps_changed(f);
	CHECK(swfast_next_stop(f, DISASM_X86_64, 0x1000, fake_read, &m, &stop) && stop.addr == 0x1005);
	swfast_stats(f, &st);
	CHECK(st.decoded == 2 && st.hits == 2);
	/* Writable code is never run through. */
	struct fake_mem w = {0x3000, {0x90, 0x90, 0xc3}};
	CHECK(!swfast_next_stop(f, DISASM_X86_64, 0x3000, fake_read, &w, &stop));
	/* A block starting on a branch stops at once. */
	CHECK(swfast_next_stop(f, DISASM_X86_64, 0x1005, fake_read, &m, &stop) && stop.addr == 0x1005);
	swfast_free(f);
	unlink(path);
	snprintf(path, sizeof path, "%s/1", dir);
	rmdir(path);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	test_cache();
	char self[PATH_MAX];
	snprintf(self, sizeof self, "%s", argv[0]);
	snprintf(prog, sizeof prog, "%s/../progs/branchy", dirname(self));
	if (access(prog, X_OK) != 0) {
		printf("test_server_swfast: %s missing (make progs)\n", prog);
		CHECK(0);
		return check_done("test_server_swfast");
	}
	pid_t pid = fork();
	if (pid == 0)
		_exit(ptrace(PTRACE_TRACEME, 0, 0, 0) < 0 ? 1 : 0);
	int status = 0;
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		printf("test_server_swfast: recording skipped: PTRACE_TRACEME fails here "
		       "(qemu-user has no ptrace)\n");
		return check_done("test_server_swfast");
	}
	const char *why;
	if (!disasm_available(&why)) {
		printf("test_server_swfast: fast path untestable: %s\n", why);
		CHECK(0);
		return check_done("test_server_swfast");
	}
	if (target_init() < 0) {
		CHECK(0);
		return check_done("test_server_swfast");
	}
	if (argc > 1) {
		/* By hand (e.g. in a QEMU guest): test_server_swfast MODE [ARG] */
		compare(argv[1], argc > 2 ? argv[2] : NULL, 1);
		return check_done("test_server_swfast");
	}
	compare("loop", "20000", 20000);
	compare("mix", NULL, 1000);
	compare("threads", NULL, 5000);
	compare("forkexec", NULL, 1000);
	return check_done("test_server_swfast");
}
