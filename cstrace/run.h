/* The program run to its end (or a limit), its trace drained meanwhile.
 * Non-stop (QNonStop:1 accepted): the program runs all along, its
 * threads' stops come as %Stop notifications and are handled one thread
 * at a time; at the end every thread is stopped (vCont;t). All-stop: the
 * program is interrupted for each read and continued. The program's exit
 * is caught at its exit_group syscall entry so that its last trace and
 * its memory can still be read. */
#ifndef CSTRACE_RUN_H
#define CSTRACE_RUN_H

#include "cstrace/session.h"

enum run_end {
	RUN_FINAL,      /* stopped where the last trace can be read */
	RUN_DONE,       /* nothing more to read (the program is gone) */
	RUN_FAILED,
};

/* All-stop: every drain_ms the program is interrupted (^C), its trace
 * read, and continued. */
enum run_end run_all_stop(struct cap *k, double deadline);
/* Non-stop: every drain_ms the trace is read while the program runs. */
enum run_end run_nonstop(struct cap *k, double deadline);
/* Non-stop, at the end: let the program finish its exit (every thread
 * resumed until the process is reported gone). */
void run_nonstop_let_exit(struct cap *k);

#endif
