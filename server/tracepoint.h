/* Tracepoints (GDB manual, "Tracepoint Packets"), as gdbserver serves them
 * without its in-process agent: trap tracepoints only, the server
 * collecting at each hit and resuming the thread without a stop reply
 * (trace_collect.c); frames in a bounded buffer (trace_frames.h); while
 * gdb looks at a frame (tfind) the frame answers g, p and m
 * (trace_view.c). Fast and static tracepoints are not offered. */
#ifndef SERVER_TRACEPOINT_H
#define SERVER_TRACEPOINT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "server/session.h"

/* qSupported features. */
void tracepoint_qsupported(struct buf *reply);
/* The client is gone: the run stops unless QTDisconnected:1 said not. */
void tracepoint_client_gone(void);

/* While a trace frame is selected it answers g, p and m (writes are
 * refused): true when PKT was answered here. */
bool traceframe_serves(struct session *s, const char *pkt, size_t len, struct buf *reply);

/* Rows of packets.c's table. */
void handle_qtinit(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qtdp(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qtdpsrc(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qtdv(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qtro(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qtstart(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qtstop(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qtstatus(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qtframe(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qtfp(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qtsp(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qtfv(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qtsv(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qtv(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qtp(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qtbuffer_size(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qtbuffer_circular(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qtbuffer_read(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qtnotes(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qtdisconnected(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qtenable(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qtdisable(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qallow(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_xfer_traceframe_info(void *ctx, const char *a, size_t n, struct buf *reply);

#endif
