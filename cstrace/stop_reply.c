/* Stop replies: see stop_reply.h. */
#include "cstrace/stop_reply.h"

#include <stdlib.h>
#include <string.h>

#include "common/hex.h"

bool stop_parse_ptid(const char *s, long pid_default, long *pid, long *tid)
{
	char *end;
	if (*s == 'p') {
		*pid = strtol(s + 1, &end, 16);
		if (*end != '.')
			return false;
		*tid = strtol(end + 1, &end, 16);
	} else {
		*pid = pid_default;
		*tid = strtol(s, &end, 16);
	}
	return end != s && *tid > 0;
}

/* The NAME:VALUE pairs of a T reply after its signal. */
static void parse_pairs(const char *p, long pid_default, struct stop *st)
{
	while (*p) {
		const char *semi = strchr(p, ';');
		size_t len = semi ? (size_t)(semi - p) : strlen(p);
		if (!strncmp(p, "thread:", 7)) {
			stop_parse_ptid(p + 7, pid_default, &st->pid, &st->tid);
		} else if (!strncmp(p, "syscall_entry:", 14)) {
			st->syscall_entry = true;
			st->syscall = strtol(p + 14, NULL, 16);
		} else if (!strncmp(p, "swbreak:", 8) || (len >= 5 && !strncmp(p, "hwbreak", 7))) {
			st->swbreak = true;
		}
		p = semi ? semi + 1 : p + len;
	}
}

void stop_reply_parse(const char *r, long pid_default, struct stop *st)
{
	memset(st, 0, sizeof(*st));
	st->kind = r[0];
	st->pid = pid_default;
	if ((st->kind == 'T' || st->kind == 'S' || st->kind == 'W' || st->kind == 'X') &&
	    hex_value((unsigned char)r[1]) >= 0 && hex_value((unsigned char)r[2]) >= 0)
		st->sig = hex_value((unsigned char)r[1]) << 4 | hex_value((unsigned char)r[2]);
	if (st->kind == 'T') {
		/* after the two digits of the signal, not past a short reply's end */
		parse_pairs(r + 1 + strnlen(r + 1, 2), pid_default, st);
	} else if (st->kind == 'w') {
		/* a thread exited: "wAA;ptid" */
		const char *semi = strchr(r, ';');
		long pid, tid;
		if (semi && stop_parse_ptid(semi + 1, pid_default, &pid, &tid))
			st->tid = tid, st->pid = pid;
	} else if ((st->kind == 'W' || st->kind == 'X') && strstr(r, ";process:")) {
		st->pid = strtol(strstr(r, ";process:") + 9, NULL, 16);
	}
}
