/* Memory of a stopped tracee word by word through ptrace: the way in where
 * /proc/PID/mem is refused. */
#ifndef SERVER_PTRACE_MEM_H
#define SERVER_PTRACE_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Read or write LEN bytes at ADDR of the process of TID, which must be in a
 * ptrace stop. Bytes around an unaligned range are kept. Returns how many
 * bytes were moved (short at the first word ptrace refuses), or -1 with
 * errno when not even the first was. */
ssize_t ptrace_mem_xfer(pid_t tid, uint64_t addr, void *buf, size_t len, bool write);

#endif
