/*
 * dwindex.c - the index pass over every CU of every module (dwindex.h).
 *
 * Each CU's children are walked: variables are kept when their location is
 * a fixed address (DW_OP_addr: globals, file statics, function statics;
 * clang's DWARF 5 puts the address in .debug_addr, DW_OP_addrx) or a TLS
 * offset (DW_OP_const*u, or DW_OP_constx into .debug_addr, followed by
 * DW_OP_form_tls_address or the older DW_OP_GNU_push_tls_address);
 * declarations are skipped. struct, class and union definitions are
 * registered with the type table, C++ ones with their qualified name
 * (namespaces and enclosing scopes, "(anonymous namespace)" for unnamed
 * ones). Namespaces, functions and lexical blocks are descended into.
 *
 * The order of the lists is the DWARF's: modules in modset order, CUs in
 * .debug_info order, children in DIE order. Typing's results depend on
 * the order in which roots are scanned, so this order is part of the
 * contract.
 */
#include "config.h"
#include "debuginfo/dwindex.h"
#include "debuginfo/modset.h"
#include "debuginfo/types.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <dwarf.h>
#include <stdlib.h>
#include <string.h>

/* Deepest nesting of namespaces, functions and blocks walked. */
#define MAX_SCOPE_DEPTH 16

static bool var_location(Dwarf_Die *die, uint64_t *value, bool *tls)
{
	Dwarf_Attribute a;
	Dwarf_Op *ops;
	size_t n;

	if (!dwarf_attr(die, DW_AT_location, &a) || dwarf_getlocation(&a, &ops, &n) != 0)
		return false;
	if (n == 1 && ops[0].atom == DW_OP_addr) {
		*value = ops[0].number;
		*tls = false;
		return true;
	}
	/* DWARF 5 (clang): the address is in .debug_addr, by index */
	if (n == 1 && (ops[0].atom == DW_OP_addrx || ops[0].atom == DW_OP_GNU_addr_index)) {
		Dwarf_Attribute res;
		Dwarf_Addr addr;

		if (dwarf_getlocation_attr(&a, &ops[0], &res) != 0 ||
		    dwarf_formaddr(&res, &addr) != 0)
			return false;
		*value = addr;
		*tls = false;
		return true;
	}
	if (n == 2 && (ops[1].atom == DW_OP_form_tls_address ||
		       ops[1].atom == DW_OP_GNU_push_tls_address) &&
	    (ops[0].atom == DW_OP_const8u || ops[0].atom == DW_OP_const4u ||
	     ops[0].atom == DW_OP_constu || ops[0].atom == DW_OP_const1u ||
	     ops[0].atom == DW_OP_const2u)) {
		*value = ops[0].number;
		*tls = true;
		return true;
	}
	if (n == 2 && (ops[1].atom == DW_OP_form_tls_address ||
		       ops[1].atom == DW_OP_GNU_push_tls_address) &&
	    (ops[0].atom == DW_OP_constx || ops[0].atom == DW_OP_GNU_const_index)) {
		Dwarf_Attribute res;
		Dwarf_Word v;

		if (dwarf_getlocation_attr(&a, &ops[0], &res) != 0 ||
		    dwarf_formudata(&res, &v) != 0)
			return false;
		*value = v;
		*tls = true;
		return true;
	}
	return false;
}

static void add_var(struct dw_index *idx, Dwarf_Die *die, uint32_t mod)
{
	uint64_t value;
	bool tls;

	if (dwarf_hasattr(die, DW_AT_declaration) || !var_location(die, &value, &tls))
		return;
	ALLOC_GROW(idx->vars, idx->nr_vars + 1, idx->alloc_vars);
	idx->vars[idx->nr_vars++] = (struct dw_var){ *die, value, mod, tls };
}

static void add_def(struct dw_index *idx, struct ty_table *tt, Dwarf_Die *die)
{
	if (dwarf_hasattr(die, DW_AT_declaration))
		return;
	ty_register_definition(tt, die);
	ALLOC_GROW(idx->defs, idx->nr_defs + 1, idx->alloc_defs);
	idx->defs[idx->nr_defs++] = *die;
}

struct walk {
	struct dw_index *idx;
	struct ty_table *tt;
	uint32_t mod;
	bool cxx;
};

/*
 * The aggregates nested in the C++ struct, class or union DIE (whose
 * qualified name, with "::", is PREFIX), and theirs: their qualified
 * names registered as dwarf_getscopes_die() would spell them (an unnamed
 * enclosing aggregate as "(anonymous namespace)"), which spares the type
 * table a walk of the CU from its start for each (types.c). Only names:
 * nested definitions are not listed (what the table resolves by name
 * stays what it was).
 */
static void name_nested(struct walk *w, Dwarf_Die *die, const char *prefix, int depth)
{
	Dwarf_Die child;

	if (depth > MAX_SCOPE_DEPTH || dwarf_child(die, &child) != 0)
		return;
	do {
		int tag = dwarf_tag(&child);
		const char *n;
		struct strbuf q = STRBUF_INIT;

		if (tag != DW_TAG_structure_type && tag != DW_TAG_class_type &&
		    tag != DW_TAG_union_type)
			continue;
		n = dwarf_diename(&child);
		strbuf_addf(&q, "%s%s", prefix, n ? n : "(anonymous namespace)");
		if (n)
			ty_register_qualified(w->tt, &child, q.buf);
		strbuf_addstr(&q, "::");
		name_nested(w, &child, q.buf, depth + 1);
		strbuf_release(&q);
	} while (dwarf_siblingof(&child, &child) == 0);
}

/* The children of DIE: namespaces and functions are descended into
 * (function statics), types registered, variables collected. */
static void walk_scope(struct walk *w, Dwarf_Die *die, const char *prefix, int depth)
{
	Dwarf_Die child;

	if (depth > MAX_SCOPE_DEPTH || dwarf_child(die, &child) != 0)
		return;
	do {
		const char *n;

		switch (dwarf_tag(&child)) {
		case DW_TAG_variable:
			add_var(w->idx, &child, w->mod);
			break;
		case DW_TAG_structure_type:
		case DW_TAG_class_type:
		case DW_TAG_union_type:
			n = dwarf_diename(&child);
			if (w->cxx) {
				struct strbuf q = STRBUF_INIT;

				strbuf_addf(&q, "%s%s", prefix, n ? n : "(anonymous namespace)");
				if (n)
					ty_register_qualified(w->tt, &child, q.buf);
				strbuf_addstr(&q, "::");
				name_nested(w, &child, q.buf, depth + 1);
				strbuf_release(&q);
			}
			add_def(w->idx, w->tt, &child);
			break;
		case DW_TAG_typedef: {
			/* typedef struct { ... } name: C names the struct so */
			Dwarf_Attribute a;
			Dwarf_Die st;

			n = dwarf_diename(&child);
			if (!w->cxx && n && dwarf_attr(&child, DW_AT_type, &a) &&
			    dwarf_formref_die(&a, &st) &&
			    (dwarf_tag(&st) == DW_TAG_structure_type ||
			     dwarf_tag(&st) == DW_TAG_union_type) &&
			    !dwarf_diename(&st) && !dwarf_hasattr(&st, DW_AT_declaration))
				ty_register_qualified(w->tt, &st, n);
			break;
		}
		case DW_TAG_namespace: {
			struct strbuf q = STRBUF_INIT;

			n = dwarf_diename(&child);
			strbuf_addf(&q, "%s%s::", prefix, n ? n : "(anonymous namespace)");
			walk_scope(w, &child, q.buf, depth + 1);
			strbuf_release(&q);
			break;
		}
		case DW_TAG_subprogram:
		case DW_TAG_lexical_block:
			/* function statics live at DW_OP_addr too */
			walk_scope(w, &child, prefix, depth + 1);
			break;
		default:
			break;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
}

static bool lang_cxx(Dwarf_Die *cu)
{
	int lang = dwarf_srclang(cu);

	return lang == DW_LANG_C_plus_plus || lang == DW_LANG_C_plus_plus_03 ||
	       lang == DW_LANG_C_plus_plus_11 || lang == DW_LANG_C_plus_plus_14;
}

void dw_index_build(struct dw_index *idx, const struct modset *ms, struct ty_table *tt)
{
	memset(idx, 0, sizeof(*idx));
	for (size_t m = 0; m < ms->nr_mods; m++) {
		Dwarf *dw = ms->mods[m].dw;
		Dwarf_Off off = 0, next;
		size_t hsize;

		if (!dw)
			continue;
		while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
			Dwarf_Die cu;

			if (dwarf_offdie(dw, off + hsize, &cu)) {
				struct walk w = {
					.idx = idx, .tt = tt, .mod = (uint32_t)m,
					.cxx = lang_cxx(&cu),
				};

				walk_scope(&w, &cu, "", 0);
			}
			off = next;
		}
	}
}

void dw_index_release(struct dw_index *idx)
{
	free(idx->vars);
	free(idx->defs);
	memset(idx, 0, sizeof(*idx));
}

bool dw_member_offset(Dwarf_Die *die, const char *name, uint64_t *ret_off)
{
	Dwarf_Die child;

	if (dwarf_child(die, &child) != 0)
		return false;
	do {
		const char *n = dwarf_diename(&child);
		Dwarf_Attribute a;
		Dwarf_Word v;

		if (dwarf_tag(&child) != DW_TAG_member || !n || strcmp(n, name))
			continue;
		if (!dwarf_attr(&child, DW_AT_data_member_location, &a) ||
		    dwarf_formudata(&a, &v) != 0)
			return false;
		*ret_off = v;
		return true;
	} while (dwarf_siblingof(&child, &child) == 0);
	return false;
}
