/*
 * shape.c - typing by shape: chunks nothing typed, matched against the
 * structs a chunk of their size can hold.
 *
 * A live chunk no typed pointer reached (a leaked list, chunks held only
 * by another runtime's heap, a void * buffer, a JIT's data, a local -O2
 * code lost) may still say what it is by its pointers. Candidates, in
 * two tiers, for a chunk of size C:
 *   1. the structs that already type chunks of size C exactly (not as
 *      arrays, not inferred, with pointer members; at most
 *      MAX_TYPED_CANDS per size): a program allocates the same structs
 *      again and again;
 *   2. only when none of those fits with evidence: every struct of the
 *      debug info with pointer members that malloc gives a chunk of size
 *      C (give or take glibc's 16 bytes of slack), from a language whose
 *      objects live in malloc's heap (not Go's: its objects are in its
 *      own heap), and not a container's node.
 * A candidate fits when every non-null pointer member points to the
 * start of a live chunk that is typed as the member's pointee (the
 * chunk is its type, or the type's array) or untyped and big enough for
 * it, or into a file-backed mapping (a static object, a string literal:
 * no evidence either way), and the pointers give evidence: one points to a chunk typed as its
 * pointee struct; or two point to untyped chunks of exactly their
 * pointee struct's malloc size; or one points to an untyped chunk of the
 * candidate's own size that fits the candidate too (a list: the next
 * node has the shape of this one). A char * to the start of a chunk
 * that holds a C string (text, then a NUL: holds_string) counts as one
 * of the two pointers to chunks of exactly their pointee; a pointer to
 * another base type, or a char * to bytes that are no string (a char *
 * may hold any buffer), is no evidence either way, nor is a member of a
 * union (which alternative is live is not known) or a pointer into the
 * chunk itself (a string's own buffer). A tier-2 candidate needs two non-null
 * pointer members into other chunks that agree, one of them to another
 * struct typed as its pointee or untyped of exactly its malloc size (in
 * tier 2 without glibc's slack: pointee_exact), or three that agree and are not links to its own kind (itself, a struct
 * it begins with; a struct pointee only when typed so or of exactly its
 * malloc size, a string or pointer array when untyped), or a link to a
 * node of its own shape and a char * to a C string (a named list node:
 * C structs a Go slice or a void * buffer holds): links alone are
 * what every tree of that chunk size has (a node of std::map<const type_info *, void *> would be every
 * 64-byte tree node). A chunk is typed when exactly
 * one candidate of a tier fits: flagged inferred (rank 0), and so is
 * everything typed through it. Shapes are tried in rounds (at most 8),
 * each followed by draining the worklist, until a round types nothing.
 *
 * Chunks that memory of a module without debug info holds (its .data,
 * .bss, and the untyped chunks those reach, word by word) are that
 * module's, whose structs the debug info does not describe: shapes leave
 * them alone (a library's hash-table node has the shape of glib's GSList
 * and would be typed so).
 *
 * Rows named after an object's type object (objmodel.c) are never
 * candidates: the name comes from the object's own type word.
 *
 * Where the chunks are held from does not matter: a chunk only memory
 * without types holds (another runtime's heap, an anonymous mapping, a
 * void * buffer) is tried like a leaked one; only the memory of modules
 * without debug info excludes (below).
 *
 * Declines (each with a test): a word only narrow integers, floats or
 * chars of the candidate cover holding a live chunk's address; a member
 * pointing into a chunk, outside
 * the heap, to a chunk typed otherwise or too small for its pointee; no
 * evidence (one pointer to an untyped chunk of another struct's size
 * proves little: the most common chunk sizes are everybody's; a chunk of
 * exactly a struct's malloc size whose pointer members are null; a C
 * string alone; a link to its own kind and a char * to bytes that are no
 * string); two or more candidates of the tier fitting (twins: the same
 * shape under two names).
 *
 * Cost: each chunk's first 64 words are classified once per round (null,
 * a live chunk's start); a candidate is looked at only when its pointer
 * words are null or chunk starts, by masks.
 */
#include "config.h"
#include "typing/typing-internal.h"
#include "debuginfo/modset.h"
#include "target/target.h"
#include "util/hashmap.h"
#include "util/le.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

#define MAX_TYPED_CANDS 8	/* tier 1: structs per size */
#define MAX_ROUNDS 8
#define MAX_SHAPE_SIZE 4096	/* bigger chunks are not typed by shape */

struct cand {
	uint32_t type;
	uint64_t mask;		/* pointer words among the first 64 */
	uint64_t nonptr;	/* words only non-pointer members cover */
};

struct tier {
	struct cand *v;
	size_t nr, alloc;
};

/* Per chunk size: the two tiers of candidates. */
struct size_cands {
	struct tier typed, all;
};

struct shaper {
	struct typer *ty;
	struct hashmap by_size;		/* chunk size -> index into sizes */
	struct size_cands *sizes;
	size_t nr_sizes, alloc_sizes;
};

static uint64_t slot_mask(struct typer *ty, uint32_t t)
{
	const struct ty *tp = ty_get(&ty->tt, t);
	uint64_t m = 0;

	for (uint32_t s = 0; s < tp->nr_slots; s++) {
		const struct ty_slot *sl = &tp->slots[s];

		for (uint32_t k = 0; k < sl->count; k++) {
			uint64_t o = sl->off + (uint64_t)sl->stride * k;

			if (o % 8 == 0 && o / 8 < 64 && !(sl->flags & SLOT_UNION))
				m |= 1ull << (o / 8);
		}
	}
	return m;
}

/* The words of T (among the first 64) that only members that cannot
 * hold a pointer cover (integers narrower than one, floats, chars). */
static uint64_t nonptr_mask(struct typer *ty, uint32_t t)
{
	const struct ty *tp = ty_get(&ty->tt, t);
	uint8_t cover[64 * 8] = { 0 };
	uint64_t m = 0;

	for (uint32_t k = 0; k < tp->nr_nonptr; k++)
		for (uint64_t o = tp->nonptr[k].off;
		     o < tp->nonptr[k].off + tp->nonptr[k].len && o < sizeof(cover); o++)
			cover[o] = 1;
	for (unsigned w = 0; w < 64 && w * 8 + 8 <= tp->size; w++) {
		bool all = true;

		for (unsigned b = 0; b < 8 && all; b++)
			all = cover[w * 8 + b];
		if (all)
			m |= 1ull << w;
	}
	return m & ~slot_mask(ty, t);
}

static struct size_cands *cands_for(struct shaper *sh, uint64_t size, bool add)
{
	const uint64_t *k = hashmap_find_u64(&sh->by_size, size);

	if (k)
		return &sh->sizes[*k];
	if (!add)
		return NULL;
	ALLOC_GROW(sh->sizes, sh->nr_sizes + 1, sh->alloc_sizes);
	memset(&sh->sizes[sh->nr_sizes], 0, sizeof(sh->sizes[0]));
	hashmap_put_u64(&sh->by_size, size, sh->nr_sizes);
	return &sh->sizes[sh->nr_sizes++];
}

/* TYPE as a candidate of tier T; DEDUP: it may be there already (tier
 * 2 meets each type once per list: no need to look) */
static void tier_add(struct shaper *sh, struct tier *t, uint32_t type, bool dedup)
{
	for (size_t k = 0; dedup && k < t->nr; k++)
		if (t->v[k].type == type)
			return;
	ALLOC_GROW(t->v, t->nr + 1, t->alloc);
	t->v[t->nr++] = (struct cand){
		.type = type, .mask = slot_mask(sh->ty, type), .nonptr = nonptr_mask(sh->ty, type),
	};
}

/* A struct shapes can give: complete, pointer members, a size; not a
 * container's node (which value a node holds is its container's to say:
 * every map's nodes have the links' shape, and on cupt nodes of two hash
 * maps were typed as those of a third, empty one). */
static bool shapeable(struct typer *ty, uint32_t t)
{
	const struct ty *tp = ty_get(&ty->tt, t);

	return tp->kind == TY_STRUCT && tp->complete && tp->nr_slots && tp->size &&
	       tp->size <= MAX_SHAPE_SIZE && !tp->flex && !tp->truncated &&
	       !(t < ty->nr_foreign && ty->foreign[t]) && !typer_is_node_template(ty, t) &&
	       /* a row named after a type object is that object's type
		* object's to give (objmodel.c) */
	       !typer_objmodel_row(ty, t);
}

static void collect(struct shaper *sh)
{
	struct typer *ty = sh->ty;

	/* tier 1: what types chunks of each size exactly */
	for (size_t k = 0; k < ty->nr_live; k++) {
		uint32_t i = ty->live[k], t = ty->type[i];
		struct size_cands *sc;

		if (t == TY_NONE || ty->array[i] || ty->inferred[i] || ty->prefix[i] ||
		    !shapeable(ty, t))
			continue;
		sc = cands_for(sh, ty->walk->chunks[i].size, true);
		if (sc->typed.nr < MAX_TYPED_CANDS)
			tier_add(sh, &sc->typed, t, true);
	}
	/* tier 2: every struct malloc gives a chunk of the size (or the size
	 * less glibc's slack: a chunk reused from a free one) */
	for (size_t t = 0; t < ty->tt.nr; t++) {
		uint64_t cs;
		struct size_cands *sc;

		if (!shapeable(ty, (uint32_t)t))
			continue;
		cs = chunk_size_for_request(ty_get(&ty->tt, (uint32_t)t)->size);
		if ((sc = cands_for(sh, cs, true)))
			tier_add(sh, &sc->all, (uint32_t)t, false);
		if ((sc = cands_for(sh, cs + 16, true)))
			tier_add(sh, &sc->all, (uint32_t)t, false);
	}
}

static bool outside_heap(struct typer *ty, uint64_t v);

/* Is T a character type (what a char * points to)? */
static bool is_char(struct typer *ty, uint32_t t)
{
	const struct ty *tp = ty_get(&ty->tt, t);

	return tp->kind == TY_BASE && tp->size == 1 && strstr(tp->name, "char");
}

/* The length of the UTF-8 sequence at P (at most N bytes) whose lead
 * byte is P[0] >= 0x80, or 0 when it is none (overlong forms, surrogates
 * and code points past U+10FFFF are none). */
static unsigned utf8_seq(const uint8_t *p, uint64_t n)
{
	unsigned len = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : 2;

	if (p[0] < 0xc2 || p[0] > 0xf4 || len > n)
		return 0;
	for (unsigned k = 1; k < len; k++)
		if ((p[k] & 0xc0) != 0x80)
			return 0;
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) ||
	    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))
		return 0;
	return len;
}

/*
 * Does chunk J begin with a C string: at least MIN_TEXT bytes of text
 * (printable ASCII, tab, newline, carriage return, well-formed UTF-8),
 * then a NUL, inside its usable size? What a char * member of the
 * struct a shape says points to; binary bytes, a pointer's or an
 * integer's, are control bytes or ill-formed UTF-8 within a few bytes.
 */
#define MIN_TEXT 4

static bool holds_string(struct typer *ty, uint32_t j)
{
	taddr_t s;
	uint64_t len;
	const uint8_t *p;

	typer_user_area(ty, j, &s, &len);
	len = MIN(len, (uint64_t)MAX_SHAPE_SIZE);
	if (!(p = typer_mem(ty, s, len)))
		return false;
	for (uint64_t k = 0; k < len;) {
		unsigned n;

		if (!p[k])
			return k >= MIN_TEXT;
		if (p[k] >= 0x80) {
			if (!(n = utf8_seq(p + k, len - k)))
				return false;
			k += n;
			continue;
		}
		if ((p[k] < 0x20 && p[k] != '\t' && p[k] != '\n' && p[k] != '\r') || p[k] == 0x7f)
			return false;
		k++;
	}
	return false;
}

/*
 * Is chunk J what malloc(sizeof(T)) gives? Tier 1 (a struct that types
 * chunks of J's size already) gives or takes glibc's 16 bytes of slack,
 * as pointers do; tier 2 (any struct of the debug info) does not: with
 * the slack every struct whose chunk is 16 bytes smaller is exact too,
 * and the structs
 * of every library's debug info are candidates (glibc's struct
 * severity_info, { int; char *; struct severity_info *next; }, is a
 * 48-byte list node with a name by its slack, like any named list node
 * of 48 bytes).
 */
static bool pointee_exact(struct typer *ty, uint32_t j, uint32_t t, bool tier2)
{
	const struct ty *tp = ty_get(&ty->tt, t);
	const struct chunk *c = &ty->walk->chunks[j];

	if (!typer_fits_exactly(ty, j, t))
		return false;
	return !tier2 || tp->flex || c->state == CHUNK_MMAPPED ||
	       c->size == chunk_size_for_request(tp->size);
}

/* Is a pointer to P a link to T's own kind: T itself, a struct T begins
 * with (its list or tree node base)? */
static bool own_kind(struct typer *ty, uint32_t t, uint32_t p)
{
	const struct ty *tp = ty_get(&ty->tt, t);

	if (p == t || typer_is_node_base(ty, p))
		return true;
	for (uint32_t k = 0; k < tp->nr_embeds && tp->embeds[k].off == 0; k++)
		if (tp->embeds[k].type == p)
			return true;
	return false;
}

/* Chunk I's first words: which are non-null, which a live chunk's start
 * (HEAP), which that or a pointer to a static object (START: no
 * contradiction for a pointer member). */
static void classify(struct typer *ty, uint32_t i, uint64_t *nonnull, uint64_t *start,
		     uint64_t *heap)
{
	taddr_t s;
	uint64_t len, off;
	const uint8_t *p;

	*nonnull = *start = *heap = 0;
	typer_user_area(ty, i, &s, &len);
	len = MIN(len, 64 * 8);
	if (!(p = typer_mem(ty, s, len)))
		return;
	for (uint64_t w = 0; w < len / 8; w++) {
		uint64_t v;

		v = get_le64(p + w * 8);
		if (!v)
			continue;
		*nonnull |= 1ull << w;
		if (typer_lookup(ty, v, &off) != UINT32_MAX) {
			if (off == 0 && !(v & 7)) {
				*start |= 1ull << w;
				*heap |= 1ull << w;
			}
		} else if (outside_heap(ty, v)) {
			*start |= 1ull << w;
		}
	}
}

enum fit { FIT_NO, FIT_NO_EVIDENCE, FIT_YES };

/* V (in no live chunk) is mapped memory that no heap holds: a module's
 * data, a string literal. A pointer into the brk heap or nowhere is not
 * one a struct holds. */
static bool outside_heap(struct typer *ty, uint64_t v)
{
	const struct target_region *r = target_region_of(ty->image, v);

	return r && r->path && strcmp(r->path, "[heap]") && r->path[0] != '[';
}

/*
 * Does untyped chunk I have the shape of struct T? CHAIN: a pointer to
 * an untyped chunk of T's own size counts when that chunk has T's shape
 * too (looked at one level deep).
 */
static enum fit shape_fits(struct typer *ty, uint32_t i, uint32_t t, bool chain, bool tier2)
{
	struct ty *tp = ty_get(&ty->tt, t);
	taddr_t start;
	uint64_t len;
	const uint8_t *p;
	unsigned strong = 0, weak = 0, self = 0, valid = 0, other = 0;

	typer_user_area(ty, i, &start, &len);
	if (tp->size > len || !(p = typer_mem(ty, start, tp->size)))
		return FIT_NO;
	/* P may be ty->buf: read everything before looking elsewhere */
	{
		uint8_t words[MAX_SHAPE_SIZE];

		memcpy(words, p, tp->size);
		for (uint32_t s = 0; s < tp->nr_slots; s++) {
			const struct ty_slot *sl = &tp->slots[s];

			for (uint32_t k = 0; k < sl->count; k++) {
				uint64_t o = sl->off + (uint64_t)sl->stride * k, v, off;
				uint32_t j, want;
				const struct ty *wp;

				if (o + 8 > tp->size)
					break;
				/* which alternative of a union is live is not
				 * known: no evidence either way */
				if (sl->flags & SLOT_UNION)
					break;
				v = get_le64(words + o);
				if (!v)
					continue;
				j = typer_lookup(ty, v, &off);
				if (j == UINT32_MAX) {
					/* a static object: no evidence either way */
					if (outside_heap(ty, v))
						continue;
					return FIT_NO;
				}
				/* into the chunk itself (a string's own buffer,
				 * an empty list's head): no evidence either way */
				if (j == i)
					continue;
				if (off != 0)
					return FIT_NO;
				want = typer_elem(ty, sl->pointee);
				if (want == TY_NONE)
					return FIT_NO;
				wp = ty_get(&ty->tt, want);
				valid++;
				if (ty->type[j] != TY_NONE) {
					if (ty->type[j] != want)
						return FIT_NO;
					if (wp->kind == TY_STRUCT) {
						strong++;
						other += !own_kind(ty, t, want);
					} else if (is_char(ty, want) && holds_string(ty, j)) {
						weak++;
					}
					continue;
				}
				/* an untyped pointee: a string, a pointer array;
				 * a char * to text is what the member says */
				if (wp->kind != TY_STRUCT) {
					other++;
					if (is_char(ty, want) && holds_string(ty, j))
						weak++;
					continue;
				}
				if (wp->size > typer_usable(ty, j))
					return FIT_NO;
				if (!pointee_exact(ty, j, want, tier2))
					continue;
				other += !own_kind(ty, t, want);
				if (want == t && j != i) {
					if (!self && chain &&
					    shape_fits(ty, j, t, false, tier2) != FIT_NO)
						self++;
				} else {
					weak++;
				}
			}
		}
	}
	/* a struct nothing of this size is known to be needs two pointer
	 * members that agree, one of them to another struct typed as its
	 * pointee or of exactly its malloc size (or a char * to a C string),
	 * or three that agree and are not links to its own kind (a struct
	 * pointee counts only when typed so or of its exact malloc size):
	 * links alone are what every tree and list of that chunk size has,
	 * and any big chunk is big enough for a struct */
	if (tier2)
		return ((strong || weak) && valid >= 2 && strong + weak + self >= 2) ||
		       other >= 3 ? FIT_YES : FIT_NO_EVIDENCE;
	return strong || weak >= 2 || self ? FIT_YES : FIT_NO_EVIDENCE;
}

/*
 * The one candidate of tier T that chunk I fits with evidence, or
 * TY_NONE; *FITS: how many do.
 */
static uint32_t pick(struct typer *ty, uint32_t i, const struct tier *t, bool tier2,
		     uint64_t nonnull, uint64_t start, uint64_t heap, unsigned *fits)
{
	uint32_t got = TY_NONE;

	*fits = 0;
	for (size_t k = 0; k < t->nr; k++) {
		const struct cand *c = &t->v[k];

		/* a pointer word that holds something but no chunk's start
		 * (nor a static object), or none holding anything; a heap
		 * pointer where the struct has only integers or chars */
		if ((c->mask & nonnull & ~start) || !(c->mask & start) || (c->nonptr & heap))
			continue;
		if (shape_fits(ty, i, c->type, true, tier2) != FIT_YES)
			continue;
		got = c->type;
		++*fits;
	}
	return *fits == 1 ? got : TY_NONE;
}

/* Words of a chunk looked at when following untyped memory. */
#define TAINT_WINDOW 65536

/* Mark the untyped chunks V points into (queueing the new ones). */
static void taint_word(struct typer *ty, uint64_t v, uint8_t *tainted, uint32_t **queue,
		       size_t *nr, size_t *alloc)
{
	uint64_t off;
	uint32_t j;

	if (v < ty->live_lo || v >= ty->live_hi || (v & 7) ||
	    (j = typer_lookup(ty, v, &off)) == UINT32_MAX || tainted[j] ||
	    ty->type[j] != TY_NONE)
		return;
	tainted[j] = 1;
	ALLOC_GROW(*queue, *nr + 1, *alloc);
	(*queue)[(*nr)++] = j;
}

static void taint_range(struct typer *ty, taddr_t a, taddr_t b, uint8_t *tainted,
			uint32_t **queue, size_t *nr, size_t *alloc)
{
	a = (a + 7) & ~(taddr_t)7;
	while (a + 8 <= b) {
		uint64_t len = MIN(b - a, (uint64_t)TAINT_WINDOW) & ~(uint64_t)7;
		const uint8_t *p = typer_mem(ty, a, len);

		for (uint64_t o = 0; p && o < len; o += 8) {
			uint64_t v;

			v = get_le64(p + o);
			taint_word(ty, v, tainted, queue, nr, alloc);
		}
		a += len;
	}
}

/* Mark what the writable memory of modules with (WITH) or without debug
 * info holds. */
static void taint_modules(struct typer *ty, bool with, uint8_t *mark, uint32_t **queue,
			  size_t *nr, size_t *alloc)
{
	for (size_t m = 0; m < ty->ms->nr_mods; m++) {
		const struct modset_module *mod = &ty->ms->mods[m];

		if (!mod->dw != !with)
			continue;
		for (size_t r = 0; r < ty->image->nr_regions; r++) {
			const struct target_region *reg = &ty->image->regions[r];

			if (!(reg->prot & TARGET_PROT_WRITE) || reg->end <= mod->start ||
			    reg->start >= mod->end)
				continue;
			taint_range(ty, MAX(reg->start, mod->start), MIN(reg->end, mod->end),
				    mark, queue, nr, alloc);
		}
	}
}

/* ... and what the live part of each thread's stack holds. */
static void taint_stacks(struct typer *ty, uint8_t *mark, uint32_t **queue, size_t *nr,
			 size_t *alloc)
{
	for (size_t t = 0; t < ty->image->nr_threads; t++) {
		taddr_t sp = ty->image->threads[t].regs.rsp;
		const struct target_region *reg = target_region_of(ty->image, sp);

		if (reg && sp >= reg->start + 128)
			taint_range(ty, sp - 128, reg->end, mark, queue, nr, alloc);
	}
}

/* What the marked untyped chunks hold, transitively. */
static void taint_closure(struct typer *ty, uint8_t *mark, uint32_t **queue, size_t *nr,
			  size_t *alloc)
{
	while (*nr) {
		uint32_t j = (*queue)[--*nr];
		taddr_t st;
		uint64_t len;

		typer_user_area(ty, j, &st, &len);
		taint_range(ty, st, st + MIN(len, (uint64_t)TAINT_WINDOW), mark, queue, nr, alloc);
	}
}

/*
 * The untyped chunks only memory of modules without debug info holds
 * (their .data and .bss, and the untyped chunks those hold, word by
 * word): a library without debug info keeps its own structs there
 * (OpenSSL's hash-table nodes have the shape of glib's GSList), and a
 * struct of another module's debug info that happens to fit is a guess.
 * Shapes never type them. A chunk that memory of a module with debug info
 * or a thread's stack also holds (through untyped chunks) is not theirs
 * alone: syslog-ng's stats clusters sit in a glib hash table that glib's
 * memory reaches too, and syslog-ng's .bss as well. NULL when every
 * module has debug info.
 */
static uint8_t *tainted_chunks(struct typer *ty)
{
	uint8_t *tainted, *ours;
	uint32_t *queue = NULL;
	size_t nr = 0, alloc = 0, n = ty->walk->nr_chunks;
	bool any = false;

	if (!ty->ms || !ty->ms->nr_no_dwarf)
		return NULL;
	tainted = xcalloc(n + 1, 1);
	taint_modules(ty, false, tainted, &queue, &nr, &alloc);
	any = nr > 0;
	taint_closure(ty, tainted, &queue, &nr, &alloc);
	if (!any) {
		free(queue);
		free(tainted);
		return NULL;
	}
	ours = xcalloc(n + 1, 1);
	taint_modules(ty, true, ours, &queue, &nr, &alloc);
	taint_stacks(ty, ours, &queue, &nr, &alloc);
	taint_closure(ty, ours, &queue, &nr, &alloc);
	for (size_t i = 0; i < n; i++)
		if (ours[i])
			tainted[i] = 0;
	free(ours);
	free(queue);
	return tainted;
}

void typer_type_by_shape(struct typer *ty)
{
	struct shaper sh = { .ty = ty };
	uint8_t *tainted = tainted_chunks(ty);

	hashmap_init(&sh.by_size, HASHMAP_U64);
	collect(&sh);
	for (int round = 0; round < MAX_ROUNDS; round++) {
		uint64_t added = 0;

		for (size_t k = 0; k < ty->nr_live; k++) {
			uint32_t i = ty->live[k], got;
			struct size_cands *sc;
			uint64_t nonnull, start, heap;
			unsigned fits;

			if (ty->type[i] != TY_NONE || (tainted && tainted[i]) ||
			    !(sc = cands_for(&sh, ty->walk->chunks[i].size, false)))
				continue;
			classify(ty, i, &nonnull, &start, &heap);
			if (!start)
				continue;
			got = pick(ty, i, &sc->typed, false, nonnull, start, heap, &fits);
			/* tier 2 only when no tier-1 candidate fits */
			if (!fits)
				got = pick(ty, i, &sc->all, true, nonnull, start, heap, &fits);
			if (got == TY_NONE)
				continue;
			typer_set_type(ty, i, got, false, RANK_SHAPE,
				       (struct typed_origin){ .kind = TYPED_FROM_SHAPE }, TY_NONE, 0);
			added++;
		}
		typer_drain(ty);
		if (!added)
			break;
	}
	for (size_t s = 0; s < sh.nr_sizes; s++) {
		free(sh.sizes[s].typed.v);
		free(sh.sizes[s].all.v);
	}
	free(sh.sizes);
	free(tainted);
	hashmap_release(&sh.by_size);
}
