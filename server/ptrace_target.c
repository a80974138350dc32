/* The live target: processes started or attached over ptrace (the top of
 * gdbserver's linux-low). Starting, attaching, detaching, killing here;
 * the rest in the layers below (ptrace_lwp.h). */
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
#include "server/ptrace_lwp.h"
#include "server/ptrace_tracestep.h"
#include "server/ptrace_stepover.h"
#include "server/ptrace_status.h"
#include "server/ptrace_wait.h"
#include "server/recorder.h"

static const struct target_ops ptrace_target;
static void ptrace_kill(struct process *p);


int target_init(void)
{
	target_select(&ptrace_target);
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

static int terminal_fd = -1;
static pid_t old_foreground_pgrp;

static void restore_terminal(void)
{
	tcsetpgrp(terminal_fd, old_foreground_pgrp);
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

static struct process *ptrace_create(char *const argv[], char *err, size_t errlen)
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
			/* Only the execs until the program runs: what the start-up
			 * shell or wrapper forks on its way (a command substitution)
			 * is theirs, not ours to trace and leave stopped. */
			ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL);
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
	set_options(pid, true);
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

static struct process *ptrace_attach(pid_t pid, char *err, size_t errlen)
{
	if (find_process(pid)) {
		snprintf(err, errlen, "Already attached to process %d", pid);
		return NULL;
	}
	struct process *p = add_process(pid, true);
	if (attach_lwp(p, pid) < 0) {
		snprintf(err, errlen, "Cannot attach to process %d: %s (%d)", pid,
			 strerror(errno), errno);
		ptrace_mourn(p);
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

static void ptrace_interrupt(void)
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
		if (cp == p || !parent || parent->proc != p || !ptrace_fork_unreported(cp))
			continue;
		if (kill_them) {
			ptrace_kill(cp);
		} else {
			breakpoints_uninsert(cp);
			for (struct thread *t = cp->threads; t; t = t->next)
				ptrace(PTRACE_DETACH, t->tid, 0, 0);
			ptrace_mourn(cp);
		}
		next = processes;   /* the list changed */
	}
}

static int ptrace_detach(struct process *p)
{
	/* Only P: in non-stop the others run on, as gdb believes. */
	stop_threads(p);
	drop_unreported_children(p, false);
	breakpoints_uninsert(p);
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
	ptrace_mourn(p);
	return rc;
}

static void ptrace_kill(struct process *p)
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
	ptrace_mourn(p);
}

static void ptrace_cleanup_all(void)
{
	while (processes) {
		struct process *p = processes;
		if (p->attached)
			ptrace_detach(p);
		else
			ptrace_kill(p);
	}
}

static const struct arch_regfile *ptrace_regfile(void)
{
	/* Unit tests drive the target without main(): probe on first use. */
	if (arch_init() < 0)
		abort();
	return &the_regfile;
}

static const int *ptrace_expedite(void)
{
	return the_arch.expedite;
}

static const char *ptrace_vcont_actions(void)
{
	return the_arch.can_single_step ? "vCont;c;C;s;S;t;r" : "vCont;c;C;t";
}

static bool ptrace_thread_alive(struct thread *t)
{
	return kill(t->tid, 0) == 0;
}

static const char *ptrace_exec_file(pid_t pid, struct buf *path)
{
	char link[64], target[4096];
	snprintf(link, sizeof link, "/proc/%d/exe", pid);
	ssize_t n = readlink(link, target, sizeof target);
	if (n < 0)
		return "No such process.";
	buf_append(path, target, (size_t)n);
	return NULL;
}

static int ptrace_siginfo_read(struct thread *t, siginfo_t *si)
{
	return (int)ptrace(PTRACE_GETSIGINFO, t->tid, 0, si);
}

static int ptrace_siginfo_write(struct thread *t, const siginfo_t *si)
{
	return (int)ptrace(PTRACE_SETSIGINFO, t->tid, 0, si);
}

static const char *ptrace_thread_name(struct thread *t, char *name, size_t size)
{
	char path[96];
	snprintf(path, sizeof path, "/proc/%d/task/%d/comm", t->proc->pid, t->tid);
	name[0] = '\0';
	FILE *f = fopen(path, "r");
	if (!f)
		return name;
	if (fgets(name, (int)size, f))
		name[strcspn(name, "\n")] = '\0';
	fclose(f);
	return name;
}

static int ptrace_thread_core(struct thread *t)
{
	char path[96], line[1024];
	snprintf(path, sizeof path, "/proc/%d/task/%d/stat", t->proc->pid, t->tid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	int core = -1;
	if (fgets(line, sizeof line, f)) {
		/* Field 39 is the CPU; skip past the command's closing ')'. */
		char *p = strrchr(line, ')');
		int field = 2;
		while (p && *p && field < 39) {
			p = strchr(p + 1, ' ');
			if (p)
				field++;
		}
		if (p)
			core = atoi(p + 1);
	}
	fclose(f);
	return core;
}

static const struct target_ops ptrace_target = {
	.name = "native",
	.regfile = ptrace_regfile,
	.expedite = ptrace_expedite,
	.vcont_actions = ptrace_vcont_actions,
	.fetch_registers = lwp_regs,
	.store_registers = lwp_store_regs,
	.write_registers = lwp_write_regs,
	.read_memory = lwp_read_memory,
	.write_memory = lwp_write_memory,
	.insert_point = stepover_insert_point,
	.remove_point = stepover_remove_point,
	.insert_trace_bp = lwp_insert_trace_bp,
	.remove_trace_bp = lwp_remove_trace_bp,
	.resume_all = ptrace_resume_all,
	.wait = ptrace_wait,
	.event_fd = ptrace_event_fd,
	.next_event = ptrace_next_event,
	.stop_thread = ptrace_stop_thread,
	.interrupt = ptrace_interrupt,
	.stop_all = ptrace_stop_all,
	.thread_alive = ptrace_thread_alive,
	.fork_unreported = ptrace_fork_unreported,
	.create = ptrace_create,
	.attach = ptrace_attach,
	.detach = ptrace_detach,
	.kill = ptrace_kill,
	.cleanup_all = ptrace_cleanup_all,
	.exec_file = ptrace_exec_file,
	.thread_name = ptrace_thread_name,
	.thread_core = ptrace_thread_core,
	.siginfo_read = ptrace_siginfo_read,
	.siginfo_write = ptrace_siginfo_write,
};
