/*
 * unwind.h - stack unwinders behind one table of operations.
 *
 * The locals and parameters of stack frames are roots (roots_frames());
 * finding the frames is an unwinder's job, and there are two, as strace
 * keeps its libdw and libunwind unwinders behind one struct (its
 * unwind.h):
 *
 *   unwind_libdw      libdw's unwinder (dwfl_attach_state with our own
 *                     thread callbacks) over the memory IMAGE: registers
 *                     from the image's threads, memory from the image, CFI
 *                     from the modules of the modset. It works on anything
 *                     with an image (a frozen live process after detach, a
 *                     fork child's copy, a core), so it is the default.
 *   unwind_libunwind  libunwind-ptrace (target/unwind.c): reads the LIVE
 *                     threads through ptrace, so it must run while they are
 *                     stopped (it lengthens the pause, by about 2 ms a
 *                     thread); it cross-checks libdw.
 *
 * Both give a struct unwound (target/unwind.h): per thread, each frame's
 * PC (minus one for callers, so that it looks up the call) and the
 * registers the unwinder recovered, DWARF numbered.
 */
#ifndef HEAPGRAB_ROOTS_UNWIND_H
#define HEAPGRAB_ROOTS_UNWIND_H

#include "util/compiler.h"

struct modset;
struct target;
struct unwound;

struct unwind_ops {
	const char *name;		/* "libdw", "libunwind" */
	/* true: reads a live target through ptrace and must run while its
	 * threads are stopped; false: reads only the image */
	bool needs_stop;
	/*
	 * Unwind every thread of T. MS: the modules' libdw session (CFI), for
	 * the unwinders that use it (may be NULL for the others). Returns 0
	 * and *RET (free with unwound_free()), or a negative error. Threads
	 * that cannot be unwound get no frames; that is no error.
	 */
	MUST_CHECK int (*unwind)(struct target *t, struct modset *ms, struct unwound **ret);
};

extern const struct unwind_ops unwind_libdw;
extern const struct unwind_ops unwind_libunwind;

#endif /* HEAPGRAB_ROOTS_UNWIND_H */
