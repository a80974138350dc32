#define _GNU_SOURCE
/* __thread variables and pthread_t values for libthread_db support: each
 * thread gives its tls_var its own value and stores its pthread_self(),
 * then all of them meet in all_set(). */
#include <pthread.h>
#include <stdio.h>

#define NWORKERS 2

__thread int tls_var = 7;            /* initialised: .tdata */
__thread long tls_zero;              /* .tbss */
pthread_t g_self[NWORKERS + 1];      /* [0] main, [1..] workers */
volatile int g_stop = 0;
pthread_barrier_t g_set, g_done;

void all_set(void)
{
	/* @all-set */
}

static void *worker(void *arg)
{
	int index = (int)(long)arg;
	char name[16];
	snprintf(name, sizeof name, "tls-worker-%d", index);
	pthread_setname_np(pthread_self(), name);
	g_self[index] = pthread_self();
	tls_var = 100 * index;
	tls_zero = -index;
	pthread_barrier_wait(&g_set);
	pthread_barrier_wait(&g_done);
	return NULL;
}

int main(void)
{
	pthread_t tids[NWORKERS];
	pthread_barrier_init(&g_set, NULL, NWORKERS + 1);
	pthread_barrier_init(&g_done, NULL, NWORKERS + 1);
	g_self[0] = pthread_self();
	tls_var = 42;
	for (long i = 0; i < NWORKERS; i++)
		pthread_create(&tids[i], NULL, worker, (void *)(i + 1));
	pthread_barrier_wait(&g_set);
	all_set();
	pthread_barrier_wait(&g_done);
	for (int i = 0; i < NWORKERS; i++)
		pthread_join(tids[i], NULL);
	printf("tls done %d\n", tls_var);
	return 0;
}
