/*
 * parts.c - two structs in one chunk.
 *
 * One allocation may hold two structs one after the other (a thread
 * state followed by a global state in one malloc, a header struct and
 * its payload struct), with no struct in the debug info that embeds
 * both: a pointer to the second lands in the middle of the chunk. Both
 * parts are typed and scanned; the chunk is named after the first.
 *
 * Second part after the first (typer_second_part): chunk I is typed T
 * (a struct, from its start), and a pointer of another struct type U
 * lands at offset o with o >= sizeof(T), o 8-aligned and the U inside
 * the chunk's usable bytes. When the chunk was taken for T[] and T
 * embeds U at o mod sizeof(T), the pointer is to a member of element k:
 * that is no second part. Otherwise the chunk is one T followed by a U
 * at o (no longer an array of T: the array's later "elements" were the
 * U's bytes, and engine.c stops scanning them).
 *
 * First part before a prefix (typer_part_before_prefix): chunk I was
 * typed U behind a prefix of p bytes (headers.c: a pointer p bytes in),
 * and a pointer of another struct type T, with sizeof(T) <= p, reaches
 * the chunk's start: the "prefix" was a T. The chunk becomes T with U at
 * p.
 *
 * Declines: a pointer into a chunk typed as a base type or an array of
 * pointers (a char[] pool holds many structs; which ones is not told by
 * one pointer); a U that does not fit; o inside T; a chunk that already
 * has a second part elsewhere (a third struct is not guessed); T and U
 * the same struct.
 *
 * Second parts are rare: they live in a hash map by chunk, not in
 * per-chunk arrays.
 */
#include "config.h"
#include "typing/typing-internal.h"

uint32_t typer_part(const struct typer *ty, uint32_t i, uint64_t *ret_off)
{
	const uint64_t *v;

	if (!hashmap_size(&ty->parts) || !(v = hashmap_find_u64(&ty->parts, i)))
		return TY_NONE;
	*ret_off = *v >> 32;
	return (uint32_t)*v;
}

void typer_drop_part(struct typer *ty, uint32_t i)
{
	if (hashmap_size(&ty->parts))
		(void)hashmap_del_u64(&ty->parts, i);
}

static void set_part(struct typer *ty, uint32_t i, uint32_t u, uint64_t off)
{
	hashmap_put_u64(&ty->parts, i, (off << 32) | u);
}

bool typer_embeds_at(struct typer *ty, uint32_t t, uint32_t u, uint64_t off)
{
	const struct ty_list *l;

	if (t == u && off == 0)
		return true;
	if (!(l = ty_embedders(&ty->tt, u, off)))
		return false;
	for (size_t k = 0; k < l->nr; k++)
		if (l->types[k] == t)
			return true;
	return false;
}

bool typer_second_part(struct typer *ty, uint32_t i, uint32_t u, uint64_t off)
{
	uint32_t t = ty->type[i], old;
	const struct ty *tp, *up = ty_get(&ty->tt, u);
	uint64_t old_off;

	if (t == TY_NONE || t == u || ty->prefix[i] || up->kind != TY_STRUCT || !up->size)
		return false;
	tp = ty_get(&ty->tt, t);
	if (tp->kind != TY_STRUCT || !tp->size || off % 8 || off < tp->size ||
	    off + up->size > typer_usable(ty, i))
		return false;
	/* a member of a later element of T[] */
	if (ty->array[i] && typer_embeds_at(ty, t, u, off % tp->size))
		return false;
	old = typer_part(ty, i, &old_off);
	if (old != TY_NONE)
		return old == u && old_off == off;
	set_part(ty, i, u, off);
	ty->array[i] = 0;
	typer_requeue(ty, i);
	return true;
}

bool typer_part_before_prefix(struct typer *ty, uint32_t i, uint32_t t, uint8_t rank,
			      struct typed_origin from, uint32_t member)
{
	uint32_t u = ty->type[i];
	uint64_t p = ty->prefix[i];
	const struct ty *tp = ty_get(&ty->tt, t);

	if (u == TY_NONE || !p || u == t || tp->kind != TY_STRUCT || !tp->size || tp->size > p ||
	    ty_get(&ty->tt, u)->kind != TY_STRUCT || typer_part(ty, i, &p) != TY_NONE)
		return false;
	p = ty->prefix[i];
	/* the struct at the start names the chunk, the one behind it is its
	 * second part: a refinement, no conflict */
	ty->type[i] = t;
	ty->array[i] = 0;
	ty->prefix[i] = 0;
	if (rank > ty->rank[i])
		ty->rank[i] = rank;
	ty->from[i] = from.index;
	ty->from_kind[i] = from.kind;
	ty->member[i] = member;
	set_part(ty, i, u, p);
	typer_requeue(ty, i);
	return true;
}
