/* The trace buffer: see trace_frames.h. */
#include "server/trace_frames.h"

#include <stdlib.h>
#include <string.h>

#include "common/le.h"

void tbuf_init(struct trace_buffer *b, size_t size, size_t regsize)
{
	memset(b, 0, sizeof *b);
	b->size = size;
	b->regsize = regsize;
}

static struct trace_frame *slot(const struct trace_buffer *b, size_t n)
{
	return &b->ring[(b->head + n) % b->cap];
}

static void drop_oldest(struct trace_buffer *b)
{
	struct trace_frame *f = slot(b, 0);
	b->used -= f->len;
	free(f->data);
	f->data = NULL;
	b->head = (b->head + 1) % b->cap;
	b->count--;
}

void tbuf_clear(struct trace_buffer *b)
{
	while (b->count)
		drop_oldest(b);
	b->head = 0;
	b->created = 0;
	b->cursor_frame = 0;
	b->cursor_offset = 0;
}

void tbuf_free(struct trace_buffer *b)
{
	tbuf_clear(b);
	free(b->ring);
	b->ring = NULL;
	b->cap = 0;
}

static void put_le(struct buf *out, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		buf_putc(out, (char)(v >> (8 * i)));
}

/* Room for N more bytes in the frame? Else it is dropped as a whole. */
static bool room(struct trace_frame_builder *f, size_t n)
{
	if (f->overflow || f->bytes.len + n > f->limit) {
		f->overflow = true;
		return false;
	}
	return true;
}

void tfb_begin(struct trace_frame_builder *f, const struct trace_buffer *b, unsigned tpnum)
{
	buf_reset(&f->bytes);
	f->limit = b->size;
	f->overflow = false;
	if (room(f, TFRAME_HEADER)) {
		put_le(&f->bytes, tpnum & 0xffff, 2);
		put_le(&f->bytes, 0, 4);   /* data_size, set at commit */
	}
}

void tfb_regs(struct trace_frame_builder *f, const uint8_t *regs, size_t len)
{
	if (!room(f, 1 + len))
		return;
	buf_putc(&f->bytes, 'R');
	buf_append(&f->bytes, regs, len);
}

void tfb_mem(struct trace_frame_builder *f, uint64_t addr, const uint8_t *data, size_t len)
{
	while (len > 0) {
		size_t n = len > 65535 ? 65535 : len;
		if (!room(f, 11 + n))
			return;
		buf_putc(&f->bytes, 'M');
		put_le(&f->bytes, addr, 8);
		put_le(&f->bytes, n, 2);
		buf_append(&f->bytes, data, n);
		addr += n;
		data += n;
		len -= n;
	}
}

void tfb_var(struct trace_frame_builder *f, int32_t num, int64_t value)
{
	if (!room(f, 13))
		return;
	buf_putc(&f->bytes, 'V');
	put_le(&f->bytes, (uint32_t)num, 4);
	put_le(&f->bytes, (uint64_t)value, 8);
}

void tfb_free(struct trace_frame_builder *f)
{
	buf_free(&f->bytes);
}

static bool grow_ring(struct trace_buffer *b)
{
	if (b->count < b->cap)
		return true;
	size_t cap = b->cap ? 2 * b->cap : 64;
	struct trace_frame *ring = calloc(cap, sizeof *ring);
	if (!ring)
		return false;
	for (size_t i = 0; i < b->count; i++)
		ring[i] = *slot(b, i);
	free(b->ring);
	b->ring = ring;
	b->cap = cap;
	b->head = 0;
	return true;
}

bool tbuf_commit(struct trace_buffer *b, struct trace_frame_builder *f)
{
	size_t len = f->bytes.len;
	bool ok = !f->overflow && len >= TFRAME_HEADER && len <= b->size;
	while (ok && b->used + len > b->size && b->circular && b->count)
		drop_oldest(b);
	ok = ok && b->used + len <= b->size && grow_ring(b);
	uint8_t *data = ok ? malloc(len) : NULL;
	if (data) {
		memcpy(data, f->bytes.data, len);
		uint32_t size = (uint32_t)(len - TFRAME_HEADER);
		for (int i = 0; i < 4; i++)
			data[2 + i] = (uint8_t)(size >> (8 * i));
		*slot(b, b->count) = (struct trace_frame){data, len};
		b->count++;
		b->used += len;
		b->created++;
	}
	buf_reset(&f->bytes);
	f->overflow = false;
	/* Frames dropped or added: the raw read cursor starts over. */
	b->cursor_frame = 0;
	b->cursor_offset = 0;
	return data != NULL;
}

size_t tbuf_count(const struct trace_buffer *b)
{
	return b->count;
}

size_t tbuf_free_bytes(const struct trace_buffer *b)
{
	return b->size > b->used ? b->size - b->used : 0;
}

const struct trace_frame *tbuf_frame(const struct trace_buffer *b, size_t n)
{
	return n < b->count ? slot(b, n) : NULL;
}

unsigned tframe_tpnum(const struct trace_frame *f)
{
	return le16(f->data);
}

/* Each block in turn: CB gets its type and body; stops when CB returns
 * true (found) or at the end / a malformed block. */
static const uint8_t *walk(const struct trace_frame *f, size_t regsize,
			   bool (*cb)(void *ctx, char type, const uint8_t *body, const uint8_t *end),
			   void *ctx, bool *malformed)
{
	const uint8_t *p = f->data + TFRAME_HEADER, *end = f->data + f->len;
	*malformed = false;
	while (p < end) {
		char type = (char)*p++;
		size_t body;
		if (type == 'R')
			body = regsize;
		else if (type == 'M')
			body = end - p >= 10 ? 10u + le16(p + 8) : 10;
		else if (type == 'V')
			body = 12;
		else
			body = SIZE_MAX;
		if (body > (size_t)(end - p)) {
			*malformed = true;
			return NULL;
		}
		if (cb(ctx, type, p, p + body))
			return p;
		p += body;
	}
	return NULL;
}

static bool is_regs(void *ctx, char type, const uint8_t *body, const uint8_t *end)
{
	(void)ctx; (void)body; (void)end;
	return type == 'R';
}

const uint8_t *tframe_regs(const struct trace_frame *f, size_t regsize)
{
	bool bad;
	return walk(f, regsize, is_regs, NULL, &bad);
}

struct mem_query {
	uint64_t addr;
	uint8_t *out;
	size_t len, got;
};

static bool mem_block(void *ctx, char type, const uint8_t *body, const uint8_t *end)
{
	struct mem_query *q = ctx;
	(void)end;
	if (type != 'M')
		return false;
	uint64_t at = le64(body);
	size_t n = le16(body + 8);
	if (q->addr < at || q->addr - at >= n)
		return false;
	size_t off = (size_t)(q->addr - at), amt = n - off;
	q->got = amt < q->len ? amt : q->len;
	memcpy(q->out, body + 10 + off, q->got);
	return true;
}

size_t tframe_read_mem(const struct trace_frame *f, size_t regsize, uint64_t addr,
		       uint8_t *out, size_t len)
{
	struct mem_query q = {addr, out, len, 0};
	bool bad;
	walk(f, regsize, mem_block, &q, &bad);
	return q.got;
}

struct var_query {
	int32_t num;
	int64_t value;
	bool found;
};

static bool var_block(void *ctx, char type, const uint8_t *body, const uint8_t *end)
{
	struct var_query *q = ctx;
	(void)end;
	if (type == 'V' && (int32_t)le32(body) == q->num) {
		q->value = (int64_t)le64(body + 4);
		q->found = true;   /* and on: the last one counts */
	}
	return false;
}

bool tframe_var(const struct trace_frame *f, size_t regsize, int32_t num, int64_t *value)
{
	struct var_query q = {num, 0, false};
	bool bad;
	walk(f, regsize, var_block, &q, &bad);
	if (q.found)
		*value = q.value;
	return q.found;
}

struct walk_fn {
	void (*fn)(void *ctx, char type, uint64_t addr, size_t len);
	void *ctx;
};

static bool each_block(void *ctx, char type, const uint8_t *body, const uint8_t *end)
{
	struct walk_fn *w = ctx;
	if (type == 'M')
		w->fn(w->ctx, type, le64(body), le16(body + 8));
	else if (type == 'V')
		w->fn(w->ctx, type, le32(body), 8);
	else
		w->fn(w->ctx, type, 0, (size_t)(end - body));
	return false;
}

bool tframe_walk(const struct trace_frame *f, size_t regsize,
		 void (*fn)(void *ctx, char type, uint64_t addr, size_t len), void *ctx)
{
	struct walk_fn w = {fn, ctx};
	bool bad;
	walk(f, regsize, each_block, &w, &bad);
	return !bad;
}

ssize_t tbuf_raw_read(struct trace_buffer *b, uint64_t offset, uint8_t *out, size_t len)
{
	if (offset > b->used)
		return -1;
	size_t i = 0;
	uint64_t at = 0;   /* offset of frame I */
	if (b->cursor_offset <= offset && b->cursor_frame <= b->count) {
		i = b->cursor_frame;
		at = b->cursor_offset;
	}
	while (i < b->count && at + slot(b, i)->len <= offset)
		at += slot(b, i++)->len;
	size_t done = 0;
	while (i < b->count && done < len) {
		const struct trace_frame *f = slot(b, i);
		size_t from = (size_t)(offset + done - at);
		size_t n = f->len - from < len - done ? f->len - from : len - done;
		memcpy(out + done, f->data + from, n);
		done += n;
		if (from + n == f->len) {
			at += f->len;
			i++;
		}
	}
	b->cursor_frame = i;
	b->cursor_offset = at;
	return (ssize_t)done;
}
