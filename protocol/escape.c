#include "protocol/escape.h"

#include <stdbool.h>

static bool needs_escape(unsigned char c)
{
	return c == '#' || c == '$' || c == '}' || c == '*';
}

void bin_escape(struct buf *out, const void *data, size_t len)
{
	const unsigned char *p = data;
	buf_reserve(out, len + len / 8);
	for (size_t i = 0; i < len; i++) {
		if (needs_escape(p[i])) {
			buf_putc(out, '}');
			buf_putc(out, (char)(p[i] ^ 0x20));
		} else {
			buf_putc(out, (char)p[i]);
		}
	}
}

long bin_unescape(char *data, size_t len)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '}') {
			if (++i >= len)
				return -1;
			data[o++] = (char)(data[i] ^ 0x20);
		} else {
			data[o++] = data[i];
		}
	}
	return (long)o;
}

size_t bin_escape_fit(const void *data, size_t len, size_t max_out)
{
	const unsigned char *p = data;
	size_t used = 0, i;
	for (i = 0; i < len; i++) {
		size_t w = needs_escape(p[i]) ? 2 : 1;
		if (used + w > max_out)
			break;
		used += w;
	}
	return i;
}
