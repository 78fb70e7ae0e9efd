/*
 * heap.h - the allocator-neutral result of walking a heap.
 *
 * A walk turns a target into a list of chunks, each with its address, its
 * size and its state, plus per-arena bookkeeping. Everything above this
 * layer (typing, snapshots, census, output) sees only this model; what is
 * glibc-specific stays in heap/glibc*.
 *
 * Accounting rules (the census contract, doc/json-output.md):
 *  - size is the chunk size with its header; for an mmapped chunk it is the
 *    whole mapping (prev_size + chunksize: glibc's mp_.mmapped_mem counts
 *    it that way, malloc.c munmap_chunk()).
 *  - every byte of an arena's system memory is either in a chunk or in the
 *    arena's overhead (heap_info, a non-main arena's malloc_state,
 *    alignment, fenceposts).
 */
#ifndef HEAPGRAB_HEAP_H
#define HEAPGRAB_HEAP_H

#include "util/compiler.h"

enum chunk_state {
	CHUNK_INUSE,		/* allocated by the program (or glibc's tcache struct) */
	CHUNK_TCACHE,		/* free, cached in a thread's tcache */
	CHUNK_FASTBIN,		/* free, in an arena's fastbin */
	CHUNK_BIN,		/* free, in the unsorted, a small or a large bin */
	CHUNK_TOP,		/* an arena's top chunk (wilderness) */
	CHUNK_MMAPPED,		/* allocated with its own mmap */
	CHUNK_STATE__COUNT
};

/* Stable names used in JSON and text output: "in_use", "tcache", ... */
const char *chunk_state_name(enum chunk_state s);

#define CHUNK_NO_ARENA UINT32_MAX

struct chunk {
	taddr_t addr;		/* address of the chunk header */
	uint64_t size;		/* bytes, header included */
	uint32_t arena;		/* index into heap_walk.arenas, or CHUNK_NO_ARENA */
	uint8_t state;		/* enum chunk_state */
};

struct heap_count {
	uint64_t count;
	uint64_t bytes;
};

struct heap_arena {
	taddr_t addr;
	bool main;
	uint32_t nr_heaps;		/* heaps (non-main) or segments (main) */
	uint64_t system_bytes;		/* malloc_state.system_mem */
	uint64_t overhead;		/* system_bytes - bytes of its chunks */
	struct heap_count kinds[CHUNK_STATE__COUNT];
};

struct heap_walk {
	struct chunk *chunks;		/* in walk order; top chunks included */
	size_t nr_chunks, alloc_chunks;
	struct heap_arena *arenas;
	size_t nr_arenas;
	struct heap_count totals[CHUNK_STATE__COUNT];
	uint64_t overhead;		/* sum of the arenas' overhead */
	uint64_t system_bytes;		/* sum of the arenas' system_bytes */
};

void heap_walk_init(struct heap_walk *w);
void heap_walk_release(struct heap_walk *w);
/* Append a chunk; updates the totals and the arena's counters. */
void heap_walk_add(struct heap_walk *w, taddr_t addr, uint64_t size, uint32_t arena,
		   enum chunk_state state);
/* Append SRC's chunks and add its totals and per-arena counts (SRC has
 * at most W's arenas); as heap_walk_add() of each of them in order. */
void heap_walk_append(struct heap_walk *w, const struct heap_walk *src);

#endif /* HEAPGRAB_HEAP_H */
