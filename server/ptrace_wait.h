/* The live target's resume and wait: all-stop (when one thread reports,
 * every other is stopped too) and non-stop, over a SIGCHLD signalfd so
 * that one poll() also watches the client. */
#ifndef SERVER_PTRACE_WAIT_H
#define SERVER_PTRACE_WAIT_H

#include <stdbool.h>

#include "server/target.h"

extern int sigchld_fd;

/* Stop every thread of ONLY (all processes when NULL). */
void stop_threads(struct process *only);
bool ptrace_fork_unreported(const struct process *p);
bool ptrace_resume_all(void);
void ptrace_stop_all(void);
int ptrace_event_fd(void);
bool ptrace_next_event(struct stop_event *ev);
void ptrace_stop_thread(struct thread *t);
enum wait_result ptrace_wait(int client_fd, struct stop_event *ev);

#endif
