/* The agent expression evaluator: every opcode's result and its errors,
 * against a fake program (a small memory, registers, trace state
 * variables, a collection log, a printf log). */
#include <stdarg.h>

#include "agent/ax.h"
#include "agent/ax_printf.h"
#include "check.h"

#define MEM_BASE 0x1000u
static uint8_t mem[256];
static uint64_t regs[300];
static int64_t tsv[8];
static bool tsv_defined[8];
static uint64_t collected[16][2];
static unsigned ncollected, collected_vars[8], ncollected_vars;
static char printed[8192];
static size_t printed_len;
static bool refuse_collect, refuse_print;

static int fake_read_mem(void *ctx, uint64_t addr, void *buf, size_t len)
{
	(void)ctx;
	if (addr < MEM_BASE || addr - MEM_BASE > sizeof mem || len > sizeof mem - (addr - MEM_BASE))
		return -1;
	memcpy(buf, mem + (addr - MEM_BASE), len);
	return 0;
}

static int fake_read_reg(void *ctx, unsigned regno, uint64_t *value)
{
	(void)ctx;
	if (regno >= sizeof regs / sizeof regs[0])
		return -1;
	*value = regs[regno];
	return 0;
}

static int fake_collect_mem(void *ctx, uint64_t addr, uint64_t len)
{
	(void)ctx;
	if (refuse_collect || ncollected == 16)
		return -1;
	collected[ncollected][0] = addr;
	collected[ncollected++][1] = len;
	return 0;
}

static int fake_collect_var(void *ctx, unsigned num)
{
	(void)ctx;
	if (num >= 8 || !tsv_defined[num] || ncollected_vars == 8)
		return -1;
	collected_vars[ncollected_vars++] = num;
	return 0;
}

static int fake_get_var(void *ctx, unsigned num, int64_t *value)
{
	(void)ctx;
	if (num >= 8 || !tsv_defined[num])
		return -1;
	*value = tsv[num];
	return 0;
}

static int fake_set_var(void *ctx, unsigned num, int64_t value)
{
	(void)ctx;
	if (num >= 8 || !tsv_defined[num])
		return -1;
	tsv[num] = value;
	return 0;
}

static int fake_print(void *ctx, const char *text, size_t len)
{
	(void)ctx;
	if (refuse_print || len > sizeof printed - 1 - printed_len)
		return -1;
	memcpy(printed + printed_len, text, len);
	printed_len += len;
	printed[printed_len] = '\0';
	return 0;
}

static const struct ax_env full_env = {
	.read_mem = fake_read_mem, .read_reg = fake_read_reg, .collect_mem = fake_collect_mem,
	.collect_var = fake_collect_var, .get_var = fake_get_var, .set_var = fake_set_var,
	.print = fake_print, .addr_bits = 64,
};
static struct ax_env env;
static char err[256];

static void reset(void)
{
	env = full_env;
	ncollected = ncollected_vars = 0;
	printed_len = 0;
	printed[0] = '\0';
	refuse_collect = refuse_print = false;
	err[0] = '\0';
}

/* Run CODE; true when it succeeded, *RES its value. */
static bool run(const uint8_t *code, size_t len, int64_t *res)
{
	struct ax_expr e = {(uint8_t *)code, len};
	err[0] = '\0';
	return ax_eval(&e, &env, res, err, sizeof err) == 0;
}

#define RUN(res, ...) run((const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}), res)

/* Evaluates to the result of a run that must succeed (INT64_MIN + 7 if not). */
static int64_t value_of(const uint8_t *code, size_t len)
{
	int64_t res;
	if (!run(code, len, &res)) {
		fprintf(stderr, "  unexpected error: %s\n", err);
		return INT64_MIN + 7;
	}
	return res;
}
#define VALUE(...) value_of((const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))

/* The run fails and its error mentions WANT. */
static bool fails_with(const uint8_t *code, size_t len, const char *want)
{
	int64_t res = 12345;
	if (run(code, len, &res)) {
		fprintf(stderr, "  succeeded (%lld), wanted error \"%s\"\n", (long long)res, want);
		return false;
	}
	if (!strstr(err, want)) {
		fprintf(stderr, "  error \"%s\", wanted \"%s\"\n", err, want);
		return false;
	}
	return res == 0;
}
#define FAILS(want, ...) fails_with((const uint8_t[]){__VA_ARGS__}, \
				   sizeof((const uint8_t[]){__VA_ARGS__}), want)

/* opcodes */
enum {
	FLOAT = 0x01, ADD, SUB, MUL, DIV_S, DIV_U, REM_S, REM_U, LSH, RSH_S, RSH_U, TRACE,
	TRACE_QUICK, LOG_NOT, BIT_AND, BIT_OR, BIT_XOR, BIT_NOT, EQUAL, LESS_S, LESS_U, EXT, REF8,
	REF16, REF32, REF64, REF_FLOAT, REF_DOUBLE, REF_LDOUBLE, L_TO_D, D_TO_L, IF_GOTO, GOTO,
	C8, C16, C32, C64, REG, END, DUP, POP, ZERO_EXT, SWAP, GETV, SETV, TRACEV, TRACENZ,
	TRACE16, INVALID2, PICK, ROT, PRINTF
};
static void test_arithmetic(void)
{
	reset();
	CHECK(VALUE(C8, 5, C8, 3, ADD, END) == 8);
	CHECK(VALUE(C8, 5, C8, 3, SUB, END) == 2);
	CHECK(VALUE(C8, 3, C8, 5, SUB, END) == -2);
	CHECK(VALUE(C8, 6, C8, 7, MUL, END) == 42);
	CHECK(VALUE(C64, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf9, C8, 2, DIV_S, END) == -3);
	CHECK(VALUE(C64, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf9, C8, 2, DIV_U, END) ==
	      (int64_t)(UINT64_C(0xfffffffffffffff9) / 2));
	CHECK(VALUE(C64, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf9, C8, 2, REM_S, END) == -1);
	CHECK(VALUE(C8, 17, C8, 5, REM_U, END) == 2);
	/* INT64_MIN / -1 wraps instead of trapping */
	CHECK(VALUE(C64, 0x80, 0, 0, 0, 0, 0, 0, 0, C64, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		    0xff, DIV_S, END) == INT64_MIN);
	CHECK(VALUE(C64, 0x80, 0, 0, 0, 0, 0, 0, 0, C64, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		    0xff, REM_S, END) == 0);
	CHECK(FAILS("division by zero (div_signed at byte 4)", C8, 1, C8, 0, DIV_S, END));
	CHECK(FAILS("division by zero (div_unsigned", C8, 1, C8, 0, DIV_U, END));
	CHECK(FAILS("division by zero (rem_signed", C8, 1, C8, 0, REM_S, END));
	CHECK(FAILS("division by zero (rem_unsigned", C8, 1, C8, 0, REM_U, END));
	CHECK(VALUE(C8, 3, C8, 4, LSH, END) == 48);
	CHECK(VALUE(C8, 3, C8, 64, LSH, END) == 0);
	CHECK(VALUE(C8, 0xf0, C8, 4, RSH_U, END) == 0x0f);
	CHECK(VALUE(C8, 0xf0, C8, 200, RSH_U, END) == 0);
	CHECK(VALUE(C64, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, C8, 4, RSH_S, END) == -16);
	CHECK(VALUE(C64, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, C8, 4, RSH_U, END) ==
	      0x0ffffffffffffff0);
	CHECK(VALUE(C64, 0x80, 0, 0, 0, 0, 0, 0, 0, C8, 99, RSH_S, END) == -1);
	CHECK(VALUE(C8, 0x70, C8, 99, RSH_S, END) == 0);
	CHECK(VALUE(C8, 0x70, C8, 2, RSH_S, END) == 0x1c);
}

static void test_logic_and_comparisons(void)
{
	reset();
	CHECK(VALUE(C8, 0, LOG_NOT, END) == 1);
	CHECK(VALUE(C8, 9, LOG_NOT, END) == 0);
	CHECK(VALUE(C8, 0x0c, C8, 0x0a, BIT_AND, END) == 0x08);
	CHECK(VALUE(C8, 0x0c, C8, 0x0a, BIT_OR, END) == 0x0e);
	CHECK(VALUE(C8, 0x0c, C8, 0x0a, BIT_XOR, END) == 0x06);
	CHECK(VALUE(C8, 0, BIT_NOT, END) == -1);
	CHECK(VALUE(C8, 5, C8, 5, EQUAL, END) == 1);
	CHECK(VALUE(C8, 5, C8, 6, EQUAL, END) == 0);
	/* -1 < 1 signed, not unsigned */
	CHECK(VALUE(C8, 0, BIT_NOT, C8, 1, LESS_S, END) == 1);
	CHECK(VALUE(C8, 0, BIT_NOT, C8, 1, LESS_U, END) == 0);
	CHECK(VALUE(C8, 1, C8, 0, BIT_NOT, LESS_U, END) == 1);
	CHECK(VALUE(C8, 2, C8, 2, LESS_S, END) == 0);
}

static void test_extension(void)
{
	reset();
	CHECK(VALUE(C8, 0x80, EXT, 8, END) == -128);
	CHECK(VALUE(C8, 0x7f, EXT, 8, END) == 127);
	CHECK(VALUE(C16, 0x12, 0x80, EXT, 8, END) == -128);  /* bits above n dropped */
	CHECK(VALUE(C32, 0x80, 0, 0, 0, EXT, 32, END) == (int64_t)INT32_MIN);
	CHECK(VALUE(C8, 1, EXT, 1, END) == -1);
	CHECK(VALUE(C8, 0x80, EXT, 64, END) == 0x80);
	CHECK(VALUE(C8, 0x80, EXT, 200, END) == 0x80);
	CHECK(FAILS("sign extension from 0 bits (ext at byte 2)", C8, 1, EXT, 0, END));
	CHECK(VALUE(C8, 0, BIT_NOT, ZERO_EXT, 16, END) == 0xffff);
	CHECK(VALUE(C8, 0, BIT_NOT, ZERO_EXT, 0, END) == 0);
	CHECK(VALUE(C8, 0, BIT_NOT, ZERO_EXT, 64, END) == -1);
	CHECK(FAILS("operand truncated", C8, 1, ZERO_EXT));
	CHECK(FAILS("operand truncated", C8, 1, EXT));
}

static void test_memory(void)
{
	reset();
	for (unsigned i = 0; i < sizeof mem; i++)
		mem[i] = (uint8_t)(i + 1);
	/* little-endian target order */
	CHECK(VALUE(C16, 0x10, 0x00, REF8, END) == 0x01);
	CHECK(VALUE(C16, 0x10, 0x00, REF16, END) == 0x0201);
	CHECK(VALUE(C16, 0x10, 0x00, REF32, END) == 0x04030201);
	CHECK(VALUE(C16, 0x10, 0x00, REF64, END) == 0x0807060504030201);
	CHECK(VALUE(C16, 0x10, 0xff, REF8, END) == 0x00);  /* (0xff + 1) & 0xff */
	CHECK(FAILS("cannot read 2 bytes at 0x10ff (ref16 at byte 3)", C16, 0x10, 0xff, REF16, END));
	CHECK(FAILS("cannot read 8 bytes at 0x0", C8, 0, REF64, END));
	CHECK(FAILS("cannot read 1 bytes at 0xffffffffffffffff", C8, 0, BIT_NOT, REF8, END));
	/* a 32-bit target masks addresses */
	env.addr_bits = 32;
	CHECK(VALUE(C64, 0xde, 0xad, 0, 0, 0, 0, 0x10, 0x01, REF8, END) == 0x02);
	env.addr_bits = 64;
	CHECK(FAILS("cannot read", C64, 0xde, 0xad, 0, 0, 0, 0, 0x10, 0x01, REF8, END));
	env.read_mem = NULL;
	CHECK(FAILS("no memory access here", C16, 0x10, 0x00, REF8, END));
	env.read_mem = fake_read_mem;
	/* floating point, refused as gdbserver refuses it */
	CHECK(FAILS("floating point not supported (float at byte 0)", FLOAT, END));
	CHECK(FAILS("(ref_float", C16, 0x10, 0x00, REF_FLOAT, END));
	CHECK(FAILS("(ref_double", C16, 0x10, 0x00, REF_DOUBLE, END));
	CHECK(FAILS("(ref_long_double", C16, 0x10, 0x00, REF_LDOUBLE, END));
	CHECK(FAILS("(l_to_d", C8, 1, L_TO_D, END));
	CHECK(FAILS("(d_to_l", C8, 1, D_TO_L, END));
}

static void test_registers(void)
{
	reset();
	regs[7] = 0x1122334455667788;
	regs[258] = 42;
	CHECK(VALUE(REG, 0, 7, END) == 0x1122334455667788);
	CHECK(VALUE(REG, 0x01, 0x02, END) == 42);  /* number big-endian */
	CHECK(FAILS("cannot read register 4660 (reg at byte 0)", REG, 0x12, 0x34, END));
	CHECK(FAILS("operand truncated: 2 bytes wanted, 1 left", REG, 0));
	env.read_reg = NULL;
	CHECK(FAILS("no register access here", REG, 0, 7, END));
}

static void test_constants_and_stack(void)
{
	reset();
	CHECK(VALUE(C8, 0xff, END) == 0xff);  /* not sign-extended */
	CHECK(VALUE(C16, 0x12, 0x34, END) == 0x1234);
	CHECK(VALUE(C32, 0x12, 0x34, 0x56, 0x78, END) == 0x12345678);
	CHECK(VALUE(C64, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, END) ==
	      0x123456789abcdef0);
	CHECK(FAILS("operand truncated: 1 bytes wanted, 0 left (const8 at byte 0)", C8));
	CHECK(FAILS("operand truncated: 2 bytes wanted, 1 left", C16, 1));
	CHECK(FAILS("operand truncated: 4 bytes wanted, 3 left", C32, 1, 2, 3));
	CHECK(FAILS("operand truncated: 8 bytes wanted, 7 left", C64, 1, 2, 3, 4, 5, 6, 7));
	CHECK(VALUE(END) == 0);  /* empty stack: 0 */
	CHECK(VALUE(C8, 4, DUP, ADD, END) == 8);
	CHECK(VALUE(C8, 4, C8, 9, POP, END) == 4);
	CHECK(VALUE(C8, 4, C8, 9, SWAP, SUB, END) == 5);
	CHECK(VALUE(C8, 1, C8, 2, C8, 3, ROT, END) == 2);            /* 1 2 3 => 3 1 2 */
	CHECK(VALUE(C8, 1, C8, 2, C8, 3, ROT, POP, END) == 1);
	CHECK(VALUE(C8, 1, C8, 2, C8, 3, ROT, POP, POP, END) == 3);
	CHECK(VALUE(C8, 1, C8, 2, C8, 3, PICK, 0, END) == 3);
	CHECK(VALUE(C8, 1, C8, 2, C8, 3, PICK, 2, END) == 1);
	CHECK(VALUE(C8, 1, C8, 2, C8, 3, PICK, 2, POP, END) == 3);
	CHECK(FAILS("pick 3 with 3 values on the stack", C8, 1, C8, 2, C8, 3, PICK, 3, END));
	CHECK(FAILS("pick 0 with 0 values", PICK, 0, END));
	CHECK(FAILS("operand truncated", C8, 1, PICK));
	/* underflow, for each arity */
	CHECK(FAILS("stack underflow: 1 value, 2 needed (add at byte 2)", C8, 1, ADD, END));
	CHECK(FAILS("stack underflow: 0 values, 1 needed (dup", DUP, END));
	CHECK(FAILS("stack underflow: 0 values, 1 needed (pop", POP, END));
	CHECK(FAILS("stack underflow: 1 value, 2 needed (swap", C8, 1, SWAP, END));
	CHECK(FAILS("stack underflow: 2 values, 3 needed (rot", C8, 1, C8, 1, ROT, END));
	CHECK(FAILS("stack underflow: 0 values, 1 needed (log_not", LOG_NOT, END));
	CHECK(FAILS("stack underflow: 0 values, 1 needed (ref8", REF8, END));
	CHECK(FAILS("stack underflow: 0 values, 1 needed (if_goto", IF_GOTO, 0, 0, END));
	/* overflow: dup in a loop, and pick at the limit */
	CHECK(FAILS("stack overflow (1024 values) (dup at byte 2)", C8, 1, DUP, GOTO, 0, 2));
	CHECK(FAILS("stack overflow (1024 values) (pick at byte 2)", C8, 1, PICK, 0, GOTO, 0, 2));
	CHECK(FAILS("stack overflow (1024 values) (const8 at byte 0)", C8, 1, GOTO, 0, 0));
	CHECK(FAILS("stack overflow (1024 values) (reg", REG, 0, 1, GOTO, 0, 0));
}

static void test_control(void)
{
	reset();
	/* if_goto taken skips const8 9 */
	CHECK(VALUE(C8, 1, IF_GOTO, 0, 8, C8, 9, END, C8, 5, END) == 5);
	CHECK(VALUE(C8, 0, IF_GOTO, 0, 8, C8, 9, END, C8, 5, END) == 9);
	CHECK(VALUE(GOTO, 0, 6, C8, 9, END, C8, 6, END) == 6);
	CHECK(FAILS("jump to byte 9, past the end (9 bytes) (goto at byte 0)",
		    GOTO, 0, 9, C8, 9, END, C8, 6, END));
	CHECK(FAILS("jump to byte 65535", C8, 1, IF_GOTO, 0xff, 0xff, END));
	CHECK(VALUE(C8, 0, IF_GOTO, 0xff, 0xff, C8, 3, END) == 3);  /* not taken: not checked */
	CHECK(FAILS("operand truncated: 2 bytes wanted, 1 left (goto", GOTO, 0));
	CHECK(FAILS("operand truncated: 2 bytes wanted, 0 left (if_goto", C8, 1, IF_GOTO));
	/* endless loop: the step limit */
	CHECK(FAILS("gave up after 1000000 steps (a loop?) (goto at byte 0)", GOTO, 0, 0));
	env.step_limit = 10;
	CHECK(FAILS("gave up after 10 steps", C8, 1, POP, GOTO, 0, 0));
	env.step_limit = 0;
	/* jump into an operand: runs what it finds there, checked the same */
	CHECK(VALUE(GOTO, 0, 4, C8, C8, 0x2a, END) == 0x2a);
	/* unknown opcodes, missing end, nothing at all */
	CHECK(FAILS("unknown opcode 0x31 (at byte 2)", C8, 1, INVALID2, END));
	CHECK(FAILS("unknown opcode 0x00 (at byte 0)", 0x00, END));
	CHECK(FAILS("unknown opcode 0x35", 0x35));
	CHECK(FAILS("unknown opcode 0xff", 0xff));
	CHECK(FAILS("ran past its last byte (2) with no end", C8, 1));
	struct ax_expr empty = {NULL, 0};
	int64_t res = 1;
	CHECK(ax_eval(&empty, &env, &res, err, sizeof err) < 0 && strstr(err, "empty") && res == 0);
	/* no environment at all: constants still work, memory does not */
	CHECK(ax_eval(&(struct ax_expr){(uint8_t[]){C8, 3, END}, 3}, NULL, &res, err, sizeof err) == 0
	      && res == 3);
	CHECK(ax_eval(&(struct ax_expr){(uint8_t[]){C8, 3, REF8, END}, 4}, NULL, &res, err,
		      sizeof err) < 0 && strstr(err, "no memory access"));
	/* a NULL error buffer is allowed */
	CHECK(ax_eval(&(struct ax_expr){(uint8_t[]){ADD}, 1}, &env, &res, NULL, 0) < 0);
}

static void test_tracing(void)
{
	reset();
	CHECK(VALUE(C16, 0x10, 0x20, C8, 16, TRACE, END) == 0);
	CHECK(ncollected == 1 && collected[0][0] == 0x1020 && collected[0][1] == 16);
	CHECK(VALUE(C16, 0x10, 0x40, TRACE_QUICK, 4, END) == 0x1040);  /* leaves the address */
	CHECK(ncollected == 2 && collected[1][0] == 0x1040 && collected[1][1] == 4);
	CHECK(VALUE(C16, 0x10, 0x40, TRACE16, 0x01, 0x00, END) == 0x1040);
	CHECK(ncollected == 3 && collected[2][1] == 256);
	CHECK(FAILS("stack underflow: 1 value, 2 needed (trace", C8, 1, TRACE, END));
	CHECK(FAILS("operand truncated: 2 bytes wanted, 1 left (trace16", C8, 1, TRACE16, 1));
	refuse_collect = true;
	CHECK(FAILS("cannot collect 16 bytes at 0x1020 (trace", C16, 0x10, 0x20, C8, 16, TRACE, END));
	refuse_collect = false;
	env.collect_mem = NULL;
	CHECK(FAILS("tracing not allowed here (trace_quick", C8, 1, TRACE_QUICK, 4, END));
	env.collect_mem = fake_collect_mem;
	/* tracenz: up to and with the NUL, at most the size */
	ncollected = 0;
	memcpy(mem + 0x30, "abc\0xyz", 8);
	CHECK(VALUE(C16, 0x10, 0x30, C8, 100, TRACENZ, END) == 0);
	CHECK(ncollected == 1 && collected[0][0] == 0x1030 && collected[0][1] == 4);
	CHECK(VALUE(C16, 0x10, 0x30, C8, 2, TRACENZ, END) == 0);
	CHECK(ncollected == 2 && collected[1][1] == 2);
	memset(mem + 0xf0, 'x', 16);
	CHECK(FAILS("cannot read 1 bytes at 0x1100 (tracenz", C16, 0x10, 0xf0, C8, 100, TRACENZ, END));
	/* trace state variables */
	tsv_defined[1] = true;
	tsv[1] = -5;
	CHECK(VALUE(GETV, 0, 1, END) == -5);
	CHECK(VALUE(C8, 77, SETV, 0, 1, END) == 77 && tsv[1] == 77);  /* value stays */
	CHECK(FAILS("no trace state variable 2 (getv", GETV, 0, 2, END));
	CHECK(FAILS("cannot set trace state variable 3 (setv", C8, 1, SETV, 0, 3, END));
	CHECK(FAILS("stack underflow: 0 values, 1 needed (setv", SETV, 0, 1, END));
	CHECK(VALUE(C8, 9, TRACEV, 0, 1, END) == 9);
	CHECK(ncollected_vars == 1 && collected_vars[0] == 1);
	CHECK(FAILS("cannot collect trace state variable 5 (tracev", TRACEV, 0, 5, END));
	env.get_var = NULL;
	env.set_var = NULL;
	env.collect_var = NULL;
	CHECK(FAILS("no trace state variables here (getv", GETV, 0, 1, END));
	CHECK(FAILS("no trace state variables here (setv", C8, 1, SETV, 0, 1, END));
	CHECK(FAILS("tracing not allowed here (tracev", TRACEV, 0, 1, END));
}

/* A printf expression: ARGS pushed last to first, channel, function, the
 * opcode, then the format with its NUL. */
static size_t build_printf(uint8_t *code, const char *format, size_t nargs, ...)
{
	size_t n = 0, flen = strlen(format) + 1;
	uint64_t args[16];
	va_list ap;
	va_start(ap, nargs);
	for (size_t i = 0; i < nargs; i++)
		args[i] = va_arg(ap, uint64_t);
	va_end(ap);
	for (size_t i = nargs; i-- > 0;) {
		code[n++] = C64;
		for (int b = 7; b >= 0; b--)
			code[n++] = (uint8_t)(args[i] >> (8 * b));
	}
	code[n++] = C8;  /* channel */
	code[n++] = 0;
	code[n++] = C8;  /* function */
	code[n++] = 0;
	code[n++] = PRINTF;
	code[n++] = (uint8_t)nargs;
	code[n++] = (uint8_t)(flen >> 8);
	code[n++] = (uint8_t)flen;
	memcpy(code + n, format, flen);
	n += flen;
	code[n++] = END;
	return n;
}

/* printf with FORMAT and the arguments prints WANT. */
#define PRINTS(want, format, ...) do { \
	uint8_t code_[512]; \
	size_t n_ = build_printf(code_, format, __VA_ARGS__); \
	int64_t res_; \
	printed_len = 0; printed[0] = 0; \
	bool ok_ = run(code_, n_, &res_); \
	if (!ok_) fprintf(stderr, "  error: %s\n", err); \
	CHECK(ok_); \
	CHECK_STR(printed, want); \
} while (0)

#define PRINT_FAILS(want, format, ...) do { \
	uint8_t code_[512]; \
	size_t n_ = build_printf(code_, format, __VA_ARGS__); \
	CHECK(fails_with(code_, n_, want)); \
} while (0)

static void test_printf(void)
{
	reset();
	memcpy(mem, "hello\0", 6);
	PRINTS("x=5\n", "x=%d\n", 1, (uint64_t)5);
	PRINTS("-3 -3 4294967293", "%d %i %u", 3, (uint64_t)-3, (uint64_t)-3, (uint64_t)-3);
	PRINTS("ff FF 17 A", "%x %X %o %c", 4, (uint64_t)255, (uint64_t)255, (uint64_t)15,
	       (uint64_t)'A');
	PRINTS("s=hello|", "s=%s|", 1, (uint64_t)MEM_BASE);
	PRINTS("(null)", "%s", 1, (uint64_t)0);
	PRINTS("0x1000 (nil)", "%p %p", 2, (uint64_t)MEM_BASE, (uint64_t)0);
	PRINTS("-1 -1 18446744073709551615 18446744073709551615 ffffffffffffffff",
	       "%lld %ld %lu %llu %lx", 5, (uint64_t)-1, (uint64_t)-1, (uint64_t)-1, (uint64_t)-1,
	       (uint64_t)-1);
	PRINTS("4294967295", "%u", 1, (uint64_t)-1);  /* int: 32 bits */
	PRINTS("[   42][42   ][00042][+42][ 42][0x2a][hel][  hel]",
	       "[%5d][%-5d][%05d][%+d][% d][%#x][%.3s][%5.3s]", 8, (uint64_t)42, (uint64_t)42,
	       (uint64_t)42, (uint64_t)42, (uint64_t)42, (uint64_t)42, (uint64_t)MEM_BASE,
	       (uint64_t)MEM_BASE);
	PRINTS("[-1][255][65535][7]", "[%hhd][%hhu][%hu][%zu]", 4, (uint64_t)255, (uint64_t)255,
	       (uint64_t)-1, (uint64_t)7);
	PRINTS("100%", "100%%", 0, (uint64_t)0);
	PRINTS("", "", 0, (uint64_t)0);
	PRINTS("[0x1000   ]", "[%-9p]", 1, (uint64_t)MEM_BASE);
	/* escapes, as gdb leaves them in a dprintf format */
	PRINTS("a\n\tb\\c\"\033", "a\\n\\tb\\\\c\\\"\\e", 0, (uint64_t)0);
	PRINT_FAILS("unknown escape \\x71", "\\q", 0, (uint64_t)0);
	PRINT_FAILS("format ends with a backslash", "x\\", 0, (uint64_t)0);
	/* the printf pops exactly its arguments, function and channel */
	{
		uint8_t code[512];
		size_t n = 0;
		code[n++] = C8;
		code[n++] = 99;
		n += build_printf(code + n, "%d", 1, (uint64_t)1);
		int64_t res;
		CHECK(run(code, n, &res) && res == 99);
	}
	/* %s bounded: no NUL in the 16 readable bytes before the end of memory */
	memset(mem + 0xf0, 'x', 16);
	PRINT_FAILS("cannot read the %s string at 0x1100", "%s", 1, (uint64_t)MEM_BASE + 0xf0);
	PRINTS("xxxx", "%.4s", 1, (uint64_t)MEM_BASE + 0xf0);
	PRINT_FAILS("cannot read the %s string at 0x10", "%s", 1, (uint64_t)0x10);
	/* refused directives */
	PRINT_FAILS("directive \"%f\" not supported", "%f", 1, (uint64_t)1);
	PRINT_FAILS("directive \"%n\" not supported", "%n", 1, (uint64_t)MEM_BASE);
	PRINT_FAILS("directive \"%ls\" is not a valid", "%ls", 1, (uint64_t)MEM_BASE);
	PRINT_FAILS("directive \"%lc\" is not a valid", "%lc", 1, (uint64_t)65);
	PRINT_FAILS("directive \"%Lf\" not supported", "%Lf", 1, (uint64_t)1);
	PRINT_FAILS("directive \"%lllx\" not supported", "%lllx", 1, (uint64_t)1);
	PRINT_FAILS("directive \"%#d\" is not a valid", "%#d", 1, (uint64_t)1);
	PRINT_FAILS("directive \"%05s\" is not a valid", "%05s", 1, (uint64_t)MEM_BASE);
	PRINT_FAILS("directive \"%.2c\" is not a valid", "%.2c", 1, (uint64_t)65);
	PRINT_FAILS("'*' width", "%*d", 2, (uint64_t)3, (uint64_t)1);
	PRINT_FAILS("'*' width", "%.*d", 2, (uint64_t)3, (uint64_t)1);
	PRINT_FAILS("width over 1024", "%99999999999d", 1, (uint64_t)1);
	PRINT_FAILS("precision over 1024", "%.2000d", 1, (uint64_t)1);
	PRINT_FAILS("format ends inside the directive \"%-5\"", "%-5", 1, (uint64_t)1);
	PRINT_FAILS("output over 4096 bytes", "%1000d%1000d%1000d%1000d%1000d", 5, (uint64_t)1,
		    (uint64_t)1, (uint64_t)1, (uint64_t)1, (uint64_t)1);
	/* argument counts */
	PRINT_FAILS("wants more than the 1 argument given", "%d %d", 1, (uint64_t)1);
	PRINT_FAILS("2 arguments given, the format uses 1", "%d", 2, (uint64_t)1, (uint64_t)2);
	/* the bytecode around it */
	CHECK(FAILS("format string not terminated", C8, 0, C8, 0, PRINTF, 0, 0, 2, 'h', 'i', END));
	CHECK(FAILS("format string of 9 bytes, 3 left", C8, 0, C8, 0, PRINTF, 0, 0, 9, 'h', 0, END));
	CHECK(FAILS("format string of 0 bytes", C8, 0, C8, 0, PRINTF, 0, 0, 0, END));
	CHECK(FAILS("operand truncated", C8, 0, C8, 0, PRINTF, 0, 0));
	CHECK(FAILS("stack underflow: 2 values, printf of 1 arguments needs 3", C8, 0, C8, 0, PRINTF,
		    1, 0, 3, '%', 'd', 0, END));
	CHECK(FAILS("stack underflow: 1 values", C8, 0, PRINTF, 0, 0, 1, 0, END));
	refuse_print = true;
	CHECK(FAILS("printf output refused", C8, 0, C8, 0, PRINTF, 0, 0, 3, 'h', 'i', 0, END));
	refuse_print = false;
	env.print = NULL;
	CHECK(FAILS("no printf output here", C8, 0, C8, 0, PRINTF, 0, 0, 3, 'h', 'i', 0, END));
	env.print = fake_print;
	/* a NUL inside the format ends it, as a C string */
	printed_len = 0;
	CHECK(VALUE(C8, 0, C8, 0, PRINTF, 0, 0, 5, 'a', 0, '%', 'd', 0, END) == 0);
	CHECK_STR(printed, "a");
}

static void test_parse_hex(void)
{
	struct ax_expr e;
	char perr[128];
	CHECK(ax_parse_hex("22052703", 8, 3, &e, perr, sizeof perr) == 0 && e.len == 3 &&
	      e.code[0] == 0x22 && e.code[2] == 0x27);
	ax_expr_free(&e);
	CHECK(e.code == NULL && e.len == 0);
	CHECK(ax_parse_hex("2205", 4, 3, &e, perr, sizeof perr) < 0 && strstr(perr, "3 bytes announced"));
	CHECK(ax_parse_hex("22zz27", 6, 3, &e, perr, sizeof perr) < 0 && strstr(perr, "not hex at byte 1"));
	CHECK(ax_parse_hex("", 0, 0, &e, perr, sizeof perr) < 0);
	CHECK(ax_parse_hex("22", 2, AX_MAX_CODE + 1, &e, perr, sizeof perr) < 0 &&
	      strstr(perr, "1 to 4096"));
}

int main(void)
{
	test_arithmetic();
	test_logic_and_comparisons();
	test_extension();
	test_memory();
	test_registers();
	test_constants_and_stack();
	test_control();
	test_tracing();
	test_printf();
	test_parse_hex();
	return check_done("test_agent_ax");
}
