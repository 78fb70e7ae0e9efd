/*
 * typing.c - typing_run(): the passes of the typing engine, in order.
 *
 *   1. the modules of the image (debuginfo/modset.c) and one pass over
 *      their DWARF (debuginfo/dwindex.c): struct definitions registered,
 *      then all converted, which fills the embed index; variables listed;
 *   2. glibc's struct malloc_chunk is noted (it types nothing), the
 *      container links of libstdc++'s types retargeted (cxx.c), and an
 *      object model looked for (objmodel.c);
 *   3. vtables: chunks whose first word points into a vtable (cxx.c);
 *   4. typed roots from the roots layer, each group scanned and the
 *      worklist drained before the next: globals and statics, then each
 *      thread's descriptor and TLS variables, then the locals and
 *      parameters of every stack frame (roots/frames.c, with frames from
 *      an unwinder of roots/unwind.h);
 *   5. header resolution (headers.c) and tagged values (tagged.c), in
 *      rounds while either types something (each learns from what the
 *      other typed), then shapes (shape.c);
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
#include "util/clock.h"
#include "util/diag.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <dwarf.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* rounds of header resolution and tagged values (finish) */
#define MAX_LEARN_ROUNDS 16

const char *typing_phase_name(enum typing_phase p)
{
	static const char *const names[TYPING_PHASE__COUNT] = {
		[TYPING_PHASE_MODULES] = "modules",
		[TYPING_PHASE_INDEX] = "index",
		[TYPING_PHASE_CONVERT] = "convert",
		[TYPING_PHASE_PREPARE] = "prepare",
		[TYPING_PHASE_VTABLES] = "vtables",
		[TYPING_PHASE_GLOBALS] = "globals",
		[TYPING_PHASE_GLOBALS_SCAN] = "globals-scan",
		[TYPING_PHASE_TLS] = "tls",
		[TYPING_PHASE_TLS_SCAN] = "tls-scan",
		[TYPING_PHASE_UNWIND] = "unwind",
		[TYPING_PHASE_FRAMES] = "frames",
		[TYPING_PHASE_FRAMES_SCAN] = "frames-scan",
		[TYPING_PHASE_LEARN] = "learn",
		[TYPING_PHASE_SHAPES] = "shapes",
		[TYPING_PHASE_RESULT] = "result",
	};

	return (unsigned)p < TYPING_PHASE__COUNT ? names[p] : "?";
}

void typing_phases_text(const struct typing_result *r, struct strbuf *out)
{
	for (int p = 0; p < TYPING_PHASE__COUNT; p++)
		strbuf_addf(out, "%s%s %.1f ms", p ? ", " : "", typing_phase_name(p),
			    r->phase_ms[p]);
}

/* Charge the time since *T0 to phase P of R (NULL: not measured); *T0
 * becomes now. */
static void phase_end(struct typing_result *r, enum typing_phase p, double *t0)
{
	double now = monotonic_ms();

	if (r)
		r->phase_ms[p] += now - *t0;
	*t0 = now;
}

/*
 * The debug info kept between runs (typing_opts.keep_debuginfo): opening
 * the modules (libdw decompresses every debug section of every module),
 * the index pass and converting every definition are most of a small
 * heap's typing (0.4, 0.3 and 0.3 s of cupt's), and they depend on the
 * modules' files only, while serve and watch type the same target again
 * and again. A run takes the kept set when its target maps the same files
 * at the same places (modset_same), else drops it and reads its own; it
 * leaves its set kept: the modules, the index and the type table as it is
 * after the conversion, of which each run types with a copy (rules add
 * and change types). The kept Dwfl is never attached to threads (the
 * libdw unwinder attaches the Dwfl it unwinds with for good): unwinding
 * gets a session of its own.
 */
struct kept_debuginfo {
	struct modset *ms;
	struct dw_index idx;
	struct ty_table tt;	/* after the conversion (typed) */
	bool typed;
};

static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kept_debuginfo *kept;

static void kept_free(struct kept_debuginfo *kd)
{
	if (!kd)
		return;
	if (kd->typed)
		ty_table_free(&kd->tt);
	dw_index_release(&kd->idx);
	modset_free(kd->ms);
	free(kd);
}

static struct kept_debuginfo *take_kept(void)
{
	struct kept_debuginfo *kd;

	pthread_mutex_lock(&kept_lock);
	kd = kept;
	kept = NULL;
	pthread_mutex_unlock(&kept_lock);
	return kd;
}

void typing_drop_debuginfo(void)
{
	kept_free(take_kept());
}

static void keep_debuginfo(struct kept_debuginfo *kd)
{
	struct kept_debuginfo *old;

	pthread_mutex_lock(&kept_lock);
	old = kept;
	kept = kd;
	pthread_mutex_unlock(&kept_lock);
	kept_free(old);
}

/* The modules of IMAGE with their DWARF: the kept ones (*RET_KEPT) when
 * KEEP and they are the same, else opened. */
static int open_modules(struct target *image, const struct modset_opts *mo, bool keep,
			struct kept_debuginfo **ret, bool *ret_kept)
{
	struct kept_debuginfo *kd = xcalloc(1, sizeof(*kd)), *k;
	struct modset *ms;
	int err;

	if (!keep) {
		err = modset_open(image, mo, &kd->ms);
		goto done;
	}
	err = modset_list(image, mo, &ms);
	if (err < 0)
		goto done;
	k = take_kept();
	if (k && modset_same(k->ms, ms)) {
		modset_free(ms);
		free(kd);
		*ret = k;
		*ret_kept = true;
		return 0;
	}
	/* another target, or its files changed: not both in memory */
	kept_free(k);
	kd->ms = ms;
	err = modset_load(ms, mo);
done:
	if (err < 0) {
		kept_free(kd);
		return err;
	}
	*ret = kd;
	return 0;
}

static void prepare(struct typer *ty)
{
	/* glibc's own chunk headers: a malloc_chunk * points 16 bytes before
	 * a chunk's user area, never to what the program stores */
	ty->malloc_chunk = ty_by_name(&ty->tt, "struct malloc_chunk");
	typer_note_node_bases(ty);
	typer_retype_containers(ty);
	typer_index_trailing(ty);
	typer_objmodel_init(ty);
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

static void finish(struct typer *ty, struct typing_result *r, struct typing_result *timed)
{
	double t0 = monotonic_ms();

	/* headers and tagged values teach each other: what one types gives
	 * the other samples */
	for (int round = 0; round < MAX_LEARN_ROUNDS; round++) {
		size_t deferred = ty->nr_deferred, followed;

		typer_resolve_headers(ty);
		followed = typer_tagged_resolve(ty);
		typer_drain(ty);
		if (!deferred && !followed)
			break;
	}
	phase_end(timed, TYPING_PHASE_LEARN, &t0);
	if (!ty->opts || !ty->opts->no_infer)
		typer_type_by_shape(ty);
	phase_end(timed, TYPING_PHASE_SHAPES, &t0);
	typer_result(ty, r);
	phase_end(timed, TYPING_PHASE_RESULT, &t0);
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
	if (ty->opts && ty->opts->keep_debuginfo && ty->ms) {
		/* a kept session is never attached (above): one without
		 * DWARF for the unwinder (libdwfl reads a module's DWARF only
		 * when its .eh_frame does not do) */
		struct modset_opts mo = { .debug_dir = ty->opts->debug_dir, .no_dwarf = true };
		struct modset *ums;
		int err;

		if (modset_open(ty->image, &mo, &ums) < 0)
			return NULL;
		err = ops->unwind(ty->image, ums, ret_own);
		modset_free(ums);
		return err < 0 ? NULL : *ret_own;
	}
	if (ops->unwind(ty->image, ty->ms, ret_own) < 0)
		return NULL;
	return *ret_own;
}

static void typed_roots(struct typer *ty, const struct dw_index *idx, struct typing_result *r)
{
	struct root_source src = {
		.image = ty->image, .ms = ty->ms, .idx = idx, .tt = &ty->tt,
	};
	struct root_list l = { 0 };
	double t0 = monotonic_ms();

	roots_globals(&src, &l);
	phase_end(r, TYPING_PHASE_GLOBALS, &t0);
	scan_group(ty, &l);
	phase_end(r, TYPING_PHASE_GLOBALS_SCAN, &t0);
	l.nr = 0;
	roots_tls(&src, &l);
	phase_end(r, TYPING_PHASE_TLS, &t0);
	scan_group(ty, &l);
	phase_end(r, TYPING_PHASE_TLS_SCAN, &t0);
	l.nr = 0;
	if (!ty->opts || ty->opts->unwinder != TYPING_UNWIND_NONE) {
		struct unwound *own;
		const struct unwound *frames = frames_for(ty, &own);

		phase_end(r, TYPING_PHASE_UNWIND, &t0);
		roots_frames(&src, frames, &l);
		phase_end(r, TYPING_PHASE_FRAMES, &t0);
		scan_group(ty, &l);
		unwound_free(own);
		phase_end(r, TYPING_PHASE_FRAMES_SCAN, &t0);
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
	bool keep = opts && opts->keep_debuginfo;
	struct kept_debuginfo *kd = NULL;
	struct strbuf sb = STRBUF_INIT;
	double t0 = monotonic_ms();
	int err;

	typer_init(&ty, image, walk, opts);
	err = open_modules(image, &mo, keep, &kd, &r->kept_debuginfo);
	if (err < 0)
		goto out;
	ty.ms = kd->ms;
	for (size_t i = 0; i < ty.ms->nr_mods; i++)
		if (!ty.ms->mods[i].dw)
			strbuf_addf(&sb, "%s\n", ty.ms->mods[i].path);
	r->no_dwarf = strbuf_detach(&sb, NULL);
	phase_end(r, TYPING_PHASE_MODULES, &t0);

	if (kd->typed) {
		/* the kept conversion (its definitions were all converted:
		 * mark_foreign() finds them in the copy's memo) */
		ty_table_free(&ty.tt);
		ty_table_clone(&ty.tt, &kd->tt);
		phase_end(r, TYPING_PHASE_INDEX, &t0);
		mark_foreign(&ty, &kd->idx);
	} else {
		dw_index_build(&kd->idx, ty.ms, &ty.tt);
		phase_end(r, TYPING_PHASE_INDEX, &t0);
		/* convert every definition: fills the embed index */
		for (size_t i = 0; i < kd->idx.nr_defs; i++)
			(void)ty_of_die(&ty.tt, &kd->idx.defs[i]);
		mark_foreign(&ty, &kd->idx);
		typer_cxx_value_buffers(&ty.tt);
		ty_index_embeds(&ty.tt);
		if (keep) {
			ty_table_clone(&kd->tt, &ty.tt);
			kd->typed = true;
		}
	}
	phase_end(r, TYPING_PHASE_CONVERT, &t0);
	prepare(&ty);
	phase_end(r, TYPING_PHASE_PREPARE, &t0);
	typer_type_by_vtables(&ty);
	typer_drain(&ty);
	phase_end(r, TYPING_PHASE_VTABLES, &t0);
	typed_roots(&ty, &kd->idx, r);
	finish(&ty, r, r);
	if (ty.ms->nr_mods && ty.ms->nr_no_dwarf == ty.ms->nr_mods)
		diag_report(diag, DIAG_NOTE, "no module has debug info: chunks stay untyped");
	err = 0;
out:
	ty.ms = NULL;
	typer_release(&ty);
	if (keep && kd)
		keep_debuginfo(kd);
	else
		kept_free(kd);
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
	finish(&ty, r, NULL);
	r->no_dwarf = xstrdup("");
	typer_release(&ty);
	*ret = r;
	return 0;
}
