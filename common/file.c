#include "common/file.h"

#include "common/err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(int errnum, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(int errnum, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vfail(err, errlen, fmt, ap);
	va_end(ap);
	errno = errnum;   /* the caller's errno is the cause, not vsnprintf's */
	return -1;
}

/* Read FD to its end into OUT, refusing more than MAX bytes. */
static int read_to_end(int fd, const char *path, size_t max, struct buf *out, char *err, size_t errlen)
{
	size_t start = out->len;
	for (;;) {
		buf_reserve(out, 4096);
		out->data[out->len] = '\0';
		size_t room = out->cap - out->len - 1;
		ssize_t n = read(fd, out->data + out->len, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail(errno, err, errlen, "%s: %s", path, strerror(errno));
		if (n == 0)
			return 0;
		out->len += (size_t)n;
		out->data[out->len] = '\0';
		if (out->len - start > max)
			return fail(EFBIG, err, errlen, "%s: larger than %zu bytes", path, max);
	}
}

int file_open_regular(const char *path, struct stat *st, char *err, size_t errlen)
{
	/* O_NONBLOCK: opening a FIFO must not wait for a writer */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return fail(errno, err, errlen, "%s: %s", path, strerror(errno));
	if (fstat(fd, st) < 0) {
		int e = errno;
		close(fd);
		return fail(e, err, errlen, "%s: %s", path, strerror(e));
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return fail(EINVAL, err, errlen, "%s: not a regular file", path);
	}
	int flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
		int e = errno;
		close(fd);
		return fail(e, err, errlen, "%s: %s", path, strerror(e));
	}
	return fd;
}

int file_read(const char *path, size_t max, struct buf *out, char *err, size_t errlen)
{
	struct stat st;
	int fd = file_open_regular(path, &st, err, errlen);
	if (fd < 0)
		return -1;
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return fail(EFBIG, err, errlen, "%s: larger than %zu bytes (%lld)", path, max,
			    (long long)st.st_size);
	}
	size_t start = out->len;
	int rc = read_to_end(fd, path, max, out, err, errlen);
	int e = errno;
	close(fd);
	if (rc < 0) {
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
		errno = e;
	}
	return rc;
}

char *file_read_alloc(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
	struct buf b = BUF_INIT;
	if (file_read(path, max, &b, err, errlen) < 0) {
		buf_free(&b);
		return NULL;
	}
	*len = b.len;
	return buf_steal(&b);
}
