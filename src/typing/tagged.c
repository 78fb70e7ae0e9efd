/*
 * tagged.c - tagged values: a union's pointer followed when the tag next
 * to it says a pointer is live.
 *
 * Dynamic languages keep values as a union of a pointer and scalar
 * alternatives next to a small integer saying which one is live (Lua's
 * TValue: union Value { GCObject *gc; void *p; lua_CFunction f;
 * lua_Integer i; lua_Number n; } value_ and lu_byte tt_). Followed
 * blindly, an integer or a float that happens to hold a heap address
 * types a chunk; never followed, the whole heap behind the values stays
 * untyped. The tag decides, and which tag values make which alternative
 * live is learnt, never assumed.
 *
 * A tagged value (container): a union with at least one alternative that
 * points to a struct or union and one scalar alternative, inside a struct
 * or union C (walked through nested structs and arrays of them, at most
 * MAX_INSTS unions and 8 levels), with integer members of 1 to 4 bytes
 * within WINDOW bytes before or after it: the tag candidates (a hash
 * node's key has its own tag before it, a TValue's is after it). When C
 * is scanned, a pointer alternative of such a union is not followed: the
 * value is recorded (an occurrence) with the values of its candidates.
 * A union with no integer near it keeps the engine's rule.
 *
 * Learning (typer_tagged_resolve), per candidate (the union's type, the
 * candidate's offset from the union, its width) and tag value:
 *   - samples: occurrences whose pointer reaches the start of a chunk
 *     typed by something else (rank 3 or more, not through a tagged
 *     value, not inferred, not an array) as the alternative's pointee or
 *     a struct of its header's family (headers.c): the value names that
 *     alternative; a sample naming another one is a conflict;
 *   - misses: occurrences whose pointer is in no live chunk;
 *   - the union's encoding: from candidates alone next to their union (a
 *     TValue has only tt_), which values name which alternative (hits,
 *     no conflict, at most one in ten a miss), and which values never
 *     named one in two or more occurrences (scalars);
 *   - where several members could be the tag (a hash node: the value's
 *     tt_, the key's key_tt, the next offset), each union instance takes
 *     the candidate whose values name one alternative each, rarely miss
 *     and agree with the encoding (hits, minus four times conflicts and
 *     misses and disagreements).
 * An occurrence is followed, as a pointer to its alternative's pointee at
 * the pointer rank, when its tag value names its alternative there (no
 * conflict, at most one in ten a miss) or, without samples there, in the
 * encoding. It is dropped when its tag value mostly misses (8 or more
 * occurrences, half of them in no chunk: a scalar, or a pointer outside
 * the heap) or the encoding calls it scalar. Else it waits; an
 * occurrence that points into no chunk is dropped once counted.
 *
 * Declines: a tag value never seen with a typed pointee (no sample), a
 * value that also holds scalars, a value seen with two alternatives: not
 * followed, so an integer that happens to hold a chunk's address types
 * nothing.
 *
 * When: typing.c resolves in rounds with the header resolution (each
 * types what gives the other samples). While the worklist drains, the
 * waiting occurrences are resolved every EARLY_RESOLVE new ones, to bound
 * their memory (what points into no chunk is dropped); a decision taken
 * then cannot be undone (what it followed stays typed), so it needs more
 * evidence: a tag value is followed early only with EARLY_MIN_HITS
 * samples or more and no conflict, and nothing is dropped as a scalar
 * before the final resolution (the candidate chosen as the tag, and the
 * counts, may still change).
 */
#include "config.h"
#include "typing/typing-internal.h"
#include "util/hashmap.h"
#include "util/le.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

#define MAX_TAGS 6		/* tag candidates per union instance */
#define WINDOW 16		/* tags at most this far outside the union */
#define MAX_INSTS 256		/* tagged unions per container */
#define EARLY_RESOLVE 65536	/* values kept before learning while draining */
#define EARLY_MIN_HITS 16	/* samples a tag value needs to be followed early */

struct tinst {			/* a qualifying union inside a container */
	uint64_t off, size;
	uint32_t type;
	uint32_t cand[MAX_TAGS];	/* global candidate ids */
	uint64_t cand_off[MAX_TAGS];	/* absolute offsets in the container */
	uint8_t cand_width[MAX_TAGS];
	unsigned nr_cand;
	int best;		/* the tag chosen (-1: none yet) */
};

struct tcontainer {
	struct tinst *insts;
	size_t nr;
};

struct tcand {			/* (union type, tag offset - union offset, width) */
	uint32_t u;
	int32_t rel;
	uint8_t width;
	struct hashmap vals;	/* tag value + 1 -> index into stats */
	struct tstat { uint64_t val; uint32_t hits, conflicts, misses, total; int32_t alt; } *st;
	size_t nr_st;
	bool sole;		/* the only tag candidate of some union */
};

struct occ {
	uint64_t v;
	struct typed_origin from;
	uint32_t member;
	uint32_t inst_container;	/* container type id */
	uint32_t inst;			/* index in the container's instances */
	uint32_t tags[MAX_TAGS];
	uint32_t alts;			/* index into alt lists: the slot's pointee */
	uint32_t pointee;
	uint32_t chunk;			/* the chunk V points into, or UINT32_MAX */
	bool counted, sampled;
};

struct tagged {
	struct hashmap containers;	/* type id + 1 -> index + 1 */
	struct tcontainer *c;
	size_t nr_c;
	struct hashmap cand_map;		/* hash -> id + 1 */
	struct tcand *cands;
	size_t nr_cands;
	struct occ *occs;
	size_t nr_occs, alloc_occs;
	uint8_t *via_tag;		/* per chunk */
	size_t next_resolve;		/* resolve while draining at this many */
	/* the encoding: (union + 1) << 32 ^ value -> alt + 2 (ENC_STRONG
	 * set when it has EARLY_MIN_HITS samples), or 1: a scalar */
	struct hashmap global;
	bool final;		/* all roots scanned: no decision is early */
};

#define ENC_STRONG (1ull << 32)

static struct tagged *tg(struct typer *ty)
{
	if (!ty->tagged) {
		struct tagged *t = xcalloc(1, sizeof(*t));

		t->via_tag = xcalloc(ty->walk->nr_chunks + 1, 1);
		t->next_resolve = EARLY_RESOLVE;
		ty->tagged = t;
	}
	return ty->tagged;
}

static bool qualifies(struct typer *ty, uint32_t u)
{
	struct ty *up = ty_get(&ty->tt, u);
	bool ptr = false, scalar = false;

	if (up->kind != TY_UNION)
		return false;
	for (uint32_t k = 0; k < up->nr_members; k++) {
		uint32_t m = up->members[k].type;
		struct ty *mp;

		if (m == TY_NONE)
			continue;
		mp = ty_get(&ty->tt, m);
		if (mp->kind == TY_PTR && mp->pointee != TY_NONE &&
		    (ty_get(&ty->tt, mp->pointee)->kind == TY_STRUCT ||
		     ty_get(&ty->tt, mp->pointee)->kind == TY_UNION))
			ptr = true;
		else if (mp->kind == TY_BASE)
			scalar = true;
	}
	return ptr && scalar;
}

struct walk {
	struct tinst *insts;
	size_t nr_insts;
	struct { uint64_t off; uint8_t width; } *tags;
	size_t nr_tags;
};

static void walk(struct typer *ty, uint32_t c, uint64_t base, int depth, struct walk *w)
{
	struct ty *cp = ty_get(&ty->tt, c);

	if (depth > 8 || w->nr_insts > MAX_INSTS || w->nr_tags > 1024)
		return;
	for (uint32_t k = 0; k < cp->nr_members; k++) {
		const struct ty_member *m = &cp->members[k];
		struct ty *mp;

		if (m->type == TY_NONE)
			continue;
		mp = ty_get(&ty->tt, m->type);
		if (mp->kind == TY_UNION && qualifies(ty, m->type)) {
			w->insts = xrealloc(w->insts, (w->nr_insts + 1) * sizeof(*w->insts));
			memset(&w->insts[w->nr_insts], 0, sizeof(*w->insts));
			w->insts[w->nr_insts].off = base + m->off;
			w->insts[w->nr_insts].size = mp->size;
			w->insts[w->nr_insts++].type = m->type;
		} else if (mp->kind == TY_STRUCT || mp->kind == TY_UNION) {
			walk(ty, m->type, base + m->off, depth + 1, w);
			cp = ty_get(&ty->tt, c);
		} else if (mp->kind == TY_ARRAY && mp->elem != TY_NONE &&
			   (ty_get(&ty->tt, mp->elem)->kind == TY_STRUCT ||
			    ty_get(&ty->tt, mp->elem)->kind == TY_UNION)) {
			uint64_t es = ty_get(&ty->tt, mp->elem)->size, n = mp->count ? mp->count : 1;

			for (uint64_t e = 0; es && e < n && e < 64; e++) {
				if (ty_get(&ty->tt, mp->elem)->kind == TY_UNION &&
				    qualifies(ty, mp->elem)) {
					w->insts = xrealloc(w->insts, (w->nr_insts + 1) *
								     sizeof(*w->insts));
					memset(&w->insts[w->nr_insts], 0, sizeof(*w->insts));
					w->insts[w->nr_insts].off = base + m->off + e * es;
					w->insts[w->nr_insts].size = es;
					w->insts[w->nr_insts++].type = mp->elem;
				} else {
					walk(ty, mp->elem, base + m->off + e * es, depth + 1, w);
				}
			}
			cp = ty_get(&ty->tt, c);
		} else if (mp->kind == TY_BASE && m->size >= 1 && m->size <= 4) {
			bool dup = false;

			for (size_t j = 0; j < w->nr_tags; j++)
				dup |= w->tags[j].off == base + m->off;
			if (!dup) {
				w->tags = xrealloc(w->tags, (w->nr_tags + 1) * sizeof(*w->tags));
				w->tags[w->nr_tags].off = base + m->off;
				w->tags[w->nr_tags++].width = (uint8_t)m->size;
			}
		}
	}
}

/* A tag of WIDTH bytes (1, 2 or 4) at P. */
static uint32_t tag_at(const uint8_t *p, unsigned width)
{
	return width == 1 ? p[0] : width == 2 ? get_le16(p) : get_le32(p);
}

static uint32_t cand_id(struct tagged *t, uint32_t u, int32_t rel, uint8_t width)
{
	uint64_t key = ((uint64_t)(u + 1) << 24) ^ ((uint64_t)(uint32_t)(rel + 4096) << 4) ^ width;
	uint32_t id;

	if (typer_map_get32(&t->cand_map, key, &id))
		return id - 1;
	t->cands = xrealloc(t->cands, (t->nr_cands + 1) * sizeof(*t->cands));
	memset(&t->cands[t->nr_cands], 0, sizeof(*t->cands));
	t->cands[t->nr_cands].u = u;
	t->cands[t->nr_cands].rel = rel;
	t->cands[t->nr_cands].width = width;
	hashmap_put_u64(&t->cand_map, key, (uint32_t)t->nr_cands + 1);
	return (uint32_t)t->nr_cands++;
}

static struct tcontainer *container(struct typer *ty, uint32_t c)
{
	struct tagged *t = tg(ty);
	uint32_t idx;
	struct walk w = { 0 };
	struct tcontainer *tc;

	if (typer_map_get32(&t->containers, (uint64_t)c + 1, &idx))
		return &t->c[idx - 1];
	walk(ty, c, 0, 0, &w);
	/* dedupe union instances (a union's alternatives repeat them) */
	t->c = xrealloc(t->c, (t->nr_c + 1) * sizeof(*t->c));
	tc = &t->c[t->nr_c];
	memset(tc, 0, sizeof(*tc));
	for (size_t k = 0; k < w.nr_insts; k++) {
		bool dup = false;
		struct tinst *in;

		for (size_t j = 0; j < tc->nr; j++)
			dup |= tc->insts[j].off == w.insts[k].off;
		if (dup)
			continue;
		tc->insts = xrealloc(tc->insts, (tc->nr + 1) * sizeof(*tc->insts));
		in = &tc->insts[tc->nr++];
		*in = w.insts[k];
		in->best = -1;
		for (size_t j = 0; j < w.nr_tags && in->nr_cand < MAX_TAGS; j++) {
			uint64_t o = w.tags[j].off;

			if (o + WINDOW < in->off || o >= in->off + in->size + WINDOW ||
			    (o >= in->off && o < in->off + in->size))
				continue;
			in->cand_off[in->nr_cand] = o;
			in->cand_width[in->nr_cand] = w.tags[j].width;
			in->cand[in->nr_cand++] = cand_id(t, in->type, (int32_t)(o - in->off),
							  w.tags[j].width);
		}
		if (in->nr_cand == 1)
			t->cands[in->cand[0]].sole = true;
	}
	free(w.insts);
	free(w.tags);
	hashmap_put_u64(&t->containers, (uint64_t)c + 1, (uint32_t)++t->nr_c);
	return &t->c[t->nr_c - 1];
}

static struct tstat *stat_find(struct tcand *c, uint64_t val)
{
	uint32_t idx;

	return typer_map_get32(&c->vals, val + 1, &idx) ? &c->st[idx - 1] : NULL;
}

/* Is the value with tag TV (at candidate C of IN) a live POINTEE
 * pointer? 1 yes, -1 never (it mostly misses, or the encoding calls it
 * scalar), 0 not known (yet). Before the final resolution, yes needs
 * EARLY_MIN_HITS samples: what is followed stays followed. */
static int decide(struct tagged *t, struct tinst *in, unsigned c, uint32_t tv, uint32_t pointee)
{
	struct tcand *cd = &t->cands[in->cand[c]];
	struct tstat *st = stat_find(cd, tv);
	const uint64_t *g;

	if (st && st->hits)
		return st->alt == (int32_t)pointee && !st->conflicts &&
		       st->misses * 10 <= st->total &&
		       (t->final || st->hits >= EARLY_MIN_HITS) ? 1 : 0;
	/* a value that mostly points into no chunk is a scalar here */
	if (st && st->total >= 8 && st->misses * 2 >= st->total)
		return -1;
	g = hashmap_find_u64(&t->global, ((uint64_t)(cd->u + 1) << 32) ^ tv);
	if (!g)
		return 0;
	if (*g == 1)
		return -1;
	return (uint32_t)*g == pointee + 2 && (t->final || (*g & ENC_STRONG)) ? 1 : 0;
}

static void follow(struct typer *ty, uint64_t v, uint32_t pointee, struct typed_origin from,
		   uint32_t member)
{
	struct tagged *t = ty->tagged;
	uint64_t off;
	uint32_t j = typer_lookup(ty, v, &off);

	if (j == UINT32_MAX)
		return;
	if (ty->type[j] == TY_NONE) {
		typer_assign(ty, v, pointee, RANK_POINTER, from, member);
		if (ty->type[j] != TY_NONE)
			t->via_tag[j] = 1;
	} else {
		typer_assign(ty, v, pointee, RANK_POINTER, from, member);
	}
}

/*
 * Scanning an object of type C (its bytes P, LEN of them): is the pointer
 * slot at offset O inside a tagged union? Then record it with its tag
 * candidates' values and return true (the caller does not follow it).
 */
bool typer_tagged_slot(struct typer *ty, uint32_t c, const uint8_t *p, uint64_t len, uint64_t o,
		       uint32_t pointee, struct typed_origin from, uint32_t member)
{
	struct tcontainer *tc;
	struct tagged *t;
	struct occ *oc;
	uint64_t v;

	tc = container(ty, c);
	for (size_t k = 0; k < tc->nr; k++) {
		struct tinst *in = &tc->insts[k];

		if (o < in->off || o >= in->off + in->size)
			continue;
		if (!in->nr_cand)
			return false;	/* no tag near it: a plain union */
		v = get_le64(p + o);
		t = tg(ty);
		if (!v)
			return true;
		if (in->best >= 0) {
			uint32_t tv = 0;
			int d;

			if (in->cand_off[in->best] + in->cand_width[in->best] <= len)
				tv = tag_at(p + in->cand_off[in->best], in->cand_width[in->best]);
			d = decide(t, in, (unsigned)in->best, tv, pointee);
			if (d > 0) {
				follow(ty, v, pointee, from, member);
				return true;
			}
			/* a scalar: never followed (early, it is counted
			 * first: the decision may change) */
			if (d < 0 && t->final)
				return true;
		}
		if (t->nr_occs == t->alloc_occs) {
			t->alloc_occs = t->alloc_occs ? 2 * t->alloc_occs : 4096;
			t->occs = xrealloc(t->occs, t->alloc_occs * sizeof(*t->occs));
		}
		oc = &t->occs[t->nr_occs++];
		memset(oc, 0, sizeof(*oc));
		oc->v = v;
		oc->from = from;
		oc->member = member;
		oc->inst_container = c;
		oc->inst = (uint32_t)k;
		oc->pointee = pointee;
		{
			uint64_t off;

			oc->chunk = typer_lookup(ty, v, &off);
			/* a pointer into a chunk is never a sample */
			oc->sampled = oc->chunk != UINT32_MAX && off != 0;
		}
		for (unsigned j = 0; j < in->nr_cand; j++) {
			uint32_t tv = 0;

			if (in->cand_off[j] + in->cand_width[j] <= len)
				tv = tag_at(p + in->cand_off[j], in->cand_width[j]);
			oc->tags[j] = tv;
		}
		return true;
	}
	return false;
}

static struct tstat *stat_of(struct tcand *c, uint64_t val)
{
	uint32_t idx;

	if (typer_map_get32(&c->vals, val + 1, &idx))
		return &c->st[idx - 1];
	c->st = xrealloc(c->st, (c->nr_st + 1) * sizeof(*c->st));
	memset(&c->st[c->nr_st], 0, sizeof(*c->st));
	c->st[c->nr_st].val = val;
	c->st[c->nr_st].alt = -1;
	hashmap_put_u64(&c->vals, val + 1, (uint32_t)++c->nr_st);
	return &c->st[c->nr_st - 1];
}

/* Does a chunk typed X fit pointee P (P itself, or a struct beginning
 * with P)? */
static bool matches(struct typer *ty, uint32_t x, uint32_t p)
{
	return x == p || (ty_get(&ty->tt, p)->kind == TY_STRUCT && typer_in_family(ty, p, x));
}

/*
 * Learn from the recorded values whose pointee something else typed,
 * then follow those whose tag value was learnt. Counts are cumulative: a
 * value is counted once, and once more as a sample when its pointee gets
 * a type. Returns how many were followed.
 */
static size_t resolve(struct typer *ty)
{
	struct tagged *t = ty->tagged;
	size_t followed = 0, kept = 0;

	for (size_t k = 0; k < t->nr_occs; k++) {
		struct occ *oc = &t->occs[k];
		struct tinst *in = &container(ty, oc->inst_container)->insts[oc->inst];
		uint32_t j = oc->chunk;
		bool sample = !oc->sampled && j != UINT32_MAX &&
			      ty->type[j] != TY_NONE && !ty->inferred[j] && !t->via_tag[j] &&
			      !ty->array[j] && matches(ty, ty->type[j], oc->pointee);

		if (oc->counted && !sample)
			continue;
		for (unsigned c = 0; c < in->nr_cand; c++) {
			struct tstat *st = stat_of(&t->cands[in->cand[c]], oc->tags[c]);

			if (!oc->counted) {
				st->total++;
				if (j == UINT32_MAX)
					st->misses++;
			}
			if (sample) {
				int32_t a = (int32_t)oc->pointee;

				if (st->alt < 0 || st->alt == a) {
					st->alt = a;
					st->hits++;
				} else {
					st->conflicts++;
				}
			}
		}
		oc->counted = true;
		oc->sampled |= sample;
	}
	/* the union's encoding, from the tags that are alone next to a
	 * union: value -> the alternative it makes live, or none */
	hashmap_release(&t->global);
	memset(&t->global, 0, sizeof(t->global));
	for (size_t k = 0; k < t->nr_cands; k++) {
		struct tcand *cd = &t->cands[k];
		uint64_t hits = 0;

		if (!cd->sole)
			continue;
		for (size_t s2 = 0; s2 < cd->nr_st; s2++)
			hits += cd->st[s2].hits;
		if (!hits)
			continue;
		for (size_t s2 = 0; s2 < cd->nr_st; s2++) {
			struct tstat *st = &cd->st[s2];
			uint64_t key = ((uint64_t)(cd->u + 1) << 32) ^ st->val;

			if (st->hits && !st->conflicts && st->misses * 10 <= st->total)
				hashmap_put_u64(&t->global, key,
						((uint32_t)st->alt + 2) |
						(st->hits >= EARLY_MIN_HITS ? ENC_STRONG : 0));
			else if (!st->hits && st->total >= 2)
				hashmap_put_u64(&t->global, key, 1);	/* not a pointer */
		}
	}
	/* per union instance: the candidate that explains most samples (its
	 * values name one alternative each, rarely point nowhere, agree with
	 * the union's encoding) */
	for (size_t ci = 0; ci < t->nr_c; ci++) {
		for (size_t ii = 0; ii < t->c[ci].nr; ii++) {
			struct tinst *in = &t->c[ci].insts[ii];
			int64_t best_score = 0;

			in->best = -1;
			for (unsigned c = 0; c < in->nr_cand; c++) {
				struct tcand *cd = &t->cands[in->cand[c]];
				int64_t score = 0;

				for (size_t s2 = 0; s2 < cd->nr_st; s2++) {
					struct tstat *st = &cd->st[s2];
					const uint64_t *g;

					if (!st->hits)
						continue;
					score += st->hits;
					score -= 4 * (int64_t)(st->conflicts + st->misses);
					if (in->nr_cand > 1 &&
					    (g = hashmap_find_u64(&t->global,
								  ((uint64_t)(cd->u + 1) << 32) ^
								  st->val)) &&
					    (uint32_t)*g != (uint32_t)st->alt + 2)
						score -= 4 * (int64_t)st->hits;
				}
				if (score <= best_score)
					continue;
				best_score = score;
				in->best = (int)c;
			}
		}
	}
	for (size_t k = 0; k < t->nr_occs; k++) {
		struct occ oc = t->occs[k];
		struct tinst *in = &container(ty, oc.inst_container)->insts[oc.inst];
		int d = in->best < 0 ? 0 :
			decide(t, in, (unsigned)in->best, oc.tags[in->best], oc.pointee);

		if (d > 0) {
			follow(ty, oc.v, oc.pointee, oc.from, oc.member);
			followed++;
		} else if (oc.chunk != UINT32_MAX && (d == 0 || !t->final)) {
			/* undecided, or a scalar decided early: waits (what
			 * points into no chunk types nothing either way) */
			t->occs[kept++] = oc;
		}
	}
	t->nr_occs = kept;
	return followed;
}

size_t typer_tagged_resolve(struct typer *ty)
{
	struct tagged *t = ty->tagged;

	if (!t || !t->nr_occs)
		return 0;
	t->final = true;
	return resolve(ty);
}

void typer_tagged_maybe_resolve(struct typer *ty)
{
	struct tagged *t = ty->tagged;

	if (t && t->nr_occs >= t->next_resolve) {
		resolve(ty);
		/* what stays undecided waits until as many more arrive */
		t->next_resolve = 2 * t->nr_occs > EARLY_RESOLVE ? 2 * t->nr_occs : EARLY_RESOLVE;
	}
}

void typer_tagged_free(struct typer *ty)
{
	struct tagged *t = ty->tagged;

	if (!t)
		return;
	for (size_t k = 0; k < t->nr_c; k++)
		free(t->c[k].insts);
	free(t->c);
	for (size_t k = 0; k < t->nr_cands; k++) {
		hashmap_release(&t->cands[k].vals);
		free(t->cands[k].st);
	}
	free(t->cands);
	hashmap_release(&t->containers);
	hashmap_release(&t->cand_map);
	hashmap_release(&t->global);
	free(t->occs);
	free(t->via_tag);
	free(t);
	ty->tagged = NULL;
}
