/* The live target's own breakpoints (tracepoints'): inserted and removed
 * beside gdb's (struct breakpoint.by_trace), and a thread resumed from one
 * steps over it first: the instruction goes back under it for one step,
 * then the breakpoint is put back and the thread goes on as asked
 * (gdbserver's step-over). After a hit the other threads of the process
 * are stopped meanwhile (ptrace_status.c, resume_off_tracepoint); when gdb
 * resumes a thread sitting on one they run on, and may pass the address
 * unseen during that one step. */
#ifndef SERVER_PTRACE_TRACESTEP_H
#define SERVER_PTRACE_TRACESTEP_H

#include <stdbool.h>
#include <stdint.h>

#include "server/threads.h"

int lwp_insert_trace_bp(struct process *p, uint64_t addr, int kind);
int lwp_remove_trace_bp(struct process *p, uint64_t addr);

/* T is about to be resumed with ptrace REQUEST: at a tracepoint's
 * breakpoint, it is taken out and the request becomes a single step. */
int tracestep_begin(struct thread *t, int request);
/* T stopped (SIG, ptrace EVENT) while stepping over: the breakpoint goes
 * back in. True when the step is done and T is to go on with *REQUEST
 * (what it was resumed with), nothing for gdb. */
bool tracestep_finish(struct thread *t, int sig, int event, int *request);

/* T is going away: the breakpoint it is stepping over goes back in. */
void tracestep_forget(struct thread *t);

#endif
