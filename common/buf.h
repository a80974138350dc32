/* Growable byte buffer used for packets, replies and XML documents. */
#ifndef COMMON_BUF_H
#define COMMON_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	char *data;     /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
};

#define BUF_INIT {0}

void buf_free(struct buf *b);
void buf_reset(struct buf *b);
void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Append LEN bytes as lowercase hex, two digits each. */
void buf_hex(struct buf *b, const void *data, size_t len);
/* Remove the first N bytes. */
void buf_consume(struct buf *b, size_t n);
/* Take ownership of the data; B becomes empty. */
char *buf_steal(struct buf *b);

#endif
