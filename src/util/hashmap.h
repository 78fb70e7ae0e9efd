/*
 * hashmap.h - one hash map for the whole program: integer keys, string
 * keys, and keys the caller keeps itself.
 *
 * The model is redis's dict.h (one readable map instead of one per
 * module), with open addressing instead of chaining: a power-of-two array
 * of slots, linear probing, at most half full (it doubles before the next
 * insert would pass that), deletion by backward shift so that no
 * tombstones pile up. Every slot keeps its key's 64-bit hash: a probe
 * compares hashes before keys, and growing never hashes again.
 *
 * Three kinds of keys, fixed when the map is set up:
 *
 *   HASHMAP_U64   a uint64_t (any value, 0 included);
 *   HASHMAP_STR   a NUL-terminated string: borrowed (the caller keeps it
 *                 alive and unchanged while it is in the map) or, with
 *                 hashmap_init_owned(), copied in and freed by the map;
 *   HASHMAP_HASHED  the caller's own keys (a stack of frame ids in a pool,
 *                 a row of another table): the caller hashes them, and a
 *                 lookup asks the caller's EQ whether the entry holding
 *                 VALUE is the key (hashmap_find_hashed).
 *
 * Values are uint64_t: an index, a count, a pointer cast to uintptr_t.
 *
 * Ownership: hashmap_release() frees the slots (and owned string keys).
 * Pointers to values (hashmap_find_*) stay valid until the next insert.
 * Iteration (HASHMAP_FOR_EACH) visits entries in slot order, which depends
 * on the hashes: sort before anything reaches the user.
 */
#ifndef HEAPGRAB_UTIL_HASHMAP_H
#define HEAPGRAB_UTIL_HASHMAP_H

#include "util/compiler.h"

enum hashmap_keys {
	HASHMAP_U64,
	HASHMAP_STR,
	HASHMAP_HASHED,
};

#define HASHMAP_EMPTY 0		/* no key hashes to 0 (hashmap_hash_*) */
#define HASHMAP_ZERO_HASH 0x9e3779b97f4a7c15ULL	/* what would hash to 0 */

struct hashmap_slot {
	uint64_t hash;		/* HASHMAP_EMPTY: a free slot */
	uint64_t key;		/* the integer, or the string's address */
	uint64_t value;
};

struct hashmap {
	struct hashmap_slot *slots;	/* NULL until the first insert */
	size_t mask;			/* slots - 1 */
	size_t nr;			/* entries */
	enum hashmap_keys keys;
	bool owns_keys;			/* HASHMAP_STR: keys copied and freed */
};

/* The hash functions the map uses; callers of HASHMAP_HASHED use them too
 * (hashmap_hash_mix to combine). Never HASHMAP_EMPTY. Integers go through
 * murmur3's 64-bit finaliser (a bijection: only 0 maps to 0, and 0's hash
 * is replaced); strings through FNV-1a, byte strings eight bytes at a time,
 * then the finaliser. */
static inline uint64_t hashmap_hash_u64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x == HASHMAP_EMPTY ? HASHMAP_ZERO_HASH : x;
}
uint64_t hashmap_hash_str(const char *s);
uint64_t hashmap_hash_bytes(const void *p, size_t len);
uint64_t hashmap_hash_mix(uint64_t h, uint64_t x);

void hashmap_init(struct hashmap *m, enum hashmap_keys keys);
/* HASHMAP_STR whose keys are copied in and freed by the map. */
void hashmap_init_owned(struct hashmap *m);
void hashmap_release(struct hashmap *m);

static inline size_t hashmap_size(const struct hashmap *m)
{
	return m->nr;
}

/* ---- integer keys ---- */

/* The value of KEY, or NULL. (Inline: the hot lookup of the typing memo,
 * the profile's interning and the graph.) */
static inline uint64_t *hashmap_find_u64(const struct hashmap *m, uint64_t key)
{
	uint64_t h = hashmap_hash_u64(key);

	if (!m->slots)
		return NULL;
	for (size_t i = h & m->mask; m->slots[i].hash != HASHMAP_EMPTY; i = (i + 1) & m->mask)
		if (m->slots[i].hash == h && m->slots[i].key == key)
			return &m->slots[i].value;
	return NULL;
}
/* Insert KEY with VALUE, or replace its value. */
void hashmap_put_u64(struct hashmap *m, uint64_t key, uint64_t value);
/* Insert KEY with VALUE unless present; the value slot either way, and
 * *RET_ADDED (may be NULL) says which. */
uint64_t *hashmap_add_u64(struct hashmap *m, uint64_t key, uint64_t value, bool *ret_added);
/* Remove KEY; false when it was not there. */
bool hashmap_del_u64(struct hashmap *m, uint64_t key);

/* ---- string keys ---- */

uint64_t *hashmap_find_str(const struct hashmap *m, const char *key);
void hashmap_put_str(struct hashmap *m, const char *key, uint64_t value);
uint64_t *hashmap_add_str(struct hashmap *m, const char *key, uint64_t value, bool *ret_added);
bool hashmap_del_str(struct hashmap *m, const char *key);

/* ---- the caller's keys ---- */

/* The value of the entry with hash H for which EQ(CTX, value) holds, or
 * NULL. */
uint64_t *hashmap_find_hashed(const struct hashmap *m, uint64_t h,
			      bool (*eq)(void *ctx, uint64_t value), void *ctx);
/* Insert an entry with hash H and VALUE (the caller has checked it is not
 * there). */
uint64_t *hashmap_insert_hashed(struct hashmap *m, uint64_t h, uint64_t value);

/* ---- iteration ---- */

#define HASHMAP_FOR_EACH(m, s)							\
	for (struct hashmap_slot *s = (m)->slots;				\
	     (m)->slots && s <= (m)->slots + (m)->mask; s++)			\
		if (s->hash != HASHMAP_EMPTY)

#endif /* HEAPGRAB_UTIL_HASHMAP_H */
