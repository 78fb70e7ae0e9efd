/*
 * glibc-trim.c - malloc_trim(pad) replayed on a walk (doc/glibc-malloc.md §14).
 *
 * What glibc 2.26 to 2.41 do (malloc/malloc.c __malloc_trim, mtrim,
 * malloc_consolidate, systrim; the same code in every release of the
 * range but for the two differences marked below):
 *
 *   for every arena, main_arena first, under its lock:
 *     1. malloc_consolidate(av): every fastbin chunk is freed for real:
 *        merged with a free neighbour on either side (a chunk in a bin,
 *        or one consolidated just before), and the result goes to the
 *        unsorted bin, or into top when the next chunk is top. tcache
 *        chunks are in use as far as the arena knows: they stay, and
 *        stop merges. So after it, each maximal run of physically
 *        adjacent fastbin and bin chunks is one free chunk, or part of
 *        top when the run ends at top (a run that ends at top always
 *        holds a fastbin chunk: free() merges bin chunks into top).
 *     2. for every chunk of the unsorted bin and of the bins from
 *        bin_index(pagesize) on (smaller bins hold chunks below a page):
 *        madvise(MADV_DONTNEED) the whole pages in
 *        [chunk + sizeof(struct malloc_chunk), chunk + size), that is
 *        from the first page boundary at or after chunk + 48 to the last
 *        one at or before the chunk's end. The first 48 bytes (header,
 *        fd, bk, fd_nextsize, bk_nextsize) and the partial pages at both
 *        ends stay.
 *     3. the main arena only: systrim(pad). top_area = chunksize(top) -
 *        MINSIZE - 1; nothing unless top_area > pad; extra =
 *        ALIGN_DOWN(top_area - pad, pagesize) (2.35+: mp_.thp_pagesize
 *        instead of the page size when glibc.malloc.hugetlb=1 set it);
 *        nothing unless sbrk(0) is still the end of top (no foreign sbrk
 *        since, and top not in an mmapped segment); then sbrk(-extra),
 *        and the kernel unmaps the pages from PAGE_ALIGN(brk - extra) to
 *        PAGE_ALIGN(brk). A non-main arena's top is never shrunk by
 *        malloc_trim (heap_trim runs only from free()).
 *
 * Differences inside the range: 2.26's mtrim skips an arena marked
 * corrupt (a process that got there has aborted already), 2.35 adds the
 * thp_pagesize rounding. (After 2.41: glibc's development tree removes
 * malloc_consolidate from mtrim together with the fastbins.)
 *
 * The walk lists the chunks of a heap in address order and consecutively
 * (a snapshot file lists all of them in address order), so a run of free
 * chunks is a run of consecutive array entries of one arena, each
 * starting where the previous one ends.
 */
#include "config.h"
#include "heap/glibc-trim.h"
#include "heap/heap.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* malloc.c: sizeof(struct malloc_chunk) and MINSIZE on x86_64 */
#define MALLOC_CHUNK_SZ 48
#define TRIM_MINSIZE 32

static const char *const top_names[] = {
	[TRIM_TOP_SHRUNK] = "shrunk",
	[TRIM_TOP_NOT_MAIN] = "not_main",
	[TRIM_TOP_PAD] = "below_pad",
	[TRIM_TOP_BRK] = "brk_moved",
	[TRIM_TOP_NONE] = "none",
};

const char *trim_top_name(enum trim_top t)
{
	return (unsigned)t < ARRAY_SIZE(top_names) ? top_names[t] : "unknown";
}

static void add_range(struct trim_model *m, taddr_t start, taddr_t end, uint32_t arena,
		      enum trim_how how)
{
	struct trim_range *r;

	if (end <= start)
		return;
	ALLOC_GROW(m->ranges, m->nr_ranges + 1, m->alloc_ranges);
	r = &m->ranges[m->nr_ranges++];
	r->start = start;
	r->end = end;
	r->arena = arena;
	r->how = (uint8_t)how;
	m->range_bytes += end - start;
}

/* Step 2 for one free chunk [START, END). */
static void madvise_chunk(struct trim_model *m, taddr_t start, taddr_t end, uint32_t arena)
{
	uint64_t ps = m->p.page_size;
	taddr_t first, last;

	if (end - start <= ps - 1 + MALLOC_CHUNK_SZ)
		return;
	first = (start + MALLOC_CHUNK_SZ + ps - 1) & ~(ps - 1);
	last = end & ~(ps - 1);
	if (last > first)
		add_range(m, first, last, arena, TRIM_MADVISE);
}

struct run {
	bool open;
	uint32_t arena;
	taddr_t start, end;
	uint64_t nr_fast;
};

static void close_run(struct trim_model *m, struct run *r)
{
	if (r->open)
		madvise_chunk(m, r->start, r->end, r->arena);
	r->open = false;
}

/* Step 3 for the main arena, whose top (after step 1) is [START, END). */
static void systrim(struct trim_model *m, struct trim_arena *ta, uint32_t ai, taddr_t start,
		    taddr_t end)
{
	uint64_t top_size = end - start, top_area, align = m->p.page_size, extra;

	if (m->p.thp_pagesize && (m->p.major > 2 || m->p.minor >= 35))
		align = m->p.thp_pagesize;
	/* top_area is a long compared with the size_t pad: a top smaller
	 * than MINSIZE + 1 makes it "huge", and the sbrk then fails; either
	 * way nothing is given back. */
	if (top_size < TRIM_MINSIZE + 1) {
		ta->top = TRIM_TOP_PAD;
		return;
	}
	top_area = top_size - TRIM_MINSIZE - 1;
	if (top_area <= m->p.pad) {
		ta->top = TRIM_TOP_PAD;
		return;
	}
	extra = (top_area - m->p.pad) & ~(align - 1);
	if (!extra) {
		ta->top = TRIM_TOP_PAD;
		return;
	}
	if (!m->p.have_brk || m->p.brk != end) {
		ta->top = TRIM_TOP_BRK;
		return;
	}
	ta->top = TRIM_TOP_SHRUNK;
	ta->top_extra = extra;
	/* the kernel's brk(): pages from PAGE_ALIGN(new brk) to PAGE_ALIGN(brk) */
	add_range(m, (end - extra + m->p.page_size - 1) & ~(m->p.page_size - 1),
		  (end + m->p.page_size - 1) & ~(m->p.page_size - 1), ai, TRIM_SBRK);
}

static int cmp_ranges(const void *a, const void *b)
{
	const struct trim_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

void glibc_trim_predict(const struct heap_walk *w, const struct trim_params *p,
			struct trim_model *ret)
{
	struct trim_model m = { .p = *p };
	struct run r = { 0 };

	if (!m.p.page_size)
		m.p.page_size = 4096;
	m.nr_arenas = w->nr_arenas;
	m.arenas = xcalloc(w->nr_arenas + 1, sizeof(*m.arenas));
	for (size_t i = 0; i < w->nr_arenas; i++)
		m.arenas[i].top = TRIM_TOP_NONE;
	for (size_t i = 0; i < w->nr_chunks; i++) {
		const struct chunk *c = &w->chunks[i];
		bool adjacent = r.open && c->arena == r.arena && c->addr == r.end;
		struct trim_arena *ta;

		if (c->arena == CHUNK_NO_ARENA || c->arena >= w->nr_arenas) {
			close_run(&m, &r);
			continue;
		}
		ta = &m.arenas[c->arena];
		switch (c->state) {
		case CHUNK_FASTBIN:
		case CHUNK_BIN:
			if (!adjacent) {
				close_run(&m, &r);
				r = (struct run){ true, c->arena, c->addr, c->addr, 0 };
			}
			r.end = c->addr + c->size;
			if (c->state == CHUNK_FASTBIN) {
				r.nr_fast++;
				ta->merged_fastbin++;
			}
			break;
		case CHUNK_TOP: {
			taddr_t start = c->addr;

			if (adjacent && r.nr_fast) {
				/* malloc_consolidate: "nextchunk == av->top" */
				start = r.start;
				ta->into_top += r.end - r.start;
				r.open = false;
			}
			close_run(&m, &r);
			ta->top_after = c->addr + c->size - start;
			if (w->arenas[c->arena].main)
				systrim(&m, ta, c->arena, start, c->addr + c->size);
			else
				ta->top = TRIM_TOP_NOT_MAIN;
			break;
		}
		default:
			close_run(&m, &r);
			break;
		}
	}
	close_run(&m, &r);
	if (m.nr_ranges > 1)
		qsort(m.ranges, m.nr_ranges, sizeof(*m.ranges), cmp_ranges);
	*ret = m;
}

void trim_model_release(struct trim_model *m)
{
	if (!m)
		return;
	free(m->ranges);
	free(m->arenas);
	memset(m, 0, sizeof(*m));
}
