/*
 * dominator.h - retained sizes: what would be freed if a reference went away.
 *
 * The dominator tree of the heap graph with a virtual super-root: vertex 0
 * is the super-root, it points at every root (vertices 1 .. nr_roots), the
 * roots point at chunks (vertices 1 + nr_roots + node). A vertex D
 * dominates a chunk C when every path from the super-root to C passes D;
 * C's immediate dominator is the closest one. The bytes D retains are the
 * sizes of the chunks it dominates (its own size included): what the
 * program would get back if D were freed, or the root D cleared. Chunks
 * reachable from two roots are dominated by the super-root alone: no
 * single root retains them ("shared"). Both kinds of edges count (a chunk
 * kept alive only through an interior pointer is still kept alive);
 * leaked chunks are in no tree.
 *
 * Ownership: retained_release() frees the arrays.
 */
#ifndef HEAPGRAB_ANALYSIS_DOMINATOR_H
#define HEAPGRAB_ANALYSIS_DOMINATOR_H

#include "util/compiler.h"

struct heap_graph;

#define RETAINED_SUPER 0u

struct retained {
	size_t nr_vertices;	/* 1 + nr_roots + nr_nodes */
	size_t nr_roots;
	uint32_t *idom;		/* per vertex; GRAPH_NONE: unreachable, or the super-root */
	uint64_t *bytes;	/* per vertex: bytes retained (0 when unreachable) */
	uint32_t *count;	/* per vertex: chunks retained */
};

static inline uint32_t retained_root_vertex(const struct retained *r, size_t root)
{
	(void)r;
	return (uint32_t)(1 + root);
}

static inline uint32_t retained_node_vertex(const struct retained *r, uint32_t node)
{
	return (uint32_t)(1 + r->nr_roots + node);
}

/* Compute the dominator tree of G (Lengauer-Tarjan) and retained sizes. */
void retained_compute(const struct heap_graph *g, struct retained *ret);
void retained_release(struct retained *r);

#endif /* HEAPGRAB_ANALYSIS_DOMINATOR_H */
