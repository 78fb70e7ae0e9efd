/*
 * objmodel.c - objects typed by their type object (CPython's object
 * model).
 *
 * In an interpreter like CPython every reference is a pointer to a
 * generic header (PyObject *), and what an object is, its name and its
 * size, is said by a type object the header points to (ob_type, with
 * tp_name, tp_basicsize, tp_itemsize). The header's DWARF type says
 * nothing about the rest of the object; the type object says everything.
 *
 * The model is found in the DWARF, not by program name
 * (typer_objmodel_init): a struct T with a `char *` member whose name ends
 * in "name" and 8-byte integer members whose names end in "basicsize"
 * and "itemsize", that begins with a struct H (embeds it at offset 0)
 * which has a pointer member to T: H is the header, that member the type
 * word. CPython: struct _object (ob_type at 8) and struct _typeobject.
 *
 * A type object (type_object): an address whose type word leads, in at
 * most 4 steps, to a type object that is its own type (CPython's `type`),
 * every metatype on the way having instances at least as big as T; with a
 * printable name of 1 to 127 bytes (read from the image, or from the
 * module's file for read-only data: static types' names are string
 * literals) and sane sizes. Only static data of a module or an object in
 * a live chunk (user classes are heap types) can be one; at most
 * MAX_TYPE_OBJECTS are remembered, valid or not.
 *
 * Its concrete struct (concrete): every function pointer member of T
 * (tp_dealloc, tp_repr, ...) that points to a function whose DWARF says
 * what its first parameter points to (by address; for a function the
 * compiler merged with another, by its ELF symbol's name in the same CU)
 * votes for that struct when it begins with H; the largest voted struct
 * no bigger than the instance size (or whose trailing array starts within
 * it, for variable-size objects) wins, then the one struct beginning with
 * it of exactly the instance size, if there is one (`type` votes for
 * PyTypeObject and is PyHeapTypeObject). No vote: H's layout.
 *
 * A pointer to H, or to a struct beginning with H (typer_assign calls
 * typer_objmodel_assign first), that reaches a chunk at offset 0 to
 * TYPER_MAX_PREFIX (a multiple of 8: CPython's GC head and managed-dict
 * pointers come before the object) types the chunk when the type word
 * there is a type object and, when H's first member is an 8-byte integer
 * (a reference count), that count is 1 to 2^40: the row is named after
 * the type object (`dict`, `list`, `Session`), the layout is the
 * concrete struct, the object starts at that offset. A pointer to H that
 * reaches no object types nothing: never H, never H[].
 *
 * What the layout does not describe (typer_objmodel_scan) is read as
 * possible object pointers, each checked the same way: the words past the
 * object's struct (items of variable-size objects, slots of user
 * classes), the prefix before it, and the trailing byte array of a struct
 * DWARF typed (a dict's entries after its index). A prefix word that
 * reaches, at most TYPER_MAX_PREFIX bytes into an untyped chunk, words
 * that are all NULL or object pointers (at least one; the last word may
 * be slack) types it as an array of H * (CPython's managed dict values).
 *
 * Declines: a type word that is no type object (a buffer, an object that
 * is not a type), a count of 0: untyped; a type object with no voting
 * slot keeps H's layout (the row still has the type's name). Shapes
 * (shape.c) never give a row named after a type object.
 */
#include "config.h"
#include "typing/typing-internal.h"
#include "debuginfo/modset.h"
#include "target/target.h"
#include "util/hashmap.h"
#include "util/le.h"
#include "util/xalloc.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>

/* type objects remembered (valid or not) at most */
#define MAX_TYPE_OBJECTS (1u << 20)
/* a reference count above this is no count (CPython's immortal objects
 * are static) */
#define MAX_COUNT (1ull << 40)

struct tobj {
	taddr_t addr;
	bool valid;
	char *name;
	uint64_t basicsize, itemsize;
	uint32_t layout;	/* concrete struct (H when unknown) */
	uint32_t alias;		/* the row: a copy of layout named NAME */
};

struct objmodel {
	uint32_t h, t, hptr;	/* header, type struct, H * */
	uint64_t type_off, name_off, basic_off, item_off;
	bool counted;		/* H begins with a reference count */
	uint32_t *fn_offs;	/* T's function pointer members */
	size_t nr_fn;
	struct hashmap by_addr;	/* type object address -> index + 1 */
	struct hashmap by_alias;	/* alias type id + 1 -> index + 1 */
	/* slot function address -> first_param_struct() + 1 (each asked once:
	 * a function many types share costs one walk of its CU) */
	struct hashmap fn_struct;
	struct tobj *objs;
	size_t nr, alloc;
	uint8_t *handles;	/* per type id: 0 unknown, 1 yes, 2 no */
	size_t nr_handles;
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

static bool is_int(struct typer *ty, uint32_t t)
{
	return t != TY_NONE && ty_get(&ty->tt, t)->kind == TY_BASE &&
	       ty_get(&ty->tt, t)->size == 8;
}

/* Does struct S begin with H (H itself, or embedding it at 0)? */
static bool begins_with_h(struct typer *ty, uint32_t s, uint32_t h)
{
	const struct ty_list *l;

	if (s == h)
		return true;
	l = ty_embedders(&ty->tt, h, 0);
	for (size_t k = 0; l && k < l->nr; k++)
		if (l->types[k] == s)
			return true;
	return false;
}

void typer_objmodel_init(struct typer *ty)
{
	for (size_t ti = 0; ti < ty->tt.nr; ti++) {
		struct ty *t = ty_get(&ty->tt, (uint32_t)ti);
		int64_t name_off = -1, basic_off = -1, item_off = -1;

		if (t->kind != TY_STRUCT || !t->complete || t->nr_members < 4)
			continue;
		for (uint32_t k = 0; k < t->nr_members; k++) {
			const struct ty_member *m = &t->members[k];
			const char *n = ty->tt.strs[m->name];
			struct ty *mt = m->type == TY_NONE ? NULL : ty_get(&ty->tt, m->type);

			if (!mt)
				continue;
			if (name_off < 0 && ends_with(n, "name") && mt->kind == TY_PTR &&
			    mt->pointee != TY_NONE && ty_get(&ty->tt, mt->pointee)->kind == TY_BASE &&
			    ty_get(&ty->tt, mt->pointee)->size == 1)
				name_off = (int64_t)m->off;
			else if (ends_with(n, "basicsize") && is_int(ty, m->type))
				basic_off = (int64_t)m->off;
			else if (ends_with(n, "itemsize") && is_int(ty, m->type))
				item_off = (int64_t)m->off;
		}
		if (name_off < 0 || basic_off < 0 || item_off < 0)
			continue;
		/* the header: a struct T begins with whose pointer member
		 * points to T */
		for (uint32_t e = 0; e < t->nr_embeds; e++) {
			uint32_t h = t->embeds[e].type;
			struct ty *hp;

			if (t->embeds[e].off != 0)
				continue;
			hp = ty_get(&ty->tt, h);
			for (uint32_t k = 0; k < hp->nr_members; k++) {
				const struct ty_member *m = &hp->members[k];
				struct ty *mt = m->type == TY_NONE ? NULL : ty_get(&ty->tt, m->type);
				struct objmodel *om;

				if (!mt || mt->kind != TY_PTR || mt->pointee != (uint32_t)ti)
					continue;
				om = xcalloc(1, sizeof(*om));
				om->h = h;
				om->t = (uint32_t)ti;
				om->type_off = m->off;
				om->name_off = (uint64_t)name_off;
				om->basic_off = (uint64_t)basic_off;
				om->item_off = (uint64_t)item_off;
				for (uint32_t j = 0; j < t->nr_members; j++) {
					struct ty *ft = t->members[j].type == TY_NONE ? NULL :
							ty_get(&ty->tt, t->members[j].type);

					if (ft && ft->kind == TY_PTR && ft->pointee != TY_NONE &&
					    ty_get(&ty->tt, ft->pointee)->kind == TY_OTHER) {
						om->fn_offs = xrealloc(om->fn_offs, (om->nr_fn + 1) *
								       sizeof(*om->fn_offs));
						om->fn_offs[om->nr_fn++] = (uint32_t)t->members[j].off;
					}
				}
				/* (adding a type moves the table: T and H again) */
				om->hptr = ty_pointer_to(&ty->tt, h);
				hp = ty_get(&ty->tt, h);
				om->counted = m->off != 0 && hp->nr_members &&
					      hp->members[0].off == 0 &&
					      is_int(ty, hp->members[0].type);
				ty->objmodel = om;
				return;
			}
		}
	}
}

void typer_objmodel_free(struct typer *ty)
{
	struct objmodel *om = ty->objmodel;

	if (!om)
		return;
	for (size_t k = 0; k < om->nr; k++)
		free(om->objs[k].name);
	free(om->objs);
	free(om->fn_offs);
	free(om->handles);
	hashmap_release(&om->by_addr);
	hashmap_release(&om->by_alias);
	hashmap_release(&om->fn_struct);
	free(om);
	ty->objmodel = NULL;
}

/* LEN bytes at ADDR: the image, else the module file (read-only data). */
static bool read_any(struct typer *ty, taddr_t addr, void *buf, size_t len)
{
	struct modset_module *mm;
	GElf_Addr bias;
	Elf *elf;
	Elf_Scn *scn = NULL;

	if (target_read(ty->image, addr, buf, len) == 0)
		return true;
	if (!ty->ms)
		return false;
	mm = modset_module_at(ty->ms, addr);
	if (!mm || !mm->mod || !(elf = dwfl_module_getelf(mm->mod, &bias)))
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		uint64_t a = addr - bias;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    !(sh.sh_flags & SHF_ALLOC) || a < sh.sh_addr || a + len > sh.sh_addr + sh.sh_size)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf || a - sh.sh_addr + len > d->d_size)
			return false;
		memcpy(buf, (const char *)d->d_buf + (a - sh.sh_addr), len);
		return true;
	}
	return false;
}

static bool rd(struct typer *ty, taddr_t addr, uint64_t *v)
{
	uint8_t b[8];

	if (!read_any(ty, addr, b, 8))
		return false;
	*v = get_le64(b);
	return true;
}

/* A printable name of 1..127 bytes at ADDR, or NULL. */
static char *read_name(struct typer *ty, taddr_t addr)
{
	char buf[128];
	size_t n;

	for (n = 0; n < sizeof(buf); n++) {
		if (!read_any(ty, addr + n, &buf[n], 1))
			return NULL;
		if (!buf[n])
			break;
		if (buf[n] < 0x20 || buf[n] > 0x7e)
			return NULL;
	}
	if (!n || n == sizeof(buf))
		return NULL;
	return xstrdup(buf);
}

/* The pointee of the first parameter of subprogram SP, or TY_NONE. */
static uint32_t param_pointee(struct typer *ty, Dwarf_Die *sp)
{
	Dwarf_Attribute a;
	Dwarf_Die child, pt;

	if (dwarf_child(sp, &child) != 0)
		return TY_NONE;
	do {
		uint32_t pty;

		if (dwarf_tag(&child) != DW_TAG_formal_parameter)
			continue;
		if (!dwarf_attr_integrate(&child, DW_AT_type, &a) || !dwarf_formref_die(&a, &pt))
			return TY_NONE;
		pty = ty_of_die(&ty->tt, &pt);
		if (pty != TY_NONE && ty_get(&ty->tt, pty)->kind == TY_PTR)
			return ty_get(&ty->tt, pty)->pointee;
		return TY_NONE;
	} while (dwarf_siblingof(&child, &child) == 0);
	return TY_NONE;
}

/* A function whose code the compiler merged with another's keeps its
 * symbol and its DWARF declaration, without an address: find it by name
 * among the subprograms of CU. */
static uint32_t param_by_name(struct typer *ty, Dwarf_Die *cu, const char *name)
{
	Dwarf_Die child;

	if (!name || dwarf_child(cu, &child) != 0)
		return TY_NONE;
	do {
		const char *n;

		if (dwarf_tag(&child) == DW_TAG_subprogram && (n = dwarf_diename(&child)) &&
		    !strcmp(n, name))
			return param_pointee(ty, &child);
	} while (dwarf_siblingof(&child, &child) == 0);
	return TY_NONE;
}

/* The struct the function at FN takes as its first parameter (a pointer
 * to a struct), or TY_NONE. */
static uint32_t first_param_struct(struct typer *ty, taddr_t fn)
{
	struct modset_module *mm = ty->ms ? modset_module_at(ty->ms, fn) : NULL;
	Dwarf_Addr bias;
	Dwarf_Die *cu, *scopes = NULL, child, pt;
	Dwarf_Attribute a;
	uint32_t r = TY_NONE;
	int n;

	if (!mm || !mm->mod)
		return TY_NONE;
	/* without .debug_aranges (clang emits none by default) libdw finds
	 * no CU by address: look through the CUs' own ranges */
	cu = dwfl_module_addrdie(mm->mod, fn, &bias);
	if (!cu)
		for (cu = dwfl_module_nextcu(mm->mod, NULL, &bias); cu;
		     cu = dwfl_module_nextcu(mm->mod, cu, &bias))
			if (dwarf_haspc(cu, fn - bias) == 1)
				break;
	if (!cu)
		return TY_NONE;
	n = dwarf_getscopes(cu, fn - bias, &scopes);
	for (int k = 0; k < n; k++) {
		Dwarf_Addr entry;

		if (dwarf_tag(&scopes[k]) != DW_TAG_subprogram)
			continue;
		if (dwarf_entrypc(&scopes[k], &entry) != 0 || entry != fn - bias)
			break;
		/* an out-of-line copy of an inlined function: the parameters
		 * are the abstract instance's */
		{
			Dwarf_Die sp = scopes[k], org;

			for (int d = 0; d < 4; d++) {
				if (dwarf_attr(&sp, DW_AT_abstract_origin, &a) &&
				    dwarf_formref_die(&a, &org))
					sp = org;
				else if (dwarf_attr(&sp, DW_AT_specification, &a) &&
					 dwarf_formref_die(&a, &org))
					sp = org;
				else
					break;
			}
			if (dwarf_child(&sp, &child) != 0)
				break;
		}
		do {
			uint32_t pty;

			if (dwarf_tag(&child) != DW_TAG_formal_parameter)
				continue;
			if (!dwarf_attr_integrate(&child, DW_AT_type, &a) ||
			    !dwarf_formref_die(&a, &pt))
				break;
			pty = ty_of_die(&ty->tt, &pt);
			if (pty != TY_NONE && ty_get(&ty->tt, pty)->kind == TY_PTR)
				r = ty_get(&ty->tt, pty)->pointee;
			break;
		} while (dwarf_siblingof(&child, &child) == 0);
		break;
	}
	free(scopes);
	if (r == TY_NONE) {
		uint64_t so;
		const char *sym = modset_symbol_at(ty->ms, fn, &so);

		if (sym && so == 0)
			r = param_by_name(ty, cu, sym);
	}
	return r;
}

/* The last member of S is an array (a variable-size object's items);
 * its offset in *OFF. */
static bool trailing_array(struct typer *ty, uint32_t s, uint64_t *off)
{
	struct ty *sp = ty_get(&ty->tt, s);
	const struct ty_member *m;

	if (sp->flex) {
		*off = sp->flex_off;
		return true;
	}
	if (!sp->nr_members)
		return false;
	m = &sp->members[sp->nr_members - 1];
	if (m->type == TY_NONE || ty_get(&ty->tt, m->type)->kind != TY_ARRAY)
		return false;
	*off = m->off;
	return true;
}

/* The concrete struct of type object O: the most specific struct its
 * slot functions take that begins with H, then, of the structs beginning
 * with that one, the one of exactly the instance size. */
static uint32_t concrete(struct typer *ty, struct objmodel *om, struct tobj *o)
{
	uint32_t best = om->h;
	const struct ty_list *l;
	uint32_t found = TY_NONE;
	unsigned nfound = 0;

	for (size_t k = 0; k < om->nr_fn; k++) {
		uint64_t fn;
		uint32_t s;
		struct ty *sp;
		uint64_t toff;

		if (!rd(ty, o->addr + om->fn_offs[k], &fn) || !fn)
			continue;
		if (typer_map_get32(&om->fn_struct, fn, &s)) {
			s--;
		} else {
			s = first_param_struct(ty, fn);
			hashmap_put_u64(&om->fn_struct, fn, (uint64_t)s + 1);
		}
		if (s == TY_NONE || !begins_with_h(ty, s, om->h))
			continue;
		sp = ty_get(&ty->tt, s);
		if (sp->size > o->basicsize &&
		    !(o->itemsize && trailing_array(ty, s, &toff) && toff <= o->basicsize))
			continue;
		if (sp->size > ty_get(&ty->tt, best)->size)
			best = s;
	}
	if (ty_get(&ty->tt, best)->size == o->basicsize || best == om->h)
		return best;
	l = ty_embedders(&ty->tt, best, 0);
	for (size_t k = 0; l && k < l->nr; k++) {
		struct ty *sp = ty_get(&ty->tt, l->types[k]);

		if (sp->kind == TY_STRUCT && sp->size == o->basicsize) {
			found = l->types[k];
			nfound++;
		}
	}
	return nfound == 1 ? found : best;
}

/* Is ADDR a type object? Its own type, followed up to a type that is its
 * own type, must be type objects whose instances are at least as big as
 * a type object; its name printable, its sizes sane. */
static struct tobj *type_object(struct typer *ty, taddr_t addr, int depth)
{
	struct objmodel *om = ty->objmodel;
	uint32_t idx;
	struct tobj o = { .addr = addr }, *meta;
	uint64_t nameptr, mt;

	if (!addr || (addr & 7))
		return NULL;
	if (typer_map_get32(&om->by_addr, addr, &idx))
		return om->objs[idx - 1].valid ? &om->objs[idx - 1] : NULL;
	if (depth > 4)
		return NULL;
	/* a type object is static data of a module or an object in a live
	 * chunk: anything else is not remembered (hostile images: the cache
	 * stays bounded by the chunks and the modules' size) */
	{
		uint64_t off;

		if (typer_lookup(ty, addr, &off) == UINT32_MAX || off > TYPER_MAX_PREFIX) {
			if (!ty->ms || !modset_module_at(ty->ms, addr))
				return NULL;
		}
	}
	if (om->nr >= MAX_TYPE_OBJECTS)
		return NULL;
	if (rd(ty, addr + om->type_off, &mt) && rd(ty, addr + om->name_off, &nameptr) &&
	    rd(ty, addr + om->basic_off, &o.basicsize) &&
	    rd(ty, addr + om->item_off, &o.itemsize) &&
	    o.basicsize >= ty_get(&ty->tt, om->h)->size && o.basicsize < (1u << 24) &&
	    o.itemsize < (1u << 16) && (o.name = read_name(ty, nameptr))) {
		if (mt == addr)
			o.valid = o.basicsize >= ty_get(&ty->tt, om->t)->size;
		else if ((meta = type_object(ty, mt, depth + 1)))
			o.valid = meta->basicsize >= ty_get(&ty->tt, om->t)->size;
	}
	if (!o.valid) {
		free(o.name);
		o.name = NULL;
	}
	if (om->nr == om->alloc) {
		om->alloc = om->alloc ? 2 * om->alloc : 64;
		om->objs = xrealloc(om->objs, om->alloc * sizeof(*om->objs));
	}
	o.layout = o.alias = TY_NONE;
	om->objs[om->nr++] = o;
	hashmap_put_u64(&om->by_addr, addr, (uint32_t)om->nr);
	if (!o.valid)
		return NULL;
	{
		struct tobj *p = &om->objs[om->nr - 1];
		size_t k = om->nr - 1;

		p->layout = concrete(ty, om, p);
		p = &om->objs[k];
		p->alias = ty_copy(&ty->tt, p->layout, p->name);
		hashmap_put_u64(&om->by_alias, (uint64_t)p->alias + 1, (uint32_t)k + 1);
		return p;
	}
}

/* Does the model decide pointers of pointee T (H, or a struct beginning
 * with H)? */
bool typer_objmodel_header(struct typer *ty, uint32_t t)
{
	return ty->objmodel && ((struct objmodel *)ty->objmodel)->h == t;
}

bool typer_objmodel_row(struct typer *ty, uint32_t t)
{
	struct objmodel *om = ty->objmodel;

	return om && hashmap_find_u64(&om->by_alias, (uint64_t)t + 1);
}

bool typer_objmodel_handles(struct typer *ty, uint32_t t)
{
	struct objmodel *om = ty->objmodel;

	if (!om || t == TY_NONE)
		return false;
	if (t >= om->nr_handles) {
		size_t n = ty->tt.nr > t ? ty->tt.nr : t + 1;

		om->handles = xrealloc(om->handles, n);
		memset(om->handles + om->nr_handles, 0, n - om->nr_handles);
		om->nr_handles = n;
	}
	if (!om->handles[t])
		om->handles[t] = ty_get(&ty->tt, t)->kind == TY_STRUCT &&
				 begins_with_h(ty, t, om->h) ? 1 : 2;
	return om->handles[t] == 1;
}

/*
 * V points OFF bytes into chunk I: is an object there (OFF a small
 * prefix: a GC header, managed-dict pointers)? Then type the chunk by the
 * object's type object. Returns false when no object is there.
 */
bool typer_objmodel_assign(struct typer *ty, uint32_t i, uint64_t off, uint8_t rank,
			   struct typed_origin from, uint32_t member)
{
	struct objmodel *om = ty->objmodel;
	taddr_t start;
	uint64_t usable, tw, refcnt;
	struct tobj *o;

	typer_user_area(ty, i, &start, &usable);
	if (off > TYPER_MAX_PREFIX || (off & 7) || off + ty_get(&ty->tt, om->h)->size > usable)
		return false;
	if (!rd(ty, start + off + om->type_off, &tw) || !rd(ty, start + off, &refcnt))
		return false;
	/* a live object is referenced: a count of 1..2^40 */
	if (om->counted && (refcnt == 0 || refcnt > MAX_COUNT))
		return false;
	o = type_object(ty, tw, 0);
	if (!o || off + ty_get(&ty->tt, o->layout)->size > usable + 8)
		return false;
	typer_set_type(ty, i, o->alias, false, rank, from, member, (uint32_t)off);
	return true;
}

/* Does W point to an object (in a chunk or in static data)? */
static bool is_object(struct typer *ty, uint64_t w)
{
	struct objmodel *om = ty->objmodel;
	uint64_t tw, rc;

	return w && !(w & 7) && rd(ty, w + om->type_off, &tw) && rd(ty, w, &rc) &&
	       (!om->counted || (rc && rc <= MAX_COUNT)) && type_object(ty, tw, 0);
}

/* A word read where no type says what it is: an object pointer when it
 * reaches an object (validated by its type object); else, with ARRAYS,
 * an array of object pointers (behind a prefix of at most
 * TYPER_MAX_PREFIX bytes) when every word of the chunk from there but
 * the last is 0 or points to an object, at least one. */
static void conservative(struct typer *ty, uint64_t v, struct typed_origin from, bool arrays)
{
	struct objmodel *om = ty->objmodel;
	uint64_t off;
	uint32_t j;

	if (!v || (v & 7))
		return;
	j = typer_lookup(ty, v, &off);
	if (j == UINT32_MAX)
		return;
	if (typer_objmodel_assign(ty, j, off, RANK_WEAK, from, TY_NONE))
		return;
	if (!arrays || off > TYPER_MAX_PREFIX || ty->type[j] != TY_NONE)
		return;
	{
		taddr_t start;
		uint64_t usable, w;
		unsigned objs = 0;

		typer_user_area(ty, j, &start, &usable);
		for (uint64_t k = off; k + 16 <= usable; k += 8) {
			if (!rd(ty, start + k, &w))
				return;
			if (!w)
				continue;
			if (!is_object(ty, w))
				return;
			objs++;
		}
		if (objs)
			typer_set_type(ty, j, om->hptr, true, RANK_WEAK, from, TY_NONE, (uint32_t)off);
	}
}

/* After chunk I was scanned with its type: the words no member describes
 * (an object's items and extra words past its struct, the prefix before
 * it, a struct's trailing byte array) are read as object pointers. */
void typer_objmodel_scan(struct typer *ty, uint32_t i)
{
	struct objmodel *om = ty->objmodel;
	uint32_t idx, t = ty->type[i];
	taddr_t start;
	uint64_t usable, from_off = 0, w;
	struct ty *tp;

	if (!om || t == TY_NONE)
		return;
	typer_user_area(ty, i, &start, &usable);
	tp = ty_get(&ty->tt, t);
	if (typer_map_get32(&om->by_alias, (uint64_t)t + 1, &idx)) {
		/* an object: its prefix, then what follows its struct */
		for (uint64_t k = 0; k < ty->prefix[i]; k += 8)
			if (rd(ty, start + k, &w))
				conservative(ty, w, from_chunk(i), true);
		from_off = ty->prefix[i] + tp->size;
	} else if (tp->flex && tp->flex_elem != TY_NONE && !ty->array[i] &&
		   ty_get(&ty->tt, tp->flex_elem)->kind == TY_BASE &&
		   ty_get(&ty->tt, tp->flex_elem)->size == 1) {
		/* a struct ending in bytes that hold more than bytes (a hash
		 * table's entries after its index) */
		from_off = ty->prefix[i] + ((tp->flex_off + 7) & ~7ull);
	} else {
		return;
	}
	for (uint64_t k = from_off & ~7ull; k + 8 <= usable; k += 8)
		if (rd(ty, start + k, &w))
			conservative(ty, w, from_chunk(i), false);
}
