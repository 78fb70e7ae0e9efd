/*
 * arrays.c - one object or an array of them, and the elements of
 * trailing arrays.
 *
 * One T or T[]. glibc hands out a whole free chunk when what would be
 * left of it is smaller than its minimum chunk (32 bytes), and realloc
 * shrinks in place when the chunk cannot be split, so a T may sit in a
 * chunk up to 16 bytes bigger than malloc(sizeof(T)) gives
 * (doc/glibc-malloc.md §7). A chunk is therefore T[] only when two
 * or more T fit in its usable size (malloc_usable_size()), for a struct
 * only when the chunk is also bigger than the biggest one T can get
 * (malloc(sizeof(T))'s chunk plus 16: a 16-byte struct in a 48-byte
 * chunk is one struct with its slack, not two), and never when
 * T ends in a trailing array (a flexible array member, a struct hack
 * x[0] or x[1], a flexible array inside a trailing union or struct:
 * debuginfo/types.c marks such types flex): those are one T whose last
 * member runs on to the chunk's end. Declines: a T that does not fit the
 * chunk at all types nothing (engine.c).
 *
 * Elements of trailing arrays. A struct S whose trailing array holds
 * elements E (struct batch { int n; struct qentry e[]; }) has an E at
 * flex_off + k * sizeof(E) for every k, and so has every struct E holds
 * at its own offsets: an intrusive list whose links live in element k of
 * the array points into the middle of S's chunk. The embed index
 * (debuginfo/types.c) lists fixed offsets only; this index lists, per
 * embedded type M, each (S, base, stride): an M at base + k * stride of
 * an S. A pointer of type M * at offset o of a chunk types it S when
 * exactly one such S has o = base + k * stride past its fixed part and
 * the element holding o fits the chunk. Declines: two or more such S
 * (nothing is typed), an element that would run past the chunk's end.
 */
#include "config.h"
#include "typing/typing-internal.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* The most a request for SIZE bytes can be given: malloc's chunk and the
 * remainder it may leave unsplit. */
#define SLACK 16

bool typer_holds_one(struct typer *ty, uint32_t i, uint32_t t)
{
	const struct ty *tp = ty_get(&ty->tt, t);
	const struct chunk *c = &ty->walk->chunks[i];

	if (tp->flex || !tp->size || tp->size * 2 > typer_usable(ty, i))
		return true;
	/* a struct in a chunk that one of it can get is one of it: two
	 * 16-byte structs fit in a 48-byte chunk, which is also what one
	 * gets with its slack; base types and pointers are arrays (nobody
	 * mallocs one char) */
	return (tp->kind == TY_STRUCT || tp->kind == TY_UNION) && c->state != CHUNK_MMAPPED &&
	       c->size <= chunk_size_for_request(tp->size) + SLACK;
}

struct trailing_elem {
	uint32_t m;		/* the embedded type */
	uint32_t owner;		/* the struct whose trailing array holds it */
	uint64_t base, stride;
};

static int cmp_trailing(const void *a, const void *b)
{
	const struct trailing_elem *x = a, *y = b;

	if (x->m != y->m)
		return x->m < y->m ? -1 : 1;
	return x->owner < y->owner ? -1 : x->owner > y->owner;
}

static void add_elem(struct typer *ty, size_t *alloc, uint32_t m, uint32_t owner,
		     uint64_t base, uint64_t stride)
{
	ALLOC_GROW(ty->trailing, ty->nr_trailing + 1, *alloc);
	ty->trailing[ty->nr_trailing++] = (struct trailing_elem){
		.m = m, .owner = owner, .base = base, .stride = stride,
	};
}

void typer_index_trailing(struct typer *ty)
{
	size_t alloc = 0;

	for (size_t id = 0; id < ty->tt.nr; id++) {
		const struct ty *s = ty_get(&ty->tt, (uint32_t)id);
		const struct ty *e;

		if ((s->kind != TY_STRUCT && s->kind != TY_UNION) || !s->complete || !s->flex ||
		    s->flex_elem == TY_NONE)
			continue;
		e = ty_get(&ty->tt, s->flex_elem);
		if ((e->kind != TY_STRUCT && e->kind != TY_UNION) || !e->complete || !e->size)
			continue;
		add_elem(ty, &alloc, s->flex_elem, (uint32_t)id, s->flex_off, e->size);
		for (uint32_t k = 0; k < e->nr_embeds; k++) {
			/* re-read: add_elem never adds types, but stay safe */
			const struct ty_embed *em = &ty_get(&ty->tt, s->flex_elem)->embeds[k];

			add_elem(ty, &alloc, em->type, (uint32_t)id, s->flex_off + em->off,
				 ty_get(&ty->tt, s->flex_elem)->size);
		}
	}
	if (ty->nr_trailing)
		qsort(ty->trailing, ty->nr_trailing, sizeof(*ty->trailing), cmp_trailing);
}

void typer_free_trailing(struct typer *ty)
{
	free(ty->trailing);
	ty->trailing = NULL;
	ty->nr_trailing = 0;
}

unsigned typer_trailing_owners(struct typer *ty, uint32_t i, uint32_t m, uint64_t off,
			      uint32_t *cands, unsigned max)
{
	size_t lo = 0, hi = ty->nr_trailing;
	uint64_t usable, msize = ty_get(&ty->tt, m)->size;
	uint32_t last = TY_NONE;
	unsigned found = 0;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (ty->trailing[mid].m < m)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == ty->nr_trailing || ty->trailing[lo].m != m)
		return 0;
	usable = typer_usable(ty, i);
	for (size_t k = lo; k < ty->nr_trailing && ty->trailing[k].m == m; k++) {
		const struct trailing_elem *t = &ty->trailing[k];

		/* sorted by owner: one owner holding M twice in an element
		 * comes in a row */
		if (off < t->base || (off - t->base) % t->stride || off + msize > usable ||
		    t->owner == last)
			continue;
		last = t->owner;
		if (found < max)
			cands[found] = t->owner;
		found++;
	}
	return found;
}

bool typer_fits_exactly(struct typer *ty, uint32_t i, uint32_t t)
{
	const struct ty *tp = ty_get(&ty->tt, t);
	const struct chunk *c = &ty->walk->chunks[i];
	uint64_t usable = typer_usable(ty, i);

	if (!tp->size || tp->size > usable)
		return false;
	if (tp->flex)
		return true;
	if (c->state == CHUNK_MMAPPED)
		return tp->size * 2 > usable;
	return c->size == chunk_size_for_request(tp->size) ||
	       c->size == chunk_size_for_request(tp->size) + SLACK;
}
