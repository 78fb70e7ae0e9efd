/*
 * unwind.c - libunwind-ptrace over every stopped thread (unwind.h).
 *
 * One address space for all threads (unw_create_addr_space with
 * _UPT_accessors), one _UPT context per thread; unw_step until it stops,
 * at most UNWIND_MAX_FRAMES frames. Nothing is written to the target:
 * libunwind-ptrace reads registers with PTRACE_GETREGS and memory with
 * PTRACE_PEEKDATA.
 */
#include "config.h"
#include "target/unwind.h"
#include "target/target.h"
#include "util/errors.h"
#include "util/xalloc.h"

#include <errno.h>
#include <libunwind-ptrace.h>
#include <stdlib.h>
#include <string.h>

#define UNWIND_MAX_FRAMES 256

/* Registers an outer frame's unwinding restores (x86_64 SysV ABI). */
static const int callee_saved[] = {
	UNW_X86_64_RBX, UNW_X86_64_RBP, UNW_X86_64_RSP, UNW_X86_64_R12, UNW_X86_64_R13,
	UNW_X86_64_R14, UNW_X86_64_R15, UNW_X86_64_RIP,
};

static void unwind_thread(unw_addr_space_t as, int tid, struct unwound_thread *ut)
{
	void *upt = _UPT_create(tid);
	unw_cursor_t c;
	size_t alloc = 0;

	ut->tid = tid;
	if (!upt)
		return;
	if (unw_init_remote(&c, as, upt) < 0) {
		_UPT_destroy(upt);
		return;
	}
	do {
		struct unwound_frame *f;
		unw_word_t v;

		if (ut->nr_frames == UNWIND_MAX_FRAMES)
			break;
		if (ut->nr_frames == alloc) {
			alloc = alloc ? 2 * alloc : 16;
			ut->frames = xrealloc(ut->frames, alloc * sizeof(*ut->frames));
		}
		f = &ut->frames[ut->nr_frames];
		memset(f, 0, sizeof(*f));
		if (ut->nr_frames == 0) {
			for (int r = 0; r < UNWOUND_NR_REGS; r++)
				if (unw_get_reg(&c, r, &v) == 0) {
					f->regs[r] = v;
					f->valid |= 1u << r;
				}
		} else {
			for (size_t k = 0; k < ARRAY_SIZE(callee_saved); k++)
				if (unw_get_reg(&c, callee_saved[k], &v) == 0) {
					f->regs[callee_saved[k]] = v;
					f->valid |= 1u << callee_saved[k];
				}
		}
		if (unw_get_reg(&c, UNW_REG_IP, &v) < 0 || !v)
			break;
		/* a caller's pc is its return address: look up pc - 1 */
		f->pc = ut->nr_frames && !unw_is_signal_frame(&c) ? v - 1 : v;
		ut->nr_frames++;
	} while (unw_step(&c) > 0);
	_UPT_destroy(upt);
}

int live_unwind(struct target *t, struct unwound **ret)
{
	unw_addr_space_t as = unw_create_addr_space(&_UPT_accessors, 0);
	struct unwound *u;

	if (!as)
		return -ENOMEM;
	u = xcalloc(1, sizeof(*u));
	u->threads = xcalloc(t->nr_threads + 1, sizeof(*u->threads));
	for (size_t i = 0; i < t->nr_threads; i++)
		unwind_thread(as, t->threads[i].tid, &u->threads[u->nr_threads++]);
	unw_destroy_addr_space(as);
	*ret = u;
	return 0;
}

void unwound_free(struct unwound *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->nr_threads; i++)
		free(u->threads[i].frames);
	free(u->threads);
	free(u);
}
