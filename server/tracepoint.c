/* Tracepoint packets: definitions, the run, its status: see tracepoint.h.
 * The frames are trace_view.c's, the hits trace_collect.c's. */
#include "server/tracepoint.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/hex.h"
#include "server/reply.h"
#include "server/trace_state.h"

struct trace_state trace_state = {
	.stop_reason = "tnotrun",
	.frame = -1,
	.allow_insert = true,
};

/* gdbserver's words when a fast tracepoint needs its agent. */
#define NO_AGENT "In-process agent library not loaded in process.  " \
	"Fast and static tracepoints unavailable."

void tracepoint_qsupported(struct buf *reply)
{
	/* As gdbserver on a target without its in-process agent, less
	 * FastTracepoints+/StaticTracepoints+: gdb then sends fast
	 * tracepoints as ordinary ones instead of failing at tstart. */
	buf_puts(reply, ";ConditionalTracepoints+;TraceStateVariables+;TracepointSource+;"
		 "DisconnectedTracing+;InstallInTrace+;qXfer:traceframe-info:read+;"
		 "EnableDisableTracepoints+;QTBuffer:size+;tracenz+;QAllow+");
}

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* gdbserver's one predefined variable, kept through QTinit. */
#define TIMESTAMP_VAR 1

int64_t trace_var_value(const struct trace_var *v)
{
	return v->builtin && v->number == TIMESTAMP_VAR ? now_us() : v->value;
}

static void define_builtins(void)
{
	static const char def[] = "1:0:1:74726163655f74696d657374616d70";   /* trace_timestamp */
	char err[160];
	if (!tp_var(&trace_state.defs, TIMESTAMP_VAR))
		tp_define_var(&trace_state.defs, def, sizeof def - 1, err, sizeof err);
}

static void error_reply(struct buf *reply, const char *why)
{
	/* "E." with the reason: gdb shows it ("Bogus reply from target: E.…"
	 * or its own message), and a person reading the log knows. */
	reply_error_msg(reply, why);
}

static void ensure_buffer(void)
{
	struct trace_buffer *b = &trace_state.buf;
	size_t regsize = trace_regblock_size();
	if (!b->size)
		tbuf_init(b, TRACE_BUFFER_DEFAULT, regsize);
	b->regsize = regsize;
}

/* --- breakpoints of the run --------------------------------------------- */

/* The breakpoint kind for ADDR: the one instruction set of the stopped
 * thread (T32 code: a 16- or 32-bit Thumb breakpoint by the halfword). */
static int bp_kind(struct process *p, uint64_t addr)
{
	struct thread *t = p->threads;
	uint8_t *regs = t ? thread_regs(t) : NULL;
	enum disasm_isa isa = regs && the_arch.disasm_isa ? the_arch.disasm_isa(regs) : DISASM_X86_64;
	if (isa == DISASM_T32) {
		uint8_t hw[2];
		if (target_read_memory(p, addr, hw, 2) != 2)
			return 2;
		unsigned top = hw[1] >> 3;
		return top == 0x1d || top == 0x1e || top == 0x1f ? 3 : 2;
	}
	return isa == DISASM_X86_64 ? 1 : 4;
}

static bool installed_at(uint64_t addr, const struct tracepoint *except)
{
	for (struct tracepoint *tp = trace_state.defs.list; tp; tp = tp->next)
		if (tp != except && tp->installed_pid && tp->addr == addr)
			return true;
	return false;
}

static const char *install(struct tracepoint *tp, struct process *p)
{
	if (tp->fast)
		return NO_AGENT;
	if (!trace_state.allow_insert)
		return "Inserting tracepoints is not allowed (QAllow:InsertTrace:0).";
	if (!installed_at(tp->addr, tp) &&
	    target_insert_trace_bp(p, tp->addr, bp_kind(p, tp->addr)) < 0)
		return "Cannot insert the tracepoint's breakpoint.";
	tp->installed_pid = p->pid;
	return NULL;
}

static void uninstall_all(void)
{
	for (struct tracepoint *tp = trace_state.defs.list; tp; tp = tp->next) {
		if (!tp->installed_pid)
			continue;
		int pid = tp->installed_pid;
		tp->installed_pid = 0;
		struct process *p = find_process(pid);
		if (p && !p->gone && !installed_at(tp->addr, NULL))
			target_remove_trace_bp(p, tp->addr);
	}
}

void trace_stop_run(const char *reason)
{
	struct trace_state *ts = &trace_state;
	if (!ts->tracing)
		return;
	ts->tracing = false;
	ts->stop_time = now_us();
	ts->stop_tpnum = 0;
	if (ts->stopping) {
		ts->stop_reason = "tpasscount";
		ts->stop_tpnum = ts->stopping->number;
	} else if (ts->full) {
		ts->stop_reason = "tfull";
	} else if (ts->error_tp) {
		ts->stop_reason = "terror";
		ts->stop_tpnum = ts->error_tp->number;
	} else {
		ts->stop_reason = reason;
	}
	ts->stopping = ts->error_tp = NULL;
	ts->full = false;
	uninstall_all();
	trace_forget_stepping();
}

void tracepoint_client_gone(void)
{
	trace_state.frame = -1;   /* the next gdb starts on the live program */
	if (!trace_state.disconnected_tracing)
		trace_stop_run("tdisconnected");
}

/* --- definitions -------------------------------------------------------- */

void handle_qtinit(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx; (void)a;
	struct trace_state *ts = &trace_state;
	if (n) {
		reply_error(reply, 1);
		return;
	}
	ts->frame = -1;
	trace_stop_run("tstop");
	uninstall_all();
	/* gdbserver keeps the variables with a target getter; we have none. */
	tp_defs_clear(&ts->defs);
	define_builtins();
	ts->nro = 0;
	ensure_buffer();
	tbuf_clear(&ts->buf);
	ts->generation++;
	reply_ok(reply);
}

void handle_qtdp(void *ctx, const char *a, size_t n, struct buf *reply)
{
	struct trace_state *ts = &trace_state;
	char err[160];
	bool done;
	struct tracepoint *tp = tp_define(&ts->defs, a, n, &done, err, sizeof err);
	if (!tp) {
		error_reply(reply, err);
		return;
	}
	/* Defined while the run goes on (InstallInTrace): in at once. */
	struct process *p = ts->tracing && done && !tp->installed_pid ? find_process(ts->pid) : NULL;
	const char *why = p ? install(tp, p) : NULL;
	if (why)
		error_reply(reply, why);
	else
		reply_ok(reply);
	(void)ctx;
}

void handle_qtdpsrc(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	char err[160];
	if (tp_define_source(&trace_state.defs, a, n, err, sizeof err) < 0)
		error_reply(reply, err);
	else
		reply_ok(reply);
}

void handle_qtdv(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	char err[160];
	define_builtins();
	if (tp_define_var(&trace_state.defs, a, n, err, sizeof err) < 0)
		error_reply(reply, err);
	else
		reply_ok(reply);
}

static void enable(const char *a, size_t n, bool on, struct buf *reply)
{
	char err[160];
	struct tracepoint *tp = tp_parse_ref(&trace_state.defs, a, n, err, sizeof err);
	if (!tp) {
		error_reply(reply, err);
		return;
	}
	tp->enabled = on;
	reply_ok(reply);
}

void handle_qtenable(void *ctx, const char *a, size_t n, struct buf *r) { (void)ctx; enable(a, n, true, r); }
void handle_qtdisable(void *ctx, const char *a, size_t n, struct buf *r) { (void)ctx; enable(a, n, false, r); }

/* QTro:START,END:START,END...: memory gdb knows does not change (code),
 * read from the program even while a frame is selected. */
void handle_qtro(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	struct trace_state *ts = &trace_state;
	const char *p = a, *end = a + n;
	size_t count = 0;
	uint64_t lo[TRACE_MAX_RO_REGIONS], hi[TRACE_MAX_RO_REGIONS];
	while (p < end) {
		if (*p != ':' || count == TRACE_MAX_RO_REGIONS) {
			error_reply(reply, "QTro: expected :START,END (at most 256 regions)");
			return;
		}
		p++;
		if (!hex_parse_u64_sep(&p, end, ',', &lo[count]) || !hex_parse_u64(&p, end, &hi[count]) ||
		    hi[count] < lo[count]) {
			error_reply(reply, "QTro: bad region");
			return;
		}
		count++;
	}
	for (size_t i = 0; i < count; i++) {
		ts->ro[i].start = lo[i];
		ts->ro[i].end = hi[i];
	}
	ts->nro = count;
	reply_ok(reply);
}

/* --- the run -------------------------------------------------------------- */

void handle_qtstart(void *ctx, const char *a, size_t n, struct buf *reply)
{
	struct trace_state *ts = &trace_state;
	if (reply_refused(TREQ_TRACEPOINTS, reply))
		return;
	struct process *p = general_process(ctx);
	if (n || !p) {
		reply_error(reply, 1);
		return;
	}
	(void)a;
	ensure_buffer();
	const char *why = NULL;
	for (struct tracepoint *tp = ts->defs.list; tp && !why; tp = tp->next) {
		tp->hit_count = tp->usage = 0;
		why = install(tp, p);
	}
	if (why) {
		uninstall_all();
		error_reply(reply, why);
		return;
	}
	ts->pid = p->pid;
	ts->stopping = ts->error_tp = NULL;
	ts->full = false;
	ts->buf.created = 0;
	ts->start_time = now_us();
	ts->tracing = true;
	ts->generation++;
	reply_ok(reply);
}

void handle_qtstop(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx; (void)a;
	if (n) {
		reply_error(reply, 1);
		return;
	}
	trace_stop_run("tstop");
	reply_ok(reply);
}

static void put_hex_text(struct buf *reply, const char *text)
{
	if (text)
		buf_hex(reply, text, strlen(text));
}

void handle_qtstatus(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx; (void)a; (void)n;
	struct trace_state *ts = &trace_state;
	ensure_buffer();
	buf_printf(reply, "T%d;%s", ts->tracing ? 1 : 0, ts->stop_reason);
	if (!strcmp(ts->stop_reason, "tstop")) {
		buf_putc(reply, ':');
		put_hex_text(reply, ts->stop_note);
	} else if (!strcmp(ts->stop_reason, "terror")) {
		buf_putc(reply, ':');
		put_hex_text(reply, ts->error);
	}
	buf_printf(reply, ":%x;tframes:%zx;tcreated:%x;tfree:%zx;tsize:%zx;circular:%d;disconn:%d;"
		   "starttime:%" PRIx64 ";stoptime:%" PRIx64 ";username:",
		   ts->stop_tpnum, tbuf_count(&ts->buf), ts->buf.created, tbuf_free_bytes(&ts->buf),
		   ts->buf.size, ts->buf.circular, ts->disconnected_tracing,
		   (uint64_t)ts->start_time, (uint64_t)ts->stop_time);
	put_hex_text(reply, ts->user);
	buf_puts(reply, ";notes:");
	put_hex_text(reply, ts->notes);
	buf_puts(reply, ":");
}

void handle_qtp(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	char err[160];
	struct tracepoint *tp = tp_parse_ref(&trace_state.defs, a, n, err, sizeof err);
	if (!tp)
		error_reply(reply, err);
	else   /* hex, as gdb reads it (gdbserver writes decimal) */
		buf_printf(reply, "V%" PRIx64 ":%" PRIx64, tp->hit_count, tp->usage);
}

void handle_qtv(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	struct trace_state *ts = &trace_state;
	const char *p = a, *end = a + n;
	uint64_t num;
	if (!hex_parse_u64(&p, end, &num) || p != end) {
		reply_error(reply, 1);
		return;
	}
	int64_t value = 0;
	const struct trace_frame *f = ts->frame >= 0 ? tbuf_frame(&ts->buf, (size_t)ts->frame) : NULL;
	struct trace_var *v = tp_var(&ts->defs, (unsigned)num);
	if (f ? !tframe_var(f, ts->buf.regsize, (int32_t)num, &value)
	      : !ts->tracing && !strcmp(ts->stop_reason, "tnotrun")) {
		buf_puts(reply, "U");   /* unknown before the first run */
		return;
	}
	if (!f && v)
		value = trace_var_value(v);
	buf_printf(reply, "V%" PRIx64, (uint64_t)value);
}

void handle_qtfp(void *ctx, const char *a, size_t n, struct buf *r) { (void)ctx; (void)a; (void)n; tp_upload_first(&trace_state.defs, r); }
void handle_qtsp(void *ctx, const char *a, size_t n, struct buf *r) { (void)ctx; (void)a; (void)n; tp_upload_next(&trace_state.defs, r); }
void handle_qtfv(void *ctx, const char *a, size_t n, struct buf *r)
{
	(void)ctx; (void)a; (void)n;
	define_builtins();
	tp_upload_var_first(&trace_state.defs, r);
}

void handle_qtsv(void *ctx, const char *a, size_t n, struct buf *r) { (void)ctx; (void)a; (void)n; tp_upload_var_next(&trace_state.defs, r); }

/* --- settings ------------------------------------------------------------- */

void handle_qtbuffer_size(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	struct trace_state *ts = &trace_state;
	const char *p = a, *end = a + n;
	uint64_t size = TRACE_BUFFER_DEFAULT;
	if (ts->tracing) {
		error_reply(reply, "The trace buffer cannot change size during a run.");
		return;
	}
	if (!(n == 2 && !memcmp(a, "-1", 2)) && (!hex_parse_u64(&p, end, &size) || p != end)) {
		reply_error(reply, 1);
		return;
	}
	if (size > TRACE_BUFFER_MAX) {
		error_reply(reply, "Trace buffer size over 256 MiB refused.");
		return;
	}
	bool circular = ts->buf.circular;
	tbuf_free(&ts->buf);
	tbuf_init(&ts->buf, (size_t)size, trace_regblock_size());
	ts->buf.circular = circular;
	ts->frame = -1;
	ts->generation++;
	reply_ok(reply);
}

static bool parse_flag(const char *a, size_t n, bool *out)
{
	const char *p = a, *end = a + n;
	uint64_t v;
	if (!hex_parse_u64(&p, end, &v) || p != end)
		return false;
	*out = v != 0;
	return true;
}

void handle_qtbuffer_circular(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	ensure_buffer();
	if (parse_flag(a, n, &trace_state.buf.circular))
		reply_ok(reply);
	else
		reply_error(reply, 1);
}

void handle_qtdisconnected(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	if (parse_flag(a, n, &trace_state.disconnected_tracing))
		reply_ok(reply);
	else
		reply_error(reply, 1);
}

/* QTNotes:user:HEX;notes:HEX;tstop:HEX; in any order. */
void handle_qtnotes(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	static const char *const keys[] = {"user:", "notes:", "tstop:"};
	char **slots[] = {&trace_state.user, &trace_state.notes, &trace_state.stop_note};
	char *got[3] = {NULL, NULL, NULL};
	bool seen[3] = {false, false, false};
	const char *p = a, *end = a + n;
	bool ok = true;
	while (ok && p < end) {
		size_t k = 0;
		while (k < 3 && ((size_t)(end - p) < strlen(keys[k]) || memcmp(p, keys[k], strlen(keys[k]))))
			k++;
		const char *semi = k < 3 ? memchr(p, ';', (size_t)(end - p)) : NULL;
		const char *v = k < 3 ? p + strlen(keys[k]) : NULL;
		size_t hexlen = semi ? (size_t)(semi - v) : 0;
		char *text = semi ? malloc(hexlen / 2 + 1) : NULL;
		ok = text && hex_decode(v, hexlen, text) >= 0 && !memchr(text, '\0', hexlen / 2);
		if (ok) {
			text[hexlen / 2] = '\0';
			free(got[k]);
			got[k] = text;
			seen[k] = true;
			p = semi + 1;
		} else {
			free(text);
		}
	}
	for (int k = 0; k < 3; k++) {
		if (ok && seen[k]) {
			free(*slots[k]);
			*slots[k] = got[k];
		} else {
			free(got[k]);
		}
	}
	if (ok)
		reply_ok(reply);
	else
		error_reply(reply, "QTNotes: expected user:HEX; notes:HEX; tstop:HEX;");
}

/* QAllow:WriteReg:V;WriteMem:V;InsertBreak:V;InsertTrace:V;...: gdb
 * enforces most itself; the server keeps InsertTrace (tstart, and
 * tracepoints defined during a run, are then refused). */
void handle_qallow(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	const char *p = a, *end = a + n;
	bool insert = trace_state.allow_insert;
	while (p < end) {
		const char *colon = memchr(p, ':', (size_t)(end - p));
		uint64_t v;
		if (!colon || colon == p) {
			reply_error(reply, 1);
			return;
		}
		const char *name = p;
		size_t len = (size_t)(colon - p);
		p = colon + 1;
		if (!hex_parse_u64(&p, end, &v) || (p < end && *p++ != ';')) {
			reply_error(reply, 1);
			return;
		}
		if (len == 11 && !memcmp(name, "InsertTrace", 11))
			insert = v != 0;
	}
	trace_state.allow_insert = insert;
	reply_ok(reply);
}
