/* Branch tracing packets and monitor commands: see btrace.h.
 *
 * Each traced thread keeps a window of the newest decoded ranges (as much
 * as a trace buffer of its configured size holds: never a whole trace)
 * and where the last qXfer:btrace:read left off. Stock gdb gets BTS-style
 * <block> lists (format bts) with gdbserver's all/new/delta semantics; an
 * ETM-aware client gets the raw trace plus the ETM registers (format
 * CoreSight), its hex generated chunk by chunk as gdb reads it. */
#include "server/btrace.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etm/btrace_xml.h"
#include "etm/config.h"
#include "etm/perf.h"
#include "etm/emulated.h"
#include "etm/perfdata.h"
#include "etm/source.h"
#include "protocol/escape.h"
#include "protocol/packet.h"
#include "protocol/qxfer.h"
#include "server/replay.h"
#include "server/server.h"
#include "server/tracedec.h"
#include "server/swbtrace.h"
#include "arch/arch.h"

enum bt_format { BT_BTS, BT_CORESIGHT };

struct bt_thread {
	pid_t pid, tid;
	enum bt_format fmt;
	bool auto_enabled;          /* enabled by us when it appeared; gdb not told yet */
	struct etm_config cfg;
	struct trace_ranges ranges; /* live: the window decoded so far (replay: replay_window()) */
	struct buf raw;             /* live: raw trace for the CoreSight document */
	uint64_t raw_total;         /* live: trace bytes ever appended to RAW */
	uint64_t raw_mark;          /* RAW_TOTAL at the last read (CoreSight delta) */
	bool collected;             /* replay: the capture has been handed over */
	uint64_t delta_mark;        /* ranges already sent: trace_ranges_end() then */
	bool read_before;           /* an all/new/delta was answered since enabling */
	bool changed;               /* trace grew since the last read */
	bool overflow;              /* trace was lost since the last read */
	uint64_t bytes_lost;
	struct bt_thread *next;
};

static struct etm_source *source;     /* live trace source, or NULL */
/* No trace hardware: the bts format from single-step recording (swbtrace). */
static bool software;
/* No trace hardware on ARM: the software recorder feeds an emulated ETMv4
 * (etm/emulated.h) and everything downstream is the hardware path. */
static bool emulated;
static char source_note[256];         /* why there is none */
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
	bool from_replay;       /* bytes from replay_raw_read, else RAW */
	struct buf raw;
	uint64_t raw_len;
} raw_doc;

static void (*prev_thread_hook)(struct thread *t, bool added);
static struct bt_thread *find_bt(pid_t tid);
static void thread_hook(struct thread *t, bool added);

/* ---- set-up ------------------------------------------------------------- */

static struct etm_config *pending_cfg(void)
{
	if (!pending_init) {
		etm_config_init(&pending);
		pending_init = true;
	}
	return &pending;
}

/* Thread TID's memory for the encoder's walks, our breakpoints masked. */
static size_t emulated_read(void *ctx, int tid, uint64_t addr, void *buf, size_t len)
{
	(void)ctx;
	struct thread *th = find_thread(tid);
	ssize_t got = th ? target_read_memory(th->proc, addr, buf, len) : -1;
	return got > 0 ? (size_t)got : 0;
}

/* A PC as the emulated unit wants it: on arm, bit 0 set in Thumb state. */
static uint64_t emulated_pc(struct thread *th, uint64_t pc)
{
	if (strcmp(the_arch.name, "arm") != 0)
		return pc;
	uint8_t *regs = thread_regs(th);
	int cpsr = arch_regno(&the_regfile, "cpsr");
	if (regs && cpsr >= 0 && (arch_reg_get(&the_regfile, regs, cpsr) & (1u << 5)))
		pc |= 1;
	return pc;
}

static void emulated_branch(struct thread *th, uint64_t from, uint64_t to)
{
	if (emulated && source && find_bt(th->tid))
		etm_emulated_branch(source, th->tid, from, emulated_pc(th, to));
}

static void emulated_setup(void)
{
	enum etm_emulated_isa isa;
	if (!strcmp(the_arch.name, "aarch64"))
		isa = ETM_EMULATED_A64;
	else if (!strcmp(the_arch.name, "arm"))
		isa = ETM_EMULATED_A32;
	else
		return;
	source = etm_emulated_new(isa, emulated_read, NULL);
	if (!source)
		return;
	emulated = true;
	software = false;
	record_branch_hook = emulated_branch;
}

void btrace_setup(const char *perfdata)
{
	char err[ETM_ERR_LEN];
	if (perfdata) {
		source = etm_perfdata_source_new(perfdata, err, sizeof err);
		if (!source) {
			fprintf(stderr, "csgdbserver: --etm-perfdata %s: %s\n", perfdata, err);
			exit(1);
		}
	} else {
		source = etm_perf_source_new("/sys", "/proc", err, sizeof err);
		if (!source) {
			snprintf(source_note, sizeof source_note, "%s", err);
			software = (the_arch.can_single_step || the_arch.step_targets) &&
				   the_arch.insn_length;
			if (software && !getenv("CSGDBSERVER_NO_EMULATED_ETM"))
				emulated_setup();
		}
	}
	prev_thread_hook = target_thread_hook;
	target_thread_hook = thread_hook;
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
		if (source && !replay_active()) {
			char err[ETM_ERR_LEN];
			source->ops->disable(source, t->tid, err, sizeof err);
		}
		thread_free(t);
	}
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

static bool software_mode(void)
{
	return software && !source && !replay_active();
}

bool btrace_available(void)
{
	return source || replay_active() || software;
}

void btrace_qsupported(struct buf *reply)
{
	if (!btrace_available())
		return;
	if (software_mode()) {
		buf_puts(reply, ";Qbtrace:bts+;Qbtrace-conf:bts:size+;Qbtrace:off+;"
			 "qXfer:btrace:read+;qXfer:btrace-conf:read+");
		return;
	}
	buf_puts(reply, ";Qbtrace:bts+;Qbtrace-conf:bts:size+;Qbtrace:off+;qXfer:btrace:read+;"
		 "qXfer:btrace-conf:read+;Qbtrace:CoreSight+;Qbtrace:etm+;Qbtrace-conf:etm:size+;"
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

/* The thread btrace packets act on (gdb's general thread). */
static bool current_tid(struct session *s, pid_t *pid, pid_t *tid, struct buf *reply)
{
	if (replay_active()) {
		*pid = REPLAY_PID;
		*tid = REPLAY_TID;
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
	if (software_mode()) {
		struct thread *th = find_thread(tid);
		if (fmt != BT_BTS) {
			snprintf(err, errlen, "No CoreSight trace unit here: software branch "
				 "recording serves the bts format only.");
			return NULL;
		}
		/* gdb's default BTS buffer is 64 KiB. */
		uint64_t size = cfg->buffer_size ? cfg->buffer_size : 0x10000;
		if (!th || target_btrace_enable(th, size, err, errlen) < 0) {
			if (!th)
				snprintf(err, errlen, "No such thread.");
			return NULL;
		}
	} else if (!replay_active() && source->ops->enable(source, tid, cfg, err, errlen) < 0) {
		return NULL;
	} else if (emulated) {
		/* The recorder drives the emulated unit; its own ring only
		 * needs to be small (the unit keeps the configured size). */
		struct thread *th = find_thread(tid);
		if (!th || target_btrace_enable(th, 4096, err, errlen) < 0) {
			char derr[ETM_ERR_LEN];
			if (!th)
				snprintf(err, errlen, "No such thread.");
			source->ops->disable(source, tid, derr, sizeof derr);
			return NULL;
		}
		/* Where recording starts (a running thread, non-stop, was
		 * stopped for a moment to learn it and runs on). */
		etm_emulated_resume(source, tid, emulated_pc(th, th->bt->start_pc));
	}
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
	struct thread *th = software_mode() || emulated ? find_thread(t->tid) : NULL;
	if (th)
		target_btrace_disable(th);
	if (!replay_active() && source) {
		char err[ETM_ERR_LEN];
		source->ops->disable(source, t->tid, err, sizeof err);
	}
	forget_bt(t);
}

/* New threads of a traced process are traced from their first
 * instruction: per-thread perf events cannot inherit, and gdb enables
 * tracing only when it next hears of the thread. */
static void thread_hook(struct thread *th, bool added)
{
	if (prev_thread_hook)
		prev_thread_hook(th, added);
	struct bt_thread *t = find_bt(th->tid);
	if (!added) {
		if (t)
			stop_tracing(t);
		return;
	}
	if (t || !(source || software_mode()) || replay_active())
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

/* ---- collecting and decoding live trace ----------------------------------- */

/* /proc/PID/mem cached per mapping: OpenCSD asks a few bytes at a time. */
struct mem_cache {
	struct process *proc;
	struct { uint64_t start, end; uint8_t *data; } *maps;
	size_t n;
	bool maps_read;
};

#define MAX_CACHED_MAPPING (64u << 20)

static void mem_cache_load_maps(struct mem_cache *mc)
{
	char path[64], line[512];
	mc->maps_read = true;
	snprintf(path, sizeof path, "/proc/%d/maps", mc->proc->pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		unsigned long long start, end;
		char perms[8];
		if (sscanf(line, "%llx-%llx %7s", &start, &end, perms) != 3 || perms[0] != 'r' ||
		    perms[2] != 'x' || end - start > MAX_CACHED_MAPPING)
			continue;
		void *grown = realloc(mc->maps, (mc->n + 1) * sizeof *mc->maps);
		if (!grown)
			abort();
		mc->maps = grown;
		mc->maps[mc->n].start = start;
		mc->maps[mc->n].end = end;
		mc->maps[mc->n].data = NULL;
		mc->n++;
	}
	fclose(f);
}

static uint32_t mem_cache_read(void *ctx, uint64_t addr, uint32_t len, uint8_t *buf)
{
	struct mem_cache *mc = ctx;
	if (!mc->maps_read)
		mem_cache_load_maps(mc);
	for (size_t i = 0; i < mc->n; i++) {
		if (addr < mc->maps[i].start || addr >= mc->maps[i].end)
			continue;
		size_t size = (size_t)(mc->maps[i].end - mc->maps[i].start);
		if (!mc->maps[i].data) {
			uint8_t *data = malloc(size);
			if (!data)
				return 0;
			if (target_read_memory(mc->proc, mc->maps[i].start, data, size) != (ssize_t)size) {
				free(data);
				return 0;
			}
			mc->maps[i].data = data;
		}
		uint64_t left = mc->maps[i].end - addr;
		uint32_t take = left < len ? (uint32_t)left : len;
		memcpy(buf, mc->maps[i].data + (addr - mc->maps[i].start), take);
		return take;
	}
	return 0;
}

static void mem_cache_free(struct mem_cache *mc)
{
	for (size_t i = 0; i < mc->n; i++)
		free(mc->maps[i].data);
	free(mc->maps);
}

static void regs_to_unit(const struct etm_cpu_regs *r, struct tdec_unit *u)
{
	memset(u, 0, sizeof *u);
	u->cpu = r->cpu;
	u->protocol = r->arch == ETM_ARCH_ETMV3 ? TDEC_ETMV3 : r->arch == ETM_ARCH_PTM ? TDEC_PTM :
		      r->arch == ETM_ARCH_ETE ? TDEC_ETE : TDEC_ETMV4;
	u->aa64 = r->arch == ETM_ARCH_ETE || (r->arch == ETM_ARCH_ETMV4 && !strcmp(the_arch.name, "aarch64"));
	u->etmidr = r->etmidr;
	u->etmcr = r->etmcr;
	u->etmccer = r->etmccer;
	u->etmtraceidr = r->etmtraceidr;
	memcpy(u->trcidr, r->trcidr, sizeof u->trcidr);
	u->trcconfigr = r->trcconfigr;
	u->trctraceidr = r->trctraceidr;
	u->trcdevarch = r->trcdevarch;
}

static void unit_to_regs(const struct tdec_unit *u, struct etm_cpu_regs *r)
{
	memset(r, 0, sizeof *r);
	r->cpu = u->cpu;
	r->arch = u->protocol == TDEC_ETMV3 ? ETM_ARCH_ETMV3 : u->protocol == TDEC_PTM ? ETM_ARCH_PTM :
		  u->protocol == TDEC_ETE ? ETM_ARCH_ETE : ETM_ARCH_ETMV4;
	if (u->protocol == TDEC_ETMV3 || u->protocol == TDEC_PTM) {
		r->etmidr = u->etmidr;
		r->etmcr = u->etmcr;
		r->etmccer = u->etmccer;
		r->etmtraceidr = u->etmtraceidr;
		r->etmccr = u->etmccr;
		r->have = ETM_HAVE_ETMIDR | ETM_HAVE_ETMCCER | ETM_HAVE_TRACEID | ETM_HAVE_CONFIGR |
			  (u->have_etmccr ? ETM_HAVE_ETMCCR : 0);
	} else {
		memcpy(r->trcidr, u->trcidr, sizeof r->trcidr);
		r->have_trcidr = 0x3f07 | u->have_trcidr;
		r->trcconfigr = u->trcconfigr;
		r->trctraceidr = u->trctraceidr;
		r->trcdevarch = u->trcdevarch;
		r->have = ETM_HAVE_TRACEID | ETM_HAVE_CONFIGR | ETM_HAVE_DEVARCH;
	}
}

/* The registers of every CPU of the live source. */
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

/* Where a running thread (non-stop) is, without reading its registers
 * (ptrace cannot): the recorder's PC before its current step, else the
 * last instruction decoded. */
static bool running_pc(struct thread *th, const struct trace_ranges *tr, uint64_t *pc)
{
	if (th->bt) {
		*pc = th->bt_pc;
		return true;
	}
	if (!tr || !tr->n)
		return false;
	*pc = trace_range_last(&trace_ranges_first(tr)[tr->n - 1]);
	return true;
}

/* Pull what the source has for T, decode it, remember it. */
static int collect(struct bt_thread *t, char *err, size_t errlen)
{
	if (replay_active()) {
		/* Blocks need this thread's window decoded (again only if it
		 * is not the last one); the raw document needs no decode. */
		if (t->fmt == BT_BTS && !replay_window(t->cfg.buffer_size, err, errlen))
			return -1;
		if (!t->collected) {
			t->collected = true;
			t->changed = true;
		}
		return 0;
	}
	if (emulated) {
		/* Not-taken branches up to where it stopped go in first. */
		struct thread *th = find_thread(t->tid);
		uint64_t pc;
		uint8_t *regs = th && th->stopped ? thread_regs(th) : NULL;
		if (regs)
			etm_emulated_stop(source, t->tid, emulated_pc(th, the_arch.get_pc(regs)));
		else if (th && th->bt && running_pc(th, NULL, &pc))
			/* running: where its step began (Thumb: bit 0, as emulated_pc) */
			etm_emulated_stop(source, t->tid, pc | (!strcmp(the_arch.name, "arm") &&
								 th->bt_isa == DISASM_T32));
	}
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
		struct etm_cpu_regs *regs;
		size_t ncpu = source_cpus(&regs);
		struct tdec_unit *units = calloc(ncpu ? ncpu : 1, sizeof *units);
		if (!units)
			abort();
		for (size_t i = 0; i < ncpu; i++)
			regs_to_unit(&regs[i], &units[i]);
		struct mem_cache mc = {.proc = find_process(t->pid)};
		for (size_t c = 0; c < rd.n_chunks; c++) {
			const struct etm_chunk *ch = &rd.chunks[c];
			const uint8_t *bytes = (const uint8_t *)rd.data.data + ch->offset;
			buf_append(&t->raw, bytes, ch->size);
			t->raw_total += ch->size;
			if (t->fmt != BT_BTS || !mc.proc) {
				/* positions still count it: the window is in trace bytes */
				t->ranges.fed += ch->size;
				trace_ranges_trim(&t->ranges);
				continue;
			}
			/* Chunks are not contiguous: one decoder each. Raw
			 * (TRBE) data belongs to the chunk's CPU alone. */
			const struct tdec_unit *use = units;
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
			uint64_t fed = t->ranges.fed + ch->size;
			if (nuse && tdec_decode(use, nuse, !ch->raw, bytes, ch->size, mem_cache_read, &mc,
						&t->ranges, derr, sizeof derr) < 0 && debug_target)
				fprintf(stderr, "btrace: decode: %s\n", derr);
			t->ranges.fed = fed;
			trace_ranges_trim(&t->ranges);
		}
		mem_cache_free(&mc);
		free(units);
		free(regs);
		/* The raw document holds at most one buffer's worth. */
		if (t->raw.len > t->cfg.buffer_size && t->cfg.buffer_size)
			buf_consume(&t->raw, t->raw.len - (size_t)t->cfg.buffer_size);
	}
	etm_read_free(&rd);
	return 0;
}

/* The ranges T holds (replay: the capture's window, once collected). */
static const struct trace_ranges *held(struct bt_thread *t)
{
	static const struct trace_ranges none;
	if (!replay_active())
		return &t->ranges;
	char err[ETM_ERR_LEN];
	const struct trace_ranges *tr = t->collected ? replay_window(t->cfg.buffer_size, err, sizeof err) : NULL;
	return tr ? tr : &none;
}

static bool thread_pc(struct bt_thread *t, uint64_t *pc)
{
	if (replay_active()) {
		*pc = replay_pc();
		return true;
	}
	struct thread *th = find_thread(t->tid);
	if (th && !th->stopped)
		return running_pc(th, &t->ranges, pc);
	uint8_t *regs = th ? thread_regs(th) : NULL;
	if (!regs)
		return false;
	*pc = the_arch.get_pc(regs);
	return true;
}

static size_t read_memory(struct bt_thread *t, uint64_t addr, void *buf, size_t len)
{
	if (replay_active())
		return replay_read_memory(addr, buf, len);
	struct process *p = find_process(t->pid);
	ssize_t got = p ? target_read_memory(p, addr, buf, len) : -1;
	return got > 0 ? (size_t)got : 0;
}

/* ---- documents -------------------------------------------------------------- */

/* Ranges [from, n) as gdb blocks: contiguous ranges merge into one block
 * (gdb decodes a block sequentially up to its end anyway). */
static void blocks_doc(struct bt_thread *t, size_t from, uint64_t pc, enum btrace_read_type type,
		       struct buf *doc)
{
	const struct trace_ranges *tr = held(t);
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

static size_t cpus_for_doc(struct etm_cpu_regs **regs)
{
	if (replay_active()) {
		*regs = calloc(1, sizeof **regs);
		if (!*regs)
			abort();
		unit_to_regs(replay_unit(), *regs);
		return 1;
	}
	return source_cpus(regs);
}

static void sink_for_doc(struct etm_sink_info *sink)
{
	memset(sink, 0, sizeof *sink);
	if (replay_active()) {
		bool formatted;
		replay_raw_info(&formatted);
		sink->formatted = sink->frame_aligned = sink->reset_on_4x_sync = formatted;
		return;
	}
	source->ops->sink(source, sink);
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
		if (raw_doc.from_replay) {
			if (replay_raw_read(first, bytes, nbytes) < 0) {
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
	size_t ncpu = cpus_for_doc(&regs);
	struct etm_sink_info sink;
	sink_for_doc(&sink);
	bool formatted;
	/* live: the trace from byte FROM of what the thread holds */
	uint64_t raw_len = replay_active() ? replay_raw_info(&formatted) : t->raw.len - from;
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
	raw_doc.from_replay = replay_active();
	buf_reset(&raw_doc.raw);
	if (!raw_doc.from_replay)
		buf_append(&raw_doc.raw, t->raw.data + from, t->raw.len - from);
	raw_doc.raw_len = raw_len;
	raw_doc.owner = s;
	snprintf(raw_doc.key, sizeof raw_doc.key, "%s", key);
	raw_doc.valid = true;
	return NULL;
}

/* Build the qXfer:btrace:read document for ANNEX; this is the only place
 * where the read pointer moves (offset 0 of a read). */
/* Blocks from the software recorder of the target thread. */
static const char *software_blocks(struct bt_thread *t, enum btrace_read_type type, struct buf *doc)
{
	struct thread *th = find_thread(t->tid);
	if (!th || !th->bt)
		return "Btrace not enabled.";
	uint64_t pc;
	if (!th->stopped) {
		running_pc(th, NULL, &pc);
	} else {
		uint8_t *regs = thread_regs(th);
		if (!regs)
			return "Could not read the thread's PC.";
		pc = the_arch.get_pc(regs);
	}
	struct btrace_range *r = NULL;
	size_t n = 0;
	if (type == BTRACE_READ_DELTA) {
		/* Records lost to the ring since the last read (a first read:
		 * since recording began, as Linux's perf bts does): the client
		 * re-reads new or all, and knows. */
		if (!swbtrace_ranges(th->bt, true, pc, &r, &n))
			return "Overflow.";
		btrace_xml_blocks(doc, r, n, pc, BTRACE_READ_DELTA);
	} else if (type == BTRACE_READ_NEW && t->read_before &&
		   th->bt->total == th->bt->read_total && !th->bt->lost_since_read) {
		btrace_xml_blocks(doc, NULL, 0, pc, BTRACE_READ_NEW);
	} else {
		swbtrace_ranges(th->bt, false, pc, &r, &n);
		btrace_xml_blocks(doc, r, n, pc, BTRACE_READ_ALL);
	}
	free(r);
	t->read_before = true;
	return NULL;
}

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
	if (software_mode())
		return software_blocks(t, type, doc);
	if (collect(t, err, errlen) < 0)
		return err;
	if (t->fmt == BT_CORESIGHT) {
		size_t from = 0;
		if (type == BTRACE_READ_DELTA) {
			/* The trace since the last read, for clients that drain
			 * it while the target runs; bytes lost before they were
			 * read (an overflow, or more than the buffer size since
			 * then) make it fail: the client reads new and knows. */
			if (replay_active())
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
	uint64_t pc;
	if (!thread_pc(t, &pc))
		return "Could not read the thread's PC.";
	const struct trace_ranges *tr = held(t);
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


/* Chunked reads: the document is built at offset 0 (the trace is
 * decoded then, once) and kept in the session's qXfer cache, or for raw
 * trace described by raw_doc; later offsets are served from there. */
static void serve_cached(struct session *s, const char *key, const char *range, size_t range_len,
			 const char *annex, bool conf, struct buf *reply)
{
	unsigned long long offset, length;
	if (xfer_parse_range(range, range_len, &offset, &length) < 0) {
		reply_error(reply, 1);
		return;
	}
	if (offset != 0 && strcmp(s->xfer_key, key) != 0) {
		reply_error_msg(reply, "Bad offset: read the document from offset 0 first.");
		return;
	}
	if (offset == 0) {
		char err[ETM_ERR_LEN];
		const char *msg;
		buf_reset(&s->xfer);
		s->xfer_key[0] = '\0';
		raw_doc.valid = false;
		if (conf) {
			msg = NULL;
			pid_t pid, tid;
			struct buf dummy = BUF_INIT;
			if (!current_tid(s, &pid, &tid, &dummy))
				msg = "No such thread.";
			buf_free(&dummy);
			struct bt_thread *t = msg ? NULL : find_bt(tid);
			if (!msg && annex[0])
				msg = "Bad annex.";
			else if (!msg && !t)
				msg = "Btrace not enabled.";
			else if (!msg) {
				struct etm_config actual = t->cfg;
				struct thread *th = software_mode() ? find_thread(t->tid) : NULL;
				if (th && th->bt)
					actual.buffer_size = th->bt->size;
				else if (!replay_active() && source)
					source->ops->conf(source, t->tid, &actual, err, sizeof err);
				if (t->fmt == BT_BTS)
					btrace_xml_conf_bts(&s->xfer, actual.buffer_size);
				else
					btrace_xml_conf_etm(&s->xfer, &actual);
			}
		} else {
			msg = build_btrace(s, key, annex, &s->xfer, err, sizeof err);
		}
		if (msg) {
			buf_reset(&s->xfer);
			reply_error_msg(reply, msg);
			return;
		}
		snprintf(s->xfer_key, sizeof s->xfer_key, "%s", key);
	}
	if (raw_doc.valid && raw_doc.owner == s && !strcmp(raw_doc.key, key)) {
		raw_doc_serve(offset, length, reply);
		return;
	}
	if (xfer_reply(reply, s->xfer.data ? s->xfer.data : "", s->xfer.len, range, range_len) < 0)
		reply_error(reply, 1);
}

/* qXfer:btrace:read and qXfer:btrace-conf:read (CONF) of the general thread. */
static void xfer_btrace_object(struct session *s, const char *a, size_t n, bool conf,
			       struct buf *reply)
{
	char annex[32], key[64];
	const char *range;
	size_t range_len;
	if (!btrace_available()) {
		buf_reset(reply);
		return;
	}
	if (!xfer_split_annex(a, n, annex, sizeof annex, &range, &range_len)) {
		reply_error_msg(reply, "Bad annex.");
		return;
	}
	pid_t pid = 0, tid = 0;
	current_tid(s, &pid, &tid, reply);
	if (conf)
		snprintf(key, sizeof key, "btrace-conf:%d", (int)tid);
	else
		snprintf(key, sizeof key, "btrace:%s:%d", annex, (int)tid);
	serve_cached(s, key, range, range_len, annex, conf, reply);
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
	s->xfer_key[0] = '\0';
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
	size_t n = cpus_for_doc(&regs);
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
static int apply_option(const char *format, const char *name, const char *value, char *err,
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
	if (!trial.range_open && !software_mode() && check_against_hardware(&trial, err, errlen) < 0)
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
	if (apply_option(text, colon + 1, eq + 1, err, sizeof err) < 0)
		reply_error_msg(reply, err);
	else
		reply_ok(reply);
	free(text);
}

/* ---- monitor etm ------------------------------------------------------------ */

static struct bt_thread *monitor_thread(struct session *s, struct buf *out)
{
	pid_t pid, tid;
	struct buf dummy = BUF_INIT;
	bool ok = current_tid(s, &pid, &tid, &dummy);
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

int mon_etm_status(struct session *s, const char *args, struct buf *out)
{
	(void)s; (void)args;
	if (replay_active())
		replay_describe(out);
	else if (emulated)
		buf_printf(out, "Trace source: emulated ETMv4 (no trace hardware: %s; the software "
			   "branch recorder feeds an emulated ETMv4.2 unit)\n", source_note);
	else if (source)
		buf_printf(out, "Trace source: %s\n", source->ops->name);
	else {
		buf_printf(out, "No trace source: %s\n", source_note[0] ? source_note : "none configured");
		return 0;
	}
	unsigned n = 0;
	for (struct bt_thread *t = threads; t; t = t->next, n++) {
		const struct trace_ranges *tr = held(t);
		buf_printf(out, "Thread %d: tracing, format %s%s, %zu ranges / %" PRIu64
			   " instructions held, %u gaps, %u decoder errors%s%s, %zu raw bytes kept\n",
			   t->tid, t->fmt == BT_BTS ? "bts (decoded blocks)" : "CoreSight (raw)",
			   t->auto_enabled ? " (traced since it appeared)" : "", tr->n, tr->ninsns,
			   tr->ngaps, tr->nerrors, tr->nerrors ? ": " : "", tr->first_error,
			   replay_active() ? (size_t)0 : t->raw.len);
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
		buf_printf(out, "No trace source: %s\n", source_note[0] ? source_note : "none configured");
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
		if (apply_option("CoreSight", tok, eq + 1, err, sizeof err) < 0) {
			buf_printf(out, "%s=%s: %s\n", tok, eq + 1, err);
			free(copy);
			return -1;
		}
	}
	free(copy);
	struct buf doc = BUF_INIT;
	btrace_xml_conf_etm(&doc, pending_cfg());
	buf_puts(out, "Configuration for threads enabled from now on:\n");
	buf_append(out, doc.data, doc.len);
	buf_free(&doc);
	return 0;
}

/* Length of the instruction at ADDR (Thumb: 2 or 4 by its first halfword). */
static unsigned insn_len(struct bt_thread *t, const struct trace_range *r, uint64_t addr)
{
	if (r->isa != TDEC_ISA_THUMB)
		return 4;
	uint8_t hw[2];
	if (read_memory(t, addr, hw, 2) != 2)
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

int mon_etm_insn_history(struct session *s, const char *args, struct buf *out)
{
	struct bt_thread *t = monitor_thread(s, out);
	if (!t)
		return -1;
	const struct trace_ranges *tr = held(t);
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
		if ((r[i].flags & TDEC_GAP_BEFORE) && num + 1 >= from && num > 0)
			buf_puts(out, "[trace gap]\n");
		if ((r[i].flags & TDEC_EXC_BEFORE) && num + 1 >= from && num > 0)
			buf_puts(out, "[exception]\n");
		uint64_t addr = r[i].begin, last = trace_range_last(&r[i]);
		for (uint32_t k = 0; k < r[i].ninsns && num < to; k++) {
			num++;
			bool is_last = k + 1 == r[i].ninsns || addr >= last;
			if (num >= from) {
				buf_printf(out, "%" PRIu64 "\t0x%" PRIx64 "\t%s", num, addr, tdec_isa_name(r[i].isa));
				if (is_last && r[i].cls != TDEC_OTHER)
					buf_printf(out, "\t%s%s", tdec_class_name(r[i].cls),
						   r[i].flags & TDEC_TAKEN ? "" : " (not taken)");
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
	struct bt_thread *t = monitor_thread(s, out);
	if (!t)
		return -1;
	const struct trace_ranges *tr = held(t);
	size_t n = tr->n;
	const struct trace_range *r = trace_ranges_first(tr);
	struct segment *seg = NULL;
	size_t nseg = 0, cap = 0;
	int level = 0;
	uint64_t num = 0;
	bool new_seg = true, gap = false;
	for (size_t i = 0; i < n; i++) {
		if (r[i].flags & TDEC_GAP_BEFORE) {
			new_seg = gap = true;
		} else if (r[i].flags & TDEC_EXC_BEFORE) {
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
		if (r[i].flags & TDEC_TAKEN) {
			if (r[i].cls == TDEC_CALL) {
				level++;
				new_seg = true;
			} else if (r[i].cls == TDEC_RETURN || r[i].cls == TDEC_EXC_RETURN) {
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
		const char *name = replay_active() ? replay_symbol(g->start_addr) : NULL;
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
