/*
 * types.h - the flat type table converted from DWARF (typing's vocabulary).
 *
 * DWARF describes every type once per compilation unit; typing needs one
 * entry per source type, with what matters for following pointers: the
 * size, where the pointers are (flattened through nested structs, arrays,
 * unions, base classes and typedefs) and what they point to, and which
 * structs are embedded at which offsets (for interior pointers and header
 * structs). A ty_table converts DIEs on demand, memoised by DIE, and merges
 * entries with the same name, kind and size (the same struct seen from two
 * CUs), never anonymous ones without a typedef name.
 *
 * The same table can be built by hand (ty_new, ty_add_slot, ty_add_embed:
 * unit tests and fuzzers describe their types without DWARF).
 *
 * The embed index answers "which structs hold an M at offset o" (interior
 * pointers, header structs): ty_index_embeds() builds it over the types
 * the table holds at that moment, ty_embedders() looks it up.
 *
 * Ownership: ty_table_free() releases every type, string and index.
 * Pointers from ty_get() stay valid until the next type is added.
 */
#ifndef HEAPGRAB_DEBUGINFO_TYPES_H
#define HEAPGRAB_DEBUGINFO_TYPES_H

#include "util/compiler.h"

#include <elfutils/libdw.h>

#define TY_NONE UINT32_MAX

enum ty_kind {
	TY_OTHER,		/* function, void, unknown: never types a chunk */
	TY_BASE,		/* int, char, enums, floats */
	TY_PTR,			/* pointer or C++ reference */
	TY_ARRAY,
	TY_STRUCT,		/* struct or class */
	TY_UNION,
};

#define SLOT_UNION	1u	/* inside a union alternative */

struct ty_slot {
	uint64_t off;		/* byte offset of the first pointer */
	uint32_t count;		/* pointers at off, off + stride, ... */
	uint32_t stride;	/* 8 for an array of pointers, the element size
				 * for a pointer inside an array of structs */
	uint32_t pointee;	/* type pointed to, never TY_NONE */
	uint32_t alt;		/* a second candidate (TY_NONE): the chunk's size
				 * decides between pointee and alt */
	uint32_t member;	/* member name: index into table->strs */
	uint8_t flags;		/* SLOT_* */
};

struct ty_embed {
	uint64_t off;
	uint32_t type;		/* struct or union embedded at off */
};

struct ty {
	char *name;		/* "struct node", "session_t", "ns::Cls", "int" */
	uint64_t size;		/* 0 when unknown (declaration only) */
	uint8_t kind;		/* enum ty_kind */
	bool complete;		/* slots and embeds filled */
	bool shell;		/* met as a pointee, members not read yet */
	bool vptr;		/* C++ class with a vtable pointer at 0 */
	bool flex;		/* ends in a flexible array member */
	bool truncated;		/* more pointers than TY_MAX_SLOTS */
	bool embedded;		/* in the embed index: some struct holds it */
	uint32_t pointee;	/* TY_PTR: target type (TY_NONE: void, fn) */
	uint32_t elem;		/* TY_ARRAY: element type */
	uint64_t count;		/* TY_ARRAY: elements (0: unknown) */
	uint64_t flex_off;	/* flex: offset and element of the array */
	uint32_t flex_elem;
	struct ty_slot *slots;
	uint32_t nr_slots;
	struct ty_embed *embeds;	/* sorted by offset */
	uint32_t nr_embeds;
	/* byte ranges no heap pointer can be in: members of floating-point
	 * types, integers narrower than a pointer and function pointers (not
	 * inside unions) */
	struct ty_range {
		uint64_t off, len;
	} *nonptr;
	uint32_t nr_nonptr;
	/* direct members of a struct or union in declaration order (bit
	 * fields and static members left out): what rules that compare
	 * structs member by member read (common initial sequences, tag
	 * fields, a type object's fields) */
	struct ty_member {
		uint64_t off, size;
		uint32_t type;	/* TY_NONE when it could not be converted */
		uint32_t name;	/* index into table->strs ("" when unnamed) */
	} *members;
	uint32_t nr_members;
	uint32_t *targs;	/* C++ template type arguments (type ids) */
	uint32_t *targ_names;	/* their parameter names (index into strs) */
	uint32_t nr_targs;
};

struct ty_table {
	struct ty *types;
	size_t nr, alloc;
	char **strs;		/* member names */
	size_t nr_strs, alloc_strs;
	void *priv;		/* memo and name index */
};

#define TY_MAX_SLOTS 65536u

void ty_table_init(struct ty_table *tt);
void ty_table_free(struct ty_table *tt);
/* DST: a copy of SRC that goes its own way (every type, string, memo and
 * index copied; SRC's DIEs must outlive it). SRC has no conversion in
 * progress. */
void ty_table_clone(struct ty_table *dst, const struct ty_table *src);

/*
 * The type of DIE (any type DIE; typedefs, const and volatile are looked
 * through, a typedef of an anonymous struct gives the struct the typedef's
 * name). Declarations are resolved by name against the definitions
 * registered with ty_register_definition(). Returns TY_NONE for void and
 * what cannot be converted.
 */
uint32_t ty_of_die(struct ty_table *tt, Dwarf_Die *die);

/* Remember DIE (a struct/class/union definition) as the definition of its
 * name, for declarations met later. */
void ty_register_definition(struct ty_table *tt, Dwarf_Die *die);

/* Look a type up by name ("struct node", "Foo::Bar"); TY_NONE if unknown. */
uint32_t ty_by_name(struct ty_table *tt, const char *name);

/* The type named NAME, or a new struct type of that name and SIZE with no
 * known members (a C++ class known only from its vtable). */
uint32_t ty_named(struct ty_table *tt, const char *name, uint64_t size);

/* A copy of type T (its size, pointers and embeds) under another NAME, or
 * the existing type of that name. */
uint32_t ty_alias(struct ty_table *tt, uint32_t t, const char *name);

/* A new copy of type T (its size, pointers, embeds, members) named NAME,
 * even when a type of that name exists. */
uint32_t ty_copy(struct ty_table *tt, uint32_t t, const char *name);

/* A new pointer type to T. */
uint32_t ty_pointer_to(struct ty_table *tt, uint32_t t);

/* NAME (malloc'd, taken) with the standard library's long spellings
 * replaced wherever they occur ("std::string" for
 * std::__cxx11::basic_string<char, ...>), as type names are; a demangled
 * name made comparable with them. */
char *ty_pretty_cxx(char *name);

/* Remember QNAME as the qualified name of the C++ type DIE (index pass),
 * or as the name of an anonymous C struct or union a typedef names. */
void ty_register_qualified(struct ty_table *tt, Dwarf_Die *die, const char *qname);

/* The type of the variable, parameter or member DIE (its DW_AT_type,
 * through abstract origins), or TY_NONE. */
uint32_t ty_of_typed_die(struct ty_table *tt, Dwarf_Die *die);

/* ---- building types by hand ---- */

/* A new type NAME of KIND and SIZE with nothing in it yet (pointee, elem
 * and flex_elem TY_NONE); its id. Never merged with another. */
uint32_t ty_new(struct ty_table *tt, const char *name, enum ty_kind kind, uint64_t size);
/* Pointers of pointee POINTEE at OFF, OFF + STRIDE, ... (COUNT of them)
 * in type ID, read from member MEMBER; beyond TY_MAX_SLOTS the type is
 * marked truncated instead. */
void ty_add_slot(struct ty_table *tt, uint32_t id, uint64_t off, uint32_t count,
		 uint32_t stride, uint32_t pointee, const char *member, uint8_t flags);
/* Type ID holds a struct or union TYPE at OFF. */
void ty_add_embed(struct ty_table *tt, uint32_t id, uint64_t off, uint32_t type);
/* A direct member NAME of type TYPE (SIZE bytes) at OFF of struct ID. */
void ty_add_member(struct ty_table *tt, uint32_t id, uint64_t off, uint64_t size, uint32_t type,
		   const char *name);
/* Bytes [OFF, OFF + LEN) of type ID never hold a pointer. */
void ty_add_nonptr(struct ty_table *tt, uint32_t id, uint64_t off, uint64_t len);

/* ---- the embed index ---- */

struct ty_list {
	uint32_t *types;
	size_t nr, alloc;
};

/* Index every complete struct and union of the table by what it embeds
 * where (directly or nested). Types added later are not in the index. */
void ty_index_embeds(struct ty_table *tt);
/* The structs that hold a TYPE at OFF (offsets below 2^24), or NULL. */
const struct ty_list *ty_embedders(const struct ty_table *tt, uint32_t type, uint64_t off);

static inline struct ty *ty_get(struct ty_table *tt, uint32_t id)
{
	return &tt->types[id];
}

#endif /* HEAPGRAB_DEBUGINFO_TYPES_H */
