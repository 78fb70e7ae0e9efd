/*
 * write.c - struct snapshot -> snapshot file bytes (format.h,
 * doc/snapshot-format.md).
 *
 * The chunk array dominates: a big process has millions of chunks, and the
 * goals are <= 4 bytes per chunk on disk and <= 0.5 s to write 4M of them.
 * Heaps are mostly contiguous runs of chunks (malloc.c carves each chunk
 * right after the previous one), so once chunks are in address order the
 * gap between one chunk's end and the next chunk's start is almost always
 * 0. Chunks are therefore stored as three varint streams that each
 * compress well on their own:
 *
 *   gaps   zigzag(addr/16 - (prev_addr + prev_size)/16)   mostly 0x00
 *   sizes  size/16                                         1-2 bytes, repetitive
 *   tags   kind | (arena + 1) << 3                          a few values
 *
 * and the section goes through one zstd frame (level SNAP_ZSTD_LEVEL).
 * When some address or size is not a multiple of 16 (a damaged heap the
 * walker still recorded), the unit drops to 1 byte (shift 0): the encoding
 * is lossless for any 64-bit values.
 *
 * The walk lists chunks heap by heap, mmapped chunks last, so the array is
 * a handful of sorted runs: a natural merge sort puts it in address order
 * in O(n log runs), far below a qsort of 4M elements, and it sorts
 * indices rather than moving the chunks.
 */
#include "config.h"
#include "snapshot/file.h"
#include "snapshot/format.h"
#include "snapshot/snapshot.h"
#include "target/residency.h"
#include "target/target.h"
#include "util/le.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

/* zstd level for the chunk section: 3 is zstd's default and measured
 * ~2x smaller than level 1 on walk-shaped data at well under 0.1 s for 4M
 * chunks; higher levels cost more time than they save bytes here. */
#define SNAP_ZSTD_LEVEL 3
/* zstd level for the memory image's pieces (--contents): level 1, the
 * fastest; heap bytes are mostly zeros and repeated small structs, where
 * higher levels gain little for their time (see doc/snapshot-format.md). */
#define SNAP_MEM_ZSTD_LEVEL 1

_Static_assert(sizeof(struct user_regs_struct) == SNAP_NR_REGS * 8,
	       "struct user_regs_struct is 27 u64 words on x86_64");

static const uint32_t kind_to_disk[CHUNK_STATE__COUNT] = {
	[CHUNK_INUSE] = SNAP_KIND_INUSE,
	[CHUNK_TCACHE] = SNAP_KIND_TCACHE,
	[CHUNK_FASTBIN] = SNAP_KIND_FASTBIN,
	[CHUNK_BIN] = SNAP_KIND_BIN,
	[CHUNK_TOP] = SNAP_KIND_TOP,
	[CHUNK_MMAPPED] = SNAP_KIND_MMAPPED,
};

/* The kinds in on-disk order. */
static const enum chunk_state disk_kinds[SNAP_NR_KINDS] = {
	CHUNK_INUSE, CHUNK_TCACHE, CHUNK_FASTBIN, CHUNK_BIN, CHUNK_TOP, CHUNK_MMAPPED,
};

static void add_u32(struct strbuf *sb, uint32_t v)
{
	unsigned char b[4];

	put_le32(b, v);
	strbuf_add(sb, b, sizeof(b));
}

static void add_u64(struct strbuf *sb, uint64_t v)
{
	unsigned char b[8];

	put_le64(b, v);
	strbuf_add(sb, b, sizeof(b));
}

static void add_str(struct strbuf *sb, const char *s)
{
	size_t n;

	if (!s) {
		add_u32(sb, SNAP_STR_NULL);
		return;
	}
	n = strlen(s);
	if (n >= SNAP_STR_NULL)
		n = SNAP_STR_NULL - 1;
	add_u32(sb, (uint32_t)n);
	strbuf_add(sb, s, n);
}

static inline unsigned char *put_varint(unsigned char *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	*p++ = (unsigned char)v;
	return p;
}

void snapshot_file_info_now(struct snapshot_file_info *info, unsigned warnings)
{
	memset(info, 0, sizeof(*info));
	info->taken = (int64_t)time(NULL);
	snprintf(info->version, sizeof(info->version), "%s", PACKAGE_VERSION);
	info->warnings = warnings;
	info->major = SNAP_MAJOR;
	info->minor = SNAP_MINOR;
}

static void encode_meta(struct strbuf *sb, const struct snapshot *s,
			const struct snapshot_file_info *info)
{
	add_u64(sb, (uint64_t)info->taken);
	add_u32(sb, (uint32_t)s->meta.pid);
	add_u32(sb, s->meta.nr_threads > UINT32_MAX ? UINT32_MAX : (uint32_t)s->meta.nr_threads);
	add_u32(sb, info->warnings);
	add_u32(sb, s->meta.ns_pid > 0 ? (uint32_t)s->meta.ns_pid : 0);
	add_str(sb, info->version);
	add_str(sb, s->meta.exe);
	add_str(sb, s->meta.glibc);
	add_str(sb, s->meta.libc_symbols);
	add_str(sb, s->meta.memory);	/* 1.3 */
}

static void add_counts(struct strbuf *sb, const struct heap_count *kinds)
{
	for (int k = 0; k < SNAP_NR_KINDS; k++) {
		add_u64(sb, kinds[disk_kinds[k]].count);
		add_u64(sb, kinds[disk_kinds[k]].bytes);
	}
}

static void encode_arenas(struct strbuf *sb, const struct heap_walk *w)
{
	add_u32(sb, (uint32_t)w->nr_arenas);
	add_u32(sb, SNAP_ARENA_REC);
	for (size_t i = 0; i < w->nr_arenas; i++) {
		const struct heap_arena *a = &w->arenas[i];

		add_u64(sb, a->addr);
		add_u32(sb, a->main ? SNAP_ARENAF_MAIN : 0);
		add_u32(sb, a->nr_heaps);
		add_u64(sb, a->system_bytes);
		add_u64(sb, a->overhead);
		add_counts(sb, a->kinds);
	}
}

static void encode_totals(struct strbuf *sb, const struct heap_walk *w)
{
	add_counts(sb, w->totals);
	add_u64(sb, w->overhead);
	add_u64(sb, w->system_bytes);
}

/* The total order chunks are stored in: address, then size, arena, kind
 * (ties only happen on damaged heaps, but the output must not depend on
 * the walk order). */
static inline bool chunk_less(const struct chunk *a, const struct chunk *b)
{
	if (a->addr != b->addr)
		return a->addr < b->addr;
	if (a->size != b->size)
		return a->size < b->size;
	if (a->arena != b->arena)
		return a->arena < b->arena;
	return a->state < b->state;
}

/* For qsort of runs by their first chunk (through sort_chunks). */
static const struct chunk *sort_chunks;
static const size_t *sort_runs;

static int cmp_runs(const void *x, const void *y)
{
	const struct chunk *p = &sort_chunks[sort_runs[*(const size_t *)x]];
	const struct chunk *q = &sort_chunks[sort_runs[*(const size_t *)y]];

	return chunk_less(p, q) ? -1 : chunk_less(q, p);
}

/*
 * The common case: runs are whole heaps, which never overlap, so ordering
 * the runs by their first chunk and concatenating them sorts everything
 * in O(n) without a single indirect comparison per element. Returns false
 * (and the caller merges) when some runs do overlap.
 */
static bool concat_runs(const struct chunk *c, const size_t *runs, size_t nr_runs,
			size_t *ret_order)
{
	size_t *r = xmalloc(st_mult(nr_runs, sizeof(*r)));
	size_t k = 0;

	for (size_t i = 0; i < nr_runs; i++)
		r[i] = i;
	sort_chunks = c;
	sort_runs = runs;
	qsort(r, nr_runs, sizeof(*r), cmp_runs);
	for (size_t i = 1; i < nr_runs; i++)
		if (!chunk_less(&c[runs[r[i - 1] + 1] - 1], &c[runs[r[i]]])) {
			free(r);
			return false;
		}
	for (size_t i = 0; i < nr_runs; i++)
		for (size_t j = runs[r[i]]; j < runs[r[i] + 1]; j++)
			ret_order[k++] = j;
	free(r);
	return true;
}

/*
 * Return the order in which to store W's chunks: NULL when the array is
 * already sorted, else a malloc'd permutation (indices into w->chunks).
 * Natural merge sort of indices (8 bytes each, a third of what moving the
 * chunks would touch): find the ascending runs, merge neighbours until one
 * is left.
 */
static size_t *sorted_order(const struct heap_walk *w)
{
	const struct chunk *c = w->chunks;
	size_t n = w->nr_chunks, nr_runs = 0;
	size_t *runs, *a, *b;	/* runs: start of each run; runs[nr_runs] = n */

	for (size_t i = 1; i < n; i++)
		if (chunk_less(&c[i], &c[i - 1]))
			nr_runs++;
	if (!nr_runs)
		return NULL;

	runs = xmalloc(st_mult(nr_runs + 2, sizeof(*runs)));
	nr_runs = 0;
	runs[nr_runs++] = 0;
	for (size_t i = 1; i < n; i++)
		if (chunk_less(&c[i], &c[i - 1]))
			runs[nr_runs++] = i;
	runs[nr_runs] = n;

	a = xmalloc(st_mult(n, sizeof(*a)));
	if (concat_runs(c, runs, nr_runs, a)) {
		free(runs);
		return a;
	}
	b = xmalloc(st_mult(n, sizeof(*b)));
	for (size_t i = 0; i < n; i++)
		a[i] = i;
	while (nr_runs > 1) {
		size_t out = 0, r;

		for (r = 0; r + 1 < nr_runs; r += 2) {
			size_t i = runs[r], mid = runs[r + 1], j = mid, end = runs[r + 2];
			size_t k = i;

			while (i < mid && j < end)
				b[k++] = chunk_less(&c[a[j]], &c[a[i]]) ? a[j++] : a[i++];
			memcpy(b + k, a + i, (mid - i) * sizeof(*a));
			k += mid - i;
			memcpy(b + k, a + j, (end - j) * sizeof(*a));
			runs[out++] = runs[r];
		}
		if (r < nr_runs) {	/* odd run out: copy it over */
			memcpy(b + runs[r], a + runs[r], (runs[r + 1] - runs[r]) * sizeof(*a));
			runs[out++] = runs[r];
		}
		runs[out] = n;
		nr_runs = out;
		{
			size_t *t = a;

			a = b;
			b = t;
		}
	}
	free(b);
	free(runs);
	return a;
}

static void encode_chunks(struct strbuf *sb, const struct heap_walk *w, const size_t *order)
{
	const struct chunk *chunks = w->chunks;
	size_t n = w->nr_chunks;
	unsigned shift = 4;
	unsigned char *gaps, *sizes, *tags, *pg, *ps, *pt;
	unsigned char head[SNAP_CHUNKS_HEAD];
	uint64_t prev_end = 0;

	for (size_t i = 0; i < n; i++)
		if ((chunks[i].addr | chunks[i].size) & 15) {
			shift = 0;
			break;
		}
	/* 10 bytes is the longest varint of a u64; untouched pages of these
	 * buffers are never faulted in. */
	pg = gaps = xmalloc(st_mult(n, 10) + 1);
	ps = sizes = xmalloc(st_mult(n, 10) + 1);
	pt = tags = xmalloc(st_mult(n, 10) + 1);
	for (size_t i = 0; i < n; i++) {
		const struct chunk *c = &chunks[order ? order[i] : i];
		uint64_t d = (c->addr >> shift) - (prev_end >> shift);
		uint64_t arena = c->arena == CHUNK_NO_ARENA ? 0 : (uint64_t)c->arena + 1;
		uint32_t kind = c->state < CHUNK_STATE__COUNT ? kind_to_disk[c->state] : 7;

		/* zigzag: small negative gaps (overlaps) stay short */
		pg = put_varint(pg, (d << 1) ^ (uint64_t)((int64_t)d >> 63));
		ps = put_varint(ps, c->size >> shift);
		pt = put_varint(pt, kind | arena << SNAP_TAG_KIND_BITS);
		prev_end = c->addr + c->size;
	}
	memset(head, 0, sizeof(head));
	put_le64(head, n);
	head[8] = (unsigned char)shift;
	put_le64(head + 16, (uint64_t)(pg - gaps));
	put_le64(head + 24, (uint64_t)(ps - sizes));
	put_le64(head + 32, (uint64_t)(pt - tags));
	strbuf_grow(sb, sizeof(head) + (size_t)(pg - gaps) + (size_t)(ps - sizes) +
		    (size_t)(pt - tags));
	strbuf_add(sb, head, sizeof(head));
	strbuf_add(sb, gaps, (size_t)(pg - gaps));
	strbuf_add(sb, sizes, (size_t)(ps - sizes));
	strbuf_add(sb, tags, (size_t)(pt - tags));
	free(gaps);
	free(sizes);
	free(tags);
}

/* TYPES (1.2): u32 names, u32 0, u64 conflicts, u64 chunks, the names
 * (u32 length + bytes each), then one varint per chunk in CHUNKS order:
 * 0 = untyped, else (name index + 1) << 1 | inferred. */
static void encode_types(struct strbuf *sb, const struct snapshot *s, const size_t *order)
{
	const struct snapshot_types *ty = s->types;
	size_t n = s->walk.nr_chunks;
	unsigned char *buf, *p;

	add_u32(sb, (uint32_t)ty->nr_names);
	add_u32(sb, 0);
	add_u64(sb, ty->conflicts);
	add_u64(sb, n);
	for (size_t i = 0; i < ty->nr_names; i++)
		add_str(sb, ty->names[i]);
	p = buf = xmalloc(st_mult(n, 10) + 1);
	for (size_t k = 0; k < n; k++) {
		size_t i = order ? order[k] : k;
		uint32_t t = ty->of_chunk[i];

		p = put_varint(p, t == SNAPSHOT_UNTYPED ? 0 :
			       ((uint64_t)t + 1) << 1 | (ty->flags[i] & SNAPSHOT_TYPE_INFERRED));
	}
	strbuf_add(sb, buf, (size_t)(p - buf));
	free(buf);
}

static uint32_t rss_flags(const struct snapshot_rss *r)
{
	const struct glibc_params *p = &r->params;

	return (r->res.live ? SNAP_RSSF_LIVE : 0) | (r->res.pfn_visible ? SNAP_RSSF_PFN : 0) |
	       (r->res.has_rollup ? SNAP_RSSF_ROLLUP : 0) |
	       (p->have_thresholds ? SNAP_RSSF_THRESHOLDS : 0) |
	       (p->have_thp ? SNAP_RSSF_THP : 0) | (p->have_curbrk ? SNAP_RSSF_CURBRK : 0) |
	       (p->have_narenas_limit ? SNAP_RSSF_NARENAS : 0) |
	       (r->have_thread_arenas ? SNAP_RSSF_THREAD_ARENAS : 0) |
	       (p->no_dyn_threshold ? SNAP_RSSF_NO_DYN : 0) |
	       (r->res.method == RESIDENCY_SCAN ? SNAP_RSSF_SCAN : 0) |
	       (r->res.method == RESIDENCY_READ ? SNAP_RSSF_READ : 0);
}

/* RSS (1.3): see format.h. */
static void encode_rss(struct strbuf *sb, const struct snapshot *s)
{
	const struct snapshot_rss *r = s->rss;
	const struct glibc_params *p = &r->params;
	const struct heap_walk *w = &s->walk;

	add_u32(sb, rss_flags(r));
	add_u32(sb, (uint32_t)r->res.pagemap_err);
	add_u32(sb, (uint32_t)r->res.smaps_err);
	add_u32(sb, r->online_cpus);
	add_u32(sb, r->affinity_cpus);
	add_u32(sb, (uint32_t)(p->major & 0xffff) | (uint32_t)(p->minor & 0xffff) << 16);
	add_u64(sb, r->res.rollup_rss);
	add_u64(sb, r->res.rollup_swap);
	add_u64(sb, r->res.changed_rss);
	add_u64(sb, p->curbrk);
	add_u64(sb, p->narenas_limit);
	add_u64(sb, p->trim_threshold);
	add_u64(sb, p->top_pad);
	add_u64(sb, p->mmap_threshold);
	add_u64(sb, p->arena_test);
	add_u64(sb, p->arena_max);
	add_u64(sb, (uint64_t)p->n_mmaps_max);
	add_u64(sb, p->thp_pagesize);
	add_u64(sb, 0);
	add_str(sb, r->tunables);
	add_str(sb, r->malloc_env);
	add_str(sb, r->no_malloc);
	add_u32(sb, (uint32_t)r->nr_threads);
	add_u32(sb, SNAP_RSS_THREAD_REC);
	for (size_t i = 0; i < r->nr_threads; i++) {
		add_u32(sb, (uint32_t)r->threads[i].tid);
		add_u32(sb, 0);
		add_u64(sb, r->threads[i].sp);
		add_u64(sb, r->threads[i].arena);
	}
	add_u32(sb, (uint32_t)w->nr_ranges);
	add_u32(sb, SNAP_RSS_RANGE_REC);
	for (size_t i = 0; i < w->nr_ranges; i++) {
		add_u64(sb, w->ranges[i].start);
		add_u64(sb, w->ranges[i].end);
		add_u32(sb, w->ranges[i].arena);
		add_u32(sb, w->ranges[i].kind);
	}
	add_u32(sb, (uint32_t)r->res.nr_maps);
	add_u32(sb, SNAP_RSS_MAP_REC);
	for (size_t i = 0; i < r->res.nr_maps; i++) {
		const struct residency_map *m = &r->res.maps[i];
		uint32_t flags = (m->prot & TARGET_PROT_READ ? SNAP_RMAPF_READ : 0) |
				 (m->prot & TARGET_PROT_WRITE ? SNAP_RMAPF_WRITE : 0) |
				 (m->prot & TARGET_PROT_EXEC ? SNAP_RMAPF_EXEC : 0) |
				 (m->shared ? SNAP_RMAPF_SHARED : 0) |
				 (m->deleted ? SNAP_RMAPF_DELETED : 0) |
				 (m->flags & RESMAP_PAGED ? SNAP_RMAPF_PAGED : 0) |
				 (m->flags & RESMAP_SMAPS ? SNAP_RMAPF_SMAPS : 0) |
				 (m->flags & RESMAP_STOPPED ? SNAP_RMAPF_STOPPED : 0);
		size_t n = m->name ? strlen(m->name) : 0;

		add_u64(sb, m->start);
		add_u64(sb, m->end);
		add_u32(sb, flags);
		add_u32(sb, m->name ? (uint32_t)MIN(n, (size_t)SNAP_STR_NULL - 1) : SNAP_STR_NULL);
		add_u64(sb, m->rss);
		add_u64(sb, m->swap);
		add_u64(sb, m->anon);
		add_u64(sb, m->resident_pages);
		add_u64(sb, m->zero_pages);
		add_u64(sb, m->swapped_pages);
	}
	for (size_t i = 0; i < r->res.nr_maps; i++)
		if (r->res.maps[i].name)
			strbuf_add(sb, r->res.maps[i].name,
				   MIN(strlen(r->res.maps[i].name), (size_t)SNAP_STR_NULL - 1));
	for (size_t i = 0; i < r->res.nr_maps; i++) {
		const struct residency_map *m = &r->res.maps[i];
		uint64_t words = ((m->end - m->start) / RESIDENCY_PAGE + 63) / 64;

		if (!(m->flags & RESMAP_PAGED))
			continue;
		for (uint64_t k = 0; k < words; k++)
			add_u64(sb, m->bits[k]);
	}
}

static void encode_regions(struct strbuf *sb, const struct target *img)
{
	add_u32(sb, (uint32_t)img->nr_regions);
	add_u32(sb, SNAP_REGION_REC);
	for (size_t i = 0; i < img->nr_regions; i++) {
		const struct target_region *r = &img->regions[i];
		uint32_t flags = (r->prot & TARGET_PROT_READ ? SNAP_REGF_READ : 0) |
				 (r->prot & TARGET_PROT_WRITE ? SNAP_REGF_WRITE : 0) |
				 (r->prot & TARGET_PROT_EXEC ? SNAP_REGF_EXEC : 0) |
				 (r->shared ? SNAP_REGF_SHARED : 0) |
				 (r->deleted ? SNAP_REGF_DELETED : 0);
		size_t n = r->path ? strlen(r->path) : 0;

		add_u64(sb, r->start);
		add_u64(sb, r->end);
		add_u64(sb, r->offset);
		add_u32(sb, flags);
		add_u32(sb, r->path ? (uint32_t)MIN(n, (size_t)SNAP_STR_NULL - 1) : SNAP_STR_NULL);
	}
	for (size_t i = 0; i < img->nr_regions; i++)
		if (img->regions[i].path)
			strbuf_add(sb, img->regions[i].path,
				   MIN(strlen(img->regions[i].path), (size_t)SNAP_STR_NULL - 1));
}

static void encode_threads(struct strbuf *sb, const struct target *img)
{
	add_u32(sb, (uint32_t)img->nr_threads);
	add_u32(sb, SNAP_THREAD_REC);
	for (size_t i = 0; i < img->nr_threads; i++) {
		uint64_t words[SNAP_NR_REGS];

		memcpy(words, &img->threads[i].regs, sizeof(words));
		add_u32(sb, (uint32_t)img->threads[i].tid);
		add_u32(sb, 0);
		for (int k = 0; k < SNAP_NR_REGS; k++)
			add_u64(sb, words[k]);
	}
}

/*
 * The image's bytes, one zstd frame per piece, compressed straight into
 * the section buffer: the raw bytes are never copied, so a 1 GiB image
 * costs its compressed size on top of itself while the file is built.
 */
static void encode_memory(struct strbuf *sb, const struct memimage *m)
{
	size_t nr = memimage_nr_segments(m);
	ZSTD_CCtx *cctx = ZSTD_createCCtx();

	add_u64(sb, nr);
	add_u32(sb, SNAP_MEMORY_PIECE);
	add_u32(sb, 0);
	for (size_t i = 0; i < nr; i++) {
		taddr_t start;
		size_t len;

		(void)memimage_segment(m, i, &start, &len);
		add_u64(sb, start);
		add_u64(sb, len);
	}
	for (size_t i = 0; i < nr; i++) {
		taddr_t start;
		size_t len;
		const unsigned char *data = memimage_segment(m, i, &start, &len);

		for (size_t off = 0; off < len; off += SNAP_MEMORY_PIECE) {
			size_t n = MIN((size_t)SNAP_MEMORY_PIECE, len - off);
			size_t bound = ZSTD_compressBound(n), z;
			size_t at;

			strbuf_grow(sb, 4 + bound);
			at = sb->len;
			z = cctx ? ZSTD_compressCCtx(cctx, sb->buf + at + 4, bound, data + off, n,
						     SNAP_MEM_ZSTD_LEVEL)
				 : ZSTD_compress(sb->buf + at + 4, bound, data + off, n,
						 SNAP_MEM_ZSTD_LEVEL);
			if (ZSTD_isError(z)) {
				/* only without memory for zstd's state: store */
				memcpy(sb->buf + at + 4, data + off, n);
				put_le32((unsigned char *)sb->buf + at, (uint32_t)n | SNAP_PIECE_RAW);
				z = n;
			} else {
				put_le32((unsigned char *)sb->buf + at, (uint32_t)z);
			}
			sb->len = at + 4 + z;
			sb->buf[sb->len] = '\0';
		}
	}
	ZSTD_freeCCtx(cctx);
}

/* CRC32 of LEN bytes: zlib's crc32() takes a uInt length. */
static uint32_t crc_all(const void *buf, size_t len)
{
	const Bytef *p = buf;
	uLong crc = crc32(0, Z_NULL, 0);

	while (len) {
		size_t k = MIN(len, (size_t)1 << 30);

		crc = crc32(crc, p, (uInt)k);
		p += k;
		len -= k;
	}
	return (uint32_t)crc;
}

struct section {
	uint32_t id;
	uint32_t flags;
	struct strbuf data;	/* as stored */
	uint64_t raw_size;
};

static void compress_section(struct section *sec)
{
	size_t bound = ZSTD_compressBound(sec->data.len);
	struct strbuf z = STRBUF_INIT;
	size_t n;

	strbuf_grow(&z, bound);
	n = ZSTD_compress(z.buf, bound, sec->data.buf, sec->data.len, SNAP_ZSTD_LEVEL);
	if (ZSTD_isError(n)) {	/* cannot happen with a full bound; store raw */
		strbuf_release(&z);
		return;
	}
	z.len = n;
	z.buf[n] = '\0';
	strbuf_release(&sec->data);
	sec->data = z;
	sec->flags |= SNAP_SECF_ZSTD;
}

void snapshot_encode(const struct snapshot *s, const struct snapshot_file_info *info,
		     struct strbuf *out)
{
	struct section secs[9] = {
		{ .id = SNAP_SEC_META, .data = STRBUF_INIT },
		{ .id = SNAP_SEC_ARENAS, .data = STRBUF_INIT },
		{ .id = SNAP_SEC_TOTALS, .data = STRBUF_INIT },
		{ .id = SNAP_SEC_CHUNKS, .data = STRBUF_INIT },
		{ .id = SNAP_SEC_REGIONS, .data = STRBUF_INIT },
		{ .id = SNAP_SEC_THREADS, .data = STRBUF_INIT },
		{ .id = SNAP_SEC_MEMORY, .data = STRBUF_INIT },
		{ .id = SNAP_SEC_TYPES, .data = STRBUF_INIT },
		{ .id = SNAP_SEC_RSS, .data = STRBUF_INIT },
	};
	const struct memimage *mem = memimage_of(s->image);
	size_t nr = mem ? 7 : 4, base = out->len;
	size_t *order = sorted_order(&s->walk);
	unsigned char hdr[SNAP_HDR_SIZE], ent[SNAP_ENT_SIZE];
	uint64_t off;
	uLong crc;

	encode_meta(&secs[0].data, s, info);
	encode_arenas(&secs[1].data, &s->walk);
	encode_totals(&secs[2].data, &s->walk);
	encode_chunks(&secs[3].data, &s->walk, order);
	if (mem) {
		encode_regions(&secs[4].data, s->image);
		encode_threads(&secs[5].data, s->image);
		encode_memory(&secs[6].data, mem);
	}
	if (s->types) {
		/* sections are written in array order: move TYPES down */
		struct section t = secs[7];

		encode_types(&t.data, s, order);
		secs[nr++] = t;
	}
	free(order);
	if (s->rss) {
		struct section t = secs[8];

		encode_rss(&t.data, s);
		secs[nr++] = t;
	}
	for (size_t i = 0; i < nr; i++)
		secs[i].raw_size = secs[i].data.len;
	compress_section(&secs[3]);
	if (mem)
		compress_section(&secs[4]);
	for (size_t i = 0; i < nr; i++)
		if (secs[i].id == SNAP_SEC_TYPES || secs[i].id == SNAP_SEC_RSS)
			compress_section(&secs[i]);

	off = SNAP_HDR_SIZE + nr * SNAP_ENT_SIZE;
	memset(hdr, 0, sizeof(hdr));
	strbuf_add(out, hdr, sizeof(hdr));	/* filled in below */
	crc = crc32(0, Z_NULL, 0);
	for (size_t i = 0; i < nr; i++) {
		memset(ent, 0, sizeof(ent));
		put_le32(ent + SNAP_ENT_OFF_ID, secs[i].id);
		put_le32(ent + SNAP_ENT_OFF_FLAGS, secs[i].flags);
		put_le64(ent + SNAP_ENT_OFF_OFFSET, off);
		put_le64(ent + SNAP_ENT_OFF_STORED, secs[i].data.len);
		put_le64(ent + SNAP_ENT_OFF_RAW, secs[i].raw_size);
		put_le32(ent + SNAP_ENT_OFF_CRC, crc_all(secs[i].data.buf, secs[i].data.len));
		off += secs[i].data.len;
		crc = crc32(crc, ent, sizeof(ent));
		strbuf_add(out, ent, sizeof(ent));
	}
	for (size_t i = 0; i < nr; i++) {
		strbuf_add(out, secs[i].data.buf, secs[i].data.len);
		strbuf_release(&secs[i].data);
	}

	memcpy(hdr + SNAP_HDR_OFF_MAGIC, SNAP_MAGIC, SNAP_MAGIC_LEN);
	put_le16(hdr + SNAP_HDR_OFF_MAJOR, SNAP_MAJOR);
	put_le16(hdr + SNAP_HDR_OFF_MINOR, SNAP_MINOR);
	put_le32(hdr + SNAP_HDR_OFF_HDR_SIZE, SNAP_HDR_SIZE);
	put_le32(hdr + SNAP_HDR_OFF_NR_SECT, (uint32_t)nr);
	put_le32(hdr + SNAP_HDR_OFF_ENT_SIZE, SNAP_ENT_SIZE);
	put_le64(hdr + SNAP_HDR_OFF_FILE_SIZE, off);
	put_le32(hdr + SNAP_HDR_OFF_TABLE_CRC, (uint32_t)crc);
	put_le32(hdr + SNAP_HDR_OFF_HDR_CRC,
		(uint32_t)crc32(crc32(0, Z_NULL, 0), hdr, SNAP_HDR_OFF_HDR_CRC));
	memcpy(out->buf + base, hdr, sizeof(hdr));
}

int snapshot_write_file(const struct snapshot *s, const struct snapshot_file_info *info,
			const char *path)
{
	struct strbuf img = STRBUF_INIT;
	char *tmp = xasprintf("%s.tmp.XXXXXX", path);
	size_t off = 0;
	int fd, err = 0;

	/* mkostemp: O_CREAT|O_EXCL, mode 0600 whatever the umask allows
	 * (never wider), in PATH's directory so rename() is atomic. */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		free(tmp);
		return err;
	}
	snapshot_encode(s, info, &img);
	while (off < img.len) {
		ssize_t n = write(fd, img.buf + off, img.len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			break;
		}
		off += (size_t)n;
	}
	if (close(fd) < 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	strbuf_release(&img);
	free(tmp);
	return err;
}
