/* Two threads are sent a signal each while the whole process is stopped
 * (gdb runs only main, scheduler-locking), so that both report at the
 * next resume: gdb hears one, the other's stop waits in the server. gdb
 * then passes the first one's signal while the server answers with the
 * other's stop: the signal must still reach its thread.
 * Exit code: bit 0 SIGUSR1 handled by waiter 0, bit 1 SIGUSR2 by waiter 1. */
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile sig_atomic_t g_got[2];
static volatile pid_t g_tid[2];
static volatile int g_sent;

static void on_signal(int sig)
{
	g_got[sig == SIGUSR2] = 1;
}

void ready(void)
{
}

void sent(void)
{
}

static void *waiter(void *arg)
{
	int i = (int)(long)arg;
	g_tid[i] = (pid_t)syscall(SYS_gettid);
	while (!g_sent)
		usleep(1000);
	/* A signal delivered when gdb resumes this thread runs its handler
	 * before the loop looks: the bound only ends a failing run early. */
	for (int tries = 0; !g_got[i] && tries < 2000; tries++)
		usleep(1000);
	return NULL;
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	pthread_t t[2];
	for (long i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, waiter, (void *)i);
	while (!g_tid[0] || !g_tid[1])
		usleep(1000);
	ready();
	pid_t pid = getpid();
	syscall(SYS_tgkill, pid, g_tid[0], SIGUSR1);
	syscall(SYS_tgkill, pid, g_tid[1], SIGUSR2);
	g_sent = 1;
	sent();
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	return g_got[0] | g_got[1] << 1;
}
