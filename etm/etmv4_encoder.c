#include "etm/etmv4_encoder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- instruction classification ------------------------------------------
 * Instruction classes as OpenCSD's decoder walks them: a decoder follows
 * the code from an address to the next P0 element and consumes one atom
 * there, so the encoder must stop at exactly the same instructions. ETMv4
 * with TRCIDR8.MAXSPEC = 0 and no WFx-as-branch (TRCIDR2.WFXMODE = 0):
 * P0 elements are branches and ISB (DSB/DMB and WFI/WFE are not). */

static int64_t sext(uint64_t v, unsigned bits)
{
	uint64_t m = 1ull << (bits - 1);
	v &= (bits == 64) ? ~0ull : ((1ull << bits) - 1);
	return (int64_t)((v ^ m) - m);
}

static void classify_a64(bool v8_3, uint64_t addr, uint32_t i, struct etmv4_insn *o)
{
	o->size = 4;
	o->target_isa = ETMV4_ISA_A64;
	if ((i & 0xffdffc1fu) == 0xd61f0000u) {               /* BR, BLR */
		o->wp = ETMV4_WP_INDIRECT;
		o->link = (i & 0x00200000u) != 0;
		o->always_taken = true;
	} else if ((i & 0xfffffc1fu) == 0xd65f0000u || i == 0xd69f03e0u) {  /* RET, ERET */
		o->wp = ETMV4_WP_INDIRECT;
		o->always_taken = true;
	} else if (v8_3 && ((i & 0xffdff800u) == 0xd71f0800u || (i & 0xffdff81fu) == 0xd61f081fu)) {
		o->wp = ETMV4_WP_INDIRECT;                     /* BRA*, BLRA* */
		o->link = (i & 0x00200000u) != 0;
		o->always_taken = true;
	} else if (v8_3 && ((i & 0xfffffbffu) == 0xd69f0bffu || (i & 0xfffffbffu) == 0xd65f0bffu)) {
		o->wp = ETMV4_WP_INDIRECT;                     /* ERETA*, RETA* */
		o->always_taken = true;
	} else if ((i & 0x7c000000u) == 0x34000000u) {        /* CBZ/CBNZ, TBZ/TBNZ */
		o->wp = ETMV4_WP_BRANCH;
		if ((i & 0x02000000u) == 0)
			o->target = addr + (uint64_t)(sext(i >> 5, 19) * 4);
		else
			o->target = addr + (uint64_t)(sext(i >> 5, 14) * 4);
	} else if ((i & 0xff000010u) == 0x54000000u) {        /* B.cond */
		o->wp = ETMV4_WP_BRANCH;
		o->target = addr + (uint64_t)(sext(i >> 5, 19) * 4);
	} else if ((i & 0x7c000000u) == 0x14000000u) {        /* B, BL */
		o->wp = ETMV4_WP_BRANCH;
		o->link = (i & 0x80000000u) != 0;
		o->always_taken = true;
		o->target = addr + (uint64_t)(sext(i, 26) * 4);
	} else if ((i & 0xfffff0ffu) == 0xd50330dfu) {        /* ISB */
		o->wp = ETMV4_WP_ISB;
	} else if ((i & 0xffe0001fu) == 0xd4000001u) {        /* SVC */
		o->svc = true;
	}
}

/* A32: OpenCSD tests indirect forms first (data processing writing the PC
 * included), then B/BL/BLX, then barriers. */
static bool a32_indirect(uint32_t i, bool *link)
{
	if ((i & 0xf0000000u) == 0xf0000000u)
		return (i & 0xfe500000u) == 0xf8100000u;      /* RFE */
	if ((i & 0x0ff000d0u) == 0x01200010u) {               /* BX, BLX (register) */
		*link = (i & 0x0ff000f0u) == 0x01200030u;
		return true;
	}
	if ((i & 0x0ff000f0u) == 0x01200020u)                 /* BXJ */
		return true;
	if ((i & 0x0e108000u) == 0x08108000u)                 /* LDM with the PC */
		return true;
	if ((i & 0x0e50f000u) == 0x0410f000u)                 /* LDR PC, immediate */
		return true;
	if ((i & 0x0e50f010u) == 0x0610f000u)                 /* LDR PC, register */
		return true;
	if ((i & 0x0fe0f000u) == 0x01a0f000u)                 /* MOV PC */
		return true;
	if ((i & 0x0f900080u) == 0x01000000u)                 /* miscellaneous */
		return false;
	if ((i & 0x0f9000f0u) == 0x01800090u)                 /* extra loads/stores */
		return false;
	if ((i & 0x0fb0f000u) == 0x0320f000u)                 /* MSR immediate */
		return false;
	if ((i & 0x0e00f000u) == 0x0200f000u)                 /* data processing, PC, immediate */
		return (i & 0x0f90f000u) != 0x0310f000u;      /* but not TST/TEQ/CMP/CMN */
	return (i & 0x0e00f000u) == 0x0000f000u;              /* data processing, PC, register */
}

static void classify_a32(uint64_t addr, uint32_t i, struct etmv4_insn *o)
{
	bool link = false;
	o->size = 4;
	o->target_isa = ETMV4_ISA_A32;
	bool uncond = (i >> 28) >= 0xe;
	if (a32_indirect(i, &link)) {
		o->wp = ETMV4_WP_INDIRECT;
		o->link = link;
		o->always_taken = uncond;
	} else if ((i & 0xfe000000u) == 0xfa000000u) {        /* BLX (immediate) */
		o->wp = ETMV4_WP_BRANCH;
		o->link = o->always_taken = true;
		o->target = (uint32_t)(addr + 8 + (uint64_t)(sext(i, 24) * 4) + ((i >> 23) & 2));
		o->target_isa = ETMV4_ISA_T32;
	} else if ((i & 0xf0000000u) != 0xf0000000u && (i & 0x0e000000u) == 0x0a000000u) {
		o->wp = ETMV4_WP_BRANCH;                       /* B, BL */
		o->link = (i & 0x01000000u) != 0;
		o->always_taken = uncond;
		o->target = (uint32_t)(addr + 8 + (uint64_t)(sext(i, 24) * 4));
	} else if ((i & 0xfff000f0u) == 0xf5700060u ||        /* ISB */
		   ((i & 0x0fff0fffu) == 0x0e070f95u)) {      /* MCR p15 ISB */
		o->wp = ETMV4_WP_ISB;
	} else if ((i & 0x0f000000u) == 0x0f000000u && (i >> 28) != 0xf) {
		o->svc = true;
	}
}

/* T32: I = first halfword << 16 | second halfword (the second is whatever
 * follows a 16-bit instruction; the masks of 16-bit forms ignore it).
 * Direct branches are tested before indirect ones. */
static void classify_t32(uint64_t addr, uint32_t i, struct etmv4_insn *o)
{
	uint16_t hw1 = (uint16_t)(i >> 16);
	o->size = (hw1 & 0xf800u) >= 0xe800u ? 4 : 2;
	o->target_isa = ETMV4_ISA_T32;
	uint32_t a = (uint32_t)addr;
	uint32_t s = (i >> 26) & 1, j1 = (i >> 13) & 1, j2 = (i >> 11) & 1;
	if ((i & 0xf0000000u) == 0xd0000000u && (i & 0x0e000000u) != 0x0e000000u) {
		o->wp = ETMV4_WP_BRANCH;                       /* B<c> T1 */
		o->target = (uint32_t)(a + 4 + (uint32_t)(sext(i >> 16, 8) * 2));
	} else if ((i & 0xf8000000u) == 0xe0000000u) {        /* B T2 */
		o->wp = ETMV4_WP_BRANCH;
		o->target = (uint32_t)(a + 4 + (uint32_t)(sext(i >> 16, 11) * 2));
	} else if ((i & 0xf800d000u) == 0xf0008000u && (i & 0x03800000u) != 0x03800000u) {
		o->wp = ETMV4_WP_BRANCH;                       /* B<c> T3 */
		uint32_t off = (s << 20) | (j2 << 19) | (j1 << 18) | (((i >> 16) & 0x3f) << 12) |
			       ((i & 0x7ff) << 1);
		o->target = (uint32_t)(a + 4 + (uint32_t)sext(off, 21));
	} else if ((i & 0xf8009000u) == 0xf0009000u || (i & 0xf800d001u) == 0xf000c000u) {
		bool blx = (i & 0x00001000u) == 0;             /* BLX (immediate) T2 */
		uint32_t i1 = !(j1 ^ s), i2 = !(j2 ^ s);
		uint32_t off = (s << 24) | (i1 << 23) | (i2 << 22) | (((i >> 16) & 0x3ff) << 12) |
			       ((i & 0x7ff) << 1);
		o->wp = ETMV4_WP_BRANCH;
		if (blx) {
			o->link = true;
			o->target = (uint32_t)((a & ~3u) + 4 + (uint32_t)sext(off & ~3u, 25));
			o->target_isa = ETMV4_ISA_A32;
		} else {
			o->link = (i & 0x00004000u) != 0;      /* BL vs B T4 */
			o->target = (uint32_t)(a + 4 + (uint32_t)sext(off, 25));
		}
	} else if ((i & 0xf5000000u) == 0xb1000000u) {        /* CBZ, CBNZ */
		o->wp = ETMV4_WP_BRANCH;
		o->target = a + 4 + ((((i >> 25) & 1) << 6) | (((i >> 19) & 0x1f) << 1));
	} else if ((i & 0xff000000u) == 0x47000000u) {        /* BX, BLX (register) */
		o->wp = ETMV4_WP_INDIRECT;
		o->link = (i & 0x00800000u) != 0;
	} else if ((i & 0xfff0d000u) == 0xf3c08000u ||        /* BXJ */
		   (i & 0xff000000u) == 0xbd000000u ||        /* POP {..., pc} */
		   (i & 0xfd870000u) == 0x44870000u ||        /* MOV/ADD PC, Rm */
		   (i & 0xfff0ffe0u) == 0xe8d0f000u ||        /* TBB, TBH */
		   (i & 0xffd00000u) == 0xe8100000u ||        /* RFE */
		   (i & 0xffd00000u) == 0xe9900000u ||
		   (i & 0xfff0d000u) == 0xf3d08000u ||        /* SUBS PC, LR / ERET */
		   (i & 0xfff0f000u) == 0xf8d0f000u ||        /* LDR PC, immediate T3 */
		   (i & 0xff7ff000u) == 0xf85ff000u ||        /* LDR PC, literal */
		   (i & 0xfff0f800u) == 0xf850f800u ||        /* LDR PC, immediate T4 */
		   (i & 0xfff0ffc0u) == 0xf850f000u ||        /* LDR PC, register */
		   (i & 0xfe508000u) == 0xe8108000u) {        /* LDM with the PC */
		o->wp = ETMV4_WP_INDIRECT;
	} else if ((i & 0xfffffff0u) == 0xf3bf8f60u ||        /* ISB */
		   (i & 0xffff0fffu) == 0xee070f95u) {        /* MCR p15 ISB */
		o->wp = ETMV4_WP_ISB;
	} else if ((hw1 & 0xff00u) == 0xdf00u) {
		o->svc = true;
	}
	/* Inside an IT block any of these may be conditional: never assume taken. */
}

void etmv4_classify(enum etmv4_isa isa, bool v8_3, uint64_t addr, const uint8_t b[4],
		    struct etmv4_insn *out)
{
	memset(out, 0, sizeof(*out));
	uint32_t le = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	switch (isa) {
	case ETMV4_ISA_A64:
		classify_a64(v8_3, addr, le, out);
		break;
	case ETMV4_ISA_A32:
		classify_a32(addr, le, out);
		break;
	case ETMV4_ISA_T32:
		classify_t32(addr, (le << 16) | (le >> 16), out);
		break;
	}
}

/* ---- registers ----------------------------------------------------------- */

void etmv4_emulated_regs(unsigned trace_id, struct etm_cpu_regs *r)
{
	memset(r, 0, sizeof(*r));
	r->cpu = 0;
	r->unit = ETM_UNIT_ETMV4;
	/* TRCIDR0: instruction trace only: no branch broadcast, cycle
	 * counting, return stack, timestamps, conditional or data trace. */
	r->trcidr[0] = 0x00000001;
	r->trcidr[1] = 0x4100f420;       /* ETMv4.2 */
	r->trcidr[2] = 0x00000488;       /* IASIZE 64, CIDSIZE 32, VMIDSIZE 8 */
	r->trcidr[3] = 0x02110000;       /* EL0 only (Secure and Non-secure), fixed sync period */
	r->trcidr[4] = 0x01000004;       /* 4 address comparator pairs, 1 CID comparator */
	r->trcidr[5] = 0x00070000;       /* 7-bit trace ID */
	r->trcidr[8] = 0;                /* MAXSPEC 0: every element commits at once */
	r->have_trcidr = 0x3fff;
	r->trcconfigr = TRCCONFIGR_CID | 1u;  /* bit 0 is RES1 */
	r->trctraceidr = trace_id & 0x7f;
	r->trcauthstatus = 0xcc;         /* non-invasive debug enabled */
	r->trcdevarch = 0x47724a13;      /* Arm, ETMv4, revision 2 */
	r->have = ETM_HAVE_AUTHSTATUS | ETM_HAVE_DEVARCH | ETM_HAVE_TRACEID | ETM_HAVE_CONFIGR;
}

/* ---- packets --------------------------------------------------------------- */

static void put(struct etmv4_tracer *t, const uint8_t *b, size_t n)
{
	buf_append(&t->out, b, n);
	t->st.since_sync += n;
}

/* Atoms go out in the fewest packets greedy packing finds: format 6
 * (3-23 E then one E or N) for runs of E, formats 5/4 for runs of N,
 * format 3/2/1 otherwise. */
static void flush_atoms(struct etmv4_tracer *t)
{
	const uint8_t *a = t->st.atoms;
	unsigned n = t->st.n_atoms, i = 0;
	while (i < n) {
		unsigned run = 0;
		while (i + run < n && a[i + run])
			run++;
		unsigned nrun = 0;
		while (!run && i + nrun < n && !a[i + nrun] && nrun < 5)
			nrun++;
		uint8_t h;
		if (nrun == 5) {
			h = 0xd5;                                /* format 5: NNNNN */
			i += 5;
		} else if (nrun == 4) {
			h = 0xdd;                                /* format 4: NNNN */
			i += 4;
		} else if (run >= 3 && i + run < n && run <= 23) {
			h = (uint8_t)(0xe0 | (run - 3));       /* run E, then N */
			i += run + 1;
		} else if (run >= 4) {
			unsigned e = run - 1 > 23 ? 23 : run - 1;
			h = (uint8_t)(0xc0 | (e - 3));         /* e E, then E */
			i += e + 1;
		} else {
			unsigned k = n - i >= 3 ? 3 : n - i;
			uint8_t bits = 0;
			for (unsigned j = 0; j < k; j++)
				bits |= (uint8_t)(a[i + j] << j);
			h = k == 3 ? (uint8_t)(0xf8 | bits) : k == 2 ? (uint8_t)(0xd8 | bits) : (uint8_t)(0xf6 | bits);
			i += k;
		}
		put(t, &h, 1);
	}
	t->st.n_atoms = 0;
}

static void atom(struct etmv4_tracer *t, bool e)
{
	if (t->st.n_atoms == sizeof(t->st.atoms))
		flush_atoms(t);
	t->st.atoms[t->st.n_atoms++] = e;
	t->stats.atoms++;
}

static void packet(struct etmv4_tracer *t, const uint8_t *b, size_t n)
{
	if (t->st.n_atoms)
		flush_atoms(t);
	put(t, b, n);
}

/* Address bytes: IS0 (A64, A32) drops bits 1:0, IS1 (T32) bit 0. */
static size_t addr_bytes(uint8_t *p, uint64_t a, bool is1, bool wide)
{
	if (is1) {
		p[0] = (uint8_t)((a >> 1) & 0x7f);
		p[1] = (uint8_t)(a >> 8);
	} else {
		p[0] = (uint8_t)((a >> 2) & 0x7f);
		p[1] = (uint8_t)((a >> 9) & 0x7f);
	}
	p[2] = (uint8_t)(a >> 16);
	p[3] = (uint8_t)(a >> 24);
	if (!wide)
		return 4;
	for (int k = 4; k < 8; k++)
		p[k] = (uint8_t)(a >> (8 * k));
	return 8;
}

/* Target address, compressed against the last address the decoder holds
 * (the packet replaces only the low bits it carries): short forms when
 * only bits [8:2]/[16:2] (IS0) or [7:1]/[15:1] (IS1) change, the 32-bit
 * form when the upper half is unchanged, else the full width. */
static void emit_address(struct etmv4_tracer *t, uint64_t a, enum etmv4_isa isa)
{
	uint8_t p[9];
	size_t n;
	bool wide = t->cfg.aarch64, is1 = isa == ETMV4_ISA_T32;
	unsigned sh = is1 ? 1 : 2;
	uint64_t last = t->st.last_addr;
	bool known = t->st.last_addr_valid;
	if (known && (a >> (sh + 7)) == (last >> (sh + 7))) {
		p[0] = is1 ? 0x96 : 0x95;
		p[1] = (uint8_t)((a >> sh) & 0x7f);
		n = 2;
	} else if (known && (a >> (sh + 15)) == (last >> (sh + 15))) {
		p[0] = is1 ? 0x96 : 0x95;
		p[1] = (uint8_t)(0x80 | ((a >> sh) & 0x7f));
		p[2] = (uint8_t)(a >> (sh + 7));
		n = 3;
	} else if ((known || !wide) && (a >> 32) == (last >> 32)) {
		p[0] = is1 ? 0x9b : 0x9a;
		n = 1 + addr_bytes(p + 1, a, is1, false);
	} else {
		p[0] = is1 ? 0x9e : 0x9d;
		n = 1 + addr_bytes(p + 1, a, is1, true);
	}
	packet(t, p, n);
	t->st.last_addr = a;
	t->st.last_addr_valid = true;
}

/* Address with context: EL0, non-secure, the register width, context ID. */
static void emit_address_context(struct etmv4_tracer *t, uint64_t a, enum etmv4_isa isa)
{
	uint8_t p[16];
	bool wide = t->cfg.aarch64, is1 = isa == ETMV4_ISA_T32;
	p[0] = (uint8_t)(wide ? (is1 ? 0x86 : 0x85) : (is1 ? 0x83 : 0x82));
	size_t n = 1 + addr_bytes(p + 1, a, is1, wide);
	p[n++] = (uint8_t)(0x80 | 0x20 | (wide ? 0x10 : 0));   /* CID follows, NS, SF, EL0 */
	for (int k = 0; k < 4; k++)
		p[n++] = (uint8_t)(t->cfg.context_id >> (8 * k));
	packet(t, p, n);
	t->st.last_addr = a;
	t->st.last_addr_valid = true;
}

static void emit_sync(struct etmv4_tracer *t)
{
	static const uint8_t async[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80};
	static const uint8_t tinfo[3] = {0x01, 0x01, 0x00};   /* INFO section, all 0 */
	if (t->st.n_atoms)
		flush_atoms(t);
	if (t->n_syncs == t->cap_syncs) {
		size_t cap = t->cap_syncs ? 2 * t->cap_syncs : 16;
		size_t *p = realloc(t->syncs, cap * sizeof(*p));
		if (!p) {
			perror("csgdbserver: out of memory");
			abort();
		}
		t->syncs = p;
		t->cap_syncs = cap;
	}
	t->syncs[t->n_syncs++] = t->out.len;
	t->st.since_sync = 0;
	t->st.last_addr_valid = false;     /* a decoder may start here */
	put(t, async, sizeof async);
	put(t, tinfo, sizeof tinfo);
	t->st.need_sync = false;
	t->st.after_taken = false;
	t->stats.syncs++;
	/* A decoder starting here learns the address and context now; while
	 * tracing is off it learns them from the Trace On that follows. */
	if (t->st.traced && t->st.pos_known) {
		emit_address_context(t, t->st.pos, t->st.isa);
		t->st.dec_known = true;
	} else {
		t->st.dec_known = false;
	}
}

static void emit_exception(struct etmv4_tracer *t, unsigned type, uint64_t ret, enum etmv4_isa isa)
{
	/* E1:E0 = 0b10: the return address is also the target of the
	 * preceding taken branch (nothing ran there); 0b01 otherwise. */
	uint8_t p[2] = {0x06, (uint8_t)(((type & 0x1f) << 1) | (t->st.after_taken ? 0x40 : 0x01))};
	packet(t, p, 2);
	emit_address(t, ret, isa);
	t->stats.exceptions++;
}

/* ---- the tracer ------------------------------------------------------------ */

void etmv4_tracer_init(struct etmv4_tracer *t, const struct etmv4_tracer_config *cfg,
		       etmv4_mem_fn mem, void *mem_ctx)
{
	memset(t, 0, sizeof(*t));
	t->cfg = *cfg;
	if (t->cfg.sync_period < 64)
		t->cfg.sync_period = 64;
	if (!t->cfg.max_walk)
		t->cfg.max_walk = 1u << 20;
	t->mem = mem;
	t->mem_ctx = mem_ctx;
	t->st.isa = cfg->aarch64 ? ETMV4_ISA_A64 : ETMV4_ISA_A32;
	t->st.ss_started = cfg->filter.n_start == 0;
	t->st.need_sync = true;
}

void etmv4_tracer_free(struct etmv4_tracer *t)
{
	buf_free(&t->out);
	free(t->syncs);
	memset(t, 0, sizeof(*t));
}

static enum etmv4_isa isa_of(const struct etmv4_tracer *t, uint64_t addr)
{
	if (t->cfg.aarch64)
		return ETMV4_ISA_A64;
	return (addr & 1) ? ETMV4_ISA_T32 : ETMV4_ISA_A32;
}

static uint64_t code_addr(const struct etmv4_tracer *t, uint64_t addr)
{
	return t->cfg.aarch64 ? addr & ~3ull : addr & ~1ull;
}

static bool in_ranges(const struct etm_addr_range *r, unsigned n, uint64_t a)
{
	for (unsigned i = 0; i < n; i++)
		if (a >= r[i].start && a < r[i].end)
			return true;
	return false;
}

static bool in_list(const uint64_t *l, unsigned n, uint64_t a)
{
	for (unsigned i = 0; i < n; i++)
		if (l[i] == a)
			return true;
	return false;
}

/* ViewInst for the instruction at A, which executes now: the start/stop
 * logic (the instruction at a start or a stop point is traced) and the
 * include/exclude ranges. */
static bool view_inst(struct etmv4_tracer *t, uint64_t a)
{
	const struct etmv4_filter *f = &t->cfg.filter;
	if (f->n_start && !t->st.ss_started && in_list(f->start, f->n_start, a))
		t->st.ss_started = true;
	bool on = t->st.ss_started &&
		  (!f->n_include || in_ranges(f->include, f->n_include, a)) &&
		  !in_ranges(f->exclude, f->n_exclude, a);
	if (f->n_stop && t->st.ss_started && in_list(f->stop, f->n_stop, a))
		t->st.ss_started = false;
	return on;
}

static void maybe_sync(struct etmv4_tracer *t)
{
	if (t->st.need_sync || t->st.since_sync >= t->cfg.sync_period)
		emit_sync(t);
}

/* The instruction at A is about to execute: trace it or not. */
static bool execute(struct etmv4_tracer *t, uint64_t a, enum etmv4_isa isa)
{
	bool on = view_inst(t, a);
	if (on && !t->st.traced) {
		static const uint8_t trace_on = 0x04;
		packet(t, &trace_on, 1);
		emit_address_context(t, a, isa);
		t->stats.trace_on++;
		t->st.dec_known = true;
		t->st.after_taken = false;
	} else if (on && !t->st.dec_known) {
		emit_address(t, a, isa);
		t->st.dec_known = true;
		t->st.after_taken = false;
	}
	t->st.traced = on;
	if (on)
		t->st.after_taken = false;
	t->stats.insns++;
	return on;
}

/* Execution leaves user space (exception with preferred return RET) and
 * comes back at TO: the kernel is not traced. */
static void take_exception(struct etmv4_tracer *t, unsigned type, uint64_t ret,
			   enum etmv4_isa ret_isa, uint64_t to)
{
	if (t->st.traced)
		emit_exception(t, type, ret, ret_isa);
	t->st.traced = false;
	t->st.dec_known = false;
	t->st.after_taken = false;
	t->st.pos = code_addr(t, to);
	t->st.isa = isa_of(t, to);
	t->st.pos_known = true;
}

enum walk_result { WALK_OK, WALK_FAIL };

/* Execute the instructions from the current position up to (not
 * including) STOP; leaves *INSN describing the instruction at STOP. */
static enum walk_result walk_to(struct etmv4_tracer *t, uint64_t stop, struct etmv4_insn *insn)
{
	uint64_t a = t->st.pos;
	enum etmv4_isa isa = t->st.isa;
	for (uint32_t n = 0;; n++) {
		if (n > t->cfg.max_walk)
			return WALK_FAIL;
		uint8_t b[4];
		if (t->mem(t->mem_ctx, a, 4, b) != 4)
			return WALK_FAIL;
		etmv4_classify(isa, t->cfg.v8_3, a, b, insn);
		if (a == stop) {
			t->st.pos = a;
			t->st.isa = isa;
			return WALK_OK;
		}
		if (insn->wp != ETMV4_WP_NONE && insn->always_taken)
			return WALK_FAIL;          /* a branch that must have been taken */
		bool on = execute(t, a, isa);
		uint64_t next = a + insn->size;
		if (t->cfg.aarch64 == false)
			next &= 0xffffffffu;
		if (insn->wp != ETMV4_WP_NONE) {
			if (on) {
				atom(t, insn->wp == ETMV4_WP_ISB);
				t->st.after_taken = false;
			}
		} else if (insn->svc) {
			/* A syscall nobody reported: the kernel returns after it. */
			take_exception(t, ETMV4_EXC_CALL, next, isa, next | (isa == ETMV4_ISA_T32));
			t->stats.syscalls++;
		}
		a = next;
	}
}

static int walk_failed(struct etmv4_tracer *t, const struct etmv4_tracer_state *saved,
		       size_t out_mark, size_t sync_mark, uint64_t to)
{
	/* Undo the partial walk: the path to the branch is unknown. Say
	 * trace was lost and resynchronise at TO. */
	t->st = *saved;
	t->out.len = out_mark;
	if (t->out.data)
		t->out.data[out_mark] = 0;
	t->n_syncs = sync_mark;
	t->stats.walk_failures++;
	if (t->st.n_atoms)
		flush_atoms(t);
	static const uint8_t overflow[2] = {0x00, 0x05};
	put(t, overflow, 2);
	t->st.last_addr_valid = false;
	t->st.traced = false;
	t->st.pos = code_addr(t, to);
	t->st.isa = isa_of(t, to);
	t->st.pos_known = true;
	emit_sync(t);
	return -1;
}

void etmv4_tracer_resume(struct etmv4_tracer *t, uint64_t pc)
{
	uint64_t a = code_addr(t, pc);
	enum etmv4_isa isa = isa_of(t, pc);
	if (t->st.pos_known && t->st.pos == a && t->st.isa == isa)
		return;
	t->st.pos = a;
	t->st.isa = isa;
	t->st.pos_known = true;
	t->st.traced = false;           /* a discontinuity: Trace On follows */
	t->st.dec_known = false;
	t->st.after_taken = false;
}

int etmv4_tracer_advance(struct etmv4_tracer *t, uint64_t pc)
{
	uint64_t a = code_addr(t, pc);
	if (!t->st.pos_known || (t->st.pos == a && t->st.isa == isa_of(t, pc))) {
		etmv4_tracer_resume(t, pc);
		return 0;
	}
	struct etmv4_tracer_state saved = t->st;
	size_t out_mark = t->out.len, sync_mark = t->n_syncs;
	maybe_sync(t);
	struct etmv4_insn insn;
	if (walk_to(t, a, &insn) == WALK_OK && t->st.isa == isa_of(t, pc))
		return 0;
	t->st = saved;
	t->out.len = out_mark;
	if (t->out.data)
		t->out.data[out_mark] = 0;
	t->n_syncs = sync_mark;
	etmv4_tracer_resume(t, pc);
	return -1;
}

/* Bring the trace up to ADDR, where a branch or an exception the recorder
 * reported happens next (INSN is the instruction there). False when there
 * is nothing more to do for the event; *RET is then the result. */
static bool walk_to_event(struct etmv4_tracer *t, uint64_t addr, uint64_t to,
			  struct etmv4_insn *insn, int *ret)
{
	t->stats.branches++;
	*ret = 0;
	if (!t->st.pos_known) {
		etmv4_tracer_resume(t, to);
		return false;
	}
	struct etmv4_tracer_state saved = t->st;
	size_t out_mark = t->out.len, sync_mark = t->n_syncs;
	maybe_sync(t);
	if (walk_to(t, addr, insn) != WALK_OK) {
		*ret = walk_failed(t, &saved, out_mark, sync_mark, to);
		return false;
	}
	return true;
}

int etmv4_tracer_branch(struct etmv4_tracer *t, uint64_t from, uint64_t to)
{
	uint64_t fa = code_addr(t, from);
	struct etmv4_insn insn;
	int ret;
	if (!walk_to_event(t, fa, to, &insn, &ret))
		return ret;
	enum etmv4_isa isa = t->st.isa;
	uint64_t next = fa + insn.size, ta = code_addr(t, to);
	if (!t->cfg.aarch64)
		next &= 0xffffffffu;
	if (insn.svc) {
		execute(t, fa, isa);
		take_exception(t, ETMV4_EXC_CALL, next, isa, to);
		t->stats.syscalls++;
		return 0;
	}
	bool direct_ok = insn.wp == ETMV4_WP_BRANCH &&
			 (ta == insn.target || (ta == next && !insn.always_taken));
	if (insn.wp == ETMV4_WP_NONE || (insn.wp == ETMV4_WP_BRANCH && !direct_ok) ||
	    (insn.wp == ETMV4_WP_ISB && ta != next)) {
		/* FROM did not run: the thread was interrupted there. */
		take_exception(t, ETMV4_EXC_IRQ, fa, isa, to);
		return 0;
	}
	bool on = execute(t, fa, isa);
	bool taken = insn.wp == ETMV4_WP_ISB || !(insn.wp == ETMV4_WP_BRANCH && ta != insn.target);
	if (on) {
		atom(t, taken);
		t->st.after_taken = taken && insn.wp != ETMV4_WP_ISB;
		if (taken && insn.wp == ETMV4_WP_INDIRECT)
			t->st.dec_known = false;   /* the target address follows */
	}
	t->st.pos = ta;
	if (insn.wp == ETMV4_WP_BRANCH)
		t->st.isa = taken ? insn.target_isa : isa;
	else if (insn.wp == ETMV4_WP_INDIRECT)
		t->st.isa = isa_of(t, to);
	return 0;
}

int etmv4_tracer_exception(struct etmv4_tracer *t, uint64_t ret, uint64_t to, unsigned type)
{
	uint64_t ra = code_addr(t, ret);
	struct etmv4_insn insn;
	int result;
	if (!walk_to_event(t, ra, to, &insn, &result))
		return result;
	take_exception(t, type, ra, t->st.isa, to);   /* an SVC before RA counted itself */
	return 0;
}

void etmv4_tracer_flush(struct etmv4_tracer *t)
{
	if (t->st.n_atoms)
		flush_atoms(t);
}

void etmv4_tracer_force_sync(struct etmv4_tracer *t)
{
	t->st.need_sync = true;
}

/* ---- frame formatter ------------------------------------------------------- */

void cs_formatter_init(struct cs_formatter *f, uint8_t trace_id)
{
	memset(f, 0, sizeof(*f));
	f->id = trace_id;
	f->pos = 1;
}

/* Byte slot P of the frame: even slots keep bit 0 in byte 15. */
static void slot(struct cs_formatter *f, unsigned p, uint8_t d)
{
	if (p & 1) {
		f->frame[p] = d;
		return;
	}
	f->frame[p] = d & 0xfe;
	if (d & 1)
		f->frame[15] |= (uint8_t)(1u << (p / 2));
	else
		f->frame[15] &= (uint8_t)~(1u << (p / 2));
}

static void frame_start(struct cs_formatter *f)
{
	memset(f->frame, 0, sizeof f->frame);
	f->frame[0] = (uint8_t)((f->id << 1) | 1);   /* ID, takes effect at once */
	f->pos = 1;
}

void cs_formatter_put(struct cs_formatter *f, const uint8_t *data, size_t len, struct buf *out)
{
	for (size_t i = 0; i < len; i++) {
		if (f->pos == 1)
			frame_start(f);
		slot(f, f->pos++, data[i]);
		if (f->pos == 15) {
			buf_append(out, f->frame, 16);
			f->pos = 1;
		}
	}
}

bool cs_formatter_flush(struct cs_formatter *f, struct buf *out)
{
	if (f->pos == 1)
		return false;
	unsigned p = f->pos;
	if (p & 1) {
		/* The last data byte sits in an even slot: move it to the odd
		 * slot after an ID-0 change flagged "next byte is still the
		 * old ID". */
		uint8_t d = (uint8_t)(f->frame[p - 1] | ((f->frame[15] >> ((p - 1) / 2)) & 1));
		f->frame[p - 1] = 0x01;
		f->frame[15] |= (uint8_t)(1u << ((p - 1) / 2));
		f->frame[p] = d;
		p++;
	} else {
		f->frame[p] = 0x01;                         /* ID 0: padding */
		f->frame[15] &= (uint8_t)~(1u << (p / 2));
		p++;
	}
	for (; p < 15; p++)
		slot(f, p, 0);
	buf_append(out, f->frame, 16);
	f->pos = 1;
	return true;
}
