/* A recorded capture: see recorded.h. */
#include "etm/recorded.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file.h"
#include "etm/decode.h"
#include "etm/snapshot.h"

struct func_sym {
	uint64_t addr, size;
	char *name;
};

struct mem_region {
	uint64_t addr;
	size_t len;
	uint8_t *data;
	char *origin;           /* file it came from, for monitor output */
};

struct etm_recorded {
	char *dir;
	char *elf_path;
	char *buffer_name;
	/* Kept to decode again when another window is asked for. */
	struct etm_snapshot *ss;
	size_t buf_index;
	int trace_id;
	/* The trace stays in its file: read in windows, never held whole. */
	int raw_fd;
	bool raw_fd_open;
	uint64_t raw_len;
	bool formatted;
	/* The last decode: the newest window's ranges, statistics of all. */
	struct trace_ranges ranges;
	bool decoded_once;      /* warnings are printed on the first decode only */
	struct etm_cpu_regs unit;
	char core[64];
	bool aa64;              /* AArch64 register set */
	uint64_t pc;
	bool thumb;
	struct mem_region *mem;
	size_t nmem;
	struct func_sym *syms;      /* sorted by address */
	size_t nsyms;
	unsigned warnings;
};

const struct etm_cpu_regs *etm_recorded_unit(const struct etm_recorded *rp) { return &rp->unit; }
uint64_t etm_recorded_pc(const struct etm_recorded *rp) { return rp->pc; }
bool etm_recorded_aarch64(const struct etm_recorded *rp) { return rp->aa64; }
bool etm_recorded_thumb(const struct etm_recorded *rp) { return rp->thumb; }
const char *etm_recorded_elf_path(const struct etm_recorded *rp) { return rp->elf_path; }

uint64_t etm_recorded_raw_info(const struct etm_recorded *rp, bool *formatted)
{
	*formatted = rp->formatted;
	return rp->raw_len;
}

static int read_raw(void *ctx, uint64_t offset, void *buf, size_t len)
{
	const struct etm_recorded *rp = ctx;
	size_t done = 0;
	errno = 0;
	while (done < len) {
		ssize_t n = pread(rp->raw_fd, (uint8_t *)buf + done, len - done, (off_t)(offset + done));
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

int etm_recorded_raw_read(const struct etm_recorded *rp, uint64_t offset, void *buf, size_t len)
{
	if (offset > rp->raw_len || len > rp->raw_len - offset) {
		errno = EINVAL;
		return -1;
	}
	return read_raw((void *)rp, offset, buf, len);
}

static void add_region(struct etm_recorded *rp, uint64_t addr, uint8_t *data, size_t len, const char *origin)
{
	struct mem_region *grown = realloc(rp->mem, (rp->nmem + 1) * sizeof *grown);
	if (!grown)
		abort();
	rp->mem = grown;
	rp->mem[rp->nmem++] = (struct mem_region){addr, len, data, strdup(origin)};
}

static uint8_t *read_file_range(const char *path, uint64_t offset, uint64_t len, size_t *got,
				char *err, size_t errlen)
{
	struct stat st;
	int fd = file_open_regular(path, &st, err, errlen);
	if (fd < 0)
		return NULL;
	if (offset > (uint64_t)st.st_size) {
		etm_fail(err, errlen, "%s: offset 0x%" PRIx64 " is past the end of the file", path, offset);
		close(fd);
		return NULL;
	}
	if (len == 0 || len > (uint64_t)st.st_size - offset)
		len = (uint64_t)st.st_size - offset;
	uint8_t *data = malloc(len ? len : 1);
	if (!data)
		abort();
	size_t done = 0;
	while (done < len) {
		ssize_t n = pread(fd, data + done, len - done, (off_t)(offset + done));
		if (n <= 0) {
			etm_fail(err, errlen, "%s: %s", path, n < 0 ? strerror(errno) : "unexpected end of file");
			free(data);
			close(fd);
			return NULL;
		}
		done += (size_t)n;
	}
	close(fd);
	*got = len;
	return data;
}

static int sym_cmp(const void *a, const void *b)
{
	const struct func_sym *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Function symbols, for monitor etm call-history. Thumb functions have
 * bit 0 set in st_value. */
static void load_symbols(struct etm_recorded *rp, Elf *elf)
{
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || !sh.sh_entsize)
			continue;
		Elf_Data *data = elf_getdata(scn, NULL);
		size_t n = data ? sh.sh_size / sh.sh_entsize : 0;
		for (size_t i = 0; i < n; i++) {
			GElf_Sym sym;
			if (!gelf_getsym(data, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC)
				continue;
			const char *name = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (!name || !*name)
				continue;
			struct func_sym *grown = realloc(rp->syms, (rp->nsyms + 1) * sizeof *grown);
			if (!grown)
				abort();
			rp->syms = grown;
			rp->syms[rp->nsyms++] = (struct func_sym){sym.st_value & ~1ull, sym.st_size, strdup(name)};
		}
	}
	if (rp->nsyms)
		qsort(rp->syms, rp->nsyms, sizeof *rp->syms, sym_cmp);
}

const char *etm_recorded_symbol(const struct etm_recorded *rp, uint64_t addr)
{
	size_t lo = 0, hi = rp->nsyms;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (rp->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i-- > 0;) {
		if (addr < rp->syms[i].addr + (rp->syms[i].size ? rp->syms[i].size : 1))
			return rp->syms[i].name;
		if (rp->syms[i].size)
			break;
	}
	return NULL;
}

/* Every PT_LOAD segment's file contents at its virtual address, as the
 * decoder sees the program (etm_decoder_add_elf). */
static int load_elf(struct etm_recorded *rp, const char *path, char *err, size_t errlen)
{
	elf_version(EV_CURRENT);
	struct stat st;
	int fd = file_open_regular(path, &st, err, errlen);
	if (fd < 0)
		return -1;
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	size_t nph = 0;
	int rc = 0;
	if (!elf || elf_kind(elf) != ELF_K_ELF || elf_getphdrnum(elf, &nph) != 0) {
		rc = etm_fail(err, errlen, "%s: not an ELF file (%s)", path, elf_errmsg(-1));
		goto out;
	}
	GElf_Ehdr eh;
	if (gelf_getehdr(elf, &eh))
		rp->aa64 = eh.e_machine == EM_AARCH64;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD || !ph.p_filesz)
			continue;
		size_t got;
		uint8_t *data = read_file_range(path, ph.p_offset, ph.p_filesz, &got, err, errlen);
		if (!data) {
			rc = -1;
			goto out;
		}
		add_region(rp, ph.p_vaddr, data, got, path);
	}
	if (!rp->nmem)
		rc = etm_fail(err, errlen, "%s: no loadable segment with contents", path);
	else
		load_symbols(rp, elf);
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return rc;
}

static int load_dumps(struct etm_recorded *rp, const struct etm_snapshot *ss, const char *core, char *err, size_t errlen)
{
	const struct etm_ss_device *dev = etm_snapshot_device(ss, core);
	if (!dev)
		return etm_fail(err, errlen, "core %s has no device ini", core);
	for (size_t i = 0; i < dev->ndumps; i++) {
		const struct etm_ss_dump *d = &dev->dumps[i];
		char path[4096];
		size_t got;
		snprintf(path, sizeof path, "%s/%s", ss->dir, d->file);
		uint8_t *data = read_file_range(path, d->offset, d->length, &got, err, errlen);
		if (!data)
			return -1;
		add_region(rp, d->address, data, got, path);
	}
	return 0;
}

size_t etm_recorded_read_memory(const struct etm_recorded *rp, uint64_t addr, void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		uint64_t a = addr + done;
		const struct mem_region *hit = NULL;
		for (size_t i = 0; i < rp->nmem && !hit; i++)
			if (a >= rp->mem[i].addr && a - rp->mem[i].addr < rp->mem[i].len)
				hit = &rp->mem[i];
		if (!hit)
			break;
		size_t off = (size_t)(a - hit->addr), take = hit->len - off;
		if (take > len - done)
			take = len - done;
		memcpy((uint8_t *)buf + done, hit->data + off, take);
		done += take;
	}
	return done;
}

static void warn_cb(void *ctx, const char *msg)
{
	struct etm_recorded *rp = ctx;
	if (rp->decoded_once)
		return;
	rp->warnings++;
	fprintf(stderr, "replay: warning: %s\n", msg);
}

/* Decode the whole trace, streaming, into OUT (empty, with its window
 * set), as `cstrace decode --id ID DIR` does, so both agree. */
static int decode_capture(struct etm_recorded *rp, struct trace_ranges *out, char *err, size_t errlen)
{
	char derr[512];
	struct etm_decoder *dec = etm_snapshot_decoder(rp->ss, rp->buf_index, rp->trace_id, warn_cb, rp,
						       NULL, derr, sizeof derr);
	rp->decoded_once = true;
	if (!dec)
		return etm_fail(err, errlen, "%s", derr);
	int rc = etm_ranges_decode_stream(dec, read_raw, rp, rp->raw_len, out, derr, sizeof derr);
	etm_decoder_free(dec);
	if (rc < 0)
		return etm_fail(err, errlen, "%s", derr);
	return 0;
}

const struct trace_ranges *etm_recorded_window(struct etm_recorded *rp, uint64_t size, char *err, size_t errlen)
{
	if (rp->ranges.window == size)
		return &rp->ranges;
	struct trace_ranges fresh;
	trace_ranges_init(&fresh, size);
	if (decode_capture(rp, &fresh, err, errlen) < 0) {
		trace_ranges_free(&fresh);
		return NULL;
	}
	trace_ranges_free(&rp->ranges);
	rp->ranges = fresh;
	return &rp->ranges;
}

/* The PC the thread stands at: the target of the last instruction when
 * that was a taken branch is not in the trace, so the thread stands on
 * that branch (not yet executed); otherwise on the next instruction. */
static void compute_pc(struct etm_recorded *rp)
{
	const struct trace_range *last = &trace_ranges_first(&rp->ranges)[rp->ranges.n - 1];
	bool branch = last->cls == ETM_INSN_JUMP || last->cls == ETM_INSN_CALL || last->cls == ETM_INSN_RETURN ||
		      last->cls == ETM_INSN_EXCEPTION_RETURN;
	rp->pc = branch && (last->flags & ETM_RANGE_TAKEN) ? trace_range_last(last) : last->end;
	rp->thumb = last->isa == ETM_ISA_THUMB;
	if (last->isa == ETM_ISA_A64)
		rp->aa64 = true;
}

/* The first buffer with an instruction-trace source; that source's trace
 * ID is the thread served. Its registers go to RP->unit. */
/* The first source that decodes; else NULL with WHY_NOT saying what was
 * wrong with the first one that did not (the same words cstrace decode
 * gives: both ask etm_snapshot_source_config). */
static const struct etm_ss_source *choose_source(struct etm_recorded *rp, const struct etm_snapshot *ss,
						 size_t *buf_index, char *why_not, size_t why_len)
{
	char why[512];
	why_not[0] = '\0';
	for (size_t b = 0; b < ss->nbuffers; b++)
		for (size_t i = 0; i < ss->nsources; i++) {
			const struct etm_ss_source *src = &ss->sources[i];
			if (!src->buffer || strcmp(src->buffer, ss->buffers[b].name) != 0)
				continue;
			if (etm_snapshot_source_config(ss, src, &rp->unit, why, sizeof why) == 0) {
				*buf_index = b;
				return src;
			}
			if (!why_not[0])
				snprintf(why_not, why_len, ": source %s (core %s): %s", src->name,
					 src->core ? src->core : "?", why);
		}
	return NULL;
}

/* The trace buffer stays in its file, read in windows. */
static int open_buffer(struct etm_recorded *rp, const struct etm_snapshot *ss, size_t buf_index,
		       char *err, size_t errlen)
{
	char *path = etm_snapshot_buffer_path(ss, buf_index);
	struct stat st;
	if (!path)
		return etm_fail(err, errlen, "%s: out of memory", ss->dir);
	rp->raw_fd = file_open_regular(path, &st, err, errlen);
	rp->raw_fd_open = rp->raw_fd >= 0;
	if (!rp->raw_fd_open) {
		free(path);
		return -1;
	}
	free(path);
	rp->raw_len = (uint64_t)st.st_size;
	rp->formatted = strcasecmp(ss->buffers[buf_index].format, "source_data") != 0;
	rp->buffer_name = strdup(ss->buffers[buf_index].name);
	rp->buf_index = buf_index;
	return 0;
}

static int load(struct etm_recorded *rp, struct etm_snapshot *ss, const char *dir, char *err, size_t errlen)
{
	size_t buf_index = 0;
	char why_not[700];
	const struct etm_ss_source *chosen = choose_source(rp, ss, &buf_index, why_not, sizeof why_not);
	if (!chosen)
		return etm_fail(err, errlen, "%s: no instruction-trace source to replay%s", dir, why_not);
	rp->unit.cpu = 0;
	rp->trace_id = etm_trace_id(&rp->unit);
	rp->aa64 = rp->unit.core_arch >= ETM_CORE_V8;
	snprintf(rp->core, sizeof rp->core, "%s", chosen->core ? chosen->core : "?");
	const struct etm_ss_device *core = chosen->core ? etm_snapshot_device(ss, chosen->core) : NULL;
	if (core && core->type)
		snprintf(rp->core, sizeof rp->core, "%s", core->type);
	if (ss->is_capture && ss->elf_path) {
		if (load_elf(rp, ss->elf_path, err, errlen) < 0)
			return -1;
		rp->elf_path = strdup(ss->elf_path);
	} else if (load_dumps(rp, ss, chosen->core, err, errlen) < 0) {
		return -1;
	}
	if (open_buffer(rp, ss, buf_index, err, errlen) < 0)
		return -1;
	rp->ss = ss;
	/* One pass over the trace finds where the thread stands; the window
	 * kept is gdb's default bts buffer, what it most likely asks for. */
	trace_ranges_init(&rp->ranges, ETM_RECORDED_FIRST_WINDOW);
	char derr[512];
	if (decode_capture(rp, &rp->ranges, derr, sizeof derr) < 0)
		return etm_fail(err, errlen, "%s: %s", dir, derr);
	if (!rp->ranges.n)
		return etm_fail(err, errlen, "%s: the trace decodes to no instructions (%u decoder errors%s%s)",
				dir, rp->ranges.nerrors, rp->ranges.nerrors ? ": " : "", rp->ranges.first_error);
	compute_pc(rp);
	rp->dir = strdup(dir);
	return 0;
}

struct etm_recorded *etm_recorded_open(const char *dir, char *err, size_t errlen)
{
	struct etm_snapshot *ss = etm_snapshot_load(dir, err, errlen);
	if (!ss)
		return NULL;
	struct etm_recorded *rp = calloc(1, sizeof *rp);
	if (!rp)
		abort();
	if (load(rp, ss, dir, err, errlen) < 0) {
		if (rp->ss != ss)
			etm_snapshot_free(ss);
		etm_recorded_free(rp);
		return NULL;
	}
	return rp;
}

void etm_recorded_free(struct etm_recorded *rp)
{
	if (!rp)
		return;
	for (size_t i = 0; i < rp->nmem; i++) {
		free(rp->mem[i].data);
		free(rp->mem[i].origin);
	}
	free(rp->mem);
	for (size_t i = 0; i < rp->nsyms; i++)
		free(rp->syms[i].name);
	free(rp->syms);
	if (rp->raw_fd_open)
		close(rp->raw_fd);
	etm_snapshot_free(rp->ss);
	free(rp->dir);
	free(rp->elf_path);
	free(rp->buffer_name);
	trace_ranges_free(&rp->ranges);
	free(rp);
}

void etm_recorded_describe(const struct etm_recorded *rp, struct buf *out)
{
	const struct trace_ranges *tr = &rp->ranges;
	buf_printf(out, "Replaying %s: buffer %s, %" PRIu64 " bytes (%s), %s trace of %s, trace ID 0x%02x\n",
		   rp->dir, rp->buffer_name, rp->raw_len, rp->formatted ? "CoreSight frames" : "raw",
		   etm_unit_name(rp->unit.unit), rp->core,
		   etm_trace_id(&rp->unit));
	buf_printf(out, "Decoded: %" PRIu64 " ranges, %" PRIu64 " instructions, %u gaps, %u decoder errors, "
		   "%u overflows, %u addresses without memory\n",
		   tr->total_ranges, tr->total_insns, tr->ngaps, tr->nerrors, tr->noverflows, tr->nnacc);
	buf_printf(out, "Held (decoded streaming, a window of the newest 0x%" PRIx64 " trace bytes): "
		   "%zu ranges, %" PRIu64 " instructions; %" PRIu64 " older ranges dropped\n",
		   tr->window, tr->n, tr->ninsns, tr->seq);
	buf_printf(out, "Thread stands at pc 0x%" PRIx64 " (%s); memory:", rp->pc,
		   rp->aa64 ? "A64" : rp->thumb ? "Thumb" : "ARM");
	for (size_t i = 0; i < rp->nmem; i++)
		buf_printf(out, " 0x%" PRIx64 "-0x%" PRIx64, rp->mem[i].addr, rp->mem[i].addr + rp->mem[i].len);
	buf_puts(out, "\n");
}


/* ---- the capture as a trace source ------------------------------------- */

struct recorded_source {
	struct etm_source base;
	struct etm_recorded *rec;
};

static struct etm_recorded *rec_of(struct etm_source *s)
{
	return ((struct recorded_source *)s)->rec;
}

/* Tracing its one thread is looking at the recording. */
static int rs_enable(struct etm_source *s, int tid, const struct etm_config *cfg, char *err, size_t errlen)
{
	(void)s; (void)cfg;
	return tid == ETM_RECORDED_TID ? 0 : etm_fail(err, errlen, "No such thread.");
}

static int rs_read_new(struct etm_source *s, int tid, struct etm_read *out, char *err, size_t errlen)
{
	(void)s; (void)tid; (void)out; (void)err; (void)errlen;
	return 0;   /* the trace is read through window / raw_read */
}

static int rs_disable(struct etm_source *s, int tid, char *err, size_t errlen)
{
	(void)s; (void)tid; (void)err; (void)errlen;
	return 0;
}

static int rs_conf(struct etm_source *s, int tid, struct etm_config *out, char *err, size_t errlen)
{
	(void)s; (void)tid; (void)out; (void)err; (void)errlen;
	return 0;   /* what was asked is what is served */
}

static int rs_cpu_regs(struct etm_source *s, int cpu, struct etm_cpu_regs *out, char *err, size_t errlen)
{
	if (cpu != 0)
		return etm_fail(err, errlen, "The capture has one trace unit (CPU 0).");
	*out = *etm_recorded_unit(rec_of(s));
	return 0;
}

static int rs_nr_cpus(struct etm_source *s)
{
	(void)s;
	return 1;
}

static int rs_sink(struct etm_source *s, struct etm_sink_info *out)
{
	bool formatted;
	etm_recorded_raw_info(rec_of(s), &formatted);
	memset(out, 0, sizeof *out);
	out->formatted = out->frame_aligned = out->reset_on_4x_sync = formatted;
	return 0;
}

static void rs_free(struct etm_source *s)
{
	free(s);
}

static void rs_describe(struct etm_source *s, struct buf *out)
{
	etm_recorded_describe(rec_of(s), out);
}

static bool rs_thread(struct etm_source *s, int *pid, int *tid, uint64_t *pc)
{
	*pid = ETM_RECORDED_PID;
	*tid = ETM_RECORDED_TID;
	*pc = etm_recorded_pc(rec_of(s));
	return true;
}

static size_t rs_read_memory(struct etm_source *s, uint64_t addr, void *buf, size_t len)
{
	return etm_recorded_read_memory(rec_of(s), addr, buf, len);
}

static const char *rs_symbol(struct etm_source *s, uint64_t addr)
{
	return etm_recorded_symbol(rec_of(s), addr);
}

static const struct trace_ranges *rs_window(struct etm_source *s, uint64_t size, char *err, size_t errlen)
{
	return etm_recorded_window(rec_of(s), size, err, errlen);
}

static uint64_t rs_raw_size(struct etm_source *s)
{
	bool formatted;
	return etm_recorded_raw_info(rec_of(s), &formatted);
}

static int rs_raw_read(struct etm_source *s, uint64_t offset, void *buf, size_t len)
{
	return etm_recorded_raw_read(rec_of(s), offset, buf, len);
}

static const struct etm_source_ops recorded_ops = {
	.name = "recorded capture",
	.enable = rs_enable,
	.read_new = rs_read_new,
	.disable = rs_disable,
	.conf = rs_conf,
	.cpu_regs = rs_cpu_regs,
	.nr_cpus = rs_nr_cpus,
	.sink = rs_sink,
	.free = rs_free,
	.describe = rs_describe,
	.thread = rs_thread,
	.read_memory = rs_read_memory,
	.symbol = rs_symbol,
	.window = rs_window,
	.raw_size = rs_raw_size,
	.raw_read = rs_raw_read,
};

struct etm_source *etm_recorded_source(struct etm_recorded *rec)
{
	struct recorded_source *s = calloc(1, sizeof *s);
	if (!s)
		abort();
	s->base.ops = &recorded_ops;
	s->rec = rec;
	return &s->base;
}
