/* Inferior for the stepi, breakpoint-hit and launch benches. */
#include <stdint.h>

#define BENCH_SPIN_ITERATIONS 1000000
#define BENCH_HIT_CALLS 1000000

volatile uint64_t bench_spin_acc;
volatile unsigned long bench_hits;

/* Plain arithmetic, no calls or syscalls: stepi stays in here. */
__attribute__((noinline)) void bench_spin(unsigned long n)
{
	uint64_t acc = 1;
	for (unsigned long i = 0; i < n; i++)
		acc = acc * 6364136223846793005u + i;
	bench_spin_acc = acc;
}

/* The breakpoint-hit bench puts its breakpoint here. */
__attribute__((noinline)) void bench_hit(void)
{
	bench_hits++;
}

int main(void)
{
	bench_spin(BENCH_SPIN_ITERATIONS);
	for (unsigned long i = 0; i < BENCH_HIT_CALLS; i++)
		bench_hit();
	return 0;
}
