/*
 * hashmap.c - see hashmap.h.
 *
 * Hashes (hashmap.h): integers through murmur3's 64-bit finaliser
 * (fmix64), which spreads the low-entropy keys heapgrab uses (DIE offsets,
 * sizes, type ids shifted into high bits, addresses) over the low bits the
 * table indexes by; strings and byte strings through FNV-1a (byte strings
 * a word at a time), then the same finaliser. fmix64 is a bijection that
 * maps only 0 to 0; the one key whose hash would be HASHMAP_EMPTY hashes
 * to HASHMAP_ZERO_HASH instead.
 *
 * Probing is linear from hash & mask. The table stays at most half full,
 * so a probe sequence ends at an empty slot. Deletion shifts back the
 * entries that follow in the same cluster and could not sit in the freed
 * slot's place otherwise (Knuth's algorithm R), so there are no
 * tombstones and lookups never slow down with churn.
 */
#include "config.h"
#include "util/hashmap.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

#define INITIAL_SLOTS 16

static uint64_t fmix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static uint64_t nonzero(uint64_t h)
{
	return h == HASHMAP_EMPTY ? HASHMAP_ZERO_HASH : h;
}

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

uint64_t hashmap_hash_str(const char *s)
{
	uint64_t h = FNV_OFFSET;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * FNV_PRIME;
	return nonzero(fmix64(h));
}

uint64_t hashmap_hash_bytes(const void *p, size_t len)
{
	const unsigned char *b = p;
	uint64_t h = FNV_OFFSET ^ len, w;
	size_t i = 0;

	/* eight bytes at a time (a stack of frame ids is a few words) */
	for (; i + 8 <= len; i += 8) {
		memcpy(&w, b + i, 8);
		h = fmix64(h ^ w) * FNV_PRIME;
	}
	for (; i < len; i++)
		h = (h ^ b[i]) * FNV_PRIME;
	return nonzero(fmix64(h));
}

uint64_t hashmap_hash_mix(uint64_t h, uint64_t x)
{
	return nonzero(fmix64(h ^ fmix64(x)));
}

void hashmap_init(struct hashmap *m, enum hashmap_keys keys)
{
	memset(m, 0, sizeof(*m));
	m->keys = keys;
}

void hashmap_init_owned(struct hashmap *m)
{
	hashmap_init(m, HASHMAP_STR);
	m->owns_keys = true;
}

void hashmap_release(struct hashmap *m)
{
	if (m->owns_keys)
		HASHMAP_FOR_EACH(m, s)
			free((char *)(uintptr_t)s->key);
	free(m->slots);
	m->slots = NULL;
	m->mask = m->nr = 0;
}

static void grow(struct hashmap *m)
{
	size_t cap = m->slots ? 2 * (m->mask + 1) : INITIAL_SLOTS;
	struct hashmap_slot *old = m->slots;
	size_t old_cap = m->slots ? m->mask + 1 : 0;

	m->slots = xcalloc(cap, sizeof(*m->slots));
	m->mask = cap - 1;
	for (size_t i = 0; i < old_cap; i++) {
		size_t j;

		if (old[i].hash == HASHMAP_EMPTY)
			continue;
		for (j = old[i].hash & m->mask; m->slots[j].hash != HASHMAP_EMPTY;
		     j = (j + 1) & m->mask)
			;
		m->slots[j] = old[i];
	}
	free(old);
}

static bool key_equal(const struct hashmap *m, const struct hashmap_slot *s, uint64_t key)
{
	if (m->keys == HASHMAP_STR)
		return !strcmp((const char *)(uintptr_t)s->key, (const char *)(uintptr_t)key);
	return s->key == key;
}

/* The slot of KEY (hash H), or of the empty slot where it would go. */
static struct hashmap_slot *probe(const struct hashmap *m, uint64_t h, uint64_t key)
{
	size_t i;

	for (i = h & m->mask; m->slots[i].hash != HASHMAP_EMPTY; i = (i + 1) & m->mask)
		if (m->slots[i].hash == h && key_equal(m, &m->slots[i], key))
			break;
	return &m->slots[i];
}

static uint64_t *find(const struct hashmap *m, uint64_t h, uint64_t key)
{
	struct hashmap_slot *s;

	if (!m->slots)
		return NULL;
	s = probe(m, h, key);
	return s->hash == HASHMAP_EMPTY ? NULL : &s->value;
}

static uint64_t *add(struct hashmap *m, uint64_t h, uint64_t key, uint64_t value,
		     bool replace, bool *ret_added)
{
	struct hashmap_slot *s;

	if (!m->slots || 2 * (m->nr + 1) > m->mask + 1)
		grow(m);
	s = probe(m, h, key);
	if (s->hash != HASHMAP_EMPTY) {
		if (replace)
			s->value = value;
		if (ret_added)
			*ret_added = false;
		return &s->value;
	}
	s->hash = h;
	s->key = m->owns_keys ? (uint64_t)(uintptr_t)xstrdup((const char *)(uintptr_t)key) : key;
	s->value = value;
	m->nr++;
	if (ret_added)
		*ret_added = true;
	return &s->value;
}

/* Empty slot S, shifting back the rest of its cluster. */
static void remove_slot(struct hashmap *m, struct hashmap_slot *s)
{
	size_t i = (size_t)(s - m->slots), j = i;

	if (m->owns_keys)
		free((char *)(uintptr_t)s->key);
	for (;;) {
		size_t home;

		j = (j + 1) & m->mask;
		if (m->slots[j].hash == HASHMAP_EMPTY)
			break;
		home = m->slots[j].hash & m->mask;
		/* can the entry at J move to I? only if its home is not in
		 * the cyclic interval (I, J] */
		if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		m->slots[i] = m->slots[j];
		i = j;
	}
	memset(&m->slots[i], 0, sizeof(m->slots[i]));
	m->nr--;
}

static bool del(struct hashmap *m, uint64_t h, uint64_t key)
{
	struct hashmap_slot *s;

	if (!m->slots)
		return false;
	s = probe(m, h, key);
	if (s->hash == HASHMAP_EMPTY)
		return false;
	remove_slot(m, s);
	return true;
}

void hashmap_put_u64(struct hashmap *m, uint64_t key, uint64_t value)
{
	(void)add(m, hashmap_hash_u64(key), key, value, true, NULL);
}

uint64_t *hashmap_add_u64(struct hashmap *m, uint64_t key, uint64_t value, bool *ret_added)
{
	return add(m, hashmap_hash_u64(key), key, value, false, ret_added);
}

bool hashmap_del_u64(struct hashmap *m, uint64_t key)
{
	return del(m, hashmap_hash_u64(key), key);
}

uint64_t *hashmap_find_str(const struct hashmap *m, const char *key)
{
	return find(m, hashmap_hash_str(key), (uint64_t)(uintptr_t)key);
}

void hashmap_put_str(struct hashmap *m, const char *key, uint64_t value)
{
	(void)add(m, hashmap_hash_str(key), (uint64_t)(uintptr_t)key, value, true, NULL);
}

uint64_t *hashmap_add_str(struct hashmap *m, const char *key, uint64_t value, bool *ret_added)
{
	return add(m, hashmap_hash_str(key), (uint64_t)(uintptr_t)key, value, false, ret_added);
}

bool hashmap_del_str(struct hashmap *m, const char *key)
{
	return del(m, hashmap_hash_str(key), (uint64_t)(uintptr_t)key);
}

uint64_t *hashmap_find_hashed(const struct hashmap *m, uint64_t h,
			      bool (*eq)(void *ctx, uint64_t value), void *ctx)
{
	if (!m->slots)
		return NULL;
	for (size_t i = h & m->mask; m->slots[i].hash != HASHMAP_EMPTY; i = (i + 1) & m->mask)
		if (m->slots[i].hash == h && eq(ctx, m->slots[i].value))
			return &m->slots[i].value;
	return NULL;
}

uint64_t *hashmap_insert_hashed(struct hashmap *m, uint64_t h, uint64_t value)
{
	size_t i;

	if (!m->slots || 2 * (m->nr + 1) > m->mask + 1)
		grow(m);
	for (i = h & m->mask; m->slots[i].hash != HASHMAP_EMPTY; i = (i + 1) & m->mask)
		;
	m->slots[i].hash = h;
	m->slots[i].key = 0;
	m->slots[i].value = value;
	m->nr++;
	return &m->slots[i].value;
}
