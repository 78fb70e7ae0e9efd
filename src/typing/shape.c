/*
 * shape.c - typing by shape: chunks nothing typed, matched against the
 * structs that type chunks of their size.
 *
 * A live chunk nothing typed is typed by shape when exactly one struct
 * among those typing chunks of its size (exact, not arrays, with pointer
 * members; at most 4 per size) fits: it has pointer members, every non-
 * null one points to the start of a live chunk of the member's type, or
 * of an untyped chunk of exactly that type's malloc size (a leaked list:
 * no node of it is typed), and at least one such pointer exists. Such
 * chunks are flagged inferred (rank 0), and so is everything typed
 * through them. Shapes are tried in rounds (at most 8), each followed by
 * draining the worklist, until a round types nothing.
 *
 * Declines: a size no exact type has; several structs fit; a member that
 * points into a chunk, to a chunk of another type, or outside the heap.
 */
#include "config.h"
#include "typing/typing-internal.h"
#include "util/le.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

static bool shape_fits(struct typer *ty, uint32_t i, uint32_t t)
{
	struct ty *tp = ty_get(&ty->tt, t);
	taddr_t start;
	uint64_t len;
	const uint8_t *p;
	unsigned typed = 0;

	typer_user_area(ty, i, &start, &len);
	if (!tp->nr_slots || tp->size > len || !(p = typer_mem(ty, start, tp->size)))
		return false;
	for (uint32_t s = 0; s < tp->nr_slots; s++) {
		const struct ty_slot *sl = &tp->slots[s];

		for (uint32_t k = 0; k < sl->count; k++) {
			uint64_t o = sl->off + (uint64_t)sl->stride * k, v, off;
			uint32_t j, want;

			if (o + 8 > tp->size)
				break;
			v = get_le64(p + o);
			if (!v)
				continue;
			j = typer_lookup(ty, v, &off);
			if (j == UINT32_MAX || off != 0)
				return false;
			want = typer_elem(ty, sl->pointee);
			if (want == TY_NONE)
				return false;
			if (ty->type[j] == TY_NONE) {
				/* an untyped chunk of exactly the pointee's malloc
				 * size is evidence too (a leaked list: no node of
				 * it is typed) */
				if (ty_get(&ty->tt, want)->kind == TY_STRUCT &&
				    chunk_size_for_request(ty_get(&ty->tt, want)->size) ==
				    ty->walk->chunks[j].size)
					typed++;
				continue;
			}
			if (ty->type[j] != want)
				return false;
			typed++;
		}
	}
	return typed > 0;
}

void typer_type_by_shape(struct typer *ty)
{
	/* per chunk size: the struct types typing chunks of that size */
	struct size_types { uint64_t size; uint32_t types[4]; unsigned nr; } *st = NULL;
	size_t nr_st = 0, alloc_st = 0;

	for (size_t k = 0; k < ty->nr_live; k++) {
		uint32_t i = ty->live[k], t = ty->type[i];
		uint64_t cs = ty->walk->chunks[i].size;
		size_t s;

		if (t == TY_NONE || ty->array[i] || ty_get(&ty->tt, t)->kind != TY_STRUCT ||
		    !ty_get(&ty->tt, t)->nr_slots)
			continue;
		for (s = 0; s < nr_st; s++)
			if (st[s].size == cs)
				break;
		if (s == nr_st) {
			if (nr_st == alloc_st) {
				alloc_st = alloc_st ? 2 * alloc_st : 64;
				st = xrealloc(st, alloc_st * sizeof(*st));
			}
			st[nr_st].size = cs;
			st[nr_st].nr = 0;
			nr_st++;
		}
		{
			unsigned n;

			for (n = 0; n < st[s].nr && n < 4; n++)
				if (st[s].types[n] == t)
					break;
			if (n == st[s].nr && n < 4)
				st[s].types[st[s].nr++] = t;
		}
	}
	for (int round = 0; round < 8; round++) {
		uint64_t added = 0;

		for (size_t k = 0; k < ty->nr_live; k++) {
			uint32_t i = ty->live[k], pick = TY_NONE;
			uint64_t cs = ty->walk->chunks[i].size;
			unsigned fits = 0;
			size_t s;

			if (ty->type[i] != TY_NONE)
				continue;
			for (s = 0; s < nr_st; s++)
				if (st[s].size == cs)
					break;
			if (s == nr_st)
				continue;
			for (unsigned n = 0; n < st[s].nr; n++)
				if (shape_fits(ty, i, st[s].types[n])) {
					fits++;
					pick = st[s].types[n];
				}
			if (fits != 1)
				continue;
			typer_set_type(ty, i, pick, false, RANK_SHAPE,
				       (struct typed_origin){ .kind = TYPED_FROM_SHAPE }, TY_NONE, 0);
			added++;
		}
		typer_drain(ty);
		if (!added)
			break;
	}
	free(st);
}
