/* The table of processes and threads: see threads.h. */
#include "server/threads.h"

#include <stdlib.h>

struct process *processes;
bool debug_target;
FILE *debug_out;

struct process *find_process(pid_t pid)
{
	for (struct process *p = processes; p; p = p->next)
		if (p->pid == pid)
			return p;
	return NULL;
}

struct thread *find_thread(pid_t tid)
{
	for (struct process *p = processes; p; p = p->next)
		for (struct thread *t = p->threads; t; t = t->next)
			if (t->tid == tid)
				return t;
	return NULL;
}

struct thread *first_thread(void)
{
	for (struct process *p = processes; p; p = p->next)
		if (p->threads)
			return p->threads;
	return NULL;
}

struct process *process_new(pid_t pid, bool attached)
{
	struct process *p = calloc(1, sizeof *p);
	if (!p)
		abort();
	p->pid = pid;
	p->attached = attached;
	p->mem_fd = -1;
	struct process **tail = &processes;
	while (*tail)
		tail = &(*tail)->next;
	*tail = p;
	return p;
}

struct thread *thread_new(struct process *p, pid_t tid, size_t regs_size)
{
	struct thread *t = calloc(1, sizeof *t);
	if (!t)
		abort();
	t->tid = tid;
	t->proc = p;
	/* Every caller has waited for its stop. */
	t->stopped = true;
	t->regs = calloc(1, regs_size ? regs_size : 1);
	if (!t->regs)
		abort();
	struct thread **tail = &p->threads;
	while (*tail)
		tail = &(*tail)->next;
	*tail = t;
	return t;
}

void thread_delete(struct thread *t)
{
	struct thread **pp = &t->proc->threads;
	while (*pp && *pp != t)
		pp = &(*pp)->next;
	if (*pp)
		*pp = t->next;
	free(t->regs);
	free(t);
}

void process_delete(struct process *p)
{
	struct process **pp = &processes;
	while (*pp && *pp != p)
		pp = &(*pp)->next;
	if (*pp)
		*pp = p->next;
	free(p);
}
