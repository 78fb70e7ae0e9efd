/*
 * census.c - group a snapshot's live chunks by size.
 *
 * A heap of 4M chunks has a few thousand distinct sizes at most, so rows
 * are found through a small open-addressing table keyed by size, then
 * sorted once.
 */
#include "config.h"
#include "analysis/census.h"
#include "snapshot/snapshot.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct size_table {
	uint64_t *keys;		/* size + 1, 0 = empty */
	size_t *rows;
	size_t mask;
};

static size_t find_row(struct size_table *h, struct census *c, size_t *alloc, uint64_t size)
{
	size_t i;

	if ((c->nr_by_size + 1) * 2 > h->mask + 1) {
		struct size_table n;

		n.mask = (h->mask + 1) * 2 - 1;
		n.keys = xcalloc(n.mask + 1, sizeof(*n.keys));
		n.rows = xcalloc(n.mask + 1, sizeof(*n.rows));
		for (size_t k = 0; k <= h->mask; k++) {
			if (!h->keys[k])
				continue;
			for (i = (h->keys[k] * 0x9e3779b97f4a7c15ULL >> 32) & n.mask;
			     n.keys[i]; i = (i + 1) & n.mask)
				;
			n.keys[i] = h->keys[k];
			n.rows[i] = h->rows[k];
		}
		free(h->keys);
		free(h->rows);
		*h = n;
	}
	for (i = ((size + 1) * 0x9e3779b97f4a7c15ULL >> 32) & h->mask;;
	     i = (i + 1) & h->mask) {
		if (h->keys[i] == size + 1)
			return h->rows[i];
		if (!h->keys[i])
			break;
	}
	ALLOC_GROW(c->by_size, c->nr_by_size + 1, *alloc);
	c->by_size[c->nr_by_size] = (struct census_size_row){ .size = size };
	h->keys[i] = size + 1;
	h->rows[i] = c->nr_by_size;
	return c->nr_by_size++;
}

static int cmp_rows(const void *a, const void *b)
{
	const struct census_size_row *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return x->size < y->size ? -1 : x->size > y->size;
}

static void build_by_type(const struct snapshot *s, struct census *c);

void census_build(const struct snapshot *s, struct census *ret)
{
	const struct heap_walk *w = &s->walk;
	struct size_table h = { .mask = 63 };
	size_t alloc = 0;

	memset(ret, 0, sizeof(*ret));
	memcpy(ret->totals, w->totals, sizeof(ret->totals));
	ret->overhead = w->overhead;
	ret->system_bytes = w->system_bytes;
	h.keys = xcalloc(h.mask + 1, sizeof(*h.keys));
	h.rows = xcalloc(h.mask + 1, sizeof(*h.rows));
	for (size_t i = 0; i < w->nr_chunks; i++) {
		const struct chunk *ch = &w->chunks[i];
		struct census_size_row *r;
		size_t row;

		if (ch->state != CHUNK_INUSE && ch->state != CHUNK_MMAPPED)
			continue;
		row = find_row(&h, ret, &alloc, ch->size);	/* may move by_size */
		r = &ret->by_size[row];
		r->count++;
		r->bytes += ch->size;
	}
	free(h.keys);
	free(h.rows);
	if (ret->nr_by_size)
		qsort(ret->by_size, ret->nr_by_size, sizeof(*ret->by_size), cmp_rows);
	build_by_type(s, ret);
}

static int cmp_type_rows(const void *a, const void *b)
{
	const struct census_type_row *x = a, *y = b;
	int d;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	if (x->untyped != y->untyped)
		return x->untyped ? 1 : -1;
	d = strcmp(x->name, y->name);
	if (d)
		return d;
	return (int)x->inferred - (int)y->inferred;
}

/* Rows by type: index 2 * type + inferred; the last one is "untyped". */
static void build_by_type(const struct snapshot *s, struct census *c)
{
	const struct heap_walk *w = &s->walk;
	size_t nr_names = s->types ? s->types->nr_names : 0;
	size_t nr_rows = 2 * nr_names + 1;
	struct census_type_row *rows = xcalloc(nr_rows, sizeof(*rows));
	size_t out = 0;

	c->has_types = s->types != NULL;
	for (size_t t = 0; t < nr_names; t++) {
		rows[2 * t] = (struct census_type_row){ .name = s->types->names[t] };
		rows[2 * t + 1] = (struct census_type_row){ .name = s->types->names[t],
							    .inferred = true };
	}
	rows[nr_rows - 1] = (struct census_type_row){ .name = "untyped", .untyped = true };
	for (size_t i = 0; i < w->nr_chunks; i++) {
		const struct chunk *ch = &w->chunks[i];
		uint32_t t = s->types ? s->types->of_chunk[i] : SNAPSHOT_UNTYPED;
		struct census_type_row *r;
		struct heap_count *sum;

		if (ch->state != CHUNK_INUSE && ch->state != CHUNK_MMAPPED)
			continue;
		if (t == SNAPSHOT_UNTYPED || t >= nr_names) {
			r = &rows[nr_rows - 1];
			sum = &c->untyped;
		} else if (s->types->flags[i] & SNAPSHOT_TYPE_INFERRED) {
			r = &rows[2 * t + 1];
			sum = &c->inferred;
		} else {
			r = &rows[2 * t];
			sum = &c->typed;
		}
		r->count++;
		r->bytes += ch->size;
		sum->count++;
		sum->bytes += ch->size;
	}
	for (size_t k = 0; k < nr_rows; k++)
		if (rows[k].count)
			rows[out++] = rows[k];
	qsort(rows, out, sizeof(*rows), cmp_type_rows);
	c->by_type = rows;
	c->nr_by_type = out;
}

void census_release(struct census *c)
{
	free(c->by_type);
	free(c->by_size);
	memset(c, 0, sizeof(*c));
}
