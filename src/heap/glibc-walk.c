/*
 * glibc-walk.c - classify every chunk of a glibc heap.
 *
 * A chunk (malloc/malloc.c, "malloc_chunk details"):
 *
 *     chunk -> +-------------------------------+
 *              | prev_size (if prev is free)   |  8 bytes
 *              +-------------------------------+
 *              | size                  |A|M|P|  8 bytes: P = PREV_INUSE,
 *        mem-> +-------------------------------+  M = IS_MMAPPED,
 *              | fd  (free chunks)             |  A = NON_MAIN_ARENA
 *              | bk                            |
 *              | fd_nextsize, bk_nextsize      |  (large free chunks)
 *              | ...                           |
 *   next chunk +-------------------------------+
 *
 * Order of work (doc/glibc-malloc.md §7 and §8):
 *
 *   1. mp_ (sbrk_base, n_mmaps, mmapped_mem, hp_pagesize) and the ring of
 *      arenas starting at main_arena.
 *   2. Every thread's tcache (tcache = *(fs_base + tpoff)) and every
 *      arena's fastbins, into two address sets. A linear walk cannot tell
 *      these free chunks from used ones: they keep the next chunk's
 *      PREV_INUSE bit set. Links are demangled on 2.32+ (safe-linking:
 *      stored = (address of the field >> 12) ^ pointer, malloc.c
 *      PROTECT_PTR); list heads are plain.
 *   3. Linear walk of each arena's memory: the main arena's brk segment
 *      (sbrk_base, aligned, up to the end of top) and each heap of a
 *      non-main arena (heap_info chain from the heap of top, via prev).
 *      A chunk is in a bin when the next chunk's PREV_INUSE is clear,
 *      in a tcache or fastbin when its address is in those sets, else in
 *      use. Older non-main heaps end with a fencepost (arena.c/sysmalloc:
 *      a 0x20|P chunk, or a short "in use" chunk, ending at the heap end
 *      and containing a 0|P header): counted as overhead.
 *   4. mmapped chunks: in no list, so every page start of the anonymous
 *      private rw mappings that are not arena memory is tested for a
 *      header with only IS_MMAPPED set and a page-multiple size. memalign
 *      leaves a stale header at the mapping start; the real one is the
 *      first non-zero slot after it with prev_size == its offset
 *      (malloc.c _int_memalign), looked for even when the stale size
 *      overruns the mapping (realloc shrank the chunk: mremap_chunk
 *      updates only the real header). A chunk may span several VMAs
 *      (the program madvise'd or mprotect'ed part of it), so sizes are
 *      checked against the run of adjacent anonymous mappings, and the
 *      pages a chunk covers are never read as page starts. Headers in
 *      other allocators' memory (a JVM's) are dropped when their mapping
 *      touches no VMA boundary and no other chunk and the rest matches
 *      mp_ exactly (doc/glibc-malloc.md §6).
 *   5. Cross-checks, each a warning on mismatch: tcache counts against
 *      list lengths; the bins' lists against the walk's free chunks; the
 *      fastbin lists against the walk; the mmapped scan against
 *      mp_.n_mmaps and mp_.mmapped_mem; chunks plus structural overhead
 *      against each arena's system_mem.
 *
 * Target memory is hostile: every list walk is bounded and detects cycles,
 * every size is range-checked before it moves the cursor, and corruption
 * produces a warning and skips the rest of that heap, never a crash.
 */
#include "config.h"
#include "heap/glibc-walk.h"
#include "heap/glibc.h"
#include "heap/glibc-internal.h"
#include "heap/heap.h"
#include "target/target.h"
#include "util/addrset.h"
#include "util/diag.h"
#include "util/errors.h"
#include "util/workers.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* Most distinct tcache keys we remember for the prefilter: one per thread
 * on 2.29-2.33 (key = the tcache struct), one on 2.34+ (tcache_key). */
#define MAX_TC_KEYS 64
/* Longest list we follow: more than any heap could hold in 2^26 32-byte
 * chunks (2 GiB of minimum chunks); a longer list is corrupt. */
#define MAX_LIST (1u << 26)
/* How far past a mapping start we look for a memalign'd mmapped chunk's
 * real header (the shift is below the alignment requested). */
#define MEMALIGN_SCAN (4u << 20)
#define PAGE 4096ULL

#define X(v) ((unsigned long long)(v))

struct arena_state {
	taddr_t addr;
	unsigned char *ms;		/* copy of malloc_state */
	taddr_t top;
	uint64_t top_size;
	uint64_t system_mem;
	uint64_t structural;		/* overhead the walk could explain */
	struct heap_count fast_lists;	/* from the fastbin lists */
};

struct walker {
	const struct glibc_walk_params *p;
	const struct glibc_layout *l;
	struct target *t;
	struct diag_sink *diag;
	struct heap_walk *w;
	struct addrset tcache, fast;
	uint64_t tc_keys[MAX_TC_KEYS];
	size_t nr_keys;
	bool keys_overflow;
	uint64_t heap_max;
	uint64_t n_mmaps, mmapped_mem, sbrk_base;
	struct arena_state *ar;
	size_t nr_ar;
	taddr_t *excl;			/* address ranges that are arena memory */
	size_t nr_excl, alloc_excl;
};

static uint64_t ms_u64(const struct arena_state *a, uint64_t off)
{
	uint64_t v;

	memcpy(&v, a->ms + off, sizeof(v));
	return v;
}

static int rd(struct walker *k, taddr_t addr, uint64_t *v)
{
	return target_read_u64(k->t, addr, v);
}

static void add_excl(struct walker *k, taddr_t start, taddr_t end)
{
	ALLOC_GROW(k->excl, 2 * (k->nr_excl + 1), k->alloc_excl);
	k->excl[2 * k->nr_excl] = start;
	k->excl[2 * k->nr_excl + 1] = end;
	k->nr_excl++;
}

/* End of the excluded range containing ADDR, or 0. */
static taddr_t excl_end(const struct walker *k, taddr_t addr)
{
	for (size_t i = 0; i < k->nr_excl; i++)
		if (addr >= k->excl[2 * i] && addr < k->excl[2 * i + 1])
			return k->excl[2 * i + 1];
	return 0;
}

/*
 * A window onto target memory. Heaps are walked through 1 MiB windows of
 * target_map() rather than one mapping of the whole heap: for a core, the
 * backend can then drop pages already walked, and heapgrab's memory stays
 * far below the core's size (a 4 GiB core is read with RSS well under its size).
 */
#define VIEW_WINDOW (1u << 20)
#define VIEW_SLACK 64	/* windows overlap so a header at the edge fits */

struct view {
	struct target *t;
	taddr_t lo, hi;			/* reads outside fail */
	taddr_t wstart, wend;		/* the bytes at p */
	const unsigned char *p;
	unsigned char *buf;		/* when the backend cannot map */
	bool bad;			/* a read failed */
};

static void view_init(struct view *v, struct target *t, taddr_t lo, taddr_t hi)
{
	memset(v, 0, sizeof(*v));
	v->t = t;
	v->lo = lo;
	v->hi = hi;
}

static void view_release(struct view *v)
{
	free(v->buf);
	v->buf = NULL;
}

static bool view_load(struct view *v, taddr_t addr)
{
	taddr_t ws = MAX(v->lo, addr & ~(taddr_t)(VIEW_WINDOW - 1));
	taddr_t we = MIN(v->hi, ws + VIEW_WINDOW + VIEW_SLACK);

	v->p = target_map(v->t, ws, we - ws);
	if (!v->p) {
		if (!v->buf)
			v->buf = xmalloc(VIEW_WINDOW + VIEW_SLACK);
		if (target_read(v->t, ws, v->buf, we - ws) < 0) {
			v->wstart = v->wend = 0;
			return false;
		}
		v->p = v->buf;
	}
	v->wstart = ws;
	v->wend = we;
	return true;
}

/* LEN (<= VIEW_SLACK) bytes at ADDR into OUT; false (and ->bad) if unreadable. */
static bool view_get(struct view *v, taddr_t addr, void *out, size_t len)
{
	if (addr < v->lo || addr > v->hi || len > v->hi - addr) {
		v->bad = true;
		return false;
	}
	if ((addr < v->wstart || addr + len > v->wend) && !view_load(v, addr)) {
		v->bad = true;
		return false;
	}
	memcpy(out, v->p + (addr - v->wstart), len);
	return true;
}

static uint64_t at(struct view *v, taddr_t addr)
{
	uint64_t x = 0;

	(void)view_get(v, addr, &x, 8);
	return x;
}

/* ---- step 1: mp_ and arenas ---- */

static int read_mp(struct walker *k)
{
	const struct glibc_layout *l = k->l;
	int32_t n_mmaps;
	int err;

	err = target_read(k->t, k->p->mp + l->mp_n_mmaps, &n_mmaps, sizeof(n_mmaps));
	if (err < 0)
		return err;
	k->n_mmaps = n_mmaps < 0 ? 0 : (uint64_t)n_mmaps;
	if ((err = rd(k, k->p->mp + l->mp_mmapped_mem, &k->mmapped_mem)) < 0 ||
	    (err = rd(k, k->p->mp + l->mp_sbrk_base, &k->sbrk_base)) < 0)
		return err;
	k->heap_max = HEAP_MAX_SIZE_DEFAULT;
	if (l->mp_hp_pagesize != LAYOUT_ABSENT) {
		uint64_t hp;

		/* 2.35+ arena.c heap_max_size(): 4 * hp_pagesize when the
		 * hugetlb tunable is 2, else HEAP_MAX_SIZE. */
		if ((err = rd(k, k->p->mp + l->mp_hp_pagesize, &hp)) < 0)
			return err;
		if (hp && hp <= (1ULL << 30) && !(hp & (hp - 1)))
			k->heap_max = 4 * hp;
	}
	return 0;
}

static int read_arenas(struct walker *k)
{
	const struct glibc_layout *l = k->l;
	taddr_t a = k->p->main_arena;
	size_t alloc = 0;

	for (;;) {
		struct arena_state *s;
		int err;

		if (k->nr_ar >= 4096) {
			diag_report(k->diag, DIAG_WARNING,
				    "arena list longer than 4096 entries, ignoring the rest");
			break;
		}
		ALLOC_GROW(k->ar, k->nr_ar + 1, alloc);
		s = &k->ar[k->nr_ar];
		memset(s, 0, sizeof(*s));
		s->addr = a;
		s->ms = xmalloc(l->ms_size);
		err = target_read(k->t, a, s->ms, l->ms_size);
		if (err < 0) {
			free(s->ms);
			if (k->nr_ar == 0)
				return err;
			diag_report(k->diag, DIAG_WARNING,
				    "arena 0x%llx: unreadable, ignoring it and the rest of the arena list",
				    X(a));
			break;
		}
		k->nr_ar++;
		s->top = ms_u64(s, l->ms_top);
		s->system_mem = ms_u64(s, l->ms_system_mem);
		a = ms_u64(s, l->ms_next);
		if (a == k->p->main_arena || !a)
			break;
		for (size_t i = 0; i < k->nr_ar; i++) {
			if (k->ar[i].addr == a) {
				diag_report(k->diag, DIAG_WARNING,
					    "arena list loops back to 0x%llx, stopping", X(a));
				return 0;
			}
		}
	}
	return 0;
}

/* ---- step 2: tcache and fastbin sets ---- */

static void remember_key(struct walker *k, uint64_t key)
{
	for (size_t i = 0; i < k->nr_keys; i++)
		if (k->tc_keys[i] == key)
			return;
	if (k->nr_keys == MAX_TC_KEYS) {
		k->keys_overflow = true;
		return;
	}
	k->tc_keys[k->nr_keys++] = key;
}

static void walk_tcache(struct walker *k, int tid, taddr_t tc)
{
	const struct glibc_layout *l = k->l;
	unsigned char *buf = xmalloc(l->tc_sizeof);

	if (target_read(k->t, tc, buf, l->tc_sizeof) < 0) {
		diag_report(k->diag, DIAG_WARNING,
			    "thread %d: tcache 0x%llx unreadable, its chunks count as in use",
			    tid, X(tc));
		free(buf);
		return;
	}
	for (uint64_t i = 0; i < l->tc_bins; i++) {
		uint64_t count = 0, n = 0;
		taddr_t e;

		memcpy(&count, buf + l->tc_counts + i * l->tc_count_size, l->tc_count_size);
		memcpy(&e, buf + l->tc_entries + i * 8, 8);
		while (e) {
			uint64_t raw, size, key;
			taddr_t c = e - CHUNK_HDR_SZ;

			if (e & (MALLOC_ALIGNMENT - 1) || rd(k, c + 8, &size) < 0 ||
			    rd(k, e, &raw) < 0) {
				diag_report(k->diag, DIAG_WARNING,
					    "thread %d: tcache bin %llu: bad entry 0x%llx, ignoring the rest of the bin",
					    tid, X(i), X(e));
				break;
			}
			if (((size & ~(uint64_t)SIZE_BITS) - MINSIZE + MALLOC_ALIGNMENT - 1) /
			    MALLOC_ALIGNMENT != i)
				diag_report(k->diag, DIAG_WARNING,
					    "thread %d: tcache bin %llu: chunk 0x%llx has size 0x%llx",
					    tid, X(i), X(c), X(size & ~(uint64_t)SIZE_BITS));
			if (!addrset_add(&k->tcache, c)) {
				diag_report(k->diag, DIAG_WARNING,
					    "thread %d: tcache bin %llu: chunk 0x%llx listed twice (loop), stopping",
					    tid, X(i), X(c));
				break;
			}
			if (l->tcache_key && rd(k, e + 8, &key) == 0)
				remember_key(k, key);
			n++;
			if (n > MAX_LIST)
				break;
			e = l->safe_linking ? raw ^ (e >> 12) : raw;
		}
		if (n != count)
			diag_report(k->diag, DIAG_WARNING,
				    "thread %d: tcache bin %llu: count %llu but %llu chunks listed",
				    tid, X(i), X(count), X(n));
	}
	free(buf);
}

static void collect_tcaches(struct walker *k)
{
	if (!k->l->has_tcache || !k->p->have_tpoff)
		return;
	for (size_t i = 0; i < k->t->nr_threads; i++) {
		const struct target_thread *th = &k->t->threads[i];
		uint64_t tc;

		if (!th->regs.fs_base)
			continue;
		if (rd(k, th->regs.fs_base + (uint64_t)k->p->tpoff, &tc) < 0) {
			diag_report(k->diag, DIAG_WARNING,
				    "thread %d: TLS at 0x%llx unreadable, its tcache is not seen",
				    th->tid, X(th->regs.fs_base));
			continue;
		}
		if (tc)
			walk_tcache(k, th->tid, tc);
	}
}

static void collect_fastbins(struct walker *k, struct arena_state *a)
{
	const struct glibc_layout *l = k->l;

	for (unsigned i = 0; i < NFASTBINS; i++) {
		taddr_t c = ms_u64(a, l->ms_fastbins + 8 * i);
		uint64_t n = 0;

		while (c) {
			uint64_t size, raw;

			if (c & (MALLOC_ALIGNMENT - 1) || rd(k, c + 8, &size) < 0 ||
			    rd(k, c + 16, &raw) < 0) {
				diag_report(k->diag, DIAG_WARNING,
					    "arena 0x%llx: fastbin %u: bad chunk 0x%llx, ignoring the rest of the bin",
					    X(a->addr), i, X(c));
				break;
			}
			size &= ~(uint64_t)SIZE_BITS;
			if (size != (uint64_t)(i + 2) * 16)
				diag_report(k->diag, DIAG_WARNING,
					    "arena 0x%llx: fastbin %u: chunk 0x%llx has size 0x%llx",
					    X(a->addr), i, X(c), X(size));
			if (!addrset_add(&k->fast, c) || ++n > MAX_LIST) {
				diag_report(k->diag, DIAG_WARNING,
					    "arena 0x%llx: fastbin %u: chunk 0x%llx listed twice (loop), stopping",
					    X(a->addr), i, X(c));
				break;
			}
			a->fast_lists.count++;
			a->fast_lists.bytes += size;
			c = l->safe_linking ? raw ^ ((c + 16) >> 12) : raw;
		}
	}
}

/* ---- step 3: linear walk ---- */

static bool maybe_tcache(const struct walker *k, uint64_t key)
{
	if (!k->tcache.nr)
		return false;
	if (!k->l->tcache_key || k->keys_overflow)
		return true;
	/* tcache_entry.key at mem + 8 (2.29+): skip the hash lookup for
	 * chunks that cannot be tcache entries. */
	for (size_t i = 0; i < k->nr_keys; i++)
		if (k->tc_keys[i] == key)
			return true;
	return false;
}

enum seg_kind {
	SEG_NEWEST,	/* a non-main arena's newest heap: ends with top */
	SEG_OLD_HEAP,	/* an older non-main heap: ends with a fencepost */
	SEG_MAIN,	/* a main-arena segment: ends with top or with the
			 * double fencepost sysmalloc leaves when the break is
			 * not where it left it (foreign sbrk, or brk failed
			 * and malloc went on in mmap'd memory) */
};

enum seg_end { SEG_TOP, SEG_FENCE, SEG_BROKEN };

/*
 * Walk [start, end) of arena AI (for SEG_MAIN, END only bounds the walk).
 * Returns how the segment ended; *RET_STOP is the address after it. With
 * DRY nothing is recorded or reported: used to test candidate segment
 * starts, which must end exactly at top or at a double fencepost.
 */
static enum seg_end walk_segment(struct walker *k, uint32_t ai, taddr_t start, taddr_t end,
				 enum seg_kind kind, bool dry, taddr_t *ret_stop)
{
	struct arena_state *a = &k->ar[ai];
	enum seg_end res = SEG_BROKEN;
	struct view v;
	taddr_t p = start;

	*ret_stop = start;
	if (end <= start || end - start > (1ULL << 40)) {
		if (!dry)
			diag_report(k->diag, DIAG_WARNING,
				    "arena 0x%llx: impossible heap range 0x%llx-0x%llx, skipping it",
				    X(a->addr), X(start), X(end));
		return SEG_BROKEN;
	}
	view_init(&v, k->t, start, end);
#define AT(addr) at(&v, (addr))
	while (p < end) {
		uint64_t sz, nsz;
		taddr_t n;
		enum chunk_state st;

		if ((kind == SEG_NEWEST || kind == SEG_MAIN) && p == a->top) {
			if (kind == SEG_NEWEST && p + a->top_size != end && !dry)
				diag_report(k->diag, DIAG_WARNING,
					    "arena 0x%llx: top chunk 0x%llx ends at 0x%llx, heap ends at 0x%llx",
					    X(a->addr), X(p), X(p + a->top_size), X(end));
			if (kind == SEG_MAIN && a->top_size > end - p) {
				if (dry)
					goto out;
			}
			if (!dry)
				heap_walk_add(k->w, p, a->top_size, ai, CHUNK_TOP);
			*ret_stop = p + a->top_size;
			res = SEG_TOP;
			goto out;
		}
		if (end - p < CHUNK_HDR_SZ)
			break;
		sz = AT(p + 8) & ~(uint64_t)SIZE_BITS;
		if (kind == SEG_MAIN && sz == CHUNK_HDR_SZ && end - p >= 2 * CHUNK_HDR_SZ &&
		    AT(p + CHUNK_HDR_SZ + 8) == (CHUNK_HDR_SZ | PREV_INUSE)) {
			/*
			 * sysmalloc's double fencepost (2.36: two
			 * CHUNK_HDR_SZ|P headers after the shrunk old top;
			 * the first loses P when the old top is freed to a
			 * bin). A third one means the old top was a lost
			 * 16-byte remainder.
			 */
			taddr_t stop = p + 2 * CHUNK_HDR_SZ;

			if (end - p >= 3 * CHUNK_HDR_SZ &&
			    AT(p + 2 * CHUNK_HDR_SZ + 8) == (CHUNK_HDR_SZ | PREV_INUSE))
				stop += CHUNK_HDR_SZ;
			if (!dry)
				a->structural += stop - p;
			*ret_stop = stop;
			res = SEG_FENCE;
			goto out;
		}
		if (kind == SEG_OLD_HEAP && (sz == CHUNK_HDR_SZ || sz == MINSIZE) &&
		    end - p == sz + CHUNK_HDR_SZ && AT(end - 8) == PREV_INUSE) {
			/*
			 * sysmalloc (2.36) ends an old heap with a 0|P header
			 * in its last 16 bytes, preceded by a CHUNK_HDR_SZ|P
			 * fencepost chunk, or, when the old top was too small
			 * to free, by the old top itself marked in use
			 * (MINSIZE|P, seen with a 48-byte old top).
			 */
			a->structural += end - p;
			goto out;
		}
		if (v.bad)
			break;
		if (sz < MINSIZE || sz & (MALLOC_ALIGNMENT - 1) || sz > end - p ||
		    end - (p + sz) < CHUNK_HDR_SZ ||
		    (dry && (AT(p + 8) & (IS_MMAPPED | NON_MAIN_ARENA)))) {
			if (!dry)
				diag_report(k->diag, DIAG_WARNING,
					    "arena 0x%llx: chunk 0x%llx: size 0x%llx invalid, skipping rest of heap (0x%llx bytes)",
					    X(a->addr), X(p), X(AT(p + 8)), X(end - p));
			goto out;
		}
		n = p + sz;
		nsz = AT(n + 8);
		if (dry) {
			p = n;
			continue;
		}
		if (!(nsz & PREV_INUSE)) {
			st = CHUNK_BIN;
			if (AT(n) != sz)
				diag_report(k->diag, DIAG_WARNING,
					    "arena 0x%llx: free chunk 0x%llx: size 0x%llx but next prev_size 0x%llx",
					    X(a->addr), X(p), X(sz), X(AT(n)));
		} else if (maybe_tcache(k, AT(p + 24)) && addrset_has(&k->tcache, p)) {
			st = CHUNK_TCACHE;
		} else if (k->fast.nr && sz <= 176 && addrset_has(&k->fast, p)) {
			st = CHUNK_FASTBIN;
		} else {
			st = CHUNK_INUSE;
		}
		if (v.bad)
			break;
		heap_walk_add(k->w, p, sz, ai, st);
		p = n;
	}
	if (dry)
		;
	else if (v.bad)
		diag_report(k->diag, DIAG_WARNING,
			    "arena 0x%llx: heap memory at 0x%llx unreadable, skipping rest of heap (0x%llx bytes)",
			    X(a->addr), X(p), X(end - p));
	else if (kind == SEG_NEWEST || kind == SEG_MAIN)
		diag_report(k->diag, DIAG_WARNING,
			    "arena 0x%llx: walk of 0x%llx-0x%llx did not reach top chunk 0x%llx",
			    X(a->addr), X(start), X(end), X(a->top));
	else
		res = SEG_FENCE;	/* old heap fully walked */
out:
#undef AT
	view_release(&v);
	if (res == SEG_BROKEN && !dry)
		*ret_stop = p;
	return res;
}

/*
 * Can R hold main-arena memory? Private rw and anonymous: the brk area
 * ([heap]), plain or named ([anon:...]) mmaps, and MAP_HUGETLB mmaps,
 * which show as "/anon_hugepage (deleted)": with glibc.malloc.hugetlb=2
 * (2.35+) sbrk is never used (malloc.c ptmalloc_init sets
 * __always_fail_morecore) and the main arena lives in mmapped segments of
 * huge pages when the kernel has them (sysmalloc_mmap_fallback).
 */
static bool heap_memory(const struct target_region *r)
{
	if (r->shared || (r->prot & (TARGET_PROT_READ | TARGET_PROT_WRITE)) !=
	    (TARGET_PROT_READ | TARGET_PROT_WRITE))
		return false;
	return !r->path || !strcmp(r->path, "[heap]") || !strncmp(r->path, "[anon:", 6) ||
	       !strncmp(r->path, "/anon_hugepage", 14);
}

/*
 * End of the run of mappings that continue R without a gap. The kernel
 * splits one brk area or one mmap into several VMAs (several lines of
 * /proc/PID/maps, several PT_LOADs of a core) when part of it gets other
 * flags: glibc 2.35+ with glibc.malloc.hugetlb=1 calls
 * madvise(MADV_HUGEPAGE) on every piece by which sysmalloc grows the heap
 * (malloc.c madvise_thp), so [heap] becomes a row of VMAs whose chunks run
 * across their borders. Only anonymous private rw neighbours count (the
 * pseudo name "[heap]" and huge pages included, heap_memory()); a file
 * mapping or a guard page ends it.
 */
static taddr_t run_end(const struct target *t, const struct target_region *r)
{
	taddr_t end = r->end;

	for (unsigned i = 0; i < 1u << 20; i++) {
		const struct target_region *n = target_region_of(t, end);

		if (!n || n->start != end || !heap_memory(n))
			break;
		end = n->end;
	}
	return end;
}

/* Main-arena bytes accounted so far: its chunks plus explained overhead. */
static uint64_t main_accounted(const struct walker *k, uint32_t ai)
{
	const struct heap_arena *ha = &k->w->arenas[ai];
	uint64_t b = k->ar[ai].structural;

	for (int s = 0; s < CHUNK_STATE__COUNT; s++)
		b += ha->kinds[s].bytes;
	return b;
}

/*
 * Find the next main-arena segment after a double fencepost. Two shapes
 * (malloc.c sysmalloc, "foreign sbrk" and MORECORE failure):
 *   - contiguous break moved by someone else: the next segment starts
 *     later in the same mapping, 16-aligned, after the foreign bytes
 *     (which glibc counts in system_mem: explained as overhead);
 *   - brk failed: the segment is an mmap'd block of its own, starting at
 *     a page start of some anonymous mapping.
 * A candidate is accepted only when a dry walk from it ends exactly at
 * top or at another double fencepost.
 */
static bool next_main_segment(struct walker *k, uint32_t ai, taddr_t after,
			      taddr_t *ret_start, taddr_t *ret_end)
{
	const struct target_region *r = target_region_of(k->t, after);
	taddr_t stop;

	if (r) {
		taddr_t rend = run_end(k->t, r);

		for (taddr_t c = after; c + MINSIZE <= rend; c += MALLOC_ALIGNMENT) {
			uint64_t hdr;

			if (target_read_u64(k->t, c + 8, &hdr) < 0) {
				/* a hole in the image: on to the next byte it holds */
				taddr_t n = target_next_held(k->t, c + 8);

				if (n > rend || n < c + 8)
					break;
				/* the loop's step then lands on the first
				 * candidate whose size word may be held */
				c = MAX(c, ((n - 8) & ~(taddr_t)(MALLOC_ALIGNMENT - 1)) - MALLOC_ALIGNMENT);
				continue;
			}
			if ((hdr & SIZE_BITS) != PREV_INUSE || (hdr & ~(uint64_t)SIZE_BITS) < MINSIZE)
				continue;
			if (walk_segment(k, ai, c, rend, SEG_MAIN, true, &stop) != SEG_BROKEN) {
				*ret_start = c;
				*ret_end = rend;
				return true;
			}
		}
	}
	for (size_t i = 0; i < k->t->nr_regions; i++) {
		const struct target_region *q = &k->t->regions[i];

		if (!heap_memory(q))
			continue;
		for (taddr_t c = q->start; c + MINSIZE <= q->end; c += PAGE) {
			uint64_t hdr;

			if (excl_end(k, c))
				continue;
			if (target_read_u64(k->t, c + 8, &hdr) < 0) {
				taddr_t n = target_next_held(k->t, c + 8);

				if (n > q->end || n < c + 8)
					break;
				c = MAX(c, ((n - 8) & ~(taddr_t)(PAGE - 1)) - PAGE);
				continue;
			}
			if ((hdr & SIZE_BITS) != PREV_INUSE || (hdr & ~(uint64_t)SIZE_BITS) < MINSIZE)
				continue;
			if (walk_segment(k, ai, c, run_end(k->t, q), SEG_MAIN, true, &stop) !=
			    SEG_BROKEN) {
				*ret_start = c;
				*ret_end = run_end(k->t, q);
				return true;
			}
		}
	}
	return false;
}

static void walk_main(struct walker *k, uint32_t ai)
{
	struct arena_state *a = &k->ar[ai];
	const struct target_region *r;
	taddr_t start, end, stop, range_start;
	bool seen_top = false;
	uint32_t nr = 0, flags;

	memcpy(&flags, a->ms + k->l->ms_flags, sizeof(flags));
	if (!a->top || !k->sbrk_base)
		return;		/* malloc never ran: nothing but an empty top */
	start = (k->sbrk_base + MALLOC_ALIGNMENT - 1) & ~(taddr_t)(MALLOC_ALIGNMENT - 1);
	a->structural += start - k->sbrk_base;
	range_start = k->sbrk_base;
	r = target_region_of(k->t, start);
	end = r ? run_end(k->t, r) : start;
	/* Bounded: each round accepts one segment of at least a page. */
	for (unsigned round = 0; round < 4096; round++) {
		enum seg_end e = walk_segment(k, ai, start, end, SEG_MAIN, false, &stop);
		taddr_t next_start, next_end;

		nr++;
		add_excl(k, start, stop);
		heap_walk_add_range(k->w, range_start, stop, ai, HEAP_RANGE_ARENA);
		if (e == SEG_BROKEN)
			break;
		if (e == SEG_TOP)
			seen_top = true;
		if (seen_top && main_accounted(k, ai) >= a->system_mem)
			break;
		if (!next_main_segment(k, ai, stop, &next_start, &next_end)) {
			if (!seen_top)
				diag_report(k->diag, DIAG_WARNING,
					    "main arena: no segment holding top chunk 0x%llx found",
					    X(a->top));
			break;
		}
			/* Bytes between two segments of a contiguous break were taken
		 * with sbrk by the program itself; sysmalloc counted them in
		 * system_mem. (Not so once NONCONTIGUOUS_BIT is set: then
		 * neighbouring segments are separate mmaps.) */
		range_start = next_start;
		if (!(flags & NONCONTIGUOUS_BIT) && next_start >= stop && next_start < end) {
			a->structural += next_start - stop;
			range_start = stop;
		}
		start = next_start;
		end = next_end;
	}
	k->w->arenas[ai].nr_heaps = nr;
}

/*
 * The writable bytes of the heap at H past heap_info.size: shrink_heap
 * (arena.c) gives them back with MADV_DONTNEED but keeps them mapped
 * read-write (mprotect_size), so they belong to no chunk and to no
 * system_mem, yet they are the arena's.
 */
static void heap_slack(struct walker *k, uint32_t ai, taddr_t h, uint64_t size)
{
	const struct target_region *r = target_region_of(k->t, h);
	taddr_t e;

	if (!r || !heap_memory(r))
		return;
	e = MIN(run_end(k->t, r), h + k->heap_max);
	if (e > h + size)
		heap_walk_add_range(k->w, h + size, e, ai, HEAP_RANGE_SLACK);
}

/*
 * The heaps of the thread arenas, walked in parallel.
 *
 * Each heap of a non-main arena is a segment of its own, and the walk of
 * one does not depend on another: its chunks, its counts, the overhead it
 * explains and its warnings are its own. So the heap_info chains are read
 * first (in order), every heap becomes a task, the tasks are walked by
 * one thread per CPU (when the target can be read from several threads at
 * once: a copy in memory), and their results are put together in the
 * order the one-thread walk would have produced them: the same chunks in
 * the same order, the same warnings in the same order.
 */
#define WALK_THREADS_MAX 8

/* Warnings kept for later, in order. */
struct diag_rec {
	struct diag_sink sink;
	char **msg;
	uint8_t *level;
	size_t nr, alloc;
};

static void rec_report(struct diag_sink *sink, enum diag_level level, const char *msg)
{
	struct diag_rec *r = sink->data;

	if (r->nr == r->alloc) {
		r->alloc = r->alloc ? 2 * r->alloc : 4;
		r->msg = xrealloc(r->msg, r->alloc * sizeof(*r->msg));
		r->level = xrealloc(r->level, r->alloc);
	}
	r->msg[r->nr] = xstrdup(msg);
	r->level[r->nr++] = (uint8_t)level;
}

struct seg_task {
	uint32_t ai;
	bool walk;			/* false: only warnings */
	taddr_t first, end;
	enum seg_kind kind;
	struct diag_rec rec;
	struct heap_walk w;		/* its chunks and counts */
	uint64_t structural;		/* overhead it explained */
};

struct seg_tasks {
	struct walker *k;
	struct seg_task *t;
	size_t nr, alloc;
	size_t next;			/* the next task to take (atomic) */
};

static struct seg_task *new_task(struct seg_tasks *ts, uint32_t ai)
{
	struct seg_task *t;

	ALLOC_GROW(ts->t, ts->nr + 1, ts->alloc);
	t = &ts->t[ts->nr++];
	memset(t, 0, sizeof(*t));
	t->ai = ai;
	t->rec.sink.report = rec_report;
	t->rec.sink.data = &t->rec;
	return t;
}

/* walk_non_main()'s chain, read in order: one task per heap. */
static void plan_non_main_tasks(struct walker *k, uint32_t ai, struct seg_tasks *ts)
{
	const struct glibc_layout *l = k->l;
	struct arena_state *a = &k->ar[ai];
	taddr_t newest = a->top & ~(k->heap_max - 1);
	taddr_t h = newest;
	uint32_t nr = 0;

	while (h) {
		uint64_t ar_ptr, prev, size;
		struct seg_task *t;

		if (rd(k, h + l->hi_ar_ptr, &ar_ptr) < 0 || rd(k, h + l->hi_prev, &prev) < 0 ||
		    rd(k, h + l->hi_size, &size) < 0) {
			t = new_task(ts, ai);
			diag_report(&t->rec.sink, DIAG_WARNING,
				    "arena 0x%llx: heap_info 0x%llx unreadable, skipping its older heaps",
				    X(a->addr), X(h));
			break;
		}
		if (ar_ptr != a->addr || size > k->heap_max || size < l->hi_sizeof) {
			t = new_task(ts, ai);
			diag_report(&t->rec.sink, DIAG_WARNING,
				    "arena 0x%llx: heap_info 0x%llx is corrupt (ar_ptr 0x%llx, size 0x%llx), skipping its older heaps",
				    X(a->addr), X(h), X(ar_ptr), X(size));
			break;
		}
		nr++;
		add_excl(k, h, h + k->heap_max);
		t = new_task(ts, ai);
		t->walk = true;
		heap_walk_add_range(k->w, h, h + size, ai, HEAP_RANGE_ARENA);
		heap_slack(k, ai, h, size);
		if (h + l->hi_sizeof == a->addr)
			t->first = (a->addr + l->ms_size + MALLOC_ALIGNMENT - 1) &
				   ~(taddr_t)(MALLOC_ALIGNMENT - 1);
		else
			t->first = h + l->hi_sizeof;
		a->structural += t->first - h;
		t->end = h + size;
		t->kind = h == newest ? SEG_NEWEST : SEG_OLD_HEAP;
		if (nr > 4096 || prev == h)
			break;
		h = prev;
	}
	k->w->arenas[ai].nr_heaps = nr;
}

/* One thread: take tasks until none is left. */
static void walk_tasks(void *arg, unsigned i)
{
	struct seg_tasks *ts = arg;
	struct walker kw = *ts->k;
	size_t n;

	(void)i;
	kw.ar = xmalloc(ts->k->nr_ar * sizeof(*kw.ar));
	memcpy(kw.ar, ts->k->ar, ts->k->nr_ar * sizeof(*kw.ar));
	while ((n = __atomic_fetch_add(&ts->next, 1, __ATOMIC_RELAXED)) < ts->nr) {
		struct seg_task *t = &ts->t[n];
		uint64_t before = kw.ar[t->ai].structural;
		taddr_t stop;

		if (!t->walk)
			continue;
		heap_walk_init(&t->w);
		t->w.arenas = xcalloc(kw.nr_ar, sizeof(*t->w.arenas));
		t->w.nr_arenas = kw.nr_ar;
		kw.w = &t->w;
		kw.diag = &t->rec.sink;
		(void)walk_segment(&kw, t->ai, t->first, t->end, t->kind, false, &stop);
		t->structural = kw.ar[t->ai].structural - before;
	}
	free(kw.ar);
}

/* Task T's results into K, as if it had just been walked there. */
static void merge_task(struct walker *k, struct seg_task *t)
{
	for (size_t i = 0; i < t->rec.nr; i++) {
		diag_report(k->diag, (enum diag_level)t->rec.level[i], "%s", t->rec.msg[i]);
		free(t->rec.msg[i]);
	}
	free(t->rec.msg);
	free(t->rec.level);
	if (!t->walk)
		return;
	k->ar[t->ai].structural += t->structural;
	heap_walk_append(k->w, &t->w);
	heap_walk_release(&t->w);
}

/* Threads for the walk: HEAPGRAB_THREADS, else one per CPU (at most
 * WALK_THREADS_MAX); 1 when the target cannot be read from several. */
static unsigned walk_threads(struct target *t, size_t tasks)
{
	unsigned n = workers_forced();

	if (!n)
		n = MIN(workers_cpus(), (unsigned)WALK_THREADS_MAX);

	if (!target_concurrent_reads(t) || tasks < 2)
		return 1;
	return (unsigned)MIN((size_t)n, tasks);
}

/* Every non-main arena in arena order, as walk_non_main() one by one. */
static void walk_non_mains(struct walker *k)
{
	struct seg_tasks ts = { .k = k };
	struct workers *w = NULL;
	size_t walks = 0;
	unsigned n;

	for (uint32_t i = 1; i < k->nr_ar; i++)
		plan_non_main_tasks(k, i, &ts);
	for (size_t i = 0; i < ts.nr; i++)
		walks += ts.t[i].walk;
	n = walk_threads(k->t, walks);
	if (n > 1)
		w = workers_new(n);
	if (w)
		workers_run(w, walk_tasks, &ts);
	else
		walk_tasks(&ts, 0);
	workers_free(w);
	/* Room for all of them at once: each task's chunks are freed as
	 * they are appended, so the chunks are not held twice for long. */
	walks = k->w->nr_chunks;
	for (size_t i = 0; i < ts.nr; i++)
		walks += ts.t[i].w.nr_chunks;
	ALLOC_GROW(k->w->chunks, walks, k->w->alloc_chunks);
	for (size_t i = 0; i < ts.nr; i++)
		merge_task(k, &ts.t[i]);
	free(ts.t);
}

/* ---- step 4: mmapped chunks ---- */

static bool anon_private(const struct target_region *r)
{
	return !r->shared && (!r->path || !strncmp(r->path, "[anon:", 6) ||
			      !strncmp(r->path, "/anon_hugepage", 14));
}

static bool anon_private_rw(const struct target_region *r)
{
	return anon_private(r) && (r->prot & (TARGET_PROT_READ | TARGET_PROT_WRITE)) ==
				  (TARGET_PROT_READ | TARGET_PROT_WRITE);
}

/* End of the read-write private anonymous memory that goes on without a
 * gap from region I: one mmapped chunk may span several VMAs once the
 * program has madvise'd part of it (the kernel splits the VMA), and the
 * kernel merges neighbouring mmaps into one. Reservations without access
 * (a JVM's heap) end the run: no chunk reaches into them. */
static taddr_t anon_run_end(const struct target *t, size_t i)
{
	taddr_t end = t->regions[i].end;

	for (size_t j = i + 1; j < t->nr_regions && t->regions[j].start == end &&
			       anon_private_rw(&t->regions[j]); j++)
		end = t->regions[j].end;
	return end;
}

/* Reads 16 bytes at ADDR for the mmapped-chunk scan; false if unreadable.
 * The walk reads its image; the copy plan (glibc_walk_plan()) reads the
 * stopped process and notes what the walk will need. */
typedef bool (*get16_fn)(void *ctx, taddr_t addr, uint64_t out[2]);

/*
 * memalign'd mmapped chunk (malloc.c _int_memalign): the header at the
 * mapping start P is stale, the real one is the first non-zero 16-byte
 * slot after it, with prev_size equal to its offset and offset + size a
 * page multiple within the run of mappings (LIMIT). The search stays below
 * SPAN bytes (SPAN <= LIMIT - P: it may go on into the next regions of the
 * run). True and *RET_REAL, *RET_BYTES (offset + size: the mapping) when
 * found.
 */
static bool memalign_header(get16_fn get, void *ctx, taddr_t p, uint64_t span, taddr_t limit,
			    taddr_t *ret_real, uint64_t *ret_bytes)
{
	for (uint64_t off = 16; off + 16 <= span; off += 16) {
		uint64_t s[2], sz;

		if (!get(ctx, p + off, s))
			break;
		if (!s[0] && !s[1])
			continue;
		sz = s[1] & ~(uint64_t)SIZE_BITS;
		if (s[0] == off && (s[1] & SIZE_BITS) == IS_MMAPPED && sz &&
		    (off + sz) % PAGE == 0 && off + sz <= limit - p) {
			*ret_real = p + off;
			*ret_bytes = off + sz;
			return true;
		}
		break;
	}
	return false;
}

/* An mmapped chunk the scan found: its mapping [start, start + bytes),
 * its header at addr (after the memalign gap), and whether its mapping
 * starts where a VMA or the previous chunk's mapping ends (anchored: the
 * scan skips the pages it covers). */
struct mm_cand {
	taddr_t start, addr;
	uint64_t bytes;
	bool anchored;
};

struct mm_scan {
	struct mm_cand *c;
	size_t nr, alloc;
	taddr_t next;		/* end of the last anchored chunk */
};

/*
 * Every page start of region I from scan->next on (a chunk found before
 * may cover the start of this region) that holds an mmapped chunk's
 * header. A header whose size overruns the memory there is either the
 * stale header of a memalign'd chunk that realloc shrank (mremap keeps
 * the stale header, with the old size, and moves the real one's size
 * down) or no header: only a real header after it counts. The pages an
 * anchored chunk covers are never read as page starts: its data may hold
 * anything, a header-like pair of words too; after a chunk that is not
 * anchored the scan goes on at the next page, so that a false header in
 * someone else's memory cannot hide real chunks.
 */
static void scan_region_with(struct walker *k, size_t i, struct mm_scan *sc, get16_fn get,
			     void *ctx, void (*found)(void *ctx, taddr_t p))
{
	const struct target_region *r = &k->t->regions[i];
	taddr_t limit = anon_run_end(k->t, i);
	taddr_t p = MAX(r->start, sc->next);

	while (p + 32 <= r->end) {
		uint64_t hdr[2], cs, bytes;
		taddr_t real = p, e;
		bool anchored;

		e = excl_end(k, p);
		if (e) {
			p = e;
			continue;
		}
		if (!get(ctx, p, hdr)) {
			/* not in the image: on to the next page it holds (a
			 * sparse or hostile region must not cost a step per page) */
			taddr_t n = target_next_held(k->t, p + 16);

			if (n >= r->end || n > UINT64_MAX - PAGE)
				break;
			p = MAX(p + PAGE, (n + PAGE - 1) & ~(PAGE - 1));
			continue;
		}
		cs = hdr[1] & ~(uint64_t)SIZE_BITS;
		if (hdr[0] != 0 || (hdr[1] & SIZE_BITS) != IS_MMAPPED || !cs || cs % PAGE) {
			p += PAGE;
			continue;
		}
		if (memalign_header(get, ctx, p, MIN(MIN(cs, limit - p), (uint64_t)MEMALIGN_SCAN),
				    limit, &real, &bytes)) {
			/* found after the stale header */
		} else if (cs <= limit - p) {
			real = p;
			bytes = cs;
		} else {
			p += PAGE;
			continue;
		}
		if (found)
			found(ctx, p);
		anchored = p == r->start || p == sc->next;
		ALLOC_GROW(sc->c, sc->nr + 1, sc->alloc);
		sc->c[sc->nr++] = (struct mm_cand){ p, real, bytes, anchored };
		if (anchored) {
			p += (bytes + PAGE - 1) & ~(PAGE - 1);
			sc->next = p;
		} else {
			p += PAGE;
		}
	}
}

/* The walk's reader: a view of the region that holds the address. */
struct region_reader {
	struct target *t;
	struct view v;
	bool open;
};

static bool region_get16(void *ctx, taddr_t addr, uint64_t out[2])
{
	struct region_reader *rr = ctx;

	if (!rr->open || addr < rr->v.lo || addr + 16 > rr->v.hi) {
		const struct target_region *r = target_region_of(rr->t, addr);

		if (!r)
			return false;
		if (rr->open)
			view_release(&rr->v);
		view_init(&rr->v, rr->t, r->start, r->end);
		rr->open = true;
	}
	return view_get(&rr->v, addr, out, 16);
}

static void scan_region(struct walker *k, size_t i, struct mm_scan *sc)
{
	struct region_reader rr = { .t = k->t };

	scan_region_with(k, i, sc, region_get16, &rr, NULL);
	if (rr.open)
		view_release(&rr.v);
}

/* Does a VMA start (START true) or end at ADDR? Regions are sorted and
 * do not overlap, so both their starts and their ends are sorted. */
static bool vma_boundary(const struct target *t, taddr_t addr, bool start)
{
	size_t lo = 0, hi = t->nr_regions;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		taddr_t v = start ? t->regions[mid].start : t->regions[mid].end;

		if (v == addr)
			return true;
		if (v < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static bool in_sorted(const uint64_t *v, size_t n, uint64_t x)
{
	return bsearch(&x, v, n, sizeof(*v), cmp_u64) != NULL;
}

/*
 * The scan reads every page start of memory the program shares with
 * other allocators (a JVM's metaspace, its heap): a pair of words there
 * may look like an mmapped chunk's header. A real chunk's mapping starts
 * at a VMA start or where another chunk's mapping ends, or ends at a VMA
 * end or where another chunk's starts (each chunk is an mmap of its own;
 * the kernel merges neighbouring mmaps, other allocators' too, so one
 * side may touch foreign memory, not both unless foreign mmaps came on
 * both sides). When the scan found more than mp_ counts, the candidates
 * linked on neither side are dropped, but only if what is left then
 * matches mp_.n_mmaps and mp_.mmapped_mem exactly: glibc's own counters
 * decide, and otherwise everything found is kept and the mismatch is
 * reported.
 */
static void add_mmapped(struct walker *k, struct mm_scan *sc)
{
	uint64_t n = 0, bytes = 0;
	uint64_t *starts = xmalloc((sc->nr + 1) * sizeof(*starts));
	uint64_t *ends = xmalloc((sc->nr + 1) * sizeof(*ends));
	bool *loose = xcalloc(sc->nr + 1, sizeof(*loose));
	bool drop = false;

	for (size_t i = 0; i < sc->nr; i++) {
		starts[i] = sc->c[i].start;
		ends[i] = sc->c[i].start + sc->c[i].bytes;
	}
	qsort(starts, sc->nr, sizeof(*starts), cmp_u64);
	qsort(ends, sc->nr, sizeof(*ends), cmp_u64);
	for (size_t i = 0; i < sc->nr; i++) {
		const struct mm_cand *c = &sc->c[i];
		taddr_t end = c->start + c->bytes;

		loose[i] = !vma_boundary(k->t, c->start, true) &&
			   !in_sorted(ends, sc->nr, c->start) &&
			   !vma_boundary(k->t, end, false) && !in_sorted(starts, sc->nr, end);
		if (!loose[i]) {
			n++;
			bytes += c->bytes;
		}
	}
	if (n < sc->nr && n == k->n_mmaps && bytes == k->mmapped_mem)
		drop = true;
	for (size_t i = 0; i < sc->nr; i++)
		if (!drop || !loose[i]) {
			heap_walk_add(k->w, sc->c[i].addr, sc->c[i].bytes, CHUNK_NO_ARENA,
				      CHUNK_MMAPPED);
			heap_walk_add_range(k->w, sc->c[i].start, sc->c[i].start + sc->c[i].bytes,
					    CHUNK_NO_ARENA, HEAP_RANGE_MMAPPED);
		}
	free(starts);
	free(ends);
	free(loose);
}

static void scan_mmapped(struct walker *k)
{
	struct mm_scan sc = { 0 };

	for (size_t i = 0; i < k->t->nr_regions; i++)
		if (anon_private_rw(&k->t->regions[i]))
			scan_region(k, i, &sc);
	add_mmapped(k, &sc);
	free(sc.c);
	if (k->w->totals[CHUNK_MMAPPED].count != k->n_mmaps ||
	    k->w->totals[CHUNK_MMAPPED].bytes != k->mmapped_mem)
		diag_report(k->diag, DIAG_WARNING,
			    "mmapped chunks: found %llu (%llu bytes), mp_ counts %llu (%llu bytes)",
			    X(k->w->totals[CHUNK_MMAPPED].count),
			    X(k->w->totals[CHUNK_MMAPPED].bytes), X(k->n_mmaps),
			    X(k->mmapped_mem));
}

/* ---- step 5: cross-checks ---- */

static void check_bins(struct walker *k, uint32_t ai)
{
	const struct glibc_layout *l = k->l;
	struct arena_state *a = &k->ar[ai];
	struct heap_count lists = { 0, 0 };
	const struct heap_count *walk = &k->w->arenas[ai].kinds[CHUNK_BIN];
	/* The bins together hold no more chunks than the walk found in the
	 * arena, nor more than fit in its memory (system_mem is the target's
	 * word: a lie there must not buy a loop billions of steps long). */
	uint64_t limit = a->system_mem / MINSIZE + 1, found = 1, steps = 0;

	for (int s = 0; s < CHUNK_STATE__COUNT; s++)
		found += k->w->arenas[ai].kinds[s].count;
	if (found < limit)
		limit = found;

	for (unsigned i = 1; i < NBINS; i++) {
		taddr_t slot = a->addr + l->ms_bins + (uint64_t)(i - 1) * 16;
		taddr_t head = slot - 16;	/* bin_at(): a fake chunk */
		taddr_t c = ms_u64(a, l->ms_bins + (uint64_t)(i - 1) * 16);
		if (!c)
			continue;	/* before malloc_init_state: empty */
		while (c != head) {
			uint64_t size;

			if (++steps > limit || rd(k, c + 8, &size) < 0 || rd(k, c + 16, &c) < 0) {
				diag_report(k->diag, DIAG_WARNING,
					    "arena 0x%llx: bin %u is corrupt or longer than the heap allows",
					    X(a->addr), i);
				return;
			}
			lists.count++;
			lists.bytes += size & ~(uint64_t)SIZE_BITS;
		}
	}
	if (lists.count != walk->count || lists.bytes != walk->bytes)
		diag_report(k->diag, DIAG_WARNING,
			    "arena 0x%llx: bins list %llu chunks (%llu bytes), heap walk found %llu free (%llu bytes)",
			    X(a->addr), X(lists.count), X(lists.bytes), X(walk->count),
			    X(walk->bytes));
}

static void finish_arena(struct walker *k, uint32_t ai)
{
	struct arena_state *a = &k->ar[ai];
	struct heap_arena *ha = &k->w->arenas[ai];
	uint64_t chunks = 0;

	for (int s = 0; s < CHUNK_STATE__COUNT; s++)
		chunks += ha->kinds[s].bytes;
	if (a->fast_lists.count != ha->kinds[CHUNK_FASTBIN].count ||
	    a->fast_lists.bytes != ha->kinds[CHUNK_FASTBIN].bytes)
		diag_report(k->diag, DIAG_WARNING,
			    "arena 0x%llx: fastbins list %llu chunks (%llu bytes), heap walk found %llu",
			    X(a->addr), X(a->fast_lists.count), X(a->fast_lists.bytes),
			    X(ha->kinds[CHUNK_FASTBIN].count));
	check_bins(k, ai);
	if (chunks > a->system_mem) {
		diag_report(k->diag, DIAG_WARNING,
			    "arena 0x%llx: chunks hold %llu bytes, more than its system memory %llu",
			    X(a->addr), X(chunks), X(a->system_mem));
		ha->overhead = 0;
	} else {
		ha->overhead = a->system_mem - chunks;
		if (ha->overhead != a->structural)
			diag_report(k->diag, DIAG_WARNING,
				    "arena 0x%llx: %lld bytes of system memory not explained by the walk",
				    X(a->addr), (long long)(ha->overhead - a->structural));
	}
	k->w->overhead += ha->overhead;
	k->w->system_bytes += a->system_mem;
}

static int cmp_range(const void *a, const void *b)
{
	const struct heap_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int glibc_walk_heap(const struct glibc_walk_params *p, struct target *t,
		    struct diag_sink *diag, struct heap_walk *ret_walk)
{
	struct walker k = { .p = p, .l = p->l, .t = t, .diag = diag, .w = ret_walk };
	int err;

	heap_walk_init(ret_walk);
	err = read_mp(&k);
	if (err < 0)
		goto out;
	err = read_arenas(&k);
	if (err < 0)
		goto out;
	ret_walk->arenas = xcalloc(k.nr_ar, sizeof(*ret_walk->arenas));
	ret_walk->nr_arenas = k.nr_ar;
	for (size_t i = 0; i < k.nr_ar; i++) {
		struct arena_state *a = &k.ar[i];
		uint64_t sz;

		ret_walk->arenas[i].addr = a->addr;
		ret_walk->arenas[i].main = i == 0;
		ret_walk->arenas[i].system_bytes = a->system_mem;
		if (a->top && rd(&k, a->top + 8, &sz) == 0)
			a->top_size = sz & ~(uint64_t)SIZE_BITS;
		collect_fastbins(&k, a);
	}
	collect_tcaches(&k);
	/* Non-main heaps first: their ranges are then excluded from the
	 * search for main-arena segments outside the brk area. */
	walk_non_mains(&k);
	walk_main(&k, 0);
	for (uint32_t n = 0; n < k.nr_ar; n++) {
		uint32_t i = (n + 1) % k.nr_ar;

		if (!k.ar[i].top) {
			/* int_mallinfo: "top always exists", even before the
			 * first malloc (size 0). */
			ret_walk->totals[CHUNK_TOP].count++;
			ret_walk->arenas[i].kinds[CHUNK_TOP].count++;
		}
	}
	scan_mmapped(&k);
	if (ret_walk->nr_ranges > 1)
		qsort(ret_walk->ranges, ret_walk->nr_ranges, sizeof(*ret_walk->ranges),
		      cmp_range);
	for (uint32_t i = 0; i < k.nr_ar; i++)
		finish_arena(&k, i);
	err = 0;
out:
	for (size_t i = 0; i < k.nr_ar; i++)
		free(k.ar[i].ms);
	free(k.ar);
	free(k.excl);
	addrset_release(&k.tcache);
	addrset_release(&k.fast);
	if (err < 0)
		heap_walk_release(ret_walk);
	return err;
}

/* ---- what a census reads: the copy plan ---- */

/*
 * glibc_walk_plan() answers, for a live target about to be copied, which
 * of its bytes the walk above will read, so that a census without typing
 * copies those under the stop and nothing else. It follows the same
 * structures the walk follows, from the same code where it can:
 *
 *   mp_ and every arena's malloc_state (read_mp, read_arenas), each
 *   arena's top chunk header, each thread's tcache pointer and struct;
 *   the main arena's memory: the run of mappings holding sbrk_base, when
 *   that one segment explains the arena's system_mem (the walk then stops
 *   at top); every heap of every other arena (the heap_info chain);
 *   the mmapped-chunk scan (scan_region_with(), the walk's own loop): every
 *   anonymous private rw mapping is held as zeros (plan->zero), except
 *   the header and memalign slots of each chunk found, copied; a page
 *   whose header is not copied reads zeros, and zeros are never an
 *   mmapped chunk's header, so the scan of the copy finds what the scan
 *   of the process found, and nothing else.
 *
 * The lists (fastbins, bins, tcache entries) point into the arenas' memory
 * and are not followed here: a corrupt list that points elsewhere reads as
 * unreadable in the copy, where a copy of everything might have read some
 * unrelated bytes; either way the walk warns about that list.
 *
 * When the heap has a shape this does not follow (the main arena spread
 * over several segments: foreign sbrk, brk failure, huge-page tunables; a
 * read that fails; a header the scan cannot read), plan->everything is
 * set: copy all writable memory, as for typing.
 */

/* Page headers read at once by the scan, and the window for slots. */
#define PLAN_BATCH 1024
#define PLAN_WINDOW (64u << 10)

static void plan_add(struct target_range **v, size_t *nr, size_t *alloc, taddr_t start,
		     taddr_t end)
{
	if (end <= start)
		return;
	ALLOC_GROW(*v, *nr + 1, *alloc);
	(*v)[*nr].start = start;
	(*v)[*nr].end = end;
	(*nr)++;
}

#define PLAN_COPY(pl, s, e) plan_add(&(pl)->copy, &(pl)->nr_copy, &(pl)->alloc_copy, (s), (e))

struct plan_reader {
	struct walker *k;
	struct glibc_plan *pl;
	const struct target_region *r;
	bool bad;
	taddr_t hstart;			/* page headers [hstart, hstart + nh pages) */
	size_t nh;
	uint64_t heads[PLAN_BATCH][2];
	taddr_t wstart, wend;		/* slot window */
	taddr_t read_end;		/* end of the furthest read since the last chunk */
	unsigned char win[PLAN_WINDOW];
};

/* Start of the first excluded range above ADDR, or UINT64_MAX. */
static taddr_t next_excl(const struct walker *k, taddr_t addr)
{
	taddr_t n = UINT64_MAX;

	for (size_t i = 0; i < k->nr_excl; i++)
		if (k->excl[2 * i] > addr && k->excl[2 * i] < n)
			n = k->excl[2 * i];
	return n;
}

static bool plan_read16(void *ctx, taddr_t addr, uint64_t out[2])
{
	struct plan_reader *pr = ctx;

	if (!(addr & (PAGE - 1))) {
		if (addr < pr->hstart || addr >= pr->hstart + pr->nh * PAGE) {
			taddr_t lim = MIN(pr->r->end, next_excl(pr->k, addr));
			size_t count = lim > addr ? (size_t)MIN((lim - addr + PAGE - 1) / PAGE,
								(taddr_t)PLAN_BATCH) : 1;
			long n = target_read_strided(pr->k->t, addr, PAGE, 16, count, pr->heads);

			pr->hstart = addr;
			pr->nh = n > 0 ? (size_t)n : 0;
			if (n < 1) {
				pr->bad = true;
				return false;
			}
		}
		memcpy(out, pr->heads[(addr - pr->hstart) / PAGE], 16);
		return true;
	}
	if (addr < pr->wstart || addr + 16 > pr->wend) {
		pr->wstart = addr;
		pr->wend = MIN(pr->r->end, addr + PLAN_WINDOW);
		if (pr->wend < addr + 16 ||
		    target_read(pr->k->t, addr, pr->win, (size_t)(pr->wend - addr)) < 0) {
			pr->wend = pr->wstart;
			if (target_read(pr->k->t, addr, out, 16) == 0)
				return true;
			pr->bad = true;
			return false;
		}
	}
	memcpy(out, pr->win + (addr - pr->wstart), 16);
	return true;
}

static bool plan_get16(void *ctx, taddr_t addr, uint64_t out[2])
{
	struct plan_reader *pr = ctx;

	if (!plan_read16(ctx, addr, out))
		return false;
	pr->read_end = MAX(pr->read_end, addr + 16);
	return true;
}

/* A chunk the scan found at P: what was read for it (the header and the
 * memalign slots after it) is copied. */
static void plan_found(void *ctx, taddr_t p)
{
	struct plan_reader *pr = ctx;

	PLAN_COPY(pr->pl, p, MAX(p + 16, pr->read_end));
	pr->read_end = 0;
}

/* The main arena in one segment: its run of mappings. False: not that. */
static bool plan_main(struct walker *k, struct glibc_plan *pl)
{
	struct arena_state *a = &k->ar[0];
	const struct target_region *r;
	taddr_t start, end;
	uint64_t sz;

	if (!a->top || !k->sbrk_base)
		return true;	/* malloc never ran: the walk reads nothing */
	start = (k->sbrk_base + MALLOC_ALIGNMENT - 1) & ~(taddr_t)(MALLOC_ALIGNMENT - 1);
	r = target_region_of(k->t, start);
	if (!r || rd(k, a->top + 8, &sz) < 0)
		return false;
	end = run_end(k->t, r);
	sz &= ~(uint64_t)SIZE_BITS;
	/* walk_main() stops after the segment that reaches top when the bytes
	 * accounted (chunks and the alignment before start) reach system_mem */
	if (a->top < start || a->top >= end || sz > end - a->top ||
	    a->top + sz - k->sbrk_base < a->system_mem)
		return false;
	PLAN_COPY(pl, r->start, end);
	add_excl(k, start, a->top + sz);
	return true;
}

/* walk_non_main()'s heap_info chain. */
static void plan_non_main(struct walker *k, uint32_t ai, struct glibc_plan *pl)
{
	const struct glibc_layout *l = k->l;
	struct arena_state *a = &k->ar[ai];
	taddr_t h = a->top & ~(k->heap_max - 1);
	uint32_t nr = 0;

	while (h) {
		uint64_t ar_ptr, prev, size;

		PLAN_COPY(pl, h, h + l->hi_sizeof);
		if (rd(k, h + l->hi_ar_ptr, &ar_ptr) < 0 || rd(k, h + l->hi_prev, &prev) < 0 ||
		    rd(k, h + l->hi_size, &size) < 0)
			break;
		if (ar_ptr != a->addr || size > k->heap_max || size < l->hi_sizeof)
			break;
		nr++;
		add_excl(k, h, h + k->heap_max);
		PLAN_COPY(pl, h, h + size);
		if (nr > 4096 || prev == h)
			break;
		h = prev;
	}
}

/* collect_tcaches()' reads: each thread's tcache pointer and struct. */
static void plan_tcaches(struct walker *k, struct glibc_plan *pl)
{
	if (!k->l->has_tcache || !k->p->have_tpoff)
		return;
	for (size_t i = 0; i < k->t->nr_threads; i++) {
		const struct target_thread *th = &k->t->threads[i];
		taddr_t slot = th->regs.fs_base + (uint64_t)k->p->tpoff;
		uint64_t tc;

		if (!th->regs.fs_base)
			continue;
		PLAN_COPY(pl, slot, slot + 8);
		if (rd(k, slot, &tc) == 0 && tc)
			PLAN_COPY(pl, tc, tc + k->l->tc_sizeof);
	}
}

/* The mmapped-chunk scan over the process. False: a header did not read. */
static bool plan_scan(struct walker *k, struct glibc_plan *pl)
{
	struct plan_reader *pr = xcalloc(1, sizeof(*pr));
	struct mm_scan sc = { 0 };
	bool ok = true;

	pr->k = k;
	pr->pl = pl;
	for (size_t i = 0; i < k->t->nr_regions && ok; i++) {
		const struct target_region *r = &k->t->regions[i];

		if (!anon_private_rw(r))
			continue;
		plan_add(&pl->zero, &pl->nr_zero, &pl->alloc_zero, r->start, r->end);
		pr->r = r;
		pr->nh = 0;
		pr->wstart = pr->wend = 0;
		scan_region_with(k, i, &sc, plan_get16, pr, plan_found);
		ok = !pr->bad;
	}
	free(sc.c);
	free(pr);
	return ok;
}

void glibc_plan_release(struct glibc_plan *pl)
{
	free(pl->copy);
	free(pl->zero);
	memset(pl, 0, sizeof(*pl));
}

int glibc_walk_plan(const struct glibc_walk_params *p, struct target *t, bool scan,
		    struct glibc_plan *ret_plan)
{
	struct walker k = { .p = p, .l = p->l, .t = t };
	struct glibc_plan *pl = ret_plan;
	int err;

	memset(pl, 0, sizeof(*pl));
	PLAN_COPY(pl, p->mp, p->mp + p->l->mp_size);
	err = read_mp(&k);
	if (err == 0)
		err = read_arenas(&k);
	if (err < 0)
		goto everything;
	for (size_t i = 0; i < k.nr_ar; i++) {
		PLAN_COPY(pl, k.ar[i].addr, k.ar[i].addr + p->l->ms_size);
		if (k.ar[i].top)
			PLAN_COPY(pl, k.ar[i].top, k.ar[i].top + CHUNK_HDR_SZ);
	}
	if (!plan_main(&k, pl))
		goto everything;
	for (uint32_t i = 1; i < k.nr_ar; i++)
		plan_non_main(&k, i, pl);
	plan_tcaches(&k, pl);
	if (scan && !plan_scan(&k, pl))
		goto everything;
	err = 0;
	goto out;
everything:
	glibc_plan_release(pl);
	pl->everything = true;
	err = err == -HG_E_TARGET_GONE ? err : 0;
out:
	for (size_t i = 0; i < k.nr_ar; i++)
		free(k.ar[i].ms);
	free(k.ar);
	free(k.excl);
	return err;
}
