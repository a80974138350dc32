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

#define AX_MAX_CODE   4096      /* bytes of bytecode one expression may hold */
#define AX_STACK_MAX  1024      /* values on the evaluation stack */
#define AX_STEP_LIMIT 1000000u  /* opcodes executed before giving up (loops) */
#define AX_PRINTF_MAX 4096      /* bytes of output one printf opcode may produce */
#define AX_STRING_MAX 4096      /* bytes a %s or tracenz reads from the program */

struct ax_expr {
	uint8_t *code;
	size_t len;
};

/* What an expression may touch. A NULL callback makes the opcodes needing it
 * fail with an error ("tracing not allowed here", "no trace state
 * variables"). Callbacks return 0 on success, -1 on failure. */
struct ax_env {
	void *ctx;
	int (*read_mem)(void *ctx, uint64_t addr, void *buf, size_t len);
	int (*read_reg)(void *ctx, unsigned regno, uint64_t *value);
	/* trace / trace_quick / trace16 / tracenz: record memory in the frame */
	int (*collect_mem)(void *ctx, uint64_t addr, uint64_t len);
	/* tracev: record a trace state variable's value in the frame */
	int (*collect_var)(void *ctx, unsigned num);
	int (*get_var)(void *ctx, unsigned num, int64_t *value);
	int (*set_var)(void *ctx, unsigned num, int64_t value);
	/* printf: TEXT is the formatted output */
	int (*print)(void *ctx, const char *text, size_t len);
	unsigned addr_bits;     /* target address size: 32 or 64 (masks addresses) */
	unsigned long step_limit;  /* opcodes before giving up; 0: AX_STEP_LIMIT */
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
