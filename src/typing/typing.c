/*
 * typing.c - the typing engine: typed roots, propagation, vtables, headers,
 * shapes.
 *
 * A chunk gets a type when a typed pointer points into it. The pointers
 * start at typed roots (roots.c: global and static variables of every
 * module, TLS variables, locals and parameters of every stack frame) and
 * go on through the chunks typed so far: a worklist of chunks whose
 * pointer members (types.c flattens them) are read from the image and
 * followed. Each chunk is scanned once per type it receives.
 *
 * Which type a pointer gives (assign()):
 *   - a pointer to the chunk's start gives its pointee type T, or "T[]"
 *     when the chunk is bigger than what malloc(sizeof(T)) returns and T
 *     has no flexible array member;
 *   - a pointer to a struct H at the start of a chunk too big for H, where
 *     the program has structs that begin with H (C-style inheritance,
 *     tagged objects), gives the one such struct whose malloc size is the
 *     chunk's size; when several fit, the chunk waits for the
 *     discriminator pass;
 *   - an interior pointer of type M* at offset o gives the struct that
 *     embeds an M at o (intrusive lists), when exactly one fits, or "M[]"
 *     when o is a multiple of sizeof(M);
 *   - a chunk whose first word points into a C++ vtable (a _ZTV symbol)
 *     is of that vtable's class, whatever pointed to it.
 *
 * Conflicts (a chunk reached as two different types) are settled by rank:
 * vtable (4) > pointer to the start from a struct member or a root (3) >
 * union alternative or header resolution (2) > interior pointer (1) >
 * shape (0). At equal rank the larger type wins (it is the more specific
 * one: a struct that begins with the other), and at equal size the first.
 * Every time a chunk's type is replaced, or a different type is refused,
 * the conflict counter goes up by one; doc/typing.md documents the rule.
 *
 * Header discriminators. When several structs beginning with H fit a
 * chunk, typing looks at the chunks already typed exactly as one of them
 * and searches the words of H for one whose value is constant for each
 * struct and different between them (a tag field, or a pointer to a type
 * object). Chunks that were waiting take the struct their word names.
 *
 * Shapes. A live chunk nothing typed is typed by shape when exactly one
 * struct among those typing chunks of its size has pointer members and all
 * its non-null pointer members point to the starts of live chunks of the
 * member's type, or untyped ones of exactly that type's malloc size (at
 * least one such pointer). Such chunks are flagged inferred.
 */
#include "config.h"
#include "typing/typing.h"
#include "typing/typing-internal.h"
#include "debuginfo/modset.h"
#include "target/target.h"
#include "util/diag.h"
#include "util/errors.h"
#include "util/le.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

#define RANK_SHAPE	0
#define RANK_INTERIOR	1
#define RANK_WEAK	2
#define RANK_POINTER	3
#define RANK_VTABLE	4
#define RANK_NONE	255

/* malloc's chunk size for a request of N bytes (x86_64: 16-byte aligned,
 * 8 bytes of header overhead, 32 bytes minimum; malloc.c request2size). */
static uint64_t chunk_for(uint64_t n)
{
	uint64_t c = (n + 8 + 15) & ~(uint64_t)15;

	return c < 32 ? 32 : c;
}

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

/* User area of chunk I: [*start, *start + *len). */
static void user_area(const struct typer *ty, uint32_t i, taddr_t *start, uint64_t *len)
{
	const struct chunk *c = &ty->walk->chunks[i];

	*start = c->addr + 16;
	/* an in-use chunk may also use the next chunk's prev_size field */
	*len = c->state == CHUNK_MMAPPED ? c->size - 16 : c->size - 8;
}

uint32_t typer_lookup(const struct typer *ty, taddr_t v, uint64_t *ret_off)
{
	size_t lo = 0, hi = ty->nr_live;

	if (v < ty->live_lo || v >= ty->live_hi)
		return UINT32_MAX;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (ty->walk->chunks[ty->live[mid]].addr + 16 <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return UINT32_MAX;
	{
		uint32_t i = ty->live[lo - 1];
		taddr_t start;
		uint64_t len;

		user_area(ty, i, &start, &len);
		if (v >= start + len)
			return UINT32_MAX;
		*ret_off = v - start;
		return i;
	}
}

static void build_index(struct typer *ty)
{
	const struct heap_walk *w = ty->walk;

	ty->live = xmalloc((w->nr_chunks + 1) * sizeof(*ty->live));
	for (size_t i = 0; i < w->nr_chunks; i++)
		if (is_live(&w->chunks[i]) && w->chunks[i].size >= 32)
			ty->live[ty->nr_live++] = (uint32_t)i;
	qsort_r(ty->live, ty->nr_live, sizeof(*ty->live), cmp_live, w->chunks);
	if (ty->nr_live) {
		const struct chunk *last = &w->chunks[ty->live[ty->nr_live - 1]];

		ty->live_lo = w->chunks[ty->live[0]].addr + 16;
		ty->live_hi = last->addr + last->size + 8;
	}
}

/* ---- memory -------------------------------------------------------------- */

/* LEN bytes at ADDR: a pointer into the image when it holds them, else a
 * copy in ty->buf; NULL when unreadable. */
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

/* ---- assigning types ---------------------------------------------------- */

static uint64_t usable_of(const struct typer *ty, uint32_t i)
{
	taddr_t s;
	uint64_t len;

	user_area(ty, i, &s, &len);
	return len;
}

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

/* The element type of a pointer of pointee P: arrays stand for their
 * elements, opaque and function types type nothing. */
static uint32_t elem_of(struct typer *ty, uint32_t p)
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

static void set_type_at(struct typer *ty, uint32_t i, uint32_t t, bool array, uint8_t rank,
			uint32_t from, uint32_t member, uint32_t prefix);

/* Give chunk I type T (array when ARRAY) at RANK; from: the chunk or root
 * the pointer was in and the member it was read from. */
static void set_type(struct typer *ty, uint32_t i, uint32_t t, bool array, uint8_t rank,
		     uint32_t from, uint32_t member)
{
	set_type_at(ty, i, t, array, rank, from, member, 0);
}

/* The same for an object PREFIX bytes into the chunk. */
static void set_type_at(struct typer *ty, uint32_t i, uint32_t t, bool array, uint8_t rank,
			uint32_t from, uint32_t member, uint32_t prefix)
{
	uint32_t old = ty->type[i];

	if (old != TY_NONE) {
		if (old == t && ty->array[i] == array)
			return;
		ty->conflicts++;
		if (ty->nr_conflict_examples < TYPER_CONFLICT_EXAMPLES) {
			struct strbuf sb = STRBUF_INIT;

			strbuf_addf(&sb, "0x%llx: %s%s (rank %u) vs %s%s (rank %u)",
				    (unsigned long long)ty->walk->chunks[i].addr + 16,
				    ty_get(&ty->tt, old)->name, ty->array[i] ? "[]" : "", ty->rank[i],
				    ty_get(&ty->tt, t)->name, array ? "[]" : "", rank);
			ty->conflict_examples[ty->nr_conflict_examples++] = strbuf_detach(&sb, NULL);
		}
		if (rank < ty->rank[i])
			return;
		if (rank == ty->rank[i] &&
		    ty_get(&ty->tt, t)->size <= ty_get(&ty->tt, old)->size)
			return;
	}
	ty->type[i] = t;
	ty->array[i] = array;
	ty->prefix[i] = (uint8_t)prefix;
	/* what a guess reaches is a guess too */
	ty->inferred[i] = rank == RANK_SHAPE ||
			  (from < ty->walk->nr_chunks && ty->inferred[from]);
	ty->rank[i] = rank;
	ty->from[i] = from;
	ty->member[i] = member;
	push(ty, i);
}

/* Structs embedding type M at offset OFF whose malloc size fits chunk I.
 * Returns how many; *ret gets the first. EXACT: the chunk size must be what
 * malloc(sizeof(S)) gives (header resolution), else S must fit. */
static unsigned embedders(struct typer *ty, uint32_t m, uint64_t off, uint32_t i, bool exact,
			  uint32_t *ret, uint32_t *cands, unsigned max)
{
	uint64_t csize = ty->walk->chunks[i].size, usable = usable_of(ty, i);
	struct embed_list *l = typer_embedders(ty, m, off);
	unsigned n = 0;

	for (size_t k = 0; l && k < l->nr; k++) {
		struct ty *s = ty_get(&ty->tt, l->types[k]);

		if (!s->size || s->size > usable)
			continue;
		if (exact && !s->flex && chunk_for(s->size) != csize &&
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

void typer_assign(struct typer *ty, taddr_t v, uint32_t pointee, uint8_t rank, uint32_t from,
		  uint32_t member)
{
	uint64_t off, usable;
	uint32_t i, t;
	struct ty *tp;

	if (v < ty->live_lo || v >= ty->live_hi || (v & 7))
		return;
	t = elem_of(ty, pointee);
	if (t == TY_NONE || t == ty->malloc_chunk)
		return;
	i = typer_lookup(ty, v, &off);
	if (i == UINT32_MAX)
		return;
	usable = usable_of(ty, i);
	tp = ty_get(&ty->tt, t);
	if (off == 0) {
		/* a chunk malloc'd for exactly one T; never for base types
		 * (nobody mallocs one char: char * points to strings) */
		bool single = tp->kind == TY_BASE || ty->walk->chunks[i].state == CHUNK_MMAPPED ?
			      tp->size * 2 > usable :
			      tp->flex || chunk_for(tp->size) >= ty->walk->chunks[i].size;

		if (tp->size > usable) {
			return;
		}
		/* a union alternative validates only when the chunk is what
		 * malloc(sizeof(T)) returns: the other alternatives' types
		 * would fit a bigger chunk too */
		if (rank == RANK_WEAK && !tp->flex &&
		    chunk_for(tp->size) != ty->walk->chunks[i].size &&
		    ty->walk->chunks[i].state != CHUNK_MMAPPED) {
			return;
		}
		if (tp->kind == TY_STRUCT && rank < RANK_VTABLE) {
			uint32_t s, c[2];
			unsigned n = embedders(ty, t, 0, i, true, &s, c, 2);
			bool self = chunk_for(tp->size) == ty->walk->chunks[i].size;

			/* structs that begin with T and fit the chunk exactly:
			 * T is their header */
			if (n == 1 && !self) {
				set_type(ty, i, s, false, RANK_WEAK, from, member);
				return;
			}
			if (n >= 1) {
				if (ty->type[i] == TY_NONE)
					typer_defer_header(ty, i, t, from, member, 0);
				return;
			}
		}
		/* a chunk malloc'd for exactly one T is a T, else an array */
		set_type(ty, i, t, !single && tp->kind != TY_UNION ? true : false,
			 rank, from, member);
		return;
	}
	if (tp->kind == TY_STRUCT || tp->kind == TY_UNION) {
		uint32_t s, c[2];

		if (embedders(ty, t, off, i, false, &s, c, 2) == 1) {
			set_type(ty, i, s, false, RANK_INTERIOR, from, member);
			return;
		}
		/* an object behind an allocator prefix (a GC head, a
		 * refcount): resolved with the header structs, never
		 * guessed as an array of T */
		if (tp->kind == TY_STRUCT && ty->type[i] == TY_NONE && off <= TYPER_MAX_PREFIX &&
		    off % 8 == 0 && off + tp->size <= usable) {
			if (typer_embedders(ty, t, 0))
				typer_defer_header(ty, i, t, from, member, (uint32_t)off);
			else
				set_type_at(ty, i, t, false, RANK_INTERIOR, from, member,
					    (uint32_t)off);
			return;
		}
	}
	/* a pointer to an element of an array of base types or unions (char
	 * *p = buf + n; glibc's DTV pointer is &dtv[1]); a struct pointer
	 * into a chunk is far more often a member of a bigger struct (a
	 * struct event inside a window_pane) than an array element */
	if ((tp->kind == TY_BASE || tp->kind == TY_UNION || tp->kind == TY_PTR) && tp->size &&
	    off % tp->size == 0 && tp->size * 2 <= usable)
		set_type(ty, i, t, true, RANK_INTERIOR, from, member);
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
	if (chunk_for(ty_get(&ty->tt, b)->size) == cs &&
	    chunk_for(ty_get(&ty->tt, a)->size) != cs)
		return b;
	return a;
}

/* ---- scanning -------------------------------------------------------------- */

/* Follow the pointers of an object of type T at ADDR whose bytes are P
 * (LEN of them available). */
void typer_scan_object(struct typer *ty, uint32_t t, const uint8_t *p, uint64_t len,
		       uint32_t from, int depth)
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

static void scan_chunk(struct typer *ty, uint32_t i)
{
	uint32_t t = ty->type[i];
	struct ty *tp = ty_get(&ty->tt, t);
	taddr_t start;
	uint64_t len;
	const uint8_t *p;

	if (tp->kind == TY_BASE || (tp->kind != TY_PTR && !tp->nr_slots && !tp->flex))
		return;
	user_area(ty, i, &start, &len);
	start += ty->prefix[i];
	len -= ty->prefix[i];
	p = typer_mem(ty, start, len);
	if (!p)
		return;
	if (ty->array[i] && tp->size) {
		/* the buffer may move: copy out when it is ty->buf */
		for (uint64_t o = 0; o + tp->size <= len; o += tp->size)
			typer_scan_object(ty, t, p + o, tp->size, i, 0);
	} else {
		typer_scan_object(ty, t, p, len, i, 0);
	}
}

static void drain(struct typer *ty)
{
	while (ty->nr_queue) {
		uint32_t i = ty->queue[--ty->nr_queue];

		ty->in_queue[i] = 0;
		scan_chunk(ty, i);
	}
}

/* ---- vtables ------------------------------------------------------------- */

static void type_by_vtables(struct typer *ty)
{
	if (!ty->nr_vtables)
		return;
	for (size_t k = 0; k < ty->nr_live; k++) {
		uint32_t i = ty->live[k];
		taddr_t start;
		uint64_t len;
		const uint8_t *p;
		uint64_t v;
		uint32_t cls;

		user_area(ty, i, &start, &len);
		p = typer_mem(ty, start, 8);
		if (!p)
			continue;
		v = get_le64(p);
		cls = typer_vtable_class(ty, v);
		if (cls == TY_NONE || ty_get(&ty->tt, cls)->size > len)
			continue;
		set_type(ty, i, cls, false, RANK_VTABLE, UINT32_MAX - 1, TY_NONE);
	}
}

/* ---- header discriminators ------------------------------------------------- */

void typer_defer_header(struct typer *ty, uint32_t i, uint32_t head, uint32_t from,
			uint32_t member, uint32_t prefix)
{
	if (ty->nr_deferred == ty->alloc_deferred) {
		ty->alloc_deferred = ty->alloc_deferred ? 2 * ty->alloc_deferred : 256;
		ty->deferred = xrealloc(ty->deferred, ty->alloc_deferred * sizeof(*ty->deferred));
	}
	ty->deferred[ty->nr_deferred++] = (struct deferred){ i, head, from, member, prefix };
}

/* Value of the WIDTH-byte word at OFF of chunk I (0 when out of range). */
static uint64_t word_at(struct typer *ty, uint32_t i, uint64_t off, unsigned width)
{
	taddr_t start;
	uint64_t len, v = 0;
	const uint8_t *p;

	user_area(ty, i, &start, &len);
	if (off + width > len || !(p = typer_mem(ty, start + off, width)))
		return 0;
	memcpy(&v, p, width);
	return v;
}

static int cmp_deferred(const void *a, const void *b)
{
	const struct deferred *x = a, *y = b;

	if (x->head != y->head)
		return x->head < y->head ? -1 : 1;
	return x->chunk < y->chunk ? -1 : x->chunk > y->chunk;
}

/*
 * A header whose concrete structs typing cannot tell apart may still say
 * what the object is: a pointer field of the header (a type pointer) that
 * points to a named object. Of HEAD's 8-byte fields, the one that points
 * exactly to an ELF symbol in most of the still untyped chunks of D names
 * them: "struct _object (PyLong_Type)". The row keeps HEAD's layout.
 */
static void name_by_symbol(struct typer *ty, struct deferred *d, size_t n, uint32_t head)
{
	uint64_t hsize = ty_get(&ty->tt, head)->size, best_off = 0;
	size_t best = 0;
	struct strbuf name = STRBUF_INIT;

	for (uint64_t off = 0; off + 8 <= hsize; off += 8) {
		size_t named = 0;

		for (size_t e = 0; e < n; e++) {
			uint64_t so;

			if (ty->type[d[e].chunk] != TY_NONE)
				continue;
			if (modset_symbol_at(ty->ms, word_at(ty, d[e].chunk, d[e].prefix + off, 8),
					     &so) && so == 0)
				named++;
		}
		if (named > best) {
			best = named;
			best_off = off;
		}
	}
	if (!best)
		return;
	for (size_t e = 0; e < n; e++) {
		uint32_t i = d[e].chunk;
		uint64_t so;
		const char *sym;

		if (ty->type[i] != TY_NONE)
			continue;
		sym = modset_symbol_at(ty->ms, word_at(ty, i, d[e].prefix + best_off, 8), &so);
		if (!sym || so)
			continue;
		strbuf_reset(&name);
		strbuf_addf(&name, "%s (%s)", ty_get(&ty->tt, head)->name, sym);
		set_type_at(ty, i, ty_alias(&ty->tt, head, name.buf), false, RANK_WEAK, d[e].from,
			    d[e].member, d[e].prefix);
	}
	strbuf_release(&name);
}

#define MAX_CANDS 64
#define MAX_SAMPLES 64

/*
 * The deferred chunks of one header struct HEAD, D[0..N): learn a
 * discriminator from the chunks already typed exactly as one of the
 * structs that begin with HEAD (or as HEAD itself), then type them.
 * A discriminator is a 4- or 8-byte field inside HEAD whose value is the
 * same in every sample of a struct and different between structs; of the
 * valid ones, the one that classifies most of the deferred chunks wins.
 * What no discriminator classifies is typed as HEAD itself.
 */
static void resolve_group(struct typer *ty, struct deferred *d, size_t n)
{
	uint32_t head = d[0].head;
	uint64_t hsize = ty_get(&ty->tt, head)->size;
	struct embed_list *l = typer_embedders(ty, head, 0);
	uint32_t cands[MAX_CANDS];
	uint32_t samples[MAX_CANDS][MAX_SAMPLES];
	unsigned nr_samples[MAX_CANDS] = { 0 };
	size_t nc = 0;
	uint64_t vals[MAX_CANDS], best_vals[MAX_CANDS];
	bool has[MAX_CANDS], best_has[MAX_CANDS];
	uint64_t best_off = 0;
	unsigned best_width = 0;
	size_t best_score = 0;

	cands[nc++] = head;
	for (size_t k = 0; l && k < l->nr && nc < MAX_CANDS; k++)
		cands[nc++] = l->types[k];
	for (size_t c = 0; c < ty->nr_live; c++) {
		uint32_t i = ty->live[c];

		if (ty->type[i] == TY_NONE || ty->rank[i] == RANK_WEAK || ty->array[i] ||
		    ty->inferred[i])
			continue;
		for (size_t k = 0; k < nc; k++)
			if (ty->type[i] == cands[k] && nr_samples[k] < MAX_SAMPLES)
				samples[k][nr_samples[k]++] = i;
	}
	for (unsigned width = 4; width <= 8; width += 4) {
		for (uint64_t off = 0; off + width <= hsize; off += width) {
			bool ok = true;
			size_t score = 0, learnt = 0;

			for (size_t k = 0; k < nc && ok; k++) {
				has[k] = false;
				for (unsigned s = 0; s < nr_samples[k] && ok; s++) {
					uint32_t c = samples[k][s];
					uint64_t v = word_at(ty, c, ty->prefix[c] + off, width);

					if (!has[k]) {
						vals[k] = v;
						has[k] = true;
					} else if (vals[k] != v) {
						ok = false;
					}
				}
				for (size_t j = 0; j < k && ok && has[k]; j++)
					if (has[j] && vals[j] == vals[k])
						ok = false;
				learnt += has[k];
			}
			if (!ok || learnt < 2)
				continue;
			for (size_t e = 0; e < n; e++) {
				uint64_t v = word_at(ty, d[e].chunk, d[e].prefix + off, width);

				for (size_t k = 0; k < nc; k++)
					if (has[k] && vals[k] == v) {
						score++;
						break;
					}
			}
			if (score > best_score) {
				best_score = score;
				best_off = off;
				best_width = width;
				memcpy(best_vals, vals, sizeof(vals));
				memcpy(best_has, has, sizeof(has));
			}
		}
	}
	for (size_t e = 0; e < n; e++) {
		uint32_t i = d[e].chunk, pick = TY_NONE;

		if (ty->type[i] != TY_NONE || !best_width)
			continue;
		{
			uint64_t v = word_at(ty, i, d[e].prefix + best_off, best_width);

			for (size_t k = 0; k < nc; k++)
				if (best_has[k] && best_vals[k] == v &&
				    d[e].prefix + ty_get(&ty->tt, cands[k])->size <= usable_of(ty, i)) {
					pick = cands[k];
					break;
				}
		}
		if (pick == TY_NONE)
			continue;
		set_type_at(ty, i, pick, false, RANK_WEAK, d[e].from, d[e].member, d[e].prefix);
	}
	name_by_symbol(ty, d, n, head);
	/* what nothing classified: the header itself, when the pointer was to
	 * the chunk's start; behind a prefix nothing is guessed */
	for (size_t e = 0; e < n; e++)
		if (ty->type[d[e].chunk] == TY_NONE && d[e].prefix == 0)
			set_type(ty, d[e].chunk, head, false, RANK_WEAK, d[e].from, d[e].member);
}

static void resolve_headers(struct typer *ty)
{
	struct deferred *d = ty->deferred;
	size_t n = ty->nr_deferred;

	/* chunks deferred while resolving go to the next round */
	ty->deferred = NULL;
	ty->nr_deferred = ty->alloc_deferred = 0;
	qsort(d, n, sizeof(*d), cmp_deferred);
	for (size_t a = 0, b; a < n; a = b) {
		for (b = a + 1; b < n && d[b].head == d[a].head; b++)
			;
		resolve_group(ty, d + a, b - a);
	}
	free(d);
}

/* ---- shapes ---------------------------------------------------------------- */

static bool shape_fits(struct typer *ty, uint32_t i, uint32_t t)
{
	struct ty *tp = ty_get(&ty->tt, t);
	taddr_t start;
	uint64_t len;
	const uint8_t *p;
	unsigned typed = 0;

	user_area(ty, i, &start, &len);
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
			want = elem_of(ty, sl->pointee);
			if (want == TY_NONE)
				return false;
			if (ty->type[j] == TY_NONE) {
				/* an untyped chunk of exactly the pointee's malloc
				 * size is evidence too (a leaked list: no node of
				 * it is typed) */
				if (ty_get(&ty->tt, want)->kind == TY_STRUCT &&
				    chunk_for(ty_get(&ty->tt, want)->size) == ty->walk->chunks[j].size)
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

static void type_by_shape(struct typer *ty)
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
			set_type(ty, i, pick, false, RANK_SHAPE, UINT32_MAX - 2, TY_NONE);
			added++;
		}
		drain(ty);
		if (!added)
			break;
	}
	free(st);
}

/* ---- C++ containers' node types ------------------------------------------ */

/* Does the (name, type) argument pair occur in the set? */
static bool has_targ(struct typer *ty, const uint32_t *types, const uint32_t *names, size_t n,
		     uint32_t type, uint32_t name)
{
	for (size_t k = 0; k < n; k++)
		if (types[k] == type &&
		    (!names || !strcmp(ty->tt.strs[names[k]], ty->tt.strs[name])))
			return true;
	return false;
}

/*
 * Standard containers link their nodes through pointers to a base
 * (std::_Rb_tree_node_base, std::__detail::_Hash_node_base,
 * std::__detail::_List_node_base), while the nodes are instances of a
 * template deriving from it (std::_Rb_tree_node<V>). In a struct S whose
 * template arguments (its own and those of the structs it holds) include
 * every template argument of exactly one struct N deriving from the base
 * (same parameter name, same type: libstdc++ names them alike, _Val in
 * _Rb_tree and _Rb_tree_node, _Value in _Hashtable and _Hash_node),
 * a pointer to the base points to an N: in std::map<K, V> the tree's
 * _Rb_tree<K, pair<const K, V>, ...> makes it _Rb_tree_node<pair<const K,
 * V>>, and inside that node _M_left, _M_right and _M_parent do the same.
 * Type identity, not names, decides (ids from the type table).
 */
static void retype_container_links(struct typer *ty)
{
	size_t n = ty->tt.nr;
	uint32_t *eff = NULL, *effn = NULL;
	size_t alloc = 0;

	for (size_t id = 0; id < n; id++) {
		struct ty *s = ty_get(&ty->tt, (uint32_t)id);
		size_t ne = 0;

		if ((s->kind != TY_STRUCT && s->kind != TY_UNION) || !s->nr_slots)
			continue;
		/* effective template arguments: S's and its members' */
		for (uint32_t e = 0; e <= s->nr_embeds; e++) {
			struct ty *src = e == s->nr_embeds ? s : ty_get(&ty->tt, s->embeds[e].type);

			for (uint32_t k = 0; k < src->nr_targs; k++) {
				if (ne == alloc) {
					alloc = alloc ? 2 * alloc : 16;
					eff = xrealloc(eff, alloc * sizeof(*eff));
					effn = xrealloc(effn, alloc * sizeof(*effn));
				}
				effn[ne] = src->targ_names[k];
				eff[ne++] = src->targs[k];
			}
		}
		if (!ne)
			continue;
		for (uint32_t k = 0; k < s->nr_slots; k++) {
			struct ty_slot *sl = &s->slots[k];
			struct embed_list *l;
			uint32_t pick[2] = { TY_NONE, TY_NONE };
			unsigned found = 0;

			if (ty_get(&ty->tt, sl->pointee)->kind != TY_STRUCT ||
			    !(l = typer_embedders(ty, sl->pointee, 0)))
				continue;
			/* by parameter name and type; failing that, by type only
			 * (_Rb_tree_iterator<_Tp> holds _Rb_tree_node<_Val>) */
			for (int by_name = 1; by_name >= 0 && !found; by_name--) {
				for (size_t c = 0; c < l->nr; c++) {
					struct ty *cand = ty_get(&ty->tt, l->types[c]);
					bool all = cand->nr_targs > 0;

					for (uint32_t a = 0; a < cand->nr_targs && all; a++)
						all = has_targ(ty, eff, by_name ? effn : NULL, ne,
							       cand->targs[a], cand->targ_names[a]);
					if (!all || l->types[c] == pick[0] || l->types[c] == pick[1])
						continue;
					if (found < 2)
						pick[found] = l->types[c];
					found++;
				}
			}
			/* two candidates (std::__detail::_Hash_node<V, false> and
			 * <V, true>): the chunk's size decides when typing */
			if (found == 1 || found == 2) {
				sl->pointee = pick[0];
				sl->alt = found == 2 ? pick[1] : TY_NONE;
			}
		}
	}
	free(eff);
	free(effn);
}

/* ---- result ---------------------------------------------------------------- */

static struct typing_layout layout_of(struct typer *ty, uint32_t t);

static void build_result(struct typer *ty, struct typing_result *r)
{
	struct typing_result *st = r;
	const struct heap_walk *w = ty->walk;
	/* (type id, array) -> name index; type ids are dense */
	uint32_t *idx[2];

	idx[0] = xmalloc((ty->tt.nr + 1) * sizeof(uint32_t));
	idx[1] = xmalloc((ty->tt.nr + 1) * sizeof(uint32_t));
	for (size_t k = 0; k <= ty->tt.nr; k++)
		idx[0][k] = idx[1][k] = TYPING_UNTYPED;
	st->of_chunk = xmalloc((w->nr_chunks + 1) * sizeof(*st->of_chunk));
	st->flags = xcalloc(w->nr_chunks + 1, 1);
	for (size_t i = 0; i < w->nr_chunks; i++) {
		uint32_t t = ty->type[i];
		int a = ty->array[i] ? 1 : 0;

		st->of_chunk[i] = TYPING_UNTYPED;
		if (!is_live(&w->chunks[i]))
			continue;
		if (t == TY_NONE)
			continue;
		if (idx[a][t] == TYPING_UNTYPED) {
			struct strbuf sb = STRBUF_INIT;
			size_t k;

			strbuf_addf(&sb, "%s%s", ty_get(&ty->tt, t)->name, a ? "[]" : "");
			/* two entries of the table may print alike (a pointer
			 * type met in two CUs): one row */
			for (k = 0; k < st->nr_names; k++)
				if (!strcmp(st->names[k], sb.buf))
					break;
			if (k < st->nr_names) {
				strbuf_release(&sb);
				idx[a][t] = (uint32_t)k;
			} else {
				st->names = xrealloc(st->names,
						     (st->nr_names + 1) * sizeof(*st->names));
				st->names[st->nr_names] = strbuf_detach(&sb, NULL);
				idx[a][t] = (uint32_t)st->nr_names++;
			}
		}
		st->of_chunk[i] = idx[a][t];
		if (ty->inferred[i])
			st->flags[i] |= TYPING_INFERRED;
	}
	/* layouts per name: exact chunks only, none behind a prefix */
	r->layouts = xcalloc(st->nr_names + 1, sizeof(*r->layouts));
	r->nr_layouts = st->nr_names;
	{
		uint8_t *bad = xcalloc(st->nr_names + 1, 1);
		uint8_t *done = xcalloc(st->nr_names + 1, 1);

		for (size_t i = 0; i < w->nr_chunks; i++) {
			uint32_t k = st->of_chunk[i];

			if (k == TYPING_UNTYPED)
				continue;
			if (ty->prefix[i] || ty->inferred[i])
				bad[k] = 1;
		}
		for (size_t i = 0; i < w->nr_chunks; i++) {
			uint32_t k = st->of_chunk[i];

			if (k == TYPING_UNTYPED || done[k] || bad[k])
				continue;
			done[k] = 1;
			r->layouts[k] = layout_of(ty, ty->type[i]);
		}
		free(bad);
		free(done);
	}
	free(idx[0]);
	free(idx[1]);
}

/* Kept in typing_result.members for typing_member_name(). */
struct member_info {
	struct ty_table tt;
	uint32_t *type;		/* per chunk, TY_NONE: untyped */
	uint8_t *array, *prefix;
	uint32_t *from;		/* per chunk: typer.from */
	size_t nr;
	char **roots;		/* typer.roots */
	size_t nr_roots;
};

int typing_owner(const struct typing_result *r, size_t chunk, uint32_t *ret_from,
		 const char **ret_root)
{
	const struct member_info *mi = r ? r->members : NULL;
	uint32_t from;

	if (!mi || chunk >= mi->nr || mi->type[chunk] == TY_NONE)
		return -1;
	from = mi->from[chunk];
	if (from == UINT32_MAX - 1) {
		*ret_root = "(vtable)";
		return 0;
	}
	if (from == UINT32_MAX - 2) {
		*ret_root = "(shape)";
		return 0;
	}
	if (from >= TYPER_ROOT_BASE) {
		if (from - TYPER_ROOT_BASE >= mi->nr_roots)
			return -1;
		*ret_root = mi->roots[from - TYPER_ROOT_BASE];
		return 0;
	}
	if (from >= mi->nr || mi->type[from] == TY_NONE)
		return -1;
	*ret_from = from;
	return 1;
}

static void set_bit(uint64_t *bits, uint64_t k)
{
	bits[k / 64] |= 1ull << (k % 64);
}

/*
 * The pointer layout of a chunk of type T, or period 0 when unknown: every
 * word may hold a pointer except the words made only of members that
 * cannot (floating point, integers narrower than a pointer, arrays of
 * them; never inside a union). Pointers stored in 8-byte integers
 * (uintptr_t, long) are scanned, so are padding and unions.
 */
static struct typing_layout layout_of(struct typer *ty, uint32_t t)
{
	struct typing_layout lay = { 0 };
	struct ty *tp = ty_get(&ty->tt, t);
	uint8_t *np;
	uint32_t words;

	if ((tp->kind != TY_STRUCT && tp->kind != TY_UNION) || !tp->complete || tp->flex ||
	    !tp->nr_nonptr || !tp->size || tp->size % 8 || tp->size > (1u << 16))
		return lay;
	words = (uint32_t)(tp->size / 8);
	np = xcalloc(tp->size, 1);
	for (uint32_t k = 0; k < tp->nr_nonptr; k++) {
		const struct ty_range *r = &tp->nonptr[k];

		for (uint64_t o = r->off; o < r->off + r->len && o < tp->size; o++)
			np[o] = 1;
	}
	/* pointer slots always stay scanned, whatever overlaps them */
	for (uint32_t k = 0; k < tp->nr_slots; k++)
		for (uint32_t c = 0; c < tp->slots[k].count; c++) {
			uint64_t o = tp->slots[k].off + (uint64_t)tp->slots[k].stride * c;

			for (uint64_t x = o; x < o + 8 && x < tp->size; x++)
				np[x] = 0;
		}
	lay.bits = xcalloc((words + 63) / 64, sizeof(*lay.bits));
	for (uint32_t w = 0; w < words; w++) {
		bool skip = true;

		for (uint32_t x = 0; x < 8 && skip; x++)
			skip = np[w * 8 + x];
		if (!skip)
			set_bit(lay.bits, w);
	}
	free(np);
	lay.period = words;
	return lay;
}

bool typing_member_name(const struct typing_result *r, size_t chunk, uint64_t offset,
			struct strbuf *out)
{
	const struct member_info *mi = r ? r->members : NULL;
	const struct ty *tp;
	uint64_t o, elem = 0;

	if (!mi || chunk >= mi->nr || mi->type[chunk] == TY_NONE || offset < mi->prefix[chunk])
		return false;
	tp = &mi->tt.types[mi->type[chunk]];
	o = offset - mi->prefix[chunk];
	if (mi->array[chunk] && tp->size) {
		elem = o / tp->size;
		o %= tp->size;
	}
	if (tp->kind == TY_PTR && o < 8) {
		if (mi->array[chunk])
			strbuf_addf(out, "[%llu]", (unsigned long long)elem);
		return mi->array[chunk];
	}
	for (uint32_t k = 0; k < tp->nr_slots; k++) {
		const struct ty_slot *sl = &tp->slots[k];

		if (o < sl->off || (o - sl->off) % (sl->stride ? sl->stride : 8) ||
		    (o - sl->off) / (sl->stride ? sl->stride : 8) >= sl->count)
			continue;
		if (mi->array[chunk])
			strbuf_addf(out, "[%llu]", (unsigned long long)elem);
		strbuf_addstr(out, mi->tt.strs[sl->member]);
		return true;
	}
	return false;
}

static void keep_members(struct typer *ty, struct typing_result *r)
{
	struct member_info *mi = xcalloc(1, sizeof(*mi));

	mi->tt = ty->tt;
	ty_table_init(&ty->tt);		/* the typer frees an empty table */
	mi->type = ty->type;
	mi->array = ty->array;
	mi->prefix = ty->prefix;
	ty->type = NULL;
	ty->array = NULL;
	ty->prefix = NULL;
	mi->from = ty->from;
	ty->from = NULL;
	mi->roots = ty->roots;
	mi->nr_roots = ty->nr_roots;
	ty->roots = NULL;
	ty->nr_roots = 0;
	mi->nr = ty->walk->nr_chunks;
	r->members = mi;
}

static void explain_chunk(struct typer *ty, uint32_t i, struct strbuf *sb)
{
	uint32_t cur = i;

	strbuf_addf(sb, "%s%s", ty_get(&ty->tt, ty->type[i])->name, ty->array[i] ? "[]" : "");
	for (int depth = 0; depth < 16; depth++) {
		uint32_t from = ty->from[cur], member = ty->member[cur];
		const char *m = member == TY_NONE ? "" : ty->tt.strs[member];

		if (from == UINT32_MAX - 1) {
			strbuf_addstr(sb, " <- its vtable pointer");
			return;
		}
		if (from == UINT32_MAX - 2) {
			strbuf_addstr(sb, " <- shape (inferred)");
			return;
		}
		if (from >= TYPER_ROOT_BASE) {
			strbuf_addf(sb, " <- %s%s", typer_root_name(ty, from - TYPER_ROOT_BASE), m);
			return;
		}
		if (ty->type[from] == TY_NONE)
			return;
		strbuf_addf(sb, " <- %s%s @0x%llx", ty_get(&ty->tt, ty->type[from])->name, m,
			    (unsigned long long)ty->walk->chunks[from].addr + 16);
		cur = from;
	}
	strbuf_addstr(sb, " <- ...");
}

int typing_run(struct target *image, const struct heap_walk *walk,
	       const struct typing_opts *opts, struct diag_sink *diag,
	       struct typing_result **ret)
{
	struct typing_result *r = xcalloc(1, sizeof(*r));
	struct typer *ty = xcalloc(1, sizeof(*ty));
	struct modset_opts mo = { .debug_dir = opts ? opts->debug_dir : NULL };
	size_t n = walk->nr_chunks + 1;
	int err;

	ty->image = image;
	ty->walk = walk;
	ty->opts = opts;
	ty_table_init(&ty->tt);
	ty->type = xmalloc(n * sizeof(*ty->type));
	memset(ty->type, 0xff, n * sizeof(*ty->type));
	ty->rank = xcalloc(n, 1);
	ty->array = xcalloc(n, 1);
	ty->prefix = xcalloc(n, 1);
	ty->inferred = xcalloc(n, 1);
	ty->in_queue = xcalloc(n, 1);
	ty->from = xmalloc(n * sizeof(*ty->from));
	ty->member = xmalloc(n * sizeof(*ty->member));
	build_index(ty);

	err = modset_open(image, &mo, &ty->ms);
	if (err < 0)
		goto out;
	{
		struct strbuf sb = STRBUF_INIT;

		for (size_t i = 0; i < ty->ms->nr_mods; i++)
			if (!ty->ms->mods[i].dw)
				strbuf_addf(&sb, "%s\n", ty->ms->mods[i].path);
		r->no_dwarf = strbuf_detach(&sb, NULL);
	}
	typer_index_modules(ty);
	/* glibc's own chunk headers: a malloc_chunk * points 16 bytes before
	 * a chunk's user area, never to what the program stores */
	ty->malloc_chunk = ty_by_name(&ty->tt, "struct malloc_chunk");
	retype_container_links(ty);
	typer_load_vtables(ty);
	type_by_vtables(ty);
	drain(ty);
	typer_scan_globals(ty);
	drain(ty);
	typer_scan_tls(ty);
	drain(ty);
	if (!opts || opts->unwinder != TYPING_UNWIND_NONE) {
		typer_scan_frames(ty);
		drain(ty);
	}
	for (int round = 0; round < 16 && ty->nr_deferred; round++) {
		resolve_headers(ty);
		drain(ty);
	}
	if (!opts || !opts->no_infer)
		type_by_shape(ty);

	r->conflicts = ty->conflicts;
	for (size_t k = 0; k < ty->nr_conflict_examples; k++) {
		r->conflict_examples[k] = ty->conflict_examples[k];
		ty->conflict_examples[k] = NULL;
	}
	r->nr_conflict_examples = ty->nr_conflict_examples;
	build_result(ty, r);
	if (opts && opts->explain) {
		r->explain = xcalloc(n, sizeof(*r->explain));
		r->nr_explain = walk->nr_chunks;
		for (size_t i = 0; i < walk->nr_chunks; i++) {
			struct strbuf sb = STRBUF_INIT;

			if (ty->type[i] == TY_NONE)
				continue;
			explain_chunk(ty, (uint32_t)i, &sb);
			r->explain[i] = strbuf_detach(&sb, NULL);
		}
	}
	if (ty->ms->nr_mods && ty->ms->nr_no_dwarf == ty->ms->nr_mods)
		diag_report(diag, DIAG_NOTE, "no module has debug info: chunks stay untyped");
	keep_members(ty, r);
	err = 0;
out:
	typer_free(ty);
	if (err < 0) {
		typing_result_free(r);
		return err;
	}
	*ret = r;
	return 0;
}

void typing_result_free(struct typing_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nr_names; i++)
		free(r->names[i]);
	free(r->names);
	free(r->of_chunk);
	free(r->flags);
	free(r->no_dwarf);
	for (size_t k = 0; k < r->nr_layouts; k++)
		free(r->layouts[k].bits);
	free(r->layouts);
	if (r->members) {
		struct member_info *mi = r->members;

		ty_table_free(&mi->tt);
		for (size_t k = 0; k < mi->nr_roots; k++)
			free(mi->roots[k]);
		free(mi->roots);
		free(mi->from);
		free(mi->type);
		free(mi->array);
		free(mi->prefix);
		free(mi);
	}
	for (size_t k = 0; k < r->nr_conflict_examples; k++)
		free(r->conflict_examples[k]);
	for (size_t i = 0; r->explain && i < r->nr_explain; i++)
		free(r->explain[i]);
	free(r->explain);
	free(r);
}
