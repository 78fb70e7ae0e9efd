/*
 * t-leakgraph.c - the heap graph, leaks, why and retained sizes on
 * hand-built snapshots (a memimage with a heap, a data segment, a stack
 * and a thread; no glibc walk).
 *
 * Part 1, one small heap where each chunk tests one rule: exact and
 * interior pointers, the last 8 usable bytes (in the next chunk's
 * prev_size) scanned, a pointer to the next chunk's header not counted,
 * free chunks neither nodes nor scanned, a register root, the red zone
 * below rsp scanned and the dead stack below it not, an mmapped chunk with
 * memalign padding, a leaked cycle with one leak root, and why's chain.
 *
 * Part 2, random graphs: Lengauer-Tarjan's retained sizes against a brute
 * force oracle (a vertex retains exactly the chunks that become
 * unreachable when it is removed), and leaks against plain reachability.
 */
#include "config.h"
#include "tap.h"
#include "analysis/dominator.h"
#include "analysis/graph.h"
#include "analysis/leaks.h"
#include "roots/roots.h"
#include "analysis/why.h"
#include "snapshot/snapshot.h"
#include "target/target.h"
#include "util/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/user.h>

#define HEAP 0x10000000ull
#define HEAP_LEN 0x10000
#define DATA 0x20000000ull
#define STACK 0x30000000ull
#define STACK_LEN 0x2000
#define MMAP 0x40000000ull

struct fake {
	struct snapshot *s;
	unsigned char *heap, *data, *stack, *mm;
	taddr_t next;		/* next chunk address in the heap */
};

static void fake_init(struct fake *f)
{
	f->s = xcalloc(1, sizeof(*f->s));
	heap_walk_init(&f->s->walk);
	f->s->meta.pid = 1;
	f->heap = xcalloc(1, HEAP_LEN);
	f->data = xcalloc(1, 4096);
	f->stack = xcalloc(1, STACK_LEN);
	f->mm = xcalloc(1, 0x3000);
	f->next = HEAP;
}

static void put64(struct fake *f, taddr_t a, uint64_t v)
{
	unsigned char *p;

	if (a >= HEAP && a < HEAP + HEAP_LEN)
		p = f->heap + (a - HEAP);
	else if (a >= DATA && a < DATA + 4096)
		p = f->data + (a - DATA);
	else if (a >= STACK && a < STACK + STACK_LEN)
		p = f->stack + (a - STACK);
	else
		p = f->mm + (a - MMAP);
	memcpy(p, &v, 8);
}

/* A chunk of SIZE bytes at the next heap address; returns its user pointer. */
static taddr_t chunk(struct fake *f, uint64_t size, enum chunk_state st)
{
	taddr_t a = f->next;

	put64(f, a + 8, size | 1);
	heap_walk_add(&f->s->walk, a, size, 0, st);
	f->next += size;
	return a + 16;
}

/* Hand the buffers to an image with regions and one thread. */
static void fake_finish(struct fake *f, const struct user_regs_struct *regs)
{
	struct target *t = memimage_new();

	memimage_add(t, HEAP, f->heap, HEAP_LEN, false);
	memimage_add(t, DATA, f->data, 4096, false);
	memimage_add(t, STACK, f->stack, STACK_LEN, false);
	memimage_add(t, MMAP, f->mm, 0x3000, false);
	if (regs)
		memimage_add_thread(t, 7, regs);
	f->s->image = t;
	f->s->meta.nr_threads = regs ? 1 : 0;
}

static struct graph_hooks hooks_for(struct snapshot *s)
{
	struct graph_hooks h = { 0 };

	h.roots = roots_open(s->image, NULL);
	return h;
}

static enum leak_state state_of(const struct heap_graph *g, const struct leak_report *r,
				taddr_t user)
{
	uint32_t n = heap_graph_lookup(g, user);

	return n == GRAPH_NONE ? (enum leak_state)99 : (enum leak_state)r->state[n];
}

static void part1(void)
{
	struct fake f;
	struct user_regs_struct regs;
	struct graph_hooks h;
	struct heap_graph g;
	struct leak_report r;
	struct why_result w;
	taddr_t a, b, c, d, e, x, y, hdr, tail, tail_to, fr, fr_to, reg, rz, dead, big, big_to;
	int err;

	fake_init(&f);
	a = chunk(&f, 48, CHUNK_INUSE);		/* global -> a (exact) */
	b = chunk(&f, 64, CHUNK_INUSE);		/* a -> b (exact) */
	c = chunk(&f, 80, CHUNK_INUSE);		/* b -> c + 24 (interior) */
	d = chunk(&f, 32, CHUNK_INUSE);		/* c -> d: possibly too */
	e = chunk(&f, 48, CHUNK_INUSE);		/* leaked, -> x */
	x = chunk(&f, 48, CHUNK_INUSE);		/* x <-> y: cycle below e */
	y = chunk(&f, 48, CHUNK_INUSE);
	hdr = chunk(&f, 32, CHUNK_INUSE);	/* only the header of the next one
						 * (hdr's end) is pointed at */
	tail = chunk(&f, 32, CHUNK_INUSE);	/* global -> tail; its last 8
						 * usable bytes -> tail_to */
	tail_to = chunk(&f, 32, CHUNK_INUSE);
	fr = chunk(&f, 48, CHUNK_BIN);		/* free, points at fr_to */
	fr_to = chunk(&f, 32, CHUNK_INUSE);	/* leaked */
	reg = chunk(&f, 32, CHUNK_INUSE);	/* r12 */
	rz = chunk(&f, 32, CHUNK_INUSE);	/* stack word at rsp - 64 */
	dead = chunk(&f, 32, CHUNK_INUSE);	/* stack word at rsp - 256 */
	(void)chunk(&f, 0x1000, CHUNK_TOP);
	/* an mmapped chunk with 0x40 bytes of memalign padding before it:
	 * walk size = padding + chunk size (heap/glibc-walk.c) */
	put64(&f, MMAP + 0x40, 0x40);
	put64(&f, MMAP + 0x48, (0x3000 - 0x40) | 2);
	heap_walk_add(&f.s->walk, MMAP + 0x40, 0x3000, CHUNK_NO_ARENA, CHUNK_MMAPPED);
	big = MMAP + 0x50;
	big_to = chunk(&f, 32, CHUNK_INUSE);	/* big -> big_to; after top: a
						 * second run in the walk */

	put64(&f, DATA + 0, a);
	put64(&f, DATA + 8, tail);
	put64(&f, DATA + 16, hdr + 32 - 16);	/* = header of tail: not hdr */
	put64(&f, DATA + 24, big + 0x100);	/* interior of big */
	put64(&f, a, b);
	put64(&f, b + 8, c + 24);
	put64(&f, c, d);
	put64(&f, e, x);
	put64(&f, x, y);
	put64(&f, y + 8, x);
	put64(&f, tail + 32 - 16, tail_to);	/* tail's last usable word */
	put64(&f, fr, fr_to);
	put64(&f, big + 0x2000, big_to);
	memset(&regs, 0, sizeof(regs));
	regs.r12 = reg;
	regs.rsp = STACK + 0x1000;
	put64(&f, STACK + 0x1000 - 64, rz);
	put64(&f, STACK + 0x1000 - 256, dead);
	fake_finish(&f, &regs);

	h = hooks_for(f.s);
	err = heap_graph_build(&g, f.s, &h, NULL);
	ok(err == 0, "graph built");
	is_u64(g.nr_nodes, 16, "nodes: in-use and mmapped chunks, no free, no top");
	ok(heap_graph_lookup(&g, fr) == GRAPH_NONE, "a free chunk is no node");
	ok(heap_graph_lookup(&g, hdr + 16) == GRAPH_NONE,
	   "a pointer to the next chunk's header is not in this chunk");
	ok(heap_graph_lookup(&g, big + 0x2fa0) != GRAPH_NONE &&
	   heap_graph_lookup(&g, big + 0x2fb0) == GRAPH_NONE,
	   "the mmapped chunk ends at its mapping's end (padding)");
	leaks_find(&g, &r);
	ok(state_of(&g, &r, a) == LEAK_REACHABLE && state_of(&g, &r, b) == LEAK_REACHABLE,
	   "global -> a -> b reachable");
	ok(state_of(&g, &r, c) == LEAK_POSSIBLY && state_of(&g, &r, d) == LEAK_POSSIBLY,
	   "c (interior) and d (below it) possibly leaked");
	ok(state_of(&g, &r, tail_to) == LEAK_REACHABLE,
	   "the last usable word (next chunk's prev_size) is scanned");
	ok(state_of(&g, &r, hdr) == LEAK_LEAKED, "hdr: leaked");
	ok(state_of(&g, &r, fr_to) == LEAK_LEAKED, "free chunks are not scanned");
	ok(state_of(&g, &r, reg) == LEAK_REACHABLE, "register r12 is a root");
	ok(state_of(&g, &r, rz) == LEAK_REACHABLE, "the red zone is a root");
	ok(state_of(&g, &r, dead) == LEAK_LEAKED, "the dead stack is not");
	ok(state_of(&g, &r, big) == LEAK_POSSIBLY && state_of(&g, &r, big_to) == LEAK_POSSIBLY,
	   "mmapped chunk scanned to its end");
	is_u64(r.leaked.count, 6, "leaked: e x y hdr fr_to dead");
	is_u64(r.leaked.bytes, 48 * 3 + 32 * 3, "leaked bytes");
	is_u64(r.leak_roots.count, 4, "leak roots: e, hdr, fr_to, dead (x, y are below e)");
	is_u64(r.possibly.count, 4, "possibly: c d big big_to");
	is_u64(r.possibly.bytes, 80 + 32 + 0x3000 + 32, "possibly bytes (mmapped: the mapping)");

	err = why_explain(&g, c + 30, &w);
	ok(err == 0 && w.state == LEAK_POSSIBLY && w.nr_path == 4 &&
	   w.path[1].node == heap_graph_lookup(&g, a) && w.path[1].offset == 0 &&
	   w.path[2].offset == 8 && w.path[3].interior && w.path[0].slot == DATA,
	   "why c: global -> a +0 -> b +8 -> c (interior)");
	why_release(&w);
	err = why_explain(&g, y, &w);
	ok(err == 0 && w.state == LEAK_LEAKED && w.nr_referrers == 1 &&
	   w.referrers[0] == heap_graph_lookup(&g, x), "why y: leaked, x points to it");
	why_release(&w);
	ok(why_explain(&g, fr, &w) == -ENOENT, "why of a free chunk: not a live chunk");
	leaks_release(&r);
	heap_graph_release(&g);
	roots_close(h.roots);
	snapshot_free(f.s);
}

/* ---- part 2: random graphs ---- */

static uint64_t rng = 0x243f6a8885a308d3ull;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* Reachable nodes of G from every root but SKIP_ROOT, not through
 * SKIP_NODE (GRAPH_NONE / SIZE_MAX: none skipped). */
static void reach(const struct heap_graph *g, size_t skip_root, uint32_t skip_node,
		  uint8_t *seen, uint32_t *queue)
{
	size_t head = 0, tail = 0;

	memset(seen, 0, g->nr_nodes);
	for (size_t r = 0; r < g->nr_roots; r++) {
		if (r == skip_root)
			continue;
		for (size_t e = g->root_off[r]; e < g->root_off[r + 1]; e++) {
			uint32_t d = g->root_dst[e] & GRAPH_NODE_MASK;

			if (d != skip_node && !seen[d]) {
				seen[d] = 1;
				queue[tail++] = d;
			}
		}
	}
	while (head < tail) {
		uint32_t n = queue[head++];

		for (size_t e = g->off[n]; e < g->off[n + 1]; e++) {
			uint32_t d = g->dst[e] & GRAPH_NODE_MASK;

			if (d != skip_node && !seen[d]) {
				seen[d] = 1;
				queue[tail++] = d;
			}
		}
	}
}

static int random_graph(unsigned n, unsigned edges, unsigned nroots)
{
	struct fake f;
	struct graph_hooks h;
	struct heap_graph g;
	struct retained ret;
	struct leak_report lr;
	taddr_t *user = xcalloc(n, sizeof(*user));
	unsigned *used = xcalloc(n, sizeof(*used));
	uint8_t *all, *seen;
	uint32_t *queue;
	int bad = 0;

	fake_init(&f);
	for (unsigned i = 0; i < n; i++)
		user[i] = chunk(&f, 16 * (2 + rnd(6)), CHUNK_INUSE);
	/* pointer words: each chunk has (size - 16) / 8 + 1 usable words */
	for (unsigned k = 0; k < edges; k++) {
		unsigned from = rnd(n), to = rnd(n);
		uint64_t words = (f.s->walk.chunks[from].size - 16) / 8 + 1;

		if (used[from] >= words)
			continue;
		put64(&f, user[from] + 8 * used[from]++, user[to] + (rnd(4) ? 0 : 8));
	}
	/* roots: a few words of one data mapping (one root), and up to 8
	 * registers (a root each) */
	for (unsigned k = 0; k < nroots; k++)
		put64(&f, DATA + 8 * k, user[rnd(n)]);
	{
		struct user_regs_struct regs;
		unsigned long long *r[] = { &regs.r8, &regs.r9, &regs.r10, &regs.r11,
					    &regs.r12, &regs.r13, &regs.r14, &regs.r15 };

		memset(&regs, 0, sizeof(regs));
		for (unsigned k = 0; k < nroots && k < 8; k++)
			*r[k] = user[rnd(n)];
		fake_finish(&f, &regs);
	}
	h = hooks_for(f.s);
	if (heap_graph_build(&g, f.s, &h, NULL) < 0)
		return 1;
	retained_compute(&g, &ret);
	leaks_find(&g, &lr);
	all = xmalloc(n);
	seen = xmalloc(n);
	queue = xmalloc(n * sizeof(*queue));
	reach(&g, SIZE_MAX, GRAPH_NONE, all, queue);
	for (uint32_t v = 0; v < n; v++) {
		uint64_t bytes = 0, count = 0;
		uint32_t x = retained_node_vertex(&ret, v);

		if ((lr.state[v] == LEAK_LEAKED) != !all[v])
			bad++;
		if (!all[v]) {
			bad += ret.count[x] != 0;
			continue;
		}
		reach(&g, SIZE_MAX, v, seen, queue);
		for (uint32_t u = 0; u < n; u++)
			if (all[u] && !seen[u]) {
				bytes += heap_graph_size(&g, u);
				count++;
			}
		if (bytes != ret.bytes[x] || count != ret.count[x])
			bad++;
	}
	for (size_t r = 0; r < g.nr_roots; r++) {
		uint64_t bytes = 0;
		uint32_t x = retained_root_vertex(&ret, r);

		reach(&g, r, GRAPH_NONE, seen, queue);
		for (uint32_t u = 0; u < n; u++)
			if (all[u] && !seen[u])
				bytes += heap_graph_size(&g, u);
		if (bytes != ret.bytes[x])
			bad++;
	}
	free(all);
	free(seen);
	free(queue);
	free(user);
	free(used);
	leaks_release(&lr);
	retained_release(&ret);
	heap_graph_release(&g);
	roots_close(h.roots);
	snapshot_free(f.s);
	return bad;
}

/*
 * Part 3: the scan in shares (HEAPGRAB_THREADS=2, 3, 4, 7, 64) gives the
 * same CSR arrays, edge for edge, and the same counts as one thread, on
 * a random graph of N chunks. Returns the number of differences.
 */
static int threads_same(unsigned n, unsigned edges)
{
	struct fake f;
	struct graph_hooks h;
	struct heap_graph one, g;
	taddr_t *user = xcalloc(n, sizeof(*user));
	unsigned *used = xcalloc(n, sizeof(*used));
	static const char *const nthreads[] = { "2", "3", "4", "7", "64" };
	int bad = 0;

	fake_init(&f);
	for (unsigned i = 0; i < n; i++)
		user[i] = chunk(&f, 16 * (2 + rnd(6)), CHUNK_INUSE);
	for (unsigned k = 0; k < edges; k++) {
		unsigned from = rnd(n), to = rnd(n);
		uint64_t words = (f.s->walk.chunks[from].size - 16) / 8 + 1;

		if (used[from] >= words)
			continue;
		put64(&f, user[from] + 8 * used[from]++, user[to] + (rnd(4) ? 0 : 8));
	}
	put64(&f, DATA, user[0]);
	fake_finish(&f, NULL);
	h = hooks_for(f.s);
	setenv("HEAPGRAB_THREADS", "1", 1);
	if (heap_graph_build(&one, f.s, &h, NULL) < 0)
		return 1;
	bad += one.nr_edges == 0;	/* the test needs edges to compare */
	for (size_t t = 0; t < ARRAY_SIZE(nthreads); t++) {
		setenv("HEAPGRAB_THREADS", nthreads[t], 1);
		if (heap_graph_build(&g, f.s, &h, NULL) < 0)
			return 1;
		bad += g.nr_edges != one.nr_edges || g.chunk_words != one.chunk_words ||
		       g.unreadable_chunk_bytes != one.unreadable_chunk_bytes;
		bad += memcmp(g.off, one.off, (one.nr_nodes + 1) * sizeof(*g.off)) != 0;
		if (g.nr_edges == one.nr_edges)
			bad += memcmp(g.dst, one.dst, one.nr_edges * sizeof(*g.dst)) != 0;
		heap_graph_release(&g);
	}
	unsetenv("HEAPGRAB_THREADS");
	heap_graph_release(&one);
	roots_close(h.roots);
	snapshot_free(f.s);
	free(user);
	free(used);
	return bad;
}

int main(void)
{
	plan(27);
	part1();
	ok(random_graph(60, 40, 3) == 0, "random sparse graph: retained = oracle, leaks = reach");
	ok(random_graph(200, 400, 5) == 0, "random graph: retained = oracle");
	ok(random_graph(300, 1200, 2) == 0, "random dense graph: retained = oracle");
	{
		int bad = 0;

		for (int i = 0; i < 30; i++)
			bad += random_graph(40 + (unsigned)rnd(80), (unsigned)rnd(300), 1 + (unsigned)rnd(4));
		ok(bad == 0, "30 more random graphs: retained = oracle (%d mismatches)", bad);
	}
	ok(threads_same(500, 900) == 0, "the scan in 2, 3, 4, 7 and 64 shares: the same edges as one");
	return done();
}
