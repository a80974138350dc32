/* Target-side breakpoint conditions and dprintf (test_agent_conditions,
 * the bench): hit() is called N times (argv[1], default 100) with 0..N-1,
 * by main or, with THREADS (argv[2]) > 0, by that many threads, each
 * passing its own range (thread k: k*N .. k*N+N-1). With TICK (argv[3])
 * 1, tick() follows each call with the same arguments: the dprintf tests
 * print there, at another address than hit's breakpoint (gdb sends
 * target-side commands only when every breakpoint at an address has
 * them, and conditions only when every one has a condition). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static const char *const words[] = {"zero", "one", "two", "three"};
volatile long g_sum;
static int n_calls = 100, with_tick;

__attribute__((noinline)) int hit(int x, const char *word)
{
	g_sum += x; /* @hit-body */
	return (int)(word[0]);
}

__attribute__((noinline)) void tick(int x, const char *word)
{
	g_sum -= (word[0] == 'z') + (x < 0); /* @tick-body */
}

static void call(int x)
{
	hit(x, words[x & 3]);
	if (with_tick)
		tick(x, words[x & 3]);
}

static void *worker(void *arg)
{
	int base = (int)(long)arg * n_calls;
	for (int i = 0; i < n_calls; i++)
		call(base + i);
	return NULL;
}

int main(int argc, char **argv)
{
	n_calls = argc > 1 ? atoi(argv[1]) : 100;
	int nthreads = argc > 2 ? atoi(argv[2]) : 0;
	with_tick = argc > 3 && atoi(argv[3]);
	if (nthreads > 0) {
		pthread_t tids[64];
		if (nthreads > 64)
			nthreads = 64;
		for (int k = 0; k < nthreads; k++)
			pthread_create(&tids[k], NULL, worker, (void *)(long)k);
		for (int k = 0; k < nthreads; k++)
			pthread_join(tids[k], NULL);
	} else {
		for (int i = 0; i < n_calls; i++)
			call(i);
	}
	printf("condhits done %ld\n", g_sum); /* @condhits-done */
	return 0;
}
