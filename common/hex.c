#include "common/hex.h"

int hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long hex_decode(const char *hex, size_t len, void *out)
{
	unsigned char *o = out;
	if (len % 2)
		return -1;
	for (size_t i = 0; i < len; i += 2) {
		int hi = hex_value((unsigned char)hex[i]);
		int lo = hex_value((unsigned char)hex[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		o[i / 2] = (unsigned char)(hi << 4 | lo);
	}
	return (long)(len / 2);
}

bool hex_parse_u64(const char **p, const char *end, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int d;
	if (s >= end || hex_value((unsigned char)*s) < 0)
		return false;
	while (s < end && (d = hex_value((unsigned char)*s)) >= 0) {
		if (v >> 60)
			return false;
		v = v << 4 | (uint64_t)d;
		s++;
	}
	*p = s;
	*out = v;
	return true;
}

bool hex_parse_u64_sep(const char **p, const char *end, char sep, uint64_t *out)
{
	const char *s = *p;
	if (!hex_parse_u64(&s, end, out) || s >= end || *s != sep)
		return false;
	*p = s + 1;
	return true;
}
