/* gdb's target-side breakpoint conditions and commands (Z0/Z1 with ";X"
 * conditions and ";cmds:" as `set breakpoint condition-evaluation target`
 * and `set dprintf-style agent` send them), kept per breakpoint and
 * evaluated with agent/ax.h when a thread hits one. Nothing here resumes
 * threads: the live target asks agent_point_hit and steps over the
 * breakpoint itself (ptrace_stepover.h). */
#ifndef SERVER_AGENT_POINTS_H
#define SERVER_AGENT_POINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/ax.h"
#include "server/threads.h"

#define AGENT_POINT_MAX_EXPRS 64   /* conditions, and commands, on one breakpoint */

/* What a Z packet asks for at its address, besides the breakpoint. */
struct agent_point_opts {
	struct ax_expr *conds;
	size_t nconds;
	struct ax_expr *cmds;
	size_t ncmds;
	bool persist;           /* cmds:1 (gdb's dprintf "persist": kept after gdb goes) */
};

/* Parse what follows "Z0,addr,kind" (N bytes from OPTS: empty, or ';'
 * then "X len,hex"... and "cmds:persist,X len,hex..."). Returns 0, or -1
 * with ERR naming the problem (OUT then holds nothing). */
int agent_point_parse(const char *opts, size_t n, struct agent_point_opts *out, char *err,
		      size_t errlen);
void agent_point_opts_free(struct agent_point_opts *o);

/* The breakpoint of TYPE (0 or 1) at ADDR in process PID now has O's
 * conditions and commands, replacing what it had (gdb re-sends the whole
 * list); O is taken over (emptied). Empty O: it has none. */
void agent_points_set(pid_t pid, int type, uint64_t addr, struct agent_point_opts *o);
void agent_points_clear(pid_t pid, int type, uint64_t addr);
/* The process is gone or exec'd: its breakpoints went with it. */
void agent_points_forget(pid_t pid);
/* Has the breakpoint of TYPE at ADDR conditions or commands? */
bool agent_point_here(pid_t pid, int type, uint64_t addr);

/* Thread T stopped at its breakpoint of TYPE at ADDR (PC on it, T's
 * registers readable). Evaluates the conditions (OR'ed, as gdbserver: one
 * true or failing to evaluate is enough) and, when they hold, runs the
 * commands (printf output on the server's stdout, as gdbserver). True when
 * gdb is to hear of the stop: the conditions hold and there are no
 * commands; false when T is to go on unseen. */
bool agent_point_hit(struct thread *t, int type, uint64_t addr);

/* Counters for the tests and monitor: hits evaluated, and how many of
 * them were reported. */
struct agent_point_stats {
	unsigned long hits, reported, errors;
};
void agent_points_stats(struct agent_point_stats *out);

#endif
