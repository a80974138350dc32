/* The capture target: see capture_target.h. */
#include "server/capture_target.h"

#include <stdio.h>
#include <string.h>

#include "arch/core-tdesc.h"
#include "common/buf.h"
#include "etm/recorded.h"
#include "server/btrace.h"
#include "server/target.h"

#define READ_ONLY "Replay target: recorded memory and registers are read-only."
#define NO_RUN "Replay target: the recorded program cannot run; walk the trace with record btrace (reverse-step, record goto)."
#define NO_OBJECT "Replay target: no such object."
#define NO_TRACE "Replay target: tracepoints cannot collect, the recorded program does not run; walk the trace with record btrace."

/* What the recording cannot do, and the reply that says so. */
static const char *const refusals[TREQ_COUNT] = {
	[TREQ_RUN] = NO_RUN,
	[TREQ_WRITE] = READ_ONLY,
	[TREQ_INTERRUPT] = "",          /* nothing runs: not supported */
	[TREQ_SCAN_MEMORY] = NO_OBJECT,
	[TREQ_AUXV] = NO_OBJECT,
	[TREQ_LIBRARIES] = NO_OBJECT,
	[TREQ_SIGINFO] = NO_OBJECT,
	[TREQ_THREAD_DB] = "",
	[TREQ_TRACEPOINTS] = NO_TRACE,
	[TREQ_AGENT] = "Replay target: nothing executes here, so no agent expression runs "
		       "(breakpoint conditions and commands, tracepoints); let gdb evaluate "
		       "conditions (set breakpoint condition-evaluation host).",
};

static const struct arch_core *core;
/* The capture: loading, decoding, memory and symbols are etm/recorded's. */
static struct etm_recorded *rec;

static const char *capture_refuses(enum target_request req)
{
	return req < TREQ_COUNT ? refusals[req] : NULL;
}

static const struct arch_regfile *capture_regfile(void)
{
	return &core->rf;
}

static const int *capture_expedite(void)
{
	return core->expedite;
}

static const char *capture_vcont_actions(void)
{
	return "vCont;c;C;s;S;t";
}

/* Only the PC is known, and on arm the CPSR's T bit from the ISA of the
 * last traced instruction (mode unknown: System). */
static bool capture_register_available(const struct thread *t, int regno)
{
	(void)t;
	return regno == core->pc_regno || (regno == core->cpsr_regno && !etm_recorded_aarch64(rec));
}

static uint8_t *capture_fetch_registers(struct thread *t)
{
	arch_reg_set(&core->rf, t->regs, core->pc_regno, etm_recorded_pc(rec));
	if (!etm_recorded_aarch64(rec))
		arch_reg_set(&core->rf, t->regs, core->cpsr_regno, (etm_recorded_thumb(rec) ? 0x20u : 0u) | 0x1fu);
	return t->regs;
}

static int capture_no_registers(struct thread *t)
{
	(void)t;
	return -1;
}

static int capture_no_write_registers(struct thread *t, const uint8_t *regs)
{
	(void)t; (void)regs;
	return -1;
}

static ssize_t capture_read_memory(struct process *p, uint64_t addr, void *buf, size_t len)
{
	(void)p;
	return (ssize_t)etm_recorded_read_memory(rec, addr, buf, len);
}

static ssize_t capture_write_memory(struct process *p, uint64_t addr, const void *buf, size_t len)
{
	(void)p; (void)addr; (void)buf; (void)len;
	return -1;
}

/* Breakpoints are gdb's business while it replays btrace: accepted,
 * nothing executes here. Watchpoints cannot be evaluated: unsupported. */
static int capture_point(struct process *p, int type, uint64_t addr, int kind)
{
	(void)p; (void)addr; (void)kind;
	return type <= 1 ? 0 : 1;
}

static bool capture_resume_all(void)
{
	return true;
}

/* Nothing runs: there is never an event (the packets that would wait are
 * refused first). */
static enum wait_result capture_wait(int client_fd, struct stop_event *ev)
{
	(void)client_fd;
	memset(ev, 0, sizeof *ev);
	ev->kind = STOP_NO_RESUMED;
	return WAIT_EVENT;
}

static int capture_event_fd(void)
{
	return -1;
}

static bool capture_next_event(struct stop_event *ev)
{
	(void)ev;
	return false;
}

static void capture_stop_thread(struct thread *t)
{
	(void)t;
}

static void capture_nothing(void)
{
}

static bool capture_thread_alive(struct thread *t)
{
	(void)t;
	return true;
}

static bool capture_fork_unreported(const struct process *p)
{
	(void)p;
	return false;
}

static struct process *capture_create(char *const argv[], char *err, size_t errlen)
{
	(void)argv;
	snprintf(err, errlen, "%s", NO_RUN);
	return NULL;
}

static struct process *capture_attach(pid_t pid, char *err, size_t errlen)
{
	(void)pid;
	snprintf(err, errlen, "%s", NO_RUN);
	return NULL;
}

/* gdb lets go of the recording: the thread leaves the table until the
 * next client (capture_new_client). */
static void capture_forget(struct process *p)
{
	while (p->threads)
		thread_delete(p->threads);
	process_delete(p);
}

static int capture_detach(struct process *p)
{
	capture_forget(p);
	return 0;
}

static void capture_cleanup_all(void)
{
	while (processes)
		capture_forget(processes);
}

static void capture_new_client(void)
{
	if (processes)
		return;
	struct process *p = process_new(ETM_RECORDED_PID, true);
	struct thread *t = thread_new(p, ETM_RECORDED_TID, core->rf.size);
	t->pending = (struct stop_event){.kind = STOP_SIGNAL, .sig = SIGTRAP,
					 .pid = ETM_RECORDED_PID, .tid = ETM_RECORDED_TID};
}

static const char *capture_exec_file(pid_t pid, struct buf *path)
{
	(void)pid;
	const char *elf = etm_recorded_elf_path(rec);
	if (!elf)
		return "No executable file: the snapshot holds memory dumps only.";
	buf_puts(path, elf);
	return NULL;
}

static const char *capture_thread_name(struct thread *t, char *name, size_t size)
{
	(void)t;
	snprintf(name, size, "replay");
	return name;
}

static int capture_thread_core(struct thread *t)
{
	(void)t;
	return 0;
}

static int capture_siginfo_read(struct thread *t, siginfo_t *si)
{
	(void)t; (void)si;
	return -1;
}

static int capture_siginfo_write(struct thread *t, const siginfo_t *si)
{
	(void)t; (void)si;
	return -1;
}

static const struct target_ops capture_target = {
	.name = "capture",
	.regfile = capture_regfile,
	.expedite = capture_expedite,
	.vcont_actions = capture_vcont_actions,
	.outlives_clients = true,
	.new_client = capture_new_client,
	.refuses = capture_refuses,
	.fetch_registers = capture_fetch_registers,
	.register_available = capture_register_available,
	.store_registers = capture_no_registers,
	.write_registers = capture_no_write_registers,
	.read_memory = capture_read_memory,
	.write_memory = capture_write_memory,
	.insert_point = capture_point,
	.remove_point = capture_point,
	.resume_all = capture_resume_all,
	.wait = capture_wait,
	.event_fd = capture_event_fd,
	.next_event = capture_next_event,
	.stop_thread = capture_stop_thread,
	.interrupt = capture_nothing,
	.stop_all = capture_nothing,
	.thread_alive = capture_thread_alive,
	.fork_unreported = capture_fork_unreported,
	.create = capture_create,
	.attach = capture_attach,
	.detach = capture_detach,
	.kill = capture_forget,
	.cleanup_all = capture_cleanup_all,
	.exec_file = capture_exec_file,
	.thread_name = capture_thread_name,
	.thread_core = capture_thread_core,
	.siginfo_read = capture_siginfo_read,
	.siginfo_write = capture_siginfo_write,
};

int capture_target_open(const char *dir, char *err, size_t errlen)
{
	rec = etm_recorded_open(dir, err, errlen);
	if (!rec)
		return -1;
	core = arch_core(etm_recorded_aarch64(rec) ? "aarch64" : "arm");
	/* its trace is what btrace serves */
	btrace_use_source(etm_recorded_source(rec));
	target_select(&capture_target);
	capture_new_client();
	return 0;
}

void capture_target_close(void)
{
	if (core)
		capture_cleanup_all();
	etm_recorded_free(rec);
	rec = NULL;
}

void capture_target_describe(struct buf *out)
{
	etm_recorded_describe(rec, out);
}
