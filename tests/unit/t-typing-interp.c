/*
 * t-typing-interp.c - the typing rules interpreters need, on a hand-built
 * image with hand-built types and roots (typing_run_roots: no DWARF, no
 * modules), as tests/unit/t-typing.c does for the engine's core rules.
 *
 * Each case is a few chunks; every rule that types something has a case
 * that shows it declining:
 *   what a pointer to a chunk's start gives (engine.c): a pointer to
 *     pointers into a chunk where three fit is an array of them, all
 *     followed; a struct with a flexible array member in an mmapped
 *     chunk is one object, its elements followed; a union behind a typed
 *     pointer in a chunk of three is an array of it.
 */
#include "config.h"
#include "tap.h"
#include "debuginfo/types.h"
#include "heap/heap.h"
#include "roots/roots.h"
#include "target/target.h"
#include "typing/typing.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

#define HEAP	0x10000000ull
#define HEAP_LEN 0x8000
#define DATA	0x20000000ull
#define MM	0x40000000ull	/* mmapped chunks */
#define MM_STEP	0x8000ull
#define NR_MM	2
#define MM_LEN	0x3000

static unsigned char heap[HEAP_LEN], data[4096], mm[NR_MM][MM_LEN];
static struct heap_walk walk;
static taddr_t next_chunk = HEAP;
static taddr_t next_root = DATA;

static unsigned char *at(taddr_t a, size_t len)
{
	if (a >= HEAP && a + len <= HEAP + HEAP_LEN)
		return heap + (a - HEAP);
	if (a >= DATA && a + len <= DATA + sizeof(data))
		return data + (a - DATA);
	if (a >= MM && (a - MM) / MM_STEP < NR_MM && (a - MM) % MM_STEP + len <= MM_LEN)
		return mm[(a - MM) / MM_STEP] + (a - MM) % MM_STEP;
	abort();
}

static void put64(taddr_t a, uint64_t v)
{
	memcpy(at(a, 8), &v, 8);
}

struct chunk_ref {
	size_t idx;	/* walk index */
	taddr_t mem;	/* user pointer */
};

/* An in-use chunk of SIZE bytes (its usable bytes: SIZE - 8). */
static struct chunk_ref chunk(uint64_t size)
{
	struct chunk_ref c = { walk.nr_chunks, next_chunk + 16 };

	put64(next_chunk + 8, size | 1);
	heap_walk_add(&walk, next_chunk, size, 0, CHUNK_INUSE);
	next_chunk += size;
	return c;
}

/* Mmapped chunk K, the whole mapping (usable: MM_LEN - 16). */
static struct chunk_ref mmapped(unsigned k)
{
	taddr_t map = MM + k * MM_STEP;
	struct chunk_ref c = { walk.nr_chunks, map + 16 };

	put64(map + 8, MM_LEN | 2);
	heap_walk_add(&walk, map, MM_LEN, CHUNK_NO_ARENA, CHUNK_MMAPPED);
	return c;
}

/* ---- types ---- */

static struct ty_table tt;

static uint32_t type(const char *name, enum ty_kind k, uint64_t size)
{
	uint32_t t = ty_new(&tt, name, k, size);

	ty_get(&tt, t)->complete = true;
	return t;
}

static uint32_t T_char, T_long, T_node, T_nodep, T_vec, T_val;

static void make_types(void)
{
	ty_table_init(&tt);
	T_char = type("char", TY_BASE, 1);
	T_long = type("long", TY_BASE, 8);
	/* struct node { struct node *next; char *name; long v; } */
	T_node = type("struct node", TY_STRUCT, 24);
	ty_add_slot(&tt, T_node, 0, 1, 8, T_node, ".next", 0);
	ty_add_slot(&tt, T_node, 8, 1, 8, T_char, ".name", 0);
	ty_add_nonptr(&tt, T_node, 16, 8);
	T_nodep = ty_pointer_to(&tt, T_node);
	/* struct vec { long n; struct node *items[]; } */
	T_vec = type("struct vec", TY_STRUCT, 8);
	ty_add_nonptr(&tt, T_vec, 0, 8);
	ty_get(&tt, T_vec)->flex = true;
	ty_get(&tt, T_vec)->flex_off = 8;
	ty_get(&tt, T_vec)->flex_elem = T_nodep;
	/* union val { struct node *n; long x[2]; } */
	T_val = type("union val", TY_UNION, 16);
	ty_add_slot(&tt, T_val, 0, 1, 8, T_node, ".n", SLOT_UNION);
}

/* ---- roots ---- */

#define NR_GROUPS 3
static struct root_list groups[NR_GROUPS];

/* A global pointer to T, in root group G, holding V. */
static void root(unsigned g, const char *name, uint32_t t, uint64_t v)
{
	struct root r = {
		.kind = ROOT_GLOBAL, .what = ROOT_IS_VARIABLE, .name = name, .module = "t",
		.type = ty_pointer_to(&tt, t), .start = next_root, .end = next_root + 8,
	};

	put64(next_root, v);
	next_root += 8;
	root_list_add(&groups[g], &r);
}

static struct typing_result *res;

static const char *name_of(struct chunk_ref c)
{
	static char buf[256];
	uint32_t k = res->of_chunk[c.idx];

	if (k == TYPING_UNTYPED)
		return "untyped";
	snprintf(buf, sizeof(buf), "%s%s", res->names[k],
		 res->flags[c.idx] & TYPING_INFERRED ? " ~" : "");
	return buf;
}

/* ---- cases ---- */

static struct chunk_ref pp, pp_n[3], vec, vec_n, vals;

/* what a pointer to a chunk's start gives (engine.c) */
static void build_engine(void)
{
	/* struct node ** to a chunk of 24 usable bytes: three pointers */
	pp = chunk(32);
	for (int k = 0; k < 3; k++) {
		pp_n[k] = chunk(32);
		put64(pp.mem + 8 * k, pp_n[k].mem);
	}
	root(0, "g_pp", T_nodep, pp.mem);
	/* struct vec * to an mmapped chunk, items[5] set */
	vec = mmapped(0);
	vec_n = chunk(32);
	put64(vec.mem, 6);
	put64(vec.mem + 8 + 5 * 8, vec_n.mem);
	root(0, "g_vec", T_vec, vec.mem);
	/* union val * to a chunk of three */
	vals = chunk(64);
	root(0, "g_vals", T_val, vals.mem);
}

static void check_engine(void)
{
	is_str(name_of(pp), "struct node *[]", "T ** to a chunk where three fit: T *[]");
	is_str(name_of(pp_n[2]), "struct node", "... and all three are followed");
	is_str(name_of(vec), "struct vec", "a flexible struct in an mmapped chunk: one object");
	is_str(name_of(vec_n), "struct node", "... its elements are followed");
	is_str(name_of(vals), "union val[]", "a union behind a typed pointer, three fit: an array");
}

int main(void)
{
	struct typing_opts opts = { .explain = true };
	struct target *t = memimage_new();
	int err;

	plan(6);
	heap_walk_init(&walk);
	make_types();
	build_engine();

	memimage_add(t, HEAP, heap, sizeof(heap), true);
	memimage_add(t, DATA, data, sizeof(data), true);
	for (unsigned k = 0; k < NR_MM; k++)
		memimage_add(t, MM + k * MM_STEP, mm[k], MM_LEN, true);
	err = typing_run_roots(t, &walk, &tt, groups, NR_GROUPS, &opts, &res);
	if (!ok(err == 0, "typing_run_roots"))
		return done();
	check_engine();

	typing_result_free(res);
	for (int g = 0; g < NR_GROUPS; g++)
		root_list_release(&groups[g]);
	ty_table_free(&tt);
	heap_walk_release(&walk);
	target_close(t);
	return done();
}
