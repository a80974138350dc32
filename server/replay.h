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
#include "server/tracedec.h"

struct session;

#define REPLAY_PID 1
#define REPLAY_TID 1

/* Load and decode DIR. Returns 0, or -1 with ERR. */
int replay_open(const char *dir, char *err, size_t errlen);
void replay_close(void);
bool replay_active(void);

/* The window decoded at start-up: gdb's default bts buffer size. */
#define REPLAY_FIRST_WINDOW 0x10000u

/* The ranges decoded from the newest SIZE bytes of the trace (see
 * trace_ranges_init), oldest first, with statistics of the whole trace.
 * Decodes the capture again unless SIZE is the window last decoded; the
 * pointer stays valid until another size is asked for. NULL with ERR if
 * the trace cannot be read. */
const struct trace_ranges *replay_window(uint64_t size, char *err, size_t errlen);
/* Length of the recorded trace buffer and whether it is CoreSight-formatted. */
uint64_t replay_raw_info(bool *formatted);
/* Read LEN recorded trace bytes at OFFSET: 0, or -1 with errno. */
int replay_raw_read(uint64_t offset, void *buf, size_t len);
/* The decoded trace unit (one: the trace ID the thread stands for). */
const struct tdec_unit *replay_unit(void);
/* Where the thread stands: after the last instruction of the trace. */
uint64_t replay_pc(void);
/* The last traced instruction was Thumb (arm). */
bool replay_thumb(void);
/* The capture's ELF, or NULL (a snapshot of memory dumps only). */
const char *replay_elf_path(void);
/* One-paragraph description for `monitor etm status`. */
void replay_describe(struct buf *out);
/* Name of the function (ELF symbol) holding ADDR, or NULL. */
const char *replay_symbol(uint64_t addr);
/* Read recorded memory; returns bytes read (0 = none). */
size_t replay_read_memory(uint64_t addr, void *buf, size_t len);

#endif
