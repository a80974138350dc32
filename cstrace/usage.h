/* cstrace's help text, usage errors and exit status (doc/cstrace.1). */
#ifndef CSTRACE_USAGE_H
#define CSTRACE_USAGE_H

/* 0 done, 1 bad input or decode errors, 2 usage, 3 nothing to decode (no
 * instruction-trace source); capture adds its own (capture.h). */
enum { EXIT_OK = 0, EXIT_BAD = 1, EXIT_USAGE = 2, EXIT_NOTHING = 3 };

extern const char usage_text[];

/* "cstrace: " FMT (with ARG), and where to find help, on stderr. */
void usage_error(const char *fmt, const char *arg);

#endif
