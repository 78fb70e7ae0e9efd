/*
 * fuzz-image.c - libFuzzer target for everything heapgrab does with a
 * stopped process's memory: the glibc walk, typing (the roots layer and
 * the engine) and the heap graph with leaks, retained sizes and why.
 *
 * A hostile process controls every byte heapgrab reads from it: its heap,
 * its stacks and registers, its globals, its TLS, its thread list and its
 * memory map. Each input is such an image (image-format.h); the harness
 * builds a memimage target from it and runs, as `heapgrab leaks` and
 * `top --retained` do after the stop:
 *
 *   glibc_walk_heap() with the layout table of the input's glibc release;
 *   typing, either typing_run() (modules from the fixed file list, their
 *   DWARF, typed roots from globals, TLS and libdw-unwound frames over the
 *   image's stacks) or typing_run_roots() (a small synthetic type table:
 *   lists, a tree with a union, header structs, a flexible array, an
 *   intrusive list; typed roots from the input);
 *   heap_graph_build() with the roots layer, typing's pointer layouts,
 *   leaks_find(), dominators and why_find() of a few chunks.
 *
 * Nothing may crash, hang or grow without bound: run it with -timeout and
 * -rss_limit_mb (tests/fuzz.am fuzz-image-run does).
 *
 * Inputs are large (a heap, stacks, data: about a megabyte) and their
 * structure is a few hundred bytes of it, so byte mutations rarely touch
 * what decides the most (a region's size, a thread's stack pointer, the
 * arena's address). Half of the mutations are therefore structural
 * (LLVMFuzzerCustomMutator): one field of the header, a thread, a typed
 * root or a region is set to a value near its own, a power of two, a
 * neighbour's, or any value; regions keep their order most of the time.
 *
 * Files: HG_FUZZ_FILES lists the files regions may be backed by (the
 * seeds' executables and libraries, copied next to the corpus by
 * make-image-seeds); separate debug files are looked up in HG_FUZZ_DEBUG
 * (an empty directory by default), so libc's own DWARF (libc6-dbg) is not
 * indexed on every input.
 */
#include "config.h"
#include "image-format.h"
#include "analysis/dominator.h"
#include "analysis/graph.h"
#include "analysis/leaks.h"
#include "analysis/why.h"
#include "debuginfo/types.h"
#include "heap/glibc-internal.h"
#include "heap/glibc-walk.h"
#include "heap/heap.h"
#include "roots/roots.h"
#include "snapshot/snapshot.h"
#include "target/target.h"
#include "typing/typing.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

#define MAX_FILES 16

static char *files[MAX_FILES];
static size_t nr_files;
static const char *debug_dir = "/nonexistent-debug-dir";
static bool verbose;		/* HG_FUZZ_VERBOSE: what each input did */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *list = getenv("HG_FUZZ_FILES");
	const char *dd = getenv("HG_FUZZ_DEBUG");

	(void)argc;
	(void)argv;
	if (dd && *dd)
		debug_dir = dd;
	verbose = getenv("HG_FUZZ_VERBOSE") != NULL;
	if (list && *list) {
		char *copy = xstrdup(list), *save = NULL;

		for (char *p = strtok_r(copy, ":", &save); p && nr_files < MAX_FILES;
		     p = strtok_r(NULL, ":", &save))
			files[nr_files++] = xstrdup(p);
		free(copy);
	}
	return 0;
}

static uint64_t get(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	memcpy(&v, p, n);
	return v;
}

/* ---- structural mutations ---- */

static uint64_t rnd_state;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* A new value for the N-byte field OLD: near it, a power of two, OTHER
 * (a neighbour's value), or anything. */
static uint64_t new_value(uint64_t old, uint64_t other, unsigned n)
{
	uint64_t v;

	switch (rnd() % 6) {
	case 0:
		v = old + (rnd() % 0x2000) - 0x1000;
		break;
	case 1:
		v = old + ((rnd() % 2) ? 1ull : -1ull) * (1ull << (rnd() % 48));
		break;
	case 2:
		v = 1ull << (rnd() % 64);
		break;
	case 3:
		v = other;
		break;
	case 4:
		v = old & ~(uint64_t)0xfff;
		break;
	default:
		v = rnd();
		break;
	}
	return n == 8 ? v : v & ((1ull << (8 * n)) - 1);
}

static void mutate_field(uint8_t *p, unsigned n, uint64_t other)
{
	uint64_t v = new_value(get(p, n), other, n);

	memcpy(p, &v, n);
}

size_t LLVMFuzzerCustomMutator(uint8_t *d, size_t size, size_t max_size, unsigned int seed)
{
	size_t nr_threads, nr_regions, nr_roots, pos, k;
	size_t starts[FZ_MAX_REGIONS];

	rnd_state = seed * 0x9e3779b97f4a7c15ULL + 1;
	if (rnd() % 2 || size < FZ_HEADER || memcmp(d, FZ_MAGIC, 4))
		return LLVMFuzzerMutate(d, size, max_size);
	nr_threads = d[7];
	nr_regions = get(d + 32, 2);
	nr_roots = get(d + 34, 2);
	if (nr_threads > FZ_MAX_THREADS || nr_regions > FZ_MAX_REGIONS || nr_roots > FZ_MAX_ROOTS ||
	    size - FZ_HEADER < nr_threads * FZ_THREAD + nr_roots * FZ_ROOT)
		return LLVMFuzzerMutate(d, size, max_size);
	pos = FZ_HEADER + nr_threads * FZ_THREAD + nr_roots * FZ_ROOT;
	for (k = 0; k < nr_regions && size - pos >= FZ_REGION; k++) {
		starts[k] = pos;
		pos += FZ_REGION + MIN((size_t)get(d + pos + 28, 4), size - pos - FZ_REGION);
	}
	nr_regions = k;
	switch (rnd() % 4) {
	case 0:		/* the header: flags, main_arena, mp_, tpoff */
		k = rnd() % 4;
		if (k == 0)
			d[6] ^= (uint8_t)(1u << (rnd() % 2));
		else
			mutate_field(d + 8 * k, 8, get(d + 8 * (1 + rnd() % 3), 8));
		break;
	case 1:		/* a thread's register (rsp, rip, fs_base, ...) */
		if (!nr_threads)
			break;
		k = FZ_HEADER + (rnd() % nr_threads) * FZ_THREAD + 4;
		mutate_field(d + k + 8 * (rnd() % 27), 8, get(d + k + 8 * (rnd() % 27), 8));
		break;
	case 2:		/* a typed root: its address, type or kind */
		if (!nr_roots)
			break;
		k = FZ_HEADER + nr_threads * FZ_THREAD + (rnd() % nr_roots) * FZ_ROOT;
		if (rnd() % 2)
			mutate_field(d + k, 8, get(d + k, 8) + 8);
		else
			d[k + 8 + rnd() % 2] = (uint8_t)rnd();
		break;
	default:	/* a region: start, end, offset, prot, file */
		if (!nr_regions)
			break;
		k = rnd() % nr_regions;
		switch (rnd() % 5) {
		case 0: {
			/* grow or shrink its end, up to the next region */
			uint64_t start = get(d + starts[k], 8), end = get(d + starts[k] + 8, 8);
			uint64_t limit = k + 1 < nr_regions ? get(d + starts[k + 1], 8) : UINT64_MAX;
			uint64_t v = new_value(end, limit, 8);

			if (rnd() % 4 && (v <= start || v > limit))
				v = limit;
			memcpy(d + starts[k] + 8, &v, 8);
			break;
		}
		case 1:
			mutate_field(d + starts[k], 8, get(d + starts[k] + 8, 8));
			break;
		case 2:
			mutate_field(d + starts[k] + 16, 8, 0);
			break;
		case 3:
			d[starts[k] + 24] = (uint8_t)(rnd() % 8);
			break;
		default:
			d[starts[k] + 25] = (uint8_t)(rnd() % (nr_files + 2));
			break;
		}
		break;
	}
	return size;
}

/* ---- the synthetic types ---- */

enum { T_NODE, T_TREE, T_HDR, T_OBJ_A, T_OBJ_B, T_FLEX, T_LINK, T_JOB, T_TABLE, T_CHAR,
       NR_SYNTH };

static uint32_t ptr_to(struct ty_table *tt, uint32_t t)
{
	char name[128];
	uint32_t p;

	snprintf(name, sizeof(name), "%s *", ty_get(tt, t)->name);
	p = ty_new(tt, name, TY_PTR, 8);
	ty_get(tt, p)->pointee = t;
	ty_get(tt, p)->complete = true;
	return p;
}

static uint32_t strukt(struct ty_table *tt, const char *name, enum ty_kind k, uint64_t size)
{
	uint32_t t = ty_new(tt, name, k, size);

	ty_get(tt, t)->complete = true;
	return t;
}

/* The synthetic types; ids[k] for enum k, pointer types in ptrs[k]. */
static void synth_types(struct ty_table *tt, uint32_t *ids, uint32_t *ptrs)
{
	uint32_t u;

	ty_table_init(tt);
	ids[T_CHAR] = strukt(tt, "char", TY_BASE, 1);
	ids[T_NODE] = strukt(tt, "struct node", TY_STRUCT, 24);
	ids[T_TREE] = strukt(tt, "struct tree", TY_STRUCT, 24);
	ids[T_HDR] = strukt(tt, "struct hdr", TY_STRUCT, 16);
	ids[T_OBJ_A] = strukt(tt, "struct obj_a", TY_STRUCT, 24);
	ids[T_OBJ_B] = strukt(tt, "struct obj_b", TY_STRUCT, 32);
	ids[T_FLEX] = strukt(tt, "struct flex", TY_STRUCT, 8);
	ids[T_LINK] = strukt(tt, "struct link", TY_STRUCT, 16);
	ids[T_JOB] = strukt(tt, "struct job", TY_STRUCT, 40);
	for (int k = 0; k < NR_SYNTH; k++)
		if (k != T_TABLE)
			ptrs[k] = ptr_to(tt, ids[k]);
	ids[T_TABLE] = strukt(tt, "struct node *[]", TY_ARRAY, 128);
	ty_get(tt, ids[T_TABLE])->elem = ptrs[T_NODE];
	ty_get(tt, ids[T_TABLE])->count = 16;
	ptrs[T_TABLE] = ptr_to(tt, ids[T_TABLE]);

	/* struct node { struct node *next; char *name; long v; } */
	ty_add_slot(tt, ids[T_NODE], 0, 1, 8, ids[T_NODE], "next", 0);
	ty_add_slot(tt, ids[T_NODE], 8, 1, 8, ids[T_CHAR], "name", 0);
	ty_add_nonptr(tt, ids[T_NODE], 16, 4);
	/* struct tree { struct tree *l, *r; union { struct node *n; struct
	 * job *j; } u; } */
	u = strukt(tt, "union val", TY_UNION, 8);
	ty_add_slot(tt, u, 0, 1, 8, ids[T_NODE], "n", SLOT_UNION);
	ty_add_slot(tt, u, 0, 1, 8, ids[T_JOB], "j", SLOT_UNION);
	ty_add_slot(tt, ids[T_TREE], 0, 2, 8, ids[T_TREE], "l", 0);
	ty_add_slot(tt, ids[T_TREE], 16, 1, 8, ids[T_NODE], "u.n", SLOT_UNION);
	ty_add_slot(tt, ids[T_TREE], 16, 1, 8, ids[T_JOB], "u.j", SLOT_UNION);
	ty_add_embed(tt, ids[T_TREE], 16, u);
	/* struct hdr { int tag; struct hdr *next; }, and two structs that
	 * begin with it */
	ty_add_slot(tt, ids[T_HDR], 8, 1, 8, ids[T_HDR], "next", 0);
	ty_add_nonptr(tt, ids[T_HDR], 0, 4);
	ty_add_embed(tt, ids[T_OBJ_A], 0, ids[T_HDR]);
	ty_add_slot(tt, ids[T_OBJ_A], 8, 1, 8, ids[T_HDR], "h.next", 0);
	ty_add_slot(tt, ids[T_OBJ_A], 16, 1, 8, ids[T_NODE], "a", 0);
	ty_add_embed(tt, ids[T_OBJ_B], 0, ids[T_HDR]);
	ty_add_slot(tt, ids[T_OBJ_B], 8, 1, 8, ids[T_HDR], "h.next", 0);
	ty_add_slot(tt, ids[T_OBJ_B], 24, 1, 8, ids[T_TREE], "t", 0);
	/* struct flex { long n; struct node *items[]; } */
	ty_get(tt, ids[T_FLEX])->flex = true;
	ty_get(tt, ids[T_FLEX])->flex_off = 8;
	ty_get(tt, ids[T_FLEX])->flex_elem = ptrs[T_NODE];
	/* struct link { struct link *next, *prev; } inside struct job { long
	 * id; struct link link; char *s; struct tree *t; } */
	ty_add_slot(tt, ids[T_LINK], 0, 2, 8, ids[T_LINK], "next", 0);
	ty_add_embed(tt, ids[T_JOB], 8, ids[T_LINK]);
	ty_add_slot(tt, ids[T_JOB], 8, 2, 8, ids[T_LINK], "link.next", 0);
	ty_add_slot(tt, ids[T_JOB], 24, 1, 8, ids[T_CHAR], "s", 0);
	ty_add_slot(tt, ids[T_JOB], 32, 1, 8, ids[T_TREE], "t", 0);
}

/* ---- the image ---- */

struct input {
	struct target *t;
	struct glibc_layout layout;
	struct glibc_walk_params params;
	unsigned flags;
	const uint8_t *roots;
	size_t nr_roots;
};

static bool parse(const uint8_t *d, size_t n, struct input *in)
{
	size_t nr_threads, nr_regions, pos = FZ_HEADER;
	struct target_region *regs;
	struct target *t;
	taddr_t last_end = 0;

	if (n < FZ_HEADER || memcmp(d, FZ_MAGIC, 4) || d[4] != FZ_VERSION)
		return false;
	memset(in, 0, sizeof(*in));
	if (glibc_layout_table(2, d[5], &in->layout) < 0)
		return false;
	in->flags = d[6];
	nr_threads = d[7];
	nr_regions = get(d + 32, 2);
	in->nr_roots = get(d + 34, 2);
	if (nr_threads > FZ_MAX_THREADS || nr_regions > FZ_MAX_REGIONS ||
	    in->nr_roots > FZ_MAX_ROOTS)
		return false;
	in->params = (struct glibc_walk_params){
		.l = &in->layout, .main_arena = get(d + 8, 8), .mp = get(d + 16, 8),
		.have_tpoff = d[6] & FZ_HAVE_TPOFF, .tpoff = (int64_t)get(d + 24, 8),
	};
	if (n - pos < nr_threads * FZ_THREAD + in->nr_roots * FZ_ROOT)
		return false;
	t = memimage_new();
	for (size_t i = 0; i < nr_threads; i++, pos += FZ_THREAD) {
		struct user_regs_struct r;

		memcpy(&r, d + pos + 4, sizeof(r));
		memimage_add_thread(t, (int)get(d + pos, 4), &r);
	}
	in->roots = d + pos;
	pos += in->nr_roots * FZ_ROOT;
	regs = xcalloc(nr_regions + 1, sizeof(*regs));
	for (size_t i = 0; i < nr_regions; i++) {
		const uint8_t *h = d + pos;
		uint64_t len;
		unsigned file;

		if (n - pos < FZ_REGION)
			goto bad;
		regs[i].start = get(h, 8);
		regs[i].end = get(h + 8, 8);
		regs[i].offset = get(h + 16, 8);
		regs[i].prot = h[24] & (TARGET_PROT_READ | TARGET_PROT_WRITE | TARGET_PROT_EXEC);
		file = h[25];
		len = get(h + 28, 4);
		pos += FZ_REGION;
		/* the harness's own rules: sorted, disjoint, bytes inside */
		if (regs[i].start >= regs[i].end || regs[i].start < last_end ||
		    len > regs[i].end - regs[i].start || n - pos < len)
			goto bad;
		last_end = regs[i].end;
		if (file && file <= nr_files)
			regs[i].path = xstrdup(files[file - 1]);
		if (len) {
			void *bytes = xmalloc(len);

			memcpy(bytes, d + pos, len);
			memimage_put(memimage_of(t), regs[i].start, bytes, len);
		}
		pos += len;
	}
	target_set_regions(t, regs, nr_regions);
	for (size_t i = 0; i < nr_regions; i++)
		if (t->regions[i].path && t->regions[i].offset == 0 &&
		    (t->regions[i].prot & TARGET_PROT_EXEC)) {
			/* the first executable file mapped: the executable */
			t->exe = xstrdup(t->regions[i].path);
			break;
		}
	in->t = t;
	return true;
bad:
	for (size_t i = 0; i < nr_regions; i++)
		free(regs[i].path);
	free(regs);
	target_close(t);
	return false;
}

/* graph_hooks.layout from typing's layouts, as cmd/source.c does */
static const struct ptr_layout *layout_hook(void *data, const struct snapshot *s, size_t chunk)
{
	struct ptr_layout *scratch = data;
	const struct typing_result *r = s->typing;
	uint32_t k;

	if (!r || !r->of_chunk || chunk >= s->walk.nr_chunks)
		return NULL;
	k = r->of_chunk[chunk];
	if (k == TYPING_UNTYPED || k >= r->nr_layouts || !r->layouts[k].period ||
	    (r->flags[chunk] & TYPING_INFERRED))
		return NULL;
	scratch->bits = r->layouts[k].bits;
	scratch->period = r->layouts[k].period;
	return scratch;
}

static struct typing_result *type_it(struct input *in, struct heap_walk *w)
{
	struct typing_opts opts = { .debug_dir = debug_dir, .explain = true };
	struct typing_result *r = NULL;
	struct ty_table tt;
	uint32_t ids[NR_SYNTH], ptrs[NR_SYNTH];
	struct root_list groups[2] = { { 0 }, { 0 } };

	if (in->flags & FZ_DWARF_TYPING) {
		if (typing_run(in->t, w, &opts, NULL, &r) < 0)
			return NULL;
		return r;
	}
	synth_types(&tt, ids, ptrs);
	for (size_t k = 0; k < in->nr_roots; k++) {
		const uint8_t *p = in->roots + k * FZ_ROOT;
		struct root root = {
			.kind = p[9] % ROOT_KIND__COUNT, .what = ROOT_IS_VARIABLE,
			.start = get(p, 8), .end = get(p, 8) + 8, .name = "fuzz",
			.type = ptrs[p[8] % NR_SYNTH], .tid = (int)k,
		};

		if (root.end < root.start)
			continue;
		root_list_add(&groups[k & 1], &root);
	}
	if (typing_run_roots(in->t, w, &tt, groups, 2, &opts, &r) < 0)
		r = NULL;
	ty_table_free(&tt);
	root_list_release(&groups[0]);
	root_list_release(&groups[1]);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in;
	struct snapshot s;
	struct heap_graph g;
	struct graph_hooks hooks = { 0 };
	struct ptr_layout scratch;
	struct roots_opts ro = { .debug_dir = debug_dir };

	if (!parse(data, size, &in))
		return 0;
	memset(&s, 0, sizeof(s));
	heap_walk_init(&s.walk);
	if (glibc_walk_heap(&in.params, in.t, NULL, &s.walk) < 0) {
		if (verbose)
			fprintf(stderr, "fuzz-image: walk failed\n");
		goto out;
	}
	s.image = in.t;
	s.typing = type_it(&in, &s.walk);
	hooks.roots = roots_open(in.t, &ro);
	hooks.layout = layout_hook;
	hooks.data = &scratch;
	if (verbose)
		fprintf(stderr, "fuzz-image: %zu chunks, %zu typed names\n", s.walk.nr_chunks,
			s.typing ? s.typing->nr_names : 0);
	if (heap_graph_build(&g, &s, &hooks, NULL) == 0) {
		struct leak_report lr;
		struct retained rt;

		if (verbose)
			fprintf(stderr, "fuzz-image: graph: %zu nodes, %zu edges, %zu roots\n",
				g.nr_nodes, g.nr_edges, g.nr_roots);
		leaks_find(&g, &lr);
		retained_compute(&g, &rt);
		for (size_t k = 0; k < g.nr_nodes && k < 4; k++) {
			struct why_result w;

			if (why_explain(&g, g.start[g.nr_nodes - 1 - k], &w) == 0)
				why_release(&w);
		}
		retained_release(&rt);
		leaks_release(&lr);
		heap_graph_release(&g);
	}
	roots_close(hooks.roots);
	typing_result_free(s.typing);
out:
	heap_walk_release(&s.walk);
	target_close(in.t);
	return 0;
}
