/*
 * leaks.h - which live chunks no root can reach.
 *
 * Over the heap graph (analysis/graph.h), every live chunk is in one of
 * three states, as valgrind's memcheck defines them:
 *   reachable        a chain of pointers to chunk starts leads to it from
 *                    a root;
 *   possibly leaked  it is reached, but every chain has at least one
 *                    interior pointer (valgrind's "possibly lost");
 *   leaked           no chain at all (memcheck's "definitely" plus
 *                    "indirectly lost").
 * Leak roots are the heads of leaked structures: leaked chunks that no
 * other leaked chunk points to, and for a leaked cycle that nothing else
 * points to (two chunks pointing at each other), its lowest-addressed
 * chunk: one per source component of the leaked subgraph. They are what
 * memcheck reports as "definitely lost".
 *
 * Bytes are chunk sizes with their headers (the census's in_use and
 * mmapped bytes), not the sizes the program asked for.
 *
 * Ownership: leaks_release() frees the report; type names in by_type are
 * borrowed from the snapshot.
 */
#ifndef HEAPGRAB_ANALYSIS_LEAKS_H
#define HEAPGRAB_ANALYSIS_LEAKS_H

#include "heap/heap.h"

struct heap_graph;

enum leak_state {
	LEAK_REACHABLE,
	LEAK_POSSIBLY,
	LEAK_LEAKED,
};

struct leak_type_row {
	const char *type;	/* "untyped" for chunks without a type */
	bool inferred;		/* typed by shape (doc/typing.md) */
	uint64_t count;
	uint64_t bytes;
};

struct leak_report {
	uint8_t *state;			/* per node: enum leak_state */
	struct heap_count reachable, possibly, leaked, leak_roots;
	/* the leak roots, largest first (then by address) */
	uint32_t *heads;
	size_t nr_heads;
	/* leaked chunks by type, bytes descending, count descending, name */
	struct leak_type_row *by_type;
	size_t nr_by_type;
};

/* Classify every node of G. */
void leaks_find(const struct heap_graph *g, struct leak_report *ret);
void leaks_release(struct leak_report *r);

/*
 * Mark what roots reach: MARK (per node, zeroed by the caller) gets bit
 * EXACT for nodes reached through start pointers only and bit ANY for
 * nodes reached at all. Shared with why.c.
 */
#define LEAK_MARK_EXACT 1u
#define LEAK_MARK_ANY 2u
void leaks_mark(const struct heap_graph *g, uint8_t *mark);

#endif /* HEAPGRAB_ANALYSIS_LEAKS_H */
