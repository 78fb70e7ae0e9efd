/*
 * frames.c - locals and parameters of every stack frame as typed roots.
 *
 * Unwinding uses libdw's unwinder through dwfl_attach_state() with our own
 * thread callbacks: registers come from the image's threads (the frozen
 * copy of a live process, a core's NT_PRSTATUS, a snapshot file), memory
 * from the image. The same code therefore serves live targets (after
 * detach), fork children and cores (doc/glibc-malloc.md §12). CFI comes from the
 * modules' .eh_frame/.debug_frame, through the modset's Dwfl.
 *
 * Frames are first collected per thread (PC and the registers the
 * unwinder recovered), because a frame's CFA, which DW_OP_call_frame_cfa
 * and most DW_AT_frame_base expressions need, is the stack pointer of the
 * frame above it. Then, for each frame, the scopes at its PC
 * (dwarf_getscopes) give the variables and parameters in scope, and their
 * location at that PC (dwarf_getlocation_addr: location lists) is
 * evaluated by a small DWARF expression machine: registers, breg, fbreg,
 * call_frame_cfa, constants, plus/minus, deref, stack_value. A variable
 * held in a register gives its value directly; one in memory is read from
 * the image. Pieces and entry values are not evaluated (the variable is
 * skipped): at -O2 that loses some locals, never types a chunk wrongly.
 */
#include "config.h"
#include "typing/typing-internal.h"
#include "debuginfo/modset.h"
#include "target/target.h"
#include "target/unwind.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <dwarf.h>
#include <stdlib.h>
#include <string.h>

#define NR_REGS 17		/* DWARF x86_64: rax..r15 (0-15), rip (16) */
#define REG_SP 7
#define MAX_FRAMES 256

struct frame {
	Dwarf_Addr pc;		/* adjusted for lookups (pc - 1 for callers) */
	uint64_t regs[NR_REGS];
	uint32_t valid;		/* bit per register */
};

struct unwind {
	struct typer *ty;
	size_t next;		/* next thread to report */
	struct frame *frames;
	size_t nr_frames;
};

static pid_t cb_next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	struct unwind *u = arg;

	(void)dwfl;
	if (u->next >= u->ty->image->nr_threads)
		return 0;
	*thread_argp = &u->ty->image->threads[u->next];
	u->next++;
	return u->ty->image->threads[u->next - 1].tid;
}

static bool cb_memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	struct unwind *u = arg;
	uint64_t v;

	(void)dwfl;
	if (target_read(u->ty->image, addr, &v, 8) != 0)
		return false;
	*result = v;
	return true;
}

static bool cb_set_initial_registers(Dwfl_Thread *thread, void *thread_arg)
{
	const struct target_thread *th = thread_arg;
	const struct user_regs_struct *r = &th->regs;
	Dwarf_Word regs[NR_REGS] = {
		r->rax, r->rdx, r->rcx, r->rbx, r->rsi, r->rdi, r->rbp, r->rsp,
		r->r8, r->r9, r->r10, r->r11, r->r12, r->r13, r->r14, r->r15, r->rip,
	};

	return dwfl_thread_state_registers(thread, 0, NR_REGS, regs);
}

static const Dwfl_Thread_Callbacks callbacks = {
	.next_thread = cb_next_thread,
	.memory_read = cb_memory_read,
	.set_initial_registers = cb_set_initial_registers,
};

static int frame_cb(Dwfl_Frame *state, void *arg)
{
	struct unwind *u = arg;
	struct frame *f;
	Dwarf_Addr pc;
	bool activation;

	if (u->nr_frames >= MAX_FRAMES || !dwfl_frame_pc(state, &pc, &activation))
		return DWARF_CB_ABORT;
	f = &u->frames[u->nr_frames++];
	memset(f, 0, sizeof(*f));
	f->pc = activation ? pc : pc - 1;
	for (unsigned r = 0; r < NR_REGS; r++) {
		Dwarf_Word v;

		if (dwfl_frame_reg(state, r, &v) == 0) {
			f->regs[r] = v;
			f->valid |= 1u << r;
		}
	}
	return DWARF_CB_OK;
}

/* ---- DWARF expressions ------------------------------------------------------ */

enum loc_kind { LOC_NONE, LOC_MEMORY, LOC_VALUE };

static bool reg_of(const struct frame *f, unsigned r, uint64_t *v)
{
	if (r >= NR_REGS || !(f->valid & (1u << r)))
		return false;
	*v = f->regs[r];
	return true;
}

static bool frame_base(Dwarf_Die *fn, const struct frame *f, const struct frame *caller,
		       uint64_t *ret);

static enum loc_kind eval(struct typer *ty, Dwarf_Op *ops, size_t n, const struct frame *f,
			  const struct frame *caller, Dwarf_Die *fn, uint64_t *ret)
{
	uint64_t st[16];
	int sp = 0;
	bool value = false;

	for (size_t i = 0; i < n; i++) {
		uint8_t op = ops[i].atom;
		uint64_t v;

		if (sp >= 15)
			return LOC_NONE;
		if (op >= DW_OP_reg0 && op <= DW_OP_reg31) {
			if (n != 1 || !reg_of(f, op - DW_OP_reg0, ret))
				return LOC_NONE;
			return LOC_VALUE;
		}
		if (op == DW_OP_regx) {
			if (n != 1 || !reg_of(f, (unsigned)ops[i].number, ret))
				return LOC_NONE;
			return LOC_VALUE;
		}
		if (op >= DW_OP_breg0 && op <= DW_OP_breg31) {
			if (!reg_of(f, op - DW_OP_breg0, &v))
				return LOC_NONE;
			st[sp++] = v + ops[i].number;
			continue;
		}
		if (op >= DW_OP_lit0 && op <= DW_OP_lit31) {
			st[sp++] = op - DW_OP_lit0;
			continue;
		}
		switch (op) {
		case DW_OP_bregx:
			if (!reg_of(f, (unsigned)ops[i].number, &v))
				return LOC_NONE;
			st[sp++] = v + ops[i].number2;
			break;
		case DW_OP_fbreg:
			if (!fn || !frame_base(fn, f, caller, &v))
				return LOC_NONE;
			st[sp++] = v + ops[i].number;
			break;
		case DW_OP_call_frame_cfa:
			if (!caller || !reg_of(caller, REG_SP, &v))
				return LOC_NONE;
			st[sp++] = v;
			break;
		case DW_OP_addrx:
		case DW_OP_GNU_addr_index:
			/* DWARF 5 (clang): only evaluated for globals (roots.c) */
			return LOC_NONE;
		case DW_OP_addr:
		case DW_OP_const1u: case DW_OP_const2u: case DW_OP_const4u:
		case DW_OP_const8u: case DW_OP_constu:
		case DW_OP_const1s: case DW_OP_const2s: case DW_OP_const4s:
		case DW_OP_const8s: case DW_OP_consts:
			st[sp++] = ops[i].number;
			break;
		case DW_OP_plus_uconst:
			if (sp < 1)
				return LOC_NONE;
			st[sp - 1] += ops[i].number;
			break;
		case DW_OP_plus:
		case DW_OP_minus:
			if (sp < 2)
				return LOC_NONE;
			sp--;
			st[sp - 1] = op == DW_OP_plus ? st[sp - 1] + st[sp] : st[sp - 1] - st[sp];
			break;
		case DW_OP_deref:
			if (sp < 1 || target_read(ty->image, st[sp - 1], &v, 8) != 0)
				return LOC_NONE;
			st[sp - 1] = v;
			break;
		case DW_OP_stack_value:
			value = true;
			break;
		default:
			/* pieces, entry values, implicit pointers... */
			return LOC_NONE;
		}
	}
	if (sp < 1)
		return LOC_NONE;
	*ret = st[sp - 1];
	return value ? LOC_VALUE : LOC_MEMORY;
}

static bool frame_base(Dwarf_Die *fn, const struct frame *f, const struct frame *caller,
		       uint64_t *ret)
{
	Dwarf_Attribute a;
	Dwarf_Op *ops;
	size_t n;

	if (!dwarf_attr_integrate(fn, DW_AT_frame_base, &a) ||
	    dwarf_getlocation(&a, &ops, &n) != 0)
		return false;
	/* frame base expressions never use fbreg themselves */
	return eval(NULL, ops, n, f, caller, NULL, ret) != LOC_NONE;
}

/* ---- variables in scope ------------------------------------------------------ */

static void scan_local(struct typer *ty, Dwarf_Die *var, Dwarf_Die *fn, const struct frame *f,
		       const struct frame *caller, Dwarf_Addr rel_pc, int tid, size_t depth)
{
	Dwarf_Attribute a;
	Dwarf_Op *ops;
	size_t n;
	Dwarf_Die td;
	uint32_t t;
	uint64_t val;
	enum loc_kind k;
	struct ty *tp;
	struct strbuf name = STRBUF_INIT;
	const char *vn, *fname;
	uint32_t root;

	if (!dwarf_attr_integrate(var, DW_AT_location, &a) ||
	    dwarf_getlocation_addr(&a, rel_pc, &ops, &n, 1) != 1)
		return;
	if (!dwarf_attr_integrate(var, DW_AT_type, &a) || !dwarf_formref_die(&a, &td))
		return;
	t = ty_of_die(&ty->tt, &td);
	if (t == TY_NONE)
		return;
	tp = ty_get(&ty->tt, t);
	if (tp->kind == TY_PTR ? tp->pointee == TY_NONE
			       : !(tp->kind == TY_STRUCT || tp->kind == TY_UNION ||
				   tp->kind == TY_ARRAY) || (!tp->nr_slots && tp->kind != TY_ARRAY))
		return;
	k = eval(ty, ops, n, f, caller, fn, &val);
	if (k == LOC_NONE)
		return;
	vn = dwarf_diename(var);
	fname = dwarf_diename(fn);
	strbuf_addf(&name, "%s %s in %s() (thread %d, frame #%zu)",
		    dwarf_tag(var) == DW_TAG_formal_parameter ? "parameter" : "local",
		    vn ? vn : "?", fname ? fname : "?", tid, depth);
	root = typer_add_root(ty, name.buf);
	strbuf_release(&name);
	if (k == LOC_VALUE) {
		if (tp->kind == TY_PTR)
			typer_scan_object(ty, t, (const uint8_t *)&val, 8, root, 0);
		return;
	}
	{
		uint64_t size = tp->kind == TY_PTR ? 8 : tp->size;
		const uint8_t *p;

		if (!size || size > (1u << 24) || !(p = typer_mem(ty, val, size)))
			return;
		typer_scan_object(ty, t, p, size, root, 0);
	}
}

static void scan_frame(struct typer *ty, const struct frame *f, const struct frame *caller,
		       int tid, size_t depth)
{
	Dwarf_Addr bias;
	Dwfl_Module *mod = dwfl_addrmodule(ty->ms->dwfl, f->pc);
	Dwarf_Die *cu, *scopes = NULL;
	int nscopes;

	if (!mod)
		return;
	cu = dwfl_module_addrdie(mod, f->pc, &bias);
	if (!cu) {
		/* no .debug_aranges (clang does not emit them; libdw 0.188 then
		 * finds no CU): look through the CUs' own ranges */
		for (cu = dwfl_module_nextcu(mod, NULL, &bias); cu;
		     cu = dwfl_module_nextcu(mod, cu, &bias))
			if (dwarf_haspc(cu, f->pc - bias) == 1)
				break;
		if (!cu)
			return;
	}
	nscopes = dwarf_getscopes(cu, f->pc - bias, &scopes);
	for (int s = 0; s < nscopes; s++) {
		int tag = dwarf_tag(&scopes[s]);
		Dwarf_Die fn, child;

		if (tag == DW_TAG_compile_unit)
			break;
		/* the function whose frame base applies */
		fn = scopes[s];
		for (int k = s; k < nscopes; k++) {
			int kt = dwarf_tag(&scopes[k]);

			if (kt == DW_TAG_subprogram) {
				fn = scopes[k];
				break;
			}
		}
		if (dwarf_child(&scopes[s], &child) != 0)
			continue;
		do {
			int ct = dwarf_tag(&child);

			if (ct == DW_TAG_variable || ct == DW_TAG_formal_parameter)
				scan_local(ty, &child, &fn, f, caller, f->pc - bias, tid, depth);
		} while (dwarf_siblingof(&child, &child) == 0);
		if (tag == DW_TAG_subprogram)
			break;
	}
	free(scopes);
}

static int thread_cb(Dwfl_Thread *thread, void *arg)
{
	struct unwind *u = arg;
	int tid = (int)dwfl_thread_tid(thread);

	u->nr_frames = 0;
	(void)dwfl_thread_getframes(thread, frame_cb, u);
	for (size_t i = 0; i < u->nr_frames; i++)
		scan_frame(u->ty, &u->frames[i],
			   i + 1 < u->nr_frames ? &u->frames[i + 1] : NULL, tid, i);
	return DWARF_CB_OK;
}

_Static_assert(UNWOUND_NR_REGS == NR_REGS, "one register numbering");

/* Frames libunwind-ptrace collected during the stop. */
static void scan_unwound(struct typer *ty, const struct unwound *uw)
{
	struct frame *fr = xcalloc(MAX_FRAMES, sizeof(*fr));

	for (size_t t = 0; t < uw->nr_threads; t++) {
		const struct unwound_thread *ut = &uw->threads[t];
		size_t n = ut->nr_frames < MAX_FRAMES ? ut->nr_frames : MAX_FRAMES;

		for (size_t i = 0; i < n; i++) {
			fr[i].pc = ut->frames[i].pc;
			memcpy(fr[i].regs, ut->frames[i].regs, sizeof(fr[i].regs));
			fr[i].valid = ut->frames[i].valid;
		}
		for (size_t i = 0; i < n; i++)
			scan_frame(ty, &fr[i], i + 1 < n ? &fr[i + 1] : NULL, ut->tid, i);
	}
	free(fr);
}

void typer_scan_frames(struct typer *ty)
{
	struct unwind u = { .ty = ty };

	if (ty->opts && ty->opts->frames) {
		scan_unwound(ty, ty->opts->frames);
		return;
	}
	if (!ty->image->nr_threads || !ty->ms->nr_mods)
		return;
	if (!dwfl_attach_state(ty->ms->dwfl, NULL, ty->image->threads[0].tid, &callbacks, &u))
		return;
	u.frames = xcalloc(MAX_FRAMES, sizeof(*u.frames));
	(void)dwfl_getthreads(ty->ms->dwfl, thread_cb, &u);
	free(u.frames);
}
