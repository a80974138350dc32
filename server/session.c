/* The threads gdb's packets name: see session.h. */
#include "server/session.h"

#include <stdint.h>

#include "common/hex.h"


void format_ptid(struct session *s, struct buf *b, pid_t pid, pid_t tid)
{
	if (s->multiprocess)
		buf_printf(b, "p%x.%x", (unsigned)pid, (unsigned)tid);
	else
		buf_printf(b, "%x", (unsigned)tid);
}

/* One id of a ptid: "-1" (all) or a hex number a pid_t holds. */
static bool parse_id(const char **pp, const char *end, pid_t *id)
{
	const char *p = *pp;
	uint64_t v;
	if (p < end && *p == '-') {
		if (p + 1 >= end || p[1] != '1')
			return false;
		*id = -1;
		*pp = p + 2;
		return true;
	}
	if (!hex_parse_u64(&p, end, &v) || v > INT32_MAX)
		return false;
	*id = (pid_t)v;
	*pp = p;
	return true;
}

/* Parse a thread id: "p<pid>.<tid>", "p<pid>", "<tid>", "-1", "0".
 * -1 means all, 0 means any. */
bool parse_ptid(const char **pp, const char *end, pid_t *pid, pid_t *tid)
{
	const char *p = *pp;
	*pid = -1;
	*tid = -1;
	if (p < end && *p == 'p') {
		p++;
		if (!parse_id(&p, end, pid))
			return false;
		if (p < end && *p == '.' && (p++, !parse_id(&p, end, tid)))
			return false;
		*pp = p;
		return true;
	}
	if (!parse_id(&p, end, tid))
		return false;
	if (*tid == 0)
		*pid = 0;
	*pp = p;
	return true;
}

/* The thread a ptid names (0/-1: any one). */
struct thread *lookup_ptid(pid_t pid, pid_t tid)
{
	if (tid > 0)
		return find_thread(tid);
	if (pid > 0) {
		struct process *p = find_process(pid);
		return p ? p->threads : NULL;
	}
	return first_thread();
}

struct thread *general_thread(struct session *s)
{
	struct thread *t = lookup_ptid(s->gen_pid, s->gen_tid);
	if (!t)
		t = first_thread();
	return t;
}

struct process *general_process(struct session *s)
{
	struct thread *t = general_thread(s);
	return t ? t->proc : NULL;
}
