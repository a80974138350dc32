/* Whole small files read at once: configuration and snapshot .ini files,
 * /proc and /sys files. */
#ifndef COMMON_FILE_H
#define COMMON_FILE_H

#include <stddef.h>

#include "common/buf.h"

/* Append the regular file PATH to OUT (kept NUL-terminated), at most MAX
 * bytes. Returns 0; or -1 with errno set, OUT as it was and, when ERR is
 * given, "PATH: why" in it: it cannot be opened, is not a regular file (a
 * directory, a FIFO or a device such as /dev/zero: these would block or
 * never end), holds more than MAX bytes, or a read failed. /proc files
 * (size 0 in stat) are read to their end. */
int file_read(const char *path, size_t max, struct buf *out, char *err, size_t errlen);

/* Open the regular file PATH for reading (blocking reads, close-on-exec)
 * and fill *ST; -1 with errno and "PATH: why" in ERR when it cannot be
 * opened or is not a regular file (a FIFO would block the open, a device
 * such as /dev/zero never ends). */
struct stat;
int file_open_regular(const char *path, struct stat *st, char *err, size_t errlen);

/* The same into a new buffer (the caller frees it): NUL-terminated, its
 * length in *LEN; NULL on failure. */
char *file_read_alloc(const char *path, size_t max, size_t *len, char *err, size_t errlen);

#endif
