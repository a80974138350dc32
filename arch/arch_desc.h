/* What a remote-protocol client must know of the target's architecture,
 * found by the name its target description gives (<architecture>). Pure
 * data, built on every host: cstrace on x86_64 captures from aarch64 and
 * arm servers. */
#ifndef ARCH_ARCH_DESC_H
#define ARCH_ARCH_DESC_H

struct arch_desc {
	const char *name;           /* gdb's name: "i386:x86-64", "aarch64", "arm" */
	long exit_nr;               /* Linux syscall numbers of exit ... */
	long exit_group_nr;         /* ... and exit_group */
	int sw_breakpoint_kind;     /* Z0 kind for the architecture's own code (A32 on arm) */
};

/* The description of gdb architecture NAME ("i386:x86-64", "aarch64",
 * "arm", "armv7"...), or NULL for one not known here. */
const struct arch_desc *arch_desc_by_gdb_name(const char *name);

#endif
