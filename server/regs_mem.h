/* Registers (g G p P), memory (m M X, qCRC, qSearch:memory, memory
 * tags) and break/watchpoints (Z z) of the target. */
#ifndef SERVER_REGS_MEM_H
#define SERVER_REGS_MEM_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"

struct session;

void handle_g(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_G(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_p(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_P(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_m(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_M(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_X(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_point(struct session *s, bool insert, const char *a, size_t n, struct buf *reply);
void handle_thread_alive(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qcrc(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qsearch(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qmemtags(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_Qmemtags(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_Z(void *ctx, const char *a, size_t n, struct buf *r);
void handle_z(void *ctx, const char *a, size_t n, struct buf *r);

#endif
