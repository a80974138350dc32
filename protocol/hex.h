/* Hex and binary codecs of the remote serial protocol. */
#ifndef PROTOCOL_HEX_H
#define PROTOCOL_HEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/buf.h"

/* Value of hex digit C, or -1. */
int hex_value(int c);

/* Decode LEN hex characters from HEX into OUT (LEN/2 bytes).
 * Returns the number of bytes written, or -1 on a bad digit or odd length. */
long hex_decode(const char *hex, size_t len, void *out);

/* Parse an unsigned hex number at *P (no "0x"), advancing *P past it.
 * Fails on no digits or overflow of 64 bits. */
bool hex_parse_u64(const char **p, const char *end, uint64_t *out);

/* Parse a hex number that must be followed by SEP (consumed). */
bool hex_parse_u64_sep(const char **p, const char *end, char sep, uint64_t *out);

/* Binary escaping ('}' XOR 0x20) of '#', '$', '}' and '*'. */
void bin_escape(struct buf *out, const void *data, size_t len);

/* Unescape binary data in place; returns the new length, or -1 when the
 * data ends in a lone escape character. */
long bin_unescape(char *data, size_t len);

/* Longest prefix of DATA (at most LEN bytes) whose escaped form fits in
 * MAX_OUT bytes. */
size_t bin_escape_fit(const void *data, size_t len, size_t max_out);

#endif
