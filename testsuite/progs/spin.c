/* Runs (and sleeps) until told to stop: target for ^C and attach.
 * argv[1] "busy": burn CPU instead of sleeping; the optional last argument
 * is a number of seconds after which it exits by itself (default 60) so a
 * broken test never leaves it behind for long. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

volatile int g_keep_going = 1;
volatile unsigned long g_iterations = 0;

void spin_tick(void)
{
	g_iterations++; /* @spin-tick */
}

int main(int argc, char **argv)
{
	int busy = argc > 1 && strcmp(argv[1], "busy") == 0;
	int limit = argc > 1 ? atoi(argv[argc - 1]) : 0;
	if (limit <= 0)
		limit = 60;
	time_t end = time(NULL) + limit;
	printf("spin pid %ld\n", (long)getpid());
	fflush(stdout);
	while (g_keep_going && time(NULL) < end) { /* @spin-loop */
		spin_tick();
		if (!busy)
			usleep(2000);
	}
	return g_keep_going ? 1 : 0;
}
