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
 *
 * Chunk geometry lives here and nowhere else (glibc malloc.c "malloc_chunk
 * details", x86-64; doc/glibc-malloc.md §1 and §6). Every layer that asks
 * where a chunk's bytes are (typing, the heap graph, the profiles) asks
 * these functions:
 *
 *      arena chunk                       mmapped chunk (memalign'd)
 *                                  map ->+---------------------------+
 *                                        | padding: prev_size bytes  |
 *    chunk ->+---------------+   chunk ->+---------------------------+
 *            | prev_size     |           | prev_size = padding       |
 *            | size    |A|M|P|           | size            |A|M|P|   |
 *      mem ->+---------------+     mem ->+---------------------------+
 *            | user data     |           | user data                 |
 *            |               |           |                           |
 * chunk_end->+- - - - - - - -+ chunk_end +---------------------------+
 *            | next chunk's prev_size:     (the mapping's end)
 *            | 8 more usable bytes
 *            +---------------+
 *
 *   chunk_mem()     what malloc returned: chunk + 16 (chunk2mem);
 *   chunk_end()     the end of the chunk's own bytes: chunk + size for an
 *                   arena chunk; for an mmapped chunk the end of its
 *                   mapping, chunk + size - padding, because the walk's
 *                   size covers the padding (the census counts the whole
 *                   mapping, as mp_.mmapped_mem does);
 *   chunk_usable()  what malloc_usable_size() returns: chunk_end - mem,
 *                   plus 8 for an arena chunk (the next chunk's prev_size
 *                   field is the in-use chunk's last word, malloc.c
 *                   musable);
 *   chunk_size_for_request()  the chunk size malloc(N) gives (request2size).
 * The padding of an mmapped chunk is not in struct chunk: it is the
 * chunk's prev_size, read from the memory image (chunk_mmap_padding()).
 */
#ifndef HEAPGRAB_HEAP_H
#define HEAPGRAB_HEAP_H

#include "util/compiler.h"

struct target;

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

/*
 * One chunk in 16 bytes: there is one per chunk of the heap, millions of
 * them, and the table is most of what heapgrab holds besides the heap
 * (16 instead of 24 bytes per chunk: a third less). A size needs 48 bits
 * at most (user space is 47 bits wide); an arena index 13 (glibc makes
 * at most 8 per CPU, the walk takes at most 4096). The only size that
 * can be wider is a corrupt top chunk's: the chunk keeps CHUNK_SIZE_MAX,
 * the totals keep the size read (heap_walk_add()).
 */
#define CHUNK_NO_ARENA		0x1fffu
#define CHUNK_SIZE_MAX		((1ULL << 48) - 1)

struct chunk {
	taddr_t addr;			/* address of the chunk header */
	uint64_t size : 48;		/* bytes, header included */
	uint64_t arena : 13;		/* index into heap_walk.arenas, or CHUNK_NO_ARENA */
	uint64_t state : 3;		/* enum chunk_state */
};
_Static_assert(sizeof(struct chunk) == 16, "struct chunk is 16 bytes");
_Static_assert(CHUNK_STATE__COUNT <= 8, "a state fits in 3 bits");

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

/*
 * The memory a walk found the allocator using, for the residency
 * accounting (analysis/rss.c) and the trim model (heap/glibc-trim.c):
 *   HEAP_RANGE_ARENA  memory of arena ARENA: a main-arena segment (the
 *                     first from sbrk_base), or a non-main heap from its
 *                     heap_info to heap_info.size; every chunk of the
 *                     arena lies in one, the rest is its overhead
 *   HEAP_RANGE_SLACK  a non-main heap's mapped, writable bytes past
 *                     heap_info.size (shrink_heap madvised them away;
 *                     not in system_mem)
 *   HEAP_RANGE_MMAPPED the whole mapping of an mmapped chunk (for a
 *                     memalign'd one it starts before the chunk)
 * Sorted by start address; ranges do not overlap.
 */
enum heap_range_kind { HEAP_RANGE_ARENA, HEAP_RANGE_SLACK, HEAP_RANGE_MMAPPED };

struct heap_range {
	taddr_t start, end;
	uint32_t arena;			/* CHUNK_NO_ARENA for HEAP_RANGE_MMAPPED */
	uint8_t kind;			/* enum heap_range_kind */
};

struct heap_walk {
	struct chunk *chunks;		/* in walk order; top chunks included */
	size_t nr_chunks, alloc_chunks;
	struct heap_arena *arenas;
	size_t nr_arenas;
	struct heap_count totals[CHUNK_STATE__COUNT];
	uint64_t overhead;		/* sum of the arenas' overhead */
	uint64_t system_bytes;		/* sum of the arenas' system_bytes */
	/* the allocator's memory (see struct heap_range); not stored in the
	 * CHUNKS of a snapshot file: empty for a file without residency */
	struct heap_range *ranges;
	size_t nr_ranges, alloc_ranges;
};

/* x86-64 glibc (malloc.c): chunk2mem offset (2 * SIZE_SZ), MINSIZE,
 * MALLOC_ALIGNMENT, and the usable word an arena chunk borrows from the
 * next chunk's header (SIZE_SZ). */
#define CHUNK_MEM_OFFSET	16
#define CHUNK_MIN_SIZE		32
#define CHUNK_ALIGN		16
#define CHUNK_NEXT_PREV_SIZE	8

static inline taddr_t chunk_mem(const struct chunk *c)
{
	return c->addr + CHUNK_MEM_OFFSET;
}

/*
 * The memalign padding before mmapped chunk C (its prev_size, read from
 * IMAGE), or 0: for arena chunks, when the word cannot be read, or when
 * it is not below the walk's size (hostile input: then the chunk is taken
 * to start its mapping). Arena chunks never read the image.
 */
uint64_t chunk_read_mmap_padding(const struct chunk *c, struct target *image);

static inline uint64_t chunk_mmap_padding(const struct chunk *c, struct target *image)
{
	return c->state == CHUNK_MMAPPED ? chunk_read_mmap_padding(c, image) : 0;
}

/* The end of C's own bytes (see the top); PAD from chunk_mmap_padding(). */
static inline taddr_t chunk_end(const struct chunk *c, uint64_t pad)
{
	if (c->state == CHUNK_MMAPPED && pad < c->size)
		return c->addr + (c->size - pad);
	return c->addr + c->size;
}

/* malloc_usable_size() of C: bytes from chunk_mem(C) on (0 for a chunk
 * too small to have any, which only hostile input gives). */
static inline uint64_t chunk_usable(const struct chunk *c, uint64_t pad)
{
	taddr_t end = chunk_end(c, pad), mem = chunk_mem(c);

	if (c->state != CHUNK_MMAPPED)
		end += CHUNK_NEXT_PREV_SIZE;
	return end > mem ? end - mem : 0;
}

/* The chunk size malloc(N) returns (malloc.c request2size: N plus the
 * size field, rounded up to CHUNK_ALIGN, at least CHUNK_MIN_SIZE). */
static inline uint64_t chunk_size_for_request(uint64_t n)
{
	uint64_t c = (n + 8 + CHUNK_ALIGN - 1) & ~(uint64_t)(CHUNK_ALIGN - 1);

	return c < CHUNK_MIN_SIZE ? CHUNK_MIN_SIZE : c;
}

void heap_walk_init(struct heap_walk *w);
void heap_walk_release(struct heap_walk *w);
/* Append a chunk; updates the totals and the arena's counters. */
void heap_walk_add(struct heap_walk *w, taddr_t addr, uint64_t size, uint32_t arena,
		   enum chunk_state state);
/* Append SRC's chunks and add its totals and per-arena counts (SRC has
 * at most W's arenas); as heap_walk_add() of each of them in order. */
void heap_walk_append(struct heap_walk *w, const struct heap_walk *src);
/* Record a range of the allocator's memory (empty ranges are dropped). */
void heap_walk_add_range(struct heap_walk *w, taddr_t start, taddr_t end, uint32_t arena,
			 enum heap_range_kind kind);

#endif /* HEAPGRAB_HEAP_H */
