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
 * stack_value, entry_value. A variable held in a register gives its value
 * directly (a root with a value); one in memory is a range of the image.
 *
 * Optimized code. Registers of outer frames are the ones the unwinder
 * recovered from the call frame information (callee-saved registers an
 * inner frame saved on its stack), so a local kept in rbx across the call
 * that blocks is a root. A parameter whose location at the PC is only
 * DW_OP_entry_value(reg) ("the value it had on entry", GCC's answer once
 * the register was reused) is recovered from the caller's call site: the
 * DW_TAG_call_site whose return address is the caller's PC, its
 * DW_TAG_call_site_parameter located in that register, and its
 * DW_AT_call_value evaluated in the caller's frame (itself possibly an
 * entry value, one level more); failing that, a callee-saved register
 * holds on entry what the caller held at the call. Pieces, implicit
 * pointers and entry values of memory are not evaluated (the variable is
 * skipped): a lost root, never a chunk typed wrongly. A local that is
 * optimized out at the PC (no location there) is no root; what it held
 * may still be found by the conservative scan and typed by shape.
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

/* Where an expression is evaluated: frame I of thread UT (its caller,
 * I + 1, gives the CFA), in function FN (for DW_OP_fbreg; NULL in frame
 * base expressions), the expression read from ATTR (for the
 * sub-expressions of DW_OP_entry_value). */
struct eval_ctx {
	struct target *image;
	struct modset *ms;
	const struct unwound_thread *ut;
	size_t i, n;
	Dwarf_Die *fn;
	Dwarf_Attribute *attr;
	int depth;		/* entry values within entry values */
};

/* Entry values are looked for at most this many callers out. */
#define MAX_ENTRY_DEPTH 2

static const struct unwound_frame *frame_at(const struct eval_ctx *c, size_t k)
{
	return k < c->n ? &c->ut->frames[k] : NULL;
}

static bool reg_of(const struct unwound_frame *f, unsigned r, uint64_t *v)
{
	if (!f || r >= NR_REGS || !(f->valid & (1u << r)))
		return false;
	*v = f->regs[r];
	return true;
}

static bool frame_base(const struct eval_ctx *c, uint64_t *ret);
static bool entry_value(const struct eval_ctx *c, const Dwarf_Op *op, uint64_t *ret);

static enum loc_kind eval(const struct eval_ctx *c, const Dwarf_Op *ops, size_t n,
			  uint64_t *ret)
{
	const struct unwound_frame *f = frame_at(c, c->i), *caller = frame_at(c, c->i + 1);
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
			if (!c->fn || !frame_base(c, &v))
				return LOC_NONE;
			st[sp++] = v + ops[i].number;
			break;
		case DW_OP_call_frame_cfa:
			if (!reg_of(caller, REG_SP, &v))
				return LOC_NONE;
			st[sp++] = v;
			break;
		case DW_OP_entry_value:
		case DW_OP_GNU_entry_value:
			if (!entry_value(c, &ops[i], &v))
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
			if (sp < 1 || !c->image || target_read(c->image, st[sp - 1], &v, 8) != 0)
				return LOC_NONE;
			st[sp - 1] = v;
			break;
		case DW_OP_stack_value:
			value = true;
			break;
		default:
			/* pieces, implicit pointers... */
			return LOC_NONE;
		}
	}
	if (sp < 1)
		return LOC_NONE;
	*ret = st[sp - 1];
	return value ? LOC_VALUE : LOC_MEMORY;
}

static bool frame_base(const struct eval_ctx *c, uint64_t *ret)
{
	Dwarf_Attribute a;
	Dwarf_Op *ops;
	size_t n;
	struct eval_ctx fb = *c;

	if (!dwarf_attr_integrate(c->fn, DW_AT_frame_base, &a) ||
	    dwarf_getlocation(&a, &ops, &n) != 0)
		return false;
	/* frame base expressions never use fbreg, deref or entry values */
	fb.fn = NULL;
	fb.attr = NULL;
	fb.image = NULL;
	return eval(&fb, ops, n, ret) != LOC_NONE;
}

/* The CU holding PC in MOD, and its bias. */
static Dwarf_Die *cu_at(Dwfl_Module *mod, Dwarf_Addr pc, Dwarf_Addr *bias)
{
	Dwarf_Die *cu = dwfl_module_addrdie(mod, pc, bias);

	if (cu)
		return cu;
	/* no .debug_aranges (clang does not emit them; libdw 0.188 then finds
	 * no CU): look through the CUs' own ranges */
	for (cu = dwfl_module_nextcu(mod, NULL, bias); cu; cu = dwfl_module_nextcu(mod, cu, bias))
		if (dwarf_haspc(cu, pc - *bias) == 1)
			return cu;
	return NULL;
}

/* The register an entry value's sub-expression names (DW_OP_regN,
 * DW_OP_regx), or -1. */
static int entry_register(const Dwarf_Op *ops, size_t n)
{
	if (n != 1)
		return -1;
	if (ops[0].atom >= DW_OP_reg0 && ops[0].atom <= DW_OP_reg31)
		return ops[0].atom - DW_OP_reg0;
	if (ops[0].atom == DW_OP_regx && ops[0].number < NR_REGS)
		return (int)ops[0].number;
	return -1;
}

/*
 * The value register REG had when frame C->i was entered, from its
 * caller's call site: the DW_TAG_call_site whose return address is the
 * caller's, its parameter located in REG, and that parameter's
 * DW_AT_call_value evaluated in the caller's frame.
 */
static bool call_site_value(const struct eval_ctx *c, int reg, uint64_t *ret)
{
	const struct unwound_frame *cf = frame_at(c, c->i + 1);
	Dwfl_Module *mod;
	Dwarf_Die *cu, *scopes = NULL, fn;
	Dwarf_Addr bias, rel;
	int nscopes;
	bool found = false;

	if (!cf || !c->ms || !(mod = dwfl_addrmodule(c->ms->dwfl, cf->pc)) ||
	    !(cu = cu_at(mod, cf->pc, &bias)))
		return false;
	rel = cf->pc - bias;
	nscopes = dwarf_getscopes(cu, rel, &scopes);
	/* the caller's function, for its frame base */
	fn = nscopes > 0 ? scopes[nscopes - 1] : *cu;
	for (int s = 0; s < nscopes; s++)
		if (dwarf_tag(&scopes[s]) == DW_TAG_subprogram) {
			fn = scopes[s];
			break;
		}
	for (int s = 0; s < nscopes && !found; s++) {
		Dwarf_Die site;

		if (dwarf_tag(&scopes[s]) == DW_TAG_compile_unit || dwarf_child(&scopes[s], &site))
			continue;
		do {
			int tag = dwarf_tag(&site);
			Dwarf_Attribute a;
			Dwarf_Addr rpc;
			Dwarf_Die par;

			if (tag != DW_TAG_call_site && tag != DW_TAG_GNU_call_site)
				continue;
			if (!(dwarf_attr(&site, DW_AT_call_return_pc, &a) ||
			      dwarf_attr(&site, DW_AT_low_pc, &a)) ||
			    dwarf_formaddr(&a, &rpc) != 0 || rpc != rel + 1)
				continue;
			/* the call that frame C->i is in */
			if (dwarf_child(&site, &par) != 0)
				break;
			do {
				Dwarf_Attribute la, va;
				Dwarf_Op *lops, *vops;
				size_t ln, vn;
				struct eval_ctx cc = *c;

				if ((dwarf_tag(&par) != DW_TAG_call_site_parameter &&
				     dwarf_tag(&par) != DW_TAG_GNU_call_site_parameter) ||
				    !dwarf_attr(&par, DW_AT_location, &la) ||
				    dwarf_getlocation(&la, &lops, &ln) != 0 ||
				    entry_register(lops, ln) != reg)
					continue;
				if (!(dwarf_attr(&par, DW_AT_call_value, &va) ||
				      dwarf_attr(&par, DW_AT_GNU_call_site_value, &va)) ||
				    dwarf_getlocation(&va, &vops, &vn) != 0)
					break;
				cc.i = c->i + 1;
				cc.fn = &fn;
				cc.attr = &va;
				cc.depth = c->depth + 1;
				/* a value: a location's address is the value too */
				found = eval(&cc, vops, vn, ret) != LOC_NONE;
				break;
			} while (dwarf_siblingof(&par, &par) == 0);
			break;
		} while (dwarf_siblingof(&site, &site) == 0);
		if (dwarf_tag(&scopes[s]) == DW_TAG_subprogram)
			break;
	}
	free(scopes);
	return found;
}

/* x86-64 SysV: rbx, rbp, r12-r15 survive a call. */
static bool callee_saved(int reg)
{
	return reg == 3 || reg == 6 || (reg >= 12 && reg <= 15);
}

/*
 * DW_OP_entry_value of a register: the value it had on entry to frame
 * C->i's function. The caller's call site says where that value still is
 * (DW_AT_call_value); failing that, a callee-saved register holds on
 * entry what it held in the caller at the call, which the unwinder
 * recovered (CFI). Anything else (memory sub-expressions, a caller the
 * unwinder did not reach) is not evaluated.
 */
static bool entry_value(const struct eval_ctx *c, const Dwarf_Op *op, uint64_t *ret)
{
	Dwarf_Attribute sub;
	Dwarf_Op *ops;
	size_t n;
	int reg;

	if (!c->attr || c->depth >= MAX_ENTRY_DEPTH ||
	    dwarf_getlocation_attr(c->attr, op, &sub) != 0 ||
	    dwarf_getlocation(&sub, &ops, &n) != 0 || (reg = entry_register(ops, n)) < 0)
		return false;
	if (call_site_value(c, reg, ret))
		return true;
	return callee_saved(reg) && reg_of(frame_at(c, c->i + 1), (unsigned)reg, ret);
}

/* ---- variables in scope ------------------------------------------------------ */

struct frame_ctx {
	const struct root_source *src;
	const struct unwound_thread *ut;
	size_t i, n;		/* frame i of the first n of ut */
	Dwarf_Addr rel_pc;
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
	struct eval_ctx ec = {
		.image = c->src->image, .ms = c->src->ms, .ut = c->ut, .i = c->i, .n = c->n,
		.fn = fn, .attr = NULL,
	};
	struct root r = {
		.tid = c->ut->tid, .frame = (uint32_t)c->i,
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
	ec.attr = &a;
	k = eval(&ec, ops, n, &val);
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
	Dwarf_Addr bias, pc = c->ut->frames[c->i].pc;
	Dwfl_Module *mod = dwfl_addrmodule(ms->dwfl, pc);
	Dwarf_Die *cu, *scopes = NULL;
	int nscopes;

	if (!mod || !(cu = cu_at(mod, pc, &bias)))
		return;
	c->rel_pc = pc - bias;
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
				.src = src, .ut = ut, .i = i, .n = n, .out = out,
			};

			frame_roots(&c, src->ms);
		}
	}
}
