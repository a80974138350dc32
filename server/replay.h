/* csgdbserver --replay DIR: a recorded CoreSight capture served as a
 * stopped, read-only target. DIR is an OpenCSD snapshot directory or a
 * capture directory (trace.bin + etm.ini + one ELF). Memory comes from the
 * ELF's loadable segments or the snapshot's memory dumps; the only thread
 * stands at the end of the trace; the trace is decoded once, at start-up,
 * and served to `record btrace`. */
#ifndef SERVER_REPLAY_H
#define SERVER_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "protocol/buf.h"
#include "server/tracedec.h"

struct session;

#define REPLAY_PID 1
#define REPLAY_TID 1

/* Load and decode DIR. Returns 0, or -1 with ERR. */
int replay_open(const char *dir, char *err, size_t errlen);
void replay_close(void);
bool replay_active(void);

/* The decoded trace, oldest range first. */
const struct trace_ranges *replay_ranges(void);
/* The trace buffer as recorded, and whether it is CoreSight-formatted. */
const uint8_t *replay_raw(size_t *len, bool *formatted);
/* The decoded trace unit (one: the trace ID the thread stands for). */
const struct tdec_unit *replay_unit(void);
/* Where the thread stands: after the last instruction of the trace. */
uint64_t replay_pc(void);
/* One-paragraph description for `monitor etm status`. */
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
