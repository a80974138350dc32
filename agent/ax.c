/* Agent expression bytecode: parsing and evaluation (see ax.h). */
#include "agent/ax.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/hex.h"

static int ax_fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int ax_parse_hex(const char *hex, size_t hexlen, size_t nbytes, struct ax_expr *out,
		 char *err, size_t errlen)
{
	out->code = NULL;
	out->len = 0;
	if (nbytes == 0 || nbytes > AX_MAX_CODE)
		return ax_fail(err, errlen, "agent expression of %zu bytes (1 to %d accepted)",
			       nbytes, AX_MAX_CODE);
	if (hexlen < 2 * nbytes)
		return ax_fail(err, errlen, "agent expression: %zu bytes announced, %zu hex digits sent",
			       nbytes, hexlen);
	uint8_t *code = malloc(nbytes);
	if (!code)
		return ax_fail(err, errlen, "agent expression: out of memory");
	for (size_t i = 0; i < nbytes; i++) {
		int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			free(code);
			return ax_fail(err, errlen, "agent expression: not hex at byte %zu", i);
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

int ax_eval(const struct ax_expr *expr, const struct ax_env *env, int64_t *result,
	    char *err, size_t errlen)
{
	(void)expr;
	(void)env;
	*result = 0;
	return ax_fail(err, errlen, "agent expressions are not evaluated yet");
}
