/* What the live target asks the tracepoint code when a thread stops with
 * SIGTRAP at a breakpoint or after a step (server/ptrace_status.c): the
 * tracepoints there collect, and the thread may go on without gdb hearing
 * of the stop. Only the thread table is needed here. */
#ifndef SERVER_TRACE_HIT_H
#define SERVER_TRACE_HIT_H

#include <stdbool.h>
#include <stdint.h>

#include "server/threads.h"

enum trace_verdict {
	TRACE_PASS,     /* not the run's business, or gdb wants the stop too */
	TRACE_RESUME,   /* collected: resume the thread as gdb asked, silently */
	TRACE_STEP,     /* while-stepping: single-step it, silently */
};

/* T stopped at PC (registers already backed up to it): at a breakpoint
 * (BREAKPOINT; GDB_BREAKPOINT when gdb's own is there as well) or after
 * a single step. */
enum trace_verdict trace_thread_stopped(struct thread *t, uint64_t pc, bool breakpoint,
					bool gdb_breakpoint);
/* T is gone. */
void trace_thread_gone(struct thread *t);

#endif
