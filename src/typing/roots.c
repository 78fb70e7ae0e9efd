/*
 * roots.c - where typed pointers into the heap start: global and static
 * variables, TLS variables, C++ vtables; and the indexes typing needs
 * (struct definitions by name, structs by embedded member).
 *
 * One pass over every CU of every module with DWARF (typer_index_modules)
 * registers the struct/class/union definitions (so that a pointer to an
 * opaque declaration in one CU finds the definition in another) and
 * collects the variables whose location is a fixed address (DW_OP_addr:
 * globals, file statics, function statics) or a TLS offset
 * (DW_OP_const*u; DW_OP_form_tls_address or DW_OP_GNU_push_tls_address).
 * Then every definition is converted, which fills the embed index:
 * (type M, offset o) -> the structs that hold an M at o, directly or
 * nested; the engine uses it for interior pointers and header structs.
 *
 * A variable is read from the image; a variable whose bytes the image does
 * not hold (read-only data, RELRO) cannot point into the heap in a way
 * typing could use and is skipped.
 *
 * TLS: a variable at offset X of the executable's TLS block is at
 * fs_base - tls_offset + X in each thread (modset.c explains
 * tls_offset). Shared libraries' TLS offsets are unknown (0) and skipped.
 *
 * Vtables: every _ZTV symbol of every module, demangled with
 * __cxa_demangle ("vtable for ns::Cls"), names a class; typer_vtable_class
 * maps a pointer into one to the class's type (a name-only type when the
 * class has no DWARF).
 */
#include "config.h"
#include "typing/typing-internal.h"
#include "debuginfo/modset.h"
#include "target/target.h"
#include "util/strbuf.h"
#include "util/u64map.h"
#include "util/xalloc.h"

#include <dwarf.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>

char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

struct var {
	Dwarf_Die die;
	uint64_t value;		/* address (globals) or TLS offset */
	uint32_t mod;
	bool tls;
};

struct index_state {
	struct embed_list *lists;
	size_t nr_lists, alloc_lists;
	struct u64map map;	/* (type << 24 | off) -> list index */
	struct var *vars;
	size_t nr_vars, alloc_vars;
	Dwarf_Die *defs;
	size_t nr_defs, alloc_defs;
};

static struct index_state *ist(struct typer *ty)
{
	if (!ty->embed_index)
		ty->embed_index = xcalloc(1, sizeof(struct index_state));
	return ty->embed_index;
}

/* ---- variables -------------------------------------------------------------- */

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

static void add_var(struct typer *ty, Dwarf_Die *die, uint32_t mod)
{
	struct index_state *s = ist(ty);
	uint64_t value;
	bool tls;

	if (dwarf_hasattr(die, DW_AT_declaration) || !var_location(die, &value, &tls))
		return;
	if (s->nr_vars == s->alloc_vars) {
		s->alloc_vars = s->alloc_vars ? 2 * s->alloc_vars : 1024;
		s->vars = xrealloc(s->vars, s->alloc_vars * sizeof(*s->vars));
	}
	s->vars[s->nr_vars++] = (struct var){ *die, value, mod, tls };
}

static void add_def(struct typer *ty, Dwarf_Die *die)
{
	struct index_state *s = ist(ty);

	if (dwarf_hasattr(die, DW_AT_declaration))
		return;
	ty_register_definition(&ty->tt, die);
	if (s->nr_defs == s->alloc_defs) {
		s->alloc_defs = s->alloc_defs ? 2 * s->alloc_defs : 1024;
		s->defs = xrealloc(s->defs, s->alloc_defs * sizeof(*s->defs));
	}
	s->defs[s->nr_defs++] = *die;
}

/* Walk the children of DIE: namespaces and functions are descended into
 * (function statics), types are registered, variables collected. */
static void walk_scope(struct typer *ty, Dwarf_Die *die, uint32_t mod, const char *prefix,
		       bool cxx, int depth)
{
	Dwarf_Die child;

	if (depth > 16 || dwarf_child(die, &child) != 0)
		return;
	do {
		int tag = dwarf_tag(&child);
		const char *n;

		switch (tag) {
		case DW_TAG_variable:
			add_var(ty, &child, mod);
			break;
		case DW_TAG_structure_type:
		case DW_TAG_class_type:
		case DW_TAG_union_type:
			n = dwarf_diename(&child);
			if (cxx && n) {
				struct strbuf q = STRBUF_INIT;

				strbuf_addf(&q, "%s%s", prefix, n);
				ty_register_qualified(&ty->tt, &child, q.buf);
				strbuf_release(&q);
			}
			add_def(ty, &child);
			break;
		case DW_TAG_namespace: {
			struct strbuf q = STRBUF_INIT;

			n = dwarf_diename(&child);
			strbuf_addf(&q, "%s%s::", prefix, n ? n : "(anonymous namespace)");
			walk_scope(ty, &child, mod, q.buf, cxx, depth + 1);
			strbuf_release(&q);
			break;
		}
		case DW_TAG_subprogram:
		case DW_TAG_lexical_block:
			/* function statics live at DW_OP_addr too */
			walk_scope(ty, &child, mod, prefix, cxx, depth + 1);
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

static void embed_add(struct typer *ty, uint32_t m, uint64_t off, uint32_t owner)
{
	struct index_state *s = ist(ty);
	uint64_t key = ((uint64_t)(m + 1) << 24) | (off & 0xffffff);
	uint32_t li;
	struct embed_list *l;

	if (off > 0xffffff)
		return;
	if (!u64map_get(&s->map, key, &li)) {
		if (s->nr_lists == s->alloc_lists) {
			s->alloc_lists = s->alloc_lists ? 2 * s->alloc_lists : 256;
			s->lists = xrealloc(s->lists, s->alloc_lists * sizeof(*s->lists));
		}
		li = (uint32_t)s->nr_lists++;
		memset(&s->lists[li], 0, sizeof(s->lists[li]));
		u64map_put(&s->map, key, li);
	}
	l = &s->lists[li];
	for (size_t k = 0; k < l->nr; k++)
		if (l->types[k] == owner)
			return;
	if (l->nr == l->alloc) {
		l->alloc = l->alloc ? 2 * l->alloc : 4;
		l->types = xrealloc(l->types, l->alloc * sizeof(*l->types));
	}
	l->types[l->nr++] = owner;
}

struct embed_list *typer_embedders(struct typer *ty, uint32_t type, uint64_t off)
{
	struct index_state *s = ist(ty);
	uint32_t li;

	if (off > 0xffffff ||
	    !u64map_get(&s->map, ((uint64_t)(type + 1) << 24) | off, &li))
		return NULL;
	return &s->lists[li];
}

void typer_index_modules(struct typer *ty)
{
	struct index_state *s = ist(ty);
	size_t done;

	for (size_t m = 0; m < ty->ms->nr_mods; m++) {
		Dwarf *dw = ty->ms->mods[m].dw;
		Dwarf_Off off = 0, next;
		size_t hsize;

		if (!dw)
			continue;
		while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
			Dwarf_Die cu;

			if (dwarf_offdie(dw, off + hsize, &cu))
				walk_scope(ty, &cu, (uint32_t)m, "", lang_cxx(&cu), 0);
			off = next;
		}
	}
	/* convert every definition: fills the embed lists */
	for (size_t i = 0; i < s->nr_defs; i++)
		(void)ty_of_die(&ty->tt, &s->defs[i]);
	done = ty->tt.nr;
	for (size_t id = 0; id < done; id++) {
		struct ty *t = ty_get(&ty->tt, (uint32_t)id);

		if ((t->kind != TY_STRUCT && t->kind != TY_UNION) || !t->complete)
			continue;
		for (uint32_t e = 0; e < t->nr_embeds; e++)
			embed_add(ty, t->embeds[e].type, t->embeds[e].off, (uint32_t)id);
	}
}

/* ---- roots ----------------------------------------------------------------- */

uint32_t typer_add_root(struct typer *ty, const char *name)
{
	if (ty->nr_roots == ty->alloc_roots) {
		ty->alloc_roots = ty->alloc_roots ? 2 * ty->alloc_roots : 256;
		ty->roots = xrealloc(ty->roots, ty->alloc_roots * sizeof(*ty->roots));
	}
	ty->roots[ty->nr_roots] = xstrdup(name);
	return TYPER_ROOT_BASE + (uint32_t)ty->nr_roots++;
}

const char *typer_root_name(struct typer *ty, uint32_t root)
{
	return root < ty->nr_roots ? ty->roots[root] : "?";
}

static bool has_pointers(struct typer *ty, uint32_t t)
{
	for (int d = 0; d < 8 && t != TY_NONE; d++) {
		struct ty *tp = ty_get(&ty->tt, t);

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

/* Scan the variable V of TYPE at ADDR as a root named by KIND. */
static void scan_var(struct typer *ty, struct var *v, uint32_t t, taddr_t addr,
		     const char *kind, int tid)
{
	struct ty *tp = ty_get(&ty->tt, t);
	uint64_t size = tp->kind == TY_PTR ? 8 : tp->size;
	const uint8_t *p;
	struct strbuf name = STRBUF_INIT;
	const char *vn = dwarf_diename(&v->die);

	if (!size || size > (1u << 30) || !(p = typer_mem(ty, addr, size)))
		return;
	if (tid)
		strbuf_addf(&name, "%s %s (%s, thread %d)", kind, vn ? vn : "?",
			    base_name(ty->ms->mods[v->mod].path), tid);
	else
		strbuf_addf(&name, "%s %s (%s)", kind, vn ? vn : "?",
			    base_name(ty->ms->mods[v->mod].path));
	typer_scan_object(ty, t, p, size, typer_add_root(ty, name.buf), 0);
	strbuf_release(&name);
}

static uint32_t var_type(struct typer *ty, struct var *v)
{
	Dwarf_Attribute a;
	Dwarf_Die td;

	if (!dwarf_attr_integrate(&v->die, DW_AT_type, &a) || !dwarf_formref_die(&a, &td))
		return TY_NONE;
	return ty_of_die(&ty->tt, &td);
}

void typer_scan_globals(struct typer *ty)
{
	struct index_state *s = ist(ty);

	for (size_t i = 0; i < s->nr_vars; i++) {
		struct var *v = &s->vars[i];
		uint32_t t;

		if (v->tls)
			continue;
		t = var_type(ty, v);
		if (t == TY_NONE || !has_pointers(ty, t))
			continue;
		scan_var(ty, v, t, v->value + ty->ms->mods[v->mod].dw_bias, "global", 0);
	}
}

static void tls_offsets_from_link_maps(struct typer *ty);

/* Each thread's descriptor (glibc's struct pthread, at the thread pointer:
 * nptl/descr.h) is a root: its dtv and other pointers reach chunks glibc
 * allocated for the thread. Needs libc's DWARF for the layout. */
static void thread_descriptors(struct typer *ty)
{
	uint32_t t = ty_by_name(&ty->tt, "struct pthread");
	uint64_t size;

	if (t == TY_NONE || !(size = ty_get(&ty->tt, t)->size))
		return;
	for (size_t th = 0; th < ty->image->nr_threads; th++) {
		taddr_t fs = ty->image->threads[th].regs.fs_base;
		const uint8_t *p;
		struct strbuf name = STRBUF_INIT;

		if (!fs || !(p = typer_mem(ty, fs, size)))
			continue;
		strbuf_addf(&name, "thread %d descriptor (struct pthread)",
			    ty->image->threads[th].tid);
		typer_scan_object(ty, t, p, size, typer_add_root(ty, name.buf), 0);
		strbuf_release(&name);
	}
}

void typer_scan_tls(struct typer *ty)
{
	struct index_state *s = ist(ty);

	tls_offsets_from_link_maps(ty);
	thread_descriptors(ty);
	for (size_t i = 0; i < s->nr_vars; i++) {
		struct var *v = &s->vars[i];
		struct modset_module *m = &ty->ms->mods[v->mod];
		uint32_t t;

		if (!v->tls || !m->tls_offset)
			continue;
		t = var_type(ty, v);
		if (t == TY_NONE || !has_pointers(ty, t))
			continue;
		for (size_t th = 0; th < ty->image->nr_threads; th++) {
			taddr_t fs = ty->image->threads[th].regs.fs_base;

			if (!fs)
				continue;
			scan_var(ty, v, t, fs - m->tls_offset + v->value, "TLS",
				 ty->image->threads[th].tid);
		}
	}
}

/* ---- TLS offsets from the dynamic linker's link_map list ------------------- */

/* Offset of member NAME in struct DIE, or false. */
static bool member_off(Dwarf_Die *die, const char *name, uint64_t *off)
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
		*off = v;
		return true;
	} while (dwarf_siblingof(&child, &child) == 0);
	return false;
}

static bool module_symbol(struct modset_module *m, const char *name, taddr_t *ret)
{
	int n = m->mod ? dwfl_module_getsymtab(m->mod) : 0;

	for (int i = 0; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *s = dwfl_module_getsym_info(m->mod, i, &sym, &addr, NULL, NULL, NULL);

		if (s && !strcmp(s, name) && sym.st_shndx != SHN_UNDEF) {
			*ret = addr;
			return true;
		}
	}
	return false;
}

/*
 * Every module's static TLS offset, read from ld.so's own records: _r_debug
 * (struct r_debug: int r_version; struct link_map *r_map at 8) starts the
 * list of link_maps, whose internal layout (l_addr, l_next, l_tls_offset)
 * comes from ld.so's DWARF (the internal struct link_map of glibc's
 * include/link.h, in libc6-dbg). A module whose l_addr is its bias gets
 * its l_tls_offset (0 and -1 mean no static TLS block). Without ld.so's
 * DWARF only the executable's offset (modset.c) is known.
 */
static void tls_offsets_from_link_maps(struct typer *ty)
{
	struct index_state *s = ist(ty);
	struct modset_module *ld = NULL;
	Dwarf_Die lm;
	bool found = false;
	uint64_t o_addr, o_next, o_tls;
	taddr_t r_debug, map;

	for (size_t m = 0; m < ty->ms->nr_mods; m++) {
		const char *b = strrchr(ty->ms->mods[m].path, '/');

		if (b && !strncmp(b + 1, "ld-linux", 8) && ty->ms->mods[m].dw)
			ld = &ty->ms->mods[m];
	}
	if (!ld)
		return;
	for (size_t i = 0; i < s->nr_defs && !found; i++) {
		const char *n = dwarf_diename(&s->defs[i]);
		uint64_t dummy;

		if (n && !strcmp(n, "link_map") && dwarf_cu_getdwarf(s->defs[i].cu) == ld->dw &&
		    member_off(&s->defs[i], "l_tls_offset", &dummy)) {
			lm = s->defs[i];
			found = true;
		}
	}
	if (!found || !member_off(&lm, "l_addr", &o_addr) ||
	    !member_off(&lm, "l_next", &o_next) || !member_off(&lm, "l_tls_offset", &o_tls) ||
	    !module_symbol(ld, "_r_debug", &r_debug) ||
	    target_read_u64(ty->image, r_debug + 8, &map) != 0)
		return;
	for (int n = 0; map && n < 4096; n++) {
		uint64_t l_addr, tls;

		if (target_read_u64(ty->image, map + o_addr, &l_addr) != 0 ||
		    target_read_u64(ty->image, map + o_tls, &tls) != 0)
			return;
		for (size_t m = 0; m < ty->ms->nr_mods; m++) {
			struct modset_module *mm = &ty->ms->mods[m];

			if (mm->bias == l_addr && mm->tls_memsz && tls && tls != UINT64_MAX)
				mm->tls_offset = tls;
		}
		if (target_read_u64(ty->image, map + o_next, &map) != 0)
			return;
	}
}

/* ---- vtables ---------------------------------------------------------------- */

static int cmp_vt(const void *a, const void *b)
{
	const struct vtable_sym *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

void typer_load_vtables(struct typer *ty)
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
			if (ty->nr_vtables == alloc) {
				alloc = alloc ? 2 * alloc : 64;
				ty->vtables = xrealloc(ty->vtables, alloc * sizeof(*ty->vtables));
			}
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

uint32_t typer_vtable_class(struct typer *ty, taddr_t v)
{
	size_t lo = 0, hi = ty->nr_vtables;

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
	{
		struct vtable_sym *s = &ty->vtables[lo - 1];

		if (v >= s->end || (v - s->start) % 8 || v - s->start < 16)
			return TY_NONE;
		return s->cls;
	}
}

void typer_free(struct typer *ty)
{
	struct index_state *s = ty->embed_index;

	if (s) {
		for (size_t i = 0; i < s->nr_lists; i++) {
			free(s->lists[i].types);
		}
		free(s->lists);
		u64map_release(&s->map);
		free(s->vars);
		free(s->defs);
		free(s);
	}
	for (size_t i = 0; i < ty->nr_roots; i++)
		free(ty->roots[i]);
	for (size_t i = 0; i < ty->nr_conflict_examples; i++)
		free(ty->conflict_examples[i]);
	free(ty->roots);
	free(ty->vtables);
	modset_free(ty->ms);
	ty_table_free(&ty->tt);
	free(ty->live);
	free(ty->type);
	free(ty->rank);
	free(ty->array);
	free(ty->prefix);
	free(ty->inferred);
	free(ty->in_queue);
	free(ty->from);
	free(ty->member);
	free(ty->queue);
	free(ty->deferred);
	free(ty->buf);
	free(ty);
}
