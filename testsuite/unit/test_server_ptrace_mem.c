/* ptrace_mem_xfer against the real kernel: a stopped child's read-only
 * text and its data, unaligned ranges, neighbours kept, refusals. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server/ptrace_mem.h"
#include "testsuite/unit/check.h"

static uint8_t data[64] = "the quick brown fox jumps over the lazy dog, 0123456789abcdefghi";

__attribute__((noinline)) static int in_text(int x)
{
	return x * 7 + 3;
}

#define NO_PTRACE 77

/* A traced child stopped before it runs anything; -1 on failure, 0 when
 * this machine has no ptrace (qemu-user: the child exits NO_PTRACE). */
static pid_t stopped_child(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
			_exit(NO_PTRACE);
		raise(SIGSTOP);
		_exit(in_text(1) == 10 ? 0 : 1);
	}
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	if (WIFEXITED(st) && WEXITSTATUS(st) == NO_PTRACE)
		return 0;
	return WIFSTOPPED(st) ? pid : -1;
}

static void test_text(pid_t pid)
{
	uint64_t text = (uint64_t)(uintptr_t)in_text;
	uint8_t got[16], want[16];
	memcpy(want, (const void *)in_text, sizeof want);   /* fork: same bytes */
	CHECK(ptrace_mem_xfer(pid, text + 3, got, 13, false) == 13);
	CHECK(memcmp(got, want + 3, 13) == 0);

	/* three bytes in the middle of a word of a read-only mapping */
	const uint8_t patch[3] = {0xcc, 0xcd, 0xce};
	CHECK(ptrace_mem_xfer(pid, text + 5, (void *)patch, 3, true) == 3);
	CHECK(ptrace_mem_xfer(pid, text, got, sizeof got, false) == (ssize_t)sizeof got);
	memcpy(want + 5, patch, 3);
	CHECK(memcmp(got, want, sizeof got) == 0);

	/* the kernel's own view agrees */
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/mem", pid);
	int fd = open(path, O_RDONLY);
	CHECK(fd >= 0);
	if (fd >= 0) {
		uint8_t seen[16];
		CHECK(pread(fd, seen, sizeof seen, (off_t)text) == (ssize_t)sizeof seen);
		CHECK(memcmp(seen, want, sizeof seen) == 0);
		close(fd);
	}
}

static void test_data(pid_t pid)
{
	uint64_t at = (uint64_t)(uintptr_t)data;
	uint8_t msg[21], got[sizeof data], want[sizeof data];
	memset(msg, 0x5a, sizeof msg);
	memcpy(want, data, sizeof data);
	memcpy(want + 5, msg, sizeof msg);
	CHECK(ptrace_mem_xfer(pid, at + 5, msg, sizeof msg, true) == (ssize_t)sizeof msg);
	CHECK(ptrace_mem_xfer(pid, at, got, sizeof got, false) == (ssize_t)sizeof got);
	CHECK(memcmp(got, want, sizeof got) == 0);
	CHECK(ptrace_mem_xfer(pid, at, got, 0, false) == 0);
}

static void test_refused(pid_t pid)
{
	uint8_t b[8] = {0};
	errno = 0;
	CHECK(ptrace_mem_xfer(pid, 0, b, sizeof b, false) == -1);
	CHECK(errno == EIO || errno == EFAULT);
	CHECK(ptrace_mem_xfer(pid, 8, b, 3, true) == -1);
	/* not our tracee */
	CHECK(ptrace_mem_xfer(getpid(), (uint64_t)(uintptr_t)data, b, 4, false) == -1);
	CHECK(errno == ESRCH || errno == EPERM);
}

int main(void)
{
	pid_t pid = stopped_child();
	if (pid == 0) {
		printf("test_server_ptrace_mem: skipped: PTRACE_TRACEME fails here "
		       "(qemu-user has no ptrace)\n");
		return check_done("test_server_ptrace_mem");
	}
	CHECK(pid > 0);
	if (pid > 0) {
		test_text(pid);
		test_data(pid);
		test_refused(pid);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	return check_done("test_server_ptrace_mem");
}
