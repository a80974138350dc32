/* The architectures by gdb name: see arch_desc.h. */
#include "arch/arch_desc.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

static const struct {
	const char *match;          /* in gdb's name ... */
	bool prefix;                /* ... at its start, else anywhere */
	struct arch_desc desc;
} descs[] = {
	/* "i386:x86-64", "i386:x86-64:intel" */
	{"x86-64", false, {"i386:x86-64", 60, 231, 1}},
	{"aarch64", false, {"aarch64", 93, 94, 4}},
	/* "arm", "armv7", "arm_any"... (EABI syscall numbers) */
	{"arm", true, {"arm", 1, 248, 4}},
};

const struct arch_desc *arch_desc_by_gdb_name(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof(descs) / sizeof(descs[0]); i++) {
		const char *at = strstr(name, descs[i].match);
		if (at && (!descs[i].prefix || at == name))
			return &descs[i].desc;
	}
	return NULL;
}
