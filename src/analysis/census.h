/*
 * census.h - what a snapshot holds, grouped for people and scripts.
 *
 * Totals per chunk kind come straight from the walk. by_size groups the
 * live allocations (in-use and mmapped chunks) by chunk size; rows are
 * sorted by bytes descending, then size ascending (a total order, so the
 * output is deterministic).
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

struct census {
	struct heap_count totals[CHUNK_STATE__COUNT];
	uint64_t overhead;
	uint64_t system_bytes;
	struct census_size_row *by_size;
	size_t nr_by_size;
};

void census_build(const struct snapshot *s, struct census *ret);
void census_release(struct census *c);

#endif /* HEAPGRAB_CENSUS_H */
