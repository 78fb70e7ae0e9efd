/*
 * addrset.c - open-addressing set of target addresses; see addrset.h.
 * The load factor stays below 1/2 so probes stay short.
 */
#include "config.h"
#include "util/addrset.h"
#include "util/xalloc.h"

#include <stdlib.h>

static size_t slot_of(taddr_t a, size_t mask)
{
	/* Chunk addresses are 16-aligned: mix the high bits down. */
	uint64_t h = a * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 20) & mask;
}

static void grow(struct addrset *s)
{
	size_t cap = s->mask ? (s->mask + 1) * 2 : 64;
	taddr_t *old = s->slots;
	size_t oldcap = s->mask ? s->mask + 1 : 0;

	s->slots = xcalloc(cap, sizeof(*s->slots));
	s->mask = cap - 1;
	s->nr = 0;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i])
			addrset_add(s, old[i]);
	free(old);
}

bool addrset_add(struct addrset *s, taddr_t addr)
{
	size_t i;

	if (!addr)
		return false;
	if ((s->nr + 1) * 2 > (s->mask ? s->mask + 1 : 0))
		grow(s);
	for (i = slot_of(addr, s->mask);; i = (i + 1) & s->mask) {
		if (s->slots[i] == addr)
			return false;
		if (!s->slots[i]) {
			s->slots[i] = addr;
			s->nr++;
			return true;
		}
	}
}

bool addrset_has(const struct addrset *s, taddr_t addr)
{
	size_t i;

	if (!s->mask || !addr)
		return false;
	for (i = slot_of(addr, s->mask);; i = (i + 1) & s->mask) {
		if (s->slots[i] == addr)
			return true;
		if (!s->slots[i])
			return false;
	}
}

void addrset_release(struct addrset *s)
{
	free(s->slots);
	s->slots = NULL;
	s->nr = 0;
	s->mask = 0;
}
