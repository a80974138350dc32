/* The printf opcode's formatter: gdb's format string checked directive by
 * directive (the program's format never reaches the C library as is). */
#ifndef AGENT_AX_PRINTF_H
#define AGENT_AX_PRINTF_H

#include <stddef.h>
#include <stdint.h>

#include "agent/ax_env.h"

#define AX_FORMAT_WIDTH_MAX 1024  /* largest width or precision accepted */

/* Format FORMAT (FORMAT_LEN bytes, no NUL needed) with NARGS values ARGS
 * (ARGS[0] for the first directive) into OUT (OUT_SIZE bytes, at most
 * AX_PRINTF_MAX used). %s reads the program's memory through ENV.
 * Returns the length written, or -1 with ERR. Accepted: %d %i %u %x %X %o
 * %c %s %p %%, flags - + space # 0, width, precision, and the length
 * modifiers hh h l ll z, and the backslash escapes gdb leaves in dprintf
 * formats (\\ \a \b \e \f \n \r \t \v \"); floating point, wide
 * characters and `*` widths are refused. */
long ax_format(const char *format, size_t format_len, const uint64_t *args, size_t nargs,
	       const struct ax_env *env, char *out, size_t out_size, char *err, size_t errlen);

#endif
