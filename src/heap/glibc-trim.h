/*
 * glibc-trim.h - what malloc_trim(PAD) would give back, predicted from a
 * walk, the way the target's glibc does it (doc/glibc-malloc.md §14).
 *
 *   glibc_trim_predict()  from the chunks of a walk (struct heap_walk, in
 *                         walk or address order) and a few parameters:
 *                         the page ranges malloc_trim would madvise away
 *                         (MADV_DONTNEED inside free chunks) or give back
 *                         with sbrk (the main arena's top), and per arena
 *                         what happened to its top chunk and how many
 *                         fastbin chunks the consolidation merged.
 *
 * The ranges are address space, not residency: the bytes a trim returns
 * are the resident pages inside them (analysis/rss.c intersects the two).
 * Nothing here reads a target.
 *
 * Ownership: trim_model_release() frees the arrays.
 */
#ifndef HEAPGRAB_GLIBC_TRIM_H
#define HEAPGRAB_GLIBC_TRIM_H

#include "util/compiler.h"

struct heap_walk;

enum trim_how {
	TRIM_MADVISE,		/* mtrim(): MADV_DONTNEED inside a free chunk */
	TRIM_SBRK,		/* systrim(): the main arena's top, sbrk(-extra) */
};

struct trim_range {
	taddr_t start, end;	/* page aligned, end exclusive */
	uint32_t arena;		/* index into heap_walk.arenas */
	uint8_t how;		/* enum trim_how */
};

/* What systrim() does with an arena's top chunk. */
enum trim_top {
	TRIM_TOP_SHRUNK,	/* the main arena's top gives back TOP_EXTRA */
	TRIM_TOP_NOT_MAIN,	/* a non-main arena: malloc_trim never shrinks its top */
	TRIM_TOP_PAD,		/* top holds less than a page above PAD + MINSIZE */
	TRIM_TOP_BRK,		/* sbrk(0) is not the top's end (a foreign sbrk,
				 * or the top lies in an mmapped segment) */
	TRIM_TOP_NONE,		/* the walk found no top chunk */
};

struct trim_arena {
	uint64_t merged_fastbin;	/* fastbin chunks malloc_consolidate merges */
	uint64_t into_top;		/* free bytes that consolidation folds into top */
	uint64_t top_after;		/* size of top after the consolidation */
	uint64_t top_extra;		/* TRIM_TOP_SHRUNK: bytes given back by sbrk */
	uint8_t top;			/* enum trim_top */
};

struct trim_params {
	unsigned major, minor;		/* glibc version */
	uint64_t pad;			/* malloc_trim's argument */
	uint64_t page_size;		/* GLRO(dl_pagesize): 4096 on x86_64 */
	uint64_t thp_pagesize;		/* 2.35+: mp_.thp_pagesize (0: unset) */
	bool have_brk;
	taddr_t brk;			/* what sbrk(0) returns */
};

struct trim_model {
	struct trim_params p;
	struct trim_range *ranges;	/* sorted by start, not overlapping */
	size_t nr_ranges, alloc_ranges;
	struct trim_arena *arenas;	/* parallel to heap_walk.arenas */
	size_t nr_arenas;
	uint64_t range_bytes;		/* address space in ranges */
};

/* Predict malloc_trim(P->pad) on W. Never fails; *RET is the caller's. */
void glibc_trim_predict(const struct heap_walk *w, const struct trim_params *p,
			struct trim_model *ret);
void trim_model_release(struct trim_model *m);

/* Name of an enum trim_top value, for output: "shrunk", "not_main", ... */
const char *trim_top_name(enum trim_top t);

#endif /* HEAPGRAB_GLIBC_TRIM_H */
