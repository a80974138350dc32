/* Branches of every kind for the software branch recorder: its fast path
 * (run to the next branch under a temporary breakpoint) must record what
 * stepping every instruction records.
 *   branchy loop N     a loop of N iterations (N conditional branches)
 *   branchy mix [N]    indirect calls, a switch jump table (N rounds each,
 *                      default 300), signals with a
 *                      handler, a fault with a handler, system calls,
 *                      string instructions, code written at run time
 *   branchy threads    two threads looping
 *   branchy forkexec   fork (the child loops and exits), then exec "mix" */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

volatile long g_sum;

__attribute__((noinline)) long loop(long n)
{
	long s = 0;
	for (long i = 0; i < n; i++)
		s += i;
	return s;
}

static int add1(int x) { return x + 1; }
static int dbl(int x) { return x * 2; }
static int neg(int x) { return -x; }

__attribute__((noinline)) int indirect_calls(int n)
{
	int (*fns[])(int) = {add1, dbl, neg};
	int v = 1;
	for (int i = 0; i < n; i++)
		v = fns[i % 3](v) % 1000;
	return v;
}

__attribute__((noinline)) int jump_table(int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		switch (i % 7) {
		case 0: v += 3; break;
		case 1: v ^= 5; break;
		case 2: v -= 7; break;
		case 3: v *= 3; break;
		case 4: v |= 9; break;
		case 5: v &= 0xffff; break;
		default: v += i; break;
		}
	}
	return v;
}

static volatile int g_usr1;
static sigjmp_buf g_jmp;

static void on_usr1(int sig)
{
	(void)sig;
	g_usr1++;
}

static void on_segv(int sig)
{
	(void)sig;
	siglongjmp(g_jmp, 1);
}

__attribute__((noinline)) void signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_segv;
	sigaction(SIGSEGV, &sa, NULL);
	for (int i = 0; i < 3; i++)
		raise(SIGUSR1);
	if (sigsetjmp(g_jmp, 1) == 0)
		*(volatile int *)16 = 1;   /* the handler jumps back */
	signal(SIGSEGV, SIG_DFL);
}

__attribute__((noinline)) void syscalls(void)
{
	for (int i = 0; i < 5; i++)
		g_sum += syscall(SYS_getpid) > 0;
	g_sum += write(-1, "x", 1) < 0;
}

__attribute__((noinline)) void strings(void)
{
	static char a[8192], b[8192];
	memset(a, 'a', sizeof a);
	memcpy(b, a, sizeof b);
	g_sum += b[100] + (long)strlen(b + 8000) * 0;
}

/* Code that returns its constant: "mov 42 into the result register; return". */
static void put_code(uint8_t *p, int value)
{
#if defined(__x86_64__)
	uint8_t c[] = {0xb8, (uint8_t)value, 0, 0, 0, 0xc3};
#elif defined(__aarch64__)
	uint32_t w[] = {0x52800000u | ((uint32_t)value << 5), 0xd65f03c0u};
	uint8_t c[sizeof w];
	memcpy(c, w, sizeof w);
#elif defined(__arm__) && defined(__thumb__)
	uint16_t h[] = {(uint16_t)(0x2000 | value), 0x4770};   /* movs r0, #v; bx lr */
	uint8_t c[sizeof h];
	memcpy(c, h, sizeof h);
#else
	uint32_t w[] = {0xe3a00000u | (uint32_t)value, 0xe12fff1eu};
	uint8_t c[sizeof w];
	memcpy(c, w, sizeof w);
#endif
	memcpy(p, c, sizeof c);
	__builtin___clear_cache((char *)p, (char *)p + sizeof c);
}

static int call_code(uint8_t *p)
{
#if defined(__arm__) && defined(__thumb__)
	return ((int (*)(void))(uintptr_t)(p + 1))();
#else
	return ((int (*)(void))(uintptr_t)p)();
#endif
}

/* JIT-style code in a writable page, then code rewritten between calls
 * in a page that is executable only while it runs. */
__attribute__((noinline)) void runtime_code(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint8_t *rwx = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE | PROT_EXEC,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *rx = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (rwx == MAP_FAILED || rx == MAP_FAILED)
		return;
	for (int v = 40; v < 43; v++) {
		put_code(rwx, v);
		g_sum += call_code(rwx);
		mprotect(rx, (size_t)pg, PROT_READ | PROT_WRITE);
		put_code(rx, v + 10);
		mprotect(rx, (size_t)pg, PROT_READ | PROT_EXEC);
		g_sum += call_code(rx);
		g_sum += call_code(rx);
	}
	munmap(rwx, (size_t)pg);
	munmap(rx, (size_t)pg);
}

static void mix(int n)
{
	g_sum += indirect_calls(n);
	g_sum += jump_table(n);
	signals();
	syscalls();
	strings();
	runtime_code();
	printf("mix done %d\n", g_usr1);
}

static void *thread_main(void *arg)
{
	g_sum += loop((long)(intptr_t)arg);
	g_sum += indirect_calls(50);
	return NULL;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "mix";
	if (strcmp(mode, "loop") == 0) {
		long n = argc > 2 ? atol(argv[2]) : 1000000;
		g_sum = loop(n);
		return 0;
	}
	if (strcmp(mode, "mix") == 0) {
		mix(argc > 2 ? atoi(argv[2]) : 300);
		return 0;
	}
	if (strcmp(mode, "threads") == 0) {
		pthread_t a, b;
		pthread_create(&a, NULL, thread_main, (void *)(intptr_t)2000);
		pthread_join(a, NULL);
		pthread_create(&b, NULL, thread_main, (void *)(intptr_t)3000);
		pthread_join(b, NULL);
		g_sum += loop(100);
		return 0;
	}
	if (strcmp(mode, "forkexec") == 0) {
		pid_t pid = fork();
		if (pid == 0) {
			g_sum += loop(1000);
			_exit(0);
		}
		int status;
		waitpid(pid, &status, 0);
		g_sum += loop(100);
		execl("/proc/self/exe", argv[0], "mix", (char *)NULL);
		return 99;
	}
	fprintf(stderr, "usage: branchy loop N|mix [N]|threads|forkexec\n");
	return 2;
}
