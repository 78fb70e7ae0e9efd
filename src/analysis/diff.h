/*
 * diff.h - the growth between two snapshots.
 *
 * diff_build() compares an OLD and a NEW snapshot, whatever produced them
 * (live process, core, file):
 *  - totals per chunk kind, the overhead and the arena memory, each as
 *    the NEW value plus its change since OLD;
 *  - by_size: the size classes of live chunks (in use and mmapped, as in
 *    the census) whose count changed, with the change and the NEW count,
 *    sorted by bytes delta descending, then size ascending (a total
 *    order: growth first, the largest shrink last);
 *  - chunk identity, when asked (opts->chunks): a live chunk of NEW with
 *    the same address and size as a live chunk of OLD "survived"; the
 *    others are "new" (allocated since OLD and still alive, which is what
 *    a leak looks like). The first opts->max_new of them, in address
 *    order, are listed; the counts cover all of them.
 *
 *  - by_type: the same for the census's type rows (name, and whether the
 *    row is inferred), when both snapshots carry types; same order, then
 *    name.
 *
 * Ownership: diff_release() frees the rows and the chunk list.
 */
#ifndef HEAPGRAB_DIFF_H
#define HEAPGRAB_DIFF_H

#include "heap/heap.h"

struct snapshot;

struct diff_value {
	int64_t count_delta;
	int64_t bytes_delta;
	uint64_t count;		/* in NEW */
	uint64_t bytes;		/* in NEW */
};

struct diff_size_row {
	uint64_t size;
	struct diff_value v;
};

struct diff_type_row {
	const char *name;	/* borrowed from OLD or NEW */
	bool inferred;
	struct diff_value v;
};

struct diff_chunk {
	taddr_t addr;
	uint64_t size;
};

struct diff_opts {
	bool chunks;		/* compute survived/new chunks */
	size_t max_new;		/* chunks listed in new_chunks (0: none) */
};

struct diff {
	struct diff_value totals[CHUNK_STATE__COUNT];
	struct diff_value overhead;	/* bytes only; counts are 0 */
	struct diff_value system;	/* arena memory; bytes only */
	struct diff_value live;		/* in use + mmapped */
	struct diff_size_row *by_size;
	size_t nr_by_size;
	bool has_types;			/* both snapshots are typed */
	struct diff_type_row *by_type;
	size_t nr_by_type;
	/* with opts->chunks */
	uint64_t survived_count, survived_bytes;
	uint64_t new_count, new_bytes;
	struct diff_chunk *new_chunks;	/* address order */
	size_t nr_new_chunks;
};

void diff_build(const struct snapshot *old, const struct snapshot *new_,
		const struct diff_opts *opts, struct diff *ret);
void diff_release(struct diff *d);

#endif /* HEAPGRAB_DIFF_H */
