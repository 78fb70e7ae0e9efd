/*
 * globals.c - typed roots from the modules' DWARF variables: globals and
 * statics, TLS variables in each thread, and each thread's descriptor.
 *
 * The variables come from the index pass (debuginfo/dwindex.c), in DWARF
 * order. A global at link-time address A of module M is at A plus M's
 * DWARF bias. A TLS variable at offset X of module M's block is, in a
 * thread with thread pointer TP, at TP - offset(M) + X, where offset(M)
 * is the block's place below the thread pointer (roots/tls.c); modules
 * whose block the model cannot place give no TLS roots.
 *
 * Each thread's descriptor (glibc's struct pthread, at its thread
 * pointer: nptl/descr.h) is a root too: its DTV pointer and other members
 * reach chunks glibc allocated for the thread. It needs libc's DWARF for
 * the layout.
 *
 * Only variables whose type can hold a pointer are roots. Whether their
 * bytes are in the image is the reader's question: read-only data and
 * RELRO are not copied, and a root whose bytes cannot be read is skipped
 * by whoever reads it.
 */
#include "config.h"
#include "roots/roots.h"
#include "roots/roots-internal.h"
#include "debuginfo/dwindex.h"
#include "debuginfo/modset.h"
#include "debuginfo/types.h"
#include "target/target.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* No real variable is bigger; a hostile DWARF type may claim one. */
#define MAX_VAR_SIZE (1ull << 30)

_Static_assert(ROOT_NO_TYPE == TY_NONE, "roots and the type table agree on 'no type'");

/* Can a value of type T hold a pointer into the heap? (Arrays through to
 * their elements, at most 8 levels.) */
static bool has_pointers(struct ty_table *tt, uint32_t t)
{
	for (int d = 0; d < 8 && t != TY_NONE; d++) {
		struct ty *tp = ty_get(tt, t);

		if (tp->kind == TY_PTR)
			return tp->pointee != TY_NONE;
		if (tp->kind == TY_ARRAY) {
			t = tp->elem;
			continue;
		}
		return (tp->kind == TY_STRUCT || tp->kind == TY_UNION) &&
		       (tp->nr_slots || tp->flex);
	}
	return false;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* Variable V of type T at ADDR as a root of KIND, unless its size rules
 * it out. */
static void add_var_root(const struct root_source *src, const struct dw_var *v, uint32_t t,
			 taddr_t addr, enum root_kind kind, int tid, struct root_list *out)
{
	struct ty *tp = ty_get(src->tt, t);
	uint64_t size = tp->kind == TY_PTR ? 8 : tp->size;
	struct root r = {
		.kind = kind, .what = ROOT_IS_VARIABLE, .tid = tid, .type = t,
		.start = addr,
	};

	if (!size || size > MAX_VAR_SIZE)
		return;
	r.end = addr + size;
	r.name = dwarf_diename((Dwarf_Die *)&v->die);
	r.module = base_name(src->ms->mods[v->mod].path);
	root_list_add(out, &r);
}

void roots_globals(const struct root_source *src, struct root_list *out)
{
	for (size_t i = 0; i < src->idx->nr_vars; i++) {
		const struct dw_var *v = &src->idx->vars[i];
		uint32_t t;

		if (v->tls)
			continue;
		t = ty_of_typed_die(src->tt, (Dwarf_Die *)&v->die);
		if (t == TY_NONE || !has_pointers(src->tt, t))
			continue;
		add_var_root(src, v, t, v->value + src->ms->mods[v->mod].dw_bias, ROOT_GLOBAL, 0,
			     out);
	}
}

static void descriptors(const struct root_source *src, struct root_list *out)
{
	uint32_t t = ty_by_name(src->tt, "struct pthread");
	uint64_t size;

	if (t == TY_NONE || !(size = ty_get(src->tt, t)->size))
		return;
	for (size_t th = 0; th < src->image->nr_threads; th++) {
		taddr_t tp = src->image->threads[th].regs.fs_base;
		struct root r = {
			.kind = ROOT_TLS, .what = ROOT_IS_DESCRIPTOR,
			.tid = src->image->threads[th].tid, .type = t,
			.start = tp, .end = tp + size,
		};

		if (tp)
			root_list_add(out, &r);
	}
}

void roots_tls(const struct root_source *src, struct root_list *out)
{
	uint64_t *offset = xcalloc(src->ms->nr_mods + 1, sizeof(*offset));

	tls_module_offsets(src->image, src->ms, src->idx, offset);
	descriptors(src, out);
	for (size_t i = 0; i < src->idx->nr_vars; i++) {
		const struct dw_var *v = &src->idx->vars[i];
		uint32_t t;

		if (!v->tls || !offset[v->mod])
			continue;
		t = ty_of_typed_die(src->tt, (Dwarf_Die *)&v->die);
		if (t == TY_NONE || !has_pointers(src->tt, t))
			continue;
		for (size_t th = 0; th < src->image->nr_threads; th++) {
			taddr_t tp = src->image->threads[th].regs.fs_base;

			if (tp)
				add_var_root(src, v, t, tp - offset[v->mod] + v->value, ROOT_TLS,
					     src->image->threads[th].tid, out);
		}
	}
	free(offset);
}
