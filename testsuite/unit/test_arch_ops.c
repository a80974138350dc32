/* The small facts of each architecture that gdb relies on: breakpoint
 * instructions per Z0 kind (as GNU gdbserver writes them), pc adjustment,
 * single-step, and where the system call number lives. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "testsuite/unit/check.h"

struct bp_kind {
	int kind;
	int len;                /* -1: the kind is refused */
	uint8_t insn[4];
};

struct expect {
	const char *arch;
	unsigned decr_pc_after_break;
	bool can_single_step;
	const char *syscall_reg;
	struct bp_kind kinds[4];
	size_t nkinds;
};

static const struct expect table[] = {
	/* int3 whatever the kind; the pc stops one past it. */
	{"x86_64", 1, true, "orig_rax", {{1, 1, {0xcc}}}, 1},
	/* BRK #0 = 0xd4200000; gdb asks for kind 4 only. */
	{"aarch64", 0, true, "x8",
	 {{4, 4, {0x00, 0x00, 0x20, 0xd4}}, {2, -1, {0}}, {3, -1, {0}}, {1, -1, {0}}}, 4},
	/* 2: Thumb 0xde01; 3: Thumb-2 0xf7f0 0xa000; 4: ARM 0xe7f001f0; the
	 * kernel has no PTRACE_SINGLESTEP on arm. */
	{"arm", 0, false, "r7",
	 {{2, 2, {0x01, 0xde}}, {3, 4, {0xf0, 0xf7, 0x00, 0xa0}},
	  {4, 4, {0xf0, 0x01, 0xf0, 0xe7}}, {1, -1, {0}}}, 4},
};

int main(void)
{
	const struct arch_ops *a = &the_arch;
	const struct arch_regfile *rf = &the_regfile;
	CHECK(arch_init() == 0);
	if (!rf->nregs)
		return check_done("test_arch_ops");
	const struct expect *e = NULL;
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		if (strcmp(table[i].arch, a->name) == 0)
			e = &table[i];
	CHECK(e != NULL);
	if (!e)
		return check_done("test_arch_ops");

	CHECK(a->decr_pc_after_break == e->decr_pc_after_break);
	CHECK(a->can_single_step == e->can_single_step);
	for (size_t i = 0; i < e->nkinds; i++) {
		const struct bp_kind *k = &e->kinds[i];
		const uint8_t *insn = NULL;
		int len = a->sw_breakpoint(k->kind, &insn);
		if (len != k->len)
			fprintf(stderr, "kind %d: length %d, want %d\n", k->kind, len, k->len);
		CHECK(len == k->len);
		if (k->len > 0 && len == k->len) {
			CHECK(insn != NULL);
			if (insn)
				CHECK_MEM(insn, k->insn, (size_t)len);
		}
	}

	/* The number is read from the register the kernel keeps it in. */
	int r = arch_regno(rf, e->syscall_reg);
	CHECK(r >= 0);
	uint8_t *regs = calloc(1, rf->size);
	CHECK(regs != NULL);
	if (r >= 0 && regs) {
		arch_reg_set(rf, regs, r, 231);
		CHECK(a->syscall_number(regs) == 231);
		arch_reg_set(rf, regs, r, 0);
		CHECK(a->syscall_number(regs) == 0);
		/* -1 (no system call) stays negative, at any register width. */
		memset(regs + rf->regs[r].offset, 0xff, rf->regs[r].size);
		CHECK(a->syscall_number(regs) == -1);
	}
	free(regs);

	CHECK(a->fetch_regs && a->store_regs && a->hw_points_apply && a->trap_cause);
	return check_done("test_arch_ops");
}
