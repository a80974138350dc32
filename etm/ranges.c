/* Decoded ranges and their window: see ranges.h. */
#include "etm/ranges.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etm/decode.h"

void trace_ranges_init(struct trace_ranges *tr, uint64_t size)
{
	memset(tr, 0, sizeof *tr);
	tr->window = size;
	tr->max_ranges = size * ETM_RANGES_PER_BYTE;
}

void trace_ranges_free(struct trace_ranges *tr)
{
	free(tr->buf);
	memset(tr, 0, sizeof *tr);
}

static void drop_oldest(struct trace_ranges *tr)
{
	const struct trace_range *r = &tr->buf[tr->start];
	tr->ninsns -= r->ninsns;
	if (r->pos + 1 > tr->complete_from)
		tr->complete_from = r->pos + 1;
	tr->start++;
	tr->n--;
	tr->seq++;
	if (!tr->n)
		tr->start = 0;
}

void trace_ranges_reset(struct trace_ranges *tr)
{
	while (tr->n)
		drop_oldest(tr);
	tr->complete_from = tr->fed;
	tr->total_ranges = tr->total_insns = 0;
	tr->ngaps = tr->nerrors = tr->noverflows = tr->nnacc = 0;
	tr->first_nacc = 0;
	tr->first_error[0] = '\0';
}

/* Outside the window that ends at END? */
static bool too_old(const struct trace_ranges *tr, const struct trace_range *r, uint64_t end)
{
	return tr->window && r->pos + tr->window < end;
}

void trace_ranges_trim(struct trace_ranges *tr)
{
	while (tr->n && too_old(tr, &tr->buf[tr->start], tr->fed))
		drop_oldest(tr);
}

void trace_ranges_push(struct trace_ranges *tr, const struct trace_range *r)
{
	while (tr->n && (too_old(tr, &tr->buf[tr->start], r->pos) ||
			 (tr->max_ranges && tr->n >= tr->max_ranges)))
		drop_oldest(tr);
	if (tr->start + tr->n == tr->cap) {
		/* Slide down when the dropped half is the larger, else grow:
		 * amortised O(1), storage at most twice what is held. */
		if (tr->start >= tr->cap / 2 && tr->start) {
			memmove(tr->buf, tr->buf + tr->start, tr->n * sizeof *tr->buf);
			tr->start = 0;
		} else {
			size_t cap = tr->cap ? tr->cap * 2 : 1024;
			struct trace_range *grown = realloc(tr->buf, cap * sizeof *grown);
			if (!grown)
				abort();
			tr->buf = grown;
			tr->cap = cap;
		}
	}
	tr->buf[tr->start + tr->n++] = *r;
	tr->ninsns += r->ninsns;
	tr->total_ranges++;
	tr->total_insns += r->ninsns;
}

bool trace_ranges_since(const struct trace_ranges *tr, uint64_t mark, size_t *from)
{
	if (mark < tr->seq) {
		*from = 0;
		return false;
	}
	*from = mark - tr->seq > tr->n ? tr->n : (size_t)(mark - tr->seq);
	return true;
}

/* Element callback: CTX is a struct range_collector. Flags of discontinuities go onto the next range.
 * Element indexes count from BASE; STREAM_END (the end of what is being
 * fed) recovers 64-bit positions from OpenCSD's 32-bit indexes. */
struct range_collector {
	struct trace_ranges *out;
	uint8_t pending_flags;
	uint64_t base, stream_end;
};
static int on_elem(void *ctx, const struct etm_elem *e)
{
	struct range_collector *c = ctx;
	struct trace_ranges *tr = c->out;
	switch (e->kind) {
	case ETM_ELEM_RANGE: {
		if (e->end <= e->start)
			break;
		uint64_t behind = (uint32_t)((uint32_t)c->stream_end - (uint32_t)e->index);
		struct trace_range r = {
			.begin = e->start, .end = e->end, .ninsns = e->num_insns,
			.pos = c->base + (behind <= c->stream_end ? c->stream_end - behind : 0),
			.last_size = e->last_size ? e->last_size : 4,
			.cls = (uint8_t)e->last_class, .isa = (uint8_t)e->isa,
			.flags = (uint8_t)(c->pending_flags | (e->last_taken ? ETM_RANGE_TAKEN : 0)),
		};
		if (r.last_size > r.end - r.begin)
			r.last_size = (uint8_t)(r.end - r.begin);
		trace_ranges_push(tr, &r);
		c->pending_flags = 0;
		break;
	}
	case ETM_ELEM_GAP:
		/* "address unknown until the next address packet" follows
		 * indirect branches on ETMv3: nothing was lost */
		if (e->gap == ETM_GAP_ADDR_UNKNOWN)
			break;
		tr->ngaps++;
		if (e->gap == ETM_GAP_OVERFLOW)
			tr->noverflows++;
		c->pending_flags |= ETM_RANGE_GAP_BEFORE;
		break;
	case ETM_ELEM_ADDR_NACC:
		if (!tr->nnacc++)
			tr->first_nacc = e->start;
		c->pending_flags |= ETM_RANGE_GAP_BEFORE;
		break;
	case ETM_ELEM_EXCEPTION:
		c->pending_flags |= ETM_RANGE_EXC_BEFORE;
		break;
	case ETM_ELEM_ERROR:
		if (!tr->nerrors++ && e->message)
			snprintf(tr->first_error, sizeof tr->first_error, "%s", e->message);
		c->pending_flags |= ETM_RANGE_GAP_BEFORE;
		break;
	default:
		break;
	}
	return 0;
}

struct mem_bridge {
	etm_ranges_mem_fn fn;
	void *ctx;
};

static uint32_t mem_bridge_read(void *ctx, uint64_t addr, uint8_t trace_id, uint32_t len,
				uint8_t *buf)
{
	(void)trace_id;
	struct mem_bridge *m = ctx;
	return m->fn(m->ctx, addr, len, buf);
}

struct mem_trace {
	const uint8_t *data;
	size_t len;
};

static int read_mem_trace(void *ctx, uint64_t offset, void *buf, size_t len)
{
	const struct mem_trace *t = ctx;
	memcpy(buf, t->data + offset, len);
	return 0;
}

int etm_ranges_decode(const struct etm_cpu_regs *units, size_t n_units, bool formatted,
		const uint8_t *data, size_t len, etm_ranges_mem_fn mem, void *mem_ctx,
		struct trace_ranges *out, char *err, size_t errlen)
{
	if (!n_units) {
		return etm_fail(err, errlen, "no trace unit to decode with");
	}
	struct etm_decoder *dec = etm_decoder_new(formatted ? ETM_STREAM_FRAMED : ETM_STREAM_RAW,
						  err, errlen);
	if (!dec)
		return -1;
	size_t added = 0;
	for (size_t i = 0; i < (formatted ? n_units : 1); i++) {
		if (etm_decoder_add_source(dec, &units[i]) == 0)
			added++;
	}
	if (!added) {
		etm_fail(err, errlen, "%s", etm_decoder_error(dec));
		etm_decoder_free(dec);
		return -1;
	}
	struct mem_bridge bridge = {mem, mem_ctx};
	/* Two halves, the top page left out: OpenCSD refuses ranges reaching
	 * the end of the 64-bit address space. */
	const uint64_t half = 1ull << 63;
	if (mem && (etm_decoder_add_mem_callback(dec, 0, half, mem_bridge_read, &bridge) < 0 ||
		    etm_decoder_add_mem_callback(dec, half, UINT64_MAX - 0xfff, mem_bridge_read, &bridge) < 0)) {
		etm_fail(err, errlen, "%s", etm_decoder_error(dec));
		etm_decoder_free(dec);
		return -1;
	}
	char name[64];
	if (formatted)
		snprintf(name, sizeof name, "the formatted trace (%zu bytes)", len);
	else
		snprintf(name, sizeof name, "the raw trace of CPU %d (%zu bytes)", units[0].cpu, len);
	etm_decoder_set_name(dec, name);
	struct mem_trace trace = {data, len};
	char derr[ETM_ERR_LEN];
	int rc = 0;
	if (etm_ranges_decode_stream(dec, read_mem_trace, &trace, len, out, derr, sizeof derr) < 0) {
		if (!out->nerrors++)
			snprintf(out->first_error, sizeof out->first_error, "%.*s", (int)sizeof out->first_error - 1, derr);
		etm_fail(err, errlen, "%s", derr);
		rc = 1;
	}
	etm_decoder_free(dec);
	return rc;
}

int etm_ranges_decode_stream(struct etm_decoder *dec, etm_trace_read_fn read, void *read_ctx, uint64_t len,
		       struct trace_ranges *out, char *err, size_t errlen)
{
	struct range_collector col = {.out = out, .base = out->fed};
	etm_decoder_set_output(dec, on_elem, &col);
	size_t cap = len < ETM_FEED_WINDOW ? (size_t)len : ETM_FEED_WINDOW;
	uint8_t *window = malloc(cap ? cap : 1);
	if (!window)
		abort();
	int rc = 0;
	enum etm_decode_status st = ETM_DECODE_OK;
	for (uint64_t off = 0; off < len && rc == 0;) {
		size_t want = len - off < cap ? (size_t)(len - off) : cap;
		if (read(read_ctx, off, window, want) < 0) {
			etm_fail(err, errlen, "reading trace byte %llu: %s", (unsigned long long)off,
				 errno ? strerror(errno) : "unexpected end of file");
			rc = -1;
			break;
		}
		col.stream_end = off + want;
		size_t done = 0;
		while (done < want) {
			size_t used = 0;
			st = etm_decoder_feed(dec, window + done, want - done, &used);
			if (st == ETM_DECODE_ERROR) {
				etm_fail(err, errlen, "%s", etm_decoder_error(dec));
				rc = -1;
				break;
			}
			done = st == ETM_DECODE_OK ? want : done + used;
		}
		off += want;
		out->fed = col.base + off;
		trace_ranges_trim(out);
	}
	free(window);
	while (rc == 0 && (st = etm_decoder_end(dec)) == ETM_DECODE_PAUSED)
		;
	if (rc == 0 && st == ETM_DECODE_ERROR) {
		etm_fail(err, errlen, "%s", etm_decoder_error(dec));
		rc = -1;
	}
	out->fed = col.base + len;
	trace_ranges_trim(out);
	return rc;
}
