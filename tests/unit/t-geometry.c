/*
 * t-geometry.c - chunk geometry (heap/heap.h) against glibc itself.
 *
 * The oracle is the glibc malloc this test runs on: for chunks it
 * allocates, the chunk size in the header must be chunk_size_for_request()
 * of the request, and chunk_usable() must be malloc_usable_size(). The
 * case that matters is a memalign'd mmapped chunk: glibc puts the chunk
 * some way into its mapping and records that padding in prev_size; the
 * walk's size covers the padding (the census counts the whole mapping),
 * so the usable bytes end at the mapping's end, not at chunk + size.
 * Typing once took size - 16 there and the heap graph size - padding -
 * 16: malloc_usable_size() decides, and the end must be a page boundary
 * whose last byte /proc/self/maps shows mapped.
 *
 * Built with ASan the process has no glibc malloc to ask: those checks
 * are skipped (the synthetic ones still run).
 */
#include "config.h"
#include "tap.h"
#include "heap/heap.h"
#include "target/target.h"

#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
# define HAVE_ASAN 1
#elif defined(__has_feature)
# if __has_feature(address_sanitizer)
#  define HAVE_ASAN 1
# endif
#endif

#define IS_MMAPPED 2	/* malloc.c */

#ifndef HAVE_ASAN
/* The end of the mapping that holds ADDR, from /proc/self/maps (the
 * kernel merges neighbouring anonymous mappings); 0 if none. */
static uint64_t mapping_end(uintptr_t addr)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	uint64_t lo, hi, found = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%" SCNx64 "-%" SCNx64, &lo, &hi) == 2 && addr >= lo && addr < hi)
			found = hi;
	fclose(f);
	return found;
}

/* The word at P, which lies in glibc's chunk header before the user
 * pointer: the compiler must not know which object P came from. */
static uint64_t word_at(const void *p)
{
	uint64_t v;

	__asm__("" : "+r"(p));
	memcpy(&v, p, sizeof(v));
	return v;
}

/* Arena chunks: header size and usable size for every request up to 2 KiB. */
static void arena_chunks(void)
{
	int bad_size = 0, bad_usable = 0;
	void *keep[2049];

	for (size_t n = 0; n <= 2048; n++) {
		unsigned char *p = malloc(n);
		uint64_t size = word_at(p - 8) & ~(uint64_t)7;
		struct chunk c = { .addr = (uintptr_t)(p - 16), .size = size,
				   .state = CHUNK_INUSE };

		keep[n] = p;
		if (size != chunk_size_for_request(n) && !bad_size++)
			printf("# malloc(%zu): chunk size %" PRIu64 ", want %" PRIu64 "\n", n, size,
			       chunk_size_for_request(n));
		if (chunk_usable(&c, 0) != malloc_usable_size(p) && !bad_usable++)
			printf("# malloc(%zu): usable %" PRIu64 ", glibc says %zu\n", n,
			       chunk_usable(&c, 0), malloc_usable_size(p));
		if (chunk_mem(&c) != (uintptr_t)p)
			bad_usable++;
	}
	for (size_t n = 0; n <= 2048; n++)
		free(keep[n]);
	ok(!bad_size, "chunk_size_for_request(n) is malloc(n)'s chunk size, n = 0..2048");
	ok(!bad_usable, "chunk_mem and chunk_usable agree with malloc_usable_size()");
}

/* An mmapped chunk with memalign padding ALIGN, as the walk records it. */
static void mmapped_chunk(size_t align, size_t n)
{
	unsigned char *p = memalign(align, n);
	unsigned char *hdr = p - 16;
	uint64_t pad = word_at(hdr), size = word_at(hdr + 8);
	struct target *t = memimage_new();
	struct chunk c = { .addr = (uintptr_t)hdr, .size = pad + (size & ~(uint64_t)7),
			   .arena = CHUNK_NO_ARENA, .state = CHUNK_MMAPPED };
	uint64_t got_pad;

	/* the walk's view: heap/glibc-walk.c scan_region adds the chunk at
	 * its real header with the padding in its size */
	__asm__("" : "+r"(hdr));
	memimage_add(t, (uintptr_t)hdr, hdr, 16, true);
	got_pad = chunk_mmap_padding(&c, t);
	ok((size & IS_MMAPPED) && pad > 0, "memalign(%zu, %zu) is mmapped, %" PRIu64
	   " bytes into its mapping", align, n, pad);
	is_u64(got_pad, pad, "chunk_mmap_padding reads prev_size");
	is_u64(chunk_usable(&c, got_pad), malloc_usable_size(p),
	       "usable size of the memalign'd mmapped chunk is malloc_usable_size()");
	ok(chunk_end(&c, got_pad) % 4096 == 0 && mapping_end(chunk_end(&c, got_pad) - 1) &&
	   chunk_end(&c, got_pad) - (c.addr - pad) == c.size,
	   "it ends on the page boundary that ends its mapping, not at chunk + size");
	ok(chunk_usable(&c, got_pad) != c.size - 16,
	   "(size - 16, the old typing rule, overshoots the mapping by the padding)");
	target_close(t);
	/* P stays allocated: freeing an mmapped chunk would raise glibc's
	 * dynamic mmap threshold and let the next memalign come from the heap */
}

#endif /* HAVE_ASAN */

/* What hostile input cannot do. */
static void hostile(void)
{
	struct target *t = memimage_new();
	uint64_t words[2] = { 0x10000, 0x1002 };
	struct chunk mm = { .addr = 0x1000, .size = 0x1000, .state = CHUNK_MMAPPED };
	struct chunk in = { .addr = 0x1000, .size = 0x1000, .state = CHUNK_INUSE };
	struct chunk tiny = { .addr = 0x1000, .size = 8, .state = CHUNK_MMAPPED };

	memimage_add(t, 0x1000, words, sizeof(words), true);
	is_u64(chunk_mmap_padding(&mm, t), 0, "a padding not below the size is ignored");
	is_u64(chunk_mmap_padding(&in, t), 0, "arena chunks have no padding");
	is_u64(chunk_usable(&tiny, 0), 0, "a chunk smaller than its header has no usable bytes");
	mm.addr = 0x9000;
	is_u64(chunk_mmap_padding(&mm, t), 0, "an unreadable prev_size is no padding");
	target_close(t);
}

int main(void)
{
	plan(2 + 3 * 5 + 4);
#ifdef HAVE_ASAN
	for (int i = 0; i < 2 + 3 * 5; i++)
		ok(1, "# SKIP built with ASan: no glibc malloc to compare with");
#else
	arena_chunks();
	mmapped_chunk(4096, 200000);
	mmapped_chunk(65536, 300000);
	mmapped_chunk(1 << 20, 400000);
#endif
	hostile();
	return done();
}
