/* Tracepoint hits on the live target: see trace_hit.h. As gdbserver's
 * tracepoint_was_hit / tracepoint_finished_step: the condition, the
 * actions into a frame, the pass count, while-stepping. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/ax.h"
#include "server/target.h"
#include "server/trace_hit.h"
#include "server/trace_state.h"

/* A thread single-stepping for a tracepoint's while-stepping actions. */
struct wstep {
	pid_t tid;
	unsigned tpnum;
	uint64_t tpaddr;
	uint64_t step;
};

#define MAX_WSTEPS 64
static struct wstep wsteps[MAX_WSTEPS];
static size_t nwsteps;

static struct trace_frame_builder frame;

struct hit {
	struct thread *t;
	struct tracepoint *tp;
	const uint8_t *regs;
};

void trace_forget_stepping(void)
{
	nwsteps = 0;
}

static void forget_thread(pid_t tid)
{
	for (size_t i = 0; i < nwsteps;)
		if (wsteps[i].tid == tid)
			wsteps[i] = wsteps[--nwsteps];
		else
			i++;
}

void trace_thread_gone(struct thread *t)
{
	forget_thread(t->tid);
}

static bool stepping(pid_t tid)
{
	for (size_t i = 0; i < nwsteps; i++)
		if (wsteps[i].tid == tid)
			return true;
	return false;
}

/* --- what an expression may touch ---------------------------------------- */

static int read_mem(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct hit *h = ctx;
	return target_read_memory(h->t->proc, addr, buf, len) == (ssize_t)len ? 0 : -1;
}

static int read_reg(void *ctx, unsigned regno, uint64_t *value)
{
	struct hit *h = ctx;
	const struct arch_regfile *rf = target_regfile();
	if (!h->regs || regno >= rf->nregs || !rf->regs[regno].size)
		return -1;
	const struct arch_reg *r = &rf->regs[regno];
	uint64_t v = 0;
	for (unsigned i = 0; i < r->size && i < 8; i++)
		v |= (uint64_t)h->regs[r->offset + i] << (8 * i);
	*value = v;
	return 0;
}

/* Memory into the frame, 64 KiB at a time; what cannot be read is left
 * out (gdb then shows it unavailable). */
static int collect_mem(void *ctx, uint64_t addr, uint64_t len)
{
	static uint8_t chunk[65535];
	struct hit *h = ctx;
	if (len > trace_state.buf.size)
		len = trace_state.buf.size;   /* it could not be held anyway */
	while (len > 0 && !frame.overflow) {
		size_t n = len > sizeof chunk ? sizeof chunk : (size_t)len;
		ssize_t got = target_read_memory(h->t->proc, addr, chunk, n);
		if (got <= 0)
			break;
		tfb_mem(&frame, addr, chunk, (size_t)got);
		if ((size_t)got < n)
			break;
		addr += n;
		len -= n;
	}
	return 0;
}

static int collect_var(void *ctx, unsigned num)
{
	(void)ctx;
	struct trace_var *v = tp_var(&trace_state.defs, num);
	tfb_var(&frame, (int32_t)num, v ? trace_var_value(v) : 0);
	return 0;
}

static int get_var(void *ctx, unsigned num, int64_t *value)
{
	(void)ctx;
	struct trace_var *v = tp_var(&trace_state.defs, num);
	*value = v ? trace_var_value(v) : 0;   /* gdbserver: an unknown one reads 0 */
	return 0;
}

static int set_var(void *ctx, unsigned num, int64_t value)
{
	(void)ctx;
	struct trace_var *v = tp_var(&trace_state.defs, num);
	if (v)
		v->value = value;
	return 0;
}

static int print(void *ctx, const char *text, size_t len)
{
	(void)ctx;
	fwrite(text, 1, len, stderr);
	return 0;
}

static struct ax_env env_of(struct hit *h)
{
	return (struct ax_env){
		.ctx = h, .read_mem = read_mem, .read_reg = read_reg, .collect_mem = collect_mem,
		.collect_var = collect_var, .get_var = get_var, .set_var = set_var, .print = print,
		.addr_bits = (unsigned)(8 * sizeof(void *)),
	};
}

/* The run ends after this hit with the error (qTStatus terror). */
static void record_error(struct tracepoint *tp, const char *what, const char *err)
{
	if (trace_state.error_tp)
		return;
	trace_state.error_tp = tp;
	snprintf(trace_state.error, sizeof trace_state.error, "tracepoint %u %s: %s",
		 tp->number, what, err);
}

static bool condition_true(struct hit *h)
{
	if (!h->tp->has_cond)
		return true;
	struct ax_env env = env_of(h);
	int64_t value = 0;
	char err[128];
	if (ax_eval(&h->tp->cond, &env, &value, err, sizeof err) < 0) {
		record_error(h->tp, "condition", err);
		return false;
	}
	return value != 0;
}

/* The registers, laid out as the 'g' packet (trace_state.h). */
static void collect_regs(const uint8_t *raw)
{
	static uint8_t *block;
	static size_t block_size;
	size_t size = trace_regblock_size();
	if (block_size != size) {
		free(block);
		block = malloc(size ? size : 1);
		block_size = block ? size : 0;
	}
	if (!block)
		return;
	trace_regs_to_block(raw, block);
	tfb_regs(&frame, block, size);
}

static void do_actions(struct hit *h, const struct tp_action *acts, size_t n)
{
	struct ax_env env = env_of(h);
	for (size_t i = 0; i < n && !frame.overflow; i++) {
		const struct tp_action *a = &acts[i];
		uint64_t base = 0;
		char err[128];
		int64_t result;
		switch (a->type) {
		case 'R':
			if (h->regs)
				collect_regs(h->regs);
			break;
		case 'M':
			if (a->basereg >= 0 && read_reg(h, (unsigned)a->basereg, &base) < 0)
				break;
			collect_mem(h, base + a->offset, a->len);
			break;
		case 'X':
			if (ax_eval(&a->expr, &env, &result, err, sizeof err) < 0) {
				record_error(h->tp, "action expression", err);
				return;
			}
			break;
		}
	}
}

/* One frame for H's tracepoint: its actions, or its stepping ones. */
static void collect(struct hit *h, bool step)
{
	struct trace_state *ts = &trace_state;
	struct tracepoint *tp = h->tp;
	tfb_begin(&frame, &ts->buf, tp->number);
	if (step)
		do_actions(h, tp->step_actions, tp->nstep_actions);
	else
		do_actions(h, tp->actions, tp->nactions);
	size_t len = frame.bytes.len;
	if (tbuf_commit(&ts->buf, &frame))
		tp->usage += len;
	else
		ts->full = true;
	ts->generation++;
}

/* A step of T's while-stepping: a frame for each tracepoint it steps for. */
static void step_collect(struct thread *t, const uint8_t *regs)
{
	struct trace_state *ts = &trace_state;
	for (size_t i = 0; i < nwsteps;) {
		struct wstep *w = &wsteps[i];
		struct tracepoint *tp = w->tid == t->tid ? tp_find(&ts->defs, w->tpnum, w->tpaddr) : NULL;
		if (w->tid != t->tid) {
			i++;
			continue;
		}
		bool last = !tp;
		if (tp) {
			struct hit h = {t, tp, regs};
			collect(&h, true);
			last = ++w->step >= tp->step_count;
			/* The pass count counts once the stepping is done. */
			if (last && tp->pass_count && tp->hit_count >= tp->pass_count && !ts->stopping)
				ts->stopping = tp;
		}
		if (last)
			*w = wsteps[--nwsteps];
		else
			i++;
	}
}

static void tracepoints_at(struct thread *t, uint64_t pc, const uint8_t *regs, bool may_step)
{
	struct trace_state *ts = &trace_state;
	for (struct tracepoint *tp = ts->defs.list; tp; tp = tp->next) {
		if (!tp->enabled || tp->addr != pc || tp->installed_pid != t->proc->pid)
			continue;
		struct hit h = {t, tp, regs};
		if (!condition_true(&h))
			continue;
		tp->hit_count++;
		if (tp->pass_count && tp->hit_count >= tp->pass_count && !tp->step_count && !ts->stopping)
			ts->stopping = tp;
		collect(&h, false);
		if (tp->step_count && may_step && nwsteps < MAX_WSTEPS)
			wsteps[nwsteps++] = (struct wstep){t->tid, tp->number, tp->addr, 0};
	}
}

enum trace_verdict trace_thread_stopped(struct thread *t, uint64_t pc, bool breakpoint,
					bool gdb_breakpoint)
{
	struct trace_state *ts = &trace_state;
	bool was_stepping = stepping(t->tid);
	if (breakpoint)
		forget_thread(t->tid);   /* a new hit, or stepping left behind */
	if (ts->tracing && t->proc->pid == ts->pid) {
		uint8_t *regs = thread_regs(t);
		if (!breakpoint && was_stepping)
			step_collect(t, regs);
		tracepoints_at(t, pc, regs, breakpoint && !gdb_breakpoint);
		if (ts->stopping || ts->full || ts->error_tp)
			trace_stop_run("tstop");
	} else {
		forget_thread(t->tid);
	}
	if (gdb_breakpoint)
		return TRACE_PASS;
	if (breakpoint)
		return stepping(t->tid) ? TRACE_STEP : TRACE_RESUME;
	if (!was_stepping)
		return TRACE_PASS;   /* gdb's own step */
	if (stepping(t->tid))
		return TRACE_STEP;
	return t->resume == RESUME_CONTINUE ? TRACE_RESUME : TRACE_PASS;
}
