/* Agent expression bytecode: parsing and evaluation (see ax.h). */
#include "agent/ax.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/ax_printf.h"
#include "common/err.h"
#include "common/hex.h"
#include "common/le.h"

int ax_parse_hex(const char *hex, size_t hexlen, size_t nbytes, struct ax_expr *out,
		 char *err, size_t errlen)
{
	out->code = NULL;
	out->len = 0;
	if (nbytes == 0 || nbytes > AX_MAX_CODE)
		return err_fail(err, errlen, "agent expression of %zu bytes (1 to %d accepted)",
			       nbytes, AX_MAX_CODE);
	if (hexlen < 2 * nbytes)
		return err_fail(err, errlen, "agent expression: %zu bytes announced, %zu hex digits sent",
			       nbytes, hexlen);
	uint8_t *code = malloc(nbytes);
	if (!code)
		return err_fail(err, errlen, "agent expression: out of memory");
	for (size_t i = 0; i < nbytes; i++) {
		int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			free(code);
			return err_fail(err, errlen, "agent expression: not hex at byte %zu", i);
		}
		code[i] = (uint8_t)(hi << 4 | lo);
	}
	out->code = code;
	out->len = nbytes;
	return 0;
}

void ax_expr_free(struct ax_expr *expr)
{
	free(expr->code);
	expr->code = NULL;
	expr->len = 0;
}

/* One evaluation: the stack, where we are, and where errors go. */
struct ax_run {
	const struct ax_expr *expr;
	const struct ax_env *env;
	uint64_t stack[AX_STACK_MAX];
	size_t depth;
	size_t pc;              /* offset of the opcode being run */
	size_t next;            /* where the next opcode is */
	const uint8_t *operand; /* the opcode's fixed operand bytes */
	bool done;
	int64_t result;
	char *err;
	size_t errlen;
};

typedef int (*ax_op_fn)(struct ax_run *r);

/* One row per opcode of gdb's ax.def: its fixed operand bytes, how many
 * values it needs on the stack and how many it leaves in their place
 * (checked before it runs, so an opcode's function never under- or
 * overflows), and what it does. pick and printf check their own. */
struct ax_op {
	const char *name;
	uint8_t operand_bytes;
	uint8_t needs;
	uint8_t leaves;
	ax_op_fn run;
};

static const struct ax_op *op_at(uint8_t code);

static int run_fail(struct ax_run *r, const char *fmt, ...)
{
	if (r->err && r->errlen) {
		char what[160];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(what, sizeof what, fmt, ap);
		va_end(ap);
		const struct ax_op *op = r->pc < r->expr->len ? op_at(r->expr->code[r->pc]) : NULL;
		snprintf(r->err, r->errlen, "agent expression: %s (%s%sat byte %zu)", what,
			 op ? op->name : "", op ? " " : "", r->pc);
	}
	return -1;
}

static uint64_t *top(struct ax_run *r)
{
	return &r->stack[r->depth - 1];
}

static uint64_t pop(struct ax_run *r)
{
	return r->stack[--r->depth];
}

static void push(struct ax_run *r, uint64_t v)
{
	r->stack[r->depth++] = v;
}

/* operands are big-endian whatever the target (GDB manual, "Bytecode
 * Descriptions") */
static uint64_t operand_be(const struct ax_run *r, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v = v << 8 | r->operand[i];
	return v;
}

static uint64_t address(const struct ax_run *r, uint64_t v)
{
	return r->env->addr_bits == 32 ? v & 0xffffffffu : v;
}

/* ---- arithmetic, logic, comparisons: a b => a OP b (b on top) ---- */

static int op_add(struct ax_run *r) { uint64_t b = pop(r); *top(r) += b; return 0; }
static int op_sub(struct ax_run *r) { uint64_t b = pop(r); *top(r) -= b; return 0; }
static int op_mul(struct ax_run *r) { uint64_t b = pop(r); *top(r) *= b; return 0; }
static int op_bit_and(struct ax_run *r) { uint64_t b = pop(r); *top(r) &= b; return 0; }
static int op_bit_or(struct ax_run *r) { uint64_t b = pop(r); *top(r) |= b; return 0; }
static int op_bit_xor(struct ax_run *r) { uint64_t b = pop(r); *top(r) ^= b; return 0; }
static int op_bit_not(struct ax_run *r) { *top(r) = ~*top(r); return 0; }
static int op_log_not(struct ax_run *r) { *top(r) = !*top(r); return 0; }
static int op_equal(struct ax_run *r) { uint64_t b = pop(r); *top(r) = *top(r) == b; return 0; }

static int op_less_signed(struct ax_run *r)
{
	int64_t b = (int64_t)pop(r);
	*top(r) = (int64_t)*top(r) < b;
	return 0;
}

static int op_less_unsigned(struct ax_run *r)
{
	uint64_t b = pop(r);
	*top(r) = *top(r) < b;
	return 0;
}

static int op_div_signed(struct ax_run *r)
{
	int64_t b = (int64_t)pop(r), a = (int64_t)*top(r);
	if (b == 0)
		return run_fail(r, "division by zero");
	/* INT64_MIN / -1 overflows (a trap on x86): wraps, as two's complement */
	*top(r) = b == -1 ? 0 - (uint64_t)a : (uint64_t)(a / b);
	return 0;
}

static int op_div_unsigned(struct ax_run *r)
{
	uint64_t b = pop(r);
	if (b == 0)
		return run_fail(r, "division by zero");
	*top(r) /= b;
	return 0;
}

static int op_rem_signed(struct ax_run *r)
{
	int64_t b = (int64_t)pop(r), a = (int64_t)*top(r);
	if (b == 0)
		return run_fail(r, "division by zero");
	*top(r) = b == -1 ? 0 : (uint64_t)(a % b);
	return 0;
}

static int op_rem_unsigned(struct ax_run *r)
{
	uint64_t b = pop(r);
	if (b == 0)
		return run_fail(r, "division by zero");
	*top(r) %= b;
	return 0;
}

/* Shifts by 64 or more are undefined in C: they give what shifting one bit
 * at a time would (0, or the sign for rsh_signed). */
static int op_lsh(struct ax_run *r)
{
	uint64_t b = pop(r);
	*top(r) = b >= 64 ? 0 : *top(r) << b;
	return 0;
}

static int op_rsh_signed(struct ax_run *r)
{
	uint64_t b = pop(r);
	int64_t a = (int64_t)*top(r);
	if (b >= 64)
		*top(r) = a < 0 ? UINT64_MAX : 0;
	else
		*top(r) = a < 0 ? ~(~(uint64_t)a >> b) : (uint64_t)a >> b;
	return 0;
}

static int op_rsh_unsigned(struct ax_run *r)
{
	uint64_t b = pop(r);
	*top(r) = b >= 64 ? 0 : *top(r) >> b;
	return 0;
}

/* ext n: sign-extend from n bits; n of 64 or more changes nothing */
static int op_ext(struct ax_run *r)
{
	unsigned n = (unsigned)operand_be(r, 1);
	if (n == 0)
		return run_fail(r, "sign extension from 0 bits");
	if (n < 64) {
		uint64_t sign = UINT64_C(1) << (n - 1), v = *top(r) & ((sign << 1) - 1);
		*top(r) = (v ^ sign) - sign;
	}
	return 0;
}

static int op_zero_ext(struct ax_run *r)
{
	unsigned n = (unsigned)operand_be(r, 1);
	if (n < 64)
		*top(r) &= (UINT64_C(1) << n) - 1;
	return 0;
}

/* ---- memory and registers ---- */

static int read_memory(struct ax_run *r, uint64_t addr, void *buf, size_t len)
{
	if (!r->env->read_mem)
		return run_fail(r, "no memory access here");
	if (r->env->read_mem(r->env->ctx, address(r, addr), buf, len) != 0)
		return run_fail(r, "cannot read %zu bytes at 0x%llx", len,
				(unsigned long long)address(r, addr));
	return 0;
}

/* target byte order: little-endian on every target this server runs on */
static int op_ref(struct ax_run *r, size_t size)
{
	uint8_t b[8];
	if (read_memory(r, *top(r), b, size) < 0)
		return -1;
	*top(r) = size == 1 ? b[0] : size == 2 ? le16(b) : size == 4 ? le32(b) : le64(b);
	return 0;
}

static int op_ref8(struct ax_run *r) { return op_ref(r, 1); }
static int op_ref16(struct ax_run *r) { return op_ref(r, 2); }
static int op_ref32(struct ax_run *r) { return op_ref(r, 4); }
static int op_ref64(struct ax_run *r) { return op_ref(r, 8); }

static int op_reg(struct ax_run *r)
{
	unsigned regno = (unsigned)operand_be(r, 2);
	uint64_t v;
	if (!r->env->read_reg)
		return run_fail(r, "no register access here");
	if (r->env->read_reg(r->env->ctx, regno, &v) != 0)
		return run_fail(r, "cannot read register %u", regno);
	push(r, v);
	return 0;
}

/* ---- constants, stack, control ---- */

static int op_const8(struct ax_run *r) { push(r, operand_be(r, 1)); return 0; }
static int op_const16(struct ax_run *r) { push(r, operand_be(r, 2)); return 0; }
static int op_const32(struct ax_run *r) { push(r, operand_be(r, 4)); return 0; }
static int op_const64(struct ax_run *r) { push(r, operand_be(r, 8)); return 0; }
static int op_dup(struct ax_run *r) { push(r, *top(r)); return 0; }
static int op_pop(struct ax_run *r) { (void)pop(r); return 0; }

static int op_swap(struct ax_run *r)
{
	uint64_t b = r->stack[r->depth - 1];
	r->stack[r->depth - 1] = r->stack[r->depth - 2];
	r->stack[r->depth - 2] = b;
	return 0;
}

/* a b c => c a b */
static int op_rot(struct ax_run *r)
{
	uint64_t *s = &r->stack[r->depth - 3], c = s[2];
	s[2] = s[1];
	s[1] = s[0];
	s[0] = c;
	return 0;
}

/* pick n: copy the value n below the top (pick 0 is dup) */
static int op_pick(struct ax_run *r)
{
	size_t n = (size_t)operand_be(r, 1);
	if (n >= r->depth)
		return run_fail(r, "pick %zu with %zu value%s on the stack", n, r->depth,
				r->depth == 1 ? "" : "s");
	if (r->depth >= AX_STACK_MAX)
		return run_fail(r, "stack overflow (%d values)", AX_STACK_MAX);
	push(r, r->stack[r->depth - 1 - n]);
	return 0;
}

static int jump(struct ax_run *r)
{
	uint64_t to = operand_be(r, 2);
	if (to >= r->expr->len)
		return run_fail(r, "jump to byte %llu, past the end (%zu bytes)",
				(unsigned long long)to, r->expr->len);
	r->next = (size_t)to;
	return 0;
}

static int op_goto(struct ax_run *r) { return jump(r); }

static int op_if_goto(struct ax_run *r)
{
	return pop(r) ? jump(r) : 0;
}

static int op_end(struct ax_run *r)
{
	r->result = r->depth ? (int64_t)*top(r) : 0;
	r->done = true;
	return 0;
}

/* ---- tracing and trace state variables ---- */

static int collect(struct ax_run *r, uint64_t addr, uint64_t len)
{
	if (!r->env->collect_mem)
		return run_fail(r, "tracing not allowed here");
	if (r->env->collect_mem(r->env->ctx, address(r, addr), len) != 0)
		return run_fail(r, "cannot collect %llu bytes at 0x%llx", (unsigned long long)len,
				(unsigned long long)address(r, addr));
	return 0;
}

/* addr size => (collects SIZE bytes at ADDR) */
static int op_trace(struct ax_run *r)
{
	uint64_t size = pop(r), addr = pop(r);
	return collect(r, addr, size);
}

static int op_trace_quick(struct ax_run *r) { return collect(r, *top(r), operand_be(r, 1)); }
static int op_trace16(struct ax_run *r) { return collect(r, *top(r), operand_be(r, 2)); }

/* addr size => (collects the string at ADDR: up to its NUL, at most SIZE) */
static int op_tracenz(struct ax_run *r)
{
	uint64_t size = pop(r), addr = pop(r), len = 0;
	if (size > AX_STRING_MAX)
		size = AX_STRING_MAX;
	while (len < size) {
		uint8_t c;
		if (read_memory(r, addr + len, &c, 1) < 0)
			return -1;
		len++;
		if (c == 0)
			break;
	}
	return collect(r, addr, len);
}

static int op_getv(struct ax_run *r)
{
	unsigned num = (unsigned)operand_be(r, 2);
	int64_t v;
	if (!r->env->get_var)
		return run_fail(r, "no trace state variables here");
	if (r->env->get_var(r->env->ctx, num, &v) != 0)
		return run_fail(r, "no trace state variable %u", num);
	push(r, (uint64_t)v);
	return 0;
}

/* the value stays on the stack, for enclosing expressions */
static int op_setv(struct ax_run *r)
{
	unsigned num = (unsigned)operand_be(r, 2);
	if (!r->env->set_var)
		return run_fail(r, "no trace state variables here");
	if (r->env->set_var(r->env->ctx, num, (int64_t)*top(r)) != 0)
		return run_fail(r, "cannot set trace state variable %u", num);
	return 0;
}

static int op_tracev(struct ax_run *r)
{
	unsigned num = (unsigned)operand_be(r, 2);
	if (!r->env->collect_var)
		return run_fail(r, "tracing not allowed here");
	if (r->env->collect_var(r->env->ctx, num) != 0)
		return run_fail(r, "cannot collect trace state variable %u", num);
	return 0;
}

/* printf nargs:1 len:2 format:len (NUL-terminated); the stack holds, top
 * first: function, channel, then the arguments, first one first (gdb's
 * gen_printf pushes them last to first). Function and channel are for an
 * in-process agent: ignored, as gdbserver does. */
static int op_printf(struct ax_run *r)
{
	const uint8_t *code = r->expr->code;
	size_t at = r->pc + 1;
	if (r->expr->len - at < 3)
		return run_fail(r, "operand truncated: the expression ends at byte %zu", r->expr->len);
	size_t nargs = code[at], flen = (size_t)code[at + 1] << 8 | code[at + 2];
	at += 3;
	if (flen == 0 || flen > r->expr->len - at)
		return run_fail(r, "format string of %zu bytes, %zu left in the expression", flen,
				r->expr->len - at);
	if (code[at + flen - 1] != '\0')
		return run_fail(r, "format string not terminated");
	if (r->depth < nargs + 2)
		return run_fail(r, "stack underflow: %zu values, printf of %zu arguments needs %zu",
				r->depth, nargs, nargs + 2);
	if (!r->env->print)
		return run_fail(r, "no printf output here");
	r->next = at + flen;
	r->depth -= 2;
	uint64_t args[256];
	for (size_t i = 0; i < nargs; i++)
		args[i] = pop(r);
	const char *format = (const char *)code + at;
	char out[AX_PRINTF_MAX + 1], why[160];
	long n = ax_format(format, strlen(format), args, nargs, r->env, out, sizeof out, why,
			   sizeof why);
	if (n < 0)
		return run_fail(r, "%s", why);
	if (r->env->print(r->env->ctx, out, (size_t)n) != 0)
		return run_fail(r, "printf output refused");
	return 0;
}

static int op_float(struct ax_run *r)
{
	return run_fail(r, "floating point not supported");
}

#define OP(code, name, operand, needs, leaves, fn) [code] = {name, operand, needs, leaves, fn}
static const struct ax_op ops[256] = {
	OP(0x01, "float", 0, 0, 0, op_float),
	OP(0x02, "add", 0, 2, 1, op_add),
	OP(0x03, "sub", 0, 2, 1, op_sub),
	OP(0x04, "mul", 0, 2, 1, op_mul),
	OP(0x05, "div_signed", 0, 2, 1, op_div_signed),
	OP(0x06, "div_unsigned", 0, 2, 1, op_div_unsigned),
	OP(0x07, "rem_signed", 0, 2, 1, op_rem_signed),
	OP(0x08, "rem_unsigned", 0, 2, 1, op_rem_unsigned),
	OP(0x09, "lsh", 0, 2, 1, op_lsh),
	OP(0x0a, "rsh_signed", 0, 2, 1, op_rsh_signed),
	OP(0x0b, "rsh_unsigned", 0, 2, 1, op_rsh_unsigned),
	OP(0x0c, "trace", 0, 2, 0, op_trace),
	OP(0x0d, "trace_quick", 1, 1, 1, op_trace_quick),
	OP(0x0e, "log_not", 0, 1, 1, op_log_not),
	OP(0x0f, "bit_and", 0, 2, 1, op_bit_and),
	OP(0x10, "bit_or", 0, 2, 1, op_bit_or),
	OP(0x11, "bit_xor", 0, 2, 1, op_bit_xor),
	OP(0x12, "bit_not", 0, 1, 1, op_bit_not),
	OP(0x13, "equal", 0, 2, 1, op_equal),
	OP(0x14, "less_signed", 0, 2, 1, op_less_signed),
	OP(0x15, "less_unsigned", 0, 2, 1, op_less_unsigned),
	OP(0x16, "ext", 1, 1, 1, op_ext),
	OP(0x17, "ref8", 0, 1, 1, op_ref8),
	OP(0x18, "ref16", 0, 1, 1, op_ref16),
	OP(0x19, "ref32", 0, 1, 1, op_ref32),
	OP(0x1a, "ref64", 0, 1, 1, op_ref64),
	OP(0x1b, "ref_float", 0, 1, 1, op_float),
	OP(0x1c, "ref_double", 0, 1, 1, op_float),
	OP(0x1d, "ref_long_double", 0, 1, 1, op_float),
	OP(0x1e, "l_to_d", 0, 1, 1, op_float),
	OP(0x1f, "d_to_l", 0, 1, 1, op_float),
	OP(0x20, "if_goto", 2, 1, 0, op_if_goto),
	OP(0x21, "goto", 2, 0, 0, op_goto),
	OP(0x22, "const8", 1, 0, 1, op_const8),
	OP(0x23, "const16", 2, 0, 1, op_const16),
	OP(0x24, "const32", 4, 0, 1, op_const32),
	OP(0x25, "const64", 8, 0, 1, op_const64),
	OP(0x26, "reg", 2, 0, 1, op_reg),
	OP(0x27, "end", 0, 0, 0, op_end),
	OP(0x28, "dup", 0, 1, 2, op_dup),
	OP(0x29, "pop", 0, 1, 0, op_pop),
	OP(0x2a, "zero_ext", 1, 1, 1, op_zero_ext),
	OP(0x2b, "swap", 0, 2, 2, op_swap),
	OP(0x2c, "getv", 2, 0, 1, op_getv),
	OP(0x2d, "setv", 2, 1, 1, op_setv),
	OP(0x2e, "tracev", 2, 0, 0, op_tracev),
	OP(0x2f, "tracenz", 0, 2, 0, op_tracenz),
	OP(0x30, "trace16", 2, 1, 1, op_trace16),
	OP(0x32, "pick", 1, 0, 0, op_pick),
	OP(0x33, "rot", 0, 3, 3, op_rot),
	OP(0x34, "printf", 0, 0, 0, op_printf),
};
#undef OP

static const struct ax_op *op_at(uint8_t code)
{
	return ops[code].run ? &ops[code] : NULL;
}

static int step(struct ax_run *r)
{
	uint8_t code = r->expr->code[r->pc];
	const struct ax_op *op = op_at(code);
	if (!op)
		return run_fail(r, "unknown opcode 0x%02x", code);
	size_t left = r->expr->len - r->pc - 1;
	if (op->operand_bytes > left)
		return run_fail(r, "operand truncated: %u bytes wanted, %zu left", op->operand_bytes,
				left);
	if (r->depth < op->needs)
		return run_fail(r, "stack underflow: %zu value%s, %u needed", r->depth,
				r->depth == 1 ? "" : "s", op->needs);
	if (r->depth - op->needs + op->leaves > AX_STACK_MAX)
		return run_fail(r, "stack overflow (%d values)", AX_STACK_MAX);
	r->operand = r->expr->code + r->pc + 1;
	r->next = r->pc + 1 + op->operand_bytes;
	return op->run(r);
}

int ax_eval(const struct ax_expr *expr, const struct ax_env *env, int64_t *result,
	    char *err, size_t errlen)
{
	static const struct ax_env no_env;
	struct ax_run *r = calloc(1, sizeof *r);  /* 8 KiB of stack: not on ours */
	unsigned long limit = env && env->step_limit ? env->step_limit : AX_STEP_LIMIT;
	int rc = 0;
	*result = 0;
	if (!r)
		return err_fail(err, errlen, "agent expression: out of memory");
	r->expr = expr;
	r->env = env ? env : &no_env;
	r->err = err;
	r->errlen = errlen;
	if (!expr->code || expr->len == 0)
		rc = err_fail(err, errlen, "agent expression: empty");
	for (unsigned long steps = 0; rc == 0 && !r->done; steps++) {
		if (r->pc >= expr->len)
			rc = err_fail(err, errlen, "agent expression: ran past its last byte (%zu) with no end",
				     expr->len);
		else if (steps >= limit)
			rc = run_fail(r, "gave up after %lu steps (a loop?)", limit);
		else if ((rc = step(r)) == 0)
			r->pc = r->next;
	}
	if (rc == 0)
		*result = r->result;
	free(r);
	return rc;
}
