/*
 * profile.h - a snapshot as weighted stacks, the model behind pprof,
 * folded (flame graph) and HTML output.
 *
 * A profile is a list of samples. Each sample is a stack of frame strings,
 * root first and leaf last, with the number of chunks and the bytes whose
 * stack it is. Chunks with the same stack are one sample.
 *
 * The stack of a chunk:
 *
 *     [ownership path ...] TYPE [SIZE]
 *
 *  - the ownership path, root first (for example "global sessions",
 *    "struct session"), when a path hook is given (opts->path) and knows
 *    one for the chunk; nothing otherwise. Today no such hook exists; the
 *    leaks/ownership code plugs its paths in here without any writer
 *    changing;
 *  - TYPE: the chunk's type name from the snapshot (snapshot_chunk_type)
 *    or, for a chunk with no type, PROFILE_UNTYPED ("untyped");
 *  - SIZE, only under "untyped": a frame "[208-byte chunks]" naming the
 *    chunk size (mmapped chunks: their mapping bytes, as in the census).
 *    So the "untyped" frame's total is the census's untyped row, and its
 *    children are the census's size classes of untyped chunks; with no
 *    typing at all the leaves are exactly the census by_size rows.
 *
 * Which chunks: by default the live ones (in use and mmapped, as in the
 * census by_size); opts->include selects others (for example the leaked
 * chunks only).
 *
 * A diff profile (profile_from_diff) has, for every stack present in OLD
 * or NEW, count and bytes = NEW - OLD (signed; stacks whose count and bytes
 * did not change are left out) and old_count/old_bytes = the OLD values.
 * So a diff profile written as pprof and `pprof -base old new` agree.
 *
 * Order: samples are sorted by bytes descending, then count descending,
 * then their stacks (frame by frame, strcmp, a shorter stack first): a
 * total order, so output is deterministic.
 *
 * Ownership: the profile owns its strings and arrays; profile_release()
 * frees them. Frame strings returned by a path hook are copied.
 */
#ifndef HEAPGRAB_PROFILE_H
#define HEAPGRAB_PROFILE_H

#include "util/compiler.h"

struct snapshot;

#define PROFILE_UNTYPED "untyped"

/*
 * Ownership path of walk.chunks[CHUNK] of S: set *RET_FRAMES to an array of
 * frame strings, root first, NOT including the chunk's own type (the
 * builder appends it), and return how many there are (0: no path known).
 * The array and the strings must stay valid and unchanged until
 * profile_from_snapshot()/profile_from_diff() returns (interned strings):
 * the builder caches frames by string address.
 */
typedef size_t (*profile_path_fn)(void *ctx, const struct snapshot *s, size_t chunk,
				  const char *const **ret_frames);
/* Whether walk.chunks[CHUNK] of S goes into the profile. */
typedef bool (*profile_include_fn)(void *ctx, const struct snapshot *s, size_t chunk);

struct profile_opts {
	profile_path_fn path;		/* NULL: stacks are TYPE [SIZE] only */
	void *path_ctx;
	profile_include_fn include;	/* NULL: live chunks (in use, mmapped) */
	void *include_ctx;
};

struct profile_sample {
	uint32_t first;			/* stack: pool[first .. first + nr_frames) */
	uint32_t nr_frames;		/* >= 1 */
	uint32_t type;			/* string id of the TYPE frame */
	int64_t count, bytes;		/* census: the values; diff: NEW - OLD */
	int64_t old_count, old_bytes;	/* diff only: the OLD values */
};

struct profile {
	bool diff;
	char **strings;			/* frame names; id = index */
	size_t nr_strings;
	uint32_t *pool;			/* frame ids of all stacks */
	size_t nr_pool;
	struct profile_sample *samples;
	size_t nr_samples;
	/* sums over the samples (diff: of the deltas, and of OLD) */
	int64_t count, bytes, old_count, old_bytes;
};

/* The rows of profile_by_type(): one per TYPE frame. */
struct profile_type_row {
	const char *type;		/* borrowed from the profile */
	int64_t count, bytes;		/* diff: NEW - OLD */
	int64_t old_count, old_bytes;	/* diff only */
};

/* OPTS may be NULL. RET is the caller's to profile_release(). */
void profile_from_snapshot(const struct snapshot *s, const struct profile_opts *opts,
			   struct profile *ret);
void profile_from_diff(const struct snapshot *old, const struct snapshot *new_,
		       const struct profile_opts *opts, struct profile *ret);
void profile_release(struct profile *p);

/* The frames of sample I, root first. */
static inline const uint32_t *profile_stack(const struct profile *p, size_t i)
{
	return &p->pool[p->samples[i].first];
}

/*
 * The samples grouped by their TYPE frame: the census by type. Sorted by
 * bytes descending, then count descending, then type name (strcmp); for a
 * diff by the bytes delta, then the count delta, then the name. Rows whose
 * values are all zero are left out. Returns the number of rows; *RET_ROWS
 * is malloc'd (free() it), its strings borrowed from P.
 */
size_t profile_by_type(const struct profile *p, struct profile_type_row **ret_rows);

#endif /* HEAPGRAB_PROFILE_H */
