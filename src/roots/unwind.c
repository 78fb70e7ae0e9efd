/*
 * unwind.c - the two unwinders of unwind.h.
 *
 * libdw: dwfl_attach_state() with thread callbacks that serve the image's
 * threads (registers from target_thread.regs, in DWARF x86-64 order) and
 * memory from the image, then dwfl_getthreads() / dwfl_thread_getframes()
 * collect each thread's frames: the PC (activation frames as they are,
 * callers minus one) and every register libdw recovered for the frame.
 * At most UNWIND_MAX_FRAMES frames a thread: deeper stacks are cut there.
 *
 * libunwind: target/unwind.c, which owns the ptrace side.
 */
#include "config.h"
#include "roots/unwind.h"
#include "debuginfo/modset.h"
#include "target/target.h"
#include "target/unwind.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* Deepest stack unwound; the frames beyond are not roots. */
#define UNWIND_MAX_FRAMES 256

struct libdw_state {
	struct target *t;
	size_t next;		/* next thread to report */
	struct unwound *u;
	struct unwound_thread *cur;
};

static pid_t cb_next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	struct libdw_state *st = arg;

	(void)dwfl;
	if (st->next >= st->t->nr_threads)
		return 0;
	*thread_argp = &st->t->threads[st->next];
	st->next++;
	return st->t->threads[st->next - 1].tid;
}

static bool cb_memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	struct libdw_state *st = arg;
	uint64_t v;

	(void)dwfl;
	if (target_read(st->t, addr, &v, 8) != 0)
		return false;
	*result = v;
	return true;
}

static bool cb_set_initial_registers(Dwfl_Thread *thread, void *thread_arg)
{
	const struct target_thread *th = thread_arg;
	const struct user_regs_struct *r = &th->regs;
	Dwarf_Word regs[UNWOUND_NR_REGS] = {
		r->rax, r->rdx, r->rcx, r->rbx, r->rsi, r->rdi, r->rbp, r->rsp,
		r->r8, r->r9, r->r10, r->r11, r->r12, r->r13, r->r14, r->r15, r->rip,
	};

	return dwfl_thread_state_registers(thread, 0, UNWOUND_NR_REGS, regs);
}

static const Dwfl_Thread_Callbacks callbacks = {
	.next_thread = cb_next_thread,
	.memory_read = cb_memory_read,
	.set_initial_registers = cb_set_initial_registers,
};

static int frame_cb(Dwfl_Frame *state, void *arg)
{
	struct unwound_thread *ut = arg;
	struct unwound_frame *f;
	Dwarf_Addr pc;
	bool activation;

	if (ut->nr_frames >= UNWIND_MAX_FRAMES || !dwfl_frame_pc(state, &pc, &activation))
		return DWARF_CB_ABORT;
	f = &ut->frames[ut->nr_frames++];
	memset(f, 0, sizeof(*f));
	f->pc = activation ? pc : pc - 1;
	for (unsigned r = 0; r < UNWOUND_NR_REGS; r++) {
		Dwarf_Word v;

		if (dwfl_frame_reg(state, r, &v) == 0) {
			f->regs[r] = v;
			f->valid |= 1u << r;
		}
	}
	return DWARF_CB_OK;
}

static int thread_cb(Dwfl_Thread *thread, void *arg)
{
	struct libdw_state *st = arg;
	struct unwound_thread *ut = &st->u->threads[st->u->nr_threads++];

	ut->tid = (int)dwfl_thread_tid(thread);
	ut->frames = xcalloc(UNWIND_MAX_FRAMES, sizeof(*ut->frames));
	(void)dwfl_thread_getframes(thread, frame_cb, ut);
	ut->frames = xrealloc(ut->frames, (ut->nr_frames + 1) * sizeof(*ut->frames));
	return DWARF_CB_OK;
}

static int libdw_unwind(struct target *t, struct modset *ms, struct unwound **ret)
{
	struct libdw_state st = { .t = t };
	struct unwound *u = xcalloc(1, sizeof(*u));

	u->threads = xcalloc(t->nr_threads + 1, sizeof(*u->threads));
	st.u = u;
	if (t->nr_threads && ms && ms->nr_mods &&
	    dwfl_attach_state(ms->dwfl, NULL, t->threads[0].tid, &callbacks, &st))
		(void)dwfl_getthreads(ms->dwfl, thread_cb, &st);
	*ret = u;
	return 0;
}

const struct unwind_ops unwind_libdw = {
	.name = "libdw",
	.needs_stop = false,
	.unwind = libdw_unwind,
};

static int libunwind_unwind(struct target *t, struct modset *ms, struct unwound **ret)
{
	(void)ms;
	return live_unwind(t, ret);
}

const struct unwind_ops unwind_libunwind = {
	.name = "libunwind",
	.needs_stop = true,
	.unwind = libunwind_unwind,
};
