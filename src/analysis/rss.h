/*
 * rss.h - where a process's resident memory is, and what malloc_trim would
 * give back: an accounting that adds up to the kernel's Rss.
 *
 * rss_build() combines a snapshot's walk (chunks, arenas, the allocator's
 * memory ranges) with its residency (snapshot.rss: pagemap bits from the
 * stop, smaps after it) and the trim model (heap/glibc-trim.h):
 *
 *   every resident byte of the process falls in exactly one of
 *     - an arena: in a chunk (in use, tcache, fastbin, bin, top) or in
 *       the arena's overhead (heap_info, malloc_state, fenceposts,
 *       alignment, a heap's madvised slack);
 *     - an mmapped chunk's mapping;
 *     - outside malloc: thread stacks, other anonymous mappings by name,
 *       file mappings, shared memory, the kernel's special mappings;
 *   and their sum is compared with smaps_rollup's Rss.
 *
 * Within an arena's free bytes: `releasable` is what malloc_trim(pad)
 * returns (the resident pages inside the trim model's ranges), `stranded`
 * the rest (resident free bytes no trim returns: tcache chunks, partial
 * pages, a non-main arena's top). The contract of every number is
 * doc/json-output.md ("rss"); the model doc/glibc-malloc.md §14.
 *
 * Unknowns stay unknown: without pagemap bits for a mapping, the bytes of
 * malloc memory in it are counted in `unsplit` (resident, but not split
 * between chunks) and the fields that need the split say `known = false`.
 *
 * Ownership: rss_release() frees the rows; names are owned by the report.
 */
#ifndef HEAPGRAB_ANALYSIS_RSS_H
#define HEAPGRAB_ANALYSIS_RSS_H

#include "heap/glibc-trim.h"
#include "heap/heap.h"

struct snapshot;

/* Parts of an arena, in output order. */
enum rss_part {
	RSS_IN_USE,
	RSS_TCACHE,
	RSS_FASTBIN,
	RSS_BIN,
	RSS_TOP,
	RSS_OVERHEAD,	/* in no chunk */
	RSS_PART__COUNT
};
const char *rss_part_name(enum rss_part p);	/* "in_use", ..., "overhead" */

/* Free-chunk size classes: below 64, 128, ... 1 MiB, then the rest. */
#define RSS_NR_CLASSES 16
uint64_t rss_class_limit(unsigned i);		/* upper bound; 0 for the last */

struct rss_amount {
	uint64_t bytes;		/* chunk bytes (address space) */
	uint64_t resident;	/* of which resident */
};

struct rss_count {
	uint64_t count, bytes;
};

struct rss_arena {
	taddr_t addr;
	bool main;
	uint32_t nr_heaps;
	uint64_t system;		/* system_mem */
	uint64_t mapped;		/* its memory: ranges and slack */
	bool known;			/* its residency was read (pagemap bits) */
	uint64_t resident;		/* resident bytes of it */
	struct rss_amount parts[RSS_PART__COUNT];
	uint64_t releasable;		/* resident bytes malloc_trim(pad) returns */
	uint64_t releasable_top;	/* of which by shrinking top (sbrk) */
	uint64_t released[RSS_PART__COUNT];	/* releasable by part (free parts) */
	uint64_t stranded[RSS_PART__COUNT];	/* resident free bytes trim leaves */
	struct trim_arena trim;		/* consolidation, top's fate */
	/* fragmentation: free chunks below top (tcache, fastbin, bin) */
	struct rss_count classes[RSS_NR_CLASSES];
	struct rss_count free_below_top;
	uint64_t largest_free;		/* largest of those chunks */
	uint64_t threads;		/* threads whose thread_arena is it */
};

enum rss_outside_kind {
	RSS_OUT_STACK,		/* a thread's stack ([stack] for the main thread) */
	RSS_OUT_ANON,		/* anonymous private memory, by name */
	RSS_OUT_FILE,		/* file mappings (private or shared), by path */
	RSS_OUT_SHARED,		/* shared memory: shared anonymous, SysV, memfd, /dev/shm */
	RSS_OUT_OTHER,		/* [vdso], [vvar], [vsyscall] ... */
	RSS_OUT__COUNT
};
const char *rss_outside_name(enum rss_outside_kind k);	/* "thread_stacks", ... */

struct rss_outside_row {
	uint8_t kind;			/* enum rss_outside_kind */
	char *name;			/* "anonymous", "[anon:jit]", a path ... */
	int tid;			/* RSS_OUT_STACK: the thread, else 0 */
	taddr_t start;			/* an unnamed anonymous mapping, a stack:
					 * its start (each is a row of its own);
					 * 0 for rows grouped by name */
	uint64_t mappings;
	uint64_t size;			/* address space */
	uint64_t resident;
	uint64_t swap;
};

struct rss_thread {
	int tid;
	int64_t arena;			/* index into arenas; -1: none yet; -2: unknown */
	taddr_t arena_addr;		/* thread_arena as read */
	uint64_t stack_resident;	/* its stack mapping's resident bytes */
	bool has_stack;
};

/* A threshold of mp_: its value, glibc's default, and who set it. */
enum rss_source {
	RSS_SRC_DEFAULT,	/* glibc's default */
	RSS_SRC_TUNABLE,	/* GLIBC_TUNABLES */
	RSS_SRC_ENV,		/* a MALLOC_* environment variable */
	RSS_SRC_MALLOPT,	/* changed, and no tunable or variable names it */
	RSS_SRC_DYNAMIC,	/* moved by the dynamic mmap threshold */
	RSS_SRC__COUNT
};
const char *rss_source_name(enum rss_source s);	/* "default", "tunable", ... */

struct rss_threshold {
	const char *name;		/* "mmap_threshold", ... (static) */
	uint64_t value, dflt;
	uint8_t source;			/* enum rss_source */
};
#define RSS_NR_THRESHOLDS 6	/* mmap, trim, top_pad, mmap_max, arena_max, arena_test */

struct rss_report {
	bool live;			/* residency was read (not a core) */
	bool pagemap;			/* pagemap bits for every paged mapping */
	int pagemap_err;		/* why not, when !pagemap */
	const char *pagemap_method;	/* "scan", "read" or NULL (static) */
	bool pfn_visible;
	bool smaps;			/* smaps was read */
	int smaps_err;
	char glibc[16];
	const char *no_malloc;		/* malloc not walked: why (borrowed), or NULL */
	/* the accounting */
	struct rss_arena *arenas;
	size_t nr_arenas;
	struct rss_amount arena_total[RSS_PART__COUNT];
	uint64_t arenas_resident, arenas_mapped, arenas_system;
	struct rss_count mmapped;	/* mmapped chunks: count, mapping bytes */
	uint64_t mmapped_resident;
	uint64_t unsplit;		/* resident malloc memory not split (no bits) */
	struct rss_outside_row *outside;	/* sorted: kind, resident desc, name */
	size_t nr_outside;
	uint64_t outside_resident[RSS_OUT__COUNT];
	uint64_t outside_total;
	uint64_t total;			/* arenas + mmapped + unsplit + outside */
	uint64_t kernel_rss;		/* smaps_rollup's Rss (after the detach) */
	bool has_kernel_rss;
	uint64_t swap;			/* smaps_rollup's Swap */
	uint64_t changed;		/* Rss of mappings remapped since the stop */
	/* paged mappings whose pagemap count differs from smaps' Rss */
	uint64_t mismatched_maps;
	int64_t mismatch_bytes;		/* sum of (pagemap - smaps) over them */
	uint64_t zero_pages;		/* pages mapped to the zero page (not resident) */
	/* the trim */
	uint64_t pad;
	uint64_t releasable, releasable_top;
	uint64_t free_resident;		/* resident bytes of free chunks (all kinds) */
	uint64_t stranded[RSS_PART__COUNT];
	uint64_t stranded_total;
	bool brk_known;			/* sbrk(0) from __curbrk */
	/* threads and arenas */
	struct rss_thread *threads;
	size_t nr_threads;
	bool thread_arenas;		/* thread_arena was read */
	uint64_t arena_limit;		/* in force; 0: not computed yet */
	const char *arena_limit_how;	/* static: "arena_max", "narenas_limit", ... */
	unsigned cpus;			/* the count glibc uses for 8 x cores */
	const char *cpus_how;		/* "online" or "affinity" */
	/* thresholds */
	bool have_thresholds;
	struct rss_threshold thresholds[RSS_NR_THRESHOLDS];
	bool dynamic_moved;		/* the dynamic threshold moved it */
	bool no_dyn_threshold;
	uint64_t thp_pagesize;
	const char *tunables;		/* borrowed from the snapshot, or NULL */
	const char *malloc_env;		/* borrowed, or NULL */
};

struct rss_opts {
	uint64_t pad;			/* malloc_trim's argument (0) */
};

/*
 * Build the accounting of S (which needs S->rss). Returns 0, or -ENOENT
 * when S carries no residency section. *RET is the caller's: rss_release().
 * S must outlive *RET (strings are borrowed).
 */
MUST_CHECK int rss_build(const struct snapshot *s, const struct rss_opts *opts,
			 struct rss_report *ret);
void rss_release(struct rss_report *r);

#endif /* HEAPGRAB_ANALYSIS_RSS_H */
