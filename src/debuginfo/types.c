/*
 * types.c - DWARF types converted into the flat table typing follows.
 *
 * Conversion is on demand and memoised by DIE (its Dwarf and offset), so a
 * type reachable from a thousand variables is converted once. A struct's
 * entry is created before its members are filled, which is what lets
 * self-referential types (struct node { struct node *next; }) terminate:
 * the pointer member finds the entry in progress. A struct first met as
 * a pointer's pointee is only an entry (a shell) until the outermost
 * conversion ends, or until something needs it by value: filled at once,
 * it could copy in a struct still in progress (struct obj { struct tobj
 * *type; } and struct tobj { struct obj base; }: the obj in tobj would
 * have no members).
 *
 * Flattening. A struct's pointers are listed with their final offsets:
 * members of nested structs and base classes are copied in shifted, arrays
 * of pointers become one slot with a count, arrays of structs are expanded
 * element by element (up to TY_MAX_SLOTS pointers per type, beyond which the
 * type is marked truncated). Union alternatives are all listed, flagged
 * SLOT_UNION: the engine follows them only where the value validates.
 * Bit fields and static members hold no pointers and are skipped; a
 * virtual base (whose offset is an expression) is skipped too. Besides
 * the flattened view, a struct keeps its direct members in declaration
 * order (offset, size, type, name): the rules that compare structs member
 * by member or read a named field use them.
 *
 * Names. C structs are "struct X" / "union X" / "enum X"; an anonymous
 * struct named by a typedef (typedef struct { ... } X) takes the
 * typedef's name, from the index pass (which sees the typedef) or from
 * the typedef it was reached through; C++ types are qualified with their
 * namespaces and enclosing classes ("ns::Outer::In"), the qualification
 * coming from the index pass (ty_register_qualified) or, for types it did
 * not see, from dwarf_getscopes_die(). Entries with the same kind, name
 * and size are merged (the same struct seen from two CUs), except
 * anonymous ones no typedef names: "union (anonymous)" of 16 bytes in one
 * CU says nothing about another CU's.
 */
#include "config.h"
#include "debuginfo/types.h"
#include "util/errors.h"
#include "util/strbuf.h"
#include "util/hashmap.h"
#include "util/xalloc.h"

#include <dwarf.h>
#include <stdlib.h>
#include <string.h>

/* ---- table state ---------------------------------------------------------- */

struct ty_priv {
	struct hashmap memo;		/* die key -> type id */
	struct hashmap by_name;		/* "kind:size:name" -> type id */
	struct hashmap plain_name;	/* name -> first type id with that name */
	struct hashmap defs;		/* name -> index into def_dies */
	Dwarf_Die *def_dies;
	size_t nr_defs, alloc_defs;
	struct hashmap qual;		/* die key -> index into quals */
	char **quals;
	size_t nr_quals, alloc_quals;
	/* Dwarf handles seen, for die keys: key = (dwarf index << 40) | off */
	Dwarf **dwarfs;
	size_t nr_dwarfs;
	/* the embed index: (type + 1) << 24 | offset -> index into lists */
	struct ty_list *lists;
	size_t nr_lists, alloc_lists;
	struct hashmap embeds;
	bool embeds_indexed;	/* ty_index_embeds() ran before */
	/* Structs met as pointees are filled when the outermost conversion
	 * ends, not while their referrer is half done: with struct A {
	 * struct B *b; } and struct B { struct A a; }, filling B while A is
	 * in progress would copy an A without members into B (CPython's
	 * PyObject -> PyTypeObject -> PyVarObject -> PyObject). */
	struct shell {
		Dwarf_Die die;
		uint32_t id;
	} *shells;
	size_t nr_shells, alloc_shells;
	int depth;		/* ty_of_die calls in progress */
	int pointee_ctx;	/* of which converting a pointer's pointee */
};

static struct ty_priv *priv(struct ty_table *tt)
{
	return tt->priv;
}

void ty_table_init(struct ty_table *tt)
{
	struct ty_priv *p = xcalloc(1, sizeof(*p));

	memset(tt, 0, sizeof(*tt));
	hashmap_init(&p->memo, HASHMAP_U64);
	hashmap_init_owned(&p->by_name);
	hashmap_init_owned(&p->plain_name);
	hashmap_init_owned(&p->defs);
	hashmap_init(&p->qual, HASHMAP_U64);
	hashmap_init(&p->embeds, HASHMAP_U64);
	tt->priv = p;
}

void ty_table_free(struct ty_table *tt)
{
	struct ty_priv *p = priv(tt);

	for (size_t i = 0; i < tt->nr; i++) {
		free(tt->types[i].name);
		free(tt->types[i].slots);
		free(tt->types[i].embeds);
		free(tt->types[i].targs);
		free(tt->types[i].nonptr);
		free(tt->types[i].targ_names);
		free(tt->types[i].members);
	}
	free(tt->types);
	for (size_t i = 0; i < tt->nr_strs; i++)
		free(tt->strs[i]);
	free(tt->strs);
	if (p) {
		hashmap_release(&p->memo);
		hashmap_release(&p->by_name);
		hashmap_release(&p->plain_name);
		hashmap_release(&p->defs);
		free(p->def_dies);
		hashmap_release(&p->qual);
		for (size_t i = 0; i < p->nr_quals; i++)
			free(p->quals[i]);
		free(p->quals);
		free(p->dwarfs);
		free(p->shells);
		for (size_t i = 0; i < p->nr_lists; i++)
			free(p->lists[i].types);
		free(p->lists);
		hashmap_release(&p->embeds);
		free(p);
	}
	memset(tt, 0, sizeof(*tt));
}

/* DST: a copy of SRC (string keys copied too when SRC owns them). */
static void map_copy(struct hashmap *dst, const struct hashmap *src)
{
	*dst = *src;
	if (!src->slots)
		return;
	dst->slots = xmalloc((src->mask + 1) * sizeof(*dst->slots));
	memcpy(dst->slots, src->slots, (src->mask + 1) * sizeof(*dst->slots));
	if (dst->owns_keys)
		HASHMAP_FOR_EACH(dst, sl)
			sl->key = (uint64_t)(uintptr_t)xstrdup((const char *)(uintptr_t)sl->key);
}

/* A copy of the N elements of SIZE at P, room for CAP of them. */
static void *dup_array(const void *p, size_t n, size_t cap, size_t size)
{
	void *q;

	if (!p)
		return NULL;
	q = xmalloc((cap > n ? cap : n ? n : 1) * size);
	memcpy(q, p, n * size);
	return q;
}

/* The capacity ty_add_slot() and its kind keep for N elements: grown to
 * twice when N is a power of two, so the next power of two. */
static size_t pow2_cap(size_t n)
{
	size_t cap = 1;

	while (cap < n)
		cap *= 2;
	return cap;
}

void ty_table_clone(struct ty_table *dst, const struct ty_table *src)
{
	const struct ty_priv *sp = src->priv;
	struct ty_priv *p = xcalloc(1, sizeof(*p));

	if (sp->nr_shells || sp->depth)
		BUG("ty_table_clone() during a conversion");
	*dst = *src;
	dst->types = dup_array(src->types, src->nr, src->alloc, sizeof(*src->types));
	for (size_t i = 0; i < src->nr; i++) {
		const struct ty *o = &src->types[i];
		struct ty *t = &dst->types[i];

		t->name = xstrdup(o->name);
		t->slots = dup_array(o->slots, o->nr_slots, pow2_cap(o->nr_slots), sizeof(*o->slots));
		t->embeds = dup_array(o->embeds, o->nr_embeds, pow2_cap(o->nr_embeds),
				      sizeof(*o->embeds));
		t->nonptr = dup_array(o->nonptr, o->nr_nonptr, pow2_cap(o->nr_nonptr),
				      sizeof(*o->nonptr));
		t->members = dup_array(o->members, o->nr_members, pow2_cap(o->nr_members),
				       sizeof(*o->members));
		t->targs = dup_array(o->targs, o->nr_targs, 0, sizeof(*o->targs));
		t->targ_names = dup_array(o->targ_names, o->nr_targs, 0, sizeof(*o->targ_names));
	}
	dst->strs = dup_array(src->strs, src->nr_strs, src->alloc_strs, sizeof(*src->strs));
	for (size_t i = 0; i < src->nr_strs; i++)
		dst->strs[i] = xstrdup(src->strs[i]);
	*p = *sp;
	map_copy(&p->memo, &sp->memo);
	map_copy(&p->by_name, &sp->by_name);
	map_copy(&p->plain_name, &sp->plain_name);
	map_copy(&p->defs, &sp->defs);
	map_copy(&p->qual, &sp->qual);
	map_copy(&p->embeds, &sp->embeds);
	p->def_dies = dup_array(sp->def_dies, sp->nr_defs, sp->alloc_defs, sizeof(*sp->def_dies));
	p->quals = dup_array(sp->quals, sp->nr_quals, sp->alloc_quals, sizeof(*sp->quals));
	for (size_t i = 0; i < sp->nr_quals; i++)
		p->quals[i] = xstrdup(sp->quals[i]);
	p->dwarfs = dup_array(sp->dwarfs, sp->nr_dwarfs, 0, sizeof(*sp->dwarfs));
	p->lists = dup_array(sp->lists, sp->nr_lists, sp->alloc_lists, sizeof(*sp->lists));
	for (size_t i = 0; i < sp->nr_lists; i++)
		p->lists[i].types = dup_array(sp->lists[i].types, sp->lists[i].nr,
					      sp->lists[i].alloc, sizeof(*sp->lists[i].types));
	p->shells = NULL;
	p->nr_shells = p->alloc_shells = 0;
	dst->priv = p;
}

static uint64_t die_key(struct ty_table *tt, Dwarf_Die *die)
{
	struct ty_priv *p = priv(tt);
	Dwarf *dw = dwarf_cu_getdwarf(die->cu);
	size_t i;

	for (i = 0; i < p->nr_dwarfs; i++)
		if (p->dwarfs[i] == dw)
			break;
	if (i == p->nr_dwarfs) {
		p->dwarfs = xrealloc(p->dwarfs, (i + 1) * sizeof(*p->dwarfs));
		p->dwarfs[i] = dw;
		p->nr_dwarfs++;
	}
	return ((uint64_t)(i + 1) << 40) | dwarf_dieoffset(die);
}

static uint32_t add_str(struct ty_table *tt, const char *s)
{
	if (tt->nr_strs == tt->alloc_strs) {
		tt->alloc_strs = tt->alloc_strs ? 2 * tt->alloc_strs : 256;
		tt->strs = xrealloc(tt->strs, tt->alloc_strs * sizeof(*tt->strs));
	}
	tt->strs[tt->nr_strs] = xstrdup(s);
	return (uint32_t)tt->nr_strs++;
}

uint32_t ty_new(struct ty_table *tt, const char *name, enum ty_kind kind, uint64_t size)
{
	struct ty *t;
	uint32_t id;

	if (tt->nr == tt->alloc) {
		tt->alloc = tt->alloc ? 2 * tt->alloc : 256;
		tt->types = xrealloc(tt->types, tt->alloc * sizeof(*tt->types));
	}
	id = (uint32_t)tt->nr++;
	t = &tt->types[id];
	memset(t, 0, sizeof(*t));
	t->name = xstrdup(name);
	t->kind = (uint8_t)kind;
	t->size = size;
	t->pointee = TY_NONE;
	t->elem = TY_NONE;
	t->flex_elem = TY_NONE;
	/* the first type of a name keeps it */
	(void)hashmap_add_str(&priv(tt)->plain_name, name, id, NULL);
	return id;
}

uint32_t ty_named(struct ty_table *tt, const char *name, uint64_t size)
{
	uint32_t id = ty_by_name(tt, name);

	if (id != TY_NONE)
		return id;
	id = ty_new(tt, name, TY_STRUCT, size);
	ty_get(tt, id)->complete = true;
	return id;
}

uint32_t ty_alias(struct ty_table *tt, uint32_t t, const char *name)
{
	uint32_t id = ty_by_name(tt, name);

	return id != TY_NONE ? id : ty_copy(tt, t, name);
}

uint32_t ty_pointer_to(struct ty_table *tt, uint32_t t)
{
	struct strbuf sb = STRBUF_INIT;
	uint32_t id;

	strbuf_addf(&sb, "%s *", ty_get(tt, t)->name);
	id = ty_new(tt, sb.buf, TY_PTR, 8);
	strbuf_release(&sb);
	ty_get(tt, id)->pointee = t;
	ty_get(tt, id)->complete = true;
	return id;
}

uint32_t ty_copy(struct ty_table *tt, uint32_t t, const char *name)
{
	uint32_t id;
	struct ty *a, *o;

	id = ty_new(tt, name, TY_STRUCT, ty_get(tt, t)->size);
	a = ty_get(tt, id);
	o = ty_get(tt, t);
	a->kind = o->kind;
	a->complete = true;
	a->vptr = o->vptr;
	a->flex = o->flex;
	a->flex_off = o->flex_off;
	a->flex_elem = o->flex_elem;
	a->truncated = o->truncated;
	if (o->nr_slots) {
		/* capacities are powers of two (add_slot) */
		uint32_t cap = 1;

		while (cap < o->nr_slots)
			cap *= 2;
		a->slots = xmalloc(cap * sizeof(*a->slots));
		memcpy(a->slots, o->slots, o->nr_slots * sizeof(*a->slots));
		a->nr_slots = o->nr_slots;
	}
	if (o->nr_embeds) {
		uint32_t cap = 1;

		while (cap < o->nr_embeds)
			cap *= 2;
		a->embeds = xmalloc(cap * sizeof(*a->embeds));
		memcpy(a->embeds, o->embeds, o->nr_embeds * sizeof(*a->embeds));
		a->nr_embeds = o->nr_embeds;
	}
	if (o->nr_members) {
		a->members = xmalloc(o->nr_members * sizeof(*a->members));
		memcpy(a->members, o->members, o->nr_members * sizeof(*a->members));
		a->nr_members = o->nr_members;
	}
	return id;
}

uint32_t ty_by_name(struct ty_table *tt, const char *name)
{
	const uint64_t *id = hashmap_find_str(&priv(tt)->plain_name, name);

	return id ? (uint32_t)*id : TY_NONE;
}

/* ---- names ---------------------------------------------------------------- */

static bool cu_is_cxx(Dwarf_Die *die)
{
	Dwarf_Die cu;
	int lang;

	if (!dwarf_diecu(die, &cu, NULL, NULL))
		return false;
	lang = dwarf_srclang(&cu);
	return lang == DW_LANG_C_plus_plus || lang == DW_LANG_C_plus_plus_03 ||
	       lang == DW_LANG_C_plus_plus_11 || lang == DW_LANG_C_plus_plus_14;
}

static const char *tag_word(int tag)
{
	switch (tag) {
	case DW_TAG_union_type:
		return "union";
	case DW_TAG_enumeration_type:
		return "enum";
	case DW_TAG_class_type:
		return "class";
	default:
		return "struct";
	}
}

/* Qualified C++ name of DIE from its scopes; NULL when unnamed. */
static char *cxx_qualified(struct ty_table *tt, Dwarf_Die *die)
{
	struct ty_priv *p = priv(tt);
	const char *n = dwarf_diename(die);
	Dwarf_Die *scopes = NULL;
	struct strbuf sb = STRBUF_INIT;
	const uint64_t *qi;
	int nr;

	if (!n)
		return NULL;
	if ((qi = hashmap_find_u64(&p->qual, die_key(tt, die))))
		return xstrdup(p->quals[*qi]);
	nr = dwarf_getscopes_die(die, &scopes);
	for (int i = nr - 1; i >= 1; i--) {
		int tag = dwarf_tag(&scopes[i]);
		const char *sn;

		if (tag != DW_TAG_namespace && tag != DW_TAG_structure_type &&
		    tag != DW_TAG_class_type && tag != DW_TAG_union_type)
			continue;
		sn = dwarf_diename(&scopes[i]);
		strbuf_addf(&sb, "%s::", sn ? sn : "(anonymous namespace)");
	}
	free(scopes);
	strbuf_addstr(&sb, n);
	return strbuf_detach(&sb, NULL);
}

/* The names people write for the standard library's long template names,
 * wherever they occur in a name (std::map<std::string, T>'s node is
 * "std::_Rb_tree_node<std::pair<const std::string, T> >"). */
char *ty_pretty_cxx(char *name)
{
	static const char *const alias[][2] = {
		{ "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >",
		  "std::string" },
		{ "std::__cxx11::basic_string<wchar_t, std::char_traits<wchar_t>, "
		  "std::allocator<wchar_t> >", "std::wstring" },
	};
	/* what every long spelling begins with */
	static const char common[] = "std::__cxx11::basic_string<";
	struct strbuf sb = STRBUF_INIT;
	bool changed = false;
	const char *s, *at;

	if (!name || !strstr(name, "basic_string<"))
		return name;
	for (s = name; (at = strstr(s, common)); ) {
		size_t i, n = 0;

		strbuf_add(&sb, s, (size_t)(at - s));
		s = at;
		for (i = 0; i < sizeof(alias) / sizeof(alias[0]); i++) {
			n = strlen(alias[i][0]);
			if (!strncmp(s, alias[i][0], n))
				break;
		}
		if (i < sizeof(alias) / sizeof(alias[0])) {
			strbuf_addstr(&sb, alias[i][1]);
			s += n;
			changed = true;
		} else {
			strbuf_addch(&sb, *s++);
		}
	}
	strbuf_addstr(&sb, s);
	if (!changed) {
		strbuf_release(&sb);
		return name;
	}
	free(name);
	return strbuf_detach(&sb, NULL);
}

/* Name of a struct/union/enum DIE, or NULL when anonymous. */
static char *aggregate_name(struct ty_table *tt, Dwarf_Die *die)
{
	const char *n = dwarf_diename(die);
	struct strbuf sb = STRBUF_INIT;
	const uint64_t *qi;

	/* typedef struct { ... } name; (the index pass saw the typedef) */
	if (!n && (qi = hashmap_find_u64(&priv(tt)->qual, die_key(tt, die))))
		return xstrdup(priv(tt)->quals[*qi]);
	if (!n)
		return NULL;
	if (cu_is_cxx(die))
		return ty_pretty_cxx(cxx_qualified(tt, die));
	strbuf_addf(&sb, "%s %s", tag_word(dwarf_tag(die)), n);
	return strbuf_detach(&sb, NULL);
}

/* ---- definitions index ---------------------------------------------------- */

static void register_def(struct ty_table *tt, Dwarf_Die *die, char *name)
{
	struct ty_priv *p = priv(tt);
	bool added;

	/* the first definition of a name wins */
	(void)hashmap_add_str(&p->defs, name, p->nr_defs, &added);
	free(name);
	if (!added)
		return;
	ALLOC_GROW(p->def_dies, p->nr_defs + 1, p->alloc_defs);
	p->def_dies[p->nr_defs++] = *die;
}

void ty_register_definition(struct ty_table *tt, Dwarf_Die *die)
{
	char *name;

	if (dwarf_hasattr(die, DW_AT_declaration))
		return;
	name = aggregate_name(tt, die);
	if (name)
		register_def(tt, die, name);
}

/* Remember the qualified name of a C++ DIE met in the index pass, or the
 * typedef name of an anonymous C struct. */
void ty_register_qualified(struct ty_table *tt, Dwarf_Die *die, const char *qname)
{
	struct ty_priv *p = priv(tt);

	if (p->nr_quals == p->alloc_quals) {
		p->alloc_quals = p->alloc_quals ? 2 * p->alloc_quals : 256;
		p->quals = xrealloc(p->quals, p->alloc_quals * sizeof(*p->quals));
	}
	p->quals[p->nr_quals] = xstrdup(qname);
	hashmap_put_u64(&p->qual, die_key(tt, die), p->nr_quals++);
}

/* ---- conversion ----------------------------------------------------------- */

static bool die_type(Dwarf_Die *die, Dwarf_Die *ret)
{
	Dwarf_Attribute a;

	return dwarf_attr_integrate(die, DW_AT_type, &a) && dwarf_formref_die(&a, ret);
}

static uint64_t die_size(Dwarf_Die *die)
{
	Dwarf_Word sz;

	return dwarf_aggregate_size(die, &sz) == 0 ? sz : 0;
}

/* Look through typedef, const, volatile, restrict, atomic. Returns false
 * for void. *TYPEDEF_NAME gets the outermost typedef's name. */
static bool peel(Dwarf_Die *die, Dwarf_Die *ret, const char **typedef_name)
{
	Dwarf_Die cur = *die;

	for (int depth = 0; depth < 64; depth++) {
		int tag = dwarf_tag(&cur);

		if (tag != DW_TAG_typedef && tag != DW_TAG_const_type &&
		    tag != DW_TAG_volatile_type && tag != DW_TAG_restrict_type &&
		    tag != DW_TAG_atomic_type) {
			*ret = cur;
			return true;
		}
		if (tag == DW_TAG_typedef && typedef_name && !*typedef_name)
			*typedef_name = dwarf_diename(&cur);
		if (!die_type(&cur, &cur))
			return false;
	}
	return false;
}

void ty_add_slot(struct ty_table *tt, uint32_t id, uint64_t off, uint32_t count,
		 uint32_t stride, uint32_t pointee, const char *member, uint8_t flags)
{
	struct ty *t = ty_get(tt, id);

	if (t->nr_slots >= TY_MAX_SLOTS) {
		t->truncated = true;
		return;
	}
	if ((t->nr_slots & (t->nr_slots - 1)) == 0)
		t->slots = xrealloc(t->slots, (t->nr_slots ? 2 * t->nr_slots : 1) *
					      sizeof(*t->slots));
	t->slots[t->nr_slots++] = (struct ty_slot){
		.off = off, .count = count, .stride = stride, .pointee = pointee, .alt = TY_NONE,
		.member = add_str(tt, member), .flags = flags,
	};
}

void ty_add_embed(struct ty_table *tt, uint32_t id, uint64_t off, uint32_t type)
{
	struct ty *t = ty_get(tt, id);

	if (t->nr_embeds >= TY_MAX_SLOTS)
		return;
	if ((t->nr_embeds & (t->nr_embeds - 1)) == 0)
		t->embeds = xrealloc(t->embeds, (t->nr_embeds ? 2 * t->nr_embeds : 1) *
						sizeof(*t->embeds));
	t->embeds[t->nr_embeds++] = (struct ty_embed){ off, type };
}

static void fill_aggregate(struct ty_table *tt, uint32_t id, Dwarf_Die *die);
static uint32_t ty_of_die_inner(struct ty_table *tt, Dwarf_Die *die);

#define TY_MAX_NONPTR 4096u
#define TY_MAX_MEMBERS 4096u

void ty_add_member(struct ty_table *tt, uint32_t id, uint64_t off, uint64_t size, uint32_t type,
		   const char *name)
{
	struct ty *o = ty_get(tt, id);
	uint32_t ni;

	if (o->nr_members >= TY_MAX_MEMBERS)
		return;
	ni = add_str(tt, name);
	/* capacities are powers of two */
	if ((o->nr_members & (o->nr_members - 1)) == 0)
		o->members = xrealloc(o->members, (o->nr_members ? 2 * o->nr_members : 1) *
						  sizeof(*o->members));
	o->members[o->nr_members++] = (struct ty_member){
		.off = off, .size = size, .type = type, .name = ni,
	};
}

void ty_add_nonptr(struct ty_table *tt, uint32_t id, uint64_t off, uint64_t len)
{
	struct ty *t = ty_get(tt, id);

	if (!len || t->nr_nonptr >= TY_MAX_NONPTR)
		return;
	if ((t->nr_nonptr & (t->nr_nonptr - 1)) == 0)
		t->nonptr = xrealloc(t->nonptr, (t->nr_nonptr ? 2 * t->nr_nonptr : 1) *
						sizeof(*t->nonptr));
	t->nonptr[t->nr_nonptr++] = (struct ty_range){ off, len };
}

/* Whether a member of base type DIE can never hold a pointer: floating
 * point, or an integer narrower than 8 bytes (enums, bools, chars). */
static bool base_no_pointer(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	Dwarf_Word enc = 0, size = 0;

	if (dwarf_tag(die) == DW_TAG_enumeration_type)
		return dwarf_aggregate_size(die, &size) == 0 && size < 8;
	if (dwarf_tag(die) != DW_TAG_base_type || dwarf_aggregate_size(die, &size) != 0)
		return false;
	if (dwarf_attr(die, DW_AT_encoding, &a))
		(void)dwarf_formudata(&a, &enc);
	return enc == DW_ATE_float || size < 8;
}

/*
 * Copy SUB's pointers and embeds into ID at OFF, member names prefixed.
 * REPEAT > 1: SUB is the element of an array of REPEAT elements of
 * ESIZE bytes; each pointer becomes one slot with that stride (pointers
 * that are themselves arrays are expanded element by element).
 */
static void copy_in_n(struct ty_table *tt, uint32_t id, uint32_t sub, uint64_t off,
		      const char *prefix, uint8_t flags, uint64_t repeat, uint64_t esize)
{
	uint32_t nr = ty_get(tt, sub)->nr_slots, ne = ty_get(tt, sub)->nr_embeds;
	struct strbuf sb = STRBUF_INIT;

	/* embeds of the first elements only: interior pointers into long
	 * arrays of structs inside a struct are rare */
	for (uint64_t k = 0; k < repeat && k < 64; k++) {
		ty_add_embed(tt, id, off + k * esize, sub);
		for (uint32_t i = 0; i < ne; i++) {
			struct ty_embed e = ty_get(tt, sub)->embeds[i];

			ty_add_embed(tt, id, off + k * esize + e.off, e.type);
		}
	}
	/* what cannot hold a pointer in SUB cannot in its copies either; a
	 * union's members overlap, so nothing of it is left out */
	if (!(flags & SLOT_UNION) && ty_get(tt, sub)->kind != TY_UNION)
		for (uint64_t k = 0; k < repeat && k < 64; k++)
			for (uint32_t i = 0; i < ty_get(tt, sub)->nr_nonptr; i++) {
				struct ty_range r = ty_get(tt, sub)->nonptr[i];

				ty_add_nonptr(tt, id, off + k * esize + r.off, r.len);
			}
	for (uint32_t i = 0; i < nr; i++) {
		struct ty_slot s = ty_get(tt, sub)->slots[i];

		strbuf_reset(&sb);
		strbuf_addf(&sb, "%s%s", prefix, tt->strs[s.member]);
		if (repeat <= 1 || s.count == 1) {
			ty_add_slot(tt, id, off + s.off, repeat > 1 ? (uint32_t)repeat : s.count,
				 repeat > 1 ? (uint32_t)esize : s.stride, s.pointee, sb.buf,
				 s.flags | flags);
			if (ty_get(tt, id)->nr_slots)
				ty_get(tt, id)->slots[ty_get(tt, id)->nr_slots - 1].alt = s.alt;
			continue;
		}
		for (uint64_t k = 0; k < repeat; k++) {
			ty_add_slot(tt, id, off + k * esize + s.off, s.count, s.stride, s.pointee,
				 sb.buf, s.flags | flags);
			ty_get(tt, id)->slots[ty_get(tt, id)->nr_slots - 1].alt = s.alt;
		}
	}
	if (ty_get(tt, sub)->truncated)
		ty_get(tt, id)->truncated = true;
	strbuf_release(&sb);
}

static void copy_in(struct ty_table *tt, uint32_t id, uint32_t sub, uint64_t off,
		    const char *prefix, uint8_t flags)
{
	copy_in_n(tt, id, sub, off, prefix, flags, 1, 0);
}

/* Array bounds: element count (product over dimensions), 0 if unknown. */
static uint64_t array_count(Dwarf_Die *die)
{
	Dwarf_Die child;
	uint64_t total = 1;
	bool any = false;

	if (dwarf_child(die, &child) != 0)
		return 0;
	do {
		Dwarf_Attribute a;
		Dwarf_Word v;

		if (dwarf_tag(&child) != DW_TAG_subrange_type)
			continue;
		any = true;
		if (dwarf_attr_integrate(&child, DW_AT_count, &a) && dwarf_formudata(&a, &v) == 0)
			total *= v;
		else if (dwarf_attr_integrate(&child, DW_AT_upper_bound, &a) &&
			 dwarf_formudata(&a, &v) == 0)
			total *= v + 1;
		else
			return 0;
	} while (dwarf_siblingof(&child, &child) == 0);
	return any ? total : 0;
}

/* Can an element of type T hold a pointer? */
static bool elem_has_pointers(struct ty_table *tt, uint32_t t)
{
	const struct ty *e = ty_get(tt, t);

	return e->kind == TY_PTR ? e->pointee != TY_NONE : e->nr_slots > 0;
}

/*
 * Aggregate ID ends in an array of ELEM at OFF that runs on to the end
 * of the object. Of a union's alternatives (union { struct e e[0]; long
 * raw[0]; }), one whose elements hold pointers is kept.
 */
static void set_flex(struct ty_table *tt, uint32_t id, uint64_t off, uint32_t elem)
{
	struct ty *o = ty_get(tt, id);

	if (o->flex && o->flex_elem != TY_NONE && elem_has_pointers(tt, o->flex_elem) &&
	    (elem == TY_NONE || !elem_has_pointers(tt, elem)))
		return;
	o = ty_get(tt, id);
	o->flex = true;
	o->flex_off = off;
	o->flex_elem = elem;
}

/* A member of type TYPE_DIE at OFF inside aggregate ID; LAST: the last
 * data member (every alternative of a union is). */
static void add_member(struct ty_table *tt, uint32_t id, Dwarf_Die *type_die, uint64_t off,
		       const char *path, uint8_t flags, bool last)
{
	Dwarf_Die t;
	int tag;

	if (!peel(type_die, &t, NULL))
		return;
	tag = dwarf_tag(&t);
	if (!(flags & SLOT_UNION) && base_no_pointer(&t)) {
		Dwarf_Word size;

		if (dwarf_aggregate_size(&t, &size) == 0)
			ty_add_nonptr(tt, id, off, size);
		return;
	}
	if (tag == DW_TAG_pointer_type || tag == DW_TAG_reference_type ||
	    tag == DW_TAG_rvalue_reference_type) {
		Dwarf_Die pt;
		uint32_t pointee;

		if (!die_type(&t, &pt))
			return;			/* void * */
		/* a function pointer never holds a heap address (malloc's
		 * memory is not executable) */
		if (tag == DW_TAG_pointer_type && peel(&pt, &pt, NULL) &&
		    dwarf_tag(&pt) == DW_TAG_subroutine_type) {
			if (!(flags & SLOT_UNION))
				ty_add_nonptr(tt, id, off, 8);
			return;
		}
		priv(tt)->pointee_ctx++;
		pointee = ty_of_die(tt, &pt);
		priv(tt)->pointee_ctx--;
		if (pointee != TY_NONE && ty_get(tt, pointee)->kind != TY_OTHER)
			ty_add_slot(tt, id, off, 1, 8, pointee, path, flags);
	} else if (tag == DW_TAG_structure_type || tag == DW_TAG_class_type ||
		   tag == DW_TAG_union_type) {
		uint32_t sub = ty_of_die(tt, &t);

		if (sub != TY_NONE && ty_get(tt, sub)->complete) {
			copy_in(tt, id, sub, off, path,
				flags | (tag == DW_TAG_union_type ? SLOT_UNION : 0));
			/* a trailing struct or union that ends in a flexible
			 * array: so does this one */
			if (last && ty_get(tt, sub)->flex)
				set_flex(tt, id, off + ty_get(tt, sub)->flex_off,
					 ty_get(tt, sub)->flex_elem);
		}
	} else if (tag == DW_TAG_array_type) {
		uint64_t count = array_count(&t);
		Dwarf_Die et, pe;
		uint32_t elem;
		struct strbuf sb = STRBUF_INIT;

		if (!die_type(&t, &et) || !peel(&et, &pe, NULL))
			return;
		/* the last member, an array of unknown length, of 0 or (a
		 * struct hack) of 1 element: the object runs on past it */
		if (last && (count == 0 || (count == 1 && !(flags & SLOT_UNION))) &&
		    (elem = ty_of_die(tt, &pe)) != TY_NONE)
			set_flex(tt, id, off, elem);
		if (!(flags & SLOT_UNION) && count && base_no_pointer(&pe)) {
			Dwarf_Word esz;

			if (dwarf_aggregate_size(&pe, &esz) == 0)
				ty_add_nonptr(tt, id, off, count * esz);
			return;
		}
		elem = ty_of_die(tt, &pe);
		if (elem == TY_NONE || count == 0)
			return;
		if (ty_get(tt, elem)->kind == TY_PTR) {
			uint32_t pointee = ty_get(tt, elem)->pointee;

			if (pointee != TY_NONE && ty_get(tt, pointee)->kind != TY_OTHER) {
				strbuf_addf(&sb, "%s[]", path);
				ty_add_slot(tt, id, off, count > UINT32_MAX ? UINT32_MAX : (uint32_t)count,
					 8, pointee, sb.buf, flags);
			}
		} else if ((ty_get(tt, elem)->kind == TY_STRUCT ||
			    ty_get(tt, elem)->kind == TY_UNION) && ty_get(tt, elem)->complete &&
			   (ty_get(tt, elem)->nr_slots || ty_get(tt, elem)->nr_embeds)) {
			uint64_t esz = ty_get(tt, elem)->size;

			strbuf_addf(&sb, "%s[]", path);
			if (esz && count <= UINT32_MAX && esz <= UINT32_MAX)
				copy_in_n(tt, id, elem, off, sb.buf, flags, count, esz);
		}
		strbuf_release(&sb);
	}
}

static bool member_offset(Dwarf_Die *m, uint64_t *off)
{
	Dwarf_Attribute a;
	Dwarf_Word v;
	Dwarf_Op *ops;
	size_t nops;

	if (!dwarf_attr_integrate(m, DW_AT_data_member_location, &a)) {
		*off = 0;		/* union member, or first member */
		return true;
	}
	if (dwarf_formudata(&a, &v) == 0) {
		*off = v;
		return true;
	}
	if (dwarf_getlocation(&a, &ops, &nops) == 0 && nops == 1 &&
	    ops[0].atom == DW_OP_plus_uconst) {
		*off = ops[0].number;
		return true;
	}
	return false;			/* virtual base: runtime offset */
}

static void fill_aggregate(struct ty_table *tt, uint32_t id, Dwarf_Die *die)
{
	Dwarf_Die child, next;
	bool is_union = dwarf_tag(die) == DW_TAG_union_type;
	struct strbuf path = STRBUF_INIT;
	Dwarf_Off last_member = 0;
	bool more;

	if (dwarf_child(die, &child) != 0) {
		ty_get(tt, id)->complete = true;
		return;
	}
	/* the last data member (C++ puts member functions and template
	 * parameters after the members) */
	next = child;
	do {
		if (dwarf_tag(&next) == DW_TAG_member &&
		    !dwarf_hasattr(&next, DW_AT_declaration) && !dwarf_hasattr(&next, DW_AT_external))
			last_member = dwarf_dieoffset(&next);
	} while (dwarf_siblingof(&next, &next) == 0);
	do {
		int tag = dwarf_tag(&child);
		Dwarf_Die mt;
		uint64_t off;
		const char *n;

		more = dwarf_siblingof(&child, &next) == 0;
		if (tag == DW_TAG_template_type_parameter && die_type(&child, &mt)) {
			uint32_t a = ty_of_die(tt, &mt);
			struct ty *o = ty_get(tt, id);

			if (a != TY_NONE) {
				const char *pn = dwarf_diename(&child);
				uint32_t si = add_str(tt, pn ? pn : "");

				o = ty_get(tt, id);
				o->targs = xrealloc(o->targs, (o->nr_targs + 1) * sizeof(*o->targs));
				o->targ_names = xrealloc(o->targ_names,
							 (o->nr_targs + 1) * sizeof(*o->targ_names));
				o->targs[o->nr_targs] = a;
				o->targ_names[o->nr_targs++] = si;
			}
			goto next;
		}
		if (tag != DW_TAG_member && tag != DW_TAG_inheritance)
			goto next;
		if (dwarf_hasattr(&child, DW_AT_declaration) ||
		    dwarf_hasattr(&child, DW_AT_external) ||
		    dwarf_hasattr(&child, DW_AT_bit_size) ||
		    dwarf_hasattr(&child, DW_AT_data_bit_offset))
			goto next;
		if (!member_offset(&child, &off) || !die_type(&child, &mt))
			goto next;
		n = dwarf_diename(&child);
		if (n && !strncmp(n, "_vptr", 5)) {
			if (off == 0)
				ty_get(tt, id)->vptr = true;
			goto next;
		}
		strbuf_reset(&path);
		if (tag == DW_TAG_member && n)
			strbuf_addf(&path, ".%s", n);
		add_member(tt, id, &mt, off, path.buf, is_union ? SLOT_UNION : 0,
			   is_union || dwarf_dieoffset(&child) == last_member);
		{
			Dwarf_Die pt;
			uint32_t mty = ty_of_die(tt, &mt);

			ty_add_member(tt, id, off, peel(&mt, &pt, NULL) ? die_size(&pt) : 0, mty,
				      tag == DW_TAG_member && n ? n : "");
		}
		if (tag == DW_TAG_inheritance) {
			uint32_t base = ty_of_die(tt, &mt);

			if (base != TY_NONE && ty_get(tt, base)->vptr)
				ty_get(tt, id)->vptr = true;
		}
next:
		child = next;
	} while (more);
	strbuf_release(&path);
	ty_get(tt, id)->complete = true;
}

static uint32_t intern(struct ty_table *tt, const char *name, enum ty_kind kind,
		       uint64_t size, bool *created)
{
	struct ty_priv *p = priv(tt);
	struct strbuf key = STRBUF_INIT;
	const uint64_t *found;
	uint32_t id;

	strbuf_addf(&key, "%d:%llu:%s", (int)kind, (unsigned long long)size, name);
	found = hashmap_find_str(&p->by_name, key.buf);
	if (found) {
		strbuf_release(&key);
		*created = false;
		return (uint32_t)*found;
	}
	id = ty_new(tt, name, kind, size);
	hashmap_put_str(&p->by_name, key.buf, id);
	strbuf_release(&key);
	*created = true;
	return id;
}

static uint32_t ty_of_die_inner(struct ty_table *tt, Dwarf_Die *die)
{
	struct ty_priv *p = priv(tt);
	const char *tdname = NULL;
	Dwarf_Die t;
	uint64_t key;
	uint32_t id;
	bool created;
	int tag;

	if (!peel(die, &t, &tdname))
		return TY_NONE;
	key = die_key(tt, &t);
	{
		const uint64_t *memo = hashmap_find_u64(&p->memo, key);

		if (memo) {
			id = (uint32_t)*memo;
			/* met as a pointee, needed by value now: fill it */
			if (ty_get(tt, id)->shell && !p->pointee_ctx) {
				ty_get(tt, id)->shell = false;
				fill_aggregate(tt, id, &t);
			}
			return id;
		}
	}
	tag = dwarf_tag(&t);
	switch (tag) {
	case DW_TAG_base_type:
	case DW_TAG_enumeration_type: {
		char *n = tag == DW_TAG_base_type ? NULL : aggregate_name(tt, &t);
		const char *name = tag == DW_TAG_base_type ? dwarf_diename(&t) : n;

		id = intern(tt, name ? name : tdname ? tdname : "enum (anonymous)", TY_BASE,
			    die_size(&t), &created);
		free(n);
		break;
	}
	case DW_TAG_pointer_type:
	case DW_TAG_reference_type:
	case DW_TAG_rvalue_reference_type: {
		Dwarf_Die pt;
		uint32_t pointee = TY_NONE;
		struct strbuf sb = STRBUF_INIT;

		/* memo first: struct s { struct s *self; } reaches this again */
		id = ty_new(tt, "void *", TY_PTR, 8);
		hashmap_put_u64(&p->memo, key, id);
		p->pointee_ctx++;
		if (die_type(&t, &pt))
			pointee = ty_of_die_inner(tt, &pt);
		p->pointee_ctx--;
		ty_get(tt, id)->pointee = pointee;
		strbuf_addf(&sb, "%s *", pointee == TY_NONE ? "void" : ty_get(tt, pointee)->name);
		free(ty_get(tt, id)->name);
		ty_get(tt, id)->name = strbuf_detach(&sb, NULL);
		ty_get(tt, id)->complete = true;
		return id;
	}
	case DW_TAG_array_type: {
		Dwarf_Die et;
		uint32_t elem;
		struct strbuf sb = STRBUF_INIT;

		if (!die_type(&t, &et) || (elem = ty_of_die(tt, &et)) == TY_NONE)
			return TY_NONE;
		strbuf_addf(&sb, "%s[]", ty_get(tt, elem)->name);
		id = ty_new(tt, sb.buf, TY_ARRAY, die_size(&t));
		strbuf_release(&sb);
		ty_get(tt, id)->elem = elem;
		ty_get(tt, id)->count = array_count(&t);
		ty_get(tt, id)->complete = true;
		break;
	}
	case DW_TAG_structure_type:
	case DW_TAG_class_type:
	case DW_TAG_union_type: {
		char *name = aggregate_name(tt, &t);
		enum ty_kind kind = tag == DW_TAG_union_type ? TY_UNION : TY_STRUCT;
		bool anon;

		if (dwarf_hasattr(&t, DW_AT_declaration)) {
			const uint64_t *di = name ? hashmap_find_str(&p->defs, name) : NULL;

			if (di) {
				Dwarf_Die def = p->def_dies[*di];

				free(name);
				id = ty_of_die(tt, &def);
				hashmap_put_u64(&p->memo, key, id);
				return id;
			}
			/* opaque: never types a chunk */
			id = ty_new(tt, name ? name : "(opaque)", TY_OTHER, 0);
			free(name);
			break;
		}
		anon = !name && !tdname;
		if (!name) {
			struct strbuf sb = STRBUF_INIT;

			if (tdname)
				strbuf_addstr(&sb, tdname);
			else
				strbuf_addf(&sb, "%s (anonymous)", tag_word(tag));
			name = strbuf_detach(&sb, NULL);
		}
		/* an aggregate with neither a name nor a typedef (a member's
		 * anonymous union) is its own type: two of one size in
		 * different places are different layouts */
		if (anon) {
			id = ty_new(tt, name, kind, die_size(&t));
			created = true;
		} else {
			id = intern(tt, name, kind, die_size(&t), &created);
		}
		free(name);
		hashmap_put_u64(&p->memo, key, id);
		if (created && p->pointee_ctx) {
			ty_get(tt, id)->shell = true;
			ALLOC_GROW(p->shells, p->nr_shells + 1, p->alloc_shells);
			p->shells[p->nr_shells++] = (struct shell){ t, id };
		} else if (created || (ty_get(tt, id)->shell && !p->pointee_ctx)) {
			/* (or the same struct from another CU, met as a pointee
			 * first and needed by value now) */
			ty_get(tt, id)->shell = false;
			fill_aggregate(tt, id, &t);
		}
		return id;
	}
	default:
		/* subroutine types, unspecified (nullptr_t), ptr-to-member */
		id = ty_new(tt, "(other)", TY_OTHER, 0);
		break;
	}
	hashmap_put_u64(&p->memo, key, id);
	return id;
}

uint32_t ty_of_die(struct ty_table *tt, Dwarf_Die *die)
{
	struct ty_priv *p = priv(tt);
	uint32_t id;

	p->depth++;
	id = ty_of_die_inner(tt, die);
	if (p->depth == 1) {
		/* the pointees met on the way, each filled once (filling one
		 * can add more) */
		while (p->nr_shells) {
			struct shell sh = p->shells[--p->nr_shells];

			if (ty_get(tt, sh.id)->shell) {
				ty_get(tt, sh.id)->shell = false;
				fill_aggregate(tt, sh.id, &sh.die);
			}
		}
	}
	p->depth--;
	return id;
}

uint32_t ty_of_typed_die(struct ty_table *tt, Dwarf_Die *die)
{
	Dwarf_Attribute a;
	Dwarf_Die td;

	if (!dwarf_attr_integrate(die, DW_AT_type, &a) || !dwarf_formref_die(&a, &td))
		return TY_NONE;
	return ty_of_die(tt, &td);
}

/* ---- the embed index ---------------------------------------------------------- */

#define EMBED_MAX_OFF 0xffffffu		/* offsets kept in the key's low 24 bits */

static uint64_t embed_key(uint32_t type, uint64_t off)
{
	return ((uint64_t)type + 1) << 24 | off;
}

/* OWNER holds an M at OFF. FRESH: the first indexing, where owners come
 * in increasing order, so that one already listed is the list's last. */
static void embed_add(struct ty_table *tt, uint32_t m, uint64_t off, uint32_t owner, bool fresh)
{
	struct ty_priv *p = priv(tt);
	bool added;
	uint64_t li;
	struct ty_list *l;

	if (off > EMBED_MAX_OFF)
		return;
	li = *hashmap_add_u64(&p->embeds, embed_key(m, off), p->nr_lists, &added);
	if (added) {
		ALLOC_GROW(p->lists, p->nr_lists + 1, p->alloc_lists);
		memset(&p->lists[p->nr_lists++], 0, sizeof(*p->lists));
	}
	l = &p->lists[li];
	ty_get(tt, m)->embedded = true;
	if (fresh) {
		if (l->nr && l->types[l->nr - 1] == owner)
			return;
	} else {
		for (size_t k = 0; k < l->nr; k++)
			if (l->types[k] == owner)
				return;
	}
	if (l->nr == l->alloc) {
		l->alloc = l->alloc ? 2 * l->alloc : 4;
		l->types = xrealloc(l->types, l->alloc * sizeof(*l->types));
	}
	l->types[l->nr++] = owner;
}

void ty_index_embeds(struct ty_table *tt)
{
	size_t done = tt->nr;
	bool fresh = !priv(tt)->embeds_indexed;

	for (size_t id = 0; id < done; id++) {
		struct ty *t = ty_get(tt, (uint32_t)id);

		if ((t->kind != TY_STRUCT && t->kind != TY_UNION) || !t->complete)
			continue;
		for (uint32_t e = 0; e < t->nr_embeds; e++)
			embed_add(tt, t->embeds[e].type, t->embeds[e].off, (uint32_t)id, fresh);
	}
	priv(tt)->embeds_indexed = true;
}

const struct ty_list *ty_embedders(const struct ty_table *tt, uint32_t type, uint64_t off)
{
	const struct ty_priv *p = tt->priv;
	const uint64_t *li;

	/* most types are nobody's member: no hashing for them */
	if (off > EMBED_MAX_OFF || type >= tt->nr || !tt->types[type].embedded ||
	    !(li = hashmap_find_u64(&p->embeds, embed_key(type, off))))
		return NULL;
	return &p->lists[*li];
}
