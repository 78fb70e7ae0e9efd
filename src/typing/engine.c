/*
 * engine.c - the typing engine: the chunk index, the worklist, ranks and
 * conflicts, and the core rule of what a typed pointer says about the
 * chunk it points into.
 *
 * A chunk gets a type when a typed pointer points into it. The pointers
 * start at typed roots (roots/: global and static variables of every
 * module, TLS variables, thread descriptors, locals and parameters of
 * every stack frame) and go on through the chunks typed so far: a
 * worklist of chunks whose pointer members (debuginfo/types.c flattens
 * them) are read from the image and followed. Each chunk is scanned once
 * per type it receives.
 *
 * Which type a pointer of pointee T gives (typer_assign):
 *   - a pointer to the chunk's start gives T, or "T[]" when the chunk is
 *     bigger than what malloc(sizeof(T)) returns (unions too) and T has
 *     no flexible array member (base types, pointers and what is in an
 *     mmapped chunk: when two T fit); a T bigger than the chunk's usable
 *     size is refused, and a union alternative types only a chunk that
 *     is exactly malloc(sizeof(alternative)). When T is a struct other
 *     structs begin with, the header rule decides first (headers.c);
 *   - an interior pointer of type M* at offset o gives the struct that
 *     embeds an M at o (intrusive lists), when exactly one fits; else the
 *     allocator-prefix rule (headers.c) may take it; else, for base
 *     types, unions and pointers, "M[]" when o is a multiple of sizeof(M)
 *     (a struct pointer into a chunk is far more often a member of a
 *     bigger struct than an array element);
 *   - glibc's struct malloc_chunk types nothing: its pointers (in bins)
 *     point 16 bytes before a chunk's user area.
 * (A chunk whose first word points into a C++ vtable is of that class,
 * whatever pointed to it: cxx.c.)
 *
 * Conflicts (a chunk reached as two different types) are settled by rank
 * (typing-internal.h: vtable 4 > pointer to the start from a member or a
 * root 3 > union alternative or header resolution 2 > interior pointer 1
 * > shape 0). At equal rank the larger type wins (it is the more specific
 * one: a struct that begins with the other), and at equal size the
 * first. Every time a chunk's type is replaced, or a different type is
 * refused, the conflict counter goes up by one; doc/typing.md documents
 * the rule. The first TYPING_CONFLICT_EXAMPLES are kept as text.
 *
 * The order in which roots are scanned and chunks drained is part of the
 * result (ties go to the first): typing.c fixes it.
 *
 * Target memory is hostile: every read goes through typer_mem (bounded by
 * the chunk's usable size, or the root's size), nesting is cut at depth 4,
 * and an object's pointer slots are bounded by the type table.
 */
#include "config.h"
#include "typing/typing-internal.h"
#include "roots/roots.h"
#include "target/target.h"
#include "util/strbuf.h"
#include "util/le.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* ---- chunk index ------------------------------------------------------- */

static int cmp_live(const void *a, const void *b, void *arg)
{
	const struct chunk *c = arg;
	taddr_t x = c[*(const uint32_t *)a].addr, y = c[*(const uint32_t *)b].addr;

	return x < y ? -1 : x > y;
}

static bool is_live(const struct chunk *c)
{
	return c->state == CHUNK_INUSE || c->state == CHUNK_MMAPPED;
}

/*
 * The live chunk holding V: a search in the index, started where the last
 * answer was (a pointer often lands near the one before: a list's next
 * node, a payload beside its record), galloping out from there, so a
 * list typed node by node costs a few steps per node instead of a full
 * binary search.
 */
uint32_t typer_lookup(struct typer *ty, taddr_t v, uint64_t *ret_off)
{
	size_t lo = 0, hi = ty->nr_live, f = ty->lookup_hint;
	taddr_t start;
	uint64_t len;
	uint32_t i;

#define MEM(k) chunk_mem(&ty->walk->chunks[ty->live[k]])
	if (v < ty->live_lo || v >= ty->live_hi)
		return UINT32_MAX;
	if (f < ty->nr_live && MEM(f) <= v) {
		size_t step = 1;

		/* the answer is at or after f */
		lo = f;
		while (lo + step < ty->nr_live && MEM(lo + step) <= v) {
			lo += step;
			step *= 2;
		}
		hi = MIN(lo + step, ty->nr_live);
		lo++;
	} else if (f < ty->nr_live) {
		size_t step = 1;

		/* before f: MEM(hi) > v throughout */
		hi = f;
		while (hi >= step && MEM(hi - step) > v) {
			hi -= step;
			step *= 2;
		}
		lo = hi >= step ? hi - step + 1 : 0;
	}
	/* the first index in [lo, hi) whose chunk starts above v */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (MEM(mid) <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
#undef MEM
	if (lo == 0)
		return UINT32_MAX;
	ty->lookup_hint = lo - 1;
	i = ty->live[lo - 1];
	typer_user_area(ty, i, &start, &len);
	if (v >= start + len)
		return UINT32_MAX;
	*ret_off = v - start;
	return i;
}

static int cmp_piece(const void *a, const void *b)
{
	const taddr_t *x = a, *y = b;

	return x[0] < y[0] ? -1 : x[0] > y[0];
}

static void build_index(struct typer *ty)
{
	const struct heap_walk *w = ty->walk;
	taddr_t (*piece)[3] = NULL;	/* start address, first index, count */
	size_t nr = 0, alloc = 0;
	bool sorted = true;

	/*
	 * The walk lists chunks segment by segment (a heap, a run of the
	 * main arena, an mmapped chunk), each in address order, and a
	 * segment's chunks follow each other without a gap: cut where they
	 * do not, sort those pieces (disjoint address ranges) by their start,
	 * and the live chunks come out in address order without a sort of
	 * millions of them. A walk that is not like that (a corrupt heap,
	 * chunks read from a file) is checked, and sorted the slow way.
	 */
	for (size_t i = 0; i < w->nr_chunks; i++) {
		const struct chunk *c = &w->chunks[i];

		if (nr && c->addr == w->chunks[i - 1].addr + w->chunks[i - 1].size) {
			piece[nr - 1][2]++;
			continue;
		}
		ALLOC_GROW(piece, nr + 1, alloc);
		piece[nr][0] = c->addr;
		piece[nr][1] = i;
		piece[nr][2] = 1;
		nr++;
	}
	qsort(piece, nr, sizeof(*piece), cmp_piece);
	ty->live = xmalloc((w->nr_chunks + 1) * sizeof(*ty->live));
	for (size_t k = 0; k < nr; k++)
		for (size_t i = piece[k][1]; i < piece[k][1] + piece[k][2]; i++)
			if (is_live(&w->chunks[i]) && w->chunks[i].size >= CHUNK_MIN_SIZE)
				ty->live[ty->nr_live++] = (uint32_t)i;
	free(piece);
	for (size_t i = 1; i < ty->nr_live && sorted; i++)
		sorted = w->chunks[ty->live[i]].addr > w->chunks[ty->live[i - 1]].addr;
	if (!sorted)
		qsort_r(ty->live, ty->nr_live, sizeof(*ty->live), cmp_live, w->chunks);
	if (ty->nr_live) {
		taddr_t start;
		uint64_t len;

		ty->live_lo = chunk_mem(&w->chunks[ty->live[0]]);
		typer_user_area(ty, ty->live[ty->nr_live - 1], &start, &len);
		ty->live_hi = start + len;
	}
}

void typer_init(struct typer *ty, struct target *image, const struct heap_walk *walk,
		const struct typing_opts *opts)
{
	size_t n = walk->nr_chunks + 1;

	memset(ty, 0, sizeof(*ty));
	ty->image = image;
	ty->walk = walk;
	ty->opts = opts;
	ty_table_init(&ty->tt);
	ty->malloc_chunk = TY_NONE;
	ty->scanning = UINT32_MAX;
	hashmap_init(&ty->parts, HASHMAP_U64);
	for (size_t k = 0; k < TYPER_NODE_BASES; k++)
		ty->node_base[k] = TY_NONE;
	ty->type = xmalloc(n * sizeof(*ty->type));
	memset(ty->type, 0xff, n * sizeof(*ty->type));
	ty->rank = xcalloc(n, 1);
	ty->array = xcalloc(n, 1);
	ty->prefix = xcalloc(n, 1);
	ty->inferred = xcalloc(n, 1);
	ty->in_queue = xcalloc(n, 1);
	ty->from = xmalloc(n * sizeof(*ty->from));
	ty->from_kind = xcalloc(n, 1);
	ty->member = xmalloc(n * sizeof(*ty->member));
	build_index(ty);
}

void typer_release(struct typer *ty)
{
	for (size_t i = 0; i < ty->nr_roots; i++)
		free(ty->roots[i]);
	for (size_t i = 0; i < ty->nr_conflict_examples; i++)
		free(ty->conflict_examples[i]);
	free(ty->roots);
	typer_free_vtables(ty);
	typer_families_free(ty);
	typer_objmodel_free(ty);
	typer_tagged_free(ty);
	typer_free_trailing(ty);
	hashmap_release(&ty->parts);
	free(ty->foreign);
	ty_table_free(&ty->tt);
	free(ty->live);
	free(ty->type);
	free(ty->rank);
	free(ty->array);
	free(ty->prefix);
	free(ty->inferred);
	free(ty->in_queue);
	free(ty->from);
	free(ty->from_kind);
	free(ty->member);
	free(ty->queue);
	free(ty->deferred);
	free(ty->buf);
	memset(ty, 0, sizeof(*ty));
}

/* ---- memory -------------------------------------------------------------- */

const uint8_t *typer_mem(struct typer *ty, taddr_t addr, uint64_t len)
{
	const void *p = target_map(ty->image, addr, len);

	if (p)
		return p;
	if (len > ty->buf_len) {
		ty->buf = xrealloc(ty->buf, len);
		ty->buf_len = len;
	}
	return target_read(ty->image, addr, ty->buf, len) == 0 ? ty->buf : NULL;
}

uint64_t typer_word(struct typer *ty, uint32_t i, uint64_t off, unsigned width)
{
	taddr_t start;
	uint64_t len, v = 0;
	const uint8_t *p;

	typer_user_area(ty, i, &start, &len);
	if (off + width > len || !(p = typer_mem(ty, start + off, width)))
		return 0;
	memcpy(&v, p, width);
	return v;
}

/* ---- assigning types ---------------------------------------------------- */

static void push(struct typer *ty, uint32_t i)
{
	if (ty->in_queue[i])
		return;
	if (ty->nr_queue == ty->alloc_queue) {
		ty->alloc_queue = ty->alloc_queue ? 2 * ty->alloc_queue : 4096;
		ty->queue = xrealloc(ty->queue, ty->alloc_queue * sizeof(*ty->queue));
	}
	ty->queue[ty->nr_queue++] = i;
	ty->in_queue[i] = 1;
}

void typer_requeue(struct typer *ty, uint32_t i)
{
	push(ty, i);
}

uint32_t typer_elem(struct typer *ty, uint32_t p)
{
	for (int d = 0; d < 8 && p != TY_NONE; d++) {
		struct ty *t = ty_get(&ty->tt, p);

		if (t->kind == TY_ARRAY) {
			p = t->elem;
			continue;
		}
		if (t->kind == TY_OTHER || t->size == 0)
			return TY_NONE;
		return p;
	}
	return TY_NONE;
}

static void note_conflict(struct typer *ty, uint32_t i, uint32_t t, bool array, uint8_t rank)
{
	struct strbuf sb = STRBUF_INIT;
	uint32_t old = ty->type[i];

	ty->conflicts++;
	if (ty->nr_conflict_examples >= TYPING_CONFLICT_EXAMPLES)
		return;
	strbuf_addf(&sb, "0x%llx: %s%s (rank %u) vs %s%s (rank %u)",
		    (unsigned long long)chunk_mem(&ty->walk->chunks[i]),
		    ty_get(&ty->tt, old)->name, ty->array[i] ? "[]" : "", ty->rank[i],
		    ty_get(&ty->tt, t)->name, array ? "[]" : "", rank);
	ty->conflict_examples[ty->nr_conflict_examples++] = strbuf_detach(&sb, NULL);
}

void typer_set_type(struct typer *ty, uint32_t i, uint32_t t, bool array, uint8_t rank,
		    struct typed_origin from, uint32_t member, uint32_t prefix)
{
	uint32_t old = ty->type[i];
	uint64_t po;

	if (old != TY_NONE) {
		/* a chunk with a second part is one T, whatever its size says */
		if (old == t && (ty->array[i] == array || typer_part(ty, i, &po) != TY_NONE))
			return;
		note_conflict(ty, i, t, array, rank);
		if (rank < ty->rank[i])
			return;
		if (rank == ty->rank[i] &&
		    ty_get(&ty->tt, t)->size <= ty_get(&ty->tt, old)->size)
			return;
	}
	if (old != t)
		typer_drop_part(ty, i);
	ty->type[i] = t;
	ty->array[i] = array;
	ty->prefix[i] = (uint8_t)prefix;
	/* what a guess reaches is a guess too */
	ty->inferred[i] = rank == RANK_SHAPE ||
			  (from.kind == TYPED_FROM_CHUNK && from.index < ty->walk->nr_chunks &&
			   ty->inferred[from.index]);
	ty->rank[i] = rank;
	ty->from[i] = from.index;
	ty->from_kind[i] = from.kind;
	ty->member[i] = member;
	push(ty, i);
}

unsigned typer_embedders_fitting(struct typer *ty, uint32_t m, uint64_t off, uint32_t i,
				 bool exact, uint32_t *ret, uint32_t *cands, unsigned max)
{
	const struct ty_list *l = ty_embedders(&ty->tt, m, off);
	uint64_t csize = ty->walk->chunks[i].size, usable;
	unsigned n = 0;

	if (!l)
		return 0;
	usable = typer_usable(ty, i);
	for (size_t k = 0; k < l->nr; k++) {
		struct ty *s = ty_get(&ty->tt, l->types[k]);

		if (!s->size || s->size > usable)
			continue;
		if (exact && !s->flex && chunk_size_for_request(s->size) != csize &&
		    ty->walk->chunks[i].state != CHUNK_MMAPPED)
			continue;
		if (n == 0)
			*ret = l->types[k];
		if (n < max)
			cands[n] = l->types[k];
		n++;
	}
	return n;
}

/* A pointer of element type T to the start of chunk I. */
static void assign_start(struct typer *ty, uint32_t i, uint32_t t, uint8_t rank,
			 struct typed_origin from, uint32_t member)
{
	const struct chunk *c = &ty->walk->chunks[i];
	uint64_t usable = typer_usable(ty, i);
	struct ty *tp = ty_get(&ty->tt, t);
	/* one T, or T[] when two or more fit (arrays.c) */
	bool single = typer_holds_one(ty, i, t);

	if (tp->size > usable)
		return;
	/* a union alternative validates only when the chunk is what
	 * malloc(sizeof(T)) returns: the other alternatives' types would fit
	 * a bigger chunk too */
	if (rank == RANK_WEAK && !tp->flex && chunk_size_for_request(tp->size) != c->size &&
	    c->state != CHUNK_MMAPPED && tp->kind != TY_STRUCT)
		return;
	/* what was taken for a prefix is a first struct (parts.c) */
	if (ty->prefix[i] && typer_part_before_prefix(ty, i, t, rank, from, member))
		return;
	/* (a header's family: the tag decides, whatever the sizes) */
	if (tp->kind == TY_STRUCT && rank < RANK_VTABLE &&
	    typer_header_start(ty, i, t, from, member))
		return;
	if (rank == RANK_WEAK && !tp->flex && chunk_size_for_request(tp->size) != c->size &&
	    c->state != CHUNK_MMAPPED)
		return;
	/* a chunk malloc'd for exactly one T is a T, else an array (a union
	 * too: a union alternative reaches here only in a chunk of exactly
	 * its size) */
	typer_set_type(ty, i, t, !single, rank, from, member, 0);
}

/* Structs considered for one interior pointer. */
#define INTERIOR_CANDS 8

/*
 * Of the N structs that hold the pointee where an interior pointer
 * lands (CANDS; N may exceed what CANDS holds), the one to type chunk I
 * with: the only one, or the only one malloc(sizeof) gives this chunk
 * (a flexible struct fits any chunk it fits in); TY_NONE when none or
 * several are left.
 */
static uint32_t interior_pick(struct typer *ty, uint32_t i, const uint32_t *cands, unsigned n)
{
	uint32_t pick = TY_NONE;
	unsigned exact = 0;

	if (n == 1)
		return cands[0];
	if (n == 0 || n > INTERIOR_CANDS)
		return TY_NONE;
	for (unsigned k = 0; k < n; k++)
		if (typer_fits_exactly(ty, i, cands[k]) && cands[k] != pick) {
			pick = cands[k];
			exact++;
		}
	return exact == 1 ? pick : TY_NONE;
}

/* A pointer of element type T OFF bytes into chunk I. */
static void assign_interior(struct typer *ty, uint32_t i, uint64_t off, uint32_t t,
			    struct typed_origin from, uint32_t member)
{
	uint64_t usable = typer_usable(ty, i);
	struct ty *tp = ty_get(&ty->tt, t);
	uint32_t have = ty->type[i];

	if (have != TY_NONE && (tp->kind == TY_STRUCT || tp->kind == TY_UNION)) {
		const struct ty *hp = ty_get(&ty->tt, have);
		uint64_t o = off - ty->prefix[i], po;
		uint32_t part = typer_part(ty, i, &po);

		/* a member of the struct the chunk already is (or of its
		 * second part): nothing new */
		if (off >= ty->prefix[i] && hp->size &&
		    typer_embeds_at(ty, have, t, ty->array[i] ? o % hp->size : o))
			return;
		if (part != TY_NONE && off >= po && typer_embeds_at(ty, part, t, off - po))
			return;
	}
	/* a pointer into the object being scanned, to anything but a struct
	 * (std::string's pointer to its own inline buffer) */
	if (i == ty->scanning && tp->kind != TY_STRUCT)
		return;
	if (tp->kind == TY_STRUCT || tp->kind == TY_UNION) {
		uint32_t s, c[INTERIOR_CANDS];
		unsigned n = typer_embedders_fitting(ty, t, off, i, false, &s, c, INTERIOR_CANDS);

		/* and the structs holding it in an element of their trailing
		 * array (arrays.c) */
		if (n <= INTERIOR_CANDS)
			n += typer_trailing_owners(ty, i, t, off, c + n, INTERIOR_CANDS - n);
		s = interior_pick(ty, i, c, n);
		if (s != TY_NONE) {
			typer_set_type(ty, i, s, false, RANK_INTERIOR, from, member, 0);
			return;
		}
		/* a second struct after the one the chunk is (parts.c) */
		if (n == 0 && tp->kind == TY_STRUCT && typer_second_part(ty, i, t, off))
			return;
		if (n == 0 && tp->kind == TY_STRUCT && typer_prefix(ty, i, t, off, from, member))
			return;
	}
	/* a pointer to an element of an array of base types or unions (char
	 * *p = buf + n; glibc's DTV pointer is &dtv[1]) */
	if ((tp->kind == TY_BASE || tp->kind == TY_UNION || tp->kind == TY_PTR) && tp->size &&
	    off % tp->size == 0 && tp->size * 2 <= usable)
		typer_set_type(ty, i, t, true, RANK_INTERIOR, from, member, 0);
}

void typer_assign(struct typer *ty, taddr_t v, uint32_t pointee, uint8_t rank,
		  struct typed_origin from, uint32_t member)
{
	uint64_t off;
	uint32_t i, t;

	if (v < ty->live_lo || v >= ty->live_hi || (v & 7))
		return;
	t = typer_elem(ty, pointee);
	if (t == TY_NONE || t == ty->malloc_chunk || typer_is_node_base(ty, t))
		return;
	i = typer_lookup(ty, v, &off);
	if (i == UINT32_MAX)
		return;
	/* an object model's header: the object's type object decides, and a
	 * header pointer that reaches no object types nothing (objmodel.c) */
	if (typer_objmodel_handles(ty, t) &&
	    (typer_objmodel_assign(ty, i, off, rank < RANK_WEAK ? RANK_WEAK : rank, from,
				   member) ||
	     typer_objmodel_header(ty, t)))
		return;
	if (off == 0)
		assign_start(ty, i, t, rank, from, member);
	else
		assign_interior(ty, i, off, t, from, member);
}

/* Of two candidate types for the object at V, the one malloc would give
 * exactly the chunk's size (A when neither or both). */
static uint32_t pick_by_size(struct typer *ty, taddr_t v, uint32_t a, uint32_t b)
{
	uint64_t off;
	uint32_t i = typer_lookup(ty, v, &off);
	uint64_t cs;

	if (i == UINT32_MAX || off)
		return a;
	cs = ty->walk->chunks[i].size;
	if (chunk_size_for_request(ty_get(&ty->tt, b)->size) == cs &&
	    chunk_size_for_request(ty_get(&ty->tt, a)->size) != cs)
		return b;
	return a;
}

/* ---- scanning -------------------------------------------------------------- */

void typer_scan_object(struct typer *ty, uint32_t t, const uint8_t *p, uint64_t len,
		       struct typed_origin from, int depth)
{
	struct ty *tp = ty_get(&ty->tt, t);

	if (depth > 4)
		return;
	switch (tp->kind) {
	case TY_PTR:
		if (len >= 8 && tp->pointee != TY_NONE)
			typer_assign(ty, get_le64(p), tp->pointee, RANK_POINTER, from, TY_NONE);
		break;
	case TY_ARRAY: {
		uint32_t e = tp->elem;
		uint64_t esz = ty_get(&ty->tt, e)->size;
		uint64_t n = tp->count;

		if (!esz)
			break;
		if (!n || n * esz > len)
			n = len / esz;
		if (ty_get(&ty->tt, e)->kind != TY_PTR && ty_get(&ty->tt, e)->nr_slots == 0)
			break;
		for (uint64_t k = 0; k < n; k++)
			typer_scan_object(ty, e, p + k * esz, esz, from, depth + 1);
		break;
	}
	case TY_STRUCT:
	case TY_UNION:
		for (uint32_t s = 0; s < tp->nr_slots; s++) {
			const struct ty_slot *sl = &tp->slots[s];

			for (uint32_t k = 0; k < sl->count; k++) {
				uint64_t o = sl->off + (uint64_t)sl->stride * k;
				uint64_t v;

				if (o + 8 > len)
					break;
				v = get_le64(p + o);
				/* a union next to a tag: followed when the tag says
				 * so (tagged.c) */
				if (v && (sl->flags & SLOT_UNION) &&
				    typer_tagged_slot(ty, t, p, len, o, sl->pointee, from, sl->member))
					continue;
				if (v)
					typer_assign(ty, v, sl->alt == TY_NONE ? sl->pointee :
							 pick_by_size(ty, v, sl->pointee, sl->alt),
						     sl->flags & SLOT_UNION ? RANK_WEAK : RANK_POINTER,
						     from, sl->member);
			}
			tp = ty_get(&ty->tt, t);	/* assign never adds types */
		}
		if (tp->flex && tp->flex_elem != TY_NONE) {
			uint32_t e = tp->flex_elem;
			uint64_t esz = ty_get(&ty->tt, e)->size;

			if (esz && (ty_get(&ty->tt, e)->kind == TY_PTR ||
				    ty_get(&ty->tt, e)->nr_slots))
				for (uint64_t o = tp->flex_off; o + esz <= len; o += esz)
					typer_scan_object(ty, e, p + o, esz, from, depth + 1);
		}
		break;
	default:
		break;
	}
}

/*
 * Chunks are read in windows of at most SCAN_WINDOW bytes (an array one
 * element after another), so a chunk bigger than heapgrab's memory (a 1
 * TiB malloc, or a hostile size) costs no allocation of its size; an
 * unreadable window is skipped. An object bigger than MAX_OBJECT is not
 * scanned at all: no real struct is that big.
 */
#define SCAN_WINDOW (16u << 20)
#define MAX_OBJECT (256u << 20)

static void scan_part(struct typer *ty, uint32_t i)
{
	uint64_t off;
	uint32_t u = typer_part(ty, i, &off);
	taddr_t start;
	uint64_t len, size;
	const uint8_t *p;

	if (u == TY_NONE)
		return;
	typer_user_area(ty, i, &start, &len);
	size = ty_get(&ty->tt, u)->size;
	if (off + size > len || size > MAX_OBJECT || !(p = typer_mem(ty, start + off, size)))
		return;
	typer_scan_object(ty, u, p, size, from_chunk(i), 0);
}

static void scan_chunk(struct typer *ty, uint32_t i)
{
	uint32_t t = ty->type[i];
	struct ty *tp = ty_get(&ty->tt, t);
	taddr_t start;
	uint64_t len;
	const uint8_t *p;

	/* what the object's type does not describe (objmodel.c) */
	typer_objmodel_scan(ty, i);
	scan_part(ty, i);
	tp = ty_get(&ty->tt, t);
	if (tp->kind == TY_BASE || (tp->kind != TY_PTR && !tp->nr_slots && !tp->flex))
		return;
	typer_user_area(ty, i, &start, &len);
	if (ty->prefix[i] > len)
		return;
	start += ty->prefix[i];
	len -= ty->prefix[i];
	if (ty->array[i] && tp->size) {
		uint64_t esz = tp->size;
		uint64_t per = esz < SCAN_WINDOW ? SCAN_WINDOW / esz : 1;

		if (esz > MAX_OBJECT)
			return;
		for (uint64_t o = 0; o + esz <= len;) {
			uint64_t n = MIN(per, (len - o) / esz);

			p = typer_mem(ty, start + o, n * esz);
			for (uint64_t k = 0; p && k < n; k++) {
				typer_scan_object(ty, t, p + k * esz, esz, from_chunk(i), 0);
				/* what element k said made it no array (a second
				 * struct, a winning type): it is queued again */
				if (ty->type[i] != t || !ty->array[i])
					return;
			}
			o += n * esz;
		}
		return;
	}
	/* one object (a flexible array member may run on to the chunk's end) */
	if (tp->size > MAX_OBJECT)
		return;
	len = MIN(len, MAX((uint64_t)tp->size, (uint64_t)SCAN_WINDOW));
	p = typer_mem(ty, start, len);
	if (p)
		typer_scan_object(ty, t, p, len, from_chunk(i), 0);
}

void typer_drain(struct typer *ty)
{
	while (ty->nr_queue) {
		uint32_t i = ty->queue[--ty->nr_queue];

		ty->in_queue[i] = 0;
		ty->scanning = i;
		scan_chunk(ty, i);
		ty->scanning = UINT32_MAX;
		/* tagged values waiting for their tag: learnt now and then, so
		 * that their memory stays bounded (between scans: resolving
		 * reads memory into ty->buf) */
		typer_tagged_maybe_resolve(ty);
	}
}

/* ---- roots ------------------------------------------------------------------- */

static struct typed_origin add_root(struct typer *ty, const struct root *r)
{
	struct strbuf name = STRBUF_INIT;

	root_name(r, &name);
	ALLOC_GROW(ty->roots, ty->nr_roots + 1, ty->alloc_roots);
	ty->roots[ty->nr_roots] = strbuf_detach(&name, NULL);
	return (struct typed_origin){ .index = (uint32_t)ty->nr_roots++,
				      .kind = TYPED_FROM_ROOT };
}

void typer_scan_root(struct typer *ty, const struct root *r)
{
	const uint8_t *p;

	if (r->type == ROOT_NO_TYPE || r->type >= ty->tt.nr)
		return;
	if (r->has_value) {
		uint64_t v = r->value;

		typer_scan_object(ty, r->type, (const uint8_t *)&v, 8, add_root(ty, r), 0);
		return;
	}
	if (r->end <= r->start || !(p = typer_mem(ty, r->start, r->end - r->start)))
		return;
	/* P may be ty->buf: neither naming the root nor scanning reads memory */
	typer_scan_object(ty, r->type, p, r->end - r->start, add_root(ty, r), 0);
}
