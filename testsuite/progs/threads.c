#define _GNU_SOURCE
/* Named threads for `info threads`, thread switching and breakpoints hit
 * inside a thread. Each worker records its index in a global slot. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#define NWORKERS 2

volatile int g_ready[NWORKERS];
volatile int g_stop = 0;
pthread_barrier_t g_barrier;

void worker_mark(int index)
{
	g_ready[index] = index + 100; /* @worker-mark */
}

static void *worker(void *arg)
{
	int index = (int)(long)arg;
	char name[16];
	snprintf(name, sizeof name, "worker-%d", index);
	pthread_setname_np(pthread_self(), name);
	worker_mark(index);
	pthread_barrier_wait(&g_barrier);
	while (!g_stop)
		usleep(1000);
	return NULL;
}

void all_started(void)
{
	/* @all-started */
}

int main(void)
{
	pthread_t tids[NWORKERS];
	pthread_barrier_init(&g_barrier, NULL, NWORKERS + 1);
	pthread_setname_np(pthread_self(), "threads-main");
	for (long i = 0; i < NWORKERS; i++)
		pthread_create(&tids[i], NULL, worker, (void *)i);
	pthread_barrier_wait(&g_barrier);
	all_started();
	g_stop = 1;
	for (int i = 0; i < NWORKERS; i++)
		pthread_join(tids[i], NULL);
	printf("threads done\n");
	return 0;
}
