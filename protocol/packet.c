#include "protocol/packet.h"

#include <string.h>

#include "common/hex.h"

unsigned char rsp_checksum(const char *data, size_t len)
{
	unsigned sum = 0;
	for (size_t i = 0; i < len; i++)
		sum += (unsigned char)data[i];
	return (unsigned char)sum;
}

/* Expand "X*n" run-length encoding: the repeat count is n - 29. Spans
 * without '*' are copied whole (hex trace documents are mostly that). */
static bool rle_expand(struct buf *out, const char *in, size_t len)
{
	size_t i = 0;
	buf_reserve(out, len);
	while (i < len) {
		const char *star = memchr(in + i, '*', len - i);
		size_t span = star ? (size_t)(star - (in + i)) : len - i;
		buf_append(out, in + i, span);
		i += span;
		if (!star)
			break;
		if (i == 0 || i + 1 >= len)
			return false;
		int n = (unsigned char)in[i + 1] - 29;
		if (n < 3 || n > 97)
			return false;
		buf_reserve(out, (size_t)n);
		memset(out->data + out->len, in[i - 1], (size_t)n);
		out->len += (size_t)n;
		out->data[out->len] = '\0';
		i += 2;
	}
	return true;
}

size_t rsp_parse(const char *in, size_t len, struct rsp_event *ev)
{
	buf_reset(&ev->payload);
	ev->kind = RSP_NEED_MORE;
	if (len == 0)
		return 0;
	switch (in[0]) {
	case '+':
		ev->kind = RSP_ACK;
		return 1;
	case '-':
		ev->kind = RSP_NAK;
		return 1;
	case '\x03':
		ev->kind = RSP_INTERRUPT;
		return 1;
	case '$':
		break;
	default: {
		/* Skip to the next thing that can start an event. */
		size_t i = 1;
		while (i < len && in[i] != '$' && in[i] != '+' && in[i] != '-' && in[i] != '\x03')
			i++;
		ev->kind = RSP_GARBAGE;
		return i;
	}
	}

	const char *hash = memchr(in + 1, '#', len - 1);
	if (!hash) {
		if (len > RSP_MAX_INPUT) {
			/* Drop what we have; the tail up to '#' is garbage later. */
			ev->kind = RSP_OVERSIZED;
			return len;
		}
		return 0;
	}
	size_t body = (size_t)(hash - (in + 1));
	if ((size_t)(hash - in) + 3 > len)
		return 0;
	size_t consumed = (size_t)(hash - in) + 3;
	if (body > RSP_MAX_INPUT) {
		ev->kind = RSP_OVERSIZED;
		return consumed;
	}
	int hi = hex_value((unsigned char)hash[1]);
	int lo = hex_value((unsigned char)hash[2]);
	if (hi < 0 || lo < 0 || rsp_checksum(in + 1, body) != (unsigned char)(hi << 4 | lo)) {
		ev->kind = RSP_BAD_CHECKSUM;
		return consumed;
	}
	if (memchr(in + 1, '*', body)) {
		if (!rle_expand(&ev->payload, in + 1, body)) {
			buf_reset(&ev->payload);
			ev->kind = RSP_BAD_CHECKSUM;
			return consumed;
		}
	} else {
		buf_append(&ev->payload, in + 1, body);
	}
	ev->kind = RSP_PACKET;
	return consumed;
}

void rsp_frame(struct buf *out, char prefix, const char *payload, size_t len, bool rle)
{
	static const char hex[] = "0123456789abcdef";
	buf_reserve(out, len + 4);
	buf_putc(out, prefix);
	size_t start = out->len;
	for (size_t i = 0; i < len;) {
		char c = payload[i];
		size_t run = 1;
		if (rle)
			while (i + run < len && payload[i + run] == c && run < 98)
				run++;
		buf_putc(out, c);
		/* "c*N" stands for 1 + (N - 29) copies; '#' and '$' may not be N. */
		size_t extra = run - 1;
		if (extra >= 3) {
			if (extra == 6 || extra == 7)
				extra = 5;
			buf_putc(out, '*');
			buf_putc(out, (char)(extra + 29));
			i += extra + 1;
		} else {
			i += 1;
		}
	}
	unsigned char cs = rsp_checksum(out->data + start, out->len - start);
	buf_putc(out, '#');
	buf_putc(out, hex[cs >> 4]);
	buf_putc(out, hex[cs & 15]);
}
