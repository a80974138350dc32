/* The decoder API (decode.h): the OpenCSD engine (decode_engine.c) in a
 * child process (decode_child.c), or in this one when CSG_DECODER_INPROCESS
 * is set (benchmarks and debugging only: a crash in OpenCSD is then ours).
 * The caller's element callback runs here, in the caller's process, with
 * its pauses; memory callbacks too, at the child's request. */
#include "etm/decode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etm/decode_child.h"
#include "etm/decode_engine.h"

/* A memory callback as the engine sees it: in the child, a request to
 * the parent, which calls the real one. */
struct mem_slot {
	uint32_t index;
	etm_mem_read_fn fn;
	void *ctx;
};

struct etm_decoder {
	struct etm_engine *eng;
	bool contained;
	struct etm_child *child;
	bool dead;              /* the child died: decode stopped until a reset */
	bool err_set;           /* err holds the last failure (else the engine's) */
	enum etm_child_op inflight;     /* command given and not yet done, 0 none */
	size_t inflight_len;    /* trace bytes of an inflight feed */
	uint64_t sent;          /* stream offset: bytes given to the child */
	uint64_t taken;
	etm_elem_fn out_fn;
	void *out_ctx;
	struct mem_slot **slots;
	uint32_t nslots;
	char name[160];
	char err[WIRE_TEXT_MAX + 256];
};

/* The core names OpenCSD 1.3.3 knows (trc_core_arch_map.cpp). */
static const struct {
	const char *name;
	enum etm_core_arch core_arch;
	enum etm_profile profile;
} core_table[] = {
	{"Cortex-A77", ETM_CORE_V8R3, ETM_PROFILE_A}, {"Cortex-A76", ETM_CORE_V8R3, ETM_PROFILE_A},
	{"Cortex-A75", ETM_CORE_V8R3, ETM_PROFILE_A}, {"Cortex-A73", ETM_CORE_V8, ETM_PROFILE_A},
	{"Cortex-A72", ETM_CORE_V8, ETM_PROFILE_A}, {"Cortex-A65", ETM_CORE_V8R3, ETM_PROFILE_A},
	{"Cortex-A57", ETM_CORE_V8, ETM_PROFILE_A}, {"Cortex-A55", ETM_CORE_V8R3, ETM_PROFILE_A},
	{"Cortex-A53", ETM_CORE_V8, ETM_PROFILE_A}, {"Cortex-A35", ETM_CORE_V8, ETM_PROFILE_A},
	{"Cortex-A32", ETM_CORE_V8, ETM_PROFILE_A}, {"Cortex-A17", ETM_CORE_V7, ETM_PROFILE_A},
	{"Cortex-A15", ETM_CORE_V7, ETM_PROFILE_A}, {"Cortex-A12", ETM_CORE_V7, ETM_PROFILE_A},
	{"Cortex-A9", ETM_CORE_V7, ETM_PROFILE_A}, {"Cortex-A8", ETM_CORE_V7, ETM_PROFILE_A},
	{"Cortex-A7", ETM_CORE_V7, ETM_PROFILE_A}, {"Cortex-A5", ETM_CORE_V7, ETM_PROFILE_A},
	{"Cortex-R52", ETM_CORE_V8, ETM_PROFILE_R}, {"Cortex-R8", ETM_CORE_V7, ETM_PROFILE_R},
	{"Cortex-R7", ETM_CORE_V7, ETM_PROFILE_R}, {"Cortex-R5", ETM_CORE_V7, ETM_PROFILE_R},
	{"Cortex-R4", ETM_CORE_V7, ETM_PROFILE_R}, {"Cortex-M33", ETM_CORE_V8, ETM_PROFILE_M},
	{"Cortex-M23", ETM_CORE_V8, ETM_PROFILE_M}, {"Cortex-M0", ETM_CORE_V7, ETM_PROFILE_M},
	{"Cortex-M0+", ETM_CORE_V7, ETM_PROFILE_M}, {"Cortex-M3", ETM_CORE_V7, ETM_PROFILE_M},
	{"Cortex-M4", ETM_CORE_V7, ETM_PROFILE_M},
};

static bool profile_letter(char c, enum etm_profile *profile)
{
	switch (c) {
	case 'A': *profile = ETM_PROFILE_A; return true;
	case 'R': *profile = ETM_PROFILE_R; return true;
	case 'M': *profile = ETM_PROFILE_M; return true;
	}
	return false;
}

bool etm_core_by_name(const char *name, enum etm_core_arch *arch, enum etm_profile *profile)
{
	for (size_t i = 0; i < sizeof(core_table) / sizeof(core_table[0]); i++) {
		if (strcmp(name, core_table[i].name) == 0) {
			*arch = core_table[i].core_arch;
			*profile = core_table[i].profile;
			return true;
		}
	}
	/* "ARMv<maj>[.<min>]-<P>" */
	if (strncmp(name, "ARMv", 4) == 0 && name[4] >= '0' && name[4] <= '9') {
		int maj = name[4] - '0', min = 0;
		const char *p = name + 5;
		if (*p == '.') {
			if (p[1] < '0' || p[1] > '9')
				return false;
			min = p[1] - '0';
			p += 2;
		}
		if (*p != '-' || !profile_letter(p[1], profile))
			return false;
		if (maj == 7)
			*arch = ETM_CORE_V7;
		else if (maj == 8 && min < 3)
			*arch = ETM_CORE_V8;
		else if (maj == 8 && min == 3)
			*arch = ETM_CORE_V8R3;
		else if (maj >= 8)
			*arch = ETM_CORE_AA64;
		else
			return false;
		return true;
	}
	/* "ARM-AA64[-<P>]" */
	if (strncmp(name, "ARM-", 4) == 0 &&
	    (strncmp(name + 4, "AA64", 4) == 0 || strncmp(name + 4, "aa64", 4) == 0)) {
		*arch = ETM_CORE_AA64;
		*profile = ETM_PROFILE_A;
		if (name[8] == '-')
			profile_letter(name[9], profile);
		return true;
	}
	return false;
}

const char *etm_gap_reason_name(enum etm_gap_reason r)
{
	switch (r) {
	case ETM_GAP_NO_SYNC: return "no-sync";
	case ETM_GAP_TRACE_ON: return "trace-on";
	case ETM_GAP_OVERFLOW: return "overflow";
	case ETM_GAP_DEBUG: return "debug-restart";
	case ETM_GAP_DISCARD: return "discard";
	case ETM_GAP_BAD_PACKET: return "bad-packet";
	case ETM_GAP_RESET: return "reset";
	case ETM_GAP_NO_PATH: return "no-path";
	case ETM_GAP_ADDR_UNKNOWN: return "address-unknown";
	}
	return "?";
}

struct etm_decoder *etm_decoder_new(enum etm_stream_format format, char *err, size_t errlen)
{
	struct etm_decoder *dec = calloc(1, sizeof *dec);
	if (!dec) {
		etm_fail(err, errlen, "out of memory");
		return NULL;
	}
	dec->eng = etm_engine_new(format, err, errlen);
	if (!dec->eng) {
		free(dec);
		return NULL;
	}
	const char *inproc = getenv("CSG_DECODER_INPROCESS");
	dec->contained = !(inproc && *inproc && strcmp(inproc, "0"));
	return dec;
}

void etm_decoder_free(struct etm_decoder *dec)
{
	if (!dec)
		return;
	etm_child_stop(dec->child);
	etm_engine_free(dec->eng);
	for (uint32_t i = 0; i < dec->nslots; i++)
		free(dec->slots[i]);
	free(dec->slots);
	free(dec);
}

void etm_decoder_set_name(struct etm_decoder *dec, const char *name)
{
	snprintf(dec->name, sizeof dec->name, "%s", name ? name : "");
}

/* The failure for etm_decoder_error(). */
static void fail(struct etm_decoder *dec, const char *msg)
{
	snprintf(dec->err, sizeof dec->err, "%s", msg);
	dec->err_set = true;
}

/* Setup must be complete when the child starts: it takes a copy. */
static int too_late(struct etm_decoder *dec, const char *what)
{
	if (!dec->child && !dec->dead)
		return 0;
	char msg[120];
	snprintf(msg, sizeof msg, "%s must be added before decoding starts", what);
	fail(dec, msg);
	return -1;
}

int etm_decoder_add_source(struct etm_decoder *dec, const struct etm_cpu_regs *regs)
{
	dec->err_set = false;
	if (too_late(dec, "sources"))
		return -1;
	return etm_engine_add_source(dec->eng, regs);
}

int etm_decoder_add_mem_buffer(struct etm_decoder *dec, uint64_t addr, const void *data, size_t len)
{
	dec->err_set = false;
	if (too_late(dec, "memory"))
		return -1;
	return etm_engine_add_mem_buffer(dec->eng, addr, data, len);
}

int etm_decoder_add_mem_file(struct etm_decoder *dec, uint64_t addr, const char *path,
			     uint64_t offset, uint64_t len)
{
	dec->err_set = false;
	if (too_late(dec, "memory"))
		return -1;
	return etm_engine_add_mem_file(dec->eng, addr, path, offset, len);
}

int etm_decoder_add_elf(struct etm_decoder *dec, const char *path, uint64_t bias)
{
	dec->err_set = false;
	if (too_late(dec, "memory"))
		return -1;
	return etm_engine_add_elf(dec->eng, path, bias);
}

static uint32_t slot_read(void *ctx, uint64_t addr, uint8_t trace_id, uint32_t len, uint8_t *buf)
{
	const struct mem_slot *s = ctx;
	if (etm_child_active())
		return etm_child_mem_read(s->index, addr, trace_id, len, buf);
	return s->fn(s->ctx, addr, trace_id, len, buf);
}

int etm_decoder_add_mem_callback(struct etm_decoder *dec, uint64_t start, uint64_t end,
				 etm_mem_read_fn fn, void *ctx)
{
	dec->err_set = false;
	if (too_late(dec, "memory"))
		return -1;
	struct mem_slot **grown = realloc(dec->slots, (dec->nslots + 1) * sizeof *grown);
	struct mem_slot *s = malloc(sizeof *s);
	if (grown)
		dec->slots = grown;
	if (!grown || !s) {
		free(s);
		fail(dec, "out of memory");
		return -1;
	}
	*s = (struct mem_slot){dec->nslots, fn, ctx};
	dec->slots[dec->nslots++] = s;
	return etm_engine_add_mem_callback(dec->eng, start, end, slot_read, s);
}

void etm_decoder_set_output(struct etm_decoder *dec, etm_elem_fn fn, void *ctx)
{
	dec->out_fn = fn;
	dec->out_ctx = ctx;
	if (!dec->contained)
		etm_engine_set_output(dec->eng, fn, ctx);
}

const char *etm_decoder_error(const struct etm_decoder *dec)
{
	return dec->err_set ? dec->err : etm_engine_error(dec->eng);
}

uint64_t etm_decoder_bytes(const struct etm_decoder *dec)
{
	return dec->contained ? dec->taken : etm_engine_bytes(dec->eng);
}

unsigned etm_decoder_num_sources(const struct etm_decoder *dec)
{
	return etm_engine_num_sources(dec->eng);
}

/* ---- decoding in the child ------------------------------------------------- */

/* The child is gone (or must go): one error naming the bytes it was
 * decoding, to the output and for etm_decoder_error; decode stops. */
static enum etm_decode_status child_lost(struct etm_decoder *dec, const char *why)
{
	uint64_t lo, hi;
	char range[80];
	etm_child_progress(dec->child, &lo, &hi);
	if (hi > lo)
		snprintf(range, sizeof range, "bytes %llu-%llu", (unsigned long long)lo,
			 (unsigned long long)hi - 1);
	else
		snprintf(range, sizeof range, "at byte %llu, the end of the trace", (unsigned long long)lo);
	snprintf(dec->err, sizeof dec->err, "trace decoder %s decoding %s %s; decode of this trace stopped",
		 why, dec->name[0] ? dec->name : "the trace", range);
	dec->err_set = true;
	etm_child_stop(dec->child);
	dec->child = NULL;
	dec->dead = true;
	dec->inflight = 0;
	if (dec->out_fn) {
		struct etm_elem el = {.kind = ETM_ELEM_ERROR, .index = lo, .message = dec->err};
		dec->out_fn(dec->out_ctx, &el);         /* cannot pause here */
	}
	return ETM_DECODE_ERROR;
}

/* A memory callback, at the child's request. */
static enum etm_decode_status answer(struct etm_decoder *dec, const struct wire_rec *rec)
{
	static uint8_t buf[ETM_CHILD_MEM_REPLY_MAX];
	char why[160];
	if (rec->slot >= dec->nslots || rec->len > sizeof buf)
		return child_lost(dec, "asked for memory it was not given");
	const struct mem_slot *s = dec->slots[rec->slot];
	uint32_t n = s->fn(s->ctx, rec->addr, rec->trace_id, rec->len, buf);
	if (n > rec->len)
		n = rec->len;
	if (etm_child_send(dec->child, CHILD_MEM_REPLY, 0, buf, n, why, sizeof why) < 0)
		return child_lost(dec, why);
	return ETM_DECODE_OK;
}

/* Deliver what the child sends until the command in flight is done: OK or
 * ERROR as it ended, PAUSED when the callback asks, ERROR when the child
 * is lost. DISCARD drops the elements (a reset). */
static enum etm_decode_status pump(struct etm_decoder *dec, bool discard)
{
	struct wire_rec rec;
	char why[160];
	for (;;) {
		if (etm_child_next(dec->child, &rec, why, sizeof why) < 0)
			return child_lost(dec, why);
		switch (rec.type) {
		case WIRE_ELEM:
			if (!discard && dec->out_fn && dec->out_fn(dec->out_ctx, &rec.elem))
				return ETM_DECODE_PAUSED;
			break;
		case WIRE_MEMREQ:
			if (answer(dec, &rec) != ETM_DECODE_OK)
				return ETM_DECODE_ERROR;
			break;
		case WIRE_DONE:
			dec->inflight = 0;
			if (rec.status == ETM_DECODE_ERROR) {
				fail(dec, rec.text);
				return ETM_DECODE_ERROR;
			}
			return ETM_DECODE_OK;
		}
	}
}

/* Give the child command OP, starting it first if need be. */
static enum etm_decode_status command(struct etm_decoder *dec, enum etm_child_op op, uint64_t arg,
				      const uint8_t *data, size_t len)
{
	char why[160];
	if (dec->dead)
		return ETM_DECODE_ERROR;
	if (!dec->child && !etm_engine_num_sources(dec->eng)) {
		fail(dec, "no trace source configured");
		return ETM_DECODE_ERROR;
	}
	if (!dec->child) {
		dec->child = etm_child_start(dec->eng, why, sizeof why);
		if (!dec->child) {
			fail(dec, why);
			return ETM_DECODE_ERROR;
		}
	}
	if (etm_child_send(dec->child, op, arg, data, len, why, sizeof why) < 0)
		return child_lost(dec, why);
	dec->inflight = op;
	dec->inflight_len = op == CHILD_FEED ? len : 0;
	return ETM_DECODE_OK;
}

/* Finish a feed in flight (the caller paused in it). */
static enum etm_decode_status finish_inflight(struct etm_decoder *dec, bool discard)
{
	if (!dec->inflight)
		return ETM_DECODE_OK;
	enum etm_child_op op = dec->inflight;
	size_t len = dec->inflight_len;
	enum etm_decode_status st = pump(dec, discard);
	if (st != ETM_DECODE_PAUSED && op == CHILD_FEED)
		dec->taken += len;
	return st;
}

/* Pieces of at most ETM_CHILD_PIECE; a pause leaves one in flight, and
 * the caller's next call (with the rest, from that piece on) finishes it. */
static enum etm_decode_status contained_feed(struct etm_decoder *dec, const uint8_t *data,
					     size_t len, size_t *consumed)
{
	size_t done = 0;
	enum etm_decode_status st = ETM_DECODE_OK;
	if (dec->dead)
		st = ETM_DECODE_ERROR;
	while (st == ETM_DECODE_OK) {
		if (!dec->inflight) {
			if (done == len)
				break;
			size_t n = len - done < ETM_CHILD_PIECE ? len - done : ETM_CHILD_PIECE;
			st = command(dec, CHILD_FEED, dec->sent, data + done, n);
			if (st != ETM_DECODE_OK)
				break;
			dec->sent += n;
		}
		size_t piece = dec->inflight == CHILD_FEED ? dec->inflight_len : 0;
		st = finish_inflight(dec, false);
		if (st == ETM_DECODE_OK)
			done = done + piece < len ? done + piece : len;
	}
	if (consumed)
		*consumed = done;
	return st;
}

static enum etm_decode_status contained_end(struct etm_decoder *dec)
{
	if (dec->dead)
		return ETM_DECODE_ERROR;
	if (!dec->child)
		return ETM_DECODE_OK;   /* nothing was fed */
	if (dec->inflight != CHILD_END) {
		enum etm_decode_status st = finish_inflight(dec, false);
		if (st != ETM_DECODE_OK)
			return st;
		st = command(dec, CHILD_END, dec->sent, NULL, 0);
		if (st != ETM_DECODE_OK)
			return st;
	}
	return pump(dec, false);
}

static enum etm_decode_status contained_reset(struct etm_decoder *dec)
{
	dec->err_set = false;
	if (dec->dead) {
		/* A new child starts from the setup, which no decode touched. */
		dec->dead = false;
		return ETM_DECODE_OK;
	}
	if (!dec->child)
		return ETM_DECODE_OK;
	enum etm_decode_status st = finish_inflight(dec, true);
	if (st == ETM_DECODE_OK)
		st = command(dec, CHILD_RESET, 0, NULL, 0);
	return st == ETM_DECODE_OK ? pump(dec, false) : st;
}

enum etm_decode_status etm_decoder_feed(struct etm_decoder *dec, const uint8_t *data,
					size_t len, size_t *consumed)
{
	if (!dec->contained)
		return etm_engine_feed(dec->eng, data, len, consumed);
	return contained_feed(dec, data, len, consumed);
}

enum etm_decode_status etm_decoder_end(struct etm_decoder *dec)
{
	return dec->contained ? contained_end(dec) : etm_engine_end(dec->eng);
}

enum etm_decode_status etm_decoder_reset(struct etm_decoder *dec)
{
	return dec->contained ? contained_reset(dec) : etm_engine_reset(dec->eng);
}

void etm_decoder_set_recover(struct etm_decoder *dec, bool recover)
{
	etm_engine_set_recover(dec->eng, recover);
	/* A running child has its own copy: tell it between commands. */
	if (dec->child && !dec->inflight && command(dec, CHILD_RECOVER, recover, NULL, 0) == ETM_DECODE_OK)
		pump(dec, true);
}
