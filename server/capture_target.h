/* The capture target (--replay): a recorded CoreSight capture served as a
 * stopped, read-only target with one thread (pid 1, tid 1) standing where
 * the trace ends. Registers: the PC (and on arm the CPSR's T bit), the
 * rest unavailable; memory from the ELF or the snapshot's dumps; every
 * write and resume refused with the reason. The trace itself is
 * server/replay.h's. */
#ifndef SERVER_CAPTURE_TARGET_H
#define SERVER_CAPTURE_TARGET_H

#include <stddef.h>

/* Load DIR (see replay_open) and select the capture target. Returns 0, or
 * -1 with ERR. */
int capture_target_open(const char *dir, char *err, size_t errlen);
void capture_target_close(void);

#endif
