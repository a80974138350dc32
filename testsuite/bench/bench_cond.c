/* Inferior for the agent bench (agent.sh): N calls (argv[1], default
 * 10000) of bench_cond(i), where a conditional breakpoint goes, and of
 * bench_print(i), where a dprintf goes. */
#include <stdlib.h>

volatile unsigned long bench_calls, bench_sum;

__attribute__((noinline)) void bench_ready(void)
{
	__asm__ volatile("");
}

__attribute__((noinline)) void bench_cond(unsigned long i)
{
	bench_calls++;
	bench_sum += i;
}

__attribute__((noinline)) void bench_print(unsigned long i)
{
	bench_sum ^= i;
}

__attribute__((noinline)) void bench_done(void)
{
	__asm__ volatile("");
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000;
	bench_ready();
	for (unsigned long i = 0; i < n; i++) {
		bench_cond(i);
		bench_print(i);
	}
	bench_done();
	return 0;
}
