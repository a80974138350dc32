/* The emulated ETMv4 source, proved against OpenCSD's own trc_pkt_lister:
 * real ETMv4/PTM traces of real programs (OpenCSD's snapshots: loops,
 * calls, returns, indirect branches, exceptions, syscalls) are decoded to
 * the path the program took; that path is fed to the emulated source as a
 * software branch recorder would report it, with the snapshot's memory
 * image as the thread's memory; the stream it produces is written as an
 * OpenCSD snapshot and decoded by `trc_pkt_lister -decode`, which must
 * report no error and the same instruction ranges, range by range. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "etm/emulated.h"
#include "etm/etmv4_encoder.h"
#include "testsuite/unit/check.h"

static char shared[512];

static int find_shared(void)
{
	const char *snaps = check_shared("opencsd-snapshots/snapshots");
	if (!check_shared_present(snaps))
		return -1;
	char *abs = realpath(snaps, NULL);   /* trc_pkt_lister runs elsewhere */
	if (!abs)
		return -1;
	snprintf(shared, sizeof(shared), "%s", abs);
	free(abs);
	return 0;
}

static void *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *data = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (n == cap) {
			cap = cap ? 2 * cap : 65536;
			char *p = realloc(data, cap);
			if (!p) {
				free(data);
				fclose(f);
				return NULL;
			}
			data = p;
		}
		size_t got = fread(data + n, 1, cap - n, f);
		if (got == 0)
			break;
		n += got;
	}
	fclose(f);
	*len = n;
	return data;
}

/* ---- memory of the traced "process" ------------------------------------------- */

struct region {
	uint64_t addr;
	uint8_t *data;
	size_t len;
};

struct memory {
	struct region r[16];
	size_t n;
};

static size_t mem_read(void *ctx, int tid, uint64_t addr, void *buf, size_t len)
{
	(void)tid;
	const struct memory *m = ctx;
	for (size_t i = 0; i < m->n; i++) {
		const struct region *r = &m->r[i];
		if (addr >= r->addr && addr < r->addr + r->len) {
			size_t n = (size_t)(r->addr + r->len - addr);
			if (n > len)
				n = len;
			memcpy(buf, r->data + (addr - r->addr), n);
			return n;
		}
	}
	return 0;
}

static void memory_free(struct memory *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->r[i].data);
	m->n = 0;
}

/* ---- trc_pkt_lister's generic elements ------------------------------------------- */

enum pkind { P_RANGE, P_EXCEPTION, P_GAP };

struct pelem {
	enum pkind kind;
	uint64_t start, end;        /* P_RANGE */
	bool taken, branch, thumb;
	unsigned last_size;
	uint64_t ret;               /* P_EXCEPTION */
	unsigned num;
};

struct elems {
	struct pelem *e;
	size_t n, cap;
};

static void elems_add(struct elems *l, const struct pelem *e)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 1024;
		l->e = realloc(l->e, l->cap * sizeof(*l->e));
		if (!l->e)
			abort();
	}
	l->e[l->n++] = *e;
}

/* One element line of `trc_pkt_lister -decode` into E; false if it is
 * not one that matters for the path. */
static bool parse_elem(const char *line, struct pelem *e)
{
	const char *p = strstr(line, "OCSD_GEN_TRC_ELEM_");
	if (!p)
		return false;
	p += strlen("OCSD_GEN_TRC_ELEM_");
	memset(e, 0, sizeof(*e));
	if (!strncmp(p, "INSTR_RANGE(", 12)) {
		unsigned long long s, en;
		unsigned sz = 0;
		if (sscanf(p, "INSTR_RANGE(exec range=0x%llx:[0x%llx]", &s, &en) != 2)
			return false;
		const char *q = strstr(p, "last_sz(");
		if (q)
			sscanf(q, "last_sz(%u)", &sz);
		q = strstr(p, "(ISA=");
		e->thumb = q && !strncmp(q, "(ISA=T32", 8);
		q = q ? strchr(q, ')') : NULL;
		if (!q)
			return false;
		q++;
		while (*q == ' ')
			q++;
		e->kind = P_RANGE;
		e->start = s;
		e->end = en;
		e->last_size = sz;
		e->taken = *q == 'E';
		e->branch = !strncmp(q + 2, "BR", 2) || !strncmp(q + 2, "iBR", 3);
		return true;
	}
	if (!strncmp(p, "EXCEPTION(", 10)) {
		unsigned long long r;
		const char *q = strstr(p, "pref ret addr:0x");
		const char *n = strstr(p, "excep num (0x");
		if (!q || !n || sscanf(q, "pref ret addr:0x%llx", &r) != 1)
			return false;
		e->kind = P_EXCEPTION;
		e->ret = r;
		sscanf(n, "excep num (0x%x)", &e->num);
		return true;
	}
	if (!strncmp(p, "PE_CONTEXT", 10) || !strncmp(p, "EXCEPTION_RET", 13) || !strncmp(p, "EO_TRACE", 8) ||
	    !strncmp(p, "TIMESTAMP", 9) || !strncmp(p, "CYCLE_COUNT", 11) || !strncmp(p, "EVENT", 5))
		return false;
	e->kind = P_GAP;                /* NO_SYNC, TRACE_ON, ADDR_NACC, ... */
	return true;
}

struct range {
	uint64_t start, end;
};

struct ranges {
	struct range *r;
	size_t n, cap;
};

static void ranges_add(struct ranges *l, uint64_t s, uint64_t e)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 1024;
		l->r = realloc(l->r, l->cap * sizeof(*l->r));
		if (!l->r)
			abort();
	}
	l->r[l->n++] = (struct range){s, e};
}

/* Contiguous ranges merged: the path, whatever splits it. */
static void ranges_merge(const struct ranges *in, struct ranges *out)
{
	for (size_t i = 0; i < in->n; i++) {
		if (out->n && out->r[out->n - 1].end == in->r[i].start)
			out->r[out->n - 1].end = in->r[i].end;
		else
			ranges_add(out, in->r[i].start, in->r[i].end);
	}
}

/* trc_pkt_lister on snapshot DIR (trace ID ID, -1 all): its elements and
 * how many error lines it printed. Run in a scratch directory: it writes
 * a log file into its working directory. Returns -1 if it could not run. */
static int trc_pkt_lister(const char *dir, int id, struct elems *out, int *errors,
			  char *first_error, size_t errlen)
{
	char cmd[2048];
	char scratch[] = "/tmp/emu-tpl-XXXXXX";
	if (!mkdtemp(scratch))
		return -1;
	/* All IDs decoded; the "ID:<hex>;" of each element line selects. */
	snprintf(cmd, sizeof cmd, "cd '%s' && trc_pkt_lister -ss_dir '%s' -decode -logstdout 2>&1; rm -rf '%s'",
		 scratch, dir, scratch);
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	char line[4096];
	size_t seen = 0;
	*errors = 0;
	first_error[0] = 0;
	while (fgets(line, sizeof line, p)) {
		struct pelem e;
		const char *idf = strstr(line, "; ID:");
		if (id >= 0 && idf && strtol(idf + 5, NULL, 16) != id)
			continue;
		if (parse_elem(line, &e)) {
			elems_add(out, &e);
			seen++;
		}
		if (strstr(line, "ERROR") || strstr(line, "Error") || strstr(line, "bad-packet") ||
		    strstr(line, "BAD_PACKET") || strstr(line, "ADDR_NACC")) {
			if (!*errors)
				snprintf(first_error, errlen, "%.200s", line);
			(*errors)++;
		}
	}
	int rc = pclose(p);
	if (rc != 0 && seen == 0)
		return -1;
	return 0;
}

static void ranges_of(const struct elems *el, struct ranges *out)
{
	for (size_t i = 0; i < el->n; i++)
		if (el->e[i].kind == P_RANGE)
			ranges_add(out, el->e[i].start, el->e[i].end);
}

static bool have_trc_pkt_lister(void)
{
	return system("command -v trc_pkt_lister >/dev/null 2>&1") == 0;
}

/* ---- the round trip ---------------------------------------------------------------- */

/* The [dumpN] sections of a core's ini file in snapshot DIR. */
static int load_memory(const char *dir, const char *core_ini, struct memory *m)
{
	char path[2048];
	snprintf(path, sizeof path, "%s/%s", dir, core_ini);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[1024], file[1024] = "";
	unsigned long long addr = 0, length = 0, offset = 0;
	bool in_dump = false;
	for (;;) {
		bool eof = !fgets(line, sizeof line, f);
		if (eof || line[0] == '[') {
			if (in_dump && file[0] && m->n < 16) {
				size_t len;
				snprintf(path, sizeof path, "%s/%s", dir, file);
				uint8_t *data = read_file(path, &len);
				if (data) {
					if (offset > len)
						offset = len;
					if (!length || length > len - offset)
						length = len - offset;
					memmove(data, data + offset, (size_t)length);
					m->r[m->n++] = (struct region){addr, data, (size_t)length};
				}
			}
			if (eof)
				break;
			in_dump = !strncmp(line, "[dump", 5);
			file[0] = 0;
			addr = length = offset = 0;
			continue;
		}
		line[strcspn(line, "\r\n")] = 0;
		if (!strncmp(line, "file=", 5))
			snprintf(file, sizeof file, "%s", line + 5);
		else if (!strncmp(line, "address=", 8))
			addr = strtoull(line + 8, NULL, 0);
		else if (!strncmp(line, "length=", 7))
			length = strtoull(line + 7, NULL, 0);
		else if (!strncmp(line, "offset=", 7))
			offset = strtoull(line + 7, NULL, 0);
	}
	fclose(f);
	return m->n ? 0 : -1;
}

static uint64_t with_isa(const struct pelem *r, uint64_t a)
{
	return r->thumb ? a | 1 : a;
}

/* Feed the decoded path EL to SRC as the recorder would report it. */
static void replay_path(struct etm_source *src, int tid, const struct elems *el, struct memory *mem,
			bool aarch64)
{
	bool have_pos = false, pend_branch = false, pend_exc = false, thumb = false;
	uint64_t pos = 0, from = 0, ret = 0;
	unsigned type = 0;
	for (size_t i = 0; i < el->n; i++) {
		const struct pelem *e = &el->e[i];
		switch (e->kind) {
		case P_RANGE:
			if (pend_branch)
				etm_emulated_branch(src, tid, from, with_isa(e, e->start));
			else if (pend_exc)
				etm_emulated_exception(src, tid, ret, with_isa(e, e->start), type);
			else if (!have_pos || pos != e->start)
				etm_emulated_resume(src, tid, with_isa(e, e->start));
			pend_branch = pend_exc = false;
			if (e->taken && e->branch) {
				pend_branch = true;
				from = e->end - e->last_size;
				thumb = e->thumb;
				have_pos = false;
			} else {
				pos = e->end;
				have_pos = true;
			}
			break;
		case P_EXCEPTION:
			if (pend_branch) {
				/* The exception came at the branch target. */
				etm_emulated_branch(src, tid, from, e->ret);
				pend_branch = false;
				pos = e->ret;
				have_pos = true;
			}
			if (have_pos) {
				pend_exc = true;
				ret = e->ret;
				type = e->num;
				have_pos = false;
			}
			break;
		case P_GAP:
			if (pend_branch) {
				/* Trace was lost after this branch: its ranges are
				 * known, its target is not (an indirect one's went
				 * in an address packet). Any target gives the atom;
				 * a direct branch must go where its opcode says. */
				uint8_t b[4];
				struct etmv4_insn insn;
				uint64_t to = 0x1000;
				if (mem_read(mem, tid, from, b, 4) == 4) {
					etmv4_classify(aarch64 ? ETMV4_ISA_A64 : thumb ? ETMV4_ISA_T32 : ETMV4_ISA_A32,
						       false, from, b, &insn);
					if (insn.wp == ETMV4_WP_BRANCH)
						to = insn.target | (insn.target_isa == ETMV4_ISA_T32);
				}
				etm_emulated_branch(src, tid, from, to);
			} else if (have_pos) {
				/* Not-taken branches before the gap: the thread got
				 * that far. */
				etm_emulated_stop(src, tid, pos);
			} else if (pend_exc) {
				/* Where the exception went is not known: anywhere. */
				etm_emulated_exception(src, tid, ret, 0x1000, type);
			}
			pend_branch = pend_exc = false;
			have_pos = false;
			break;
		}
	}
}

static size_t first_difference(const struct ranges *a, const struct ranges *b)
{
	size_t n = a->n < b->n ? a->n : b->n;
	for (size_t i = 0; i < n; i++)
		if (a->r[i].start != b->r[i].start || a->r[i].end != b->r[i].end)
			return i;
	return n;
}

/* Round trip trace ID ID of snapshot SNAP (memory from CORE_INI). EXACT:
 * the ranges must be equal one by one (ETMv4 originals); otherwise the
 * merged paths (a PTM original does not split ranges at ISB as ETMv4
 * does). */
static void roundtrip(const char *snap, const char *core_ini, int id, bool aarch64, bool exact,
		      size_t min_ranges)
{
	char dir[1024], err[512], first_err[256];
	int errors = 0;
	snprintf(dir, sizeof dir, "%s/%s", shared, snap);
	struct elems orig = {0}, back = {0};
	struct memory mem = {0};
	CHECK(trc_pkt_lister(dir, id, &orig, &errors, first_err, sizeof first_err) == 0);
	CHECK(load_memory(dir, core_ini, &mem) == 0);

	struct etm_source *src = etm_emulated_new(aarch64 ? ETM_EMULATED_A64 : ETM_EMULATED_A32, mem_read, &mem);
	struct etm_config cfg;
	etm_config_init(&cfg);
	cfg.buffer_size = 64u << 20;
	cfg.trace_id = 0x22;
	const int tid = 4242;
	CHECK(src->ops->enable(src, tid, &cfg, err, sizeof err) == 0);
	struct pelem end = {.kind = P_GAP};     /* the end: the thread stops */
	elems_add(&orig, &end);
	replay_path(src, tid, &orig, &mem, aarch64);
	struct etm_read rd;
	etm_read_init(&rd);
	CHECK(src->ops->read_new(src, tid, &rd, err, sizeof err) == 0);
	CHECK(rd.n_chunks == 1 && !rd.overflow);
	struct etm_emulated_stats st;
	etm_emulated_stats(src, tid, &st);
	CHECK(st.walk_failures == 0);

	struct etm_cpu_regs regs;
	CHECK(src->ops->cpu_regs(src, 0, &regs, err, sizeof err) == 0);
	CHECK(regs.trctraceidr == 0x22);
	char tmp[] = "/tmp/emu-ss-XXXXXX";
	CHECK(mkdtemp(tmp) != NULL);
	struct etm_emulated_mem em[16];
	for (size_t i = 0; i < mem.n; i++)
		em[i] = (struct etm_emulated_mem){mem.r[i].addr, mem.r[i].data, mem.r[i].len};
	CHECK(etm_emulated_write_snapshot(tmp, &regs, "Cortex-A57", rd.data.data, rd.data.len,
					  em, mem.n, err, sizeof err) == 0);
	CHECK(trc_pkt_lister(tmp, -1, &back, &errors, first_err, sizeof first_err) == 0);
	CHECK(errors == 0);
	if (errors)
		fprintf(stderr, "%s: trc_pkt_lister: %d errors, first: %s", snap, errors, first_err);
	struct ranges expect = {0}, got = {0}, ma = {0}, mb = {0};
	ranges_of(&orig, &expect);
	ranges_of(&back, &got);
	CHECK(expect.n >= min_ranges);
	struct ranges *a = &expect, *b = &got;
	if (!exact) {
		ranges_merge(&expect, &ma);
		ranges_merge(&got, &mb);
		a = &ma;
		b = &mb;
	}
	size_t d = first_difference(a, b);
	CHECK(a->n == b->n && d == a->n);
	printf("  %s id 0x%x: %zu ranges recorded, %zu decoded by trc_pkt_lister%s; %zu trace bytes, "
	       "%" PRIu64 " branches, %" PRIu64 " exceptions (%" PRIu64 " syscalls), %" PRIu64 " syncs\n",
	       snap, (unsigned)id, expect.n, got.n, exact ? "" : " (compared as merged paths)",
	       rd.data.len, st.branches, st.exceptions, st.syscalls, st.syncs);
	if (a->n != b->n || d != a->n) {
		fprintf(stderr, "%s: %zu vs %zu ranges, first difference at %zu: recorded %#llx-%#llx, decoded %#llx-%#llx (kept in %s)\n",
			snap, a->n, b->n, d,
			d < a->n ? (unsigned long long)a->r[d].start : 0ull, d < a->n ? (unsigned long long)a->r[d].end : 0ull,
			d < b->n ? (unsigned long long)b->r[d].start : 0ull, d < b->n ? (unsigned long long)b->r[d].end : 0ull,
			tmp);
	} else {
		char cmd[1100];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmp);
	}
	free(ma.r);
	free(mb.r);
	free(expect.r);
	free(got.r);
	free(orig.e);
	free(back.e);
	etm_read_free(&rd);
	etm_source_free(src);
	memory_free(&mem);
}

int main(void)
{
	if (find_shared() < 0)
		return check_done("etm_emulated");
	bool lister = have_trc_pkt_lister();
	CHECK(lister);
	if (!lister) {
		fprintf(stderr, "FAIL: trc_pkt_lister not installed (apt-get install libopencsd-bin)\n");
		return check_done("etm_emulated");
	}
	/* User space: libc, ld.so, uname; syscalls, faults, overflows. */
	roundtrip("juno-uname-002", "cpu_0.ini", 0x16, true, true, 5000);
	/* Thumb-2 and A32 (a PTM trace of a Cortex-A15). */
	roundtrip("tc2-ptm-rstk-t32", "device1.ini", -1, false, false, 20000);
	return check_done("etm_emulated");
}
