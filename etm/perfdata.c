#include "etm/perfdata.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/mman.h>

#include "common/file.h"
#include "common/le.h"

#ifndef PERF_RECORD_AUX_OUTPUT_HW_ID
#define PERF_RECORD_AUX_OUTPUT_HW_ID 21
#endif
#define PERF_RECORD_AUXTRACE_INFO 70
#define PERF_RECORD_AUXTRACE 71
#define PERF_AUXTRACE_CS_ETM 3
#define CS_ETMV3_MAGIC 0x3030303030303030ull
#define CS_ETMV4_MAGIC 0x4040404040404040ull
#define CS_ETE_MAGIC   0x5050505050505050ull

static void index_auxtrace(struct perfdata *pd);

static void *grow(void *p, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return p;
	size_t c = *cap ? *cap * 2 : 16;
	void *q = realloc(p, c * elem);
	if (!q) {
		perror("csgdbserver: out of memory");
		abort();
	}
	*cap = c;
	return q;
}

/* cs_etm AUXTRACE_INFO: priv[0] version, [1] pmu type << 32 | nr cpus,
 * [2] snapshot, then per CPU: magic, cpu, (v1+: nr params), params. */
static int parse_info(struct perfdata *pd, const uint8_t *rec, size_t size, char *err, size_t errlen)
{
	if (size < 16 + 24)
		return etm_fail(err, errlen, "AUXTRACE_INFO too short");
	if (le32(rec + 8) != PERF_AUXTRACE_CS_ETM)
		return etm_fail(err, errlen, "AUXTRACE_INFO type %u is not cs_etm (3)", le32(rec + 8));
	const uint8_t *p = rec + 16, *end = rec + size;
	pd->info_version = le64(p);
	uint64_t t = le64(p + 8);
	pd->pmu_type = (uint32_t)(t >> 32);
	pd->nr_cpus = (uint32_t)t;
	pd->snapshot = le64(p + 16) != 0;
	p += 24;
	if (pd->info_version > 2)
		return etm_fail(err, errlen, "cs_etm AUXTRACE_INFO version %" PRIu64 " unknown", pd->info_version);
	if (pd->nr_cpus > PERFDATA_MAX_CPUS)
		return etm_fail(err, errlen, "cs_etm AUXTRACE_INFO: %u CPUs, more than %d", pd->nr_cpus,
				PERFDATA_MAX_CPUS);
	pd->cpus = calloc(pd->nr_cpus ? pd->nr_cpus : 1, sizeof(*pd->cpus));
	if (!pd->cpus)
		return etm_fail(err, errlen, "out of memory");
	for (uint32_t i = 0; i < pd->nr_cpus; i++) {
		size_t hdr = pd->info_version ? 3 : 2;
		if ((size_t)(end - p) < hdr * 8)
			return etm_fail(err, errlen, "AUXTRACE_INFO cut in CPU block %u", i);
		uint64_t magic = le64(p), cpu = le64(p + 8), n;
		if (pd->info_version)
			n = le64(p + 16);
		else
			n = magic == CS_ETMV3_MAGIC ? 4 : 7;
		p += hdr * 8;
		if (n > 64 || (size_t)(end - p) < n * 8)
			return etm_fail(err, errlen, "AUXTRACE_INFO: CPU block %u claims %" PRIu64 " parameters", i, n);
		if (cpu >= PERFDATA_MAX_CPUS)
			return etm_fail(err, errlen, "AUXTRACE_INFO: CPU block %u is for CPU %" PRIu64
					", out of range (0-%d)", i, cpu, PERFDATA_MAX_CPUS - 1);
		if (perfdata_cpu(pd, (int)cpu))
			return etm_fail(err, errlen, "AUXTRACE_INFO: CPU %" PRIu64 " has two blocks", cpu);
		uint64_t v[64] = { 0 };
		for (uint64_t k = 0; k < n; k++)
			v[k] = le64(p + 8 * k);
		p += n * 8;
		struct etm_cpu_regs *r = &pd->cpus[pd->n_cpus];
		memset(r, 0, sizeof(*r));
		r->cpu = (int)cpu;
		if (magic == CS_ETMV3_MAGIC) {
			if (n < 4)
				return etm_fail(err, errlen, "ETMv3 CPU %" PRIu64 ": %" PRIu64 " parameters, need 4", cpu, n);
			r->etmcr = (uint32_t)v[0];
			r->etmtraceidr = (uint32_t)v[1];
			r->etmccer = (uint32_t)v[2];
			r->etmidr = (uint32_t)v[3];
			r->have = ETM_HAVE_CONFIGR | ETM_HAVE_TRACEID | ETM_HAVE_ETMCCER | ETM_HAVE_ETMIDR;
			r->unit = etm_bits(r->etmidr, 11, 8) == 3 ? ETM_UNIT_PTM : ETM_UNIT_ETMV3;
		} else if (magic == CS_ETMV4_MAGIC || magic == CS_ETE_MAGIC) {
			if (n < 7 || (magic == CS_ETE_MAGIC && n < 8))
				return etm_fail(err, errlen, "ETMv4/ETE CPU %" PRIu64 ": only %" PRIu64 " parameters", cpu, n);
			r->trcconfigr = (uint32_t)v[0];
			r->trctraceidr = (uint32_t)v[1];
			r->trcidr[0] = (uint32_t)v[2];
			r->trcidr[1] = (uint32_t)v[3];
			r->trcidr[2] = (uint32_t)v[4];
			r->trcidr[8] = (uint32_t)v[5];
			r->trcauthstatus = (uint32_t)v[6];
			r->have_trcidr = (1u << 0) | (1u << 1) | (1u << 2) | (1u << 8);
			r->have = ETM_HAVE_CONFIGR | ETM_HAVE_TRACEID | ETM_HAVE_AUTHSTATUS;
			r->unit = ETM_UNIT_ETMV4;
			if (magic == CS_ETE_MAGIC) {
				r->trcdevarch = (uint32_t)v[7];
				r->have |= ETM_HAVE_DEVARCH;
				/* simpleperf stores ETMv4.x units with the ETE magic too:
				 * TRCDEVARCH.ARCHVER tells them apart (perf's rule). */
				if (etm_bits(r->trcdevarch, 15, 12) == 5)
					r->unit = ETM_UNIT_ETE;
			}
		} else {
			return etm_fail(err, errlen, "AUXTRACE_INFO: unknown magic 0x%" PRIx64 " in CPU block %u", magic, i);
		}
		pd->n_cpus++;
	}
	pd->have_info = true;
	return 0;
}

/* PERF_RECORD_AUX at P (SIZE bytes; SID its sample_id), the record just
 * added to pd->records. */
static int parse_aux(struct perfdata *pd, const uint8_t *p, uint16_t size,
		     const struct auxring_sample_id *sid, size_t *cap, char *err, size_t errlen)
{
	size_t at = (size_t)(p - pd->file);
	if (size < 32)
		return etm_fail(err, errlen, "PERF_RECORD_AUX too short at 0x%zx", at);
	pd->aux = grow(pd->aux, cap, pd->n_aux, sizeof(*pd->aux));
	struct perfdata_aux *a = &pd->aux[pd->n_aux++];
	a->aux_offset = le64(p + 8);
	a->aux_size = le64(p + 16);
	a->flags = le64(p + 24);
	if (a->aux_offset > PERFDATA_MAX_OFFSET || a->aux_size > PERFDATA_MAX_OFFSET - a->aux_offset)
		return etm_fail(err, errlen, "PERF_RECORD_AUX at 0x%zx: offset 0x%" PRIx64 " + size 0x%" PRIx64
				" is past 2^62", at, a->aux_offset, a->aux_size);
	a->cpu = pd->records[pd->n_records - 1].cpu;
	a->pid = sid->pid;
	a->tid = sid->tid;
	a->rec_index = pd->n_records - 1;
	return 0;
}

/* PERF_RECORD_AUXTRACE at P (SIZE bytes, LEFT to the end of the data
 * section); *DSIZE trace bytes follow it. */
static int parse_auxtrace(struct perfdata *pd, const uint8_t *p, size_t left, uint16_t size,
			  size_t *cap, uint64_t *dsize, char *err, size_t errlen)
{
	size_t pos = (size_t)(p - pd->file);
	if (size < 48)
		return etm_fail(err, errlen, "PERF_RECORD_AUXTRACE too short at 0x%zx", pos);
	*dsize = le64(p + 8);
	if (*dsize > left - size)
		return etm_fail(err, errlen, "AUXTRACE data (0x%" PRIx64 " bytes) runs past the data section", *dsize);
	pd->auxtrace = grow(pd->auxtrace, cap, pd->n_auxtrace, sizeof(*pd->auxtrace));
	struct perfdata_auxtrace *at = &pd->auxtrace[pd->n_auxtrace++];
	at->size = *dsize;
	at->offset = le64(p + 16);
	at->reference = le64(p + 24);
	at->idx = le32(p + 32);
	at->tid = le32(p + 36);
	at->cpu = le32(p + 40);
	at->data_pos = pos + size;
	if (at->offset > PERFDATA_MAX_OFFSET || at->size > PERFDATA_MAX_OFFSET - at->offset ||
	    (at->cpu >= PERFDATA_MAX_CPUS && at->cpu != UINT32_MAX))
		return etm_fail(err, errlen, "PERF_RECORD_AUXTRACE at 0x%zx: CPU %u, offset 0x%" PRIx64
				" (CPUs are 0-%d or -1, offsets below 2^62)", pos, at->cpu, at->offset,
				PERFDATA_MAX_CPUS - 1);
	return 0;
}

/* Parse PD->file (PD->len bytes), which PD owns (copy or mapping); on
 * failure PD is freed. */
static int parse_file(struct perfdata *pd, char *err, size_t errlen)
{
	size_t len = pd->len;
	if (len < 104 || memcmp(pd->file, "PERFILE2", 8)) {
		etm_fail(err, errlen, "not a perf.data file (no PERFILE2 header)");
		goto bad;
	}
	const uint8_t *f = pd->file;
	uint64_t hsize = le64(f + 8), attr_size = le64(f + 16);
	uint64_t attrs_off = le64(f + 24), attrs_size = le64(f + 32);
	uint64_t data_off = le64(f + 40), data_size = le64(f + 48);
	size_t cap_aux = 0, cap_at = 0, cap_rec = 0;
	if (hsize < 104 || hsize > len)
		goto bad_header;
	if (attrs_size) {
		if (attr_size < 16 + 64 || attrs_off > len || attrs_size > len - attrs_off || attr_size > attrs_size)
			goto bad_header;
		/* First attr: every event of a cs_etm recording uses one sample_type. */
		const uint8_t *a = f + attrs_off;
		pd->attr_type = le32(a);
		pd->attr_config = le64(a + 8);
		pd->sample_type = le64(a + 24);
		pd->sample_id_all = (le64(a + 40) >> 18) & 1;
	}
	if (data_off > len || data_size > len - data_off)
		goto bad_header;

	const uint8_t *p = f + data_off, *end = p + data_size;
	while (p < end) {
		if ((size_t)(end - p) < 8) {
			etm_fail(err, errlen, "record header cut at file offset 0x%zx", (size_t)(p - f));
			goto bad;
		}
		uint32_t type = le32(p);
		uint16_t size = le16(p + 6);
		if (size < 8 || size > (size_t)(end - p)) {
			etm_fail(err, errlen, "record of type %u at file offset 0x%zx has bad size %u", type, (size_t)(p - f), size);
			goto bad;
		}
		struct auxring_sample_id sid = { 0 };
		size_t body = 0;
		switch (type) {
		case PERF_RECORD_AUX: body = 24; break;
		case PERF_RECORD_ITRACE_START: body = 8; break;
		case PERF_RECORD_AUX_OUTPUT_HW_ID: body = 8; break;
		case PERF_RECORD_LOST: body = 16; break;
		default: body = (size_t)-1; break;
		}
		bool have_sid = body != (size_t)-1 && pd->sample_id_all &&
				auxring_sample_id(p, size, body, pd->sample_type, &sid);
		pd->records = grow(pd->records, &cap_rec, pd->n_records, sizeof(*pd->records));
		struct perfdata_record *rec = &pd->records[pd->n_records];
		rec->pos = (size_t)(p - f);
		rec->type = type;
		rec->size = size;
		if (have_sid && sid.has_cpu && sid.cpu >= PERFDATA_MAX_CPUS) {
			etm_fail(err, errlen, "record of type %u at file offset 0x%zx is for CPU %u, out of range (0-%d)",
				 type, (size_t)(p - f), sid.cpu, PERFDATA_MAX_CPUS - 1);
			goto bad;
		}
		rec->cpu = have_sid && sid.has_cpu ? (int)sid.cpu : -1;
		rec->tid = have_sid && sid.has_tid ? sid.tid : 0;
		pd->n_records++;

		if (type == PERF_RECORD_AUX) {
			if (parse_aux(pd, p, size, &sid, &cap_aux, err, errlen))
				goto bad;
		} else if (type == PERF_RECORD_ITRACE_START) {
			pd->n_itrace_start++;
		} else if (type == PERF_RECORD_AUX_OUTPUT_HW_ID) {
			pd->n_hw_id++;
		} else if (type == PERF_RECORD_LOST) {
			pd->n_lost++;
		} else if (type == PERF_RECORD_AUXTRACE_INFO) {
			if (pd->have_info) {
				etm_fail(err, errlen, "two AUXTRACE_INFO records");
				goto bad;
			}
			if (parse_info(pd, p, size, err, errlen))
				goto bad;
		} else if (type == PERF_RECORD_AUXTRACE) {
			uint64_t dsize = 0;
			if (parse_auxtrace(pd, p, (size_t)(end - p), size, &cap_at, &dsize, err, errlen))
				goto bad;
			p += dsize;       /* the trace bytes follow the record */
		}
		p += size;
	}
	index_auxtrace(pd);
	return 0;
bad_header:
	etm_fail(err, errlen, "perf.data header sections point outside the file");
bad:
	perfdata_free(pd);
	return -1;
}

int perfdata_parse(const void *bytes, size_t len, struct perfdata *pd, char *err, size_t errlen)
{
	memset(pd, 0, sizeof(*pd));
	pd->copy = malloc(len ? len : 1);
	if (!pd->copy)
		return etm_fail(err, errlen, "out of memory");
	memcpy(pd->copy, bytes, len);
	pd->file = pd->copy;
	pd->len = len;
	return parse_file(pd, err, errlen);
}

int perfdata_open(const char *path, struct perfdata *pd, char *err, size_t errlen)
{
	memset(pd, 0, sizeof(*pd));
	/* A regular file, mapped rather than read into memory: a device or a
	 * FIFO would never end, and a copy would double what it costs. */
	struct stat st;
	int fd = file_open_regular(path, &st, err, errlen);
	if (fd < 0)
		return -1;
	size_t len = (size_t)st.st_size;
	if ((uint64_t)st.st_size != len) {
		close(fd);
		return etm_fail(err, errlen, "%s: too large to map here (%lld bytes)", path,
				(long long)st.st_size);
	}
	if (len < 104) {
		close(fd);
		return etm_fail(err, errlen, "%s: not a perf.data file (no PERFILE2 header)", path);
	}
	/* Kept mapped while PD lives: the trace is read in place, never copied. */
	void *data = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	int e = errno;
	close(fd);
	if (data == MAP_FAILED)
		return etm_fail(err, errlen, "%s: %s", path, strerror(e));
	pd->map = data;
	pd->file = data;
	pd->len = len;
	int rc = parse_file(pd, err, errlen);
	if (rc && err && errlen) {
		char msg[ETM_ERR_LEN];
		snprintf(msg, sizeof(msg), "%s", err);
		etm_fail(err, errlen, "%s: %s", path, msg);
	}
	return rc;
}

void perfdata_free(struct perfdata *pd)
{
	free(pd->copy);
	if (pd->map)
		munmap(pd->map, pd->len);
	free(pd->cpus);
	free(pd->aux);
	free(pd->auxtrace);
	free(pd->records);
	memset(pd, 0, sizeof(*pd));
}

const struct etm_cpu_regs *perfdata_cpu(const struct perfdata *pd, int cpu)
{
	for (unsigned i = 0; i < pd->n_cpus; i++)
		if (pd->cpus[i].cpu == cpu)
			return &pd->cpus[i];
	return NULL;
}

static int auxtrace_cmp(const void *a, const void *b)
{
	const struct perfdata_auxtrace *x = a, *y = b;
	if (x->cpu != y->cpu)
		return x->cpu < y->cpu ? -1 : 1;
	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return x->data_pos < y->data_pos ? -1 : x->data_pos > y->data_pos;
}

/* By CPU and offset (file order among equals): a lookup is a binary
 * search, not a walk of every record (a file can hold 10^5 of each). */
static void index_auxtrace(struct perfdata *pd)
{
	if (pd->n_auxtrace > 1)
		qsort(pd->auxtrace, pd->n_auxtrace, sizeof *pd->auxtrace, auxtrace_cmp);
}

const uint8_t *perfdata_aux_bytes(const struct perfdata *pd, int cpu, uint64_t offset, uint64_t size)
{
	uint32_t c = (uint32_t)cpu;
	size_t lo = 0, hi = pd->n_auxtrace;
	/* the first record past (CPU, OFFSET) */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct perfdata_auxtrace *at = &pd->auxtrace[mid];
		if (at->cpu < c || (at->cpu == c && at->offset <= offset))
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Records starting at or before OFFSET, nearest first; overlapping
	 * ones (never written by perf) are looked at only so far. */
	for (size_t i = lo, looked = 0; i-- > 0 && looked < 64; looked++) {
		const struct perfdata_auxtrace *at = &pd->auxtrace[i];
		if (at->cpu != c)
			break;
		if (offset - at->offset <= at->size && size <= at->size - (offset - at->offset))
			return pd->file + at->data_pos + (offset - at->offset);
	}
	return NULL;
}

/* Does record R belong to buffer CPU? Records without a CPU (MMAP2, COMM)
 * go to every buffer: the reader must step over them. */
static bool record_for(const struct perfdata_record *r, int cpu)
{
	switch (r->type) {
	case PERF_RECORD_AUX:
	case PERF_RECORD_ITRACE_START:
	case PERF_RECORD_AUX_OUTPUT_HW_ID:
	case PERF_RECORD_LOST:
		return r->cpu == cpu;
	default:
		return r->type < PERF_RECORD_MAX;   /* kernel records only */
	}
}

static int drain(const struct perfdata *pd, struct auxring_sim *sim, struct auxring *ring,
		 struct etm_read *out, char *err, size_t errlen)
{
	struct auxring_view v;
	uint64_t dt, at;
	(void)pd;
	auxring_sim_view(sim, &v);
	int rc = auxring_read(ring, &v, out, &dt, &at, err, errlen);
	sim->data_tail = dt;
	sim->aux_tail = at;
	return rc;
}

int perfdata_replay(const struct perfdata *pd, int cpu, uint64_t data_ring, uint64_t aux_ring,
		    unsigned read_every, struct auxring *ring, struct etm_read *out,
		    char *err, size_t errlen)
{
	struct auxring_sim sim;
	if (auxring_sim_init(&sim, data_ring, aux_ring))
		return etm_fail(err, errlen, "ring sizes must be powers of two");
	auxring_init(ring, pd->sample_type, pd->sample_id_all, pd->snapshot);
	unsigned since_read = 0;
	int rc = 0;
	for (size_t i = 0; i < pd->n_records && !rc; i++) {
		const struct perfdata_record *r = &pd->records[i];
		if (!record_for(r, cpu))
			continue;
		const uint8_t *rec = pd->file + r->pos;
		if (r->type == PERF_RECORD_AUX) {
			uint64_t off = le64(rec + 8), size = le64(rec + 16);
			/* Data not in the file needs no room: it shows as lost. */
			const uint8_t *bytes = perfdata_aux_bytes(pd, cpu, off, size);
			if (bytes && size > aux_ring) {
				rc = etm_fail(err, errlen, "AUX record of 0x%" PRIx64 " bytes exceeds the 0x%" PRIx64 " ring", size, aux_ring);
				break;
			}
			/* The reader must have freed room, as a live reader would. */
			if (bytes && sim.aux_size - (sim.aux_head - sim.aux_tail) < size)
				rc = drain(pd, &sim, ring, out, err, errlen);
			if (off > sim.aux_head) {
				/* Data the recorder never stored: the ring moved on without it. */
				sim.aux_head = sim.aux_tail = off;
			}
			if (size && off == sim.aux_head) {
				if (!bytes) {
					/* The recorder dropped this data (e.g. its user
					 * buffer was full): report it lost, as a gap. */
					if (!rc)
						rc = drain(pd, &sim, ring, out, err, errlen);
					out->overflow = true;
					out->bytes_lost += size;
					ring->gap_pending = true;
					sim.aux_head += size;
					sim.aux_tail = sim.aux_head;
					ring->aux_pos = sim.aux_head;
					continue;
				}
				auxring_sim_put_aux(&sim, bytes, (size_t)size, pd->snapshot);
			}
		}
		if (!auxring_sim_put_record(&sim, rec, r->size)) {
			rc = drain(pd, &sim, ring, out, err, errlen);
			if (!rc && !auxring_sim_put_record(&sim, rec, r->size))
				rc = etm_fail(err, errlen, "record of %u bytes does not fit the 0x%" PRIx64 " record ring", r->size, data_ring);
		}
		if (!rc && read_every && ++since_read >= read_every) {
			rc = drain(pd, &sim, ring, out, err, errlen);
			since_read = 0;
		}
	}
	if (!rc)
		rc = drain(pd, &sim, ring, out, err, errlen);
	auxring_sim_free(&sim);
	return rc;
}

/* ---- replay source ------------------------------------------------------ */

struct replay_thread {
	int tid;
	bool served;
};

struct replay_source {
	struct etm_source base;
	struct perfdata pd;
	struct etm_read trace;           /* all buffers, replayed once */
	int16_t trace_id[AUXRING_MAX_CPUS];
	struct replay_thread *threads;
	size_t n_threads, cap_threads;
	struct etm_config cfg;
	bool raw;
};

static struct replay_source *to_replay(struct etm_source *s)
{
	return (struct replay_source *)s;
}

static struct replay_thread *replay_find(struct replay_source *rs, int tid)
{
	for (size_t i = 0; i < rs->n_threads; i++)
		if (rs->threads[i].tid == tid)
			return &rs->threads[i];
	return NULL;
}

static int replay_enable(struct etm_source *s, int tid, const struct etm_config *cfg,
			 char *err, size_t errlen)
{
	struct replay_source *rs = to_replay(s);
	if (replay_find(rs, tid))
		return etm_fail(err, errlen, "Btrace already enabled.");
	for (unsigned i = 0; i < rs->pd.n_cpus; i++)
		if (etm_config_check(cfg, &rs->pd.cpus[i], err, errlen))
			return -1;
	rs->threads = grow(rs->threads, &rs->cap_threads, rs->n_threads, sizeof(*rs->threads));
	rs->threads[rs->n_threads++] = (struct replay_thread){ .tid = tid };
	rs->cfg = *cfg;
	return 0;
}

static int replay_read_new(struct etm_source *s, int tid, struct etm_read *out,
			   char *err, size_t errlen)
{
	struct replay_source *rs = to_replay(s);
	struct replay_thread *t = replay_find(rs, tid);
	if (!t)
		return etm_fail(err, errlen, "Btrace not enabled.");
	if (t->served)
		return 0;
	t->served = true;
	for (size_t i = 0; i < rs->trace.n_chunks; i++) {
		const struct etm_chunk *c = &rs->trace.chunks[i];
		etm_read_add(out, rs->trace.data.data + c->offset, c->size, c->cpu, c->raw,
			     c->gap_before, c->aux_flags);
	}
	out->overflow |= rs->trace.overflow;
	out->truncated |= rs->trace.truncated;
	out->bytes_lost += rs->trace.bytes_lost;
	return 0;
}

static int replay_disable(struct etm_source *s, int tid, char *err, size_t errlen)
{
	struct replay_source *rs = to_replay(s);
	struct replay_thread *t = replay_find(rs, tid);
	if (!t)
		return etm_fail(err, errlen, "Branch tracing not enabled.");
	*t = rs->threads[--rs->n_threads];
	return 0;
}

static int replay_conf(struct etm_source *s, int tid, struct etm_config *out, char *err, size_t errlen)
{
	struct replay_source *rs = to_replay(s);
	if (!replay_find(rs, tid))
		return etm_fail(err, errlen, "Btrace not enabled.");
	*out = rs->cfg;
	return 0;
}

static int replay_cpu_regs(struct etm_source *s, int cpu, struct etm_cpu_regs *out,
			   char *err, size_t errlen)
{
	struct replay_source *rs = to_replay(s);
	const struct etm_cpu_regs *r = perfdata_cpu(&rs->pd, cpu);
	if (!r)
		return etm_fail(err, errlen, "CPU %d is not in the recording.", cpu);
	*out = *r;
	out->core_arch = etm_host_core_arch(out->unit);   /* recorded here, as if live */
	/* A HW_ID record overrides the recorded (legacy) trace ID. */
	if (cpu >= 0 && cpu < AUXRING_MAX_CPUS && rs->trace_id[cpu] >= 0) {
		if (r->unit == ETM_UNIT_ETMV3 || r->unit == ETM_UNIT_PTM)
			out->etmtraceidr = (uint32_t)rs->trace_id[cpu];
		else
			out->trctraceidr = (uint32_t)rs->trace_id[cpu];
	}
	return 0;
}

static int replay_nr_cpus(struct etm_source *s)
{
	struct replay_source *rs = to_replay(s);
	int n = 0;
	for (unsigned i = 0; i < rs->pd.n_cpus; i++)
		if (rs->pd.cpus[i].cpu + 1 > n)
			n = rs->pd.cpus[i].cpu + 1;
	return n;
}

static int replay_sink(struct etm_source *s, struct etm_sink_info *out)
{
	struct replay_source *rs = to_replay(s);
	memset(out, 0, sizeof(*out));
	out->formatted = !rs->raw;
	out->frame_aligned = !rs->raw;
	out->reset_on_4x_sync = !rs->raw;
	return 0;
}

static void replay_free(struct etm_source *s)
{
	struct replay_source *rs = to_replay(s);
	perfdata_free(&rs->pd);
	etm_read_free(&rs->trace);
	free(rs->threads);
	free(rs);
}

static void perfdata_describe(struct etm_source *src, struct buf *out)
{
	buf_printf(out, "Trace source: %s\n", src->ops->name);
}

static const struct etm_source_ops replay_ops = {
	.name = "perf.data replay",
	.enable = replay_enable,
	.read_new = replay_read_new,
	.disable = replay_disable,
	.conf = replay_conf,
	.cpu_regs = replay_cpu_regs,
	.nr_cpus = replay_nr_cpus,
	.sink = replay_sink,
	.free = replay_free,
	.describe = perfdata_describe,
};

struct etm_source *etm_perfdata_source_new(const char *path, char *err, size_t errlen)
{
	struct replay_source *rs = calloc(1, sizeof(*rs));
	if (!rs) {
		etm_fail(err, errlen, "out of memory");
		return NULL;
	}
	rs->base.ops = &replay_ops;
	etm_read_init(&rs->trace);
	etm_config_init(&rs->cfg);
	for (int c = 0; c < AUXRING_MAX_CPUS; c++)
		rs->trace_id[c] = -1;
	if (perfdata_open(path, &rs->pd, err, errlen))
		goto bad;
	if (!rs->pd.have_info) {
		etm_fail(err, errlen, "%s: no cs_etm AUXTRACE_INFO record", path);
		goto bad;
	}
	/* Rings large enough for the biggest AUX record whose data the file
	 * holds (at most twice the file): what it lacks is lost, not stored. */
	uint64_t max = 4096;
	for (size_t i = 0; i < rs->pd.n_aux; i++) {
		const struct perfdata_aux *a = &rs->pd.aux[i];
		if (!perfdata_aux_bytes(&rs->pd, a->cpu, a->aux_offset, a->aux_size))
			continue;
		while (max < a->aux_size)
			max <<= 1;
	}
	for (unsigned i = 0; i < rs->pd.n_cpus; i++) {
		struct auxring ring;
		int cpu = rs->pd.cpus[i].cpu;
		if (perfdata_replay(&rs->pd, cpu, 65536, max, 1, &ring, &rs->trace, err, errlen))
			goto bad;
		if (cpu >= 0 && cpu < AUXRING_MAX_CPUS)
			rs->trace_id[cpu] = ring.trace_id[cpu];
	}
	for (size_t i = 0; i < rs->trace.n_chunks; i++)
		rs->raw |= rs->trace.chunks[i].raw;
	for (size_t i = 0; i < rs->pd.n_aux; i++)
		rs->raw |= (rs->pd.aux[i].flags & 0xff00) == 0x100;
	return &rs->base;
bad:
	replay_free(&rs->base);
	return NULL;
}
