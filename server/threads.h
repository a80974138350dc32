/* The table of what is being debugged: processes and their threads, with
 * the stop events they hold. Both targets keep it (server/target.h): the
 * live one (ptrace) fills it from the kernel, the capture one holds its one
 * recorded thread there. */
#ifndef SERVER_THREADS_H
#define SERVER_THREADS_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "arch/arch.h"

enum stop_kind {
	STOP_NONE,
	STOP_SIGNAL,          /* stopped with sig (host number) */
	STOP_EXITED,          /* process exited with code sig */
	STOP_SIGNALLED,       /* process killed by signal sig */
	STOP_FORK,
	STOP_VFORK,
	STOP_VFORK_DONE,
	STOP_EXEC,
	STOP_SYSCALL_ENTRY,
	STOP_SYSCALL_RETURN,
	STOP_THREAD_CREATED,
	STOP_THREAD_EXITED,
	STOP_NO_RESUMED,      /* nothing left that could report */
};

enum stop_reason {
	REASON_NONE,
	REASON_SWBREAK,
	REASON_HWBREAK,
	REASON_WATCH,
	REASON_RWATCH,
	REASON_AWATCH,
	REASON_STEP,
};

struct stop_event {
	enum stop_kind kind;
	int sig;
	enum stop_reason reason;
	uint64_t data_addr;
	pid_t child_pid;        /* fork/vfork */
	long syscall;
	pid_t pid, tid;         /* who reported */
	bool agent_checked;     /* a breakpoint hit whose conditions were evaluated */
};

enum resume_kind { RESUME_STOP, RESUME_CONTINUE, RESUME_STEP, RESUME_RANGE };

/* What a thread stopped on a breakpoint still has to step over: gdb's
 * (Z0/Z1) whose conditions were false or that ran commands, only once gdb
 * lets it continue; or a tracepoint's, on any resume. */
enum step_over_wanted { STEP_OVER_NONE, STEP_OVER_Z0, STEP_OVER_Z1, STEP_OVER_TRACEPOINT };

struct breakpoint {
	uint64_t addr;
	int kind;
	uint8_t len;
	uint8_t saved[16];      /* memory under the breakpoint instruction */
	bool by_gdb;            /* gdb's (Z0): its stops are news for gdb */
	bool by_trace;          /* a tracepoint's: the server handles its stops */
	struct breakpoint *next;
};

struct temp_bp {
	bool armed;             /* its instruction is in memory */
	uint8_t len;
	int kind;
	uint64_t addr;
	uint8_t saved[16];
};

struct etm_source;

struct thread {
	pid_t tid;
	struct process *proc;
	struct thread *next;

	bool stopped;           /* in a ptrace stop */
	bool stop_expected;     /* we sent SIGSTOP that has not shown up yet */
	bool has_pending;       /* EV holds an event not yet reported */
	struct stop_event pending;
	bool new_thread;        /* not seen by gdb yet (thread events) */
	bool stop_requested;    /* non-stop vCont;t: report the stop as signal 0 */
	struct swbtrace *bt;    /* software branch recording, or NULL */
	/* The trace source that takes each recorded branch (an emulated ETM
	 * unit encodes them), or NULL: the ring alone is the record. */
	struct etm_source *bt_sink;
	uint64_t bt_pc;         /* PC before the step being recorded */
	int bt_sig;             /* signal delivered by that step */
	int bt_isa;             /* enum disasm_isa at BT_PC */
	bool stepping;          /* last resumed with PTRACE_SINGLESTEP */
	/* A recorded step was cut short by an event stop (clone, fork, a
	 * syscall stop, our SIGSTOP): the next resume finishes it, from the
	 * same BT_PC. */
	bool step_interrupted;
	/* The recorder's temporary breakpoints, never visible to gdb (memory
	 * reads mask them): [0] the one the fast path (swfast.h) runs to,
	 * [1] and [2] where a step goes on machines without hardware
	 * single-step (arm). */
	struct temp_bp tbp[3];
	uint8_t fast_state;     /* FAST_NONE, FAST_ARMED, FAST_STALE (recorder.h) */
	uint8_t fast_insn_size; /* of the instruction under tbp[0] */
	bool sw_stepping;       /* stepping with tbp[1..2] */
	bool parked;            /* at another thread's step breakpoint: waits till it is out */
	uint64_t parked_pc;
	bool sw_step_syscall;   /* ... a system call, with PTRACE_SYSCALL */
	int last_request;       /* PTRACE_CONT / SINGLESTEP / SYSCALL */
	bool resumed_over_sigstop; /* resumed while our SIGSTOP was in flight */
	/* Stepping over a breakpoint gdb is not to hear of (ptrace_stepover.h):
	 * HELD, stopped while another thread steps over one (gdb believes it
	 * runs); STEP_OVER_WANTED, stopped on such a breakpoint, its step over
	 * still to come (enum step_over_wanted). */
	bool held;
	uint8_t step_over_wanted;

	enum resume_kind resume;
	int resume_sig;
	/* Signals gdb asked to deliver when the thread was not resumed
	 * after all (another event was reported instead): they go with
	 * its next resumes, oldest first, as gdbserver queues them. */
	int deferred_sig[4];
	int ndeferred;
	uint64_t range_start, range_end;
	bool in_syscall;

	siginfo_t siginfo;
	bool siginfo_valid;
	/* A signal gdb had delivered while the thread blocked it: the kernel
	 * queues it again and stops the thread with it once unblocked; that
	 * stop is not news, the signal goes in as gdb asked. */
	int requeued_sig;
	uint8_t *regs;
	bool regs_valid;
	bool gp_valid;          /* only the general registers are in REGS */
	unsigned hw_generation; /* proc->hw_generation applied to this thread */
	/* The software breakpoint this thread steps over, out of memory
	 * meanwhile (breakpoint_lift), or 0. */
	uint64_t lifted_at;
	/* Stepped over a tracepoint's breakpoint on its own (ptrace_tracestep.h):
	 * the resume to go on with. */
	bool tracestepping;
	int tracestep_request;
};

struct process {
	pid_t pid;
	bool attached;          /* detach (rather than kill) when we are done */
	bool gone;
	bool dying;             /* a thread died of a signal: the rest follow */
	bool sw_step_used;      /* step breakpoints planted (any thread may meet one) */
	struct thread *threads;
	struct breakpoint *breakpoints;
	struct hw_point hw[16];
	size_t nhw;
	unsigned hw_generation;
	int mem_fd;
	bool vfork_parent;      /* waiting for vfork-done */
	pid_t fork_parent_tid;  /* the thread whose fork made this process */
	struct swfast *fast;    /* blocks decoded for the recorder's fast path */
	/* The thread stepping over the breakpoint of STEP_OVER_TYPE at
	 * STEP_OVER_ADDR, taken out meanwhile (ptrace_stepover.h); a hardware
	 * one goes back after unless gdb removed it in between (REINSERT)
	 * after unless gdb removed it in between. */
	struct thread *stepping_over;
	int step_over_type, step_over_kind;
	bool step_over_tracepoint;   /* a tracepoint's breakpoint (type 0) */
	uint64_t step_over_addr;
	bool step_over_reinsert;
	bool step_over_started;    /* taken out, the step under way */
	struct process *next;
};

extern struct process *processes;

/* T's step over is to start (gdb let it run). */
static inline bool step_over_due(const struct thread *t)
{
	return t->step_over_wanted &&
	       (t->resume == RESUME_CONTINUE ||
		(t->step_over_wanted == STEP_OVER_TRACEPOINT && t->resume != RESUME_STOP));
}

/* T runs as far as gdb knows, though it may be stopped for the target's
 * own reasons (parked, held for a step over, waiting for its own). */
static inline bool thread_runs_for_gdb(const struct thread *t)
{
	return !t->stopped || t->parked || t->held || t->proc->stepping_over == t ||
	       step_over_due(t);
}

struct process *find_process(pid_t pid);
struct thread *find_thread(pid_t tid);
struct thread *first_thread(void);

/* Append a process to the table (no threads yet). */
struct process *process_new(pid_t pid, bool attached);
/* Append a stopped thread to P, with REGS_SIZE bytes of register cache. */
struct thread *thread_new(struct process *p, pid_t tid, size_t regs_size);
/* Unlink and free; the target let go of what it held in them first. */
void thread_delete(struct thread *t);
void process_delete(struct process *p);

extern bool debug_target;
/* Where --debug/--remote-debug output goes: --debug-file, else stderr
 * (the inferior's and the server's own messages stay on stderr). */
extern FILE *debug_out;
#define DEBUG_OUT (debug_out ? debug_out : stderr)

#endif
