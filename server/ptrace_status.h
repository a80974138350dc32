/* The live target's stops: a waitpid status of a thread turned into an
 * event for gdb, or handled here (recorder stops, events gdb did not ask
 * for, threads that come and go). */
#ifndef SERVER_PTRACE_STATUS_H
#define SERVER_PTRACE_STATUS_H

#include <stdbool.h>
#include <sys/types.h>

#include "server/threads.h"

/* A waitpid status for a pid we do not know yet: a new clone or fork
 * child can report its first stop before its parent's event. */
struct stray {
	pid_t pid;
	int status;
	struct stray *next;
};
extern struct stray *strays;

void remove_thread(struct thread *t);
/* Forget a process (gone, detached or killed). */
void ptrace_mourn(struct process *p);
/* Turn a waitpid status of T into an event. Returns true when it is to be
 * reported to gdb (in EV); false when handled here (thread resumed or gone). */
bool handle_status(struct thread *t, int status, struct stop_event *ev);

#endif
