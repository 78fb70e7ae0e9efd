/*
 * u64map.h - a map from nonzero 64-bit keys to 32-bit values (open
 * addressing, linear probing, power-of-two capacity, at most half full).
 *
 * Key 0 cannot be stored: it marks an empty slot.
 */
#ifndef HEAPGRAB_U64MAP_H
#define HEAPGRAB_U64MAP_H

#include "util/compiler.h"

struct u64map {
	uint64_t *keys;
	uint32_t *vals;
	size_t nr, mask;
};

#define U64MAP_INIT { NULL, NULL, 0, 0 }

bool u64map_get(const struct u64map *m, uint64_t key, uint32_t *ret_val);
/* Insert or replace. */
void u64map_put(struct u64map *m, uint64_t key, uint32_t val);
void u64map_release(struct u64map *m);

#endif /* HEAPGRAB_U64MAP_H */
