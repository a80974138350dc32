/* Stop replies as the server sends them (to '?', vRun, vAttach, a
 * continue, or in a %Stop notification and its vStopped sequence). */
#ifndef CSTRACE_STOP_REPLY_H
#define CSTRACE_STOP_REPLY_H

#include <stdbool.h>

struct stop {
	char kind;              /* 'T', 'S', 'W', 'X', 'w' (a thread exited), 'N' */
	int sig;                /* T, S: the signal; W: the exit status; X: the signal */
	long pid, tid;
	bool syscall_entry;
	long syscall;
	bool swbreak;           /* at a breakpoint (swbreak or hwbreak) */
};

/* Parse REPLY into ST; PID_DEFAULT where it names no process. */
void stop_reply_parse(const char *reply, long pid_default, struct stop *st);

/* "p1a2b.1a2c" or "1a2c" (a thread ID of a stop reply or thread list):
 * false if it names no thread. */
bool stop_parse_ptid(const char *s, long pid_default, long *pid, long *tid);

#endif
