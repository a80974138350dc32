/* libFuzzer harness: the input is agent bytecode, run against a fake
 * program (256 bytes of memory, registers, trace state variables,
 * collection and printf that only count). The input is also read as the
 * "LEN,HEX" text of a Z packet's condition. Any crash, hang or sanitizer
 * report is a bug: bad bytecode must end in an error. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/ax.h"

#define MEM_BASE 0x1000u
static uint8_t mem[256];
static int64_t vars[4];
static uint64_t collected_bytes;
static size_t printed;

static int f_read_mem(void *ctx, uint64_t addr, void *buf, size_t len)
{
	(void)ctx;
	if (addr < MEM_BASE || addr - MEM_BASE > sizeof mem || len > sizeof mem - (addr - MEM_BASE))
		return -1;
	memcpy(buf, mem + (addr - MEM_BASE), len);
	return 0;
}

static int f_read_reg(void *ctx, unsigned regno, uint64_t *value)
{
	(void)ctx;
	if (regno > 40)
		return -1;
	*value = MEM_BASE + regno * 4;
	return 0;
}

static int f_collect_mem(void *ctx, uint64_t addr, uint64_t len)
{
	(void)ctx;
	(void)addr;
	collected_bytes += len;
	return len > 65536 ? -1 : 0;
}

static int f_collect_var(void *ctx, unsigned num)
{
	(void)ctx;
	return num < 4 ? 0 : -1;
}

static int f_get_var(void *ctx, unsigned num, int64_t *value)
{
	(void)ctx;
	if (num >= 4)
		return -1;
	*value = vars[num];
	return 0;
}

static int f_set_var(void *ctx, unsigned num, int64_t value)
{
	(void)ctx;
	if (num >= 4)
		return -1;
	vars[num] = value;
	return 0;
}

static int f_print(void *ctx, const char *text, size_t len)
{
	(void)ctx;
	/* touch every byte: ASan checks the length is right */
	for (size_t i = 0; i < len; i++)
		printed += (unsigned char)text[i] != 0xff;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct ax_env env = {
		.read_mem = f_read_mem, .read_reg = f_read_reg, .collect_mem = f_collect_mem,
		.collect_var = f_collect_var, .get_var = f_get_var, .set_var = f_set_var,
		.print = f_print, .addr_bits = 64,
		.step_limit = 20000,  /* loops are found quickly; the full limit is tested */
	};
	for (size_t i = 0; i < sizeof mem; i++)
		mem[i] = (uint8_t)(i * 7 + 1);
	memcpy(mem + 0x80, "a string\0", 9);
	memset(vars, 0, sizeof vars);
	char err[256];
	int64_t result;
	if (size > 0 && size <= AX_MAX_CODE) {
		/* an exact-size copy so ASan sees any read past the end */
		struct ax_expr e = {malloc(size), size};
		if (!e.code)
			return 0;
		memcpy(e.code, data, size);
		if (ax_eval(&e, &env, &result, err, sizeof err) < 0 && !memchr(err, '\0', sizeof err))
			abort();
		struct ax_env env32 = env;
		env32.addr_bits = 32;
		(void)ax_eval(&e, &env32, &result, err, sizeof err);
		ax_expr_free(&e);
	}
	/* the same bytes as "hex" of a condition announcing size/2 bytes */
	struct ax_expr parsed;
	if (ax_parse_hex((const char *)data, size, size / 2, &parsed, err, sizeof err) == 0) {
		(void)ax_eval(&parsed, &env, &result, err, sizeof err);
		ax_expr_free(&parsed);
	}
	return 0;
}
