/* Tracepoint definitions: see tracepoint_defs.h. */
#include "server/tracepoint_defs.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/hex.h"


static char *copy(const char *s, size_t n)
{
	char *c = malloc(n + 1);
	if (c) {
		memcpy(c, s, n);
		c[n] = '\0';
	}
	return c;
}

/* Room for N more bytes of definitions? They are counted (a rough
 * budget: what gdb sent, not the allocator's overhead). */
static int take_bytes(struct tp_defs *d, size_t n, char *err, size_t errlen)
{
	if (n > TP_MAX_BYTES - d->bytes)
		return err_fail(err, errlen, "tracepoint definitions over %u MiB", TP_MAX_BYTES >> 20);
	d->bytes += n;
	return 0;
}

static void free_actions(struct tp_action *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ax_expr_free(&a[i].expr);
		free(a[i].text);
	}
	free(a);
}

static void free_tracepoint(struct tracepoint *tp)
{
	free_actions(tp->actions, tp->nactions);
	free_actions(tp->step_actions, tp->nstep_actions);
	for (size_t i = 0; i < tp->nsources; i++) {
		free(tp->sources[i].type);
		free(tp->sources[i].text);
	}
	free(tp->sources);
	ax_expr_free(&tp->cond);
	free(tp);
}

void tp_defs_clear(struct tp_defs *d)
{
	while (d->list) {
		struct tracepoint *tp = d->list;
		d->list = tp->next;
		free_tracepoint(tp);
	}
	while (d->vars) {
		struct trace_var *v = d->vars;
		d->vars = v->next;
		free(v->name);
		free(v);
	}
	memset(d, 0, sizeof *d);
}

struct tracepoint *tp_find(const struct tp_defs *d, unsigned number, uint64_t addr)
{
	for (struct tracepoint *tp = d->list; tp; tp = tp->next)
		if (tp->number == number && tp->addr == addr)
			return tp;
	return NULL;
}

struct tracepoint *tp_find_number(const struct tp_defs *d, unsigned number)
{
	for (struct tracepoint *tp = d->list; tp; tp = tp->next)
		if (tp->number == number)
			return tp;
	return NULL;
}

struct trace_var *tp_var(const struct tp_defs *d, unsigned number)
{
	for (struct trace_var *v = d->vars; v; v = v->next)
		if (v->number == number)
			return v;
	return NULL;
}

/* "N:ADDR" then SEP; tracepoint numbers fit a frame's 16 bits. */
static int parse_number_addr(const char **p, const char *end, char sep, unsigned *number,
			     uint64_t *addr, char *err, size_t errlen)
{
	uint64_t num;
	if (!hex_parse_u64_sep(p, end, ':', &num) || num == 0 || num > 0xffff)
		return err_fail(err, errlen, "bad tracepoint number (1 to ffff)");
	bool last = !sep;
	if (last ? !hex_parse_u64(p, end, addr) || *p != end : !hex_parse_u64_sep(p, end, sep, addr))
		return err_fail(err, errlen, "bad tracepoint address");
	*number = (unsigned)num;
	return 0;
}

/* "LEN,HEX" of an agent expression; *P moves past it. */
static int parse_expr(const char **p, const char *end, struct ax_expr *out, char *err, size_t errlen)
{
	uint64_t len;
	if (!hex_parse_u64_sep(p, end, ',', &len) || len > AX_MAX_CODE)
		return err_fail(err, errlen, "bad agent expression length");
	if (ax_parse_hex(*p, (size_t)(end - *p), (size_t)len, out, err, errlen) < 0)
		return -1;
	*p += 2 * len;
	return 0;
}

/* One action at *P (R, M, X); *P moves past it. */
static int parse_action(const char **p, const char *end, struct tp_action *a, char *err, size_t errlen)
{
	const char *start = *p;
	uint64_t v;
	memset(a, 0, sizeof *a);
	a->basereg = -1;
	a->type = **p;
	(*p)++;
	switch (a->type) {
	case 'R':   /* mask: gdbserver collects them all, and so do we */
		if (*p >= end || hex_value((unsigned char)**p) < 0)
			return err_fail(err, errlen, "register action without a mask");
		while (*p < end && hex_value((unsigned char)**p) >= 0)
			(*p)++;
		break;
	case 'M': {
		bool neg = *p < end && **p == '-';
		if (neg)
			(*p)++;
		if (!hex_parse_u64_sep(p, end, ',', &v) || v > 0xffff ||
		    !hex_parse_u64_sep(p, end, ',', &a->offset) || !hex_parse_u64(p, end, &a->len))
			return err_fail(err, errlen, "bad memory action (M basereg,offset,length)");
		a->basereg = neg ? -(int)v : (int)v;
		if (a->basereg < -1)
			return err_fail(err, errlen, "bad memory action base register -%d", (int)v);
		if (a->len == 0 || a->len > 0xffffffffu)
			return err_fail(err, errlen, "memory action of %" PRIu64 " bytes", a->len);
		break;
	}
	case 'X':
		if (parse_expr(p, end, &a->expr, err, errlen) < 0)
			return -1;
		break;
	default:
		return err_fail(err, errlen, "unknown tracepoint action '%c'", a->type);
	}
	a->text = copy(start, (size_t)(*p - start));
	if (!a->text) {
		ax_expr_free(&a->expr);
		return err_fail(err, errlen, "out of memory");
	}
	return 0;
}

/* The actions of a "QTDP:-" packet; appended only if all of them parse. */
static int add_actions(struct tp_defs *d, struct tracepoint *tp, const char *p, const char *end,
		       bool *done, char *err, size_t errlen)
{
	bool step = tp->in_step_actions;
	if (p < end && *p == 'S') {
		step = true;
		p++;
	}
	*done = true;
	struct tp_action parsed[16];
	size_t n = 0;
	int rc = 0;
	while (p < end && rc == 0) {
		if (*p == '-' && p + 1 == end) {
			*done = false;
			break;
		}
		if (n == sizeof parsed / sizeof parsed[0])
			rc = err_fail(err, errlen, "more than %zu actions in one packet", n);
		else if (parse_action(&p, end, &parsed[n], err, errlen) == 0)
			n++;
		else
			rc = -1;
	}
	size_t *count = step ? &tp->nstep_actions : &tp->nactions;
	struct tp_action **list = step ? &tp->step_actions : &tp->actions;
	if (rc == 0 && *count + n > TP_MAX_ACTIONS)
		rc = err_fail(err, errlen, "more than %d actions", TP_MAX_ACTIONS);
	if (rc == 0 && take_bytes(d, (size_t)(end - p) + n * sizeof parsed[0], err, errlen) < 0)
		rc = -1;
	struct tp_action *grown = rc == 0 && n ? realloc(*list, (*count + n) * sizeof **list) : *list;
	if (rc == 0 && n && !grown)
		rc = err_fail(err, errlen, "out of memory");
	if (rc < 0) {
		for (size_t i = 0; i < n; i++) {
			ax_expr_free(&parsed[i].expr);
			free(parsed[i].text);
		}
		return -1;
	}
	*list = grown;
	if (n)   /* a packet of no action: nothing to add (*list may be NULL) */
		memcpy(*list + *count, parsed, n * sizeof parsed[0]);
	*count += n;
	tp->in_step_actions = step;
	return 0;
}

/* The optional fields after the pass count: F, S, X, then an optional '-'. */
static int parse_options(struct tracepoint *tp, const char *p, const char *end, bool *done,
			 char *err, size_t errlen)
{
	*done = true;
	while (p < end && *p == ':') {
		p++;
		uint64_t v;
		if (p < end && *p == 'F') {
			p++;
			if (!hex_parse_u64(&p, end, &v))
				return err_fail(err, errlen, "bad fast tracepoint length");
			tp->fast = true;
		} else if (p < end && *p == 'X') {
			p++;
			if (tp->has_cond || parse_expr(&p, end, &tp->cond, err, errlen) < 0)
				return tp->has_cond ? err_fail(err, errlen, "two conditions") : -1;
			tp->has_cond = true;
		} else if (p < end && *p == 'S') {
			return err_fail(err, errlen, "static tracepoints are not supported");
		} else {
			return err_fail(err, errlen, "unknown tracepoint field");
		}
	}
	if (p < end && *p == '-' && p + 1 == end)
		*done = false;
	else if (p != end)
		return err_fail(err, errlen, "junk after the tracepoint definition");
	return 0;
}

static struct tracepoint *new_tracepoint(struct tp_defs *d, const char *p, const char *end,
					 bool *done, char *err, size_t errlen)
{
	unsigned number;
	uint64_t addr, step, pass;
	if (parse_number_addr(&p, end, ':', &number, &addr, err, errlen) < 0)
		return NULL;
	struct tracepoint *old = tp_find(d, number, addr);
	if (!old && d->count >= TP_MAX_TRACEPOINTS) {
		err_fail(err, errlen, "more than %d tracepoints", TP_MAX_TRACEPOINTS);
		return NULL;
	}
	if (end - p < 2 || (*p != 'E' && *p != 'D') || p[1] != ':') {
		err_fail(err, errlen, "tracepoint neither enabled (E) nor disabled (D)");
		return NULL;
	}
	bool enabled = *p == 'E';
	p += 2;
	if (!hex_parse_u64_sep(&p, end, ':', &step) || !hex_parse_u64(&p, end, &pass)) {
		err_fail(err, errlen, "bad step or pass count");
		return NULL;
	}
	if (take_bytes(d, (size_t)(end - p) + sizeof(struct tracepoint), err, errlen) < 0)
		return NULL;
	struct tracepoint *tp = calloc(1, sizeof *tp);
	if (!tp) {
		err_fail(err, errlen, "out of memory");
		return NULL;
	}
	*tp = (struct tracepoint){.number = number, .addr = addr, .enabled = enabled,
				  .step_count = step, .pass_count = pass};
	if (parse_options(tp, p, end, done, err, errlen) < 0) {
		free_tracepoint(tp);
		return NULL;
	}
	if (old) {
		/* gdb downloads a tracepoint again when its location was set
		 * anew during the run (a library loaded, InstallInTrace): the
		 * new definition replaces the old, the run's counts stay.
		 * (gdbserver answers E01, which gdb shows in the middle of a
		 * `continue`.) */
		tp->hit_count = old->hit_count;
		tp->usage = old->usage;
		tp->installed_pid = old->installed_pid;
		struct tracepoint **pp = &d->list;
		while (*pp != old)
			pp = &(*pp)->next;
		*pp = old->next;
		free_tracepoint(old);
		d->count--;
		if (d->up_tp == old)
			d->up_tp = NULL;
	}
	/* After every tracepoint at the same address (gdbserver's order). */
	struct tracepoint **at = &d->list;
	while (*at && (*at)->addr <= addr)
		at = &(*at)->next;
	tp->next = *at;
	*at = tp;
	d->count++;
	return tp;
}

struct tracepoint *tp_define(struct tp_defs *d, const char *args, size_t n, bool *done,
			     char *err, size_t errlen)
{
	const char *p = args, *end = args + n;
	if (p == end || *p != '-')
		return new_tracepoint(d, p, end, done, err, errlen);
	p++;
	unsigned number;
	uint64_t addr;
	if (parse_number_addr(&p, end, ':', &number, &addr, err, errlen) < 0)
		return NULL;
	struct tracepoint *tp = tp_find(d, number, addr);
	if (!tp) {
		err_fail(err, errlen, "no tracepoint %u at %#" PRIx64, number, addr);
		return NULL;
	}
	return add_actions(d, tp, p, end, done, err, errlen) < 0 ? NULL : tp;
}

int tp_define_source(struct tp_defs *d, const char *args, size_t n, char *err, size_t errlen)
{
	const char *p = args, *end = args + n;
	unsigned number;
	uint64_t addr, start, slen;
	if (parse_number_addr(&p, end, ':', &number, &addr, err, errlen) < 0)
		return -1;
	struct tracepoint *tp = tp_find(d, number, addr);
	if (!tp)
		return err_fail(err, errlen, "no tracepoint %u at %#" PRIx64, number, addr);
	const char *type = p;
	while (p < end && *p != ':' && p - type < 16)
		p++;
	size_t typelen = (size_t)(p - type);
	if (p == end || *p != ':' || typelen == 0)
		return err_fail(err, errlen, "bad source type");
	p++;
	if (!hex_parse_u64_sep(&p, end, ':', &start) || !hex_parse_u64_sep(&p, end, ':', &slen))
		return err_fail(err, errlen, "bad source start or length");
	size_t hexlen = (size_t)(end - p);
	if (tp->nsources >= TP_MAX_SOURCES)
		return err_fail(err, errlen, "more than %d source strings", TP_MAX_SOURCES);
	if (take_bytes(d, hexlen / 2 + typelen, err, errlen) < 0)
		return -1;
	char *text = malloc(hexlen / 2 + 1);
	if (!text || hex_decode(p, hexlen, text) < 0 || hexlen / 2 > slen) {
		free(text);
		return err_fail(err, errlen, "bad source text (hex, at most the length given)");
	}
	text[hexlen / 2] = '\0';
	struct tp_source *grown = realloc(tp->sources, (tp->nsources + 1) * sizeof *grown);
	char *typecopy = copy(type, typelen);
	if (!grown || !typecopy) {
		if (grown)
			tp->sources = grown;
		free(text);
		free(typecopy);
		return err_fail(err, errlen, "out of memory");
	}
	tp->sources = grown;
	tp->sources[tp->nsources++] = (struct tp_source){typecopy, text};
	return 0;
}

int tp_define_var(struct tp_defs *d, const char *args, size_t n, char *err, size_t errlen)
{
	const char *p = args, *end = args + n;
	uint64_t num, value, builtin;
	if (!hex_parse_u64_sep(&p, end, ':', &num) || num > 0x7fffffff ||
	    !hex_parse_u64_sep(&p, end, ':', &value) || !hex_parse_u64_sep(&p, end, ':', &builtin))
		return err_fail(err, errlen, "bad trace state variable (N:VALUE:BUILTIN:NAME)");
	size_t hexlen = (size_t)(end - p);
	char *name = malloc(hexlen / 2 + 1);
	if (!name || hex_decode(p, hexlen, name) < 0 || memchr(name, '\0', hexlen / 2)) {
		free(name);
		return err_fail(err, errlen, "bad trace state variable name");
	}
	name[hexlen / 2] = '\0';
	struct trace_var *v = tp_var(d, (unsigned)num);
	if (take_bytes(d, hexlen / 2 + sizeof *v, err, errlen) < 0) {
		free(name);
		return -1;
	}
	if (!v && d->nvars >= TP_MAX_VARIABLES) {
		free(name);
		return err_fail(err, errlen, "more than %d trace state variables", TP_MAX_VARIABLES);
	}
	if (!v) {
		v = calloc(1, sizeof *v);
		if (!v) {
			free(name);
			return err_fail(err, errlen, "out of memory");
		}
		v->number = (unsigned)num;
		v->next = d->vars;   /* newest first, as gdbserver uploads them */
		d->vars = v;
		d->nvars++;
	}
	free(v->name);
	v->name = name;
	v->initial = v->value = (int64_t)value;
	v->builtin = builtin != 0;
	return 0;
}

struct tracepoint *tp_parse_ref(const struct tp_defs *d, const char *args, size_t n,
				char *err, size_t errlen)
{
	const char *p = args, *end = args + n;
	unsigned number;
	uint64_t addr;
	if (parse_number_addr(&p, end, 0, &number, &addr, err, errlen) < 0)
		return NULL;
	struct tracepoint *tp = tp_find(d, number, addr);
	if (!tp)
		err_fail(err, errlen, "no tracepoint %u at %#" PRIx64, number, addr);
	return tp;
}

/* --- upload ------------------------------------------------------------ */

static void put_tracepoint(const struct tracepoint *tp, struct buf *reply)
{
	buf_printf(reply, "T%x:%" PRIx64 ":%c:%" PRIx64 ":%" PRIx64, tp->number, tp->addr,
		   tp->enabled ? 'E' : 'D', tp->step_count, tp->pass_count);
	if (tp->has_cond) {
		buf_printf(reply, ":X%zx,", tp->cond.len);
		buf_hex(reply, tp->cond.code, tp->cond.len);
	}
}

void tp_upload_first(struct tp_defs *d, struct buf *reply)
{
	d->up_tp = d->list;
	d->up_action = d->up_step = d->up_source = 0;
	if (d->up_tp)
		put_tracepoint(d->up_tp, reply);
	else
		buf_puts(reply, "l");
}

void tp_upload_next(struct tp_defs *d, struct buf *reply)
{
	struct tracepoint *tp = d->up_tp;
	if (!tp) {
		buf_puts(reply, "l");
	} else if (d->up_action < tp->nactions) {
		buf_printf(reply, "A%x:%" PRIx64 ":%s", tp->number, tp->addr,
			   tp->actions[d->up_action++].text);
	} else if (d->up_step < tp->nstep_actions) {
		buf_printf(reply, "S%x:%" PRIx64 ":%s", tp->number, tp->addr,
			   tp->step_actions[d->up_step++].text);
	} else if (d->up_source < tp->nsources) {
		const struct tp_source *src = &tp->sources[d->up_source++];
		size_t len = strlen(src->text);
		buf_printf(reply, "Z%x:%" PRIx64 ":%s:0:%zx:", tp->number, tp->addr, src->type, len);
		buf_hex(reply, src->text, len);
	} else {
		d->up_tp = tp->next;
		d->up_action = d->up_step = d->up_source = 0;
		if (d->up_tp)
			put_tracepoint(d->up_tp, reply);
		else
			buf_puts(reply, "l");
	}
}

static void put_var(const struct trace_var *v, struct buf *reply)
{
	buf_printf(reply, "%x:%" PRIx64 ":%x:", v->number, (uint64_t)v->initial, v->builtin ? 1 : 0);
	buf_hex(reply, v->name, strlen(v->name));
}

void tp_upload_var_first(struct tp_defs *d, struct buf *reply)
{
	d->up_var = d->vars;
	if (d->up_var)
		put_var(d->up_var, reply);
	else
		buf_puts(reply, "l");
}

void tp_upload_var_next(struct tp_defs *d, struct buf *reply)
{
	d->up_var = d->up_var ? d->up_var->next : NULL;
	if (d->up_var)
		put_var(d->up_var, reply);
	else
		buf_puts(reply, "l");
}
