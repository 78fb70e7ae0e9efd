/*
 * graph.c - build the heap graph: nodes, address lookup, conservative scan.
 *
 * 1. Nodes. The live chunks (CHUNK_INUSE, CHUNK_MMAPPED) in address
 *    order. The walk emits them in a few ascending runs (one per heap
 *    segment, then the mmapped chunks; a loaded snapshot is sorted
 *    already), so they are put in order by merging runs, with no sort of
 *    millions of keys. Node N's user area is [start, end):
 *      start = chunk_mem() (what malloc returned; heap/heap.h);
 *      end   = chunk_end(): chunk + size for an arena chunk. Its last 8
 *              usable bytes lie in the next chunk's prev_size field (glibc
 *              malloc.c, "chunk details"); they are scanned (a struct's
 *              last member may live there: chunk_usable()), but a pointer
 *              to them does not count: chunk + size is also the header of
 *              the next chunk, which is what bins, top and last_remainder
 *              point to, and those must never keep an in-use chunk alive;
 *      end   = the mapping's end for an mmapped chunk (chunk_end() without
 *              the memalign padding the walk's size covers).
 *
 * 2. Lookup. A two-level page table: one entry per GiB of address space
 *    (2^17 entries cover the 47-bit user space) pointing at a table with
 *    one entry per 4 KiB page of that GiB: the first node overlapping the
 *    page. A lookup is two loads and a binary search among the at most
 *    129 nodes that can start in one page (MINSIZE is 32). Only the GiB
 *    granules that hold chunks get a table (1 MiB each). Nodes longer
 *    than BIG_NODE_SPAN stay out of the tables (their pages would cost
 *    memory and time in proportion to their size): a lookup the tables
 *    cannot answer searches them, few and sorted.
 *
 * 3. Chunk edges. Every live chunk's user area, in address order (the
 *    image's segments are walked with a cursor), every aligned word: a
 *    word in [lo, hi) of all nodes is looked up. Edges are appended to one
 *    array; because chunks are scanned in node order the array is already
 *    CSR. A node's self-references are dropped, and so are consecutive
 *    duplicates. A big heap is scanned by one thread per CPU, each a
 *    share of consecutive nodes, joined in order into the same arrays
 *    (measured: the graph of a 1 GiB, 4M-chunk heap 1.0 s -> 0.77 s on
 *    two cores).
 *
 * 4. Roots (roots/regions.c). Registers of every thread, then the root
 *    ranges in address order. A word that references a node asks the
 *    roots layer which root it belongs to (roots_locate), unless it lies
 *    in the range the last answer covered. Names (root_name) are interned
 *    in a hash table (one root per name); root edges are collected as
 *    (root, node, slot) and put into CSR order by a counting sort.
 *
 * Memory: 24 bytes a node (chunk index, start, end) + 8 (edge offsets) +
 * 4 an edge, + 12 a root edge; the page tables; nothing per word.
 */
#include "config.h"
#include "analysis/graph.h"
#include "heap/heap.h"
#include "snapshot/snapshot.h"
#include "target/target.h"
#include "util/diag.h"
#include "util/errors.h"
#include "util/hashmap.h"
#include "util/workers.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define DIR_SHIFT 30		/* 1 GiB granules */
#define DIR_ENTRIES (1u << 17)	/* 2^47 / 2^30 */
#define PAGE_SHIFT 12
#define PAGE_ENTRIES (1u << (DIR_SHIFT - PAGE_SHIFT))
#define ADDR_LIMIT ((taddr_t)1 << 47)
/* At most this many nodes overlap one page: 4096 / 32 (MINSIZE) starts
 * plus the node that began in an earlier page. */
#define PAGE_MAX_NODES 129
/* Nodes longer than this are not put in the page table (a 1 TiB malloc
 * would cost 256M page entries and 1 GiB of tables; a hostile heap can
 * claim as much): they are kept apart, sorted, and searched when the
 * page table has no answer. */
#define BIG_NODE_SPAN (16u << 20)

static bool is_live(const struct chunk *c)
{
	return c->state == CHUNK_INUSE || c->state == CHUNK_MMAPPED;
}

/* ---- 1. nodes in address order ---- */

/* Merge the ascending runs of IDX (chunk indexes; addresses from W)
 * bottom-up. Returns the sorted array (IDX or the scratch, the other is
 * freed). */
static uint32_t *merge_runs(const struct heap_walk *w, uint32_t *idx, size_t n)
{
	size_t *runs = NULL, nr = 0, alloc = 0;
	uint32_t *tmp;

	ALLOC_GROW(runs, 1, alloc);
	runs[nr++] = 0;
	for (size_t i = 1; i < n; i++)
		if (w->chunks[idx[i]].addr < w->chunks[idx[i - 1]].addr) {
			ALLOC_GROW(runs, nr + 1, alloc);
			runs[nr++] = i;
		}
	if (nr == 1) {
		free(runs);
		return idx;
	}
	tmp = xmalloc(st_mult(n, sizeof(*tmp)));
	while (nr > 1) {
		size_t out = 0, k;

		for (k = 0; k < nr; k += 2) {
			size_t a = runs[k], ae = k + 1 < nr ? runs[k + 1] : n;
			size_t b = ae, be = k + 2 < nr ? runs[k + 2] : n;
			size_t o = a;

			if (k + 1 >= nr)
				be = b;	/* odd run out: copied alone */
			while (a < ae && b < be)
				tmp[o++] = w->chunks[idx[a]].addr <= w->chunks[idx[b]].addr ?
					   idx[a++] : idx[b++];
			while (a < ae)
				tmp[o++] = idx[a++];
			while (b < be)
				tmp[o++] = idx[b++];
			runs[out++] = runs[k];
		}
		nr = out;
		{
			uint32_t *s = idx;

			idx = tmp;
			tmp = s;
		}
	}
	free(tmp);
	free(runs);
	return idx;
}

static int build_nodes(struct heap_graph *g)
{
	const struct heap_walk *w = &g->snap->walk;
	size_t n = 0;
	uint32_t *idx;

	for (size_t i = 0; i < w->nr_chunks; i++)
		n += is_live(&w->chunks[i]);
	if (n > GRAPH_MAX_NODES || w->nr_chunks > UINT32_MAX)
		return -HG_E_UNSUPPORTED;
	idx = xmalloc(st_mult(n ? n : 1, sizeof(*idx)));
	n = 0;
	for (size_t i = 0; i < w->nr_chunks; i++)
		if (is_live(&w->chunks[i]))
			idx[n++] = (uint32_t)i;
	if (n)
		idx = merge_runs(w, idx, n);
	g->nr_nodes = n;
	g->chunk = idx;
	g->start = xmalloc(st_mult(n ? n : 1, sizeof(*g->start)));
	g->end = xmalloc(st_mult(n ? n : 1, sizeof(*g->end)));
	for (size_t i = 0; i < n; i++) {
		const struct chunk *c = &w->chunks[idx[i]];

		g->start[i] = chunk_mem(c);
		g->end[i] = MAX(chunk_end(c, chunk_mmap_padding(c, g->image)), g->start[i] + 8);
	}
	return 0;
}

/* ---- 2. address -> node ---- */

static uint32_t *page_table(struct heap_graph *g, taddr_t a, bool create)
{
	uint32_t d = g->dir[a >> DIR_SHIFT];

	if (d != GRAPH_NONE)
		return g->pages[d];
	if (!create)
		return NULL;
	g->pages = xrealloc(g->pages, st_mult(g->nr_pages_tables + 1, sizeof(*g->pages)));
	g->pages[g->nr_pages_tables] = xmalloc(PAGE_ENTRIES * sizeof(uint32_t));
	memset(g->pages[g->nr_pages_tables], 0xff, PAGE_ENTRIES * sizeof(uint32_t));
	g->dir[a >> DIR_SHIFT] = (uint32_t)g->nr_pages_tables;
	return g->pages[g->nr_pages_tables++];
}

static void build_lookup(struct heap_graph *g)
{
	g->dir = xmalloc(DIR_ENTRIES * sizeof(*g->dir));
	memset(g->dir, 0xff, DIR_ENTRIES * sizeof(*g->dir));
	g->lo = g->hi = 0;
	for (size_t i = 0; i < g->nr_nodes; i++) {
		taddr_t s = g->start[i], e = g->end[i];

		if (e > ADDR_LIMIT || s >= e)
			continue;	/* not addressable on x86-64 */
		if (g->lo == g->hi) {
			g->lo = s;
			g->hi = e;
		}
		g->lo = MIN(g->lo, s);
		g->hi = MAX(g->hi, e);
		if (e - s > BIG_NODE_SPAN) {
			ALLOC_GROW(g->big, g->nr_big + 1, g->alloc_big);
			g->big[g->nr_big++] = (uint32_t)i;
			continue;
		}
		for (taddr_t p = s >> PAGE_SHIFT; p <= (e - 1) >> PAGE_SHIFT; p++) {
			uint32_t *t = page_table(g, p << PAGE_SHIFT, true);
			uint32_t *slot = &t[p & (PAGE_ENTRIES - 1)];

			if (*slot == GRAPH_NONE)
				*slot = (uint32_t)i;
		}
	}
}

/* The big node (BIG_NODE_SPAN) holding A, or GRAPH_NONE. */
static uint32_t lookup_big(const struct heap_graph *g, taddr_t a)
{
	size_t lo = 0, hi = g->nr_big;
	uint32_t n;

	/* the last big node starting at or below a (node order is address
	 * order) */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (g->start[g->big[mid]] <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return GRAPH_NONE;
	n = g->big[lo - 1];
	return a < g->end[n] ? n : GRAPH_NONE;
}

static inline uint32_t lookup(const struct heap_graph *g, taddr_t a)
{
	uint32_t d, i;
	size_t lo, hi;

	if (a - g->lo >= g->hi - g->lo)
		return GRAPH_NONE;
	d = g->dir[a >> DIR_SHIFT];
	if (d == GRAPH_NONE)
		return g->nr_big ? lookup_big(g, a) : GRAPH_NONE;
	i = g->pages[d][(a >> PAGE_SHIFT) & (PAGE_ENTRIES - 1)];
	if (i == GRAPH_NONE || g->start[i] > a)
		return g->nr_big ? lookup_big(g, a) : GRAPH_NONE;
	/* the last node in [i, i + PAGE_MAX_NODES) with start <= a */
	lo = i;
	hi = MIN(g->nr_nodes, (size_t)i + PAGE_MAX_NODES);
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (g->start[mid] <= a)
			lo = mid;
		else
			hi = mid;
	}
	if (a < g->end[lo])
		return (uint32_t)lo;
	return g->nr_big ? lookup_big(g, a) : GRAPH_NONE;
}

uint32_t heap_graph_lookup(const struct heap_graph *g, taddr_t addr)
{
	if (!g->nr_nodes)
		return GRAPH_NONE;
	return lookup(g, addr);
}

uint64_t heap_graph_size(const struct heap_graph *g, uint32_t n)
{
	return g->snap->walk.chunks[g->chunk[n]].size;
}

/* The end of node N's usable bytes: for an arena chunk 8 past end[N],
 * the next chunk's prev_size field (heap/heap.h chunk_usable). */
static taddr_t scan_end(const struct heap_graph *g, uint32_t n)
{
	const struct chunk *c = &g->snap->walk.chunks[g->chunk[n]];

	return MAX(g->end[n], g->start[n] + chunk_usable(c, chunk_mmap_padding(c, g->image)));
}

uint32_t heap_graph_find(const struct heap_graph *g, taddr_t addr)
{
	size_t lo = 0, hi = g->nr_nodes;

	/* the last node whose chunk header is at or below addr */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (g->start[mid] - CHUNK_MEM_OFFSET <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return GRAPH_NONE;
	lo--;
	return addr < scan_end(g, (uint32_t)lo) ? (uint32_t)lo : GRAPH_NONE;
}

/* ---- reading the image ---- */

/* A cursor over the memimage's segments: consecutive reads in address
 * order cost one comparison. */
struct cursor {
	struct target *t;
	struct memimage *mi;
	size_t nr, i;
	taddr_t s, e;
	const unsigned char *data;
};

static void cursor_init(struct cursor *c, struct target *t)
{
	memset(c, 0, sizeof(*c));
	c->t = t;
	c->mi = memimage_of(t);
	c->nr = c->mi ? memimage_nr_segments(c->mi) : 0;
}

/* Host pointer to the longest prefix of [a, a + len) that one segment
 * holds; *RET_LEN its length (0 and NULL when A is not held). */
static const void *cursor_map(struct cursor *c, taddr_t a, size_t len, size_t *ret_len)
{
	if (!(a >= c->s && a < c->e)) {
		size_t lo = 0, hi = c->nr;

		if (!c->mi) {
			const void *p = target_map(c->t, a, len);

			*ret_len = p ? len : 0;
			return p;
		}
		/* the last segment starting at or below a */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			taddr_t st;
			size_t ln;

			(void)memimage_segment(c->mi, mid, &st, &ln);
			if (st <= a)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (!lo) {
			*ret_len = 0;
			return NULL;
		}
		{
			size_t ln;

			c->i = lo - 1;
			c->data = memimage_segment(c->mi, c->i, &c->s, &ln);
			c->e = c->s + ln;
		}
		if (a >= c->e) {
			*ret_len = 0;
			return NULL;
		}
	}
	*ret_len = (size_t)MIN((taddr_t)len, c->e - a);
	return c->data + (a - c->s);
}

/*
 * A is in a hole of the image: where the scan of [A, E) goes on, the next
 * 8-aligned address the image holds (in one step, however big the hole:
 * a sparse or hostile mapping), or the next page when the backend cannot
 * tell (a core).
 */
static taddr_t skip_hole(const struct heap_graph *g, taddr_t a, taddr_t e)
{
	taddr_t next = target_next_held(g->image, a);

	if (next <= a)
		next = (a | 4095) + 1;
	else if (next < UINT64_MAX - 7)
		next = (next + 7) & ~(taddr_t)7;
	return MIN(e, next);
}

/* ---- 3. chunk edges ---- */

/*
 * The scan runs in shares of consecutive nodes, cut so that each holds
 * about the same bytes to scan, one thread each (util/workers.h): a
 * share appends to its own edge array, and its nodes' offsets are first
 * relative to it. When all are done the arrays are joined in share order
 * and the offsets moved by the edges of the shares before: the same CSR
 * arrays, edge for edge, whatever the number of threads (HEAPGRAB_THREADS
 * forces one, for tests). The image must take concurrent reads
 * (target_concurrent_reads: a memimage, a core); otherwise, and for a
 * heap smaller than SCAN_SHARE_MIN bytes, one share in the caller.
 */
#define SCAN_SHARE_MIN (4u << 20)
#define SCAN_THREADS_MAX 8

struct scan_share {
	size_t first, last;	/* nodes [first, last) */
	uint32_t *dst;
	size_t nr, alloc;
	uint64_t words, unreadable;
};

struct scan_job {
	struct heap_graph *g;
	const struct graph_hooks *hooks;
	struct scan_share *share;
};

static void push_edge(struct scan_share *sh, uint32_t e)
{
	ALLOC_GROW(sh->dst, sh->nr + 1, sh->alloc);
	sh->dst[sh->nr++] = e;
}

/* The K-th word at P. The image's bytes need not be 8-aligned in host
 * memory (a segment of a hostile core or image may start anywhere). */
static inline uint64_t word(const unsigned char *p, size_t k)
{
	uint64_t v;

	memcpy(&v, p + 8 * k, sizeof(v));
	return v;
}

static void scan_words(const struct heap_graph *g, struct scan_share *sh, uint32_t self,
		       const unsigned char *p, size_t nw, size_t first_word,
		       const struct ptr_layout *lay, size_t node_first_edge)
{
	for (size_t k = 0; k < nw; k++) {
		uint64_t v = word(p, k);
		uint32_t d, e;

		if (v - g->lo >= g->hi - g->lo)
			continue;
		if (lay) {
			size_t wi = (first_word + k) % lay->period;

			if (!(lay->bits[wi / 64] >> (wi % 64) & 1))
				continue;
		}
		d = lookup(g, v);
		if (d == GRAPH_NONE || d == self)
			continue;
		e = d | (v == g->start[d] ? 0 : GRAPH_INTERIOR);
		if (sh->nr > node_first_edge && sh->dst[sh->nr - 1] == e)
			continue;
		push_edge(sh, e);
	}
}

/* Scan the nodes of share I; g->off of its nodes relative to its edges. */
static void scan_share(void *arg, unsigned i)
{
	const struct scan_job *job = arg;
	struct heap_graph *g = job->g;
	const struct graph_hooks *hooks = job->hooks;
	struct scan_share *sh = &job->share[i];
	struct cursor cur;

	cursor_init(&cur, g->image);
	for (size_t n = sh->first; n < sh->last; n++) {
		taddr_t a = g->start[n], e = scan_end(g, (uint32_t)n);
		const struct ptr_layout *lay = NULL;
		struct ptr_layout layout;
		size_t first = sh->nr;

		g->off[n] = sh->nr;
		if (hooks && hooks->layout && hooks->layout(hooks->data, g->snap, g->chunk[n], &layout) &&
		    layout.period)
			lay = &layout;
		while (a < e) {
			size_t len;
			const void *p = cursor_map(&cur, a, (size_t)(e - a), &len);

			if (!p) {
				taddr_t next = skip_hole(g, a, e);

				sh->unreadable += next - a;
				a = next;
				continue;
			}
			len &= ~(size_t)7;
			if (!len)
				break;
			scan_words(g, sh, (uint32_t)n, p, len / 8, (size_t)(a - g->start[n]) / 8, lay,
				   first);
			sh->words += len / 8;
			a += len;
		}
	}
}

/* Threads for scanning TOTAL bytes. */
static unsigned scan_threads(const struct heap_graph *g, uint64_t total)
{
	unsigned n = workers_forced();

	if (!target_concurrent_reads(g->image) || !g->nr_nodes)
		return 1;
	if (n)
		return (unsigned)MIN((size_t)n, g->nr_nodes);
	n = MIN(workers_cpus(), SCAN_THREADS_MAX);
	return (unsigned)MAX(1, MIN((uint64_t)n, total / SCAN_SHARE_MIN));
}

static void scan_chunks(struct heap_graph *g, const struct graph_hooks *hooks)
{
	struct scan_share share[WORKERS_MAX];
	struct scan_job job = { g, hooks, share };
	struct workers *w = NULL;
	uint64_t total = 0, done = 0;
	unsigned nw, k = 0;
	size_t base = 0;

	for (size_t n = 0; n < g->nr_nodes; n++)
		total += scan_end(g, (uint32_t)n) - g->start[n];
	nw = scan_threads(g, total);
	if (nw > 1 && !(w = workers_new(nw)))
		nw = 1;
	nw = w ? workers_count(w) : 1;
	/* cut: share K + 1 starts past the node where K + 1 shares of the
	 * bytes are done (a node bigger than a share ends several) */
	memset(share, 0, sizeof(share[0]) * nw);
	for (k = 1; k < nw; k++)
		share[k].first = g->nr_nodes;
	k = 0;
	for (size_t n = 0; n < g->nr_nodes && k + 1 < nw; n++) {
		done += scan_end(g, (uint32_t)n) - g->start[n];
		while (k + 1 < nw && done * nw >= total * (k + 1))
			share[++k].first = n + 1;
	}
	for (k = 0; k < nw; k++)
		share[k].last = k + 1 < nw ? share[k + 1].first : g->nr_nodes;
	g->off = xmalloc(st_mult(g->nr_nodes + 1, sizeof(*g->off)));
	if (w) {
		workers_run(w, scan_share, &job);
		workers_free(w);
	} else {
		scan_share(&job, 0);
	}
	/* join: share 0's array grows to hold the others' */
	for (k = 0; k < nw; k++)
		g->nr_edges += share[k].nr;
	g->dst = share[0].dst;
	if (nw > 1)
		g->dst = xrealloc(g->dst, st_mult(MAX(g->nr_edges, 1), sizeof(*g->dst)));
	for (k = 0; k < nw; k++) {
		struct scan_share *sh = &share[k];

		for (size_t n = sh->first; n < sh->last; n++)
			g->off[n] += base;
		if (k) {
			if (sh->nr)
				memcpy(g->dst + base, sh->dst, sh->nr * sizeof(*g->dst));
			free(sh->dst);
		}
		base += sh->nr;
		g->chunk_words += sh->words;
		g->unreadable_chunk_bytes += sh->unreadable;
	}
	g->off[g->nr_nodes] = g->nr_edges;
}

/* ---- 4. roots ---- */

struct root_edge {
	uint32_t root;
	uint32_t dst;
	taddr_t slot;
};

struct root_scan {
	struct heap_graph *g;
	struct roots *roots;
	struct strbuf name;
	struct hashmap by_name;		/* root name (g->roots[].name) -> index */
	size_t alloc_roots;
	struct root_edge *edges;
	size_t nr_edges, alloc_edges;
	/* the last answer for memory words */
	taddr_t lo, hi;
	uint32_t root;
	uint64_t bias;
};

static uint32_t intern(struct root_scan *rs, const struct root *rn)
{
	struct heap_graph *g = rs->g;
	const uint64_t *found = hashmap_find_str(&rs->by_name, rs->name.buf);
	struct graph_root *r;

	if (found)
		return (uint32_t)*found;
	ALLOC_GROW(g->roots, g->nr_roots + 1, rs->alloc_roots);
	r = &g->roots[g->nr_roots];
	r->name = xstrdup(rs->name.buf);
	r->kind = rn->kind;
	r->tid = rn->tid;
	/* the key is the root's own copy of its name: it does not move */
	hashmap_put_str(&rs->by_name, r->name, g->nr_roots);
	return (uint32_t)g->nr_roots++;
}

static void add_root_edge(struct root_scan *rs, uint32_t root, uint32_t dst, taddr_t slot)
{
	struct root_edge *e;

	ALLOC_GROW(rs->edges, rs->nr_edges + 1, rs->alloc_edges);
	e = &rs->edges[rs->nr_edges++];
	e->root = root;
	e->dst = dst;
	e->slot = slot;
}

static uint32_t ask_roots(struct root_scan *rs, const struct root_word *w, struct root *rn)
{
	roots_locate(rs->roots, w, rn);
	strbuf_reset(&rs->name);
	root_name(rn, &rs->name);
	return intern(rs, rn);
}

static void scan_registers(struct root_scan *rs)
{
	struct heap_graph *g = rs->g;
	const struct target *t = g->image;

	for (size_t i = 0; i < t->nr_threads; i++) {
		const struct target_thread *th = &t->threads[i];

		for (size_t k = 0; k < nr_root_registers; k++) {
			unsigned reg = root_registers[k];
			struct root_word w = { .tid = th->tid, .reg = (int)reg };
			struct root rn;
			uint64_t v;
			uint32_t d, root;

			memcpy(&v, (const char *)&th->regs + (size_t)reg * 8, sizeof(v));
			d = lookup(g, v);
			if (d == GRAPH_NONE)
				continue;
			root = ask_roots(rs, &w, &rn);
			add_root_edge(rs, root, d | (v == g->start[d] ? 0 : GRAPH_INTERIOR), reg);
		}
	}
}

static void scan_root_words(struct root_scan *rs, taddr_t a, const unsigned char *p,
			    size_t nw)
{
	struct heap_graph *g = rs->g;

	for (size_t k = 0; k < nw; k++, a += 8) {
		uint64_t v = word(p, k);
		uint32_t d;

		if (v - g->lo >= g->hi - g->lo)
			continue;
		d = lookup(g, v);
		if (d == GRAPH_NONE)
			continue;
		if (a < rs->lo || a >= rs->hi) {
			struct root_word w = { .addr = a, .reg = -1 };
			struct root rn;

			rs->root = ask_roots(rs, &w, &rn);
			rs->lo = MIN(rn.start, a);
			rs->hi = MAX(rn.end, a + 8);
			rs->bias = rn.bias;
		}
		add_root_edge(rs, rs->root,
			      d | (v - rs->bias == g->start[d] ? 0 : GRAPH_INTERIOR), a);
	}
}

static void scan_roots(struct heap_graph *g, struct roots *roots)
{
	struct root_scan rs = { .g = g, .roots = roots, .name = STRBUF_INIT };
	struct root_range *ranges = NULL;
	size_t nr_ranges = 0, *count;
	struct cursor cur;

	hashmap_init(&rs.by_name, HASHMAP_STR);
	roots_ranges(roots, &g->snap->walk, &ranges, &nr_ranges);
	scan_registers(&rs);
	cursor_init(&cur, g->image);
	for (size_t i = 0; i < nr_ranges; i++) {
		taddr_t a = ranges[i].start, e = ranges[i].end;

		while (a < e) {
			size_t len;
			const void *p = cursor_map(&cur, a, (size_t)(e - a), &len);

			if (!p) {
				taddr_t next = skip_hole(g, a, e);

				g->unreadable_root_bytes += next - a;
				a = next;
				continue;
			}
			len &= ~(size_t)7;
			if (!len)
				break;
			scan_root_words(&rs, a, p, len / 8);
			g->root_words += len / 8;
			a += len;
		}
	}
	free(ranges);

	/* CSR by root: counting sort, stable (slots stay in scan order) */
	count = xcalloc(g->nr_roots + 1, sizeof(*count));
	for (size_t i = 0; i < rs.nr_edges; i++)
		count[rs.edges[i].root + 1]++;
	for (size_t r = 0; r < g->nr_roots; r++)
		count[r + 1] += count[r];
	g->root_off = xmalloc(st_mult(g->nr_roots + 1, sizeof(*g->root_off)));
	memcpy(g->root_off, count, (g->nr_roots + 1) * sizeof(*count));
	g->nr_root_edges = rs.nr_edges;
	g->root_dst = xmalloc(st_mult(rs.nr_edges ? rs.nr_edges : 1, sizeof(*g->root_dst)));
	g->root_slot = xmalloc(st_mult(rs.nr_edges ? rs.nr_edges : 1, sizeof(*g->root_slot)));
	for (size_t i = 0; i < rs.nr_edges; i++) {
		size_t o = count[rs.edges[i].root]++;

		g->root_dst[o] = rs.edges[i].dst;
		g->root_slot[o] = rs.edges[i].slot;
	}
	free(count);
	free(rs.edges);
	hashmap_release(&rs.by_name);
	strbuf_release(&rs.name);
}

int heap_graph_build(struct heap_graph *g, const struct snapshot *s,
		     const struct graph_hooks *hooks, struct diag_sink *diag)
{
	int err;

	memset(g, 0, sizeof(*g));
	g->snap = s;
	g->image = s->image;
	if (!s->image || !hooks || !hooks->roots)
		return -HG_E_UNSUPPORTED;
	err = build_nodes(g);
	if (err < 0)
		return err;
	build_lookup(g);
	scan_chunks(g, hooks);
	scan_roots(g, hooks->roots);
	if (g->unreadable_chunk_bytes)
		diag_report(diag, DIAG_WARNING,
			    "%" PRIu64 " bytes of live chunks are not in the memory image; "
			    "their pointers are not seen", g->unreadable_chunk_bytes);
	if (g->unreadable_root_bytes)
		diag_report(diag, DIAG_WARNING,
			    "%" PRIu64 " bytes of root memory are not in the memory image; "
			    "chunks they keep alive may be reported as leaked",
			    g->unreadable_root_bytes);
	return 0;
}

void heap_graph_release(struct heap_graph *g)
{
	for (size_t i = 0; i < g->nr_roots; i++)
		free(g->roots[i].name);
	free(g->roots);
	free(g->root_off);
	free(g->root_dst);
	free(g->root_slot);
	free(g->chunk);
	free(g->start);
	free(g->end);
	free(g->off);
	free(g->dst);
	for (size_t i = 0; i < g->nr_pages_tables; i++)
		free(g->pages[i]);
	free(g->pages);
	free(g->dir);
	free(g->big);
	memset(g, 0, sizeof(*g));
}

int64_t heap_graph_edge_offset(const struct heap_graph *g, uint32_t from, uint32_t to)
{
	taddr_t a = g->start[from], e = scan_end(g, from);
	uint64_t v;

	for (; a + 8 <= e; a += 8)
		if (target_read_u64(g->image, a, &v) == 0 && lookup(g, v) == to)
			return (int64_t)(a - g->start[from]);
	return -1;
}
