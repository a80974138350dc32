/* SIGUSR1 with a handler (handle/pass/nostop), then SIGSEGV at a known
 * address for $_siginfo. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

volatile int g_usr1_count = 0;

static void on_usr1(int sig)
{
	(void)sig;
	g_usr1_count++; /* @usr1-handler */
}

void after_signals(void)
{
	/* @after-signals */
}

int main(int argc, char **argv)
{
	(void)argv;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);          /* @raise-1 */
	raise(SIGUSR1);          /* @raise-2 */
	after_signals();
	printf("usr1 count %d\n", g_usr1_count);
	fflush(stdout);
	if (argc > 1) {
		volatile int *bad = (volatile int *)0x10;
		*bad = 1;        /* @segv */
	}
	return g_usr1_count;
}
