/* Execution control: resume (c, s, vCont), detach, kill, run, attach,
 * restart, interrupt, the thread gdb acts on (H). */
#ifndef SERVER_EXEC_CONTROL_H
#define SERVER_EXEC_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"

struct session;

void handle_extended(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_vcont_query(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_vcont(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_detach(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_H(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_kill(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_vrun(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_vattach(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_vkill(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_restart(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_vctrlc(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_c(void *ctx, const char *a, size_t n, struct buf *r);
void handle_C(void *ctx, const char *a, size_t n, struct buf *r);
void handle_s(void *ctx, const char *a, size_t n, struct buf *r);
void handle_S(void *ctx, const char *a, size_t n, struct buf *r);

#endif
