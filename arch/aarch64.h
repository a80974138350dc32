/* AArch64 internals exposed for unit tests: the debug-register layout and
 * reading a SIGTRAP back (arch/aarch64.c, built for aarch64 only). The
 * register file is arch/aarch64-regfile.h, built everywhere. */
#ifndef ARCH_AARCH64_H
#define ARCH_AARCH64_H

#include "arch/arch.h"
#include "arch/aarch64-regfile.h"

#include <sys/types.h>

#define A64_MAX_SLOTS 16   /* dbg_regs[] of struct user_hwdebug_state */

/* One hardware breakpoint or watchpoint register pair. */
struct a64_hw_slot {
	uint64_t addr;     /* aligned: 4 (breakpoint) or 8 (watchpoint) */
	uint32_t ctrl;     /* type, byte mask, privilege, enable */
	size_t point;      /* first point that uses the slot */
};

/* Spread N points over NBP breakpoint and NWP watchpoint slots, splitting
 * unaligned or long watched ranges over several doublewords. ANY_RANGE:
 * the kernel takes any contiguous byte mask. Returns 0, or -1 with errno
 * ENOSPC (too few slots) or EINVAL (a point the hardware cannot do). */
int a64_hw_layout(const struct hw_point *pts, size_t n, unsigned nbp, unsigned nwp,
		  bool any_range, struct a64_hw_slot *bp, unsigned *nbp_used,
		  struct a64_hw_slot *wp, unsigned *nwp_used);

/* trap_cause without the thread: the siginfo tells all on AArch64. */
enum trap_cause a64_trap_match(const siginfo_t *si, const struct hw_point *pts, size_t n,
			       bool any_range, uint64_t *data_addr, size_t *which);

#endif
