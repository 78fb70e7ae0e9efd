/*
 * dwindex.h - one pass over every compilation unit of a modset.
 *
 * Typing and the roots layer both need to know what every module's DWARF
 * declares at file scope: the struct, class and union definitions (so that
 * a pointer to an opaque declaration in one CU finds the definition in
 * another, and C++ types get their qualified names) and the variables that
 * live at a fixed address or a TLS offset (globals, file and function
 * statics, TLS variables). dw_index_build() walks every CU once, registers
 * the definitions with a type table and lists both.
 *
 * Ownership: dw_index_release() frees the lists. The DIEs point into the
 * modset's DWARF and are valid while the modset lives.
 */
#ifndef HEAPGRAB_DEBUGINFO_DWINDEX_H
#define HEAPGRAB_DEBUGINFO_DWINDEX_H

#include "util/compiler.h"

#include <elfutils/libdw.h>

struct modset;
struct ty_table;

struct dw_var {
	Dwarf_Die die;
	uint64_t value;		/* link-time address, or offset in the TLS block */
	uint32_t mod;		/* index into the modset's modules */
	bool tls;
};

struct dw_index {
	struct dw_var *vars;		/* in DWARF order, module by module */
	size_t nr_vars, alloc_vars;
	Dwarf_Die *defs;		/* struct/class/union definitions */
	size_t nr_defs, alloc_defs;
};

/*
 * Walk every CU of every module of MS that has DWARF: definitions are
 * registered with TT (ty_register_definition, and ty_register_qualified
 * for C++) and listed, variables with a location of one DW_OP_addr (or
 * DWARF 5's DW_OP_addrx) or of a TLS offset (DW_OP_const*u or
 * DW_OP_constx, then DW_OP_form_tls_address) are listed. Namespaces,
 * functions and lexical blocks are descended into, at most 16 deep.
 */
void dw_index_build(struct dw_index *idx, const struct modset *ms, struct ty_table *tt);
void dw_index_release(struct dw_index *idx);

/* The offset of data member NAME in the struct DIE; false when it has no
 * such member or its location is not a constant. */
bool dw_member_offset(Dwarf_Die *die, const char *name, uint64_t *ret_off);

#endif /* HEAPGRAB_DEBUGINFO_DWINDEX_H */
