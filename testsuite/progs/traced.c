/* Tracepoint target: a function hit several times with changing values
 * (arguments, locals, a global, memory behind a pointer), and a loop for
 * while-stepping. Lines marked "@name" are found by the tests by name. */
#include <stdio.h>

int g_hits;                             /* bumped at each call */
long g_values[8] = {10, 20, 30, 40, 50, 60, 70, 80};
long g_never = 1234;                    /* never collected */

struct point {
	int x, y;
};

static long traced(int n, const long *p, struct point pt)
{
	long sum = 0;                   /* @traced-body */
	int twice = n * 2;
	for (int i = 0; i < 3; i++)     /* @traced-loop */
		sum += p[i] + twice;
	g_hits++;
	return sum + pt.x + pt.y;       /* @traced-return */
}

int main(void)
{
	long total = 0;
	for (int k = 0; k < 5; k++) {
		struct point pt = {k, 100 + k};
		total += traced(k, &g_values[k], pt); /* @main-call */
	}
	printf("traced done %ld %d\n", total, g_hits); /* @main-done */
	fflush(stdout);
	return 0;
}
