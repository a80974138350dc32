/* The `monitor etm` commands: the trace source and each traced thread,
 * the configuration for threads enabled from now on, and the instruction
 * and call histories of the current thread, numbered as gdb numbers its
 * own. */
#include "server/btrace.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etm/btrace_xml.h"
#include "server/btrace_state.h"

int mon_etm_status(struct session *s, const char *args, struct buf *out)
{
	(void)s; (void)args;
	struct etm_source *source = bt_source();
	if (!source) {
		buf_printf(out, "No trace source: %s\n", bt_source_note());
		return 0;
	}
	source->ops->describe(source, out);
	if (source->ops->read_blocks)
		return 0;   /* blocks are read as gdb asks: nothing held here */
	unsigned n = 0;
	for (struct bt_thread *t = bt_threads(); t; t = t->next, n++) {
		const struct trace_ranges *tr = bt_held(t);
		buf_printf(out, "Thread %d: tracing, format %s%s, %zu ranges / %" PRIu64
			   " instructions held, %u gaps, %u decoder errors%s%s, %zu raw bytes kept\n",
			   t->tid, t->fmt == BT_BTS ? "bts (decoded blocks)" : "CoreSight (raw)",
			   t->auto_enabled ? " (traced since it appeared)" : "", tr->n, tr->ninsns,
			   tr->ngaps, tr->nerrors, tr->nerrors ? ": " : "", tr->first_error,
			   t->raw.len);
		if (tr->seq)
			buf_printf(out, "Thread %d: history holds the newest 0x%" PRIx64 " bytes of trace: "
				   "%" PRIu64 " older ranges dropped\n", t->tid, tr->window, tr->seq);
		if (t->overflow || t->bytes_lost)
			buf_printf(out, "Thread %d: trace overflowed (%" PRIu64 " bytes lost)\n", t->tid,
				   t->bytes_lost);
	}
	if (!n)
		buf_puts(out, "No thread is being traced.\n");
	return 0;
}

int mon_etm_config(struct session *s, const char *args, struct buf *out)
{
	(void)s;
	if (!btrace_available()) {
		buf_printf(out, "No trace source: %s\n", bt_source_note());
		return -1;
	}
	char *copy = strdup(args), *save = NULL, err[ETM_ERR_LEN];
	if (!copy)
		abort();
	for (char *tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq) {
			buf_printf(out, "%s: expected NAME=VALUE (as in Qbtrace-conf:CoreSight:NAME=VALUE)\n", tok);
			free(copy);
			return -1;
		}
		*eq = '\0';
		if (bt_apply_option("CoreSight", tok, eq + 1, err, sizeof err) < 0) {
			buf_printf(out, "%s=%s: %s\n", tok, eq + 1, err);
			free(copy);
			return -1;
		}
	}
	free(copy);
	struct buf doc = BUF_INIT;
	btrace_xml_conf_etm(&doc, bt_pending_cfg());
	buf_puts(out, "Configuration for threads enabled from now on:\n");
	buf_append(out, doc.data, doc.len);
	buf_free(&doc);
	return 0;
}

/* Length of the instruction at ADDR (Thumb: 2 or 4 by its first halfword). */
static unsigned insn_len(struct bt_thread *t, const struct trace_range *r, uint64_t addr)
{
	if (r->isa != ETM_ISA_THUMB)
		return 4;
	uint8_t hw[2];
	if (bt_read_memory(t, addr, hw, 2) != 2)
		return 2;
	unsigned top = hw[1] >> 3;
	return top == 0x1d || top == 0x1e || top == 0x1f ? 4 : 2;
}

/* Histories are numbered from the oldest range held, as gdb numbers its
 * own; the older trace left the window. */
static void dropped_note(const struct trace_ranges *tr, struct buf *out)
{
	buf_printf(out, "[older trace dropped: the history holds the newest 0x%" PRIx64
		   " bytes of trace (the configured buffer size)]\n", tr->window);
}

/* "N" = the last N, "FROM,TO" = those numbers (1-based, inclusive). */
static int parse_window(const char *args, uint64_t total, uint64_t def, uint64_t *from, uint64_t *to,
			struct buf *out)
{
	unsigned long long a = def, b = 0;
	char junk;
	if (!*args || sscanf(args, "%llu %c", &a, &junk) == 1) {
		*to = total;
		*from = a >= total ? 1 : total - a + 1;
	} else if (sscanf(args, "%llu,%llu %c", &a, &b, &junk) == 2 && a >= 1 && a <= b) {
		*from = a;
		*to = b > total ? total : b;
	} else {
		buf_printf(out, "Bad argument \"%s\": use N (the last N) or FROM,TO.\n", args);
		return -1;
	}
	return 0;
}

/* The decoded ranges of the thread a history command is about, or NULL
 * with the reason in OUT. */
static const struct trace_ranges *monitor_ranges(struct session *s, struct buf *out)
{
	struct bt_thread *t = bt_monitor_thread(s, out);
	return t ? bt_held(t) : NULL;
}

int mon_etm_insn_history(struct session *s, const char *args, struct buf *out)
{
	struct bt_thread *t = bt_monitor_thread(s, out);
	if (!t)
		return -1;
	/* insn_len below needs the thread, not only its ranges */
	const struct trace_ranges *tr = bt_held(t);
	size_t n = tr->n;
	const struct trace_range *r = trace_ranges_first(tr);
	uint64_t total = tr->ninsns, from, to;
	if (parse_window(args, total, 10, &from, &to, out) < 0)
		return -1;
	if (from == 1 && tr->seq)
		dropped_note(tr, out);
	uint64_t num = 0;
	for (size_t i = 0; i < n && num < to; i++) {
		if (num + r[i].ninsns < from) {
			num += r[i].ninsns;
			continue;
		}
		if ((r[i].flags & ETM_RANGE_GAP_BEFORE) && num + 1 >= from && num > 0)
			buf_puts(out, "[trace gap]\n");
		if ((r[i].flags & ETM_RANGE_EXC_BEFORE) && num + 1 >= from && num > 0)
			buf_puts(out, "[exception]\n");
		uint64_t addr = r[i].begin, last = trace_range_last(&r[i]);
		for (uint32_t k = 0; k < r[i].ninsns && num < to; k++) {
			num++;
			bool is_last = k + 1 == r[i].ninsns || addr >= last;
			if (num >= from) {
				buf_printf(out, "%" PRIu64 "\t0x%" PRIx64 "\t%s", num, addr, etm_isa_name((enum etm_isa)r[i].isa));
				if (is_last && r[i].cls != ETM_INSN_OTHER)
					buf_printf(out, "\t%s%s", etm_insn_class_name((enum etm_insn_class)r[i].cls),
						   r[i].flags & ETM_RANGE_TAKEN ? "" : " (not taken)");
				buf_putc(out, '\n');
			}
			addr += insn_len(t, &r[i], addr);
		}
	}
	if (!total)
		buf_puts(out, "No trace.\n");
	return 0;
}

/* Function segments: a taken call starts a callee one level deeper, a
 * return goes back up; an exception enters a handler one level deeper and
 * an exception return leaves it. Server-side because gdb 13 classifies no
 * ARM instruction as a call or return. */
struct segment {
	uint64_t start_addr, first_insn, last_insn;
	int level;
	bool after_gap;
};

int mon_etm_call_history(struct session *s, const char *args, struct buf *out)
{
	const struct trace_ranges *tr = monitor_ranges(s, out);
	if (!tr)
		return -1;
	size_t n = tr->n;
	const struct trace_range *r = trace_ranges_first(tr);
	struct segment *seg = NULL;
	size_t nseg = 0, cap = 0;
	int level = 0;
	uint64_t num = 0;
	bool new_seg = true, gap = false;
	for (size_t i = 0; i < n; i++) {
		if (r[i].flags & ETM_RANGE_GAP_BEFORE) {
			new_seg = gap = true;
		} else if (r[i].flags & ETM_RANGE_EXC_BEFORE) {
			level++;
			new_seg = true;
		}
		if (new_seg) {
			if (nseg == cap) {
				cap = cap ? cap * 2 : 256;
				seg = realloc(seg, cap * sizeof *seg);
				if (!seg)
					abort();
			}
			seg[nseg++] = (struct segment){r[i].begin, num + 1, num + r[i].ninsns, level, gap};
			new_seg = gap = false;
		}
		num += r[i].ninsns;
		seg[nseg - 1].last_insn = num;
		if (r[i].flags & ETM_RANGE_TAKEN) {
			if (r[i].cls == ETM_INSN_CALL) {
				level++;
				new_seg = true;
			} else if (r[i].cls == ETM_INSN_RETURN || r[i].cls == ETM_INSN_EXCEPTION_RETURN) {
				level--;
				new_seg = true;
			}
		}
	}
	uint64_t from, to;
	if (parse_window(args, nseg, 10, &from, &to, out) < 0) {
		free(seg);
		return -1;
	}
	if (from == 1 && tr->seq)
		dropped_note(tr, out);
	int min_level = 0;
	for (uint64_t k = from; k <= to && k <= nseg; k++)
		if (k == from || seg[k - 1].level < min_level)
			min_level = seg[k - 1].level;
	for (uint64_t k = from; k <= to && k <= nseg; k++) {
		const struct segment *g = &seg[k - 1];
		if (g->after_gap && k > 1)
			buf_puts(out, "[trace gap]\n");
		struct etm_source *src = bt_source();
		const char *name = src->ops->symbol ? src->ops->symbol(src, g->start_addr) : NULL;
		buf_printf(out, "%" PRIu64 "\t%*s", k, 2 * (g->level - min_level), "");
		if (name)
			buf_puts(out, name);
		else
			buf_printf(out, "0x%" PRIx64, g->start_addr);
		buf_printf(out, "\tinst %" PRIu64 ",%" PRIu64 "\n", g->first_insn, g->last_insn);
	}
	if (!nseg)
		buf_puts(out, "No trace.\n");
	free(seg);
	return 0;
}
