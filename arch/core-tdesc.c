/* Core registers by architecture name: see core-tdesc.h. */
#include "arch/core-tdesc.h"

#include <string.h>

static const char arm_core_xml[] =
	"<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
	"<target version=\"1.0\">\n<architecture>arm</architecture>\n"
	"<feature name=\"org.gnu.gdb.arm.core\">\n"
	"<reg name=\"r0\" bitsize=\"32\" type=\"uint32\"/>\n<reg name=\"r1\" bitsize=\"32\" type=\"uint32\"/>\n"
	"<reg name=\"r2\" bitsize=\"32\" type=\"uint32\"/>\n<reg name=\"r3\" bitsize=\"32\" type=\"uint32\"/>\n"
	"<reg name=\"r4\" bitsize=\"32\" type=\"uint32\"/>\n<reg name=\"r5\" bitsize=\"32\" type=\"uint32\"/>\n"
	"<reg name=\"r6\" bitsize=\"32\" type=\"uint32\"/>\n<reg name=\"r7\" bitsize=\"32\" type=\"uint32\"/>\n"
	"<reg name=\"r8\" bitsize=\"32\" type=\"uint32\"/>\n<reg name=\"r9\" bitsize=\"32\" type=\"uint32\"/>\n"
	"<reg name=\"r10\" bitsize=\"32\" type=\"uint32\"/>\n<reg name=\"r11\" bitsize=\"32\" type=\"uint32\"/>\n"
	"<reg name=\"r12\" bitsize=\"32\" type=\"uint32\"/>\n"
	"<reg name=\"sp\" bitsize=\"32\" type=\"data_ptr\"/>\n"
	"<reg name=\"lr\" bitsize=\"32\"/>\n"
	"<reg name=\"pc\" bitsize=\"32\" type=\"code_ptr\"/>\n"
	"<reg name=\"cpsr\" bitsize=\"32\" regnum=\"25\"/>\n"
	"</feature>\n</target>\n";

static const char aarch64_core_xml[] =
	"<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
	"<target version=\"1.0\">\n<architecture>aarch64</architecture>\n"
	"<feature name=\"org.gnu.gdb.aarch64.core\">\n"
	"<reg name=\"x0\" bitsize=\"64\" type=\"int\"/>\n"
	"<reg name=\"x1\" bitsize=\"64\" type=\"int\"/>\n"
	"<reg name=\"x2\" bitsize=\"64\" type=\"int\"/>\n"
	"<reg name=\"x3\" bitsize=\"64\" type=\"int\"/>\n"
	"<reg name=\"x4\" bitsize=\"64\" type=\"int\"/>\n"
	"<reg name=\"x5\" bitsize=\"64\" type=\"int\"/>\n"
	"<reg name=\"x6\" bitsize=\"64\" type=\"int\"/>\n"
	"<reg name=\"x7\" bitsize=\"64\" type=\"int\"/>\n"
	"<reg name=\"x8\" bitsize=\"64\" type=\"int\"/>\n"
	"<reg name=\"x9\" bitsize=\"64\" type=\"int\"/>\n"
	"<reg name=\"x10\" bitsize=\"64\" type=\"int\"/>\n"
	"<reg name=\"x11\" bitsize=\"64\" type=\"int\"/>\n"
	"<reg name=\"x12\" bitsize=\"64\" type=\"int\"/>\n"
	"<reg name=\"x13\" bitsize=\"64\" type=\"int\"/>\n"
	"<reg name=\"x14\" bitsize=\"64\" type=\"int\"/>\n"
	"<reg name=\"x15\" bitsize=\"64\" type=\"int\"/>\n"
	"<reg name=\"x16\" bitsize=\"64\" type=\"int\"/>\n"
	"<reg name=\"x17\" bitsize=\"64\" type=\"int\"/>\n"
	"<reg name=\"x18\" bitsize=\"64\" type=\"int\"/>\n"
	"<reg name=\"x19\" bitsize=\"64\" type=\"int\"/>\n"
	"<reg name=\"x20\" bitsize=\"64\" type=\"int\"/>\n"
	"<reg name=\"x21\" bitsize=\"64\" type=\"int\"/>\n"
	"<reg name=\"x22\" bitsize=\"64\" type=\"int\"/>\n"
	"<reg name=\"x23\" bitsize=\"64\" type=\"int\"/>\n"
	"<reg name=\"x24\" bitsize=\"64\" type=\"int\"/>\n"
	"<reg name=\"x25\" bitsize=\"64\" type=\"int\"/>\n"
	"<reg name=\"x26\" bitsize=\"64\" type=\"int\"/>\n"
	"<reg name=\"x27\" bitsize=\"64\" type=\"int\"/>\n"
	"<reg name=\"x28\" bitsize=\"64\" type=\"int\"/>\n"
	"<reg name=\"x29\" bitsize=\"64\" type=\"int\"/>\n"
	"<reg name=\"x30\" bitsize=\"64\" type=\"int\"/>\n"
	"<reg name=\"sp\" bitsize=\"64\" type=\"data_ptr\"/>\n"
	"<reg name=\"pc\" bitsize=\"64\" type=\"code_ptr\"/>\n"
	"<reg name=\"cpsr\" bitsize=\"32\" type=\"int\"/>\n</feature>\n</target>\n";

/* arm: cpsr is gdb's 25; 16-24 (the old FPA registers) stay in the
 * table as nameless zero-size registers, as in arch/arm.c. */
#define R(n) {"r" #n, 4, 4 * (n), true}
#define GAP {"", 0, 64, false}
static const struct arch_reg arm_core_regs[] = {
	R(0), R(1), R(2), R(3), R(4), R(5), R(6), R(7), R(8), R(9), R(10), R(11), R(12),
	{"sp", 4, 52, true}, {"lr", 4, 56, true}, {"pc", 4, 60, true},
	GAP, GAP, GAP, GAP, GAP, GAP, GAP, GAP, GAP,
	{"cpsr", 4, 64, true},
};

#define X(n) {"x" #n, 8, 8 * (n), true}
static const struct arch_reg aarch64_core_regs[] = {
	X(0), X(1), X(2), X(3), X(4), X(5), X(6), X(7), X(8), X(9), X(10), X(11), X(12), X(13), X(14), X(15), X(16), X(17), X(18), X(19), X(20), X(21), X(22), X(23), X(24), X(25), X(26), X(27), X(28), X(29), X(30),
	{"sp", 8, 248, true}, {"pc", 8, 256, true}, {"cpsr", 4, 264, true},
};

static const struct arch_feature arm_core_features[] = {{"target.xml", arm_core_xml}};
static const struct arch_feature aarch64_core_features[] = {{"target.xml", aarch64_core_xml}};
static const int arm_core_expedite[] = {11, 13, 15, -1};
static const int aarch64_core_expedite[] = {29, 31, 32, -1};

#define N(a) (sizeof (a) / sizeof (a)[0])
static const struct arch_core cores[] = {
	{"arm", {arm_core_features, 1, arm_core_regs, N(arm_core_regs), 68, false}, 15, 25, arm_core_expedite},
	{"aarch64", {aarch64_core_features, 1, aarch64_core_regs, N(aarch64_core_regs), 268, false},
	 32, 33, aarch64_core_expedite},
};

const struct arch_core *arch_core(const char *name)
{
	for (size_t i = 0; i < N(cores); i++)
		if (strcmp(cores[i].name, name) == 0)
			return &cores[i];
	return NULL;
}

const char *arch_core_tdesc(const char *name)
{
	const struct arch_core *c = arch_core(name);
	return c ? c->rf.features[0].xml : NULL;
}
