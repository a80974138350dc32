#include "etm/auxring.h"

#include <inttypes.h>
#include <linux/perf_event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/le.h"

#ifndef PERF_RECORD_AUX_OUTPUT_HW_ID
#define PERF_RECORD_AUX_OUTPUT_HW_ID 21
#endif
#define AUX_FLAG_FORMAT_MASK 0xff00u
#define AUX_FLAG_FORMAT_RAW  0x0100u


void auxring_init(struct auxring *r, uint64_t sample_type, bool sample_id_all, bool overwrite)
{
	memset(r, 0, sizeof(*r));
	r->sample_type = sample_type;
	r->sample_id_all = sample_id_all;
	r->overwrite = overwrite;
	r->last_cpu = -1;
	for (int i = 0; i < AUXRING_MAX_CPUS; i++)
		r->trace_id[i] = -1;
}

size_t auxring_sample_id_size(uint64_t st)
{
	size_t n = 0;
	if (st & PERF_SAMPLE_TID) n += 8;
	if (st & PERF_SAMPLE_TIME) n += 8;
	if (st & PERF_SAMPLE_ID) n += 8;
	if (st & PERF_SAMPLE_STREAM_ID) n += 8;
	if (st & PERF_SAMPLE_CPU) n += 8;
	if (st & PERF_SAMPLE_IDENTIFIER) n += 8;
	return n;
}

bool auxring_sample_id(const uint8_t *rec, size_t size, size_t body_size,
		       uint64_t st, struct auxring_sample_id *out)
{
	memset(out, 0, sizeof(*out));
	size_t n = auxring_sample_id_size(st);
	if (size < sizeof(struct perf_event_header) + body_size + n)
		return false;
	const uint8_t *p = rec + size - n;
	if (st & PERF_SAMPLE_TID) {
		out->has_tid = true;
		out->pid = le32(p);
		out->tid = le32(p + 4);
		p += 8;
	}
	if (st & PERF_SAMPLE_TIME) {
		out->has_time = true;
		out->time = le64(p);
		p += 8;
	}
	if (st & PERF_SAMPLE_ID) p += 8;
	if (st & PERF_SAMPLE_STREAM_ID) p += 8;
	if (st & PERF_SAMPLE_CPU) {
		out->has_cpu = true;
		out->cpu = le32(p);
		p += 8;
	}
	return true;
}

/* Copy LEN bytes at free-running position POS of a power-of-two ring. */
static void ring_copy(uint8_t *dst, const uint8_t *ring, uint64_t size, uint64_t pos, size_t len)
{
	uint64_t off = pos & (size - 1);
	size_t first = (size_t)(size - off) < len ? (size_t)(size - off) : len;
	memcpy(dst, ring + off, first);
	if (first < len)
		memcpy(dst + first, ring, len - first);
}

/* Hand out AUX bytes [from, to) as one chunk. */
static void emit_aux(struct auxring *r, const struct auxring_view *v, struct etm_read *out,
		     uint64_t from, uint64_t to, int cpu, bool raw, uint32_t flags)
{
	uint64_t len = to - from;
	if (len > v->aux_size) {
		/* Older bytes were overwritten before we got to them. */
		out->overflow = true;
		out->bytes_lost += len - v->aux_size;
		r->gap_pending = true;
		from = to - v->aux_size;
		len = v->aux_size;
	}
	struct etm_chunk *c = etm_read_add(out, NULL, 0, cpu, raw, r->gap_pending, flags);
	buf_reserve(&out->data, (size_t)len);
	ring_copy((uint8_t *)out->data.data + out->data.len, v->aux, v->aux_size, from, (size_t)len);
	out->data.len += (size_t)len;
	out->data.data[out->data.len] = '\0';
	c->size = (size_t)len;
	r->gap_pending = false;
}

static void note_flags(struct auxring *r, struct etm_read *out, uint64_t flags)
{
	/* TRUNCATED: the sink filled and the event was stopped; COLLISION: TRBE
	 * lost trace around a wrap; PARTIAL: the record itself has holes. */
	if (flags & PERF_AUX_FLAG_TRUNCATED) {
		out->truncated = true;
		out->overflow = true;
		r->gap_pending = true;
	}
	if (flags & (PERF_AUX_FLAG_COLLISION | PERF_AUX_FLAG_PARTIAL)) {
		out->overflow = true;
		r->gap_pending = true;
	}
}

static void on_aux(struct auxring *r, const struct auxring_view *v, struct etm_read *out,
		   const uint8_t *rec, size_t size)
{
	uint64_t offset = le64(rec + 8), len = le64(rec + 16), flags = le64(rec + 24);
	struct auxring_sample_id sid;
	int cpu = -1;
	if (r->sample_id_all && auxring_sample_id(rec, size, 24, r->sample_type, &sid) && sid.has_cpu)
		cpu = (int)sid.cpu;
	bool raw = (flags & AUX_FLAG_FORMAT_MASK) == AUX_FLAG_FORMAT_RAW;
	r->n_aux_records++;
	r->last_cpu = cpu;
	r->raw = raw;
	uint32_t f32 = (uint32_t)flags;

	if (r->overwrite || (flags & PERF_AUX_FLAG_OVERWRITE)) {
		/* Snapshot data is taken from aux_head in auxring_read. */
		if (flags & PERF_AUX_FLAG_TRUNCATED)
			out->truncated = true;
		return;
	}
	if (len && offset > r->aux_pos) {
		/* A hole between records: with records lost the bytes are still
		 * in the ring (full mode never overwrites unread data). */
		if (r->records_lost) {
			r->gap_pending = true;
			emit_aux(r, v, out, r->aux_pos, offset, -1, raw, 0);
		} else {
			out->overflow = true;
			out->bytes_lost += offset - r->aux_pos;
			r->gap_pending = true;
		}
		r->aux_pos = offset;
	}
	uint64_t end = offset + len;
	if (len && end > r->aux_pos) {
		uint64_t from = offset > r->aux_pos ? offset : r->aux_pos;
		emit_aux(r, v, out, from, end, cpu, raw, f32);
		r->aux_pos = end;
	}
	r->records_lost = false;
	note_flags(r, out, flags);
}

int auxring_read(struct auxring *r, const struct auxring_view *v, struct etm_read *out,
		 uint64_t *new_data_tail, uint64_t *new_aux_tail, char *err, size_t errlen)
{
	uint64_t pos = v->data_tail;
	uint8_t rec[65536];
	int rc = 0;

	*new_aux_tail = v->aux_tail;
	if (v->data_head - v->data_tail > v->data_size) {
		/* The writer overran us: nothing in between can be trusted. */
		out->overflow = true;
		r->gap_pending = true;
		r->records_lost = true;
		*new_data_tail = v->data_head;
		rc = etm_fail(err, errlen, "perf record ring overrun (head 0x%" PRIx64 ", tail 0x%" PRIx64 ")",
			  v->data_head, v->data_tail);
		goto aux_only;
	}
	while (v->data_head - pos >= sizeof(struct perf_event_header)) {
		struct perf_event_header h;
		ring_copy((uint8_t *)&h, v->data, v->data_size, pos, sizeof(h));
		if (h.size < sizeof(h) || (h.size & 7)) {
			r->n_bad_records++;
			out->overflow = true;
			r->gap_pending = true;
			r->records_lost = true;
			*new_data_tail = v->data_head;
			rc = etm_fail(err, errlen, "corrupt perf record (type %u, size %u) at ring offset 0x%" PRIx64,
				  h.type, h.size, pos);
			goto aux_only;
		}
		if (v->data_head - pos < h.size)
			break;      /* record cut at the head: keep it for the next read */
		ring_copy(rec, v->data, v->data_size, pos, h.size);
		pos += h.size;
		struct auxring_sample_id sid;
		switch (h.type) {
		case PERF_RECORD_AUX:
			if (h.size < 32) {
				r->n_bad_records++;
				continue;
			}
			if (!r->overwrite && le64(rec + 8) + le64(rec + 16) > v->aux_head &&
			    le64(rec + 16)) {
				/* The kernel writes the record before user_page->aux_head:
				 * wait for the head to cover the data. */
				pos -= h.size;
				goto done;
			}
			on_aux(r, v, out, rec, h.size);
			break;
		case PERF_RECORD_LOST:
			if (h.size >= 24)
				r->n_lost_records += le64(rec + 16);
			out->overflow = true;
			r->records_lost = true;
			r->gap_pending = true;
			break;
		case PERF_RECORD_ITRACE_START:
			if (h.size >= 16) {
				r->itrace_pid = le32(rec + 8);
				r->itrace_tid = le32(rec + 12);
			}
			break;
		case PERF_RECORD_AUX_OUTPUT_HW_ID:
			if (h.size >= 16 && r->sample_id_all &&
			    auxring_sample_id(rec, h.size, 8, r->sample_type, &sid) && sid.has_cpu &&
			    sid.cpu < AUXRING_MAX_CPUS) {
				uint64_t hw_id = le64(rec + 8);
				/* Major version 0 is the only layout there is (perf refuses others). */
				if ((hw_id >> 60) == 0)
					r->trace_id[sid.cpu] = (int16_t)(hw_id & 0xff);
				else
					r->n_bad_records++;
			}
			break;
		default:
			break;
		}
	}
done:
	*new_data_tail = pos;
aux_only:
	if (r->overwrite) {
		/* Snapshot: the newest bytes before aux_head; older ones are gone. */
		if (v->aux_head > r->aux_pos) {
			emit_aux(r, v, out, r->aux_pos, v->aux_head, r->last_cpu, r->raw, 0);
			r->aux_pos = v->aux_head;
		}
		return rc;
	}
	if (r->records_lost && v->aux_head > r->aux_pos) {
		/* Without records the data is still ours: hand it out unattributed. */
		r->gap_pending = true;
		emit_aux(r, v, out, r->aux_pos, v->aux_head, -1, r->raw, 0);
		r->aux_pos = v->aux_head;
		r->records_lost = false;
	}
	*new_aux_tail = r->aux_pos > v->aux_tail ? r->aux_pos : v->aux_tail;
	return rc;
}

/* ---- writer side ------------------------------------------------------- */

static bool pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

int auxring_sim_init(struct auxring_sim *s, uint64_t data_size, uint64_t aux_size)
{
	memset(s, 0, sizeof(*s));
	if (!pow2(data_size) || !pow2(aux_size))
		return -1;
	s->data = calloc(1, (size_t)data_size);
	s->aux = calloc(1, (size_t)aux_size);
	if (!s->data || !s->aux) {
		auxring_sim_free(s);
		return -1;
	}
	s->data_size = data_size;
	s->aux_size = aux_size;
	return 0;
}

void auxring_sim_free(struct auxring_sim *s)
{
	free(s->data);
	free(s->aux);
	memset(s, 0, sizeof(*s));
}

static void ring_put(uint8_t *ring, uint64_t size, uint64_t pos, const uint8_t *src, size_t len)
{
	uint64_t off = pos & (size - 1);
	size_t first = (size_t)(size - off) < len ? (size_t)(size - off) : len;
	memcpy(ring + off, src, first);
	if (first < len)
		memcpy(ring, src + first, len - first);
}

bool auxring_sim_put_record(struct auxring_sim *s, const void *rec, size_t len)
{
	if (s->data_size - (s->data_head - s->data_tail) < len)
		return false;
	ring_put(s->data, s->data_size, s->data_head, rec, len);
	s->data_head += len;
	return true;
}

bool auxring_sim_put_aux(struct auxring_sim *s, const void *bytes, size_t len, bool overwrite)
{
	if (!overwrite && s->aux_size - (s->aux_head - s->aux_tail) < len)
		return false;
	const uint8_t *p = bytes;
	if (len > s->aux_size) {
		/* Only the newest aux_size bytes survive. */
		s->aux_head += len - s->aux_size;
		p += len - s->aux_size;
		len = (size_t)s->aux_size;
	}
	ring_put(s->aux, s->aux_size, s->aux_head, p, len);
	s->aux_head += len;
	return true;
}

void auxring_sim_view(const struct auxring_sim *s, struct auxring_view *v)
{
	v->data = s->data;
	v->data_size = s->data_size;
	v->data_head = s->data_head;
	v->data_tail = s->data_tail;
	v->aux = s->aux;
	v->aux_size = s->aux_size;
	v->aux_head = s->aux_head;
	v->aux_tail = s->aux_tail;
}

size_t auxring_make_aux_record(uint8_t *out, uint64_t aux_offset, uint64_t aux_size,
			       uint64_t flags, uint64_t st, uint32_t pid,
			       uint32_t tid, uint32_t cpu)
{
	size_t n = 8 + 24;
	memcpy(out + 8, &aux_offset, 8);
	memcpy(out + 16, &aux_size, 8);
	memcpy(out + 24, &flags, 8);
	if (st & PERF_SAMPLE_TID) {
		memcpy(out + n, &pid, 4);
		memcpy(out + n + 4, &tid, 4);
		n += 8;
	}
	if (st & PERF_SAMPLE_TIME) { memset(out + n, 0, 8); n += 8; }
	if (st & PERF_SAMPLE_ID) { memset(out + n, 0, 8); n += 8; }
	if (st & PERF_SAMPLE_STREAM_ID) { memset(out + n, 0, 8); n += 8; }
	if (st & PERF_SAMPLE_CPU) {
		uint32_t res = 0;
		memcpy(out + n, &cpu, 4);
		memcpy(out + n + 4, &res, 4);
		n += 8;
	}
	if (st & PERF_SAMPLE_IDENTIFIER) { memset(out + n, 0, 8); n += 8; }
	struct perf_event_header h = { .type = PERF_RECORD_AUX, .misc = 0, .size = (uint16_t)n };
	memcpy(out, &h, sizeof(h));
	return n;
}
