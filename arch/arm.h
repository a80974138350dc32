/* 32-bit ARM internals exposed for unit tests of the debug-register layout. */
#ifndef ARCH_ARM_H
#define ARCH_ARM_H

#include "arch/arch.h"

#define ARM_MAX_SLOTS 16   /* ARM_MAX_BRP and ARM_MAX_WRP of the kernel */

/* What PTRACE_GETHBPREGS number 0 tells about the debug hardware. */
struct arm_hw_info {
	unsigned bp_count;
	unsigned wp_count;
	unsigned max_wp_len;   /* 4, or 8 on cores that watch doublewords */
};

/* One hardware breakpoint or watchpoint as PTRACE_SETHBPREGS takes it: the
 * address may be unaligned, the kernel shifts the byte mask by it. */
struct arm_hw_slot {
	uint32_t addr;
	uint32_t ctrl;     /* byte mask, type, privilege, enable */
	size_t point;      /* first point that uses the slot */
};

/* Spread N points over the slots of INFO, splitting watched ranges into
 * the pieces the kernel accepts (1 byte anywhere, 2 bytes not crossing a
 * word, aligned 4 or 8). Returns 0, or -1 with errno ENOSPC (too few
 * slots) or EINVAL (a point the hardware cannot do). */
int arm_hw_layout(const struct hw_point *pts, size_t n, const struct arm_hw_info *info,
		  struct arm_hw_slot *bp, unsigned *nbp_used,
		  struct arm_hw_slot *wp, unsigned *nwp_used);

/* trap_cause without the thread, for the slots INFO gives. */
enum trap_cause arm_trap_match(const siginfo_t *si, const struct hw_point *pts, size_t n,
			       const struct arm_hw_info *info, uint64_t *data_addr, size_t *which);

#endif
