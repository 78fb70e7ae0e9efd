/*
 * unwind.h - stack frames of a target's threads (struct unwound), and the
 * libunwind-ptrace unwinder that reads them from a live, stopped target
 * (--unwinder=libunwind).
 *
 * struct unwound is what every unwinder of roots/unwind.h produces; the
 * default one is libdw's, run after detach on the frozen image
 * (roots/unwind.c), which serves live, fork and core targets alike.
 * libunwind-ptrace needs the threads stopped under ptrace, so this one
 * runs during the pause and lengthens it (about 2 ms per thread here);
 * it is there to cross-check libdw (tests/live-types.sh compares them).
 *
 * Registers use the DWARF x86_64 numbering (rax, rdx, rcx, rbx, rsi, rdi,
 * rbp, rsp, r8..r15, rip = 0..16), which libunwind's UNW_X86_64_* share.
 * Only frame 0 has every register; outer frames have the callee-saved
 * ones (rbx, rbp, r12..r15), rsp and rip.
 *
 * Ownership: unwound_free() frees the result.
 */
#ifndef HEAPGRAB_TARGET_UNWIND_H
#define HEAPGRAB_TARGET_UNWIND_H

#include "util/compiler.h"

struct target;

#define UNWOUND_NR_REGS 17

struct unwound_frame {
	uint64_t pc;		/* adjusted: pc - 1 for callers (lookups) */
	uint64_t regs[UNWOUND_NR_REGS];
	uint32_t valid;		/* bit per register */
};

struct unwound_thread {
	int tid;
	struct unwound_frame *frames;
	size_t nr_frames;
};

struct unwound {
	struct unwound_thread *threads;
	size_t nr_threads;
};

/* Unwind every thread of the stopped live target T. Returns 0 or a
 * negative error; threads libunwind cannot unwind get no frames. */
MUST_CHECK int live_unwind(struct target *t, struct unwound **ret);
void unwound_free(struct unwound *u);

#endif /* HEAPGRAB_TARGET_UNWIND_H */
