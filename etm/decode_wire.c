/* The decoder child's records: see decode_wire.h. */
#include "etm/decode_wire.h"

#include <stdbool.h>
#include <string.h>

struct wout {
	uint8_t *p;
	size_t n;
};

static void put8(struct wout *w, uint8_t v)
{
	w->p[w->n++] = v;
}

static void put32(struct wout *w, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		w->p[w->n++] = (uint8_t)(v >> (8 * i));
}

static void put64(struct wout *w, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		w->p[w->n++] = (uint8_t)(v >> (8 * i));
}

/* LEB128: small numbers (lengths, counts, offsets) in few bytes. */
static void putv(struct wout *w, uint64_t v)
{
	do {
		uint8_t b = v & 0x7f;
		v >>= 7;
		w->p[w->n++] = (uint8_t)(b | (v ? 0x80 : 0));
	} while (v);
}

static void put_text(struct wout *w, const char *s)
{
	size_t len = s ? strnlen(s, WIRE_TEXT_MAX) : 0;
	w->p[w->n++] = (uint8_t)len;
	w->p[w->n++] = (uint8_t)(len >> 8);
	memcpy(w->p + w->n, s ? s : "", len);
	w->n += len;
}

/* Type, then the body length once the body is written. */
static struct wout begin(uint8_t *out, enum wire_type type)
{
	out[0] = (uint8_t)type;
	return (struct wout){out, 3};
}

static size_t finish(struct wout *w)
{
	size_t body = w->n - 3;
	w->p[1] = (uint8_t)body;
	w->p[2] = (uint8_t)(body >> 8);
	return w->n;
}

size_t wire_put_elem(uint8_t *out, const struct etm_elem *e)
{
	struct wout w = begin(out, WIRE_ELEM);
	put8(&w, (uint8_t)e->kind);
	put8(&w, e->trace_id);
	putv(&w, e->index);
	switch (e->kind) {
	case ETM_ELEM_RANGE:
		/* the end as a length: a range is most of what goes by */
		put64(&w, e->start);
		putv(&w, e->end - e->start);
		putv(&w, e->num_insns);
		put8(&w, (uint8_t)e->last_class);
		put8(&w, (uint8_t)(e->last_indirect | e->last_taken << 1 | e->last_cond << 2));
		put8(&w, e->last_size);
		put8(&w, (uint8_t)e->isa);
		break;
	case ETM_ELEM_GAP:
		put8(&w, (uint8_t)e->gap);
		put64(&w, e->start);
		put64(&w, e->end);
		put32(&w, e->num_insns);
		break;
	case ETM_ELEM_ADDR_NACC:
		put64(&w, e->start);
		break;
	case ETM_ELEM_EXCEPTION:
		put32(&w, e->exception_number);
		put8(&w, e->has_return_addr);
		put64(&w, e->return_addr);
		break;
	case ETM_ELEM_CONTEXT:
		put8(&w, (uint8_t)e->isa);
		put8(&w, e->el);
		put8(&w, (uint8_t)(e->el_valid | e->aarch64 << 1 | e->context_id_valid << 2 |
				   e->vmid_valid << 3));
		put32(&w, e->context_id);
		put32(&w, e->vmid);
		break;
	case ETM_ELEM_ERROR:
		put_text(&w, e->message);
		break;
	case ETM_ELEM_EXCEPTION_RETURN:
	case ETM_ELEM_END:
		break;
	}
	return finish(&w);
}

size_t wire_put_memreq(uint8_t *out, uint32_t slot, uint64_t addr, uint8_t trace_id, uint32_t len)
{
	struct wout w = begin(out, WIRE_MEMREQ);
	put32(&w, slot);
	put64(&w, addr);
	put8(&w, trace_id);
	put32(&w, len);
	return finish(&w);
}

size_t wire_put_done(uint8_t *out, int32_t status, const char *message)
{
	struct wout w = begin(out, WIRE_DONE);
	put32(&w, (uint32_t)status);
	put_text(&w, message);
	return finish(&w);
}

/* Reading: every get checks the room left; BAD sticks. */
struct win {
	const uint8_t *p;
	size_t n, at;
	bool bad;
};

static uint64_t getn(struct win *r, int bytes)
{
	uint64_t v = 0;
	if (r->bad || r->n - r->at < (size_t)bytes) {
		r->bad = true;
		return 0;
	}
	for (int i = 0; i < bytes; i++)
		v |= (uint64_t)r->p[r->at + i] << (8 * i);
	r->at += (size_t)bytes;
	return v;
}

static uint64_t getv(struct win *r)
{
	uint64_t v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		uint8_t b = (uint8_t)getn(r, 1);
		if (r->bad)
			return 0;
		if (shift == 63 && b > 1) {
			r->bad = true;      /* more than 64 bits */
			return 0;
		}
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	r->bad = true;
	return 0;
}

static uint8_t get8(struct win *r) { return (uint8_t)getn(r, 1); }
static uint32_t get32(struct win *r) { return (uint32_t)getn(r, 4); }
static uint64_t get64(struct win *r) { return getn(r, 8); }

static void get_text(struct win *r, char *out)
{
	size_t len = (size_t)getn(r, 2);
	if (r->bad || len > WIRE_TEXT_MAX || r->n - r->at < len) {
		r->bad = true;
		out[0] = '\0';
		return;
	}
	memcpy(out, r->p + r->at, len);
	out[len] = '\0';
	r->at += len;
	/* a NUL inside would cut the message where the child did not */
	if (strlen(out) != len)
		r->bad = true;
}

/* A value read must be one of the enum's: BAD otherwise. */
static unsigned get_enum(struct win *r, unsigned max)
{
	unsigned v = get8(r);
	if (v > max)
		r->bad = true;
	return v;
}

static void get_elem(struct win *r, struct wire_rec *rec)
{
	struct etm_elem *e = &rec->elem;
	unsigned f;
	memset(e, 0, sizeof *e);
	e->kind = (enum etm_elem_kind)get_enum(r, ETM_ELEM_END);
	e->trace_id = get8(r);
	e->index = getv(r);
	switch (e->kind) {
	case ETM_ELEM_RANGE:
		e->start = get64(r);
		e->end = e->start + getv(r);
		uint64_t insns = getv(r);
		if (insns > UINT32_MAX)
			r->bad = true;
		e->num_insns = (uint32_t)insns;
		e->last_class = (enum etm_insn_class)get_enum(r, ETM_INSN_WAIT);
		f = get_enum(r, 7);
		e->last_indirect = f & 1, e->last_taken = f >> 1 & 1, e->last_cond = f >> 2 & 1;
		e->last_size = get8(r);
		e->isa = (enum etm_isa)get_enum(r, ETM_ISA_OTHER);
		break;
	case ETM_ELEM_GAP:
		e->gap = (enum etm_gap_reason)get_enum(r, ETM_GAP_ADDR_UNKNOWN);
		e->start = get64(r);
		e->end = get64(r);
		e->num_insns = get32(r);
		break;
	case ETM_ELEM_ADDR_NACC:
		e->start = get64(r);
		break;
	case ETM_ELEM_EXCEPTION:
		e->exception_number = get32(r);
		e->has_return_addr = get_enum(r, 1);
		e->return_addr = get64(r);
		break;
	case ETM_ELEM_CONTEXT:
		e->isa = (enum etm_isa)get_enum(r, ETM_ISA_OTHER);
		e->el = get8(r);
		f = get_enum(r, 15);
		e->el_valid = f & 1, e->aarch64 = f >> 1 & 1;
		e->context_id_valid = f >> 2 & 1, e->vmid_valid = f >> 3 & 1;
		e->context_id = get32(r);
		e->vmid = get32(r);
		break;
	case ETM_ELEM_ERROR:
		get_text(r, rec->text);
		e->message = rec->text;
		break;
	case ETM_ELEM_EXCEPTION_RETURN:
	case ETM_ELEM_END:
		break;
	}
}

long wire_get(const uint8_t *in, size_t len, struct wire_rec *rec)
{
	if (len < 3)
		return 0;
	size_t body = (size_t)in[1] | (size_t)in[2] << 8;
	if (body > WIRE_REC_MAX - 3)
		return -1;
	if (len - 3 < body)
		return 0;
	struct win r = {in + 3, body, 0, false};
	rec->type = (enum wire_type)in[0];
	rec->text[0] = '\0';
	switch (rec->type) {
	case WIRE_ELEM:
		get_elem(&r, rec);
		break;
	case WIRE_MEMREQ:
		rec->slot = get32(&r);
		rec->addr = get64(&r);
		rec->trace_id = get8(&r);
		rec->len = get32(&r);
		break;
	case WIRE_DONE:
		rec->status = (int32_t)get32(&r);
		get_text(&r, rec->text);
		if (rec->status != ETM_DECODE_OK && rec->status != ETM_DECODE_ERROR)
			r.bad = true;
		break;
	default:
		return -1;
	}
	/* the body is exactly what its type holds */
	if (r.bad || r.at != body)
		return -1;
	return (long)(3 + body);
}
