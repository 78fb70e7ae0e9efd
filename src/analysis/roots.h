/*
 * roots.h - where the roots of the heap graph are, and what they are called.
 *
 * A root is memory outside the malloc heap that can hold a pointer the
 * program will use: every thread's general registers, its live stack (from
 * the stack pointer minus the 128-byte red zone to the end of the stack
 * mapping), its TLS (static TLS blocks below the thread pointer, and the
 * thread descriptor above it, with the DTV pointer and pthread_setspecific
 * values), the writable segments of every module (file-backed rw mappings
 * and the anonymous mapping right after one: .bss), and every other private
 * writable mapping that is not a malloc heap (custom pools, arrays of
 * pointers kept in mmap()ed memory).
 *
 * Two parts:
 *  - root_ranges(): the address ranges to scan. Private writable regions,
 *    minus the malloc heaps (the caller passes the heap intervals: every
 *    arena's chunks and every mmapped chunk's mapping), minus the dead
 *    part of each thread's stack (below rsp - 128).
 *  - a root_namer: given one word that references a chunk, say which root
 *    it belongs to (kind, thread, name) and over which address range that
 *    answer holds, so the scan asks once per variable, not once per word.
 *    root_namer_default() names from threads, regions and ELF symbols:
 *      "thread 1234 register rbx", "thread 1234 stack",
 *      "thread 1234 TLS", "thread 1234 TLS tls_cache (server)",
 *      "global sessions (server, .bss)", "server .data",
 *      "anonymous mapping 0x7f12a0000000-0x7f12a4000000".
 *    Typing plugs in a namer with DWARF names (stack frames with
 *    function names, locals, TLS variables) that wraps this one: call the
 *    default first, then refine the name and narrow [lo, hi).
 *
 * Ownership: root_namer_free() releases a namer; ranges are the caller's
 * to free().
 */
#ifndef HEAPGRAB_ANALYSIS_ROOTS_H
#define HEAPGRAB_ANALYSIS_ROOTS_H

#include "analysis/graph.h"

struct snapshot;
struct strbuf;

struct root_range {
	taddr_t start, end;	/* [start, end), 8-byte aligned */
};

/*
 * The ranges of S's image to scan as roots, sorted. HEAP: the malloc
 * heaps as sorted, non-overlapping intervals (NR_HEAP of them). The result
 * is malloc'd (free()); *RET_NR may be 0.
 */
void root_ranges(const struct snapshot *s, const struct root_range *heap, size_t nr_heap,
		 struct root_range **ret, size_t *ret_nr);

/* The registers that are roots: indexes of 8-byte words in struct
 * user_regs_struct (rax..r15, rsp, fs_base, gs_base; not rip, flags or
 * segment selectors). */
extern const unsigned root_registers[];
extern const size_t nr_root_registers;
/* "rax", "r12", "fs_base", ... for an index of the table above. */
const char *root_register_name(unsigned reg);

/* One word that references a chunk. */
struct root_word {
	taddr_t addr;		/* the word's address (memory words) */
	int tid;		/* registers: the thread */
	int reg;		/* >= 0: register index (user_regs_struct word); -1: memory */
};

/* The namer's answer. */
struct root_name {
	struct strbuf *name;	/* the namer appends the root's name */
	enum root_kind kind;
	int tid;		/* thread of REGISTER/STACK/TLS roots, else 0 */
	/* Memory words in [lo, hi) belong to the same root (the graph reuses
	 * the answer for them); at least [addr, addr + 8). Unused for
	 * registers. */
	taddr_t lo, hi;
	/* By the target's convention a word in [lo, hi) points BIAS bytes
	 * past the start of what it keeps (glibc's DTV pointer points at
	 * dtv[1], 16 bytes into its chunk): such a word is an exact
	 * reference, not an interior one. Usually 0. */
	uint64_t bias;
};

struct root_namer {
	void (*name)(struct root_namer *nm, const struct root_word *w, struct root_name *ret);
	void (*free)(struct root_namer *nm);
};

struct root_namer_opts {
	/* Host prefix for the target's file paths ("/proc/PID/root" for a live
	 * process, --sysroot for a core); NULL or "": paths as they are. */
	const char *sysroot;
	const char *debug_dir;	/* separate debug files (NULL: default) */
};

/* The default namer for S (which must have an image). Never NULL. */
struct root_namer *root_namer_default(const struct snapshot *s, const struct root_namer_opts *o);
/* Accepts NULL. */
void root_namer_free(struct root_namer *nm);

#endif /* HEAPGRAB_ANALYSIS_ROOTS_H */
