/*
 * t-dwtypes.c - DWARF types converted into the type table
 * (debuginfo/types.c, dwindex.c), on this program's own debug info.
 *
 * The test opens its own executable's DWARF, runs the index pass over it
 * and converts every definition, as typing does, then checks the table:
 *   direct members: a struct's members in declaration order, with their
 *     offsets, sizes, types and names;
 *   anonymous unions and structs: one entry per definition, never merged
 *     by kind and size with another unit's (a union with a pointer
 *     alternative here, one without there, in both orders); an anonymous
 *     struct a typedef names takes the typedef's name even when the index
 *     pass converts its definition directly;
 *   mutually pointing structs: a header pointing to a struct that
 *     begins with the header (CPython's object and type object), the
 *     header converted first: the type struct embeds the header and has
 *     its pointers, in the index pass's order and with the header
 *     converted alone into a fresh table.
 * Without DWARF in its own executable (built with -g0) it skips.
 */
#include "config.h"
#include "tap.h"
#include "t-dwtypes.h"
#include "debuginfo/dwindex.h"
#include "debuginfo/modset.h"
#include "debuginfo/types.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* an object model: a header pointing to a type struct that begins with
 * the header (declared in this order: the header's DIE comes first) */
struct dw_tobj;
struct dw_obj {
	long rc;
	struct dw_tobj *type;
};

struct dw_tobj {
	struct dw_obj base;
	const char *name;
	struct dw_obj *dict;
};

struct dw_obj dw_obj_g;
struct dw_tobj dw_tobj_g;

/* anonymous unions and structs of the same kind and size as those of the
 * other unit (t-dwtypes-cu2.c), with other members */
struct dw_holder {
	int kind;
	union {
		struct dw_leaf *leaf;
		double d;
		long pad[2];
	} u;
};

struct dw_holder2 {
	int kind;
	union {
		long a;
		double b[2];
	} u;
};

typedef struct {
	struct dw_leaf *first;
	long n;
} dw_named;

struct dw_holder dw_holder_g;
struct dw_holder2 dw_holder2_g;
dw_named dw_named_g;

static struct ty_table tt;

static struct ty *named(const char *name)
{
	uint32_t id = ty_by_name(&tt, name);

	return id == TY_NONE ? NULL : ty_get(&tt, id);
}

static const char *member_name(const struct ty *t, uint32_t k)
{
	return k < t->nr_members ? tt.strs[t->members[k].name] : "(none)";
}

static void check_members(void)
{
	struct ty *t = named("struct dw_tobj");
	uint32_t obj = ty_by_name(&tt, "struct dw_obj");

	if (!ok(t && t->nr_members == 3, "struct dw_tobj: 3 direct members")) {
		for (int k = 0; k < 3; k++)
			ok(0, "(no struct dw_tobj)");
		return;
	}
	ok(t->members[0].off == 0 && t->members[0].size == 16 && t->members[0].type == obj &&
	   !strcmp(member_name(t, 0), "base"),
	   "member 0: base, struct dw_obj at 0, 16 bytes");
	ok(t->members[1].off == 16 && t->members[1].size == 8 &&
	   ty_get(&tt, t->members[1].type)->kind == TY_PTR && !strcmp(member_name(t, 1), "name"),
	   "member 1: name, a pointer at 16");
	ok(t->members[2].off == 24 && ty_get(&tt, t->members[2].type)->pointee == obj &&
	   !strcmp(member_name(t, 2), "dict"),
	   "member 2: dict, a struct dw_obj * at 24");
}

/* Does struct NAME have exactly NR pointer slots, the first at OFF to
 * POINTEE? */
static void check_slots(const char *name, uint32_t nr, uint64_t off, const char *pointee)
{
	struct ty *t = named(name);
	uint32_t p = pointee ? ty_by_name(&tt, pointee) : TY_NONE;

	if (!t) {
		ok(0, "%s: in the table", name);
		return;
	}
	if (!nr) {
		ok(t->nr_slots == 0, "%s: no pointer (%u slots)", name, t->nr_slots);
		return;
	}
	ok(t->nr_slots == nr && t->slots[0].off == off && t->slots[0].pointee == p,
	   "%s: a pointer to %s at %llu (%u slots, the first at %llu)", name, pointee,
	   (unsigned long long)off, t->nr_slots,
	   t->nr_slots ? (unsigned long long)t->slots[0].off : 0ull);
}

static bool has_slot(const struct ty *s, uint64_t off, uint32_t pointee)
{
	for (uint32_t k = 0; k < s->nr_slots; k++)
		if (s->slots[k].off == off && s->slots[k].pointee == pointee)
			return true;
	return false;
}

static bool embeds_at0(struct ty_table *t, uint32_t outer, uint32_t inner)
{
	const struct ty_list *l = ty_embedders(t, inner, 0);

	for (size_t k = 0; l && k < l->nr; k++)
		if (l->types[k] == outer)
			return true;
	return false;
}

/* struct dw_tobj in table T: it begins with struct dw_obj and has its
 * pointer, and its own */
static void check_object_model(struct ty_table *t, const char *how)
{
	uint32_t obj = ty_by_name(t, "struct dw_obj"), tobj = ty_by_name(t, "struct dw_tobj");
	struct ty *tp;

	if (!ok(obj != TY_NONE && tobj != TY_NONE, "%s: both structs converted", how)) {
		ok(0, "%s", how);
		ok(0, "%s", how);
		return;
	}
	tp = ty_get(t, tobj);
	ok(has_slot(tp, 8, tobj) && has_slot(tp, 24, obj),
	   "%s: struct dw_tobj has the header's pointer (.base.type at 8) and its own (.dict at 24)",
	   how);
	ty_index_embeds(t);
	ok(embeds_at0(t, tobj, obj), "%s: struct dw_tobj embeds struct dw_obj at 0", how);
}

/* A fresh table where the header is converted first, alone. */
static void check_header_first(const struct dw_index *idx)
{
	struct ty_table t2;

	ty_table_init(&t2);
	for (size_t i = 0; i < idx->nr_defs; i++) {
		Dwarf_Die d = idx->defs[i];
		const char *n = dwarf_diename(&d);

		if (n && !strcmp(n, "dw_obj"))
			(void)ty_of_die(&t2, &d);
	}
	check_object_model(&t2, "header converted alone");
	ty_table_free(&t2);
}

/* The same types, field by field (slots, embeds, members, ranges). */
static bool same_type(const struct ty *a, const struct ty *b)
{
	return !strcmp(a->name, b->name) && a->kind == b->kind && a->size == b->size &&
	       a->complete == b->complete && a->flex == b->flex && a->vptr == b->vptr &&
	       a->pointee == b->pointee && a->elem == b->elem &&
	       a->nr_slots == b->nr_slots && a->nr_embeds == b->nr_embeds &&
	       a->nr_members == b->nr_members && a->nr_nonptr == b->nr_nonptr &&
	       a->nr_targs == b->nr_targs &&
	       (!a->nr_slots || !memcmp(a->slots, b->slots, a->nr_slots * sizeof(*a->slots))) &&
	       (!a->nr_embeds ||
		!memcmp(a->embeds, b->embeds, a->nr_embeds * sizeof(*a->embeds))) &&
	       (!a->nr_members ||
		!memcmp(a->members, b->members, a->nr_members * sizeof(*a->members))) &&
	       (!a->nr_nonptr ||
		!memcmp(a->nonptr, b->nonptr, a->nr_nonptr * sizeof(*a->nonptr))) &&
	       (!a->nr_targs || !memcmp(a->targs, b->targs, a->nr_targs * sizeof(*a->targs)));
}

/* ty_table_clone (what serve and watch type each snapshot with): every
 * type, name lookup, embed list and memoised DIE as in the original, and
 * what is added to the copy stays there. */
static void check_clone(const struct dw_index *idx)
{
	struct ty_table c;
	size_t nr = tt.nr, diff = 0, lookups = 0;
	bool strs = true;

	ty_table_clone(&c, &tt);
	for (size_t i = 0; i < nr && i < c.nr; i++)
		if (!same_type(ty_get(&tt, (uint32_t)i), ty_get(&c, (uint32_t)i)))
			diff++;
	for (size_t i = 0; i < tt.nr_strs; i++)
		strs = strs && tt.strs[i] != c.strs[i] && !strcmp(tt.strs[i], c.strs[i]);
	ok(c.nr == nr && !diff && c.nr_strs == tt.nr_strs && strs,
	   "clone: %zu types (of %zu), %zu differ; strings copied", c.nr, nr, diff);
	for (size_t i = 0; i < nr; i++) {
		struct ty *t = ty_get(&tt, (uint32_t)i);
		const struct ty_list *a = ty_embedders(&tt, (uint32_t)i, 0),
				     *b = ty_embedders(&c, (uint32_t)i, 0);

		if (ty_by_name(&tt, t->name) != ty_by_name(&c, t->name) || !a != !b ||
		    (a && (a->nr != b->nr || memcmp(a->types, b->types, a->nr * sizeof(*a->types)))))
			lookups++;
	}
	for (size_t i = 0; i < idx->nr_defs; i++) {
		Dwarf_Die d = idx->defs[i];

		if (ty_of_die(&tt, &d) != ty_of_die(&c, &d))
			lookups++;
	}
	ok(!lookups && c.nr == nr && tt.nr == nr,
	   "clone: names, embedders and DIEs give the same ids (%zu differ), nothing converted again",
	   lookups);
	(void)ty_new(&c, "struct only_in_the_clone", TY_STRUCT, 8);
	ok(ty_by_name(&c, "struct only_in_the_clone") != TY_NONE &&
	   ty_by_name(&tt, "struct only_in_the_clone") == TY_NONE && tt.nr == nr,
	   "clone: a type added to the copy is not in the original");
	ty_table_free(&c);
}

int main(void)
{
	struct modset_module mod = { 0 };
	struct modset ms = { .mods = &mod, .nr_mods = 1 };
	struct dw_index idx;
	int fd = open("/proc/self/exe", O_RDONLY);

	mod.dw = fd < 0 ? NULL : dwarf_begin(fd, DWARF_C_READ);
	if (!mod.dw) {
		printf("1..0 # SKIP this test's executable has no DWARF (built without -g)\n");
		return 0;
	}
	ty_table_init(&tt);
	dw_index_build(&idx, &ms, &tt);
	/* as typing_run: every definition, then the embed index */
	for (size_t i = 0; i < idx.nr_defs; i++)
		(void)ty_of_die(&tt, &idx.defs[i]);
	ty_index_embeds(&tt);

	plan(19);
	check_members();
	check_slots("struct dw_holder", 1, 8, "struct dw_leaf");
	check_slots("struct dw_other2", 1, 8, "struct dw_leaf");
	check_slots("struct dw_holder2", 0, 0, NULL);
	check_slots("struct dw_other", 0, 0, NULL);
	check_slots("dw_named", 1, 0, "struct dw_leaf");
	check_slots("dw_plain", 0, 0, NULL);
	check_object_model(&tt, "index pass");
	check_header_first(&idx);
	check_clone(&idx);

	dw_index_release(&idx);
	ty_table_free(&tt);
	dwarf_end(mod.dw);
	close(fd);
	return done();
}
