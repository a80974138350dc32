/* The selected target and the calls that go to its ops: see target.h. */
#include "server/target.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct target_settings target_settings = {
	.disable_randomization = true,
	.startup_with_shell = true,
};
bool target_non_stop;
const struct target_ops *the_target;

void target_select(const struct target_ops *ops)
{
	the_target = ops;
}

const char *target_refuses(enum target_request req)
{
	return the_target->refuses ? the_target->refuses(req) : NULL;
}

const struct arch_regfile *target_regfile(void)
{
	return the_target->regfile();
}

bool target_register_available(const struct thread *t, int regno)
{
	return !the_target->register_available || the_target->register_available(t, regno);
}

char *target_program_path(const char *name)
{
	struct stat st;
	char cwd[4096];
	char *path = NULL;
	if (!strchr(name, '/') && stat(name, &st) == 0 && S_ISREG(st.st_mode) &&
	    getcwd(cwd, sizeof cwd) && asprintf(&path, "%s/%s", cwd, name) >= 0)
		return path;
	return strdup(name);
}

struct process *target_create(char *const argv[], char *err, size_t errlen)
{
	return the_target->create(argv, err, errlen);
}

struct process *target_attach(pid_t pid, char *err, size_t errlen)
{
	return the_target->attach(pid, err, errlen);
}

int target_detach(struct process *p) { return the_target->detach(p); }
void target_kill(struct process *p) { the_target->kill(p); }
void target_cleanup_all(void) { the_target->cleanup_all(); }
bool target_fork_unreported(const struct process *p) { return the_target->fork_unreported(p); }
bool target_thread_alive(struct thread *t) { return the_target->thread_alive(t); }

bool target_resume_all(void) { return the_target->resume_all(); }
enum wait_result target_wait(int client_fd, struct stop_event *ev) { return the_target->wait(client_fd, ev); }
int target_event_fd(void) { return the_target->event_fd(); }
bool target_next_event(struct stop_event *ev) { return the_target->next_event(ev); }
void target_stop_thread(struct thread *t) { the_target->stop_thread(t); }
void target_interrupt(void) { the_target->interrupt(); }
void target_stop_all(void) { the_target->stop_all(); }

uint8_t *thread_regs(struct thread *t) { return the_target->fetch_registers(t); }
int thread_store_regs(struct thread *t) { return the_target->store_registers(t); }
int thread_write_regs(struct thread *t, const uint8_t *regs) { return the_target->write_registers(t, regs); }

ssize_t target_read_memory(struct process *p, uint64_t addr, void *buf, size_t len)
{
	return the_target->read_memory(p, addr, buf, len);
}

ssize_t target_write_memory(struct process *p, uint64_t addr, const void *buf, size_t len)
{
	return the_target->write_memory(p, addr, buf, len);
}

int target_insert_point(struct process *p, int type, uint64_t addr, int kind)
{
	return the_target->insert_point(p, type, addr, kind);
}

int target_remove_point(struct process *p, int type, uint64_t addr, int kind)
{
	return the_target->remove_point(p, type, addr, kind);
}

int target_insert_trace_bp(struct process *p, uint64_t addr, int kind)
{
	return the_target->insert_trace_bp ? the_target->insert_trace_bp(p, addr, kind) : -1;
}

int target_remove_trace_bp(struct process *p, uint64_t addr)
{
	return the_target->remove_trace_bp ? the_target->remove_trace_bp(p, addr) : -1;
}

const char *target_exec_file(pid_t pid, struct buf *path)
{
	return the_target->exec_file(pid, path);
}

const char *target_thread_name(struct thread *t, char *name, size_t size)
{
	return the_target->thread_name(t, name, size);
}

int target_thread_core(struct thread *t) { return the_target->thread_core(t); }

void target_new_client(void)
{
	if (the_target->new_client)
		the_target->new_client();
}

bool target_outlives_clients(void) { return the_target->outlives_clients; }

int target_siginfo_read(struct thread *t, siginfo_t *si) { return the_target->siginfo_read(t, si); }
int target_siginfo_write(struct thread *t, const siginfo_t *si) { return the_target->siginfo_write(t, si); }
