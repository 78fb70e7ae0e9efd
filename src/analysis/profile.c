/*
 * profile.c - build a weighted-stack profile from one snapshot or from two
 * (a diff); see profile.h for the model.
 *
 * The build is one pass over the chunks. Each chunk's stack is turned into
 * string ids and looked up in a hash map (util/hashmap.h) keyed by the id
 * sequence; the
 * sample found (or appended) gets the chunk's count and bytes. Strings are
 * interned twice over: first by address (type names live in the
 * snapshot's type table and path frames in the hook's pool, so the same
 * address comes back for millions of chunks and is hashed once), then by
 * content. Untyped chunks' size frames are interned by size.
 *
 * A 4M-chunk heap therefore costs one pointer hash, at most one size hash
 * and one stack hash per chunk; the tables stay as small as the number of
 * distinct types, sizes and stacks (thousands).
 *
 * A diff runs the same pass over OLD (into old_count/old_bytes) and NEW
 * (into count/bytes) with shared tables, so equal stacks meet in one
 * sample; then count/bytes become NEW - OLD and unchanged stacks go.
 *
 * Finally the samples are sorted (profile.h gives the order) and the
 * string table and the stack pool are rebuilt in that order, keeping only
 * what the remaining samples use: string ids and pool offsets then depend
 * only on the samples, never on the order the walk found the chunks in.
 */
#include "config.h"
#include "analysis/profile.h"
#include "snapshot/snapshot.h"
#include "util/errors.h"
#include "util/hashmap.h"
#include "util/xalloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct builder {
	struct profile *p;
	const struct profile_opts *opts;
	size_t alloc_strings, alloc_pool, alloc_samples;
	struct hashmap by_content;	/* string -> string id (keys: p->strings) */
	struct hashmap by_addr;		/* string address -> string id */
	struct hashmap by_size;		/* chunk size -> size frame's string id */
	struct hashmap by_stack;	/* stack (hashed) -> sample index */
	uint32_t untyped;		/* id of PROFILE_UNTYPED */
	uint32_t *stack;
	size_t alloc_stack;
};

static uint32_t add_string(struct builder *b, const char *s)
{
	struct profile *p = b->p;

	if (p->nr_strings >= UINT32_MAX - 1)
		BUG("profile: too many frame strings");
	ALLOC_GROW(p->strings, p->nr_strings + 1, b->alloc_strings);
	p->strings[p->nr_strings] = xstrdup(s);
	return (uint32_t)p->nr_strings++;
}

static uint32_t intern(struct builder *b, const char *s)
{
	const uint64_t *id = hashmap_find_str(&b->by_content, s);
	uint32_t v;

	if (id)
		return (uint32_t)*id;
	v = add_string(b, s);
	/* the key is the profile's own copy: it does not move */
	hashmap_put_str(&b->by_content, b->p->strings[v], v);
	return v;
}

/* S must stay unchanged at its address for the whole build (profile.h). */
static uint32_t intern_addr(struct builder *b, const char *s)
{
	const uint64_t *id = hashmap_find_u64(&b->by_addr, (uint64_t)(uintptr_t)s);
	uint32_t v;

	if (id)
		return (uint32_t)*id;
	v = intern(b, s);
	hashmap_put_u64(&b->by_addr, (uint64_t)(uintptr_t)s, v);
	return v;
}

static uint32_t intern_size(struct builder *b, uint64_t size)
{
	const uint64_t *id = hashmap_find_u64(&b->by_size, size);
	char name[64];
	uint32_t v;

	if (id)
		return (uint32_t)*id;
	snprintf(name, sizeof(name), "[%" PRIu64 "-byte chunks]", size);
	v = intern(b, name);
	hashmap_put_u64(&b->by_size, size, v);
	return v;
}

struct stack_key {
	const struct profile *p;
	const uint32_t *v;
	size_t n;
};

static bool same_stack(void *ctx, uint64_t sample)
{
	const struct stack_key *k = ctx;
	const struct profile_sample *s = &k->p->samples[sample];

	return s->nr_frames == k->n && !memcmp(&k->p->pool[s->first], k->v, k->n * sizeof(*k->v));
}

static struct profile_sample *find_sample(struct builder *b, size_t n, uint32_t type)
{
	struct profile *p = b->p;
	struct stack_key key = { .p = p, .v = b->stack, .n = n };
	uint64_t h = hashmap_hash_bytes(b->stack, n * sizeof(*b->stack));
	const uint64_t *found = hashmap_find_hashed(&b->by_stack, h, same_stack, &key);
	struct profile_sample *s;

	if (found)
		return &p->samples[*found];
	if (p->nr_samples >= UINT32_MAX - 1 || p->nr_pool + n >= UINT32_MAX)
		BUG("profile: too many stacks");
	ALLOC_GROW(p->pool, p->nr_pool + n, b->alloc_pool);
	memcpy(&p->pool[p->nr_pool], b->stack, n * sizeof(*b->stack));
	ALLOC_GROW(p->samples, p->nr_samples + 1, b->alloc_samples);
	s = &p->samples[p->nr_samples];
	memset(s, 0, sizeof(*s));
	s->first = (uint32_t)p->nr_pool;
	s->nr_frames = (uint32_t)n;
	s->type = type;
	p->nr_pool += n;
	hashmap_insert_hashed(&b->by_stack, h, p->nr_samples++);
	return s;
}

static bool is_live(const struct snapshot *s, size_t i)
{
	uint8_t st = s->walk.chunks[i].state;

	return st == CHUNK_INUSE || st == CHUNK_MMAPPED;
}

/* Add every chunk of S the options select, into OLD's or NEW's values. */
static void add_snapshot(struct builder *b, const struct snapshot *s, bool old)
{
	const struct profile_opts *o = b->opts;

	for (size_t i = 0; i < s->walk.nr_chunks; i++) {
		const char *const *frames = NULL;
		const char *type;
		struct profile_sample *smp;
		size_t n = 0, nf = 0;
		uint32_t type_id;

		if (o && o->include ? !o->include(o->include_ctx, s, i) : !is_live(s, i))
			continue;
		if (o && o->path)
			nf = o->path(o->path_ctx, s, i, &frames);
		ALLOC_GROW(b->stack, nf + 2, b->alloc_stack);
		for (size_t k = 0; k < nf; k++)
			b->stack[n++] = intern_addr(b, frames[k]);
		type = snapshot_chunk_type(s, i);
		type_id = type ? intern_addr(b, type) : b->untyped;
		b->stack[n++] = type_id;
		if (!type)
			b->stack[n++] = intern_size(b, s->walk.chunks[i].size);
		smp = find_sample(b, n, type_id);
		if (old) {
			smp->old_count++;
			smp->old_bytes += (int64_t)s->walk.chunks[i].size;
		} else {
			smp->count++;
			smp->bytes += (int64_t)s->walk.chunks[i].size;
		}
	}
}

static void builder_init(struct builder *b, struct profile *p, const struct profile_opts *o)
{
	memset(b, 0, sizeof(*b));
	memset(p, 0, sizeof(*p));
	b->p = p;
	b->opts = o;
	hashmap_init(&b->by_content, HASHMAP_STR);
	hashmap_init(&b->by_addr, HASHMAP_U64);
	hashmap_init(&b->by_size, HASHMAP_U64);
	hashmap_init(&b->by_stack, HASHMAP_HASHED);
	b->untyped = intern(b, PROFILE_UNTYPED);
}

static int cmp_stacks(const struct profile *p, const struct profile_sample *x,
		      const struct profile_sample *y)
{
	for (uint32_t i = 0; i < x->nr_frames && i < y->nr_frames; i++) {
		int c = strcmp(p->strings[p->pool[x->first + i]],
			       p->strings[p->pool[y->first + i]]);

		if (c)
			return c;
	}
	return x->nr_frames < y->nr_frames ? -1 : x->nr_frames > y->nr_frames;
}

static int cmp_samples(const void *a, const void *b, void *ctx)
{
	const struct profile_sample *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return cmp_stacks(ctx, x, y);
}

/* Sort, then renumber strings and rebuild the pool in sample order, keeping
 * only what the samples use. */
static void builder_finish(struct builder *b)
{
	struct profile *p = b->p;
	uint32_t *newid = xmalloc(st_mult(p->nr_strings + 1, sizeof(*newid)));
	uint32_t *pool = xmalloc(st_mult(p->nr_pool + 1, sizeof(*pool)));
	char **strings = xmalloc(st_mult(p->nr_strings + 1, sizeof(*strings)));
	size_t nr_strings = 0, nr_pool = 0;

	hashmap_release(&b->by_content);
	hashmap_release(&b->by_addr);
	hashmap_release(&b->by_size);
	hashmap_release(&b->by_stack);
	free(b->stack);

	if (p->nr_samples)
		qsort_r(p->samples, p->nr_samples, sizeof(*p->samples), cmp_samples, p);
	for (size_t i = 0; i < p->nr_strings; i++)
		newid[i] = UINT32_MAX;
	for (size_t i = 0; i < p->nr_samples; i++) {
		struct profile_sample *s = &p->samples[i];

		for (uint32_t k = 0; k < s->nr_frames; k++) {
			uint32_t id = p->pool[s->first + k];

			if (newid[id] == UINT32_MAX) {
				newid[id] = (uint32_t)nr_strings;
				strings[nr_strings++] = p->strings[id];
				p->strings[id] = NULL;
			}
			pool[nr_pool + k] = newid[id];
		}
		s->first = (uint32_t)nr_pool;
		s->type = newid[s->type];
		nr_pool += s->nr_frames;
		p->count += s->count;
		p->bytes += s->bytes;
		p->old_count += s->old_count;
		p->old_bytes += s->old_bytes;
	}
	for (size_t i = 0; i < p->nr_strings; i++)
		free(p->strings[i]);	/* the unused ones */
	free(p->strings);
	free(p->pool);
	free(newid);
	p->strings = strings;
	p->nr_strings = nr_strings;
	p->pool = pool;
	p->nr_pool = nr_pool;
}

void profile_from_snapshot(const struct snapshot *s, const struct profile_opts *opts,
			   struct profile *ret)
{
	struct builder b;

	builder_init(&b, ret, opts);
	add_snapshot(&b, s, false);
	builder_finish(&b);
}

void profile_from_diff(const struct snapshot *old, const struct snapshot *new_,
		       const struct profile_opts *opts, struct profile *ret)
{
	struct builder b;
	size_t n = 0;

	builder_init(&b, ret, opts);
	ret->diff = true;
	add_snapshot(&b, old, true);
	add_snapshot(&b, new_, false);
	for (size_t i = 0; i < ret->nr_samples; i++) {
		struct profile_sample *s = &ret->samples[i];

		s->count -= s->old_count;
		s->bytes -= s->old_bytes;
		if (s->count || s->bytes)
			ret->samples[n++] = *s;
	}
	ret->nr_samples = n;
	builder_finish(&b);
}

void profile_release(struct profile *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nr_strings; i++)
		free(p->strings[i]);
	free(p->strings);
	free(p->pool);
	free(p->samples);
	memset(p, 0, sizeof(*p));
}

static int cmp_type_rows(const void *a, const void *b)
{
	const struct profile_type_row *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->type, y->type);
}

size_t profile_by_type(const struct profile *p, struct profile_type_row **ret_rows)
{
	struct profile_type_row *rows = xcalloc(p->nr_strings + 1, sizeof(*rows));
	size_t n = 0;

	for (size_t i = 0; i < p->nr_samples; i++) {
		const struct profile_sample *s = &p->samples[i];
		struct profile_type_row *r = &rows[s->type];

		r->type = p->strings[s->type];
		r->count += s->count;
		r->bytes += s->bytes;
		r->old_count += s->old_count;
		r->old_bytes += s->old_bytes;
	}
	for (size_t i = 0; i < p->nr_strings; i++)
		if (rows[i].type && (rows[i].count || rows[i].bytes))
			rows[n++] = rows[i];
	if (n)
		qsort(rows, n, sizeof(*rows), cmp_type_rows);
	*ret_rows = rows;
	return n;
}
