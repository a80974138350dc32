/* csgdbserver --replay: see replay.h. */
#include "server/replay.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "etm/decode.h"
#include "etm/snapshot.h"
#include "common/hex.h"

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

static struct {
	bool active;
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
	struct tdec_unit unit;
	char core[64];
	bool aa64;              /* AArch64 register set */
	uint64_t pc;
	bool thumb;
	struct mem_region *mem;
	size_t nmem;
	struct func_sym *syms;      /* sorted by address */
	size_t nsyms;
	unsigned warnings;
} rp;

bool replay_active(void) { return rp.active; }
const struct tdec_unit *replay_unit(void) { return &rp.unit; }
uint64_t replay_pc(void) { return rp.pc; }
bool replay_thumb(void) { return rp.thumb; }
const char *replay_elf_path(void) { return rp.elf_path; }

uint64_t replay_raw_info(bool *formatted)
{
	*formatted = rp.formatted;
	return rp.raw_len;
}

static int read_raw(void *ctx, uint64_t offset, void *buf, size_t len)
{
	(void)ctx;
	size_t done = 0;
	errno = 0;
	while (done < len) {
		ssize_t n = pread(rp.raw_fd, (uint8_t *)buf + done, len - done, (off_t)(offset + done));
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

int replay_raw_read(uint64_t offset, void *buf, size_t len)
{
	if (offset > rp.raw_len || len > rp.raw_len - offset) {
		errno = EINVAL;
		return -1;
	}
	return read_raw(NULL, offset, buf, len);
}

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static void add_region(uint64_t addr, uint8_t *data, size_t len, const char *origin)
{
	struct mem_region *grown = realloc(rp.mem, (rp.nmem + 1) * sizeof *grown);
	if (!grown)
		abort();
	rp.mem = grown;
	rp.mem[rp.nmem++] = (struct mem_region){addr, len, data, strdup(origin)};
}

static uint8_t *read_file_range(const char *path, uint64_t offset, uint64_t len, size_t *got,
				char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		fail(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (offset > (uint64_t)st.st_size) {
		fail(err, errlen, "%s: offset 0x%" PRIx64 " is past the end of the file", path, offset);
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
			fail(err, errlen, "%s: %s", path, n < 0 ? strerror(errno) : "unexpected end of file");
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
static void load_symbols(Elf *elf)
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
			struct func_sym *grown = realloc(rp.syms, (rp.nsyms + 1) * sizeof *grown);
			if (!grown)
				abort();
			rp.syms = grown;
			rp.syms[rp.nsyms++] = (struct func_sym){sym.st_value & ~1ull, sym.st_size, strdup(name)};
		}
	}
	if (rp.nsyms)
		qsort(rp.syms, rp.nsyms, sizeof *rp.syms, sym_cmp);
}

const char *replay_symbol(uint64_t addr)
{
	size_t lo = 0, hi = rp.nsyms;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (rp.syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i-- > 0;) {
		if (addr < rp.syms[i].addr + (rp.syms[i].size ? rp.syms[i].size : 1))
			return rp.syms[i].name;
		if (rp.syms[i].size)
			break;
	}
	return NULL;
}

/* Every PT_LOAD segment's file contents at its virtual address, as the
 * decoder sees the program (etm_decoder_add_elf). */
static int load_elf(const char *path, char *err, size_t errlen)
{
	elf_version(EV_CURRENT);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(err, errlen, "%s: %s", path, strerror(errno));
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	size_t nph = 0;
	int rc = 0;
	if (!elf || elf_kind(elf) != ELF_K_ELF || elf_getphdrnum(elf, &nph) != 0) {
		rc = fail(err, errlen, "%s: not an ELF file (%s)", path, elf_errmsg(-1));
		goto out;
	}
	GElf_Ehdr eh;
	if (gelf_getehdr(elf, &eh))
		rp.aa64 = eh.e_machine == EM_AARCH64;
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
		add_region(ph.p_vaddr, data, got, path);
	}
	if (!rp.nmem)
		rc = fail(err, errlen, "%s: no loadable segment with contents", path);
	else
		load_symbols(elf);
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return rc;
}

static int load_dumps(const struct etm_snapshot *ss, const char *core, char *err, size_t errlen)
{
	const struct etm_ss_device *dev = etm_snapshot_device(ss, core);
	if (!dev)
		return fail(err, errlen, "core %s has no device ini", core);
	for (size_t i = 0; i < dev->ndumps; i++) {
		const struct etm_ss_dump *d = &dev->dumps[i];
		char path[4096];
		size_t got;
		snprintf(path, sizeof path, "%s/%s", ss->dir, d->file);
		uint8_t *data = read_file_range(path, d->offset, d->length, &got, err, errlen);
		if (!data)
			return -1;
		add_region(d->address, data, got, path);
	}
	return 0;
}

size_t replay_read_memory(uint64_t addr, void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		uint64_t a = addr + done;
		const struct mem_region *hit = NULL;
		for (size_t i = 0; i < rp.nmem && !hit; i++)
			if (a >= rp.mem[i].addr && a - rp.mem[i].addr < rp.mem[i].len)
				hit = &rp.mem[i];
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
	(void)ctx;
	if (rp.decoded_once)
		return;
	rp.warnings++;
	fprintf(stderr, "replay: warning: %s\n", msg);
}

/* Decode the whole trace, streaming, into OUT (empty, with its window
 * set), as `cstrace decode --id ID DIR` does, so both agree. */
static int decode_capture(struct trace_ranges *out, char *err, size_t errlen)
{
	char derr[512];
	struct etm_decoder *dec = etm_snapshot_decoder(rp.ss, rp.buf_index, rp.trace_id, warn_cb, NULL,
						       NULL, derr, sizeof derr);
	rp.decoded_once = true;
	if (!dec)
		return fail(err, errlen, "%s", derr);
	int rc = tdec_decode_stream(dec, read_raw, NULL, rp.raw_len, out, derr, sizeof derr);
	etm_decoder_free(dec);
	if (rc < 0)
		return fail(err, errlen, "%s", derr);
	return 0;
}

const struct trace_ranges *replay_window(uint64_t size, char *err, size_t errlen)
{
	if (rp.ranges.window == size)
		return &rp.ranges;
	struct trace_ranges fresh;
	trace_ranges_init(&fresh, size);
	if (decode_capture(&fresh, err, errlen) < 0) {
		trace_ranges_free(&fresh);
		return NULL;
	}
	trace_ranges_free(&rp.ranges);
	rp.ranges = fresh;
	return &rp.ranges;
}

static void unit_from_config(const struct etm_source_config *c)
{
	struct tdec_unit *u = &rp.unit;
	memset(u, 0, sizeof *u);
	u->protocol = c->protocol == ETM_PROTO_ETMV3 ? TDEC_ETMV3 :
		      c->protocol == ETM_PROTO_PTM ? TDEC_PTM :
		      c->protocol == ETM_PROTO_ETMV4 ? TDEC_ETMV4 : TDEC_ETE;
	u->aa64 = c->arch == ETM_ARCH_V8 || c->arch == ETM_ARCH_V8R3 || c->arch == ETM_ARCH_AA64;
	u->profile_r = c->profile == ETM_PROFILE_R;
	u->profile_m = c->profile == ETM_PROFILE_M;
	if (u->protocol == TDEC_ETMV3 || u->protocol == TDEC_PTM) {
		u->etmidr = c->regs.v3.etmidr;
		u->etmcr = c->regs.v3.etmcr;
		u->etmccer = c->regs.v3.etmccer;
		u->etmtraceidr = c->regs.v3.etmtraceidr;
	} else {
		u->trcidr[0] = c->regs.v4.trcidr0;
		u->trcidr[1] = c->regs.v4.trcidr1;
		u->trcidr[2] = c->regs.v4.trcidr2;
		u->trcidr[8] = c->regs.v4.trcidr8;
		u->trcidr[9] = c->regs.v4.trcidr9;
		u->trcidr[10] = c->regs.v4.trcidr10;
		u->trcidr[11] = c->regs.v4.trcidr11;
		u->trcidr[12] = c->regs.v4.trcidr12;
		u->trcidr[13] = c->regs.v4.trcidr13;
		u->trcconfigr = c->regs.v4.trcconfigr;
		u->trctraceidr = c->regs.v4.trctraceidr;
		u->trcdevarch = c->regs.v4.trcdevarch;
	}
}

/* The PC the thread stands at: the target of the last instruction when
 * that was a taken branch is not in the trace, so the thread stands on
 * that branch (not yet executed); otherwise on the next instruction. */
static void compute_pc(void)
{
	const struct trace_range *last = &trace_ranges_first(&rp.ranges)[rp.ranges.n - 1];
	bool branch = last->cls == TDEC_JUMP || last->cls == TDEC_CALL || last->cls == TDEC_RETURN ||
		      last->cls == TDEC_EXC_RETURN;
	rp.pc = branch && (last->flags & TDEC_TAKEN) ? trace_range_last(last) : last->end;
	rp.thumb = last->isa == TDEC_ISA_THUMB;
	if (last->isa == TDEC_ISA_A64)
		rp.aa64 = true;
}

int replay_open(const char *dir, char *err, size_t errlen)
{
	char why[512];
	struct etm_snapshot *ss = etm_snapshot_load(dir, err, errlen);
	if (!ss)
		return -1;
	int rc = -1;
	/* The first buffer with an instruction-trace source; that source's
	 * trace ID is the thread we serve. */
	size_t buf_index = 0;
	int trace_id = -1;
	const struct etm_ss_source *chosen = NULL;
	struct etm_source_config cfg;
	for (size_t b = 0; b < ss->nbuffers && !chosen; b++)
		for (size_t i = 0; i < ss->nsources && !chosen; i++) {
			const struct etm_ss_source *src = &ss->sources[i];
			if (!src->buffer || strcmp(src->buffer, ss->buffers[b].name) != 0)
				continue;
			if (etm_snapshot_source_config(ss, src, &cfg, why, sizeof why) == 0) {
				chosen = src;
				buf_index = b;
				trace_id = etm_source_trace_id(&cfg);
			}
		}
	if (!chosen) {
		fail(err, errlen, "%s: no instruction-trace source to replay", dir);
		goto out;
	}
	unit_from_config(&cfg);
	rp.unit.cpu = 0;
	/* ID registers the decoder does not need but option checks do. */
	const struct etm_ss_device *srcdev = etm_snapshot_device(ss, chosen->name);
	const struct etm_ini_section *regsec = srcdev ? etm_ini_find(&srcdev->ini, "regs") : NULL;
	if (regsec) {
		uint32_t v;
		char name[16];
		rp.unit.have_etmccr = etm_ini_reg(regsec, "ETMCCR", &rp.unit.etmccr) == 1;
		for (int i = 0; i < 14; i++) {
			snprintf(name, sizeof name, "TRCIDR%d", i);
			if (etm_ini_reg(regsec, name, &v) == 1) {
				rp.unit.trcidr[i] = v;
				rp.unit.have_trcidr |= 1u << i;
			}
		}
	}
	snprintf(rp.core, sizeof rp.core, "%s", chosen->core ? chosen->core : "?");
	rp.aa64 = rp.unit.aa64;
	const struct etm_ss_device *core = chosen->core ? etm_snapshot_device(ss, chosen->core) : NULL;
	if (core && core->type)
		snprintf(rp.core, sizeof rp.core, "%s", core->type);
	if (ss->is_capture && ss->elf_path) {
		if (load_elf(ss->elf_path, err, errlen) < 0)
			goto out;
		rp.elf_path = strdup(ss->elf_path);
	} else if (load_dumps(ss, chosen->core, err, errlen) < 0) {
		goto out;
	}
	char *path = etm_snapshot_buffer_path(ss, buf_index);
	struct stat st;
	rp.raw_fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	rp.raw_fd_open = rp.raw_fd >= 0;
	if (!rp.raw_fd_open || fstat(rp.raw_fd, &st) < 0) {
		fail(err, errlen, "%s: %s", path ? path : dir, strerror(errno));
		free(path);
		goto out;
	}
	free(path);
	rp.raw_len = (uint64_t)st.st_size;
	rp.formatted = strcasecmp(ss->buffers[buf_index].format, "source_data") != 0;
	rp.buffer_name = strdup(ss->buffers[buf_index].name);
	rp.ss = ss;
	ss = NULL;
	rp.buf_index = buf_index;
	rp.trace_id = trace_id;
	/* One pass over the trace finds where the thread stands; the window
	 * kept is gdb's default bts buffer, what it most likely asks for. */
	trace_ranges_init(&rp.ranges, REPLAY_FIRST_WINDOW);
	char derr[512];
	if (decode_capture(&rp.ranges, derr, sizeof derr) < 0) {
		fail(err, errlen, "%s: %s", dir, derr);
		goto out;
	}
	if (!rp.ranges.n) {
		fail(err, errlen, "%s: the trace decodes to no instructions (%u decoder errors%s%s)", dir,
		     rp.ranges.nerrors, rp.ranges.nerrors ? ": " : "", rp.ranges.first_error);
		goto out;
	}
	compute_pc();
	rp.dir = strdup(dir);
	rp.active = true;
	rc = 0;
out:
	etm_snapshot_free(ss);
	if (rc < 0)
		replay_close();
	return rc;
}

void replay_close(void)
{
	for (size_t i = 0; i < rp.nmem; i++) {
		free(rp.mem[i].data);
		free(rp.mem[i].origin);
	}
	free(rp.mem);
	for (size_t i = 0; i < rp.nsyms; i++)
		free(rp.syms[i].name);
	free(rp.syms);
	if (rp.raw_fd_open)
		close(rp.raw_fd);
	etm_snapshot_free(rp.ss);
	free(rp.dir);
	free(rp.elf_path);
	free(rp.buffer_name);
	trace_ranges_free(&rp.ranges);
	memset(&rp, 0, sizeof rp);
}

static const char *protocol_text(enum tdec_protocol p)
{
	switch (p) {
	case TDEC_ETMV3: return "ETMv3";
	case TDEC_PTM: return "PTM";
	case TDEC_ETMV4: return "ETMv4";
	default: return "ETE";
	}
}

void replay_describe(struct buf *out)
{
	const struct trace_ranges *tr = &rp.ranges;
	buf_printf(out, "Replaying %s: buffer %s, %" PRIu64 " bytes (%s), %s trace of %s, trace ID 0x%02x\n",
		   rp.dir, rp.buffer_name, rp.raw_len, rp.formatted ? "CoreSight frames" : "raw",
		   protocol_text(rp.unit.protocol), rp.core,
		   rp.unit.protocol <= TDEC_PTM ? rp.unit.etmtraceidr & 0x7f : rp.unit.trctraceidr & 0x7f);
	buf_printf(out, "Decoded: %" PRIu64 " ranges, %" PRIu64 " instructions, %u gaps, %u decoder errors, "
		   "%u overflows, %u addresses without memory\n",
		   tr->total_ranges, tr->total_insns, tr->ngaps, tr->nerrors, tr->noverflows, tr->nnacc);
	buf_printf(out, "Held (decoded streaming, a window of the newest 0x%" PRIx64 " trace bytes): "
		   "%zu ranges, %" PRIu64 " instructions; %" PRIu64 " older ranges dropped\n",
		   tr->window, tr->n, tr->ninsns, tr->seq);
	buf_printf(out, "Thread stands at pc 0x%" PRIx64 " (%s); memory:", rp.pc,
		   rp.aa64 ? "A64" : rp.thumb ? "Thumb" : "ARM");
	for (size_t i = 0; i < rp.nmem; i++)
		buf_printf(out, " 0x%" PRIx64 "-0x%" PRIx64, rp.mem[i].addr, rp.mem[i].addr + rp.mem[i].len);
	buf_puts(out, "\n");
}
