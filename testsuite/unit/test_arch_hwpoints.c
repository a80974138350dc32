/* How the ARM architectures spread Z1-Z4 points over debug registers and
 * read a SIGTRAP back, without a kernel: the encodings are those of GNU
 * gdbserver (nat/aarch64-hw-point.c, linux-arm-low.cc) and of the kernel's
 * ptrace checks. Built for the compiler's target, so this runs under
 * qemu-user in testsuite/cross/check.sh; x86_64 tests its debug registers
 * in test_arch_ptrace against the real kernel. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "arch/arch.h"
#include "testsuite/unit/check.h"

#if defined(__aarch64__) || defined(__arm__)
static siginfo_t trap(int code, uint64_t addr, int err)
{
	siginfo_t si;
	memset(&si, 0, sizeof si);
	si.si_signo = SIGTRAP;
	si.si_code = code;
	si.si_errno = err;
	si.si_addr = (void *)(uintptr_t)addr;
	return si;
}
#endif

#if defined(__aarch64__)
#include "arch/aarch64.h"

static struct a64_hw_slot bp[A64_MAX_SLOTS], wp[A64_MAX_SLOTS];
static unsigned nbp, nwp;

static int layout(const struct hw_point *pts, size_t n, bool any_range)
{
	errno = 0;
	return a64_hw_layout(pts, n, 6, 4, any_range, bp, &nbp, wp, &nwp);
}

static void test_arch(void)
{
	/* Aligned word, written: type 2, bytes 0-3, EL0, enabled. */
	struct hw_point w4 = {HW_WRITE, 0x1000, 4};
	CHECK(layout(&w4, 1, true) == 0);
	CHECK(nbp == 0 && nwp == 1);
	CHECK(wp[0].addr == 0x1000 && wp[0].ctrl == 0x1f5);

	/* Read (1) and access (3) types; a doubleword is mask 0xff. */
	struct hw_point r8 = {HW_READ, 0x2000, 8}, a1 = {HW_ACCESS, 0x2003, 1};
	CHECK(layout(&r8, 1, true) == 0 && wp[0].ctrl == (1u << 3 | 0xffu << 5 | 5));
	CHECK(layout(&a1, 1, true) == 0 && wp[0].addr == 0x2000 &&
	      wp[0].ctrl == (3u << 3 | 0x1u << 8 | 5));

	/* Unaligned: split at the doubleword, byte masks at their offsets. */
	struct hw_point u = {HW_WRITE, 0x1006, 4};
	CHECK(layout(&u, 1, true) == 0 && nwp == 2);
	CHECK(wp[0].addr == 0x1000 && wp[0].ctrl == (2u << 3 | 0x3u << 11 | 5));
	CHECK(wp[1].addr == 0x1008 && wp[1].ctrl == (2u << 3 | 0x3u << 5 | 5));
	/* Kernels before 4.10: masks 1, 3, 0xf, 0xff from the start only. */
	CHECK(layout(&u, 1, false) == 0 && nwp == 2);
	CHECK(wp[0].addr == 0x1000 && wp[0].ctrl == (2u << 3 | 0xffu << 5 | 5));
	CHECK(wp[1].addr == 0x1008 && wp[1].ctrl == (2u << 3 | 0x3u << 5 | 5));
	struct hw_point three = {HW_WRITE, 0x1001, 3};
	CHECK(layout(&three, 1, false) == 0 && nwp == 1 && wp[0].ctrl == (2u << 3 | 0xfu << 5 | 5));

	/* Long ranges take a register per doubleword, up to the 4 there are. */
	struct hw_point l32 = {HW_WRITE, 0x3000, 32}, l33 = {HW_WRITE, 0x3000, 33};
	CHECK(layout(&l32, 1, true) == 0 && nwp == 4 && wp[3].addr == 0x3018);
	CHECK(layout(&l33, 1, true) == -1 && errno == ENOSPC);

	/* Breakpoints: 4 aligned bytes, type 0; anything else refused. */
	struct hw_point b = {HW_EXEC, 0x400000, 4};
	CHECK(layout(&b, 1, true) == 0 && nbp == 1 && nwp == 0);
	CHECK(bp[0].addr == 0x400000 && bp[0].ctrl == 0x1e5);
	struct hw_point bad[] = {
		{HW_EXEC, 0x400002, 4}, {HW_EXEC, 0x400000, 2}, {HW_WRITE, 0x1000, 0},
		{(enum hw_point_type)9, 0x1000, 4}, {HW_WRITE, UINT64_MAX - 1, 4},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK(layout(&bad[i], 1, true) == -1 && errno == EINVAL);

	/* Equal points share a register (gdb inserts one per location);
	 * the seventh distinct breakpoint does not fit in 6. */
	struct hw_point same[] = {w4, w4, b, b};
	CHECK(layout(same, 4, true) == 0 && nwp == 1 && nbp == 1);
	struct hw_point many[7];
	for (int i = 0; i < 7; i++)
		many[i] = (struct hw_point){HW_EXEC, 0x400000 + 4 * (uint64_t)i, 4};
	CHECK(layout(many, 6, true) == 0 && nbp == 6 && bp[5].point == 5);
	CHECK(layout(many, 7, true) == -1 && errno == ENOSPC);

	/* Reading the trap back. */
	uint64_t data = 0;
	size_t which = 99;
	struct hw_point pts[] = {{HW_WRITE, 0x1004, 4}, {HW_ACCESS, 0x5006, 4}, {HW_EXEC, 0x400100, 4}};
	siginfo_t si = trap(TRAP_HWBKPT, 0x1006, 0);
	CHECK(a64_trap_match(&si, pts, 3, true, &data, &which) == TRAP_CAUSE_WATCH);
	CHECK(which == 0 && data == 0x1006);
	/* A wide store from below the watched bytes (stp at 0x1000): the
	 * reported address moves into the watched range. */
	si = trap(TRAP_HWBKPT, 0x1000, 0);
	CHECK(a64_trap_match(&si, pts, 3, true, &data, &which) == TRAP_CAUSE_WATCH);
	CHECK(which == 0 && data == 0x1004);
	/* Second piece of the unaligned point; tag bits ignored. */
	si = trap(TRAP_HWBKPT, 0x0a00000000005008ull, 0);
	CHECK(a64_trap_match(&si, pts, 3, true, &data, &which) == TRAP_CAUSE_WATCH);
	CHECK(which == 1 && data == 0x5008);
	si = trap(TRAP_HWBKPT, 0x400100, 0);
	CHECK(a64_trap_match(&si, pts, 3, true, &data, &which) == TRAP_CAUSE_HW_BREAK && which == 2);
	si = trap(TRAP_HWBKPT, 0x9000, 0);
	CHECK(a64_trap_match(&si, pts, 3, true, &data, &which) == TRAP_CAUSE_OTHER);
	si = trap(TRAP_TRACE, 0, 0);
	CHECK(a64_trap_match(&si, pts, 3, true, &data, &which) == TRAP_CAUSE_SINGLESTEP);
	si = trap(TRAP_BRKPT, 0x400100, 0);
	CHECK(a64_trap_match(&si, pts, 3, true, &data, &which) == TRAP_CAUSE_OTHER);
	si = trap(TRAP_HWBKPT, 0x1006, 0);
	si.si_signo = SIGSEGV;
	CHECK(a64_trap_match(&si, pts, 3, true, &data, &which) == TRAP_CAUSE_OTHER);
	/* A huge range costs no time to match. */
	struct hw_point huge = {HW_WRITE, 0x10000, UINT32_MAX};
	si = trap(TRAP_HWBKPT, 0x10000 + 0x7ffffff8ull, 0);
	CHECK(a64_trap_match(&si, &huge, 1, true, &data, &which) == TRAP_CAUSE_WATCH);
	/* trap_cause of the ops is the same, whatever the thread. */
	si = trap(TRAP_HWBKPT, 0x1006, 0);
	CHECK(the_arch.trap_cause(-1, &si, pts, 3, &data, &which) == TRAP_CAUSE_WATCH && which == 0);
}

#elif defined(__arm__)
#include "arch/arm.h"

static struct arm_hw_slot bp[ARM_MAX_SLOTS], wp[ARM_MAX_SLOTS];
static unsigned nbp, nwp;
static const struct arm_hw_info a15 = {6, 4, 4}, wide = {6, 4, 8}, none = {0, 0, 0};

static int layout(const struct hw_point *pts, size_t n, const struct arm_hw_info *info)
{
	errno = 0;
	return arm_hw_layout(pts, n, info, bp, &nbp, wp, &nwp);
}

/* Control word: byte mask << 5, type << 3, privilege 3, enabled. */
static uint32_t ctrl(unsigned mask, unsigned type)
{
	return mask << 5 | type << 3 | 3u << 1 | 1u;
}

static void test_arch(void)
{
	struct hw_point w4 = {HW_WRITE, 0x1000, 4};
	CHECK(layout(&w4, 1, &a15) == 0 && nwp == 1 && nbp == 0);
	CHECK(wp[0].addr == 0x1000 && wp[0].ctrl == ctrl(0xf, 2));
	/* The kernel takes the unaligned address and shifts the mask. */
	struct hw_point r1 = {HW_READ, 0x1003, 1}, a2 = {HW_ACCESS, 0x1001, 2};
	CHECK(layout(&r1, 1, &a15) == 0 && wp[0].addr == 0x1003 && wp[0].ctrl == ctrl(0x1, 1));
	CHECK(layout(&a2, 1, &a15) == 0 && wp[0].addr == 0x1001 && wp[0].ctrl == ctrl(0x3, 3));
	/* A halfword across a word boundary: a byte on each side. */
	struct hw_point x2 = {HW_WRITE, 0x1003, 2};
	CHECK(layout(&x2, 1, &a15) == 0 && nwp == 2);
	CHECK(wp[0].addr == 0x1003 && wp[0].ctrl == ctrl(0x1, 2));
	CHECK(wp[1].addr == 0x1004 && wp[1].ctrl == ctrl(0x1, 2));
	/* Three bytes: the word. */
	struct hw_point w3 = {HW_WRITE, 0x1001, 3};
	CHECK(layout(&w3, 1, &a15) == 0 && nwp == 1 && wp[0].addr == 0x1000 &&
	      wp[0].ctrl == ctrl(0xf, 2));
	/* A doubleword: two words, or one register where the core has 8. */
	struct hw_point d = {HW_WRITE, 0x2000, 8};
	CHECK(layout(&d, 1, &a15) == 0 && nwp == 2 && wp[1].addr == 0x2004);
	CHECK(layout(&d, 1, &wide) == 0 && nwp == 1 && wp[0].ctrl == ctrl(0xff, 2));
	struct hw_point l17 = {HW_WRITE, 0x2000, 17};
	CHECK(layout(&l17, 1, &a15) == -1 && errno == ENOSPC);
	CHECK(layout(&w4, 1, &none) == -1 && errno == ENOSPC);

	/* Breakpoints: the kind is the mode. */
	struct hw_point t = {HW_EXEC, 0x8001, 2}, t2 = {HW_EXEC, 0x8006, 3}, a = {HW_EXEC, 0x8002, 4};
	CHECK(layout(&t, 1, &a15) == 0 && nbp == 1 && bp[0].addr == 0x8000 && bp[0].ctrl == ctrl(0x3, 0));
	CHECK(layout(&t2, 1, &a15) == 0 && bp[0].addr == 0x8006 && bp[0].ctrl == ctrl(0x3, 0));
	CHECK(layout(&a, 1, &a15) == 0 && bp[0].addr == 0x8000 && bp[0].ctrl == ctrl(0xf, 0));
	struct hw_point bad[] = {
		{HW_EXEC, 0x8000, 1}, {HW_WRITE, 0x1000, 0}, {HW_WRITE, 0x100000000ull, 4},
		{HW_WRITE, 0xfffffffe, 4}, {(enum hw_point_type)0, 0x1000, 4},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK(layout(&bad[i], 1, &a15) == -1 && errno == EINVAL);

	/* Reading the trap back: si_errno names the slot. */
	uint64_t data = 0;
	size_t which = 99;
	struct hw_point pts[] = {{HW_WRITE, 0x1000, 8}, {HW_READ, 0x3002, 2}, {HW_EXEC, 0x8000, 4}};
	/* Watchpoint slot 2 (-5) is point 1's. */
	siginfo_t si = trap(TRAP_HWBKPT, 0x3002, -5);
	CHECK(arm_trap_match(&si, pts, 3, &a15, &data, &which) == TRAP_CAUSE_WATCH);
	CHECK(which == 1 && data == 0x3002);
	/* Slot 1 (-3): point 0's second word; an access from below the watched
	 * range is reported at its start. */
	si = trap(TRAP_HWBKPT, 0x1004, -3);
	CHECK(arm_trap_match(&si, pts, 3, &a15, &data, &which) == TRAP_CAUSE_WATCH);
	CHECK(which == 0 && data == 0x1004);
	si = trap(TRAP_HWBKPT, 0x0ffc, -1);
	CHECK(arm_trap_match(&si, pts, 3, &a15, &data, &which) == TRAP_CAUSE_WATCH);
	CHECK(which == 0 && data == 0x1000);
	si = trap(TRAP_HWBKPT, 0x8000, 1);
	CHECK(arm_trap_match(&si, pts, 3, &a15, &data, &which) == TRAP_CAUSE_HW_BREAK && which == 2);
	/* No slot number: by address. */
	si = trap(TRAP_HWBKPT, 0x1006, 0);
	CHECK(arm_trap_match(&si, pts, 3, &a15, &data, &which) == TRAP_CAUSE_WATCH && which == 0);
	si = trap(TRAP_HWBKPT, 0x3003, -31);
	CHECK(arm_trap_match(&si, pts, 3, NULL, &data, &which) == TRAP_CAUSE_WATCH && which == 1);
	si = trap(TRAP_HWBKPT, 0x9000, 0);
	CHECK(arm_trap_match(&si, pts, 3, &a15, &data, &which) == TRAP_CAUSE_OTHER);
	si = trap(TRAP_BRKPT, 0x8000, 0);
	CHECK(arm_trap_match(&si, pts, 3, &a15, &data, &which) == TRAP_CAUSE_OTHER);
	/* A slot number out of any range falls back to the address too. */
	si = trap(TRAP_HWBKPT, 0x3002, INT32_MIN);
	CHECK(arm_trap_match(&si, pts, 3, &a15, &data, &which) == TRAP_CAUSE_WATCH && which == 1);
	si = trap(TRAP_HWBKPT, 0x8000, INT32_MAX);
	CHECK(arm_trap_match(&si, pts, 3, &a15, &data, &which) == TRAP_CAUSE_HW_BREAK && which == 2);
}

#else
static void test_arch(void)
{
	printf("test_arch_hwpoints: skipped on %s: tests the aarch64 and arm "
	       "layouts (testsuite/cross/check.sh runs them)\n", the_arch.name);
}
#endif

int main(void)
{
	test_arch();
	return check_done("test_arch_hwpoints");
}
