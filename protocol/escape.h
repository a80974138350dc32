/* Binary data in remote protocol packets: '}' escaping. */
#ifndef PROTOCOL_ESCAPE_H
#define PROTOCOL_ESCAPE_H

#include <stddef.h>

#include "common/buf.h"

/* Binary escaping ('}' XOR 0x20) of '#', '$', '}' and '*'. */
void bin_escape(struct buf *out, const void *data, size_t len);

/* Unescape binary data in place; returns the new length, or -1 when the
 * data ends in a lone escape character. */
long bin_unescape(char *data, size_t len);

/* Longest prefix of DATA (at most LEN bytes) whose escaped form fits in
 * MAX_OUT bytes. */
size_t bin_escape_fit(const void *data, size_t len, size_t max_out);

#endif
