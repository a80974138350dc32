/* The README's demo program: a small call tree with a loop, so that a
 * session can show breakpoints, stepping, watchpoints and backtraces. */
#include <stdio.h>

int total;

static int square(int x)
{
	return x * x;   /* @square */
}

static int sum_of_squares(int n)
{
	int sum = 0;
	for (int i = 1; i <= n; i++)
		sum += square(i);   /* @loop */
	return sum;
}

int main(void)
{
	total = sum_of_squares(4);   /* @call */
	printf("sum of squares 1..4 = %d\n", total);
	return total == 30 ? 0 : 1;
}
