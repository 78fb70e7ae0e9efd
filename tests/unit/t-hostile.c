/*
 * t-hostile.c - what the image fuzzer (tests/fuzz/fuzz-image.c) showed:
 * one regression test per finding, each on a memimage shaped like the
 * input that found it. A regression shows as a hang (ended by an alarm
 * after 120 s), an abort, or a failed check.
 *
 *  1. A huge writable region the image holds almost nothing of (2^44
 *     bytes, one page held): the walk's mmapped-chunk scan went page by
 *     page (2^32 steps), and so did the heap graph's scan of root ranges.
 *     Now both jump over holes to the next byte the image holds.
 *  2. A mmapped chunk of 2^40 bytes (its header in a fully held megabyte
 *     at the start of a huge region): the graph's page tables took an
 *     entry per page (2^28 entries, 1 GiB of tables). Now nodes longer
 *     than 16 MiB stay out of the tables and are found by a search of
 *     their own.
 *  3. The same chunk reached by a typed pointer, so typed as an array:
 *     typing read the whole chunk at once, an allocation of its size
 *     (xmalloc dies). Now chunks are read in windows.
 *  4. A region (and its bytes) starting at an odd address: the graph read
 *     8-aligned target words through a host pointer that was not
 *     8-aligned (undefined behaviour; the sanitizer build stops there,
 *     the fuzzer found it after 194,479 inputs). Now words are copied
 *     out.
 *  5. An arena whose system_mem claims 2^62 bytes and whose bin is a
 *     cycle that never comes back to the bin's head: the bins check
 *     bounded each list by system_mem / MINSIZE (2^57 steps; the fuzzer's
 *     input ran past its timeout). Now all bins together are bounded by
 *     the chunks the walk found in the arena.
 *  6. A main heap that ends in sysmalloc's double fencepost at the start
 *     of a 1 TiB writable region the image holds 4 MiB of: the search
 *     for the next main-arena segment stepped 16 bytes at a time through
 *     the hole (2^36 steps). Now it jumps to the next byte the image holds.
 */
#include "config.h"
#include "tap.h"
#include "analysis/graph.h"
#include "debuginfo/types.h"
#include "heap/glibc-internal.h"
#include "heap/glibc-walk.h"
#include "heap/heap.h"
#include "roots/roots.h"
#include "snapshot/snapshot.h"
#include "target/target.h"
#include "typing/typing.h"
#include "util/diag.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <sys/user.h>
#include <unistd.h>

#define BIG	0x7f0000000000ull
#define ARENA	0x7e0000000000ull

/* A glibc 2.36 main arena and mp_ with nothing in them (the walk then
 * only scans for mmapped chunks), and a global at ARENA + 0x1800 that
 * holds GLOBAL. */
static void empty_allocator(struct target *t, struct glibc_layout *l,
			    struct glibc_walk_params *p, uint64_t global)
{
	unsigned char *a = xcalloc(1, 0x2000);
	uint64_t self = ARENA;

	if (glibc_layout_table(2, 36, l) < 0)
		abort();
	memcpy(a + l->ms_next, &self, 8);	/* a ring of one arena */
	memcpy(a + 0x1800, &global, 8);
	memimage_add(t, ARENA, a, 0x2000, false);
	*p = (struct glibc_walk_params){ .l = l, .main_arena = ARENA, .mp = ARENA + 0x1000 };
}

static void huge_hole(void)
{
	struct target *t = memimage_new();
	struct glibc_layout l;
	struct glibc_walk_params p;
	struct heap_walk w;
	struct target_region *regs = xcalloc(2, sizeof(*regs));
	unsigned char *page = xcalloc(1, 4096);
	struct snapshot s;
	struct heap_graph g;
	struct graph_hooks hooks = { 0 };
	int err;

	empty_allocator(t, &l, &p, 0);
	regs[0] = t->regions[0];
	t->regions[0].path = NULL;
	regs[1] = (struct target_region){
		.start = BIG, .end = BIG + (1ull << 44),
		.prot = TARGET_PROT_READ | TARGET_PROT_WRITE,
	};
	target_set_regions(t, regs, 2);
	memimage_put(memimage_of(t), BIG, page, 4096);
	heap_walk_init(&w);
	err = glibc_walk_heap(&p, t, NULL, &w);
	ok(err == 0 && w.totals[CHUNK_MMAPPED].count == 0,
	   "walk over a 16 TiB region holding one page: done, no chunk");
	/* the graph scans the same region as a root range */
	memset(&s, 0, sizeof(s));
	s.walk = w;
	s.image = t;
	hooks.roots = roots_open(t, NULL);
	err = heap_graph_build(&g, &s, &hooks, NULL);
	ok(err == 0 && g.unreadable_root_bytes >= (1ull << 44) - 4096 && g.root_words == 512 + 1024,
	   "graph scan of the same region: its holes counted, its held words scanned");
	if (err == 0)
		heap_graph_release(&g);
	roots_close(hooks.roots);
	heap_walk_release(&w);
	target_close(t);
}

static void huge_chunk(void)
{
	const uint64_t size = 1ull << 40, held = (1u << 20) + 8192;
	struct target *t = memimage_new();
	struct glibc_layout l;
	struct glibc_walk_params p;
	struct heap_walk w;
	struct target_region *regs = xcalloc(2, sizeof(*regs));
	unsigned char *bytes = xcalloc(1, held);
	uint64_t hdr[2] = { 0, size | 2 };
	struct snapshot s;
	struct heap_graph g;
	struct graph_hooks hooks = { 0 };
	struct ty_table tt;
	struct root_list roots = { 0 };
	struct typing_result *r = NULL;
	uint32_t node, pnode;
	struct root root = {
		.kind = ROOT_GLOBAL, .what = ROOT_IS_VARIABLE, .name = "g", .module = "t",
		.start = ARENA + 0x1800, .end = ARENA + 0x1808,
	};
	int err;

	empty_allocator(t, &l, &p, BIG + 16);
	regs[0] = t->regions[0];
	t->regions[0].path = NULL;
	regs[1] = (struct target_region){
		.start = BIG, .end = BIG + size,
		.prot = TARGET_PROT_READ | TARGET_PROT_WRITE,
	};
	target_set_regions(t, regs, 2);
	memcpy(bytes, hdr, sizeof(hdr));
	memimage_put(memimage_of(t), BIG, bytes, held);
	heap_walk_init(&w);
	err = glibc_walk_heap(&p, t, NULL, &w);
	ok(err == 0 && w.totals[CHUNK_MMAPPED].count == 1 &&
	   w.totals[CHUNK_MMAPPED].bytes == size, "a 1 TiB mmapped chunk is walked");

	/* typing: a global struct node * points at it, so it is node[] */
	ty_table_init(&tt);
	node = ty_new(&tt, "struct node", TY_STRUCT, 16);
	ty_get(&tt, node)->complete = true;
	ty_add_slot(&tt, node, 0, 1, 8, node, ".next", 0);
	pnode = ty_new(&tt, "struct node *", TY_PTR, 8);
	ty_get(&tt, pnode)->pointee = node;
	root.type = pnode;
	root_list_add(&roots, &root);
	err = typing_run_roots(t, &w, &tt, &roots, 1, NULL, &r);
	ok(err == 0 && r->of_chunk[0] != TYPING_UNTYPED &&
	   !strcmp(r->names[r->of_chunk[0]], "struct node[]"),
	   "typing it as an array reads it in windows (no allocation of its size)");

	memset(&s, 0, sizeof(s));
	s.walk = w;
	s.image = t;
	s.typing = r;
	hooks.roots = roots_open(t, NULL);
	err = heap_graph_build(&g, &s, &hooks, NULL);
	ok(err == 0 && g.nr_nodes == 1 && g.nr_pages_tables == 0 && g.nr_big == 1,
	   "the graph keeps the 1 TiB node out of its page tables");
	ok(err == 0 && heap_graph_lookup(&g, BIG + size - 8) == 0 &&
	   heap_graph_lookup(&g, BIG + 16) == 0 && heap_graph_lookup(&g, BIG + size) == GRAPH_NONE,
	   "and still finds it: its first and last word, not past its end");
	if (err == 0)
		heap_graph_release(&g);
	roots_close(hooks.roots);
	typing_result_free(r);
	root_list_release(&roots);
	ty_table_free(&tt);
	heap_walk_release(&w);
	target_close(t);
}

static void odd_segment(void)
{
	const taddr_t heap = 0x10000000, data = 0x20000001;
	struct target *t = memimage_new();
	unsigned char *h = xcalloc(1, 4096), *d = xcalloc(1, 4096 + 7);
	uint64_t v = heap + 16, size = 48 | 1;
	struct snapshot s;
	struct heap_graph g;
	struct graph_hooks hooks = { 0 };
	int err;

	memcpy(h + 8, &size, 8);
	memcpy(d + 7, &v, 8);		/* the word at 0x20000008 */
	memimage_add(t, heap, h, 4096, false);
	memimage_add(t, data, d, 4096 + 7, false);
	memset(&s, 0, sizeof(s));
	heap_walk_init(&s.walk);
	heap_walk_add(&s.walk, heap, 48, 0, CHUNK_INUSE);
	s.image = t;
	hooks.roots = roots_open(t, NULL);
	err = heap_graph_build(&g, &s, &hooks, NULL);
	ok(err == 0 && g.nr_root_edges == 1 && g.root_slot[0] == 0x20000008 && g.root_dst[0] == 0,
	   "a root word in a segment at an odd address: read and followed");
	if (err == 0)
		heap_graph_release(&g);
	roots_close(hooks.roots);
	heap_walk_release(&s.walk);
	target_close(t);
}

/* Keeps the walk's warnings: how many, and whether one names a bin. */
static void keep_warning(struct diag_sink *sink, enum diag_level level, const char *msg)
{
	if (level == DIAG_WARNING && strstr(msg, "bin 1 is corrupt"))
		sink->data = (void *)1;
}

static void bin_cycle(void)
{
	struct target *t = memimage_new();
	struct glibc_layout l;
	struct glibc_walk_params p;
	struct heap_walk w;
	struct diag_sink sink = { .report = keep_warning };
	unsigned char *a = xcalloc(1, 0x2000);
	uint64_t self = ARENA, sysmem = 1ull << 62;
	uint64_t c1 = ARENA + 0x1900, c2 = ARENA + 0x1940;
	uint64_t link[3] = { 0, 0x41, 0 };
	int err;

	if (glibc_layout_table(2, 36, &l) < 0)
		abort();
	memcpy(a + l.ms_next, &self, 8);
	memcpy(a + l.ms_system_mem, &sysmem, 8);
	memcpy(a + l.ms_bins, &c1, 8);		/* bin 1's fd */
	link[2] = c2;				/* c1 -> c2 */
	memcpy(a + 0x1900, link, sizeof(link));
	link[2] = c1;				/* c2 -> c1: never the head */
	memcpy(a + 0x1940, link, sizeof(link));
	memimage_add(t, ARENA, a, 0x2000, false);
	p = (struct glibc_walk_params){ .l = &l, .main_arena = ARENA, .mp = ARENA + 0x1000 };
	heap_walk_init(&w);
	err = glibc_walk_heap(&p, t, &sink, &w);
	ok(err == 0 && sink.data == (void *)1,
	   "a bin that cycles under a 2^62-byte system_mem: a warning, in bounded time");
	heap_walk_release(&w);
	target_close(t);
}

static void fencepost_hole(void)
{
	struct target *t = memimage_new();
	struct glibc_layout l;
	struct glibc_walk_params p;
	struct heap_walk w;
	struct target_region *regs = xcalloc(2, sizeof(*regs));
	const size_t held = 4u << 20;	/* more than the walk's read window */
	unsigned char *a = xcalloc(1, 0x2000), *page = xcalloc(1, held);
	uint64_t self = ARENA, sysmem = 1ull << 30, top = BIG + (1ull << 39), base = BIG;
	uint64_t fence = 0x10 | 1;
	int err;

	if (glibc_layout_table(2, 36, &l) < 0)
		abort();
	memcpy(a + l.ms_next, &self, 8);
	memcpy(a + l.ms_system_mem, &sysmem, 8);
	memcpy(a + l.ms_top, &top, 8);
	memcpy(a + 0x1000 + l.mp_sbrk_base, &base, 8);
	memimage_add(t, ARENA, a, 0x2000, false);
	memcpy(page + 8, &fence, 8);		/* the double fencepost */
	memcpy(page + 24, &fence, 8);
	regs[0] = t->regions[0];
	t->regions[0].path = NULL;
	regs[1] = (struct target_region){
		.start = BIG, .end = BIG + (1ull << 40),
		.prot = TARGET_PROT_READ | TARGET_PROT_WRITE,
	};
	target_set_regions(t, regs, 2);
	memimage_put(memimage_of(t), BIG, page, held);
	p = (struct glibc_walk_params){ .l = &l, .main_arena = ARENA, .mp = ARENA + 0x1000 };
	heap_walk_init(&w);
	err = glibc_walk_heap(&p, t, NULL, &w);
	ok(err == 0, "a double fencepost before a 1 TiB hole: the next segment is searched in bounded time");
	heap_walk_release(&w);
	target_close(t);
}

int main(void)
{
	/* a regression is a hang: end it as a failure */
	alarm(120);
	plan(9);
	huge_hole();
	huge_chunk();
	odd_segment();
	bin_cycle();
	fencepost_hole();
	return done();
}
