/* Minimal unit-test helpers: CHECK prints one line per failure and
 * check_done() prints "N passed, N failed" and gives the exit status. */
#ifndef TESTSUITE_UNIT_CHECK_H
#define TESTSUITE_UNIT_CHECK_H

#include <stdio.h>
#include <string.h>

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

#endif
