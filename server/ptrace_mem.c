/* A kernel booted with proc_mem.force_override=never (Linux 6.12+) refuses
 * /proc/PID/mem writes to read-only mappings, so breakpoints in the text
 * could not be planted; some security modules refuse the file outright.
 * PTRACE_POKEDATA still may, as gdbserver writes memory that way. */
#include "server/ptrace_mem.h"

#include <errno.h>
#include <string.h>
#include <sys/ptrace.h>

ssize_t ptrace_mem_xfer(pid_t tid, uint64_t addr, void *buf, size_t len, bool write)
{
	const size_t word_size = sizeof(long);
	uint8_t *bytes = buf;
	size_t done = 0;
	int err = 0;
	while (done < len) {
		uint64_t at = addr + done;
		uint64_t base = at & ~(uint64_t)(word_size - 1);
		size_t skip = (size_t)(at - base);
		size_t n = word_size - skip < len - done ? word_size - skip : len - done;
		errno = 0;
		long word = ptrace(PTRACE_PEEKDATA, tid, (void *)(uintptr_t)base, NULL);
		if (errno) {
			err = errno;
			break;
		}
		if (write) {
			memcpy((uint8_t *)&word + skip, bytes + done, n);
			if (ptrace(PTRACE_POKEDATA, tid, (void *)(uintptr_t)base, (void *)word) < 0) {
				err = errno;
				break;
			}
		} else {
			memcpy(bytes + done, (uint8_t *)&word + skip, n);
		}
		done += n;
	}
	if (done == 0 && len > 0) {
		errno = err;
		return -1;
	}
	return (ssize_t)done;
}
