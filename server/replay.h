/* csgdbserver --replay DIR: a recorded CoreSight capture served as a
 * stopped, read-only target. DIR is an OpenCSD snapshot directory or a
 * capture directory (trace.bin + etm.ini + one ELF). Memory comes from the
 * ELF's loadable segments or the snapshot's memory dumps; the only thread
 * stands at the end of the trace. The trace stays in its file and is
 * decoded streaming, keeping only a window of the newest ranges: once at
 * start-up (to find where the thread stands), again only when a different
 * window is asked for, so a trace of hundreds of MiB needs no more memory
 * than a small one. */
#ifndef SERVER_REPLAY_H
#define SERVER_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/buf.h"
#include "etm/recorded.h"

struct session;

#define REPLAY_PID ETM_RECORDED_PID
#define REPLAY_TID ETM_RECORDED_TID

/* Load and decode DIR (etm/recorded.h), and hand its trace to btrace.
 * Returns 0, or -1 with ERR. */
int replay_open(const char *dir, char *err, size_t errlen);
void replay_close(void);
bool replay_active(void);

/* Where the thread stands: after the last instruction of the trace. */
uint64_t replay_pc(void);
/* One-paragraph description for the start-up message. */
void replay_describe(struct buf *out);
/* Name of the function (ELF symbol) holding ADDR, or NULL. */
const char *replay_symbol(uint64_t addr);
/* Read recorded memory; returns bytes read (0 = none). */
size_t replay_read_memory(uint64_t addr, void *buf, size_t len);

/* Answer PKT if it is one of the packets that would touch a live process
 * (registers, memory, resume, threads, target description). Returns false
 * for packets the ordinary handlers serve. */
bool replay_dispatch(struct session *s, const char *pkt, size_t len, struct buf *reply);

#endif
