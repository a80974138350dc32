/* The target interface: what the packet handlers ask of whatever is being
 * debugged, one ops struct per kind of target (as Black Magic Debug's
 * target vtable, gdbserver's process_stratum_target). Two targets:
 *   live processes over ptrace (ptrace_target.c and the files below it),
 *   a recorded CoreSight capture, read-only (capture_target.c).
 * Both keep what they debug in the thread table (threads.h). The handlers
 * call the functions below, which go to the selected target's ops. */
#ifndef SERVER_TARGET_H
#define SERVER_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "arch/arch.h"
#include "common/buf.h"
#include "server/threads.h"

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

enum wait_result { WAIT_EVENT, WAIT_CLIENT, WAIT_ERROR };

/* What a target may refuse as a whole, whatever the arguments: the
 * packets asking for it are answered with the target's reason. */
enum target_request {
	TREQ_RUN,               /* resume, start, attach */
	TREQ_WRITE,             /* registers, memory, siginfo */
	TREQ_INTERRUPT,         /* vCtrlC */
	TREQ_SCAN_MEMORY,       /* qCRC, qSearch:memory */
	TREQ_AUXV,
	TREQ_LIBRARIES,
	TREQ_SIGINFO,
	TREQ_THREAD_DB,         /* libthread_db on its processes (qSymbol, qGetTLSAddr) */
	TREQ_TRACEPOINTS,       /* a tracepoint run (QTStart) */
	TREQ_AGENT,             /* agent expressions: breakpoint conditions and commands, tracepoints */
	TREQ_COUNT
};

struct target_ops {
	const char *name;
	/* The register file of its threads (layout, target description). */
	const struct arch_regfile *(*regfile)(void);
	/* Registers sent with a stop reply, -1 ended. */
	const int *(*expedite)(void);
	/* vCont? reply. */
	const char *(*vcont_actions)(void);
	/* Served again to the next client after gdb detached or killed (a
	 * recording) rather than ended with its last process. */
	bool outlives_clients;
	/* A client connects (NULL: nothing to do). */
	void (*new_client)(void);
	/* NULL when the target does REQ; else the error message ("" for an
	 * empty reply: not supported). NULL op: refuses nothing. */
	const char *(*refuses)(enum target_request req);

	uint8_t *(*fetch_registers)(struct thread *t);
	/* NULL: every register is known. */
	bool (*register_available)(const struct thread *t, int regno);
	int (*store_registers)(struct thread *t);
	int (*write_registers)(struct thread *t, const uint8_t *regs);

	ssize_t (*read_memory)(struct process *p, uint64_t addr, void *buf, size_t len);
	ssize_t (*write_memory)(struct process *p, uint64_t addr, const void *buf, size_t len);
	int (*insert_point)(struct process *p, int type, uint64_t addr, int kind);
	int (*remove_point)(struct process *p, int type, uint64_t addr, int kind);
	/* A tracepoint's breakpoint: the server's own, gdb never hears of
	 * its stops (NULL: the target has none). 0 ok, -1 error. */
	int (*insert_trace_bp)(struct process *p, uint64_t addr, int kind);
	int (*remove_trace_bp)(struct process *p, uint64_t addr);

	bool (*resume_all)(void);
	enum wait_result (*wait)(int client_fd, struct stop_event *ev);
	int (*event_fd)(void);
	bool (*next_event)(struct stop_event *ev);
	void (*stop_thread)(struct thread *t);
	void (*interrupt)(void);
	void (*stop_all)(void);
	bool (*thread_alive)(struct thread *t);
	bool (*fork_unreported)(const struct process *p);

	struct process *(*create)(char *const argv[], char *err, size_t errlen);
	struct process *(*attach)(pid_t pid, char *err, size_t errlen);
	int (*detach)(struct process *p);
	void (*kill)(struct process *p);
	void (*cleanup_all)(void);

	/* The program file of process PID: its path into PATH, or an error
	 * message. */
	const char *(*exec_file)(pid_t pid, struct buf *path);
	/* qXfer:threads: a thread's name (in NAME, SIZE bytes) and CPU. */
	const char *(*thread_name)(struct thread *t, char *name, size_t size);
	int (*thread_core)(struct thread *t);
	int (*siginfo_read)(struct thread *t, siginfo_t *si);
	int (*siginfo_write)(struct thread *t, const siginfo_t *si);
};

/* The target being served; chosen once at start-up. */
extern const struct target_ops *the_target;
void target_select(const struct target_ops *ops);

/* The reason the target refuses REQ, or NULL (see target_ops.refuses). */
const char *target_refuses(enum target_request req);
const struct arch_regfile *target_regfile(void);
bool target_register_available(const struct thread *t, int regno);

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
bool target_thread_alive(struct thread *t);

/* Resume: every thread's resume/resume_sig/range fields are set by the
 * caller first. Returns true if an event is already pending (no thread
 * was resumed). */
bool target_resume_all(void);
/* Wait until a thread reports (then all threads are stopped and *EV is
 * filled) or CLIENT_FD becomes readable. CLIENT_FD < 0: no client. */
enum wait_result target_wait(int client_fd, struct stop_event *ev);
/* Non-stop mode: events are reported one thread at a time and the other
 * threads keep running. */
extern bool target_non_stop;
/* The descriptor that becomes readable when a thread has news. */
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

/* Memory; breakpoint instructions are hidden. */
ssize_t target_read_memory(struct process *p, uint64_t addr, void *buf, size_t len);
ssize_t target_write_memory(struct process *p, uint64_t addr, const void *buf, size_t len);

/* Z/z packets. Return 0 ok, 1 unsupported (empty reply), -1 error. */
int target_insert_point(struct process *p, int type, uint64_t addr, int kind);
int target_remove_point(struct process *p, int type, uint64_t addr, int kind);
/* Tracepoint breakpoints (target_ops.insert_trace_bp): 0 ok, -1 error. */
int target_insert_trace_bp(struct process *p, uint64_t addr, int kind);
int target_remove_trace_bp(struct process *p, uint64_t addr);

/* Kill what we started, detach what we attached. */
void target_cleanup_all(void);
/* The program file of PID (qXfer:exec-file): see target_ops.exec_file. */
const char *target_exec_file(pid_t pid, struct buf *path);
const char *target_thread_name(struct thread *t, char *name, size_t size);
int target_thread_core(struct thread *t);
/* A client connects / the target outlives the clients that let go of it. */
void target_new_client(void);
bool target_outlives_clients(void);
int target_siginfo_read(struct thread *t, siginfo_t *si);
int target_siginfo_write(struct thread *t, const siginfo_t *si);

/* --- the live target's software branch recorder (server/recorder.c) ----
 * What the trace layer (btrace_source.c) and monitor.c ask of it; its
 * machinery is recorder.h's, private to the ptrace target. */

struct etm_source;

/* Software branch recording of a thread (see swbtrace.h): it is then
 * single-stepped whenever it runs. SIZE is the buffer in bytes; SINK, if
 * not NULL, is the trace source that takes each branch as well (its
 * record_branch op), called by the recorder itself. */
int target_btrace_enable(struct thread *t, uint64_t size, struct etm_source *sink,
			 char *err, size_t errlen);
void target_btrace_disable(struct thread *t);
/* Record by stepping every instruction instead of running from branch to
 * branch under temporary breakpoints (monitor set btrace-step on, or
 * CSGDBSERVER_BTRACE_STEP=1 in the environment). The records are the same;
 * this is for comparison and as a way out. */
extern bool target_btrace_per_insn;
/* PC as the trace addresses it: bit 0 set when T runs Thumb code. */
uint64_t target_trace_pc(struct thread *t, uint64_t pc);

/* Set up the live target (the SIGCHLD signalfd) and select it; once at
 * start-up (server/ptrace_target.c). */
int target_init(void);

#endif
