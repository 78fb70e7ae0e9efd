/*
 * leaks.c - reachability over the heap graph, and the heads of leaks.
 *
 * Two breadth-first passes from the roots (leaks_mark): the first follows
 * only pointers to chunk starts, from root words that point at a chunk's
 * start; the second follows every edge from every root edge. Nodes the
 * first pass reaches are reachable, nodes only the second reaches are
 * possibly leaked, the rest are leaked. This is memcheck's rule
 * (mc_leakcheck.c: a chunk reached from a "possible" chunk is itself only
 * possible).
 *
 * Leak roots: the leaked subgraph's strongly connected components
 * (Tarjan's algorithm, iterative: a leaked list of a million nodes must
 * not recurse a million deep); a component that no other leaked component
 * points to is a source, and its lowest-addressed chunk is the leak root.
 * An acyclic leak has one root per head chunk; a cycle with nothing
 * pointing into it has one root; memcheck picks one "definitely lost"
 * block per unreferenced clique the same way.
 */
#include "config.h"
#include "analysis/leaks.h"
#include "analysis/graph.h"
#include "snapshot/snapshot.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

static void bfs(const struct heap_graph *g, uint8_t *mark, uint8_t bit, bool exact_only,
		uint32_t *queue)
{
	size_t head = 0, tail = 0;

	for (size_t e = 0; e < g->nr_root_edges; e++) {
		uint32_t d = g->root_dst[e];

		if (exact_only && (d & GRAPH_INTERIOR))
			continue;
		d &= GRAPH_NODE_MASK;
		if (mark[d] & bit)
			continue;
		mark[d] |= bit;
		queue[tail++] = d;
	}
	while (head < tail) {
		uint32_t n = queue[head++];

		for (size_t e = g->off[n]; e < g->off[n + 1]; e++) {
			uint32_t d = g->dst[e];

			if (exact_only && (d & GRAPH_INTERIOR))
				continue;
			d &= GRAPH_NODE_MASK;
			if (mark[d] & bit)
				continue;
			mark[d] |= bit;
			queue[tail++] = d;
		}
	}
}

void leaks_mark(const struct heap_graph *g, uint8_t *mark)
{
	uint32_t *queue = xmalloc(st_mult(g->nr_nodes ? g->nr_nodes : 1, sizeof(*queue)));

	bfs(g, mark, LEAK_MARK_EXACT, true, queue);
	bfs(g, mark, LEAK_MARK_ANY, false, queue);
	free(queue);
}

/* ---- leak roots: source components of the leaked subgraph ---- */

struct frame {
	uint32_t n;
	size_t e;	/* next out-edge to look at */
};

/*
 * Tarjan over the leaked nodes (state LEAK_LEAKED). COMP gets a component
 * id per leaked node. Returns the number of components.
 */
static uint32_t leaked_components(const struct heap_graph *g, const uint8_t *state,
				  uint32_t *comp)
{
	size_t n = g->nr_nodes;
	uint32_t *index = xmalloc(st_mult(n, sizeof(*index)));
	uint32_t *low = xmalloc(st_mult(n, sizeof(*low)));
	uint8_t *on = xcalloc(n, 1);
	/* both stacks grow as needed: a few leaked chunks in a heap of
	 * millions need no stack of millions */
	uint32_t *stack = NULL;
	struct frame *call = NULL;
	size_t alloc_stack = 0, alloc_call = 0;
	uint32_t next = 0, nr_comp = 0;
	size_t sp = 0;

	memset(index, 0xff, n * sizeof(*index));
	for (size_t v0 = 0; v0 < n; v0++) {
		size_t depth = 0;

		if (state[v0] != LEAK_LEAKED || index[v0] != UINT32_MAX)
			continue;
		ALLOC_GROW(call, depth + 1, alloc_call);
		call[depth++] = (struct frame){ (uint32_t)v0, g->off[v0] };
		index[v0] = low[v0] = next++;
		ALLOC_GROW(stack, sp + 1, alloc_stack);
		stack[sp++] = (uint32_t)v0;
		on[v0] = 1;
		while (depth) {
			struct frame *f = &call[depth - 1];
			uint32_t v = f->n;

			if (f->e < g->off[v + 1]) {
				uint32_t w = g->dst[f->e++] & GRAPH_NODE_MASK;

				if (state[w] != LEAK_LEAKED)
					continue;
				if (index[w] == UINT32_MAX) {
					index[w] = low[w] = next++;
					ALLOC_GROW(stack, sp + 1, alloc_stack);
					stack[sp++] = w;
					on[w] = 1;
					ALLOC_GROW(call, depth + 1, alloc_call);
					call[depth++] = (struct frame){ w, g->off[w] };
				} else if (on[w]) {
					low[v] = MIN(low[v], index[w]);
				}
				continue;
			}
			/* v is done */
			if (low[v] == index[v]) {
				uint32_t w;

				do {
					w = stack[--sp];
					on[w] = 0;
					comp[w] = nr_comp;
				} while (w != v);
				nr_comp++;
			}
			depth--;
			if (depth) {
				uint32_t u = call[depth - 1].n;

				low[u] = MIN(low[u], low[v]);
			}
		}
	}
	free(index);
	free(low);
	free(on);
	free(stack);
	free(call);
	return nr_comp;
}

static int head_cmp(const void *a, const void *b, void *data)
{
	const struct heap_graph *g = data;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	uint64_t sx = heap_graph_size(g, x), sy = heap_graph_size(g, y);

	if (sx != sy)
		return sx > sy ? -1 : 1;
	return x < y ? -1 : x > y;
}

static void find_heads(const struct heap_graph *g, struct leak_report *r)
{
	uint32_t *comp = xmalloc(st_mult(g->nr_nodes, sizeof(*comp)));
	uint32_t nr_comp = leaked_components(g, r->state, comp);
	uint8_t *entered = xcalloc(nr_comp ? nr_comp : 1, 1);
	uint32_t *rep = xmalloc(st_mult(nr_comp ? nr_comp : 1, sizeof(*rep)));

	memset(rep, 0xff, (nr_comp ? nr_comp : 1) * sizeof(*rep));
	for (size_t v = 0; v < g->nr_nodes; v++) {
		if (r->state[v] != LEAK_LEAKED)
			continue;
		if (rep[comp[v]] == UINT32_MAX)
			rep[comp[v]] = (uint32_t)v;	/* lowest address first */
		for (size_t e = g->off[v]; e < g->off[v + 1]; e++) {
			uint32_t w = g->dst[e] & GRAPH_NODE_MASK;

			if (r->state[w] == LEAK_LEAKED && comp[w] != comp[v])
				entered[comp[w]] = 1;
		}
	}
	r->heads = xmalloc(st_mult(nr_comp ? nr_comp : 1, sizeof(*r->heads)));
	for (uint32_t c = 0; c < nr_comp; c++) {
		if (entered[c])
			continue;
		r->heads[r->nr_heads++] = rep[c];
		r->leak_roots.count++;
		r->leak_roots.bytes += heap_graph_size(g, rep[c]);
	}
	qsort_r(r->heads, r->nr_heads, sizeof(*r->heads), head_cmp, (void *)g);
	free(comp);
	free(entered);
	free(rep);
}

/* ---- by type ---- */

static int type_row_cmp(const void *a, const void *b)
{
	const struct leak_type_row *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	if (strcmp(x->type, y->type))
		return strcmp(x->type, y->type);
	return (int)x->inferred - (int)y->inferred;
}

static void group_types(const struct heap_graph *g, struct leak_report *r)
{
	const struct snapshot *s = g->snap;
	size_t nt = s->types ? s->types->nr_names : 0;
	/* rows 2t (exact) and 2t + 1 (typed by shape), then "untyped" */
	struct leak_type_row *rows = xcalloc(2 * nt + 1, sizeof(*rows));

	for (size_t i = 0; i < nt; i++) {
		rows[2 * i].type = s->types->names[i];
		rows[2 * i + 1].type = s->types->names[i];
		rows[2 * i + 1].inferred = true;
	}
	rows[2 * nt].type = "untyped";
	for (size_t v = 0; v < g->nr_nodes; v++) {
		uint32_t t = SNAPSHOT_UNTYPED;
		size_t k;

		if (r->state[v] != LEAK_LEAKED)
			continue;
		if (s->types)
			t = s->types->of_chunk[g->chunk[v]];
		k = t < nt ? 2 * t + (s->types->flags[g->chunk[v]] & SNAPSHOT_TYPE_INFERRED ? 1 : 0)
			   : 2 * nt;
		rows[k].count++;
		rows[k].bytes += heap_graph_size(g, (uint32_t)v);
	}
	for (size_t i = 0; i <= 2 * nt; i++)
		if (rows[i].count)
			rows[r->nr_by_type++] = rows[i];
	qsort(rows, r->nr_by_type, sizeof(*rows), type_row_cmp);
	r->by_type = rows;
}

void leaks_find(const struct heap_graph *g, struct leak_report *r)
{
	uint8_t *mark = xcalloc(g->nr_nodes ? g->nr_nodes : 1, 1);

	memset(r, 0, sizeof(*r));
	leaks_mark(g, mark);
	for (size_t v = 0; v < g->nr_nodes; v++) {
		uint64_t size = heap_graph_size(g, (uint32_t)v);
		struct heap_count *c;

		if (mark[v] & LEAK_MARK_EXACT) {
			mark[v] = LEAK_REACHABLE;
			c = &r->reachable;
		} else if (mark[v] & LEAK_MARK_ANY) {
			mark[v] = LEAK_POSSIBLY;
			c = &r->possibly;
		} else {
			mark[v] = LEAK_LEAKED;
			c = &r->leaked;
		}
		c->count++;
		c->bytes += size;
	}
	r->state = mark;
	if (r->leaked.count)
		find_heads(g, r);
	group_types(g, r);
}

void leaks_release(struct leak_report *r)
{
	free(r->state);
	free(r->heads);
	free(r->by_type);
	memset(r, 0, sizeof(*r));
}
