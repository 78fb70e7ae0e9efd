/*
 * regions.c - the roots of a memory image for the conservative scan: what
 * to scan, and which root a word belongs to.
 *
 * What is scanned (roots_ranges): every private writable region of the
 * image, minus
 *  - the malloc heaps: the chunks of every arena (contiguous chunks make
 *    one interval per heap) and the mapping of every mmapped chunk. The
 *    header of a non-main heap (heap_info and a non-main arena's
 *    malloc_state) stays in: like main_arena in libc's .data, it holds
 *    only pointers to free chunks, the top chunk and other arenas, and
 *    none of those is a node of the graph. glibc's bins never point at an
 *    in-use chunk, and its free lists live inside free chunks, which are
 *    not scanned;
 *  - the dead part of every thread's stack: below rsp - 128 (the x86-64
 *    ABI's red zone may hold a leaf function's live data). A stack pointer
 *    inside a heap interval (a thread running on a malloc'd stack) trims
 *    nothing: that stack is a chunk and is scanned as one.
 * Shared mappings, read-only memory and pseudo mappings other than [heap],
 * [stack] and [anon:NAME] are not scanned (the snapshot does not copy them); a program that keeps its only pointer to a chunk there
 * gets that chunk reported as leaked. NEEDSWORK: glibc's cache of stacks of
 * exited threads (nptl/nptl-stack.c, up to 40 MiB) is scanned as an
 * anonymous mapping; stale pointers there can hide leaks.
 *
 * Which root a word belongs to (roots_locate), in this order of
 * precedence (the names are root_name()'s):
 *  1. registers: "thread TID register NAME";
 *  2. a thread's TLS window: from the thread pointer (fs_base) down by the
 *     static TLS size (the PT_TLS blocks of every module plus glibc's
 *     surplus, TLS_SURPLUS) and up by the thread descriptor (TCB_WINDOW),
 *     in the model of roots/tls.c. The executable's TLS variables are
 *     named from its symbols, its block placed by tls_exe_offset(). (The
 *     other modules' blocks are known to roots/tls.c when ld.so's DWARF
 *     is there; naming their symbols too would change the outputs:
 *     NEEDSWORK.) The word at fs_base + 8 is the DTV pointer, which points
 *     at dtv[1], 16 bytes into its chunk: bias 16;
 *  3. a thread's live stack: "thread TID stack";
 *  4. a module's writable segments, the file-backed rw mappings of an ELF
 *     file and the anonymous mapping right after one (.bss): the symbol
 *     holding the word, "global NAME (MODULE, SECTION)", else
 *     "MODULE SECTION";
 *  5. anything else: "anonymous mapping START-END" (or the mapping's
 *     pseudo name, "[anon:NAME]"), one root per mapping.
 * Names are only names: the windows of 2. decide what a word is called,
 * never whether it is scanned.
 */
#include "config.h"
#include "roots/roots.h"
#include "roots/roots-internal.h"
#include "debuginfo/module.h"
#include "heap/heap.h"
#include "target/target.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <sys/user.h>

/* ---- registers ---- */

#define REG(r) ((unsigned)(offsetof(struct user_regs_struct, r) / 8))

const unsigned root_registers[] = {
	REG(rax), REG(rbx), REG(rcx), REG(rdx), REG(rsi), REG(rdi), REG(rbp),
	REG(r8), REG(r9), REG(r10), REG(r11), REG(r12), REG(r13), REG(r14), REG(r15),
	REG(rsp), REG(fs_base), REG(gs_base),
};
const size_t nr_root_registers = ARRAY_SIZE(root_registers);

const char *root_register_name(unsigned reg)
{
	static const struct { unsigned reg; const char *name; } names[] = {
		{ REG(rax), "rax" }, { REG(rbx), "rbx" }, { REG(rcx), "rcx" },
		{ REG(rdx), "rdx" }, { REG(rsi), "rsi" }, { REG(rdi), "rdi" },
		{ REG(rbp), "rbp" }, { REG(r8), "r8" }, { REG(r9), "r9" },
		{ REG(r10), "r10" }, { REG(r11), "r11" }, { REG(r12), "r12" },
		{ REG(r13), "r13" }, { REG(r14), "r14" }, { REG(r15), "r15" },
		{ REG(rsp), "rsp" }, { REG(fs_base), "fs_base" },
		{ REG(gs_base), "gs_base" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].reg == reg)
			return names[i].name;
	return "?";
}

/* ---- root ranges ---- */

struct range_list {
	struct root_range *v;
	size_t nr, alloc;
};

static void range_add(struct range_list *l, taddr_t start, taddr_t end)
{
	start = (start + 7) & ~(taddr_t)7;
	end &= ~(taddr_t)7;
	if (start >= end)
		return;
	ALLOC_GROW(l->v, l->nr + 1, l->alloc);
	l->v[l->nr].start = start;
	l->v[l->nr].end = end;
	l->nr++;
}

/* The first heap interval that ends after A (HEAP sorted). */
static size_t heap_from(const struct root_range *heap, size_t nr, taddr_t a)
{
	size_t lo = 0, hi = nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (heap[mid].end <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool in_heap(const struct root_range *heap, size_t nr, taddr_t a)
{
	size_t i = heap_from(heap, nr, a);

	return i < nr && heap[i].start <= a;
}

/*
 * Memory a snapshot copies (target/ptrace.c worth_copying): anonymous,
 * file-backed, [heap], [stack*] and [anon:NAME] mappings. Other pseudo
 * mappings (device memory, anon_inode:..., [uprobes]) are neither copied
 * nor roots.
 */
static bool ordinary(const struct target_region *r)
{
	return !r->path || r->path[0] == '/' || !strcmp(r->path, "[heap]") ||
	       !strncmp(r->path, "[stack", 6) || !strncmp(r->path, "[anon:", 6);
}

/* A few hundred intervals: insertion sort, then merge. */
static void sort_merge(struct root_range *v, size_t *nr)
{
	size_t o = 0;

	for (size_t i = 1; i < *nr; i++) {
		struct root_range x = v[i];
		size_t k = i;

		while (k > 0 && v[k - 1].start > x.start) {
			v[k] = v[k - 1];
			k--;
		}
		v[k] = x;
	}
	for (size_t i = 0; i < *nr; i++) {
		if (o && v[i].start <= v[o - 1].end)
			v[o - 1].end = MAX(v[o - 1].end, v[i].end);
		else
			v[o++] = v[i];
	}
	*nr = o;
}

/*
 * The malloc heaps of W as sorted, non-overlapping intervals: runs of
 * contiguous chunks (one per heap segment) and each mmapped chunk's
 * whole mapping, padding included (heap/heap.h).
 */
static void heap_intervals(struct target *image, const struct heap_walk *w,
			   struct root_range **ret, size_t *ret_nr)
{
	struct root_range *heap = NULL;
	size_t nr = 0, alloc = 0;

	for (size_t i = 0; i < w->nr_chunks; i++) {
		const struct chunk *c = &w->chunks[i];
		taddr_t s = c->addr, e = c->addr + c->size;

		if (c->state == CHUNK_MMAPPED) {
			s = c->addr - chunk_mmap_padding(c, image);
			e = s + c->size;
		} else if (nr && heap[nr - 1].end == s) {
			heap[nr - 1].end = e;
			continue;
		}
		ALLOC_GROW(heap, nr + 1, alloc);
		heap[nr].start = s;
		heap[nr].end = e;
		nr++;
	}
	sort_merge(heap, &nr);
	*ret = heap;
	*ret_nr = nr;
}

/* ---- the image's modules and threads ---- */

struct module {
	char *path;			/* as the target sees it */
	const char *base;		/* its basename, inside path */
	taddr_t load;			/* start of the mapping at file offset 0 */
	struct dbg_module *dbg;		/* NULL when the file cannot be read */
	bool is_exe;
	uint64_t tls_memsz, tls_align;	/* PT_TLS, 0 if none */
};

struct thread_info {
	int tid;
	taddr_t tp;			/* fs_base */
	taddr_t tls_lo, tls_hi;		/* TLS window */
	taddr_t stack_lo, stack_hi;	/* live stack, or 0, 0 */
};

struct roots {
	struct target *image;
	struct module *mods;
	size_t nr_mods;
	struct thread_info *threads;
	size_t nr_threads;
	/* region index -> module index, or -1 (for rw regions) */
	long *region_mod;
};

void roots_ranges(struct roots *rs, const struct heap_walk *walk, struct root_range **ret,
		  size_t *ret_nr)
{
	const struct target *t = rs->image;
	struct range_list l = { 0 };
	struct root_range *heap;
	size_t nr_heap;

	heap_intervals(rs->image, walk, &heap, &nr_heap);
	for (size_t i = 0; t && i < t->nr_regions; i++) {
		const struct target_region *r = &t->regions[i];
		taddr_t start = r->start, a;
		size_t h;

		if (!(r->prot & TARGET_PROT_WRITE) || r->shared || !ordinary(r))
			continue;
		for (size_t k = 0; k < t->nr_threads; k++) {
			taddr_t sp = t->threads[k].regs.rsp;

			if (sp < r->start || sp >= r->end || in_heap(heap, nr_heap, sp))
				continue;
			sp = sp - r->start >= RED_ZONE ? sp - RED_ZONE : r->start;
			start = MAX(start, sp);
		}
		/* [start, r->end) minus the heap intervals */
		a = start;
		for (h = heap_from(heap, nr_heap, a); h < nr_heap && heap[h].start < r->end; h++) {
			if (heap[h].start > a)
				range_add(&l, a, heap[h].start);
			a = MAX(a, heap[h].end);
		}
		if (a < r->end)
			range_add(&l, a, r->end);
	}
	free(heap);
	*ret = l.v;
	*ret_nr = l.nr;
}

static const char *basename_of(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

static long find_module(struct roots *rs, const char *path)
{
	for (size_t i = 0; i < rs->nr_mods; i++)
		if (!strcmp(rs->mods[i].path, path))
			return (long)i;
	return -1;
}

/* Open every file-backed module once, at the start of its offset-0
 * mapping (dbg_module_open takes that as the module's start, for PIE and
 * fixed-address executables alike). */
static void load_modules(struct roots *rs, const struct roots_opts *o)
{
	const struct target *t = rs->image;
	size_t alloc = 0;
	const char *exe = o && o->exe ? o->exe : t->exe;
	struct dbg_opts dopts = { .debug_dir = o ? o->debug_dir : NULL };

	for (size_t i = 0; i < t->nr_regions; i++) {
		const struct target_region *r = &t->regions[i];
		struct module *m;
		char *host;

		if (!r->path || r->path[0] != '/' || r->offset != 0 ||
		    find_module(rs, r->path) >= 0)
			continue;
		ALLOC_GROW(rs->mods, rs->nr_mods + 1, alloc);
		m = &rs->mods[rs->nr_mods++];
		memset(m, 0, sizeof(*m));
		m->path = xstrdup(r->path);
		m->base = basename_of(m->path);
		m->load = r->start;
		m->is_exe = exe && !strcmp(exe, r->path);
		host = o && o->sysroot && *o->sysroot ?
			xasprintf("%s%s", o->sysroot, r->path) : xstrdup(r->path);
		if (dbg_module_open(host, r->start, &dopts, &m->dbg) < 0)
			m->dbg = NULL;
		free(host);
		if (m->dbg && dbg_tls_segment(m->dbg, &m->tls_memsz, &m->tls_align) < 0)
			m->tls_memsz = m->tls_align = 0;
	}
	/* Writable regions of a module: its own rw mappings, and the
	 * anonymous mapping that directly follows one (the rest of .bss). */
	rs->region_mod = xcalloc(t->nr_regions ? t->nr_regions : 1, sizeof(*rs->region_mod));
	for (size_t i = 0; i < t->nr_regions; i++) {
		const struct target_region *r = &t->regions[i];
		long k = -1;

		if (r->path && r->path[0] == '/')
			k = find_module(rs, r->path);
		else if (!r->path && i > 0 && t->regions[i - 1].end == r->start &&
			 t->regions[i - 1].path && t->regions[i - 1].path[0] == '/' &&
			 (t->regions[i - 1].prot & TARGET_PROT_WRITE))
			k = find_module(rs, t->regions[i - 1].path);
		if (k >= 0 && !rs->mods[k].dbg)
			k = -1;
		rs->region_mod[i] = k;
	}
}

/* Each thread's TLS window (the static blocks below the thread pointer,
 * the descriptor above) and live stack. */
static void load_threads(struct roots *rs)
{
	const struct target *t = rs->image;
	uint64_t tls = TLS_SURPLUS;

	for (size_t i = 0; i < rs->nr_mods; i++)
		if (rs->mods[i].tls_memsz)
			tls += tls_block_size(rs->mods[i].tls_memsz, rs->mods[i].tls_align);
	rs->threads = xcalloc(t->nr_threads ? t->nr_threads : 1, sizeof(*rs->threads));
	rs->nr_threads = t->nr_threads;
	for (size_t i = 0; i < t->nr_threads; i++) {
		struct thread_info *ti = &rs->threads[i];
		taddr_t sp = t->threads[i].regs.rsp;
		const struct target_region *r = target_region_of(t, sp);

		ti->tid = t->threads[i].tid;
		ti->tp = t->threads[i].regs.fs_base;
		if (ti->tp) {
			ti->tls_lo = ti->tp > tls ? ti->tp - tls : 0;
			ti->tls_hi = ti->tp + TCB_WINDOW;
		}
		if (r) {
			ti->stack_lo = sp - r->start >= RED_ZONE ? sp - RED_ZONE : r->start;
			ti->stack_hi = r->end;
		}
	}
}

/* ---- locating a word ---- */

/* Clip [*lo, *hi) around A so that it overlaps no TLS window. */
static void clip_windows(const struct roots *rs, taddr_t a, taddr_t *lo, taddr_t *hi)
{
	for (size_t i = 0; i < rs->nr_threads; i++) {
		const struct thread_info *ti = &rs->threads[i];

		if (ti->tls_lo == ti->tls_hi)
			continue;
		if (ti->tls_lo > a && ti->tls_lo < *hi)
			*hi = ti->tls_lo;
		if (ti->tls_hi <= a && ti->tls_hi > *lo)
			*lo = ti->tls_hi;
	}
}

static bool locate_tls(struct roots *rs, taddr_t a, struct root *ret)
{
	for (size_t i = 0; i < rs->nr_threads; i++) {
		const struct thread_info *ti = &rs->threads[i];

		if (a < ti->tls_lo || a >= ti->tls_hi)
			continue;
		ret->kind = ROOT_TLS;
		ret->tid = ti->tid;
		if (a == ti->tp + TLS_DTV_SLOT) {
			/* tcbhead_t.dtv: the DTV pointer (roots-internal.h) */
			ret->name = "dtv";
			ret->start = a;
			ret->end = a + 8;
			ret->bias = TLS_DTV_BIAS;
			return true;
		}
		ret->start = ti->tls_lo;
		ret->end = ti->tls_hi;
		if (a < ti->tp) {
			/* the executable's block sits right below the thread
			 * pointer; below it the other modules' blocks */
			ret->end = ti->tp;
			for (size_t k = 0; k < rs->nr_mods; k++) {
				const struct module *m = &rs->mods[k];
				uint64_t blk, off, in, size;
				const char *sym;

				if (!m->is_exe || !m->tls_memsz)
					continue;
				blk = tls_exe_offset(m->tls_memsz, m->tls_align);
				if (ti->tp < blk)
					break;
				if (a < ti->tp - blk) {
					ret->end = ti->tp - blk;
					break;
				}
				off = a - (ti->tp - blk);
				ret->start = a;
				ret->end = a + 8;
				if (dbg_tls_symbol_at(m->dbg, off, &sym, &in, &size) == 0) {
					ret->what = ROOT_IS_SYMBOL;
					ret->name = sym;
					ret->module = m->base;
					ret->start = a - in;
					ret->end = MIN(ti->tp, a - in + size);
				}
				break;
			}
		} else {
			ret->start = ti->tp;
		}
		return true;
	}
	return false;
}

static bool locate_stack(struct roots *rs, taddr_t a, struct root *ret)
{
	for (size_t i = 0; i < rs->nr_threads; i++) {
		const struct thread_info *ti = &rs->threads[i];

		if (a < ti->stack_lo || a >= ti->stack_hi)
			continue;
		ret->kind = ROOT_STACK;
		ret->tid = ti->tid;
		ret->start = ti->stack_lo;
		ret->end = ti->stack_hi;
		return true;
	}
	return false;
}

/* A word in module M's writable mappings. False when it is in none of
 * M's sections: then it is in the anonymous mapping after .bss but past
 * its end (brk-style growth, ld.so's early allocations), not a global. */
static bool locate_module(struct module *m, const struct target_region *r, taddr_t a,
			  struct root *ret)
{
	const char *sym, *sec = NULL;
	uint64_t off, size;

	if (dbg_section_at(m->dbg, a, &sec) < 0)
		sec = NULL;
	ret->kind = ROOT_GLOBAL;
	ret->module = m->base;
	ret->section = sec;
	if (dbg_symbol_at(m->dbg, a, &sym, &off, &size) == 0) {
		ret->what = ROOT_IS_SYMBOL;
		ret->name = sym;
		/* the symbol's extent, within the region */
		ret->start = MAX(a - off, r->start);
		ret->end = MIN(a - off + size, r->end);
		return true;
	}
	if (!sec && !r->path)
		return false;
	ret->start = a;
	ret->end = a + 8;
	return true;
}

void roots_locate(struct roots *rs, const struct root_word *w, struct root *ret)
{
	const struct target *t = rs->image;
	const struct target_region *r;

	memset(ret, 0, sizeof(*ret));
	ret->what = ROOT_IS_REGION;
	ret->type = ROOT_NO_TYPE;
	if (w->reg >= 0) {
		ret->kind = ROOT_REGISTER;
		ret->what = ROOT_IS_REGISTER;
		ret->tid = w->tid;
		ret->name = root_register_name((unsigned)w->reg);
		return;
	}
	if (locate_tls(rs, w->addr, ret))
		return;
	if (locate_stack(rs, w->addr, ret)) {
		clip_windows(rs, w->addr, &ret->start, &ret->end);
		return;
	}
	r = target_region_of(t, w->addr);
	if (r) {
		long k = rs->region_mod[r - t->regions];

		if (k >= 0 && locate_module(&rs->mods[k], r, w->addr, ret))
			return;
		/* not a global after all */
		ret->what = ROOT_IS_REGION;
		ret->module = NULL;
		ret->section = NULL;
	}
	ret->kind = ROOT_ANON;
	ret->region = r;
	ret->start = r ? r->start : w->addr;
	ret->end = r ? r->end : w->addr + 8;
	clip_windows(rs, w->addr, &ret->start, &ret->end);
	/* a live stack inside the same mapping is another root */
	for (size_t i = 0; i < rs->nr_threads; i++) {
		const struct thread_info *ti = &rs->threads[i];

		if (ti->stack_lo > w->addr && ti->stack_lo < ret->end)
			ret->end = ti->stack_lo;
		if (ti->stack_hi <= w->addr && ti->stack_hi > ret->start)
			ret->start = ti->stack_hi;
	}
}

struct roots *roots_open(struct target *image, const struct roots_opts *opts)
{
	struct roots *rs = xcalloc(1, sizeof(*rs));

	rs->image = image;
	load_modules(rs, opts);
	load_threads(rs);
	return rs;
}

void roots_close(struct roots *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->nr_mods; i++) {
		dbg_module_free(rs->mods[i].dbg);
		free(rs->mods[i].path);
	}
	free(rs->mods);
	free(rs->threads);
	free(rs->region_mod);
	free(rs);
}
