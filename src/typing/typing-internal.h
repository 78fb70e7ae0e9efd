/*
 * typing-internal.h - state shared by the typing engine (typing.c) and
 * its root finders (roots.c, frames.c). Not for other layers.
 */
#ifndef HEAPGRAB_TYPING_INTERNAL_H
#define HEAPGRAB_TYPING_INTERNAL_H

#include "typing/typing.h"
#include "typing/types.h"

struct modset;

/* typer.from[] values at or above this name a root, not a chunk */
#define TYPER_ROOT_BASE (UINT32_MAX - (1u << 24))

#define TYPER_CONFLICT_EXAMPLES TYPING_CONFLICT_EXAMPLES

struct embed_list {
	uint32_t *types;
	size_t nr, alloc;
};

struct deferred {
	uint32_t chunk, head, from, member;
	uint32_t prefix;	/* the object starts this far into the chunk */
};

/* Largest allocator prefix before an object typing accepts (Python's GC
 * head plus managed-dict pointers are 32 bytes). */
#define TYPER_MAX_PREFIX 64

struct vtable_sym {
	taddr_t start, end;
	uint32_t cls;		/* TY_NONE when the class has no DWARF */
};

struct typer {
	struct target *image;
	const struct heap_walk *walk;
	const struct typing_opts *opts;
	struct modset *ms;
	struct ty_table tt;

	/* live chunks (in use, mmapped) sorted by address */
	uint32_t *live;
	size_t nr_live;
	taddr_t live_lo, live_hi;

	/* per chunk (walk order) */
	uint32_t *type;		/* TY_NONE = untyped */
	uint8_t *rank, *array, *inferred, *in_queue;
	uint8_t *prefix;	/* bytes before the object (header with prefix) */
	uint32_t *from;		/* chunk index, or TYPER_ROOT_BASE + root */
	uint32_t *member;	/* member name (tt.strs) or TY_NONE */

	uint32_t *queue;
	size_t nr_queue, alloc_queue;

	struct deferred *deferred;
	size_t nr_deferred, alloc_deferred;

	/* embed index: (type, offset) -> structs embedding it there */
	void *embed_index;

	uint32_t malloc_chunk;		/* glibc's struct malloc_chunk, or TY_NONE */

	struct vtable_sym *vtables;
	size_t nr_vtables;

	/* root names, for --explain-types */
	char **roots;
	size_t nr_roots, alloc_roots;

	uint8_t *buf;
	size_t buf_len;

	uint64_t conflicts;
	char *conflict_examples[TYPER_CONFLICT_EXAMPLES];
	size_t nr_conflict_examples;
};

uint32_t typer_lookup(const struct typer *ty, taddr_t v, uint64_t *ret_off);
const uint8_t *typer_mem(struct typer *ty, taddr_t addr, uint64_t len);
void typer_assign(struct typer *ty, taddr_t v, uint32_t pointee, uint8_t rank, uint32_t from,
		  uint32_t member);
void typer_scan_object(struct typer *ty, uint32_t t, const uint8_t *p, uint64_t len,
		       uint32_t from, int depth);
void typer_defer_header(struct typer *ty, uint32_t i, uint32_t head, uint32_t from,
			uint32_t member, uint32_t prefix);

/* roots.c */
void typer_index_modules(struct typer *ty);
void typer_load_vtables(struct typer *ty);
uint32_t typer_vtable_class(struct typer *ty, taddr_t v);
struct embed_list *typer_embedders(struct typer *ty, uint32_t type, uint64_t off);
void typer_scan_globals(struct typer *ty);
void typer_scan_tls(struct typer *ty);
uint32_t typer_add_root(struct typer *ty, const char *name);
const char *typer_root_name(struct typer *ty, uint32_t root);
void typer_free(struct typer *ty);

/* frames.c */
void typer_scan_frames(struct typer *ty);

#endif /* HEAPGRAB_TYPING_INTERNAL_H */
