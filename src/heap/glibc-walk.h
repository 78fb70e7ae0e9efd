/*
 * glibc-walk.h - private to heap/glibc*: the walk itself, separated from
 * locating so unit tests can run it on a memimage with a hand-made layout.
 */
#ifndef HEAPGRAB_GLIBC_WALK_H
#define HEAPGRAB_GLIBC_WALK_H

#include "util/compiler.h"

struct glibc_layout;
struct target;
struct diag_sink;
struct glibc;
struct heap_walk;

struct glibc_walk_params {
	const struct glibc_layout *l;
	taddr_t main_arena;
	taddr_t mp;
	bool have_tpoff;	/* tcache pointer = *(fs_base + tpoff) */
	int64_t tpoff;
};

/* What glibc_walk() would pass for G (its layout stays G's). */
void glibc_get_walk_params(const struct glibc *g, struct glibc_walk_params *ret);

struct glibc_plan;

/* What glibc_walk_heap() will read (glibc.h glibc_copy_plan()). */
MUST_CHECK int glibc_walk_plan(const struct glibc_walk_params *p, struct target *t, bool scan,
			       struct glibc_plan *ret_plan);

MUST_CHECK int glibc_walk_heap(const struct glibc_walk_params *p, struct target *t,
			       struct diag_sink *diag, struct heap_walk *ret_walk);

#endif /* HEAPGRAB_GLIBC_WALK_H */
