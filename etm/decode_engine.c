/* The OpenCSD decoder over its C API: see decode_engine.h and decode.h. */
#include "etm/decode_engine.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <opencsd/c_api/opencsd_c_api.h>
#include <opencsd/etmv3/trc_pkt_types_etmv3.h>
#include <opencsd/etmv4/trc_pkt_types_etmv4.h>
#include <opencsd/ete/trc_pkt_types_ete.h>
#include <opencsd/ptm/trc_pkt_types_ptm.h>

/* Something the decoder keeps alive for OpenCSD: a mapped file, an open
 * ELF, or a memory callback's context. */
struct etm_resource {
	struct etm_resource *next;
	void *map;
	size_t map_len;
	Elf *elf;
	int fd;
	etm_mem_read_fn read_fn;
	void *read_ctx;
};

struct etm_engine {
	dcd_tree_handle_t tree;
	enum etm_stream_format format;
	unsigned num_sources;
	etm_elem_fn out_fn;
	void *out_ctx;
	bool recover;
	bool need_flush;        /* a callback returned WAIT: flush before more data */
	bool eot_sent;
	bool failed;            /* stopped on a fatal error (recover off) */
	bool started;           /* output attached; no more sources */
	bool has_memory;
	bool last_err_valid;
	uint64_t last_err_index;        /* OpenCSD index of the last error reported */
	uint64_t index;         /* bytes fed so far */
	/* Formatted streams go to OpenCSD in whole 16-byte frames (it refuses
	 * the rest): the bytes of a frame not yet whole wait here, CARRY_OFF of
	 * them already fed (a pause inside the frame). */
	uint8_t carry[16];
	size_t ncarry, carry_off;
	uint64_t taken;         /* bytes callers fed, a cut frame's included */
	struct etm_resource *resources;
	char err[256];
};

/* OpenCSD 1.3.3's ocsd_destroy_dcd_tree does not free the 32-byte callback
 * object that ocsd_dt_set_gen_elem_outfn allocates (one per tree, inside
 * the library): tell LeakSanitizer, so that ASan runs still catch ours. */
const char *__lsan_default_suppressions(void);
__attribute__((used)) const char *__lsan_default_suppressions(void)
{
	return "leak:ocsd_dt_set_gen_elem_outfn\n";
}

static pthread_once_t ocsd_init_once = PTHREAD_ONCE_INIT;

static void ocsd_init(void)
{
	/* Collect errors for ocsd_get_last_err without printing them. */
	ocsd_def_errlog_init(OCSD_ERR_SEV_ERROR, 0);
	elf_version(EV_CURRENT);
}

/* The decoder's last failure, for etm_engine_error(). */
#define set_err(dec, ...) etm_fail((dec)->err, sizeof((dec)->err), __VA_ARGS__)

static const char *ocsd_err_text(ocsd_err_t e, char *buf, int len)
{
	ocsd_err_str(e, buf, len);
	return buf;
}

static enum etm_isa map_isa(ocsd_isa isa)
{
	switch (isa) {
	case ocsd_isa_arm: return ETM_ISA_ARM;
	case ocsd_isa_thumb2: return ETM_ISA_THUMB;
	case ocsd_isa_aarch64: return ETM_ISA_A64;
	default: return ETM_ISA_OTHER;
	}
}

static void classify(const ocsd_generic_trace_elem *e, struct etm_elem *out)
{
	out->last_indirect = e->last_i_type == OCSD_INSTR_BR_INDIRECT;
	switch (e->last_i_type) {
	case OCSD_INSTR_BR:
	case OCSD_INSTR_BR_INDIRECT:
		switch (e->last_i_subtype) {
		case OCSD_S_INSTR_BR_LINK: out->last_class = ETM_INSN_CALL; break;
		case OCSD_S_INSTR_V8_RET:
		case OCSD_S_INSTR_V7_IMPLIED_RET: out->last_class = ETM_INSN_RETURN; break;
		case OCSD_S_INSTR_V8_ERET: out->last_class = ETM_INSN_EXCEPTION_RETURN; break;
		default: out->last_class = ETM_INSN_JUMP; break;
		}
		break;
	case OCSD_INSTR_ISB:
	case OCSD_INSTR_DSB_DMB: out->last_class = ETM_INSN_BARRIER; break;
	case OCSD_INSTR_WFI_WFE: out->last_class = ETM_INSN_WAIT; break;
	default: out->last_class = ETM_INSN_OTHER; break;
	}
}

static enum etm_gap_reason unsync_reason(unsync_info_t u)
{
	switch (u) {
	case UNSYNC_RESET_DECODER: return ETM_GAP_RESET;
	case UNSYNC_OVERFLOW: return ETM_GAP_OVERFLOW;
	case UNSYNC_DISCARD: return ETM_GAP_DISCARD;
	case UNSYNC_BAD_PACKET: return ETM_GAP_BAD_PACKET;
	default: return ETM_GAP_NO_SYNC;
	}
}

static ocsd_datapath_resp_t elem_in(const void *ctx, const ocsd_trc_index_t index_sop,
				    const uint8_t trc_chan_id, const ocsd_generic_trace_elem *e)
{
	struct etm_engine *dec = (struct etm_engine *)ctx;
	struct etm_elem out;

	if (!dec->out_fn)
		return OCSD_RESP_CONT;
	memset(&out, 0, sizeof(out));
	out.trace_id = trc_chan_id;
	out.index = index_sop;
	switch (e->elem_type) {
	case OCSD_GEN_TRC_ELEM_INSTR_RANGE:
		out.kind = ETM_ELEM_RANGE;
		out.start = e->st_addr;
		out.end = e->en_addr;
		out.num_insns = e->num_instr_range;
		out.isa = map_isa(e->isa);
		out.last_taken = e->last_instr_exec;
		out.last_cond = e->last_instr_cond;
		out.last_size = e->last_instr_sz;
		classify(e, &out);
		break;
	case OCSD_GEN_TRC_ELEM_NO_SYNC:
		out.kind = ETM_ELEM_GAP;
		out.gap = unsync_reason(e->unsync_eot_info);
		break;
	case OCSD_GEN_TRC_ELEM_TRACE_ON:
		out.kind = ETM_ELEM_GAP;
		out.gap = e->trace_on_reason == TRACE_ON_OVERFLOW ? ETM_GAP_OVERFLOW :
			  e->trace_on_reason == TRACE_ON_EX_DEBUG ? ETM_GAP_DEBUG : ETM_GAP_TRACE_ON;
		break;
	case OCSD_GEN_TRC_ELEM_I_RANGE_NOPATH:
		out.kind = ETM_ELEM_GAP;
		out.gap = ETM_GAP_NO_PATH;
		out.start = e->st_addr;
		out.end = e->en_addr;
		out.num_insns = e->num_instr_range;
		break;
	case OCSD_GEN_TRC_ELEM_ADDR_UNKNOWN:
		out.kind = ETM_ELEM_GAP;
		out.gap = ETM_GAP_ADDR_UNKNOWN;
		break;
	case OCSD_GEN_TRC_ELEM_ADDR_NACC:
		out.kind = ETM_ELEM_ADDR_NACC;
		out.start = e->st_addr;
		break;
	case OCSD_GEN_TRC_ELEM_EXCEPTION:
		out.kind = ETM_ELEM_EXCEPTION;
		out.exception_number = e->exception_number;
		out.has_return_addr = e->excep_ret_addr;
		out.return_addr = e->en_addr;
		break;
	case OCSD_GEN_TRC_ELEM_EXCEPTION_RET:
		out.kind = ETM_ELEM_EXCEPTION_RETURN;
		break;
	case OCSD_GEN_TRC_ELEM_PE_CONTEXT:
		out.kind = ETM_ELEM_CONTEXT;
		out.isa = map_isa(e->isa);
		out.el = e->context.exception_level < 0 ? 0 : (uint8_t)e->context.exception_level;
		out.el_valid = e->context.el_valid;
		out.aarch64 = e->context.bits64;
		out.context_id_valid = e->context.ctxt_id_valid;
		out.context_id = e->context.context_id;
		out.vmid_valid = e->context.vmid_valid;
		out.vmid = e->context.vmid;
		break;
	case OCSD_GEN_TRC_ELEM_EO_TRACE:
		out.kind = ETM_ELEM_END;
		break;
	default:
		/* Timestamps, cycle counts, events, markers: not used. */
		return OCSD_RESP_CONT;
	}
	return dec->out_fn(dec->out_ctx, &out) ? OCSD_RESP_WAIT : OCSD_RESP_CONT;
}

struct etm_engine *etm_engine_new(enum etm_stream_format format, char *err, size_t errlen)
{
	struct etm_engine *dec;
	ocsd_dcd_tree_src_t src = OCSD_TRC_SRC_FRAME_FORMATTED;
	uint32_t flags = 0;

	pthread_once(&ocsd_init_once, ocsd_init);
	switch (format) {
	case ETM_STREAM_FRAMED:
		flags = OCSD_DFRMTR_FRAME_MEM_ALIGN;
		break;
	case ETM_STREAM_FRAMED_FSYNC:
		flags = OCSD_DFRMTR_HAS_FSYNCS;
		break;
	case ETM_STREAM_RAW:
		src = OCSD_TRC_SRC_SINGLE;
		break;
	default:
		if (err && errlen)
			snprintf(err, errlen, "unknown trace format %d", (int)format);
		return NULL;
	}
	dec = calloc(1, sizeof(*dec));
	if (!dec) {
		if (err && errlen)
			snprintf(err, errlen, "out of memory");
		return NULL;
	}
	dec->format = format;
	dec->recover = true;
	dec->tree = ocsd_create_dcd_tree(src, flags);
	if (dec->tree == C_API_INVALID_TREE_HANDLE) {
		if (err && errlen)
			snprintf(err, errlen, "OpenCSD could not create a decode tree");
		free(dec);
		return NULL;
	}
	return dec;
}

void etm_engine_free(struct etm_engine *dec)
{
	if (!dec)
		return;
	/* The tree first: its accessors point into our mappings. */
	ocsd_destroy_dcd_tree(dec->tree);
	while (dec->resources) {
		struct etm_resource *r = dec->resources;
		dec->resources = r->next;
		if (r->elf)
			elf_end(r->elf);
		if (r->map)
			munmap(r->map, r->map_len);
		if (r->fd >= 0)
			close(r->fd);
		free(r);
	}
	free(dec);
}

void etm_engine_set_output(struct etm_engine *dec, etm_elem_fn fn, void *ctx)
{
	dec->out_fn = fn;
	dec->out_ctx = ctx;
}

void etm_engine_set_recover(struct etm_engine *dec, bool recover)
{
	dec->recover = recover;
}

const char *etm_engine_error(const struct etm_engine *dec)
{
	return dec->err;
}

uint64_t etm_engine_bytes(const struct etm_engine *dec)
{
	return dec->taken;
}

unsigned etm_engine_num_sources(const struct etm_engine *dec)
{
	return dec->num_sources;
}

int etm_engine_add_source(struct etm_engine *dec, const struct etm_cpu_regs *cfg)
{
	const char *name;
	const void *ocfg;
	ocsd_etmv3_cfg v3;
	ocsd_ptm_cfg ptm;
	ocsd_etmv4_cfg v4;
	ocsd_ete_cfg ete;
	unsigned char csid = 0;
	ocsd_err_t e;
	char ebuf[128];
	uint8_t id = etm_trace_id(cfg);
	ocsd_core_profile_t core_prof = cfg->profile ? (ocsd_core_profile_t)cfg->profile : profile_CortexA;
	ocsd_arch_version_t arch_ver = (ocsd_arch_version_t)cfg->core_arch;
	if (!cfg->core_arch)
		arch_ver = cfg->unit == ETM_UNIT_ETE ? ARCH_AA64 : cfg->unit == ETM_UNIT_ETMV4 ? ARCH_V8 : ARCH_V7;

	if (dec->started) {
		set_err(dec, "sources must be added before decoding starts");
		return -1;
	}
	if (dec->format == ETM_STREAM_RAW && dec->num_sources) {
		set_err(dec, "a raw (unformatted) trace stream carries one source only");
		return -1;
	}
	if (dec->format != ETM_STREAM_RAW && (id == 0 || id >= 0x70)) {
		set_err(dec, "trace ID 0x%x is reserved (valid: 0x01-0x6f)", id);
		return -1;
	}
	switch (cfg->unit) {
	case ETM_UNIT_ETMV3:
		v3 = (ocsd_etmv3_cfg){
			.reg_idr = cfg->etmidr, .reg_ctrl = cfg->etmcr,
			.reg_ccer = cfg->etmccer, .reg_trc_id = cfg->etmtraceidr,
			.arch_ver = arch_ver,
			.core_prof = core_prof,
		};
		name = OCSD_BUILTIN_DCD_ETMV3;
		ocfg = &v3;
		break;
	case ETM_UNIT_PTM:
		ptm = (ocsd_ptm_cfg){
			.reg_idr = cfg->etmidr, .reg_ctrl = cfg->etmcr,
			.reg_ccer = cfg->etmccer, .reg_trc_id = cfg->etmtraceidr,
			.arch_ver = arch_ver,
			.core_prof = core_prof,
		};
		name = OCSD_BUILTIN_DCD_PTM;
		ocfg = &ptm;
		break;
	case ETM_UNIT_ETMV4:
		v4 = (ocsd_etmv4_cfg){
			.reg_idr0 = cfg->trcidr[0], .reg_idr1 = cfg->trcidr[1],
			.reg_idr2 = cfg->trcidr[2], .reg_idr8 = cfg->trcidr[8],
			.reg_idr9 = cfg->trcidr[9], .reg_idr10 = cfg->trcidr[10],
			.reg_idr11 = cfg->trcidr[11], .reg_idr12 = cfg->trcidr[12],
			.reg_idr13 = cfg->trcidr[13], .reg_configr = cfg->trcconfigr,
			.reg_traceidr = cfg->trctraceidr,
			.arch_ver = arch_ver,
			.core_prof = core_prof,
		};
		name = OCSD_BUILTIN_DCD_ETMV4I;
		ocfg = &v4;
		break;
	case ETM_UNIT_ETE:
		ete = (ocsd_ete_cfg){
			.reg_idr0 = cfg->trcidr[0], .reg_idr1 = cfg->trcidr[1],
			.reg_idr2 = cfg->trcidr[2], .reg_idr8 = cfg->trcidr[8],
			.reg_devarch = cfg->trcdevarch,
			.reg_configr = cfg->trcconfigr,
			.reg_traceidr = cfg->trctraceidr,
			.arch_ver = arch_ver,
			.core_prof = core_prof,
		};
		name = OCSD_BUILTIN_DCD_ETE;
		ocfg = &ete;
		break;
	default:
		set_err(dec, "unknown trace protocol %d", (int)cfg->unit);
		return -1;
	}
	e = ocsd_dt_create_decoder(dec->tree, name, OCSD_CREATE_FLG_FULL_DECODER, ocfg, &csid);
	if (e != OCSD_OK) {
		set_err(dec, "cannot create %s decoder for trace ID 0x%x: %s",
			etm_unit_name(cfg->unit), id, ocsd_err_text(e, ebuf, sizeof(ebuf)));
		return -1;
	}
	dec->num_sources++;
	return 0;
}

static struct etm_resource *new_resource(struct etm_engine *dec)
{
	struct etm_resource *r = calloc(1, sizeof(*r));
	if (!r) {
		set_err(dec, "out of memory");
		return NULL;
	}
	r->fd = -1;
	r->next = dec->resources;
	dec->resources = r;
	return r;
}

/* OpenCSD takes 32-bit buffer lengths: split larger images. */
static int add_buffer(struct etm_engine *dec, uint64_t addr, const uint8_t *data, size_t len)
{
	const size_t max_chunk = (size_t)1 << 30;
	char ebuf[128];

	if (len == 0) {
		set_err(dec, "empty memory image at 0x%llx", (unsigned long long)addr);
		return -1;
	}
	if (addr + (len - 1) < addr) {
		set_err(dec, "memory image at 0x%llx wraps the address space",
			(unsigned long long)addr);
		return -1;
	}
	while (len) {
		size_t n = len < max_chunk ? len : max_chunk;
		ocsd_err_t e = ocsd_dt_add_buffer_mem_acc(dec->tree, addr, OCSD_MEM_SPACE_ANY,
							  data, (uint32_t)n);
		if (e == OCSD_OK)
			dec->has_memory = true;
		if (e != OCSD_OK) {
			set_err(dec, "memory image 0x%llx-0x%llx: %s", (unsigned long long)addr,
				(unsigned long long)(addr + n - 1),
				e == OCSD_ERR_MEM_ACC_OVERLAP ? "overlaps an earlier image"
							      : ocsd_err_text(e, ebuf, sizeof(ebuf)));
			return -1;
		}
		addr += n;
		data += n;
		len -= n;
	}
	return 0;
}

int etm_engine_add_mem_buffer(struct etm_engine *dec, uint64_t addr, const void *data, size_t len)
{
	return add_buffer(dec, addr, data, len);
}

int etm_engine_add_mem_file(struct etm_engine *dec, uint64_t addr, const char *path,
			     uint64_t offset, uint64_t len)
{
	struct stat st;
	struct etm_resource *r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		set_err(dec, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		set_err(dec, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (offset >= (uint64_t)st.st_size) {
		set_err(dec, "%s: offset 0x%llx is beyond the end of the file (%lld bytes)",
			path, (unsigned long long)offset, (long long)st.st_size);
		close(fd);
		return -1;
	}
	/* A length past the end of the file is cut to the file, as OpenCSD does. */
	if (len == 0 || len > (uint64_t)st.st_size - offset)
		len = (uint64_t)st.st_size - offset;
	r = new_resource(dec);
	if (!r) {
		close(fd);
		return -1;
	}
	r->map_len = (size_t)st.st_size;
	r->map = mmap(NULL, r->map_len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (r->map == MAP_FAILED) {
		r->map = NULL;
		set_err(dec, "%s: mmap: %s", path, strerror(errno));
		return -1;
	}
	return add_buffer(dec, addr, (const uint8_t *)r->map + offset, (size_t)len);
}

int etm_engine_add_elf(struct etm_engine *dec, const char *path, uint64_t bias)
{
	struct etm_resource *r;
	size_t nphdr, raw_size, added = 0;
	const char *raw;

	pthread_once(&ocsd_init_once, ocsd_init);
	r = new_resource(dec);
	if (!r)
		return -1;
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0) {
		set_err(dec, "%s: %s", path, strerror(errno));
		return -1;
	}
	r->elf = elf_begin(r->fd, ELF_C_READ_MMAP, NULL);
	if (!r->elf || elf_kind(r->elf) != ELF_K_ELF) {
		set_err(dec, "%s: not an ELF file%s%s", path, r->elf ? "" : ": ",
			r->elf ? "" : elf_errmsg(-1));
		return -1;
	}
	raw = elf_rawfile(r->elf, &raw_size);
	if (!raw || elf_getphdrnum(r->elf, &nphdr) != 0) {
		set_err(dec, "%s: cannot read program headers: %s", path, elf_errmsg(-1));
		return -1;
	}
	for (size_t i = 0; i < nphdr; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(r->elf, (int)i, &ph)) {
			set_err(dec, "%s: program header %zu: %s", path, i, elf_errmsg(-1));
			return -1;
		}
		if (ph.p_type != PT_LOAD || ph.p_filesz == 0)
			continue;
		if (ph.p_offset > raw_size || ph.p_filesz > raw_size - ph.p_offset) {
			set_err(dec, "%s: segment %zu lies beyond the end of the file", path, i);
			return -1;
		}
		if (add_buffer(dec, ph.p_vaddr + bias, (const uint8_t *)raw + ph.p_offset,
			       (size_t)ph.p_filesz) < 0) {
			char msg[sizeof(dec->err) * 4];
			snprintf(msg, sizeof(msg), "%s: segment %zu: %s", path, i, dec->err);
			set_err(dec, "%s", msg);
			return -1;
		}
		added++;
	}
	if (!added) {
		set_err(dec, "%s: no loadable segment with contents", path);
		return -1;
	}
	return 0;
}

static uint32_t mem_cb(const void *ctx, const ocsd_vaddr_t address,
		       const ocsd_mem_space_acc_t mem_space, const uint8_t trc_id,
		       const uint32_t req, uint8_t *buf)
{
	const struct etm_resource *r = ctx;
	(void)mem_space;
	return r->read_fn(r->read_ctx, address, trc_id, req, buf);
}

int etm_engine_add_mem_callback(struct etm_engine *dec, uint64_t start, uint64_t end,
				 etm_mem_read_fn fn, void *ctx)
{
	struct etm_resource *r;
	ocsd_err_t e;
	char ebuf[128];

	if (end <= start) {
		set_err(dec, "empty memory callback range 0x%llx-0x%llx",
			(unsigned long long)start, (unsigned long long)end);
		return -1;
	}
	r = new_resource(dec);
	if (!r)
		return -1;
	r->read_fn = fn;
	r->read_ctx = ctx;
	e = ocsd_dt_add_callback_trcid_mem_acc(dec->tree, start, end - 1, OCSD_MEM_SPACE_ANY,
					       mem_cb, r);
	if (e == OCSD_OK)
		dec->has_memory = true;
	if (e != OCSD_OK) {
		set_err(dec, "memory callback 0x%llx-0x%llx: %s", (unsigned long long)start,
			(unsigned long long)end,
			e == OCSD_ERR_MEM_ACC_OVERLAP ? "overlaps an earlier image"
						      : ocsd_err_text(e, ebuf, sizeof(ebuf)));
		return -1;
	}
	return 0;
}

static uint32_t no_memory(const void *ctx, const ocsd_vaddr_t address,
			  const ocsd_mem_space_acc_t mem_space, const uint32_t req, uint8_t *buf)
{
	(void)ctx, (void)address, (void)mem_space, (void)req, (void)buf;
	return 0;
}

/* Report OpenCSD's last error as an element and in dec->err. */
static void report_fatal(struct etm_engine *dec, ocsd_datapath_resp_t resp)
{
	char msg[200] = "";
	ocsd_trc_index_t idx = 0;
	uint8_t chan = 0;
	ocsd_err_t e = ocsd_get_last_err(&idx, &chan, msg, (int)sizeof(msg));
	struct etm_elem el;

	/* OpenCSD keeps the last error until a new one: do not repeat a stale one. */
	if (e == OCSD_OK || !msg[0] || (dec->last_err_valid && idx == dec->last_err_index))
		snprintf(msg, sizeof(msg), "fatal decoder error (data path response %d)", (int)resp);
	else {
		dec->last_err_valid = true;
		dec->last_err_index = idx;
	}
	set_err(dec, "trace byte %llu: %s", (unsigned long long)dec->index, msg);
	if (dec->out_fn) {
		memset(&el, 0, sizeof(el));
		el.kind = ETM_ELEM_ERROR;
		el.trace_id = chan;
		el.index = dec->index;
		el.message = dec->err;
		dec->out_fn(dec->out_ctx, &el);  /* cannot pause here */
	}
}

/* Finish elements held back by an earlier WAIT. */
static enum etm_decode_status flush_pending(struct etm_engine *dec)
{
	ocsd_datapath_resp_t resp;

	if (!dec->need_flush)
		return ETM_DECODE_OK;
	resp = ocsd_dt_process_data(dec->tree, OCSD_OP_FLUSH, 0, 0, NULL, NULL);
	if (OCSD_DATA_RESP_IS_WAIT(resp))
		return ETM_DECODE_PAUSED;
	dec->need_flush = false;
	if (OCSD_DATA_RESP_IS_FATAL(resp)) {
		report_fatal(dec, resp);
		if (!dec->recover) {
			dec->failed = true;
			return ETM_DECODE_ERROR;
		}
		ocsd_dt_process_data(dec->tree, OCSD_OP_RESET, (ocsd_trc_index_t)dec->index, 0, NULL, NULL);
	}
	return ETM_DECODE_OK;
}

/* Everything the first feed does once: the output and the memory map. */
static enum etm_decode_status start_feeding(struct etm_engine *dec)
{
	enum etm_decode_status st;

	if (dec->failed)
		return ETM_DECODE_ERROR;
	if (!dec->num_sources) {
		set_err(dec, "no trace source configured");
		return ETM_DECODE_ERROR;
	}
	/* OpenCSD attaches the output only to decoders that exist when it is
	 * set, so set it once all sources are in. */
	if (!dec->started) {
		ocsd_dt_set_gen_elem_outfn(dec->tree, elem_in, dec);
		/* OpenCSD makes its memory map with the first image; with none,
		 * decoders fail instead of reporting unreadable addresses. An
		 * empty callback at the top byte creates the map. */
		if (!dec->has_memory)
			ocsd_dt_add_callback_mem_acc(dec->tree, UINT64_MAX, UINT64_MAX,
						     OCSD_MEM_SPACE_ANY, no_memory, NULL);
		dec->started = true;
	}
	st = flush_pending(dec);
	if (st != ETM_DECODE_OK)
		return st;
	dec->eot_sent = false;
	return ETM_DECODE_OK;
}

/* LEN bytes to OpenCSD as they are; *CONSUMED of them taken. */
static enum etm_decode_status feed_bytes(struct etm_engine *dec, const uint8_t *data,
					 size_t len, size_t *consumed)
{
	size_t done = 0;
	while (done < len) {
		uint32_t used = 0;
		size_t chunk = len - done;
		ocsd_datapath_resp_t resp;

		if (chunk > 0x40000000u)
			chunk = 0x40000000u;
		resp = ocsd_dt_process_data(dec->tree, OCSD_OP_DATA, (ocsd_trc_index_t)dec->index,
					    (uint32_t)chunk, data + done, &used);
		if (used > chunk)
			used = (uint32_t)chunk;
		done += used;
		dec->index += used;
		if (OCSD_DATA_RESP_IS_FATAL(resp)) {
			report_fatal(dec, resp);
			if (!dec->recover) {
				dec->failed = true;
				if (consumed)
					*consumed = done;
				return ETM_DECODE_ERROR;
			}
			ocsd_dt_process_data(dec->tree, OCSD_OP_RESET, (ocsd_trc_index_t)dec->index,
					     0, NULL, NULL);
			if (used == 0) {
				/* Step over the byte (or frame) it choked on. */
				size_t skip = dec->format == ETM_STREAM_RAW ? 1 : 16;
				if (skip > len - done)
					skip = len - done;
				done += skip;
				dec->index += skip;
			}
			continue;
		}
		if (OCSD_DATA_RESP_IS_WAIT(resp)) {
			dec->need_flush = true;
			if (consumed)
				*consumed = done;
			return ETM_DECODE_PAUSED;
		}
	}
	if (consumed)
		*consumed = done;
	return ETM_DECODE_OK;
}

static enum etm_decode_status feed_frames(struct etm_engine *dec, const uint8_t *data,
					  size_t len, size_t *consumed)
{
	size_t taken = 0, used = 0;
	if (consumed)
		*consumed = 0;
	enum etm_decode_status st = start_feeding(dec);
	if (st != ETM_DECODE_OK || dec->format == ETM_STREAM_RAW)
		return st == ETM_DECODE_OK ? feed_bytes(dec, data, len, consumed) : st;
	/* complete the waiting frame first */
	if (dec->ncarry) {
		taken = 16 - dec->ncarry < len ? 16 - dec->ncarry : len;
		memcpy(dec->carry + dec->ncarry, data, taken);
		dec->ncarry += taken;
		if (dec->ncarry < 16) {
			if (consumed)
				*consumed = taken;
			return ETM_DECODE_OK;
		}
		st = feed_bytes(dec, dec->carry + dec->carry_off, 16 - dec->carry_off, &used);
		dec->carry_off += used;
		if (st != ETM_DECODE_OK) {
			if (consumed)
				*consumed = taken;
			return st;
		}
		dec->ncarry = dec->carry_off = 0;
	}
	size_t rest = len - taken, whole = rest & ~(size_t)15;
	st = feed_bytes(dec, data + taken, whole, &used);
	if (st != ETM_DECODE_OK) {
		if (consumed)
			*consumed = taken + used;
		return st;
	}
	memcpy(dec->carry, data + taken + whole, rest - whole);
	dec->ncarry = rest - whole;
	if (consumed)
		*consumed = len;
	return ETM_DECODE_OK;
}

enum etm_decode_status etm_engine_feed(struct etm_engine *dec, const uint8_t *data,
					size_t len, size_t *consumed)
{
	size_t used = 0;
	enum etm_decode_status st = feed_frames(dec, data, len, &used);
	dec->taken += used;
	if (consumed)
		*consumed = used;
	return st;
}

/* The trace ended inside a frame: said once, where, and what is left out. */
static void report_cut(struct etm_engine *dec)
{
	if (!dec->ncarry)
		return;
	set_err(dec, "trace ends inside a frame at byte %llu: the last %zu bytes are not a whole "
		"16-byte frame and are not decoded", (unsigned long long)dec->index, dec->ncarry);
	dec->ncarry = dec->carry_off = 0;
	if (dec->out_fn) {
		struct etm_elem el;
		memset(&el, 0, sizeof el);
		el.kind = ETM_ELEM_ERROR;
		el.index = dec->index;
		el.message = dec->err;
		dec->out_fn(dec->out_ctx, &el);
	}
}

enum etm_decode_status etm_engine_end(struct etm_engine *dec)
{
	enum etm_decode_status st;
	ocsd_datapath_resp_t resp;

	if (dec->failed)
		return ETM_DECODE_ERROR;
	if (!dec->started)
		return ETM_DECODE_OK;   /* nothing was fed */
	st = flush_pending(dec);
	if (st != ETM_DECODE_OK)
		return st;
	if (dec->eot_sent)
		return ETM_DECODE_OK;
	report_cut(dec);
	dec->eot_sent = true;
	resp = ocsd_dt_process_data(dec->tree, OCSD_OP_EOT, 0, 0, NULL, NULL);
	if (OCSD_DATA_RESP_IS_WAIT(resp)) {
		dec->need_flush = true;
		return ETM_DECODE_PAUSED;
	}
	if (OCSD_DATA_RESP_IS_FATAL(resp)) {
		report_fatal(dec, resp);
		return ETM_DECODE_ERROR;
	}
	return ETM_DECODE_OK;
}

enum etm_decode_status etm_engine_reset(struct etm_engine *dec)
{
	ocsd_datapath_resp_t resp;

	dec->need_flush = false;
	dec->failed = false;
	dec->eot_sent = false;
	dec->ncarry = dec->carry_off = 0;   /* a new stream starts on a frame */
	resp = ocsd_dt_process_data(dec->tree, OCSD_OP_RESET, (ocsd_trc_index_t)dec->index,
				    0, NULL, NULL);
	if (OCSD_DATA_RESP_IS_FATAL(resp)) {
		report_fatal(dec, resp);
		return ETM_DECODE_ERROR;
	}
	return ETM_DECODE_OK;
}
