/*
 * t-snapshot.c - snapshot files: write/read round trip of every field,
 * empty and odd snapshots, 1M chunks (size per chunk and time), and
 * damaged files (truncated at every 1/64, flipped bytes, bad magic, newer
 * major, lying sizes): each must give an error, never a crash.
 *
 * HG_SNAPSHOT_BENCH=N in the environment runs the size/time figure on N
 * chunks instead of 1M (the 4M figure of doc/snapshot-format.md comes from
 * HG_SNAPSHOT_BENCH=4194304).
 */
#include "config.h"
#include "tap.h"
#include "snapshot/file.h"
#include "snapshot/format.h"
#include "snapshot/snapshot.h"
#include "target/target.h"
#include "util/errors.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/*
 * A walk shaped like bench/bigheap's: NR_ARENAS arenas of contiguous
 * chunks of 80..464 bytes (uniform, 16-byte steps), ~3% free in tcache,
 * fastbins or bins, a top chunk per arena, a few mmapped chunks; arenas
 * listed in descending address order (so the writer must sort), mmapped
 * chunks last. Totals and arena counters are filled by heap_walk_add.
 */
static struct snapshot *make_snap(size_t nr_chunks, unsigned nr_arenas)
{
	struct snapshot *s = xcalloc(1, sizeof(*s));
	struct heap_walk *w = &s->walk;
	size_t per = nr_arenas ? nr_chunks / nr_arenas : 0;

	heap_walk_init(w);
	s->meta.pid = 4242;
	s->meta.ns_pid = 17;
	s->meta.exe = xstrdup("/opt/app/bin/server");
	snprintf(s->meta.glibc, sizeof(s->meta.glibc), "2.36");
	s->meta.libc_symbols = "dwarf";
	s->meta.memory = "heap";
	s->meta.nr_threads = nr_arenas + 1;
	w->arenas = xcalloc(nr_arenas + 1, sizeof(*w->arenas));
	w->nr_arenas = nr_arenas;
	for (unsigned a = 0; a < nr_arenas; a++) {
		taddr_t base = a == 0 ? 0x555555559000ULL : 0x7f0000000000ULL - a * 0x4000000ULL;
		taddr_t p = base + 0x290;

		w->arenas[a].addr = a == 0 ? 0x7ffff7e19c80ULL : base + 0x20;
		w->arenas[a].main = a == 0;
		w->arenas[a].nr_heaps = 1 + a;
		for (size_t i = 0; i < per; i++) {
			uint64_t size = 80 + 16 * (rnd() % 25);
			uint64_t r = rnd() % 100;
			enum chunk_state st = r < 97 ? CHUNK_INUSE :
					      r == 97 ? CHUNK_TCACHE :
					      r == 98 ? CHUNK_FASTBIN : CHUNK_BIN;

			heap_walk_add(w, p, size, a, st);
			p += size;
		}
		heap_walk_add(w, p, 0x1000 + 16 * a, a, CHUNK_TOP);
		p += 0x1000 + 16 * a;
		w->arenas[a].system_bytes = p - base + 1000;
		w->arenas[a].overhead = 0x290 + 1000;
		w->overhead += w->arenas[a].overhead;
		w->system_bytes += w->arenas[a].system_bytes;
	}
	for (unsigned m = 0; m < 3; m++)
		heap_walk_add(w, 0x7ffff0000000ULL + m * 0x100000ULL, 0x21000 + 0x1000 * m,
			      CHUNK_NO_ARENA, CHUNK_MMAPPED);
	/* a top with no chunk (an arena before its first malloc) */
	if (nr_arenas) {
		w->totals[CHUNK_TOP].count++;
		w->arenas[0].kinds[CHUNK_TOP].count++;
	}
	return s;
}

static int cmp_chunk(const void *a, const void *b)
{
	const struct chunk *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	if (x->arena != y->arena)
		return x->arena < y->arena ? -1 : 1;
	return (int)x->state - (int)y->state;
}

/* Every field of A (sorted) equals B. Reports the first difference. */
static int same_snapshot(const struct snapshot *a, const struct snapshot *b, const char *what)
{
	const struct heap_walk *x = &a->walk, *y = &b->walk;
	struct chunk *sorted;
	int eq = 1;

	if (a->meta.pid != b->meta.pid || a->meta.ns_pid != b->meta.ns_pid ||
	    a->meta.nr_threads != b->meta.nr_threads ||
	    strcmp(a->meta.glibc, b->meta.glibc) ||
	    !a->meta.exe != !b->meta.exe || (a->meta.exe && strcmp(a->meta.exe, b->meta.exe)) ||
	    !a->meta.libc_symbols != !b->meta.libc_symbols ||
	    (a->meta.libc_symbols && strcmp(a->meta.libc_symbols, b->meta.libc_symbols)) ||
	    !a->meta.memory != !b->meta.memory ||
	    (a->meta.memory && strcmp(a->meta.memory, b->meta.memory))) {
		printf("# %s: metadata differs\n", what);
		eq = 0;
	}
	if (memcmp(x->totals, y->totals, sizeof(x->totals)) || x->overhead != y->overhead ||
	    x->system_bytes != y->system_bytes) {
		printf("# %s: totals differ\n", what);
		eq = 0;
	}
	if (x->nr_arenas != y->nr_arenas) {
		printf("# %s: %zu arenas, want %zu\n", what, y->nr_arenas, x->nr_arenas);
		return 0;
	}
	for (size_t i = 0; i < x->nr_arenas; i++) {
		const struct heap_arena *p = &x->arenas[i], *q = &y->arenas[i];

		if (p->addr != q->addr || p->main != q->main || p->nr_heaps != q->nr_heaps ||
		    p->system_bytes != q->system_bytes || p->overhead != q->overhead ||
		    memcmp(p->kinds, q->kinds, sizeof(p->kinds))) {
			printf("# %s: arena %zu differs\n", what, i);
			eq = 0;
		}
	}
	if (x->nr_chunks != y->nr_chunks) {
		printf("# %s: %zu chunks, want %zu\n", what, y->nr_chunks, x->nr_chunks);
		return 0;
	}
	sorted = xmalloc(st_mult(x->nr_chunks + 1, sizeof(*sorted)));
	if (x->nr_chunks) {	/* memcpy/qsort of NULL, 0 is undefined */
		memcpy(sorted, x->chunks, x->nr_chunks * sizeof(*sorted));
		qsort(sorted, x->nr_chunks, sizeof(*sorted), cmp_chunk);
	}
	for (size_t i = 0; i < x->nr_chunks; i++) {
		const struct chunk *p = &sorted[i], *q = &y->chunks[i];

		if (p->addr != q->addr || p->size != q->size || p->arena != q->arena ||
		    p->state != q->state) {
			printf("# %s: chunk %zu: got 0x%llx/%llu/%u/%u want 0x%llx/%llu/%u/%u\n",
			       what, i, (unsigned long long)q->addr, (unsigned long long)q->size,
			       q->arena, q->state, (unsigned long long)p->addr,
			       (unsigned long long)p->size, p->arena, p->state);
			eq = 0;
			break;
		}
	}
	free(sorted);
	return eq;
}

static struct snapshot *round_trip(const struct snapshot *s, const struct snapshot_file_info *in,
				   struct snapshot_file_info *out, size_t *ret_len)
{
	struct strbuf img = STRBUF_INIT, why = STRBUF_INIT;
	struct snapshot *r = NULL;
	int err;

	snapshot_encode(s, in, &img);
	if (ret_len)
		*ret_len = img.len;
	err = snapshot_decode(img.buf, img.len, &why, &r, out);
	if (err < 0)
		printf("# decode failed: %s: %s\n", hg_strerror(err), why.buf);
	strbuf_release(&img);
	strbuf_release(&why);
	return r;
}

/* Put a valid header CRC back after patching header bytes. */
static void fix_header_crc(unsigned char *b)
{
	uint32_t c = (uint32_t)crc32(crc32(0, Z_NULL, 0), b, SNAP_HDR_OFF_HDR_CRC);

	for (int i = 0; i < 4; i++)
		b[SNAP_HDR_OFF_HDR_CRC + i] = (unsigned char)(c >> (8 * i));
}

static int decode_fails(const void *buf, size_t len, int want, struct strbuf *why)
{
	struct snapshot *r = NULL;
	int err;

	strbuf_reset(why);
	err = snapshot_decode(buf, len, why, &r, NULL);
	if (err >= 0) {
		snapshot_free(r);
		return 0;
	}
	return (!want || err == want) && why->len > 0 && !strchr(why->buf, '\n');
}

/* ---- the memory image (--contents) ---- */

#define BIG_SEG ((size_t)(3u << 20) + 12345)	/* spans 4 pieces, last short */

/* An image: 4 regions (one file-backed, one shared, one with a hole), two
 * threads with distinct registers, segments of 1 page, 3.01 MiB (half
 * random, half zeros) and two around a 2-page hole. */
static struct target *make_image(void)
{
	struct target *t = memimage_new();
	struct target_region *regs = xcalloc(4, sizeof(*regs));
	struct user_regs_struct ur;
	unsigned char *big = xmalloc(BIG_SEG), page[0x2000];

	regs[0] = (struct target_region){ .start = 0x555555554000ULL, .end = 0x555555556000ULL,
					  .prot = TARGET_PROT_READ | TARGET_PROT_EXEC,
					  .offset = 0x1000, .path = xstrdup("/opt/app/bin/server") };
	regs[1] = (struct target_region){ .start = 0x555555559000ULL,
					  .end = 0x555555559000ULL + 0x400000,
					  .prot = TARGET_PROT_READ | TARGET_PROT_WRITE,
					  .path = xstrdup("[heap]") };
	regs[2] = (struct target_region){ .start = 0x7f0000000000ULL, .end = 0x7f0000008000ULL,
					  .prot = TARGET_PROT_READ | TARGET_PROT_WRITE };
	regs[3] = (struct target_region){ .start = 0x7ffff0000000ULL, .end = 0x7ffff0001000ULL,
					  .prot = TARGET_PROT_READ | TARGET_PROT_WRITE,
					  .shared = true, .deleted = true,
					  .path = xstrdup("/dev/shm/x (deleted)") };
	target_set_regions(t, regs, 4);
	t->pid = 4242;
	t->exe = xstrdup("/opt/app/bin/server");
	for (size_t i = 0; i < BIG_SEG; i++)
		big[i] = i < BIG_SEG / 2 ? (unsigned char)rnd() : 0;
	memimage_add(t, 0x555555559000ULL, big, BIG_SEG, false);
	for (size_t i = 0; i < sizeof(page); i++)
		page[i] = (unsigned char)(i * 7);
	memimage_add(t, 0x7f0000000000ULL, page, 0x2000 - 0x100, true);
	memimage_add(t, 0x7f0000004000ULL, page, sizeof(page), true);
	memimage_add(t, 0x7ffff0000000ULL, page, 16, true);
	for (int k = 0; k < 2; k++) {
		uint64_t w[27];

		for (int i = 0; i < 27; i++)
			w[i] = rnd();
		memcpy(&ur, w, sizeof(ur));
		memimage_add_thread(t, 1000 + k, &ur);
	}
	return t;
}

static int same_image(struct target *a, struct target *b)
{
	struct memimage *ma = memimage_of(a), *mb = memimage_of(b);
	size_t n;

	if (!ma || !mb || a->nr_regions != b->nr_regions || a->nr_threads != b->nr_threads ||
	    a->pid != b->pid || !a->exe || !b->exe || strcmp(a->exe, b->exe))
		return 0;
	for (size_t i = 0; i < a->nr_regions; i++) {
		const struct target_region *x = &a->regions[i], *y = &b->regions[i];

		if (x->start != y->start || x->end != y->end || x->prot != y->prot ||
		    x->shared != y->shared || x->deleted != y->deleted ||
		    x->offset != y->offset || !x->path != !y->path ||
		    (x->path && strcmp(x->path, y->path))) {
			printf("# region %zu differs\n", i);
			return 0;
		}
	}
	for (size_t i = 0; i < a->nr_threads; i++)
		if (a->threads[i].tid != b->threads[i].tid ||
		    memcmp(&a->threads[i].regs, &b->threads[i].regs,
			   sizeof(a->threads[i].regs))) {
			printf("# thread %zu differs\n", i);
			return 0;
		}
	n = memimage_nr_segments(ma);
	if (n != memimage_nr_segments(mb))
		return 0;
	for (size_t i = 0; i < n; i++) {
		taddr_t sa, sb;
		size_t la, lb;
		const void *da = memimage_segment(ma, i, &sa, &la);
		const void *db = memimage_segment(mb, i, &sb, &lb);

		if (sa != sb || la != lb || memcmp(da, db, la)) {
			printf("# segment %zu differs\n", i);
			return 0;
		}
	}
	return 1;
}

/* Offset and size of section ID's entry in IMG, or 0. */
static size_t find_section(unsigned char *b, uint32_t id, uint64_t *ret_off,
			   uint64_t *ret_size)
{
	uint32_t nr = (uint32_t)b[SNAP_HDR_OFF_NR_SECT] | (uint32_t)b[SNAP_HDR_OFF_NR_SECT + 1] << 8;

	for (uint32_t i = 0; i < nr; i++) {
		unsigned char *e = b + SNAP_HDR_SIZE + (size_t)i * SNAP_ENT_SIZE;
		uint64_t off = 0, size = 0;

		if ((e[0] | e[1] << 8) != (int)id)
			continue;
		for (int k = 7; k >= 0; k--) {
			off = off << 8 | e[SNAP_ENT_OFF_OFFSET + k];
			size = size << 8 | e[SNAP_ENT_OFF_STORED + k];
		}
		*ret_off = off;
		*ret_size = size;
		return SNAP_HDR_SIZE + (size_t)i * SNAP_ENT_SIZE;
	}
	return 0;
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* After patching bytes of section entry ENT's payload (or the entry):
 * every CRC valid again, so only the parsers can catch the damage. */
static void fix_crcs(unsigned char *b, size_t ent)
{
	uint32_t nr = (uint32_t)b[SNAP_HDR_OFF_NR_SECT] | (uint32_t)b[SNAP_HDR_OFF_NR_SECT + 1] << 8;
	uint64_t off = 0, size = 0;

	for (int k = 7; k >= 0; k--) {
		off = off << 8 | b[ent + SNAP_ENT_OFF_OFFSET + k];
		size = size << 8 | b[ent + SNAP_ENT_OFF_STORED + k];
	}
	put32(b + ent + SNAP_ENT_OFF_CRC,
	      (uint32_t)crc32(crc32(0, Z_NULL, 0), b + off, (uInt)size));
	put32(b + SNAP_HDR_OFF_TABLE_CRC,
	      (uint32_t)crc32(crc32(0, Z_NULL, 0), b + SNAP_HDR_SIZE, nr * SNAP_ENT_SIZE));
	fix_header_crc(b);
}

static void test_image(void)
{
	struct snapshot *s = make_snap(2000, 2), *r;
	struct snapshot_file_info info, got;
	struct strbuf img = STRBUF_INIT, why = STRBUF_INIT;
	unsigned char buf[64], *b;
	uint64_t off, size;
	size_t ent, plain_len;
	int all;

	snapshot_file_info_now(&info, 0);
	r = round_trip(s, &info, &got, &plain_len);
	ok(r && !r->image, "without contents: no image");
	snapshot_free(r);

	s->image = make_image();
	snapshot_encode(s, &info, &img);
	r = NULL;
	ok(snapshot_decode(img.buf, img.len, &why, &r, &got) == 0 && r->image &&
	   same_snapshot(s, r, "image") && same_image(s->image, r->image),
	   "round trip of an image: regions, threads' registers, %zu segments' bytes",
	   memimage_nr_segments(memimage_of(s->image)));
	ok(got.major == SNAP_MAJOR && got.minor == SNAP_MINOR && img.len > plain_len,
	   "format 1.%u, contents make the file bigger (%zu > %zu)", got.minor, img.len,
	   plain_len);
	ok(r && target_read(r->image, 0x7f0000001f00ULL, buf, 16) < 0 &&
	   target_read(r->image, 0x7f0000003ff8ULL, buf, 16) < 0 &&
	   target_read(r->image, 0x7f0000004000ULL, buf, 16) == 0 && buf[1] == 7 &&
	   target_read(r->image, 0x555555559000ULL + BIG_SEG - 8, buf, 8) == 0 &&
	   target_read(r->image, 0x555555559000ULL + BIG_SEG - 8, buf, 9) < 0,
	   "the hole reads as a hole, segment bytes read back");
	snapshot_free(r);

	/* Damaged contents: truncations, and lies behind valid CRCs. */
	all = 1;
	for (int i = 1; i < 64; i++)
		all &= decode_fails(img.buf, img.len * (size_t)i / 64, -HG_E_BAD_SNAPSHOT, &why);
	ok(all, "contents file truncated at each 1/64: errors");

	b = xmalloc(img.len);
	memcpy(b, img.buf, img.len);
	ent = find_section(b, SNAP_SEC_MEMORY, &off, &size);
	/* segment 0's length: past its region */
	b[off + SNAP_MEMORY_HEAD + 8 + 3] = 0x7f;
	fix_crcs(b, ent);
	ok(ent && decode_fails(b, img.len, -HG_E_BAD_SNAPSHOT, &why) &&
	   strstr(why.buf, "memory"), "segment past its region: %s", why.buf);

	memcpy(b, img.buf, img.len);
	put32(b + off + 8, 3000);	/* piece size */
	fix_crcs(b, ent);
	ok(decode_fails(b, img.len, -HG_E_BAD_SNAPSHOT, &why), "bad piece size: %s", why.buf);

	memcpy(b, img.buf, img.len);
	{
		uint64_t nseg = b[off];
		size_t first = (size_t)(off + SNAP_MEMORY_HEAD + nseg * 16);

		put32(b + first, 0x7ffffff);	/* first piece's frame length */
		fix_crcs(b, ent);
		ok(decode_fails(b, img.len, -HG_E_BAD_SNAPSHOT, &why),
		   "lying piece length: %s", why.buf);
		memcpy(b, img.buf, img.len);
		b[first + 4 + 4] ^= 0xff;	/* inside the first zstd frame's header */
		fix_crcs(b, ent);
		ok(decode_fails(b, img.len, -HG_E_BAD_SNAPSHOT, &why),
		   "damaged zstd frame: %s", why.buf);
	}

	memcpy(b, img.buf, img.len);
	ent = find_section(b, SNAP_SEC_THREADS, &off, &size);
	b[ent + SNAP_ENT_OFF_ID] = 99;	/* threads gone: the image is incomplete */
	fix_crcs(b, ent);
	ok(ent && decode_fails(b, img.len, -HG_E_BAD_SNAPSHOT, &why) &&
	   strstr(why.buf, "missing"), "image without its thread section: %s", why.buf);

	memcpy(b, img.buf, img.len);
	ent = find_section(b, SNAP_SEC_REGIONS, &off, &size);
	b[off + size / 2] ^= 0x10;
	ok(ent && decode_fails(b, img.len, -HG_E_BAD_SNAPSHOT, &why) &&
	   strstr(why.buf, "checksum"), "flipped region byte: %s", why.buf);

	free(b);
	strbuf_release(&img);
	strbuf_release(&why);
	snapshot_free(s);
}

/* Give S random types: names "type N", a quarter untyped, some inferred. */
static void add_types(struct snapshot *s, size_t nr_names)
{
	struct snapshot_types *ty = xcalloc(1, sizeof(*ty));

	ty->names = xcalloc(nr_names + 1, sizeof(*ty->names));
	for (size_t i = 0; i < nr_names; i++) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_addf(&sb, "struct type_%zu", i);
		ty->names[i] = strbuf_detach(&sb, NULL);
	}
	ty->nr_names = nr_names;
	ty->of_chunk = xmalloc((s->walk.nr_chunks + 1) * sizeof(*ty->of_chunk));
	ty->flags = xcalloc(s->walk.nr_chunks + 1, 1);
	for (size_t i = 0; i < s->walk.nr_chunks; i++) {
		uint64_t r = rnd();

		ty->of_chunk[i] = r % 4 == 0 || !nr_names ? SNAPSHOT_UNTYPED :
				  (uint32_t)((r >> 8) % nr_names);
		ty->flags[i] = ty->of_chunk[i] != SNAPSHOT_UNTYPED && (r >> 40) % 5 == 0 ?
			       SNAPSHOT_TYPE_INFERRED : 0;
	}
	ty->conflicts = 42;
	s->types = ty;
}

/* Every chunk of B (address order) has the type its twin in A has. */
static int same_types(const struct snapshot *a, const struct snapshot *b)
{
	if (!b->types || b->types->conflicts != a->types->conflicts)
		return 0;
	for (size_t j = 0; j < b->walk.nr_chunks; j++) {
		const struct chunk *q = &b->walk.chunks[j];
		size_t i;

		for (i = 0; i < a->walk.nr_chunks; i++)
			if (!cmp_chunk(&a->walk.chunks[i], q))
				break;
		if (i == a->walk.nr_chunks)
			return 0;
		if (!snapshot_chunk_type(a, i) != !snapshot_chunk_type(b, j) ||
		    (snapshot_chunk_type(a, i) &&
		     strcmp(snapshot_chunk_type(a, i), snapshot_chunk_type(b, j))) ||
		    snapshot_chunk_inferred(a, i) != snapshot_chunk_inferred(b, j)) {
			printf("# chunk %zu: type differs\n", j);
			return 0;
		}
	}
	return 1;
}

static void test_types(void)
{
	struct snapshot_file_info info = { 0 }, got;
	struct strbuf img = STRBUF_INIT, why = STRBUF_INIT;
	struct snapshot *s = make_snap(2000, 2), *r = NULL;
	size_t len;
	unsigned char *b;
	uint64_t off, size;
	size_t ent;

	add_types(s, 37);
	r = round_trip(s, &info, &got, &len);
	ok(r && same_snapshot(s, r, "types") && same_types(s, r),
	   "round trip of types: 37 names, untyped and inferred chunks, conflicts");
	snapshot_free(r);
	snapshot_encode(s, &info, &img);
	b = (unsigned char *)img.buf;
	ent = find_section(b, SNAP_SEC_TYPES, &off, &size);
	ok(ent != 0, "a typed snapshot has a TYPES section");
	/* damage the section's stored bytes: the CRC catches it */
	if (ent) {
		b[off + 1] ^= 0x40;
		ok(decode_fails(b, img.len, -HG_E_BAD_SNAPSHOT, &why),
		   "damaged TYPES section: %s", why.buf);
	} else {
		ok(0, "damaged TYPES section");
	}
	strbuf_release(&img);
	strbuf_release(&why);
	snapshot_free(s);
}

int main(void)
{
	struct snapshot_file_info info, got;
	struct strbuf img = STRBUF_INIT, why = STRBUF_INIT;
	struct snapshot *s, *r;
	size_t len, nbench = 1 << 20;
	const char *env = getenv("HG_SNAPSHOT_BENCH");
	int all;

	if (env && atol(env) > 0)
		nbench = (size_t)atol(env);
	plan(44);
	test_types();

	/* 1. every field */
	s = make_snap(5000, 3);
	memset(&info, 0, sizeof(info));
	info.taken = 1700000000;
	snprintf(info.version, sizeof(info.version), "9.8.7-test");
	info.warnings = 3;
	r = round_trip(s, &info, &got, &len);
	ok(r && same_snapshot(s, r, "5000 chunks"), "round trip: every field of 5000 chunks, 3 arenas");
	ok(got.taken == 1700000000 && !strcmp(got.version, "9.8.7-test") && got.warnings == 3 &&
	   got.major == SNAP_MAJOR && got.minor == SNAP_MINOR,
	   "round trip: time, version, warnings, format version");
	ok(r && r->meta.libc_symbols && !strcmp(r->meta.libc_symbols, "dwarf"),
	   "libc_symbols comes back as the static string");
	snapshot_free(r);
	/* memory: every value, and none (a file before 1.3 reads as NULL) */
	{
		static const char *const mem[] = { "writable", "core", "image", NULL };

		for (size_t i = 0; i < ARRAY_SIZE(mem); i++) {
			s->meta.memory = mem[i];
			r = round_trip(s, &info, &got, &len);
			ok(r && (mem[i] ? r->meta.memory && !strcmp(r->meta.memory, mem[i])
				 : !r->meta.memory),
			   "memory \"%s\" comes back", mem[i] ? mem[i] : "(none)");
			snapshot_free(r);
		}
		s->meta.memory = "heap";
	}

	/* 2. the file itself: mode 0600, read back */
	{
		char path[] = "/tmp/t-snapshot.XXXXXX";
		int fd = mkstemp(path);
		struct stat st;

		close(fd);
		ok(snapshot_write_file(s, &info, path) == 0 && stat(path, &st) == 0 &&
		   (st.st_mode & 0777) == 0600, "written file has mode 0600");
		r = NULL;
		ok(snapshot_read_file(path, &why, &r, &got) == 0 && same_snapshot(s, r, "file"),
		   "read back from the file");
		snapshot_free(r);
		unlink(path);
		ok(snapshot_read_file(path, &why, &r, &got) == -ENOENT, "missing file: -ENOENT");
	}

	/* 3. empty snapshot: no arenas, no chunks, no exe, no method */
	{
		struct snapshot *e = xcalloc(1, sizeof(*e));

		heap_walk_init(&e->walk);
		r = round_trip(e, &info, &got, &len);
		ok(r && same_snapshot(e, r, "empty") && !r->meta.exe && !r->meta.libc_symbols,
		   "round trip: 0 chunks, 0 arenas, absent strings (%zu bytes)", len);
		snapshot_free(r);
		snapshot_free(e);
	}

	/* 4. odd values: unaligned address, huge size, wrap-free extremes */
	{
		struct snapshot *o = make_snap(10, 1);

		heap_walk_add(&o->walk, 0x123457, 0x31, 0, CHUNK_INUSE);
		heap_walk_add(&o->walk, 0xfffffffffff00000ULL, 0xff000, CHUNK_NO_ARENA,
			      CHUNK_MMAPPED);
		heap_walk_add(&o->walk, 0x10, 0x20, 0, CHUNK_BIN);
		r = round_trip(o, &info, &got, &len);
		ok(r && same_snapshot(o, r, "odd"), "round trip: unaligned chunks (1-byte units), "
		   "addresses near 2^64, chunks before the heap");
		snapshot_free(r);
		snapshot_free(o);
	}

	/* 5. damage: every 1/64 truncation, flipped bytes, magic, versions */
	snapshot_encode(s, &info, &img);
	all = 1;
	for (int i = 0; i < 64; i++) {
		size_t cut = img.len * (size_t)i / 64;

		if (!decode_fails(img.buf, cut, 0, &why)) {
			printf("# truncation at %zu of %zu bytes accepted\n", cut, img.len);
			all = 0;
		}
	}
	ok(all, "truncated at each 1/64 of the file: one-line error");
	ok(decode_fails(img.buf, img.len - 1, -HG_E_BAD_SNAPSHOT, &why) &&
	   strstr(why.buf, "truncated"), "last byte missing: \"%s\"", why.buf);
	{
		unsigned char *b = xmalloc(img.len + 1);
		size_t bad = 0;

		memcpy(b, img.buf, img.len);
		b[img.len] = 0;
		ok(decode_fails(b, img.len + 1, -HG_E_BAD_SNAPSHOT, &why),
		   "trailing garbage: \"%s\"", why.buf);
		for (size_t i = 0; i < img.len; i++) {
			b[i] ^= (unsigned char)(1u << (rnd() % 8));
			if (!decode_fails(b, img.len, 0, &why)) {
				printf("# flipped bit at %zu accepted\n", i);
				bad++;
			}
			b[i] = (unsigned char)img.buf[i];
		}
		ok(!bad, "every single-bit flip (%zu bytes) is detected", img.len);

		memcpy(b, img.buf, img.len);
		b[1] = 'X';
		ok(decode_fails(b, img.len, -HG_E_BAD_SNAPSHOT, &why) && strstr(why.buf, "magic"),
		   "bad magic: \"%s\"", why.buf);
		memcpy(b, img.buf, img.len);
		b[SNAP_HDR_OFF_MAJOR] = SNAP_MAJOR + 1;
		ok(decode_fails(b, img.len, -HG_E_UNSUPPORTED, &why) && strstr(why.buf, "newer"),
		   "newer major (bad CRC too): \"%s\"", why.buf);
		fix_header_crc(b);
		ok(decode_fails(b, img.len, -HG_E_UNSUPPORTED, &why), "newer major, valid CRC");
		memcpy(b, img.buf, img.len);
		b[SNAP_HDR_OFF_MINOR] = SNAP_MINOR + 7;
		fix_header_crc(b);
		r = NULL;
		ok(snapshot_decode(b, img.len, &why, &r, &got) == 0 && got.minor == SNAP_MINOR + 7,
		   "newer minor is read");
		snapshot_free(r);
		memcpy(b, img.buf, img.len);
		b[img.len - 5] ^= 0x40;	/* inside the chunk section */
		ok(decode_fails(b, img.len, -HG_E_BAD_SNAPSHOT, &why) && strstr(why.buf, "checksum"),
		   "damaged chunk section: \"%s\"", why.buf);
		memcpy(b, img.buf, img.len);
		b[SNAP_HDR_OFF_NR_SECT] = 0xff;
		b[SNAP_HDR_OFF_NR_SECT + 1] = 0xff;
		fix_header_crc(b);
		ok(decode_fails(b, img.len, -HG_E_BAD_SNAPSHOT, &why),
		   "lying section count: \"%s\"", why.buf);
		ok(decode_fails("", 0, -HG_E_BAD_SNAPSHOT, &why) &&
		   decode_fails("hello, world\n", 13, -HG_E_BAD_SNAPSHOT, &why),
		   "empty input and text: \"%s\"", why.buf);
		/* random garbage behind a valid magic */
		all = 1;
		for (int k = 0; k < 2000; k++) {
			size_t n = 8 + rnd() % 512;
			unsigned char g[520];

			memcpy(g, SNAP_MAGIC, SNAP_MAGIC_LEN);
			for (size_t i = 8; i < n; i++)
				g[i] = (unsigned char)rnd();
			all &= decode_fails(g, n, 0, &why);
		}
		ok(all, "2000 random files with a valid magic: errors");
		free(b);
	}
	strbuf_release(&img);
	snapshot_free(s);

	/* 6. size and time on a big walk */
	{
		double t0, t1, t2;
		struct snapshot *big = make_snap(nbench, 4);

		t0 = now_ms();
		snapshot_encode(big, &info, &img);
		t1 = now_ms();
		r = NULL;
		ok(snapshot_decode(img.buf, img.len, &why, &r, &got) == 0, "decode %zu chunks",
		   big->walk.nr_chunks);
		t2 = now_ms();
		printf("# %zu chunks: %zu bytes, %.2f bytes/chunk; encode %.1f ms, decode %.1f ms\n",
		       big->walk.nr_chunks, img.len, (double)img.len / (double)big->walk.nr_chunks,
		       t1 - t0, t2 - t1);
		ok((double)img.len / (double)big->walk.nr_chunks <= 4.0,
		   "<= 4 bytes per chunk (%.2f)", (double)img.len / (double)big->walk.nr_chunks);
		/* The goal is 0.5 s for 4M; allow slow (sanitizer, valgrind)
		 * builds 20x before calling it a failure. */
		ok(t1 - t0 <= 0.5e3 * 20 * (double)nbench / (4 << 20),
		   "encode time within bounds (%.1f ms)", t1 - t0);
		ok(r && same_snapshot(big, r, "big"), "big round trip");
		snapshot_free(r);
		strbuf_release(&img);
		{
			char path[] = "/tmp/t-snapshot-big.XXXXXX";
			int fd = mkstemp(path);

			close(fd);
			t0 = now_ms();
			ok(snapshot_write_file(big, &info, path) == 0, "write file");
			t1 = now_ms();
			printf("# snapshot_write_file: %.1f ms\n", t1 - t0);
			unlink(path);
		}
		snapshot_free(big);
	}
	test_image();
	ok(1, "no crash");
	strbuf_release(&why);
	return done();
}
