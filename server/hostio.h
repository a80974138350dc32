/* vFile: host I/O on the target's files (gdb's File-I/O protocol), so
 * gdb's default "sysroot target:" reads the program and its libraries
 * through us. */
#ifndef SERVER_HOSTIO_H
#define SERVER_HOSTIO_H

#include <stddef.h>
#include <sys/types.h>

#include "common/buf.h"

#define HOSTIO_MAX_OPEN 64

/* A connection's open files and vFile:setfs process: it is per client,
 * part of its session. */
struct hostio {
	int open_fds[HOSTIO_MAX_OPEN];
	int open_count;
	pid_t fs_pid;           /* vFile:setfs: resolve paths in this process's root */
};

/* "vFile:OP:ARGS"; NO_RUN refuses what writes files (--no-run). */
void handle_vfile(struct hostio *h, bool no_run, const char *args, size_t len, struct buf *reply);
/* Close everything the connection opened. */
void hostio_reset(struct hostio *h);

#endif
