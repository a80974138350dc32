/* Serving qXfer objects in pieces: the "ANNEX:OFFSET,LENGTH" requests. */
#ifndef PROTOCOL_QXFER_H
#define PROTOCOL_QXFER_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"

/* Serve a qXfer read: "OFFSET,LENGTH" of DOC as "m"/"l" + escaped data.
 * Returns 0, or -1 when ARGS is malformed (reply untouched). */
int xfer_reply(struct buf *reply, const char *doc, size_t doc_len,
	       const char *args, size_t args_len);

/* Split the "ANNEX:OFFSET,LENGTH" of a qXfer read at its last ':' into
 * ANNEX (NUL-terminated, less than ANNEX_SIZE bytes) and the range. */
bool xfer_split_annex(const char *args, size_t len, char *annex, size_t annex_size,
		      const char **range, size_t *range_len);

/* Parse "OFFSET,LENGTH" of a qXfer read request. */
int xfer_parse_range(const char *args, size_t len,
		     unsigned long long *offset, unsigned long long *length);

#endif
