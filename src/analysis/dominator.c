/*
 * dominator.c - Lengauer-Tarjan dominators over the heap graph, retained
 * sizes.
 *
 * The simple version of Lengauer and Tarjan ("A fast algorithm for finding
 * dominators in a flowgraph", TOPLAS 1979): depth-first numbering,
 * semi-dominators in reverse preorder with a path-compressed forest
 * (eval/link), then immediate dominators in preorder. O(E log V), and no
 * worst case like the iterative Cooper-Harvey-Kennedy algorithm has on
 * deep graphs (a long list makes its intersections walk the whole tree).
 * Everything is iterative: a leaked-free list of millions of chunks is a
 * DFS path millions deep.
 *
 * Vertices (dominator.h): 0 the super-root, 1..R the roots, then the
 * nodes. Internally everything after the DFS is indexed by preorder
 * number (1-based; 0 means "none"), which keeps the arrays dense. The
 * predecessor lists are built once as CSR (4 bytes an edge).
 *
 * Retained sizes: a vertex's own size (chunks only), plus its dominator
 * tree children's, summed in reverse preorder (a vertex's preorder number
 * is larger than its immediate dominator's).
 */
#include "config.h"
#include "analysis/dominator.h"
#include "analysis/graph.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct lt {
	const struct heap_graph *g;
	uint32_t nr_v;		/* vertices */
	uint32_t R;		/* roots */
	uint32_t *dfn;		/* vertex -> preorder number, 0 = not reached */
	uint32_t *vertex;	/* preorder number -> vertex */
	uint32_t *parent;	/* preorder -> preorder of the DFS parent */
	uint32_t n;		/* vertices reached */
};

/* Successors of vertex V: a slice of one of the graph's arrays plus the
 * offset that turns its entries into vertices. */
struct succ {
	const uint32_t *v;
	size_t i, end;
	uint32_t add;
	bool super;	/* vertex 0: successors are 1..R */
};

static void succ_of(const struct lt *lt, uint32_t v, struct succ *s)
{
	const struct heap_graph *g = lt->g;

	memset(s, 0, sizeof(*s));
	if (v == 0) {
		s->super = true;
		s->i = 1;
		s->end = (size_t)lt->R + 1;
	} else if (v <= lt->R) {
		s->v = g->root_dst;
		s->i = g->root_off[v - 1];
		s->end = g->root_off[v];
		s->add = lt->R + 1;
	} else {
		uint32_t n = v - lt->R - 1;

		s->v = g->dst;
		s->i = g->off[n];
		s->end = g->off[n + 1];
		s->add = lt->R + 1;
	}
}

static uint32_t succ_get(const struct succ *s, size_t i)
{
	return s->super ? (uint32_t)i : (s->v[i] & GRAPH_NODE_MASK) + s->add;
}

/*
 * Iterative DFS from vertex 0: preorder numbers (dfn, vertex) and the DFS
 * tree's parents. The explicit stack holds each open vertex's successor
 * cursor, and TREE the preorder numbers of the same vertices.
 */
static void dfs(struct lt *lt)
{
	struct succ *stack = NULL;
	uint32_t *tree = NULL;
	size_t depth = 0, alloc = 0, alloc_tree = 0;

	lt->n = 1;
	lt->dfn[0] = 1;
	lt->vertex[1] = 0;
	lt->parent[1] = 0;
	ALLOC_GROW(stack, 1, alloc);
	ALLOC_GROW(tree, 1, alloc_tree);
	succ_of(lt, 0, &stack[0]);
	tree[0] = 1;
	depth = 1;
	while (depth) {
		struct succ *s = &stack[depth - 1];
		uint32_t w;

		if (s->i >= s->end) {
			depth--;
			continue;
		}
		w = succ_get(s, s->i++);
		if (lt->dfn[w])
			continue;
		lt->dfn[w] = ++lt->n;
		lt->vertex[lt->n] = w;
		lt->parent[lt->n] = tree[depth - 1];
		ALLOC_GROW(stack, depth + 1, alloc);
		ALLOC_GROW(tree, depth + 1, alloc_tree);
		tree[depth] = lt->n;
		succ_of(lt, w, &stack[depth++]);
	}
	free(stack);
	free(tree);
}

/* eval(V) of the path-compressed forest: the vertex with the smallest
 * semi-dominator on V's path to its forest root (iterative compress). */
static uint32_t eval(uint32_t v, uint32_t *ancestor, uint32_t *label, const uint32_t *semi,
		     uint32_t *path)
{
	size_t len = 0;
	uint32_t x = v;

	if (!ancestor[v])
		return v;
	while (ancestor[ancestor[x]]) {
		path[len++] = x;
		x = ancestor[x];
	}
	while (len) {
		uint32_t y = path[--len], a = ancestor[y];

		if (semi[label[a]] < semi[label[y]])
			label[y] = label[a];
		ancestor[y] = ancestor[a];
	}
	return label[v];
}

void retained_compute(const struct heap_graph *g, struct retained *ret)
{
	struct lt lt = { .g = g };
	uint64_t *poff;
	size_t nr_pred;
	uint32_t *pred, *semi, *idom, *ancestor, *label, *bhead, *bnext, *path;
	uint32_t nr_v;

	memset(ret, 0, sizeof(*ret));
	nr_v = (uint32_t)(1 + g->nr_roots + g->nr_nodes);
	lt.nr_v = nr_v;
	lt.R = (uint32_t)g->nr_roots;
	ret->nr_vertices = nr_v;
	ret->nr_roots = g->nr_roots;
	lt.dfn = xcalloc(nr_v, sizeof(*lt.dfn));
	lt.vertex = xcalloc((size_t)nr_v + 1, sizeof(*lt.vertex));
	lt.parent = xcalloc((size_t)nr_v + 1, sizeof(*lt.parent));
	dfs(&lt);

	/* predecessors (vertex space), CSR, only between reached vertices */
	poff = xcalloc((size_t)nr_v + 1, sizeof(*poff));
	for (uint32_t v = 0; v < nr_v; v++) {
		struct succ s;

		if (!lt.dfn[v])
			continue;
		succ_of(&lt, v, &s);
		for (size_t i = s.i; i < s.end; i++)
			poff[succ_get(&s, i) + 1]++;
	}
	for (uint32_t v = 0; v < nr_v; v++)
		poff[v + 1] += poff[v];
	nr_pred = poff[nr_v];
	pred = xmalloc(st_mult(nr_pred ? nr_pred : 1, sizeof(*pred)));
	for (uint32_t v = 0; v < nr_v; v++) {
		struct succ s;

		if (!lt.dfn[v])
			continue;
		succ_of(&lt, v, &s);
		for (size_t i = s.i; i < s.end; i++)
			pred[poff[succ_get(&s, i)]++] = v;
	}
	/* poff[v] now points past v's slice: shift back */
	for (uint32_t v = nr_v; v > 0; v--)
		poff[v] = poff[v - 1];
	poff[0] = 0;

	/* semi-dominators, in preorder space */
	{
		uint32_t n = lt.n;

		semi = xmalloc(((size_t)n + 1) * sizeof(*semi));
		idom = xcalloc((size_t)n + 1, sizeof(*idom));
		/* sized for every vertex: they become ret->idom and
		 * ret->count afterwards (fresh pages cost more than the
		 * computation here) */
		ancestor = xcalloc((size_t)nr_v + 1, sizeof(*ancestor));
		label = xmalloc(((size_t)nr_v + 1) * sizeof(*label));
		bhead = xcalloc((size_t)n + 1, sizeof(*bhead));
		bnext = xcalloc((size_t)n + 1, sizeof(*bnext));
		path = xmalloc(((size_t)n + 1) * sizeof(*path));
		for (uint32_t i = 0; i <= n; i++)
			semi[i] = label[i] = i;

		for (uint32_t w = n; w >= 2; w--) {
			uint32_t vw = lt.vertex[w], p = lt.parent[w];

			for (size_t k = poff[vw]; k < poff[vw + 1]; k++) {
				uint32_t u = lt.dfn[pred[k]], x;

				if (!u)
					continue;
				x = eval(u, ancestor, label, semi, path);
				if (semi[x] < semi[w])
					semi[w] = semi[x];
			}
			bnext[w] = bhead[semi[w]];
			bhead[semi[w]] = w;
			ancestor[w] = p;	/* link(p, w) */
			for (uint32_t v = bhead[p]; v; v = bnext[v]) {
				uint32_t x = eval(v, ancestor, label, semi, path);

				idom[v] = semi[x] < semi[v] ? x : p;
			}
			bhead[p] = 0;
		}
		for (uint32_t w = 2; w <= n; w++)
			if (idom[w] != semi[w])
				idom[w] = idom[idom[w]];
		free(semi);
		free(bhead);
		free(bnext);
		free(path);
	}
	free(pred);

	/* back to vertex space, and retained sizes, in reused buffers:
	 * poff (nr_v + 1 size_t) becomes the bytes, ancestor the idoms,
	 * label the counts */
	ret->idom = ancestor;
	ret->bytes = poff;
	ret->count = label;
	memset(ret->idom, 0xff, (size_t)nr_v * sizeof(*ret->idom));
	memset(ret->bytes, 0, (size_t)nr_v * sizeof(*ret->bytes));
	memset(ret->count, 0, (size_t)nr_v * sizeof(*ret->count));
	for (uint32_t w = 2; w <= lt.n; w++) {
		uint32_t v = lt.vertex[w];

		ret->idom[v] = lt.vertex[idom[w]];
		if (v > lt.R) {
			ret->bytes[v] = heap_graph_size(g, v - lt.R - 1);
			ret->count[v] = 1;
		}
	}
	for (uint32_t w = lt.n; w >= 2; w--) {
		uint32_t v = lt.vertex[w], d = ret->idom[v];

		ret->bytes[d] += ret->bytes[v];
		ret->count[d] += ret->count[v];
	}
	free(idom);
	free(lt.dfn);
	free(lt.vertex);
	free(lt.parent);
}

void retained_release(struct retained *r)
{
	free(r->idom);
	free(r->bytes);
	free(r->count);
	memset(r, 0, sizeof(*r));
}
