/*
 * rss.c - the resident memory of a process, accounted byte by byte; see
 * rss.h for the model and doc/json-output.md ("rss") for the contract.
 *
 * Attribution works on byte ranges against the residency bits (one per
 * page): a resident page counts its bytes to whatever holds them, so a
 * page shared by two small chunks counts part to each, and the parts of
 * every resident page add up to the page.
 *
 *   1. each range of the allocator's memory (heap_walk.ranges: an arena's
 *      segments and heaps, a heap's slack, an mmapped chunk's mapping) is
 *      cut at mapping borders; its resident bytes go to the arena or to
 *      the mmapped chunks, and are remembered per mapping (malloc_res);
 *   2. each chunk of an arena gives its resident bytes to its part (in
 *      use, tcache, fastbin, bin, top); what the ranges hold beyond the
 *      chunks is the arena's overhead;
 *   3. each mapping's resident bytes beyond malloc_res are outside
 *      malloc: a thread's stack when a thread's stack pointer is in it,
 *      else by kind and name;
 *   4. the trim model's ranges (heap/glibc-trim.c) give `releasable`, per
 *      arena and per part of the free chunks they lie in; the resident
 *      free bytes left are `stranded`.
 *
 * A mapping's resident bytes come from the pagemap bits when they were
 * read (in the stop, the instant the heap shows), else from smaps' Rss
 * (after the stop). A mapping without bits that holds malloc memory
 * cannot be split between chunks: its whole Rss is `unsplit`.
 */
#include "config.h"
#include "analysis/rss.h"
#include "snapshot/snapshot.h"
#include "target/residency.h"
#include "target/target.h"
#include "util/xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* glibc's defaults (malloc/malloc.c, sysdeps/generic/malloc-machine.h;
 * the same from 2.26 to 2.41 on x86_64) */
#define DEFAULT_MMAP_THRESHOLD	(128u * 1024)
#define DEFAULT_TRIM_THRESHOLD	(128u * 1024)
#define DEFAULT_TOP_PAD		(128u * 1024)
#define DEFAULT_MMAP_MAX	65536u
#define DEFAULT_ARENA_TEST	8u	/* NARENAS_FROM_NCORES (1) */
#define ARENAS_PER_CORE		8u	/* NARENAS_FROM_NCORES: 8 on 64-bit */

static const char *const part_names[RSS_PART__COUNT] = {
	[RSS_IN_USE] = "in_use",
	[RSS_TCACHE] = "tcache",
	[RSS_FASTBIN] = "fastbin",
	[RSS_BIN] = "bin",
	[RSS_TOP] = "top",
	[RSS_OVERHEAD] = "overhead",
};

const char *rss_part_name(enum rss_part p)
{
	return (unsigned)p < RSS_PART__COUNT ? part_names[p] : "unknown";
}

static const char *const outside_names[RSS_OUT__COUNT] = {
	[RSS_OUT_STACK] = "thread_stacks",
	[RSS_OUT_ANON] = "anonymous",
	[RSS_OUT_FILE] = "files",
	[RSS_OUT_SHARED] = "shared_memory",
	[RSS_OUT_OTHER] = "other",
};

const char *rss_outside_name(enum rss_outside_kind k)
{
	return (unsigned)k < RSS_OUT__COUNT ? outside_names[k] : "unknown";
}

static const char *const source_names[RSS_SRC__COUNT] = {
	[RSS_SRC_DEFAULT] = "default",
	[RSS_SRC_TUNABLE] = "tunable",
	[RSS_SRC_ENV] = "environment",
	[RSS_SRC_MALLOPT] = "mallopt",
	[RSS_SRC_DYNAMIC] = "dynamic",
};

const char *rss_source_name(enum rss_source s)
{
	return (unsigned)s < RSS_SRC__COUNT ? source_names[s] : "unknown";
}

uint64_t rss_class_limit(unsigned i)
{
	return i + 1 < RSS_NR_CLASSES ? 64ULL << i : 0;
}

static unsigned class_of(uint64_t size)
{
	unsigned i = 0;

	while (i + 1 < RSS_NR_CLASSES && size >= rss_class_limit(i))
		i++;
	return i;
}

static int part_of(enum chunk_state s)
{
	switch (s) {
	case CHUNK_INUSE: return RSS_IN_USE;
	case CHUNK_TCACHE: return RSS_TCACHE;
	case CHUNK_FASTBIN: return RSS_FASTBIN;
	case CHUNK_BIN: return RSS_BIN;
	case CHUNK_TOP: return RSS_TOP;
	default: return -1;
	}
}

struct ctx {
	const struct snapshot *s;
	const struct residency *res;
	struct rss_report *r;
	uint64_t *malloc_res;		/* per map: resident bytes malloc holds */
	bool *unsplit;			/* per map: malloc memory without bits */
	bool *arena_unknown;		/* per arena */
	const struct residency_map *last;	/* lookup cache */
};

/* Resident bytes of [S, E); *UNKNOWN set when some map had no bits. */
static uint64_t res_of(struct ctx *x, taddr_t s, taddr_t e, bool *unknown)
{
	const struct residency_map *m = x->last;
	uint64_t u = 0, b;

	if (!m || s < m->start || e > m->end) {
		m = residency_map_of(x->res, s);
		if (m)
			x->last = m;
	}
	if (m && s >= m->start && e <= m->end && (m->flags & RESMAP_PAGED))
		return residency_map_bytes(m, s, e);
	b = residency_bytes(x->res, s, e, &u);
	if (u && unknown)
		*unknown = true;
	return b;
}

/* Step 1: a range of the allocator's memory. */
static void account_range(struct ctx *x, const struct heap_range *g)
{
	const struct residency *res = x->res;
	struct rss_report *r = x->r;
	uint64_t total = 0;
	bool unknown = false;

	for (size_t i = 0; i < res->nr_maps; i++) {
		const struct residency_map *m = &res->maps[i];
		taddr_t cs, ce;
		uint64_t b;

		if (m->end <= g->start || m->start >= g->end)
			continue;
		cs = MAX(g->start, m->start);
		ce = MIN(g->end, m->end);
		if (!(m->flags & RESMAP_PAGED)) {
			x->unsplit[i] = true;
			unknown = true;
			continue;
		}
		b = residency_map_bytes(m, cs, ce);
		x->malloc_res[i] += b;
		total += b;
	}
	if (g->kind == HEAP_RANGE_MMAPPED) {
		r->mmapped_resident += total;
		return;
	}
	if (g->arena >= r->nr_arenas)
		return;
	r->arenas[g->arena].mapped += g->end - g->start;
	r->arenas[g->arena].resident += total;
	if (unknown)
		x->arena_unknown[g->arena] = true;
}

/* Step 2 and the fragmentation figures: every chunk. */
static void account_chunks(struct ctx *x)
{
	const struct heap_walk *w = &x->s->walk;
	struct rss_report *r = x->r;

	for (size_t i = 0; i < w->nr_chunks; i++) {
		const struct chunk *c = &w->chunks[i];
		struct rss_arena *a;
		int p = part_of((enum chunk_state)c->state);

		if (c->state == CHUNK_MMAPPED) {
			r->mmapped.count++;
			r->mmapped.bytes += c->size;
			continue;
		}
		if (p < 0 || c->arena >= r->nr_arenas)
			continue;
		a = &r->arenas[c->arena];
		a->parts[p].bytes += c->size;
		a->parts[p].resident += res_of(x, c->addr, c->addr + c->size, NULL);
		if (p == RSS_TCACHE || p == RSS_FASTBIN || p == RSS_BIN) {
			unsigned k = class_of(c->size);

			a->classes[k].count++;
			a->classes[k].bytes += c->size;
			a->free_below_top.count++;
			a->free_below_top.bytes += c->size;
			if (c->size > a->largest_free)
				a->largest_free = c->size;
		}
	}
}

/* Index of the first trim range ending above ADDR. */
static size_t first_range(const struct trim_model *m, taddr_t addr)
{
	size_t lo = 0, hi = m->nr_ranges;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->ranges[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Step 4. */
static void account_trim(struct ctx *x, const struct trim_model *m)
{
	const struct heap_walk *w = &x->s->walk;
	struct rss_report *r = x->r;

	for (size_t i = 0; i < m->nr_ranges; i++) {
		const struct trim_range *g = &m->ranges[i];
		uint64_t b;

		if (g->arena >= r->nr_arenas)
			continue;
		b = res_of(x, g->start, g->end, NULL);
		r->arenas[g->arena].releasable += b;
		if (g->how == TRIM_SBRK)
			r->arenas[g->arena].releasable_top += b;
	}
	for (size_t i = 0; i < w->nr_chunks; i++) {
		const struct chunk *c = &w->chunks[i];
		int p = part_of((enum chunk_state)c->state);
		taddr_t e = c->addr + c->size;

		if (c->arena >= r->nr_arenas || (p != RSS_FASTBIN && p != RSS_BIN && p != RSS_TOP))
			continue;
		for (size_t k = first_range(m, c->addr); k < m->nr_ranges &&
		     m->ranges[k].start < e; k++) {
			taddr_t cs = MAX(c->addr, m->ranges[k].start);
			taddr_t ce = MIN(e, m->ranges[k].end);

			r->arenas[c->arena].released[p] += res_of(x, cs, ce, NULL);
		}
	}
	for (size_t i = 0; i < r->nr_arenas; i++) {
		struct rss_arena *a = &r->arenas[i];

		a->trim = m->arenas[i];
		for (int p = RSS_TCACHE; p <= RSS_TOP; p++) {
			a->stranded[p] = a->parts[p].resident > a->released[p] ?
					 a->parts[p].resident - a->released[p] : 0;
			r->stranded[p] += a->stranded[p];
			r->stranded_total += a->stranded[p];
			r->free_resident += a->parts[p].resident;
		}
		r->releasable += a->releasable;
		r->releasable_top += a->releasable_top;
	}
}

static bool name_prefix(const char *name, const char *prefix)
{
	return name && !strncmp(name, prefix, strlen(prefix));
}

static enum rss_outside_kind classify(const struct residency_map *m)
{
	const char *n = m->name;

	if (m->shared && (!n || name_prefix(n, "/dev/zero") || name_prefix(n, "/SYSV") ||
			  name_prefix(n, "/memfd:") || name_prefix(n, "/dev/shm/")))
		return RSS_OUT_SHARED;
	if (!n || name_prefix(n, "[heap]") || name_prefix(n, "[anon") ||
	    name_prefix(n, "/anon_hugepage") || name_prefix(n, "[stack"))
		return RSS_OUT_ANON;
	if (n[0] == '/')
		return RSS_OUT_FILE;
	return RSS_OUT_OTHER;
}

static const char *row_name(const struct residency_map *m, enum rss_outside_kind k)
{
	if (!(m->prot & (TARGET_PROT_READ | TARGET_PROT_WRITE | TARGET_PROT_EXEC)))
		return "no access (guard pages, reservations)";
	if (k == RSS_OUT_SHARED && !m->name)
		return "anonymous shared";
	if (!m->name)
		return "anonymous";
	if (!strcmp(m->name, "[heap]"))
		return "[heap] outside the main arena";
	return m->name;
}

static struct rss_outside_row *find_row(struct rss_report *r, size_t *alloc, uint8_t kind,
					const char *name, int tid, taddr_t start)
{
	struct rss_outside_row *row;

	for (size_t i = 0; i < r->nr_outside && !start; i++) {
		row = &r->outside[i];
		if (row->kind == kind && row->tid == tid && !row->start && !strcmp(row->name, name))
			return row;
	}
	ALLOC_GROW(r->outside, r->nr_outside + 1, *alloc);
	row = &r->outside[r->nr_outside++];
	memset(row, 0, sizeof(*row));
	row->kind = kind;
	row->tid = tid;
	row->start = start;
	row->name = xstrdup(name);
	return row;
}

static int cmp_rows(const void *a, const void *b)
{
	const struct rss_outside_row *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->resident != y->resident)
		return x->resident > y->resident ? -1 : 1;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The thread whose stack pointer lies in M, or NULL. */
static const struct snapshot_thread *stack_of(const struct snapshot_rss *sr,
					      const struct residency_map *m)
{
	for (size_t i = 0; i < sr->nr_threads; i++)
		if (sr->threads[i].sp >= m->start && sr->threads[i].sp < m->end)
			return &sr->threads[i];
	return NULL;
}

/* Step 3, and the mapping-level cross-checks. */
static void account_outside(struct ctx *x)
{
	const struct snapshot_rss *sr = x->s->rss;
	const struct residency *res = x->res;
	struct rss_report *r = x->r;
	size_t alloc = 0;

	for (size_t i = 0; i < res->nr_maps; i++) {
		const struct residency_map *m = &res->maps[i];
		const struct snapshot_thread *th = stack_of(sr, m);
		enum rss_outside_kind k = th ? RSS_OUT_STACK : classify(m);
		struct rss_outside_row *row;
		uint64_t resident, swap;

		if (!(m->flags & RESMAP_STOPPED))
			continue;	/* mapped after the stop: res->changed_rss */
		if (m->flags & RESMAP_PAGED) {
			uint64_t pm = m->resident_pages * RESIDENCY_PAGE;

			resident = pm > x->malloc_res[i] ? pm - x->malloc_res[i] : 0;
			swap = m->swapped_pages * RESIDENCY_PAGE;
			r->zero_pages += m->zero_pages;
			if ((m->flags & RESMAP_SMAPS) && m->rss != pm) {
				r->mismatched_maps++;
				r->mismatch_bytes += (int64_t)(pm - m->rss);
			}
		} else if (x->unsplit[i]) {
			r->unsplit += m->rss;
			continue;
		} else {
			resident = m->rss;
			swap = m->swap;
		}
		if (x->malloc_res[i] && !resident && !swap)
			continue;	/* all malloc's */
		/* unnamed anonymous memory (another allocator, a runtime's
		 * heap) has nothing to group by: a row per mapping */
		row = find_row(r, &alloc, (uint8_t)k, th ? (th->tid == x->s->meta.pid ?
					  "main thread" : "thread") : row_name(m, k),
			       th ? th->tid : 0,
			       th || (k == RSS_OUT_ANON && !m->name && m->prot) ? m->start : 0);
		row->mappings++;
		row->size += m->end - m->start;
		row->resident += resident;
		row->swap += swap;
		r->outside_resident[k] += resident;
		r->outside_total += resident;
		if (th) {
			for (size_t t = 0; t < r->nr_threads; t++)
				if (r->threads[t].tid == th->tid) {
					r->threads[t].has_stack = true;
					r->threads[t].stack_resident += resident;
				}
		}
	}
	if (r->nr_outside > 1)
		qsort(r->outside, r->nr_outside, sizeof(*r->outside), cmp_rows);
}

/* Is tunable NAME ("mmap_threshold") or its environment alias set? */
static enum rss_source named_in_env(const struct snapshot_rss *sr, const char *tunable,
				    const char *alias)
{
	char key[64];
	size_t n;

	snprintf(key, sizeof(key), "glibc.malloc.%s=", tunable);
	n = strlen(key);
	for (const char *p = sr->tunables; p && *p;) {
		if (!strncmp(p, key, n))
			return RSS_SRC_TUNABLE;
		p = strchr(p, ':');
		if (!p)
			break;
		p++;
	}
	snprintf(key, sizeof(key), "%s=", alias);
	n = strlen(key);
	for (const char *p = sr->malloc_env; p && *p;) {
		if (!strncmp(p, key, n))
			return RSS_SRC_ENV;
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	return RSS_SRC_DEFAULT;
}

static void thresholds(struct rss_report *r, const struct snapshot_rss *sr)
{
	const struct glibc_params *p = &sr->params;
	static const struct {
		const char *name, *tunable, *alias;
		uint64_t dflt;
		bool dynamic;
	} t[RSS_NR_THRESHOLDS] = {
		{ "mmap_threshold", "mmap_threshold", "MALLOC_MMAP_THRESHOLD_",
		  DEFAULT_MMAP_THRESHOLD, true },
		{ "trim_threshold", "trim_threshold", "MALLOC_TRIM_THRESHOLD_",
		  DEFAULT_TRIM_THRESHOLD, true },
		{ "top_pad", "top_pad", "MALLOC_TOP_PAD_", DEFAULT_TOP_PAD, false },
		{ "mmap_max", "mmap_max", "MALLOC_MMAP_MAX_", DEFAULT_MMAP_MAX, false },
		{ "arena_max", "arena_max", "MALLOC_ARENA_MAX", 0, false },
		{ "arena_test", "arena_test", "MALLOC_ARENA_TEST", DEFAULT_ARENA_TEST, false },
	};
	uint64_t v[RSS_NR_THRESHOLDS] = {
		p->mmap_threshold, p->trim_threshold, p->top_pad,
		(uint64_t)(p->n_mmaps_max < 0 ? 0 : p->n_mmaps_max), p->arena_max, p->arena_test,
	};

	r->have_thresholds = p->have_thresholds;
	r->no_dyn_threshold = p->no_dyn_threshold;
	r->dynamic_moved = p->have_thresholds && !p->no_dyn_threshold &&
			   p->mmap_threshold != DEFAULT_MMAP_THRESHOLD;
	r->thp_pagesize = p->have_thp ? p->thp_pagesize : 0;
	for (int i = 0; i < RSS_NR_THRESHOLDS; i++) {
		struct rss_threshold *h = &r->thresholds[i];
		enum rss_source src = named_in_env(sr, t[i].tunable, t[i].alias);

		h->name = t[i].name;
		h->value = v[i];
		h->dflt = t[i].dflt;
		if (src == RSS_SRC_DEFAULT && v[i] != t[i].dflt)
			src = t[i].dynamic && r->dynamic_moved ? RSS_SRC_DYNAMIC : RSS_SRC_MALLOPT;
		h->source = (uint8_t)src;
	}
}

/* The limit on arenas glibc applies (arena.c arena_get2), see rss.h. */
static void arena_limit(struct rss_report *r, const struct snapshot_rss *sr)
{
	const struct glibc_params *p = &sr->params;
	/* which CPU count glibc multiplies: get_nprocs (CPUs online) except
	 * 2.34 (get_nprocs used the affinity mask) and 2.35 to 2.38
	 * (get_nprocs_sched: the affinity mask) */
	bool affinity = p->major == 2 && p->minor >= 34 && p->minor <= 38;

	r->cpus = affinity ? sr->affinity_cpus : sr->online_cpus;
	r->cpus_how = affinity ? "affinity" : "online";
	if (p->have_thresholds && p->arena_max) {
		r->arena_limit = p->arena_max;
		r->arena_limit_how = "arena_max";
	} else if (p->have_narenas_limit && p->narenas_limit) {
		r->arena_limit = p->narenas_limit;
		r->arena_limit_how = "narenas_limit";
	} else if (r->cpus) {
		r->arena_limit = (uint64_t)ARENAS_PER_CORE * r->cpus;
		r->arena_limit_how = "cores";
	} else {
		r->arena_limit = 0;
		r->arena_limit_how = "unknown";
	}
}

static void threads(struct rss_report *r, const struct snapshot_rss *sr)
{
	r->thread_arenas = sr->have_thread_arenas;
	r->nr_threads = sr->nr_threads;
	r->threads = xcalloc(sr->nr_threads + 1, sizeof(*r->threads));
	for (size_t i = 0; i < sr->nr_threads; i++) {
		struct rss_thread *t = &r->threads[i];

		t->tid = sr->threads[i].tid;
		t->arena_addr = sr->threads[i].arena;
		t->arena = -2;
		if (!sr->have_thread_arenas)
			continue;
		if (!t->arena_addr) {
			t->arena = -1;
			continue;
		}
		for (size_t a = 0; a < r->nr_arenas; a++)
			if (r->arenas[a].addr == t->arena_addr) {
				t->arena = (int64_t)a;
				r->arenas[a].threads++;
			}
	}
}

/* sbrk(0) for the trim model: __curbrk, or the end of [heap] (the kernel
 * rounds the break up to a page there; glibc keeps it page aligned). */
static void trim_brk(const struct snapshot_rss *sr, struct trim_params *tp, bool *ret_known)
{
	*ret_known = sr->params.have_curbrk;
	if (sr->params.have_curbrk) {
		tp->have_brk = true;
		tp->brk = sr->params.curbrk;
		return;
	}
	for (size_t i = 0; i < sr->res.nr_maps; i++)
		if (sr->res.maps[i].name && !strcmp(sr->res.maps[i].name, "[heap]")) {
			tp->have_brk = true;
			tp->brk = sr->res.maps[i].end;
		}
}

int rss_build(const struct snapshot *s, const struct rss_opts *opts, struct rss_report *ret)
{
	const struct snapshot_rss *sr = s->rss;
	struct rss_report *r = ret;
	struct trim_model model;
	struct trim_params tp = { 0 };
	struct ctx x = { .s = s, .r = r };

	memset(r, 0, sizeof(*r));
	if (!sr)
		return -ENOENT;
	x.res = &sr->res;
	r->live = sr->res.live;
	r->pagemap_err = sr->res.pagemap_err;
	r->pagemap = r->live && !sr->res.pagemap_err;
	r->pfn_visible = sr->res.pfn_visible;
	r->pagemap_method = residency_method_name((enum residency_method)sr->res.method);
	r->smaps_err = sr->res.smaps_err;
	r->smaps = r->live && !sr->res.smaps_err;
	r->has_kernel_rss = sr->res.has_rollup;
	r->kernel_rss = sr->res.rollup_rss;
	r->swap = sr->res.rollup_swap;
	r->changed = sr->res.changed_rss;
	r->tunables = sr->tunables;
	r->malloc_env = sr->malloc_env;
	r->no_malloc = sr->no_malloc;
	r->pad = opts ? opts->pad : 0;
	snprintf(r->glibc, sizeof(r->glibc), "%s", s->meta.glibc);

	r->nr_arenas = s->walk.nr_arenas;
	r->arenas = xcalloc(r->nr_arenas + 1, sizeof(*r->arenas));
	for (size_t i = 0; i < r->nr_arenas; i++) {
		const struct heap_arena *h = &s->walk.arenas[i];

		r->arenas[i].addr = h->addr;
		r->arenas[i].main = h->main;
		r->arenas[i].nr_heaps = h->nr_heaps;
		r->arenas[i].system = h->system_bytes;
	}
	x.malloc_res = xcalloc(sr->res.nr_maps + 1, sizeof(*x.malloc_res));
	x.unsplit = xcalloc(sr->res.nr_maps + 1, sizeof(*x.unsplit));
	x.arena_unknown = xcalloc(r->nr_arenas + 1, sizeof(*x.arena_unknown));
	for (size_t i = 0; i < s->walk.nr_ranges; i++)
		account_range(&x, &s->walk.ranges[i]);
	account_chunks(&x);
	for (size_t i = 0; i < r->nr_arenas; i++) {
		struct rss_arena *a = &r->arenas[i];
		uint64_t bytes = 0, res = 0;

		a->known = r->live && !x.arena_unknown[i];
		for (int p = 0; p < RSS_OVERHEAD; p++) {
			bytes += a->parts[p].bytes;
			res += a->parts[p].resident;
		}
		a->parts[RSS_OVERHEAD].bytes = a->mapped > bytes ? a->mapped - bytes : 0;
		a->parts[RSS_OVERHEAD].resident = a->resident > res ? a->resident - res : 0;
		for (int p = 0; p < RSS_PART__COUNT; p++) {
			r->arena_total[p].bytes += a->parts[p].bytes;
			r->arena_total[p].resident += a->parts[p].resident;
		}
		r->arenas_resident += a->resident;
		r->arenas_mapped += a->mapped;
		r->arenas_system += a->system;
	}

	tp.major = sr->params.major;
	tp.minor = sr->params.minor;
	tp.pad = r->pad;
	tp.page_size = RESIDENCY_PAGE;
	tp.thp_pagesize = sr->params.have_thp ? sr->params.thp_pagesize : 0;
	trim_brk(sr, &tp, &r->brk_known);
	glibc_trim_predict(&s->walk, &tp, &model);
	account_trim(&x, &model);
	trim_model_release(&model);

	threads(r, sr);
	account_outside(&x);
	r->total = r->arenas_resident + r->mmapped_resident + r->unsplit + r->outside_total;
	thresholds(r, sr);
	arena_limit(r, sr);

	free(x.malloc_res);
	free(x.unsplit);
	free(x.arena_unknown);
	return 0;
}

void rss_release(struct rss_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nr_outside; i++)
		free(r->outside[i].name);
	free(r->outside);
	free(r->arenas);
	free(r->threads);
	memset(r, 0, sizeof(*r));
}
