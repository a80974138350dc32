/* Threads that never stop running through one line (as gdb's
 * gdb.threads/interrupt-while-step-over.c): a breakpoint there with a
 * false condition keeps the server stepping threads over it while gdb
 * interrupts and resumes them all. Lines marked "@name" are found by the
 * tests by name. */
#include <pthread.h>

#define NTHREADS 8

volatile int always_zero;
volatile unsigned dummy;

static void *spin(void *arg)
{
	(void)arg;
	for (;;)
		dummy++; /* @spinners-loop */
	return NULL;
}

void all_started(void)
{
	/* @spinners-started */
}

int main(void)
{
	pthread_t tids[NTHREADS];
	for (int i = 0; i < NTHREADS; i++)
		pthread_create(&tids[i], NULL, spin, NULL);
	all_started();
	spin(NULL);
	return 0;
}
