/* The live target's bottom layer (the lowest part of gdbserver's
 * linux-low): its processes and threads in the table, their registers and
 * memory over ptrace and /proc/PID/mem, breakpoints, and the ptrace call
 * that lets a thread go. The recorder (recorder.h) is above it, the status
 * handling and waiting (ptrace_status.h, ptrace_wait.h) above that, and
 * ptrace_target.c on top. */
#ifndef SERVER_PTRACE_LWP_H
#define SERVER_PTRACE_LWP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "server/target.h"

#define debug(...) do { if (debug_target) fprintf(DEBUG_OUT, "[target] " __VA_ARGS__); } while (0)

int send_tgkill(pid_t pid, pid_t tid, int sig);
struct process *add_process(pid_t pid, bool attached);
/* A stopped thread joins P (btrace is told). */
struct thread *add_thread(struct process *p, pid_t tid);
void free_breakpoints(struct process *p);
/* The ptrace options of every thread we trace; CREATED: we started it. */
void set_options(pid_t tid, bool created);
/* A thread at a PTRACE_EVENT_EXEC stop is still inside execve: the first
 * PTRACE_SINGLESTEP from there only returns to user space. Take that step
 * now, so gdb's first stepi runs the first instruction. Returns false if
 * the thread is gone; another signal is queued again. */
bool settle_after_exec(pid_t pid, pid_t tid);

struct breakpoint *find_breakpoint(struct process *p, uint64_t addr);
/* Memory as it is, breakpoint instructions and all. */
ssize_t raw_read(struct process *p, uint64_t addr, void *buf, size_t len);
ssize_t raw_write(struct process *p, uint64_t addr, const void *buf, size_t len);
/* Memory as gdb sees it: without our breakpoints (target_ops). */
ssize_t lwp_read_memory(struct process *p, uint64_t addr, void *buf, size_t len);
ssize_t lwp_write_memory(struct process *p, uint64_t addr, const void *buf, size_t len);
int lwp_insert_point(struct process *p, int type, uint64_t addr, int kind);
int lwp_remove_point(struct process *p, int type, uint64_t addr, int kind);
/* Stepping over a software breakpoint: T takes its instruction out of
 * memory (the record stays: gdb's and tracepoints' points are unchanged)
 * and drops it back in when its step is done; PUT_BACK false after an exec
 * or with the process gone. The instruction is out while any thread has
 * it lifted (struct thread.lifted_at); inserting a point or writing memory
 * there meanwhile does not put it back. */
int breakpoint_lift(struct thread *t, uint64_t addr);
void breakpoint_drop(struct thread *t, bool put_back);
bool breakpoint_lifted(const struct process *p, uint64_t addr);
/* The program's own breakpoint instruction is under B (gdb's "permanent"
 * breakpoint): stepping over it traps again, for ever. */
bool breakpoint_is_permanent(const struct breakpoint *b);

uint8_t *lwp_regs(struct thread *t);
int lwp_store_regs(struct thread *t);
int lwp_write_regs(struct thread *t, const uint8_t *regs);
/* The general registers only (PC, SP, flags): cheaper, for the paths
 * that run at every branch. */
uint8_t *lwp_gp_regs(struct thread *t);
int lwp_store_gp_regs(struct thread *t);

/* gdb catches system call NR (QCatchSyscalls). */
bool catching_syscall(long nr);
/* The ptrace request for T's resume as gdb asked for it. */
int resume_request(struct thread *t);
/* Let T go with ptrace REQUEST and signal SIG; STEPPING: it stops after
 * one instruction (or one software step). */
void lwp_resume(struct thread *t, int request, int sig, bool stepping);

#endif
