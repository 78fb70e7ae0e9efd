/*
 * typing.h - give every live chunk a type from the program's debug info.
 *
 * Input: a walked heap and the memory image it was walked in (a frozen copy
 * of a live process, a core, or a snapshot saved with --contents). Output:
 * one type per chunk (the snapshot keeps them: snapshot/snapshot.h), the
 * conflicts, pointer layouts, and how each chunk got its type. Typing
 * reads only the image and the modules' files; it never touches a live
 * process (for live targets it runs after detach). Its roots come from
 * the roots layer (roots/roots.h), its types from debuginfo/types.h; the
 * engine and its rules are described in typing/typing-internal.h.
 *
 * Ownership: typing_result_free() frees the result and whatever arrays the
 * caller did not take.
 */
#ifndef HEAPGRAB_TYPING_TYPING_H
#define HEAPGRAB_TYPING_TYPING_H

#include "heap/heap.h"

struct diag_sink;
struct root_list;
struct strbuf;
struct target;
struct ty_table;

/* Per-chunk type index meaning "no type", and the per-chunk flags; the
 * snapshot layer keeps the same values (snapshot/snapshot.h). */
#define TYPING_UNTYPED UINT32_MAX
#define TYPING_INFERRED 1u

enum typing_unwinder {
	TYPING_UNWIND_LIBDW,		/* default: works for live, fork and cores */
	TYPING_UNWIND_NONE,		/* no stack roots */
	/* live only: libunwind-ptrace during the stop (target/unwind.h);
	 * the frames arrive in typing_opts.frames */
	TYPING_UNWIND_LIBUNWIND,
};

struct unwound;

struct typing_opts {
	const char *debug_dir;		/* NULL: default */
	enum typing_unwinder unwinder;
	bool no_infer;			/* skip typing by shape */
	/* --explain-types: record how each chunk got its type */
	bool explain;
	/* frames unwound elsewhere (TYPING_UNWIND_LIBUNWIND), or NULL */
	const struct unwound *frames;
	/* keep the modules' debug info (the libdwfl session, its DWARF read
	 * and decompressed) after the run, for the next run whose target
	 * maps the same files at the same places (serve and watch: one
	 * target, many snapshots); at most one set is kept, process-wide,
	 * until typing_drop_debuginfo() */
	bool keep_debuginfo;
};

/* Free the debug info typing_opts.keep_debuginfo kept (nothing when none). */
void typing_drop_debuginfo(void);

#define TYPING_CONFLICT_EXAMPLES 8

/* Where typing's time goes (typing_run(); -v prints them): the phases in
 * the order they run. */
enum typing_phase {
	TYPING_PHASE_MODULES,		/* the modules reported, DWARF opened */
	TYPING_PHASE_INDEX,		/* the index pass over every CU */
	TYPING_PHASE_CONVERT,		/* every definition converted, embed index */
	TYPING_PHASE_PREPARE,		/* node bases, containers, trailing, objmodel */
	TYPING_PHASE_VTABLES,		/* chunks typed by their vtable, drained */
	TYPING_PHASE_GLOBALS,		/* globals and statics found */
	TYPING_PHASE_GLOBALS_SCAN,	/* scanned, worklist drained */
	TYPING_PHASE_TLS,		/* thread descriptors and TLS found */
	TYPING_PHASE_TLS_SCAN,
	TYPING_PHASE_UNWIND,		/* frames unwound (libdw) */
	TYPING_PHASE_FRAMES,		/* locals and parameters found */
	TYPING_PHASE_FRAMES_SCAN,
	TYPING_PHASE_LEARN,		/* header resolution and tagged values */
	TYPING_PHASE_SHAPES,		/* shape inference */
	TYPING_PHASE_RESULT,		/* names, layouts, owners */
	TYPING_PHASE__COUNT
};
/* "modules", "index", ... */
const char *typing_phase_name(enum typing_phase p);
struct typing_result;
/* R's phases as "modules 1.2 ms, index 3.4 ms, ..." appended to OUT. */
void typing_phases_text(const struct typing_result *r, struct strbuf *out);

struct typing_result {
	/* The types: names[of_chunk[i]] types walk.chunks[i]; flags[i] has
	 * TYPING_INFERRED for chunks typed by shape. The caller may take
	 * these arrays (and set the pointers to NULL). */
	char **names;
	size_t nr_names;
	uint32_t *of_chunk;
	uint8_t *flags;
	/* chunks two different types reached (the higher rank won) */
	uint64_t conflicts;
	/* Modules without DWARF, one path per line (for the report). */
	char *no_dwarf;
	/* --explain-types: per chunk, how it was typed (NULL entries: untyped) */
	char **explain;
	size_t nr_explain;
	/* Pointer layouts per type name (index as in names): word K of a
	 * chunk's user area may hold a pointer iff bit K % period is set;
	 * period 0: unknown, scan every word (flexible arrays, prefixes,
	 * sizes not a multiple of 8, truncated types). */
	struct typing_layout {
		uint64_t *bits;
		uint32_t period;	/* in 8-byte words */
	} *layouts;
	size_t nr_layouts;
	/* what typing_member_name() needs (typing.c) */
	void *members;
	/* The first conflicts, "0xADDR: T1 (rank r) vs T2 (rank r)". */
	char *conflict_examples[TYPING_CONFLICT_EXAMPLES];
	size_t nr_conflict_examples;
	/* milliseconds spent in each phase (typing_run() only) */
	double phase_ms[TYPING_PHASE__COUNT];
	/* the modules' debug info was the one the last run kept
	 * (typing_opts.keep_debuginfo) */
	bool kept_debuginfo;
};

/*
 * Type the live chunks of WALK, reading memory from IMAGE (regions,
 * threads, module paths and the target's root come from it too). Returns 0
 * or a negative error; a target with no DWARF at all is not an error (every
 * chunk stays untyped, a note to DIAG says why).
 */
MUST_CHECK int typing_run(struct target *image, const struct heap_walk *walk,
			  const struct typing_opts *opts, struct diag_sink *diag,
			  struct typing_result **ret);

/*
 * The engine alone, on types and roots the caller made (unit tests and
 * fuzzers describe their types without DWARF): TT's types are taken over
 * (the result keeps them; *TT is left empty, ty_table_free() accepts it),
 * GROUPS[0..NR_GROUPS) of typed roots are scanned in order, the worklist
 * drained after each group; then header resolution, shapes and the result
 * as in typing_run(). No modules: no vtables, no symbols, no frames.
 */
MUST_CHECK int typing_run_roots(struct target *image, const struct heap_walk *walk,
				struct ty_table *tt, const struct root_list *groups,
				size_t nr_groups, const struct typing_opts *opts,
				struct typing_result **ret);
void typing_result_free(struct typing_result *r);

/*
 * Who typed chunk CHUNK: 1 and *RET_FROM, the chunk whose pointer gave it
 * its type; 0 and *RET_ROOT, a root ("global sessions (server)", "TLS
 * t_cache (server, thread 12)", "local head in f() (thread 12, frame #1)",
 * "(vtable)", "(shape)"; valid with R); -1 when CHUNK is untyped.
 */
int typing_owner(const struct typing_result *r, size_t chunk, uint32_t *ret_from,
		 const char **ret_root);

/* The member of walk chunk CHUNK at byte OFFSET of its user area, as
 * ".next" or "[3].name" (array element, then member); false when the
 * chunk has no type or no pointer member is there. */
bool typing_member_name(const struct typing_result *r, size_t chunk, uint64_t offset,
			struct strbuf *out);

#endif /* HEAPGRAB_TYPING_TYPING_H */
