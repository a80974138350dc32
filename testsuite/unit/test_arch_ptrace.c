/* the_arch against the real kernel: a traced child has its registers read
 * and written, stops on the software breakpoint the arch gives, single-
 * steps (where it can), and hits a hardware watchpoint and breakpoint that
 * trap_cause recognises. Needs ptrace: under qemu-user (cross unit tests)
 * it says so and skips; testsuite/cross/check.sh covers the arm layouts
 * with test_arch_hwpoints instead, and a real ARM kernel runs this. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arch/arch.h"
#include "testsuite/unit/check.h"

static volatile uint32_t watched __attribute__((aligned(8)));
static volatile int calls_a, calls_b;

/* Different bodies so that no optimisation folds them into one. */
__attribute__((noinline)) static void target_a(void) { calls_a++; }
__attribute__((noinline)) static void target_b(void) { calls_b += 2; }

static void child(void)
{
	if (ptrace(PTRACE_TRACEME, 0, 0, 0) < 0)
		_exit(77);
	raise(SIGSTOP);
	target_a();        /* software breakpoint, then a single-step */
	watched = 42;      /* hardware watchpoint */
	target_b();        /* hardware breakpoint */
	_exit(watched == 42 && calls_a == 1 && calls_b == 2 ? 0 : 3);
}

/* Whether this machine delivers debug exceptions at all, asked through
 * perf rather than ptrace so that a failure of the_arch is not taken for
 * missing hardware. NULL when it does, else why not. Some VMs (Firecracker)
 * accept debug registers and never trap: GNU gdb's `watch` misses there too. */
static volatile uint32_t probe_var;

static const char *hw_debug_missing(void)
{
	static char why[160];
	struct perf_event_attr at;
	memset(&at, 0, sizeof at);
	at.type = PERF_TYPE_BREAKPOINT;
	at.size = sizeof at;
	at.bp_type = HW_BREAKPOINT_W;
	at.bp_addr = (uint64_t)(uintptr_t)&probe_var;
	at.bp_len = HW_BREAKPOINT_LEN_4;
	at.exclude_kernel = 1;
	at.exclude_hv = 1;
	int fd = (int)syscall(SYS_perf_event_open, &at, 0, -1, -1, 0);
	if (fd < 0) {
		snprintf(why, sizeof why, "perf_event_open of a hardware watchpoint: %s", strerror(errno));
		return why;
	}
	probe_var = 1;
	probe_var = 2;
	uint64_t count = 0;
	ssize_t got = read(fd, &count, sizeof count);
	close(fd);
	if (got != (ssize_t)sizeof count || count == 0)
		return "a hardware watchpoint set through perf never fired (the machine "
		       "does not deliver debug exceptions)";
	return NULL;
}

struct per_arch {
	const char *arch;
	const char *scratch_reg;   /* caller-saved, free to scribble on */
	const char *sp_reg;
	const char *alt_scratch;   /* when the machine has no scratch_reg (SVE: z31) */
	int tp_idx;                /* libthread_db's thread-area index of the thread pointer */
	int tp_bias;               /* what thread_area subtracts for TP_IDX */
};

static const struct per_arch table[] = {
	{"x86_64", "xmm15", "rsp", NULL, 25, 0},   /* <sys/reg.h> FS */
	{"aarch64", "v31", "sp", "z31", 16, 16},   /* a bias, as glibc's nptl_db asks */
	{"arm", "d31", "sp", NULL, 0, 0},
};

/* Z0/Z1 kind and address gdb would use for function F. */
static uint64_t code_addr(void (*f)(void), int *kind)
{
	uint64_t a = (uint64_t)(uintptr_t)f;
	if (strcmp(the_arch.name, "arm") == 0) {
		*kind = (a & 1) ? 2 : 4;   /* Thumb or ARM */
		return a & ~(uint64_t)1;
	}
	*kind = strcmp(the_arch.name, "aarch64") == 0 ? 4 : 1;
	return a;
}

static int wait_trap(pid_t pid)
{
	int st;
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	if (!WIFSTOPPED(st)) {
		fprintf(stderr, "child did not stop (status %#x)\n", st);
		return -1;
	}
	return WSTOPSIG(st);
}

static enum trap_cause cause_of(pid_t pid, const struct hw_point *pts, size_t n,
				uint64_t *data, size_t *which)
{
	siginfo_t si;
	memset(&si, 0, sizeof si);
	CHECK(ptrace(PTRACE_GETSIGINFO, pid, 0, &si) == 0);
	CHECK(si.si_signo == SIGTRAP);
	return the_arch.trap_cause(pid, &si, pts, n, data, which);
}

static void test_traced(pid_t pid, const struct per_arch *pa, int mem)
{
	const struct arch_ops *a = &the_arch;
	const struct arch_regfile *rf = &the_regfile;
	uint8_t *regs = calloc(1, rf->size), *orig = calloc(1, rf->size);
	if (!regs || !orig) {
		CHECK(!"out of memory");
		goto out;
	}

	/* The thread pointer libthread_db asks for: the child's is ours
	 * (fork copies it), less the bias; not our tracee: fails. */
	uint64_t tp = 1;
	CHECK(a->thread_area && a->thread_area(pid, pa->tp_idx, &tp) == 0);
	CHECK(tp == (uint64_t)(uintptr_t)__builtin_thread_pointer() - (uint64_t)pa->tp_bias);
	CHECK(a->thread_area(getpid(), pa->tp_idx, &tp) == -1);

	/* Registers: read, scribble on a scratch one, read back. */
	CHECK(a->fetch_regs(pid, orig) == 0);
	CHECK(a->get_pc(orig) != 0);
	int sp = arch_regno(rf, pa->sp_reg), scratch = arch_regno(rf, pa->scratch_reg);
	if (scratch < 0 && pa->alt_scratch)
		scratch = arch_regno(rf, pa->alt_scratch);
	CHECK(sp >= 0 && scratch >= 0);
	if (sp < 0 || scratch < 0)
		goto out;
	CHECK(arch_reg_get(rf, orig, sp) != 0);
	memcpy(regs, orig, rf->size);
	const struct arch_reg *s = &rf->regs[scratch];
	for (unsigned i = 0; i < s->size; i++)
		regs[s->offset + i] = (uint8_t)(0xa5 ^ i);
	CHECK(a->store_regs(pid, regs) == 0);
	uint8_t *back = calloc(1, rf->size);
	CHECK(back && a->fetch_regs(pid, back) == 0);
	if (back) {
		CHECK_MEM(back + s->offset, regs + s->offset, s->size);
		CHECK(a->get_pc(back) == a->get_pc(orig));
		free(back);
	}
	CHECK(a->store_regs(pid, orig) == 0);

	/* Software breakpoint at target_a. */
	int kind;
	uint64_t bp = code_addr(target_a, &kind);
	const uint8_t *insn;
	int len = a->sw_breakpoint(kind, &insn);
	CHECK(len > 0 && len <= 4);
	if (len <= 0 || len > 4)
		goto out;
	uint8_t saved[4];
	CHECK(pread(mem, saved, (size_t)len, (off_t)bp) == len);
	CHECK(pwrite(mem, insn, (size_t)len, (off_t)bp) == len);
	CHECK(ptrace(PTRACE_CONT, pid, 0, 0) == 0);
	CHECK(wait_trap(pid) == SIGTRAP);
	uint64_t data = 0;
	size_t which = 0;
	CHECK(cause_of(pid, NULL, 0, &data, &which) == TRAP_CAUSE_OTHER);
	CHECK(a->fetch_regs(pid, regs) == 0);
	CHECK(a->get_pc(regs) - a->decr_pc_after_break == bp);
	CHECK(pwrite(mem, saved, (size_t)len, (off_t)bp) == len);
	a->set_pc(regs, bp);
	CHECK(a->store_regs(pid, regs) == 0);

	if (a->can_single_step) {
		CHECK(ptrace(PTRACE_SINGLESTEP, pid, 0, 0) == 0);
		CHECK(wait_trap(pid) == SIGTRAP);
		CHECK(cause_of(pid, NULL, 0, &data, &which) == TRAP_CAUSE_SINGLESTEP);
		CHECK(a->fetch_regs(pid, regs) == 0);
		CHECK(a->get_pc(regs) != bp);
	}

	/* Hardware watchpoint on `watched`, then a hardware breakpoint. */
	struct hw_point w = {HW_WRITE, (uint64_t)(uintptr_t)&watched, 4};
	const char *missing = hw_debug_missing();
	if (missing) {
		printf("test_arch_ptrace: hardware points skipped: %s\n", missing);
	} else if (a->hw_points_apply(pid, &w, 1, true) < 0) {
		printf("test_arch_ptrace: hardware points skipped: %s (no debug "
		       "registers for ptrace on this machine)\n", strerror(errno));
	} else {
		CHECK(a->hw_points_apply(pid, &w, 1, false) == 0);
		CHECK(ptrace(PTRACE_CONT, pid, 0, 0) == 0);
		CHECK(wait_trap(pid) == SIGTRAP);
		which = 99;
		CHECK(cause_of(pid, &w, 1, &data, &which) == TRAP_CAUSE_WATCH);
		CHECK(which == 0);
		CHECK(data >= w.addr && data < w.addr + w.len);
		CHECK(a->hw_points_apply(pid, NULL, 0, false) == 0);

		struct hw_point b = {HW_EXEC, code_addr(target_b, &kind), 0};
		b.len = (uint32_t)kind;
		CHECK(a->hw_points_apply(pid, &b, 1, false) == 0);
		CHECK(ptrace(PTRACE_CONT, pid, 0, 0) == 0);
		CHECK(wait_trap(pid) == SIGTRAP);
		CHECK(cause_of(pid, &b, 1, &data, &which) == TRAP_CAUSE_HW_BREAK);
		CHECK(a->fetch_regs(pid, regs) == 0);
		CHECK(a->get_pc(regs) == b.addr);
		CHECK(a->hw_points_apply(pid, NULL, 0, false) == 0);
	}
out:
	free(regs);
	free(orig);
}

int main(void)
{
	CHECK(arch_init() == 0);
	const struct per_arch *pa = NULL;
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		if (strcmp(table[i].arch, the_arch.name) == 0)
			pa = &table[i];
	CHECK(pa != NULL);
	if (!pa)
		return check_done("test_arch_ptrace");

	/* Not our tracee: every call fails cleanly. */
	uint8_t *regs = calloc(1, the_regfile.size);
	CHECK(regs && the_arch.fetch_regs(getpid(), regs) == -1);
	free(regs);

	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0)
		child();
	CHECK(pid > 0);
	if (pid < 0)
		return check_done("test_arch_ptrace");
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 77) {
		printf("test_arch_ptrace: skipped: PTRACE_TRACEME fails here "
		       "(qemu-user has no ptrace)\n");
		return check_done("test_arch_ptrace");
	}
	CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP);

	char path[64];
	snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
	int mem = open(path, O_RDWR);
	CHECK(mem >= 0);
	if (mem >= 0 && WIFSTOPPED(st)) {
		test_traced(pid, pa, mem);
		close(mem);
	}

	/* Let it finish: it checks that it ran everything exactly once. */
	if (ptrace(PTRACE_CONT, pid, 0, 0) == 0 && waitpid(pid, &st, 0) == pid) {
		if (!WIFEXITED(st))
			kill(pid, SIGKILL), waitpid(pid, &st, 0);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	} else {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		CHECK(!"child could not be resumed");
	}
	return check_done("test_arch_ptrace");
}
