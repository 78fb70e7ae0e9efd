/*
 * glibc-layout.c - where the allocator's fields are, per glibc release.
 *
 * Four layout eras matter from 2.26 to 2.41 (doc/glibc-malloc.md §2, from
 * `git diff` of malloc/malloc.c and malloc/arena.c between the tags):
 *
 *   2.26        malloc_state without have_fastchunks (2192 bytes);
 *               tcache counts are char; no tcache_entry.key
 *   2.27-2.29   have_fastchunks moves fastbinsY to +16 (2200 bytes);
 *               2.29 adds tcache_entry.key
 *   2.30-2.34   tcache counts become uint16_t (struct 640 bytes);
 *               2.32 adds safe-linking (PROTECT_PTR)
 *   2.35-2.41   mp_ gains thp_pagesize, hp_pagesize, hp_flags (136 bytes);
 *               heap_info gains pagesize (48 bytes)
 *
 * 2.42 reworks the tcache (num_slots counting down, 76 bins): refused
 * without DWARF, and with DWARF when tcache_perthread_struct has no
 * `counts` member.
 *
 * When libc's DWARF is available, every offset is read from it instead and
 * the table only supplies the behaviour switches (safe-linking, key).
 *
 * Without DWARF, main_arena and mp_ are found in libc's file by the
 * disassembly recipes of debuginfo/libcfile.c, and one of them looks for
 * the structs' static initialisers in .data (malloc.c):
 *
 *     static struct malloc_state main_arena = {
 *       .mutex = _LIBC_LOCK_INITIALIZER, .next = &main_arena,
 *       .attached_threads = 1 };
 *
 * so main_arena is all zero but its self pointer `next` (2160 from 2.27 on,
 * 2152 in 2.26) and attached_threads = 1 (2176, 2168); and mp_ holds its
 * defaults (`static struct malloc_par mp_ = {...}`):
 *
 *     off 2.26-2.34 / 2.35+   field              on-disk value
 *       0 /   0               trim_threshold     DEFAULT_TRIM_THRESHOLD
 *       8 /   8               top_pad            DEFAULT_TOP_PAD, or 0
 *      16 /  16               mmap_threshold     DEFAULT_MMAP_THRESHOLD_MIN
 *      24 /  24               arena_test         NARENAS_FROM_NCORES (1)
 *      32 /  32               arena_max          0
 *       - /  40,48,56         thp/hp_pagesize, hp_flags  0
 *      44 /  64  (int)        n_mmaps_max        DEFAULT_MMAP_MAX
 *      80 / 104               tcache_bins        TCACHE_MAX_BINS
 *      88 / 112               tcache_max_bytes   tidx2usize (TCACHE_MAX_BINS - 1)
 *      96 / 120               tcache_count       TCACHE_FILL_COUNT
 *     everything else                            0
 *
 * glibc_libc_patterns() hands those facts to libcfile.c, which knows no
 * offsets itself.
 */
#include "config.h"
#include "heap/glibc-internal.h"
#include "debuginfo/libcfile.h"
#include "debuginfo/module.h"
#include "util/errors.h"

#include <errno.h>
#include <string.h>

int glibc_layout_table(unsigned major, unsigned minor, struct glibc_layout *l)
{
	if (major != 2 || minor < GLIBC_TABLE_FIRST_MINOR || minor > GLIBC_TABLE_LAST_MINOR)
		return -HG_E_NO_LIBC_LAYOUT;
	memset(l, 0, sizeof(*l));
	l->major = major;
	l->minor = minor;
	l->source = "table";

	l->ms_mutex = 0;
	l->ms_flags = 4;
	if (minor == 26) {
		l->ms_fastbins = 8;
		l->ms_top = 88;
		l->ms_bins = 104;
		l->ms_next = 2152;
		l->ms_system_mem = 2176;
		l->ms_size = 2192;
	} else {
		l->ms_fastbins = 16;
		l->ms_top = 96;
		l->ms_bins = 112;
		l->ms_next = 2160;
		l->ms_system_mem = 2184;
		l->ms_size = 2200;
	}

	/* malloc.c struct malloc_par: the five size_t thresholds lead in
	 * every release; 2.35 inserts thp_pagesize, hp_pagesize, hp_flags
	 * before n_mmaps */
	l->mp_trim_threshold = 0;
	l->mp_top_pad = 8;
	l->mp_mmap_threshold = 16;
	l->mp_arena_test = 24;
	l->mp_arena_max = 32;
	if (minor <= 34) {
		l->mp_thp_pagesize = LAYOUT_ABSENT;
		l->mp_n_mmaps_max = 44;
		l->mp_no_dyn_threshold = 52;
	} else {
		l->mp_thp_pagesize = 40;
		l->mp_n_mmaps_max = 64;
		l->mp_no_dyn_threshold = 72;
	}
	if (minor <= 34) {
		l->mp_n_mmaps = 40;
		l->mp_mmapped_mem = 56;
		l->mp_sbrk_base = 72;
		l->mp_tcache_bins = 80;
		l->mp_tcache_count = 96;
		l->mp_hp_pagesize = LAYOUT_ABSENT;
		l->mp_size = 112;
		l->hi_sizeof = 32;
	} else {
		l->mp_n_mmaps = 60;
		l->mp_mmapped_mem = 80;
		l->mp_sbrk_base = 96;
		l->mp_tcache_bins = 104;
		l->mp_tcache_count = 120;
		l->mp_hp_pagesize = 48;
		l->mp_size = 136;
		l->hi_sizeof = 48;
	}
	l->hi_ar_ptr = 0;
	l->hi_prev = 8;
	l->hi_size = 16;

	l->has_tcache = true;
	l->tc_bins = 64;
	l->tc_counts = 0;
	l->tc_count_size = minor <= 29 ? 1 : 2;
	l->tc_entries = l->tc_bins * l->tc_count_size;
	l->tc_sizeof = l->tc_entries + l->tc_bins * 8;
	l->safe_linking = minor >= 32;
	l->tcache_key = minor >= 29;
	return 0;
}

/* malloc.c defaults the mp_ pattern relies on (2.26 to 2.41) */
#define TCACHE_MAX_BINS		64
#define TCACHE_MAX_BYTES	0x408	/* tidx2usize (TCACHE_MAX_BINS - 1) */
#define TCACHE_FILL_COUNT	7
#define DEFAULT_TRIM_THRESHOLD	0x20000	/* 128 KiB */
#define DEFAULT_MMAP_THRESHOLD	0x20000	/* DEFAULT_MMAP_THRESHOLD_MIN */
/* sysdeps/generic/malloc-machine.h: 128 KiB; malloc.c's own fallback is 0
 * (doc/glibc-malloc.md §1): both are accepted */
#define DEFAULT_TOP_PAD		0x20000
#define DEFAULT_MMAP_MAX	65536
#define ARENA_TEST_64		8	/* NARENAS_FROM_NCORES (1) */

#define F8(o, v)	{ .off = (o), .width = 8, .value = (v), .alt = (v) }
#define MP_PATTERN(sz, mmaps_max, tc_bins, first, last) {			\
	.size = (sz), .self_ptr = LIBC_NO_SELF_PTR,				\
	.first_minor = (first), .last_minor = (last),				\
	.fields = {								\
		F8(0, DEFAULT_TRIM_THRESHOLD),					\
		{ .off = 8, .width = 8, .value = DEFAULT_TOP_PAD, .alt = 0 },	\
		F8(16, DEFAULT_MMAP_THRESHOLD),					\
		F8(24, ARENA_TEST_64),						\
		{ .off = (mmaps_max), .width = 4, .value = DEFAULT_MMAP_MAX,	\
		  .alt = DEFAULT_MMAP_MAX },					\
		F8(tc_bins, TCACHE_MAX_BINS),					\
		F8((tc_bins) + 8, TCACHE_MAX_BYTES),				\
		F8((tc_bins) + 16, TCACHE_FILL_COUNT),				\
	},									\
	.nr_fields = 8,								\
}

/* newest layout first: the order libcfile.c tries them in when the
 * version is unknown */
static const struct libc_data_pattern arena_patterns[] = {
	/* 2.27+: have_fastchunks added; sizeof 2200 */
	{ .size = 2200, .self_ptr = 2160, .first_minor = 27, .last_minor = UINT32_MAX,
	  .fields = { F8(2176, 1) }, .nr_fields = 1 },
	/* 2.26: sizeof 2192 */
	{ .size = 2192, .self_ptr = 2152, .first_minor = 0, .last_minor = 26,
	  .fields = { F8(2168, 1) }, .nr_fields = 1 },
};

/* 2.35+: hugepage fields after arena_max (under HAVE_TUNABLES until 2.38;
 * a 2.35 to 2.37 build without tunables has the old layout, hence the
 * fallback) */
static const struct libc_data_pattern mp_patterns[] = {
	MP_PATTERN(136, 64, 104, 35, UINT32_MAX),
	MP_PATTERN(112, 44, 80, 0, 34),
};

static const struct libc_file_patterns libc_patterns = {
	.arena = arena_patterns,
	.nr_arena = ARRAY_SIZE(arena_patterns),
	.arena_fallback = false,
	.mp = mp_patterns,
	.nr_mp = ARRAY_SIZE(mp_patterns),
	.mp_fallback = true,
	.tcache_bins_value = TCACHE_MAX_BINS,
};

const struct libc_file_patterns *glibc_libc_patterns(void)
{
	return &libc_patterns;
}

#define CU "malloc.c"

static int member(struct dbg_module *m, const char *s, const char *f, uint64_t *ret)
{
	return dbg_member(m, CU, s, f, ret, NULL);
}

int glibc_layout_dwarf(struct dbg_module *m, struct glibc_layout *l)
{
	struct glibc_layout d = *l;
	uint64_t counts_size = 0, entries_size = 0, dummy;

	if (dbg_struct_size(m, CU, "malloc_state", &d.ms_size) ||
	    member(m, "malloc_state", "mutex", &d.ms_mutex) ||
	    member(m, "malloc_state", "flags", &d.ms_flags) ||
	    member(m, "malloc_state", "fastbinsY", &d.ms_fastbins) ||
	    member(m, "malloc_state", "top", &d.ms_top) ||
	    member(m, "malloc_state", "bins", &d.ms_bins) ||
	    member(m, "malloc_state", "next", &d.ms_next) ||
	    member(m, "malloc_state", "system_mem", &d.ms_system_mem))
		return -ENOENT;
	if (dbg_struct_size(m, CU, "malloc_par", &d.mp_size) ||
	    member(m, "malloc_par", "n_mmaps", &d.mp_n_mmaps) ||
	    member(m, "malloc_par", "mmapped_mem", &d.mp_mmapped_mem) ||
	    member(m, "malloc_par", "sbrk_base", &d.mp_sbrk_base))
		return -ENOENT;
	if (member(m, "malloc_par", "hp_pagesize", &d.mp_hp_pagesize))
		d.mp_hp_pagesize = LAYOUT_ABSENT;
	if (member(m, "malloc_par", "thp_pagesize", &d.mp_thp_pagesize))
		d.mp_thp_pagesize = LAYOUT_ABSENT;
	/* Thresholds: optional (the census does not need them). */
	if (member(m, "malloc_par", "trim_threshold", &d.mp_trim_threshold) ||
	    member(m, "malloc_par", "top_pad", &d.mp_top_pad) ||
	    member(m, "malloc_par", "mmap_threshold", &d.mp_mmap_threshold) ||
	    member(m, "malloc_par", "arena_test", &d.mp_arena_test) ||
	    member(m, "malloc_par", "arena_max", &d.mp_arena_max) ||
	    member(m, "malloc_par", "n_mmaps_max", &d.mp_n_mmaps_max) ||
	    member(m, "malloc_par", "no_dyn_threshold", &d.mp_no_dyn_threshold))
		d.mp_trim_threshold = LAYOUT_ABSENT;
	if (dbg_struct_size(m, CU, "_heap_info", &d.hi_sizeof) ||
	    member(m, "_heap_info", "ar_ptr", &d.hi_ar_ptr) ||
	    member(m, "_heap_info", "prev", &d.hi_prev) ||
	    member(m, "_heap_info", "size", &d.hi_size))
		return -ENOENT;
	if (dbg_struct_size(m, CU, "tcache_perthread_struct", &d.tc_sizeof) == 0) {
		if (dbg_member(m, CU, "tcache_perthread_struct", "counts", &d.tc_counts,
			       &counts_size) ||
		    dbg_member(m, CU, "tcache_perthread_struct", "entries", &d.tc_entries,
			       &entries_size) ||
		    member(m, "malloc_par", "tcache_bins", &d.mp_tcache_bins) ||
		    member(m, "malloc_par", "tcache_count", &d.mp_tcache_count))
			return -ENOENT;	/* 2.42's num_slots: not this layout */
		d.has_tcache = true;
		d.tc_bins = entries_size / 8;
		if (!d.tc_bins || counts_size % d.tc_bins)
			return -ENOENT;
		d.tc_count_size = counts_size / d.tc_bins;
		d.tcache_key = dbg_member(m, CU, "tcache_entry", "key", &dummy, NULL) == 0;
	} else {
		d.has_tcache = false;	/* built without tcache (< 2.38 option) */
	}
	d.source = "dwarf";
	*l = d;
	return 0;
}
