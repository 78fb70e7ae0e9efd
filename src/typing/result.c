/*
 * result.c - what typing hands back: a name per chunk, pointer layouts
 * per name, and what typing_member_name(), typing_owner() and
 * --explain-types need.
 *
 * Names: "T" or "T[]" from the type table, one entry per distinct
 * spelling (a pointer type met in two CUs is one row), in the order the
 * walk's chunks first use them. Inferred chunks carry TYPING_INFERRED.
 *
 * Layouts: per name, the words of a chunk that may hold a pointer
 * (layout_of): only for names whose every chunk is typed exactly and at
 * offset 0 (no prefix, no second struct, nothing inferred); the heap
 * graph scans those chunks by layout, all others word by word.
 *
 * Owners: the chain that typed each chunk (typer.from, from_kind) is kept
 * with the type table for ownership paths (cmd/formats.c) and for
 * --explain-types ("T <- T2.member @0xADDR <- global g (module)").
 */
#include "config.h"
#include "typing/typing-internal.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

static bool is_live(const struct chunk *c)
{
	return c->state == CHUNK_INUSE || c->state == CHUNK_MMAPPED;
}

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
			uint64_t po;

			if (ty->prefix[i] || ty->inferred[i] ||
			    typer_part(ty, (uint32_t)i, &po) != TY_NONE)
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
	uint8_t *from_kind;	/* per chunk: typer.from_kind */
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
	switch (mi->from_kind[chunk]) {
	case TYPED_FROM_VTABLE:
		*ret_root = "(vtable)";
		return 0;
	case TYPED_FROM_SHAPE:
		*ret_root = "(shape)";
		return 0;
	case TYPED_FROM_ROOT:
		if (from >= mi->nr_roots)
			return -1;
		*ret_root = mi->roots[from];
		return 0;
	default:
		break;
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
	mi->from_kind = ty->from_kind;
	ty->from_kind = NULL;
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

	uint64_t po;
	uint32_t part = typer_part(ty, i, &po);

	strbuf_addf(sb, "%s%s", ty_get(&ty->tt, ty->type[i])->name, ty->array[i] ? "[]" : "");
	if (part != TY_NONE)
		strbuf_addf(sb, " (then %s at +%llu)", ty_get(&ty->tt, part)->name,
			    (unsigned long long)po);
	for (int depth = 0; depth < 16; depth++) {
		uint32_t from = ty->from[cur], member = ty->member[cur];
		const char *m = member == TY_NONE ? "" : ty->tt.strs[member];

		switch (ty->from_kind[cur]) {
		case TYPED_FROM_VTABLE:
			strbuf_addstr(sb, " <- its vtable pointer");
			return;
		case TYPED_FROM_SHAPE:
			strbuf_addstr(sb, " <- shape (inferred)");
			return;
		case TYPED_FROM_ROOT:
			strbuf_addf(sb, " <- %s%s", from < ty->nr_roots ? ty->roots[from] : "?", m);
			return;
		default:
			break;
		}
		if (from >= ty->walk->nr_chunks || ty->type[from] == TY_NONE)
			return;
		strbuf_addf(sb, " <- %s%s @0x%llx", ty_get(&ty->tt, ty->type[from])->name, m,
			    (unsigned long long)chunk_mem(&ty->walk->chunks[from]));
		cur = from;
	}
	strbuf_addstr(sb, " <- ...");
}

void typer_result(struct typer *ty, struct typing_result *r)
{
	const struct heap_walk *walk = ty->walk;

	r->conflicts = ty->conflicts;
	for (size_t k = 0; k < ty->nr_conflict_examples; k++) {
		r->conflict_examples[k] = ty->conflict_examples[k];
		ty->conflict_examples[k] = NULL;
	}
	r->nr_conflict_examples = ty->nr_conflict_examples;
	ty->nr_conflict_examples = 0;
	build_result(ty, r);
	if (ty->opts && ty->opts->explain) {
		r->explain = xcalloc(walk->nr_chunks + 1, sizeof(*r->explain));
		r->nr_explain = walk->nr_chunks;
		for (size_t i = 0; i < walk->nr_chunks; i++) {
			struct strbuf sb = STRBUF_INIT;

			if (ty->type[i] == TY_NONE)
				continue;
			explain_chunk(ty, (uint32_t)i, &sb);
			r->explain[i] = strbuf_detach(&sb, NULL);
		}
	}
	keep_members(ty, r);
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
		free(mi->from_kind);
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
