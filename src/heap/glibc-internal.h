/*
 * glibc-internal.h - private to heap/glibc*: layouts and constants.
 *
 * Offsets of the allocator's structures, filled from libc's DWARF when it
 * is available and from the built-in era table otherwise
 * (doc/glibc-malloc.md §2-§4; malloc/malloc.c and malloc/arena.c at each tag).
 */
#ifndef HEAPGRAB_GLIBC_INTERNAL_H
#define HEAPGRAB_GLIBC_INTERNAL_H

#include "util/compiler.h"

struct dbg_module;
struct libc_file_patterns;

/* x86_64 constants, malloc.c */
#define SIZE_SZ			8
#define CHUNK_HDR_SZ		16
#define MALLOC_ALIGNMENT	16
#define MINSIZE			32
#define PREV_INUSE		1
#define IS_MMAPPED		2
#define NON_MAIN_ARENA		4
#define SIZE_BITS		7
#define NBINS			128
#define NFASTBINS		10
/* arena.c: HEAP_MAX_SIZE = 2 * DEFAULT_MMAP_THRESHOLD_MAX (4 MiB * 8) */
#define HEAP_MAX_SIZE_DEFAULT	(64ULL << 20)
/* malloc.c: NONCONTIGUOUS_BIT in malloc_state.flags */
#define NONCONTIGUOUS_BIT	2

#define LAYOUT_ABSENT		UINT64_MAX

struct glibc_layout {
	unsigned major, minor;
	const char *source;		/* "dwarf" or "table" */
	/* struct malloc_state */
	uint64_t ms_mutex, ms_flags, ms_fastbins, ms_top, ms_bins, ms_next;
	uint64_t ms_system_mem, ms_size;
	/* struct malloc_par (mp_) */
	uint64_t mp_n_mmaps, mp_mmapped_mem, mp_sbrk_base;
	uint64_t mp_tcache_bins, mp_tcache_count, mp_hp_pagesize, mp_size;
	/* the thresholds (residency accounting, trim model); the ints
	 * n_mmaps_max and no_dyn_threshold are 4 bytes, the rest 8;
	 * thp_pagesize is LAYOUT_ABSENT before 2.35 */
	uint64_t mp_trim_threshold, mp_top_pad, mp_mmap_threshold, mp_arena_test,
		 mp_arena_max, mp_n_mmaps_max, mp_no_dyn_threshold, mp_thp_pagesize;
	/* heap_info */
	uint64_t hi_ar_ptr, hi_prev, hi_size, hi_sizeof;
	/* tcache_perthread_struct */
	bool has_tcache;
	uint64_t tc_counts, tc_count_size, tc_entries, tc_bins, tc_sizeof;
	bool safe_linking;		/* 2.32+: PROTECT_PTR on tcache/fastbin links */
	bool tcache_key;		/* 2.29+: tcache_entry.key */
};

/* The releases the built-in table covers: 2.26 (the first with a tcache)
 * to 2.41 (2.42 reworks the tcache: doc/glibc-malloc.md §4). */
#define GLIBC_TABLE_FIRST_MINOR	26
#define GLIBC_TABLE_LAST_MINOR	41

/* Fill L for glibc MAJOR.MINOR from the built-in table. 0 or -HG_E_NO_LIBC_LAYOUT. */
MUST_CHECK int glibc_layout_table(unsigned major, unsigned minor, struct glibc_layout *l);
/* main_arena's and mp_'s initialisers per release, for the recipes of
 * debuginfo/libcfile.c that find them in a libc file without DWARF.
 * Static data. */
const struct libc_file_patterns *glibc_libc_patterns(void);
/* Overwrite L's fields from libc's DWARF (malloc.c CU). 0 when every
 * required field was found, else -ENOENT (L is then unchanged). */
MUST_CHECK int glibc_layout_dwarf(struct dbg_module *m, struct glibc_layout *l);

#endif /* HEAPGRAB_GLIBC_INTERNAL_H */
