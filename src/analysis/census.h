/*
 * census.h - what a snapshot holds, grouped for people and scripts.
 *
 * Totals per chunk kind come straight from the walk. by_size groups the
 * live allocations (in-use and mmapped chunks) by chunk size; rows are
 * sorted by bytes descending, then size ascending (a total order, so the
 * output is deterministic). by_type groups the same chunks by their type
 * (snapshot.types); its rows add up to the same live totals.
 *
 * Ownership: census_release() frees the rows.
 */
#ifndef HEAPGRAB_CENSUS_H
#define HEAPGRAB_CENSUS_H

#include "heap/heap.h"

struct snapshot;

struct census_size_row {
	uint64_t size;
	uint64_t count;
	uint64_t bytes;
};

/* One row of the census by type: NAME is borrowed from the snapshot
 * ("untyped" for live chunks with no type, a static string). */
struct census_type_row {
	const char *name;
	bool inferred;			/* typed by shape */
	bool untyped;
	uint64_t count;
	uint64_t bytes;
};

struct census {
	struct heap_count totals[CHUNK_STATE__COUNT];
	uint64_t overhead;
	uint64_t system_bytes;
	struct census_size_row *by_size;
	size_t nr_by_size;
	/* Live chunks by type, sorted like by_size (bytes descending, then
	 * name, exact before inferred); untyped chunks are one row. */
	struct census_type_row *by_type;
	size_t nr_by_type;
	struct heap_count typed, inferred, untyped;
	bool has_types;			/* the snapshot was typed */
};

void census_build(const struct snapshot *s, struct census *ret);
void census_release(struct census *c);

#endif /* HEAPGRAB_CENSUS_H */
