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
 *     pointer in a chunk of three is an array of it;
 *   headers (headers.c), a header whose members other structs repeat
 *     (Lua's CommonHeader), reached only through header pointers: the
 *     struct its tag byte names, the tag learnt from exactly typed
 *     samples, scanned with that struct's layout; a variable-size struct
 *     of the family in a bigger chunk; a chunk of exactly the header's
 *     malloc size is the header. Declines: a tag value no sample has, a
 *     value two structs have, a struct too big for the chunk; never an
 *     array of headers; look-alikes: a struct beginning with a list
 *     node's members (no tag byte: no family), a "tag" member with a
 *     value per object (no tag);
 *   tagged values (tagged.c), an array of { union { ptr; long; double };
 *     tag byte }: a value whose tag a typed sample taught is followed
 *     (and the header rule types its pointee). Declines: an integer that
 *     holds a chunk's address, a tag value no sample has;
 *   object models (objmodel.c), a header with a pointer to a type struct
 *     that begins with the header and has a name, an instance size and
 *     an item size (CPython's PyObject and PyTypeObject): an object typed
 *     and named after its type object (a heap type whose type is the
 *     metatype, itself its own type), behind a 16-byte prefix too; what
 *     its layout does not describe read as object pointers, validated
 *     the same way; the type objects named after their own type. Declines:
 *     a type word that is no type object, a type object outside every
 *     chunk and module, a metatype chain that does not end in a type of
 *     its own type, a count of 0; never the header or an array of it.
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

static void put8(taddr_t a, uint8_t v)
{
	*at(a, 1) = v;
}

static void put_str(taddr_t a, const char *s)
{
	memcpy(at(a, strlen(s) + 1), s, strlen(s) + 1);
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
static uint32_t T_uchar, T_double, T_gch, T_gchp, T_tab, T_str, T_thr, T_ud1, T_ud2;
static uint32_t T_value, T_tv;
static uint32_t T_obj, T_tobj, T_objp, T_tobjp, T_charp;
static uint32_t T_item, T_holder, T_hd, T_big;

/* A struct repeating struct gch's members (next, tt, marked), then
 * SIZE - 16 bytes of longs (pointers to struct node at PTR_OFF, if
 * any). */
static uint32_t gc_struct(const char *name, uint64_t size, uint64_t ptr_off)
{
	uint32_t s = type(name, TY_STRUCT, size);

	ty_add_slot(&tt, s, 0, 1, 8, T_gch, ".next", 0);
	ty_add_member(&tt, s, 0, 8, T_gchp, "next");
	ty_add_member(&tt, s, 8, 1, T_uchar, "tt");
	ty_add_member(&tt, s, 9, 1, T_uchar, "marked");
	for (uint64_t o = 16; o + 8 <= size; o += 8) {
		if (o == ptr_off) {
			ty_add_slot(&tt, s, o, 1, 8, T_node, ".items", 0);
			ty_add_member(&tt, s, o, 8, T_nodep, "items");
		} else {
			ty_add_nonptr(&tt, s, o, 8);
			ty_add_member(&tt, s, o, 8, T_long, "x");
		}
	}
	return s;
}

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

	/* struct gch { struct gch *next; unsigned char tt, marked; } and
	 * structs repeating its members */
	T_uchar = type("unsigned char", TY_BASE, 1);
	T_double = type("double", TY_BASE, 8);
	T_gch = type("struct gch", TY_STRUCT, 16);
	T_gchp = ty_pointer_to(&tt, T_gch);
	ty_add_slot(&tt, T_gch, 0, 1, 8, T_gch, ".next", 0);
	ty_add_member(&tt, T_gch, 0, 8, T_gchp, "next");
	ty_add_member(&tt, T_gch, 8, 1, T_uchar, "tt");
	ty_add_member(&tt, T_gch, 9, 1, T_uchar, "marked");
	T_tab = gc_struct("struct tab", 32, 24);
	/* struct str { header; unsigned hash; long len; char s[]; } */
	T_str = type("struct str", TY_STRUCT, 24);
	ty_add_slot(&tt, T_str, 0, 1, 8, T_gch, ".next", 0);
	ty_add_member(&tt, T_str, 0, 8, T_gchp, "next");
	ty_add_member(&tt, T_str, 8, 1, T_uchar, "tt");
	ty_add_member(&tt, T_str, 9, 1, T_uchar, "marked");
	ty_add_member(&tt, T_str, 12, 4, type("unsigned int", TY_BASE, 4), "hash");
	ty_add_member(&tt, T_str, 16, 8, T_long, "len");
	ty_add_nonptr(&tt, T_str, 8, 16);
	ty_get(&tt, T_str)->flex = true;
	ty_get(&tt, T_str)->flex_off = 24;
	ty_get(&tt, T_str)->flex_elem = T_char;
	T_thr = gc_struct("struct thr", 40, 0);
	T_ud1 = gc_struct("struct ud1", 40, 0);
	T_ud2 = gc_struct("struct ud2", 40, 32);

	/* struct tv { union value { struct gch *gc; long i; double n; } v;
	 * unsigned char tt; } */
	T_value = type("union value", TY_UNION, 8);
	ty_add_slot(&tt, T_value, 0, 1, 8, T_gch, ".gc", SLOT_UNION);
	ty_add_member(&tt, T_value, 0, 8, T_gchp, "gc");
	ty_add_member(&tt, T_value, 0, 8, T_long, "i");
	ty_add_member(&tt, T_value, 0, 8, T_double, "n");
	T_tv = type("struct tv", TY_STRUCT, 16);
	ty_add_slot(&tt, T_tv, 0, 1, 8, T_gch, ".v.gc", SLOT_UNION);
	ty_add_embed(&tt, T_tv, 0, T_value);
	ty_add_nonptr(&tt, T_tv, 8, 1);
	ty_add_member(&tt, T_tv, 0, 8, T_value, "v");
	ty_add_member(&tt, T_tv, 8, 1, T_uchar, "tt");

	/* struct obj { long refcnt; struct tobj *type; } and struct tobj {
	 * struct obj base; char *tp_name; long tp_basicsize, tp_itemsize; } */
	T_obj = type("struct obj", TY_STRUCT, 16);
	T_tobj = type("struct tobj", TY_STRUCT, 40);
	T_objp = ty_pointer_to(&tt, T_obj);
	T_tobjp = ty_pointer_to(&tt, T_tobj);
	T_charp = ty_pointer_to(&tt, T_char);
	ty_add_nonptr(&tt, T_obj, 0, 8);
	ty_add_slot(&tt, T_obj, 8, 1, 8, T_tobj, ".type", 0);
	ty_add_member(&tt, T_obj, 0, 8, T_long, "refcnt");
	ty_add_member(&tt, T_obj, 8, 8, T_tobjp, "type");
	ty_add_embed(&tt, T_tobj, 0, T_obj);
	ty_add_slot(&tt, T_tobj, 8, 1, 8, T_tobj, ".base.type", 0);
	ty_add_slot(&tt, T_tobj, 16, 1, 8, T_char, ".tp_name", 0);
	ty_add_nonptr(&tt, T_tobj, 24, 16);
	ty_add_member(&tt, T_tobj, 0, 16, T_obj, "base");
	ty_add_member(&tt, T_tobj, 16, 8, T_charp, "tp_name");
	ty_add_member(&tt, T_tobj, 24, 8, T_long, "tp_basicsize");
	ty_add_member(&tt, T_tobj, 32, 8, T_long, "tp_itemsize");

	/* struct item { long v; struct item *next; } and struct holder {
	 * long id; struct item *items; long n; }: holder begins with item's
	 * members, but item has no tag byte: no family */
	T_item = type("struct item", TY_STRUCT, 16);
	ty_add_nonptr(&tt, T_item, 0, 8);
	ty_add_slot(&tt, T_item, 8, 1, 8, T_item, ".next", 0);
	ty_add_member(&tt, T_item, 0, 8, T_long, "v");
	ty_add_member(&tt, T_item, 8, 8, ty_pointer_to(&tt, T_item), "next");
	T_holder = type("struct holder", TY_STRUCT, 24);
	ty_add_nonptr(&tt, T_holder, 0, 8);
	ty_add_slot(&tt, T_holder, 8, 1, 8, T_item, ".items", 0);
	ty_add_nonptr(&tt, T_holder, 16, 8);
	ty_add_member(&tt, T_holder, 0, 8, T_long, "id");
	ty_add_member(&tt, T_holder, 8, 8, ty_pointer_to(&tt, T_item), "items");
	ty_add_member(&tt, T_holder, 16, 8, T_long, "n");
	/* struct hd { struct hd *next; unsigned short serial; } and struct
	 * big repeating it: a family, but serial takes a value per object */
	T_hd = type("struct hd", TY_STRUCT, 16);
	ty_add_slot(&tt, T_hd, 0, 1, 8, T_hd, ".next", 0);
	ty_add_member(&tt, T_hd, 0, 8, ty_pointer_to(&tt, T_hd), "next");
	ty_add_member(&tt, T_hd, 8, 2, type("unsigned short", TY_BASE, 2), "serial");
	T_big = type("struct big", TY_STRUCT, 40);
	ty_add_slot(&tt, T_big, 0, 1, 8, T_hd, ".next", 0);
	ty_add_member(&tt, T_big, 0, 8, ty_pointer_to(&tt, T_hd), "next");
	ty_add_member(&tt, T_big, 8, 2, type("unsigned short", TY_BASE, 2), "serial");
	ty_add_nonptr(&tt, T_big, 8, 32);
	ty_add_member(&tt, T_big, 16, 8, T_long, "x");
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

#define NR_TAB_SAMPLES 16

static struct chunk_ref s_tab[NR_TAB_SAMPLES], s_str, s_ud1, s_ud2, h_tab, h_tab_n, h_str, h_thr, h_ud,
	h_small, h_plain;

/* A chunk of SIZE whose object repeats struct gch's header, tag TAG. */
static struct chunk_ref gc_chunk(uint64_t size, uint8_t tag)
{
	struct chunk_ref c = chunk(size);

	put8(c.mem + 8, tag);
	return c;
}

/* headers by common initial sequence (headers.c): samples in group 0
 * (tag 7 names two structs: a tag may have a few such values, one
 * sample in eight at most), header pointers in group 1 */
static void build_headers(void)
{
	for (int k = 0; k < NR_TAB_SAMPLES; k++) {
		s_tab[k] = gc_chunk(48, 5);
		root(0, "g_tab", T_tab, s_tab[k].mem);
	}
	s_str = gc_chunk(48, 4);
	s_ud1 = gc_chunk(48, 7);
	s_ud2 = gc_chunk(48, 7);
	root(0, "g_str", T_str, s_str.mem);
	root(0, "g_ud1", T_ud1, s_ud1.mem);
	root(0, "g_ud2", T_ud2, s_ud2.mem);

	h_tab = gc_chunk(48, 5);		/* a tab, its items followed */
	h_tab_n = chunk(32);
	put64(h_tab.mem + 24, h_tab_n.mem);
	h_str = gc_chunk(96, 4);		/* a str, variable size */
	h_thr = gc_chunk(48, 8);		/* tag no sample has */
	h_ud = gc_chunk(48, 7);			/* tag of two structs */
	h_small = gc_chunk(32, 5);		/* a tab does not fit */
	h_plain = gc_chunk(32, 9);		/* malloc(sizeof(struct gch)) */
	root(1, "g_h_tab", T_gch, h_tab.mem);
	root(1, "g_h_str", T_gch, h_str.mem);
	root(1, "g_h_thr", T_gch, h_thr.mem);
	root(1, "g_h_ud", T_gch, h_ud.mem);
	root(1, "g_h_small", T_gch, h_small.mem);
	root(1, "g_h_plain", T_gch, h_plain.mem);
}

static void check_headers(void)
{
	is_str(name_of(s_tab[0]), "struct tab", "header samples: typed exactly by their roots");
	is_str(name_of(h_tab), "struct tab", "a header pointer: the struct its tag names");
	is_str(name_of(h_tab_n), "struct node", "... scanned with that struct's layout");
	is_str(name_of(h_str), "struct str", "a variable-size struct of the family, bigger chunk");
	is_str(name_of(h_thr), "untyped", "declines: a tag value no sample has");
	is_str(name_of(h_ud), "untyped", "declines: a tag value two structs have");
	is_str(name_of(h_small), "untyped", "declines: the tag's struct does not fit the chunk");
	is_str(name_of(h_plain), "struct gch", "a chunk of malloc(sizeof(header)): the header");
}

#define NR_ITEMS 8
#define NR_BIGS 6

static struct chunk_ref holder, items[NR_ITEMS], bigs[NR_BIGS], h_big;

/* look-alikes of a header family (headers.c): a list node and a struct
 * holding the list as its second member; a "tag" with a value per
 * object */
static void build_lookalikes(void)
{
	holder = chunk(32);
	put64(holder.mem, 3);		/* id 3, as items[3]'s v */
	for (int k = 0; k < NR_ITEMS; k++) {
		items[k] = chunk(32);
		put64(items[k].mem, (uint64_t)k);
		if (k)
			put64(items[k - 1].mem + 8, items[k].mem);
	}
	put64(holder.mem + 8, items[0].mem);
	root(0, "g_holder", T_holder, holder.mem);
	for (int k = 0; k < NR_BIGS; k++) {
		bigs[k] = chunk(48);
		put64(bigs[k].mem + 8, (uint64_t)k + 1);
		root(0, "g_big", T_big, bigs[k].mem);
	}
	h_big = chunk(48);
	put64(h_big.mem + 8, 3);
	root(1, "g_h_big", T_hd, h_big.mem);
}

static void check_lookalikes(void)
{
	is_str(name_of(items[3]), "struct item",
	       "declines: a struct beginning with a list node's members is no family");
	is_str(name_of(items[NR_ITEMS - 1]), "struct item", "... the whole list is its nodes");
	is_str(name_of(h_big), "untyped", "declines: a member with a value per sample is no tag");
}

static struct chunk_ref stack, t_tab, t_int, t_str, t_sample;

/* tagged values (tagged.c): a stack of struct tv, group 0 */
static void build_tagged(void)
{
	/* 6 values fit 104 usable bytes */
	stack = chunk(112);
	t_sample = gc_chunk(48, 5);	/* typed exactly: teaches tag 0x45 */
	t_tab = gc_chunk(48, 5);	/* reached only through the stack */
	t_int = gc_chunk(48, 5);	/* an integer holds its address */
	t_str = gc_chunk(48, 4);	/* tag 0x44: no sample */
	root(0, "g_sample", T_tab, t_sample.mem);
	root(0, "g_stack", T_tv, stack.mem);
	put64(stack.mem + 0, t_sample.mem);
	put8(stack.mem + 8, 0x45);
	put64(stack.mem + 16, t_tab.mem);
	put8(stack.mem + 24, 0x45);
	put64(stack.mem + 32, t_int.mem);
	put8(stack.mem + 40, 0x03);
	put64(stack.mem + 48, t_str.mem);
	put8(stack.mem + 56, 0x44);
}

static void check_tagged(void)
{
	is_str(name_of(stack), "struct tv[]", "a stack of tagged values");
	is_str(name_of(t_tab), "struct tab", "a tagged value whose tag a sample taught: followed");
	is_str(name_of(t_int), "untyped", "declines: an integer that holds a chunk's address");
	is_str(name_of(t_str), "untyped", "declines: a tag value no sample has");
}

static struct chunk_ref meta, cls, o1, o2, o3, bad, o_bad, o_static, chain_a, chain_b,
	o_chain, o_zero;

/* an object: COUNT, then its type word */
static struct chunk_ref object(uint64_t size, uint64_t off, uint64_t count, taddr_t type)
{
	struct chunk_ref c = chunk(size);

	put64(c.mem + off, count);
	put64(c.mem + off + 8, type);
	return c;
}

/* a type object in a chunk: TYPE, NAME (a string in the data page) */
static struct chunk_ref type_object(taddr_t type, taddr_t name, uint64_t basicsize)
{
	struct chunk_ref c = chunk(48);

	put64(c.mem, 1);
	put64(c.mem + 8, type ? type : c.mem);
	put64(c.mem + 16, name);
	put64(c.mem + 24, basicsize);
	put64(c.mem + 32, 0);
	return c;
}

/* object models (objmodel.c), group 2 */
static void build_objmodel(void)
{
	taddr_t n_type = DATA + 2048, n_session = DATA + 2056, n_fake = DATA + 2072;

	put_str(n_type, "type");
	put_str(n_session, "Session");
	put_str(n_fake, "Fake");
	meta = type_object(0, n_type, 40);		/* its own type */
	cls = type_object(meta.mem, n_session, 24);
	o1 = object(32, 0, 1, cls.mem);
	o2 = object(32, 0, 2, cls.mem);
	put64(o1.mem + 16, o2.mem);			/* a word past struct obj */
	o3 = object(48, 16, 1, cls.mem);		/* behind a 16-byte prefix */
	root(2, "g_o1", T_obj, o1.mem);
	root(2, "g_o3", T_obj, o3.mem + 16);
	/* declines */
	bad = chunk(48);				/* no type object: no name */
	put64(bad.mem + 8, bad.mem);
	o_bad = object(32, 0, 1, bad.mem);
	o_static = object(32, 0, 1, DATA + 2304);	/* a type in no chunk, no module */
	put64(DATA + 2304, 1);
	put64(DATA + 2304 + 8, DATA + 2304);
	put64(DATA + 2304 + 16, n_fake);
	put64(DATA + 2304 + 24, 40);
	chain_b = type_object(0, n_fake, 40);
	put64(chain_b.mem + 8, 0);			/* its type: nothing */
	chain_a = type_object(chain_b.mem, n_fake, 24);
	o_chain = object(32, 0, 1, chain_a.mem);
	o_zero = object(32, 0, 0, cls.mem);
	root(2, "g_o_bad", T_obj, o_bad.mem);
	root(2, "g_o_static", T_obj, o_static.mem);
	root(2, "g_o_chain", T_obj, o_chain.mem);
	root(2, "g_o_zero", T_obj, o_zero.mem);
}

static void check_objmodel(void)
{
	is_str(name_of(o1), "Session", "an object: named after its type object");
	is_str(name_of(o2), "Session", "a word its layout does not describe: an object too");
	is_str(name_of(o3), "Session", "an object behind a 16-byte prefix");
	is_str(name_of(cls), "type", "a heap type object: named after its type, the metatype");
	is_str(name_of(meta), "type", "the metatype: its own type");
	is_str(name_of(o_bad), "untyped", "declines: a type word that is no type object");
	is_str(name_of(o_static), "untyped", "declines: a type object in no chunk and no module");
	is_str(name_of(o_chain), "untyped", "declines: a metatype chain not ending in its own type");
	is_str(name_of(o_zero), "untyped", "declines: a count of 0");
}

/* no chunk is typed as a header or an array of headers */
static void check_no_header_rows(void)
{
	size_t gch = 0, obj = 0;

	for (size_t i = 0; i < walk.nr_chunks; i++) {
		uint32_t k = res->of_chunk[i];

		if (k == TYPING_UNTYPED)
			continue;
		gch += !strcmp(res->names[k], "struct gch[]");
		obj += !strcmp(res->names[k], "struct obj") || !strcmp(res->names[k], "struct obj[]");
	}
	ok(gch == 0, "never an array of headers (%zu chunks)", gch);
	ok(obj == 0, "never the object header or an array of it (%zu chunks)", obj);
}

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
	/* the interpreter rules alone: shapes (tested in t-typing) would
	 * type some declined chunks as look-alike structs, flagged inferred */
	struct typing_opts opts = { .explain = true, .no_infer = true };
	struct target *t = memimage_new();
	int err;

	plan(32);
	heap_walk_init(&walk);
	make_types();
	build_engine();
	build_headers();
	build_tagged();
	build_objmodel();
	build_lookalikes();

	memimage_add(t, HEAP, heap, sizeof(heap), true);
	memimage_add(t, DATA, data, sizeof(data), true);
	for (unsigned k = 0; k < NR_MM; k++)
		memimage_add(t, MM + k * MM_STEP, mm[k], MM_LEN, true);
	err = typing_run_roots(t, &walk, &tt, groups, NR_GROUPS, &opts, &res);
	if (!ok(err == 0, "typing_run_roots"))
		return done();
	check_engine();
	check_headers();
	check_tagged();
	check_objmodel();
	check_lookalikes();
	check_no_header_rows();

	typing_result_free(res);
	for (int g = 0; g < NR_GROUPS; g++)
		root_list_release(&groups[g]);
	ty_table_free(&tt);
	heap_walk_release(&walk);
	target_close(t);
	return done();
}
