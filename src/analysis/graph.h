/*
 * graph.h - the heap as a graph: live chunks, which chunk points at which,
 * and the roots that point into the heap.
 *
 * Nodes are the live chunks of a snapshot (in-use and mmapped), in address
 * order. A word references a node when its value lies in the node's user
 * area [chunk + 16, chunk + size): exactly at its start (the pointer
 * malloc returned) or inside it (an interior pointer). The scan is
 * conservative: every aligned word of every live chunk's user area, and
 * of every root range, that holds such a value is an edge, unless the
 * layout hook (typing) says that word cannot hold a pointer.
 *
 * Roots are named groups of words outside the heap: one register of one
 * thread, a thread's live stack, a thread's TLS, a global variable or a
 * module's data section, an anonymous mapping. What the words are and what
 * they are called comes from the roots layer (roots/roots.h: roots_ranges,
 * roots_locate, root_name); the graph interns the names, so every word
 * with the same name is one root.
 *
 * Storage is compact: node arrays (28 bytes a node) and edges in CSR form
 * (4 bytes an edge: the destination node, with GRAPH_INTERIOR for a pointer
 * into the node rather than at its start), no allocation per edge.
 *
 * Ownership: heap_graph_release() frees everything. The graph borrows the
 * snapshot (its walk and its image) and must not outlive it.
 */
#ifndef HEAPGRAB_ANALYSIS_GRAPH_H
#define HEAPGRAB_ANALYSIS_GRAPH_H

#include "roots/roots.h"

struct diag_sink;
struct snapshot;
struct target;

#define GRAPH_NONE UINT32_MAX
#define GRAPH_INTERIOR 0x80000000u	/* edge flag: points inside the node */
#define GRAPH_NODE_MASK 0x7fffffffu
/* Nodes are indexed with 31 bits (edges carry the interior flag). */
#define GRAPH_MAX_NODES ((size_t)GRAPH_NODE_MASK)

struct graph_root {
	char *name;		/* owned: "thread 1234 stack", "global cache (srv, .bss)" */
	enum root_kind kind;
	int tid;		/* REGISTER, STACK, TLS; 0 otherwise */
};

/*
 * Pointer layout of a chunk, from its type (typing fills this):
 * word K of the user area may hold a pointer iff bit (K % period) of BITS
 * is set. A struct of S words gives period S; an array of it repeats.
 */
struct ptr_layout {
	const uint64_t *bits;
	uint32_t period;	/* in words, >= 1 */
};

struct graph_hooks {
	/*
	 * Which words of walk.chunks[CHUNK]'s user area may hold pointers:
	 * true with *OUT filled, or false when every word may (the default,
	 * and the rule for untyped chunks). OUT->bits must stay valid until
	 * heap_graph_build() returns. Called from several threads at once
	 * (graph.c, "chunk edges"). NULL hook: every word of every chunk is
	 * scanned.
	 */
	bool (*layout)(void *data, const struct snapshot *s, size_t chunk, struct ptr_layout *out);
	void *data;
	/* The image's roots (roots_open()); required. */
	struct roots *roots;
};

struct heap_graph {
	const struct snapshot *snap;
	struct target *image;		/* borrowed: snap->image */

	/* nodes, in address order */
	size_t nr_nodes;
	uint32_t *chunk;		/* node -> index in snap->walk.chunks */
	taddr_t *start;			/* user pointer: chunk address + 16 */
	taddr_t *end;			/* end of the chunk (pointers below it count) */

	/* chunk -> chunk edges: the out-edges of node N are
	 * dst[off[N]] .. dst[off[N + 1] - 1] */
	size_t *off;
	uint32_t *dst;
	size_t nr_edges;

	/* roots and root -> chunk edges, the same CSR form; slot[E] is the
	 * address of the word behind root edge E (for a register root, the
	 * register's index in struct user_regs_struct) */
	struct graph_root *roots;
	size_t nr_roots;
	size_t *root_off;
	uint32_t *root_dst;
	taddr_t *root_slot;
	size_t nr_root_edges;

	/* what the scan did (for -v and the benchmark) */
	uint64_t chunk_words, root_words;
	uint64_t unreadable_root_bytes;	/* root ranges missing from the image */
	uint64_t unreadable_chunk_bytes;	/* chunk bytes missing from the image */

	/* address -> node: a two-level page table (graph.c) */
	uint32_t *dir;			/* 1 GiB granule -> table index */
	uint32_t **pages;		/* per table: 4 KiB page -> first node */
	size_t nr_pages_tables;
	uint32_t *big;			/* nodes too long for the tables, in order */
	size_t nr_big, alloc_big;
	taddr_t lo, hi;			/* all nodes lie in [lo, hi) */
};

/*
 * Build the graph of snapshot S, which must hold its memory image
 * (snapshot.image: live attach with keep_image, a core, a file saved with
 * --contents). Returns 0, or -HG_E_UNSUPPORTED when S has no image, or
 * -HG_E_UNSUPPORTED when it has more than GRAPH_MAX_NODES live chunks.
 * Root ranges or chunks the image does not hold are counted (fields
 * above) and reported to DIAG as one warning each.
 */
MUST_CHECK int heap_graph_build(struct heap_graph *g, const struct snapshot *s,
				const struct graph_hooks *hooks, struct diag_sink *diag);
void heap_graph_release(struct heap_graph *g);

/* The node whose user area [start, end) holds ADDR, or GRAPH_NONE. */
uint32_t heap_graph_lookup(const struct heap_graph *g, taddr_t addr);

/* Size of node N's chunk, header included (the census's bytes). */
uint64_t heap_graph_size(const struct heap_graph *g, uint32_t n);

/*
 * The node whose chunk holds ADDR in the widest sense (header, user area
 * and the last 8 usable bytes that overlap the next chunk's header), for
 * addresses a person types (`heapgrab why ADDR`); GRAPH_NONE if none.
 */
uint32_t heap_graph_find(const struct heap_graph *g, taddr_t addr);

/*
 * The first word of node FROM's user area (its last 8 usable bytes
 * included) that references node TO: its byte offset in the user area, or
 * -1. For explaining an edge (why); reads the image, so it costs a scan of
 * FROM.
 */
int64_t heap_graph_edge_offset(const struct heap_graph *g, uint32_t from, uint32_t to);

#endif /* HEAPGRAB_ANALYSIS_GRAPH_H */
