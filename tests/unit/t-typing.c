/*
 * t-typing.c - the typing engine on a hand-built image with hand-built
 * types and roots (typing_run_roots: no DWARF, no modules).
 *
 * The image is a heap of arena chunks, two mmapped chunks with memalign
 * padding and a data page holding the roots; the types are described
 * with debuginfo/types.h's building calls. Each chunk tests one rule,
 * and every rule that types something has a case that shows it
 * declining:
 *   exact type, array (chunk bigger than malloc(sizeof(T))), char[],
 *     a T bigger than the chunk (declined);
 *   array elements scanned;
 *   interior pointers: the one struct embedding the member there; an
 *     element of a base-type array; a struct pointer nothing embeds
 *     (declined);
 *   union alternatives: only in a chunk exactly malloc(sizeof(alt));
 *   header structs: two candidates told apart by a tag member learnt
 *     from exactly typed samples; a tag value nothing has, and one
 *     candidate of the chunk's size but no sample of it (declined: a
 *     size match alone types nothing);
 *   allocator prefixes: the object 16 bytes in, scanned from there and
 *     named with the prefix; 72 bytes in (declined);
 *   conflicts and ranks: a start pointer beats an interior one (either
 *     order), the larger type wins at equal rank (either order), with
 *     the conflict counter and its examples;
 *   glibc's struct malloc_chunk types nothing;
 *   shapes: an untyped chunk whose pointers fit exactly one struct of
 *     its size (inferred, and what it reaches too); a pointer into a
 *     chunk is no fit (declined); a struct no chunk of its size is typed
 *     as, by a link to a node of its shape and a char * to a C string
 *     (inferred, the string and the node through it), not by the link
 *     and a char * to binary bytes, nor by the string alone (declined),
 *     and a struct of that shape 16 bytes smaller (glibc's slack) is no
 *     twin there (its link to a chunk of the bigger size is no evidence);
 *   mmapped chunks with memalign padding: their usable bytes end at the
 *     mapping's end (a type that fits only the old, padded reckoning is
 *     declined, and a pointer past the mapping types nothing);
 *   pointer layouts, member names, owners and --explain-types.
 */
#include "config.h"
#include "tap.h"
#include "debuginfo/types.h"
#include "heap/heap.h"
#include "roots/roots.h"
#include "target/target.h"
#include "typing/typing.h"
#include "typing/typing-internal.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

#define HEAP	0x10000000ull
#define HEAP_LEN 0x4000
#define DATA	0x20000000ull
#define MM	0x40000000ull	/* mmapped chunks, 0x1000 bytes of padding each */
#define MM_STEP	0x8000ull
#define NR_MM	3
#define MM_LEN	0x3000
#define MM_PAD	0x1000

static unsigned char heap[HEAP_LEN], data[4096], mm[NR_MM][MM_LEN];
static struct heap_walk walk;
static taddr_t next_chunk = HEAP;
static taddr_t next_root = DATA;

static void put64(taddr_t a, uint64_t v)
{
	unsigned char *p;

	if (a >= HEAP && a < HEAP + HEAP_LEN)
		p = heap + (a - HEAP);
	else if (a >= DATA && a < DATA + sizeof(data))
		p = data + (a - DATA);
	else
		p = mm[(a - MM) / MM_STEP] + (a - MM) % MM_STEP;
	memcpy(p, &v, 8);
}

static void put32(taddr_t a, uint32_t v)
{
	memcpy(heap + (a - HEAP), &v, 4);
}

static void put_bytes(taddr_t a, const void *p, size_t n)
{
	memcpy(heap + (a - HEAP), p, n);
}

struct chunk_ref {
	size_t idx;	/* walk index */
	taddr_t mem;	/* user pointer */
};

/* Mmapped chunk K: MM_PAD bytes into its mapping (as memalign leaves
 * it), so its usable bytes are MM_LEN - MM_PAD - 16; the walk's size is
 * the whole mapping (heap/glibc-walk.c). */
static struct chunk_ref mmapped(unsigned k)
{
	taddr_t map = MM + k * MM_STEP;
	struct chunk_ref c = { walk.nr_chunks, map + MM_PAD + 16 };

	put64(map + MM_PAD, MM_PAD);
	put64(map + MM_PAD + 8, (MM_LEN - MM_PAD) | 2);
	heap_walk_add(&walk, map + MM_PAD, MM_LEN, CHUNK_NO_ARENA, CHUNK_MMAPPED);
	return c;
}

static struct chunk_ref chunk(uint64_t size)
{
	struct chunk_ref c = { walk.nr_chunks, next_chunk + 16 };

	put64(next_chunk + 8, size | 1);
	heap_walk_add(&walk, next_chunk, size, 0, CHUNK_INUSE);
	next_chunk += size;
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

static uint32_t ptr(uint32_t t)
{
	struct strbuf sb = STRBUF_INIT;
	uint32_t p;

	strbuf_addf(&sb, "%s *", ty_get(&tt, t)->name);
	p = type(sb.buf, TY_PTR, 8);
	ty_get(&tt, p)->pointee = t;
	strbuf_release(&sb);
	return p;
}

static uint32_t T_node, T_link, T_job, T_hdr, T_obj_a, T_obj_c, T_obj_d, T_pyobj, T_big,
	T_tree, T_char, T_long, T_mchunk, T_a40, T_b36, T_rec, T_huge, T_fits, T_sess, T_snode;

static void make_types(void)
{
	uint32_t u;

	ty_table_init(&tt);
	T_char = type("char", TY_BASE, 1);
	T_long = type("long", TY_BASE, 8);
	/* struct node { struct node *next; char *name; int a, b; } */
	T_node = type("struct node", TY_STRUCT, 24);
	ty_add_slot(&tt, T_node, 0, 1, 8, T_node, ".next", 0);
	ty_add_slot(&tt, T_node, 8, 1, 8, T_char, ".name", 0);
	ty_add_nonptr(&tt, T_node, 16, 4);
	ty_add_nonptr(&tt, T_node, 20, 4);
	/* struct link { struct link *next, *prev; } in struct job { long id;
	 * struct link link; char *s; } */
	T_link = type("struct link", TY_STRUCT, 16);
	ty_add_slot(&tt, T_link, 0, 2, 8, T_link, ".next", 0);
	T_job = type("struct job", TY_STRUCT, 32);
	ty_add_embed(&tt, T_job, 8, T_link);
	ty_add_slot(&tt, T_job, 8, 2, 8, T_link, ".link.next", 0);
	ty_add_slot(&tt, T_job, 24, 1, 8, T_char, ".s", 0);
	/* struct hdr { int tag; struct hdr *next; } begins obj_a, obj_c
	 * (both 40 bytes) and obj_d (56) */
	T_hdr = type("struct hdr", TY_STRUCT, 16);
	ty_add_nonptr(&tt, T_hdr, 0, 4);
	ty_add_slot(&tt, T_hdr, 8, 1, 8, T_hdr, ".next", 0);
	ty_add_member(&tt, T_hdr, 0, 4, type("int", TY_BASE, 4), "tag");
	ty_add_member(&tt, T_hdr, 8, 8, ty_pointer_to(&tt, T_hdr), "next");
	T_obj_a = type("struct obj_a", TY_STRUCT, 40);
	ty_add_embed(&tt, T_obj_a, 0, T_hdr);
	ty_add_slot(&tt, T_obj_a, 8, 1, 8, T_hdr, ".h.next", 0);
	ty_add_slot(&tt, T_obj_a, 16, 1, 8, T_node, ".a", 0);
	T_obj_c = type("struct obj_c", TY_STRUCT, 40);
	ty_add_embed(&tt, T_obj_c, 0, T_hdr);
	ty_add_slot(&tt, T_obj_c, 8, 1, 8, T_hdr, ".h.next", 0);
	ty_add_slot(&tt, T_obj_c, 24, 1, 8, T_job, ".j", 0);
	T_obj_d = type("struct obj_d", TY_STRUCT, 56);
	ty_add_embed(&tt, T_obj_d, 0, T_hdr);
	ty_add_slot(&tt, T_obj_d, 8, 1, 8, T_hdr, ".h.next", 0);
	/* struct pyobj { long refcnt; struct node *type; } */
	T_pyobj = type("struct pyobj", TY_STRUCT, 16);
	ty_add_slot(&tt, T_pyobj, 8, 1, 8, T_node, ".type", 0);
	T_big = type("struct big", TY_STRUCT, 200);
	/* struct tree { struct tree *l, *r; union { struct node *n; struct
	 * job *j; } u; } */
	T_tree = type("struct tree", TY_STRUCT, 24);
	u = type("union u", TY_UNION, 8);
	ty_add_slot(&tt, u, 0, 1, 8, T_node, ".n", SLOT_UNION);
	ty_add_slot(&tt, u, 0, 1, 8, T_job, ".j", SLOT_UNION);
	ty_add_slot(&tt, T_tree, 0, 2, 8, T_tree, ".l", 0);
	ty_add_slot(&tt, T_tree, 16, 1, 8, T_node, ".u.n", SLOT_UNION);
	ty_add_slot(&tt, T_tree, 16, 1, 8, T_job, ".u.j", SLOT_UNION);
	ty_add_embed(&tt, T_tree, 16, u);
	T_mchunk = type("struct malloc_chunk", TY_STRUCT, 48);
	ty_add_slot(&tt, T_mchunk, 16, 2, 8, T_mchunk, ".fd", 0);
	T_a40 = type("struct a40", TY_STRUCT, 40);
	T_b36 = type("struct b36", TY_STRUCT, 36);
	/* struct rec { int a, b; struct rec *p; double d; }: layout 010 */
	T_rec = type("struct rec", TY_STRUCT, 24);
	ty_add_nonptr(&tt, T_rec, 0, 8);
	ty_add_slot(&tt, T_rec, 8, 1, 8, T_rec, ".p", 0);
	ty_add_nonptr(&tt, T_rec, 16, 8);
	T_huge = type("struct huge", TY_STRUCT, 0x2800);
	T_fits = type("struct fits", TY_STRUCT, 0x1f00);
	/* struct sess { int fd; char *name; struct sess *peer; long x[6]; }:
	 * an 80-byte chunk, a size nothing else is typed as */
	T_sess = type("struct sess", TY_STRUCT, 72);
	ty_add_nonptr(&tt, T_sess, 0, 4);
	ty_add_slot(&tt, T_sess, 8, 1, 8, T_char, ".name", 0);
	ty_add_slot(&tt, T_sess, 16, 1, 8, T_sess, ".peer", 0);
	/* struct snode { int kind; char *name; struct snode *next; long
	 * y[4]; }: sess's shape in a 64-byte chunk, 80 with the slack */
	T_snode = type("struct snode", TY_STRUCT, 56);
	ty_add_nonptr(&tt, T_snode, 0, 4);
	ty_add_slot(&tt, T_snode, 8, 1, 8, T_char, ".name", 0);
	ty_add_slot(&tt, T_snode, 16, 1, 8, T_snode, ".next", 0);
}

/* ---- roots ---- */

static struct root_list groups[3];

/* A global pointer of type pointer-to-T, in root group G, holding V. */
static void root(unsigned g, const char *name, uint32_t t, uint64_t v)
{
	struct root r = {
		.kind = ROOT_GLOBAL, .what = ROOT_IS_VARIABLE, .name = name, .module = "t",
		.type = ptr(t), .start = next_root, .end = next_root + 8,
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

/*
 * The chunk index (engine.c): built from a walk whose segments come in
 * any order, without sorting chunk by chunk; and typer_lookup(), which
 * starts from its last answer, answers every address as a plain search
 * of a sorted list would, whatever the order of the questions.
 */
#define LK_SEGS 6
#define LK_PER 40

static uint32_t lookup_slow(const struct heap_walk *w, taddr_t v)
{
	for (size_t i = 0; i < w->nr_chunks; i++) {
		const struct chunk *c = &w->chunks[i];

		if ((c->state == CHUNK_INUSE || c->state == CHUNK_MMAPPED) && c->size >= 32 &&
		    v >= chunk_mem(c) && v < chunk_mem(c) + chunk_usable(c, 0))
			return (uint32_t)i;
	}
	return UINT32_MAX;
}

static void lookup_index(void)
{
	static const unsigned seg_order[LK_SEGS] = { 3, 0, 5, 1, 4, 2 };
	struct heap_walk w;
	struct typer ty;
	bool sorted = true, same = true;
	uint64_t rng = 12345;
	taddr_t lo = UINT64_MAX, hi = 0;

	heap_walk_init(&w);
	/* six segments 1 MiB apart, walked out of address order; each a row
	 * of chunks without gaps, some free (not in the index) */
	for (unsigned k = 0; k < LK_SEGS; k++) {
		taddr_t a = 0x50000000ull + (taddr_t)seg_order[k] * 0x100000;

		for (unsigned j = 0; j < LK_PER; j++) {
			uint64_t size = 32 + 16 * ((j * 7 + k) % 9);

			heap_walk_add(&w, a, size, CHUNK_NO_ARENA, j % 5 == 3 ? CHUNK_BIN : CHUNK_INUSE);
			lo = MIN(lo, a);
			hi = MAX(hi, a + size + 16);
			a += size;
		}
	}
	typer_init(&ty, NULL, &w, NULL);
	for (size_t i = 1; i < ty.nr_live; i++)
		sorted &= w.chunks[ty.live[i]].addr > w.chunks[ty.live[i - 1]].addr;
	ok(sorted && ty.nr_live == LK_SEGS * LK_PER / 5 * 4,
	   "index of %zu live chunks of 6 segments walked out of order: in address order",
	   ty.nr_live);
	/* every 8-byte address across the segments, in order, backwards,
	 * and at random: the same answer as a search of every chunk */
	for (int pass = 0; pass < 3; pass++) {
		for (taddr_t n = 0; n < (hi - lo) / 8; n++) {
			taddr_t v;
			uint64_t off, off2 = 0;
			uint32_t got, want;

			if (pass == 0)
				v = lo + 8 * n;
			else if (pass == 1)
				v = hi - 8 * (n + 1);
			else {
				rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
				v = lo + 8 * ((rng >> 33) % ((hi - lo) / 8));
			}
			got = typer_lookup(&ty, v, &off);
			want = lookup_slow(&w, v);
			if (want != UINT32_MAX)
				off2 = v - chunk_mem(&w.chunks[want]);
			if (got != want || (got != UINT32_MAX && off != off2))
				same = false;
		}
	}
	ok(same, "typer_lookup from its last answer = a search of every chunk, in any order");
	typer_release(&ty);
	heap_walk_release(&w);
}

int main(void)
{
	struct chunk_ref node1, node2, name, arr, node3, job, lng, nobody, small, tree, u1, tree2,
		u2, a1, a2, c1, h1, h2, h3, h5, py, node4, py2, x, y, z, w, mc, s1, s2, s3, rec,
		node5, mmc1, mmc2, mmc3, sv1, sv2, sn1, sn2, sb1, sb2, sbn, st1, stn;
	static const unsigned char binary[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	struct typing_opts opts = { .explain = true };
	struct target *t = memimage_new();
	struct strbuf sb = STRBUF_INIT;
	uint32_t from;
	const char *rootname;
	int err;

	plan(52);
	heap_walk_init(&walk);
	make_types();

	/* -- a list, an array, a string -- */
	node1 = chunk(32);
	node2 = chunk(32);
	name = chunk(64);
	arr = chunk(96);
	node3 = chunk(32);
	root(0, "g_head", T_node, node1.mem);
	put64(node1.mem, node2.mem);
	put64(node1.mem + 8, name.mem);
	root(0, "g_nodes", T_node, arr.mem);
	put64(arr.mem + 24, node3.mem);		/* element [1].next */
	/* -- interior pointers -- */
	job = chunk(48);
	lng = chunk(64);
	nobody = chunk(128);
	small = chunk(32);
	root(0, "g_link", T_link, job.mem + 8);
	root(0, "g_long", T_long, lng.mem + 16);
	root(0, "g_mid", T_node, nobody.mem + 72);
	root(0, "g_big", T_big, small.mem);
	/* -- unions -- */
	tree = chunk(32);
	u1 = chunk(32);
	tree2 = chunk(32);
	u2 = chunk(64);
	root(0, "g_tree", T_tree, tree.mem);
	put64(tree.mem, tree2.mem);
	put64(tree.mem + 16, u1.mem);
	put64(tree2.mem + 16, u2.mem);
	/* -- headers: obj_a (tag 1) and obj_c (tag 2) typed exactly first -- */
	a1 = chunk(48);
	a2 = chunk(48);
	c1 = chunk(48);
	h1 = chunk(48);
	h2 = chunk(48);
	h3 = chunk(48);
	h5 = chunk(64);
	put32(a1.mem, 1);
	put32(a2.mem, 1);
	put32(c1.mem, 2);
	put32(h1.mem, 1);
	put32(h2.mem, 2);
	put32(h3.mem, 7);
	root(0, "g_a1", T_obj_a, a1.mem);
	root(0, "g_a2", T_obj_a, a2.mem);
	root(0, "g_c1", T_obj_c, c1.mem);
	root(1, "g_h1", T_hdr, h1.mem);
	root(1, "g_h2", T_hdr, h2.mem);
	root(1, "g_h3", T_hdr, h3.mem);
	root(1, "g_h5", T_hdr, h5.mem);
	/* -- allocator prefixes -- */
	py = chunk(64);
	node4 = chunk(32);
	py2 = chunk(128);
	root(1, "g_py", T_pyobj, py.mem + 16);
	put64(py.mem + 16 + 8, node4.mem);	/* the object's .type */
	root(1, "g_py2", T_pyobj, py2.mem + 72);
	/* -- conflicts and ranks -- */
	x = chunk(48);
	y = chunk(48);
	z = chunk(48);
	w = chunk(48);
	root(1, "g_x1", T_link, x.mem + 8);	/* job, interior (1) */
	root(1, "g_x2", T_a40, x.mem);		/* a40, start (3): replaces */
	root(1, "g_y1", T_b36, y.mem);		/* b36 (3) */
	root(1, "g_y2", T_a40, y.mem);		/* a40 (3), larger: replaces */
	root(1, "g_z1", T_a40, z.mem);		/* a40 (3) */
	root(1, "g_z2", T_b36, z.mem);		/* b36 (3), smaller: refused */
	root(1, "g_w1", T_a40, w.mem);		/* a40 (3) */
	root(1, "g_w2", T_link, w.mem + 8);	/* job (1): refused */
	/* -- glibc's own headers -- */
	mc = chunk(64);
	root(1, "g_mc", T_mchunk, mc.mem);
	/* -- shapes: s1 -> node2 (a node), s1.name -> s3; s2 -> inside node2 -- */
	s1 = chunk(32);
	s2 = chunk(32);
	s3 = chunk(64);
	put64(s1.mem, node2.mem);
	put64(s1.mem + 8, s3.mem);
	put64(s2.mem, node2.mem + 8);
	/* -- shapes of a struct no chunk of its size is typed as: sv2 -> sv1
	 * with names (C strings); sb2 -> sb1 with a binary "name"; st1 with
	 * a name alone -- */
	sv1 = chunk(80);
	sv2 = chunk(80);
	sn1 = chunk(48);
	sn2 = chunk(48);
	put32(sv1.mem, 3);
	put32(sv2.mem, 4);
	put64(sv1.mem + 8, sn1.mem);
	put64(sv2.mem + 8, sn2.mem);
	put64(sv2.mem + 16, sv1.mem);
	put_bytes(sn1.mem, "session 3", 10);
	put_bytes(sn2.mem, "session 4", 10);
	sb1 = chunk(80);
	sb2 = chunk(80);
	sbn = chunk(48);
	put64(sb1.mem + 8, sbn.mem);
	put64(sb2.mem + 8, sbn.mem);
	put64(sb2.mem + 16, sb1.mem);
	put_bytes(sbn.mem, binary, sizeof(binary));
	st1 = chunk(80);
	stn = chunk(48);
	put64(st1.mem + 8, stn.mem);
	put_bytes(stn.mem, "alone here", 11);
	/* -- pointer layouts -- */
	rec = chunk(32);
	root(1, "g_rec", T_rec, rec.mem);
	node5 = chunk(32);
	/* -- mmapped chunks: the usable bytes end at the mapping's end -- */
	mmc1 = mmapped(0);
	mmc2 = mmapped(1);
	mmc3 = mmapped(2);
	root(2, "g_huge", T_huge, mmc1.mem);	/* fits only in size - 16 */
	root(2, "g_fits", T_fits, mmc2.mem);
	/* 16 bytes past mmc3's mapping: inside size - 16 */
	root(2, "g_over", T_long, MM + 2 * MM_STEP + MM_LEN + 16);

	memimage_add(t, HEAP, heap, sizeof(heap), true);
	memimage_add(t, DATA, data, sizeof(data), true);
	for (unsigned k = 0; k < NR_MM; k++)
		memimage_add(t, MM + k * MM_STEP, mm[k], MM_LEN, true);
	err = typing_run_roots(t, &walk, &tt, groups, 3, &opts, &res);
	if (!ok(err == 0, "typing_run_roots"))
		return done();

	is_str(name_of(node1), "struct node", "a root's pointer: the exact type");
	is_str(name_of(node2), "struct node", "a struct member's pointer: its type");
	is_str(name_of(name), "char[]", "char * to a 64-byte chunk: char[]");
	is_str(name_of(arr), "struct node[]", "a chunk bigger than malloc(sizeof(T)): T[]");
	is_str(name_of(node3), "struct node", "array elements are scanned");
	is_str(name_of(job), "struct job", "interior pointer: the one struct embedding it there");
	is_str(name_of(lng), "long[]", "interior pointer into base types: an array of them");
	is_str(name_of(nobody), "untyped", "declines: a struct pointer 72 bytes into a chunk");
	is_str(name_of(small), "untyped", "declines: a type bigger than the chunk");
	is_str(name_of(tree), "struct tree", "tree");
	is_str(name_of(u1), "struct node", "union alternative: the chunk is malloc(sizeof(alt))");
	is_str(name_of(u2), "untyped", "declines: no alternative is the chunk's malloc size");
	is_str(name_of(a1), "struct obj_a", "header samples typed exactly");
	is_str(name_of(h1), "struct obj_a", "header, two candidates: tag 1 learnt for obj_a");
	is_str(name_of(h2), "struct obj_c", "header, two candidates: tag 2 learnt for obj_c");
	is_str(name_of(h3), "untyped", "declines: a tag value no sample has");
	is_str(name_of(h5), "untyped", "declines: one candidate of the chunk's size, no sample");
	is_str(name_of(py), "struct pyobj", "allocator prefix: the object 16 bytes in");
	is_str(name_of(node4), "struct node", "an object behind a prefix is scanned from its start");
	is_str(name_of(py2), "untyped", "declines: a prefix of 72 bytes");
	is_str(name_of(x), "struct a40", "a start pointer beats an earlier interior one");
	is_str(name_of(y), "struct a40", "equal rank: the larger type replaces");
	is_str(name_of(z), "struct a40", "equal rank: the smaller type is refused");
	is_str(name_of(w), "struct a40", "an interior pointer loses to a start pointer");
	is_u64(res->conflicts, 4, "four conflicts counted (x, y, z, w)");
	ok(res->nr_conflict_examples == 4 &&
	   strstr(res->conflict_examples[0], ": struct job (rank 1) vs struct a40 (rank 3)"),
	   "conflict examples: '%s'", res->nr_conflict_examples ? res->conflict_examples[0] : "");
	is_str(name_of(mc), "untyped", "glibc's struct malloc_chunk types nothing");
	is_str(name_of(s1), "struct node ~", "shape: the one struct whose pointers fit (inferred)");
	is_str(name_of(s3), "char[] ~", "what an inferred chunk reaches is inferred");
	is_str(name_of(s2), "untyped", "declines: a pointer into a chunk is no fit");
	is_str(name_of(node5), "untyped", "nothing points to an empty chunk: untyped");
	is_str(name_of(sv2), "struct sess ~", "shape: a link to a node of its shape and a C string");
	is_str(name_of(sv1), "struct sess ~", "the node it links to, through its typed pointer");
	is_str(name_of(sn1), "char[] ~", "the names through the nodes (inferred)");
	is_str(name_of(sn2), "char[] ~", "the names through the nodes (inferred), again");
	is_str(name_of(sb2), "untyped", "declines: a link and a char * to binary bytes");
	is_str(name_of(sbn), "untyped", "declines: the binary bytes stay untyped");
	is_str(name_of(st1), "untyped", "declines: a C string alone");
	is_str(name_of(mmc1), "untyped",
	       "mmapped with padding: a type bigger than malloc_usable_size() is declined");
	is_str(name_of(mmc2), "struct fits", "mmapped with padding: a type that fits");
	is_str(name_of(mmc3), "untyped", "a pointer past the mapping's end types nothing");

	{
		uint32_t k = res->of_chunk[rec.idx];

		ok(k != TYPING_UNTYPED && res->layouts[k].period == 3 &&
		   res->layouts[k].bits[0] == 2,
		   "layout of struct rec: 3 words, only the pointer scanned");
		k = res->of_chunk[py.idx];
		ok(k != TYPING_UNTYPED && res->layouts[k].period == 0,
		   "no layout for a type seen behind a prefix");
	}
	{
		bool found = typing_member_name(res, py.idx, 24, &sb);

		ok(found && !strcmp(sb.buf, ".type"),
		   "member names count from the object behind the prefix: '%s'", sb.buf);
		strbuf_reset(&sb);
		found = typing_member_name(res, arr.idx, 24, &sb);
		ok(found && !strcmp(sb.buf, "[1].next"), "member names of an array element: '%s'",
		   sb.buf);
	}
	strbuf_release(&sb);
	ok(typing_owner(res, node2.idx, &from, &rootname) == 1 && from == node1.idx,
	   "owner of node2: node1");
	ok(typing_owner(res, node1.idx, &from, &rootname) == 0 &&
	   !strcmp(rootname, "global g_head (t)"), "owner of node1: the root, by the one namer");
	ok(typing_owner(res, s1.idx, &from, &rootname) == 0 && !strcmp(rootname, "(shape)"),
	   "owner of a shape: (shape)");
	ok(res->explain && res->explain[node2.idx] &&
	   strstr(res->explain[node2.idx], "struct node <- struct node.next @0x") &&
	   strstr(res->explain[node2.idx], "<- global g_head (t)"),
	   "--explain-types: '%s'", res->explain ? res->explain[node2.idx] : "");

	typing_result_free(res);
	for (int g = 0; g < 3; g++)
		root_list_release(&groups[g]);
	ty_table_free(&tt);
	target_close(t);
	heap_walk_release(&walk);
	lookup_index();
	return done();
}
