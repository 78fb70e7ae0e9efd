/*
 * headers.c - header structs: C-style inheritance, common initial
 * sequences and allocator prefixes, told apart by a tag field.
 *
 * Many C programs build objects as a header struct H followed by more
 * fields, either embedding it (struct circle { struct shape base; ... })
 * or repeating its members through a macro (Lua's CommonHeader: `next`,
 * a tag byte, GC bits, at the start of every object struct), and pass
 * them around as H *. A pointer of type H * to the start of a chunk too
 * big for H says little then: the chunk is one of H's family.
 *
 * The family of H (family_of): the structs embedding H at offset 0
 * (the embed index, debuginfo/types.c) and the structs whose first
 * members are H's members, same types at the same offsets (a common
 * initial sequence of at least two members, one of them a pointer and
 * one a tag byte or enum: 1 or 2 bytes, or an enum).
 * Structs are found by their first member (an index built on first use).
 *
 * Header at the start (typer_header_start): when a struct of the family
 * fits the chunk (one embedding H: its malloc size is the chunk's; one
 * repeating H's members: it fits, variable-size objects being common
 * there), the chunk takes the struct its tag names when a tag is known,
 * else waits for the resolution. Before any tag is learnt, the one
 * struct embedding H that malloc(sizeof) gives this chunk (H itself not
 * of its size) is taken when its pointer members past H hold pointers
 * (every non-null one aligned, into a live chunk or mapped static
 * memory, at least one into the heap): a size alone never types a chunk.
 *
 * The tag (resolve_group, per header H): the samples are the chunks typed
 * exactly (rank 3 or more, not inferred, not an array) as H or a struct
 * of its family; of H's integer members (1, 2, 4 or 8 bytes, not floating
 * point) the tag is the one whose values name one struct each in most
 * samples; a value seen with two structs names neither, a member whose
 * ambiguous samples are more than an eighth of the others is no tag (GC
 * bits), and neither is one with more than 4 values and more values than
 * half the samples (an id or a count: a tag's values are shared). A
 * waiting chunk takes the struct its tag value names, if it fits. The
 * tag is kept: later pointers to H are typed at once (a list of objects
 * linked through the header resolves in one pass).
 *
 * Declines: no tag member, no sample for the value, two structs for one
 * value, a struct the chunk cannot hold: the chunk stays untyped; never
 * H[], and H only for a chunk of exactly H's malloc size (any size when
 * H ends in a flexible array) pointed to at its start, when no tag value
 * names another struct.
 *
 * Allocator prefixes (typer_prefix): a pointer to a struct T a few bytes
 * (at most TYPER_MAX_PREFIX, a multiple of 8) into an untyped chunk,
 * where no struct embeds T there, types the chunk as T behind a prefix,
 * named after T, scanned from the object's start, at the interior rank.
 * When T has a family, the chunk joins the header resolution; behind a
 * prefix nothing is guessed. (Objects whose type object says what they
 * are, CPython's, are typed before this: objmodel.c.)
 *
 * Resolving can defer more chunks (what a resolved chunk points to): up
 * to MAX_ROUNDS rounds, each followed by draining the worklist.
 */
#include "config.h"
#include "typing/typing-internal.h"
#include "target/target.h"
#include "util/hashmap.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

#define MAX_CANDS 64		/* structs considered per header */
#define MAX_ROUNDS 16		/* resolution rounds */

void typer_defer_header(struct typer *ty, uint32_t i, uint32_t head, struct typed_origin from,
			uint32_t member, uint32_t prefix)
{
	ALLOC_GROW(ty->deferred, ty->nr_deferred + 1, ty->alloc_deferred);
	ty->deferred[ty->nr_deferred++] = (struct deferred){
		.chunk = i, .head = head, .member = member, .from = from, .prefix = prefix,
	};
}

/* ---- families ------------------------------------------------------------ */

/* Same member type: the same entry, pointers to types of one name, or
 * base types of one name and size. */
static bool same_type(struct ty_table *tt, uint32_t a, uint32_t b)
{
	struct ty *x, *y;

	if (a == b)
		return a != TY_NONE;
	if (a == TY_NONE || b == TY_NONE)
		return false;
	x = ty_get(tt, a);
	y = ty_get(tt, b);
	if (x->kind != y->kind || x->size != y->size)
		return false;
	if (x->kind == TY_PTR)
		return x->pointee == y->pointee ||
		       (x->pointee != TY_NONE && y->pointee != TY_NONE &&
			!strcmp(ty_get(tt, x->pointee)->name, ty_get(tt, y->pointee)->name));
	return !strcmp(x->name, y->name);
}

/* Does struct S begin with every member of H, same types at the same
 * offsets, and go on past it? */
static bool repeats(struct ty_table *tt, uint32_t s, uint32_t h)
{
	struct ty *hs = ty_get(tt, h), *ss = ty_get(tt, s);

	if (ss->kind != TY_STRUCT || !ss->complete || ss->size <= hs->size ||
	    ss->nr_members < hs->nr_members)
		return false;
	for (uint32_t k = 0; k < hs->nr_members; k++) {
		const struct ty_member *a = &hs->members[k], *b = &ss->members[k];

		if (a->off != b->off || a->size != b->size || !same_type(tt, a->type, b->type))
			return false;
	}
	return true;
}

static uint64_t hash_str(const char *s, uint64_t h)
{
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

/* A key for a struct's first member, equal when same_type() is. */
static uint64_t first_key(struct ty_table *tt, uint32_t s)
{
	struct ty *sp = ty_get(tt, s);
	const struct ty_member *m;
	struct ty *mt;
	uint64_t h = 1469598103934665603ULL;

	if (!sp->nr_members || sp->members[0].type == TY_NONE)
		return 0;
	m = &sp->members[0];
	mt = ty_get(tt, m->type);
	h = (h ^ m->off ^ (m->size << 20) ^ ((uint64_t)mt->kind << 40)) * 1099511628211ULL;
	h = hash_str(mt->kind == TY_PTR ? (mt->pointee == TY_NONE ? "void" :
					   ty_get(tt, mt->pointee)->name) : mt->name, h);
	return h | 1;
}

/* The tag of a header's family: the member at OFF (WIDTH bytes) and the
 * struct each value names (TY_NONE: seen with two structs). */
#define MAX_TAG_VALS 64
struct tag {
	uint64_t off;
	unsigned width;		/* 0: no tag learnt */
	size_t nr;
	uint64_t vals[MAX_TAG_VALS];
	uint32_t types[MAX_TAG_VALS];
};

struct family {
	uint32_t *types;
	size_t nr, nr_embed;	/* the first nr_embed embed the header */
	struct tag tag;
};

struct families {
	struct hashmap by_head;		/* head + 1 -> index + 1 */
	struct family *f;
	size_t nr, alloc;
	/* structs by their first member, built on first use */
	struct hashmap first;		/* first_key -> index + 1 into buckets */
	struct ty_list *buckets;
	size_t nr_buckets, alloc_buckets;
	bool indexed;
};

static void index_first(struct typer *ty, struct families *fs)
{
	fs->indexed = true;
	for (size_t s = 0; s < ty->tt.nr; s++) {
		struct ty *sp = ty_get(&ty->tt, (uint32_t)s);
		uint64_t key;
		uint32_t b;

		if (sp->kind != TY_STRUCT || !sp->complete || sp->nr_members < 2 ||
		    !(key = first_key(&ty->tt, (uint32_t)s)))
			continue;
		if (!typer_map_get32(&fs->first, key, &b)) {
			ALLOC_GROW(fs->buckets, fs->nr_buckets + 1, fs->alloc_buckets);
			memset(&fs->buckets[fs->nr_buckets], 0, sizeof(*fs->buckets));
			b = (uint32_t)++fs->nr_buckets;
			hashmap_put_u64(&fs->first, key, b);
		}
		ALLOC_GROW(fs->buckets[b - 1].types, fs->buckets[b - 1].nr + 1,
			   fs->buckets[b - 1].alloc);
		fs->buckets[b - 1].types[fs->buckets[b - 1].nr++] = (uint32_t)s;
	}
}

static void family_add(struct family *f, uint32_t s)
{
	for (size_t k = 0; k < f->nr; k++)
		if (f->types[k] == s)
			return;
	f->types = xrealloc(f->types, (f->nr + 1) * sizeof(*f->types));
	f->types[f->nr++] = s;
}

static struct family *family_of(struct typer *ty, uint32_t head)
{
	struct families *fs = ty->families;
	struct ty *h = ty_get(&ty->tt, head);
	const struct ty_list *l;
	struct family *f;
	uint32_t idx;
	bool ptr = false, narrow = false;

	if (!fs)
		fs = ty->families = xcalloc(1, sizeof(*fs));
	if (typer_map_get32(&fs->by_head, (uint64_t)head + 1, &idx))
		return &fs->f[idx - 1];
	ALLOC_GROW(fs->f, fs->nr + 1, fs->alloc);
	f = &fs->f[fs->nr];
	memset(f, 0, sizeof(*f));
	hashmap_put_u64(&fs->by_head, (uint64_t)head + 1, (uint32_t)++fs->nr);
	l = ty_embedders(&ty->tt, head, 0);
	for (size_t k = 0; l && k < l->nr; k++)
		if (ty_get(&ty->tt, l->types[k])->kind == TY_STRUCT)
			family_add(f, l->types[k]);	/* a union holding H does not begin with it */
	f->nr_embed = f->nr;
	for (uint32_t k = 0; k < h->nr_members; k++) {
		const struct ty *mt;

		if (h->members[k].type == TY_NONE)
			continue;
		mt = ty_get(&ty->tt, h->members[k].type);
		if (mt->kind == TY_PTR)
			ptr = true;
		else if (mt->kind == TY_BASE && (h->members[k].size <= 2 ||
						!strncmp(mt->name, "enum ", 5)))
			narrow = true;
	}
	/* a header repeated by a macro carries a tag byte or enum (Lua's
	 * CommonHeader: next, tt, marked); structs that merely begin with a
	 * long and a pointer (a list node, and a struct holding the list's
	 * head as its second member) are no family */
	if (h->kind == TY_STRUCT && h->nr_members >= 2 && ptr && narrow) {
		uint32_t b;

		if (!fs->indexed)
			index_first(ty, fs);
		if (typer_map_get32(&fs->first, first_key(&ty->tt, head), &b))
			for (size_t k = 0; k < fs->buckets[b - 1].nr; k++) {
				uint32_t s = fs->buckets[b - 1].types[k];

				if (s != head && repeats(&ty->tt, s, head))
					family_add(f, s);
			}
	}
	return f;
}

static size_t family(struct typer *ty, uint32_t head, const uint32_t **ret)
{
	struct family *f = family_of(ty, head);

	*ret = f->types;
	return f->nr;
}

bool typer_in_family(struct typer *ty, uint32_t head, uint32_t s)
{
	const uint32_t *fam;
	size_t nf;

	if (s == head)
		return true;
	nf = family(ty, head, &fam);
	for (size_t k = 0; k < nf; k++)
		if (fam[k] == s)
			return true;
	return false;
}

/* Could chunk I be one of HEAD's family? */
static bool family_fits(struct typer *ty, struct family *f, uint32_t i)
{
	uint64_t usable = typer_usable(ty, i), csize = ty->walk->chunks[i].size;
	bool mmapped = ty->walk->chunks[i].state == CHUNK_MMAPPED;

	for (size_t k = 0; k < f->nr; k++) {
		struct ty *s = ty_get(&ty->tt, f->types[k]);

		if (!s->size || s->size > usable)
			continue;
		if (k >= f->nr_embed || s->flex || mmapped ||
		    chunk_size_for_request(s->size) == csize)
			return true;
	}
	return false;
}

void typer_families_free(struct typer *ty)
{
	struct families *fs = ty->families;

	if (!fs)
		return;
	for (size_t k = 0; k < fs->nr; k++)
		free(fs->f[k].types);
	free(fs->f);
	for (size_t k = 0; k < fs->nr_buckets; k++)
		free(fs->buckets[k].types);
	free(fs->buckets);
	hashmap_release(&fs->first);
	hashmap_release(&fs->by_head);
	free(fs);
	ty->families = NULL;
}

/* The struct the learnt tag of F names for chunk I's object at PREFIX:
 * TY_NONE when unknown (or no tag), *RET_KNOWN says whether the value was
 * seen at all. */
static uint32_t by_tag(struct typer *ty, struct family *f, uint32_t i, uint32_t prefix,
		       bool *ret_known)
{
	uint64_t v;

	*ret_known = false;
	if (!f->tag.width)
		return TY_NONE;
	v = typer_word(ty, i, prefix + f->tag.off, f->tag.width);
	for (size_t k = 0; k < f->tag.nr; k++)
		if (f->tag.vals[k] == v) {
			*ret_known = true;
			return f->tag.types[k];
		}
	return TY_NONE;
}

/* ---- the rules -------------------------------------------------------------- */

/*
 * Evidence beyond a size that chunk I is a struct S beginning with header
 * T: S's pointer members past the header hold what pointers hold. Every
 * non-null one points into a live chunk (this one too: an empty list
 * head points to itself) or to readable memory outside the heap (a
 * static object), and at least one points into a live chunk. A string,
 * an array of headers or zeros has no such pointers.
 */
static bool header_evidence(struct typer *ty, uint32_t i, uint32_t t, uint32_t s)
{
	const struct ty *sp = ty_get(&ty->tt, s);
	uint64_t hsize = ty_get(&ty->tt, t)->size, usable = typer_usable(ty, i);
	unsigned heap = 0;

	for (uint32_t k = 0; k < sp->nr_slots; k++) {
		const struct ty_slot *sl = &sp->slots[k];

		for (uint32_t c = 0; c < sl->count && c < 64; c++) {
			uint64_t o = sl->off + (uint64_t)sl->stride * c, v, off;

			if (o < hsize || (sl->flags & SLOT_UNION))
				continue;
			if (o + 8 > usable)
				break;
			v = typer_word(ty, i, o, 8);
			if (!v)
				continue;
			if (v & 7)
				return false;
			if (typer_lookup(ty, v, &off) != UINT32_MAX)
				heap++;
			else if (!target_map(ty->image, v, 8))
				return false;
		}
	}
	return heap > 0;
}

bool typer_header_start(struct typer *ty, uint32_t i, uint32_t t, struct typed_origin from,
			uint32_t member)
{
	struct family *f = family_of(ty, t);
	uint32_t s, c[2];
	bool known;

	if (!f->nr || !family_fits(ty, f, i))
		return false;
	if (ty->type[i] != TY_NONE)
		return true;
	s = by_tag(ty, f, i, 0, &known);
	if (known) {
		if (s != TY_NONE && ty_get(&ty->tt, s)->size <= typer_usable(ty, i))
			typer_set_type(ty, i, s, false, RANK_WEAK, from, member, 0);
		return true;
	}
	/* no tag learnt: one struct embedding T fits the chunk exactly, T
	 * does not, and the chunk's pointers say it is that struct (a size
	 * alone is no evidence) */
	if (!f->tag.width && !typer_fits_exactly(ty, i, t) &&
	    typer_embedders_fitting(ty, t, 0, i, true, &s, c, 2) == 1 &&
	    ty_get(&ty->tt, s)->kind == TY_STRUCT && header_evidence(ty, i, t, s)) {
		typer_set_type(ty, i, s, false, RANK_WEAK, from, member, 0);
		return true;
	}
	typer_defer_header(ty, i, t, from, member, 0);
	return true;
}

bool typer_prefix(struct typer *ty, uint32_t i, uint32_t t, uint64_t off,
		  struct typed_origin from, uint32_t member)
{
	uint64_t size = ty_get(&ty->tt, t)->size;

	if (ty->type[i] != TY_NONE || off > TYPER_MAX_PREFIX || off % 8 ||
	    off + size > typer_usable(ty, i))
		return false;
	/* never guessed as an array of T */
	if (family_of(ty, t)->nr)
		typer_defer_header(ty, i, t, from, member, (uint32_t)off);
	else
		typer_set_type(ty, i, t, false, RANK_INTERIOR, from, member, (uint32_t)off);
	return true;
}

static int cmp_deferred(const void *a, const void *b)
{
	const struct deferred *x = a, *y = b;

	if (x->head != y->head)
		return x->head < y->head ? -1 : 1;
	return x->chunk < y->chunk ? -1 : x->chunk > y->chunk;
}

/* Is T an integer type a tag can be (not floating point)? */
static bool tag_type(struct typer *ty, uint32_t t, uint64_t size)
{
	struct ty *tp;

	if (t == TY_NONE || (size != 1 && size != 2 && size != 4 && size != 8))
		return false;
	tp = ty_get(&ty->tt, t);
	return tp->kind == TY_BASE && !strstr(tp->name, "float") && !strstr(tp->name, "double");
}

/* Learn HEAD's tag from the samples (see the essay); keep it in F. */
static void learn_tag(struct typer *ty, uint32_t head, struct family *f)
{
	struct ty *hp = ty_get(&ty->tt, head);
	uint32_t *samples = NULL;
	size_t ns = 0, alloc = 0, best_score = 0;

	for (size_t c = 0; c < ty->nr_live; c++) {
		uint32_t i = ty->live[c];

		if (ty->type[i] == TY_NONE || ty->rank[i] < RANK_POINTER || ty->array[i] ||
		    ty->inferred[i] || !typer_in_family(ty, head, ty->type[i]))
			continue;
		ALLOC_GROW(samples, ns + 1, alloc);
		samples[ns++] = i;
	}
	for (uint32_t m = 0; m < hp->nr_members; m++) {
		const struct ty_member *mb = &hp->members[m];
		struct tag cur = { .off = mb->off, .width = (unsigned)mb->size };
		size_t count[MAX_TAG_VALS], score = 0, ambiguous = 0;
		bool overflow = false;

		if (!tag_type(ty, mb->type, mb->size))
			continue;
		for (size_t s2 = 0; s2 < ns && !overflow; s2++) {
			uint32_t c = samples[s2];
			uint64_t v = typer_word(ty, c, ty->prefix[c] + mb->off, (unsigned)mb->size);
			size_t k;

			for (k = 0; k < cur.nr && cur.vals[k] != v; k++)
				;
			if (k == cur.nr) {
				if (cur.nr == MAX_TAG_VALS) {
					overflow = true;
					break;
				}
				cur.vals[k] = v;
				cur.types[k] = ty->type[c];
				count[k] = 0;
				cur.nr++;
			} else if (cur.types[k] != ty->type[c]) {
				cur.types[k] = TY_NONE;
			}
			count[k]++;
		}
		/* a tag takes few values, each shared by many objects: a
		 * member with a value per sample (an id, a count) is none */
		if (overflow || (cur.nr > 4 && cur.nr * 2 > ns))
			continue;
		for (size_t k = 0; k < cur.nr; k++) {
			if (cur.types[k] == TY_NONE)
				ambiguous += count[k];
			else
				score += count[k];
		}
		/* a tag names the struct in nearly every sample */
		if (score <= best_score || ambiguous * 8 > score)
			continue;
		best_score = score;
		f->tag = cur;
	}
	free(samples);
}

/* The deferred chunks of one header struct HEAD, D[0..N). */
static void resolve_group(struct typer *ty, struct deferred *d, size_t n)
{
	uint32_t head = d[0].head;
	struct family *f = family_of(ty, head);
	uint64_t hsize = ty_get(&ty->tt, head)->size;

	learn_tag(ty, head, f);
	for (size_t e = 0; e < n; e++) {
		uint32_t i = d[e].chunk, pick;
		bool known;

		if (ty->type[i] != TY_NONE)
			continue;
		pick = by_tag(ty, f, i, d[e].prefix, &known);
		if (pick != TY_NONE &&
		    d[e].prefix + ty_get(&ty->tt, pick)->size <= typer_usable(ty, i))
			typer_set_type(ty, i, pick, false, RANK_WEAK, d[e].from, d[e].member,
				       d[e].prefix);
		else if (pick == TY_NONE && !known && d[e].prefix == 0 &&
			 (chunk_size_for_request(hsize) == ty->walk->chunks[i].size ||
			  ty_get(&ty->tt, head)->flex))
			/* what malloc(sizeof(HEAD)) gives: a HEAD (any size, for
			 * a HEAD ending in a flexible array) */
			typer_set_type(ty, i, head, false, RANK_WEAK, d[e].from, d[e].member, 0);
	}
}

static void resolve_round(struct typer *ty)
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

void typer_resolve_headers(struct typer *ty)
{
	for (int round = 0; round < MAX_ROUNDS && ty->nr_deferred; round++) {
		resolve_round(ty);
		typer_drain(ty);
	}
}
