/*
 * libcfile.h - what can be learnt from a glibc libc.so.6 file on disk,
 * without a process and without debug info.
 *
 * libc_file_analyze() reads one x86_64 libc.so.6 (ELF64, ET_DYN) and
 * returns link-time addresses: libc is position independent, so a
 * link-time address is an offset from the load base, and the caller adds
 * the load bias of the mapping (for libc the bias is the start of its first
 * PT_LOAD mapping). An ET_EXEC file (a static binary's own malloc) is
 * accepted too; its addresses are then absolute. Nothing here touches a
 * process.
 *
 * What it finds (doc/glibc-malloc.md §9; all three recipes run and the
 * caller cross-checks them):
 *
 *   (a) main_arena from the first RIP-relative lea in malloc_trim;
 *   (b) the GOT slot holding the TPOFF of the TLS variable `tcache`, and
 *       &mp_.tcache_bins, from exported malloc's code;
 *   (c) main_arena and mp_ from their initialisers in the on-disk .data,
 *       found by pattern (pwndbg's method), using the RELA and RELR
 *       relative relocations for main_arena's self pointer.
 *
 * What malloc_state and malloc_par look like (their sizes, where their
 * fields are, their initial values) is not known here: the heap layer
 * describes them in a struct libc_file_patterns (heap/glibc-layout.c).
 * Without one, (a), (c) and the mp_ half of (b) are skipped.
 *
 * Plus the glibc version, the build-id, a few exported symbols and the code
 * range of the allocator (for the "is a thread inside malloc" test of
 * doc/glibc-malloc.md §10).
 *
 * The file is untrusted input: every offset is bounds-checked, capstone only
 * ever sees bounded windows inside executable PT_LOAD segments, and a
 * malformed file gives an error or empty fields, never a crash. Nothing is
 * printed.
 */
#ifndef HEAPGRAB_DEBUGINFO_LIBCFILE_H
#define HEAPGRAB_DEBUGINFO_LIBCFILE_H

#include "util/compiler.h"

struct libc_file_info {
	char build_id[41];	/* lower-case hex of NT_GNU_BUILD_ID, "" if
				 * none or longer than 20 bytes */
	char version[16];	/* "2.36": the string gnu_get_libc_version
				 * returns, else the .rodata banner; "" */
	unsigned ver_major, ver_minor;	/* 0 when version is "" */

	/*
	 * Code range of the allocator, [alloc_lo, alloc_hi). entry_lo/hi is
	 * the hull of the exported entry points from .dynsym (malloc free
	 * calloc realloc memalign aligned_alloc posix_memalign valloc pvalloc
	 * malloc_trim mallopt mallinfo mallinfo2 malloc_stats malloc_info
	 * malloc_usable_size). That hull is NOT all of malloc.o: on Debian
	 * 2.36 the static functions (_int_malloc, _int_free, sysmalloc, ...)
	 * lie below the first entry point. alloc_lo/hi therefore extends it
	 * with the code reachable from the entry points by direct calls,
	 * jumps and code-address leas, restricted to the gap between the
	 * neighbouring exported non-allocator functions. Both 0 when no entry
	 * point was found; alloc == entry when the extension was impossible.
	 */
	uint64_t alloc_lo, alloc_hi;
	uint64_t entry_lo, entry_hi;

	/* Symbol values (default version) of exported functions, 0 if absent
	 * or not inside an executable segment. */
	uint64_t sym_malloc_trim, sym_mallinfo2, sym_mallinfo, sym_malloc,
		 sym_syscall;

	/* (a) &main_arena: first RIP-relative lea in malloc_trim whose
	 * target lies in a writable segment (as large as the smallest arena
	 * pattern); 0 if not found. */
	uint64_t main_arena_lea;
	/* (c) &main_arena from its .data initialiser; 0 if not found or
	 * ambiguous. arena_size is the size of the arena pattern that
	 * matched. */
	uint64_t main_arena_data;
	unsigned arena_size;

	/* (b) in malloc: G of the first `mov R1, [rip+G]` that is followed
	 * by `mov R2, fs:[R1]` (the GOT slot holding tcache's TPOFF), and X
	 * of the next `cmp reg, qword [rip+X]` whose on-disk value is
	 * patterns->tcache_bins_value (&mp_.tcache_bins; the caller knows
	 * where that field is in mp_). */
	uint64_t tcache_got;
	uint64_t mp_tcache_bins;
	/* Offset of `tcache` in libc's TLS block: the value of the
	 * R_X86_64_TPOFF64 relocation at tcache_got, or -1. The per-thread
	 * address still needs the GOT slot's run-time value (doc/glibc-malloc.md §9). */
	int64_t tcache_tls_offset;

	/* (c) &mp_ from its default values in .data; 0 if not found or
	 * ambiguous. mp_size is the size of the mp_ pattern that matched, 0. */
	uint64_t mp_data;
	unsigned mp_size;

	bool has_debuglink;	/* a .gnu_debuglink section is present */
};

/*
 * A struct's static initialiser as recipe (c) looks for it in writable
 * data: SIZE bytes, all zero except FIELDS (each equal to VALUE or ALT)
 * and, when SELF_PTR is not LIBC_NO_SELF_PTR, a pointer at that offset to
 * the struct itself (a relative relocation; in the file the addend or 0).
 * The pattern is for glibc 2.FIRST_MINOR to 2.LAST_MINOR.
 */
#define LIBC_PATTERN_MAX_FIELDS	12
#define LIBC_NO_SELF_PTR	UINT32_MAX

struct libc_data_pattern {
	uint32_t size;
	uint32_t self_ptr;
	unsigned first_minor, last_minor;
	struct libc_data_field {
		uint32_t off, width;	/* width: 4 or 8 */
		uint64_t value, alt;	/* alt == value: one value accepted */
	} fields[LIBC_PATTERN_MAX_FIELDS];
	unsigned nr_fields;
};

/*
 * What the caller knows about glibc's allocator state, for recipes (a),
 * (b) and (c). Patterns are tried in this order: those whose releases
 * contain the file's version, then (with FALLBACK, or when the version is
 * unknown) the others, in list order; the first that matches exactly one
 * place wins.
 */
struct libc_file_patterns {
	const struct libc_data_pattern *arena;	/* struct malloc_state main_arena */
	size_t nr_arena;
	bool arena_fallback;
	const struct libc_data_pattern *mp;	/* struct malloc_par mp_ */
	size_t nr_mp;
	bool mp_fallback;
	uint64_t tcache_bins_value;		/* (b): mp_.tcache_bins on disk */
};

/*
 * Analyse the libc file at PATH. Returns 0 and fills *RET (fields that
 * were not found are 0, tcache_tls_offset -1), or a negative error:
 *   -errno                 cannot open or read PATH (-EISDIR for a
 *                          directory, -EFBIG above 256 MiB);
 *   -HG_E_BAD_ELF          not an ELF file, or truncated or malformed
 *                          (headers, sections or segments past EOF);
 *   -HG_E_UNSUPPORTED      a valid ELF, but not x86_64 ELF64.
 * *RET is written only on success. Never prints; thread-safe (no state).
 */
MUST_CHECK int libc_file_analyze(const char *path, const struct libc_file_patterns *patterns,
				 struct libc_file_info *ret);

/*
 * The same on SIZE bytes at BUF (for fuzzers and for callers that already
 * hold the file). BUF is read, never written, and not kept. PATTERNS may
 * be NULL (see the top), or are borrowed for the call.
 */
MUST_CHECK int libc_file_analyze_mem(const void *buf, size_t size,
				     const struct libc_file_patterns *patterns,
				     struct libc_file_info *ret);

#endif /* HEAPGRAB_DEBUGINFO_LIBCFILE_H */
