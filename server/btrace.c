/* Branch tracing packets: see btrace.h.
 *
 * Everything comes from one trace source (etm/source.h): perf cs_etm, a
 * perf.data recording, the emulated ETMv4 or the software recorder for
 * live threads, or a recorded capture. What a source has beyond raw trace
 * (branch blocks, a capture's window, thread and memory) its optional ops
 * say. Each traced thread keeps a window of the newest decoded ranges (as
 * much as a trace buffer of its configured size holds: never a whole
 * trace) and where the last qXfer:btrace:read left off. Stock gdb gets
 * BTS-style <block> lists (format bts) with gdbserver's all/new/delta
 * semantics; an ETM-aware client gets the raw trace plus the ETM registers
 * (format CoreSight), its hex generated chunk by chunk as gdb reads it. */
#include "server/btrace.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "etm/btrace_xml.h"
#include "etm/config.h"
#include "etm/source.h"
#include "protocol/escape.h"
#include "protocol/packet.h"
#include "protocol/qxfer.h"
#include "server/btrace_source.h"
#include "server/btrace_state.h"
#include "server/reply.h"
#include "server/session.h"
#include "server/xfer.h"

static struct etm_source *source;     /* NULL: nothing to trace with */
static char source_note[256];         /* why there is no trace hardware */
static struct bt_thread *threads;
static struct etm_config pending;     /* Qbtrace-conf for the next enable */
static bool pending_init;

/* The CoreSight document being read in chunks (see coresight_doc). */
static const char raw_doc_tail[] = "\n</raw>\n</etm>\n</btrace>\n";
static const char doc_end[] = "</etm>\n</btrace>\n";

static struct {
	bool valid;
	const struct session *owner;
	char key[64];
	struct buf head;        /* up to and including "<raw>\n" */
	bool from_source;       /* bytes from the source's raw_read, else RAW */
	struct buf raw;
	uint64_t raw_len;
} raw_doc;

static struct bt_thread *find_bt(pid_t tid);

struct etm_source *bt_source(void) { return source; }
const char *bt_source_note(void) { return source_note[0] ? source_note : "none configured"; }
struct bt_thread *bt_threads(void) { return threads; }

/* ---- set-up ------------------------------------------------------------- */

static struct etm_config *pending_cfg(void)
{
	if (!pending_init) {
		etm_config_init(&pending);
		pending_init = true;
	}
	return &pending;
}

const struct etm_config *bt_pending_cfg(void)
{
	return pending_cfg();
}

void btrace_setup(const char *perfdata)
{
	source = btrace_open_source(perfdata, source_note, sizeof source_note);
}

void btrace_use_source(struct etm_source *src)
{
	source = src;
}

static void thread_free(struct bt_thread *t)
{
	trace_ranges_free(&t->ranges);
	buf_free(&t->raw);
	free(t);
}

void btrace_shutdown(void)
{
	while (threads) {
		struct bt_thread *t = threads;
		threads = t->next;
		thread_free(t);
	}
	/* freeing a source releases what it holds for every thread */
	etm_source_free(source);
	source = NULL;
	buf_free(&raw_doc.head);
	buf_free(&raw_doc.raw);
	raw_doc.valid = false;
}

void btrace_new_client(void)
{
	pending_init = false;
}

bool btrace_available(void)
{
	return source != NULL;
}

void btrace_qsupported(struct buf *reply)
{
	if (!btrace_available())
		return;
	if (source->ops->read_blocks) {
		buf_puts(reply, ";Qbtrace:bts+;Qbtrace-conf:bts:size+;Qbtrace:off+;"
			 "qXfer:btrace:read+;qXfer:btrace-conf:read+;qXfer:btrace-calls:read+");
		return;
	}
	buf_puts(reply, ";Qbtrace:bts+;Qbtrace-conf:bts:size+;Qbtrace:off+;qXfer:btrace:read+;"
		 "qXfer:btrace-conf:read+;qXfer:btrace-calls:read+;Qbtrace:CoreSight+;Qbtrace:etm+;Qbtrace-conf:etm:size+;"
		 "Qbtrace-conf:etm:sink+;Qbtrace-conf:CoreSight:size+;Qbtrace-conf:CoreSight:core+;"
		 "Qbtrace-conf:CoreSight:id+;Qbtrace-conf:CoreSight:filter:context+;"
		 "Qbtrace-conf:CoreSight:filter:start-address+;"
		 "Qbtrace-conf:CoreSight:filter:end-address+;"
		 "Qbtrace-conf:CoreSight:trigger:on-address+;"
		 "Qbtrace-conf:CoreSight:trigger:off-address+;Qbtrace-conf:CoreSight:sink+");
}

/* ---- threads -------------------------------------------------------------- */

static struct bt_thread *find_bt(pid_t tid)
{
	for (struct bt_thread *t = threads; t; t = t->next)
		if (t->tid == tid)
			return t;
	return NULL;
}

static void forget_bt(struct bt_thread *gone)
{
	for (struct bt_thread **pp = &threads; *pp; pp = &(*pp)->next)
		if (*pp == gone) {
			*pp = gone->next;
			thread_free(gone);
			return;
		}
}

/* The thread btrace packets act on: a capture's own, else gdb's general
 * thread. */
static bool current_tid(struct session *s, pid_t *pid, pid_t *tid, struct buf *reply)
{
	int cpid, ctid;
	uint64_t pc;
	if (source && source->ops->thread && source->ops->thread(source, &cpid, &ctid, &pc)) {
		*pid = cpid;
		*tid = ctid;
		return true;
	}
	struct thread *t = general_thread(s);
	if (!t) {
		reply_error_msg(reply, "No such thread.");
		return false;
	}
	*pid = t->proc->pid;
	*tid = t->tid;
	return true;
}

static struct bt_thread *start_tracing(pid_t pid, pid_t tid, enum bt_format fmt,
				       const struct etm_config *cfg, char *err, size_t errlen)
{
	if (fmt != BT_BTS && source->ops->read_blocks) {
		snprintf(err, errlen, "No CoreSight trace unit here: software branch recording "
			 "serves the bts format only.");
		return NULL;
	}
	if (source->ops->enable(source, tid, cfg, err, errlen) < 0)
		return NULL;
	struct bt_thread *t = calloc(1, sizeof *t);
	if (!t)
		abort();
	t->pid = pid;
	t->tid = tid;
	t->fmt = fmt;
	t->cfg = *cfg;
	trace_ranges_init(&t->ranges, cfg->buffer_size);
	t->next = threads;
	threads = t;
	return t;
}

static void stop_tracing(struct bt_thread *t)
{
	char err[ETM_ERR_LEN];
	source->ops->disable(source, t->tid, err, sizeof err);
	forget_bt(t);
}

void btrace_thread_gone(struct thread *th)
{
	struct bt_thread *t = find_bt(th->tid);
	if (t)
		stop_tracing(t);
}

/* New threads of a traced process are traced from their first
 * instruction: per-thread perf events cannot inherit, and gdb enables
 * tracing only when it next hears of the thread. */
void btrace_thread_added(struct thread *th)
{
	if (find_bt(th->tid) || !source)
		return;
	for (struct bt_thread *o = threads; o; o = o->next)
		if (o->pid == th->proc->pid) {
			char err[ETM_ERR_LEN];
			struct bt_thread *n = start_tracing(o->pid, th->tid, o->fmt, &o->cfg, err, sizeof err);
			if (n)
				n->auto_enabled = true;
			else if (debug_target)
				fprintf(DEBUG_OUT, "btrace: tracing new thread %d: %s\n", th->tid, err);
			return;
		}
}

/* ---- collecting and decoding trace ---------------------------------------- */

/* The registers of every CPU of the source. */
static size_t source_cpus(struct etm_cpu_regs **out)
{
	int n = source ? source->ops->nr_cpus(source) : 0;
	struct etm_cpu_regs *regs = calloc((size_t)(n > 0 ? n : 1), sizeof *regs);
	if (!regs)
		abort();
	size_t got = 0;
	for (int c = 0; c < n; c++) {
		char err[ETM_ERR_LEN];
		if (source->ops->cpu_regs(source, c, &regs[got], err, sizeof err) == 0)
			got++;
	}
	*out = regs;
	return got;
}

/* Decode the chunks of RD into T's window (bts only; CoreSight keeps the
 * raw bytes and counts them). Chunks are not contiguous: one decoder each;
 * raw (TRBE) data belongs to the chunk's CPU alone. */
static void decode_read(struct bt_thread *t, const struct etm_read *rd)
{
	struct etm_cpu_regs *units;
	size_t ncpu = source_cpus(&units);
	struct mem_cache mc = {.proc = find_process(t->pid)};
	for (size_t c = 0; c < rd->n_chunks; c++) {
		const struct etm_chunk *ch = &rd->chunks[c];
		const uint8_t *bytes = (const uint8_t *)rd->data.data + ch->offset;
		buf_append(&t->raw, bytes, ch->size);
		t->raw_total += ch->size;
		uint64_t fed = t->ranges.fed + ch->size;
		if (t->fmt == BT_BTS && mc.proc) {
			const struct etm_cpu_regs *use = units;
			size_t nuse = ncpu;
			if (ch->raw) {
				nuse = 0;
				for (size_t i = 0; i < ncpu; i++)
					if (units[i].cpu == ch->cpu) {
						use = &units[i];
						nuse = 1;
					}
			}
			char derr[ETM_ERR_LEN];
			int rc = nuse ? etm_ranges_decode(use, nuse, !ch->raw, bytes, ch->size, mem_cache_read,
							  &mc, &t->ranges, derr, sizeof derr) : 0;
			if (rc > 0) {
				fprintf(stderr, "csgdbserver: thread %d: %s\n", (int)t->tid, derr);
				if (!t->decode_failure[0])
					snprintf(t->decode_failure, sizeof t->decode_failure, "%s", derr);
			} else if (rc < 0 && debug_target) {
				fprintf(stderr, "btrace: decode: %s\n", derr);
			}
		}
		/* positions count every byte: the window is in trace bytes */
		t->ranges.fed = fed;
		trace_ranges_trim(&t->ranges);
	}
	mem_cache_free(&mc);
	free(units);
}

/* Pull what the source has for T, decode it, remember it. */
static int collect(struct bt_thread *t, char *err, size_t errlen)
{
	if (source->ops->window) {
		/* Blocks need this thread's window decoded (again only if it
		 * is not the last one); the raw document needs no decode. */
		if (t->fmt == BT_BTS && !source->ops->window(source, t->cfg.buffer_size, err, errlen))
			return -1;
		if (!t->collected)
			t->collected = t->changed = true;
		return 0;
	}
	if (source->ops->read_blocks)
		return 0;   /* read when the document is built */
	struct etm_read rd;
	etm_read_init(&rd);
	if (source->ops->read_new(source, t->tid, &rd, err, errlen) < 0) {
		etm_read_free(&rd);
		return -1;
	}
	if (rd.overflow) {
		/* What came before the loss no longer connects: start afresh. */
		trace_ranges_reset(&t->ranges);
		buf_reset(&t->raw);
		t->overflow = t->changed = true;
		t->bytes_lost += rd.bytes_lost;
	}
	if (rd.n_chunks) {
		t->changed = true;
		decode_read(t, &rd);
		/* The raw document holds at most one buffer's worth. */
		if (t->raw.len > t->cfg.buffer_size && t->cfg.buffer_size)
			buf_consume(&t->raw, t->raw.len - (size_t)t->cfg.buffer_size);
	}
	etm_read_free(&rd);
	if (t->decode_failure[0]) {
		/* This read answers the failure; the next one serves what decoded. */
		etm_fail(err, errlen, "%s (the trace decoded before it is kept)", t->decode_failure);
		t->decode_failure[0] = '\0';
		return -1;
	}
	return 0;
}

const struct trace_ranges *bt_held(struct bt_thread *t)
{
	static const struct trace_ranges none;
	if (!source->ops->window)
		return &t->ranges;
	char err[ETM_ERR_LEN];
	const struct trace_ranges *tr = t->collected ? source->ops->window(source, t->cfg.buffer_size, err, sizeof err) : NULL;
	return tr ? tr : &none;
}

static bool thread_pc(struct bt_thread *t, uint64_t *pc)
{
	int pid, tid;
	if (source->ops->thread && source->ops->thread(source, &pid, &tid, pc))
		return true;
	struct thread *th = find_thread(t->tid);
	if (th && !th->stopped) {
		/* running: the recorder's PC, else the last instruction decoded */
		if (btrace_running_pc(th, pc))
			return true;
		if (!t->ranges.n)
			return false;
		*pc = trace_range_last(&trace_ranges_first(&t->ranges)[t->ranges.n - 1]);
		return true;
	}
	uint8_t *regs = th ? thread_regs(th) : NULL;
	if (!regs)
		return false;
	*pc = the_arch.get_pc(regs);
	return true;
}

size_t bt_read_memory(struct bt_thread *t, uint64_t addr, void *buf, size_t len)
{
	if (source->ops->read_memory)
		return source->ops->read_memory(source, addr, buf, len);
	struct process *p = find_process(t->pid);
	ssize_t got = p ? target_read_memory(p, addr, buf, len) : -1;
	return got > 0 ? (size_t)got : 0;
}

bool bt_thread_pc(struct bt_thread *t, uint64_t *pc)
{
	return thread_pc(t, pc);
}

struct bt_thread *bt_monitor_thread(struct session *s, struct buf *out)
{
	return bt_trace_thread(s, 0, out);
}

struct bt_thread *bt_trace_thread(struct session *s, pid_t want, struct buf *out)
{
	pid_t pid, tid = want;
	struct buf dummy = BUF_INIT;
	bool ok = want || current_tid(s, &pid, &tid, &dummy);
	buf_free(&dummy);
	struct bt_thread *t = ok ? find_bt(tid) : NULL;
	if (!t) {
		buf_puts(out, "Branch tracing is not enabled for the current thread (use record btrace).\n");
		return NULL;
	}
	char err[ETM_ERR_LEN];
	if (collect(t, err, sizeof err) < 0) {
		buf_printf(out, "Reading the trace failed: %s\n", err);
		return NULL;
	}
	return t;
}

/* ---- documents -------------------------------------------------------------- */

/* Ranges [from, n) as gdb blocks: contiguous ranges merge into one block
 * (gdb decodes a block sequentially up to its end anyway). */
static void blocks_doc(struct bt_thread *t, size_t from, uint64_t pc, enum btrace_read_type type,
		       struct buf *doc)
{
	const struct trace_ranges *tr = bt_held(t);
	size_t n = tr->n;
	const struct trace_range *r = trace_ranges_first(tr);
	struct btrace_range *out = malloc((n - from + 1) * sizeof *out);
	if (!out)
		abort();
	size_t m = 0;
	for (size_t i = from; i < n; i++) {
		if (m && out[m - 1].end == r[i].begin) {
			out[m - 1].end = r[i].end;
			out[m - 1].last = trace_range_last(&r[i]);
			continue;
		}
		out[m++] = (struct btrace_range){r[i].begin, r[i].end, trace_range_last(&r[i])};
	}
	btrace_xml_blocks(doc, out, m, pc, type);
	free(out);
}

/* The CoreSight document is HEAD + the raw trace in hex + TAIL. Its hex
 * is twice the trace (hundreds of MiB for a big capture), so it is never
 * materialised: each qXfer chunk is generated from the trace bytes, read
 * from the replay's file or from a copy of the live thread's trace taken
 * when the read began (at offset 0), so every chunk of one read comes
 * from the same trace and equals the same bytes of a whole read. */
static uint64_t raw_doc_len(void)
{
	return raw_doc.head.len + 2 * raw_doc.raw_len + (sizeof raw_doc_tail - 1);
}

/* Bytes [OFF, OFF + LEN) of the document onto OUT; -1 if the trace
 * cannot be read. */
static int raw_doc_bytes(uint64_t off, size_t len, struct buf *out)
{
	uint64_t head = raw_doc.head.len, hex_end = head + 2 * raw_doc.raw_len;
	uint64_t end = off + len;
	if (off < head) {
		size_t take = (size_t)((end < head ? end : head) - off);
		buf_append(out, raw_doc.head.data + off, take);
		off += take;
	}
	if (off < end && off < hex_end) {
		uint64_t stop = end < hex_end ? end : hex_end;
		uint64_t first = (off - head) / 2, last = (stop - head + 1) / 2;  /* trace bytes */
		size_t nbytes = (size_t)(last - first);
		uint8_t *bytes = malloc(nbytes ? nbytes : 1);
		if (!bytes)
			abort();
		if (raw_doc.from_source) {
			if (source->ops->raw_read(source, first, bytes, nbytes) < 0) {
				free(bytes);
				return -1;
			}
		} else {
			memcpy(bytes, (const uint8_t *)raw_doc.raw.data + first, nbytes);
		}
		struct buf hex = BUF_INIT;
		buf_hex(&hex, bytes, nbytes);
		buf_append(out, hex.data + ((off - head) & 1), (size_t)(stop - off));
		buf_free(&hex);
		free(bytes);
		off = stop;
	}
	if (off < end) {
		uint64_t t = off - hex_end;
		buf_append(out, raw_doc_tail + t, (size_t)(end - off));
	}
	return 0;
}

/* Serve "OFFSET,LENGTH" of the document as xfer_reply would serve it
 * from the whole document. */
static void raw_doc_serve(unsigned long long offset, unsigned long long length, struct buf *reply)
{
	uint64_t total = raw_doc_len();
	if (offset >= total) {
		buf_putc(reply, 'l');
		return;
	}
	uint64_t avail = total - offset;
	size_t len = length < avail ? (size_t)length : (size_t)avail;
	if (len > RSP_PACKET_SIZE)
		len = RSP_PACKET_SIZE;
	struct buf chunk = BUF_INIT;
	if (raw_doc_bytes(offset, len, &chunk) < 0) {
		buf_free(&chunk);
		reply_error_msg(reply, "Reading the recorded trace failed.");
		return;
	}
	size_t take = bin_escape_fit(chunk.data, chunk.len, (size_t)length);
	buf_putc(reply, take < avail ? 'm' : 'l');
	bin_escape(reply, chunk.data, take);
	buf_free(&chunk);
}

/* Start a CoreSight document for T; DOC receives it whole when it has no
 * trace (then it is small), else raw_doc describes it. */
static const char *coresight_doc(struct session *s, const char *key, struct bt_thread *t,
				 size_t from, struct buf *doc, char *err, size_t errlen)
{
	struct etm_cpu_regs *regs;
	size_t ncpu = source_cpus(&regs);
	struct etm_sink_info sink;
	memset(&sink, 0, sizeof sink);
	source->ops->sink(source, &sink);
	/* a capture: its whole buffer; live: the trace from byte FROM of
	 * what the thread holds */
	uint64_t raw_len = source->ops->raw_size ? source->ops->raw_size(source) : t->raw.len - from;
	buf_reset(&raw_doc.head);
	int rc = btrace_xml_etm(raw_len ? &raw_doc.head : doc, regs, ncpu, &sink, t->cfg.trace_id,
				NULL, 0, err, errlen);
	free(regs);
	if (rc < 0)
		return err;
	if (!raw_len)
		return NULL;
	/* btrace_xml_etm's document without <raw>: insert it before the end. */
	size_t end_len = sizeof doc_end - 1;
	if (raw_doc.head.len < end_len ||
	    memcmp(raw_doc.head.data + raw_doc.head.len - end_len, doc_end, end_len) != 0)
		return "Internal error: unexpected CoreSight document layout.";
	raw_doc.head.len -= end_len;
	buf_puts(&raw_doc.head, "<raw>\n");
	raw_doc.from_source = source->ops->raw_read != NULL;
	buf_reset(&raw_doc.raw);
	if (!raw_doc.from_source)
		buf_append(&raw_doc.raw, t->raw.data + from, t->raw.len - from);
	raw_doc.raw_len = raw_len;
	raw_doc.owner = s;
	snprintf(raw_doc.key, sizeof raw_doc.key, "%s", key);
	raw_doc.valid = true;
	return NULL;
}

/* Blocks from a source that records them (the software recorder). */
static const char *recorded_blocks(struct bt_thread *t, enum btrace_read_type type, struct buf *doc)
{
	if (!find_thread(t->tid))
		return "Btrace not enabled.";
	uint64_t pc;
	if (!thread_pc(t, &pc))
		return "Could not read the thread's PC.";
	struct btrace_range *r = NULL;
	size_t n = 0;
	if (type == BTRACE_READ_DELTA) {
		/* Records lost to the ring since the last read (a first read:
		 * since recording began, as Linux's perf bts does): the client
		 * re-reads new or all, and knows. */
		if (source->ops->read_blocks(source, t->tid, true, pc, &r, &n) != 0) {
			free(r);
			return "Overflow.";
		}
		btrace_xml_blocks(doc, r, n, pc, BTRACE_READ_DELTA);
	} else if (type == BTRACE_READ_NEW && t->read_before && !source->ops->blocks_changed(source, t->tid)) {
		btrace_xml_blocks(doc, NULL, 0, pc, BTRACE_READ_NEW);
	} else {
		source->ops->read_blocks(source, t->tid, false, pc, &r, &n);
		btrace_xml_blocks(doc, r, n, pc, BTRACE_READ_ALL);
	}
	free(r);
	t->read_before = true;
	return NULL;
}

/* The raw trace document of T for a read of TYPE. */
static const char *coresight_read(struct session *s, const char *key, struct bt_thread *t,
				  enum btrace_read_type type, struct buf *doc, char *err, size_t errlen)
{
	size_t from = 0;
	if (type == BTRACE_READ_DELTA) {
		/* The trace since the last read, for clients that drain it
		 * while the target runs; bytes lost before they were read (an
		 * overflow, or more than the buffer size since then) make it
		 * fail: the client reads new and knows. */
		if (source->ops->raw_read)
			return "Delta reads are not supported for a replayed capture; read new or all.";
		uint64_t unread = t->raw_total - t->raw_mark;
		if (t->overflow || unread > t->raw.len)
			return "Overflow.";
		from = t->raw.len - (size_t)unread;
	}
	if (type == BTRACE_READ_NEW && !t->changed && t->read_before) {
		buf_puts(doc, "<!DOCTYPE btrace SYSTEM \"btrace.dtd\">\n<btrace version=\"1.0\">\n</btrace>\n");
	} else {
		const char *msg = coresight_doc(s, key, t, from, doc, err, errlen);
		if (msg)
			return msg;
	}
	t->raw_mark = t->raw_total;
	t->read_before = true;
	t->changed = t->overflow = false;
	return NULL;
}

/* Build the qXfer:btrace:read document for ANNEX; this is the only place
 * where the read pointer moves (offset 0 of a read). */
static const char *build_btrace(struct session *s, const char *key, const char *annex,
				struct buf *doc, char *err, size_t errlen)
{
	enum btrace_read_type type;
	pid_t pid, tid;
	struct buf dummy = BUF_INIT;
	bool ok = current_tid(s, &pid, &tid, &dummy);
	buf_free(&dummy);
	if (!ok)
		return "No such thread.";
	struct bt_thread *t = find_bt(tid);
	if (!t)
		return "Btrace not enabled.";
	if (btrace_read_type_parse(annex, &type) < 0)
		return "Bad annex.";
	if (source->ops->read_blocks)
		return recorded_blocks(t, type, doc);
	if (collect(t, err, errlen) < 0)
		return err;
	if (t->fmt == BT_CORESIGHT)
		return coresight_read(s, key, t, type, doc, err, errlen);
	uint64_t pc;
	if (!thread_pc(t, &pc))
		return "Could not read the thread's PC.";
	const struct trace_ranges *tr = bt_held(t);
	if (type == BTRACE_READ_DELTA) {
		/* Trace before the first read does not start where gdb
		 * enabled recording; an overflow broke the chain, or ranges
		 * not yet read left the window: either way gdb must re-read
		 * with new/all. */
		size_t from;
		if (t->overflow)
			return "Overflow.";
		if (!t->read_before)
			return "No previous read to continue from; read new or all.";
		if (!trace_ranges_since(tr, t->delta_mark, &from))
			return "Overflow.";
		blocks_doc(t, from, pc, type, doc);
	} else if (type == BTRACE_READ_NEW && !t->changed && t->read_before) {
		btrace_xml_blocks(doc, NULL, 0, pc, BTRACE_READ_NEW);
	} else {
		/* a new that is due is a whole document, even with no range */
		blocks_doc(t, 0, pc, BTRACE_READ_ALL, doc);
	}
	t->delta_mark = trace_ranges_end(tr);
	t->read_before = true;
	t->changed = t->overflow = false;
	return NULL;
}

/* qXfer:btrace-conf:read of the general thread. */
static const char *build_btrace_conf(struct session *s, const char *key, const char *annex,
				     struct buf *doc)
{
	(void)key;
	static char err[ETM_ERR_LEN];
	pid_t pid, tid;
	struct buf dummy = BUF_INIT;
	bool have = current_tid(s, &pid, &tid, &dummy);
	buf_free(&dummy);
	if (!have)
		return "No such thread.";
	struct bt_thread *t = find_bt(tid);
	if (annex[0])
		return "Bad annex.";
	if (!t)
		return "Btrace not enabled.";
	struct etm_config actual = t->cfg;
	source->ops->conf(source, t->tid, &actual, err, sizeof err);
	if (t->fmt == BT_BTS)
		btrace_xml_conf_bts(doc, actual.buffer_size);
	else
		btrace_xml_conf_etm(doc, &actual);
	return NULL;
}

/* qXfer:btrace:read: decodes the trace, once, at offset 0; a raw
 * CoreSight document is described by raw_doc instead of held whole. */
static const char *build_btrace_doc(struct session *s, const char *key, const char *annex,
				    struct buf *doc)
{
	static char err[ETM_ERR_LEN];
	raw_doc.valid = false;
	return build_btrace(s, key, annex, doc, err, sizeof err);
}

static bool serve_raw_doc(struct session *s, const char *key, unsigned long long offset,
			  unsigned long long length, struct buf *reply)
{
	if (!raw_doc.valid || raw_doc.owner != s || strcmp(raw_doc.key, key) != 0)
		return false;
	raw_doc_serve(offset, length, reply);
	return true;
}

/* Chunks of one read must come from one decode: strict. */
static const struct xfer_object btrace_object = {
	.build = build_btrace_doc, .strict = true, .serve = serve_raw_doc,
};
static const struct xfer_object btrace_conf_object = {
	.build = build_btrace_conf, .strict = true,
};

bool btrace_xfer_args(const char *a, size_t n, char *annex, size_t annex_size,
		      const char **range, size_t *range_len, struct buf *reply)
{
	if (!btrace_available()) {
		buf_reset(reply);
		return false;
	}
	if (!xfer_split_annex(a, n, annex, annex_size, range, range_len)) {
		reply_error_msg(reply, "Bad annex.");
		return false;
	}
	return true;
}

/* qXfer:btrace:read and qXfer:btrace-conf:read (CONF) of the general thread. */
static void xfer_btrace_object(struct session *s, const char *a, size_t n, bool conf,
			       struct buf *reply)
{
	char annex[32], key[64];
	const char *range;
	size_t range_len;
	if (!btrace_xfer_args(a, n, annex, sizeof annex, &range, &range_len, reply))
		return;
	pid_t pid = 0, tid = 0;
	current_tid(s, &pid, &tid, reply);
	if (conf)
		snprintf(key, sizeof key, "btrace-conf:%d", (int)tid);
	else
		snprintf(key, sizeof key, "btrace:%s:%d", annex, (int)tid);
	xfer_cache_serve(s, key, range, range_len, conf ? &btrace_conf_object : &btrace_object,
			 annex, reply);
}

void handle_xfer_btrace(void *ctx, const char *a, size_t n, struct buf *reply)
{
	xfer_btrace_object(ctx, a, n, false, reply);
}

void handle_xfer_btrace_conf(void *ctx, const char *a, size_t n, struct buf *reply)
{
	xfer_btrace_object(ctx, a, n, true, reply);
}

/* ---- Qbtrace / Qbtrace-conf ------------------------------------------------- */

void handle_qbtrace(void *ctx, const char *a, size_t n, struct buf *reply)
{
	struct session *s = ctx;
	char op[32];
	if (!btrace_available()) {
		buf_reset(reply);
		return;
	}
	if (n >= sizeof op) {
		reply_error_msg(reply, "Bad Qbtrace operation.  Use bts, CoreSight, etm, or off.");
		return;
	}
	memcpy(op, a, n);
	op[n] = '\0';
	pid_t pid, tid;
	if (!current_tid(s, &pid, &tid, reply))
		return;
	struct bt_thread *t = find_bt(tid);
	xfer_cache_forget(s);
	if (!strcmp(op, "off")) {
		if (!t) {
			reply_error_msg(reply, "Branch tracing not enabled.");
			return;
		}
		stop_tracing(t);
		reply_ok(reply);
		return;
	}
	enum bt_format fmt;
	if (!strcmp(op, "bts"))
		fmt = BT_BTS;
	else if (!strcmp(op, "CoreSight") || !strcmp(op, "etm"))
		fmt = BT_CORESIGHT;
	else {
		reply_error_msg(reply, "Bad Qbtrace operation.  Use bts, CoreSight, etm, or off.");
		return;
	}
	if (t && t->auto_enabled) {
		/* traced since it appeared: gdb now asks for it */
		t->auto_enabled = false;
		t->fmt = fmt;
		reply_ok(reply);
		return;
	}
	if (t) {
		reply_error_msg(reply, "Btrace already enabled.");
		return;
	}
	char err[ETM_ERR_LEN];
	if (!start_tracing(pid, tid, fmt, pending_cfg(), err, sizeof err)) {
		reply_error_msg(reply, err);
		return;
	}
	reply_ok(reply);
}

/* The trace units a configuration must fit. */
static int check_against_hardware(const struct etm_config *cfg, char *err, size_t errlen)
{
	struct etm_cpu_regs *regs;
	size_t n = source_cpus(&regs);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		if (cfg->cpu < 0 || cfg->cpu == regs[i].cpu)
			rc = etm_config_check(cfg, &regs[i], err, errlen);
	if (rc == 0 && cfg->cpu >= 0) {
		bool found = false;
		for (size_t i = 0; i < n; i++)
			found |= regs[i].cpu == cfg->cpu;
		if (!found) {
			snprintf(err, errlen, "core=%d: no trace unit on that CPU.", cfg->cpu);
			rc = -1;
		}
	}
	free(regs);
	return rc;
}

/* "0x..." as gdbserver's strtoul(,16) takes it; at most UINT_MAX. */
static bool parse_size(const char *v, uint64_t *out)
{
	char *end;
	if (!*v || !isxdigit((unsigned char)(v[0] == '0' && (v[1] == 'x' || v[1] == 'X') ? v[2] : v[0])))
		return false;
	unsigned long long x = strtoull(v, &end, 16);
	if (*end || x > 0xffffffffull || x == 0)
		return false;
	*out = x;
	return true;
}

/* Apply NAME=VALUE of FORMAT to the pending configuration. */
int bt_apply_option(const char *format, const char *name, const char *value, char *err,
			size_t errlen)
{
	struct etm_config trial = *pending_cfg();
	if (!strcmp(format, "bts") || !strcmp(format, "etm")) {
		if (!strcmp(name, "size")) {
			if (!parse_size(value, &trial.buffer_size)) {
				snprintf(err, errlen, "Bad size value.");
				return -1;
			}
		} else if (!strcmp(format, "etm") && !strcmp(name, "sink")) {
			if (etm_config_set(&trial, name, value, err, errlen) < 0)
				return -1;
		} else {
			snprintf(err, errlen, "Bad Qbtrace configuration option.");
			return -1;
		}
	} else if (!strcmp(format, "CoreSight")) {
		if (etm_config_set(&trial, name, value, err, errlen) < 0) {
			if (!strcmp(err, "Bad Qbtrace configuration option."))
				snprintf(err, errlen, "Bad Qbtrace configuration option: %.64s.", name);
			return -1;
		}
	} else {
		snprintf(err, errlen, "Bad Qbtrace configuration option.");
		return -1;
	}
	/* A start address waits for its end address before the check. */
	if (!trial.range_open && !source->ops->read_blocks && check_against_hardware(&trial, err, errlen) < 0)
		return -1;
	pending = trial;
	return 0;
}

void handle_qbtrace_conf(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	if (!btrace_available()) {
		buf_reset(reply);
		return;
	}
	char *text = strndup(a, n), err[ETM_ERR_LEN];
	if (!text)
		abort();
	char *colon = strchr(text, ':'), *eq = colon ? strchr(colon + 1, '=') : NULL;
	if (!colon || !eq || memchr(a, '\0', n)) {
		reply_error_msg(reply, "Bad Qbtrace configuration option.");
		free(text);
		return;
	}
	*colon = *eq = '\0';
	if (bt_apply_option(text, colon + 1, eq + 1, err, sizeof err) < 0)
		reply_error_msg(reply, err);
	else
		reply_ok(reply);
	free(text);
}

