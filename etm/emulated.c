#include "etm/emulated.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "etm/etmv4_encoder.h"

#define EMU_DEFAULT_TRACE_ID 0x10
#define EMU_MIN_BUFFER 4096u
#define EMU_MAX_BUFFER (1ull << 30)
#define EMU_PAGE 4096u
#define EMU_CACHE_PAGES 16u

/* Code pages read through the server's callback: the tracer reads every
 * instruction it walks, a ptrace read each would cost too much. */
struct emu_page {
	uint64_t base;              /* page address, UINT64_MAX = empty */
	uint32_t valid;             /* bytes readable from base */
	uint8_t data[EMU_PAGE];
};

struct emu_thread {
	int tid;
	struct etm_config cfg;
	struct etmv4_tracer tr;
	struct cs_formatter fmt;
	struct buf frames;          /* formatter output, moved into the ring */
	/* The sink: a ring of CAP bytes of formatted frames; [head, tail) in
	 * absolute stream offsets is what the next read returns. */
	uint8_t *ring;
	uint64_t cap, head, tail;
	uint64_t *syncs;            /* absolute offsets of frames starting a sync */
	size_t n_syncs, cap_syncs, first_sync;
	bool gap;                   /* data was dropped since the last read */
	bool drop_until_sync;       /* dropping: the stream resumes at the next sync */
	uint64_t lost, total_lost;
	struct emu_page *cache;     /* EMU_CACHE_PAGES pages */
	struct etm_emulated *src;
};

struct etm_emulated {
	struct etm_source base;
	enum etm_emulated_isa isa;
	etm_emulated_read_fn read;
	void *ctx;
	bool recorded;              /* driven by rec (etm_emulated_recorded_new) */
	struct etm_recorder rec;
	char note[ETM_ERR_LEN];
	unsigned trace_id;          /* of the last enabled thread: TRCTRACEIDR */
	struct emu_thread **threads;
	size_t n_threads, cap_threads;
};

static const struct etm_source_ops emulated_ops;

static struct etm_emulated *to_emu(struct etm_source *s)
{
	return (struct etm_emulated *)s;
}

bool etm_source_is_emulated(const struct etm_source *src)
{
	return src && src->ops == &emulated_ops;
}

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q) {
		perror("csgdbserver: out of memory");
		abort();
	}
	return q;
}

static struct emu_thread *find(struct etm_emulated *e, int tid)
{
	for (size_t i = 0; i < e->n_threads; i++)
		if (e->threads[i]->tid == tid)
			return e->threads[i];
	return NULL;
}

/* ---- memory ------------------------------------------------------------------ */

static struct emu_page *page_of(struct emu_thread *t, uint64_t addr)
{
	uint64_t base = addr & ~(uint64_t)(EMU_PAGE - 1);
	struct emu_page *p = &t->cache[(base / EMU_PAGE) % EMU_CACHE_PAGES];
	if (p->base != base) {
		size_t got = t->src->read(t->src->ctx, t->tid, base, p->data, EMU_PAGE);
		if (got == 0) {
			p->base = UINT64_MAX;   /* unreadable: not cached, it may be mapped later */
			return NULL;
		}
		p->base = base;
		p->valid = got > EMU_PAGE ? EMU_PAGE : (uint32_t)got;
	}
	return p;
}

static uint32_t tracer_mem(void *ctx, uint64_t addr, uint32_t len, uint8_t *buf)
{
	struct emu_thread *t = ctx;
	uint32_t done = 0;
	while (done < len) {
		uint64_t a = addr + done;
		struct emu_page *p = page_of(t, a);
		uint32_t off = p ? (uint32_t)(a - p->base) : 0;
		if (!p || off >= p->valid) {
			/* Not (fully) cached: ask directly. */
			size_t got = t->src->read(t->src->ctx, t->tid, a, buf + done, len - done);
			return done + (uint32_t)(got > len - done ? len - done : got);
		}
		uint32_t n = p->valid - off;
		if (n > len - done)
			n = len - done;
		memcpy(buf + done, p->data + off, n);
		done += n;
	}
	return done;
}

static void cache_clear(struct emu_thread *t)
{
	for (unsigned k = 0; k < EMU_CACHE_PAGES; k++)
		t->cache[k].base = UINT64_MAX;
}

void etm_emulated_invalidate(struct etm_source *src, int tid, uint64_t addr, uint64_t len)
{
	struct etm_emulated *e = to_emu(src);
	uint64_t lo = addr & ~(uint64_t)(EMU_PAGE - 1);
	uint64_t hi = addr + len < addr ? UINT64_MAX : addr + len;
	for (size_t i = 0; i < e->n_threads; i++) {
		struct emu_thread *t = e->threads[i];
		if (tid >= 0 && t->tid != tid)
			continue;
		for (unsigned k = 0; k < EMU_CACHE_PAGES; k++)
			if (t->cache[k].base != UINT64_MAX && t->cache[k].base >= lo && t->cache[k].base < hi)
				t->cache[k].base = UINT64_MAX;
	}
}

/* ---- the sink ------------------------------------------------------------------ */

static void ring_put(struct emu_thread *t, const uint8_t *data, size_t len)
{
	for (size_t i = 0; i < len;) {
		size_t at = (size_t)(t->tail % t->cap);
		size_t n = len - i;
		if (n > t->cap - at)
			n = (size_t)(t->cap - at);
		memcpy(t->ring + at, data + i, n);
		t->tail += n;
		i += n;
	}
}

/* Drop everything held (the data after it does not start at a sync):
 * what comes next is lost until the next sync point. */
static void ring_drop_all(struct emu_thread *t)
{
	t->lost += t->tail - t->head;
	t->total_lost += t->tail - t->head;
	t->head = t->tail;
	t->gap = true;
	t->drop_until_sync = true;
	etmv4_tracer_force_sync(&t->tr);
}

/* Make room for LEN more bytes: drop the oldest data up to the first sync
 * point that leaves enough room, so what is kept starts at a sync. */
static void ring_make_room(struct emu_thread *t, uint64_t len)
{
	if (t->tail - t->head + len <= t->cap)
		return;
	uint64_t need = t->tail + len - t->cap;     /* the new head must be >= need */
	while (t->first_sync < t->n_syncs) {
		uint64_t s = t->syncs[t->first_sync];
		if (s >= need && s >= t->head) {
			t->lost += s - t->head;
			t->total_lost += s - t->head;
			t->head = s;
			t->gap = true;
			return;
		}
		t->first_sync++;
	}
	ring_drop_all(t);
}

static void add_sync(struct emu_thread *t, uint64_t off)
{
	t->drop_until_sync = false;
	if (t->first_sync > 0 && t->first_sync == t->n_syncs)
		t->first_sync = t->n_syncs = 0;
	if (t->first_sync > 64 && t->first_sync * 2 > t->n_syncs) {
		memmove(t->syncs, t->syncs + t->first_sync, (t->n_syncs - t->first_sync) * sizeof(*t->syncs));
		t->n_syncs -= t->first_sync;
		t->first_sync = 0;
	}
	if (t->n_syncs == t->cap_syncs) {
		t->cap_syncs = t->cap_syncs ? 2 * t->cap_syncs : 64;
		t->syncs = xrealloc(t->syncs, t->cap_syncs * sizeof(*t->syncs));
	}
	t->syncs[t->n_syncs++] = off;
}

/* Formatted frames into the ring. A piece that cannot be kept whole is
 * lost with everything before it: the ring never holds a hole a decoder
 * would not see. */
static void sink_frames(struct emu_thread *t)
{
	uint64_t len = t->frames.len;
	if (len && !t->drop_until_sync) {
		if (len <= t->cap)
			ring_make_room(t, len);
		else
			ring_drop_all(t);
	}
	if (t->drop_until_sync) {
		t->lost += len;
		t->total_lost += len;
		t->gap = true;
	} else {
		ring_put(t, (const uint8_t *)t->frames.data, (size_t)len);
	}
	buf_reset(&t->frames);
}

/* The tracer's packets through the formatter into the ring. A sync starts
 * a new frame, so dropping whole frames up to it keeps the rest aligned. */
static void drain(struct emu_thread *t)
{
	struct etmv4_tracer *tr = &t->tr;
	const uint8_t *p = (const uint8_t *)tr->out.data;
	size_t done = 0;
	for (size_t k = 0; k < tr->n_syncs; k++) {
		size_t s = tr->syncs[k];
		cs_formatter_put(&t->fmt, p + done, s - done, &t->frames);
		cs_formatter_flush(&t->fmt, &t->frames);
		sink_frames(t);
		add_sync(t, t->tail);
		done = s;
	}
	cs_formatter_put(&t->fmt, p + done, tr->out.len - done, &t->frames);
	sink_frames(t);
	buf_reset(&tr->out);
	tr->n_syncs = 0;
}

/* ---- the recorder's input -------------------------------------------------------- */

void etm_emulated_resume(struct etm_source *src, int tid, uint64_t pc)
{
	struct emu_thread *t = find(to_emu(src), tid);
	if (!t)
		return;
	uint64_t before = t->tr.st.pos;
	bool known = t->tr.st.pos_known;
	etmv4_tracer_resume(&t->tr, pc);
	if (!known || before != t->tr.st.pos)
		cache_clear(t);
}

void etm_emulated_stop(struct etm_source *src, int tid, uint64_t pc)
{
	struct emu_thread *t = find(to_emu(src), tid);
	if (!t)
		return;
	etmv4_tracer_advance(&t->tr, pc);
	if (t->tr.out.len >= 4096)
		drain(t);
}

void etm_emulated_branch(struct etm_source *src, int tid, uint64_t from, uint64_t to)
{
	struct emu_thread *t = find(to_emu(src), tid);
	if (!t)
		return;
	etmv4_tracer_branch(&t->tr, from, to);
	if (t->tr.out.len >= 4096)
		drain(t);
}

void etm_emulated_exception(struct etm_source *src, int tid, uint64_t ret, uint64_t to, unsigned type)
{
	struct emu_thread *t = find(to_emu(src), tid);
	if (!t)
		return;
	etmv4_tracer_exception(&t->tr, ret, to, type);
	if (t->tr.out.len >= 4096)
		drain(t);
}

int etm_emulated_stats(struct etm_source *src, int tid, struct etm_emulated_stats *out)
{
	memset(out, 0, sizeof(*out));
	struct emu_thread *t = find(to_emu(src), tid);
	if (!t)
		return -1;
	const struct etmv4_stats *s = &t->tr.stats;
	out->branches = s->branches;
	out->exceptions = s->exceptions;
	out->syscalls = s->syscalls;
	out->insns = s->insns;
	out->atoms = s->atoms;
	out->syncs = s->syncs;
	out->trace_on = s->trace_on;
	out->walk_failures = s->walk_failures;
	out->bytes = t->tail + t->frames.len;
	out->bytes_lost = t->total_lost;
	return 0;
}

/* ---- etm_source_ops --------------------------------------------------------------- */

static void thread_free(struct emu_thread *t)
{
	etmv4_tracer_free(&t->tr);
	buf_free(&t->frames);
	free(t->ring);
	free(t->syncs);
	free(t->cache);
	free(t);
}

static int emu_enable_unit(struct etm_source *s, int tid, const struct etm_config *cfg,
		      char *err, size_t errlen)
{
	struct etm_emulated *e = to_emu(s);
	if (find(e, tid))
		return etm_fail(err, errlen, "Btrace already enabled.");
	/* One unit, one trace ID: TRCTRACEIDR (cpu_regs) must describe every
	 * thread's frames. */
	unsigned id = cfg->trace_id ? cfg->trace_id : e->n_threads ? e->trace_id : EMU_DEFAULT_TRACE_ID;
	if (id < 1 || id > 0x6f)
		return etm_fail(err, errlen, "Trace ID 0x%x out of range (0x1-0x6f).", id);
	if (e->n_threads && id != e->trace_id)
		return etm_fail(err, errlen, "Trace ID 0x%x requested, but traced threads use 0x%x (one emulated unit, one ID).",
				id, e->trace_id);
	struct etm_cpu_regs regs;
	etmv4_emulated_regs(id, &regs);
	if (etm_config_check(cfg, &regs, err, errlen))
		return -1;
	if (cfg->cpu > 0)
		return etm_fail(err, errlen, "The emulated trace unit is CPU 0 (core=%d requested).", cfg->cpu);
	if (cfg->trace_kernel)
		return etm_fail(err, errlen, "The emulated trace unit traces user space only (kernel tracing needs trace hardware).");
	if (cfg->buffer_size < EMU_MIN_BUFFER || cfg->buffer_size > EMU_MAX_BUFFER)
		return etm_fail(err, errlen, "Buffer size 0x%" PRIx64 " out of range (0x%x-0x%llx).",
				cfg->buffer_size, EMU_MIN_BUFFER, EMU_MAX_BUFFER);

	struct emu_thread *t = calloc(1, sizeof(*t));
	if (!t)
		return etm_fail(err, errlen, "Out of memory.");
	t->tid = tid;
	t->src = e;
	t->cfg = *cfg;
	t->cfg.trace_id = id;
	t->cfg.context_id = true;
	t->cfg.cpu = cfg->cpu;
	snprintf(t->cfg.sink, sizeof t->cfg.sink, "emulated");
	t->cap = cfg->buffer_size & ~15ull;
	t->cfg.buffer_size = t->cap;
	t->ring = malloc((size_t)t->cap);
	t->cache = malloc(EMU_CACHE_PAGES * sizeof(*t->cache));
	if (!t->ring || !t->cache) {
		free(t->ring);
		free(t->cache);
		free(t);
		return etm_fail(err, errlen, "Out of memory for a 0x%" PRIx64 "-byte trace buffer.", cfg->buffer_size);
	}
	cache_clear(t);

	struct etmv4_tracer_config tc = {
		.aarch64 = e->isa == ETM_EMULATED_A64,
		.v8_3 = false,           /* decoders configure an Armv8.0 core */
		.context_id = (uint32_t)tid,
	};
	/* TRCSYNCPR: a power of two, 256..4096 bytes, at most a quarter of the
	 * buffer so a wrapped ring still holds sync points. */
	uint32_t period = 4096;
	while (period > 256 && period > t->cap / 4)
		period /= 2;
	tc.sync_period = period;
	for (unsigned i = 0; i < cfg->n_ranges; i++)
		tc.filter.include[tc.filter.n_include++] = cfg->ranges[i];
	for (unsigned i = 0; i < cfg->n_start; i++)
		tc.filter.start[tc.filter.n_start++] = cfg->start_addrs[i];
	for (unsigned i = 0; i < cfg->n_stop; i++)
		tc.filter.stop[tc.filter.n_stop++] = cfg->stop_addrs[i];
	if (cfg->context_pid && cfg->context_pid != (uint32_t)tid) {
		/* The context ID comparator never matches this thread: an
		 * empty include range keeps ViewInst off. */
		tc.filter.n_include = 1;
		tc.filter.include[0] = (struct etm_addr_range){0, 0};
	}
	etmv4_tracer_init(&t->tr, &tc, tracer_mem, t);
	cs_formatter_init(&t->fmt, (uint8_t)id);

	if (e->n_threads == e->cap_threads) {
		e->cap_threads = e->cap_threads ? 2 * e->cap_threads : 8;
		e->threads = xrealloc(e->threads, e->cap_threads * sizeof(*e->threads));
	}
	e->threads[e->n_threads++] = t;
	e->trace_id = id;
	return 0;
}

static int emu_read_unit(struct etm_source *s, int tid, struct etm_read *out,
			char *err, size_t errlen)
{
	struct emu_thread *t = find(to_emu(s), tid);
	if (!t)
		return etm_fail(err, errlen, "Btrace not enabled.");
	etmv4_tracer_flush(&t->tr);
	drain(t);
	/* What this read returns must decode on its own: pad the last frame,
	 * and start the next chunk with a sync. */
	if (cs_formatter_flush(&t->fmt, &t->frames))
		sink_frames(t);
	if (t->gap) {
		out->overflow = true;
		out->bytes_lost += t->lost;
	}
	if (t->tail > t->head) {
		size_t len = (size_t)(t->tail - t->head);
		size_t at = (size_t)(t->head % t->cap);
		if (at + len <= t->cap) {
			etm_read_add(out, t->ring + at, len, 0, false, t->gap, 0);
		} else {
			/* The ring wrapped: one chunk all the same, it is contiguous trace. */
			size_t first = (size_t)t->cap - at;
			struct etm_chunk *c = etm_read_add(out, t->ring + at, first, 0, false, t->gap, 0);
			buf_append(&out->data, t->ring, len - first);
			c->size = len;
		}
		etmv4_tracer_force_sync(&t->tr);
	}
	t->head = t->tail;
	t->first_sync = t->n_syncs = 0;
	/* Code may have changed while the thread was stopped (dlclose, JIT). */
	cache_clear(t);
	t->gap = false;
	t->lost = 0;
	return 0;
}

static int emu_disable_unit(struct etm_source *s, int tid, char *err, size_t errlen)
{
	struct etm_emulated *e = to_emu(s);
	for (size_t i = 0; i < e->n_threads; i++) {
		if (e->threads[i]->tid == tid) {
			thread_free(e->threads[i]);
			e->threads[i] = e->threads[--e->n_threads];
			return 0;
		}
	}
	return etm_fail(err, errlen, "Branch tracing not enabled.");
}

/* With a recorder, the unit follows it: recording starts with tracing,
 * the trace is read where the thread stands, and stops with it. */
static int emu_enable(struct etm_source *s, int tid, const struct etm_config *cfg,
		      char *err, size_t errlen)
{
	struct etm_emulated *e = to_emu(s);
	if (emu_enable_unit(s, tid, cfg, err, errlen) < 0)
		return -1;
	if (!e->recorded)
		return 0;
	/* The recorder's own ring only needs to be small (the unit keeps
	 * the configured size). */
	uint64_t pc;
	if (e->rec.start(e->rec.ctx, tid, 4096, &pc, err, errlen) < 0) {
		emu_disable_unit(s, tid, NULL, 0);
		return -1;
	}
	etm_emulated_resume(s, tid, pc);
	return 0;
}

static int emu_read_new(struct etm_source *s, int tid, struct etm_read *out,
			char *err, size_t errlen)
{
	struct etm_emulated *e = to_emu(s);
	uint64_t pc;
	/* Not-taken branches up to where it stopped go in first. */
	if (e->recorded && find(e, tid) && e->rec.where(e->rec.ctx, tid, &pc))
		etm_emulated_stop(s, tid, pc);
	return emu_read_unit(s, tid, out, err, errlen);
}

static int emu_disable(struct etm_source *s, int tid, char *err, size_t errlen)
{
	struct etm_emulated *e = to_emu(s);
	if (e->recorded)
		e->rec.stop(e->rec.ctx, tid);
	return emu_disable_unit(s, tid, err, errlen);
}

static void emu_describe(struct etm_source *s, struct buf *out)
{
	buf_printf(out, "Trace source: emulated ETMv4 (no trace hardware: %s; the software "
		   "branch recorder feeds an emulated ETMv4.2 unit)\n", to_emu(s)->note);
}

static int emu_conf(struct etm_source *s, int tid, struct etm_config *out, char *err, size_t errlen)
{
	struct emu_thread *t = find(to_emu(s), tid);
	if (!t)
		return etm_fail(err, errlen, "Btrace not enabled.");
	*out = t->cfg;
	return 0;
}

static int emu_cpu_regs(struct etm_source *s, int cpu, struct etm_cpu_regs *out,
			char *err, size_t errlen)
{
	struct etm_emulated *e = to_emu(s);
	if (cpu != 0)
		return etm_fail(err, errlen, "The emulated trace unit is CPU 0 (no CPU %d).", cpu);
	etmv4_emulated_regs(e->trace_id ? e->trace_id : EMU_DEFAULT_TRACE_ID, out);
	out->core_arch = e->isa == ETM_EMULATED_A64 ? ETM_CORE_V8 : ETM_CORE_V7;
	return 0;
}

static int emu_nr_cpus(struct etm_source *s)
{
	(void)s;
	return 1;
}

static int emu_sink(struct etm_source *s, struct etm_sink_info *out)
{
	(void)s;
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof out->name, "emulated");
	out->formatted = true;           /* 16-byte frames, as an ETR writes them */
	out->frame_aligned = true;
	out->reset_on_4x_sync = true;
	return 0;
}

static void emu_free(struct etm_source *s)
{
	struct etm_emulated *e = to_emu(s);
	for (size_t i = 0; i < e->n_threads; i++)
		thread_free(e->threads[i]);
	free(e->threads);
	free(e);
}

static const struct etm_source_ops emulated_ops = {
	.name = "emulated",
	.enable = emu_enable,
	.read_new = emu_read_new,
	.disable = emu_disable,
	.conf = emu_conf,
	.cpu_regs = emu_cpu_regs,
	.nr_cpus = emu_nr_cpus,
	.sink = emu_sink,
	.free = emu_free,
	.describe = emu_describe,
	.record_branch = etm_emulated_branch,
};

struct etm_source *etm_emulated_new(enum etm_emulated_isa isa, etm_emulated_read_fn read, void *ctx)
{
	struct etm_emulated *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->base.ops = &emulated_ops;
	e->isa = isa;
	e->read = read;
	e->ctx = ctx;
	return &e->base;
}

struct etm_source *etm_emulated_recorded_new(enum etm_emulated_isa isa, const struct etm_recorder *rec,
					     const char *note)
{
	struct etm_source *s = etm_emulated_new(isa, rec->read, rec->ctx);
	struct etm_emulated *e = s ? to_emu(s) : NULL;
	if (!e)
		return NULL;
	e->recorded = true;
	e->rec = *rec;
	snprintf(e->note, sizeof e->note, "%s", note);
	return s;
}

/* ---- snapshot writer ------------------------------------------------------------------ */

static int write_file(const char *dir, const char *name, const void *data, size_t len,
		      char *err, size_t errlen)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f)
		return etm_fail(err, errlen, "%s: %s", path, strerror(errno));
	bool ok = (len == 0 || fwrite(data, 1, len, f) == len);
	if (fclose(f) != 0)
		ok = false;
	if (!ok)
		return etm_fail(err, errlen, "%s: write failed.", path);
	return 0;
}

int etm_emulated_write_snapshot(const char *dir, const struct etm_cpu_regs *r, const char *core_name,
				const void *trace, size_t len, const struct etm_emulated_mem *mem,
				size_t nmem, char *err, size_t errlen)
{
	if (mkdir(dir, 0777) != 0 && errno != EEXIST)
		return etm_fail(err, errlen, "%s: %s", dir, strerror(errno));
	struct buf b = {0};
	int rc = 0;
	buf_puts(&b, "[snapshot]\nversion=1.0\n\n[device_list]\ndevice0=cpu_0.ini\ndevice1=etm_0.ini\n\n"
		     "[trace]\nmetadata=trace.ini\n");
	rc = write_file(dir, "snapshot.ini", b.data, b.len, err, errlen);
	buf_reset(&b);
	buf_printf(&b, "[device]\nname=cpu_0\nclass=core\ntype=%s\n\n[regs]\nPC(size:64)=0x%" PRIx64 "\n",
		   core_name, nmem ? mem[0].addr : 0);
	for (size_t i = 0; i < nmem && rc == 0; i++) {
		char name[64];
		snprintf(name, sizeof name, "mem_%zu.bin", i);
		buf_printf(&b, "\n[dump%zu]\nfile=%s\naddress=0x%" PRIx64 "\nlength=0x%zx\n",
			   i + 1, name, mem[i].addr, mem[i].len);
		rc = write_file(dir, name, mem[i].data, mem[i].len, err, errlen);
	}
	if (rc == 0)
		rc = write_file(dir, "cpu_0.ini", b.data, b.len, err, errlen);
	buf_reset(&b);
	buf_printf(&b, "[device]\nname=ETM_0\nclass=trace_source\ntype=ETM4\n\n[regs]\n"
		   "TRCCONFIGR(0x004)=0x%08X\nTRCTRACEIDR(0x010)=0x%08X\nTRCAUTHSTATUS(0x3EE)=0x%08X\n",
		   r->trcconfigr, r->trctraceidr, r->trcauthstatus);
	static const unsigned reg_no[14] = {0x078, 0x079, 0x07a, 0x07b, 0x07c, 0x07d, 0x07e,
					    0x07f, 0x060, 0x061, 0x062, 0x063, 0x064, 0x065};
	for (unsigned i = 0; i < 14; i++)
		buf_printf(&b, "TRCIDR%u(0x%03X)=0x%08X\n", i, reg_no[i], r->trcidr[i]);
	if (rc == 0)
		rc = write_file(dir, "etm_0.ini", b.data, b.len, err, errlen);
	buf_reset(&b);
	buf_puts(&b, "[trace_buffers]\nbuffers=buffer0\n\n[buffer0]\nname=ETB_0\nfile=trace.bin\nformat=coresight\n\n"
		     "[source_buffers]\nETM_0=ETB_0\n\n[core_trace_sources]\ncpu_0=ETM_0\n");
	if (rc == 0)
		rc = write_file(dir, "trace.ini", b.data, b.len, err, errlen);
	if (rc == 0)
		rc = write_file(dir, "trace.bin", trace, len, err, errlen);
	buf_free(&b);
	return rc;
}
