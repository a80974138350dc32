/* gdb delivers a signal (`signal SIGUSR1`) to a thread that blocks it:
 * the kernel queues it again and it arrives once unblocked (as inside
 * glibc's pthread_create, gdb.threads/signal-command-handle-nopass.exp).
 * Lines marked "@name" are found by the tests by name. */
#include <signal.h>
#include <stdio.h>

static volatile int handled;

static void on_usr1(int sig)
{
	(void)sig;
	handled++;
}

__attribute__((noinline)) void blocked_here(void)
{
	__asm__ volatile("" ::: "memory"); /* @blocksig-blocked */
}

int main(void)
{
	sigset_t set;
	signal(SIGUSR1, on_usr1);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	blocked_here();
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	printf("blocksig handled %d\n", handled);
	fflush(stdout);
	return 0;
}
