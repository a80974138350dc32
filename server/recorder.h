/* The live target's software branch recorder: a recorded thread runs from
 * branch to branch under a temporary breakpoint (the fast path, swfast.h)
 * or is stepped an instruction at a time, and each taken branch goes into
 * its swbtrace. Without hardware single-step (arm) a step is breakpoints
 * on where the instruction can go. The resume and status code
 * (ptrace_wait.c, ptrace_status.c) call it explicitly: every resume goes
 * through resume_thread, and a stop of a recorded thread through the
 * functions below before it is news for gdb. */
#ifndef SERVER_RECORDER_H
#define SERVER_RECORDER_H

#include <stdbool.h>

#include "server/threads.h"

/* thread.fast_state: the temporary breakpoint of the recorder's fast path
 * is in memory (ARMED), or was taken out while the thread ran, so that a
 * trap from it may still come (STALE). */
enum { FAST_NONE, FAST_ARMED, FAST_STALE };

/* Resume T with ptrace REQUEST and signal SIG, as a recorded step where T
 * is recorded (or the machine cannot step). */
void resume_thread(struct thread *t, int request, int sig);
/* Resume T the way gdb last asked for. */
void resume_as_asked(struct thread *t, int sig);
/* The same where T may have a SIGSTOP of ours still in flight (an
 * earlier stop or hold): gdb's resume comes after it, so that SIGSTOP
 * must not stop T for good (sigstop_stop resumes it again). */
void resume_over_sigstop(struct thread *t, int sig);
/* Resume recorded thread T that gdb let continue: up to the next
 * control-flow instruction under a temporary breakpoint, or one step. */
void resume_recorded(struct thread *t, int sig);

/* Take T's fast-path breakpoint out. RUNNING: the thread may be hitting
 * it right now, so its trap is still recognised once. */
void fast_disarm(struct thread *t, bool running);
/* T stopped with SIGTRAP: was it its temporary breakpoint? Then the PC
 * is put back on the breakpoint's address. */
bool fast_trap_is_ours(struct thread *t);
/* T stopped at its temporary breakpoint: record the branch and run on
 * without a step where the arch can. False: step the branch instead. */
bool fast_emulate(struct thread *t);

void sw_step_disarm(struct thread *t);
/* T (stopped with SIGTRAP) ran into another thread's step breakpoint: the
 * instruction at its PC has not run. */
bool sw_step_foreign_trap(struct thread *t);
/* Run T again, or park it until the other thread's breakpoint is out. */
void park_or_resume(struct thread *t);
/* Resume the parked threads whose PC is free again. */
void unpark_threads(void);

/* A recorded thread made one step from T->bt_pc: record the branch. */
void record_step(struct thread *t);
/* Take our breakpoints (gdb's and the recorder's) out of P. */
void breakpoints_uninsert(struct process *p);

#endif
