/* What an agent expression may touch of the program: struct ax_env, the
 * callbacks the evaluator (ax.h) and its printf formatter (ax_printf.h)
 * reach the program through. */
#ifndef AGENT_AX_ENV_H
#define AGENT_AX_ENV_H

#include <stddef.h>
#include <stdint.h>

#define AX_PRINTF_MAX 4096      /* bytes of output one printf opcode may produce */
#define AX_STRING_MAX 4096      /* bytes a %s or tracenz reads from the program */

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

#endif
