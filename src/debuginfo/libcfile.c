/*
 * libcfile.c - find glibc's allocator state in a libc.so.6 file on disk.
 *
 * main_arena and mp_ are LOCAL symbols of malloc.c and the per-thread
 * `tcache` pointer is a `static __thread` variable: without libc's separate
 * debug file none of them has a name. This file recovers their link-time
 * addresses from the stripped libc alone (doc/glibc-malloc.md §9), the way pwndbg
 * and gef do, with three independent recipes the caller can cross-check:
 *
 *   (a) malloc_trim (malloc.c __malloc_trim, 2.26 to 2.41) starts with
 *       `mstate ar_ptr = &main_arena;` after the __malloc_initialized test,
 *       so its first RIP-relative lea that points into writable data is
 *       &main_arena.
 *
 *   (b) __libc_malloc (2.26 to 2.41) does MAYBE_INIT_TCACHE() and then
 *       `if (tc_idx < mp_.tcache_bins && tcache && ...)`. libc is built
 *       with the initial-exec TLS model, so reading `tcache` is
 *
 *           mov  R1, qword ptr [rip + G]     ; G: GOT slot, TPOFF64 reloc
 *           mov  R2, qword ptr fs:[R1]       ; R2 = tcache
 *           ...
 *           cmp  reg, qword ptr [rip + X]    ; X = &mp_.tcache_bins
 *
 *       The on-disk value at X is mp_'s initialiser TCACHE_MAX_BINS
 *       (the caller's tcache_bins_value), which is checked, so an
 *       unrelated cmp cannot be taken for it. 2.33
 *       loads __malloc_hook first (`mov R1, [rip+G']; mov R2, [R1]`, no fs
 *       segment), which the pattern skips by construction. When the cmp
 *       comes before the TLS load (the order is the compiler's choice; the
 *       2.41+ fast path tests mp_.tcache_bins first) the first cmp with the
 *       value 64 anywhere in malloc is used.
 *
 *   (c) The initialisers in .data (pwndbg's method). malloc.c gives
 *       main_arena and mp_ static initialisers that leave nearly every
 *       byte zero: main_arena holds only its self pointer `next` (a
 *       relative relocation whose target minus offsetof(next) equals its
 *       addend) and attached_threads = 1; mp_ holds its default values.
 *       What those bytes are for each glibc release is the heap layer's
 *       knowledge: it passes them in as patterns (libcfile.h struct
 *       libc_data_pattern, filled by heap/glibc-layout.c), and this file
 *       finds the one place in writable data that matches a pattern.
 *
 *       Relative relocations come either as RELA R_X86_64_RELATIVE entries
 *       (explicit addend) or, since binutils 2.38 with -z pack-relative-relocs
 *       (Debian 2.36 libc), as DT_RELR entries whose addend is the word
 *       stored in the file at the relocated place. Both are decoded.
 *
 * The TLS offset of `tcache` inside libc's TLS block is the value of the
 * R_X86_64_TPOFF64 relocation on the GOT slot G of (b). At run time the
 * slot holds that offset minus libc's static TLS offset, which depends on
 * the executable (doc/glibc-malloc.md §9), so the caller still reads the slot.
 *
 * The glibc version is what gnu_get_libc_version() returns (a single
 * `lea rax, [rip+S]; ret` in csu/version.c), else the "release version"
 * banner in .rodata. It picks the patterns for (c); when it is unknown all
 * patterns are tried.
 *
 * The allocator's code range: the exported entry points are only part of
 * malloc.o (Debian 2.36: entries 0x98930..0x9a336, but _int_free at
 * 0x96120 and the whole object from 0x94700). The range is the entry
 * hull plus every instruction reachable from the entry points by direct
 * call/jmp/jcc and by code-address leas (tunable callbacks), following
 * control flow (recursive descent, not a linear sweep, so padding and
 * data cannot desynchronise it), restricted to the gap between the nearest
 * exported non-allocator functions on either side.
 *
 * Trust: the file is untrusted. It is read into memory once; every offset,
 * size and address taken from it is range-checked against the buffer and
 * the PT_LOAD segments before use; capstone only sees windows of at most a
 * few KiB inside executable segments and every loop has a budget. No
 * st_add()/st_mult() here: they die on overflow, and a hostile file must
 * produce an error, not an exit.
 */
#include "config.h"
#include "debuginfo/libcfile.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <capstone/capstone.h>
#include <gelf.h>
#include <libelf.h>

#include "util/elf-note.h"
#include "util/errors.h"
#include "util/le.h"
#include "util/xalloc.h"

#ifndef SHT_RELR
#define SHT_RELR	19	/* glibc 2.36 elf.h; binutils 2.38 */
#endif

/* A libc.so.6 is 2 MB; anything above this is not one. */
#define LF_MAX_FILE		(256u << 20)
/* libc has 4 PT_LOADs; a sane ELF has a handful. More: reject the file. */
#define LF_MAX_LOADS		32
#define LF_MAX_PHDRS		1024
/* Relocation sections kept (libc: .rela.dyn, .rela.plt, .relr.dyn). */
#define LF_MAX_RELSECS		8
/* Disassembly window of one exported function: st_size, but at most this
 * (malloc_trim is 679 bytes in 2.36), and this much when st_size is 0. */
#define LF_FUNC_WINDOW_MAX	(16u << 10)
#define LF_FUNC_WINDOW_DEFAULT	(2u << 10)
/* Instructions looked at per window. */
#define LF_WINDOW_INSNS		4096
/* (b): the fs load must follow the GOT load within this many insns (2.36:
 * the next one); R1 must not be written in between either. */
#define LF_TLS_PAIR_DIST	16
/* Allocator range: the gap searched below/above the entry hull is at most
 * this wide (malloc.o's statics span 17 KiB below malloc in 2.36), the
 * entry hull itself at most LF_HULL_MAX_SPAN (else no extension), and the
 * descent decodes at most LF_HULL_INSNS instructions (malloc.o is ~8000). */
#define LF_HULL_SLACK		(512u << 10)
#define LF_HULL_MAX_SPAN	(1u << 20)
#define LF_HULL_INSNS		200000


struct lf_seg {
	uint64_t vaddr, memsz, off, filesz;
	uint32_t flags;			/* PF_R | PF_W | PF_X */
};

struct lf_relsec {
	const uint8_t *p;
	size_t n;			/* entries */
};

struct lf {
	const uint8_t *buf;
	size_t size;

	struct lf_seg loads[LF_MAX_LOADS];
	unsigned nloads;

	const uint8_t *dynsym;		/* Elf64_Sym array, unaligned */
	size_t nsyms;
	const char *dynstr;
	size_t dynstr_size;
	const uint8_t *versym;		/* uint16_t per symbol, or NULL */

	struct lf_relsec rela[LF_MAX_RELSECS], relr[LF_MAX_RELSECS];
	unsigned nrela, nrelr;

	csh cs;
	cs_insn *insn;
	bool cs_ok;

	struct libc_file_info *info;
	const struct libc_file_patterns *pat;	/* NULL: skip (a), (c) */
};

/* ---- bounds-checked access to the file image ---- */

static bool range_ok(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

/* The PT_LOAD holding [vaddr, vaddr + len) in memory (FILE_ONLY: in its
 * file-backed part) with at least the flags NEED, or NULL. */
static const struct lf_seg *seg_find(const struct lf *lf, uint64_t vaddr,
				     uint64_t len, uint32_t need,
				     bool file_only)
{
	unsigned i;

	for (i = 0; i < lf->nloads; i++) {
		const struct lf_seg *s = &lf->loads[i];
		uint64_t span = file_only ? s->filesz : s->memsz;

		if ((s->flags & need) != need || vaddr < s->vaddr)
			continue;
		if (range_ok(vaddr - s->vaddr, len, span))
			return s;
	}
	return NULL;
}

/* Host pointer to the LEN file bytes at link-time address VADDR, or NULL. */
static const uint8_t *vptr(const struct lf *lf, uint64_t vaddr, uint64_t len,
			   uint32_t need)
{
	const struct lf_seg *s = seg_find(lf, vaddr, len, need, true);

	return s ? lf->buf + s->off + (vaddr - s->vaddr) : NULL;
}

static bool in_writable(const struct lf *lf, uint64_t vaddr, uint64_t len)
{
	return seg_find(lf, vaddr, len, PF_W, false) != NULL;
}

/* ---- ELF structure ---- */

static int load_segments(struct lf *lf, Elf *elf)
{
	size_t phnum, i;

	if (elf_getphdrnum(elf, &phnum) != 0 || phnum > LF_MAX_PHDRS)
		return -HG_E_BAD_ELF;
	for (i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph))
			return -HG_E_BAD_ELF;
		if (ph.p_type != PT_LOAD && ph.p_type != PT_NOTE &&
		    ph.p_type != PT_DYNAMIC)
			continue;
		/* A segment past EOF: truncated or forged file. */
		if (!range_ok(ph.p_offset, ph.p_filesz, lf->size))
			return -HG_E_BAD_ELF;
		if (ph.p_type != PT_LOAD)
			continue;
		if (ph.p_filesz > ph.p_memsz ||
		    ph.p_vaddr + ph.p_memsz < ph.p_vaddr)
			return -HG_E_BAD_ELF;
		if (lf->nloads == LF_MAX_LOADS)
			return -HG_E_BAD_ELF;
		lf->loads[lf->nloads++] = (struct lf_seg){
			.vaddr = ph.p_vaddr, .memsz = ph.p_memsz,
			.off = ph.p_offset, .filesz = ph.p_filesz,
			.flags = ph.p_flags,
		};
	}
	return lf->nloads ? 0 : -HG_E_BAD_ELF;
}

static bool section_bytes(const struct lf *lf, const GElf_Shdr *sh,
			  size_t entsize, const uint8_t **ret_p,
			  size_t *ret_n)
{
	if (sh->sh_type == SHT_NOBITS || sh->sh_size % entsize)
		return false;
	if (!range_ok(sh->sh_offset, sh->sh_size, lf->size))
		return false;
	*ret_p = lf->buf + sh->sh_offset;
	*ret_n = sh->sh_size / entsize;
	return true;
}

static uint64_t eh_shoff(Elf *elf)
{
	GElf_Ehdr eh;

	return gelf_getehdr(elf, &eh) ? eh.e_shoff : UINT64_MAX;
}

static int load_sections(struct lf *lf, Elf *elf)
{
	size_t shnum, shstrndx;
	Elf_Scn *scn = NULL;
	size_t versym_n = 0;

	if (elf_getshdrnum(elf, &shnum) != 0 ||
	    elf_getshdrstrndx(elf, &shstrndx) != 0)
		return -HG_E_BAD_ELF;
	/* Extended numbering takes the count from section 0: check again. */
	if (shnum && !range_ok(eh_shoff(elf), (uint64_t)shnum *
			       sizeof(Elf64_Shdr), lf->size))
		return -HG_E_BAD_ELF;

	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh, strsh;
		const char *name;
		Elf_Scn *strscn;

		if (!gelf_getshdr(scn, &sh))
			return -HG_E_BAD_ELF;
		/* Every section with contents must lie inside the file: a
		 * section past EOF means a truncated or forged file. */
		if (sh.sh_type != SHT_NOBITS &&
		    !range_ok(sh.sh_offset, sh.sh_size, lf->size))
			return -HG_E_BAD_ELF;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (name && strcmp(name, ".gnu_debuglink") == 0)
			lf->info->has_debuglink = true;

		switch (sh.sh_type) {
		case SHT_DYNSYM:
			if (lf->dynsym || sh.sh_entsize != sizeof(Elf64_Sym) ||
			    !section_bytes(lf, &sh, sizeof(Elf64_Sym),
					   &lf->dynsym, &lf->nsyms))
				break;
			strscn = elf_getscn(elf, sh.sh_link);
			if (!strscn || sh.sh_link >= shnum ||
			    !gelf_getshdr(strscn, &strsh) ||
			    strsh.sh_type != SHT_STRTAB ||
			    !range_ok(strsh.sh_offset, strsh.sh_size,
				      lf->size)) {
				lf->dynsym = NULL;
				lf->nsyms = 0;
				break;
			}
			lf->dynstr = (const char *)lf->buf + strsh.sh_offset;
			lf->dynstr_size = strsh.sh_size;
			break;
		case SHT_GNU_versym:
			if (!section_bytes(lf, &sh, 2, &lf->versym, &versym_n))
				lf->versym = NULL;
			break;
		case SHT_RELA:
			if (sh.sh_entsize == sizeof(Elf64_Rela) &&
			    lf->nrela < LF_MAX_RELSECS &&
			    section_bytes(lf, &sh, sizeof(Elf64_Rela),
					  &lf->rela[lf->nrela].p,
					  &lf->rela[lf->nrela].n))
				lf->nrela++;
			break;
		case SHT_RELR:
			if (sh.sh_entsize == 8 && lf->nrelr < LF_MAX_RELSECS &&
			    section_bytes(lf, &sh, 8, &lf->relr[lf->nrelr].p,
					  &lf->relr[lf->nrelr].n))
				lf->nrelr++;
			break;
		default:
			break;
		}
	}
	/* .gnu.version must have one entry per .dynsym entry to be usable. */
	if (lf->versym && versym_n != lf->nsyms)
		lf->versym = NULL;
	return 0;
}

static void hex_build_id(const uint8_t *desc, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[desc[i] >> 4];
		out[2 * i + 1] = hex[desc[i] & 15];
	}
	out[2 * n] = '\0';
}

/* NT_GNU_BUILD_ID from the PT_NOTE segments (already range-checked). */
static void find_build_id(struct lf *lf, Elf *elf)
{
	size_t phnum, i;

	if (elf_getphdrnum(elf, &phnum) != 0)
		return;
	for (i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		const unsigned char *id;
		size_t n;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_NOTE)
			continue;
		/* gABI: 4-byte padding; .note.gnu.property uses 8. */
		n = elf_notes_build_id(lf->buf + ph.p_offset, ph.p_filesz,
				       ph.p_align == 8 ? 8 : 4, &id);
		if (n) {
			if (n <= 20)
				hex_build_id(id, n, lf->info->build_id);
			return;
		}
	}
}

/* ---- .dynsym ---- */

enum lf_sym {
	/* The allocator entry points (malloc.c), in the order of doc/glibc-malloc.md §10. */
	LS_MALLOC, LS_FREE, LS_CALLOC, LS_REALLOC, LS_MEMALIGN,
	LS_ALIGNED_ALLOC, LS_POSIX_MEMALIGN, LS_VALLOC, LS_PVALLOC,
	LS_MALLOC_TRIM, LS_MALLOPT, LS_MALLINFO, LS_MALLINFO2,
	LS_MALLOC_STATS, LS_MALLOC_INFO, LS_MALLOC_USABLE_SIZE,
	LS__ENTRIES,
	/* Other functions the analysis or the caller needs. */
	LS_SYSCALL = LS__ENTRIES, LS_GNU_GET_LIBC_VERSION,
	LS__COUNT
};

static const char *const lf_sym_names[LS__COUNT] = {
	[LS_MALLOC] = "malloc", [LS_FREE] = "free",
	[LS_CALLOC] = "calloc", [LS_REALLOC] = "realloc",
	[LS_MEMALIGN] = "memalign", [LS_ALIGNED_ALLOC] = "aligned_alloc",
	[LS_POSIX_MEMALIGN] = "posix_memalign", [LS_VALLOC] = "valloc",
	[LS_PVALLOC] = "pvalloc", [LS_MALLOC_TRIM] = "malloc_trim",
	[LS_MALLOPT] = "mallopt", [LS_MALLINFO] = "mallinfo",
	[LS_MALLINFO2] = "mallinfo2", [LS_MALLOC_STATS] = "malloc_stats",
	[LS_MALLOC_INFO] = "malloc_info",
	[LS_MALLOC_USABLE_SIZE] = "malloc_usable_size",
	[LS_SYSCALL] = "syscall",
	[LS_GNU_GET_LIBC_VERSION] = "gnu_get_libc_version",
};

/*
 * Other exported functions defined in malloc.o (or hooks.c, included in
 * it). They must not be taken as the neighbour that bounds the allocator
 * range: __default_morecore (compat, 2.34+) sits between _int_free's
 * neighbours in 2.36. __libc_<entry> aliases are handled by prefix.
 */
static const char *const lf_malloc_extras[] = {
	"cfree", "__default_morecore", "malloc_get_state", "malloc_set_state",
	"__malloc_check_init", "__posix_memalign",
};

struct lf_symval {
	uint64_t value, size;
	int quality;		/* 0 none, 1 hidden version, 2 default */
};

static const char *sym_name(const struct lf *lf, uint32_t st_name)
{
	if (st_name >= lf->dynstr_size)
		return NULL;
	if (!memchr(lf->dynstr + st_name, '\0', lf->dynstr_size - st_name))
		return NULL;
	return lf->dynstr + st_name;
}

static void sym_get(const struct lf *lf, size_t i, Elf64_Sym *ret)
{
	memcpy(ret, lf->dynsym + i * sizeof(*ret), sizeof(*ret));
}

/* A defined function symbol whose start lies in an executable segment;
 * *RET_SIZE is st_size clamped to that segment. */
static bool sym_is_code(const struct lf *lf, const Elf64_Sym *s,
			uint64_t *ret_size)
{
	const struct lf_seg *seg;
	unsigned type = ELF64_ST_TYPE(s->st_info);
	uint64_t room;

	if ((type != STT_FUNC && type != STT_GNU_IFUNC) ||
	    s->st_shndx == SHN_UNDEF)
		return false;
	seg = seg_find(lf, s->st_value, 1, PF_X, true);
	if (!seg)
		return false;
	room = seg->vaddr + seg->filesz - s->st_value;
	*ret_size = MIN(s->st_size, room);
	return true;
}

static int entry_index(const char *name)
{
	int i;

	for (i = 0; i < LS__COUNT; i++)
		if (strcmp(name, lf_sym_names[i]) == 0)
			return i;
	return -1;
}

static bool is_malloc_o_name(const char *name)
{
	size_t i;
	int k;

	if (strncmp(name, "__libc_", 7) == 0) {
		k = entry_index(name + 7);
		if (k >= 0 && k < LS__ENTRIES)
			return true;
	}
	k = entry_index(name);
	if (k >= 0 && k < LS__ENTRIES)
		return true;
	for (i = 0; i < ARRAY_SIZE(lf_malloc_extras); i++)
		if (strcmp(name, lf_malloc_extras[i]) == 0)
			return true;
	return false;
}

/* One pass over .dynsym: the wanted symbols (best version of each) and the
 * hull of the allocator entry points. */
static void scan_dynsym(struct lf *lf, struct lf_symval *syms)
{
	struct libc_file_info *info = lf->info;
	uint64_t lo = UINT64_MAX, hi = 0;
	size_t i;

	for (i = 1; i < lf->nsyms; i++) {
		Elf64_Sym s;
		const char *name;
		uint64_t size;
		int k, q = 2;

		sym_get(lf, i, &s);
		if (!sym_is_code(lf, &s, &size))
			continue;
		name = sym_name(lf, s.st_name);
		if (!name || (k = entry_index(name)) < 0)
			continue;
		if (lf->versym) {
			uint16_t v;

			memcpy(&v, lf->versym + 2 * i, 2);
			if (v & 0x8000)		/* VERSYM_HIDDEN: name@VER */
				q = 1;
		}
		if (q > syms[k].quality)
			syms[k] = (struct lf_symval){ s.st_value, size, q };
		if (k < LS__ENTRIES) {
			lo = MIN(lo, s.st_value);
			hi = MAX(hi, s.st_value + size);
		}
	}
	if (lo < hi) {
		info->entry_lo = info->alloc_lo = lo;
		info->entry_hi = info->alloc_hi = hi;
	}
	info->sym_malloc_trim = syms[LS_MALLOC_TRIM].value;
	info->sym_mallinfo2 = syms[LS_MALLINFO2].value;
	info->sym_mallinfo = syms[LS_MALLINFO].value;
	info->sym_malloc = syms[LS_MALLOC].value;
	info->sym_syscall = syms[LS_SYSCALL].value;
}

/* ---- relocations ---- */

/* Value of the R_X86_64_TPOFF64 relocation at GOT, or -1. */
static int64_t tpoff_at(const struct lf *lf, uint64_t got)
{
	unsigned k;
	size_t i;

	for (k = 0; k < lf->nrela; k++) {
		for (i = 0; i < lf->rela[k].n; i++) {
			Elf64_Rela r;
			uint64_t symval = 0;
			size_t symi;

			memcpy(&r, lf->rela[k].p + i * sizeof(r), sizeof(r));
			if (r.r_offset != got ||
			    ELF64_R_TYPE(r.r_info) != R_X86_64_TPOFF64)
				continue;
			symi = ELF64_R_SYM(r.r_info);
			if (symi) {
				Elf64_Sym s;

				if (symi >= lf->nsyms)
					return -1;
				sym_get(lf, symi, &s);
				symval = s.st_value;
			}
			return (int64_t)(symval + (uint64_t)r.r_addend);
		}
	}
	return -1;
}

typedef bool (*relative_fn)(struct lf *lf, uint64_t where, uint64_t addend,
			    void *ctx);

/*
 * Call FN for every relative relocation: RELA R_X86_64_RELATIVE (explicit
 * addend) and RELR (addend = the word in the file at WHERE; entries not
 * file-backed are skipped). Stops when FN returns false.
 *
 * RELR encoding (gABI proposal, glibc elf/dynamic-link.h): an even entry
 * is an address to relocate, after which `where` is the next word; an odd
 * entry is a bitmap whose bit i (1..63) relocates where + (i - 1) * 8,
 * after which `where` advances by 63 words.
 */
static void for_each_relative(struct lf *lf, relative_fn fn, void *ctx)
{
	unsigned k;
	size_t i;

	for (k = 0; k < lf->nrela; k++) {
		for (i = 0; i < lf->rela[k].n; i++) {
			Elf64_Rela r;

			memcpy(&r, lf->rela[k].p + i * sizeof(r), sizeof(r));
			if (ELF64_R_TYPE(r.r_info) != R_X86_64_RELATIVE)
				continue;
			if (!fn(lf, r.r_offset, (uint64_t)r.r_addend, ctx))
				return;
		}
	}
	for (k = 0; k < lf->nrelr; k++) {
		uint64_t where = 0;
		bool have_base = false;

		for (i = 0; i < lf->relr[k].n; i++) {
			uint64_t e = get_le64(lf->relr[k].p + 8 * i);
			const uint8_t *p;
			unsigned bit;

			if (!(e & 1)) {
				where = e;
				have_base = true;
				p = vptr(lf, where, 8, 0);
				if (p && !fn(lf, where, get_le64(p), ctx))
					return;
				where += 8;
				continue;
			}
			if (!have_base)
				continue;	/* malformed: bitmap first */
			for (bit = 1; bit < 64; bit++) {
				uint64_t w = where + (uint64_t)(bit - 1) * 8;

				if (!((e >> bit) & 1))
					continue;
				p = vptr(lf, w, 8, 0);
				if (p && !fn(lf, w, get_le64(p), ctx))
					return;
			}
			where += 63 * 8;
		}
	}
}

/* ---- capstone helpers ---- */

/* 0..15 for the general-purpose registers in any width, else -1. */
static int gpr_index(unsigned reg)
{
	switch (reg) {
	case X86_REG_RAX: case X86_REG_EAX: case X86_REG_AX:
	case X86_REG_AL: case X86_REG_AH:
		return 0;
	case X86_REG_RCX: case X86_REG_ECX: case X86_REG_CX:
	case X86_REG_CL: case X86_REG_CH:
		return 1;
	case X86_REG_RDX: case X86_REG_EDX: case X86_REG_DX:
	case X86_REG_DL: case X86_REG_DH:
		return 2;
	case X86_REG_RBX: case X86_REG_EBX: case X86_REG_BX:
	case X86_REG_BL: case X86_REG_BH:
		return 3;
	case X86_REG_RSP: case X86_REG_ESP: case X86_REG_SP:
	case X86_REG_SPL:
		return 4;
	case X86_REG_RBP: case X86_REG_EBP: case X86_REG_BP:
	case X86_REG_BPL:
		return 5;
	case X86_REG_RSI: case X86_REG_ESI: case X86_REG_SI:
	case X86_REG_SIL:
		return 6;
	case X86_REG_RDI: case X86_REG_EDI: case X86_REG_DI:
	case X86_REG_DIL:
		return 7;
	case X86_REG_R8: case X86_REG_R8D: case X86_REG_R8W:
	case X86_REG_R8B:
		return 8;
	case X86_REG_R9: case X86_REG_R9D: case X86_REG_R9W:
	case X86_REG_R9B:
		return 9;
	case X86_REG_R10: case X86_REG_R10D: case X86_REG_R10W:
	case X86_REG_R10B:
		return 10;
	case X86_REG_R11: case X86_REG_R11D: case X86_REG_R11W:
	case X86_REG_R11B:
		return 11;
	case X86_REG_R12: case X86_REG_R12D: case X86_REG_R12W:
	case X86_REG_R12B:
		return 12;
	case X86_REG_R13: case X86_REG_R13D: case X86_REG_R13W:
	case X86_REG_R13B:
		return 13;
	case X86_REG_R14: case X86_REG_R14D: case X86_REG_R14W:
	case X86_REG_R14B:
		return 14;
	case X86_REG_R15: case X86_REG_R15D: case X86_REG_R15W:
	case X86_REG_R15B:
		return 15;
	default:
		return -1;
	}
}

static const cs_x86 *x86(const cs_insn *insn)
{
	return &insn->detail->x86;
}

/* A plain `[rip + disp]` operand (no index, no segment); *RET its target. */
static bool rip_operand(const cs_insn *insn, const cs_x86_op *op,
			uint64_t *ret)
{
	if (op->type != X86_OP_MEM || op->mem.base != X86_REG_RIP ||
	    op->mem.index != X86_REG_INVALID ||
	    op->mem.segment != X86_REG_INVALID)
		return false;
	*ret = insn->address + insn->size + (uint64_t)op->mem.disp;
	return true;
}

/* `lea reg, [rip + disp]`: *RET = target. */
static bool is_lea_rip(const cs_insn *insn, uint64_t *ret)
{
	const cs_x86 *d = x86(insn);

	return insn->id == X86_INS_LEA && d->op_count == 2 &&
	       d->operands[0].type == X86_OP_REG &&
	       rip_operand(insn, &d->operands[1], ret);
}

/* A disassembly window: bounded bytes inside one executable segment. */
struct lf_window {
	const uint8_t *code;
	size_t size;
	uint64_t addr;
	unsigned left;			/* instruction budget */
};

static bool window_open(const struct lf *lf, uint64_t start, uint64_t len,
			unsigned insns, struct lf_window *ret)
{
	const struct lf_seg *s;

	if (!lf->cs_ok)
		return false;
	s = seg_find(lf, start, 1, PF_X, true);
	if (!s)
		return false;
	len = MIN(len, s->vaddr + s->filesz - start);
	*ret = (struct lf_window){
		.code = lf->buf + s->off + (start - s->vaddr),
		.size = len, .addr = start, .left = insns,
	};
	return true;
}

/* Decode the next instruction into lf->insn; false at the end of the
 * window, on the budget, or on an undecodable byte. */
static bool window_next(struct lf *lf, struct lf_window *w)
{
	if (!w->left--)
		return false;
	return cs_disasm_iter(lf->cs, &w->code, &w->size, &w->addr, lf->insn);
}

/* The disassembly window of one exported function. */
static bool func_window(const struct lf *lf, const struct lf_symval *sv,
			struct lf_window *ret)
{
	uint64_t len;

	if (!sv->quality)
		return false;
	len = sv->size ? MIN(sv->size, LF_FUNC_WINDOW_MAX)
		       : LF_FUNC_WINDOW_DEFAULT;
	return window_open(lf, sv->value, len, LF_WINDOW_INSNS, ret);
}

/* ---- glibc version ---- */

/*
 * Take the version "D+.D+(.D+)*" at the start of S (at most N bytes, not
 * necessarily NUL-terminated). EXACT: it must be followed by a NUL.
 * Returns false when there is none or it does not fit info->version.
 */
static bool set_version(struct libc_file_info *info, const char *s,
			size_t n, bool exact)
{
	unsigned parts[2] = { 0, 0 };
	unsigned part = 0, digits = 0, end_part = 0;
	size_t i, end = 0;

	for (i = 0; i < n && i < 2 * sizeof(info->version); i++) {
		char c = s[i];

		if (c >= '0' && c <= '9') {
			if (++digits > 5)
				return false;
			if (part < 2)
				parts[part] = parts[part] * 10 +
					      (unsigned)(c - '0');
			end = i + 1;
			end_part = part;
		} else if (c == '.' && digits) {
			part++;
			digits = 0;
		} else {
			break;
		}
	}
	/* "major.minor" at least; a trailing '.' ("2.36.") is not taken. */
	if (!end || end_part < 1 || end >= sizeof(info->version))
		return false;
	if (end < n && s[end] >= '0' && s[end] <= '9')
		return false;
	if (exact && (end >= n || s[end] != '\0'))
		return false;
	memcpy(info->version, s, end);
	info->version[end] = '\0';
	info->ver_major = parts[0];
	info->ver_minor = parts[1];
	return true;
}

/* csu/version.c: gnu_get_libc_version is `return VERSION;`, compiled to
 * `lea rax, [rip + S]; ret` (maybe after endbr64). */
static bool version_from_function(struct lf *lf, const struct lf_symval *sv)
{
	struct lf_window w;
	unsigned n = 0;
	uint64_t str;

	if (!func_window(lf, sv, &w))
		return false;
	w.size = MIN(w.size, 64);
	while (n++ < 4 && window_next(lf, &w)) {
		const struct lf_seg *s;
		const char *p, *end;

		if (!is_lea_rip(lf->insn, &str))
			continue;
		s = seg_find(lf, str, 1, 0, true);
		if (!s)
			return false;
		p = (const char *)lf->buf + s->off + (str - s->vaddr);
		end = (const char *)lf->buf + s->off + s->filesz;
		if (!memchr(p, '\0', MIN((size_t)(end - p),
					 sizeof(lf->info->version))))
			return false;
		return set_version(lf->info, p, (size_t)(end - p), true);
	}
	return false;
}

/* memmem without _GNU_SOURCE. */
static const char *find_bytes(const char *hay, size_t n, const char *needle,
			      size_t k)
{
	const char *end = hay + n;

	while (k && (size_t)(end - hay) >= k) {
		size_t room = (size_t)(end - hay) - k + 1;
		const char *p = memchr(hay, needle[0], room);

		if (!p)
			return NULL;
		if (memcmp(p, needle, k) == 0)
			return p;
		hay = p + 1;
	}
	return NULL;
}

/* csu/version.c banner: "GNU C Library (...) stable release version 2.36."
 * in a read-only, non-executable segment (.rodata). */
static void version_from_banner(struct lf *lf)
{
	static const char key[] = "release version ";
	unsigned i;

	for (i = 0; i < lf->nloads; i++) {
		const struct lf_seg *s = &lf->loads[i];
		const char *p = (const char *)lf->buf + s->off;
		const char *end = p + s->filesz;

		if (s->flags & (PF_X | PF_W))
			continue;
		while (p < end) {
			const char *hit = find_bytes(p, (size_t)(end - p), key,
						     sizeof(key) - 1);

			if (!hit)
				break;
			hit += sizeof(key) - 1;
			if (set_version(lf->info, hit, (size_t)(end - hit),
					false))
				return;
			p = hit;
		}
	}
}

/* ---- (a) main_arena from malloc_trim ---- */

static void recipe_malloc_trim(struct lf *lf, const struct lf_symval *sv)
{
	struct lf_window w;
	uint64_t t, min_size = UINT64_MAX;

	for (size_t i = 0; lf->pat && i < lf->pat->nr_arena; i++)
		min_size = MIN(min_size, (uint64_t)lf->pat->arena[i].size);
	if (min_size == UINT64_MAX || !func_window(lf, sv, &w))
		return;
	while (window_next(lf, &w)) {
		/* 2.36: `lea rax, [rip + main_arena]` at malloc_trim+0x20,
		 * after a cmpb on __malloc_initialized (not a lea). */
		if (is_lea_rip(lf->insn, &t) && in_writable(lf, t, min_size)) {
			lf->info->main_arena_lea = t;
			return;
		}
	}
}

/* ---- (b) tcache GOT slot and mp_.tcache_bins from malloc ---- */

static void recipe_malloc(struct lf *lf, const struct lf_symval *sv)
{
	struct {
		uint64_t got;
		unsigned at;
		bool valid;
	} pend[16] = { 0 };
	struct lf_window w;
	unsigned idx = 0, tls_at = 0;
	uint64_t got = 0, got_noreloc = 0;
	uint64_t cmp_after = 0, cmp_any = 0;

	if (!func_window(lf, sv, &w))
		return;
	for (; window_next(lf, &w); idx++) {
		const cs_insn *in = lf->insn;
		const cs_x86 *d = x86(in);
		cs_regs rd, wr;
		uint8_t nrd, nwr, j;
		uint64_t t;
		int r;

		/* mov R2, qword ptr fs:[R1] with R1 loaded from [rip+G]. */
		if (!got && in->id == X86_INS_MOV && d->op_count == 2 &&
		    d->operands[1].type == X86_OP_MEM &&
		    d->operands[1].mem.segment == X86_REG_FS &&
		    d->operands[1].mem.index == X86_REG_INVALID &&
		    d->operands[1].mem.disp == 0 &&
		    d->operands[1].size == 8 &&
		    (r = gpr_index(d->operands[1].mem.base)) >= 0 &&
		    pend[r].valid && idx - pend[r].at <= LF_TLS_PAIR_DIST) {
			/* Prefer a slot that really carries a TPOFF64
			 * relocation; remember the first pair anyway. */
			if (tpoff_at(lf, pend[r].got) >= 0) {
				got = pend[r].got;
				tls_at = idx;
			} else if (!got_noreloc) {
				got_noreloc = pend[r].got;
				tls_at = idx;
			}
		}

		/* cmp reg, qword ptr [rip+X] (either operand order) whose
		 * initial value is TCACHE_MAX_BINS. */
		if (lf->pat && in->id == X86_INS_CMP && d->op_count == 2) {
			const cs_x86_op *m = NULL;

			if (d->operands[0].type == X86_OP_REG)
				m = &d->operands[1];
			else if (d->operands[1].type == X86_OP_REG)
				m = &d->operands[0];
			if (m && m->size == 8 && rip_operand(in, m, &t)) {
				const uint8_t *p = vptr(lf, t, 8, PF_W);

				if (p && get_le64(p) == lf->pat->tcache_bins_value) {
					if (!cmp_any)
						cmp_any = t;
					if (!cmp_after &&
					    (got || got_noreloc) &&
					    idx > tls_at)
						cmp_after = t;
				}
			}
		}

		/* Track which registers hold a fresh GOT load. */
		if (cs_regs_access(lf->cs, lf->insn, rd, &nrd, wr, &nwr) ==
		    CS_ERR_OK) {
			for (j = 0; j < nwr; j++)
				if ((r = gpr_index(wr[j])) >= 0)
					pend[r].valid = false;
		}
		if (in->id == X86_INS_MOV && d->op_count == 2 &&
		    d->operands[0].type == X86_OP_REG &&
		    d->operands[0].size == 8 &&
		    rip_operand(in, &d->operands[1], &t) &&
		    (r = gpr_index(d->operands[0].reg)) >= 0 &&
		    vptr(lf, t, 8, PF_W)) {
			pend[r].got = t;
			pend[r].at = idx;
			pend[r].valid = true;
		}
		if (got && cmp_after)
			break;
	}
	if (!got)
		got = got_noreloc;
	lf->info->tcache_got = got;
	lf->info->tcache_tls_offset = got ? tpoff_at(lf, got) : -1;
	lf->info->mp_tcache_bins = cmp_after ? cmp_after : cmp_any;
}

/* ---- (c) main_arena and mp_ by their .data initialisers ---- */

/* Does the struct image P (pat->size bytes, at link-time address ADDR)
 * match PAT: zero except its fields and its self pointer? */
static bool pattern_matches(const struct libc_data_pattern *pat, const uint8_t *p,
			    uint64_t addr)
{
	uint32_t i = 0;

	while (i < pat->size) {
		const struct libc_data_field *f = NULL;

		for (unsigned k = 0; k < pat->nr_fields; k++)
			if (pat->fields[k].off == i)
				f = &pat->fields[k];
		if (f) {
			uint64_t v = 0;

			memcpy(&v, p + i, f->width);
			if (v != f->value && v != f->alt)
				return false;
			i += f->width;
			continue;
		}
		if (pat->self_ptr != LIBC_NO_SELF_PTR && i == pat->self_ptr) {
			/* the addend in place (RELR, and ld.bfd for RELA) or 0 */
			if (get_le64(p + i) != addr && get_le64(p + i) != 0)
				return false;
			i += 8;
			continue;
		}
		if (p[i])
			return false;
		i++;
	}
	return true;
}

static bool pattern_ok(const struct libc_data_pattern *pat)
{
	if (!pat->size || pat->nr_fields > LIBC_PATTERN_MAX_FIELDS ||
	    (pat->self_ptr != LIBC_NO_SELF_PTR &&
	     (pat->self_ptr > pat->size || pat->size - pat->self_ptr < 8)))
		return false;
	for (unsigned k = 0; k < pat->nr_fields; k++)
		if ((pat->fields[k].width != 4 && pat->fields[k].width != 8) ||
		    pat->fields[k].off > pat->size ||
		    pat->size - pat->fields[k].off < pat->fields[k].width)
			return false;
	return true;
}

struct pattern_search {
	const struct libc_data_pattern *pat;
	uint64_t found;
	bool ambiguous;
};

/* A struct with a self pointer: every relative relocation whose place is
 * its addend plus self_ptr is a candidate. */
static bool self_candidate(struct lf *lf, uint64_t where, uint64_t addend, void *ctx)
{
	struct pattern_search *ps = ctx;
	const uint8_t *p;

	if (where < addend || where - addend != ps->pat->self_ptr)
		return true;
	p = vptr(lf, addend, ps->pat->size, PF_W);
	if (!p || !pattern_matches(ps->pat, p, addend))
		return true;
	if (ps->found && ps->found != addend) {
		ps->ambiguous = true;
		return false;
	}
	ps->found = addend;
	return true;
}

/* Every 8-aligned place of the writable segments' file bytes. */
static void scan_candidates(struct lf *lf, struct pattern_search *ps)
{
	for (unsigned i = 0; i < lf->nloads && !ps->ambiguous; i++) {
		const struct lf_seg *s = &lf->loads[i];
		uint64_t a = (s->vaddr + 7) & ~(uint64_t)7;

		if (!(s->flags & PF_W))
			continue;
		for (; a - s->vaddr < s->filesz &&
		       s->filesz - (a - s->vaddr) >= ps->pat->size; a += 8) {
			const uint8_t *p = lf->buf + s->off + (a - s->vaddr);

			if (!pattern_matches(ps->pat, p, a))
				continue;
			if (ps->found) {
				ps->ambiguous = true;
				return;
			}
			ps->found = a;
		}
	}
}

/* The one place PAT matches, or 0 when none or several do. */
static uint64_t search_pattern(struct lf *lf, const struct libc_data_pattern *pat)
{
	struct pattern_search ps = { .pat = pat };

	if (!pattern_ok(pat))
		return 0;
	if (pat->self_ptr != LIBC_NO_SELF_PTR)
		for_each_relative(lf, self_candidate, &ps);
	else
		scan_candidates(lf, &ps);
	return ps.ambiguous ? 0 : ps.found;
}

static bool pattern_for_version(const struct libc_file_info *info,
				const struct libc_data_pattern *pat)
{
	unsigned minor = info->ver_major > 2 ? UINT32_MAX : info->ver_minor;

	return minor >= pat->first_minor && minor <= pat->last_minor;
}

/*
 * Try PATS (N of them): those for the file's version first, then, with
 * FALLBACK or an unknown version, the others; the first that matches one
 * place gives *RET_ADDR and *RET_SIZE.
 */
static void search_patterns(struct lf *lf, const struct libc_data_pattern *pats, size_t n,
			    bool fallback, uint64_t *ret_addr, unsigned *ret_size)
{
	bool known = lf->info->version[0] != '\0';

	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n; i++) {
			uint64_t a;

			if (known && pattern_for_version(lf->info, &pats[i]) != (pass == 0))
				continue;
			if (!known && pass == 1)
				return;
			a = search_pattern(lf, &pats[i]);
			if (a) {
				*ret_addr = a;
				*ret_size = pats[i].size;
				return;
			}
		}
		if (known && !fallback)
			return;
	}
}

static void recipe_data(struct lf *lf)
{
	const struct libc_file_patterns *pat = lf->pat;

	if (!pat)
		return;
	search_patterns(lf, pat->arena, pat->nr_arena, pat->arena_fallback,
			&lf->info->main_arena_data, &lf->info->arena_size);
	search_patterns(lf, pat->mp, pat->nr_mp, pat->mp_fallback, &lf->info->mp_data,
			&lf->info->mp_size);
}

/* ---- allocator code range ---- */

struct hull {
	uint64_t g_lo, g_hi;		/* the gap searched */
	uint8_t *seen;			/* one bit per byte of the gap */
	uint64_t *work;
	size_t nwork, awork;
	unsigned budget;
	uint64_t lo, hi;
};

static void hull_push(struct hull *h, uint64_t a)
{
	if (a < h->g_lo || a >= h->g_hi)
		return;
	if (h->seen[(a - h->g_lo) >> 3] & (1u << ((a - h->g_lo) & 7)))
		return;
	if (h->nwork >= LF_HULL_INSNS)
		return;
	ALLOC_GROW(h->work, h->nwork + 1, h->awork);
	h->work[h->nwork++] = a;
}

/* Decode from A along the fall-through path, queueing branch targets. */
static void hull_descend(struct lf *lf, struct hull *h, uint64_t a)
{
	struct lf_window w;

	if (!window_open(lf, a, h->g_hi - a, h->budget, &w))
		return;
	while (h->budget && window_next(lf, &w)) {
		const cs_insn *in = lf->insn;
		const cs_x86 *d = x86(in);
		uint64_t off = in->address - h->g_lo, t;
		uint8_t bit = (uint8_t)(1u << (off & 7));

		h->budget--;
		if (h->seen[off >> 3] & bit)
			return;
		h->seen[off >> 3] |= bit;
		h->lo = MIN(h->lo, in->address);
		h->hi = MAX(h->hi, in->address + in->size);

		if ((cs_insn_group(lf->cs, in, X86_GRP_JUMP) ||
		     cs_insn_group(lf->cs, in, X86_GRP_CALL)) &&
		    d->op_count == 1 && d->operands[0].type == X86_OP_IMM)
			hull_push(h, (uint64_t)d->operands[0].imm);
		/* Code addresses taken by lea: the tunable callbacks
		 * (_dl_tunable_set_*) that ptmalloc_init registers. */
		if (is_lea_rip(in, &t) && seg_find(lf, t, 1, PF_X, true))
			hull_push(h, t);

		if (cs_insn_group(lf->cs, in, X86_GRP_RET) ||
		    in->id == X86_INS_JMP || in->id == X86_INS_LJMP ||
		    in->id == X86_INS_UD2 || in->id == X86_INS_HLT ||
		    in->id == X86_INS_INT3)
			return;
	}
}

static void alloc_range(struct lf *lf, const struct lf_symval *syms)
{
	struct libc_file_info *info = lf->info;
	const struct lf_seg *seg;
	struct hull h = { 0 };
	uint64_t lowcap, highcap;
	size_t i;
	int k;

	if (info->entry_lo >= info->entry_hi ||
	    info->entry_hi - info->entry_lo > LF_HULL_MAX_SPAN)
		return;
	seg = seg_find(lf, info->entry_lo, info->entry_hi - info->entry_lo,
		       PF_X, true);
	if (!seg)
		return;

	/* The gap: bounded by the nearest exported functions that are not
	 * the allocator's, by the slack, and by the segment. */
	lowcap = seg->vaddr;
	if (info->entry_lo - lowcap > LF_HULL_SLACK)
		lowcap = info->entry_lo - LF_HULL_SLACK;
	highcap = seg->vaddr + seg->filesz;
	if (highcap - info->entry_hi > LF_HULL_SLACK)
		highcap = info->entry_hi + LF_HULL_SLACK;
	for (i = 1; i < lf->nsyms; i++) {
		Elf64_Sym s;
		const char *name;
		uint64_t size;

		sym_get(lf, i, &s);
		if (!sym_is_code(lf, &s, &size))
			continue;
		name = sym_name(lf, s.st_name);
		if (!name || is_malloc_o_name(name))
			continue;
		if (s.st_value >= info->entry_lo &&
		    s.st_value < info->entry_hi)
			continue;
		if (s.st_value < info->entry_lo)
			lowcap = MAX(lowcap, MIN(s.st_value + size,
						 info->entry_lo));
		else
			highcap = MIN(highcap, s.st_value);
	}

	h.g_lo = lowcap;
	h.g_hi = highcap;
	h.lo = info->entry_lo;
	h.hi = info->entry_hi;
	h.budget = LF_HULL_INSNS;
	h.seen = xcalloc((size_t)((h.g_hi - h.g_lo + 7) / 8), 1);
	for (k = 0; k < LS__ENTRIES; k++)
		if (syms[k].quality)
			hull_push(&h, syms[k].value);
	while (h.nwork && h.budget)
		hull_descend(lf, &h, h.work[--h.nwork]);
	info->alloc_lo = h.lo;
	info->alloc_hi = h.hi;
	free(h.seen);
	free(h.work);
}

/* ---- entry points ---- */

static int analyze(struct lf *lf)
{
	struct lf_symval syms[LS__COUNT];
	const unsigned char *id = lf->buf;
	Elf *elf;
	GElf_Ehdr eh;
	int err;

	memset(syms, 0, sizeof(syms));
	if (lf->size < EI_NIDENT || memcmp(id, ELFMAG, SELFMAG) != 0)
		return -HG_E_BAD_ELF;
	if (id[EI_CLASS] != ELFCLASS64 || id[EI_DATA] != ELFDATA2LSB)
		return id[EI_CLASS] == ELFCLASS32 ||
		       id[EI_DATA] == ELFDATA2MSB ? -HG_E_UNSUPPORTED
						  : -HG_E_BAD_ELF;
	if (lf->size < sizeof(Elf64_Ehdr))
		return -HG_E_BAD_ELF;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -HG_E_UNSUPPORTED;
	/* Native ELF64 is read in place; libelf does not write it. */
	elf = elf_memory((char *)(uintptr_t)lf->buf, lf->size);
	if (!elf)
		return -HG_E_BAD_ELF;
	err = -HG_E_BAD_ELF;
	if (elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh))
		goto out;
	if (eh.e_machine != EM_X86_64 ||
	    (eh.e_type != ET_DYN && eh.e_type != ET_EXEC)) {
		err = -HG_E_UNSUPPORTED;
		goto out;
	}
	if (eh.e_phentsize != sizeof(Elf64_Phdr) ||
	    !range_ok(eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr),
		      lf->size))
		goto out;
	if (eh.e_shoff &&
	    (eh.e_shentsize != sizeof(Elf64_Shdr) ||
	     !range_ok(eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr),
		       lf->size)))
		goto out;
	err = load_segments(lf, elf);
	if (err)
		goto out;
	err = load_sections(lf, elf);
	if (err)
		goto out;

	find_build_id(lf, elf);
	scan_dynsym(lf, syms);

	lf->cs_ok = cs_open(CS_ARCH_X86, CS_MODE_64, &lf->cs) == CS_ERR_OK;
	if (lf->cs_ok) {
		(void)cs_option(lf->cs, CS_OPT_DETAIL, CS_OPT_ON);
		lf->insn = cs_malloc(lf->cs);
		if (!lf->insn) {
			cs_close(&lf->cs);
			lf->cs_ok = false;
		}
	}

	if (!version_from_function(lf, &syms[LS_GNU_GET_LIBC_VERSION]))
		version_from_banner(lf);
	recipe_malloc_trim(lf, &syms[LS_MALLOC_TRIM]);
	recipe_malloc(lf, &syms[LS_MALLOC]);
	recipe_data(lf);
	alloc_range(lf, syms);

	if (lf->cs_ok) {
		cs_free(lf->insn, 1);
		cs_close(&lf->cs);
	}
	err = 0;
out:
	elf_end(elf);
	return err;
}

int libc_file_analyze_mem(const void *buf, size_t size,
			  const struct libc_file_patterns *patterns, struct libc_file_info *ret)
{
	struct libc_file_info info;
	struct lf lf;
	int err;

	memset(&info, 0, sizeof(info));
	info.tcache_tls_offset = -1;
	memset(&lf, 0, sizeof(lf));
	lf.buf = buf;
	lf.size = size;
	lf.info = &info;
	lf.pat = patterns;
	if (!buf && size)
		return -EINVAL;
	if (size > LF_MAX_FILE)
		return -EFBIG;
	err = analyze(&lf);
	if (err)
		return err;
	*ret = info;
	return 0;
}

static int read_all(int fd, uint8_t **ret_buf, size_t *ret_size)
{
	struct stat st;
	uint8_t *buf;
	size_t size, got = 0;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -HG_E_BAD_ELF;
	if (st.st_size < 0 || (uint64_t)st.st_size > LF_MAX_FILE)
		return -EFBIG;
	size = (size_t)st.st_size;
	/* 8-aligned, never 0 bytes, so the image can be read in place. */
	buf = xmalloc(size ? size : 1);
	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = -errno;

			free(buf);
			return err;
		}
		if (n == 0)
			break;		/* shrank under us: use what is there */
		got += (size_t)n;
	}
	*ret_buf = buf;
	*ret_size = got;
	return 0;
}

int libc_file_analyze(const char *path, const struct libc_file_patterns *patterns,
		      struct libc_file_info *ret)
{
	uint8_t *buf = NULL;
	size_t size = 0;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = read_all(fd, &buf, &size);
	close(fd);
	if (err)
		return err;
	err = libc_file_analyze_mem(buf, size, patterns, ret);
	free(buf);
	return err;
}
