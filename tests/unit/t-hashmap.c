/*
 * t-hashmap.c - util/hashmap against a brute-force oracle.
 *
 * Integer keys (0 and UINT64_MAX included), put against add, delete,
 * growth to 100,000 keys, string keys borrowed and owned, the caller's
 * own keys with equal hashes (one long probe chain), deletion inside a
 * cluster of keys that share their home slot (the backward shift must
 * keep every other key findable), and 300,000 random operations on a
 * small key space checked one by one against a plain array.
 */
#include "config.h"
#include "tap.h"
#include "util/hashmap.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x243f6a8885a308d3ULL;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void integers(void)
{
	struct hashmap m;
	bool added;
	uint64_t *v;

	hashmap_init(&m, HASHMAP_U64);
	ok(!hashmap_find_u64(&m, 0) && !hashmap_del_u64(&m, 0) && hashmap_size(&m) == 0,
	   "an empty map finds and deletes nothing");
	hashmap_put_u64(&m, 0, 10);
	hashmap_put_u64(&m, UINT64_MAX, 20);
	ok((v = hashmap_find_u64(&m, 0)) && *v == 10 &&
	   (v = hashmap_find_u64(&m, UINT64_MAX)) && *v == 20,
	   "keys 0 and UINT64_MAX are ordinary keys");
	hashmap_put_u64(&m, 0, 11);
	v = hashmap_add_u64(&m, UINT64_MAX, 21, &added);
	ok(*hashmap_find_u64(&m, 0) == 11 && *v == 20 && !added && hashmap_size(&m) == 2,
	   "put replaces a value, add keeps it and says so");
	v = hashmap_add_u64(&m, 5, 50, &added);
	ok(added && *v == 50 && hashmap_size(&m) == 3, "add inserts a new key");
	ok(hashmap_del_u64(&m, 0) && !hashmap_find_u64(&m, 0) && !hashmap_del_u64(&m, 0) &&
	   *hashmap_find_u64(&m, 5) == 50 && hashmap_size(&m) == 2,
	   "delete removes one key, once");
	hashmap_release(&m);
	ok(hashmap_size(&m) == 0 && !hashmap_find_u64(&m, 5), "a released map is empty");
	ok(hashmap_hash_u64(0) != HASHMAP_EMPTY && hashmap_hash_str("") != HASHMAP_EMPTY,
	   "no key hashes to the empty marker");
}

static void growth(void)
{
	struct hashmap m;
	size_t bad = 0, seen = 0;
	const size_t n = 100000;

	hashmap_init(&m, HASHMAP_U64);
	for (uint64_t k = 0; k < n; k++)
		hashmap_put_u64(&m, k * 4096, k);	/* page addresses: low bits 0 */
	for (uint64_t k = 0; k < n; k++) {
		uint64_t *v = hashmap_find_u64(&m, k * 4096);

		bad += !v || *v != k;
	}
	bad += hashmap_find_u64(&m, 4096 * n + 1) != NULL;
	ok(!bad && hashmap_size(&m) == n, "100,000 page-aligned keys: all found after growing");
	ok((m.mask + 1) >= 2 * n, "the table stays at most half full (%zu slots)", m.mask + 1);
	HASHMAP_FOR_EACH(&m, s)
		seen++;
	is_u64(seen, n, "iteration visits every entry once");
	for (uint64_t k = 0; k < n; k += 2)
		bad += !hashmap_del_u64(&m, k * 4096);
	for (uint64_t k = 0; k < n; k++)
		bad += (hashmap_find_u64(&m, k * 4096) != NULL) != (k & 1);
	ok(!bad && hashmap_size(&m) == n / 2, "half of them deleted, the other half found");
	hashmap_release(&m);
}

static void strings(void)
{
	struct hashmap b, o;
	char buf[32];
	bool added;
	const char *words[] = { "alpha", "beta", "gamma", "", "alpha2" };

	hashmap_init(&b, HASHMAP_STR);
	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		hashmap_put_str(&b, words[i], i);
	ok(*hashmap_find_str(&b, "gamma") == 2 && *hashmap_find_str(&b, "") == 3 &&
	   !hashmap_find_str(&b, "alph"), "borrowed string keys, the empty string included");
	(void)hashmap_add_str(&b, "beta", 99, &added);
	ok(!added && *hashmap_find_str(&b, "beta") == 1, "add keeps an existing string's value");
	ok(hashmap_del_str(&b, "alpha") && !hashmap_find_str(&b, "alpha") &&
	   *hashmap_find_str(&b, "alpha2") == 4, "delete a string key");
	hashmap_release(&b);

	hashmap_init_owned(&o);
	for (int i = 0; i < 1000; i++) {
		snprintf(buf, sizeof(buf), "key %d", i);
		hashmap_put_str(&o, buf, (uint64_t)i);
	}
	strcpy(buf, "scribbled");
	ok(hashmap_size(&o) == 1000 && *hashmap_find_str(&o, "key 999") == 999 &&
	   *hashmap_find_str(&o, "key 0") == 0, "owned keys are copies (the buffer was reused)");
	for (int i = 0; i < 1000; i += 3) {
		snprintf(buf, sizeof(buf), "key %d", i);
		(void)hashmap_del_str(&o, buf);
	}
	ok(hashmap_size(&o) == 666 && !hashmap_find_str(&o, "key 999") &&
	   hashmap_find_str(&o, "key 998"), "deleting owned keys frees them (ASan: no leak)");
	hashmap_release(&o);
}

/* The caller's keys: entries whose value is an index into KEYS. */
struct keyed {
	const uint64_t *keys;
	uint64_t want;
};

static bool same_key(void *ctx, uint64_t value)
{
	const struct keyed *k = ctx;

	return k->keys[value] == k->want;
}

static void hashed(void)
{
	struct hashmap m;
	uint64_t keys[200];
	size_t bad = 0;

	hashmap_init(&m, HASHMAP_HASHED);
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		keys[i] = rnd();
		/* every key with the same hash: one probe chain */
		(void)hashmap_insert_hashed(&m, 42, i);
	}
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		struct keyed k = { keys, keys[i] };
		uint64_t *v = hashmap_find_hashed(&m, 42, same_key, &k);

		bad += !v || *v != i;
	}
	{
		struct keyed k = { keys, 7 };

		bad += hashmap_find_hashed(&m, 42, same_key, &k) != NULL;
		bad += hashmap_find_hashed(&m, 43, same_key, &k) != NULL;
	}
	ok(!bad, "200 keys with one hash: each found by the caller's comparison");
	hashmap_release(&m);
}

/* Keys whose hashes share their low bits: one cluster in a small table. */
static void clusters(void)
{
	struct hashmap m;
	uint64_t keys[12];
	size_t n = 0, bad = 0;

	for (uint64_t k = 1; n < ARRAY_SIZE(keys); k++)
		if ((hashmap_hash_u64(k) & 31) == 5)
			keys[n++] = k;
	hashmap_init(&m, HASHMAP_U64);
	for (size_t i = 0; i < n; i++)
		hashmap_put_u64(&m, keys[i], i);
	ok(m.mask + 1 == 32, "12 keys with the same home slot in a 32-slot table");
	/* delete from the middle of the cluster, then its head */
	bad += !hashmap_del_u64(&m, keys[5]) + !hashmap_del_u64(&m, keys[0]);
	for (size_t i = 0; i < n; i++) {
		uint64_t *v = hashmap_find_u64(&m, keys[i]);

		bad += (i == 0 || i == 5) ? v != NULL : (!v || *v != i);
	}
	ok(!bad, "after deleting inside the cluster every other key is found");
	hashmap_release(&m);
}

/* Random operations on 512 keys against a plain array. */
static void oracle(void)
{
	enum { KEYS = 512, OPS = 300000 };
	uint64_t val[KEYS];
	bool in[KEYS] = { false };
	struct hashmap m;
	size_t bad = 0, nr = 0, seen = 0;

	hashmap_init(&m, HASHMAP_U64);
	for (int op = 0; op < OPS; op++) {
		uint64_t r = rnd(), k = r % KEYS, key = k << 40 | k;
		uint64_t *v;
		bool added;

		switch ((r >> 32) % 4) {
		case 0:
			hashmap_put_u64(&m, key, r);
			nr += !in[k];
			in[k] = true;
			val[k] = r;
			break;
		case 1:
			v = hashmap_add_u64(&m, key, r, &added);
			bad += added == in[k];
			if (!in[k]) {
				in[k] = true;
				val[k] = r;
				nr++;
			}
			bad += *v != val[k];
			break;
		case 2:
			bad += hashmap_del_u64(&m, key) != in[k];
			nr -= in[k];
			in[k] = false;
			break;
		default:
			v = hashmap_find_u64(&m, key);
			bad += in[k] ? !v || *v != val[k] : v != NULL;
			break;
		}
		bad += hashmap_size(&m) != nr;
	}
	HASHMAP_FOR_EACH(&m, s) {
		uint64_t k = s->key & 0xffff;

		seen++;
		bad += k >= KEYS || !in[k] || s->value != val[k];
	}
	bad += seen != nr;
	ok(!bad, "300,000 random put/add/delete/find on 512 keys agree with an array (%zu left)",
	   nr);
	hashmap_release(&m);
}

int main(void)
{
	plan(7 + 4 + 5 + 1 + 2 + 1);
	integers();
	growth();
	strings();
	hashed();
	clusters();
	oracle();
	return done();
}
