/* Architecture-neutral helpers over struct arch_ops. */
#include "arch/arch.h"

#include <string.h>

struct arch_regfile the_regfile;

int arch_init(void)
{
	static int result = 1;
	if (result > 0)
		result = the_arch.probe(&the_regfile) < 0 ? -1 : 0;
	return result;
}

uint64_t arch_reg_get(const struct arch_regfile *a, const uint8_t *regs, int regno)
{
	const struct arch_reg *r = &a->regs[regno];
	uint64_t v = 0;
	/* Registers are little-endian on every target we support. */
	memcpy(&v, regs + r->offset, r->size < 8 ? r->size : 8);
	return v;
}

void arch_reg_set(const struct arch_regfile *a, uint8_t *regs, int regno, uint64_t value)
{
	const struct arch_reg *r = &a->regs[regno];
	memcpy(regs + r->offset, &value, r->size < 8 ? r->size : 8);
}

int arch_regno(const struct arch_regfile *a, const char *name)
{
	for (size_t i = 0; i < a->nregs; i++)
		if (strcmp(a->regs[i].name, name) == 0)
			return (int)i;
	return -1;
}

const char *arch_feature(const struct arch_regfile *a, const char *annex)
{
	for (size_t i = 0; i < a->nfeatures; i++)
		if (strcmp(a->features[i].annex, annex) == 0)
			return a->features[i].xml;
	return NULL;
}
