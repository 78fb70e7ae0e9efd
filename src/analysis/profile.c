/*
 * profile.c - build a weighted-stack profile from one snapshot or from two
 * (a diff); see profile.h for the model.
 *
 * The build is one pass over the chunks. Each chunk's stack is turned into
 * string ids and looked up in a hash table keyed by the id sequence; the
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
#include "util/xalloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Open-addressing table of uint32 values (+1; 0 = empty); the caller
 * compares keys through its own arrays. */
struct table {
	uint32_t *slot;
	size_t mask;
	size_t used;
};

struct builder {
	struct profile *p;
	const struct profile_opts *opts;
	size_t alloc_strings, alloc_pool, alloc_samples;
	struct table by_content;	/* string id by content */
	struct table by_addr;		/* string id by address */
	const void **addr_keys;		/* by_addr: slot -> address */
	struct table by_size;		/* size frame id by chunk size */
	uint64_t *size_keys;		/* by_size: slot -> size + 1 */
	struct table by_stack;		/* sample index by stack */
	uint32_t untyped;		/* id of PROFILE_UNTYPED */
	uint32_t *stack;
	size_t alloc_stack;
};

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return mix(h);
}

static uint64_t hash_stack(const uint32_t *v, size_t n)
{
	uint64_t h = n;

	for (size_t i = 0; i < n; i++)
		h = mix(h ^ v[i]) + i;
	return h;
}

static void table_init(struct table *t)
{
	t->mask = 255;
	t->used = 0;
	t->slot = xcalloc(t->mask + 1, sizeof(*t->slot));
}

static bool table_full(const struct table *t)
{
	return (t->used + 1) * 2 > t->mask + 1;
}

/* Slot for a new key with hash H (the table has room). */
static size_t table_free_slot(const struct table *t, uint64_t h)
{
	size_t i;

	for (i = h & t->mask; t->slot[i]; i = (i + 1) & t->mask)
		;
	return i;
}

static uint32_t add_string(struct builder *b, const char *s)
{
	struct profile *p = b->p;

	if (p->nr_strings >= UINT32_MAX - 1)
		BUG("profile: too many frame strings");
	ALLOC_GROW(p->strings, p->nr_strings + 1, b->alloc_strings);
	p->strings[p->nr_strings] = xstrdup(s);
	return (uint32_t)p->nr_strings++;
}

static void grow_content(struct builder *b)
{
	struct table n = { .mask = b->by_content.mask * 2 + 1 };

	n.slot = xcalloc(n.mask + 1, sizeof(*n.slot));
	for (size_t i = 0; i <= b->by_content.mask; i++) {
		uint32_t v = b->by_content.slot[i];

		if (v)
			n.slot[table_free_slot(&n, hash_str(b->p->strings[v - 1]))] = v;
	}
	n.used = b->by_content.used;
	free(b->by_content.slot);
	b->by_content = n;
}

static uint32_t intern(struct builder *b, const char *s)
{
	uint64_t h = hash_str(s);
	size_t i;

	if (table_full(&b->by_content))
		grow_content(b);
	for (i = h & b->by_content.mask; b->by_content.slot[i];
	     i = (i + 1) & b->by_content.mask) {
		uint32_t v = b->by_content.slot[i] - 1;

		if (!strcmp(b->p->strings[v], s))
			return v;
	}
	b->by_content.slot[i] = add_string(b, s) + 1;
	b->by_content.used++;
	return b->by_content.slot[i] - 1;
}

static uint64_t hash_addr(const void *a)
{
	return mix((uint64_t)(uintptr_t)a);
}

static void grow_addr(struct builder *b)
{
	struct table n = { .mask = b->by_addr.mask * 2 + 1 };
	const void **keys = xcalloc(n.mask + 1, sizeof(*keys));

	n.slot = xcalloc(n.mask + 1, sizeof(*n.slot));
	for (size_t i = 0; i <= b->by_addr.mask; i++) {
		if (b->by_addr.slot[i]) {
			size_t j = table_free_slot(&n, hash_addr(b->addr_keys[i]));

			n.slot[j] = b->by_addr.slot[i];
			keys[j] = b->addr_keys[i];
		}
	}
	n.used = b->by_addr.used;
	free(b->by_addr.slot);
	free(b->addr_keys);
	b->by_addr = n;
	b->addr_keys = keys;
}

/* S must stay unchanged at its address for the whole build (profile.h). */
static uint32_t intern_addr(struct builder *b, const char *s)
{
	size_t i;

	if (table_full(&b->by_addr))
		grow_addr(b);
	for (i = hash_addr(s) & b->by_addr.mask; b->by_addr.slot[i];
	     i = (i + 1) & b->by_addr.mask)
		if (b->addr_keys[i] == s)
			return b->by_addr.slot[i] - 1;
	b->addr_keys[i] = s;
	b->by_addr.slot[i] = intern(b, s) + 1;
	b->by_addr.used++;
	return b->by_addr.slot[i] - 1;
}

static void grow_size(struct builder *b)
{
	struct table n = { .mask = b->by_size.mask * 2 + 1 };
	uint64_t *keys = xcalloc(n.mask + 1, sizeof(*keys));

	n.slot = xcalloc(n.mask + 1, sizeof(*n.slot));
	for (size_t i = 0; i <= b->by_size.mask; i++) {
		if (b->by_size.slot[i]) {
			size_t j = table_free_slot(&n, mix(b->size_keys[i]));

			n.slot[j] = b->by_size.slot[i];
			keys[j] = b->size_keys[i];
		}
	}
	n.used = b->by_size.used;
	free(b->by_size.slot);
	free(b->size_keys);
	b->by_size = n;
	b->size_keys = keys;
}

static uint32_t intern_size(struct builder *b, uint64_t size)
{
	char name[64];
	size_t i;

	if (table_full(&b->by_size))
		grow_size(b);
	for (i = mix(size + 1) & b->by_size.mask; b->by_size.slot[i];
	     i = (i + 1) & b->by_size.mask)
		if (b->size_keys[i] == size + 1)
			return b->by_size.slot[i] - 1;
	snprintf(name, sizeof(name), "[%" PRIu64 "-byte chunks]", size);
	b->size_keys[i] = size + 1;
	b->by_size.slot[i] = intern(b, name) + 1;
	b->by_size.used++;
	return b->by_size.slot[i] - 1;
}

static bool same_stack(const struct profile *p, const struct profile_sample *s,
		       const uint32_t *v, size_t n)
{
	return s->nr_frames == n && !memcmp(&p->pool[s->first], v, n * sizeof(*v));
}

static void grow_stack_table(struct builder *b)
{
	struct profile *p = b->p;
	struct table n = { .mask = b->by_stack.mask * 2 + 1 };

	n.slot = xcalloc(n.mask + 1, sizeof(*n.slot));
	for (size_t i = 0; i <= b->by_stack.mask; i++) {
		uint32_t v = b->by_stack.slot[i];

		if (v) {
			const struct profile_sample *s = &p->samples[v - 1];

			n.slot[table_free_slot(&n, hash_stack(&p->pool[s->first],
							      s->nr_frames))] = v;
		}
	}
	n.used = b->by_stack.used;
	free(b->by_stack.slot);
	b->by_stack = n;
}

static struct profile_sample *find_sample(struct builder *b, size_t n, uint32_t type)
{
	struct profile *p = b->p;
	struct profile_sample *s;
	size_t i;

	if (table_full(&b->by_stack))
		grow_stack_table(b);
	for (i = hash_stack(b->stack, n) & b->by_stack.mask; b->by_stack.slot[i];
	     i = (i + 1) & b->by_stack.mask) {
		s = &p->samples[b->by_stack.slot[i] - 1];
		if (same_stack(p, s, b->stack, n))
			return s;
	}
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
	b->by_stack.slot[i] = (uint32_t)++p->nr_samples;
	b->by_stack.used++;
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
	table_init(&b->by_content);
	table_init(&b->by_addr);
	b->addr_keys = xcalloc(b->by_addr.mask + 1, sizeof(*b->addr_keys));
	table_init(&b->by_size);
	b->size_keys = xcalloc(b->by_size.mask + 1, sizeof(*b->size_keys));
	table_init(&b->by_stack);
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

	free(b->by_content.slot);
	free(b->by_addr.slot);
	free(b->addr_keys);
	free(b->by_size.slot);
	free(b->size_keys);
	free(b->by_stack.slot);
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
