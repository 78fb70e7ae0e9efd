/*
 * strbuf.h - a growable, always NUL-terminated string buffer (after git's).
 *
 * Invariants: buf is never NULL after strbuf_init (it points at a static
 * empty string until the first append), buf[len] == '\0', len < alloc when
 * alloc > 0. strbuf_release frees and re-initialises; strbuf_detach hands
 * the malloc'd string to the caller.
 */
#ifndef HEAPGRAB_STRBUF_H
#define HEAPGRAB_STRBUF_H

#include "util/compiler.h"
#include <stdarg.h>

struct strbuf {
	size_t alloc;
	size_t len;
	char *buf;
};

extern char strbuf_slopbuf[];
#define STRBUF_INIT { .alloc = 0, .len = 0, .buf = strbuf_slopbuf }

void strbuf_init(struct strbuf *sb, size_t hint);
void strbuf_release(struct strbuf *sb);
char *strbuf_detach(struct strbuf *sb, size_t *ret_len);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) ATTR_FORMAT(2, 3);
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap) ATTR_FORMAT(2, 0);
void strbuf_reset(struct strbuf *sb);

#endif /* HEAPGRAB_STRBUF_H */
