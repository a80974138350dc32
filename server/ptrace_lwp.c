/* The live target's threads, registers, memory and breakpoints over ptrace:
 * see ptrace_lwp.h. */
#include "server/ptrace_lwp.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server/agent_points.h"
#include "server/btrace.h"
#include "server/ptrace_mem.h"
#include "server/swfast.h"


int send_tgkill(pid_t pid, pid_t tid, int sig)
{
	return (int)syscall(SYS_tgkill, pid, tid, sig);
}

struct process *add_process(pid_t pid, bool attached)
{
	return process_new(pid, attached);
}

struct thread *add_thread(struct process *p, pid_t tid)
{
	/* Unit tests drive the target without main(): probe on first use. */
	if (arch_init() < 0)
		abort();
	struct thread *t = thread_new(p, tid, the_regfile.size);
	/* It is stopped (every caller waited for that): btrace may look. */
	btrace_thread_added(t);
	return t;
}

void free_breakpoints(struct process *p)
{
	agent_points_forget(p->pid);
	while (p->breakpoints) {
		struct breakpoint *b = p->breakpoints;
		p->breakpoints = b->next;
		free(b);
	}
}

static int mem_fd(struct process *p)
{
	/* CSGDBSERVER_PROC_MEM=0: as on a kernel that refuses the file (the
	 * tests of the ptrace way in) */
	static int use_proc_mem = -1;
	if (use_proc_mem < 0) {
		const char *v = getenv("CSGDBSERVER_PROC_MEM");
		use_proc_mem = !(v && strcmp(v, "0") == 0);
	}
	if (!use_proc_mem) {
		errno = EACCES;
		return -1;
	}
	if (p->mem_fd < 0) {
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/mem", p->pid);
		p->mem_fd = open(path, O_RDWR | O_CLOEXEC);
	}
	return p->mem_fd;
}

void set_options(pid_t tid, bool created)
{
	long opts = PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
		    PTRACE_O_TRACEVFORKDONE | PTRACE_O_TRACEEXEC | PTRACE_O_TRACESYSGOOD;
	if (created)
		opts |= PTRACE_O_EXITKILL;
	ptrace(PTRACE_SETOPTIONS, tid, 0, opts);
}

/* The program shares our terminal, as with gdbserver: it becomes the
 * foreground group so that it can read it and set its modes without
 * SIGTTIN/SIGTTOU. */
/* A thread at a PTRACE_EVENT_EXEC stop is still inside execve: the first
 * PTRACE_SINGLESTEP from there only returns to user space and traps at
 * the entry point without running it. Take that step now, so gdb's first
 * stepi runs the first instruction (as after gdbserver's exec SIGTRAP).
 * Returns false if the thread is gone; another signal is queued again. */
bool settle_after_exec(pid_t pid, pid_t tid)
{
	if (!the_arch.can_single_step || ptrace(PTRACE_SINGLESTEP, tid, 0, 0) < 0)
		return true;
	int status;
	while (waitpid(tid, &status, __WALL) < 0)
		if (errno != EINTR)
			return false;
	if (!WIFSTOPPED(status))
		return false;
	int sig = WSTOPSIG(status);
	if (sig != SIGTRAP && (status >> 16) == 0)
		send_tgkill(pid, tid, sig);
	return true;
}

/* --- breakpoints ------------------------------------------------------ */

struct breakpoint *find_breakpoint(struct process *p, uint64_t addr)
{
	for (struct breakpoint *b = p->breakpoints; b; b = b->next)
		if (b->addr == addr)
			return b;
	return NULL;
}

/* A thread of P in a ptrace stop, for ptrace_mem_xfer; -1 when none is. */
static pid_t stopped_tid(const struct process *p)
{
	for (const struct thread *t = p->threads; t; t = t->next)
		if (t->stopped)
			return t->tid;
	return -1;
}

/* /proc/PID/mem first (one system call for any length, and it works while
 * the process runs), ptrace where the kernel refuses it. */
static ssize_t raw_xfer(struct process *p, uint64_t addr, void *buf, size_t len, bool write)
{
	int fd = mem_fd(p);
	ssize_t n = -1;
	if (fd >= 0)
		n = write ? pwrite(fd, buf, len, (off_t)addr) : pread(fd, buf, len, (off_t)addr);
	if (n > 0 || len == 0)
		return n;
	int err = errno;
	pid_t tid = stopped_tid(p);
	if (tid < 0) {
		errno = err;
		return n;
	}
	return ptrace_mem_xfer(tid, addr, buf, len, write);
}

ssize_t raw_read(struct process *p, uint64_t addr, void *buf, size_t len)
{
	return raw_xfer(p, addr, buf, len, false);
}

ssize_t raw_write(struct process *p, uint64_t addr, const void *buf, size_t len)
{
	return raw_xfer(p, addr, (void *)buf, len, true);
}

ssize_t lwp_read_memory(struct process *p, uint64_t addr, void *buf, size_t len)
{
	ssize_t n = raw_read(p, addr, buf, len);
	if (n <= 0)
		return n;
	/* Show the original bytes under our breakpoints. */
	for (struct breakpoint *b = p->breakpoints; b; b = b->next) {
		for (unsigned i = 0; i < b->len; i++) {
			uint64_t a = b->addr + i;
			if (a >= addr && a < addr + (uint64_t)n)
				((uint8_t *)buf)[a - addr] = b->saved[i];
		}
	}
	/* And under the recorder's temporary ones. */
	for (struct thread *t = p->threads; t; t = t->next)
		for (int k = 0; k < 3; k++) {
			const struct temp_bp *tb = &t->tbp[k];
			for (unsigned i = 0; tb->armed && i < tb->len; i++) {
				uint64_t a = tb->addr + i;
				if (a >= addr && a < addr + (uint64_t)n)
					((uint8_t *)buf)[a - addr] = tb->saved[i];
			}
		}
	return n;
}

ssize_t lwp_write_memory(struct process *p, uint64_t addr, const void *buf, size_t len)
{
	const uint8_t *src = buf;
	if (p->fast)
		swfast_code_changed(p->fast);
	bool overlaps = false;
	for (struct breakpoint *b = p->breakpoints; b; b = b->next)
		if (b->addr < addr + len && b->addr + b->len > addr)
			overlaps = true;
	for (struct thread *t = p->threads; t; t = t->next)
		for (int k = 0; k < 3; k++)
			if (t->tbp[k].armed && t->tbp[k].addr < addr + len &&
			    t->tbp[k].addr + t->tbp[k].len > addr)
				overlaps = true;
	if (!overlaps)
		return raw_write(p, addr, buf, len);
	/* Keep breakpoints in place; what was written goes under them. */
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return -1;
	memcpy(copy, src, len);
	for (struct breakpoint *b = p->breakpoints; b; b = b->next) {
		const uint8_t *insn;
		the_arch.sw_breakpoint(b->kind, &insn);
		bool lifted = breakpoint_lifted(p, b->addr);
		for (unsigned i = 0; i < b->len; i++) {
			uint64_t a = b->addr + i;
			if (a >= addr && a < addr + len) {
				b->saved[i] = src[a - addr];
				if (!lifted)
					copy[a - addr] = insn[i];
			}
		}
	}
	for (struct thread *t = p->threads; t; t = t->next)
		for (int k = 0; k < 3; k++) {
			struct temp_bp *tb = &t->tbp[k];
			const uint8_t *insn;
			if (!tb->armed || the_arch.sw_breakpoint(tb->kind, &insn) != tb->len)
				continue;
			for (unsigned i = 0; i < tb->len; i++) {
				uint64_t a = tb->addr + i;
				if (a >= addr && a < addr + len) {
					tb->saved[i] = src[a - addr];
					copy[a - addr] = insn[i];
				}
			}
		}
	ssize_t n = raw_write(p, addr, copy, len);
	free(copy);
	return n;
}

static int hw_points_changed(struct process *p)
{
	p->hw_generation++;
	int rc = 0;
	for (struct thread *t = p->threads; t; t = t->next) {
		if (!t->stopped)
			continue;
		if (the_arch.hw_points_apply(t->tid, p->hw, p->nhw, false) < 0)
			rc = -1;
		t->hw_generation = p->hw_generation;
	}
	return rc;
}

int lwp_insert_point(struct process *p, int type, uint64_t addr, int kind)
{
	if (type == 0) {
		const uint8_t *insn;
		int len = the_arch.sw_breakpoint(kind, &insn);
		if (len < 0 || len > 16)
			return -1;
		struct breakpoint *b = find_breakpoint(p, addr);
		if (b) {
			/* A vfork child shares memory with its parent: the other
			 * process may have taken the instruction out meanwhile. */
			uint8_t now[16];
			if (!breakpoint_lifted(p, addr) && raw_read(p, addr, now, b->len) == b->len &&
			    memcmp(now, insn, b->len) != 0) {
				memcpy(b->saved, now, b->len);
				if (raw_write(p, addr, insn, b->len) != b->len)
					return -1;
			}
			b->by_gdb = true;
			return 0;   /* one z0 removes it, however many Z0s (gdbserver) */
		}
		b = calloc(1, sizeof *b);
		if (!b)
			return -1;
		b->addr = addr;
		b->kind = kind;
		b->len = (uint8_t)len;
		b->by_gdb = true;
		/* Masked: a temporary breakpoint of the recorder may be there. */
		if (lwp_read_memory(p, addr, b->saved, (size_t)len) != len ||
		    (!breakpoint_lifted(p, addr) && raw_write(p, addr, insn, (size_t)len) != len)) {
			free(b);
			return -1;
		}
		b->next = p->breakpoints;
		p->breakpoints = b;
		return 0;
	}
	if (type < 1 || type > 4 || !the_arch.hw_points_apply)
		return 1;
	/* gdb re-sends Z for a point it has inserted when its target-side
	 * conditions change: the same point, not a second one (one z removes
	 * it, as gdbserver) */
	for (size_t i = 0; i < p->nhw; i++)
		if (p->hw[i].type == (enum hw_point_type)type && p->hw[i].addr == addr &&
		    p->hw[i].len == (uint32_t)kind)
			return 0;
	if (p->nhw == sizeof p->hw / sizeof p->hw[0])
		return -1;
	p->hw[p->nhw] = (struct hw_point){(enum hw_point_type)type, addr, (uint32_t)kind};
	if (!p->threads || the_arch.hw_points_apply(p->threads->tid, p->hw, p->nhw + 1, true) < 0)
		return errno == EOPNOTSUPP ? 1 : -1;
	p->nhw++;
	return hw_points_changed(p) < 0 ? -1 : 0;
}

bool breakpoint_is_permanent(const struct breakpoint *b)
{
	const uint8_t *insn;
	return the_arch.sw_breakpoint(b->kind, &insn) == b->len && memcmp(b->saved, insn, b->len) == 0;
}

bool breakpoint_lifted(const struct process *p, uint64_t addr)
{
	for (const struct thread *t = p->threads; t && addr; t = t->next)
		if (t->lifted_at == addr)
			return true;
	return false;
}

int breakpoint_lift(struct thread *t, uint64_t addr)
{
	struct process *p = t->proc;
	struct breakpoint *b = find_breakpoint(p, addr);
	if (!b || t->lifted_at)
		return -1;
	if (!breakpoint_lifted(p, addr) && raw_write(p, addr, b->saved, b->len) != b->len)
		return -1;
	t->lifted_at = addr;
	return 0;
}

void breakpoint_drop(struct thread *t, bool put_back)
{
	uint64_t addr = t->lifted_at;
	struct process *p = t->proc;
	t->lifted_at = 0;
	/* (another thread may be in the middle of its own step over it) */
	if (!addr || !put_back || breakpoint_lifted(p, addr))
		return;
	struct breakpoint *b = find_breakpoint(p, addr);
	const uint8_t *insn;
	debug("%d: breakpoint at %#llx back in%s\n", t->tid, (unsigned long long)addr,
	      b ? "" : ": gone meanwhile");
	if (b && the_arch.sw_breakpoint(b->kind, &insn) == b->len)
		raw_write(p, addr, insn, b->len);
}

int lwp_remove_point(struct process *p, int type, uint64_t addr, int kind)
{
	if (type == 0) {
		struct breakpoint **pp = &p->breakpoints;
		while (*pp && (*pp)->addr != addr)
			pp = &(*pp)->next;
		struct breakpoint *b = *pp;
		if (!b)
			return -1;
		if (b->by_trace) {
			b->by_gdb = false;   /* a tracepoint's still: it stays in */
			return 0;
		}
		*pp = b->next;
		unsigned removed_len = b->len;
		int rc = raw_write(p, addr, b->saved, b->len) == b->len ? 0 : -1;
		free(b);
		/* A temporary breakpoint of the recorder at the same place stays. */
		for (struct thread *t = p->threads; t; t = t->next)
			for (int k = 0; k < 3; k++) {
				struct temp_bp *tb = &t->tbp[k];
				if (!tb->armed || tb->addr >= addr + (uint64_t)removed_len ||
				    tb->addr + tb->len <= addr)
					continue;
				const uint8_t *insn;
				if (the_arch.sw_breakpoint(tb->kind, &insn) == tb->len)
					raw_write(p, tb->addr, insn, tb->len);
			}
		return rc;
	}
	if (type < 1 || type > 4)
		return 1;
	for (size_t i = 0; i < p->nhw; i++) {
		if (p->hw[i].type == (enum hw_point_type)type && p->hw[i].addr == addr &&
		    p->hw[i].len == (uint32_t)kind) {
			memmove(&p->hw[i], &p->hw[i + 1], (p->nhw - i - 1) * sizeof p->hw[0]);
			p->nhw--;
			return hw_points_changed(p) < 0 ? -1 : 0;
		}
	}
	return -1;
}

/* --- registers --------------------------------------------------------- */

uint8_t *lwp_regs(struct thread *t)
{
	if (!t->regs_valid) {
		if (the_arch.fetch_regs(t->tid, t->regs) < 0)
			return NULL;
		t->regs_valid = true;
	}
	return t->regs;
}

/* A failed write may have changed part of the thread: read it again. */
int lwp_store_regs(struct thread *t)
{
	if (the_arch.store_regs(t->tid, t->regs) == 0)
		return 0;
	t->regs_valid = t->gp_valid = false;
	return -1;
}

int lwp_write_regs(struct thread *t, const uint8_t *regs)
{
	if (the_arch.store_regs(t->tid, regs) < 0) {
		t->regs_valid = t->gp_valid = false;
		return -1;
	}
	memcpy(t->regs, regs, the_regfile.size);
	t->regs_valid = true;
	return 0;
}

/* The general registers only (PC, SP, flags): cheaper, for the paths
 * that run at every branch. */
uint8_t *lwp_gp_regs(struct thread *t)
{
	if (t->regs_valid || t->gp_valid)
		return t->regs;
	if (!the_arch.fetch_gp_regs)
		return lwp_regs(t);
	if (the_arch.fetch_gp_regs(t->tid, t->regs) < 0)
		return NULL;
	t->gp_valid = true;
	return t->regs;
}

int lwp_store_gp_regs(struct thread *t)
{
	if (t->regs_valid || !the_arch.store_gp_regs)
		return lwp_store_regs(t);
	return the_arch.store_gp_regs(t->tid, t->regs);
}

bool catching_syscall(long nr)
{
	if (!target_settings.catch_syscalls)
		return false;
	if (target_settings.catch_any_syscall)
		return true;
	for (size_t i = 0; i < target_settings.nsyscalls; i++)
		if (target_settings.syscalls[i] == nr)
			return true;
	return false;
}

int resume_request(struct thread *t)
{
	if (t->resume == RESUME_STEP || t->resume == RESUME_RANGE || t->bt)
		return PTRACE_SINGLESTEP;
	return target_settings.catch_syscalls ? PTRACE_SYSCALL : PTRACE_CONT;
}

/* Let T go with ptrace REQUEST (PTRACE_CONT, SINGLESTEP, SYSCALL) and
 * signal SIG; STEPPING: it stops after one instruction (or a software step). */
/* Thread TID blocks SIG now (/proc: SigBlk). */
static bool signal_blocked(pid_t tid, int sig)
{
	char path[64], line[128];
	snprintf(path, sizeof path, "/proc/%d/status", tid);
	FILE *f = fopen(path, "r");
	unsigned long long mask = 0;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "SigBlk: %llx", &mask) == 1)
			break;
	if (f)
		fclose(f);
	return sig <= 64 && (mask >> (sig - 1) & 1);
}

void lwp_resume(struct thread *t, int request, int sig, bool stepping)
{
	if (t->hw_generation != t->proc->hw_generation) {
		the_arch.hw_points_apply(t->tid, t->proc->hw, t->proc->nhw, false);
		t->hw_generation = t->proc->hw_generation;
	}
	t->regs_valid = false;
	t->gp_valid = false;
	t->siginfo_valid = false;
	t->stepping = stepping;
	t->last_request = request;
	debug("resume %d: request %d signal %d\n", t->tid, request, sig);
	if (sig > 0 && signal_blocked(t->tid, sig))
		t->requeued_sig = sig;
	if (ptrace(request, t->tid, 0, sig) == 0) {
		t->stopped = false;
	} else {
		debug("resume %d failed: %s\n", t->tid, strerror(errno));
		/* ESRCH: killed while stopped (SIGKILL from outside). Its exit
		 * status is on its way: wait for it as for a running thread. */
		if (errno == ESRCH)
			t->stopped = false;
	}
}
