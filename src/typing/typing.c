/*
 * typing.c - typing_run(): the passes of the typing engine, in order.
 *
 *   1. the modules of the image (debuginfo/modset.c) and one pass over
 *      their DWARF (debuginfo/dwindex.c): struct definitions registered,
 *      then all converted, which fills the embed index; variables listed;
 *   2. glibc's struct malloc_chunk is noted (it types nothing), and the
 *      container links of libstdc++'s types retargeted (cxx.c);
 *   3. vtables: chunks whose first word points into a vtable (cxx.c);
 *   4. typed roots from the roots layer, each group scanned and the
 *      worklist drained before the next: globals and statics, then each
 *      thread's descriptor and TLS variables, then the locals and
 *      parameters of every stack frame (roots/frames.c, with frames from
 *      an unwinder of roots/unwind.h);
 *   5. header resolution (headers.c), then shapes (shape.c);
 *   6. the result (result.c).
 * The order is part of the result: ties between two types of equal rank
 * and size go to the first, and root names come from the first root that
 * reached a chunk.
 *
 * typing_run_roots() runs 2, 4 and 5 and 6 on types and roots the caller
 * made (no DWARF, no modules: unit tests and fuzzers).
 */
#include "config.h"
#include "typing/typing.h"
#include "typing/typing-internal.h"
#include "debuginfo/dwindex.h"
#include "debuginfo/modset.h"
#include "roots/roots.h"
#include "roots/unwind.h"
#include "target/target.h"
#include "target/unwind.h"
#include "util/diag.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <dwarf.h>
#include <stdlib.h>
#include <string.h>

static void prepare(struct typer *ty)
{
	/* glibc's own chunk headers: a malloc_chunk * points 16 bytes before
	 * a chunk's user area, never to what the program stores */
	ty->malloc_chunk = ty_by_name(&ty->tt, "struct malloc_chunk");
	typer_note_node_bases(ty);
	typer_retype_containers(ty);
	typer_index_trailing(ty);
}

/*
 * Structs defined in Go compilation units: Go's objects live in Go's own
 * heap, never in malloc's (a cgo program's C structs are in C units).
 */
static void mark_foreign(struct typer *ty, const struct dw_index *idx)
{
	for (size_t i = 0; i < idx->nr_defs; i++) {
		Dwarf_Die cu, die = idx->defs[i];
		uint32_t t;

		if (!dwarf_diecu(&die, &cu, NULL, NULL) || dwarf_srclang(&cu) != DW_LANG_Go)
			continue;
		t = ty_of_die(&ty->tt, &die);
		if (t == TY_NONE)
			continue;
		if (!ty->foreign) {
			ty->nr_foreign = ty->tt.nr;
			ty->foreign = xcalloc(ty->nr_foreign + 1, 1);
		}
		if (t < ty->nr_foreign)
			ty->foreign[t] = 1;
	}
}

static void scan_group(struct typer *ty, const struct root_list *l)
{
	for (size_t i = 0; i < l->nr; i++)
		typer_scan_root(ty, &l->v[i]);
	typer_drain(ty);
}

static void finish(struct typer *ty, struct typing_result *r)
{
	typer_resolve_headers(ty);
	if (!ty->opts || !ty->opts->no_infer)
		typer_type_by_shape(ty);
	typer_result(ty, r);
}

/*
 * The frames for stack roots: the ones an unwinder that needs the live
 * threads stopped took during the stop (opts->frames), else libdw's over
 * the image. *RET_OWN is what the caller frees.
 */
static const struct unwound *frames_for(struct typer *ty, struct unwound **ret_own)
{
	const struct unwind_ops *ops = ty->opts && ty->opts->unwinder == TYPING_UNWIND_LIBUNWIND ?
				       &unwind_libunwind : &unwind_libdw;

	*ret_own = NULL;
	if (ops->needs_stop) {
		if (ty->opts->frames)
			return ty->opts->frames;
		/* the stop could not unwind: libdw after all */
		ops = &unwind_libdw;
	}
	if (ops->unwind(ty->image, ty->ms, ret_own) < 0)
		return NULL;
	return *ret_own;
}

static void typed_roots(struct typer *ty, const struct dw_index *idx)
{
	struct root_source src = {
		.image = ty->image, .ms = ty->ms, .idx = idx, .tt = &ty->tt,
	};
	struct root_list l = { 0 };

	roots_globals(&src, &l);
	scan_group(ty, &l);
	l.nr = 0;
	roots_tls(&src, &l);
	scan_group(ty, &l);
	l.nr = 0;
	if (!ty->opts || ty->opts->unwinder != TYPING_UNWIND_NONE) {
		struct unwound *own;
		const struct unwound *frames = frames_for(ty, &own);

		roots_frames(&src, frames, &l);
		scan_group(ty, &l);
		unwound_free(own);
	}
	root_list_release(&l);
}

int typing_run(struct target *image, const struct heap_walk *walk,
	       const struct typing_opts *opts, struct diag_sink *diag,
	       struct typing_result **ret)
{
	struct typing_result *r = xcalloc(1, sizeof(*r));
	struct typer ty;
	struct modset_opts mo = { .debug_dir = opts ? opts->debug_dir : NULL };
	struct dw_index idx = { 0 };
	struct strbuf sb = STRBUF_INIT;
	int err;

	typer_init(&ty, image, walk, opts);
	err = modset_open(image, &mo, &ty.ms);
	if (err < 0)
		goto out;
	for (size_t i = 0; i < ty.ms->nr_mods; i++)
		if (!ty.ms->mods[i].dw)
			strbuf_addf(&sb, "%s\n", ty.ms->mods[i].path);
	r->no_dwarf = strbuf_detach(&sb, NULL);

	dw_index_build(&idx, ty.ms, &ty.tt);
	/* convert every definition: fills the embed index */
	for (size_t i = 0; i < idx.nr_defs; i++)
		(void)ty_of_die(&ty.tt, &idx.defs[i]);
	mark_foreign(&ty, &idx);
	typer_cxx_value_buffers(&ty.tt);
	ty_index_embeds(&ty.tt);
	prepare(&ty);
	typer_type_by_vtables(&ty);
	typer_drain(&ty);
	typed_roots(&ty, &idx);
	finish(&ty, r);
	if (ty.ms->nr_mods && ty.ms->nr_no_dwarf == ty.ms->nr_mods)
		diag_report(diag, DIAG_NOTE, "no module has debug info: chunks stay untyped");
	err = 0;
out:
	dw_index_release(&idx);
	modset_free(ty.ms);
	ty.ms = NULL;
	typer_release(&ty);
	if (err < 0) {
		typing_result_free(r);
		return err;
	}
	*ret = r;
	return 0;
}

int typing_run_roots(struct target *image, const struct heap_walk *walk, struct ty_table *tt,
		     const struct root_list *groups, size_t nr_groups,
		     const struct typing_opts *opts, struct typing_result **ret)
{
	struct typing_result *r = xcalloc(1, sizeof(*r));
	struct typer ty;

	typer_init(&ty, image, walk, opts);
	ty_table_free(&ty.tt);
	ty.tt = *tt;
	memset(tt, 0, sizeof(*tt));
	typer_cxx_value_buffers(&ty.tt);
	ty_index_embeds(&ty.tt);
	prepare(&ty);
	for (size_t g = 0; g < nr_groups; g++)
		scan_group(&ty, &groups[g]);
	finish(&ty, r);
	r->no_dwarf = xstrdup("");
	typer_release(&ty);
	*ret = r;
	return 0;
}
