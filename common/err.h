/* The one error convention: a function that fails writes a message naming
 * the problem into ERR (ERRLEN bytes; ERR may be NULL) and returns -1. */
#ifndef COMMON_ERR_H
#define COMMON_ERR_H

#include <stdarg.h>
#include <stddef.h>

int err_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int err_vfail(char *err, size_t errlen, const char *fmt, va_list ap);

#endif
