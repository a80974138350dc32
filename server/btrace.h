/* Branch tracing over the remote protocol from CoreSight ETM trace:
 * Qbtrace:{bts,CoreSight,etm,off}, Qbtrace-conf:*, qXfer:btrace:read,
 * qXfer:btrace-conf:read, qXfer:btrace-calls:read, and the `monitor etm` commands. The trace comes
 * from one trace source (etm/source.h): perf cs_etm, a perf.data
 * recording (--etm-perfdata), the software recorder (bts, or an emulated
 * ETMv4 on Arm) or a --replay capture. doc/protocol.md describes
 * every packet. */
#ifndef SERVER_BTRACE_H
#define SERVER_BTRACE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"

struct session;

/* Find the trace source at start-up: PERFDATA (a recording to replay for
 * live threads) if not NULL, else perf's cs_etm PMU if the machine has
 * one. Without either (and without --replay) nothing is advertised. */
void btrace_setup(const char *perfdata);
/* Serve SRC instead (a recorded capture; the caller keeps what it wraps). */
struct etm_source;
void btrace_use_source(struct etm_source *src);
void btrace_shutdown(void);
/* A new client: Qbtrace-conf options set by an earlier one are dropped
 * (threads already traced stay traced, for gdb's reconnect). */
void btrace_new_client(void);
/* The live target tells of each thread that joins (stopped) or leaves
 * its thread list: new threads of a traced process are traced from their
 * first instruction, the trace of a gone one is dropped. */
struct thread;
void btrace_thread_added(struct thread *t);
void btrace_thread_gone(struct thread *t);
/* Is there anything to trace with? */
bool btrace_available(void);
/* Append the btrace features to a qSupported reply. */
void btrace_qsupported(struct buf *reply);

/* Packet handlers (rows of packets.c's table). */
void handle_qbtrace(void *ctx, const char *args, size_t len, struct buf *reply);
void handle_qbtrace_conf(void *ctx, const char *args, size_t len, struct buf *reply);
void handle_xfer_btrace(void *ctx, const char *args, size_t len, struct buf *reply);
void handle_xfer_btrace_conf(void *ctx, const char *args, size_t len, struct buf *reply);
/* qXfer:btrace-calls:read (btrace_calls.c). */
void handle_xfer_btrace_calls(void *ctx, const char *args, size_t len, struct buf *reply);

/* monitor etm status | config [NAME=VALUE...] | call-history [N|FROM,TO] |
 * instruction-history [N|FROM,TO] (rows of monitor.c's table). */
int mon_etm_status(struct session *s, const char *args, struct buf *out);
int mon_etm_config(struct session *s, const char *args, struct buf *out);
int mon_etm_call_history(struct session *s, const char *args, struct buf *out);
int mon_etm_insn_history(struct session *s, const char *args, struct buf *out);

/* The annex and range of a qXfer:btrace* read A (N bytes); false with
 * REPLY made when branch tracing is unavailable or the annex is bad. */
bool btrace_xfer_args(const char *a, size_t n, char *annex, size_t annex_size,
		      const char **range, size_t *range_len, struct buf *reply);

#endif
