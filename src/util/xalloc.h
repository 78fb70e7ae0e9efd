/*
 * xalloc.h - allocation that dies on OOM, and overflow-checked sizes.
 *
 * heapgrab is a CLI: a half-done census is worse than a clear failure, so
 * xmalloc & co print a message and exit(2) when memory runs out.
 * st_add()/st_mult() die on overflow; use them for every size computed from
 * target data (or check ranges explicitly).
 */
#ifndef HEAPGRAB_XALLOC_H
#define HEAPGRAB_XALLOC_H

#include "util/compiler.h"

void *xmalloc(size_t n) ATTR_MALLOC;
void *xcalloc(size_t nmemb, size_t size) ATTR_MALLOC;
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s) ATTR_MALLOC;
char *xstrndup(const char *s, size_t n) ATTR_MALLOC;
/* asprintf that dies on OOM; returns a malloc'd string. */
char *xasprintf(const char *fmt, ...) ATTR_FORMAT(1, 2) ATTR_MALLOC;

size_t st_add(size_t a, size_t b);
size_t st_mult(size_t a, size_t b);

/* Grow array X (element count ALLOC) so that it holds at least NR items. */
#define ALLOC_GROW(x, nr, alloc) do { \
	if ((size_t)(nr) > (alloc)) { \
		size_t new_alloc_ = (alloc) < 16 ? 16 : st_mult((alloc), 2); \
		if (new_alloc_ < (size_t)(nr)) \
			new_alloc_ = (nr); \
		(x) = xrealloc((x), st_mult(new_alloc_, sizeof(*(x)))); \
		(alloc) = new_alloc_; \
	} \
} while (0)

#define FREE_AND_NULL(p) do { free(p); (p) = NULL; } while (0)

#endif /* HEAPGRAB_XALLOC_H */
