/* The shared trace vocabulary: see trace_types.h. */
#include "etm/trace_types.h"

#include <stdarg.h>
#include <stdio.h>

#include "arch/arch.h"
#include "common/err.h"

int etm_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vfail(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

const char *etm_unit_name(enum etm_unit unit)
{
	switch (unit) {
	case ETM_UNIT_ETMV3: return "ETMv3";
	case ETM_UNIT_PTM: return "PTM";
	case ETM_UNIT_ETMV4: return "ETMv4";
	case ETM_UNIT_ETE: return "ETE";
	default: return "unknown";
	}
}

const char *etm_isa_name(enum etm_isa isa)
{
	switch (isa) {
	case ETM_ISA_ARM: return "A32";
	case ETM_ISA_THUMB: return "T32";
	case ETM_ISA_A64: return "A64";
	case ETM_ISA_OTHER: return "other";
	}
	return "?";
}

const char *etm_insn_class_name(enum etm_insn_class c)
{
	switch (c) {
	case ETM_INSN_OTHER: return "other";
	case ETM_INSN_JUMP: return "jump";
	case ETM_INSN_CALL: return "call";
	case ETM_INSN_RETURN: return "return";
	case ETM_INSN_EXCEPTION_RETURN: return "exception-return";
	case ETM_INSN_BARRIER: return "barrier";
	case ETM_INSN_WAIT: return "wait";
	}
	return "?";
}

uint8_t etm_trace_id(const struct etm_cpu_regs *regs)
{
	switch (regs->unit) {
	case ETM_UNIT_ETMV3:
	case ETM_UNIT_PTM:
		return regs->etmtraceidr & 0x7f;
	case ETM_UNIT_ETMV4:
	case ETM_UNIT_ETE:
		return regs->trctraceidr & 0x7f;
	default:
		return 0;
	}
}

enum etm_core_arch etm_host_core_arch(enum etm_unit unit)
{
	switch (unit) {
	case ETM_UNIT_ETE:
		return ETM_CORE_AA64;
	case ETM_UNIT_ETMV4:
		return the_arch.trace_isa == ARCH_TRACE_A64 ? ETM_CORE_V8 : ETM_CORE_V7;
	default:
		return ETM_CORE_V7;
	}
}
