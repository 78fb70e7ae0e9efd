/*
 * snapshot.h - one heap census source, whatever produced it.
 *
 * Every command works on a struct snapshot: taking one from a live process
 * (snapshot_take_live), from a core (later: snapshot_take_core) or, later,
 * loading one from a file gives the same struct, so census, diff and output
 * code never know where the data came from.
 *
 * Ownership: snapshot_free() releases everything; strings and the image
 * are owned.
 */
#ifndef HEAPGRAB_SNAPSHOT_H
#define HEAPGRAB_SNAPSHOT_H

#include "heap/glibc.h"
#include "heap/heap.h"
#include "target/residency.h"

struct diag_sink;
struct inject_mallinfo;
struct snapshot;
struct strbuf;
struct target;
struct typing_opts;
struct typing_result;

struct snapshot_meta {
	int pid;
	int ns_pid;			/* in its own PID namespace; 0 unknown */
	char *exe;			/* may be NULL */
	char glibc[16];			/* "2.36" */
	const char *libc_symbols;	/* "dwarf" or "disasm" (static string) */
	size_t nr_threads;
	/*
	 * Which memory the walk read from the snapshot's instant (static
	 * string): "heap" (a live target, what the census reads copied:
	 * glibc_copy_plan()), "writable" (a live target, all its writable
	 * private memory copied: typing, leaks, --contents), "core" (read
	 * from a core in place), "image" (a memimage target); NULL when not
	 * known (a file written before this was recorded).
	 */
	const char *memory;
};

/*
 * The type of each chunk (typing/), or no types at all. Type
 * names are as in the source ("struct session", "char[]", "Foo::Bar").
 * of_chunk[i] types walk.chunks[i]; SNAPSHOT_UNTYPED for chunks with no
 * type (every free chunk, and live ones typing could not reach).
 */
#define SNAPSHOT_UNTYPED UINT32_MAX
#define SNAPSHOT_TYPE_INFERRED 1u	/* typed by shape, not by a pointer */

struct snapshot_types {
	char **names;			/* owned */
	size_t nr_names;
	uint32_t *of_chunk;		/* walk.nr_chunks entries */
	uint8_t *flags;			/* walk.nr_chunks entries, SNAPSHOT_TYPE_* */
	uint64_t conflicts;		/* chunks two types reached */
	char **no_dwarf;		/* modules without debug info (paths) */
	size_t nr_no_dwarf;
};

/*
 * What the RSS accounting (analysis/rss.c) needs beside the walk: the
 * residency (target/residency.h; res.live is false for a core, which
 * records none), the allocator's parameters, and each thread's stack
 * pointer and arena. Present when taken with snapshot_opts.residency or
 * loaded from a file that stored it; the walk's ranges (heap_walk.ranges)
 * come with it.
 */
struct snapshot_thread {
	int tid;
	taddr_t sp;			/* stack pointer at the stop */
	taddr_t arena;			/* thread_arena; 0: none yet */
};

struct snapshot_rss {
	struct residency res;
	struct glibc_params params;	/* params.threads unused: see threads */
	struct snapshot_thread *threads;
	size_t nr_threads;
	bool have_thread_arenas;	/* thread_arena was found */
	/* the target's environment when it started (/proc/PID/environ) */
	char *tunables;			/* GLIBC_TUNABLES's value, or NULL */
	char *malloc_env;		/* "MALLOC_ARENA_MAX=2\n..." lines, or NULL */
	unsigned online_cpus;		/* CPUs online (0: unknown) */
	unsigned affinity_cpus;		/* CPUs in the target's affinity mask (0: unknown) */
	char *no_malloc;		/* malloc was not walked: why (else NULL) */
	double stop_ms;			/* pagemap read in the stop */
};

void snapshot_rss_free(struct snapshot_rss *r);

/*
 * For a process whose malloc heapgrab cannot walk (not glibc's, a static
 * binary): a snapshot with no arenas and no chunks, only the RSS
 * accounting's inputs, so that the memory outside malloc is still
 * accounted. The threads are stopped for their stack pointers and the
 * pagemap (no consistency loop: there is no heap to copy). WHY_MALLOC
 * says why malloc is not walked (kept in snapshot.rss->no_malloc);
 * NO_SCAN as snapshot_opts.pagemap_read.
 */
MUST_CHECK int snapshot_take_residency(int pid, const char *why_malloc, bool no_scan,
				       struct diag_sink *diag, struct strbuf *why,
				       struct snapshot **ret_snap);

struct snapshot {
	struct snapshot_meta meta;
	struct heap_walk walk;
	/* The memory image the walk read (regions, threads, the bytes of the
	 * writable private regions), a memimage target; NULL unless taken
	 * with keep_image or loaded from a file saved with --contents. */
	struct target *image;
	/* NULL when the snapshot was not typed. */
	struct snapshot_types *types;
	/* What typing did (not stored in files; NULL when not typed here). */
	struct typing_result *typing;
	/* NULL unless taken with snapshot_opts.residency (or loaded so). */
	struct snapshot_rss *rss;
};

/* Type name of walk.chunks[I], or NULL when untyped (or no types). */
static inline const char *snapshot_chunk_type(const struct snapshot *s, size_t i)
{
	uint32_t t;

	if (!s->types)
		return NULL;
	t = s->types->of_chunk[i];
	return t == SNAPSHOT_UNTYPED ? NULL : s->types->names[t];
}

static inline bool snapshot_chunk_inferred(const struct snapshot *s, size_t i)
{
	return s->types && (s->types->flags[i] & SNAPSHOT_TYPE_INFERRED);
}

void snapshot_types_free(struct snapshot_types *ty);

/* How a live snapshot is taken (snapshot_opts.mode). */
enum snapshot_mode {
	SNAPSHOT_COPY,		/* copy the memory while the target is stopped */
	SNAPSHOT_FORK,		/* the target forks a frozen copy of itself and
				 * runs on at once; the copy is read (--fork) */
	SNAPSHOT_FORK_AUTO,	/* SNAPSHOT_FORK, or SNAPSHOT_COPY when the
				 * target cannot fork (--fork=auto) */
};

struct snapshot_opts {
	const char *debug_dir;		/* NULL: default */
	bool no_debug_info;
	/* consistency loop bound (live only): rounds of "let the threads
	 * inside the allocator run on, stop them again" before giving up */
	unsigned max_rounds;
	/* keep the memory image in snapshot.image (--contents) */
	bool keep_image;
	/* give every live chunk a type (typing/); on by default in cmd/ */
	bool types;
	const struct typing_opts *typing;	/* NULL: defaults */
	/* live only: copy or fork snapshot (src/inject/fork.c) */
	enum snapshot_mode mode;
	/* live only (--verify): call the target's mallinfo2() (mallinfo()
	 * before glibc 2.33) while it is stopped, at the instant the
	 * snapshot shows; the result goes here. NULL: no call. */
	struct inject_mallinfo *mallinfo;
	/* thread to inject into (tests); 0: heapgrab picks one */
	int inject_tid;
	/* the RSS accounting's inputs (snapshot.rss): pagemap in the stop,
	 * smaps and the environment after it (live); the parameters only for
	 * a core */
	bool residency;
	/* read pagemap with read(), never the PAGEMAP_SCAN ioctl (tests) */
	bool pagemap_read;
	/* live only: run FN(T, ARG) while the target is stopped, quiescent
	 * and copied (after --verify's call), before the detach; its error
	 * ends the snapshot. `heapgrab trim` calls malloc_trim there, so
	 * that the prediction and the trim see the same heap. */
	int (*stopped_fn)(struct target *t, void *arg);
	void *stopped_arg;
};

struct snapshot_live_stats {
	double pause_ms;		/* first thread stopped .. all resumed */
	double prepare_ms;		/* waited for the copy buffers before the stop */
	double stop_ms;			/* time to stop every thread */
	double copy_ms;			/* freeze (memory copy) */
	double walk_ms;
	double typing_ms;		/* after detach */
	uint64_t copied_bytes;
	unsigned rounds;		/* consistency rounds needed */
	bool forked;			/* a fork snapshot (else a copy) */
	double fork_ms;			/* the injected clone (inside the pause) */
	double child_ms;		/* the frozen child's life: the copy from it */
	char fallback[256];		/* SNAPSHOT_FORK_AUTO copied instead: why */
	const char *memory;		/* snapshot_meta.memory */
	double residency_ms;		/* pagemap read in the stop (--rss) */
	uint64_t precopied_bytes;	/* copied before the stop ... */
	uint64_t changed_bytes;		/* ... and found changed under it */
};

/*
 * Snapshot a live process: stop it, wait until no thread is inside the
 * allocator, copy its memory, detach, walk the copy. Returns 0 or a
 * negative error (-HG_E_BUSY when the retry budget ran out); WHY gets
 * detail for errors. STATS may be NULL.
 */
MUST_CHECK int snapshot_take_live(int pid, const struct snapshot_opts *opts,
				  struct diag_sink *diag, struct strbuf *why,
				  struct snapshot **ret_snap, struct snapshot_live_stats *stats);

/*
 * For commands that act on a stopped, quiescent live target without a
 * snapshot (`heapgrab trim`): PREPARE(T, ARG) (may be NULL) runs first,
 * with the target running; then PID is stopped and every thread brought
 * out of the allocator (the loop of snapshot_take_live(); opts->max_rounds
 * bounds it, -HG_E_BUSY when it runs out); FN(T, ARG) runs while it is
 * stopped; then it is detached. Returns FN's result, or an error of its
 * own with WHY filled in when there is more to say.
 */
MUST_CHECK int snapshot_run_stopped(int pid, const struct snapshot_opts *opts,
				    struct diag_sink *diag, struct strbuf *why,
				    int (*prepare)(struct target *t, void *arg),
				    int (*fn)(struct target *t, void *arg), void *arg);

/* Snapshot an already-open, static target (core or memimage). */
MUST_CHECK int snapshot_take_target(struct target *t, const struct snapshot_opts *opts,
				    struct diag_sink *diag, struct strbuf *why,
				    struct snapshot **ret_snap);

void snapshot_free(struct snapshot *s);

#endif /* HEAPGRAB_SNAPSHOT_H */
