/* The core registers of an architecture by name, with a target
 * description naming only them: what a target knows that has no more
 * than a recorded trace (the PC), e.g. the capture target of --replay.
 * Pure (no CPU access): built on every host, whatever arch/<name>.c is. */
#ifndef ARCH_CORE_TDESC_H
#define ARCH_CORE_TDESC_H

#include "arch/arch.h"

struct arch_core {
	const char *name;               /* "arm", "aarch64" */
	struct arch_regfile rf;         /* features[0] is "target.xml", the only one */
	int pc_regno;
	int cpsr_regno;
	const int *expedite;            /* as gdbserver: frame pointer, sp, pc; -1 ended */
};

/* NAME's core registers, or NULL for an architecture without them here. */
const struct arch_core *arch_core(const char *name);
/* Its target description (target.xml), or NULL. */
const char *arch_core_tdesc(const char *name);

#endif
