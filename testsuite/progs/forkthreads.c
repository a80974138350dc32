/* Threads that fork (or vfork) and reap children in a loop while the main
 * thread runs a slow loop gdb steps through; then the main thread leaves
 * with pthread_exit and one thread carries on (a zombie leader).
 * Or a thread other than the leader execs the program again.
 *   forkthreads [vfork] [leader-exit] [exec-thread] [done] */
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int g_use_vfork;
static volatile int g_iterations;
static volatile int g_survivor_mark;

static void *forker(void *arg)
{
	(void)arg;
	for (;;) {
		/* fork() without the C library's: glibc's fork holds its locks
		 * (stdio list, malloc, atfork) across the system call, and gdb
		 * steps a thread over a breakpoint with the others stopped
		 * (all-stop). On 32-bit Thumb every system call goes through the
		 * one svc in __libc_do_syscall, so gdb's breakpoint for the
		 * stepping thread's restarted nanosleep is met by the forkers,
		 * and a forker stepped over it into a futex wait on a lock that a
		 * stopped forker holds never comes back (till alarm() below).
		 * The fork event is the same. (vfork takes no lock.) */
		pid_t pid = g_use_vfork ? vfork() : (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
		if (pid == 0)
			_exit(7);
		if (pid < 0)
			abort();
		int status;
		while (waitpid(pid, &status, 0) < 0)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 7)
			abort();
		usleep(20 * 1000);
	}
	return NULL;
}

static void nap(void)
{
	usleep(25 * 1000);
}

static void survivor_here(void)
{
	g_survivor_mark++;
}

static void *survivor(void *arg)
{
	pthread_t leader = *(pthread_t *)arg;
	pthread_join(leader, NULL);   /* the leader is a zombie from here on */
	survivor_here();              /* @survivor-here */
	exit(0);
}

static char *g_self;

static void exec_done(void)
{
	g_survivor_mark = -1;
}

static void *execer(void *arg)
{
	(void)arg;
	execl(g_self, g_self, "done", (char *)NULL);   /* @exec-here */
	abort();
}

int main(int argc, char **argv)
{
	g_self = argv[0];
	alarm(120);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "done")) {
			exec_done();
			return 0;
		}
		if (!strcmp(argv[i], "exec-thread")) {
			pthread_t t;
			pthread_create(&t, NULL, execer, NULL);
			pthread_join(t, NULL);
		}
		if (!strcmp(argv[i], "vfork"))
			g_use_vfork = 1;
		if (!strcmp(argv[i], "leader-exit")) {
			static pthread_t self, t;
			self = pthread_self();
			pthread_create(&t, NULL, survivor, &self);
			pthread_exit(NULL);
		}
	}
	pthread_t t[3];
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, forker, NULL);
	/* The children's SIGCHLDs go to the forkers, not to the thread gdb
	 * steps: gdb gives up a step over a breakpoint when a signal comes
	 * first, delivers it and tries again. Each try costs gdb longer than
	 * a forker's pause under emulation (TCG), so the forkers' children,
	 * detached by gdb between two tries, always left a SIGCHLD for the
	 * next one and the first `next` never ended (till alarm() above). */
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &chld, NULL);
	for (int i = 0; i < INT_MAX; i++) {   /* @fork-loop */
		nap();        /* @fork-loop-first */
		nap();        /* @fork-loop-second */
		g_iterations = i + 1;
	}
	return 0;
}
