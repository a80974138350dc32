/* The live target's own breakpoints (tracepoints'): inserted and removed
 * beside gdb's (struct breakpoint.by_trace). A thread leaving one steps
 * over it first, its instruction out of memory for that step
 * (breakpoint_lift). After a hit, and when gdb lets a thread continue from
 * one, the other threads of the process are held meanwhile
 * (ptrace_stepover.h: stepover_resume); the steps here are the rest (gdb's
 * own steps, the recorder's, a resume after our SIGSTOP), with the other
 * threads as they are: all-stop gdb steps one thread with the others
 * stopped. */
#ifndef SERVER_PTRACE_TRACESTEP_H
#define SERVER_PTRACE_TRACESTEP_H

#include <stdbool.h>
#include <stdint.h>

#include "server/threads.h"

int lwp_insert_trace_bp(struct process *p, uint64_t addr, int kind);
int lwp_remove_trace_bp(struct process *p, uint64_t addr);
/* T (stopped) is on a tracepoint's breakpoint that gdb has none of. */
bool at_tracepoint_breakpoint(struct thread *t);

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
