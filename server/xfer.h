/* qXfer objects: the documents (threads, libraries-svr4, auxv,
 * exec-file, osdata, siginfo, features) and the one cache a document is
 * served from in chunks, which btrace's documents can use as well. */
#ifndef SERVER_XFER_H
#define SERVER_XFER_H

#include <stddef.h>

#include "common/buf.h"
#include "server/session.h"

/* Builds the whole document of ANNEX (cached as KEY) into DOC, or returns
 * an error message. */
typedef const char *(*xfer_build_fn)(struct session *s, const char *key, const char *annex,
				     struct buf *doc);

/* How a qXfer object is built and served from the session's one cache. */
struct xfer_object {
	xfer_build_fn build;
	/* A chunk past offset 0 of a document not cached is refused ("read
	 * from offset 0 first") instead of building it there: documents that
	 * differ from one read to the next (btrace deltas). */
	bool strict;
	/* Optional: serve a chunk of the document KEY itself (one too big to
	 * hold whole: btrace's raw trace); false = serve from the cache. */
	bool (*serve)(struct session *s, const char *key, unsigned long long offset,
		      unsigned long long length, struct buf *reply);
};

/* Serve chunk RANGE ("OFFSET,LENGTH") of the document KEY names: built by
 * OBJ->build at offset 0 (and, unless strict, when another document is
 * cached), later chunks from the session's cache (struct session.xfer). */
void xfer_cache_serve(struct session *s, const char *key, const char *range, size_t range_len,
		      const struct xfer_object *obj, const char *annex, struct buf *reply);
/* The cached document no longer describes the target (it ran, or its
 * state was written). */
void xfer_cache_forget(struct session *s);

/* The documents. */
const char *xfer_threads(struct session *s, struct buf *doc);
const char *xfer_libraries_svr4(struct session *s, struct buf *doc);
const char *xfer_auxv(struct session *s, struct buf *doc);
const char *xfer_exec_file(struct session *s, const char *annex, struct buf *doc);
const char *xfer_osdata(struct session *s, const char *annex, struct buf *doc);

/* The qXfer packets (rows of packets.c's table). */
void handle_xfer_features(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_xfer_siginfo_write(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_xfer_threads(void *ctx, const char *a, size_t n, struct buf *r);
void handle_xfer_libraries(void *ctx, const char *a, size_t n, struct buf *r);
void handle_xfer_auxv(void *ctx, const char *a, size_t n, struct buf *r);
void handle_xfer_exec_file(void *ctx, const char *a, size_t n, struct buf *r);
void handle_xfer_osdata(void *ctx, const char *a, size_t n, struct buf *r);
void handle_xfer_siginfo(void *ctx, const char *a, size_t n, struct buf *r);

#endif
