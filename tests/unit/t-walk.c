/*
 * t-walk.c - the glibc walker on a hand-built glibc 2.36 heap.
 *
 * The image is laid out byte by byte like a real process (main_arena,
 * mp_, one brk heap, a thread's TLS slot pointing at its tcache, one
 * mmapped chunk), so every classification rule of heap/glibc-walk.c is
 * exercised with known answers: the tcache list is safe-linked, the
 * fastbin too, the unsorted bin holds one chunk, and the top chunk ends
 * the heap. Then the same image is damaged in the ways a real heap gets
 * damaged (a zero size, a tcache loop, a fastbin cycle, a wrong count) and
 * the walk must warn, keep going and never crash.
 */
#include "config.h"
#include "tap.h"
#include "heap/glibc-internal.h"
#include "heap/glibc-walk.h"
#include "heap/heap.h"
#include "target/target.h"
#include "util/diag.h"

#include <stdlib.h>
#include <string.h>

#define ARENA	0x7000000000ULL
#define MP	0x7000001000ULL
#define HEAP	0x5000000000ULL
#define HEAPSZ	0x21000ULL
#define TLS	0x7100000000ULL
#define FSBASE	(TLS + 0x100)
#define TPOFF	(-72)
#define MMAP	0x7200000000ULL
#define KEY	0x1122334455667788ULL

struct img {
	unsigned char arena[0x1000];
	unsigned char mp[0x1000];
	unsigned char heap[HEAPSZ];
	unsigned char tls[0x1000];
	unsigned char mm[0x2000];
	/* chunk addresses */
	uint64_t c[9], top;
};

static void put(unsigned char *base, uint64_t base_addr, uint64_t addr, uint64_t v)
{
	memcpy(base + (addr - base_addr), &v, 8);
}

#define H(addr, v) put(im->heap, HEAP, (addr), (v))
#define A(off, v) put(im->arena, ARENA, ARENA + (off), (v))
#define M(off, v) put(im->mp, MP, MP + (off), (v))

static uint64_t protect(uint64_t field, uint64_t ptr)
{
	return (field >> 12) ^ ptr;
}

static void build(struct img *im, const struct glibc_layout *l)
{
	static const uint64_t sizes[9] = { 0x290, 0x30, 0x30, 0x30, 0x100, 0x40, 0x50, 0x200, 0x60 };
	uint64_t p = HEAP;

	memset(im, 0, sizeof(*im));
	for (int i = 0; i < 9; i++) {
		im->c[i] = p;
		H(p + 8, sizes[i] | 1);
		p += sizes[i];
	}
	im->top = p;
	H(p + 8, (HEAP + HEAPSZ - p) | 1);
	/* c7 is free in the unsorted bin: c8 has PREV_INUSE clear. */
	H(im->c[8], 0x200);
	H(im->c[8] + 8, 0x60);
	/* tcache struct in c0: bin 1 (chunk size 0x30) holds c2 -> c3. */
	{
		uint64_t tc = im->c[0] + 16;
		uint16_t two = 2;

		memcpy(im->heap + (tc + 2 - HEAP), &two, 2);
		H(tc + l->tc_entries + 8, im->c[2] + 16);
		H(im->c[2] + 16, protect(im->c[2] + 16, im->c[3] + 16));
		H(im->c[2] + 24, KEY);
		H(im->c[3] + 16, protect(im->c[3] + 16, 0));
		H(im->c[3] + 24, KEY);
		put(im->tls, TLS, FSBASE + TPOFF, tc);
	}
	/* fastbin 2 (0x40) holds c5. */
	A(l->ms_fastbins + 2 * 8, im->c[5]);
	H(im->c[5] + 16, protect(im->c[5] + 16, 0));
	/* bins: every head points at itself, the unsorted bin at c7. */
	for (int i = 1; i < NBINS; i++) {
		uint64_t slot = l->ms_bins + (uint64_t)(i - 1) * 16;

		A(slot, ARENA + slot - 16);
		A(slot + 8, ARENA + slot - 16);
	}
	A(l->ms_bins, im->c[7]);
	A(l->ms_bins + 8, im->c[7]);
	H(im->c[7] + 16, ARENA + l->ms_bins - 16);
	H(im->c[7] + 24, ARENA + l->ms_bins - 16);
	A(l->ms_top, im->top);
	A(l->ms_next, ARENA);
	A(l->ms_system_mem, HEAPSZ);
	/* mp_ */
	{
		int32_t one = 1;

		memcpy(im->mp + l->mp_n_mmaps, &one, 4);
	}
	M(l->mp_mmapped_mem, 0x2000);
	M(l->mp_sbrk_base, HEAP);
	M(l->mp_tcache_bins, 64);
	M(l->mp_tcache_count, 7);
	/* one mmapped chunk */
	put(im->mm, MMAP, MMAP + 8, 0x2000 | 2);
	put(im->mm, MMAP, MMAP + 16, 0xabcdef);
}

/*
 * When set, the heap is two adjacent mappings split inside chunk c[7], the
 * second one named split_name: glibc 2.35+ with hugetlb=1 madvises each
 * piece by which it grows [heap], so the kernel shows several VMAs whose
 * chunks run across their borders; with hugetlb=2 and huge pages the main
 * arena is in "/anon_hugepage" mappings.
 */
static uint64_t split;
static const char *split_name;

static struct target *image_target(struct img *im)
{
	struct target *t = memimage_new();
	struct user_regs_struct regs;

	memimage_add(t, ARENA, im->arena, sizeof(im->arena), true);
	memimage_add(t, MP, im->mp, sizeof(im->mp), true);
	if (split) {
		memimage_add(t, HEAP, im->heap, split, true);
		memimage_add(t, HEAP + split, im->heap + split, sizeof(im->heap) - split, true);
	} else {
		memimage_add(t, HEAP, im->heap, sizeof(im->heap), true);
	}
	memimage_add(t, TLS, im->tls, sizeof(im->tls), true);
	memimage_add(t, MMAP, im->mm, sizeof(im->mm), true);
	memset(&regs, 0, sizeof(regs));
	regs.fs_base = FSBASE;
	memimage_add_thread(t, 1234, &regs);
	return t;
}

/* Give the regions realistic paths: the heap is [heap], libc data a file. */
static void name_regions(struct target *t)
{
	for (size_t i = 0; i < t->nr_regions; i++) {
		if (t->regions[i].start == HEAP)
			t->regions[i].path = strdup("[heap]");
		else if (split && t->regions[i].start == HEAP + split)
			t->regions[i].path = strdup(split_name);
		else if (t->regions[i].start == ARENA || t->regions[i].start == MP)
			t->regions[i].path = strdup("/lib/x86_64-linux-gnu/libc.so.6");
		else if (t->regions[i].start == TLS)
			t->regions[i].path = strdup("[stack]");
	}
}

static int walk(struct img *im, const struct glibc_layout *l, struct heap_walk *w,
		struct diag_sink *d)
{
	struct glibc_walk_params p = {
		.l = l, .main_arena = ARENA, .mp = MP, .have_tpoff = true, .tpoff = TPOFF,
	};
	struct target *t = image_target(im);
	int err;

	name_regions(t);
	memset(d, 0, sizeof(*d));
	err = glibc_walk_heap(&p, t, d, w);
	target_close(t);
	return err;
}

static void use_layout(unsigned minor, struct glibc_layout *l)
{
	if (glibc_layout_table(2, minor, l) < 0)
		exit(99);
}

int main(void)
{
	static struct img im;
	struct glibc_layout l;
	struct heap_walk w;
	struct diag_sink d;
	uint64_t top_bytes;

	plan(26);
	if (glibc_layout_table(2, 36, &l) < 0)
		return 99;
	ok(glibc_layout_table(2, 42, &l) < 0 && glibc_layout_table(2, 25, &l) < 0,
	   "no built-in layout outside 2.26-2.41");
	use_layout(36, &l);

	build(&im, &l);
	ok(walk(&im, &l, &w, &d) == 0, "walk of a clean 2.36 image succeeds");
	is_u64(d.nr_warnings, 0, "no warnings on a clean image");
	is_u64(w.totals[CHUNK_INUSE].count, 5, "in use: tcache struct + 4 chunks");
	is_u64(w.totals[CHUNK_INUSE].bytes, 0x290 + 0x30 + 0x100 + 0x50 + 0x60, "in use bytes");
	is_u64(w.totals[CHUNK_TCACHE].count, 2, "tcache: the safe-linked pair");
	is_u64(w.totals[CHUNK_TCACHE].bytes, 0x60, "tcache bytes");
	is_u64(w.totals[CHUNK_FASTBIN].count, 1, "fastbin count");
	is_u64(w.totals[CHUNK_FASTBIN].bytes, 0x40, "fastbin bytes");
	is_u64(w.totals[CHUNK_BIN].count, 1, "unsorted chunk");
	is_u64(w.totals[CHUNK_BIN].bytes, 0x200, "bin bytes");
	top_bytes = HEAPSZ - (0x290 + 0x30 * 3 + 0x100 + 0x40 + 0x50 + 0x200 + 0x60);
	is_u64(w.totals[CHUNK_TOP].bytes, top_bytes, "top runs to the end of the heap");
	is_u64(w.totals[CHUNK_MMAPPED].count, 1, "one mmapped chunk found by the scan");
	is_u64(w.totals[CHUNK_MMAPPED].bytes, 0x2000, "mmapped bytes = mapping bytes");
	is_u64(w.overhead, 0, "no overhead in a contiguous main arena");
	is_u64(w.system_bytes, HEAPSZ, "system bytes = system_mem");
	heap_walk_release(&w);

	/* The same heap as two mappings, split inside a chunk. */
	split = im.c[7] + 0x100 - HEAP;
	split_name = "[heap]";
	ok(walk(&im, &l, &w, &d) == 0 && d.nr_warnings == 0 &&
	   w.totals[CHUNK_BIN].count == 1 && w.totals[CHUNK_TOP].bytes == top_bytes,
	   "[heap] split in two VMAs inside a chunk (hugetlb=1): same census, no warnings");
	heap_walk_release(&w);
	split_name = "/anon_hugepage";
	ok(walk(&im, &l, &w, &d) == 0 && d.nr_warnings == 0 &&
	   w.totals[CHUNK_BIN].count == 1 && w.totals[CHUNK_TOP].bytes == top_bytes,
	   "heap continued in an /anon_hugepage mapping (hugetlb=2): same census");
	heap_walk_release(&w);
	split = 0;

	/* Without safe-linking the same links are plain: a 2.31 image. */
	use_layout(31, &l);
	build(&im, &l);

	{
		struct img *imp = &im;

		put(imp->heap, HEAP, imp->c[2] + 16, imp->c[3] + 16);
		put(imp->heap, HEAP, imp->c[3] + 16, 0);
		put(imp->heap, HEAP, imp->c[5] + 16, 0);
	}
	ok(walk(&im, &l, &w, &d) == 0 && d.nr_warnings == 0 &&
	   w.totals[CHUNK_TCACHE].count == 2 && w.totals[CHUNK_FASTBIN].count == 1,
	   "2.31 layout, plain links: same classification, no warnings");
	heap_walk_release(&w);

	/* Damage: a zero size in the middle of the heap. */
	use_layout(36, &l);
	build(&im, &l);
	put(im.heap, HEAP, im.c[4] + 8, 0);
	ok(walk(&im, &l, &w, &d) == 0 && d.nr_warnings > 0, "zero chunk size: warned, walk returns");
	is_u64(w.totals[CHUNK_INUSE].count, 2, "chunks before the damage still counted");
	heap_walk_release(&w);

	/* Damage: the tcache list loops (c3 -> c2). */
	build(&im, &l);
	put(im.heap, HEAP, im.c[3] + 16, protect(im.c[3] + 16, im.c[2] + 16));
	ok(walk(&im, &l, &w, &d) == 0 && d.nr_warnings > 0 &&
	   w.totals[CHUNK_TCACHE].count == 2, "tcache loop: detected, each chunk once");
	heap_walk_release(&w);

	/* Damage: a fastbin that points at itself. */
	build(&im, &l);
	put(im.heap, HEAP, im.c[5] + 16, protect(im.c[5] + 16, im.c[5]));
	ok(walk(&im, &l, &w, &d) == 0 && d.nr_warnings > 0 &&
	   w.totals[CHUNK_FASTBIN].count == 1, "fastbin cycle: detected, counted once");
	heap_walk_release(&w);

	/* Damage: tcache count disagrees with the list. */
	build(&im, &l);
	{
		uint16_t five = 5;

		memcpy(im.heap + (im.c[0] + 16 + 2 - HEAP), &five, 2);
	}
	ok(walk(&im, &l, &w, &d) == 0 && d.nr_warnings == 1, "tcache count mismatch: one warning");
	heap_walk_release(&w);

	/* Damage: unsorted bin's fd points into nowhere. */
	build(&im, &l);
	put(im.heap, HEAP, im.c[7] + 16, 0x10);
	ok(walk(&im, &l, &w, &d) == 0 && d.nr_warnings > 0, "broken bin list: warned");
	heap_walk_release(&w);

	/* The 16-byte chunk record: a size beyond 48 bits (only a corrupt
	 * top chunk has one) is kept clamped in the chunk, exact in the
	 * totals; an arena index beyond 13 bits is no arena. */
	{
		struct heap_walk hw;

		heap_walk_init(&hw);
		hw.arenas = calloc(2, sizeof(*hw.arenas));
		hw.nr_arenas = 2;
		heap_walk_add(&hw, 0x1000, 1ULL << 50, 1, CHUNK_TOP);
		heap_walk_add(&hw, 0x2000, 0x40, 9000, CHUNK_MMAPPED);
		ok(sizeof(struct chunk) == 16 && hw.chunks[0].size == CHUNK_SIZE_MAX &&
		   hw.totals[CHUNK_TOP].bytes == 1ULL << 50 &&
		   hw.arenas[1].kinds[CHUNK_TOP].bytes == 1ULL << 50 &&
		   hw.chunks[0].arena == 1 && hw.chunks[0].state == CHUNK_TOP &&
		   hw.chunks[1].arena == CHUNK_NO_ARENA && hw.chunks[1].size == 0x40,
		   "chunk record: 16 bytes, a 2^50 size clamped there and exact in the totals");
		heap_walk_release(&hw);
	}
	return done();
}
