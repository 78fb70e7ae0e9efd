/*
 * typing-internal.h - the state the typing engine and its rules share.
 * Not for other layers.
 *
 * The files of typing/, each a set of rules with its own essay:
 *   engine.c   the chunk index, the worklist, ranks and conflicts, the
 *              core rule (a pointer to a chunk's start or inside it),
 *              scanning objects and roots;
 *   arrays.c   one T or T[] (chunk slack), trailing arrays' elements;
 *   parts.c    two structs in one chunk;
 *   headers.c  header structs: families (embedding or repeating the
 *              header's members), their tag, allocator prefixes;
 *   tagged.c   tagged values: a union's pointer followed when the tag
 *              next to it says so;
 *   objmodel.c objects typed by their type object (CPython);
 *   cxx.c      C++: vtables, libstdc++ container node types;
 *   shape.c    typing by shape (inferred);
 *   result.c   the result: names, pointer layouts, members, owners,
 *              --explain-types;
 *   typing.c   typing_run(): the passes in order, roots from roots/.
 * A new rule goes in its own file, is called from the pass or the rule
 * it refines, and gets a test that shows it typing and one that shows it
 * declining (tests/unit/t-typing.c).
 */
#ifndef HEAPGRAB_TYPING_INTERNAL_H
#define HEAPGRAB_TYPING_INTERNAL_H

#include "typing/typing.h"
#include "debuginfo/types.h"
#include "util/hashmap.h"

struct families;
struct modset;
struct objmodel;
struct root;
struct tagged;

/*
 * Ranks: when two types reach one chunk, the higher rank wins; at equal
 * rank the larger type, at equal size the first (engine.c).
 */
#define RANK_SHAPE	0	/* typed by shape (inferred) */
#define RANK_INTERIOR	1	/* an interior pointer, an allocator prefix */
#define RANK_WEAK	2	/* a union alternative, a header resolution */
#define RANK_POINTER	3	/* a pointer to the start, from a member or a root */
#define RANK_VTABLE	4	/* the chunk's own vtable pointer */

/* Where a chunk's type came from. */
enum typed_from {
	TYPED_FROM_CHUNK,	/* a pointer in another chunk: index = walk index */
	TYPED_FROM_ROOT,	/* a root: index into typer.roots */
	TYPED_FROM_VTABLE,	/* its own first word, a vtable pointer */
	TYPED_FROM_SHAPE,	/* shape inference */
};

struct typed_origin {
	uint32_t index;
	uint8_t kind;		/* enum typed_from */
};

static inline struct typed_origin from_chunk(uint32_t i)
{
	return (struct typed_origin){ .index = i, .kind = TYPED_FROM_CHUNK };
}

/* A chunk waiting for the header resolution (headers.c). */
struct deferred {
	uint32_t chunk, head, member;
	struct typed_origin from;
	uint32_t prefix;	/* the object starts this far into the chunk */
};

/* Largest allocator prefix before an object typing accepts (Python's GC
 * head plus managed-dict pointers are 32 bytes). */
#define TYPER_MAX_PREFIX 64

struct trailing_elem;

struct vtable_sym {
	taddr_t start, end;
	uint32_t cls;		/* TY_NONE when the class has no DWARF */
};

struct typer {
	struct target *image;
	const struct heap_walk *walk;
	const struct typing_opts *opts;
	struct modset *ms;		/* NULL: types and roots came from the caller */
	struct ty_table tt;

	/* live chunks (in use, mmapped) sorted by address */
	uint32_t *live;
	size_t nr_live;
	taddr_t live_lo, live_hi;
	size_t lookup_hint;	/* typer_lookup()'s last answer (index into live) */

	/* per chunk (walk order) */
	uint32_t *type;		/* TY_NONE = untyped */
	uint8_t *rank, *array, *inferred, *in_queue;
	uint8_t *prefix;	/* bytes before the object (header with prefix) */
	uint32_t *from;		/* typed_origin.index */
	uint8_t *from_kind;	/* typed_origin.kind */
	uint32_t *member;	/* member name (tt.strs) or TY_NONE */

	uint32_t *queue;
	size_t nr_queue, alloc_queue;

	struct deferred *deferred;
	size_t nr_deferred, alloc_deferred;

	uint32_t malloc_chunk;		/* glibc's struct malloc_chunk, or TY_NONE */
	/* libstdc++'s node bases (TY_NONE when absent): type nothing (cxx.c) */
#define TYPER_NODE_BASES 4
	uint32_t node_base[TYPER_NODE_BASES];

	struct vtable_sym *vtables;
	size_t nr_vtables;

	/* per type id (NULL: none is): from a language whose objects are
	 * never in malloc's heap (Go); shapes never give them */
	uint8_t *foreign;
	size_t nr_foreign;

	/* second structs in chunks: chunk -> offset << 32 | type (parts.c) */
	struct hashmap parts;
	/* the chunk being scanned (UINT32_MAX: a root) */
	uint32_t scanning;

	/* the elements of trailing arrays, by embedded type (arrays.c) */
	struct trailing_elem *trailing;
	size_t nr_trailing;

	/* root names, for --explain-types and typing_owner() */
	char **roots;
	size_t nr_roots, alloc_roots;

	uint8_t *buf;
	size_t buf_len;

	struct families *families;	/* headers.c, NULL until used */
	struct objmodel *objmodel;	/* objmodel.c, NULL: no object model */
	struct tagged *tagged;		/* tagged.c, NULL until used */

	uint64_t conflicts;
	char *conflict_examples[TYPING_CONFLICT_EXAMPLES];
	size_t nr_conflict_examples;
};

/* The value of KEY in MAP, an index or an id (they fit 32 bits). */
static inline bool typer_map_get32(const struct hashmap *map, uint64_t key, uint32_t *ret)
{
	const uint64_t *v = hashmap_find_u64(map, key);

	if (v)
		*ret = (uint32_t)*v;
	return v != NULL;
}

/* ---- engine.c ---- */

/* Set up TY for WALK in IMAGE (the per-chunk arrays and the live index);
 * the type table starts empty. */
void typer_init(struct typer *ty, struct target *image, const struct heap_walk *walk,
		const struct typing_opts *opts);
void typer_release(struct typer *ty);

/* The live chunk whose user area holds V, and V's offset in it; UINT32_MAX. */
uint32_t typer_lookup(struct typer *ty, taddr_t v, uint64_t *ret_off);
/* Chunk I's user area [*start, *start + *len) (heap/heap.h geometry:
 * malloc_usable_size()). Inline: every pointer typing follows asks. */
static inline void typer_user_area(const struct typer *ty, uint32_t i, taddr_t *start,
				   uint64_t *len)
{
	const struct chunk *c = &ty->walk->chunks[i];

	*start = chunk_mem(c);
	*len = chunk_usable(c, chunk_mmap_padding(c, ty->image));
}

static inline uint64_t typer_usable(const struct typer *ty, uint32_t i)
{
	taddr_t s;
	uint64_t len;

	typer_user_area(ty, i, &s, &len);
	return len;
}
/* LEN bytes at ADDR: a pointer into the image when it holds them, else a
 * copy in ty->buf (valid until the next call); NULL when unreadable. */
const uint8_t *typer_mem(struct typer *ty, taddr_t addr, uint64_t len);
/* The WIDTH-byte word at OFF of chunk I's user area (0 when out of range). */
uint64_t typer_word(struct typer *ty, uint32_t i, uint64_t off, unsigned width);
/* The element type a pointer of pointee P types: arrays stand for their
 * elements; opaque and function types type nothing (TY_NONE). */
uint32_t typer_elem(struct typer *ty, uint32_t p);

/* Scan chunk I again (its type was refined). */
void typer_requeue(struct typer *ty, uint32_t i);
/* Give chunk I type T (an array of T when ARRAY) at RANK, for an object
 * PREFIX bytes into the chunk; FROM and MEMBER say where the pointer was.
 * Settles conflicts and queues the chunk to be scanned. */
void typer_set_type(struct typer *ty, uint32_t i, uint32_t t, bool array, uint8_t rank,
		    struct typed_origin from, uint32_t member, uint32_t prefix);
/* The structs embedding M at OFF that fit chunk I (EXACT: whose malloc
 * size is the chunk's); how many, the first in *RET, up to MAX in CANDS. */
unsigned typer_embedders_fitting(struct typer *ty, uint32_t m, uint64_t off, uint32_t i,
				 bool exact, uint32_t *ret, uint32_t *cands, unsigned max);
/* The pointer value V of pointee type POINTEE, read at RANK. */
void typer_assign(struct typer *ty, taddr_t v, uint32_t pointee, uint8_t rank,
		  struct typed_origin from, uint32_t member);
/* Follow the pointers of an object of type T whose bytes are P (LEN). */
void typer_scan_object(struct typer *ty, uint32_t t, const uint8_t *p, uint64_t len,
		       struct typed_origin from, int depth);
/* Scan the typed root R (its bytes read from the image, or its value). */
void typer_scan_root(struct typer *ty, const struct root *r);
/* Scan the queued chunks until the queue is empty. */
void typer_drain(struct typer *ty);

/* ---- arrays.c ---- */

/* Chunk I holds one T, not T[]: fewer than two T fit in its usable size,
 * or T ends in a trailing array. */
bool typer_holds_one(struct typer *ty, uint32_t i, uint32_t t);
/* Index the structs and embedded structs of trailing arrays' elements
 * (after ty_index_embeds). */
void typer_index_trailing(struct typer *ty);
void typer_free_trailing(struct typer *ty);
/* The structs that hold an M OFF bytes into chunk I in element k of
 * their trailing array (fitting the chunk); how many, up to MAX in
 * CANDS. */
unsigned typer_trailing_owners(struct typer *ty, uint32_t i, uint32_t m, uint64_t off,
			       uint32_t *cands, unsigned max);
/* Chunk I is what malloc(sizeof(T)) gives, give or take glibc's slack
 * (or T is flexible and fits, or an mmapped chunk holds one T). */
bool typer_fits_exactly(struct typer *ty, uint32_t i, uint32_t t);

/* ---- parts.c ---- */

/* Chunk I's second struct and its offset; TY_NONE when it has none. */
uint32_t typer_part(const struct typer *ty, uint32_t i, uint64_t *ret_off);
void typer_drop_part(struct typer *ty, uint32_t i);
/* Does struct T hold a U at OFF (T itself at 0)? */
bool typer_embeds_at(struct typer *ty, uint32_t t, uint32_t u, uint64_t off);
/* A pointer of struct type U OFF bytes into chunk I typed as a struct
 * T, past T: true when it is T's second part (now or already). */
bool typer_second_part(struct typer *ty, uint32_t i, uint32_t u, uint64_t off);
/* A pointer of struct type T to the start of chunk I, typed as another
 * struct behind a prefix T fits in: true when T became the first part. */
bool typer_part_before_prefix(struct typer *ty, uint32_t i, uint32_t t, uint8_t rank,
			      struct typed_origin from, uint32_t member);

/* ---- headers.c ---- */

/* A pointer to the start of chunk I typed T, a struct other structs begin
 * with: true when the header rule took the chunk (typed or deferred). */
bool typer_header_start(struct typer *ty, uint32_t i, uint32_t t, struct typed_origin from,
			uint32_t member);
/* A pointer to struct T OFF bytes into untyped chunk I: true when the
 * allocator-prefix rule took it. */
bool typer_prefix(struct typer *ty, uint32_t i, uint32_t t, uint64_t off,
		  struct typed_origin from, uint32_t member);
void typer_defer_header(struct typer *ty, uint32_t i, uint32_t head, struct typed_origin from,
			uint32_t member, uint32_t prefix);
/* Resolve the deferred chunks, in rounds, until none is left (at most 16). */
void typer_resolve_headers(struct typer *ty);

/* Is S HEAD or a struct of HEAD's family (the structs that begin with
 * HEAD, embedding it or repeating its members)? */
bool typer_in_family(struct typer *ty, uint32_t head, uint32_t s);
void typer_families_free(struct typer *ty);

/* ---- tagged.c ---- */

/* Scanning an object of type C (bytes P, LEN): the pointer slot at O of
 * pointee POINTEE is inside a union next to a tag: true when this rule
 * took it (followed, dropped or kept for later). */
bool typer_tagged_slot(struct typer *ty, uint32_t c, const uint8_t *p, uint64_t len, uint64_t o,
		       uint32_t pointee, struct typed_origin from, uint32_t member);
/* Learn the tags from what is typed now and follow what they make live;
 * how many pointers were followed. */
size_t typer_tagged_resolve(struct typer *ty);
/* The same while draining, when many values wait (bounds their memory). */
void typer_tagged_maybe_resolve(struct typer *ty);
void typer_tagged_free(struct typer *ty);

/* ---- objmodel.c ---- */

/* Find the object model in the type table (nothing when there is none;
 * after ty_index_embeds). */
void typer_objmodel_init(struct typer *ty);
void typer_objmodel_free(struct typer *ty);
/* Do objects' type objects decide pointers of element type T? */
bool typer_objmodel_handles(struct typer *ty, uint32_t t);
/* Type chunk I by the object OFF bytes into it; false when no object is
 * there. */
bool typer_objmodel_assign(struct typer *ty, uint32_t i, uint64_t off, uint8_t rank,
			   struct typed_origin from, uint32_t member);
/* After chunk I was scanned: read what its type does not describe as
 * possible object pointers. */
void typer_objmodel_scan(struct typer *ty, uint32_t i);
/* Is T the model's header struct? */
bool typer_objmodel_header(struct typer *ty, uint32_t t);
/* Is T a row named after a type object? */
bool typer_objmodel_row(struct typer *ty, uint32_t t);

/* ---- cxx.c ---- */

/* Read libstdc++'s value buffers (__aligned_membuf<V>, __aligned_buffer<V>)
 * as V in every struct that holds one (before ty_index_embeds). */
void typer_cxx_value_buffers(struct ty_table *tt);
/* Point the container links of libstdc++'s types at their node types. */
void typer_retype_containers(struct typer *ty);
/* Note libstdc++'s node base types, which type nothing. */
void typer_note_node_bases(struct typer *ty);
/* Is T an instance of one of libstdc++'s node templates (_Rb_tree_node<V>,
 * _Hash_node<V, c>, _List_node<V>, _Fwd_list_node<V>)? */
bool typer_is_node_template(struct typer *ty, uint32_t t);
static inline bool typer_is_node_base(const struct typer *ty, uint32_t t)
{
	for (size_t k = 0; k < TYPER_NODE_BASES; k++)
		if (ty->node_base[k] == t)
			return true;
	return false;
}
/* Type every live chunk whose first word points into a vtable (needs the
 * modset's symbols; nothing without). */
void typer_type_by_vtables(struct typer *ty);
void typer_free_vtables(struct typer *ty);

/* ---- shape.c ---- */

void typer_type_by_shape(struct typer *ty);

/* ---- result.c ---- */

/* The result of a finished typer; takes what it keeps (the type table,
 * the per-chunk arrays for typing_member_name and typing_owner). */
void typer_result(struct typer *ty, struct typing_result *r);

#endif /* HEAPGRAB_TYPING_INTERNAL_H */
