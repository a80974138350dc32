#include "etm/perf.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/file.h"
#include "etm/auxring.h"

#define DATA_RING_PAGES 8            /* record ring: side-band records only */
#define ATTR_SIZE_VER8 136           /* adds config3 (not in 6.1 headers) */
#define ATTR_CONFIG3_OFFSET 128


struct perf_thread {
	int tid;
	int fd;
	void *base;                  /* user page + record ring */
	size_t base_len;
	void *aux;
	size_t aux_len;
	struct auxring ring;
	struct etm_config cfg;       /* with the obtained buffer size */
};

struct perf_source {
	struct etm_source base;
	struct etm_pmu pmu;
	struct etm_kernel_env env;
	char proc_root[256];
	struct perf_thread *threads;
	size_t n_threads, cap_threads;
	struct etm_config cfg;       /* last enabled configuration */
	uint64_t attr_config[4];
	bool have_cfg;
	bool saw_raw, saw_formatted;
	int16_t trace_id[AUXRING_MAX_CPUS];
};

static struct perf_source *to_perf(struct etm_source *src)
{
	return (struct perf_source *)src;
}

static struct perf_thread *find_thread(struct perf_source *ps, int tid)
{
	for (size_t i = 0; i < ps->n_threads; i++)
		if (ps->threads[i].tid == tid)
			return &ps->threads[i];
	return NULL;
}

uint64_t etm_perf_aux_size(uint64_t requested, uint64_t page_size)
{
	uint64_t size = page_size;
	while (size < requested && size < (1ull << 40))
		size <<= 1;
	return size;
}

void etm_perf_view(const void *page_ptr, const void *aux, struct auxring_view *v)
{
	const struct perf_event_mmap_page *pg = page_ptr;
	/* READ_ONCE + smp_rmb() of the ABI comment in perf_event.h. */
	v->data_head = __atomic_load_n(&pg->data_head, __ATOMIC_ACQUIRE);
	v->aux_head = __atomic_load_n(&pg->aux_head, __ATOMIC_ACQUIRE);
	v->data_tail = pg->data_tail;
	v->aux_tail = pg->aux_tail;
	v->data = (const uint8_t *)page_ptr + pg->data_offset;
	v->data_size = pg->data_size;
	v->aux = aux;
	v->aux_size = pg->aux_size;
}

void etm_perf_commit(void *page_ptr, uint64_t data_tail, uint64_t aux_tail, bool write_aux)
{
	struct perf_event_mmap_page *pg = page_ptr;
	/* smp_mb() then tail: the kernel may reuse the space afterwards. */
	__atomic_store_n(&pg->data_tail, data_tail, __ATOMIC_RELEASE);
	if (write_aux)
		__atomic_store_n(&pg->aux_tail, aux_tail, __ATOMIC_RELEASE);
}

/* ---- address filters ---------------------------------------------------- */

struct mapping {
	uint64_t start, end, pgoff;
	const char *path;
	size_t path_len;
};

/* Find the file mapping of MAPS holding ADDR. */
static bool find_mapping(const char *maps, uint64_t addr, struct mapping *m)
{
	const char *line = maps;
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		unsigned long long s, e, off;
		char perms[8];
		int n = 0;
		if (sscanf(line, "%llx-%llx %7s %llx %*s %*s%n", &s, &e, perms, &off, &n) == 4 &&
		    addr >= s && addr < e) {
			const char *p = line + n;
			const char *stop = nl ? nl : p + strlen(p);
			while (p < stop && *p == ' ')
				p++;
			if (p < stop && *p == '/') {
				m->start = s;
				m->end = e;
				m->pgoff = off;
				m->path = p;
				m->path_len = (size_t)(stop - p);
				return true;
			}
			return false;
		}
		line = nl ? nl + 1 : NULL;
	}
	return false;
}

static int filter_addr(const char *maps, uint64_t addr, bool kernel_ok, struct mapping *m,
		       char *err, size_t errlen)
{
	if (find_mapping(maps, addr, m)) {
		for (size_t i = 0; i < m->path_len; i++)
			if (m->path[i] == ' ' || m->path[i] == ',')
				return etm_fail(err, errlen, "Mapping path of 0x%" PRIx64 " has a space or comma: the kernel's filter syntax cannot name it.", addr);
		return 0;
	}
	if (kernel_ok) {
		m->path = NULL;
		return 0;
	}
	return etm_fail(err, errlen, "Address 0x%" PRIx64 " is not in a file mapping of the traced process.", addr);
}

static void put_filter(struct buf *out, const char *kind, const struct mapping *m,
		       uint64_t addr, uint64_t size, bool with_size)
{
	if (out->len)
		buf_putc(out, ' ');
	uint64_t where = m->path ? addr - m->start + m->pgoff : addr;
	buf_printf(out, "%s 0x%" PRIx64, kind, where);
	if (with_size)
		buf_printf(out, "/0x%" PRIx64, size);
	if (m->path) {
		buf_putc(out, '@');
		buf_append(out, m->path, m->path_len);
	}
}

int etm_perf_filter_string(const struct etm_config *cfg, const char *maps_text,
			   struct buf *out, char *err, size_t errlen)
{
	struct mapping m, m2;
	buf_reset(out);
	if (!maps_text)
		maps_text = "";
	for (unsigned i = 0; i < cfg->n_ranges; i++) {
		const struct etm_addr_range *r = &cfg->ranges[i];
		if (filter_addr(maps_text, r->start, cfg->trace_kernel, &m, err, errlen) ||
		    filter_addr(maps_text, r->end - 1, cfg->trace_kernel, &m2, err, errlen))
			return -1;
		if ((m.path == NULL) != (m2.path == NULL) || (m.path && m.start != m2.start))
			return etm_fail(err, errlen, "Address range 0x%" PRIx64 "-0x%" PRIx64 " spans several mappings.", r->start, r->end);
		put_filter(out, "filter", &m, r->start, r->end - r->start, true);
	}
	for (unsigned i = 0; i < cfg->n_start; i++) {
		if (filter_addr(maps_text, cfg->start_addrs[i], cfg->trace_kernel, &m, err, errlen))
			return -1;
		put_filter(out, "start", &m, cfg->start_addrs[i], 0, false);
	}
	for (unsigned i = 0; i < cfg->n_stop; i++) {
		if (filter_addr(maps_text, cfg->stop_addrs[i], cfg->trace_kernel, &m, err, errlen))
			return -1;
		put_filter(out, "stop", &m, cfg->stop_addrs[i], 0, false);
	}
	return 0;
}

/* ---- the source ----------------------------------------------------------- */

static unsigned predicted_trace_id(const struct perf_source *ps, const struct etm_cpu_regs *r)
{
	if (r->cpu >= 0 && r->cpu < AUXRING_MAX_CPUS && ps->trace_id[r->cpu] >= 0)
		return (unsigned)ps->trace_id[r->cpu];
	if (r->have & ETM_HAVE_TRACEID)
		return (r->unit == ETM_UNIT_ETMV3 || r->unit == ETM_UNIT_PTM ? r->etmtraceidr : r->trctraceidr) & 0x7f;
	return etm_legacy_trace_id(r->cpu);
}

static int check_config(struct perf_source *ps, const struct etm_config *cfg, uint64_t attr_config[4],
			char *err, size_t errlen)
{
	uint32_t sink_hash = 0;
	if (cfg->cpu >= 0 && !etm_pmu_cpu(&ps->pmu, cfg->cpu))
		return etm_fail(err, errlen, "CPU %d has no trace unit.", cfg->cpu);
	if (cfg->sink[0] && etm_pmu_sink_hash(&ps->pmu, cfg->sink, &sink_hash, err, errlen))
		return -1;
	if (ps->pmu.nr_addr_filters >= 0 &&
	    cfg->n_ranges + cfg->n_start + cfg->n_stop > (unsigned)ps->pmu.nr_addr_filters)
		return etm_fail(err, errlen, "%u address filters requested but the PMU takes %d (nr_addr_filters).",
			    cfg->n_ranges + cfg->n_start + cfg->n_stop, ps->pmu.nr_addr_filters);
	if (etm_perf_attr_config(cfg, &ps->pmu.formats, sink_hash, attr_config, err, errlen))
		return -1;
	for (unsigned i = 0; i < ps->pmu.n_cpus; i++) {
		const struct etm_cpu_regs *r = &ps->pmu.cpus[i];
		uint32_t reg;
		if (cfg->cpu >= 0 && r->cpu != cfg->cpu)
			continue;
		if (etm_config_check(cfg, r, err, errlen))
			return -1;
		int rc = (r->unit == ETM_UNIT_ETMV3 || r->unit == ETM_UNIT_PTM)
			 ? etm3_etmcr(attr_config, r, &ps->env, &reg, err, errlen)
			 : etm4_trcconfigr(attr_config, &ps->pmu.formats, r, &ps->env, &reg, err, errlen);
		if (rc)
			return -1;
	}
	if (cfg->trace_id) {
		/* The driver allocates trace IDs; we can only confirm one. */
		if (cfg->cpu < 0)
			return etm_fail(err, errlen, "The perf driver assigns trace IDs per CPU: id= needs core=.");
		unsigned id = predicted_trace_id(ps, etm_pmu_cpu(&ps->pmu, cfg->cpu));
		if (id != cfg->trace_id)
			return etm_fail(err, errlen, "The perf driver assigns trace ID 0x%x to CPU %d; 0x%x cannot be requested.",
				    id, cfg->cpu, cfg->trace_id);
	}
	return 0;
}

static int perf_open_errno(int e, char *err, size_t errlen)
{
	switch (e) {
	case EACCES:
	case EPERM:
		return etm_fail(err, errlen, "perf_event_open: %s (kernel.perf_event_paranoid, or ptrace access to the thread).", strerror(e));
	case EBUSY:
		return etm_fail(err, errlen, "perf_event_open: %s (another cs_etm session, e.g. a system-wide perf record, owns the ETMs).", strerror(e));
	default:
		return etm_fail(err, errlen, "perf_event_open: %s.", strerror(e));
	}
}

static void thread_close(struct perf_thread *t)
{
	if (t->aux)
		munmap(t->aux, t->aux_len);
	if (t->base)
		munmap(t->base, t->base_len);
	if (t->fd >= 0)
		close(t->fd);
	t->aux = t->base = NULL;
	t->fd = -1;
}

static int perf_enable(struct etm_source *src, int tid, const struct etm_config *cfg,
		       char *err, size_t errlen)
{
	struct perf_source *ps = to_perf(src);
	uint64_t attr_config[4];
	if (find_thread(ps, tid))
		return etm_fail(err, errlen, "Btrace already enabled.");
	if (check_config(ps, cfg, attr_config, err, errlen))
		return -1;
	if (cfg->context_pid) {
		char path[300];
		struct buf status = BUF_INIT;
		snprintf(path, sizeof(path), "%s/%d/status", ps->proc_root, tid);
		int tgid = -1;
		if (!file_read(path, 1u << 20, &status, NULL, 0)) {
			const char *p = strstr(status.data ? status.data : "", "\nTgid:");
			if (p)
				tgid = atoi(p + 6);
		}
		buf_free(&status);
		if (tgid != (int)cfg->context_pid)
			return etm_fail(err, errlen, "filter:context=0x%x is not the process of thread %d: a per-thread perf event traces only that thread.",
				    cfg->context_pid, tid);
	}

	union { struct perf_event_attr a; uint8_t bytes[ATTR_SIZE_VER8]; } attr;
	memset(&attr, 0, sizeof(attr));
	attr.a.type = ps->pmu.type;
	attr.a.size = attr_config[3] ? ATTR_SIZE_VER8 : sizeof(struct perf_event_attr);
	attr.a.config = attr_config[0];
	attr.a.config1 = attr_config[1];
	attr.a.config2 = attr_config[2];
	memcpy(attr.bytes + ATTR_CONFIG3_OFFSET, &attr_config[3], 8);
	attr.a.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU;
	attr.a.sample_id_all = 1;
	attr.a.disabled = 1;
	attr.a.exclude_kernel = !cfg->trace_kernel;
	attr.a.exclude_hv = 1;

	struct perf_thread t = { .tid = tid, .fd = -1 };
	t.fd = (int)syscall(SYS_perf_event_open, &attr.a, tid, cfg->cpu, -1, PERF_FLAG_FD_CLOEXEC);
	if (t.fd < 0)
		return perf_open_errno(errno, err, errlen);

	long page = sysconf(_SC_PAGESIZE);
	t.base_len = (size_t)page * (1 + DATA_RING_PAGES);
	t.base = mmap(NULL, t.base_len, PROT_READ | PROT_WRITE, MAP_SHARED, t.fd, 0);
	if (t.base == MAP_FAILED) {
		t.base = NULL;
		etm_fail(err, errlen, "mmap of the perf record ring: %s.", strerror(errno));
		goto bad;
	}
	/* The AUX area: halve until the mlock limit lets it through. */
	int prot = PROT_READ | (cfg->mode == ETM_MODE_SNAPSHOT ? 0 : PROT_WRITE);
	struct perf_event_mmap_page *pg = t.base;
	uint64_t size = etm_perf_aux_size(cfg->buffer_size, (uint64_t)page);
	for (;;) {
		pg->aux_offset = t.base_len;
		pg->aux_size = size;
		t.aux = mmap(NULL, (size_t)size, prot, MAP_SHARED, t.fd, (off_t)t.base_len);
		if (t.aux != MAP_FAILED)
			break;
		t.aux = NULL;
		if ((errno != EPERM && errno != ENOMEM) || size <= (uint64_t)page) {
			etm_fail(err, errlen, "mmap of the AUX area (0x%" PRIx64 " bytes): %s.", size, strerror(errno));
			goto bad;
		}
		size >>= 1;
	}
	t.aux_len = (size_t)size;

	if (cfg->n_ranges || cfg->n_start || cfg->n_stop) {
		char path[300];
		struct buf maps = BUF_INIT, filter = BUF_INIT;
		snprintf(path, sizeof(path), "%s/%d/maps", ps->proc_root, tid);
		int rc = file_read(path, 64u << 20, &maps, NULL, 0);
		if (rc)
			etm_fail(err, errlen, "%s: %s.", path, strerror(errno));
		else
			rc = etm_perf_filter_string(cfg, maps.data, &filter, err, errlen);
		if (!rc && ioctl(t.fd, PERF_EVENT_IOC_SET_FILTER, filter.data) < 0)
			rc = etm_fail(err, errlen, "Address filter \"%s\" refused: %s.", filter.data, strerror(errno));
		buf_free(&maps);
		buf_free(&filter);
		if (rc)
			goto bad;
	}
	if (ioctl(t.fd, PERF_EVENT_IOC_ENABLE, 0) < 0) {
		etm_fail(err, errlen, "PERF_EVENT_IOC_ENABLE: %s.", strerror(errno));
		goto bad;
	}
	auxring_init(&t.ring, attr.a.sample_type, true, cfg->mode == ETM_MODE_SNAPSHOT);
	t.cfg = *cfg;
	t.cfg.buffer_size = size;

	if (ps->n_threads == ps->cap_threads) {
		size_t cap = ps->cap_threads ? ps->cap_threads * 2 : 4;
		struct perf_thread *p = realloc(ps->threads, cap * sizeof(*p));
		if (!p) {
			etm_fail(err, errlen, "out of memory");
			goto bad;
		}
		ps->threads = p;
		ps->cap_threads = cap;
	}
	ps->threads[ps->n_threads++] = t;
	ps->cfg = t.cfg;
	memcpy(ps->attr_config, attr_config, sizeof(attr_config));
	ps->have_cfg = true;
	return 0;
bad:
	thread_close(&t);
	return -1;
}

static int perf_read_new(struct etm_source *src, int tid, struct etm_read *out,
			 char *err, size_t errlen)
{
	struct perf_source *ps = to_perf(src);
	struct perf_thread *t = find_thread(ps, tid);
	if (!t)
		return etm_fail(err, errlen, "Btrace not enabled.");
	struct auxring_view v;
	uint64_t data_tail, aux_tail;
	etm_perf_view(t->base, t->aux, &v);
	size_t first = out->n_chunks;
	int rc = auxring_read(&t->ring, &v, out, &data_tail, &aux_tail, err, errlen);
	etm_perf_commit(t->base, data_tail, aux_tail, !t->ring.overwrite);
	for (size_t i = first; i < out->n_chunks; i++) {
		if (out->chunks[i].raw)
			ps->saw_raw = true;
		else
			ps->saw_formatted = true;
	}
	for (int c = 0; c < AUXRING_MAX_CPUS; c++)
		if (t->ring.trace_id[c] >= 0)
			ps->trace_id[c] = t->ring.trace_id[c];
	/* A TRUNCATED record disabled the event (perf_aux_output_end sets
	 * pending_disable); the data is out, so start again. */
	if (out->truncated && ioctl(t->fd, PERF_EVENT_IOC_ENABLE, 0) < 0 && !rc)
		rc = etm_fail(err, errlen, "re-enable after truncation: %s.", strerror(errno));
	return rc;
}

static int perf_disable(struct etm_source *src, int tid, char *err, size_t errlen)
{
	struct perf_source *ps = to_perf(src);
	struct perf_thread *t = find_thread(ps, tid);
	if (!t)
		return etm_fail(err, errlen, "Branch tracing not enabled.");
	int rc = 0;
	if (ioctl(t->fd, PERF_EVENT_IOC_DISABLE, 0) < 0 && errno != ESRCH)
		rc = etm_fail(err, errlen, "Could not disable branch tracing: %s.", strerror(errno));
	thread_close(t);
	*t = ps->threads[--ps->n_threads];
	return rc;
}

static int perf_conf(struct etm_source *src, int tid, struct etm_config *out,
		     char *err, size_t errlen)
{
	struct perf_thread *t = find_thread(to_perf(src), tid);
	if (!t)
		return etm_fail(err, errlen, "Btrace not enabled.");
	*out = t->cfg;
	return 0;
}

static int perf_cpu_regs(struct etm_source *src, int cpu, struct etm_cpu_regs *out,
			 char *err, size_t errlen)
{
	struct perf_source *ps = to_perf(src);
	const struct etm_cpu_regs *r = etm_pmu_cpu(&ps->pmu, cpu);
	if (!r)
		return etm_fail(err, errlen, "CPU %d has no trace unit.", cpu);
	*out = *r;
	uint64_t zero[4] = { 0 };
	const uint64_t *ac = ps->have_cfg ? ps->attr_config : zero;
	unsigned id = predicted_trace_id(ps, r);
	if (r->unit == ETM_UNIT_ETMV3 || r->unit == ETM_UNIT_PTM) {
		if (etm3_etmcr(ac, r, &ps->env, &out->etmcr, err, errlen))
			return -1;
		out->etmtraceidr = id;
	} else {
		if (etm4_trcconfigr(ac, &ps->pmu.formats, r, &ps->env, &out->trcconfigr, err, errlen))
			return -1;
		out->trctraceidr = id;
	}
	out->have |= ETM_HAVE_CONFIGR | ETM_HAVE_TRACEID;
	out->core_arch = etm_host_core_arch(out->unit);
	return 0;
}

static int perf_nr_cpus(struct etm_source *src)
{
	struct perf_source *ps = to_perf(src);
	return ps->pmu.n_cpus ? ps->pmu.cpus[ps->pmu.n_cpus - 1].cpu + 1 : 0;
}

static int perf_sink(struct etm_source *src, struct etm_sink_info *out)
{
	struct perf_source *ps = to_perf(src);
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", ps->cfg.sink);
	bool raw;
	if (ps->saw_raw || ps->saw_formatted) {
		raw = ps->saw_raw;   /* the AUX records' format flag is authoritative */
	} else if (ps->cfg.sink[0]) {
		raw = etm_sink_is_raw(ps->cfg.sink);
	} else {
		/* Default sink: the driver prefers a per-CPU TRBE when there is one. */
		raw = false;
		for (unsigned i = 0; i < ps->pmu.n_sinks; i++)
			raw |= etm_sink_is_raw(ps->pmu.sinks[i].name);
	}
	out->formatted = !raw;
	/* What perf's decoder sets for ETF/ETR memory: aligned frames, reset on
	 * the 4x FSYNC barrier the ETR driver writes after a wrap. */
	out->frame_aligned = !raw;
	out->reset_on_4x_sync = !raw;
	return 0;
}

static void perf_free(struct etm_source *src)
{
	struct perf_source *ps = to_perf(src);
	for (size_t i = 0; i < ps->n_threads; i++)
		thread_close(&ps->threads[i]);
	free(ps->threads);
	etm_pmu_free(&ps->pmu);
	free(ps);
}

static void perf_describe(struct etm_source *src, struct buf *out)
{
	buf_printf(out, "Trace source: %s\n", src->ops->name);
}

static const struct etm_source_ops perf_ops = {
	.name = "perf cs_etm",
	.enable = perf_enable,
	.read_new = perf_read_new,
	.disable = perf_disable,
	.conf = perf_conf,
	.cpu_regs = perf_cpu_regs,
	.nr_cpus = perf_nr_cpus,
	.sink = perf_sink,
	.free = perf_free,
	.describe = perf_describe,
};

static bool same_pid_ns(const char *proc_root)
{
	char a[300], b[300];
	struct stat sa, sb;
	snprintf(a, sizeof(a), "%s/self/ns/pid", proc_root);
	snprintf(b, sizeof(b), "%s/1/ns/pid", proc_root);
	/* Unreadable init namespace (not root): assume the common case. */
	if (stat(a, &sa) || stat(b, &sb))
		return true;
	return sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev;
}

struct etm_source *etm_perf_source_new(const char *sysfs_root, const char *proc_root,
				       char *err, size_t errlen)
{
	struct perf_source *ps = calloc(1, sizeof(*ps));
	if (!ps) {
		etm_fail(err, errlen, "out of memory");
		return NULL;
	}
	ps->base.ops = &perf_ops;
	snprintf(ps->proc_root, sizeof(ps->proc_root), "%s", proc_root ? proc_root : "/proc");
	if (etm_pmu_read(sysfs_root ? sysfs_root : "/sys", &ps->pmu, err, errlen)) {
		free(ps);
		return NULL;
	}
	for (int c = 0; c < AUXRING_MAX_CPUS; c++)
		ps->trace_id[c] = -1;
	ps->env.root_pid_ns = same_pid_ns(ps->proc_root);
	/* The kernel shows contextid as config:15 exactly when it runs at EL2. */
	const struct etm_pmu_format *cid = etm_formats_find(&ps->pmu.formats, "contextid");
	ps->env.kernel_at_el2 = cid && cid->field == 0 && cid->mask == (1ull << 15);
	etm_config_init(&ps->cfg);
	return &ps->base;
}

const struct etm_pmu *etm_perf_source_pmu(struct etm_source *src)
{
	return &to_perf(src)->pmu;
}
