/* GDB agent expressions: the bytecode gdb compiles breakpoint conditions,
 * dprintf calls and tracepoint collections into (GDB manual, "The GDB Agent
 * Expression Mechanism"; opcodes as gdb 13's gdbsupport/ax.def).
 *
 * The evaluator knows nothing of sockets, ptrace or packets: every access to
 * the program (memory, registers, trace state variables, collection into a
 * trace frame, printf output) goes through struct ax_env, so it is tested and
 * fuzzed in-process. A bad expression gets an error naming the opcode and its
 * offset, never a crash or a hang: the stack is bounded, the number of steps
 * is bounded, jumps and operands are checked against the code length. */
#ifndef AGENT_AX_H
#define AGENT_AX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/ax_env.h"

#define AX_MAX_CODE   4096      /* bytes of bytecode one expression may hold */
#define AX_STACK_MAX  1024      /* values on the evaluation stack */
#define AX_STEP_LIMIT 1000000u  /* opcodes executed before giving up (loops) */

struct ax_expr {
	uint8_t *code;
	size_t len;
};

/* Parse LEN,HEX as sent in Z ;X, QTDP X and cmds: ("2,2601" form: the
 * caller passes the part after the comma with its byte count). */
int ax_parse_hex(const char *hex, size_t hexlen, size_t nbytes, struct ax_expr *out,
		 char *err, size_t errlen);
void ax_expr_free(struct ax_expr *expr);

/* Run EXPR. *RESULT gets the top of stack at `end` (0 if the stack is
 * empty). Returns 0, or -1 with ERR saying what went wrong and where.
 * Values are 64-bit; memory (ref8..ref64) is read in little-endian order,
 * the order of every target this server runs on (x86_64, aarch64, arm).
 * Floating-point opcodes are refused, as gdbserver refuses them. */
int ax_eval(const struct ax_expr *expr, const struct ax_env *env, int64_t *result,
	    char *err, size_t errlen);

#endif
