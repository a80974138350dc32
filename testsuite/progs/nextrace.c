/* Two threads through one breakpoint in a loop, so that gdb's `next` in
 * one keeps meeting the other's hit (as gdb's gdb.threads/pending-step):
 * a step of one thread ends while the other's hit is reported. Lines
 * marked "@name" are found by the tests by name. */
#include <pthread.h>

volatile unsigned counts[2] = {1, 1};

static void *spin(void *arg)
{
	volatile unsigned *count = &counts[(long)arg];
	while (*count > 0)
		(*count)++; /* @nextrace-loop */
	return NULL;
}

int main(void)
{
	pthread_t tid;
	pthread_create(&tid, NULL, spin, (void *)1);
	spin((void *)0);
	return 0;
}
