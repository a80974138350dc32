/* ptrace-based process and thread control (the part of gdbserver called
 * linux-low). Events are collected with waitpid(__WALL) driven by a
 * SIGCHLD signalfd, so one poll() also watches the client. */
#include "server/target.h"

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

#include "common/buf.h"
#include "server/ptrace_mem.h"
#include "etm/swbtrace.h"
#include "server/swfast.h"

struct target_settings target_settings = {
	.disable_randomization = true,
	.startup_with_shell = true,
};
struct process *processes;
bool debug_target;
bool target_non_stop;
bool target_btrace_per_insn;
void (*record_branch_hook)(struct thread *t, uint64_t from, uint64_t to);

/* thread.fast_state: the temporary breakpoint of the recorder's fast path
 * is in memory (ARMED), or was taken out while the thread ran, so that a
 * trap from it may still come (STALE). */
enum { FAST_NONE, FAST_ARMED, FAST_STALE };
static void fast_disarm(struct thread *t, bool running);
static int sw_step_begin(struct thread *t);
static void sw_step_disarm(struct thread *t);
static void resume_as_asked(struct thread *t, int sig);

static int sigchld_fd = -1;

FILE *debug_out;
#define debug(...) do { if (debug_target) fprintf(DEBUG_OUT, "[target] " __VA_ARGS__); } while (0)

/* A waitpid status for a pid we do not know yet: a new clone or fork
 * child can report its first stop before its parent's event. */
struct stray {
	pid_t pid;
	int status;
	struct stray *next;
};
static struct stray *strays;

static int send_tgkill(pid_t pid, pid_t tid, int sig)
{
	return (int)syscall(SYS_tgkill, pid, tid, sig);
}

/* --- bookkeeping --------------------------------------------------- */

struct process *find_process(pid_t pid)
{
	for (struct process *p = processes; p; p = p->next)
		if (p->pid == pid)
			return p;
	return NULL;
}

struct thread *find_thread(pid_t tid)
{
	for (struct process *p = processes; p; p = p->next)
		for (struct thread *t = p->threads; t; t = t->next)
			if (t->tid == tid)
				return t;
	return NULL;
}

struct thread *first_thread(void)
{
	for (struct process *p = processes; p; p = p->next)
		if (p->threads)
			return p->threads;
	return NULL;
}

static struct process *add_process(pid_t pid, bool attached)
{
	struct process *p = calloc(1, sizeof *p);
	if (!p)
		abort();
	p->pid = pid;
	p->attached = attached;
	p->mem_fd = -1;
	struct process **tail = &processes;
	while (*tail)
		tail = &(*tail)->next;
	*tail = p;
	return p;
}

void (*target_thread_hook)(struct thread *t, bool added);

static struct thread *add_thread(struct process *p, pid_t tid)
{
	struct thread *t = calloc(1, sizeof *t);
	if (!t)
		abort();
	t->tid = tid;
	t->proc = p;
	/* Every caller has waited for its stop; the hook may look at it. */
	t->stopped = true;
	/* Unit tests drive the target without main(): probe on first use. */
	if (arch_init() < 0)
		abort();
	t->regs = calloc(1, the_regfile.size);
	if (!t->regs)
		abort();
	struct thread **tail = &p->threads;
	while (*tail)
		tail = &(*tail)->next;
	*tail = t;
	if (target_thread_hook)
		target_thread_hook(t, true);
	return t;
}

static void remove_thread(struct thread *t)
{
	if (target_thread_hook)
		target_thread_hook(t, false);
	struct thread **pp = &t->proc->threads;
	while (*pp && *pp != t)
		pp = &(*pp)->next;
	if (*pp)
		*pp = t->next;
	if (!t->proc->gone)
		fast_disarm(t, false);
	swbtrace_free(t->bt);
	free(t->regs);
	free(t);
}

static void free_breakpoints(struct process *p)
{
	while (p->breakpoints) {
		struct breakpoint *b = p->breakpoints;
		p->breakpoints = b->next;
		free(b);
	}
}

void target_mourn(struct process *p)
{
	while (p->threads)
		remove_thread(p->threads);
	free_breakpoints(p);
	swfast_free(p->fast);
	if (p->mem_fd >= 0)
		close(p->mem_fd);
	struct process **pp = &processes;
	while (*pp && *pp != p)
		pp = &(*pp)->next;
	if (*pp)
		*pp = p->next;
	free(p);
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

static void set_options(pid_t tid, bool created)
{
	long opts = PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
		    PTRACE_O_TRACEVFORKDONE | PTRACE_O_TRACEEXEC | PTRACE_O_TRACESYSGOOD;
	if (created)
		opts |= PTRACE_O_EXITKILL;
	ptrace(PTRACE_SETOPTIONS, tid, 0, opts);
}

int target_init(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	sigchld_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	const char *per_insn = getenv("CSGDBSERVER_BTRACE_STEP");
	if (per_insn && *per_insn && strcmp(per_insn, "0") != 0)
		target_btrace_per_insn = true;
	return sigchld_fd < 0 ? -1 : 0;
}

/* --- starting and attaching ---------------------------------------- */

/* Quote ARG for sh so it reaches the program unchanged. */
static void shell_quote(struct buf *b, const char *arg)
{
	buf_putc(b, '\'');
	for (; *arg; arg++) {
		if (*arg == '\'')
			buf_puts(b, "'\\''");
		else
			buf_putc(b, *arg);
	}
	buf_putc(b, '\'');
}

static void child_exec(char *const argv[])
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGTTOU, SIG_DFL);
	signal(SIGTTIN, SIG_DFL);
	setpgid(0, 0);
	if (target_settings.stdio_connection) {
		/* stdin/stdout carry the protocol: keep the inferior off them. */
		int fd = open("/dev/null", O_RDONLY);
		if (fd >= 0) {
			dup2(fd, 0);
			close(fd);
		}
		dup2(2, 1);
		fprintf(stderr, "stdin/stdout redirected\n");
	}
	if (ptrace(PTRACE_TRACEME, 0, 0, 0) < 0)
		_exit(126);
	if (target_settings.disable_randomization)
		personality((unsigned long)personality(0xffffffff) | ADDR_NO_RANDOMIZE);
	if (target_settings.cwd && chdir(target_settings.cwd) < 0) {
		fprintf(stderr, "Couldn't chdir to %s: %s\n", target_settings.cwd, strerror(errno));
		_exit(127);
	}
	char **env = target_settings.env;
	size_t n = 0, nw = 0;
	while (argv[n])
		n++;
	char **wrapper = target_settings.wrapper;
	while (wrapper && wrapper[nw])
		nw++;
	if (target_settings.startup_with_shell) {
		struct buf cmd = BUF_INIT;
		buf_puts(&cmd, "exec");
		for (size_t i = 0; i < nw; i++) {
			buf_putc(&cmd, ' ');
			shell_quote(&cmd, wrapper[i]);
		}
		for (size_t i = 0; i < n; i++) {
			buf_putc(&cmd, ' ');
			shell_quote(&cmd, argv[i]);
		}
		const char *shell = getenv("SHELL");
		if (!shell || !*shell)
			shell = "/bin/sh";
		char *sh_argv[] = {(char *)shell, "-c", cmd.data, NULL};
		execve(shell, sh_argv, env);
		fprintf(stderr, "Cannot exec %s: %s.\n", shell, strerror(errno));
		_exit(127);
	}
	char **full = calloc(n + nw + 1, sizeof *full);
	if (!full)
		_exit(127);
	for (size_t i = 0; i < nw; i++)
		full[i] = wrapper[i];
	for (size_t i = 0; i < n; i++)
		full[nw + i] = argv[i];
	execvpe(full[0], full, env);
	fprintf(stderr, "csgdbserver: Cannot exec %s\ncsgdbserver: Error: %s\n\n",
		full[0], strerror(errno));
	_exit(127);
}

char *target_program_path(const char *name)
{
	struct stat st;
	char cwd[4096];
	char *path = NULL;
	if (!strchr(name, '/') && stat(name, &st) == 0 && S_ISREG(st.st_mode) &&
	    getcwd(cwd, sizeof cwd) && asprintf(&path, "%s/%s", cwd, name) >= 0)
		return path;
	return strdup(name);
}

static int terminal_fd = -1;
static pid_t old_foreground_pgrp;

static void restore_terminal(void)
{
	tcsetpgrp(terminal_fd, old_foreground_pgrp);
}

/* The program shares our terminal, as with gdbserver: it becomes the
 * foreground group so that it can read it and set its modes without
 * SIGTTIN/SIGTTOU. */
/* A thread at a PTRACE_EVENT_EXEC stop is still inside execve: the first
 * PTRACE_SINGLESTEP from there only returns to user space and traps at
 * the entry point without running it. Take that step now, so gdb's first
 * stepi runs the first instruction (as after gdbserver's exec SIGTRAP).
 * Returns false if the thread is gone; another signal is queued again. */
static bool settle_after_exec(pid_t pid, pid_t tid)
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

static void give_terminal(pid_t pgrp)
{
	signal(SIGTTOU, SIG_IGN);
	signal(SIGTTIN, SIG_IGN);
	if (!isatty(2))
		return;
	if (terminal_fd < 0) {
		terminal_fd = 2;
		old_foreground_pgrp = tcgetpgrp(terminal_fd);
		atexit(restore_terminal);
	}
	tcsetpgrp(terminal_fd, pgrp);
}

struct process *target_create(char *const argv[], char *err, size_t errlen)
{
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return NULL;
	}
	if (pid == 0)
		child_exec(argv);

	/* One exec for the program, one more for the shell and the wrapper. */
	int execs = 1 + (target_settings.startup_with_shell ? 1 : 0) +
		    (target_settings.wrapper ? 1 : 0);
	int status, sig = 0;
	bool first = true;
	for (;;) {
		if (waitpid(pid, &status, __WALL) < 0) {
			snprintf(err, errlen, "waitpid: %s", strerror(errno));
			return NULL;
		}
		if (WIFEXITED(status)) {
			snprintf(err, errlen, "During startup program exited with code %d.",
				 WEXITSTATUS(status));
			return NULL;
		}
		if (WIFSIGNALED(status)) {
			snprintf(err, errlen, "During startup program terminated with signal %s.",
				 strsignal(WTERMSIG(status)));
			return NULL;
		}
		sig = WSTOPSIG(status);
		int event = status >> 16;
		if (first && sig == SIGTRAP) {
			first = false;
			set_options(pid, true);
			execs--;
		} else if (event == PTRACE_EVENT_EXEC) {
			execs--;
		}
		if (execs == 0)
			break;
		/* Shell or wrapper on its way: pass its own signals through. */
		int deliver = (sig == SIGTRAP || event) ? 0 : sig;
		ptrace(PTRACE_CONT, pid, 0, deliver);
	}
	if (!settle_after_exec(pid, pid)) {
		snprintf(err, errlen, "During startup program exited.");
		return NULL;
	}
	give_terminal(pid);
	struct process *p = add_process(pid, false);
	struct thread *t = add_thread(p, pid);
	t->pending = (struct stop_event){.kind = STOP_SIGNAL, .sig = SIGTRAP, .pid = pid, .tid = pid};
	return p;
}

static int attach_lwp(struct process *p, pid_t tid)
{
	if (ptrace(PTRACE_ATTACH, tid, 0, 0) < 0)
		return -1;
	int status;
	for (;;) {
		if (waitpid(tid, &status, __WALL) < 0)
			return -1;
		if (WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP)
			break;
		if (!WIFSTOPPED(status))
			return -1;
		/* Another signal came first: let it be seen after the attach. */
		ptrace(PTRACE_CONT, tid, 0, WSTOPSIG(status));
	}
	set_options(tid, false);
	add_thread(p, tid);
	return 0;
}

struct process *target_attach(pid_t pid, char *err, size_t errlen)
{
	if (find_process(pid)) {
		snprintf(err, errlen, "Already attached to process %d", pid);
		return NULL;
	}
	struct process *p = add_process(pid, true);
	if (attach_lwp(p, pid) < 0) {
		snprintf(err, errlen, "Cannot attach to process %d: %s (%d)", pid,
			 strerror(errno), errno);
		target_mourn(p);
		return NULL;
	}
	/* Attach the other threads, until no new one appears. */
	bool added = true;
	while (added) {
		added = false;
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/task", pid);
		DIR *d = opendir(path);
		if (!d)
			break;
		struct dirent *de;
		while ((de = readdir(d))) {
			pid_t tid = (pid_t)atoi(de->d_name);
			if (tid <= 0 || find_thread(tid))
				continue;
			if (attach_lwp(p, tid) == 0)
				added = true;
		}
		closedir(d);
	}
	p->threads->pending = (struct stop_event){.kind = STOP_SIGNAL, .sig = SIGTRAP,
						  .pid = pid, .tid = pid};
	return p;
}

/* --- breakpoints ------------------------------------------------------ */

static struct breakpoint *find_breakpoint(struct process *p, uint64_t addr)
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

static ssize_t raw_read(struct process *p, uint64_t addr, void *buf, size_t len)
{
	return raw_xfer(p, addr, buf, len, false);
}

static ssize_t raw_write(struct process *p, uint64_t addr, const void *buf, size_t len)
{
	return raw_xfer(p, addr, (void *)buf, len, true);
}

ssize_t target_read_memory(struct process *p, uint64_t addr, void *buf, size_t len)
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

ssize_t target_write_memory(struct process *p, uint64_t addr, const void *buf, size_t len)
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
		for (unsigned i = 0; i < b->len; i++) {
			uint64_t a = b->addr + i;
			if (a >= addr && a < addr + len) {
				b->saved[i] = src[a - addr];
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

int target_insert_point(struct process *p, int type, uint64_t addr, int kind)
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
			if (raw_read(p, addr, now, b->len) == b->len && memcmp(now, insn, b->len) != 0) {
				memcpy(b->saved, now, b->len);
				if (raw_write(p, addr, insn, b->len) != b->len)
					return -1;
			}
			return 0;   /* one z0 removes it, however many Z0s (gdbserver) */
		}
		b = calloc(1, sizeof *b);
		if (!b)
			return -1;
		b->addr = addr;
		b->kind = kind;
		b->len = (uint8_t)len;
		/* Masked: a temporary breakpoint of the recorder may be there. */
		if (target_read_memory(p, addr, b->saved, (size_t)len) != len ||
		    raw_write(p, addr, insn, (size_t)len) != len) {
			free(b);
			return -1;
		}
		b->next = p->breakpoints;
		p->breakpoints = b;
		return 0;
	}
	if (type < 1 || type > 4 || !the_arch.hw_points_apply)
		return 1;
	if (p->nhw == sizeof p->hw / sizeof p->hw[0])
		return -1;
	p->hw[p->nhw] = (struct hw_point){(enum hw_point_type)type, addr, (uint32_t)kind};
	if (!p->threads || the_arch.hw_points_apply(p->threads->tid, p->hw, p->nhw + 1, true) < 0)
		return errno == EOPNOTSUPP ? 1 : -1;
	p->nhw++;
	return hw_points_changed(p) < 0 ? -1 : 0;
}

int target_remove_point(struct process *p, int type, uint64_t addr, int kind)
{
	if (type == 0) {
		struct breakpoint **pp = &p->breakpoints;
		while (*pp && (*pp)->addr != addr)
			pp = &(*pp)->next;
		struct breakpoint *b = *pp;
		if (!b)
			return -1;
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

/* Take our breakpoints out of a process that we are about to let go. */
static void uninsert_breakpoints(struct process *p)
{
	for (struct thread *t = p->threads; t; t = t->next)
		fast_disarm(t, false);
	for (struct breakpoint *b = p->breakpoints; b; b = b->next)
		raw_write(p, b->addr, b->saved, b->len);
	free_breakpoints(p);
}

/* --- registers --------------------------------------------------------- */

uint8_t *thread_regs(struct thread *t)
{
	if (!t->regs_valid) {
		if (the_arch.fetch_regs(t->tid, t->regs) < 0)
			return NULL;
		t->regs_valid = true;
	}
	return t->regs;
}

/* A failed write may have changed part of the thread: read it again. */
int thread_store_regs(struct thread *t)
{
	if (the_arch.store_regs(t->tid, t->regs) == 0)
		return 0;
	t->regs_valid = t->gp_valid = false;
	return -1;
}

int thread_write_regs(struct thread *t, const uint8_t *regs)
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
static uint8_t *thread_gp_regs(struct thread *t)
{
	if (t->regs_valid || t->gp_valid)
		return t->regs;
	if (!the_arch.fetch_gp_regs)
		return thread_regs(t);
	if (the_arch.fetch_gp_regs(t->tid, t->regs) < 0)
		return NULL;
	t->gp_valid = true;
	return t->regs;
}

static int thread_store_gp_regs(struct thread *t)
{
	if (t->regs_valid || !the_arch.store_gp_regs)
		return thread_store_regs(t);
	return the_arch.store_gp_regs(t->tid, t->regs);
}

/* --- stopping, resuming, waiting --------------------------------------- */

static bool catching_syscall(long nr);

/* A recorded thread that gdb let continue, at a system call instruction
 * while calls are caught: a single step would pass the call's entry and
 * return by unseen, so it is stepped with PTRACE_SYSCALL (as arm steps
 * every system call), which stops at both. */
static bool recorded_step_over_syscall(struct thread *t)
{
	if (!t->bt || t->resume != RESUME_CONTINUE || !target_settings.catch_syscalls ||
	    !the_arch.disasm_isa)
		return false;
	uint8_t *regs = thread_gp_regs(t);
	uint8_t code[16];
	struct disasm_insn in;
	ssize_t got = regs ? target_read_memory(t->proc, the_arch.get_pc(regs), code, sizeof code) : -1;
	if (got <= 0 || disasm_one(the_arch.disasm_isa(regs), code, (size_t)got, the_arch.get_pc(regs), &in) <= 0 ||
	    !in.syscall)
		return false;
	t->sw_stepping = true;
	t->sw_step_syscall = true;
	return true;
}

static void resume_thread(struct thread *t, int request, int sig)
{
	/* A step cut short by an event goes on from where it began. */
	if (t->bt && !t->step_interrupted) {
		uint8_t *regs = thread_gp_regs(t);
		t->bt_pc = regs ? the_arch.get_pc(regs) : 0;
		t->bt_isa = regs && the_arch.disasm_isa ? (int)the_arch.disasm_isa(regs) : 0;
	}
	bool step = request == PTRACE_SINGLESTEP;
	/* (With hardware single-step, a recorded thread's exclusive-load
	 * sequence still runs as one: see arch_ops.step_targets.) */
	if (step && ((t->sw_stepping && t->sw_step_syscall) || recorded_step_over_syscall(t)))
		request = PTRACE_SYSCALL;
	else if (step && (!the_arch.can_single_step || (t->bt && the_arch.step_targets)))
		request = sw_step_begin(t);
	t->step_interrupted = false;
	t->bt_sig = sig;
	if (t->hw_generation != t->proc->hw_generation) {
		the_arch.hw_points_apply(t->tid, t->proc->hw, t->proc->nhw, false);
		t->hw_generation = t->proc->hw_generation;
	}
	t->regs_valid = false;
	t->gp_valid = false;
	t->siginfo_valid = false;
	t->stepping = step || (t->sw_stepping && request == PTRACE_SYSCALL);
	t->last_request = request;
	debug("resume %d: request %d signal %d\n", t->tid, request, sig);
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

static int resume_request(struct thread *t)
{
	if (t->resume == RESUME_STEP || t->resume == RESUME_RANGE || t->bt)
		return PTRACE_SINGLESTEP;
	return target_settings.catch_syscalls ? PTRACE_SYSCALL : PTRACE_CONT;
}

/* --- the recorder's fast path (see swfast.h) ------------------------------ */

static ssize_t read_code(void *proc, uint64_t addr, void *buf, size_t len)
{
	return target_read_memory(proc, addr, buf, len);
}

/* Take T's temporary breakpoint out of memory. RUNNING: the thread may
 * be hitting it right now, so its trap is still recognised once. */
static void temp_bp_remove(struct process *p, struct temp_bp *tb)
{
	if (!tb->armed)
		return;
	tb->armed = false;
	raw_write(p, tb->addr, tb->saved, tb->len);
	/* gdb's own breakpoint there stays in. */
	for (struct breakpoint *b = p->breakpoints; b; b = b->next) {
		if (b->addr >= tb->addr + tb->len || b->addr + b->len <= tb->addr)
			continue;
		const uint8_t *insn;
		if (the_arch.sw_breakpoint(b->kind, &insn) == b->len)
			raw_write(p, b->addr, insn, b->len);
	}
	/* So does another thread's step breakpoint (arm: threads stepping
	 * the same code). */
	for (struct thread *o = p->threads; o; o = o->next)
		for (int k = 0; k < 3; k++) {
			const struct temp_bp *ob = &o->tbp[k];
			const uint8_t *insn;
			if (ob->armed && ob->addr < tb->addr + tb->len && ob->addr + ob->len > tb->addr &&
			    the_arch.sw_breakpoint(ob->kind, &insn) == ob->len)
				raw_write(p, ob->addr, insn, ob->len);
		}
}

static bool temp_bp_plant(struct process *p, struct temp_bp *tb, uint64_t addr, enum disasm_isa isa)
{
	int kind = isa == DISASM_X86_64 ? 1 : isa == DISASM_T32 ? 2 : 4;
	const uint8_t *insn;
	int len = the_arch.sw_breakpoint(kind, &insn);
	if (len <= 0 || len > 16)
		return false;
	if (target_read_memory(p, addr, tb->saved, (size_t)len) != len ||
	    raw_write(p, addr, insn, (size_t)len) != len)
		return false;
	tb->armed = true;
	tb->addr = addr;
	tb->len = (uint8_t)len;
	tb->kind = kind;
	return true;
}

static void fast_disarm(struct thread *t, bool running)
{
	if (t->fast_state != FAST_ARMED) {
		if (!running)
			t->fast_state = FAST_NONE;
		return;
	}
	temp_bp_remove(t->proc, &t->tbp[0]);
	t->fast_state = running ? FAST_STALE : FAST_NONE;
}

static bool fast_arm(struct thread *t, uint64_t addr, enum disasm_isa isa)
{
	if (!temp_bp_plant(t->proc, &t->tbp[0], addr, isa))
		return false;
	t->fast_state = FAST_ARMED;
	return true;
}

/* A temporary breakpoint is seen by every thread of the address space:
 * it is only used while T is the one thread there, which is also why the
 * breakpoint can be taken out to step the branch under it. */
static bool fast_path_usable(struct thread *t)
{
	struct process *p = t->proc;
	return !target_btrace_per_insn && (the_arch.can_single_step || the_arch.step_targets) &&
	       the_arch.disasm_isa &&
	       disasm_available(NULL) && p->threads == t && !t->next && !p->vfork_parent;
}

/* --- stepping without PTRACE_SINGLESTEP (arm) ------------------------------ */

static ssize_t emulation_memory(void *proc, bool write, uint64_t addr, void *buf, size_t len)
{
	/* Reads see the program's bytes; writes are a call's push. */
	return write ? raw_write(proc, addr, buf, len) : target_read_memory(proc, addr, buf, len);
}

static void sw_step_disarm(struct thread *t)
{
	temp_bp_remove(t->proc, &t->tbp[1]);
	temp_bp_remove(t->proc, &t->tbp[2]);
	t->sw_stepping = false;
	t->sw_step_syscall = false;
}

/* Another thread's step breakpoint in memory at ADDR? */
static bool foreign_step_bp_at(struct thread *t, uint64_t addr)
{
	for (struct thread *o = t->proc->threads; o; o = o->next)
		for (int k = 0; o != t && k < 3; k++)
			if (o->tbp[k].armed && o->tbp[k].addr <= addr && addr < o->tbp[k].addr + o->tbp[k].len)
				return true;
	return false;
}

/* T (stopped with SIGTRAP) ran into another thread's step breakpoint, or
 * into one taken out of memory since it trapped: the instruction at its
 * PC has not run. Not when a breakpoint of T's own or of gdb is there, or
 * the program's own breakpoint instruction. */
static bool sw_step_foreign_trap(struct thread *t)
{
	struct process *p = t->proc;
	uint8_t *regs = thread_gp_regs(t);
	if (!regs)
		return false;
	uint64_t pc = the_arch.get_pc(regs);
	for (int k = 0; k < 3; k++)
		if (t->tbp[k].armed && t->tbp[k].addr == pc)
			return false;
	if (find_breakpoint(p, pc))
		return false;
	if (foreign_step_bp_at(t, pc))
		return true;
	if (ptrace(PTRACE_GETSIGINFO, t->tid, 0, &t->siginfo) < 0)
		return false;
	t->siginfo_valid = true;
	if (t->siginfo.si_code != TRAP_BRKPT)
		return false;
	uint8_t now[4];
	if (raw_read(p, pc, now, sizeof now) != (ssize_t)sizeof now)
		return false;
	bool thumb = the_arch.disasm_isa && the_arch.disasm_isa(regs) == DISASM_T32;
	for (int kind = thumb ? 2 : 4; kind <= (thumb ? 3 : 4); kind++) {
		const uint8_t *insn;
		int len = the_arch.sw_breakpoint(kind, &insn);
		if (len > 0 && len <= (int)sizeof now && memcmp(now, insn, (size_t)len) == 0)
			return false;
	}
	return true;
}

/* T trapped on another thread's step breakpoint, still at its PC: run
 * again now, it would trap again at once, for as long as the owner (two
 * threads stepping the same code) takes to get there; waiting for the
 * owner to take it out lets the owner have the CPU. Parked threads hold
 * no breakpoint of their own, so no two wait for each other. */
static void park_or_resume(struct thread *t)
{
	uint8_t *regs = thread_gp_regs(t);
	uint64_t pc = regs ? the_arch.get_pc(regs) : 0;
	if (regs && foreign_step_bp_at(t, pc)) {
		debug("park %d at %#llx\n", t->tid, (unsigned long long)pc);
		t->parked = true;
		t->parked_pc = pc;
		return;
	}
	resume_as_asked(t, 0);
}

/* Resume the parked threads whose PC is free again. */
static void unpark_threads(void)
{
	for (struct process *p = processes; p; p = p->next)
		for (struct thread *t = p->threads; t; t = t->next)
			if (t->parked && !foreign_step_bp_at(t, t->parked_pc)) {
				debug("unpark %d\n", t->tid);
				t->parked = false;
				resume_as_asked(t, 0);
			}
}

/* Breakpoints where the instruction at T's PC can go; returns the ptrace
 * request that runs it there. */
static int sw_step_begin(struct thread *t)
{
	struct process *p = t->proc;
	if (t->sw_stepping && t->sw_step_syscall)
		return PTRACE_SYSCALL;   /* an event in the middle of it */
	uint8_t *regs = thread_gp_regs(t);
	uint64_t out[2], pc = regs ? the_arch.get_pc(regs) : 0;
	uint8_t code[32];   /* an IT instruction and the four it covers */
	int n = -1;
	ssize_t got = regs ? target_read_memory(p, pc, code, sizeof code) : -1;
	if (got > 0 && the_arch.step_targets)
		n = the_arch.step_targets(code, (size_t)got, regs, emulation_memory, p, out);
	t->sw_stepping = true;
	debug("step %d at %#llx: %d targets %#llx %#llx\n", t->tid, (unsigned long long)pc, n,
	      n > 0 ? (unsigned long long)out[0] : 0ULL, n > 1 ? (unsigned long long)out[1] : 0ULL);
	if (n == 0) {
		t->sw_step_syscall = true;
		return PTRACE_SYSCALL;
	}
	bool a64 = regs && the_arch.disasm_isa && the_arch.disasm_isa(regs) == DISASM_A64;
	for (int i = 0; i < n; i++) {
		uint64_t at = a64 ? out[i] : out[i] & ~(uint64_t)1;
		enum disasm_isa isa = a64 ? DISASM_A64 : out[i] & 1 ? DISASM_T32 : DISASM_A32;
		if (at == pc || !temp_bp_plant(p, &t->tbp[1 + i], at, isa)) {
			n = -1;
			break;
		}
	}
	if (n > 0)
		p->sw_step_used = true;
	if (n < 0 && the_arch.can_single_step) {
		sw_step_disarm(t);   /* an ordinary instruction: the hardware steps it */
		return PTRACE_SINGLESTEP;
	}
	if (n < 0) {
		/* Where it goes is unknown: it runs free, and gdb is told that
		 * the trace has a hole (as after an overflow). */
		struct disasm_insn in;
		if (got <= 0 || !regs || disasm_one(the_arch.disasm_isa(regs), code, (size_t)got, pc, &in) <= 0)
			snprintf(in.text, sizeof in.text, "?");
		fprintf(stderr, "csgdbserver: thread %d: cannot tell where \"%s\" at %#llx goes; "
			"branch trace lost until it stops\n", t->tid, in.text, (unsigned long long)pc);
		sw_step_disarm(t);
		if (t->bt)
			t->bt->lost_since_read = true;
	}
	return PTRACE_CONT;
}

/* Resume recorded thread T that gdb let continue: up to the next
 * control-flow instruction under a temporary breakpoint, or one step. */
static void resume_recorded(struct thread *t, int sig)
{
	struct process *p = t->proc;
	uint8_t *regs = thread_gp_regs(t);
	/* A signal to deliver: the step shows where its handler starts. */
	if (sig || t->step_interrupted || !regs || !fast_path_usable(t))
		goto step;
	if (!p->fast && !(p->fast = swfast_new(p->pid, "/proc")))
		goto step;
	uint64_t pc = the_arch.get_pc(regs);
	enum disasm_isa isa = the_arch.disasm_isa(regs);
	struct swfast_stop stop;
	if (!swfast_next_stop(p->fast, isa, pc, read_code, p, &stop) || stop.addr == pc)
		goto step;
	/* gdb's breakpoint there stops the thread as well (and is reported). */
	if (!find_breakpoint(p, stop.addr) && !fast_arm(t, stop.addr, isa))
		goto step;
	t->fast_insn_size = (uint8_t)stop.insn.size;
	t->bt->runs++;
	debug("run %d from %#llx to %#llx (%s)\n", t->tid, (unsigned long long)pc,
	      (unsigned long long)stop.addr, stop.insn.text);
	resume_thread(t, PTRACE_CONT, 0);
	return;
step:
	resume_thread(t, PTRACE_SINGLESTEP, sig);
}

/* Resume T the way gdb last asked for. */
static void resume_as_asked(struct thread *t, int sig)
{
	if (t->bt && t->resume == RESUME_CONTINUE)
		resume_recorded(t, sig);
	else
		resume_thread(t, resume_request(t), sig);
}

/* T stopped with SIGTRAP: was it its temporary breakpoint? Then the PC
 * is put back on the breakpoint's address. */
static bool fast_trap_is_ours(struct thread *t)
{
	uint8_t *regs = thread_gp_regs(t);
	if (!regs)
		return false;
	uint64_t pc = the_arch.get_pc(regs) - the_arch.decr_pc_after_break;
	if (pc != t->tbp[0].addr)
		return false;
	/* Running (not stepping) into the breakpoint's address: only a
	 * hardware breakpoint could trap there as well. */
	if (t->proc->nhw || !the_arch.decr_pc_after_break) {
		if (ptrace(PTRACE_GETSIGINFO, t->tid, 0, &t->siginfo) < 0)
			return false;
		t->siginfo_valid = true;
		if (t->siginfo.si_code != SI_KERNEL && t->siginfo.si_code != TRAP_BRKPT)
			return false;
	}
	the_arch.set_pc(regs, pc);
	return true;
}

/* T stopped at its temporary breakpoint (PC put back on it in REGS, not
 * yet stored): work the branch out without a step where the arch can,
 * record it and run on to the next one. False when the branch is to be
 * stepped instead. */
static bool fast_emulate(struct thread *t)
{
	struct process *p = t->proc;
	uint64_t at = t->tbp[0].addr;
	if (!t->bt || t->resume != RESUME_CONTINUE || !the_arch.emulate_branch ||
	    find_breakpoint(p, at) || !fast_path_usable(t) || !p->fast)
		return false;
	uint8_t code[16];
	ssize_t n = target_read_memory(p, at, code, sizeof code);
	if (n <= 0 || !the_arch.emulate_branch(code, (size_t)n, t->regs, emulation_memory, p))
		return false;
	uint64_t to = the_arch.get_pc(t->regs);
	t->bt->emulated++;
	if (to != at + t->fast_insn_size) {
		swbtrace_add(t->bt, at, to);
		if (record_branch_hook)
			record_branch_hook(t, at, to);
	}
	enum disasm_isa isa = the_arch.disasm_isa(t->regs);
	struct swfast_stop stop;
	bool run = swfast_next_stop(p->fast, isa, to, read_code, p, &stop) && stop.addr != to;
	/* A loop comes back to the same branch: its breakpoint stays in. */
	if (!run || stop.addr != at) {
		fast_disarm(t, false);
		if (run && !find_breakpoint(p, stop.addr) && !fast_arm(t, stop.addr, isa))
			run = false;
	}
	if (thread_store_gp_regs(t) < 0) {
		fast_disarm(t, false);
		return true;   /* gone; its exit is on its way */
	}
	if (run) {
		t->fast_insn_size = (uint8_t)stop.insn.size;
		t->bt->runs++;
		resume_thread(t, PTRACE_CONT, 0);
	} else {
		resume_thread(t, PTRACE_SINGLESTEP, 0);
	}
	return true;
}

/* A pending breakpoint stop whose breakpoint gdb removed meanwhile is
 * stale: the thread just runs on from the (already backed-up) PC. */
static bool pending_still_valid(struct thread *t)
{
	if (t->pending.reason == REASON_SWBREAK) {
		uint8_t *regs = thread_regs(t);
		if (regs && !find_breakpoint(t->proc, the_arch.get_pc(regs)))
			return false;
	}
	return true;
}

bool target_fork_unreported(const struct process *p)
{
	if (!p->fork_parent_tid)
		return false;
	struct thread *parent = find_thread(p->fork_parent_tid);
	return parent && parent->has_pending && parent->pending.child_pid == p->pid &&
	       (parent->pending.kind == STOP_FORK || parent->pending.kind == STOP_VFORK);
}

/* T is not resumed after all: the signal gdb gave it must not be lost
 * (it would be, were the next resume without one). */
static void defer_resume_signal(struct thread *t)
{
	if (t->resume == RESUME_STOP || !t->resume_sig)
		return;
	if (t->ndeferred < (int)(sizeof t->deferred_sig / sizeof t->deferred_sig[0]))
		t->deferred_sig[t->ndeferred++] = t->resume_sig;
	else
		debug("%d: signal %d dropped, %d already deferred\n", t->tid, t->resume_sig, t->ndeferred);
	t->resume_sig = 0;   /* deferred once, even if asked again */
}

/* The signal T's resume delivers: a deferred one first, and gdb's new one
 * waits behind it. */
static int next_resume_signal(struct thread *t)
{
	if (!t->ndeferred)
		return t->resume_sig;
	int sig = t->deferred_sig[0];
	memmove(&t->deferred_sig[0], &t->deferred_sig[1], (size_t)--t->ndeferred * sizeof t->deferred_sig[0]);
	defer_resume_signal(t);
	return sig;
}

bool target_resume_all(void)
{
	for (struct process *p = processes; p && !target_non_stop; p = p->next)
		for (struct thread *t = p->threads; t; t = t->next) {
			if (t->resume == RESUME_STOP || !t->has_pending)
				continue;
			if (pending_still_valid(t)) {
				/* All-stop: nothing runs, this news is reported. */
				for (struct process *q = processes; q; q = q->next)
					for (struct thread *u = q->threads; u; u = u->next)
						defer_resume_signal(u);
				return true;
			}
			t->has_pending = false;
		}
	for (struct process *p = processes; p; p = p->next)
		for (struct thread *t = p->threads; t; t = t->next) {
			if (t->resume == RESUME_STOP || !t->stopped || target_fork_unreported(p))
				continue;
			/* Non-stop: a thread with news stays stopped to report it. */
			if (t->has_pending && pending_still_valid(t)) {
				defer_resume_signal(t);
				continue;
			}
			t->has_pending = false;
			/* gdb resumes it: our SIGSTOP in flight must not stop it. */
			if (t->stop_expected)
				t->resumed_over_sigstop = true;
			resume_as_asked(t, next_resume_signal(t));
		}
	return false;
}

static bool catching_syscall(long nr)
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

static struct stray *take_stray(pid_t pid)
{
	for (struct stray **pp = &strays; *pp; pp = &(*pp)->next) {
		if ((*pp)->pid == pid) {
			struct stray *s = *pp;
			*pp = s->next;
			return s;
		}
	}
	return NULL;
}

/* Wait for a new clone/fork child's first stop. */
static void wait_new_child(pid_t pid)
{
	struct stray *s = take_stray(pid);
	if (s) {
		free(s);
		return;
	}
	int status = 0;
	debug("new child %d: waiting for its first stop\n", pid);
	while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR)
		;
	debug("new child %d: status %#x\n", pid, status);
}

static void classify_trap(struct thread *t, struct stop_event *ev)
{
	if (ptrace(PTRACE_GETSIGINFO, t->tid, 0, &t->siginfo) == 0)
		t->siginfo_valid = true;
	else
		memset(&t->siginfo, 0, sizeof t->siginfo);
	uint8_t *regs = thread_gp_regs(t);
	uint64_t data_addr = 0;
	size_t which = 0;
	enum trap_cause cause = the_arch.trap_cause(t->tid, &t->siginfo, t->proc->hw,
						   t->proc->nhw, &data_addr, &which);
	switch (cause) {
	case TRAP_CAUSE_HW_BREAK:
		ev->reason = REASON_HWBREAK;
		return;
	case TRAP_CAUSE_WATCH: {
		enum hw_point_type ty = t->proc->hw[which].type;
		ev->reason = ty == HW_WRITE ? REASON_WATCH : ty == HW_READ ? REASON_RWATCH : REASON_AWATCH;
		ev->data_addr = data_addr;
		return;
	}
	case TRAP_CAUSE_SINGLESTEP:
		ev->reason = REASON_STEP;
		return;
	case TRAP_CAUSE_OTHER:
		break;
	}
	if (!regs)
		return;
	int code = t->siginfo.si_code;
	if (code == SI_KERNEL || code == TRAP_BRKPT) {
		uint64_t pc = the_arch.get_pc(regs) - the_arch.decr_pc_after_break;
		if (find_breakpoint(t->proc, pc)) {
			ev->reason = REASON_SWBREAK;
			if (the_arch.decr_pc_after_break) {
				the_arch.set_pc(regs, pc);
				thread_store_gp_regs(t);
			}
			return;
		}
	}
	/* A step over a syscall instruction reports TRAP_BRKPT, not
	 * TRAP_TRACE (x86 user_single_step_report): a stepping thread's
	 * trap that no breakpoint explains is its step. */
	/* A step that delivered a signal stops at the handler's first
	 * instruction through ptrace_notify(SIGTRAP): si_code is SIGTRAP. A
	 * step over a system call on arm64 is the kernel's generic
	 * user_single_step_report: SI_USER from pid 0. */
	if (t->stepping && (code == TRAP_BRKPT || code == TRAP_TRACE || code == SI_KERNEL ||
			    code == SIGTRAP || (code == SI_USER && t->siginfo.si_pid == 0)))
		ev->reason = REASON_STEP;
}

static bool handle_status(struct thread *t, int status, struct stop_event *ev);

/* A recorded thread made one step from T->bt_pc: a taken branch unless
 * it landed on the next instruction. */
static void record_step(struct thread *t)
{
	uint8_t *regs = thread_gp_regs(t);
	if (!regs)
		return;
	uint64_t pc = the_arch.get_pc(regs);
	uint8_t code[16];
	ssize_t n = target_read_memory(t->proc, t->bt_pc, code, sizeof code);
	struct disasm_insn insn;
	int len = -1;
	bool flow = true, it = false, exclusive = false;
	if (n > 0 && the_arch.disasm_isa &&
	    (len = disasm_one((enum disasm_isa)t->bt_isa, code, (size_t)n, t->bt_pc, &insn)) > 0) {
		flow = insn.flow;
		it = insn.it_count > 0;
		exclusive = insn.exclusive;
		if (insn.syscall && t->proc->fast)
			swfast_maps_changed(t->proc->fast);
	} else if (n > 0) {
		len = the_arch.insn_length(code, (size_t)n, regs);
	}
	t->bt->steps++;
	uint64_t from = t->bt_pc;
	if (len >= 0 && pc == from + (uint64_t)len)
		return;
	/* (A Thumb IT block is stepped as one: its instructions run in line;
	 * so is an ARM ldrex..strex sequence, its one branch taken or not.) */
	if (len >= 0 && (!flow || it || exclusive) && !t->bt_sig && the_arch.disasm_isa) {
		/* No branch and no signal, yet not at the next instruction:
		 * an x86 string instruction with rep stops after each
		 * iteration (at itself), and a step trap can go missing (cpuid
		 * in a VM), so that more instructions ran. The branch is then
		 * the first control-flow instruction on the way. */
		if (pc == from)
			return;
		uint64_t at = from + (uint64_t)len;
		for (int i = 0; i < 16; i++) {
			struct disasm_insn next;
			n = target_read_memory(t->proc, at, code, sizeof code);
			if (n <= 0 || disasm_one((enum disasm_isa)t->bt_isa, code, (size_t)n, at, &next) <= 0)
				break;
			if (!next.flow || next.it_count ||
			    (exclusive && next.has_target && next.target != pc)) {
				at += next.size;
				if (at == pc)
					return;
				continue;
			}
			if (pc == at + next.size)
				return;
			from = at;
			break;
		}
	}
	swbtrace_add(t->bt, from, pc);
	if (record_branch_hook)
		record_branch_hook(t, from, pc);
}

int target_btrace_enable(struct thread *t, uint64_t size, char *err, size_t errlen)
{
	if (t->bt) {
		snprintf(err, errlen, "Btrace already enabled.");
		return -1;
	}
	/* 32-bit arm has no hardware single-step: it steps by breakpoints on
	 * where the instruction can go (step_targets, sw_step_begin). */
	if ((!the_arch.can_single_step && !the_arch.step_targets) || !the_arch.insn_length) {
		snprintf(err, errlen, "Software branch recording needs single-step, "
			 "which %s lacks.", the_arch.name);
		return -1;
	}
	/* A running thread (non-stop) is stopped for a moment to learn where
	 * recording starts, then runs on, single-stepped. */
	bool was_running = !t->stopped;
	if (was_running) {
		if (!t->stop_expected) {
			send_tgkill(t->proc->pid, t->tid, SIGSTOP);
			t->stop_expected = true;
		}
		t->resumed_over_sigstop = false;
		while (!t->stopped) {
			int status;
			struct stop_event ev;
			pid_t tid = t->tid;
			if (waitpid(tid, &status, __WALL) < 0) {
				if (errno == EINTR)
					continue;
				snprintf(err, errlen, "Thread %d is gone.", tid);
				return -1;
			}
			if (handle_status(t, status, &ev)) {
				if (ev.kind == STOP_EXITED || ev.kind == STOP_SIGNALLED) {
					snprintf(err, errlen, "Thread %d exited.", tid);
					return -1;
				}
				t->has_pending = true;   /* reported at the next chance */
				t->pending = ev;
				was_running = false;
			}
		}
	}
	uint8_t *regs = thread_regs(t);
	if (!regs) {
		snprintf(err, errlen, "Cannot read the registers of thread %d.", t->tid);
		return -1;
	}
	t->bt = swbtrace_new(size, the_arch.get_pc(regs));
	/* The code may have changed while nobody looked. */
	if (t->proc->fast)
		swfast_flush(t->proc->fast);
	if (t->bt && was_running)
		resume_as_asked(t, 0);
	if (!t->bt) {
		snprintf(err, errlen, "Cannot allocate %llu bytes of trace buffer.",
			 (unsigned long long)size);
		return -1;
	}
	return 0;
}

void target_btrace_disable(struct thread *t)
{
	fast_disarm(t, !t->stopped);
	/* stopped at a caught call's entry in a recorded step: the step ends
	 * here, the call's return comes as for any thread */
	if (t->stopped && t->sw_stepping && t->sw_step_syscall && t->in_syscall)
		sw_step_disarm(t);
	swbtrace_free(t->bt);
	t->bt = NULL;
}

/* Turn a waitpid status of T into an event. Returns true when it is to be
 * reported to gdb; false when handled here (thread resumed or gone). */
static bool handle_status_of(struct thread *t, int status, struct stop_event *ev);

static bool handle_status(struct thread *t, int status, struct stop_event *ev)
{
	debug("%d: status %#x%s%s\n", t->tid, status, t->stop_expected ? " (SIGSTOP expected)" : "",
	      t->stop_requested ? " (stop requested)" : "");
	if (!handle_status_of(t, status, ev))
		return false;
	/* Any stop answers gdb's request to stop the thread: our SIGSTOP,
	 * when it comes, is not news any more. */
	struct thread *reporter = find_thread(ev->tid);
	if (reporter)
		reporter->stop_requested = false;
	return true;
}

static bool handle_status_of(struct thread *t, int status, struct stop_event *ev)
{
	struct process *p = t->proc;
	memset(ev, 0, sizeof *ev);
	ev->pid = p->pid;
	ev->tid = t->tid;

	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		if (t->tid != p->pid) {
			/* A fatal signal takes the whole group; the leader's
			 * status, the process's, is still to come. */
			if (WIFSIGNALED(status))
				p->dying = true;
			remove_thread(t);
			return false;
		}
		ev->kind = WIFEXITED(status) ? STOP_EXITED : STOP_SIGNALLED;
		ev->sig = WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status);
		p->gone = true;
		return true;
	}
	if (!WIFSTOPPED(status))
		return false;
	t->stopped = true;
	t->regs_valid = false;
	t->gp_valid = false;
	int sig = WSTOPSIG(status);
	int event = status >> 16;

	if (t->fast_state != FAST_NONE) {
		bool hit = sig == SIGTRAP && event == 0 && fast_trap_is_ours(t);
		if (hit && fast_emulate(t))
			return false;
		fast_disarm(t, false);
		if (hit) {
			if (the_arch.decr_pc_after_break)
				thread_store_gp_regs(t);
			uint64_t at = t->tbp[0].addr;
			if (find_breakpoint(p, at)) {
				/* gdb's breakpoint is here too: that is the news. */
				ev->kind = STOP_SIGNAL;
				ev->sig = SIGTRAP;
				ev->reason = REASON_SWBREAK;
				return true;
			}
			/* Step the branch itself and record where it went. */
			if (t->bt && t->resume == RESUME_CONTINUE)
				resume_thread(t, PTRACE_SINGLESTEP, 0);
			else
				resume_as_asked(t, 0);
			return false;
		}
	}
	/* Temporary breakpoints are seen by every thread: one that stopped at
	 * another's runs the same instruction again (stepping anew). */
	if ((!the_arch.can_single_step || p->sw_step_used) && sig == SIGTRAP && event == 0 &&
	    p->threads->next && sw_step_foreign_trap(t)) {
		if (t->sw_stepping)
			sw_step_disarm(t);
		park_or_resume(t);
		return false;
	}
	/* Software step (no PTRACE_SINGLESTEP): did it get where it goes? */
	bool sw_step_done = false;
	long syscall_returned = -1;     /* a caught call's return ended the step */
	if (t->sw_stepping) {
		if (t->sw_step_syscall && sig == (SIGTRAP | 0x80)) {
			struct __ptrace_syscall_info info;
			long got = ptrace(PTRACE_GET_SYSCALL_INFO, t->tid, (void *)sizeof info, &info);
			long nr = -1;
			bool caught = false;
			if (t->bt && t->resume == RESUME_CONTINUE && target_settings.catch_syscalls) {
				uint8_t *regs = thread_regs(t);
				nr = regs ? the_arch.syscall_number(regs) : -1;
				caught = catching_syscall(nr);
			}
			if (got > 0 && info.op == PTRACE_SYSCALL_INFO_ENTRY) {
				t->in_syscall = true;
				t->step_interrupted = true;
				if (caught) {
					/* the step goes on to its return when resumed */
					ev->kind = STOP_SYSCALL_ENTRY;
					ev->syscall = nr;
					return true;
				}
				resume_thread(t, PTRACE_SYSCALL, 0);
				return false;
			}
			/* Its end: the step is done (after a sigreturn, far away). */
			t->in_syscall = false;
			sw_step_disarm(t);
			sw_step_done = true;
			syscall_returned = caught ? nr : -1;
			sig = SIGTRAP;
		} else if (sig == SIGTRAP && event == 0) {
			uint8_t *regs = thread_gp_regs(t);
			uint64_t pc = regs ? the_arch.get_pc(regs) : 0;
			for (int k = 1; k < 3; k++)
				if (t->tbp[k].armed && t->tbp[k].addr == pc)
					sw_step_done = true;
			sw_step_disarm(t);
		} else if (!(event && event != PTRACE_EVENT_EXEC && t->sw_step_syscall)) {
			/* A signal first: the instruction did not run. (An event in
			 * the middle of the system call leaves the step going.) */
			sw_step_disarm(t);
		}
	}
	/* An event in the middle of a recorded step: the step goes on. */
	if (t->bt && t->stepping && (event || sig == (SIGTRAP | 0x80) ||
				     (sig == SIGSTOP && t->stop_expected)))
		t->step_interrupted = true;

	if (event == PTRACE_EVENT_CLONE) {
		unsigned long msg = 0;
		ptrace(PTRACE_GETEVENTMSG, t->tid, 0, &msg);
		pid_t ntid = (pid_t)msg;
		wait_new_child(ntid);
		struct thread *nt = add_thread(p, ntid);
		nt->new_thread = true;
		nt->resume = t->resume == RESUME_STOP ? RESUME_STOP : RESUME_CONTINUE;
		if (target_settings.thread_events) {
			/* The news is the new thread's; its creator goes on as gdb
			 * asked (gdb does not know it stopped), as in gdbserver. */
			if (t->stop_requested) {
				t->stop_requested = false;
				t->has_pending = true;
				t->pending = (struct stop_event){.kind = STOP_SIGNAL, .pid = p->pid, .tid = t->tid};
			} else if (t->resume != RESUME_STOP) {
				resume_as_asked(t, 0);
			}
			ev->kind = STOP_THREAD_CREATED;
			ev->tid = ntid;
			return true;
		}
		resume_as_asked(t, 0);
		if (nt->resume != RESUME_STOP)
			resume_as_asked(nt, 0);
		return false;
	}
	if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK) {
		unsigned long msg = 0;
		ptrace(PTRACE_GETEVENTMSG, t->tid, 0, &msg);
		pid_t child = (pid_t)msg;
		wait_new_child(child);
		bool vfork = event == PTRACE_EVENT_VFORK;
		bool report = vfork ? target_settings.report_vfork : target_settings.report_fork;
		struct process *cp = add_process(child, false);
		cp->attached = p->attached;
		add_thread(cp, child);
		/* Nor the recorder's temporary one (none is in while a system
		 * call is stepped, but the copy must never keep one). */
		for (struct thread *o = p->threads; o; o = o->next)
			for (int k = 0; k < 3; k++)
				if (o->tbp[k].armed)
					raw_write(cp, o->tbp[k].addr, o->tbp[k].saved, o->tbp[k].len);
		/* The child's memory holds our breakpoint instructions. */
		for (struct breakpoint *b = p->breakpoints; b; b = b->next) {
			struct breakpoint *nb = malloc(sizeof *nb);
			if (!nb)
				abort();
			*nb = *b;
			nb->next = cp->breakpoints;
			cp->breakpoints = nb;
		}
		if (!report) {
			uninsert_breakpoints(cp);
			ptrace(PTRACE_DETACH, child, 0, 0);
			target_mourn(cp);
			resume_as_asked(t, 0);
			return false;
		}
		ev->kind = vfork ? STOP_VFORK : STOP_FORK;
		ev->child_pid = child;
		cp->fork_parent_tid = t->tid;
		if (vfork)
			p->vfork_parent = true;
		return true;
	}
	if (event == PTRACE_EVENT_VFORK_DONE) {
		p->vfork_parent = false;
		if (target_settings.report_vfork) {
			ev->kind = STOP_VFORK_DONE;
			return true;
		}
		resume_as_asked(t, 0);
		return false;
	}
	if (event == PTRACE_EVENT_EXEC) {
		/* The old image is gone: its breakpoints and other threads too,
		 * the recorder's decoded blocks, and its temporary breakpoint
		 * (never to be put back into the new image). */
		free_breakpoints(p);
		if (p->fast)
			swfast_flush(p->fast);
		t->fast_state = FAST_NONE;
		for (int k = 0; k < 3; k++)
			t->tbp[k].armed = false;
		t->sw_stepping = t->sw_step_syscall = false;
		t->step_interrupted = false;
		if (p->mem_fd >= 0) {
			close(p->mem_fd);
			p->mem_fd = -1;
		}
		unsigned long former = 0;
		ptrace(PTRACE_GETEVENTMSG, t->tid, 0, &former);
		/* Reported under the leader's id, the exec'ing thread carries
		 * on as gdb last resumed it (e.g. alone, scheduler-locking). */
		struct thread *execer = find_thread((pid_t)former);
		if (execer && execer != t && execer->proc == p) {
			t->resume = execer->resume;
			t->resume_sig = execer->resume_sig;
			struct swbtrace *bt = t->bt;
			t->bt = execer->bt;
			execer->bt = bt;
		}
		for (struct thread *o = p->threads, *next; o; o = next) {
			next = o->next;
			if (o != t)
				remove_thread(o);
		}
		if (t->tid != p->pid)
			t->tid = p->pid;   /* a non-leader exec takes over the leader's id */
		ev->tid = t->tid;
		t->in_syscall = false;
		settle_after_exec(p->pid, t->tid);
		t->regs_valid = false;
		if (target_settings.report_exec) {
			ev->kind = STOP_EXEC;
			return true;
		}
		ev->kind = STOP_SIGNAL;
		ev->sig = SIGTRAP;
		return true;
	}
	if (sig == (SIGTRAP | 0x80)) {
		/* Ask the kernel whether this is the entry or the exit: a toggle
		 * goes wrong after a step or a plain continue in mid-syscall. */
		struct __ptrace_syscall_info info;
		long got = ptrace(PTRACE_GET_SYSCALL_INFO, t->tid, (void *)sizeof info, &info);
		if (got > 0 && info.op == PTRACE_SYSCALL_INFO_ENTRY)
			t->in_syscall = true;
		else if (got > 0 && info.op == PTRACE_SYSCALL_INFO_EXIT)
			t->in_syscall = false;
		else
			t->in_syscall = !t->in_syscall;
		uint8_t *regs = thread_regs(t);
		long nr = regs ? the_arch.syscall_number(regs) : -1;
		if (catching_syscall(nr)) {
			ev->kind = t->in_syscall ? STOP_SYSCALL_ENTRY : STOP_SYSCALL_RETURN;
			ev->syscall = nr;
			return true;
		}
		resume_as_asked(t, 0);
		return false;
	}
	if (sig == SIGSTOP && t->stop_expected) {
		t->stop_expected = false;
		if (t->stop_requested) {
			t->stop_requested = false;
			ev->kind = STOP_SIGNAL;
			ev->sig = 0;
			return true;
		}
		/* Sent to stop it for an earlier event, but gdb has resumed it
		 * since: it goes on as gdb asked. */
		if (t->resumed_over_sigstop) {
			t->resumed_over_sigstop = false;
			if (t->bt)
				resume_as_asked(t, 0);
			else
				resume_thread(t, t->last_request, 0);
		}
		return false;   /* ours; the thread stays stopped */
	}
	ev->kind = STOP_SIGNAL;
	ev->sig = sig;
	if (sig == SIGTRAP) {
		if (sw_step_done)
			ev->reason = REASON_STEP;
		else
			classify_trap(t, ev);
		if (t->bt && ev->reason == REASON_STEP) {
			record_step(t);
			if (syscall_returned >= 0) {
				ev->kind = STOP_SYSCALL_RETURN;
				ev->syscall = syscall_returned;
				ev->reason = REASON_NONE;
				return true;
			}
			if (t->resume == RESUME_CONTINUE) {
				resume_recorded(t, 0);
				return false;
			}
			/* gdb asked to stop a thread we were stepping only to record
			 * it: this step is the stop it wants (T00, not a SIGTRAP);
			 * the SIGSTOP still in flight is swallowed later. */
			if (t->resume == RESUME_STOP && t->stop_requested) {
				t->stop_requested = false;
				ev->sig = 0;
				ev->reason = REASON_NONE;
				return true;
			}
		}
		if (ev->reason == REASON_STEP && t->resume == RESUME_RANGE) {
			uint8_t *regs = thread_regs(t);
			uint64_t pc = regs ? the_arch.get_pc(regs) : 0;
			if (pc >= t->range_start && pc < t->range_end) {
				resume_thread(t, PTRACE_SINGLESTEP, 0);
				return false;
			}
		}
		return true;
	}
	if (ptrace(PTRACE_GETSIGINFO, t->tid, 0, &t->siginfo) == 0)
		t->siginfo_valid = true;
	/* Signals gdb said to pass go straight back, unless gdb is stepping
	 * this thread and wants to see where it lands. */
	/* Nor SIGSEGV and SIGILL, which may be gdb's own doing (a dummy-frame
	 * breakpoint on a non-executable stack), as gdbserver does. */
	if (sig > 0 && sig < 256 && target_settings.pass_signals[sig] &&
	    t->resume == RESUME_CONTINUE && sig != SIGSEGV && sig != SIGILL) {
		resume_as_asked(t, sig);
		return false;
	}
	return true;
}

enum poll_result { POLL_NONE, POLL_HANDLED, POLL_REPORT };

/* Collect one waitpid status. POLL_REPORT when a thread has something
 * for gdb (in EV), POLL_HANDLED when the status was dealt with here,
 * POLL_NONE when no child had a status to give. */
static enum poll_result poll_one(pid_t pid, int flags, struct stop_event *ev)
{
	int status;
	pid_t got = waitpid(pid, &status, flags | __WALL);
	if (got <= 0)
		return POLL_NONE;
	struct thread *t = find_thread(got);
	struct process *leaderless = t ? NULL : find_process(got);
	if (leaderless && (WIFEXITED(status) || WIFSIGNALED(status)))
		t = add_thread(leaderless, got);   /* the zombie leader's end: the process's */
	if (leaderless && WIFSTOPPED(status) && status >> 16 == PTRACE_EVENT_EXEC) {
		/* A thread exec'd while the leader was gone: the kernel
		 * reports it under the leader's id. */
		unsigned long former = 0;
		ptrace(PTRACE_GETEVENTMSG, got, 0, &former);
		t = find_thread((pid_t)former);
	}
	if (!t) {
		struct stray *s = malloc(sizeof *s);
		if (!s)
			abort();
		s->pid = got;
		s->status = status;
		s->next = strays;
		strays = s;
		return POLL_HANDLED;
	}
	if (!handle_status(t, status, ev))
		return POLL_HANDLED;
	if (ev->kind == STOP_EXITED || ev->kind == STOP_SIGNALLED)
		return POLL_REPORT;
	t = find_thread(ev->tid);
	if (t) {
		t->has_pending = true;
		t->pending = *ev;
	}
	return POLL_REPORT;
}

static bool pid_is_zombie(pid_t pid)
{
	char path[64], line[128];
	snprintf(path, sizeof path, "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	bool zombie = false;
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, "State:", 6)) {
			zombie = strchr(line, 'Z') != NULL;
			break;
		}
	if (f)
		fclose(f);
	return zombie;
}

/* A running leader that exited (pthread_exit) while its threads live on
 * cannot be waited for: it leaves the list, as in gdbserver, and comes
 * back for the process's exit status (poll_one). */
static bool drop_zombie_leader(struct thread *t)
{
	if (t->tid != t->proc->pid || !t->proc->threads->next || !pid_is_zombie(t->tid))
		return false;
	debug("thread group leader %d is a zombie: dropped\n", t->tid);
	remove_thread(t);
	return true;
}

static void drop_zombie_leaders(void)
{
	for (struct process *p = processes; p; p = p->next) {
		struct thread *leader = find_thread(p->pid);
		if (leader && !leader->stopped && leader->proc == p)
			drop_zombie_leader(leader);
	}
}

/* Stop every thread of ONLY (all processes when NULL). */
static void stop_threads(struct process *only)
{
	for (struct process *p = processes; p; p = p->next)
		for (struct thread *t = p->threads; t && (!only || p == only); t = t->next) {
			t->parked = false;   /* stopped already */
			if (t->stopped)
				continue;
			if (!t->stop_expected) {
				send_tgkill(p->pid, t->tid, SIGSTOP);
				t->stop_expected = true;
			}
			/* A SIGSTOP still in flight now serves this stop. */
			t->resumed_over_sigstop = false;
		}
	/* Wait until every thread is stopped; other events become pending. */
	for (;;) {
		struct thread *running = NULL;
		for (struct process *p = processes; p && !running; p = p->next)
			for (struct thread *t = p->threads; t && (!only || p == only); t = t->next)
				if (!t->stopped) {
					running = t;
					break;
				}
		if (!running)
			break;
		if (drop_zombie_leader(running))   /* it would block waitpid */
			continue;
		struct stop_event ev;
		int status;
		pid_t tid = running->tid;
		pid_t got = waitpid(tid, &status, __WALL);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			/* Gone without a trace (e.g. reaped elsewhere). */
			remove_thread(running);
			continue;
		}
		if (!handle_status(running, status, &ev))
			continue;
		if (ev.kind == STOP_EXITED || ev.kind == STOP_SIGNALLED) {
			struct thread *t = find_thread(ev.tid);
			if (t) {
				t->stopped = true;
				t->has_pending = true;
				t->pending = ev;
			}
			continue;
		}
		struct thread *t = find_thread(ev.tid);
		if (t) {
			t->has_pending = true;
			t->pending = ev;
		}
	}
}

void target_stop_all(void)
{
	stop_threads(NULL);
}

/* Pick which pending event to report: the thread's own first. */
static bool take_pending(struct stop_event *ev)
{
	for (struct process *p = processes; p; p = p->next)
		for (struct thread *t = p->threads; t; t = t->next)
			if (t->has_pending && t->stopped) {
				/* All-stop: a thread gdb left stopped keeps its news
				 * until gdb resumes it (not the answer to another
				 * thread's step); exits are news for everyone. */
				if (!target_non_stop && t->resume == RESUME_STOP &&
				    t->pending.kind != STOP_EXITED && t->pending.kind != STOP_SIGNALLED)
					continue;
				if (!pending_still_valid(t)) {
					t->has_pending = false;
					continue;
				}
				*ev = t->pending;
				t->has_pending = false;
				return true;
			}
	return false;
}

static bool any_running(void)
{
	for (struct process *p = processes; p; p = p->next)
		if (p->dying)
			return true;
	for (struct process *p = processes; p; p = p->next)
		for (struct thread *t = p->threads; t; t = t->next)
			if (!t->stopped || t->parked)
				return true;
	return false;
}

int target_event_fd(void)
{
	return sigchld_fd;
}

bool target_next_event(struct stop_event *ev)
{
	struct signalfd_siginfo si;
	while (read(sigchld_fd, &si, sizeof si) > 0)
		;
	unpark_threads();
	if (take_pending(ev))
		return true;
	enum poll_result pr;
	/* A recorded (single-stepped) thread always has another status: take
	 * a bounded number so the client is heard in between. */
	int budget = 256;
	while (budget-- > 0 && (pr = poll_one(-1, WNOHANG, ev)) != POLL_NONE) {
		if (pr != POLL_REPORT)
			continue;
		if (ev->kind == STOP_EXITED || ev->kind == STOP_SIGNALLED) {
			struct process *p = find_process(ev->pid);
			if (p)
				target_mourn(p);
			return true;
		}
		struct thread *t = find_thread(ev->tid);
		if (t)
			t->has_pending = false;
		return true;
	}
	unpark_threads();
	return false;
}

void target_stop_thread(struct thread *t)
{
	/* Already stopped: its stop is queued for gdb or on its way, and
	 * that one answers gdb's request (a second would be spurious). */
	debug("stop %d%s\n", t->tid, t->stopped ? ": already stopped" : "");
	if (t->parked) {
		/* Stopped, but gdb believes it runs: its stop is news. */
		t->parked = false;
		t->has_pending = true;
		t->pending = (struct stop_event){.kind = STOP_SIGNAL, .pid = t->proc->pid, .tid = t->tid};
		return;
	}
	if (t->stopped)
		return;
	t->stop_requested = true;
	t->resumed_over_sigstop = false;
	if (!t->stop_expected) {
		send_tgkill(t->proc->pid, t->tid, SIGSTOP);
		t->stop_expected = true;
	}
}

enum wait_result target_wait(int client_fd, struct stop_event *ev)
{
	for (;;) {
		struct stop_event got;
		/* Events already collected, e.g. while stopping threads. */
		if (take_pending(ev))
			goto report;
		/* Drain every status: SIGCHLDs coalesce, so one wake-up may
		 * stand for many children. */
		enum poll_result pr;
		int budget = 256;   /* see target_next_event */
		while ((pr = poll_one(-1, WNOHANG, &got)) != POLL_NONE) {
			if (--budget == 0)
				break;
			if (pr != POLL_REPORT)
				continue;
			if (got.kind == STOP_EXITED || got.kind == STOP_SIGNALLED) {
				*ev = got;
				goto report;
			}
			if (take_pending(ev))
				goto report;
		}
		unpark_threads();
		drop_zombie_leaders();
		if (!any_running() && !strays) {
			memset(ev, 0, sizeof *ev);
			ev->kind = STOP_NO_RESUMED;
			return WAIT_EVENT;
		}
		struct pollfd fds[2] = {{sigchld_fd, POLLIN, 0}, {client_fd, POLLIN, 0}};
		int n = poll(fds, client_fd >= 0 ? 2 : 1, budget == 0 ? 0 : -1);
		if (n < 0 && errno != EINTR)
			return WAIT_ERROR;
		if (fds[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(sigchld_fd, &si, sizeof si) > 0)
				;
		}
		if (client_fd >= 0 && fds[1].revents)
			return WAIT_CLIENT;
		/* Strays whose owner never claimed them: processes we don't know
		 * (e.g. a grandchild): nothing to do but drop them. */
		while (strays && !any_running()) {
			struct stray *s = strays;
			strays = s->next;
			free(s);
		}
	}
report:
	if (ev->kind == STOP_EXITED || ev->kind == STOP_SIGNALLED) {
		struct process *p = find_process(ev->pid);
		target_stop_all();
		if (p)
			target_mourn(p);
		return WAIT_EVENT;
	}
	target_stop_all();
	return WAIT_EVENT;
}

void target_interrupt(void)
{
	/* gdb wants to see SIGINT, as from a terminal ^C. */
	struct process *p = processes;
	if (p)
		kill(p->pid, SIGINT);
}

/* --- ending ------------------------------------------------------------ */

/* Fork children of P that gdb never heard of go with P. */
static void drop_unreported_children(struct process *p, bool kill_them)
{
	for (struct process *cp = processes, *next; cp; cp = next) {
		next = cp->next;
		struct thread *parent = cp->fork_parent_tid ? find_thread(cp->fork_parent_tid) : NULL;
		if (cp == p || !parent || parent->proc != p || !target_fork_unreported(cp))
			continue;
		if (kill_them) {
			target_kill(cp);
		} else {
			uninsert_breakpoints(cp);
			for (struct thread *t = cp->threads; t; t = t->next)
				ptrace(PTRACE_DETACH, t->tid, 0, 0);
			target_mourn(cp);
		}
		next = processes;   /* the list changed */
	}
}

int target_detach(struct process *p)
{
	/* Only P: in non-stop the others run on, as gdb believes. */
	stop_threads(p);
	drop_unreported_children(p, false);
	uninsert_breakpoints(p);
	p->nhw = 0;
	int rc = 0;
	for (struct thread *t = p->threads; t; t = t->next) {
		the_arch.hw_points_apply(t->tid, NULL, 0, false);
		int sig = 0;
		/* A signal that stopped the thread and gdb did not see yet. */
		if (t->has_pending && t->pending.kind == STOP_SIGNAL &&
		    t->pending.sig != SIGTRAP && t->pending.sig != SIGSTOP)
			sig = t->pending.sig;
		else if (t->ndeferred)
			sig = t->deferred_sig[0];   /* one gdb gave it */
		if (ptrace(PTRACE_DETACH, t->tid, 0, sig) < 0 && errno != ESRCH)
			rc = -1;
		/* ESRCH: it died meanwhile (the process exits as gdb detaches):
		 * nothing is left to detach; its status is reaped below. */
	}
	for (struct thread *t = p->threads; t; t = t->next) {
		int status;
		if (t->tid != p->pid)
			waitpid(t->tid, &status, WNOHANG | __WALL);
	}
	/* Threads that were stopped by our SIGSTOP are left stopped by it
	 * otherwise: make sure the process runs. */
	kill(p->pid, SIGCONT);
	target_mourn(p);
	return rc;
}

void target_kill(struct process *p)
{
	drop_unreported_children(p, true);
	kill(p->pid, SIGKILL);
	/* Reap every thread so nothing is left as a zombie of ours. The
	 * leader last: its exit is reported only once the tracer has reaped
	 * the other threads, so waiting for it first would never return. */
	for (int leader = 0; leader < 2; leader++)
		for (struct thread *t = p->threads; t; t = t->next) {
			if ((t->tid == p->pid) != leader)
				continue;
			int status;
			while (waitpid(t->tid, &status, __WALL) > 0 &&
			       !WIFEXITED(status) && !WIFSIGNALED(status))
				;
		}
	if (!find_thread(p->pid)) {   /* a zombie leader dropped from the list */
		int status;
		while (waitpid(p->pid, &status, __WALL) > 0 && !WIFEXITED(status) && !WIFSIGNALED(status))
			;
	}
	target_mourn(p);
}

void target_cleanup_all(void)
{
	while (processes) {
		struct process *p = processes;
		if (p->attached)
			target_detach(p);
		else
			target_kill(p);
	}
}
