/* vFile: host I/O on the target's files, so gdb's default "sysroot
 * target:" reads the program and its libraries through us. Flags, modes
 * and errno values are gdb's File-I/O numbers, not the host's. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/hex.h"
#include "protocol/escape.h"
#include "server/hostio.h"

#define FILEIO_O_RDONLY 0x0
#define FILEIO_O_WRONLY 0x1
#define FILEIO_O_RDWR 0x2
#define FILEIO_O_APPEND 0x8
#define FILEIO_O_CREAT 0x200
#define FILEIO_O_TRUNC 0x400
#define FILEIO_O_EXCL 0x800

#define HOSTIO_MAX_PREAD 16384

static int fileio_errno(int e)
{
	switch (e) {
	case EPERM: return 1;
	case ENOENT: return 2;
	case EINTR: return 4;
	case EBADF: return 9;
	case EACCES: return 13;
	case EFAULT: return 14;
	case EBUSY: return 16;
	case EEXIST: return 17;
	case ENODEV: return 19;
	case ENOTDIR: return 20;
	case EISDIR: return 21;
	case EINVAL: return 22;
	case ENFILE: return 23;
	case EMFILE: return 24;
	case EFBIG: return 27;
	case ENOSPC: return 28;
	case ESPIPE: return 29;
	case EROFS: return 30;
	case ENAMETOOLONG: return 91;
	default: return 9999;
	}
}

static void reply_errno(struct buf *reply, int e)
{
	buf_reset(reply);
	buf_printf(reply, "F-1,%x", fileio_errno(e));
}

void hostio_reset(struct hostio *h)
{
	for (int i = 0; i < h->open_count; i++)
		close(h->open_fds[i]);
	h->open_count = 0;
	h->fs_pid = 0;
}

static bool known_fd(const struct hostio *h, int fd)
{
	for (int i = 0; i < h->open_count; i++)
		if (h->open_fds[i] == fd)
			return true;
	return false;
}

/* Decode a hex file name and apply the setfs root. */
static char *target_path(const struct hostio *h, const char *hex, size_t len)
{
	char *name = malloc(len / 2 + 1);
	if (!name || hex_decode(hex, len, name) < 0) {
		free(name);
		return NULL;
	}
	name[len / 2] = '\0';
	if (h->fs_pid > 0 && name[0] == '/') {
		char *rooted;
		if (asprintf(&rooted, "/proc/%d/root%s", h->fs_pid, name) < 0)
			rooted = NULL;
		free(name);
		return rooted;
	}
	return name;
}

static bool next_hex(const char **p, const char *end, char sep, uint64_t *v)
{
	return sep ? hex_parse_u64_sep(p, end, sep, v) : hex_parse_u64(p, end, v);
}

static void put_be(uint8_t *out, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--) {
		out[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* Each vFile operation: its arguments after "vFile:NAME:" are A[0..N). */
typedef void vfile_fn(struct hostio *h, const char *a, const char *end, struct buf *reply);

/* A malformed request: gdb's EINVAL. */
static void reply_bad(struct buf *reply)
{
	reply_errno(reply, EINVAL);
}

static void vfile_open(struct hostio *h, const char *p, const char *end, struct buf *reply)
{
	uint64_t flags, mode;
	const char *comma = memchr(p, ',', (size_t)(end - p));
	if (!comma) {
		reply_bad(reply);
		return;
	}
	char *path = target_path(h, p, (size_t)(comma - p));
	p = comma + 1;
	if (!path || !next_hex(&p, end, ',', &flags) || !next_hex(&p, end, 0, &mode)) {
		free(path);
		reply_bad(reply);
		return;
	}
	int oflags = (flags & FILEIO_O_RDWR) ? O_RDWR : (flags & FILEIO_O_WRONLY) ? O_WRONLY : O_RDONLY;
	if (flags & FILEIO_O_APPEND) oflags |= O_APPEND;
	if (flags & FILEIO_O_CREAT) oflags |= O_CREAT;
	if (flags & FILEIO_O_TRUNC) oflags |= O_TRUNC;
	if (flags & FILEIO_O_EXCL) oflags |= O_EXCL;
	if (h->open_count == HOSTIO_MAX_OPEN) {
		free(path);
		reply_errno(reply, EMFILE);
		return;
	}
	int f = open(path, oflags | O_CLOEXEC, (mode_t)(mode & 0777));
	int e = errno;
	free(path);
	if (f < 0) {
		reply_errno(reply, e);
		return;
	}
	h->open_fds[h->open_count++] = f;
	buf_printf(reply, "F%x", f);
}

static void vfile_pread(struct hostio *h, const char *p, const char *end, struct buf *reply)
{
	uint64_t fd, count, offset;
	if (!next_hex(&p, end, ',', &fd) || !next_hex(&p, end, ',', &count) ||
	    !next_hex(&p, end, 0, &offset)) {
		reply_bad(reply);
		return;
	}
	if (!known_fd(h, (int)fd)) {
		reply_errno(reply, EBADF);
		return;
	}
	/* gdb asks for a packet's worth but mostly uses a few KiB of it
	 * (ELF headers, symbols): bigger replies only cost time, most
	 * over pipes (measured: 128 KiB replies made a stdio session
	 * 3x slower than 16 KiB ones). */
	if (count > HOSTIO_MAX_PREAD)
		count = HOSTIO_MAX_PREAD;
	char *data = malloc(count ? count : 1);
	if (!data) {
		reply_errno(reply, ENOMEM);
		return;
	}
	ssize_t got = pread((int)fd, data, count, (off_t)offset);
	if (got < 0) {
		reply_errno(reply, errno);
	} else {
		buf_printf(reply, "F%zx;", (size_t)got);
		bin_escape(reply, data, (size_t)got);
	}
	free(data);
}

static void vfile_pwrite(struct hostio *h, const char *p, const char *end, struct buf *reply)
{
	uint64_t fd, offset;
	if (!next_hex(&p, end, ',', &fd) || !next_hex(&p, end, ',', &offset)) {
		reply_bad(reply);
		return;
	}
	if (!known_fd(h, (int)fd)) {
		reply_errno(reply, EBADF);
		return;
	}
	size_t len = (size_t)(end - p);
	char *data = malloc(len + 1);
	if (!data) {
		reply_errno(reply, ENOMEM);
		return;
	}
	memcpy(data, p, len);
	long dlen = bin_unescape(data, len);
	ssize_t put = dlen < 0 ? -1 : pwrite((int)fd, data, (size_t)dlen, (off_t)offset);
	if (put < 0)
		reply_errno(reply, dlen < 0 ? EINVAL : errno);
	else
		buf_printf(reply, "F%zx", (size_t)put);
	free(data);
}

static void vfile_close(struct hostio *h, const char *p, const char *end, struct buf *reply)
{
	uint64_t fd;
	if (!next_hex(&p, end, 0, &fd)) {
		reply_bad(reply);
		return;
	}
	for (int i = 0; i < h->open_count; i++)
		if (h->open_fds[i] == (int)fd) {
			close(h->open_fds[i]);
			h->open_fds[i] = h->open_fds[--h->open_count];
			buf_puts(reply, "F0");
			return;
		}
	reply_errno(reply, EBADF);
}

static void vfile_fstat(struct hostio *h, const char *p, const char *end, struct buf *reply)
{
	uint64_t fd;
	struct stat st;
	if (!next_hex(&p, end, 0, &fd)) {
		reply_bad(reply);
		return;
	}
	if (!known_fd(h, (int)fd)) {
		reply_errno(reply, EBADF);
		return;
	}
	if (fstat((int)fd, &st) < 0) {
		reply_errno(reply, errno);
		return;
	}
	/* struct fio_stat, big-endian. */
	uint8_t fst[64];
	put_be(fst + 0, st.st_dev, 4);
	put_be(fst + 4, st.st_ino, 4);
	put_be(fst + 8, st.st_mode, 4);
	put_be(fst + 12, st.st_nlink, 4);
	put_be(fst + 16, st.st_uid, 4);
	put_be(fst + 20, st.st_gid, 4);
	put_be(fst + 24, st.st_rdev, 4);
	put_be(fst + 28, (uint64_t)st.st_size, 8);
	put_be(fst + 36, (uint64_t)st.st_blksize, 8);
	put_be(fst + 44, (uint64_t)st.st_blocks, 8);
	put_be(fst + 52, (uint64_t)st.st_atime, 4);
	put_be(fst + 56, (uint64_t)st.st_mtime, 4);
	put_be(fst + 60, (uint64_t)st.st_ctime, 4);
	buf_printf(reply, "F%zx;", sizeof fst);
	bin_escape(reply, fst, sizeof fst);
}

static void vfile_unlink(struct hostio *h, const char *p, const char *end, struct buf *reply)
{
	char *path = target_path(h, p, (size_t)(end - p));
	if (!path) {
		reply_bad(reply);
		return;
	}
	int rc = unlink(path);
	int e = errno;
	free(path);
	if (rc < 0)
		reply_errno(reply, e);
	else
		buf_puts(reply, "F0");
}

static void vfile_readlink(struct hostio *h, const char *p, const char *end, struct buf *reply)
{
	char *path = target_path(h, p, (size_t)(end - p));
	if (!path) {
		reply_bad(reply);
		return;
	}
	char target[4096];
	ssize_t len = readlink(path, target, sizeof target);
	int e = errno;
	free(path);
	if (len < 0) {
		reply_errno(reply, e);
		return;
	}
	buf_printf(reply, "F%zx;", (size_t)len);
	bin_escape(reply, target, (size_t)len);
}

static void vfile_setfs(struct hostio *h, const char *p, const char *end, struct buf *reply)
{
	uint64_t pid;
	if (!next_hex(&p, end, 0, &pid) || pid > INT32_MAX) {
		reply_bad(reply);
		return;
	}
	h->fs_pid = (pid_t)pid;
	buf_puts(reply, "F0");
}

/* vFile:open asking for any flag that writes. */
static bool open_writes(const char *p, const char *end)
{
	uint64_t flags;
	const char *comma = memchr(p, ',', (size_t)(end - p));
	if (!comma)
		return false;
	p = comma + 1;
	/* unparsable flags: refuse rather than guess */
	if (!next_hex(&p, end, ',', &flags))
		return true;
	return (flags & (FILEIO_O_WRONLY | FILEIO_O_RDWR | FILEIO_O_APPEND |
			 FILEIO_O_CREAT | FILEIO_O_TRUNC)) != 0;
}

static bool always(const char *p, const char *end)
{
	(void)p; (void)end;
	return true;
}

/* Operations that change the target's files: refused under --no-run
 * when WRITES says the request would write. */
static const struct vfile_op {
	const char *name;       /* with its ':' */
	vfile_fn *fn;
	bool (*writes)(const char *a, const char *end);
} vfile_ops[] = {
	{"open:", vfile_open, open_writes},
	{"pread:", vfile_pread, NULL},
	{"pwrite:", vfile_pwrite, always},
	{"close:", vfile_close, NULL},
	{"fstat:", vfile_fstat, NULL},
	{"unlink:", vfile_unlink, always},
	{"readlink:", vfile_readlink, NULL},
	{"setfs:", vfile_setfs, NULL},
};

void handle_vfile(struct hostio *h, bool no_run, const char *a, size_t n, struct buf *reply)
{
	const char *end = a + n;
	buf_reset(reply);
	for (size_t i = 0; i < sizeof vfile_ops / sizeof vfile_ops[0]; i++) {
		const struct vfile_op *op = &vfile_ops[i];
		size_t len = strlen(op->name);
		if (n < len || memcmp(a, op->name, len) != 0)
			continue;
		if (no_run && op->writes && op->writes(a + len, end)) {
			fprintf(stderr, "csgdbserver: refused vFile:%.*s for writing: --no-run\n",
				(int)(len - 1), op->name);
			reply_errno(reply, EACCES);
			return;
		}
		op->fn(h, a + len, end, reply);
		return;
	}
	/* unknown vFile operation: empty reply */
}
