/* The capture target (--replay): a recorded CoreSight capture served as a
 * stopped, read-only target with one thread (pid 1, tid 1) standing where
 * the trace ends. Registers: the PC (and on arm the CPSR's T bit), the
 * rest unavailable; memory from the ELF or the snapshot's dumps; every
 * write and resume refused with the reason. The capture itself (loading,
 * decoding, memory, symbols) is etm/recorded.h's; btrace serves its trace
 * as a trace source. */
#ifndef SERVER_CAPTURE_TARGET_H
#define SERVER_CAPTURE_TARGET_H

#include <stddef.h>

struct buf;

/* Load DIR (an OpenCSD snapshot or a capture directory, see
 * etm/recorded.h) and select the capture target. Returns 0, or -1 with
 * ERR. */
int capture_target_open(const char *dir, char *err, size_t errlen);
void capture_target_close(void);
/* One paragraph on the capture, for the start-up message. */
void capture_target_describe(struct buf *out);

#endif
