/* The shared capstone wrapper (arch/disasm.c): which instructions end a
 * block for the software branch recorder, on every instruction set, and
 * the x86_64 and aarch64 branch emulation of its fast path, and where
 * arm steps go without hardware single-step. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "arch/arch.h"
#include "arch/disasm.h"
#include "testsuite/unit/check.h"

struct sample {
	enum disasm_isa isa;
	uint8_t code[8];
	unsigned size;
	bool flow, syscall;
	uint64_t target;        /* 0: none */
};

static const struct sample samples[] = {
	/* x86_64, at 0x1000 */
	{DISASM_X86_64, {0x48, 0x89, 0xe5}, 3, false, false, 0},          /* mov %rsp,%rbp */
	{DISASM_X86_64, {0x75, 0x10}, 2, true, false, 0x1012},            /* jne */
	{DISASM_X86_64, {0xe8, 0, 1, 0, 0}, 5, true, false, 0x1105},      /* call */
	{DISASM_X86_64, {0xc3}, 1, true, false, 0},                       /* ret */
	{DISASM_X86_64, {0xff, 0xd0}, 2, true, false, 0},                 /* call *%rax */
	{DISASM_X86_64, {0xff, 0x24, 0xc5, 0, 0, 0, 0}, 7, true, false, 0}, /* jmp *(,%rax,8) */
	{DISASM_X86_64, {0x0f, 0x05}, 2, true, true, 0},                  /* syscall */
	{DISASM_X86_64, {0xcc}, 1, true, false, 0},                       /* int3 */
	{DISASM_X86_64, {0xf3, 0xa4}, 2, false, false, 0},                /* rep movsb */
	{DISASM_X86_64, {0x0f, 0xa2}, 2, false, false, 0},                /* cpuid */
	/* A64 */
	{DISASM_A64, {0x00, 0x04, 0x00, 0x91}, 4, false, false, 0},       /* add x0, x0, #1 */
	{DISASM_A64, {0x01, 0x01, 0x00, 0x54}, 4, true, false, 0x1020},   /* b.ne +0x20 */
	{DISASM_A64, {0x04, 0x00, 0x00, 0x94}, 4, true, false, 0x1010},   /* bl +0x10 */
	{DISASM_A64, {0xc0, 0x03, 0x5f, 0xd6}, 4, true, false, 0},        /* ret */
	{DISASM_A64, {0x20, 0x00, 0x3f, 0xd6}, 4, true, false, 0},        /* blr x1 */
	{DISASM_A64, {0x01, 0x00, 0x00, 0xd4}, 4, true, true, 0},         /* svc #0 */
	{DISASM_A64, {0x40, 0x00, 0x00, 0xb4}, 4, true, false, 0x1008},   /* cbz x0, +8 */
	{DISASM_A64, {0x40, 0xfc, 0x5f, 0x88}, 4, true, false, 0},        /* ldaxr w0, [x2] */
	/* A32 */
	{DISASM_A32, {0x01, 0x00, 0x80, 0xe2}, 4, false, false, 0},       /* add r0, r0, #1 */
	{DISASM_A32, {0x02, 0x00, 0x00, 0x1a}, 4, true, false, 0x1010},   /* bne +8 (+8 pipeline) */
	{DISASM_A32, {0x1e, 0xff, 0x2f, 0xe1}, 4, true, false, 0},        /* bx lr */
	{DISASM_A32, {0x10, 0x80, 0xbd, 0xe8}, 4, true, false, 0},        /* pop {r4, pc} */
	{DISASM_A32, {0x04, 0xf0, 0x9d, 0xe4}, 4, true, false, 0},        /* ldr pc, [sp], #4 */
	{DISASM_A32, {0x0e, 0xf0, 0xa0, 0xe1}, 4, true, false, 0},        /* mov pc, lr */
	{DISASM_A32, {0x00, 0x00, 0x00, 0xef}, 4, true, true, 0},         /* svc #0 */
	/* T32 */
	{DISASM_T32, {0x01, 0x30}, 2, false, false, 0},                   /* adds r0, #1 */
	{DISASM_T32, {0x70, 0x47}, 2, true, false, 0},                    /* bx lr */
	{DISASM_T32, {0x10, 0xbd}, 2, true, false, 0},                    /* pop {r4, pc} */
	{DISASM_T32, {0x00, 0xf0, 0x08, 0xf8}, 4, true, false, 0x1014},   /* bl +0x10 */
	{DISASM_T32, {0x10, 0xb1}, 2, true, false, 0x1008},               /* cbz r0, +4 */
	{DISASM_T32, {0x00, 0xdf}, 2, true, true, 0},                     /* svc #0 */
	{DISASM_T32, {0x7a, 0x44}, 2, false, false, 0},                   /* add r2, pc */
	{DISASM_T32, {0x98, 0xbf}, 2, true, false, 0},                    /* it ls */
	{DISASM_T32, {0x9f, 0x44}, 2, true, false, 0},                    /* add pc, r3 */
	{DISASM_A32, {0x03, 0xf1, 0x8f, 0xe0}, 4, true, false, 0},        /* add pc, pc, r3, lsl #2 */
	{DISASM_A32, {0x04, 0xe0, 0x2d, 0xe5}, 4, false, false, 0},       /* push {lr} */
};

static void test_classify(void)
{
	for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
		const struct sample *s = &samples[i];
		struct disasm_insn in;
		int n = disasm_one(s->isa, s->code, sizeof s->code, 0x1000, &in);
		if (n != (int)s->size || in.flow != s->flow || in.syscall != s->syscall ||
		    (s->target && (!in.has_target || in.target != s->target)))
			fprintf(stderr, "sample %zu (isa %d): size %d flow %d syscall %d target %#llx (%s)\n",
				i, s->isa, n, in.flow, in.syscall, (unsigned long long)in.target, in.text);
		CHECK(n == (int)s->size);
		CHECK(in.flow == s->flow);
		CHECK(in.syscall == s->syscall);
		CHECK(!s->target || (in.has_target && in.target == s->target));
	}
	struct disasm_insn in;
	uint8_t junk[] = {0xff, 0xff};
	CHECK(disasm_one(DISASM_A64, junk, sizeof junk, 0, &in) == -1);   /* too short */
}

/* ---- x86_64 emulation --------------------------------------------------- */

static uint8_t stack[64];
#define STACK_BASE 0x7000

static ssize_t fake_mem(void *ctx, bool write, uint64_t addr, void *buf, size_t len)
{
	(void)ctx;
	if (addr < STACK_BASE || addr + len > STACK_BASE + sizeof stack)
		return -1;
	if (write)
		memcpy(stack + (addr - STACK_BASE), buf, len);
	else
		memcpy(buf, stack + (addr - STACK_BASE), len);
	return (ssize_t)len;
}

static uint64_t reg(const uint8_t *regs, const char *name)
{
	return arch_reg_get(&the_regfile, regs, arch_regno(&the_regfile, name));
}

static void set(uint8_t *regs, const char *name, uint64_t v)
{
	arch_reg_set(&the_regfile, regs, arch_regno(&the_regfile, name), v);
}

static void test_x86_emulation(void)
{
	if (strcmp(the_arch.name, "x86_64") != 0 || !the_arch.emulate_branch)
		return;
	uint8_t regs[4096];
	CHECK(the_regfile.size <= sizeof regs);
	memset(regs, 0, sizeof regs);
	set(regs, "rip", 0x1000);
	set(regs, "rsp", STACK_BASE + 32);
	uint8_t jne[] = {0x75, 0x10};
	set(regs, "eflags", 0x40);   /* ZF: not taken */
	CHECK(the_arch.emulate_branch(jne, sizeof jne, regs, fake_mem, NULL));
	CHECK(reg(regs, "rip") == 0x1002);
	set(regs, "rip", 0x1000);
	set(regs, "eflags", 0);
	CHECK(the_arch.emulate_branch(jne, sizeof jne, regs, fake_mem, NULL));
	CHECK(reg(regs, "rip") == 0x1012);
	uint8_t jl[] = {0x7c, 0x10};    /* SF != OF */
	set(regs, "rip", 0x1000);
	set(regs, "eflags", 0x80);
	CHECK(the_arch.emulate_branch(jl, sizeof jl, regs, fake_mem, NULL) && reg(regs, "rip") == 0x1012);
	uint8_t call[] = {0xe8, 0, 1, 0, 0};
	set(regs, "rip", 0x1000);
	CHECK(the_arch.emulate_branch(call, sizeof call, regs, fake_mem, NULL));
	CHECK(reg(regs, "rip") == 0x1105 && reg(regs, "rsp") == STACK_BASE + 24);
	uint64_t pushed;
	memcpy(&pushed, stack + 24, 8);
	CHECK(pushed == 0x1005);
	uint8_t ret[] = {0xc3};
	CHECK(the_arch.emulate_branch(ret, sizeof ret, regs, fake_mem, NULL));
	CHECK(reg(regs, "rip") == 0x1005 && reg(regs, "rsp") == STACK_BASE + 32);
	uint8_t call_rax[] = {0xff, 0xd0};
	set(regs, "rax", 0x4242);
	CHECK(the_arch.emulate_branch(call_rax, sizeof call_rax, regs, fake_mem, NULL));
	CHECK(reg(regs, "rip") == 0x4242);
	/* jmp *0x8(%rsp): through memory */
	uint8_t jmp_mem[] = {0xff, 0x64, 0x24, 0x08};
	uint64_t slot = 0x5555;
	memcpy(stack + (reg(regs, "rsp") + 8 - STACK_BASE), &slot, 8);
	CHECK(the_arch.emulate_branch(jmp_mem, sizeof jmp_mem, regs, fake_mem, NULL));
	CHECK(reg(regs, "rip") == 0x5555);
	/* Not emulated (stepped instead), registers untouched. */
	uint8_t sys[] = {0x0f, 0x05};
	set(regs, "rip", 0x1000);
	CHECK(!the_arch.emulate_branch(sys, sizeof sys, regs, fake_mem, NULL));
	CHECK(reg(regs, "rip") == 0x1000);
	uint8_t loop[] = {0xe2, 0x10};
	CHECK(!the_arch.emulate_branch(loop, sizeof loop, regs, fake_mem, NULL));
}

static void test_a64_emulation(void)
{
	if (strcmp(the_arch.name, "aarch64") != 0 || !the_arch.emulate_branch)
		return;
	uint8_t regs[4096];
	CHECK(the_regfile.size <= sizeof regs);
	memset(regs, 0, sizeof regs);
	set(regs, "pc", 0x1000);
	uint8_t bne[] = {0x01, 0x01, 0x00, 0x54};    /* b.ne +0x20 */
	set(regs, "cpsr", 0x40000000);              /* Z: not taken */
	CHECK(the_arch.emulate_branch(bne, 4, regs, fake_mem, NULL) && reg(regs, "pc") == 0x1004);
	set(regs, "pc", 0x1000);
	set(regs, "cpsr", 0);
	CHECK(the_arch.emulate_branch(bne, 4, regs, fake_mem, NULL) && reg(regs, "pc") == 0x1020);
	uint8_t bl[] = {0x04, 0x00, 0x00, 0x94};     /* bl +0x10 */
	set(regs, "pc", 0x1000);
	CHECK(the_arch.emulate_branch(bl, 4, regs, fake_mem, NULL));
	CHECK(reg(regs, "pc") == 0x1010 && reg(regs, "x30") == 0x1004);
	uint8_t ret[] = {0xc0, 0x03, 0x5f, 0xd6};
	CHECK(the_arch.emulate_branch(ret, 4, regs, fake_mem, NULL) && reg(regs, "pc") == 0x1004);
	uint8_t blr_x1[] = {0x20, 0x00, 0x3f, 0xd6};
	set(regs, "x1", 0x4000);
	CHECK(the_arch.emulate_branch(blr_x1, 4, regs, fake_mem, NULL));
	CHECK(reg(regs, "pc") == 0x4000 && reg(regs, "x30") == 0x1008);
	uint8_t cbz_x0[] = {0x40, 0x00, 0x00, 0xb4}; /* cbz x0, +8 */
	set(regs, "pc", 0x1000);
	set(regs, "x0", 5);
	CHECK(the_arch.emulate_branch(cbz_x0, 4, regs, fake_mem, NULL) && reg(regs, "pc") == 0x1004);
	set(regs, "pc", 0x1000);
	set(regs, "x0", 0);
	CHECK(the_arch.emulate_branch(cbz_x0, 4, regs, fake_mem, NULL) && reg(regs, "pc") == 0x1008);
	uint8_t tbnz[] = {0x40, 0x00, 0x08, 0x37};   /* tbnz w0, #1, +8 */
	set(regs, "pc", 0x1000);
	set(regs, "x0", 2);
	CHECK(the_arch.emulate_branch(tbnz, 4, regs, fake_mem, NULL) && reg(regs, "pc") == 0x1008);
	uint8_t svc[] = {0x01, 0x00, 0x00, 0xd4};
	set(regs, "pc", 0x1000);
	CHECK(!the_arch.emulate_branch(svc, 4, regs, fake_mem, NULL) && reg(regs, "pc") == 0x1000);
	/* glibc's outline-atomics CAS without LSE: ldaxr; cmp; b.ne out;
	 * stxr; cbnz retry; out: ret. Run as one: to the cbnz or to out. */
	static const uint8_t cas[] = {0x40, 0xfc, 0x5f, 0x88, 0x1f, 0x00, 0x10, 0x6b,
				      0x61, 0x00, 0x00, 0x54, 0x41, 0x7c, 0x11, 0x88,
				      0x91, 0xff, 0xff, 0x35, 0xc0, 0x03, 0x5f, 0xd6};
	struct disasm_insn in;
	CHECK(disasm_one(DISASM_A64, cas, sizeof cas, 0x1000, &in) == 4 && in.exclusive);
	memset(stack, 0, sizeof stack);
	memcpy(stack, cas, sizeof cas);
	set(regs, "pc", STACK_BASE);
	uint64_t out[2];
	CHECK(the_arch.step_targets && the_arch.step_targets(stack, sizeof stack, regs, fake_mem,
							     NULL, out) == 2 &&
	      out[0] == STACK_BASE + 0x10 && out[1] == STACK_BASE + 0x14);
	/* anything else is single-stepped */
	set(regs, "pc", 0x1000);
	CHECK(the_arch.step_targets && the_arch.step_targets(bl, 4, regs, fake_mem, NULL, out) == -1);
	/* no store-exclusive within reach: single-stepped too */
	memset(stack + 4, 0, sizeof stack - 4);
	set(regs, "pc", STACK_BASE);
	CHECK(the_arch.step_targets && the_arch.step_targets(stack, sizeof stack, regs, fake_mem,
							     NULL, out) == -1);
}

static void test_arm_step_targets(void)
{
	if (strcmp(the_arch.name, "arm") != 0 || !the_arch.step_targets)
		return;
	uint8_t regs[4096];
	memset(regs, 0, sizeof regs);
	uint64_t out[2];
	set(regs, "pc", 0x1000);
	set(regs, "sp", STACK_BASE + 16);
	set(regs, "lr", 0x2001);
	/* A32 (cpsr.T clear) */
	uint8_t add[] = {0x01, 0x00, 0x80, 0xe2};
	CHECK(the_arch.step_targets(add, 4, regs, fake_mem, NULL, out) == 1 && out[0] == 0x1004);
	uint8_t bne[] = {0x02, 0x00, 0x00, 0x1a};
	CHECK(the_arch.step_targets(bne, 4, regs, fake_mem, NULL, out) == 2 &&
	      out[0] == 0x1004 && out[1] == 0x1010);
	uint8_t b[] = {0x02, 0x00, 0x00, 0xea};      /* b +8, always */
	CHECK(the_arch.step_targets(b, 4, regs, fake_mem, NULL, out) == 1 && out[0] == 0x1010);
	uint8_t bx_lr[] = {0x1e, 0xff, 0x2f, 0xe1};
	CHECK(the_arch.step_targets(bx_lr, 4, regs, fake_mem, NULL, out) == 1 && out[0] == 0x2001);
	uint32_t words[] = {0x3000, 0x4001};
	memcpy(stack + 16, words, sizeof words);
	uint8_t pop[] = {0x10, 0x80, 0xbd, 0xe8};    /* pop {r4, pc}: pc from sp+4 */
	CHECK(the_arch.step_targets(pop, 4, regs, fake_mem, NULL, out) == 1 && out[0] == 0x4001);
	uint8_t ldr_post[] = {0x04, 0xf0, 0x9d, 0xe4}; /* ldr pc, [sp], #4: pc from sp */
	CHECK(the_arch.step_targets(ldr_post, 4, regs, fake_mem, NULL, out) == 1 && out[0] == 0x3000);
	uint8_t svc[] = {0x00, 0x00, 0x00, 0xef};
	CHECK(the_arch.step_targets(svc, 4, regs, fake_mem, NULL, out) == 0);
	uint8_t add_pc[] = {0x03, 0xf1, 0x8f, 0xe0};   /* add pc, pc, r3, lsl #2 */
	set(regs, "r3", 2);
	CHECK(the_arch.step_targets(add_pc, 4, regs, fake_mem, NULL, out) == 1 && out[0] == 0x1010);
	/* T32 (cpsr.T set) */
	set(regs, "cpsr", 0x20);
	uint8_t tbx_lr[] = {0x70, 0x47};
	CHECK(the_arch.step_targets(tbx_lr, 2, regs, fake_mem, NULL, out) == 1 && out[0] == 0x2001);
	uint8_t tpop[] = {0x10, 0xbd};               /* pop {r4, pc} */
	CHECK(the_arch.step_targets(tpop, 2, regs, fake_mem, NULL, out) == 1 && out[0] == 0x4001);
	uint8_t tbne[] = {0x01, 0xd1};               /* bne.n +6 */
	CHECK(the_arch.step_targets(tbne, 2, regs, fake_mem, NULL, out) == 2 &&
	      out[0] == 0x1003 && out[1] == 0x1007);
	uint8_t tadd[] = {0x01, 0x30};
	CHECK(the_arch.step_targets(tadd, 2, regs, fake_mem, NULL, out) == 1 && out[0] == 0x1003);
	/* it ls; subls r3, r5, r3; bls.n: the block is one step, to the bls */
	uint8_t it_ls[] = {0x98, 0xbf, 0xeb, 0x1a, 0x11, 0xd9};
	CHECK(the_arch.step_targets(it_ls, sizeof it_ls, regs, fake_mem, NULL, out) == 1 &&
	      out[0] == 0x1005);
	/* it ne; bxne lr: after the block, or lr */
	uint8_t it_bx[] = {0x18, 0xbf, 0x70, 0x47};
	CHECK(the_arch.step_targets(it_bx, sizeof it_bx, regs, fake_mem, NULL, out) == 2 &&
	      out[0] == 0x1005 && out[1] == 0x2001);
	/* itt ne; movne r3, r0; bxne r3: r3 is not known yet */
	uint8_t itt_bx[] = {0x1c, 0xbf, 0x03, 0x46, 0x18, 0x47};
	CHECK(the_arch.step_targets(itt_bx, sizeof itt_bx, regs, fake_mem, NULL, out) == -1);
	uint8_t cbz[] = {0x10, 0xb1};                /* cbz r0, +4 */
	CHECK(the_arch.step_targets(cbz, 2, regs, fake_mem, NULL, out) == 2 && out[1] == 0x1009);
	/* tbb [r0, r1]: a byte table at STACK_BASE, entry 2 = 5 halfwords */
	stack[2] = 5;
	set(regs, "r0", STACK_BASE);
	set(regs, "r1", 2);
	uint8_t tbb[] = {0xd0, 0xe8, 0x01, 0xf0};
	/* only the table's target: a breakpoint after tbb would be in its table */
	CHECK(the_arch.step_targets(tbb, 4, regs, fake_mem, NULL, out) == 1 &&
	      out[0] == (0x1004 + 10) + 1);
	/* ldrex; cmp; bne out; strex; cmp; bne retry; out: bx lr. A stop
	 * before the strex would make it fail for ever: one step to after
	 * the strex, or to out. */
	static const uint8_t t_cas[] = {0x50, 0xe8, 0x00, 0x3f, 0x8b, 0x42, 0x04, 0xd1,
					0x40, 0xe8, 0x00, 0x2c, 0xbc, 0xf1, 0x00, 0x0f,
					0xf6, 0xd1, 0x70, 0x47};
	memset(stack, 0, sizeof stack);
	memcpy(stack, t_cas, sizeof t_cas);
	set(regs, "pc", STACK_BASE);
	CHECK(the_arch.step_targets(stack, sizeof stack, regs, fake_mem, NULL, out) == 2 &&
	      out[0] == (STACK_BASE + 0xc) + 1 && out[1] == (STACK_BASE + 0x12) + 1);
	static const uint8_t a_cas[] = {0x9f, 0x3f, 0x90, 0xe1, 0x01, 0x00, 0x53, 0xe1,
					0x02, 0x00, 0x00, 0x1a, 0x92, 0xcf, 0x80, 0xe1,
					0x00, 0x00, 0x5c, 0xe3, 0xf9, 0xff, 0xff, 0x1a,
					0x1e, 0xff, 0x2f, 0xe1};
	memset(stack, 0, sizeof stack);
	memcpy(stack, a_cas, sizeof a_cas);
	set(regs, "cpsr", 0);
	CHECK(the_arch.step_targets(stack, sizeof stack, regs, fake_mem, NULL, out) == 2 &&
	      out[0] == STACK_BASE + 0x10 && out[1] == STACK_BASE + 0x18);
	struct disasm_insn in;
	CHECK(disasm_one(DISASM_A32, a_cas, sizeof a_cas, STACK_BASE, &in) == 4 && in.flow &&
	      in.exclusive);
	/* no strex within reach: just the next instruction */
	memset(stack + 12, 0, sizeof stack - 12);
	CHECK(the_arch.step_targets(stack, sizeof stack, regs, fake_mem, NULL, out) == 1 &&
	      out[0] == STACK_BASE + 4);
	/* glibc 2.36's pthread_barrier_wait: ldrex; cmp; itt eq; strexeq;
	 * cmpeq; mov; bne retry. The strex is conditional, in an IT block:
	 * one step to the end of the block. */
	static const uint8_t t_it_cas[] = {0x59, 0xe8, 0x00, 0x3f, 0x53, 0x45, 0x04, 0xbf,
					   0x49, 0xe8, 0x00, 0x72, 0x00, 0x2a, 0x9a, 0x46,
					   0xeb, 0xd1};
	memset(stack, 0, sizeof stack);
	memcpy(stack, t_it_cas, sizeof t_it_cas);
	set(regs, "cpsr", 0x20);
	CHECK(the_arch.step_targets(stack, sizeof stack, regs, fake_mem, NULL, out) == 1 &&
	      out[0] == (STACK_BASE + 0xe) + 1);
	/* a branch inside that IT block is the sequence's exit too */
	static const uint8_t t_it_branch[] = {0x59, 0xe8, 0x00, 0x3f, 0x53, 0x45, 0x0c, 0xbf,
					      0x49, 0xe8, 0x00, 0x72, 0x00, 0xe0, 0x9a, 0x46};
	memset(stack, 0, sizeof stack);
	memcpy(stack, t_it_branch, sizeof t_it_branch);
	CHECK(the_arch.step_targets(stack, sizeof stack, regs, fake_mem, NULL, out) == 2 &&
	      out[0] == (STACK_BASE + 0xe) + 1 && out[1] == (STACK_BASE + 0x10) + 1);
}

/* What a control-flow instruction is for call histories (the software
 * recorder's blocks in qXfer:btrace-calls). */
static void test_kinds(void)
{
	static const struct {
		enum disasm_isa isa;
		uint8_t code[8];
		enum disasm_kind kind;
	} k[] = {
		{DISASM_X86_64, {0xe8, 0, 1, 0, 0}, DISASM_KIND_CALL},           /* call */
		{DISASM_X86_64, {0xff, 0xd0}, DISASM_KIND_CALL},                 /* call *%rax */
		{DISASM_X86_64, {0xc3}, DISASM_KIND_RETURN},                     /* ret */
		{DISASM_X86_64, {0x75, 0x10}, DISASM_KIND_JUMP},                 /* jne */
		{DISASM_X86_64, {0x48, 0x89, 0xe5}, DISASM_KIND_OTHER},          /* mov */
		{DISASM_A64, {0x04, 0x00, 0x00, 0x94}, DISASM_KIND_CALL},        /* bl */
		{DISASM_A64, {0x20, 0x00, 0x3f, 0xd6}, DISASM_KIND_CALL},        /* blr x1 */
		{DISASM_A64, {0xc0, 0x03, 0x5f, 0xd6}, DISASM_KIND_RETURN},      /* ret */
		{DISASM_A64, {0x01, 0x01, 0x00, 0x54}, DISASM_KIND_JUMP},        /* b.ne */
		{DISASM_A64, {0x00, 0x04, 0x00, 0x91}, DISASM_KIND_OTHER},       /* add */
		{DISASM_A32, {0x1e, 0xff, 0x2f, 0xe1}, DISASM_KIND_RETURN},      /* bx lr */
		{DISASM_A32, {0x10, 0x80, 0xbd, 0xe8}, DISASM_KIND_RETURN},      /* pop {r4, pc} */
		{DISASM_A32, {0x04, 0xf0, 0x9d, 0xe4}, DISASM_KIND_RETURN},      /* ldr pc, [sp], #4 */
		{DISASM_A32, {0x0e, 0xf0, 0xa0, 0xe1}, DISASM_KIND_RETURN},      /* mov pc, lr */
		{DISASM_A32, {0x02, 0x00, 0x00, 0xeb}, DISASM_KIND_CALL},        /* bl */
		{DISASM_A32, {0x33, 0xff, 0x2f, 0xe1}, DISASM_KIND_CALL},        /* blx r3 */
		{DISASM_A32, {0x02, 0x00, 0x00, 0x1a}, DISASM_KIND_JUMP},        /* bne */
		{DISASM_A32, {0x03, 0xf1, 0x8f, 0xe0}, DISASM_KIND_JUMP},        /* add pc, pc, r3, lsl #2 */
		{DISASM_A32, {0x04, 0xe0, 0x2d, 0xe5}, DISASM_KIND_OTHER},       /* push {lr} */
		{DISASM_T32, {0x70, 0x47}, DISASM_KIND_RETURN},                  /* bx lr */
		{DISASM_T32, {0x10, 0xbd}, DISASM_KIND_RETURN},                  /* pop {r4, pc} */
		{DISASM_T32, {0x00, 0xf0, 0x08, 0xf8}, DISASM_KIND_CALL},        /* bl */
		{DISASM_T32, {0x98, 0x47}, DISASM_KIND_CALL},                    /* blx r3 */
		{DISASM_T32, {0x10, 0xb1}, DISASM_KIND_JUMP},                    /* cbz */
		{DISASM_T32, {0x01, 0x30}, DISASM_KIND_OTHER},                   /* adds */
	};
	for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
		struct disasm_insn in;
		int n = disasm_one(k[i].isa, k[i].code, sizeof k[i].code, 0x1000, &in);
		if (n <= 0 || in.kind != k[i].kind)
			fprintf(stderr, "kind %zu: got %d for %s\n", i, (int)in.kind, in.text);
		CHECK(n > 0 && in.kind == k[i].kind);
	}
}

int main(void)
{
	CHECK(arch_init() == 0);
	const char *why;
	if (!disasm_available(&why)) {
		printf("test_arch_disasm: libcapstone missing: %s\n", why);
		CHECK(0);
		return check_done("test_arch_disasm");
	}
	test_classify();
	test_x86_emulation();
	test_a64_emulation();
	test_arm_step_targets();
	test_kinds();
	return check_done("test_arch_disasm");
}
