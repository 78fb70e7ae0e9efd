/*
 * roots.c - the root ranges of a snapshot's image, and the default namer.
 *
 * What is scanned (root_ranges): every private writable region of the
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
 * How words are named (the default namer), in this order of precedence:
 *  1. registers: "thread TID register NAME";
 *  2. a thread's TLS window: from the thread pointer (fs_base) down by the
 *     static TLS size (the PT_TLS blocks of every module plus glibc's
 *     surplus, elf/dl-tls.c, at most TLS_SURPLUS) and up by the thread
 *     descriptor (struct pthread: 2368 bytes in glibc 2.36, TCB_WINDOW).
 *     The executable's TLS variables are named from its symbols: glibc
 *     x86-64 puts the executable's block first below the thread pointer at
 *     roundup(p_memsz, p_align) (elf/dl-tls.c _dl_determine_tlsoffset,
 *     TLS_TCB_AT_TP, module id 1). The word at fs_base + 8 is the DTV
 *     pointer, which points at dtv[1], 16 bytes into its chunk
 *     (sysdeps/x86_64/nptl/tls.h INSTALL_DTV): bias 16;
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
#include "analysis/roots.h"
#include "debuginfo/module.h"
#include "heap/heap.h"
#include "snapshot/snapshot.h"
#include "target/target.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/user.h>

#define RED_ZONE 128		/* x86-64 SysV ABI */
#define TCB_WINDOW 2560		/* >= sizeof(struct pthread), 2368 in 2.36 */
#define TLS_SURPLUS 2048	/* >= glibc's static TLS surplus (1664..1760) */

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

void root_ranges(const struct snapshot *s, const struct root_range *heap, size_t nr_heap,
		 struct root_range **ret, size_t *ret_nr)
{
	const struct target *t = s->image;
	struct range_list l = { 0 };

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
	*ret = l.v;
	*ret_nr = l.nr;
}

/* ---- the default namer ---- */

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

struct default_namer {
	struct root_namer nm;
	const struct snapshot *snap;
	struct module *mods;
	size_t nr_mods;
	struct thread_info *threads;
	size_t nr_threads;
	/* region index -> module index, or -1 (for rw regions) */
	long *region_mod;
};

static struct default_namer *DN(struct root_namer *nm)
{
	return (struct default_namer *)nm;
}

static const char *basename_of(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

static long find_module(struct default_namer *d, const char *path)
{
	for (size_t i = 0; i < d->nr_mods; i++)
		if (!strcmp(d->mods[i].path, path))
			return (long)i;
	return -1;
}

/* Open every file-backed module once, at the start of its offset-0
 * mapping (dbg_module_open takes that as the module's start, for PIE and
 * fixed-address executables alike). */
static void load_modules(struct default_namer *d, const struct root_namer_opts *o)
{
	const struct target *t = d->snap->image;
	size_t alloc = 0;
	const char *exe = d->snap->meta.exe ? d->snap->meta.exe : t->exe;
	struct dbg_opts dopts = { .debug_dir = o ? o->debug_dir : NULL };

	for (size_t i = 0; i < t->nr_regions; i++) {
		const struct target_region *r = &t->regions[i];
		struct module *m;
		char *host;

		if (!r->path || r->path[0] != '/' || r->offset != 0 ||
		    find_module(d, r->path) >= 0)
			continue;
		ALLOC_GROW(d->mods, d->nr_mods + 1, alloc);
		m = &d->mods[d->nr_mods++];
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
	d->region_mod = xcalloc(t->nr_regions ? t->nr_regions : 1, sizeof(*d->region_mod));
	for (size_t i = 0; i < t->nr_regions; i++) {
		const struct target_region *r = &t->regions[i];
		long k = -1;

		if (r->path && r->path[0] == '/')
			k = find_module(d, r->path);
		else if (!r->path && i > 0 && t->regions[i - 1].end == r->start &&
			 t->regions[i - 1].path && t->regions[i - 1].path[0] == '/' &&
			 (t->regions[i - 1].prot & TARGET_PROT_WRITE))
			k = find_module(d, t->regions[i - 1].path);
		if (k >= 0 && !d->mods[k].dbg)
			k = -1;
		d->region_mod[i] = k;
	}
}

static void load_threads(struct default_namer *d)
{
	const struct target *t = d->snap->image;
	uint64_t tls = TLS_SURPLUS;

	for (size_t i = 0; i < d->nr_mods; i++)
		if (d->mods[i].tls_memsz)
			tls += (d->mods[i].tls_memsz + d->mods[i].tls_align - 1) &
			       ~(d->mods[i].tls_align - 1);
	d->threads = xcalloc(t->nr_threads ? t->nr_threads : 1, sizeof(*d->threads));
	d->nr_threads = t->nr_threads;
	for (size_t i = 0; i < t->nr_threads; i++) {
		struct thread_info *ti = &d->threads[i];
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

/* Clip [*lo, *hi) around A so that it overlaps no TLS window. */
static void clip_windows(const struct default_namer *d, taddr_t a, taddr_t *lo, taddr_t *hi)
{
	for (size_t i = 0; i < d->nr_threads; i++) {
		const struct thread_info *ti = &d->threads[i];

		if (ti->tls_lo == ti->tls_hi)
			continue;
		if (ti->tls_lo > a && ti->tls_lo < *hi)
			*hi = ti->tls_lo;
		if (ti->tls_hi <= a && ti->tls_hi > *lo)
			*lo = ti->tls_hi;
	}
}

static bool name_tls(struct default_namer *d, taddr_t a, struct root_name *ret)
{
	for (size_t i = 0; i < d->nr_threads; i++) {
		const struct thread_info *ti = &d->threads[i];

		if (a < ti->tls_lo || a >= ti->tls_hi)
			continue;
		ret->kind = ROOT_TLS;
		ret->tid = ti->tid;
		strbuf_addf(ret->name, "thread %d TLS", ti->tid);
		if (a == ti->tp + 8) {
			/* tcbhead_t.dtv: the DTV pointer (see the top) */
			strbuf_addstr(ret->name, " (dtv)");
			ret->lo = a;
			ret->hi = a + 8;
			ret->bias = 16;
			return true;
		}
		ret->lo = ti->tls_lo;
		ret->hi = ti->tls_hi;
		if (a < ti->tp) {
			/* the executable's block sits right below the thread
			 * pointer; below it the other modules' blocks */
			ret->hi = ti->tp;
			for (size_t k = 0; k < d->nr_mods; k++) {
				const struct module *m = &d->mods[k];
				uint64_t blk, off, in, size;
				const char *sym;

				if (!m->is_exe || !m->tls_memsz)
					continue;
				blk = (m->tls_memsz + m->tls_align - 1) & ~(m->tls_align - 1);
				if (ti->tp < blk)
					break;
				if (a < ti->tp - blk) {
					ret->hi = ti->tp - blk;
					break;
				}
				off = a - (ti->tp - blk);
				ret->lo = a;
				ret->hi = a + 8;
				if (dbg_tls_symbol_at(m->dbg, off, &sym, &in, &size) == 0) {
					strbuf_addf(ret->name, " %s (%s)", sym, m->base);
					ret->lo = a - in;
					ret->hi = MIN(ti->tp, a - in + size);
				}
				break;
			}
		} else {
			ret->lo = ti->tp;
		}
		return true;
	}
	return false;
}

static bool name_stack(struct default_namer *d, taddr_t a, struct root_name *ret)
{
	for (size_t i = 0; i < d->nr_threads; i++) {
		const struct thread_info *ti = &d->threads[i];

		if (a < ti->stack_lo || a >= ti->stack_hi)
			continue;
		ret->kind = ROOT_STACK;
		ret->tid = ti->tid;
		strbuf_addf(ret->name, "thread %d stack", ti->tid);
		ret->lo = ti->stack_lo;
		ret->hi = ti->stack_hi;
		return true;
	}
	return false;
}

/* A word in module M's writable mappings. False when it is in none of
 * M's sections: then it is in the anonymous mapping after .bss but past
 * its end (brk-style growth, ld.so's early allocations), not a global. */
static bool name_module(struct module *m, const struct target_region *r, taddr_t a,
			struct root_name *ret)
{
	const char *sym, *sec = NULL;
	uint64_t off, size;

	if (dbg_section_at(m->dbg, a, &sec) < 0)
		sec = NULL;
	if (dbg_symbol_at(m->dbg, a, &sym, &off, &size) == 0) {
		ret->kind = ROOT_GLOBAL;
		strbuf_addf(ret->name, "global %s (%s, %s)", sym, m->base, sec ? sec : "data");
		/* the symbol's extent, within the region */
		ret->lo = MAX(a - off, r->start);
		ret->hi = MIN(a - off + size, r->end);
		return true;
	}
	if (!sec && !r->path)
		return false;
	ret->kind = ROOT_GLOBAL;
	strbuf_addf(ret->name, "%s %s", m->base, sec ? sec : "data");
	ret->lo = a;
	ret->hi = a + 8;
	return true;
}

static void default_name(struct root_namer *nm, const struct root_word *w, struct root_name *ret)
{
	struct default_namer *d = DN(nm);
	const struct target *t = d->snap->image;
	const struct target_region *r;

	ret->bias = 0;
	ret->tid = 0;
	if (w->reg >= 0) {
		ret->kind = ROOT_REGISTER;
		ret->tid = w->tid;
		strbuf_addf(ret->name, "thread %d register %s", w->tid,
			    root_register_name((unsigned)w->reg));
		ret->lo = ret->hi = 0;
		return;
	}
	if (name_tls(d, w->addr, ret))
		return;
	if (name_stack(d, w->addr, ret)) {
		clip_windows(d, w->addr, &ret->lo, &ret->hi);
		return;
	}
	r = target_region_of(t, w->addr);
	if (r) {
		long k = d->region_mod[r - t->regions];

		if (k >= 0 && name_module(&d->mods[k], r, w->addr, ret))
			return;
	}
	ret->kind = ROOT_ANON;
	if (r && r->path)
		strbuf_addf(ret->name, "mapping %s 0x%" PRIx64 "-0x%" PRIx64, r->path,
			    r->start, r->end);
	else if (r)
		strbuf_addf(ret->name, "anonymous mapping 0x%" PRIx64 "-0x%" PRIx64,
			    r->start, r->end);
	else
		strbuf_addf(ret->name, "unmapped 0x%" PRIx64, w->addr);
	ret->lo = r ? r->start : w->addr;
	ret->hi = r ? r->end : w->addr + 8;
	clip_windows(d, w->addr, &ret->lo, &ret->hi);
	/* a live stack inside the same mapping is another root */
	for (size_t i = 0; i < d->nr_threads; i++) {
		const struct thread_info *ti = &d->threads[i];

		if (ti->stack_lo > w->addr && ti->stack_lo < ret->hi)
			ret->hi = ti->stack_lo;
		if (ti->stack_hi <= w->addr && ti->stack_hi > ret->lo)
			ret->lo = ti->stack_hi;
	}
}

static void default_free(struct root_namer *nm)
{
	struct default_namer *d = DN(nm);

	for (size_t i = 0; i < d->nr_mods; i++) {
		dbg_module_free(d->mods[i].dbg);
		free(d->mods[i].path);
	}
	free(d->mods);
	free(d->threads);
	free(d->region_mod);
	free(d);
}

struct root_namer *root_namer_default(const struct snapshot *s, const struct root_namer_opts *o)
{
	struct default_namer *d = xcalloc(1, sizeof(*d));

	d->nm.name = default_name;
	d->nm.free = default_free;
	d->snap = s;
	load_modules(d, o);
	load_threads(d);
	return &d->nm;
}

void root_namer_free(struct root_namer *nm)
{
	if (nm)
		nm->free(nm);
}
