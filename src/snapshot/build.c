/*
 * build.c - target -> consistent stop -> copy -> walk -> struct snapshot.
 *
 * The live sequence keeps the target's pause to the copy:
 *
 *   locate libc, its symbols and layouts     (target running: files only,
 *                                             plus small validated reads)
 *   stop every thread                        --+
 *   while a thread is inside the allocator:    |  the pause the
 *       let only those threads run on,         |  target feels
 *       stop them again (bounded rounds)       |
 *   copy the writable memory                   |
 *   detach                                   --+
 *   walk the copy, cross-check, census       (target running)
 *
 * Threads outside the allocator stay stopped while the busy ones run, so
 * they cannot enter it; a thread outside malloc.o holds no arena lock
 * except when it waits for one, which the lock check sees. When a lock is
 * held but no thread's PC is in the allocator (memcpy inside realloc),
 * every thread runs for a moment.
 *
 * A fork snapshot (snapshot_opts.mode, --fork) replaces the copy under the
 * stop by an injected clone (src/inject/fork.c): the target forks a
 * frozen copy-on-write child and is detached at once; the same copy is
 * then made from the child, which is killed and reaped in the target
 * afterwards. The walk reads the same bytes either way, so the census is
 * the same; only the pause differs (the fork's page-table copy instead of
 * the memory copy). --verify's mallinfo2() call runs in the stopped,
 * quiescent target right after the copy (or the fork), before the detach.
 *
 * What is copied depends on what reads the copy. Typing, the heap graph
 * (leaks, why, top --retained) and --contents read all writable memory;
 * a census alone reads the arenas, the tcache pointers and the headers of
 * mmapped chunks, and only those are copied (glibc_copy_plan(), planned
 * again under the stop, where the plan holds): snapshot_meta.memory says
 * which ("heap" or "writable"). Before the stop the copy buffers for what
 * will be copied are filled from the running target (live_prepare: the
 * pre-copy), by one thread per CPU, which also share the copy under the
 * stop: it compares every page with the pre-copy and copies what changed.
 *
 * With snapshot_opts.keep_image (--contents) the snapshot keeps the memory
 * image the walk read, as a memimage target: for a live target the frozen
 * copy itself, moved out of the ptrace backend (live_take_image: no byte
 * copied); for a core, the readable bytes of its writable private regions,
 * read in 1 MiB pieces (image_of_target).
 */
#include "config.h"
#include "snapshot/snapshot.h"
#include "heap/glibc.h"
#include "inject/inject.h"
#include "target/core.h"
#include "target/ptrace.h"
#include "target/residency.h"
#include "target/target.h"
#include "target/unwind.h"
#include "typing/typing.h"
#include "util/backoff.h"
#include "util/clock.h"
#include "util/diag.h"
#include "util/errors.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Default consistency budget: about 2000 rounds of 50 us..1 ms, at most a
 * couple of seconds for a target that allocates in a tight loop in many
 * threads (measured: 6 churning threads need tens of rounds). */
#define DEFAULT_MAX_ROUNDS 2000

static void fill_meta(struct snapshot *s, struct target *t, const struct glibc *g)
{
	s->meta.pid = t->pid;
	s->meta.ns_pid = t->ns_pid;
	s->meta.exe = t->exe ? xstrdup(t->exe) : NULL;
	snprintf(s->meta.glibc, sizeof(s->meta.glibc), "%s", glibc_version(g));
	s->meta.libc_symbols = glibc_method(g);
	s->meta.nr_threads = t->nr_threads;
}

_Static_assert(SNAPSHOT_UNTYPED == TYPING_UNTYPED, "typing and snapshot agree");
_Static_assert(SNAPSHOT_TYPE_INFERRED == TYPING_INFERRED, "typing and snapshot agree");

/*
 * Type S's chunks from the image T (the frozen copy of a live target, or a
 * core). A failure leaves the snapshot untyped and says why as a warning:
 * the census by size is still exact.
 */
static void type_snapshot(struct snapshot *s, struct target *t,
			  const struct snapshot_opts *opts, const struct unwound *frames,
			  struct diag_sink *diag)
{
	struct typing_opts topts = { 0 };
	struct typing_result *r = NULL;
	struct snapshot_types *ty;
	int err;

	if (!opts || !opts->types)
		return;
	if (opts->typing)
		topts = *opts->typing;
	if (topts.unwinder == TYPING_UNWIND_LIBUNWIND)
		topts.frames = frames;
	err = typing_run(t, &s->walk, &topts, diag, &r);
	if (err < 0) {
		diag_report(diag, DIAG_WARNING, "typing failed: %s; chunks left untyped",
			    hg_strerror(err));
		return;
	}
	ty = xcalloc(1, sizeof(*ty));
	ty->names = r->names;
	ty->nr_names = r->nr_names;
	ty->of_chunk = r->of_chunk;
	ty->flags = r->flags;
	r->names = NULL;
	r->nr_names = 0;
	r->of_chunk = NULL;
	r->flags = NULL;
	ty->conflicts = r->conflicts;
	for (char *p = r->no_dwarf, *nl; p && *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			break;
		ty->no_dwarf = xrealloc(ty->no_dwarf, (ty->nr_no_dwarf + 1) * sizeof(char *));
		ty->no_dwarf[ty->nr_no_dwarf++] = xstrndup(p, (size_t)(nl - p));
	}
	s->types = ty;
	s->typing = r;
}

/*
 * Copy what the snapshot needs from T, stopped (or reading a fork
 * snapshot's frozen child: live_read_from()): for a census without types
 * only what the walk reads (glibc_copy_plan(): the arenas, the tcache
 * pointers, the headers of mmapped chunks), else all writable memory.
 * Sets S->memory to say which.
 */
static int freeze(struct target *t, struct glibc *g, bool census_only,
		  struct snapshot_live_stats *st)
{
	struct glibc_plan pl;
	int err;

	st->memory = "writable";
	if (!census_only)
		return live_freeze(t, &st->copied_bytes);
	err = glibc_copy_plan(g, t, true, &pl);
	if (err < 0)
		return err;
	if (pl.everything) {
		err = live_freeze(t, &st->copied_bytes);
	} else {
		st->memory = "heap";
		err = live_freeze_ranges(t, pl.copy, pl.nr_copy, pl.zero, pl.nr_zero,
					 &st->copied_bytes);
	}
	glibc_plan_release(&pl);
	return err;
}

/*
 * Before the stop, for a census: the copy buffers of the arenas, faulted
 * in while the target runs. The plan's arenas part is read now, from the
 * running target, only to size the buffers; it is made again under the
 * stop.
 */
static int prepare_copy(struct target *t, struct glibc *g)
{
	struct glibc_plan pl;
	int err;

	if (glibc_copy_plan(g, t, false, &pl) < 0)
		return live_prepare(t, NULL, 0);
	err = pl.everything ? live_prepare(t, NULL, 0) : live_prepare(t, pl.copy, pl.nr_copy);
	glibc_plan_release(&pl);
	return err;
}

/*
 * A fork snapshot's child is read in place (live_stream()) through a cache
 * of this many bytes: heapgrab's memory is then the cache and the chunk
 * table, not a copy of the heap. While it is read the child lives, and
 * the target pays copy-on-write for every page it writes, for as long as
 * the walk and typing take; a process with less than STREAM_MIN bytes of
 * writable memory is copied instead (at most 256 MiB: fast, and the
 * child dies before the walk).
 */
#define STREAM_CACHE (32u << 20)
#define STREAM_MIN (256ull << 20)

/*
 * target.memory of a census read in place: what a copy would have said
 * ("heap", or "writable" for heap shapes glibc_copy_plan() does not
 * follow).
 */
static const char *plan_memory(struct glibc *g, struct target *t)
{
	struct glibc_plan pl;
	const char *m = "writable";

	if (glibc_copy_plan(g, t, false, &pl) == 0) {
		if (!pl.everything)
			m = "heap";
		glibc_plan_release(&pl);
	}
	return m;
}

/*
 * Kill and reap the fork snapshot's child *CHILD (NULL afterwards). A
 * failure is a warning (the snapshot itself is whole) when ERR is 0 and
 * DIAG is given; returns ERR.
 */
static int release_child(struct target *t, struct inject_child **child,
			 const struct inject_libc *lc, struct strbuf *iwhy, struct diag_sink *diag,
			 int err)
{
	int e2 = inject_child_release(t, *child, lc, iwhy);

	*child = NULL;
	if (e2 < 0 && err == 0 && diag)
		diag_report(diag, DIAG_WARNING, "%s", iwhy->len ? iwhy->buf : hg_strerror(e2));
	return err;
}

void snapshot_rss_free(struct snapshot_rss *r)
{
	if (!r)
		return;
	residency_release(&r->res);
	glibc_params_release(&r->params);
	free(r->threads);
	free(r->tunables);
	free(r->malloc_env);
	free(r->no_malloc);
	free(r);
}

/*
 * The RSS accounting's inputs for S, walked from T with G: RES (the
 * pagemap read in the stop; NULL for a core, which records no residency),
 * then, the target running again, smaps and the environment (live), and
 * from the image the allocator's parameters and each thread's arena.
 * Returns 0 or -HG_E_TARGET_GONE.
 */
static int fill_rss(struct snapshot *s, struct target *t, struct glibc *g,
		    struct residency *res, struct diag_sink *diag)
{
	struct snapshot_rss *r = xcalloc(1, sizeof(*r));
	int err = 0;

	if (res) {
		r->res = *res;
		memset(res, 0, sizeof(*res));
		r->stop_ms = r->res.pagemap_ms;
		err = residency_read_smaps(t->pid, &r->res);
		if (err < 0)
			goto fail;
		residency_environ(t->pid, &r->tunables, &r->malloc_env);
		r->online_cpus = residency_online_cpus();
		r->affinity_cpus = residency_affinity_cpus(t->pid);
	} else {
		for (size_t i = 0; i < t->nr_regions; i++) {
			const struct target_region *reg = &t->regions[i];
			struct residency_map *m = residency_add_map(&r->res);

			m->start = reg->start;
			m->end = reg->end;
			m->prot = reg->prot;
			m->shared = reg->shared;
			m->deleted = reg->deleted;
			m->name = reg->path ? xstrdup(reg->path) : NULL;
			m->flags = RESMAP_STOPPED;
		}
	}
	if (g && glibc_read_params(g, t, diag, &r->params) < 0)
		diag_report(diag, DIAG_WARNING, "cannot read malloc's parameters (mp_)");
	r->have_thread_arenas = r->params.have_thread_arenas;
	r->threads = xcalloc(t->nr_threads + 1, sizeof(*r->threads));
	r->nr_threads = t->nr_threads;
	for (size_t i = 0; i < t->nr_threads; i++) {
		r->threads[i].tid = t->threads[i].tid;
		r->threads[i].sp = t->threads[i].regs.rsp;
		if (i < r->params.nr_threads)
			r->threads[i].arena = r->params.threads[i].arena;
	}
	FREE_AND_NULL(r->params.threads);
	r->params.nr_threads = 0;
	s->rss = r;
	return 0;
fail:
	snapshot_rss_free(r);
	return err;
}

/* Stop T and bring every thread out of the allocator. */
static int stop_quiescent(struct target *t, struct glibc *g, unsigned max_rounds,
			  unsigned *ret_rounds)
{
	unsigned round;
	int err = live_stop(t);

	if (err < 0)
		return err;
	for (round = 0;; round++) {
		bool *busy = xcalloc(t->nr_threads + 1, sizeof(*busy));
		bool lock = false;
		int nb = glibc_busy_threads(g, t, busy, &lock);

		if (nb < 0) {
			free(busy);
			return nb;
		}
		if (nb == 0 && !lock) {
			free(busy);
			break;
		}
		if (round >= max_rounds) {
			free(busy);
			return -HG_E_BUSY;
		}
		if (nb == 0)
			for (size_t i = 0; i < t->nr_threads; i++)
				busy[i] = true;
		err = live_resume_some(t, busy);
		if (err == 0) {
			backoff_sleep(backoff_consistency, round);
			err = live_interrupt_some(t, busy);
		}
		free(busy);
		if (err < 0)
			return err;
		/* Resumed threads may have created threads: stop those too. */
		err = live_stop(t);
		if (err < 0)
			return err;
	}
	*ret_rounds = round;
	return 0;
}

/*
 * --fork=auto gave up on the fork before or during the stop: remember why,
 * for the text output and -v, and carry on copying.
 */
static void fork_fallback(struct snapshot_live_stats *st, struct diag_sink *diag,
			  struct strbuf *iwhy, int err)
{
	snprintf(st->fallback, sizeof(st->fallback), "%s",
		 iwhy->len ? iwhy->buf : hg_strerror(err));
	diag_report(diag, DIAG_NOTE, "no fork snapshot (%s): copying instead", st->fallback);
	strbuf_reset(iwhy);
}

/*
 * The fork snapshot under the stop (src/inject/fork.c): the target forks
 * a frozen child; nothing is copied yet. Returns 0 with *RET_CHILD set, or
 * an error with IWHY filled in (the target is still stopped either way).
 */
static int fork_under_stop(struct target *t, const struct snapshot_opts *opts,
			   const struct inject_libc *lc, struct strbuf *iwhy,
			   struct inject_child **ret_child)
{
	int i = inject_pick_thread(t, opts->inject_tid, iwhy);

	if (i < 0)
		return i;
	return inject_fork(t, (size_t)i, lc, ret_child, iwhy);
}

int snapshot_take_live(int pid, const struct snapshot_opts *opts, struct diag_sink *diag,
		       struct strbuf *why, struct snapshot **ret_snap,
		       struct snapshot_live_stats *stats)
{
	struct snapshot_live_stats st = { 0 };
	struct target *t = NULL;
	struct glibc *g = NULL;
	struct snapshot *s = NULL;
	struct unwound *frames = NULL;
	struct glibc_opts gopts = {
		.debug_dir = opts ? opts->debug_dir : NULL,
		.no_debug_info = opts && opts->no_debug_info,
	};
	unsigned max_rounds = opts && opts->max_rounds ? opts->max_rounds : DEFAULT_MAX_ROUNDS;
	enum snapshot_mode mode = opts ? opts->mode : SNAPSHOT_COPY;
	bool want_fork = mode != SNAPSHOT_COPY;
	bool need_inject = want_fork || (opts && opts->mallinfo);
	/* nothing but the census reads the copy: copy only what it reads */
	bool census_only = !opts || (!opts->types && !opts->keep_image && !opts->residency);
	bool copy_under_stop = mode != SNAPSHOT_FORK;
	struct strbuf iwhy = STRBUF_INIT;
	struct inject_child *child = NULL;
	struct residency res = { 0 };
	bool want_res = opts && opts->residency;
	struct inject_libc lc;
	bool streaming = false;
	double t0, t1, t2, t3;
	int err;

	err = target_live_open(pid, &t);
	if (err < 0) {
		if (err == -HG_E_NOT_PERMITTED && why && !why->len)
			live_permission_why(pid, why);
		return err;
	}
	/* All writable memory will be copied under the stop: fill its
	 * buffers now (the pre-copy, src/target/ptrace-precopy.c), in the
	 * copy threads, while libc is located (live_stop() waits). A fork
	 * snapshot copies nothing under the stop; --fork=auto copies only if
	 * the fork fails, and only faults its buffers in. */
	live_set_precopy(t, !want_fork);
	if (!census_only && copy_under_stop) {
		err = live_prepare(t, NULL, 0);
		if (err < 0)
			goto out;
	}
	err = glibc_locate(t, &gopts, diag, why, &g);
	if (err < 0)
		goto out;
	if (need_inject) {
		err = inject_libc_find(t, &iwhy, &lc);
		if (err == 0)
			err = inject_check(pid, &iwhy);
		if (err < 0 && want_fork && mode == SNAPSHOT_FORK_AUTO &&
		    !(opts && opts->mallinfo) && err != -HG_E_NO_PROCESS) {
			fork_fallback(&st, diag, &iwhy, err);
			want_fork = false;
			err = 0;
		}
		if (err < 0)
			goto inject_failed;
	}
	if (want_fork) {
		err = inject_reaper_start(pid);
		if (err < 0) {
			strbuf_addf(&iwhy, "cannot start the reaper process: %s", hg_strerror(err));
			goto inject_failed;
		}
	}

	if (census_only && copy_under_stop) {
		live_set_precopy(t, !want_fork);	/* --fork=auto gave up */
		err = prepare_copy(t, g);
		if (err < 0)
			goto out;
	}
	/* the buffers' faulting in may still run: the target runs meanwhile,
	 * so it is no part of the pause */
	t0 = monotonic_ms();
	live_prepare_wait(t);
	st.prepare_ms = monotonic_ms() - t0;
	t0 = monotonic_ms();
	err = stop_quiescent(t, g, max_rounds, &st.rounds);
	t1 = monotonic_ms();
	st.stop_ms = t1 - t0;
	if (err < 0)
		goto out;
	/* --rss: the residency of the instant the copy (or the fork) shows,
	 * read before it (a copy maps the zero page into untouched pages) */
	if (want_res) {
		err = residency_read_pagemap(t, opts->pagemap_read, &res);
		if (err < 0)
			goto out;
		st.residency_ms = monotonic_ms() - t1;
		t1 = monotonic_ms();
	}
	if (want_fork) {
		err = fork_under_stop(t, opts, &lc, &iwhy, &child);
		st.fork_ms = monotonic_ms() - t1;
		if (err < 0 && mode == SNAPSHOT_FORK_AUTO && err != -HG_E_TARGET_GONE) {
			fork_fallback(&st, diag, &iwhy, err);
			want_fork = false;
			err = 0;
		}
		st.forked = want_fork && err == 0;
	}
	if (err == 0 && !st.forked) {
		err = freeze(t, g, census_only, &st);
		live_precopy_stats(t, &st.precopied_bytes, &st.changed_bytes);
	}
	if (err == 0 && opts && opts->mallinfo) {
		int i = inject_pick_thread(t, opts->inject_tid, &iwhy);

		err = i < 0 ? i : inject_mallinfo(t, (size_t)i, &lc, opts->mallinfo, &iwhy);
	}
	if (err == 0 && opts && opts->stopped_fn)
		err = opts->stopped_fn(t, opts->stopped_arg);
	/* --unwinder=libunwind: libunwind-ptrace needs the threads stopped */
	if (err == 0 && opts && opts->types && opts->typing &&
	    opts->typing->unwinder == TYPING_UNWIND_LIBUNWIND && live_unwind(t, &frames) < 0)
		diag_report(diag, DIAG_WARNING, "libunwind could not unwind the threads");
	live_detach(t);
	t2 = monotonic_ms();
	st.copy_ms = t2 - t1 - st.fork_ms;
	st.pause_ms = t2 - t0;
	if (child && err == 0) {
		/* The target runs again; the child holds the instant. */
		live_read_from(t, inject_child_pid(child));
		if ((opts && opts->keep_image) || live_copy_bytes(t) <= STREAM_MIN) {
			/* the image outlives the child, or is small: a copy */
			err = freeze(t, g, census_only, &st);
			live_read_from(t, 0);
		} else {
			/* read in place while walking and typing */
			streaming = true;
			err = live_stream(t, STREAM_CACHE);
			st.memory = census_only ? plan_memory(g, t) : "writable";
		}
	}
	if (child && !streaming) {
		err = release_child(t, &child, &lc, &iwhy, diag, err);
		st.child_ms = monotonic_ms() - t2;
	}
	if (!streaming)
		inject_reaper_stop();
	if (err < 0) {
		if (iwhy.len && why && !why->len)
			strbuf_add(why, iwhy.buf, iwhy.len);
		if (err == -ENOMEM && why && !why->len)
			strbuf_addf(why, "not enough memory for a copy of its memory (%s)",
				    strerror(ENOMEM));
		goto out;
	}

	s = xcalloc(1, sizeof(*s));
	t3 = monotonic_ms();
	err = glibc_walk(g, t, diag, &s->walk);
	st.walk_ms = monotonic_ms() - t3;
	if (err < 0)
		goto out;
	fill_meta(s, t, g);
	s->meta.memory = st.memory;
	if (want_res) {
		err = fill_rss(s, t, g, &res, diag);
		if (err < 0)
			goto out;
	}
	t3 = monotonic_ms();
	type_snapshot(s, t, opts, frames, diag);
	st.typing_ms = monotonic_ms() - t3;
	if (streaming) {
		st.copied_bytes = live_stream_bytes(t);
		live_read_from(t, 0);
		err = release_child(t, &child, &lc, &iwhy, diag, 0);
		st.child_ms = monotonic_ms() - t2;
		inject_reaper_stop();
		err = 0;	/* the snapshot is whole: the reap's trouble was a warning */
	}
	if (opts && opts->keep_image)
		s->image = live_take_image(t);
	*ret_snap = s;
	s = NULL;
	if (stats)
		*stats = st;
	goto out;
inject_failed:
	if (why && iwhy.len)
		strbuf_add(why, iwhy.buf, iwhy.len);
out:
	if (child) {
		/* a failure while the child was read in place */
		live_read_from(t, 0);
		(void)release_child(t, &child, &lc, &iwhy, NULL, 0);
	}
	residency_release(&res);
	unwound_free(frames);
	inject_reaper_stop();
	strbuf_release(&iwhy);
	snapshot_free(s);
	glibc_free(g);
	target_close(t);
	if (err < 0 && err != -HG_E_NO_PROCESS && live_process_exited(pid)) {
		/* Whatever failed, the reason is that the process went away
		 * under us; say that, not what it broke. */
		if (why)
			strbuf_reset(why);
		err = -HG_E_TARGET_GONE;
	}
	if (err == -HG_E_NOT_PERMITTED && why && !why->len)
		live_permission_why(pid, why);
	return err;
}

int snapshot_take_residency(int pid, const char *why_malloc, bool no_scan,
			    struct diag_sink *diag, struct strbuf *why, struct snapshot **ret_snap)
{
	struct residency res = { 0 };
	struct target *t = NULL;
	struct snapshot *s = NULL;
	int err;

	(void)why;
	err = target_live_open(pid, &t);
	if (err < 0)
		return err;
	err = live_stop(t);
	if (err == 0)
		err = residency_read_pagemap(t, no_scan, &res);
	live_detach(t);
	if (err < 0)
		goto out;
	s = xcalloc(1, sizeof(*s));
	heap_walk_init(&s->walk);
	s->meta.pid = t->pid;
	s->meta.exe = t->exe ? xstrdup(t->exe) : NULL;
	s->meta.nr_threads = t->nr_threads;
	err = fill_rss(s, t, NULL, &res, diag);
	if (err < 0)
		goto out;
	s->rss->no_malloc = xstrdup(why_malloc ? why_malloc : "not walked");
	*ret_snap = s;
	s = NULL;
out:
	residency_release(&res);
	snapshot_free(s);
	target_close(t);
	if (err < 0 && err != -HG_E_NO_PROCESS && live_process_exited(pid))
		err = -HG_E_TARGET_GONE;
	return err;
}

int snapshot_run_stopped(int pid, const struct snapshot_opts *opts, struct diag_sink *diag,
			 struct strbuf *why, int (*prepare)(struct target *t, void *arg),
			 int (*fn)(struct target *t, void *arg), void *arg)
{
	struct target *t = NULL;
	struct glibc *g = NULL;
	struct glibc_opts gopts = {
		.debug_dir = opts ? opts->debug_dir : NULL,
		.no_debug_info = opts && opts->no_debug_info,
	};
	unsigned max_rounds = opts && opts->max_rounds ? opts->max_rounds : DEFAULT_MAX_ROUNDS;
	unsigned rounds;
	int err;

	err = target_live_open(pid, &t);
	if (err < 0) {
		if (err == -HG_E_NOT_PERMITTED && why && !why->len)
			live_permission_why(pid, why);
		return err;
	}
	err = glibc_locate(t, &gopts, diag, why, &g);
	if (err == 0 && prepare)
		err = prepare(t, arg);
	if (err == 0)
		err = stop_quiescent(t, g, max_rounds, &rounds);
	if (err == 0)
		err = fn(t, arg);
	live_detach(t);
	glibc_free(g);
	target_close(t);
	if (err < 0 && err != -HG_E_NO_PROCESS && live_process_exited(pid)) {
		if (why)
			strbuf_reset(why);
		err = -HG_E_TARGET_GONE;
	}
	if (err == -HG_E_NOT_PERMITTED && why && !why->len)
		live_permission_why(pid, why);
	return err;
}

/* Bytes of a static target are copied in pieces of this size. */
#define IMAGE_PIECE (1u << 20)
#define IMAGE_PAGE 4096u

/* Move the bytes in RUN (read from START on) into IMG as one segment. */
static void flush_run(struct target *img, taddr_t start, struct strbuf *run)
{
	size_t len;
	char *data;

	if (!run->len)
		return;
	data = strbuf_detach(run, &len);
	memimage_put(memimage_of(img), start, data, len);
}

/*
 * Copy the readable bytes of region R of T into IMG: 1 MiB pieces, page by
 * page where a piece does not read whole (a core that left pages out); a
 * page that does not read is a hole between two segments. A run's buffer
 * is sized for the rest of the region up front (pages never written are
 * never faulted in), so a big heap is not copied again by reallocs. With
 * LENT (a core's file mapping), what the core file holds is borrowed
 * instead, and only the rest (zero-filled tails, bytes of mapped files)
 * is copied.
 */
static void image_copy_region(struct target *t, struct target *img,
			      const struct target_region *r, void *buf, const unsigned char *lent)
{
	struct strbuf run = STRBUF_INIT;
	taddr_t run_start = r->start, a = r->start;

	while (a < r->end) {
		size_t n = (size_t)MIN((taddr_t)IMAGE_PIECE, r->end - a);
		const void *p = lent ? target_core_lent(t, lent, a, (size_t)(r->end - a), &n) : NULL;

		if (p) {	/* bytes the core file holds: borrowed */
			flush_run(img, run_start, &run);
			memimage_put_borrowed(memimage_of(img), a, (void *)p, n);
			a += n;
			continue;
		}
		n = (size_t)MIN((taddr_t)IMAGE_PIECE, r->end - a);
		if (target_read(t, a, buf, n) < 0) {
			n = (size_t)MIN((taddr_t)IMAGE_PAGE, r->end - a);
			if (target_read(t, a, buf, n) < 0) {
				flush_run(img, run_start, &run);
				a += n;
				continue;
			}
		}
		if (!run.len) {
			run_start = a;
			strbuf_grow(&run, (size_t)(r->end - a));
		}
		strbuf_add(&run, buf, n);
		a += n;
	}
	flush_run(img, run_start, &run);
	strbuf_release(&run);
}

/* The memory image of a static target: its regions and threads, and the
 * readable bytes of its writable private regions (a core's own bytes
 * borrowed from a mapping of the core file: target/core.h). */
static struct target *image_of_target(struct target *t)
{
	struct target *img = memimage_new();
	struct target_region *regs;
	void *buf = xmalloc(IMAGE_PIECE);
	const unsigned char *lent = target_core_lend(t, img);

	img->pid = t->pid;
	img->exe = t->exe ? xstrdup(t->exe) : NULL;
	for (size_t i = 0; i < t->nr_regions; i++) {
		const struct target_region *r = &t->regions[i];

		if ((r->prot & TARGET_PROT_WRITE) && !r->shared)
			image_copy_region(t, img, r, buf, lent);
	}
	free(buf);
	regs = xcalloc(t->nr_regions ? t->nr_regions : 1, sizeof(*regs));
	for (size_t i = 0; i < t->nr_regions; i++) {
		regs[i] = t->regions[i];
		regs[i].path = t->regions[i].path ? xstrdup(t->regions[i].path) : NULL;
	}
	target_set_regions(img, regs, t->nr_regions);
	for (size_t i = 0; i < t->nr_threads; i++)
		memimage_add_thread(img, t->threads[i].tid, &t->threads[i].regs);
	return img;
}

int snapshot_take_target(struct target *t, const struct snapshot_opts *opts,
			 struct diag_sink *diag, struct strbuf *why, struct snapshot **ret_snap)
{
	struct glibc_opts gopts = {
		.debug_dir = opts ? opts->debug_dir : NULL,
		.no_debug_info = opts && opts->no_debug_info,
	};
	struct glibc *g = NULL;
	struct snapshot *s;
	int err;

	err = glibc_locate(t, &gopts, diag, why, &g);
	if (err < 0)
		return err;
	s = xcalloc(1, sizeof(*s));
	err = glibc_walk(g, t, diag, &s->walk);
	if (err < 0) {
		snapshot_free(s);
		glibc_free(g);
		return err;
	}
	fill_meta(s, t, g);
	s->meta.memory = !strcmp(t->ops->name, "core") ? "core" : "image";
	if (opts && opts->residency)
		(void)fill_rss(s, t, g, NULL, diag);	/* a core: no residency */
	glibc_free(g);
	type_snapshot(s, t, opts, NULL, diag);
	if (opts && opts->keep_image)
		s->image = image_of_target(t);
	*ret_snap = s;
	return 0;
}

void snapshot_types_free(struct snapshot_types *ty)
{
	if (!ty)
		return;
	for (size_t i = 0; i < ty->nr_names; i++)
		free(ty->names[i]);
	free(ty->names);
	for (size_t i = 0; i < ty->nr_no_dwarf; i++)
		free(ty->no_dwarf[i]);
	free(ty->no_dwarf);
	free(ty->of_chunk);
	free(ty->flags);
	free(ty);
}

void snapshot_free(struct snapshot *s)
{
	if (!s)
		return;
	snapshot_types_free(s->types);
	snapshot_rss_free(s->rss);
	typing_result_free(s->typing);
	heap_walk_release(&s->walk);
	target_close(s->image);
	free(s->meta.exe);
	free(s);
}
