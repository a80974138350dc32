#include "arch/disasm.h"

#include <capstone/capstone.h>
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

/* Capstone is loaded on first use: linking it costs every start-up of the
 * server ~15 ms of relocations, and only branch recording needs it. */
static struct {
	bool tried, ok;
	const char *why;
	cs_err (*open)(cs_arch, cs_mode, csh *);
	cs_err (*option)(csh, cs_opt_type, size_t);
	cs_insn *(*malloc_insn)(csh);
	bool (*disasm_iter)(csh, const uint8_t **, size_t *, uint64_t *, cs_insn *);
	struct {
		bool opened;
		csh handle;
		cs_insn *insn;
	} isa[4];
} cs;

bool disasm_available(const char **why)
{
	if (!cs.tried) {
		cs.tried = true;
		void *lib = dlopen("libcapstone.so.4", RTLD_NOW | RTLD_LOCAL);
		if (!lib)
			lib = dlopen("libcapstone.so", RTLD_NOW | RTLD_LOCAL);
		if (!lib) {
			cs.why = "libcapstone.so.4 is not installed";
		} else {
			*(void **)&cs.open = dlsym(lib, "cs_open");
			*(void **)&cs.option = dlsym(lib, "cs_option");
			*(void **)&cs.malloc_insn = dlsym(lib, "cs_malloc");
			*(void **)&cs.disasm_iter = dlsym(lib, "cs_disasm_iter");
			cs.ok = cs.open && cs.option && cs.malloc_insn && cs.disasm_iter;
			if (!cs.ok)
				cs.why = "libcapstone lacks cs_open/cs_option/cs_malloc/cs_disasm_iter";
		}
	}
	if (why)
		*why = cs.why;
	return cs.ok;
}

static bool open_isa(enum disasm_isa isa)
{
	if (cs.isa[isa].opened)
		return cs.isa[isa].insn != NULL;
	cs.isa[isa].opened = true;
	if (!disasm_available(NULL))
		return false;
	static const struct { cs_arch arch; cs_mode mode; } how[] = {
		[DISASM_X86_64] = {CS_ARCH_X86, CS_MODE_64},
		[DISASM_A64] = {CS_ARCH_ARM64, CS_MODE_LITTLE_ENDIAN},
		[DISASM_A32] = {CS_ARCH_ARM, CS_MODE_ARM},
		[DISASM_T32] = {CS_ARCH_ARM, CS_MODE_THUMB},
	};
	csh h;
	if (cs.open(how[isa].arch, how[isa].mode, &h) != CS_ERR_OK)
		return false;
	if (cs.option(h, CS_OPT_DETAIL, CS_OPT_ON) != CS_ERR_OK)
		return false;
	cs.isa[isa].handle = h;
	cs.isa[isa].insn = cs.malloc_insn(h);
	return cs.isa[isa].insn != NULL;
}

static bool in_group(const cs_detail *d, uint8_t group)
{
	for (unsigned i = 0; i < d->groups_count; i++)
		if (d->groups[i] == group)
			return true;
	return false;
}

static void classify_x86(const cs_insn *in, struct disasm_insn *out)
{
	const cs_detail *d = in->detail;
	out->flow = in_group(d, CS_GRP_JUMP) || in_group(d, CS_GRP_CALL) ||
		    in_group(d, CS_GRP_RET) || in_group(d, CS_GRP_INT) ||
		    in_group(d, CS_GRP_IRET) || in_group(d, CS_GRP_BRANCH_RELATIVE);
	switch (in->id) {
	case X86_INS_SYSCALL:
	case X86_INS_SYSENTER:
	case X86_INS_INT:
	case X86_INS_INT3:
	case X86_INS_INTO:
	case X86_INS_INT1:
	case X86_INS_UD2:
	case X86_INS_HLT:
		out->flow = true;
		break;
	default:
		break;
	}
	out->syscall = in->id == X86_INS_SYSCALL || in->id == X86_INS_SYSENTER ||
		       in->id == X86_INS_INT;
	if (in_group(d, CS_GRP_CALL))
		out->kind = DISASM_KIND_CALL;
	else if (in_group(d, CS_GRP_RET) || in_group(d, CS_GRP_IRET))
		out->kind = DISASM_KIND_RETURN;
	else if (out->flow)
		out->kind = DISASM_KIND_JUMP;
	const cs_x86 *x = &d->x86;
	if (out->flow && in_group(d, CS_GRP_BRANCH_RELATIVE) && x->op_count >= 1 &&
	    x->operands[0].type == X86_OP_IMM) {
		out->has_target = true;
		out->target = (uint64_t)x->operands[0].imm;
	}
}

static void classify_a64(const cs_insn *in, struct disasm_insn *out)
{
	const cs_detail *d = in->detail;
	out->flow = in_group(d, CS_GRP_JUMP) || in_group(d, CS_GRP_CALL) ||
		    in_group(d, CS_GRP_RET) || in_group(d, CS_GRP_INT) ||
		    in_group(d, CS_GRP_IRET) || in_group(d, CS_GRP_BRANCH_RELATIVE);
	switch (in->id) {
	case ARM64_INS_B: case ARM64_INS_BL: case ARM64_INS_BR: case ARM64_INS_BLR:
	case ARM64_INS_RET: case ARM64_INS_CBZ: case ARM64_INS_CBNZ:
	case ARM64_INS_TBZ: case ARM64_INS_TBNZ: case ARM64_INS_SVC:
	case ARM64_INS_BRK: case ARM64_INS_HLT: case ARM64_INS_HVC:
	case ARM64_INS_SMC: case ARM64_INS_ERET:
		out->flow = true;
		break;
	default:
		break;
	}
	out->syscall = in->id == ARM64_INS_SVC;
	switch (in->id) {
	case ARM64_INS_LDXR: case ARM64_INS_LDXRB: case ARM64_INS_LDXRH: case ARM64_INS_LDXP:
	case ARM64_INS_LDAXR: case ARM64_INS_LDAXRB: case ARM64_INS_LDAXRH: case ARM64_INS_LDAXP:
		out->flow = out->exclusive = true;
		break;
	default:
		break;
	}
	if (in->id == ARM64_INS_BL || in->id == ARM64_INS_BLR)
		out->kind = DISASM_KIND_CALL;
	else if (in->id == ARM64_INS_RET || in->id == ARM64_INS_ERET)
		out->kind = DISASM_KIND_RETURN;
	else if (out->flow)
		out->kind = DISASM_KIND_JUMP;
	const cs_arm64 *a = &d->arm64;
	if (out->flow && a->op_count >= 1 && a->operands[a->op_count - 1].type == ARM64_OP_IMM &&
	    (in->id == ARM64_INS_B || in->id == ARM64_INS_BL || in->id == ARM64_INS_CBZ ||
	     in->id == ARM64_INS_CBNZ || in->id == ARM64_INS_TBZ || in->id == ARM64_INS_TBNZ)) {
		out->has_target = true;
		out->target = (uint64_t)a->operands[a->op_count - 1].imm;
	}
}

/* A32/T32 call or return by the usual idioms (as OpenCSD classes them:
 * bl/blx; bx lr, mov pc lr, pop or ldm sp! or ldr pc [sp] loading the PC). */
static enum disasm_kind arm_kind(const cs_insn *in)
{
	const cs_arm *a = &in->detail->arm;
	if (in->id == ARM_INS_BL || in->id == ARM_INS_BLX)
		return DISASM_KIND_CALL;
	if (in->id == ARM_INS_ERET ||
	    ((in->id == ARM_INS_BX || in->id == ARM_INS_MOV) && a->op_count >= 1 &&
	     a->operands[a->op_count - 1].type == ARM_OP_REG && a->operands[a->op_count - 1].reg == ARM_REG_LR))
		return DISASM_KIND_RETURN;
	bool loads_pc = false, from_sp = false;
	for (unsigned i = 0; i < a->op_count; i++) {
		if (a->operands[i].type == ARM_OP_REG && a->operands[i].reg == ARM_REG_PC)
			loads_pc = true;
		if ((a->operands[i].type == ARM_OP_REG && a->operands[i].reg == ARM_REG_SP) ||
		    (a->operands[i].type == ARM_OP_MEM && a->operands[i].mem.base == ARM_REG_SP))
			from_sp = true;
	}
	if (loads_pc && (in->id == ARM_INS_POP ||
			 ((in->id == ARM_INS_LDM || in->id == ARM_INS_LDR) && from_sp)))
		return DISASM_KIND_RETURN;
	return DISASM_KIND_JUMP;
}

/* A32/T32: besides the branch groups, anything that writes the PC
 * (mov pc, ldr pc, pop {..pc}, ldm ..{pc}, add pc, tbb/tbh). */
static void classify_arm(const cs_insn *in, struct disasm_insn *out)
{
	const cs_detail *d = in->detail;
	out->flow = in_group(d, CS_GRP_JUMP) || in_group(d, CS_GRP_CALL) ||
		    in_group(d, CS_GRP_RET) || in_group(d, CS_GRP_INT) ||
		    in_group(d, CS_GRP_IRET) || in_group(d, CS_GRP_BRANCH_RELATIVE);
	for (unsigned i = 0; i < d->regs_write_count; i++)
		if (d->regs_write[i] == ARM_REG_PC)
			out->flow = true;
	const cs_arm *a = &d->arm;
	/* The PC as destination (operand 0), or in a register list loaded
	 * from memory. */
	if (a->op_count >= 1 && a->operands[0].type == ARM_OP_REG &&
	    a->operands[0].reg == ARM_REG_PC && in->id != ARM_INS_PUSH && in->id != ARM_INS_STR &&
	    in->id != ARM_INS_CMP && in->id != ARM_INS_STM && in->id != ARM_INS_STMDB)
		out->flow = true;
	if (in->id == ARM_INS_POP || in->id == ARM_INS_LDM || in->id == ARM_INS_LDMDA ||
	    in->id == ARM_INS_LDMDB || in->id == ARM_INS_LDMIB)
		for (unsigned i = 0; i < a->op_count; i++)
			if (a->operands[i].type == ARM_OP_REG && a->operands[i].reg == ARM_REG_PC)
				out->flow = true;
	switch (in->id) {
	case ARM_INS_B: case ARM_INS_BL: case ARM_INS_BX: case ARM_INS_BLX:
	case ARM_INS_BXJ: case ARM_INS_CBZ: case ARM_INS_CBNZ: case ARM_INS_TBB:
	case ARM_INS_TBH: case ARM_INS_SVC: case ARM_INS_BKPT: case ARM_INS_UDF:
	case ARM_INS_ERET: case ARM_INS_HVC: case ARM_INS_SMC:
		out->flow = true;
		break;
	default:
		break;
	}
	out->syscall = in->id == ARM_INS_SVC;
	if (in->id == ARM_INS_LDREX || in->id == ARM_INS_LDREXB || in->id == ARM_INS_LDREXH ||
	    in->id == ARM_INS_LDREXD)
		out->flow = out->exclusive = true;
	if (in->id == ARM_INS_IT && in->size == 2) {
		unsigned mask = in->bytes[0] & 0xf;
		out->it_count = mask & 1 ? 4 : mask & 2 ? 3 : mask & 4 ? 2 : 1;
		out->flow = true;
	}
	out->kind = out->flow ? arm_kind(in) : DISASM_KIND_OTHER;
	if (out->flow && a->op_count >= 1 && a->operands[a->op_count - 1].type == ARM_OP_IMM &&
	    (in->id == ARM_INS_B || in->id == ARM_INS_BL || in->id == ARM_INS_BLX ||
	     in->id == ARM_INS_CBZ || in->id == ARM_INS_CBNZ)) {
		out->has_target = true;
		out->target = (uint32_t)a->operands[a->op_count - 1].imm;
	}
}

const struct cs_insn *disasm_raw(enum disasm_isa isa, const uint8_t *code, size_t avail,
				 uint64_t addr)
{
	if ((unsigned)isa > DISASM_T32 || !open_isa(isa))
		return NULL;
	cs_insn *in = cs.isa[isa].insn;
	const uint8_t *p = code;
	size_t left = avail;
	uint64_t a = addr;
	if (!cs.disasm_iter(cs.isa[isa].handle, &p, &left, &a, in) || !in->detail)
		return NULL;
	return in;
}

int disasm_one(enum disasm_isa isa, const uint8_t *code, size_t avail, uint64_t addr,
	       struct disasm_insn *out)
{
	memset(out, 0, sizeof *out);
	if ((unsigned)isa > DISASM_T32 || !open_isa(isa))
		return -1;
	cs_insn *in = cs.isa[isa].insn;
	const uint8_t *p = code;
	size_t left = avail;
	uint64_t a = addr;
	if (!cs.disasm_iter(cs.isa[isa].handle, &p, &left, &a, in))
		return -1;
	out->size = in->size;
	snprintf(out->text, sizeof out->text, "%s %s", in->mnemonic, in->op_str);
	if (!in->detail) {
		out->flow = true;
		return (int)out->size;
	}
	switch (isa) {
	case DISASM_X86_64: classify_x86(in, out); break;
	case DISASM_A64: classify_a64(in, out); break;
	case DISASM_A32:
	case DISASM_T32: classify_arm(in, out); break;
	}
	return (int)out->size;
}
