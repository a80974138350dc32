/* Tracepoint stress: four threads call one traced function 200 times
 * each, at once. Lines marked "@name" are found by the tests by name. */
#include <pthread.h>
#include <stdio.h>

#define NTHREADS 4
#define CALLS 200

volatile long g_sum;
pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

__attribute__((noinline)) void hit(int thread, int call)
{
	pthread_mutex_lock(&g_lock);   /* @hit-body */
	g_sum += thread * 1000 + call;
	pthread_mutex_unlock(&g_lock);
}

static void *worker(void *arg)
{
	int thread = (int)(long)arg;
	for (int call = 0; call < CALLS; call++)
		hit(thread, call);
	return NULL;
}

int main(void)
{
	pthread_t tids[NTHREADS];
	for (long i = 0; i < NTHREADS; i++)
		pthread_create(&tids[i], NULL, worker, (void *)i);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(tids[i], NULL);
	printf("tracethreads done %ld\n", g_sum); /* @tracethreads-done */
	fflush(stdout);
	return 0;
}
