/*
 * why.c - the shortest chain of pointers from a root to one chunk.
 *
 * The state comes from the same two passes as leaks (leaks_mark). Then a
 * breadth-first search from every root edge at once, over start pointers
 * only when the chunk is reachable that way, over every edge when it is
 * only possibly leaked, stopping at the chunk; each node remembers the
 * node it was first reached from. Walking that back gives the chain; its
 * first chunk is reached from a root word, found again among the root
 * edges (a start pointer first). The offsets of the pointers along the
 * chain are found by rescanning each chunk of the chain for the word that
 * points to the next (heap_graph_edge_offset), which costs one chunk scan
 * per step instead of an offset per edge for the whole graph.
 */
#include "config.h"
#include "analysis/why.h"
#include "analysis/graph.h"
#include "util/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* BFS from the roots towards TARGET; fills PREV (GRAPH_NONE: reached from
 * a root). Returns true when TARGET was reached. */
static bool search(const struct heap_graph *g, uint32_t target, bool exact_only, uint32_t *prev)
{
	uint8_t *seen = xcalloc(g->nr_nodes, 1);
	uint32_t *queue = xmalloc(st_mult(g->nr_nodes, sizeof(*queue)));
	size_t head = 0, tail = 0;
	bool found = false;

	for (size_t e = 0; e < g->nr_root_edges; e++) {
		uint32_t d = g->root_dst[e];

		if (exact_only && (d & GRAPH_INTERIOR))
			continue;
		d &= GRAPH_NODE_MASK;
		if (seen[d])
			continue;
		seen[d] = 1;
		prev[d] = GRAPH_NONE;
		queue[tail++] = d;
	}
	while (head < tail && !found) {
		uint32_t n = queue[head++];

		if (n == target) {
			found = true;
			break;
		}
		for (size_t e = g->off[n]; e < g->off[n + 1]; e++) {
			uint32_t d = g->dst[e];

			if (exact_only && (d & GRAPH_INTERIOR))
				continue;
			d &= GRAPH_NODE_MASK;
			if (seen[d])
				continue;
			seen[d] = 1;
			prev[d] = n;
			queue[tail++] = d;
		}
	}
	free(seen);
	free(queue);
	return found;
}

/* The edge FROM -> TO is interior (FROM a node) when no start pointer
 * from FROM to TO exists. */
static bool edge_interior(const struct heap_graph *g, uint32_t from, uint32_t to)
{
	bool any = false;

	for (size_t e = g->off[from]; e < g->off[from + 1]; e++) {
		if ((g->dst[e] & GRAPH_NODE_MASK) != to)
			continue;
		if (!(g->dst[e] & GRAPH_INTERIOR))
			return false;
		any = true;
	}
	return any;
}

static void build_path(const struct heap_graph *g, uint32_t target, const uint32_t *prev,
		       struct why_result *r)
{
	size_t len = 1, i;
	uint32_t n;
	size_t best = SIZE_MAX;

	for (n = target; prev[n] != GRAPH_NONE; n = prev[n])
		len++;
	r->nr_path = len + 1;
	r->path = xcalloc(r->nr_path, sizeof(*r->path));
	i = r->nr_path - 1;
	for (n = target;; n = prev[n]) {
		r->path[i].node = n;
		r->path[i].offset = -1;
		if (i + 1 < r->nr_path) {
			r->path[i].offset = heap_graph_edge_offset(g, n, r->path[i + 1].node);
			r->path[i + 1].interior = edge_interior(g, n, r->path[i + 1].node);
		}
		i--;
		if (prev[n] == GRAPH_NONE)
			break;
	}
	/* the root step: a root word pointing at path[1], a start pointer
	 * if there is one */
	for (size_t e = 0; e < g->nr_root_edges; e++) {
		uint32_t d = g->root_dst[e];

		if ((d & GRAPH_NODE_MASK) != r->path[1].node)
			continue;
		if (best == SIZE_MAX || !(d & GRAPH_INTERIOR))
			best = e;
		if (!(d & GRAPH_INTERIOR))
			break;
	}
	r->path[0].node = GRAPH_NONE;
	r->path[0].offset = -1;
	if (best != SIZE_MAX) {
		size_t root = 0;

		/* which root owns edge BEST (root_off is sorted) */
		size_t lo = 0, hi = g->nr_roots;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (g->root_off[mid + 1] <= best)
				lo = mid + 1;
			else
				hi = mid;
		}
		root = lo;
		r->path[0].root = (uint32_t)root;
		r->path[0].slot = g->root_slot[best];
		r->path[1].interior = (g->root_dst[best] & GRAPH_INTERIOR) != 0;
	}
}

int why_explain(const struct heap_graph *g, taddr_t addr, struct why_result *r)
{
	uint32_t target = heap_graph_find(g, addr);
	uint8_t *mark;

	memset(r, 0, sizeof(*r));
	if (target == GRAPH_NONE)
		return -ENOENT;
	r->node = target;
	mark = xcalloc(g->nr_nodes, 1);
	leaks_mark(g, mark);
	if (mark[target] & LEAK_MARK_EXACT)
		r->state = LEAK_REACHABLE;
	else if (mark[target] & LEAK_MARK_ANY)
		r->state = LEAK_POSSIBLY;
	else
		r->state = LEAK_LEAKED;
	free(mark);

	if (r->state != LEAK_LEAKED) {
		uint32_t *prev = xmalloc(st_mult(g->nr_nodes, sizeof(*prev)));

		if (search(g, target, r->state == LEAK_REACHABLE, prev))
			build_path(g, target, prev, r);
		free(prev);
		return 0;
	}
	for (size_t n = 0; n < g->nr_nodes; n++)
		for (size_t e = g->off[n]; e < g->off[n + 1]; e++)
			if ((g->dst[e] & GRAPH_NODE_MASK) == target) {
				r->referrers = xrealloc(r->referrers,
							st_mult(r->nr_referrers + 1,
								sizeof(*r->referrers)));
				r->referrers[r->nr_referrers++] = (uint32_t)n;
				break;
			}
	return 0;
}

void why_release(struct why_result *r)
{
	free(r->path);
	free(r->referrers);
	memset(r, 0, sizeof(*r));
}
