/* common/file.h: whole files, and the files that must be refused rather
 * than read (they would block or never end). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file.h"
#include "testsuite/unit/check.h"

static char dir[] = "/tmp/test_common_file-XXXXXX";

static const char *path_of(const char *name)
{
	static char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static void write_file(const char *name, const char *text, size_t len)
{
	FILE *f = fopen(path_of(name), "wb");
	if (!f || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
		perror(name);
		exit(1);
	}
}

static void test_regular(void)
{
	struct buf b = BUF_INIT;
	char err[256] = "";
	write_file("small", "one\ntwo\n", 8);
	CHECK(file_read(path_of("small"), 1024, &b, err, sizeof(err)) == 0);
	CHECK(b.len == 8 && !memcmp(b.data, "one\ntwo\n", 8) && b.data[8] == '\0');
	/* appended to what OUT holds */
	CHECK(file_read(path_of("small"), 8, &b, NULL, 0) == 0);
	CHECK(b.len == 16 && !strcmp(b.data, "one\ntwo\none\ntwo\n"));
	buf_free(&b);

	size_t len = 99;
	char *text = file_read_alloc(path_of("small"), 8, &len, err, sizeof(err));
	CHECK(text && len == 8 && !strcmp(text, "one\ntwo\n"));
	free(text);
	write_file("empty", "", 0);
	text = file_read_alloc(path_of("empty"), 8, &len, err, sizeof(err));
	CHECK(text && len == 0 && text[0] == '\0');
	free(text);
}

static void test_too_large(void)
{
	struct buf b = BUF_INIT;
	char err[256] = "";
	buf_puts(&b, "kept");
	write_file("big", "0123456789", 10);
	errno = 0;
	CHECK(file_read(path_of("big"), 9, &b, err, sizeof(err)) == -1);
	CHECK(errno == EFBIG);
	CHECK(strstr(err, "big: larger than 9 bytes") != NULL);
	CHECK(b.len == 4 && !strcmp(b.data, "kept"));
	buf_free(&b);
	size_t len;
	CHECK(file_read_alloc(path_of("big"), 9, &len, NULL, 0) == NULL);
}

static void test_refused(void)
{
	struct buf b = BUF_INIT;
	char err[256] = "";

	errno = 0;
	CHECK(file_read(path_of("missing"), 1024, &b, err, sizeof(err)) == -1);
	CHECK(errno == ENOENT);
	CHECK(strstr(err, "missing: No such file or directory") != NULL);

	err[0] = '\0';
	CHECK(file_read(dir, 1024, &b, err, sizeof(err)) == -1);
	CHECK(strstr(err, "not a regular file") != NULL);

	/* a FIFO with no writer: opening it must not wait for one */
	CHECK(mkfifo(path_of("fifo"), 0600) == 0);
	err[0] = '\0';
	CHECK(file_read(path_of("fifo"), 1024, &b, err, sizeof(err)) == -1);
	CHECK(strstr(err, "fifo: not a regular file") != NULL);

	/* endless devices */
	err[0] = '\0';
	CHECK(file_read("/dev/zero", 1024, &b, err, sizeof(err)) == -1);
	CHECK(strstr(err, "/dev/zero: not a regular file") != NULL);
	CHECK(file_read("/dev/urandom", 1024, &b, NULL, 0) == -1);
	CHECK(b.len == 0);
	buf_free(&b);
}

/* /proc files say size 0 and are read to their end. */
static void test_proc(void)
{
	struct buf b = BUF_INIT;
	CHECK(file_read("/proc/self/status", 1 << 20, &b, NULL, 0) == 0);
	CHECK(b.len > 0 && strstr(b.data, "Pid:") != NULL);
	buf_free(&b);
	/* and the cap holds for them too */
	CHECK(file_read("/proc/self/status", 16, &b, NULL, 0) == -1 && errno == EFBIG);
	buf_free(&b);
}

int main(void)
{
	alarm(20);      /* a read that blocks fails the test instead of hanging it */
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_regular();
	test_too_large();
	test_refused();
	test_proc();
	unlink(path_of("small"));
	unlink(path_of("empty"));
	unlink(path_of("big"));
	unlink(path_of("fifo"));
	rmdir(dir);
	return check_done("test_common_file");
}
