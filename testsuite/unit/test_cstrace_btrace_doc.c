/* cstrace/btrace_doc.h: how much one trace read may bring (the limits of
 * doc/manual.md), and the bts blocks taken from a document: what a server
 * may not send (a block without its addresses, one that begins after its
 * end) is refused whole, naming the block. */
#include "cstrace/btrace_doc.h"
#include "testsuite/unit/check.h"

static int take(struct cap *k, struct cthread *t, const char *text)
{
	struct buf doc = BUF_INIT;
	buf_puts(&doc, text);
	int rc = btrace_doc_take_blocks(k, t, &doc);
	buf_free(&doc);
	return rc;
}

int main(void)
{
	/* bts: 8 x the buffer + 1 MiB, at most 256 MiB (also when unknown) */
	CHECK(btrace_doc_limit(false, 0x1000, false) == 8 * 0x1000 + (1u << 20));
	CHECK(btrace_doc_limit(false, 0, false) == BTS_DOC_MAX);
	CHECK(btrace_doc_limit(false, 1ull << 30, false) == BTS_DOC_MAX);
	CHECK(btrace_doc_limit(false, UINT64_MAX, false) == BTS_DOC_MAX);
	/* CoreSight: a delta twice the buffer + 64 KiB; the whole trace or an
	 * unknown buffer 1 GiB, or twice the buffer if more; a claimed size
	 * counts up to 4 GiB (no overflow for an absurd one) */
	CHECK(btrace_doc_limit(true, 0x10000, false) == 2 * 0x10000 + RAW_DOC_SLACK);
	CHECK(btrace_doc_limit(true, 0x10000, true) == RAW_DOC_MAX);
	CHECK(btrace_doc_limit(true, 0, false) == RAW_DOC_MAX);
	CHECK(btrace_doc_limit(true, 2ull << 30, true) == 4ull << 30);
	CHECK(btrace_doc_limit(true, UINT64_MAX, false) == 2 * BUFFER_SIZE_MAX + RAW_DOC_SLACK);
	CHECK(btrace_doc_limit(true, UINT64_MAX, true) == 2 * BUFFER_SIZE_MAX);

	struct capture_opts o;
	capture_opts_init(&o);
	struct cap k = {.o = &o};
	struct cthread t = {.pid = 1, .tid = 42};

	/* newest first in the document, oldest first in the list */
	CHECK(take(&k, &t, "<btrace version=\"1.0\"><block begin=\"0x2000\" end=\"0x2008\"/>"
		   "<block begin=\"0x1000\" end=\"0x1010\"/></btrace>") == 0);
	CHECK(t.nblocks == 2 && t.blocks[0].begin == 0x1000 && t.blocks[1].end == 0x2008);
	CHECK(k.trace_bytes > 0);
	/* a delta's begin="0" block continues the newest one held */
	CHECK(take(&k, &t, "<btrace><block begin=\"0x3000\" end=\"0x3004\"/><block begin=\"0x0\" end=\"0x2020\"/>"
		   "</btrace>") == 0);
	CHECK(t.nblocks == 3 && t.blocks[1].end == 0x2020 && t.blocks[2].begin == 0x3000);
	/* a block that begins after its end: refused whole, named */
	uint64_t bytes = k.trace_bytes;
	CHECK(take(&k, &t, "<btrace><block begin=\"0x5000\" end=\"0x5004\"/><block begin=\"0x4010\" end=\"0x4000\"/>"
		   "</btrace>") == -1);
	CHECK(strstr(k.c.err, "thread 42: block 2 begins at 0x4010, after its end 0x4000") != NULL);
	CHECK(t.nblocks == 3 && k.trace_bytes == bytes);
	/* missing, empty, not hex, negative or too long addresses */
	static const char *const bad[] = {
		"<block begin=\"0x1\"/>", "<block end=\"0x1\"/>", "<block begin=\"\" end=\"0x1\"/>",
		"<block begin=\"zz\" end=\"0x1\"/>", "<block begin=\"0x1\" end=\"-1\"/>",
		"<block begin=\"0x1\" end=\"0x10000000000000000\"/>", "<block begin=\"0x1 \" end=\"0x2\"/>",
		"<block begin=\"0x1\" end=\"0x2",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		k.c.err[0] = '\0';
		int rc = take(&k, &t, bad[i]);
		/* an element cut before its '>' is no block at all */
		CHECK(i == 7 ? rc == 0 : rc == -1 && strstr(k.c.err, "block 1 has no begin and end") != NULL);
	}
	CHECK(t.nblocks == 3);
	/* other elements and text around are skipped; an empty document is fine */
	CHECK(take(&k, &t, "<!DOCTYPE btrace SYSTEM \"btrace.dtd\">\n<btrace version=\"1.0\">\n</btrace>\n") == 0);
	CHECK(take(&k, &t, "") == 0);
	CHECK(t.nblocks == 3);
	free(t.blocks);
	return check_done("test_cstrace_btrace_doc");
}
