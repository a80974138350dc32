/* For btrace-calls.sh: main calls middle(), whose loop calls leaf() N
 * times (about 10 instructions an iteration), then done(): a trace of
 * ~10 N instructions with a long callee to step over. */
#include <stdlib.h>

__attribute__((noinline)) long leaf(long x)
{
	return x * 3 + 1;
}

__attribute__((noinline)) long middle(long n)
{
	long s = 0;
	for (long i = 0; i < n; i++)
		s += leaf(i);
	return s;
}

__attribute__((noinline)) void done(long v)
{
	__asm__ volatile("" : : "r"(v));
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	long v = middle(n);
	done(v);
	return 0;
}
