/* The process/thread model over ptrace (gdbserver's linux-low). All-stop:
 * when one thread reports an event every other thread is stopped too. */
#ifndef SERVER_TARGET_H
#define SERVER_TARGET_H

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
};

enum resume_kind { RESUME_STOP, RESUME_CONTINUE, RESUME_STEP, RESUME_RANGE };

struct breakpoint {
	uint64_t addr;
	int kind;
	uint8_t len;
	uint8_t saved[16];      /* memory under the breakpoint instruction */
	struct breakpoint *next;
};

struct temp_bp {
	bool armed;             /* its instruction is in memory */
	uint8_t len;
	int kind;
	uint64_t addr;
	uint8_t saved[16];
};

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
	uint8_t fast_state;     /* FAST_NONE, FAST_ARMED, FAST_STALE (target.c) */
	uint8_t fast_insn_size; /* of the instruction under tbp[0] */
	bool sw_stepping;       /* stepping with tbp[1..2] */
	bool parked;            /* at another thread's step breakpoint: waits till it is out */
	uint64_t parked_pc;
	bool sw_step_syscall;   /* ... a system call, with PTRACE_SYSCALL */
	int last_request;       /* PTRACE_CONT / SINGLESTEP / SYSCALL */
	bool resumed_over_sigstop; /* resumed while our SIGSTOP was in flight */

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
	uint8_t *regs;
	bool regs_valid;
	bool gp_valid;          /* only the general registers are in REGS */
	unsigned hw_generation; /* proc->hw_generation applied to this thread */
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
	struct process *next;
};

/* What the server asked of the target (set by Q packets, options). */
struct target_settings {
	bool disable_randomization;
	bool startup_with_shell;
	char **wrapper;                 /* argv of --wrapper, or NULL */
	char *cwd;                      /* QSetWorkingDir, or NULL */
	char **env;                     /* environment for new inferiors */
	bool pass_signals[256];         /* indexed by host signal */
	bool program_signals_set;
	bool program_signals[256];
	bool catch_syscalls;
	bool catch_any_syscall;
	long *syscalls;
	size_t nsyscalls;
	bool report_fork, report_vfork, report_exec, thread_events;
	bool stdio_connection;          /* protocol on stdin/stdout */
};

extern struct target_settings target_settings;
extern struct process *processes;

/* Start PROG with ARGV (argv[0] = PROG); returns the stopped process at
 * its first instruction, or NULL with a message in ERR. */
struct process *target_create(char *const argv[], char *err, size_t errlen);
/* gdbserver's rule: a bare name that is a file in the current directory
 * is made absolute; other names are left for a $PATH search. malloc'd. */
char *target_program_path(const char *name);
struct process *target_attach(pid_t pid, char *err, size_t errlen);
int target_detach(struct process *p);
/* A fork child whose fork event gdb has not been told of yet: gdb must
 * not see it (thread lists) nor resume it (as gdbserver does). */
bool target_fork_unreported(const struct process *p);
void target_kill(struct process *p);
void target_mourn(struct process *p);   /* forget a process */

struct process *find_process(pid_t pid);
struct thread *find_thread(pid_t tid);
struct thread *first_thread(void);

/* Resume: every thread's resume/resume_sig/range fields are set by the
 * caller first. Returns true if an event is already pending (no thread
 * was resumed). */
bool target_resume_all(void);

enum wait_result { WAIT_EVENT, WAIT_CLIENT, WAIT_ERROR };
/* Wait until a thread reports (then all threads are stopped and *EV is
 * filled) or CLIENT_FD becomes readable. CLIENT_FD < 0: no client. */
enum wait_result target_wait(int client_fd, struct stop_event *ev);
/* Non-stop mode: events are reported one thread at a time and the other
 * threads keep running. */
extern bool target_non_stop;
/* The descriptor that becomes readable when a child has news. */
int target_event_fd(void);
/* Non-stop: collect statuses without blocking; true with *EV set when a
 * thread (or process) has something to report. */
bool target_next_event(struct stop_event *ev);
/* Non-stop vCont;t: stop one thread; it reports signal 0. */
void target_stop_thread(struct thread *t);

/* Stop every thread (an interrupt). */
void target_interrupt(void);
void target_stop_all(void);

/* Registers (raw block in gdb order) of a stopped thread. */
uint8_t *thread_regs(struct thread *t);
int thread_store_regs(struct thread *t);
/* Write the raw block REGS to the thread; only when it took them do they
 * become its cached registers. */
int thread_write_regs(struct thread *t, const uint8_t *regs);

/* Memory through /proc/PID/mem; breakpoint instructions are hidden. */
ssize_t target_read_memory(struct process *p, uint64_t addr, void *buf, size_t len);
ssize_t target_write_memory(struct process *p, uint64_t addr, const void *buf, size_t len);

/* Z/z packets. Return 0 ok, 1 unsupported (empty reply), -1 error. */
int target_insert_point(struct process *p, int type, uint64_t addr, int kind);
int target_remove_point(struct process *p, int type, uint64_t addr, int kind);

/* Software branch recording of a thread (see swbtrace.h): it is then
 * single-stepped whenever it runs. SIZE is the buffer in bytes. */
int target_btrace_enable(struct thread *t, uint64_t size, char *err, size_t errlen);
void target_btrace_disable(struct thread *t);
/* Record by stepping every instruction instead of running from branch to
 * branch under temporary breakpoints (monitor set btrace-step on, or
 * CSGDBSERVER_BTRACE_STEP=1 in the environment). The records are the same;
 * this is for comparison and as a way out. */
extern bool target_btrace_per_insn;
/* Called with every branch the software recorder records, after it went
 * into the thread's swbtrace; NULL by default (another trace source, e.g.
 * an emulated ETM, hooks in here). */
extern void (*record_branch_hook)(struct thread *t, uint64_t from, uint64_t to);

/* Set up the SIGCHLD signalfd; once at start-up. */
int target_init(void);
/* Kill what we started, detach what we attached. */
void target_cleanup_all(void);

extern bool debug_target;
/* Where --debug/--remote-debug output goes: --debug-file, else stderr
 * (the inferior's and the server's own messages stay on stderr). */
extern FILE *debug_out;
#define DEBUG_OUT (debug_out ? debug_out : stderr)

/* Called when a thread joins (ADDED) or leaves the thread list; the
 * branch-trace layer traces new threads from their first instruction. */
extern void (*target_thread_hook)(struct thread *t, bool added);

#endif
