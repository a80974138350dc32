/* Target-side breakpoint conditions and commands: see agent_points.h. */
#include "server/agent_points.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/hex.h"
#include "server/target.h"

struct agent_point {
	pid_t pid;
	int type;
	uint64_t addr;
	struct agent_point_opts opts;
	struct agent_point *next;
};

static struct agent_point *points;
static struct agent_point_stats stats;
static size_t kept_bytes;   /* bytecode in POINTS, bounded by AGENT_POINTS_MAX_BYTES */

static size_t opts_bytes(const struct agent_point_opts *o)
{
	size_t n = 0;
	for (size_t i = 0; i < o->nconds; i++)
		n += o->conds[i].len;
	for (size_t i = 0; i < o->ncmds; i++)
		n += o->cmds[i].len;
	return n;
}


/* One "X len,hex" at *P, appended to *LIST (*COUNT entries). */
static int parse_expr(const char **p, const char *end, struct ax_expr **list, size_t *count,
		      const char *what, char *err, size_t errlen)
{
	uint64_t len;
	if (*p >= end || **p != 'X')
		return err_fail(err, errlen, "%s: \"X len,bytes\" expected at \"%.16s\"", what, *p);
	(*p)++;
	if (!hex_parse_u64_sep(p, end, ',', &len))
		return err_fail(err, errlen, "%s: bad length in \"X len,bytes\"", what);
	if (len == 0 || len > AX_MAX_CODE)
		return err_fail(err, errlen, "%s: expression of %llu bytes (1 to %d accepted)", what,
				  (unsigned long long)len, AX_MAX_CODE);
	if ((size_t)(end - *p) < 2 * len)
		return err_fail(err, errlen, "%s: %llu bytes announced, %zu hex digits sent", what,
				  (unsigned long long)len, (size_t)(end - *p));
	if (*count == AGENT_POINT_MAX_EXPRS)
		return err_fail(err, errlen, "%s: more than %d expressions on one breakpoint", what,
				  AGENT_POINT_MAX_EXPRS);
	if (!*list && !(*list = calloc(AGENT_POINT_MAX_EXPRS, sizeof **list)))
		return err_fail(err, errlen, "%s: out of memory", what);
	char why[128];
	if (ax_parse_hex(*p, 2 * len, len, &(*list)[*count], why, sizeof why) < 0)
		return err_fail(err, errlen, "%s: %s", what, why);
	(*count)++;
	*p += 2 * len;
	return 0;
}

int agent_point_parse(const char *opts, size_t n, struct agent_point_opts *out, char *err,
		      size_t errlen)
{
	const char *p = opts, *end = opts + n;
	memset(out, 0, sizeof *out);
	if (p < end && *p != ';')
		return err_fail(err, errlen, "breakpoint options must start with ';'");
	while (p < end) {
		if (*p == ';') {
			p++;
			continue;
		}
		int rc;
		if (*p == 'X') {
			rc = parse_expr(&p, end, &out->conds, &out->nconds, "breakpoint condition", err,
					errlen);
		} else if ((size_t)(end - p) >= 5 && memcmp(p, "cmds:", 5) == 0) {
			p += 5;
			if (end - p < 2 || (p[0] != '0' && p[0] != '1') || p[1] != ',') {
				rc = err_fail(err, errlen, "breakpoint commands: \"cmds:persist,\" expected");
			} else {
				out->persist = p[0] == '1';
				p += 2;
				rc = 0;
				/* the commands run to the next ';' */
				while (rc == 0 && p < end && *p != ';')
					rc = parse_expr(&p, end, &out->cmds, &out->ncmds, "breakpoint command",
							err, errlen);
			}
		} else {
			rc = err_fail(err, errlen, "unknown breakpoint option at \"%.16s\"", p);
		}
		if (rc < 0) {
			agent_point_opts_free(out);
			return -1;
		}
	}
	if (kept_bytes + opts_bytes(out) > AGENT_POINTS_MAX_BYTES) {
		agent_point_opts_free(out);
		return err_fail(err, errlen, "breakpoint conditions and commands: more than %u bytes "
				  "of them kept already", AGENT_POINTS_MAX_BYTES);
	}
	return 0;
}

void agent_point_opts_free(struct agent_point_opts *o)
{
	for (size_t i = 0; i < o->nconds; i++)
		ax_expr_free(&o->conds[i]);
	for (size_t i = 0; i < o->ncmds; i++)
		ax_expr_free(&o->cmds[i]);
	free(o->conds);
	free(o->cmds);
	memset(o, 0, sizeof *o);
}

static struct agent_point **find(pid_t pid, int type, uint64_t addr)
{
	struct agent_point **pp = &points;
	while (*pp && ((*pp)->pid != pid || (*pp)->type != type || (*pp)->addr != addr))
		pp = &(*pp)->next;
	return pp;
}

void agent_points_clear(pid_t pid, int type, uint64_t addr)
{
	struct agent_point **pp = find(pid, type, addr), *ap = *pp;
	if (!ap)
		return;
	*pp = ap->next;
	kept_bytes -= opts_bytes(&ap->opts);
	agent_point_opts_free(&ap->opts);
	free(ap);
}

void agent_points_set(pid_t pid, int type, uint64_t addr, struct agent_point_opts *o)
{
	agent_points_clear(pid, type, addr);
	if (!o->nconds && !o->ncmds) {
		agent_point_opts_free(o);
		return;
	}
	struct agent_point *ap = calloc(1, sizeof *ap);
	if (!ap) {
		/* no memory: the breakpoint stays, reported at every hit (gdb
		 * evaluates its condition itself then) */
		agent_point_opts_free(o);
		return;
	}
	*ap = (struct agent_point){pid, type, addr, *o, points};
	kept_bytes += opts_bytes(o);
	memset(o, 0, sizeof *o);
	points = ap;
}

void agent_points_forget(pid_t pid)
{
	for (struct agent_point **pp = &points; *pp;) {
		struct agent_point *ap = *pp;
		if (ap->pid != pid) {
			pp = &ap->next;
			continue;
		}
		*pp = ap->next;
		kept_bytes -= opts_bytes(&ap->opts);
		agent_point_opts_free(&ap->opts);
		free(ap);
	}
}

bool agent_point_here(pid_t pid, int type, uint64_t addr)
{
	return points && *find(pid, type, addr) != NULL;
}

/* ---- what an expression reads of the stopped thread ---- */

static int env_read_mem(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct thread *t = ctx;
	return target_read_memory(t->proc, addr, buf, len) == (ssize_t)len ? 0 : -1;
}

/* gdb's register numbers, the order of the raw block; the value is the
 * register's bytes in target (little-endian) order, as gdbserver reads it */
static int env_read_reg(void *ctx, unsigned regno, uint64_t *value)
{
	struct thread *t = ctx;
	const struct arch_regfile *rf = target_regfile();
	if (regno >= rf->nregs || !rf->regs[regno].size || rf->regs[regno].size > 8 ||
	    !target_register_available(t, (int)regno))
		return -1;
	uint8_t *regs = thread_regs(t);
	if (!regs)
		return -1;
	uint8_t b[8] = {0};
	memcpy(b, regs + rf->regs[regno].offset, rf->regs[regno].size);
	*value = 0;
	for (int i = 7; i >= 0; i--)
		*value = *value << 8 | b[i];
	return 0;
}

/* gdbserver prints an agent printf on its own stdout; ours is the
 * protocol's when gdb talks to us over stdio, so stderr then. */
static int env_print(void *ctx, const char *text, size_t len)
{
	(void)ctx;
	FILE *out = target_settings.stdio_connection ? stderr : stdout;
	if (fwrite(text, 1, len, out) != len)
		return -1;
	fflush(out);
	return 0;
}

static bool run_all(struct thread *t, const struct agent_point *ap, const struct ax_expr *list,
		    size_t n, const char *what, bool stop_at_true)
{
	struct ax_env env = {
		.ctx = t, .read_mem = env_read_mem, .read_reg = env_read_reg, .print = env_print,
		.addr_bits = sizeof(void *) * 8,
	};
	for (size_t i = 0; i < n; i++) {
		char err[256];
		int64_t value;
		if (ax_eval(&list[i], &env, &value, err, sizeof err) < 0) {
			stats.errors++;
			fprintf(stderr, "csgdbserver: thread %d, %s %zu of the breakpoint at %#llx: %s\n",
				t->tid, what, i + 1, (unsigned long long)ap->addr, err);
			return true;
		}
		if (stop_at_true && value)
			return true;
	}
	return !stop_at_true;
}

bool agent_point_hit(struct thread *t, int type, uint64_t addr)
{
	struct agent_point *ap = points ? *find(t->proc->pid, type, addr) : NULL;
	if (!ap)
		return true;
	stats.hits++;
	const struct agent_point_opts *o = &ap->opts;
	/* conditions OR'ed; one that cannot be evaluated counts as true, so
	 * that gdb sees the stop and evaluates it itself (as gdbserver) */
	bool holds = !o->nconds || run_all(t, ap, o->conds, o->nconds, "condition", true);
	if (!holds)
		return false;
	if (o->ncmds) {
		/* a command that fails ends the list, and the stop stays
		 * unreported, as gdbserver does (the error is on stderr) */
		run_all(t, ap, o->cmds, o->ncmds, "command", false);
		return false;
	}
	stats.reported++;
	return true;
}

void agent_points_stats(struct agent_point_stats *out)
{
	*out = stats;
}
