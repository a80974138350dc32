/* Minimal unit-test helpers: CHECK prints one line per failure and
 * check_done() prints "N passed, N failed" and gives the exit status. */
#ifndef TESTSUITE_UNIT_CHECK_H
#define TESTSUITE_UNIT_CHECK_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int check_passed, check_failed;

#define CHECK(cond) do { \
	if (cond) { check_passed++; } \
	else { check_failed++; \
		fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } \
} while (0)

#define CHECK_STR(got, want) do { \
	const char *g_ = (got), *w_ = (want); \
	if (g_ && w_ && strcmp(g_, w_) == 0) { check_passed++; } \
	else { check_failed++; \
		fprintf(stderr, "FAIL %s:%d: %s == \"%s\", want \"%s\"\n", \
			__FILE__, __LINE__, #got, g_ ? g_ : "(null)", w_ ? w_ : "(null)"); } \
} while (0)

#define CHECK_MEM(got, want, n) do { \
	if (memcmp((got), (want), (n)) == 0) { check_passed++; } \
	else { check_failed++; \
		fprintf(stderr, "FAIL %s:%d: %s differs from %s\n", __FILE__, __LINE__, #got, #want); } \
} while (0)

static inline int check_done(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
	return check_failed ? 1 : 0;
}

/* The project's read-only test data is ../shared beside the tree: the
 * Makefile passes that path, computed from the tree it builds, as
 * CSG_SHARED_DIR; $CSG_SHARED overrides it. */
#ifndef CSG_SHARED_DIR
#define CSG_SHARED_DIR "../shared"
#endif

static inline const char *check_shared_dir(void)
{
	const char *env = getenv("CSG_SHARED");
	return env && *env ? env : CSG_SHARED_DIR;
}

/* Path of REL under the shared testdata/ directory. The result lives in
 * one of 32 buffers used in turn, enough for the paths a test holds. */
static inline const char *check_shared(const char *rel)
{
	static char bufs[32][1024];
	static unsigned next;
	char *b = bufs[next++ % 32];
	snprintf(b, sizeof bufs[0], "%s/testdata/%s", check_shared_dir(), rel);
	return b;
}

/* Shared data the test needs: a failure naming the path when it is not
 * there (never a skip: it always comes with the tree). */
static inline bool check_shared_present(const char *path)
{
	if (access(path, R_OK) == 0) {
		check_passed++;
		return true;
	}
	check_failed++;
	fprintf(stderr, "FAIL: shared test data missing: %s (it belongs at ../shared beside the "
		"tree; CSG_SHARED=DIR overrides)\n", path);
	return false;
}

#endif
