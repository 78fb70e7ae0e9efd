/*
 * addrset.h - a set of target addresses (open addressing, linear probing).
 *
 * Used for the tcache and fastbin membership sets and for cycle detection
 * in list walks. Address 0 cannot be stored (it marks an empty slot); no
 * caller needs it because chunk addresses are never 0.
 */
#ifndef HEAPGRAB_ADDRSET_H
#define HEAPGRAB_ADDRSET_H

#include "util/compiler.h"

struct addrset {
	taddr_t *slots;
	size_t nr;	/* members */
	size_t mask;	/* capacity - 1; capacity is a power of two */
};

#define ADDRSET_INIT { NULL, 0, 0 }

/* Returns true if ADDR was newly added, false if it was present already. */
bool addrset_add(struct addrset *s, taddr_t addr);
bool addrset_has(const struct addrset *s, taddr_t addr);
void addrset_release(struct addrset *s);

#endif /* HEAPGRAB_ADDRSET_H */
