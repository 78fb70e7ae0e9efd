/*
 * t-rss.c - the trim model, the residency queries, the RSS accounting and
 * the snapshot's RSS section, on a hand-made heap whose every figure is
 * worked out below (page P = base + P * 4096):
 *
 *   main arena, memory [base, base + 0x20000), brk at its end:
 *     0x0000 in use  0x290  (tcache struct)
 *     0x0290 bin     0x3000 -> madvise [0x1000, 0x3000)
 *     0x3290 in use  0x100
 *     0x3390 fastbin 0x20   \
 *     0x33b0 fastbin 0x20    > one run after consolidation, 0x2040 bytes
 *     0x33d0 bin     0x2000 /  -> madvise [0x4000, 0x5000)
 *     0x53d0 tcache  0x30   (stops the run)
 *     0x5400 fastbin 0x40   -> folded into top
 *     0x5440 top     0x1abc0 -> top 0x1ac00 from 0x5400; systrim(0):
 *                              extra = ALIGN_DOWN(0x1ac00 - 33, 4096)
 *                              = 0x1a000 -> [0x6000, 0x20000)
 *   arena 1 (non-main), one heap [h, h + 0x10000):
 *     h+0x100 in use 0x100, h+0x200 bin 0x5000 -> [h+0x1000, h+0x5000),
 *     h+0x5200 top 0xae00 (never shrunk)
 *   resident pages: main 0..6, arena 1's heap 0..2, an anonymous map of
 *   two resident pages, a stack of 0x3000 (smaps only, no bits).
 */
#include "config.h"
#include "tap.h"
#include "analysis/rss.h"
#include "heap/glibc-trim.h"
#include "snapshot/file.h"
#include "snapshot/snapshot.h"
#include "target/residency.h"
#include "target/target.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

#define B 0x10000ULL
#define H 0x4000000ULL
#define ANON 0x100000ULL
#define STACK 0x200000ULL

static void add(struct heap_walk *w, uint64_t off, uint64_t size, uint32_t a,
		enum chunk_state st, uint64_t base)
{
	heap_walk_add(w, base + off, size, a, st);
}

static void build_walk(struct heap_walk *w)
{
	heap_walk_init(w);
	w->arenas = xcalloc(2, sizeof(*w->arenas));
	w->nr_arenas = 2;
	w->arenas[0].addr = 0x7f0000001000;
	w->arenas[0].main = true;
	w->arenas[0].nr_heaps = 1;
	w->arenas[0].system_bytes = 0x20000;
	w->arenas[1].addr = H + 0x30;
	w->arenas[1].nr_heaps = 1;
	w->arenas[1].system_bytes = 0x10000;
	add(w, 0x0000, 0x290, 0, CHUNK_INUSE, B);
	add(w, 0x0290, 0x3000, 0, CHUNK_BIN, B);
	add(w, 0x3290, 0x100, 0, CHUNK_INUSE, B);
	add(w, 0x3390, 0x20, 0, CHUNK_FASTBIN, B);
	add(w, 0x33b0, 0x20, 0, CHUNK_FASTBIN, B);
	add(w, 0x33d0, 0x2000, 0, CHUNK_BIN, B);
	add(w, 0x53d0, 0x30, 0, CHUNK_TCACHE, B);
	add(w, 0x5400, 0x40, 0, CHUNK_FASTBIN, B);
	add(w, 0x5440, 0x1abc0, 0, CHUNK_TOP, B);
	add(w, 0x100, 0x100, 1, CHUNK_INUSE, H);
	add(w, 0x200, 0x5000, 1, CHUNK_BIN, H);
	add(w, 0x5200, 0xae00, 1, CHUNK_TOP, H);
	heap_walk_add_range(w, B, B + 0x20000, 0, HEAP_RANGE_ARENA);
	heap_walk_add_range(w, H, H + 0x10000, 1, HEAP_RANGE_ARENA);
}

static struct residency_map *paged(struct residency *r, taddr_t start, taddr_t end,
				   unsigned first, unsigned n)
{
	struct residency_map *m = residency_add_map(r);
	uint64_t pages = (end - start) / RESIDENCY_PAGE;

	m->start = start;
	m->end = end;
	m->prot = TARGET_PROT_READ | TARGET_PROT_WRITE;
	m->flags = RESMAP_PAGED | RESMAP_SMAPS | RESMAP_STOPPED;
	m->bits = xcalloc((pages + 63) / 64 + 1, sizeof(*m->bits));
	for (unsigned i = first; i < first + n; i++)
		m->bits[i / 64] |= 1ULL << (i % 64);
	m->resident_pages = n;
	m->rss = n * RESIDENCY_PAGE;
	m->anon = m->rss;
	return m;
}

static struct snapshot *build_snapshot(void)
{
	struct snapshot *s = xcalloc(1, sizeof(*s));
	struct snapshot_rss *r = xcalloc(1, sizeof(*r));
	struct residency_map *m;

	build_walk(&s->walk);
	s->meta.pid = 4242;
	snprintf(s->meta.glibc, sizeof(s->meta.glibc), "2.36");
	s->meta.nr_threads = 2;
	r->res.live = true;
	r->res.pfn_visible = true;
	r->res.has_rollup = true;
	paged(&r->res, B, B + 0x20000, 0, 7);
	paged(&r->res, ANON, ANON + 0x4000, 0, 2);
	m = residency_add_map(&r->res);
	m->start = STACK;
	m->end = STACK + 0x8000;
	m->prot = TARGET_PROT_READ | TARGET_PROT_WRITE;
	m->flags = RESMAP_SMAPS | RESMAP_STOPPED;
	m->rss = 0x3000;
	m->name = xstrdup("[stack]");
	paged(&r->res, H, H + 0x10000, 0, 3);	/* the maps are in address order */
	r->res.rollup_rss = 0x7000 + 0x3000 + 0x2000 + 0x3000;
	r->params.major = 2;
	r->params.minor = 36;
	r->params.have_thresholds = true;
	r->params.mmap_threshold = r->params.trim_threshold = 128 << 10;
	r->params.top_pad = 4096;
	r->params.arena_max = 8;
	r->params.arena_test = 8;
	r->params.n_mmaps_max = 65536;
	r->params.have_curbrk = true;
	r->params.curbrk = B + 0x20000;
	r->have_thread_arenas = true;
	r->threads = xcalloc(2, sizeof(*r->threads));
	r->nr_threads = 2;
	r->threads[0] = (struct snapshot_thread){ 4242, STACK + 0x7000, 0x7f0000001000 };
	r->threads[1] = (struct snapshot_thread){ 4243, 0x900000, H + 0x30 };
	r->online_cpus = 2;
	r->affinity_cpus = 2;
	r->tunables = xstrdup("glibc.malloc.tcache_count=7:glibc.malloc.arena_max=8");
	s->rss = r;
	return s;
}

static void test_model(const struct heap_walk *w)
{
	struct trim_params p = { .major = 2, .minor = 36, .page_size = 4096, .have_brk = true,
				 .brk = B + 0x20000 };
	struct trim_model m;

	glibc_trim_predict(w, &p, &m);
	ok(m.nr_ranges == 4 &&
	   m.ranges[0].start == B + 0x1000 && m.ranges[0].end == B + 0x3000 &&
	   m.ranges[1].start == B + 0x4000 && m.ranges[1].end == B + 0x5000 &&
	   m.ranges[2].start == B + 0x6000 && m.ranges[2].end == B + 0x20000 &&
	   m.ranges[2].how == TRIM_SBRK &&
	   m.ranges[3].start == H + 0x1000 && m.ranges[3].end == H + 0x5000 &&
	   m.ranges[3].how == TRIM_MADVISE,
	   "model: the two free runs of main, its top, the bin of arena 1");
	is_u64(m.arenas[0].merged_fastbin, 3, "model: 3 fastbin chunks consolidated");
	is_u64(m.arenas[0].into_top, 0x40, "model: the fastbin chunk before top folds into it");
	is_u64(m.arenas[0].top_after, 0x1ac00, "model: top after consolidation");
	is_u64(m.arenas[0].top_extra, 0x1a000, "model: systrim's extra");
	ok(m.arenas[1].top == TRIM_TOP_NOT_MAIN, "model: a non-main top is never shrunk");
	trim_model_release(&m);

	p.brk = B + 0x21000;
	glibc_trim_predict(w, &p, &m);
	ok(m.arenas[0].top == TRIM_TOP_BRK && m.nr_ranges == 3,
	   "model: sbrk(0) not at top's end: top stays");
	trim_model_release(&m);

	p.brk = B + 0x20000;
	p.pad = 0x1ac00;
	glibc_trim_predict(w, &p, &m);
	ok(m.arenas[0].top == TRIM_TOP_PAD, "model: pad above top_area: top stays");
	trim_model_release(&m);

	p.pad = 0x2000;
	glibc_trim_predict(w, &p, &m);
	ok(m.arenas[0].top_extra == 0x18000 && m.ranges[2].start == B + 0x8000,
	   "model: pad 0x2000 keeps two more pages");
	trim_model_release(&m);

	p.pad = 0;
	p.thp_pagesize = 0x200000;
	glibc_trim_predict(w, &p, &m);
	ok(m.arenas[0].top == TRIM_TOP_PAD, "model: 2.36 with thp_pagesize rounds to 2 MiB");
	trim_model_release(&m);
	p.minor = 34;
	glibc_trim_predict(w, &p, &m);
	ok(m.arenas[0].top == TRIM_TOP_SHRUNK, "model: 2.34 has no thp_pagesize rounding");
	trim_model_release(&m);
}

static void test_residency(const struct snapshot *s)
{
	const struct residency *r = &s->rss->res;
	uint64_t unknown = 0;

	is_u64(residency_bytes(r, B + 0x290, B + 0x3290, NULL), 0x3000,
	       "residency: a chunk over resident pages, both ends partial");
	is_u64(residency_bytes(r, B + 0x6ff0, B + 0x7010, NULL), 0x10,
	       "residency: a range across the last resident page");
	is_u64(residency_bytes(r, STACK, STACK + 0x8000, &unknown), 0,
	       "residency: a map without bits counts nothing");
	is_u64(unknown, 0x8000, "residency: ... and says how much is unknown");
	is_u64(residency_bytes(r, B + 0x1f000, ANON + 0x2000, NULL), 0x2000,
	       "residency: across maps and the gap between them");
}

static void check_report(const struct rss_report *r, const char *what)
{
	char msg[128];

#define IS(got, want, name) \
	(snprintf(msg, sizeof(msg), "%s: %s", what, name), is_u64(got, want, msg))
	IS(r->arenas[0].resident, 0x7000, "main arena resident");
	IS(r->arenas[0].parts[RSS_BIN].resident, 0x3000 + 0x2000, "main bins resident");
	IS(r->arenas[0].parts[RSS_TOP].resident, 0x1bc0, "main top resident");
	IS(r->arenas[0].releasable, 0x4000, "main releasable");
	IS(r->arenas[0].releasable_top, 0x1000, "main releasable by sbrk");
	IS(r->arenas[0].stranded[RSS_TCACHE], 0x30, "main stranded in tcache");
	IS(r->arenas[1].releasable, 0x2000, "arena 1 releasable");
	IS(r->arenas[1].stranded[RSS_TOP], 0, "arena 1 top not resident");
	IS(r->free_resident, 0x6c70 + 0x2e00, "free resident, all arenas");
	IS(r->releasable, 0x6000, "releasable, all arenas");
	IS(r->outside_resident[RSS_OUT_STACK], 0x3000, "stack (smaps)");
	IS(r->outside_resident[RSS_OUT_ANON], 0x2000, "other anonymous (pagemap)");
	IS(r->total, 0x7000 + 0x3000 + 0x2000 + 0x3000, "total");
	IS(r->kernel_rss, r->total, "kernel Rss");
	ok(r->threads[0].arena == 0 && r->threads[1].arena == 1 && r->arenas[1].threads == 1,
	   "%s: threads' arenas", what);
	ok(r->thresholds[2].source == RSS_SRC_MALLOPT && r->thresholds[4].source ==
	   RSS_SRC_TUNABLE, "%s: top_pad changed without a tunable naming it: mallopt; "
	   "arena_max named by a tunable", what);
#undef IS
}

static void test_report(const struct snapshot *s)
{
	struct rss_report r;

	ok(rss_build(s, NULL, &r) == 0, "rss_build");
	check_report(&r, "built");
	rss_release(&r);
}

static void test_file(const struct snapshot *s)
{
	struct snapshot_file_info info;
	struct strbuf bytes = STRBUF_INIT, why = STRBUF_INIT;
	struct snapshot *back = NULL;
	struct rss_report r;
	int err;

	snapshot_file_info_now(&info, 0);
	snapshot_encode(s, &info, &bytes);
	err = snapshot_decode(bytes.buf, bytes.len, &why, &back, NULL);
	ok(err == 0 && back && back->rss, "file: the RSS section reads back (%s)", why.buf);
	if (!back || !back->rss) {
		strbuf_release(&bytes);
		return;
	}
	ok(back->rss->res.nr_maps == 4 && back->walk.nr_ranges == 2 &&
	   !strcmp(back->rss->res.maps[2].name, "[stack]") &&
	   back->rss->params.curbrk == B + 0x20000 && back->rss->params.minor == 36 &&
	   !strcmp(back->rss->tunables, s->rss->tunables) && back->rss->nr_threads == 2,
	   "file: maps, ranges, parameters, threads");
	ok(rss_build(back, NULL, &r) == 0, "file: rss_build");
	check_report(&r, "read back");
	rss_release(&r);
	snapshot_free(back);
	back = NULL;
	/* a stored resident page count that its bits contradict */
	{
		struct snapshot_rss *rr = s->rss;

		rr->res.maps[0].resident_pages++;
		strbuf_reset(&bytes);
		snapshot_encode(s, &info, &bytes);
		rr->res.maps[0].resident_pages--;
		strbuf_reset(&why);
		err = snapshot_decode(bytes.buf, bytes.len, &why, &back, NULL);
		ok(err < 0 && strstr(why.buf, "bits say"), "file: a lying page count is refused (%s)",
		   why.buf);
		snapshot_free(back);
	}
	strbuf_release(&bytes);
	strbuf_release(&why);
}

int main(void)
{
	struct snapshot *s = build_snapshot();

	plan(53);
	test_model(&s->walk);
	test_residency(s);
	test_report(s);
	test_file(s);
	snapshot_free(s);
	return done();
}
