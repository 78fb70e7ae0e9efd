/*
 * cxx.c - C++ rules: objects typed by their vtable, and the node types of
 * libstdc++'s containers.
 *
 * Vtables. Every _ZTV symbol of every module, demangled with
 * __cxa_demangle ("vtable for ns::Cls"), names a class. A live chunk whose
 * first word points into a vtable (past its offset-to-top and typeinfo
 * words, 8-aligned) is an object of that class, whatever pointed to it:
 * the highest rank. A class without DWARF still gets a name-only type.
 *
 * Container nodes. Standard containers link their nodes through pointers
 * to a base (std::_Rb_tree_node_base, std::__detail::_Hash_node_base,
 * std::__detail::_List_node_base), while the nodes are instances of a
 * template deriving from it (std::_Rb_tree_node<V>). In a struct S whose
 * template arguments (its own and those of the structs it holds) include
 * every template argument of exactly one struct N deriving from the base
 * (same parameter name, same type: libstdc++ names them alike, _Val in
 * _Rb_tree and _Rb_tree_node, _Value in _Hashtable and _Hash_node),
 * a pointer to the base points to an N: in std::map<K, V> the tree's
 * _Rb_tree<K, pair<const K, V>, ...> makes it _Rb_tree_node<pair<const K,
 * V>>, and inside that node _M_left, _M_right and _M_parent do the same.
 * Type identity, not names, decides (ids from the type table). Failing a
 * match by parameter name and type, a match by type alone counts
 * (_Rb_tree_iterator<_Tp> holds _Rb_tree_node<_Val>). Two candidates
 * (_Hash_node<V, false> and <V, true>) are both kept: the chunk's size
 * decides when typing (engine.c pick_by_size).
 */
#include "config.h"
#include "typing/typing-internal.h"
#include "debuginfo/modset.h"
#include "util/le.h"
#include "util/xalloc.h"

#include <gelf.h>
#include <stdlib.h>
#include <string.h>

char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

/* ---- container node types ---------------------------------------------------- */

/* Does the (name, type) argument pair occur in the set? */
static bool has_targ(struct typer *ty, const uint32_t *types, const uint32_t *names, size_t n,
		     uint32_t type, uint32_t name)
{
	for (size_t k = 0; k < n; k++)
		if (types[k] == type &&
		    (!names || !strcmp(ty->tt.strs[names[k]], ty->tt.strs[name])))
			return true;
	return false;
}

void typer_retype_containers(struct typer *ty)
{
	size_t n = ty->tt.nr;
	uint32_t *eff = NULL, *effn = NULL;
	size_t alloc = 0;

	for (size_t id = 0; id < n; id++) {
		struct ty *s = ty_get(&ty->tt, (uint32_t)id);
		size_t ne = 0;

		if ((s->kind != TY_STRUCT && s->kind != TY_UNION) || !s->nr_slots)
			continue;
		/* effective template arguments: S's and its members' */
		for (uint32_t e = 0; e <= s->nr_embeds; e++) {
			struct ty *src = e == s->nr_embeds ? s : ty_get(&ty->tt, s->embeds[e].type);

			for (uint32_t k = 0; k < src->nr_targs; k++) {
				if (ne == alloc) {
					alloc = alloc ? 2 * alloc : 16;
					eff = xrealloc(eff, alloc * sizeof(*eff));
					effn = xrealloc(effn, alloc * sizeof(*effn));
				}
				effn[ne] = src->targ_names[k];
				eff[ne++] = src->targs[k];
			}
		}
		if (!ne)
			continue;
		for (uint32_t k = 0; k < s->nr_slots; k++) {
			struct ty_slot *sl = &s->slots[k];
			const struct ty_list *l;
			uint32_t pick[2] = { TY_NONE, TY_NONE };
			unsigned found = 0;

			if (ty_get(&ty->tt, sl->pointee)->kind != TY_STRUCT ||
			    !(l = ty_embedders(&ty->tt, sl->pointee, 0)))
				continue;
			for (int by_name = 1; by_name >= 0 && !found; by_name--) {
				for (size_t c = 0; c < l->nr; c++) {
					struct ty *cand = ty_get(&ty->tt, l->types[c]);
					bool all = cand->nr_targs > 0;

					for (uint32_t a = 0; a < cand->nr_targs && all; a++)
						all = has_targ(ty, eff, by_name ? effn : NULL, ne,
							       cand->targs[a], cand->targ_names[a]);
					if (!all || l->types[c] == pick[0] || l->types[c] == pick[1])
						continue;
					if (found < 2)
						pick[found] = l->types[c];
					found++;
				}
			}
			if (found == 1 || found == 2) {
				sl->pointee = pick[0];
				sl->alt = found == 2 ? pick[1] : TY_NONE;
			}
		}
	}
	free(eff);
	free(effn);
}

/* ---- vtables ---------------------------------------------------------------- */

static int cmp_vt(const void *a, const void *b)
{
	const struct vtable_sym *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static void load_vtables(struct typer *ty)
{
	size_t alloc = 0;

	for (size_t m = 0; m < ty->ms->nr_mods; m++) {
		Dwfl_Module *mod = ty->ms->mods[m].mod;
		int n = mod ? dwfl_module_getsymtab(mod) : 0;

		for (int i = 0; i < n; i++) {
			GElf_Sym sym;
			GElf_Addr addr;
			const char *name = dwfl_module_getsym_info(mod, i, &sym, &addr, NULL,
								   NULL, NULL);
			char *dem;
			int status = -1;

			if (!name || strncmp(name, "_ZTV", 4) || sym.st_shndx == SHN_UNDEF ||
			    sym.st_size < 16)
				continue;
			dem = __cxa_demangle(name, NULL, NULL, &status);
			if (!dem || status != 0 || strncmp(dem, "vtable for ", 11)) {
				free(dem);
				continue;
			}
			ALLOC_GROW(ty->vtables, ty->nr_vtables + 1, alloc);
			ty->vtables[ty->nr_vtables++] = (struct vtable_sym){
				.start = addr, .end = addr + sym.st_size,
				.cls = ty_named(&ty->tt, dem + 11, 0),
			};
			free(dem);
		}
	}
	if (ty->nr_vtables)
		qsort(ty->vtables, ty->nr_vtables, sizeof(*ty->vtables), cmp_vt);
}

/* The class whose vtable V points into, or TY_NONE. */
static uint32_t vtable_class(struct typer *ty, taddr_t v)
{
	size_t lo = 0, hi = ty->nr_vtables;
	const struct vtable_sym *s;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (ty->vtables[mid].start < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* the vtable whose start is below v */
	if (lo == 0)
		return TY_NONE;
	s = &ty->vtables[lo - 1];
	if (v >= s->end || (v - s->start) % 8 || v - s->start < 16)
		return TY_NONE;
	return s->cls;
}

void typer_type_by_vtables(struct typer *ty)
{
	if (!ty->ms)
		return;
	load_vtables(ty);
	for (size_t k = 0; ty->nr_vtables && k < ty->nr_live; k++) {
		uint32_t i = ty->live[k];
		taddr_t start;
		uint64_t len, v;
		const uint8_t *p;
		uint32_t cls;

		typer_user_area(ty, i, &start, &len);
		p = typer_mem(ty, start, 8);
		if (!p)
			continue;
		v = get_le64(p);
		cls = vtable_class(ty, v);
		if (cls == TY_NONE || ty_get(&ty->tt, cls)->size > len)
			continue;
		typer_set_type(ty, i, cls, false, RANK_VTABLE,
			       (struct typed_origin){ .kind = TYPED_FROM_VTABLE }, TY_NONE, 0);
	}
}

void typer_free_vtables(struct typer *ty)
{
	free(ty->vtables);
	ty->vtables = NULL;
	ty->nr_vtables = 0;
}
