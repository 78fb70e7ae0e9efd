/*
 * diff.c - growth between two snapshots; see diff.h.
 *
 * Size classes come from the two censuses (analysis/census.c), merged by
 * size after sorting copies of their rows by size: a few thousand rows at
 * most. Chunk identity needs the live chunks of both snapshots in address
 * order; walks produce a few sorted runs (one per heap), so the arrays are
 * checked first and only sorted when they are not in order already.
 *
 * Deltas are NEW - OLD in two's complement: exact for any value below
 * 2^63, far above any heap.
 */
#include "config.h"
#include "analysis/diff.h"
#include "analysis/census.h"
#include "snapshot/snapshot.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

static void value_set(struct diff_value *v, uint64_t oc, uint64_t ob, uint64_t nc, uint64_t nb)
{
	v->count_delta = (int64_t)(nc - oc);
	v->bytes_delta = (int64_t)(nb - ob);
	v->count = nc;
	v->bytes = nb;
}

static int cmp_by_size(const void *a, const void *b)
{
	const struct census_size_row *x = a, *y = b;

	return x->size < y->size ? -1 : x->size > y->size;
}

static int cmp_delta(const void *a, const void *b)
{
	const struct diff_size_row *x = a, *y = b;

	if (x->v.bytes_delta != y->v.bytes_delta)
		return x->v.bytes_delta > y->v.bytes_delta ? -1 : 1;
	return x->size < y->size ? -1 : x->size > y->size;
}

static void diff_sizes(const struct census *oc, const struct census *nc, struct diff *d)
{
	struct census_size_row *o = xmalloc(st_mult(oc->nr_by_size + 1, sizeof(*o)));
	struct census_size_row *n = xmalloc(st_mult(nc->nr_by_size + 1, sizeof(*n)));
	size_t i = 0, j = 0, alloc = 0;

	if (oc->nr_by_size)
		memcpy(o, oc->by_size, oc->nr_by_size * sizeof(*o));
	if (nc->nr_by_size)
		memcpy(n, nc->by_size, nc->nr_by_size * sizeof(*n));
	qsort(o, oc->nr_by_size, sizeof(*o), cmp_by_size);
	qsort(n, nc->nr_by_size, sizeof(*n), cmp_by_size);
	while (i < oc->nr_by_size || j < nc->nr_by_size) {
		struct census_size_row zero = { 0 }, *a = &zero, *b = &zero;
		struct diff_size_row *r;

		if (j == nc->nr_by_size || (i < oc->nr_by_size && o[i].size < n[j].size)) {
			a = &o[i++];
		} else if (i == oc->nr_by_size || n[j].size < o[i].size) {
			b = &n[j++];
		} else {
			a = &o[i++];
			b = &n[j++];
		}
		if (a->count == b->count && a->bytes == b->bytes)
			continue;
		ALLOC_GROW(d->by_size, d->nr_by_size + 1, alloc);
		r = &d->by_size[d->nr_by_size++];
		r->size = a == &zero ? b->size : a->size;
		value_set(&r->v, a->count, a->bytes, b->count, b->bytes);
	}
	free(o);
	free(n);
	if (d->nr_by_size)
		qsort(d->by_size, d->nr_by_size, sizeof(*d->by_size), cmp_delta);
}

static int cmp_type_key(const void *a, const void *b)
{
	const struct census_type_row *x = a, *y = b;
	int d = strcmp(x->name, y->name);

	if (d)
		return d;
	if (x->untyped != y->untyped)
		return x->untyped ? 1 : -1;
	return (int)x->inferred - (int)y->inferred;
}

static int cmp_type_delta(const void *a, const void *b)
{
	const struct diff_type_row *x = a, *y = b;
	int d;

	if (x->v.bytes_delta != y->v.bytes_delta)
		return x->v.bytes_delta > y->v.bytes_delta ? -1 : 1;
	d = strcmp(x->name, y->name);
	return d ? d : (int)x->inferred - (int)y->inferred;
}

static void diff_types(const struct census *oc, const struct census *nc, struct diff *d)
{
	struct census_type_row *o = xmalloc(st_mult(oc->nr_by_type + 1, sizeof(*o)));
	struct census_type_row *n = xmalloc(st_mult(nc->nr_by_type + 1, sizeof(*n)));
	size_t i = 0, j = 0, alloc = 0;

	if (oc->nr_by_type)
		memcpy(o, oc->by_type, oc->nr_by_type * sizeof(*o));
	if (nc->nr_by_type)
		memcpy(n, nc->by_type, nc->nr_by_type * sizeof(*n));
	qsort(o, oc->nr_by_type, sizeof(*o), cmp_type_key);
	qsort(n, nc->nr_by_type, sizeof(*n), cmp_type_key);
	while (i < oc->nr_by_type || j < nc->nr_by_type) {
		struct census_type_row zero = { 0 }, *a, *b;
		struct diff_type_row *r;
		int c;

		if (j == nc->nr_by_type)
			c = -1;
		else if (i == oc->nr_by_type)
			c = 1;
		else
			c = cmp_type_key(&o[i], &n[j]);
		a = c <= 0 ? &o[i++] : &zero;
		b = c >= 0 ? &n[j++] : &zero;
		if (a->count == b->count && a->bytes == b->bytes)
			continue;
		ALLOC_GROW(d->by_type, d->nr_by_type + 1, alloc);
		r = &d->by_type[d->nr_by_type++];
		r->name = c <= 0 ? a->name : b->name;
		r->inferred = c <= 0 ? a->inferred : b->inferred;
		value_set(&r->v, a->count, a->bytes, b->count, b->bytes);
	}
	free(o);
	free(n);
	if (d->nr_by_type)
		qsort(d->by_type, d->nr_by_type, sizeof(*d->by_type), cmp_type_delta);
}

static int cmp_chunk(const void *a, const void *b)
{
	const struct diff_chunk *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->size < y->size ? -1 : x->size > y->size;
}

/* The live chunks of W as (address, size), in address order. */
static struct diff_chunk *live_chunks(const struct heap_walk *w, size_t *ret_nr)
{
	struct diff_chunk *v = xmalloc(st_mult(w->nr_chunks + 1, sizeof(*v)));
	size_t n = 0;
	bool sorted = true;

	for (size_t i = 0; i < w->nr_chunks; i++) {
		const struct chunk *c = &w->chunks[i];

		if (c->state != CHUNK_INUSE && c->state != CHUNK_MMAPPED)
			continue;
		v[n].addr = c->addr;
		v[n].size = c->size;
		if (n && cmp_chunk(&v[n - 1], &v[n]) > 0)
			sorted = false;
		n++;
	}
	if (!sorted)
		qsort(v, n, sizeof(*v), cmp_chunk);
	*ret_nr = n;
	return v;
}

static void diff_chunks(const struct heap_walk *ow, const struct heap_walk *nw,
			const struct diff_opts *opts, struct diff *d)
{
	size_t no, nn, i = 0, alloc = 0;
	struct diff_chunk *o = live_chunks(ow, &no), *n = live_chunks(nw, &nn);

	for (size_t j = 0; j < nn; j++) {
		int c = 1;

		while (i < no && (c = cmp_chunk(&o[i], &n[j])) < 0)
			i++;
		if (i < no && c == 0) {
			d->survived_count++;
			d->survived_bytes += n[j].size;
			i++;
			continue;
		}
		d->new_count++;
		d->new_bytes += n[j].size;
		if (d->nr_new_chunks < opts->max_new) {
			ALLOC_GROW(d->new_chunks, d->nr_new_chunks + 1, alloc);
			d->new_chunks[d->nr_new_chunks++] = n[j];
		}
	}
	free(o);
	free(n);
}

void diff_build(const struct snapshot *old, const struct snapshot *new_,
		const struct diff_opts *opts, struct diff *ret)
{
	struct census oc, nc;

	memset(ret, 0, sizeof(*ret));
	census_build(old, &oc);
	census_build(new_, &nc);
	for (int k = 0; k < CHUNK_STATE__COUNT; k++)
		value_set(&ret->totals[k], oc.totals[k].count, oc.totals[k].bytes,
			  nc.totals[k].count, nc.totals[k].bytes);
	value_set(&ret->overhead, 0, oc.overhead, 0, nc.overhead);
	value_set(&ret->system, 0, oc.system_bytes, 0, nc.system_bytes);
	value_set(&ret->live,
		  oc.totals[CHUNK_INUSE].count + oc.totals[CHUNK_MMAPPED].count,
		  oc.totals[CHUNK_INUSE].bytes + oc.totals[CHUNK_MMAPPED].bytes,
		  nc.totals[CHUNK_INUSE].count + nc.totals[CHUNK_MMAPPED].count,
		  nc.totals[CHUNK_INUSE].bytes + nc.totals[CHUNK_MMAPPED].bytes);
	diff_sizes(&oc, &nc, ret);
	ret->has_types = oc.has_types && nc.has_types;
	if (ret->has_types)
		diff_types(&oc, &nc, ret);
	if (opts && opts->chunks)
		diff_chunks(&old->walk, &new_->walk, opts, ret);
	census_release(&oc);
	census_release(&nc);
}

void diff_release(struct diff *d)
{
	free(d->by_size);
	free(d->by_type);
	free(d->new_chunks);
	memset(d, 0, sizeof(*d));
}
