#include "common/err.h"

#include <stdio.h>

int err_vfail(char *err, size_t errlen, const char *fmt, va_list ap)
{
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
	return -1;
}

int err_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vfail(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}
