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
 * template deriving from it (std::_Rb_tree_node<V>). For a pointer to the
 * base at offset o of a struct S, the template arguments of the structs
 * enclosing o are taken from the innermost out (those of one size
 * together, S's own last); at the first step where they include every
 * template argument of exactly one node N deriving from the base
 * (of the node template's name: the container itself holds the base too)
 * (same parameter name, same type: libstdc++ names them alike, _Val in
 * _Rb_tree and _Rb_tree_node, _Value in _Hashtable and _Hash_node),
 * the pointer points to an N. Innermost first, because a struct holding
 * two maps, or a map whose values are maps, holds the arguments of
 * several trees, and only the enclosing one's are this link's (cupt's
 * cache of std::map<string, std::map<string, string>> and its other
 * containers). In std::map<K, V> the tree's
 * _Rb_tree<K, pair<const K, V>, ...> makes it _Rb_tree_node<pair<const K,
 * V>>, and inside that node _M_left, _M_right and _M_parent do the same.
 * Type identity, not names, decides (ids from the type table). Failing a
 * match by parameter name and type, a match by type alone counts
 * (_Rb_tree_iterator<_Tp> holds _Rb_tree_node<_Val>). Two candidates
 * (_Hash_node<V, false> and <V, true>) are both kept: the chunk's size
 * decides when typing (engine.c pick_by_size). A pointer to one of the
 * node bases that no rule retargeted types nothing: libstdc++ never
 * allocates a bare node base (the containers' own sentinels are members
 * of the container object), so such a chunk is a node of a type the
 * rule could not tell.
 *
 * Values in byte buffers. libstdc++ keeps a node's value in
 * __gnu_cxx::__aligned_membuf<V> or __aligned_buffer<V>, a byte array in
 * the DWARF: _Rb_tree_node<V>, _List_node<V>, _Fwd_list_node<V>,
 * _Hash_node_value_base<V>, the object inside a make_shared control block
 * (_Sp_counted_ptr_inplace<T, ...>::_Impl), variant's _Uninitialized<T,
 * false>. As gdb's libstdc++ printers do (they read the buffer as the
 * template argument), every struct that holds such a buffer, at any
 * depth, gets V's pointers, embedded structs and non-pointer ranges at
 * the buffer's offset, in place of the byte array's: a map node's key
 * string and mapped pointer are followed, a make_shared object is an
 * embedded struct of its control block (its T * points inside the
 * block). Declines: a buffer whose template argument is missing, or
 * bigger than the buffer (a hostile or unusual DWARF), stays bytes.
 *
 * std::string, std::vector, std::deque, std::unique_ptr and shared_ptr
 * with a separate control block need nothing of their own: their members
 * are typed pointers (char *, T *, T **, T *, _Sp_counted_base *), and a
 * control block is typed by its vtable. A std::string's pointer to its
 * own inline buffer points into the object that holds it: engine.c
 * ignores a pointer into the chunk being scanned unless it is to a struct.
 */
#include "config.h"
#include "typing/typing-internal.h"
#include "debuginfo/modset.h"
#include "util/le.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <gelf.h>
#include <stdlib.h>
#include <string.h>

char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

/* ---- container node types ---------------------------------------------------- */

/* libstdc++'s node bases and the node templates deriving from them. */
static const char *const node_bases[TYPER_NODE_BASES][2] = {
	{ "std::_Rb_tree_node_base", "std::_Rb_tree_node<" },
	{ "std::__detail::_Hash_node_base", "std::__detail::_Hash_node<" },
	{ "std::__detail::_List_node_base", "std::_List_node<" },
	{ "std::_Fwd_list_node_base", "std::_Fwd_list_node<" },
};

void typer_note_node_bases(struct typer *ty)
{
	for (size_t k = 0; k < TYPER_NODE_BASES; k++)
		ty->node_base[k] = ty_by_name(&ty->tt, node_bases[k][0]);
}

/* The name prefix of the nodes deriving from node base T, or NULL. */
static const char *node_template(struct typer *ty, uint32_t t)
{
	for (size_t k = 0; k < TYPER_NODE_BASES; k++)
		if (ty->node_base[k] == t && t != TY_NONE)
			return node_bases[k][1];
	return NULL;
}

bool typer_is_node_template(struct typer *ty, uint32_t t)
{
	const char *name = ty_get(&ty->tt, t)->name;

	for (size_t k = 0; k < TYPER_NODE_BASES; k++)
		if (!strncmp(name, node_bases[k][1], strlen(node_bases[k][1])))
			return true;
	return false;
}

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

/* Growable template-argument set: types and their parameter names. */
struct targ_set {
	uint32_t *type, *name;
	size_t nr, alloc;
};

static void targs_add(struct targ_set *e, const struct ty *src)
{
	for (uint32_t k = 0; k < src->nr_targs; k++) {
		if (e->nr == e->alloc) {
			e->alloc = e->alloc ? 2 * e->alloc : 16;
			e->type = xrealloc(e->type, e->alloc * sizeof(*e->type));
			e->name = xrealloc(e->name, e->alloc * sizeof(*e->name));
		}
		e->name[e->nr] = src->targ_names[k];
		e->type[e->nr++] = src->targs[k];
	}
}

/* The node structs (prefix NODE, deriving from the base, embedders list L)
 * whose every template argument is in E: how many, the first two in PICK. */
static unsigned match_nodes(struct typer *ty, const struct ty_list *l, const char *node,
			    const struct targ_set *e, bool by_name, uint32_t pick[2])
{
	unsigned found = 0;

	pick[0] = pick[1] = TY_NONE;
	for (size_t c = 0; c < l->nr; c++) {
		struct ty *cand = ty_get(&ty->tt, l->types[c]);
		bool all = cand->nr_targs > 0 && !strncmp(cand->name, node, strlen(node));

		for (uint32_t a = 0; a < cand->nr_targs && all; a++)
			all = has_targ(ty, e->type, by_name ? e->name : NULL, e->nr,
				       cand->targs[a], cand->targ_names[a]);
		if (!all || l->types[c] == pick[0] || l->types[c] == pick[1])
			continue;
		if (found < 2)
			pick[found] = l->types[c];
		found++;
	}
	return found;
}

/*
 * The node type for slot SL of S: the template arguments of the structs
 * enclosing the slot are added from the innermost out (then S's own), and
 * the first step at which some node matches decides (a map inside a map's
 * value is its own tree: the inner _Rb_tree's _Val is met before the
 * outer node's, and another map member of S never encloses the slot).
 */
static void retype_slot(struct typer *ty, struct ty *s, struct ty_slot *sl, struct targ_set *e)
{
	const char *node = node_template(ty, sl->pointee);
	const struct ty_list *l;
	uint32_t pick[2];
	unsigned found = 0;
	uint64_t last = 0;

	if (!node || !(l = ty_embedders(&ty->tt, sl->pointee, 0)))
		return;
	/* by parameter name and type first, at every level; then by type */
	for (int by_name = 1; by_name >= 0 && !found; by_name--) {
		last = 0;
		e->nr = 0;
		/* enclosing embeds by size, smallest first (those of one size, as a
		 * std::map and the _Rb_tree it is made of, together); S last */
		for (;;) {
			uint64_t best = UINT64_MAX;
			bool any = false;

			for (uint32_t k = 0; k < s->nr_embeds; k++) {
				uint64_t sz = ty_get(&ty->tt, s->embeds[k].type)->size;

				if (s->embeds[k].off <= sl->off && sl->off < s->embeds[k].off + sz &&
				    sz > last && sz < best)
					best = sz;
			}
			if (best == UINT64_MAX) {
				targs_add(e, s);
				any = s->nr_targs > 0;
			} else {
				for (uint32_t k = 0; k < s->nr_embeds; k++) {
					const struct ty *et = ty_get(&ty->tt, s->embeds[k].type);

					if (s->embeds[k].off <= sl->off && sl->off < s->embeds[k].off + et->size &&
					    et->size == best && et->nr_targs) {
						targs_add(e, et);
						any = true;
					}
				}
			}
			last = best;
			if (any)
				found = match_nodes(ty, l, node, e, by_name, pick);
			if (found || best == UINT64_MAX)
				break;
		}
	}
	if (found == 1 || found == 2) {
		sl->pointee = pick[0];
		sl->alt = found == 2 ? pick[1] : TY_NONE;
	}
}

void typer_retype_containers(struct typer *ty)
{
	struct targ_set e = { 0 };

	for (size_t id = 0; id < ty->tt.nr; id++) {
		struct ty *s = ty_get(&ty->tt, (uint32_t)id);

		if ((s->kind != TY_STRUCT && s->kind != TY_UNION) || !s->nr_slots)
			continue;
		for (uint32_t k = 0; k < s->nr_slots; k++)
			retype_slot(ty, s, &s->slots[k], &e);
	}
	free(e.type);
	free(e.name);
}


/* ---- values in libstdc++'s byte buffers -------------------------------------- */

static bool is_value_buffer(const struct ty *b)
{
	return (b->kind == TY_STRUCT || b->kind == TY_UNION) && b->nr_targs >= 1 &&
	       (!strncmp(b->name, "__gnu_cxx::__aligned_membuf<", 28) ||
		!strncmp(b->name, "__gnu_cxx::__aligned_buffer<", 28));
}

/* Forget S's non-pointer ranges that overlap [OFF, OFF + LEN). */
static void drop_nonptr(struct ty *s, uint64_t off, uint64_t len)
{
	uint32_t n = 0;

	for (uint32_t k = 0; k < s->nr_nonptr; k++) {
		const struct ty_range *r = &s->nonptr[k];

		if (r->off + r->len <= off || r->off >= off + len)
			s->nonptr[n++] = *r;
	}
	s->nr_nonptr = n;
}

enum { EXPAND_TODO, EXPAND_BUSY, EXPAND_DONE };

static void expand_buffers(struct ty_table *tt, uint32_t id, uint8_t *state, int depth);

/* Put value type V's pointers, embeds and non-pointer ranges into S at
 * OFF (the place of a buffer of BSIZE bytes). */
static void value_into(struct ty_table *tt, uint32_t id, uint32_t v, uint64_t off,
		       uint64_t bsize, uint8_t *state, int depth)
{
	struct ty *vt = ty_get(tt, v);
	struct strbuf sb = STRBUF_INIT;

	if (!vt->size || vt->size > bsize)
		return;
	if (vt->kind == TY_PTR) {
		drop_nonptr(ty_get(tt, id), off, bsize);
		if (vt->pointee != TY_NONE && ty_get(tt, vt->pointee)->kind != TY_OTHER)
			ty_add_slot(tt, id, off, 1, 8, vt->pointee, "._M_storage", 0);
		return;
	}
	if ((vt->kind != TY_STRUCT && vt->kind != TY_UNION) || !vt->complete)
		return;
	/* V may hold buffers of its own: them first */
	expand_buffers(tt, v, state, depth + 1);
	drop_nonptr(ty_get(tt, id), off, bsize);
	ty_add_embed(tt, id, off, v);
	for (uint32_t k = 0; k < ty_get(tt, v)->nr_embeds; k++) {
		struct ty_embed e = ty_get(tt, v)->embeds[k];

		ty_add_embed(tt, id, off + e.off, e.type);
	}
	for (uint32_t k = 0; k < ty_get(tt, v)->nr_nonptr; k++) {
		struct ty_range r = ty_get(tt, v)->nonptr[k];

		ty_add_nonptr(tt, id, off + r.off, r.len);
	}
	for (uint32_t k = 0; k < ty_get(tt, v)->nr_slots; k++) {
		struct ty_slot sl = ty_get(tt, v)->slots[k];
		struct ty *s;

		strbuf_reset(&sb);
		strbuf_addf(&sb, "._M_storage%s", tt->strs[sl.member]);
		ty_add_slot(tt, id, off + sl.off, sl.count, sl.stride, sl.pointee, sb.buf,
			    sl.flags | (ty_get(tt, v)->kind == TY_UNION ? SLOT_UNION : 0));
		s = ty_get(tt, id);
		if (s->nr_slots)
			s->slots[s->nr_slots - 1].alt = sl.alt;
	}
	if (ty_get(tt, v)->truncated)
		ty_get(tt, id)->truncated = true;
	strbuf_release(&sb);
}

static void expand_buffers(struct ty_table *tt, uint32_t id, uint8_t *state, int depth)
{
	uint32_t ne;

	if (state[id] != EXPAND_TODO || depth > 8)
		return;
	state[id] = EXPAND_BUSY;
	ne = ty_get(tt, id)->nr_embeds;
	for (uint32_t e = 0; e < ne; e++) {
		struct ty_embed em = ty_get(tt, id)->embeds[e];
		const struct ty *b = ty_get(tt, em.type);
		bool seen = false;

		if (!is_value_buffer(b))
			continue;
		/* the same buffer listed twice (through two paths) */
		for (uint32_t k = 0; k < e && !seen; k++)
			seen = ty_get(tt, id)->embeds[k].off == em.off &&
			       ty_get(tt, id)->embeds[k].type == em.type;
		if (!seen)
			value_into(tt, id, b->targs[0], em.off, b->size, state, depth);
	}
	state[id] = EXPAND_DONE;
}

void typer_cxx_value_buffers(struct ty_table *tt)
{
	size_t n = tt->nr;
	uint8_t *state = xcalloc(n + 1, 1);

	for (size_t id = 0; id < n; id++) {
		const struct ty *s = ty_get(tt, (uint32_t)id);

		if ((s->kind == TY_STRUCT || s->kind == TY_UNION) && s->complete && s->nr_embeds)
			expand_buffers(tt, (uint32_t)id, state, 0);
	}
	free(state);
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
			char *dem, *cls;
			int status = -1;

			if (!name || strncmp(name, "_ZTV", 4) || sym.st_shndx == SHN_UNDEF ||
			    sym.st_size < 16)
				continue;
			dem = __cxa_demangle(name, NULL, NULL, &status);
			if (!dem || status != 0 || strncmp(dem, "vtable for ", 11)) {
				free(dem);
				continue;
			}
			/* spelt as the DWARF's names are (std::string) */
			cls = xstrdup(dem + 11);
			free(dem);
			cls = ty_pretty_cxx(cls);
			ALLOC_GROW(ty->vtables, ty->nr_vtables + 1, alloc);
			ty->vtables[ty->nr_vtables++] = (struct vtable_sym){
				.start = addr, .end = addr + sym.st_size,
				.cls = ty_named(&ty->tt, cls, 0),
			};
			free(cls);
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
