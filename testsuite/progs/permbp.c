/* A breakpoint instruction in the program itself (gdb's "permanent"
 * breakpoint, as gdb.base/bp-permanent.c plants one): gdb puts a
 * breakpoint with a false condition on it; the hit must reach gdb, which
 * skips the instruction, instead of being stepped over for ever. Lines
 * marked "@name" are found by the tests by name. */
#include <stdio.h>

#if defined(__x86_64__)
#define PERMANENT_BREAKPOINT() __asm__ volatile("int3")
#elif defined(__aarch64__)
#define PERMANENT_BREAKPOINT() __asm__ volatile("brk #0")
#elif defined(__arm__) && defined(__thumb__)
#define PERMANENT_BREAKPOINT() __asm__ volatile(".inst.n 0xde01")
#elif defined(__arm__)
#define PERMANENT_BREAKPOINT() __asm__ volatile(".inst 0xe7f001f0")
#endif

volatile int counter;

__attribute__((noinline)) void planted(void)
{
	counter++;
	PERMANENT_BREAKPOINT(); /* @permbp-insn */
	counter++;
}

int main(void)
{
	planted();
	planted();
	printf("permbp done %d\n", counter); /* @permbp-done */
	fflush(stdout);
	return 0;
}
