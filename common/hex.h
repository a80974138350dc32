/* Hex digits and numbers, as the remote protocol and the trace tools write them. */
#ifndef COMMON_HEX_H
#define COMMON_HEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Value of each byte as a hex digit, -1 for a byte that is not one. */
extern const signed char hex_digit_values[256];

/* Value of hex digit C, or -1. Inline: the trace documents of a capture
 * are megabytes of hex, read a digit at a time. */
static inline int hex_value(int c)
{
	return c >= 0 && c < 256 ? hex_digit_values[c] : -1;
}

/* Decode LEN hex characters from HEX into OUT (LEN/2 bytes).
 * Returns the number of bytes written, or -1 on a bad digit or odd length. */
long hex_decode(const char *hex, size_t len, void *out);

/* Parse an unsigned hex number at *P (no "0x"), advancing *P past it.
 * Fails on no digits or overflow of 64 bits. */
bool hex_parse_u64(const char **p, const char *end, uint64_t *out);

/* Parse a hex number that must be followed by SEP (consumed). */
bool hex_parse_u64_sep(const char **p, const char *end, char sep, uint64_t *out);

#endif
