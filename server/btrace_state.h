/* The state btrace keeps per traced thread, shared by the packet handlers
 * (btrace.c) and the monitor commands (btrace_monitor.c). Private to them. */
#ifndef SERVER_BTRACE_STATE_H
#define SERVER_BTRACE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "etm/config.h"
#include "etm/ranges.h"
#include "etm/source.h"
#include "common/buf.h"

struct session;

enum bt_format { BT_BTS, BT_CORESIGHT };

struct bt_thread {
	pid_t pid, tid;
	enum bt_format fmt;
	bool auto_enabled;          /* enabled by us when it appeared; gdb not told yet */
	struct etm_config cfg;
	struct trace_ranges ranges; /* decoded from read_new (a capture: its window) */
	struct buf raw;             /* raw trace read so far, for the CoreSight document */
	uint64_t raw_total;         /* trace bytes ever appended to RAW */
	uint64_t raw_mark;          /* RAW_TOTAL at the last read (CoreSight delta) */
	bool collected;             /* a capture: it has been handed over */
	uint64_t delta_mark;        /* ranges already sent: trace_ranges_end() then */
	bool read_before;           /* an all/new/delta was answered since enabling */
	bool changed;               /* trace grew since the last read */
	bool overflow;              /* trace was lost since the last read */
	uint64_t bytes_lost;
	/* the decoder failed on trace read since the last read: the next read
	 * answers it as an error, once (what decoded before it is kept) */
	char decode_failure[ETM_ERR_LEN];
	struct bt_thread *next;
};

/* The trace source (NULL: none) and why there is no hardware one. */
struct etm_source *bt_source(void);
const char *bt_source_note(void);
struct bt_thread *bt_threads(void);

/* The traced general thread of S with its trace read; NULL with a line on
 * OUT saying why not. */
struct bt_thread *bt_monitor_thread(struct session *s, struct buf *out);
/* The same for thread TID (0: the general thread). */
struct bt_thread *bt_trace_thread(struct session *s, pid_t tid, struct buf *out);
/* Where T stands, as the blocks end (false: unknown). */
bool bt_thread_pc(struct bt_thread *t, uint64_t *pc);
/* The ranges T holds. */
const struct trace_ranges *bt_held(struct bt_thread *t);
/* T's process memory (a capture: recorded memory): bytes read. */
size_t bt_read_memory(struct bt_thread *t, uint64_t addr, void *buf, size_t len);

/* The configuration for threads enabled from now on, and NAME=VALUE of
 * Qbtrace-conf FORMAT applied to it (0, or -1 with ERR). */
const struct etm_config *bt_pending_cfg(void);
int bt_apply_option(const char *format, const char *name, const char *value, char *err, size_t errlen);

#endif
