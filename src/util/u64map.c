/*
 * u64map.c - see u64map.h. The hash is the murmur3 finaliser, which
 * spreads the low-entropy keys typing uses (DIE offsets, type ids shifted
 * into the high bits) over the table.
 */
#include "config.h"
#include "util/u64map.h"
#include "util/xalloc.h"

#include <stdlib.h>

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

bool u64map_get(const struct u64map *m, uint64_t key, uint32_t *ret_val)
{
	if (!m->keys)
		return false;
	for (size_t i = mix64(key) & m->mask;; i = (i + 1) & m->mask) {
		if (m->keys[i] == key) {
			*ret_val = m->vals[i];
			return true;
		}
		if (!m->keys[i])
			return false;
	}
}

static void grow(struct u64map *m)
{
	struct u64map n = U64MAP_INIT;
	size_t cap = m->keys ? 2 * (m->mask + 1) : 256;

	n.keys = xcalloc(cap, sizeof(*n.keys));
	n.vals = xcalloc(cap, sizeof(*n.vals));
	n.mask = cap - 1;
	for (size_t i = 0; m->keys && i <= m->mask; i++)
		if (m->keys[i])
			u64map_put(&n, m->keys[i], m->vals[i]);
	free(m->keys);
	free(m->vals);
	*m = n;
}

void u64map_put(struct u64map *m, uint64_t key, uint32_t val)
{
	if (!m->keys || 2 * (m->nr + 1) > m->mask + 1)
		grow(m);
	for (size_t i = mix64(key) & m->mask;; i = (i + 1) & m->mask) {
		if (m->keys[i] == key) {
			m->vals[i] = val;
			return;
		}
		if (!m->keys[i]) {
			m->keys[i] = key;
			m->vals[i] = val;
			m->nr++;
			return;
		}
	}
}

void u64map_release(struct u64map *m)
{
	free(m->keys);
	free(m->vals);
	m->keys = NULL;
	m->vals = NULL;
	m->nr = m->mask = 0;
}
