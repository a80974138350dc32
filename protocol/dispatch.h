/* Packet dispatch tables: packet names mapped to handlers. */
#ifndef PROTOCOL_DISPATCH_H
#define PROTOCOL_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"

/* A handler gets the bytes after the matched name (ARGS, not NUL-free
 * for binary packets) and writes its reply payload. */
typedef void (*packet_fn)(void *ctx, const char *args, size_t len, struct buf *reply);

struct packet_handler {
	const char *name;
	bool exact;         /* the packet must be exactly NAME */
	unsigned flags;     /* meaning chosen by the table's owner */
	packet_fn fn;
};

/* The handler whose NAME is the longest match for PKT, or NULL. Longest
 * match means table order never matters ("qC" vs "qCRC:"). *ARGS is set
 * to the text after the name. */
const struct packet_handler *
dispatch_find(const struct packet_handler *table, size_t count,
	      const char *pkt, size_t len, const char **args);

#endif
