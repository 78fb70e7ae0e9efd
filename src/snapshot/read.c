/*
 * read.c - snapshot file bytes -> struct snapshot (format.h,
 * doc/snapshot-format.md).
 *
 * The bytes are hostile input: a truncated copy, a flipped bit on a disk,
 * a file from a newer heapgrab, or anything at all. The reader checks, in
 * this order, and stops at the first problem with a short reason in WHY:
 *
 *   1. length >= header, magic                       "not a heapgrab snapshot"
 *   2. major <= SNAP_MAJOR                           -HG_E_UNSUPPORTED
 *   3. header CRC, sizes, file_size == length        "truncated" / "header ..."
 *   4. table CRC, each entry inside the file         "section table ..."
 *   5. each known section: CRC32 of its bytes, then zstd with the exact
 *      declared raw size (bounded by SNAP_MAX_RAW), then a parse in which
 *      every count is bounded by the bytes that are left.
 *
 * Nothing is allocated from a count before it was bounded by data that is
 * actually present, so a lying count cannot make the reader allocate more
 * than the (decompressed) section size. Unknown section ids are skipped
 * (a newer minor version); unknown bytes at the end of a known record are
 * ignored (the same). Every required section must be present exactly once.
 *
 * Chunks are validated as they are decoded: a kind must be known, an
 * arena index must name an arena of the ARENAS section, and an address
 * plus size must not wrap past 2^64.
 */
#include "config.h"
#include "snapshot/file.h"
#include "snapshot/format.h"
#include "snapshot/snapshot.h"
#include "target/residency.h"
#include "target/target.h"
#include "util/errors.h"
#include "util/le.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

/*
 * Largest decompressed section accepted: 16 GiB, about 1.3 billion chunks
 * at 12 bytes each, far beyond any heap heapgrab can walk. A section that
 * claims more is refused as damaged rather than allocated. The fuzzer
 * builds with a small value (zstd reaches ratios of 1000s on repetitive
 * data, so a small input can legitimately expand to a lot).
 */
#ifndef SNAP_MAX_RAW
#define SNAP_MAX_RAW ((uint64_t)16 << 30)
#endif
/* Fuzzer builds ignore checksum mismatches, so that mutated inputs reach
 * the parsers behind them (tests/fuzz/fuzz-snapshot.c). */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define FUZZING 1
#else
#define FUZZING 0
#endif
/* Sections in a file: 4 in 1.0, 7 in 1.1 with --contents; room for many
 * additions. */
#define SNAP_MAX_SECTIONS 256

static const enum chunk_state disk_to_kind[SNAP_NR_KINDS] = {
	[SNAP_KIND_INUSE] = CHUNK_INUSE,
	[SNAP_KIND_TCACHE] = CHUNK_TCACHE,
	[SNAP_KIND_FASTBIN] = CHUNK_FASTBIN,
	[SNAP_KIND_BIN] = CHUNK_BIN,
	[SNAP_KIND_TOP] = CHUNK_TOP,
	[SNAP_KIND_MMAPPED] = CHUNK_MMAPPED,
};

struct cursor {
	const unsigned char *p;
	size_t left;
	bool bad;
};

static const unsigned char *take(struct cursor *c, size_t n)
{
	const unsigned char *p = c->p;

	if (c->bad || c->left < n) {
		c->bad = true;
		return NULL;
	}
	c->p += n;
	c->left -= n;
	return p;
}

static uint32_t take_u32(struct cursor *c)
{
	const unsigned char *p = take(c, 4);

	return p ? get_le32(p) : 0;
}

static uint64_t take_u64(struct cursor *c)
{
	const unsigned char *p = take(c, 8);

	return p ? get_le64(p) : 0;
}

/* A malloc'd copy of a stored string; *RET NULL for an absent one. */
static void take_str(struct cursor *c, char **ret)
{
	uint32_t n = take_u32(c);
	const unsigned char *p;

	*ret = NULL;
	if (c->bad || n == SNAP_STR_NULL)
		return;
	p = take(c, n);
	if (!p)
		return;
	if (memchr(p, '\0', n)) {
		c->bad = true;
		return;
	}
	*ret = xstrndup((const char *)p, n);
}

static inline bool get_varint(const unsigned char **pp, const unsigned char *end,
			      uint64_t *ret)
{
	const unsigned char *p = *pp;
	uint64_t v = 0;

	for (unsigned shift = 0; p < end && shift < 64; shift += 7) {
		unsigned char b = *p++;

		if (shift == 63 && b > 1)
			return false;	/* more than 64 bits */
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*pp = p;
			*ret = v;
			return true;
		}
	}
	return false;
}

static int bad(struct strbuf *why, const char *fmt, ...) ATTR_FORMAT(2, 3);
static int bad(struct strbuf *why, const char *fmt, ...)
{
	va_list ap;

	if (why) {
		va_start(ap, fmt);
		strbuf_vaddf(why, fmt, ap);
		va_end(ap);
	}
	return -HG_E_BAD_SNAPSHOT;
}

/* libc_symbols is a static string in struct snapshot_meta. */
static const char *static_method(const char *s)
{
	static const char *const known[] = { "dwarf", "disasm" };

	if (!s)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		if (!strcmp(s, known[i]))
			return known[i];
	return "unknown";
}

static int decode_meta(struct cursor *c, struct snapshot *s, struct snapshot_file_info *info,
		       struct strbuf *why)
{
	static const char *const memory_names[] = { "heap", "writable", "core", "image" };
	char *version = NULL, *glibc = NULL, *method = NULL, *memory = NULL;
	uint32_t ns_pid;
	int err = 0;

	info->taken = (int64_t)take_u64(c);
	s->meta.pid = (int)take_u32(c);
	s->meta.nr_threads = take_u32(c);
	info->warnings = take_u32(c);
	ns_pid = take_u32(c);
	s->meta.ns_pid = ns_pid > INT32_MAX ? 0 : (int)ns_pid;
	take_str(c, &version);
	take_str(c, &s->meta.exe);
	take_str(c, &glibc);
	take_str(c, &method);
	if (!c->bad && c->left)
		take_str(c, &memory);	/* 1.3 */
	if (c->bad) {
		err = bad(why, "metadata section is malformed");
		goto out;
	}
	snprintf(info->version, sizeof(info->version), "%s", version ? version : "");
	snprintf(s->meta.glibc, sizeof(s->meta.glibc), "%s", glibc ? glibc : "");
	s->meta.libc_symbols = static_method(method);
	/* absent (files before 1.3) and values of a newer heapgrab: not known */
	for (size_t i = 0; memory && i < ARRAY_SIZE(memory_names); i++)
		if (!strcmp(memory, memory_names[i]))
			s->meta.memory = memory_names[i];
out:
	free(version);
	free(glibc);
	free(method);
	free(memory);
	return err;
}

static void take_counts(struct cursor *c, struct heap_count *kinds)
{
	for (int k = 0; k < SNAP_NR_KINDS; k++) {
		kinds[disk_to_kind[k]].count = take_u64(c);
		kinds[disk_to_kind[k]].bytes = take_u64(c);
	}
}

static int decode_arenas(struct cursor *c, struct heap_walk *w, struct strbuf *why)
{
	uint32_t n = take_u32(c), rec = take_u32(c);

	if (c->bad || rec < SNAP_ARENA_REC || (uint64_t)n * rec > c->left)
		return bad(why, "arena section is malformed");
	if (n >= CHUNK_NO_ARENA)
		return bad(why, "%u arenas, more than a heap can have", n);
	w->arenas = xcalloc(n ? n : 1, sizeof(*w->arenas));
	w->nr_arenas = n;
	for (uint32_t i = 0; i < n; i++) {
		struct cursor r = { .p = take(c, rec), .left = rec };
		struct heap_arena *a = &w->arenas[i];
		uint32_t flags;

		a->addr = take_u64(&r);
		flags = take_u32(&r);
		a->main = flags & SNAP_ARENAF_MAIN;
		a->nr_heaps = take_u32(&r);
		a->system_bytes = take_u64(&r);
		a->overhead = take_u64(&r);
		take_counts(&r, a->kinds);
		if (r.bad || c->bad)
			return bad(why, "arena section is malformed");
	}
	return 0;
}

static int decode_totals(struct cursor *c, struct heap_walk *w, struct strbuf *why)
{
	take_counts(c, w->totals);
	w->overhead = take_u64(c);
	w->system_bytes = take_u64(c);
	return c->bad ? bad(why, "totals section is malformed") : 0;
}

static int decode_chunks(struct cursor *c, struct heap_walk *w, struct strbuf *why)
{
	const unsigned char *head = take(c, SNAP_CHUNKS_HEAD);
	const unsigned char *pg, *ps, *pt, *eg, *es, *et;
	uint64_t n, lg, ls, lt, prev_end = 0;
	unsigned shift;

	if (!head)
		return bad(why, "chunk section is truncated");
	n = get_le64(head);
	shift = head[8];
	lg = get_le64(head + 16);
	ls = get_le64(head + 24);
	lt = get_le64(head + 32);
	if (shift != 0 && shift != 4)
		return bad(why, "chunk section: unknown address unit");
	if (lg > c->left || ls > c->left - lg || lt > c->left - lg - ls)
		return bad(why, "chunk section: streams longer than the section");
	/* every chunk takes at least one byte in each stream */
	if (n > lg || n > ls || n > lt)
		return bad(why, "chunk section: more chunks than data");
	pg = c->p;
	eg = pg + lg;
	ps = eg;
	es = ps + ls;
	pt = es;
	et = pt + lt;
	w->chunks = xmalloc(st_mult(n ? (size_t)n : 1, sizeof(*w->chunks)));
	w->alloc_chunks = n ? (size_t)n : 1;
	for (uint64_t i = 0; i < n; i++) {
		struct chunk *ch = &w->chunks[i];
		uint64_t gap, size, tag, arena;

		if (!get_varint(&pg, eg, &gap) || !get_varint(&ps, es, &size) ||
		    !get_varint(&pt, et, &tag))
			return bad(why, "chunk %llu: malformed varint", (unsigned long long)i);
		/* un-zigzag; arithmetic modulo 2^64 as in the writer */
		gap = (gap >> 1) ^ (0 - (gap & 1));
		if (size > CHUNK_SIZE_MAX >> shift)
			return bad(why, "chunk %llu: size out of range", (unsigned long long)i);
		ch->addr = (((prev_end >> shift) + gap) << shift);
		ch->size = size << shift;
		if ((tag & 7) >= SNAP_NR_KINDS)
			return bad(why, "chunk %llu: unknown kind %u", (unsigned long long)i,
				   (unsigned)(tag & 7));
		ch->state = (unsigned)disk_to_kind[tag & 7];
		arena = tag >> SNAP_TAG_KIND_BITS;
		if (arena > w->nr_arenas)
			return bad(why, "chunk %llu: arena %llu does not exist",
				   (unsigned long long)i, (unsigned long long)arena - 1);
		ch->arena = arena ? (uint32_t)(arena - 1) : CHUNK_NO_ARENA;
		if (ch->addr + (uint64_t)ch->size < ch->addr)
			return bad(why, "chunk %llu: address wraps", (unsigned long long)i);
		if (i && ch->addr < w->chunks[i - 1].addr)
			return bad(why, "chunk %llu: not in address order", (unsigned long long)i);
		prev_end = ch->addr + ch->size;
		w->nr_chunks = (size_t)i + 1;
	}
	if (pg != eg || ps != es || pt != et)
		return bad(why, "chunk section: trailing bytes in a stream");
	return 0;
}

/* ---- the memory image (1.1, --contents) ---- */

static int decode_regions(struct cursor *c, struct target *img, struct strbuf *why)
{
	uint32_t n = take_u32(c), rec = take_u32(c);
	struct target_region *regs;
	uint32_t *plen;

	if (c->bad || rec < SNAP_REGION_REC || (uint64_t)n * rec > c->left)
		return bad(why, "region section is malformed");
	regs = xcalloc(n ? n : 1, sizeof(*regs));
	plen = xcalloc(n ? n : 1, sizeof(*plen));
	for (uint32_t i = 0; i < n; i++) {
		struct cursor r = { .p = take(c, rec), .left = rec };
		struct target_region *g = &regs[i];
		uint32_t flags;

		g->start = take_u64(&r);
		g->end = take_u64(&r);
		g->offset = take_u64(&r);
		flags = take_u32(&r);
		plen[i] = take_u32(&r);
		g->prot = (flags & SNAP_REGF_READ ? TARGET_PROT_READ : 0) |
			  (flags & SNAP_REGF_WRITE ? TARGET_PROT_WRITE : 0) |
			  (flags & SNAP_REGF_EXEC ? TARGET_PROT_EXEC : 0);
		g->shared = flags & SNAP_REGF_SHARED;
		g->deleted = flags & SNAP_REGF_DELETED;
		if (r.bad || c->bad || (flags & ~(uint32_t)SNAP_REGF_KNOWN) ||
		    g->start >= g->end || (i && g->start < regs[i - 1].end)) {
			n = i;
			goto fail;
		}
	}
	for (uint32_t i = 0; i < n; i++) {
		const unsigned char *p;

		if (plen[i] == SNAP_STR_NULL)
			continue;
		p = take(c, plen[i]);
		if (!p || memchr(p, '\0', plen[i]))
			goto fail;
		regs[i].path = xstrndup((const char *)p, plen[i]);
	}
	free(plen);
	target_set_regions(img, regs, n);
	return 0;
fail:
	for (uint32_t i = 0; i < n; i++)
		free(regs[i].path);
	free(regs);
	free(plen);
	return bad(why, "region section is malformed");
}

static int decode_threads(struct cursor *c, struct target *img, struct strbuf *why)
{
	uint32_t n = take_u32(c), rec = take_u32(c);

	if (c->bad || rec < SNAP_THREAD_REC || (uint64_t)n * rec > c->left)
		return bad(why, "thread section is malformed");
	for (uint32_t i = 0; i < n; i++) {
		struct cursor r = { .p = take(c, rec), .left = rec };
		uint64_t words[SNAP_NR_REGS];
		struct user_regs_struct regs;
		int tid = (int)take_u32(&r);

		(void)take_u32(&r);
		for (int k = 0; k < SNAP_NR_REGS; k++)
			words[k] = take_u64(&r);
		if (r.bad || c->bad)
			return bad(why, "thread section is malformed");
		memcpy(&regs, words, sizeof(regs));
		memimage_add_thread(img, tid, &regs);
	}
	return 0;
}

_Static_assert(sizeof(struct user_regs_struct) == SNAP_NR_REGS * 8,
	       "struct user_regs_struct is 27 u64 words on x86_64");

/*
 * Segments are checked (in order, inside one region each, the sum bounded
 * by SNAP_MAX_RAW and each needing at least 4 bytes of data per piece)
 * before any is allocated; then each piece decompresses into its place.
 */
static int decode_memory(struct cursor *c, struct target *img, struct strbuf *why)
{
	const unsigned char *head = take(c, SNAP_MEMORY_HEAD);
	uint64_t n, total = 0, pieces = 0, prev_end = 0;
	uint32_t piece;
	const unsigned char *segtab;

	if (!head)
		return bad(why, "memory section is truncated");
	n = get_le64(head);
	piece = get_le32(head + 8);
	if (piece < SNAP_MEMORY_PIECE_MIN || piece > SNAP_MEMORY_PIECE_MAX ||
	    (piece & (piece - 1)))
		return bad(why, "memory section: bad piece size %u", piece);
	if (n > c->left / 16)
		return bad(why, "memory section: more segments than data");
	segtab = take(c, (size_t)n * 16);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t start = get_le64(segtab + i * 16), len = get_le64(segtab + i * 16 + 8);
		const struct target_region *r = target_region_of(img, start);

		if (!len || start + len < start || (i && start < prev_end) || !r ||
		    start + len > r->end)
			return bad(why, "memory segment %llu: bad range", (unsigned long long)i);
		if (len > SNAP_MAX_RAW - total)
			return bad(why, "memory section: implausible size");
		total += len;
		pieces += (len + piece - 1) / piece;
		prev_end = start + len;
	}
	if (pieces > c->left / 4)
		return bad(why, "memory section: more pieces than data");
	for (uint64_t i = 0; i < n; i++) {
		uint64_t start = get_le64(segtab + i * 16), len = get_le64(segtab + i * 16 + 8);
		unsigned char *buf = xmalloc((size_t)len);

		for (uint64_t off = 0; off < len; off += piece) {
			size_t want = (size_t)MIN((uint64_t)piece, len - off);
			uint32_t word = take_u32(c);
			size_t z = word & ~SNAP_PIECE_RAW;
			const unsigned char *p = take(c, z);
			unsigned long long fsz;

			if (!p) {
				free(buf);
				return bad(why, "memory segment %llu: truncated",
					   (unsigned long long)i);
			}
			if (word & SNAP_PIECE_RAW) {
				if (z != want)
					goto bad_piece;
				memcpy(buf + off, p, z);
				continue;
			}
			fsz = ZSTD_getFrameContentSize(p, z);
			if (fsz != want || ZSTD_decompress(buf + off, want, p, z) != want)
				goto bad_piece;
			continue;
bad_piece:
			free(buf);
			return bad(why, "memory segment %llu: bad compressed data",
				   (unsigned long long)i);
		}
		memimage_put(memimage_of(img), start, buf, (size_t)len);
	}
	if (c->left)
		return bad(why, "memory section: trailing bytes");
	return 0;
}

struct entry {
	uint32_t id, flags, crc;
	uint64_t off, stored, raw;
};

/* Check and (if needed) decompress one section into *RET (owned by the
 * caller when *RET_OWNED). */
static int load_section(const unsigned char *file, const struct entry *e, struct strbuf *why,
			const unsigned char **ret, unsigned char **ret_owned)
{
	const unsigned char *p = file + e->off;
	uint32_t crc = (uint32_t)crc32(crc32(0, Z_NULL, 0), p, (uInt)0);
	unsigned char *out;
	unsigned long long fsz;
	size_t n;

	/* crc32() takes a uInt length: feed it in pieces */
	for (uint64_t done = 0; done < e->stored;) {
		uint64_t k = MIN(e->stored - done, (uint64_t)1 << 30);

		crc = (uint32_t)crc32(crc, p + done, (uInt)k);
		done += k;
	}
	if (crc != e->crc && !FUZZING)
		return bad(why, "section %u: checksum mismatch", e->id);
	*ret_owned = NULL;
	if (!(e->flags & SNAP_SECF_ZSTD)) {
		if (e->raw != e->stored)
			return bad(why, "section %u: size mismatch", e->id);
		*ret = p;
		return 0;
	}
	if (e->raw > SNAP_MAX_RAW)
		return bad(why, "section %u: implausible size %llu", e->id,
			   (unsigned long long)e->raw);
	fsz = ZSTD_getFrameContentSize(p, (size_t)e->stored);
	if (fsz == ZSTD_CONTENTSIZE_ERROR || fsz == ZSTD_CONTENTSIZE_UNKNOWN || fsz != e->raw)
		return bad(why, "section %u: bad compressed data", e->id);
	out = xmalloc(e->raw ? (size_t)e->raw : 1);
	n = ZSTD_decompress(out, (size_t)e->raw, p, (size_t)e->stored);
	if (ZSTD_isError(n) || n != e->raw) {
		free(out);
		return bad(why, "section %u: bad compressed data", e->id);
	}
	*ret = out;
	*ret_owned = out;
	return 0;
}

bool snapshot_is_magic(const void *buf, size_t len)
{
	return len >= SNAP_MAGIC_LEN && !memcmp(buf, SNAP_MAGIC, SNAP_MAGIC_LEN);
}

/* The sections this reader knows: the first NR_REQUIRED must be there;
 * the image's (1.1) are all there or all absent. */
/* The sections this reader knows, in decoding order: 4 required ones, the
 * 3 of the image (all or none), then the optional TYPES. */
static int decode_types(struct cursor *c, struct snapshot *s, struct strbuf *why)
{
	struct snapshot_types *ty = xcalloc(1, sizeof(*ty));
	uint32_t nr_names = take_u32(c);
	uint64_t n;
	const unsigned char *p, *end;

	(void)take_u32(c);
	ty->conflicts = take_u64(c);
	n = take_u64(c);
	s->types = ty;		/* freed with the snapshot on any error */
	if (c->bad || n != s->walk.nr_chunks)
		return bad(why, "types: %llu chunks for %zu", (unsigned long long)n,
			   s->walk.nr_chunks);
	/* every name takes at least its 4-byte length */
	if (nr_names > c->left / 4)
		return bad(why, "types: %u names in %zu bytes", nr_names, c->left);
	ty->names = xcalloc(nr_names + 1, sizeof(*ty->names));
	for (uint32_t i = 0; i < nr_names; i++) {
		take_str(c, &ty->names[i]);
		ty->nr_names++;
		if (c->bad || !ty->names[i])
			return bad(why, "types: name %u malformed", i);
	}
	ty->of_chunk = xmalloc((n + 1) * sizeof(*ty->of_chunk));
	ty->flags = xcalloc(n + 1, 1);
	p = c->p;
	end = c->p + c->left;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t v;

		if (!get_varint(&p, end, &v))
			return bad(why, "types: chunk %llu: malformed varint",
				   (unsigned long long)i);
		if (v == 0) {
			ty->of_chunk[i] = SNAPSHOT_UNTYPED;
			continue;
		}
		if ((v >> 1) - 1 >= nr_names)
			return bad(why, "types: chunk %llu: type %llu of %u",
				   (unsigned long long)i, (unsigned long long)(v >> 1), nr_names);
		ty->of_chunk[i] = (uint32_t)((v >> 1) - 1);
		ty->flags[i] = (uint8_t)(v & SNAPSHOT_TYPE_INFERRED);
	}
	if (p != end)
		return bad(why, "types: %zu trailing bytes", (size_t)(end - p));
	return 0;
}

/*
 * RSS (1.3): the residency and malloc's parameters (format.h). Counts are
 * bounded by the bytes left, maps must be sorted, not overlapping and
 * small enough that their bits are there, every range must name an arena
 * of ARENAS (or none, for an mmapped chunk), and each map's resident page
 * count is recomputed from its bits rather than trusted.
 */
static int decode_rss(struct cursor *c, struct snapshot *s, struct strbuf *why)
{
	struct snapshot_rss *r = xcalloc(1, sizeof(*r));
	struct glibc_params *p = &r->params;
	uint32_t flags, ver, n, rec;
	uint32_t *plen = NULL;

	s->rss = r;		/* freed with the snapshot on any error */
	flags = take_u32(c);
	r->res.pagemap_err = (int)take_u32(c);
	r->res.smaps_err = (int)take_u32(c);
	r->online_cpus = take_u32(c);
	r->affinity_cpus = take_u32(c);
	ver = take_u32(c);
	r->res.rollup_rss = take_u64(c);
	r->res.rollup_swap = take_u64(c);
	r->res.changed_rss = take_u64(c);
	p->curbrk = take_u64(c);
	p->narenas_limit = take_u64(c);
	p->trim_threshold = take_u64(c);
	p->top_pad = take_u64(c);
	p->mmap_threshold = take_u64(c);
	p->arena_test = take_u64(c);
	p->arena_max = take_u64(c);
	p->n_mmaps_max = (int64_t)take_u64(c);
	p->thp_pagesize = take_u64(c);
	(void)take_u64(c);
	take_str(c, &r->tunables);
	take_str(c, &r->malloc_env);
	take_str(c, &r->no_malloc);
	if (c->bad || (flags & ~(uint32_t)SNAP_RSSF_KNOWN))
		return bad(why, "rss section: malformed head");
	r->res.live = flags & SNAP_RSSF_LIVE;
	r->res.pfn_visible = flags & SNAP_RSSF_PFN;
	r->res.has_rollup = flags & SNAP_RSSF_ROLLUP;
	p->have_thresholds = flags & SNAP_RSSF_THRESHOLDS;
	p->have_thp = flags & SNAP_RSSF_THP;
	p->have_curbrk = flags & SNAP_RSSF_CURBRK;
	p->have_narenas_limit = flags & SNAP_RSSF_NARENAS;
	r->have_thread_arenas = flags & SNAP_RSSF_THREAD_ARENAS;
	p->have_thread_arenas = r->have_thread_arenas;
	p->no_dyn_threshold = flags & SNAP_RSSF_NO_DYN;
	r->res.method = flags & SNAP_RSSF_SCAN ? RESIDENCY_SCAN :
			flags & SNAP_RSSF_READ ? RESIDENCY_READ : RESIDENCY_NONE;
	p->major = ver & 0xffff;
	p->minor = ver >> 16;

	n = take_u32(c);
	rec = take_u32(c);
	if (c->bad || rec < SNAP_RSS_THREAD_REC || (uint64_t)n * rec > c->left)
		return bad(why, "rss section: malformed threads");
	r->threads = xcalloc(n + 1, sizeof(*r->threads));
	r->nr_threads = n;
	for (uint32_t i = 0; i < n; i++) {
		struct cursor t = { .p = take(c, rec), .left = rec };

		r->threads[i].tid = (int)take_u32(&t);
		(void)take_u32(&t);
		r->threads[i].sp = take_u64(&t);
		r->threads[i].arena = take_u64(&t);
	}

	n = take_u32(c);
	rec = take_u32(c);
	if (c->bad || rec < SNAP_RSS_RANGE_REC || (uint64_t)n * rec > c->left)
		return bad(why, "rss section: malformed ranges");
	for (uint32_t i = 0; i < n; i++) {
		struct cursor t = { .p = take(c, rec), .left = rec };
		taddr_t start = take_u64(&t), end = take_u64(&t);
		uint32_t arena = take_u32(&t), kind = take_u32(&t);

		if (start >= end || kind > HEAP_RANGE_MMAPPED ||
		    (arena != CHUNK_NO_ARENA && arena >= s->walk.nr_arenas) ||
		    (i && start < s->walk.ranges[i - 1].end))
			return bad(why, "rss section: range %u is malformed", i);
		heap_walk_add_range(&s->walk, start, end, arena, (enum heap_range_kind)kind);
	}

	n = take_u32(c);
	rec = take_u32(c);
	if (c->bad || rec < SNAP_RSS_MAP_REC || (uint64_t)n * rec > c->left)
		return bad(why, "rss section: malformed maps");
	plen = xcalloc(n + 1, sizeof(*plen));
	for (uint32_t i = 0; i < n; i++) {
		struct cursor t = { .p = take(c, rec), .left = rec };
		struct residency_map *m = residency_add_map(&r->res);
		uint32_t f;

		m->start = take_u64(&t);
		m->end = take_u64(&t);
		f = take_u32(&t);
		plen[i] = take_u32(&t);
		m->rss = take_u64(&t);
		m->swap = take_u64(&t);
		m->anon = take_u64(&t);
		m->resident_pages = take_u64(&t);
		m->zero_pages = take_u64(&t);
		m->swapped_pages = take_u64(&t);
		m->prot = (f & SNAP_RMAPF_READ ? TARGET_PROT_READ : 0) |
			  (f & SNAP_RMAPF_WRITE ? TARGET_PROT_WRITE : 0) |
			  (f & SNAP_RMAPF_EXEC ? TARGET_PROT_EXEC : 0);
		m->shared = f & SNAP_RMAPF_SHARED;
		m->deleted = f & SNAP_RMAPF_DELETED;
		m->flags = (f & SNAP_RMAPF_PAGED ? RESMAP_PAGED : 0) |
			   (f & SNAP_RMAPF_SMAPS ? RESMAP_SMAPS : 0) |
			   (f & SNAP_RMAPF_STOPPED ? RESMAP_STOPPED : 0);
		if (f & ~(uint32_t)SNAP_RMAPF_KNOWN || m->start >= m->end ||
		    (m->start | m->end) % RESIDENCY_PAGE ||
		    (i && m->start < r->res.maps[i - 1].end) ||
		    ((m->flags & RESMAP_PAGED) &&
		     (m->end - m->start) / RESIDENCY_PAGE > SNAP_RSS_MAX_PAGES)) {
			free(plen);
			return bad(why, "rss section: map %u is malformed", i);
		}
	}
	for (uint32_t i = 0; i < n; i++) {
		const unsigned char *q;

		if (plen[i] == SNAP_STR_NULL)
			continue;
		q = take(c, plen[i]);
		if (!q || memchr(q, '\0', plen[i])) {
			free(plen);
			return bad(why, "rss section: map %u: bad path", i);
		}
		r->res.maps[i].name = xstrndup((const char *)q, plen[i]);
	}
	free(plen);
	for (uint32_t i = 0; i < n; i++) {
		struct residency_map *m = &r->res.maps[i];
		uint64_t pages = (m->end - m->start) / RESIDENCY_PAGE, words = (pages + 63) / 64;
		uint64_t set = 0;

		if (!(m->flags & RESMAP_PAGED))
			continue;
		if (words > c->left / 8)
			return bad(why, "rss section: map %u: bits missing", i);
		m->bits = xcalloc(words + 1, sizeof(*m->bits));
		for (uint64_t k = 0; k < words; k++) {
			m->bits[k] = take_u64(c);
			if (k == words - 1 && pages % 64)
				m->bits[k] &= (1ULL << (pages % 64)) - 1;
			set += (uint64_t)__builtin_popcountll(m->bits[k]);
		}
		if (set != m->resident_pages)
			return bad(why, "rss section: map %u: %llu pages resident, bits say %llu",
				   i, (unsigned long long)m->resident_pages,
				   (unsigned long long)set);
	}
	if (c->left)
		return bad(why, "rss section: %zu trailing bytes", c->left);
	return 0;
}

static const uint32_t required[] = {
	SNAP_SEC_META, SNAP_SEC_ARENAS, SNAP_SEC_TOTALS, SNAP_SEC_CHUNKS,
	SNAP_SEC_REGIONS, SNAP_SEC_THREADS, SNAP_SEC_MEMORY, SNAP_SEC_TYPES,
	SNAP_SEC_RSS,
};
#define NR_REQUIRED 4
#define NR_IMAGE 3

int snapshot_decode(const void *buf, size_t len, struct strbuf *why,
		    struct snapshot **ret_snap, struct snapshot_file_info *ret_info)
{
	const unsigned char *f = buf;
	struct snapshot_file_info info;
	struct entry ents[ARRAY_SIZE(required)];
	bool seen[ARRAY_SIZE(required)] = { false };
	struct snapshot *s = NULL;
	uint32_t hdr_size, nr, ent_size;
	uint64_t file_size;
	int err;

	memset(&info, 0, sizeof(info));
	if (!snapshot_is_magic(buf, len))
		return bad(why, "not a heapgrab snapshot (bad magic)");
	if (len < SNAP_HDR_SIZE)
		return bad(why, "truncated (%zu bytes, the header alone is %d)", len,
			   SNAP_HDR_SIZE);
	info.major = get_le16(f + SNAP_HDR_OFF_MAJOR);
	info.minor = get_le16(f + SNAP_HDR_OFF_MINOR);
	/* The version is checked before the CRC: a newer major may have
	 * changed the header itself, and deserves the clearer message. */
	if (info.major > SNAP_MAJOR) {
		if (why)
			strbuf_addf(why, "format version %u.%u is newer than this heapgrab "
				    "reads (%d.x); use a newer heapgrab", info.major, info.minor,
				    SNAP_MAJOR);
		return -HG_E_UNSUPPORTED;
	}
	if (get_le32(f + SNAP_HDR_OFF_HDR_CRC) !=
	    (uint32_t)crc32(crc32(0, Z_NULL, 0), f, SNAP_HDR_OFF_HDR_CRC) && !FUZZING)
		return bad(why, "header checksum mismatch");
	if (info.major < 1)
		return bad(why, "format version %u.%u was never written", info.major, info.minor);
	hdr_size = get_le32(f + SNAP_HDR_OFF_HDR_SIZE);
	nr = get_le32(f + SNAP_HDR_OFF_NR_SECT);
	ent_size = get_le32(f + SNAP_HDR_OFF_ENT_SIZE);
	file_size = get_le64(f + SNAP_HDR_OFF_FILE_SIZE);
	if (file_size > len)
		return bad(why, "truncated (%zu of %llu bytes)", len,
			   (unsigned long long)file_size);
	if (file_size < len)
		return bad(why, "%llu bytes of trailing garbage",
			   (unsigned long long)(len - file_size));
	if (hdr_size < SNAP_HDR_SIZE || hdr_size > len || ent_size < SNAP_ENT_SIZE ||
	    ent_size > 4096 || nr > SNAP_MAX_SECTIONS ||
	    (uint64_t)nr * ent_size > len - hdr_size)
		return bad(why, "malformed header");
	if (get_le32(f + SNAP_HDR_OFF_TABLE_CRC) !=
	    (uint32_t)crc32(crc32(0, Z_NULL, 0), f + hdr_size, (uInt)(nr * ent_size)) &&
	    !FUZZING)
		return bad(why, "section table checksum mismatch");

	for (uint32_t i = 0; i < nr; i++) {
		const unsigned char *t = f + hdr_size + (size_t)i * ent_size;
		struct entry e = {
			.id = get_le32(t + SNAP_ENT_OFF_ID),
			.flags = get_le32(t + SNAP_ENT_OFF_FLAGS),
			.off = get_le64(t + SNAP_ENT_OFF_OFFSET),
			.stored = get_le64(t + SNAP_ENT_OFF_STORED),
			.raw = get_le64(t + SNAP_ENT_OFF_RAW),
			.crc = get_le32(t + SNAP_ENT_OFF_CRC),
		};
		size_t k;

		if (e.off > len || e.stored > len - e.off)
			return bad(why, "section %u lies outside the file", e.id);
		for (k = 0; k < ARRAY_SIZE(required); k++)
			if (required[k] == e.id)
				break;
		if (k == ARRAY_SIZE(required))
			continue;	/* a newer minor's optional section */
		if (seen[k])
			return bad(why, "section %u appears twice", e.id);
		if (e.flags & ~(uint32_t)SNAP_SECF_KNOWN)
			return bad(why, "section %u: unknown flags 0x%x", e.id, e.flags);
		seen[k] = true;
		ents[k] = e;
	}
	for (size_t k = 0; k < NR_REQUIRED; k++)
		if (!seen[k])
			return bad(why, "section %u is missing", required[k]);
	for (size_t k = NR_REQUIRED + 1; k < NR_REQUIRED + NR_IMAGE; k++)
		if (seen[k] != seen[NR_REQUIRED])
			return bad(why, "section %u is missing",
				   required[seen[k] ? NR_REQUIRED : k]);

	s = xcalloc(1, sizeof(*s));
	heap_walk_init(&s->walk);
	if (seen[NR_REQUIRED]) {
		s->image = memimage_new();
	}
	/* The order matters: chunks refer to arenas, memory to regions. */
	for (size_t k = 0; k < ARRAY_SIZE(required); k++) {
		const unsigned char *data = NULL;
		unsigned char *owned = NULL;
		struct cursor c;

		if (!seen[k])
			continue;
		err = load_section(f, &ents[k], why, &data, &owned);
		if (err < 0)
			goto fail;
		c = (struct cursor){ .p = data, .left = (size_t)ents[k].raw };
		switch (ents[k].id) {
		case SNAP_SEC_META:
			err = decode_meta(&c, s, &info, why);
			break;
		case SNAP_SEC_ARENAS:
			err = decode_arenas(&c, &s->walk, why);
			break;
		case SNAP_SEC_TOTALS:
			err = decode_totals(&c, &s->walk, why);
			break;
		case SNAP_SEC_CHUNKS:
			err = decode_chunks(&c, &s->walk, why);
			break;
		case SNAP_SEC_REGIONS:
			err = decode_regions(&c, s->image, why);
			break;
		case SNAP_SEC_THREADS:
			err = decode_threads(&c, s->image, why);
			break;
		case SNAP_SEC_MEMORY:
			err = decode_memory(&c, s->image, why);
			break;
		case SNAP_SEC_TYPES:
			err = decode_types(&c, s, why);
			break;
		case SNAP_SEC_RSS:
			err = decode_rss(&c, s, why);
			break;
		}
		free(owned);
		if (err < 0)
			goto fail;
	}
	if (s->image) {
		s->image->pid = s->meta.pid;
		s->image->exe = s->meta.exe ? xstrdup(s->meta.exe) : NULL;
	}
	*ret_snap = s;
	if (ret_info)
		*ret_info = info;
	return 0;
fail:
	snapshot_free(s);
	return err;
}

int snapshot_read_file(const char *path, struct strbuf *why, struct snapshot **ret_snap,
		       struct snapshot_file_info *ret_info)
{
	struct strbuf data = STRBUF_INIT;
	struct stat st;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = S_ISDIR(st.st_mode) ? -EISDIR : bad(why, "not a regular file");
		goto out;
	}
	strbuf_grow(&data, (size_t)st.st_size);
	for (;;) {
		ssize_t n;

		strbuf_grow(&data, 65536);
		n = read(fd, data.buf + data.len, data.alloc - data.len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto out;
		}
		if (n == 0)
			break;
		data.len += (size_t)n;
	}
	err = snapshot_decode(data.buf, data.len, why, ret_snap, ret_info);
out:
	close(fd);
	strbuf_release(&data);
	return err;
}
