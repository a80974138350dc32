/* Queries and session-wide packets: qSupported, thread lists, qC,
 * qAttached, qSymbol, qGetTLSAddr, qOffsets, qRcmd, QStartNoAckMode,
 * vFile and vMustReplyEmpty. */
#ifndef SERVER_QUERIES_H
#define SERVER_QUERIES_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"

struct session;

void handle_qattached(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qC(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qfthreadinfo(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qsthreadinfo(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qgettlsaddr(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qoffsets(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qsupported(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qrcmd(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_noack(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_empty(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_vfile_packet(void *ctx, const char *a, size_t n, struct buf *reply);

#endif
