/*
 * frames.c - locals and parameters of every stack frame as typed roots.
 *
 * The frames come from an unwinder (roots/unwind.h): per thread, each
 * frame's PC and the registers the unwinder recovered for it. A frame's
 * CFA, which DW_OP_call_frame_cfa and most DW_AT_frame_base expressions
 * need, is the stack pointer of the frame above it (its caller), so each
 * frame is evaluated with its caller at hand.
 *
 * For each frame, the scopes at its PC (dwarf_getscopes) give the
 * variables and parameters in scope, innermost scope first, up to the
 * function; their location at that PC (dwarf_getlocation_addr: location
 * lists) is evaluated by a small DWARF expression machine: registers,
 * breg, fbreg, call_frame_cfa, constants, plus/minus, deref,
 * stack_value. A variable held in a register gives its value directly
 * (a root with a value); one in memory is a range of the image. Pieces and
 * entry values are not evaluated (the variable is skipped): at -O2 that
 * loses some locals, never types a chunk wrongly.
 *
 * The frames' memory is the image (doc/glibc-malloc.md §12): for live
 * targets the frozen copy, so this runs after detach.
 */
#include "config.h"
#include "roots/roots.h"
#include "debuginfo/modset.h"
#include "debuginfo/types.h"
#include "target/target.h"
#include "target/unwind.h"

#include <dwarf.h>
#include <stdlib.h>
#include <string.h>

#define NR_REGS UNWOUND_NR_REGS	/* DWARF x86_64: rax..r15 (0-15), rip (16) */
#define REG_SP 7
/* Frames looked at per thread (the unwinders stop there too). */
#define MAX_FRAMES 256
/* A local bigger than this is not one (a hostile DWARF type). */
#define MAX_LOCAL_SIZE (1u << 24)

/* ---- DWARF expressions ------------------------------------------------------ */

enum loc_kind { LOC_NONE, LOC_MEMORY, LOC_VALUE };

static bool reg_of(const struct unwound_frame *f, unsigned r, uint64_t *v)
{
	if (r >= NR_REGS || !(f->valid & (1u << r)))
		return false;
	*v = f->regs[r];
	return true;
}

static bool frame_base(Dwarf_Die *fn, const struct unwound_frame *f,
		       const struct unwound_frame *caller, uint64_t *ret);

static enum loc_kind eval(struct target *image, Dwarf_Op *ops, size_t n,
			  const struct unwound_frame *f, const struct unwound_frame *caller,
			  Dwarf_Die *fn, uint64_t *ret)
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
			/* DWARF 5 (clang): only evaluated for globals (dwindex.c) */
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
			if (sp < 1 || !image || target_read(image, st[sp - 1], &v, 8) != 0)
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

static bool frame_base(Dwarf_Die *fn, const struct unwound_frame *f,
		       const struct unwound_frame *caller, uint64_t *ret)
{
	Dwarf_Attribute a;
	Dwarf_Op *ops;
	size_t n;

	if (!dwarf_attr_integrate(fn, DW_AT_frame_base, &a) ||
	    dwarf_getlocation(&a, &ops, &n) != 0)
		return false;
	/* frame base expressions never use fbreg or deref themselves */
	return eval(NULL, ops, n, f, caller, NULL, ret) != LOC_NONE;
}

/* ---- variables in scope ------------------------------------------------------ */

struct frame_ctx {
	const struct root_source *src;
	const struct unwound_frame *f, *caller;
	Dwarf_Addr rel_pc;
	int tid;
	uint32_t depth;
	struct root_list *out;
};

static void frame_var(struct frame_ctx *c, Dwarf_Die *var, Dwarf_Die *fn)
{
	struct ty_table *tt = c->src->tt;
	Dwarf_Attribute a;
	Dwarf_Op *ops;
	size_t n;
	uint32_t t;
	uint64_t val;
	enum loc_kind k;
	struct ty *tp;
	struct root r = {
		.tid = c->tid, .frame = c->depth,
		.what = dwarf_tag(var) == DW_TAG_formal_parameter ? ROOT_IS_PARAMETER :
								    ROOT_IS_LOCAL,
	};

	if (!dwarf_attr_integrate(var, DW_AT_location, &a) ||
	    dwarf_getlocation_addr(&a, c->rel_pc, &ops, &n, 1) != 1)
		return;
	t = ty_of_typed_die(tt, var);
	if (t == TY_NONE)
		return;
	tp = ty_get(tt, t);
	if (tp->kind == TY_PTR ? tp->pointee == TY_NONE
			       : !(tp->kind == TY_STRUCT || tp->kind == TY_UNION ||
				   tp->kind == TY_ARRAY) || (!tp->nr_slots && tp->kind != TY_ARRAY))
		return;
	k = eval(c->src->image, ops, n, c->f, c->caller, fn, &val);
	if (k == LOC_NONE)
		return;
	r.type = t;
	r.name = dwarf_diename(var);
	r.function = dwarf_diename(fn);
	if (k == LOC_VALUE) {
		/* only a pointer fits in a register */
		if (tp->kind != TY_PTR)
			return;
		r.kind = ROOT_REGISTER;
		r.value = val;
		r.has_value = true;
	} else {
		uint64_t size = tp->kind == TY_PTR ? 8 : tp->size;

		if (!size || size > MAX_LOCAL_SIZE)
			return;
		r.kind = ROOT_STACK;
		r.start = val;
		r.end = val + size;
	}
	root_list_add(c->out, &r);
}

static void frame_roots(struct frame_ctx *c, struct modset *ms)
{
	Dwarf_Addr bias;
	Dwfl_Module *mod = dwfl_addrmodule(ms->dwfl, c->f->pc);
	Dwarf_Die *cu, *scopes = NULL;
	int nscopes;

	if (!mod)
		return;
	cu = dwfl_module_addrdie(mod, c->f->pc, &bias);
	if (!cu) {
		/* no .debug_aranges (clang does not emit them; libdw 0.188 then
		 * finds no CU): look through the CUs' own ranges */
		for (cu = dwfl_module_nextcu(mod, NULL, &bias); cu;
		     cu = dwfl_module_nextcu(mod, cu, &bias))
			if (dwarf_haspc(cu, c->f->pc - bias) == 1)
				break;
		if (!cu)
			return;
	}
	c->rel_pc = c->f->pc - bias;
	nscopes = dwarf_getscopes(cu, c->rel_pc, &scopes);
	for (int s = 0; s < nscopes; s++) {
		int tag = dwarf_tag(&scopes[s]);
		Dwarf_Die fn, child;

		if (tag == DW_TAG_compile_unit)
			break;
		/* the function whose frame base applies */
		fn = scopes[s];
		for (int k = s; k < nscopes; k++)
			if (dwarf_tag(&scopes[k]) == DW_TAG_subprogram) {
				fn = scopes[k];
				break;
			}
		if (dwarf_child(&scopes[s], &child) != 0)
			continue;
		do {
			int ct = dwarf_tag(&child);

			if (ct == DW_TAG_variable || ct == DW_TAG_formal_parameter)
				frame_var(c, &child, &fn);
		} while (dwarf_siblingof(&child, &child) == 0);
		if (tag == DW_TAG_subprogram)
			break;
	}
	free(scopes);
}

void roots_frames(const struct root_source *src, const struct unwound *frames,
		  struct root_list *out)
{
	if (!frames || !src->ms)
		return;
	for (size_t t = 0; t < frames->nr_threads; t++) {
		const struct unwound_thread *ut = &frames->threads[t];
		size_t n = ut->nr_frames < MAX_FRAMES ? ut->nr_frames : MAX_FRAMES;

		for (size_t i = 0; i < n; i++) {
			struct frame_ctx c = {
				.src = src, .f = &ut->frames[i],
				.caller = i + 1 < n ? &ut->frames[i + 1] : NULL,
				.tid = ut->tid, .depth = (uint32_t)i, .out = out,
			};

			frame_roots(&c, src->ms);
		}
	}
}
