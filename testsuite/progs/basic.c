/* Straight-line code for break/step/next/finish, a global for watchpoints,
 * and output on stdout. Lines marked "@name" are found by the tests by
 * name, so the file can be edited without renumbering the tests. */
#include <stdio.h>
#include <unistd.h>

volatile int g_counter = 0;   /* watched by the watchpoint tests */
volatile int g_sink = 0;      /* read target for rwatch/awatch */
int g_array[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
char g_message[64] = "hello from basic";

static int square(int x)
{
	int result = x * x; /* @square-body */
	return result;      /* @square-return */
}

int add(int a, int b)
{
	int sum = a + b; /* @add-body */
	return sum;
}

static int compute(int n)
{
	int total = 0;           /* @compute-body */
	total += square(n);      /* @compute-square */
	total += add(n, 1);      /* @compute-add */
	return total;            /* @compute-return */
}

static void bump(void)
{
	g_counter = g_counter + 1; /* @bump-write */
}

static int peek(void)
{
	return g_counter; /* @peek-read */
}

int main(void)
{
	int value = compute(3);  /* @main-compute */
	printf("compute=%d\n", value); /* @main-print */
	fflush(stdout);
	for (int i = 0; i < 3; i++) /* @main-loop */
		bump();
	g_sink = peek();         /* @main-peek */
	g_sink = add(g_sink, 40);   /* @main-add */
	printf("basic done %d %d\n", g_counter, g_sink); /* @main-done */
	fflush(stdout);
	return 0;
}
