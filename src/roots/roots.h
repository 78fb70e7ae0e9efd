/*
 * roots.h - the roots of a heap: memory outside the malloc heap that can
 * hold a pointer the program will use, found in one place for typing and
 * for the heap graph (leaks, why, top --retained).
 *
 * One struct root describes every kind: where its bytes are (a range of
 * the memory image, or a value held in a register), its type when the
 * debug info gives one, its kind (register, stack, TLS, global, anonymous
 * mapping), its thread, and what it is called. root_name() is the one
 * namer: it spells every root, whoever found it.
 *
 * Two consumers ask for roots in two ways:
 *
 *  - Typing asks for TYPED roots, in an order that is part of its result
 *    (the first type to reach a chunk wins ties):
 *      roots_globals()  every global and static variable of every module
 *                       with DWARF (roots/globals.c);
 *      roots_tls()      each thread's descriptor (glibc's struct pthread),
 *                       then each TLS variable in each thread
 *                       (roots/globals.c, placed by roots/tls.c);
 *      roots_frames()   the locals and parameters of every frame of every
 *                       thread, from frames an unwinder recovered
 *                       (roots/frames.c; unwinders: roots/unwind.h).
 *
 *  - The heap graph scans memory conservatively and asks which root a word
 *    belongs to (roots/regions.c):
 *      roots_open()     the image's modules (ELF symbols and sections) and
 *                       threads (stacks, TLS windows);
 *      roots_ranges()   what to scan: private writable memory minus the
 *                       malloc heaps and the dead part of each stack;
 *      root_registers[] which registers of each thread are roots;
 *      roots_locate()   the root one word belongs to, and the range of
 *                       words the same answer holds for.
 *
 * Layering: roots/ sits between heap/ and typing/. It reads the image
 * (target/), the modules' symbols and DWARF (debuginfo/) and the walk's
 * chunk geometry (heap/); it never calls typing. Types are debuginfo
 * type ids (debuginfo/types.h) in a table the caller owns.
 *
 * Ownership: a root's strings are borrowed from whatever found it (the
 * modset's DWARF for typed roots, the struct roots for located ones) and
 * stay valid while that lives; root_list_release() frees a list's array.
 */
#ifndef HEAPGRAB_ROOTS_ROOTS_H
#define HEAPGRAB_ROOTS_ROOTS_H

#include "util/compiler.h"

struct heap_walk;
struct modset;
struct dw_index;
struct strbuf;
struct target;
struct target_region;
struct ty_table;
struct unwound;

/* Where a root is. The JSON names (root_kind_name) are stable. */
enum root_kind {
	ROOT_REGISTER,		/* a general register of a thread */
	ROOT_STACK,		/* a thread's live stack, red zone included */
	ROOT_TLS,		/* a thread's TLS block and thread descriptor */
	ROOT_GLOBAL,		/* a module's writable data (.data, .bss, ...) */
	ROOT_ANON,		/* an anonymous mapping that is not a malloc heap */
	ROOT_KIND__COUNT
};

/* "register", "stack", "tls", "global", "anonymous". */
const char *root_kind_name(enum root_kind k);

/* What a root is, which decides how it is spelt (root_name). */
enum root_what {
	ROOT_IS_REGION,		/* a range found by address: a stack, a TLS
				 * window, a module's section, a mapping */
	ROOT_IS_REGISTER,	/* a general register of a thread */
	ROOT_IS_SYMBOL,		/* an ELF symbol's extent (a global, a TLS symbol) */
	ROOT_IS_VARIABLE,	/* a DWARF global, static or TLS variable */
	ROOT_IS_LOCAL,		/* a DWARF local variable of a stack frame */
	ROOT_IS_PARAMETER,	/* a DWARF parameter of a stack frame */
	ROOT_IS_DESCRIPTOR,	/* a thread's descriptor (glibc's struct pthread) */
};

#define ROOT_NO_TYPE UINT32_MAX	/* == TY_NONE */

struct root {
	enum root_kind kind;
	enum root_what what;
	int tid;		/* thread of REGISTER/STACK/TLS roots, else 0 */
	/* Its bytes: [start, end) of the image. A located root: the range
	 * the same answer holds for. A register (or a value computed by a
	 * location expression): start == end, the value in VALUE. */
	taddr_t start, end;
	uint64_t value;
	bool has_value;
	uint32_t type;		/* debuginfo type id, or ROOT_NO_TYPE */
	/* By the target's convention a word of this root points BIAS bytes
	 * past the start of what it keeps (glibc's DTV pointer points at
	 * dtv[1], 16 bytes into its chunk): an exact reference. Usually 0. */
	uint64_t bias;
	/* naming (borrowed; NULL when unknown) */
	const char *name;	/* variable, symbol or register name; a TLS
				 * window's detail ("dtv") */
	const char *module;	/* the module's file name, without directories */
	const char *section;	/* ".bss", ... (ROOT_IS_SYMBOL/REGION globals) */
	const char *function;	/* frames: the function */
	uint32_t frame;		/* frames: 0 = innermost */
	const struct target_region *region;	/* ROOT_ANON: its mapping */
};

/*
 * Append R's name to OUT, for example
 *   "thread 12 register rbx", "thread 12 stack", "thread 12 TLS",
 *   "thread 12 TLS tls_cache (server)", "global sessions (server, .bss)",
 *   "server .data", "anonymous mapping 0x7f12a0000000-0x7f12a4000000",
 *   "global sessions (server)", "TLS t_cache (server, thread 12)",
 *   "thread 12 descriptor (struct pthread)",
 *   "local head in f() (thread 12, frame #1)".
 * Roots found by address (symbols, regions) and roots found through DWARF
 * variables spell globals and TLS variables differently ("global X (M,
 * .bss)" against "global X (M)"): the outputs keep both spellings.
 * NEEDSWORK: one spelling, when the outputs may change.
 */
void root_name(const struct root *r, struct strbuf *out);

struct root_list {
	struct root *v;
	size_t nr, alloc;
};

void root_list_add(struct root_list *l, const struct root *r);
void root_list_release(struct root_list *l);

/* ---- typed roots (roots/globals.c, roots/frames.c) ------------------------ */

/* What typed roots are read from: the image, its modules with DWARF and
 * the index of their variables; variable types are converted into TT. */
struct root_source {
	struct target *image;
	struct modset *ms;
	const struct dw_index *idx;
	struct ty_table *tt;
};

/*
 * Every global and static variable whose type can hold a pointer, in the
 * index's order: ROOT_GLOBAL, ROOT_IS_VARIABLE, [start, end) its bytes.
 * Variables larger than 1 GiB are left out (no real global is; a hostile
 * DWARF could claim one).
 */
void roots_globals(const struct root_source *src, struct root_list *out);

/*
 * Each thread's descriptor (when libc's DWARF describes struct pthread),
 * then every TLS variable whose type can hold a pointer in every thread
 * (ROOT_TLS), for the modules whose static TLS block roots/tls.c can
 * place.
 */
void roots_tls(const struct root_source *src, struct root_list *out);

/*
 * The locals and parameters whose type can hold a pointer of every frame
 * of FRAMES (roots/unwind.h), evaluated at each frame's PC: ROOT_STACK
 * with [start, end) for a variable in memory, ROOT_REGISTER with VALUE
 * for a pointer held in a register or computed (DW_OP_stack_value). In
 * thread order, innermost frame first, scopes from the innermost out.
 */
void roots_frames(const struct root_source *src, const struct unwound *frames,
		  struct root_list *out);

/* ---- located roots for the conservative scan (roots/regions.c) ----------- */

struct roots;

struct roots_opts {
	/* The executable's path as the target sees it (NULL: the image's). */
	const char *exe;
	/* Host prefix for the target's file paths ("/proc/PID/root" for a live
	 * process, --sysroot for a core); NULL or "": paths as they are. */
	const char *sysroot;
	const char *debug_dir;	/* separate debug files (NULL: default) */
};

/* The modules and threads of IMAGE, for locating root words. IMAGE must
 * outlive the result; never NULL. Modules whose file cannot be read are
 * kept without symbols. */
struct roots *roots_open(struct target *image, const struct roots_opts *opts);
/* Accepts NULL. */
void roots_close(struct roots *rs);

struct root_range {
	taddr_t start, end;	/* [start, end), 8-byte aligned */
};

/*
 * The ranges of the image to scan as roots, sorted: every private
 * writable region (of the kinds a snapshot copies) minus the malloc heaps
 * of WALK (every arena's chunks, every mmapped chunk's whole mapping) and
 * minus the dead part of each thread's stack (below rsp - 128, the x86-64
 * red zone). The result is malloc'd (free()); *RET_NR may be 0.
 */
void roots_ranges(struct roots *rs, const struct heap_walk *walk, struct root_range **ret,
		  size_t *ret_nr);

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

/*
 * The root word W belongs to, in RET (untyped). For a memory word,
 * [RET->start, RET->end) holds W and every word in it belongs to the
 * same root (the caller may reuse the answer for them); for a register,
 * start == end. Strings in RET are borrowed from RS.
 */
void roots_locate(struct roots *rs, const struct root_word *w, struct root *ret);

#endif /* HEAPGRAB_ROOTS_ROOTS_H */
