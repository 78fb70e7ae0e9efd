/*
 * why.h - why is this chunk alive: the shortest chain from a root.
 *
 * For a chunk that is reachable, the chain uses pointers to chunk starts
 * only (the chain that proves it reachable); for a possibly leaked chunk it
 * is the shortest chain over all pointers, and one step at least is an
 * interior pointer; a leaked chunk has no chain, and the answer lists the
 * chunks that point to it (all of them leaked too).
 *
 * Ownership: why_release() frees the result.
 */
#ifndef HEAPGRAB_ANALYSIS_WHY_H
#define HEAPGRAB_ANALYSIS_WHY_H

#include "analysis/leaks.h"

struct heap_graph;
struct snapshot;
struct strbuf;

/* One step of a chain, root first. */
struct why_step {
	uint32_t node;		/* the chunk, or GRAPH_NONE for the root step */
	uint32_t root;		/* root step: index in graph.roots */
	taddr_t slot;		/* root step: the word's address (register index
				 * for a register root) */
	/* Chunk steps but the last: byte offset, in this chunk's user area,
	 * of the pointer to the next chunk; -1 on the last step. For the
	 * root step, unused. */
	int64_t offset;
	bool interior;		/* reached through a pointer into it, not at it */
};

struct why_result {
	uint32_t node;			/* the chunk holding the address */
	enum leak_state state;
	struct why_step *path;		/* empty when leaked */
	size_t nr_path;
	uint32_t *referrers;		/* leaked: chunks pointing to it, address order */
	size_t nr_referrers;
};

/*
 * Explain the chunk that holds ADDR (anywhere from its header to its last
 * usable byte). Returns 0, or -ENOENT when ADDR is in no live chunk.
 */
MUST_CHECK int why_explain(const struct heap_graph *g, taddr_t addr, struct why_result *ret);
void why_release(struct why_result *r);

/*
 * Member names for the chain (typing fills this): append to OUT the name
 * of the member at byte OFFSET of walk.chunks[CHUNK] (".next",
 * ".items[3]") and return true, or return false to print the offset.
 */
struct why_hooks {
	bool (*member_name)(void *data, const struct snapshot *s, size_t chunk, uint64_t offset,
			    struct strbuf *out);
	void *data;
};

#endif /* HEAPGRAB_ANALYSIS_WHY_H */
