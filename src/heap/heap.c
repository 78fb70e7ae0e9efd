/*
 * heap.c - the allocator-neutral walk result; see heap.h.
 */
#include "config.h"
#include "heap/heap.h"
#include "target/target.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

static const char *const state_names[CHUNK_STATE__COUNT] = {
	[CHUNK_INUSE] = "in_use",
	[CHUNK_TCACHE] = "tcache",
	[CHUNK_FASTBIN] = "fastbin",
	[CHUNK_BIN] = "bin",
	[CHUNK_TOP] = "top",
	[CHUNK_MMAPPED] = "mmapped",
};

const char *chunk_state_name(enum chunk_state s)
{
	return (unsigned)s < CHUNK_STATE__COUNT ? state_names[s] : "unknown";
}

void heap_walk_init(struct heap_walk *w)
{
	memset(w, 0, sizeof(*w));
}

void heap_walk_release(struct heap_walk *w)
{
	free(w->chunks);
	free(w->arenas);
	free(w->ranges);
	heap_walk_init(w);
}

void heap_walk_append(struct heap_walk *w, const struct heap_walk *src)
{
	size_t na = MIN(w->nr_arenas, src->nr_arenas);

	ALLOC_GROW(w->chunks, st_add(w->nr_chunks, src->nr_chunks), w->alloc_chunks);
	if (src->nr_chunks)
		memcpy(w->chunks + w->nr_chunks, src->chunks, src->nr_chunks * sizeof(*w->chunks));
	w->nr_chunks += src->nr_chunks;
	for (int s = 0; s < CHUNK_STATE__COUNT; s++) {
		w->totals[s].count += src->totals[s].count;
		w->totals[s].bytes += src->totals[s].bytes;
		for (size_t i = 0; i < na; i++) {
			w->arenas[i].kinds[s].count += src->arenas[i].kinds[s].count;
			w->arenas[i].kinds[s].bytes += src->arenas[i].kinds[s].bytes;
		}
	}
}

void heap_walk_add(struct heap_walk *w, taddr_t addr, uint64_t size, uint32_t arena,
		   enum chunk_state state)
{
	struct chunk *c;

	ALLOC_GROW(w->chunks, w->nr_chunks + 1, w->alloc_chunks);
	c = &w->chunks[w->nr_chunks++];
	c->addr = addr;
	c->size = MIN(size, CHUNK_SIZE_MAX);
	c->arena = arena < CHUNK_NO_ARENA ? arena : CHUNK_NO_ARENA;
	c->state = (unsigned)state;
	w->totals[state].count++;
	w->totals[state].bytes += size;
	if (arena != CHUNK_NO_ARENA && arena < w->nr_arenas) {
		w->arenas[arena].kinds[state].count++;
		w->arenas[arena].kinds[state].bytes += size;
	}
}

uint64_t chunk_read_mmap_padding(const struct chunk *c, struct target *image)
{
	uint64_t pad;

	if (c->state != CHUNK_MMAPPED || !image || target_read_u64(image, c->addr, &pad) != 0)
		return 0;
	return pad < c->size ? pad : 0;
}

void heap_walk_add_range(struct heap_walk *w, taddr_t start, taddr_t end, uint32_t arena,
			 enum heap_range_kind kind)
{
	struct heap_range *r;

	if (end <= start)
		return;
	ALLOC_GROW(w->ranges, w->nr_ranges + 1, w->alloc_ranges);
	r = &w->ranges[w->nr_ranges++];
	r->start = start;
	r->end = end;
	r->arena = arena;
	r->kind = (uint8_t)kind;
}
