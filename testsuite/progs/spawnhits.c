/* One thread hits a breakpoint over and over while another creates
 * 400 long-lived threads back to back: threads are born while the server
 * stops every thread for a hit (as gdb's gdb.threads/watchthreads.exp
 * meets it). Lines marked "@name" are found by the tests by name. */
#include <pthread.h>
#include <unistd.h>

volatile unsigned hits, born;

__attribute__((noinline)) void hit_here(void)
{
	hits++; /* @spawnhits-hit */
}

static void *hitter(void *arg)
{
	for (;;) {
		hit_here();
		usleep(100);
	}
	return arg;
}

static void *idler(void *arg)
{
	born++;
	for (;;)
		usleep(1000);   /* alive: the server must stop it too */
	return arg;
}

int main(void)
{
	pthread_t h;
	pthread_attr_t detached;
	pthread_create(&h, NULL, hitter, NULL);
	pthread_attr_init(&detached);
	pthread_attr_setdetachstate(&detached, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&detached, 64 * 1024);
	/* back to back: often inside clone when a hit stops everything */
	for (int i = 0; i < 400; i++) {
		pthread_t t;
		pthread_create(&t, &detached, idler, NULL);
	}
	for (;;)
		pause();
	return 0;
}
