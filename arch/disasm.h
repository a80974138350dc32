/* One shared, lazily loaded capstone for every architecture: the software
 * branch recorder asks where the next control-flow instruction is. */
#ifndef ARCH_DISASM_H
#define ARCH_DISASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum disasm_isa {
	DISASM_X86_64,
	DISASM_A64,
	DISASM_A32,
	DISASM_T32,
};

/* What a control-flow instruction is, for call histories. */
enum disasm_kind {
	DISASM_KIND_OTHER,
	DISASM_KIND_JUMP,
	DISASM_KIND_CALL,      /* x86 call, A64 bl/blr, A32/T32 bl/blx */
	DISASM_KIND_RETURN,    /* ret, bx lr, pop {..pc}, ldm sp!, {..pc}, eret/iret */
};

struct disasm_insn {
	unsigned size;
	enum disasm_kind kind;
	/* Execution may not go on at the next instruction: jumps, calls,
	 * returns, system calls, traps, anything that writes the PC. When in
	 * doubt, true (the recorder then single-steps it, which is always
	 * right). */
	bool flow;
	bool syscall;       /* syscall / svc: the address space may change */
	/* Thumb IT: the instructions it makes conditional (1-4) are stepped
	 * with it as one (a breakpoint inside could be skipped), so it counts
	 * as a flow instruction without being a branch itself. */
	unsigned it_count;
	/* ARM ldrex*: its sequence up to the strex is stepped as one too (a
	 * stop in between clears the exclusive monitor: the store would fail
	 * at every retry). A flow instruction for the same reason. */
	bool exclusive;
	bool has_target;    /* a direct branch; TARGET is where it goes if taken */
	uint64_t target;
	char text[200];     /* mnemonic and operands, for debug output */
};

/* Load capstone (once); false with a reason in *WHY when it cannot be. */
bool disasm_available(const char **why);
/* Decode the instruction at ADDR from CODE (AVAIL bytes there). Returns
 * its size, or -1 when it does not decode (or capstone is missing). */
int disasm_one(enum disasm_isa isa, const uint8_t *code, size_t avail, uint64_t addr,
	       struct disasm_insn *out);

/* The same decode as capstone gives it (struct cs_insn with detail), for
 * an architecture's branch emulation; NULL when it does not decode. Valid
 * until the next call. */
struct cs_insn;
const struct cs_insn *disasm_raw(enum disasm_isa isa, const uint8_t *code, size_t avail,
				 uint64_t addr);

#endif
