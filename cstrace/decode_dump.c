/* Memory by decoding: see decode_dump.h. */
#include "cstrace/decode_dump.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cstrace/memory.h"
#include "cstrace/snapshot_out.h"
#include "etm/decode.h"
#include "etm/snapshot.h"

#define PAGE 4096u
#define MAX_FETCHED_PAGES 16384u  /* 64 MiB fetched while decoding */

struct page {
	uint64_t addr;
	uint32_t len;           /* readable bytes from addr (0: unreadable) */
	uint8_t *data;
};

struct fetcher {
	struct cap *k;
	struct page *pages;
	size_t n, cap;
	bool link_failed;
};

static uint32_t fetch_mem(void *ctx, uint64_t addr, uint8_t trace_id, uint32_t len, uint8_t *buf)
{
	struct fetcher *f = ctx;
	(void)trace_id;
	uint64_t base = addr & ~(uint64_t)(PAGE - 1);
	struct page *pg = NULL;
	for (size_t i = f->n; i-- > 0;)
		if (f->pages[i].addr == base) {
			pg = &f->pages[i];
			break;
		}
	if (!pg) {
		if (f->link_failed || f->n >= MAX_FETCHED_PAGES)
			return 0;
		uint8_t *data = malloc(PAGE);
		if (!data)
			return 0;
		long got = rsp_client_read_memory(&f->k->c, base, PAGE, data);
		if (got < 0) {
			f->link_failed = true;
			cap_fail(f->k, (int)got, "reading memory for the trace");
			free(data);
			return 0;
		}
		if (f->n == f->cap) {
			f->cap = f->cap ? f->cap * 2 : 64;
			f->pages = realloc(f->pages, f->cap * sizeof(*f->pages));
			if (!f->pages)
				abort();
		}
		pg = &f->pages[f->n++];
		pg->addr = base;
		pg->len = (uint32_t)got;
		pg->data = data;
	}
	uint64_t off = addr - base;
	if (off >= pg->len)
		return 0;
	uint32_t take = pg->len - (uint32_t)off < len ? pg->len - (uint32_t)off : len;
	memcpy(buf, pg->data + off, take);
	/* the rest of a read that crosses into the next page */
	if (take < len && pg->len == PAGE)
		take += fetch_mem(ctx, base + PAGE, trace_id, len - take, buf + take);
	return take;
}

static int ignore_elem(void *ctx, const struct etm_elem *e)
{
	(void)ctx;
	(void)e;
	return 0;
}

static int cmp_page(const void *a, const void *b)
{
	uint64_t x = ((const struct page *)a)->addr, y = ((const struct page *)b)->addr;
	return x < y ? -1 : x > y;
}

/* Decode every buffer of the snapshot in the capture directory, F
 * fetching the pages any of them executes. */
static void decode_buffers(struct cap *k, struct fetcher *f)
{
	char err[512];
	struct etm_snapshot *ss = etm_snapshot_load(k->tmpdir, err, sizeof(err));
	for (size_t bi = 0; bi < (ss ? ss->nbuffers : 1) && !f->link_failed; bi++) {
		struct etm_decoder *dec = ss ? etm_snapshot_decoder(ss, bi, -1, NULL, NULL, NULL, err, sizeof(err))
					     : NULL;
		char *path = ss ? etm_snapshot_buffer_path(ss, bi) : NULL;
		FILE *in = path ? fopen(path, "rb") : NULL;
		/* all of the address space but its last page (OpenCSD wants an even end) */
		if (!dec || !in || etm_decoder_add_mem_callback(dec, 0, UINT64_MAX - PAGE + 1, fetch_mem, f) < 0) {
			/* not decodable here: the snapshot simply has no memory */
			if (bi == 0)
				cap_msg(k, "no memory dumps: the trace cannot be decoded here (%s)",
					dec ? etm_decoder_error(dec) : err);
		} else {
			etm_decoder_set_output(dec, ignore_elem, NULL);
			uint8_t chunk[65536];
			size_t n;
			while (!f->link_failed && (n = fread(chunk, 1, sizeof(chunk), in)) > 0) {
				size_t used;
				if (etm_decoder_feed(dec, chunk, n, &used) == ETM_DECODE_ERROR)
					break;
			}
			if (!f->link_failed)
				etm_decoder_end(dec);
		}
		if (in)
			fclose(in);
		free(path);
		if (dec)
			etm_decoder_free(dec);
	}
	etm_snapshot_free(ss);
}

/* Contiguous readable pages become one dump each. */
static int save_pages(struct cap *k, struct fetcher *f)
{
	int rc = 0;
	if (f->n)
		qsort(f->pages, f->n, sizeof(*f->pages), cmp_page);
	for (size_t i = 0; i < f->n && rc == 0;) {
		size_t j = i;
		uint64_t len = 0;
		while (j < f->n && f->pages[j].len && f->pages[j].addr == f->pages[i].addr + len) {
			len += f->pages[j].len;
			j++;
			if (f->pages[j - 1].len < PAGE)
				break;
		}
		if (!len) {
			i++;
			continue;
		}
		uint8_t *data = malloc((size_t)len);
		if (!data)
			abort();
		for (size_t p = i; p < j; p++)
			memcpy(data + (f->pages[p].addr - f->pages[i].addr), f->pages[p].data, f->pages[p].len);
		rc = memory_save_dump(k, f->pages[i].addr, data, len, "(pages the trace executes)");
		free(data);
		i = j;
	}
	return rc;
}

int decode_dump_pages(struct cap *k)
{
	struct fetcher f = {.k = k};
	if (snapshot_out_write(k) < 0)
		return -1;
	decode_buffers(k, &f);
	int rc = f.link_failed ? -1 : save_pages(k, &f);
	for (size_t i = 0; i < f.n; i++)
		free(f.pages[i].data);
	free(f.pages);
	return rc;
}
