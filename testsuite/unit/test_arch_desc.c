/* arch/arch_desc.h: the architectures by gdb name, on whatever machine
 * runs the test. */
#include "arch/arch_desc.h"
#include "testsuite/unit/check.h"

int main(void)
{
	const struct arch_desc *d = arch_desc_by_gdb_name("i386:x86-64");
	CHECK(d && d->exit_nr == 60 && d->exit_group_nr == 231 && d->sw_breakpoint_kind == 1);
	CHECK(arch_desc_by_gdb_name("i386:x86-64:intel") == d);

	d = arch_desc_by_gdb_name("aarch64");
	CHECK(d && d->exit_nr == 93 && d->exit_group_nr == 94 && d->sw_breakpoint_kind == 4);
	CHECK_STR(d ? d->name : NULL, "aarch64");

	d = arch_desc_by_gdb_name("arm");
	CHECK(d && d->exit_nr == 1 && d->exit_group_nr == 248 && d->sw_breakpoint_kind == 4);
	CHECK(arch_desc_by_gdb_name("armv7") == d);

	/* not known: the caller does without */
	CHECK(arch_desc_by_gdb_name("i386") == NULL);
	CHECK(arch_desc_by_gdb_name("riscv:rv64") == NULL);
	CHECK(arch_desc_by_gdb_name("xarm") == NULL);
	CHECK(arch_desc_by_gdb_name("") == NULL);
	CHECK(arch_desc_by_gdb_name(NULL) == NULL);
	return check_done("test_arch_desc");
}
