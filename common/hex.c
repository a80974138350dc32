#include "common/hex.h"

#define H(c) ((c) >= '0' && (c) <= '9' ? (c) - '0' : (c) >= 'a' && (c) <= 'f' ? (c) - 'a' + 10 : \
	      (c) >= 'A' && (c) <= 'F' ? (c) - 'A' + 10 : -1)
#define H4(c) H(c), H((c) + 1), H((c) + 2), H((c) + 3)
#define H16(c) H4(c), H4((c) + 4), H4((c) + 8), H4((c) + 12)
#define H64(c) H16(c), H16((c) + 16), H16((c) + 32), H16((c) + 48)

const signed char hex_digit_values[256] = {H64(0), H64(64), H64(128), H64(192)};

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
