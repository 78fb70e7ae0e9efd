/*
 * glibc.h - glibc's malloc (ptmalloc2) seen from outside.
 *
 *   glibc_locate()        find libc in the target, its version, main_arena,
 *                         mp_, the tcache TLS slot and the struct layouts:
 *                         from libc's DWARF when its debug info is found
 *                         ("dwarf"), else from disassembly of exported code
 *                         and built-in layouts ("disasm").
 *   glibc_busy_threads()  while the target is stopped: which threads are
 *                         inside the allocator (PC in malloc.o, or in a
 *                         memory-management syscall) and whether an arena
 *                         lock is held.
 *   glibc_walk()          classify every chunk of every arena, plus the
 *                         mmapped chunks, and cross-check the result against
 *                         glibc's own bookkeeping (bins, fastbins, mp_).
 *
 * Ownership: glibc_free() releases the struct; the target must outlive it.
 */
#ifndef HEAPGRAB_GLIBC_H
#define HEAPGRAB_GLIBC_H

#include "util/compiler.h"

struct target;
struct diag_sink;
struct heap_walk;
struct strbuf;
struct glibc;

struct glibc_opts {
	const char *debug_dir;	/* NULL: default debug path */
	bool no_debug_info;	/* skip DWARF even when present */
};

/*
 * Returns 0, or -HG_E_NO_LIBC (static binary / other libc),
 * -HG_E_FOREIGN_MALLOC, -HG_E_NO_LIBC_LAYOUT, -HG_E_NO_MAIN_ARENA,
 * -HG_E_NO_MP, -HG_E_NO_TCACHE. On failure WHY (may be NULL) receives a
 * human-readable detail ("libjemalloc.so.2 is loaded").
 */
MUST_CHECK int glibc_locate(struct target *t, const struct glibc_opts *opts,
			    struct diag_sink *diag, struct strbuf *why,
			    struct glibc **ret_glibc);
void glibc_free(struct glibc *g);

/* Is PATH glibc's libc (libc.so.6, or libc-2.N.so before 2.34)? */
bool glibc_is_libc_path(const char *path);

const char *glibc_version(const struct glibc *g);	/* "2.36" */
const char *glibc_method(const struct glibc *g);	/* "dwarf" or "disasm" */
taddr_t glibc_main_arena(const struct glibc *g);

/*
 * For a stopped live target: mark busy[i] for thread i when it is inside
 * allocator code or in a memory-management syscall, and set *ret_lock_held
 * when any arena mutex is held. Returns the number of busy threads or a
 * negative error.
 */
MUST_CHECK int glibc_busy_threads(struct glibc *g, struct target *t, bool *busy,
				  bool *ret_lock_held);

/*
 * What glibc_walk() of a live target will read, so that only that is
 * copied under the stop (a census without typing): COPY, the bytes it
 * reads; ZERO, the anonymous mappings its mmapped-chunk scan reads page
 * by page, which may be held as zeros wherever COPY does not reach into
 * them (zeros are never read as an mmapped chunk). EVERYTHING: the heap
 * has a shape the plan does not follow; copy all writable memory. With
 * SCAN false only the arenas' part is planned (ZERO empty): enough to
 * size the copy buffers before the stop. Reads go to T as it is (stopped,
 * for the plan to hold). Returns 0 or -HG_E_TARGET_GONE; release with
 * glibc_plan_release() (arrays malloc'd, owned by the plan).
 */
struct target_range;
struct glibc_plan {
	struct target_range *copy;
	size_t nr_copy, alloc_copy;
	struct target_range *zero;
	size_t nr_zero, alloc_zero;
	bool everything;
};
MUST_CHECK int glibc_copy_plan(struct glibc *g, struct target *t, bool scan,
			       struct glibc_plan *ret_plan);
void glibc_plan_release(struct glibc_plan *pl);

/*
 * What the residency accounting and the trim model need besides the walk
 * (doc/glibc-malloc.md §14): mp_'s thresholds, the program break as sbrk(0)
 * returns it (__curbrk), each thread's arena (the TLS variable
 * thread_arena) and glibc's arena limit (narenas_limit). Read from the
 * same image as the walk. The last three need libc's symbol table
 * (__curbrk is exported; thread_arena and narenas_limit are local
 * symbols of the debug file): without it their have_* stay false.
 */
struct glibc_thread_arena {
	int tid;
	taddr_t arena;			/* thread_arena; 0: none yet */
};

struct glibc_params {
	unsigned major, minor;		/* glibc version */
	bool have_thresholds;
	uint64_t trim_threshold, top_pad, mmap_threshold, arena_test, arena_max;
	int64_t n_mmaps_max;
	bool no_dyn_threshold;		/* mallopt or a tunable fixed one of them */
	bool have_thp;			/* 2.35+: mp_.thp_pagesize exists */
	uint64_t thp_pagesize;
	bool have_curbrk;
	taddr_t curbrk;			/* __curbrk: what sbrk(0) returns */
	bool have_narenas_limit;
	uint64_t narenas_limit;		/* 0: not computed yet */
	bool have_thread_arenas;
	struct glibc_thread_arena *threads;	/* one per thread of the target */
	size_t nr_threads;
};

/* Fill *RET (free with glibc_params_release()); 0 or a negative error
 * when mp_ cannot be read at all. */
MUST_CHECK int glibc_read_params(struct glibc *g, struct target *t, struct diag_sink *diag,
				 struct glibc_params *ret);
void glibc_params_release(struct glibc_params *p);

/* Walk the heap. Non-fatal findings go to DIAG. Returns 0 or an error. */
MUST_CHECK int glibc_walk(struct glibc *g, struct target *t, struct diag_sink *diag,
			  struct heap_walk *ret_walk);

#endif /* HEAPGRAB_GLIBC_H */
