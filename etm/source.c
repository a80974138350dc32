#include "etm/source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void etm_read_init(struct etm_read *r)
{
	memset(r, 0, sizeof(*r));
}

void etm_read_reset(struct etm_read *r)
{
	buf_reset(&r->data);
	r->n_chunks = 0;
	r->overflow = r->truncated = false;
	r->bytes_lost = 0;
}

void etm_read_free(struct etm_read *r)
{
	buf_free(&r->data);
	free(r->chunks);
	memset(r, 0, sizeof(*r));
}

struct etm_chunk *etm_read_add(struct etm_read *r, const void *bytes, size_t len,
			       int cpu, bool raw, bool gap_before, uint32_t aux_flags)
{
	if (r->n_chunks == r->cap_chunks) {
		size_t cap = r->cap_chunks ? r->cap_chunks * 2 : 8;
		struct etm_chunk *p = realloc(r->chunks, cap * sizeof(*p));
		if (!p) {
			perror("csgdbserver: out of memory");
			abort();
		}
		r->chunks = p;
		r->cap_chunks = cap;
	}
	struct etm_chunk *c = &r->chunks[r->n_chunks++];
	c->offset = r->data.len;
	c->size = len;
	c->cpu = cpu;
	c->raw = raw;
	c->gap_before = gap_before;
	c->aux_flags = aux_flags;
	buf_append(&r->data, bytes, len);
	return c;
}
