/* Stepping over a breakpoint gdb is not to hear of: target-side
 * conditions and commands (agent_points.h), where a thread that gdb let
 * continue hits a breakpoint whose conditions are all false, or that runs
 * commands (dprintf); and tracepoints' own breakpoints (ptrace_tracestep.h).
 * The thread must go on without gdb hearing of it. As gdbserver does,
 * the other threads of its process are held (stopped), the breakpoint is
 * taken out, the thread steps the instruction under it, the breakpoint
 * goes back and the others are let go. One step over at a time per
 * process: a thread that hits such a breakpoint while held waits its turn
 * (step_over_wanted). */
#ifndef SERVER_PTRACE_STEPOVER_H
#define SERVER_PTRACE_STEPOVER_H

#include <stdbool.h>

#include "server/threads.h"

/* T (stopped, a tracepoint's hit collected) goes on as gdb asked; on a
 * tracepoint's breakpoint it steps over it first with the others held
 * (queued behind another thread's step over). */
void stepover_resume(struct thread *t);
/* T stopped with EV (a breakpoint, PC on it): true when gdb is to hear
 * of it; false when T steps over it unseen (started here). */
bool stepover_breakpoint_is_news(struct thread *t, struct stop_event *ev);
/* T (stopped, resumed by gdb) holds a breakpoint hit not yet looked at
 * (collected while threads were being stopped): when gdb is not to hear
 * of it, it becomes a step over to come and true is returned. */
bool stepover_recheck_pending(struct thread *t);
/* T, stepping over a breakpoint, has a new wait STATUS: the breakpoint
 * goes back (not into a new image after an exec). True when T was
 * stepping over one, and STATUS is then the step's end or what cut it. */
bool stepover_status(struct thread *t, int status);
/* T, whose step over ended with a stop, is still on the breakpoint (our
 * SIGSTOP or a signal came first): its step over is to come again. */
void stepover_cut_short(struct thread *t);
/* T is gone: a step over it was making ends. */
void stepover_thread_gone(struct thread *t);
/* Let the held threads go and start the next step over that waits; from
 * the wait loops. */
void stepover_progress(void);
/* Every thread is being stopped for gdb: holds end (the threads are
 * stopped for good now). */
void stepover_drop_holds(void);
/* T waits, stopped, for the others to be held before its step over
 * starts (it counts as running); stepover_cancel puts that step over off
 * (gdb wants T stopped) till gdb resumes T again (step_over_wanted). */
bool stepover_pending_start(const struct thread *t);
void stepover_cancel(struct thread *t);
/* gdb asks T, held with a breakpoint hit not yet looked at, to stop: if
 * gdb is not to hear of the hit, T's news becomes a plain stop (signal 0)
 * and its step over waits for gdb's next resume. */
bool stepover_settle_for_stop(struct thread *t);

/* target_ops insert/remove_point: gdb inserting or removing the
 * breakpoint being stepped over changes only whether it goes back. */
int stepover_insert_point(struct process *p, int type, uint64_t addr, int kind);
int stepover_remove_point(struct process *p, int type, uint64_t addr, int kind);

#endif
