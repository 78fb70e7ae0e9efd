/*
 * headers.c - header structs: C-style inheritance, tagged objects and
 * allocator prefixes.
 *
 * Many C programs build objects as a header struct H followed by more
 * fields (struct circle { struct shape base; ... }, or the header's
 * members repeated by a macro), and pass them around as H *. A pointer of
 * type H * to the start of a chunk too big for H then says little: the
 * chunk is one of the structs that begin with H (the embed index,
 * debuginfo/types.c, lists them: structs holding H at offset 0).
 *
 * Header at the start (typer_header_start): of those structs, the ones
 * whose malloc size is exactly the chunk's size are candidates. One
 * candidate, H itself not of the chunk's size, and the candidate's
 * pointer members past the header holding pointers (into live chunks or
 * static memory, at least one into the heap): that struct, at the weak
 * rank. Otherwise the chunk waits for the discriminator pass: a size
 * alone never types a chunk (an array of two headers has the size of a
 * struct beginning with one).
 *
 * Discriminators (typer_resolve_headers, per header H): from the chunks
 * already typed exactly as one of the candidates (or H), at most
 * MAX_SAMPLES of each, learn a 4- or 8-byte field of H whose value is
 * the same in every sample of a struct and different between structs (a
 * tag field, or a pointer to a type object); of the valid fields, the one
 * that classifies most of the waiting chunks wins, and each waiting chunk
 * takes the struct its value names. What no discriminator classifies:
 * when one of H's 8-byte fields points exactly at an ELF symbol in most
 * of them (a type object), that names the row, "H (SYMBOL)", with H's
 * layout; else the chunk stays untyped. Fewer than two structs learnt:
 * no discriminator.
 *
 * Allocator prefixes (typer_prefix): a pointer to a struct T a few bytes
 * (at most TYPER_MAX_PREFIX, a multiple of 8) into an untyped chunk,
 * where no struct embeds T there, types the chunk as T behind a prefix
 * (Python's GC head): named after T, scanned from the object's start, at
 * the interior rank. When T is itself a header, the chunk joins the
 * header resolution; behind a prefix nothing is guessed: a chunk no
 * discriminator classifies stays untyped.
 *
 * Resolving can defer more chunks (what a resolved chunk points to): up
 * to MAX_ROUNDS rounds, each followed by draining the worklist.
 */
#include "config.h"
#include "typing/typing-internal.h"
#include "debuginfo/modset.h"
#include "target/target.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

#define MAX_CANDS 64		/* structs considered per header */
#define MAX_SAMPLES 64		/* typed chunks sampled per struct */
#define MAX_ROUNDS 16		/* resolution rounds */

void typer_defer_header(struct typer *ty, uint32_t i, uint32_t head, struct typed_origin from,
			uint32_t member, uint32_t prefix)
{
	ALLOC_GROW(ty->deferred, ty->nr_deferred + 1, ty->alloc_deferred);
	ty->deferred[ty->nr_deferred++] = (struct deferred){
		.chunk = i, .head = head, .member = member, .from = from, .prefix = prefix,
	};
}

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
	uint32_t s, c[2];
	unsigned n = typer_embedders_fitting(ty, t, 0, i, true, &s, c, 2);
	bool self = typer_fits_exactly(ty, i, t);

	/* one struct that begins with T fits the chunk exactly, T does not,
	 * and the chunk's pointers say it is that struct */
	if (n == 1 && !self && header_evidence(ty, i, t, s)) {
		typer_set_type(ty, i, s, false, RANK_WEAK, from, member, 0);
		return true;
	}
	/* else which struct the chunk is needs a discriminator (a size
	 * alone is no evidence, even when one struct has it) */
	if (n >= 1) {
		if (ty->type[i] == TY_NONE)
			typer_defer_header(ty, i, t, from, member, 0);
		return true;
	}
	return false;
}

bool typer_prefix(struct typer *ty, uint32_t i, uint32_t t, uint64_t off,
		  struct typed_origin from, uint32_t member)
{
	uint64_t size = ty_get(&ty->tt, t)->size;

	if (ty->type[i] != TY_NONE || off > TYPER_MAX_PREFIX || off % 8 ||
	    off + size > typer_usable(ty, i))
		return false;
	/* never guessed as an array of T */
	if (ty_embedders(&ty->tt, t, 0))
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

	if (!ty->ms)
		return;
	for (uint64_t off = 0; off + 8 <= hsize; off += 8) {
		size_t named = 0;

		for (size_t e = 0; e < n; e++) {
			uint64_t so;

			if (ty->type[d[e].chunk] != TY_NONE)
				continue;
			if (modset_symbol_at(ty->ms, typer_word(ty, d[e].chunk, d[e].prefix + off, 8),
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
		sym = modset_symbol_at(ty->ms, typer_word(ty, i, d[e].prefix + best_off, 8), &so);
		if (!sym || so)
			continue;
		strbuf_reset(&name);
		strbuf_addf(&name, "%s (%s)", ty_get(&ty->tt, head)->name, sym);
		typer_set_type(ty, i, ty_alias(&ty->tt, head, name.buf), false, RANK_WEAK,
			       d[e].from, d[e].member, d[e].prefix);
	}
	strbuf_release(&name);
}

/*
 * The deferred chunks of one header struct HEAD, D[0..N): learn a
 * discriminator from the chunks already typed exactly as one of the
 * structs that begin with HEAD (or as HEAD itself), then type them.
 */
static void resolve_group(struct typer *ty, struct deferred *d, size_t n)
{
	uint32_t head = d[0].head;
	uint64_t hsize = ty_get(&ty->tt, head)->size;
	const struct ty_list *l = ty_embedders(&ty->tt, head, 0);
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
					uint64_t v = typer_word(ty, c, ty->prefix[c] + off, width);

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
				uint64_t v = typer_word(ty, d[e].chunk, d[e].prefix + off, width);

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
		uint64_t v;

		if (ty->type[i] != TY_NONE || !best_width)
			continue;
		v = typer_word(ty, i, d[e].prefix + best_off, best_width);
		for (size_t k = 0; k < nc; k++)
			if (best_has[k] && best_vals[k] == v &&
			    d[e].prefix + ty_get(&ty->tt, cands[k])->size <= typer_usable(ty, i)) {
				pick = cands[k];
				break;
			}
		if (pick == TY_NONE)
			continue;
		typer_set_type(ty, i, pick, false, RANK_WEAK, d[e].from, d[e].member, d[e].prefix);
	}
	name_by_symbol(ty, d, n, head);
	/* what nothing classified stays untyped: a header pointer into a
	 * chunk bigger than the header is neither a header nor an array of
	 * them, and no struct was told */
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
