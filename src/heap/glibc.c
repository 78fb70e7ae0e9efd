/*
 * glibc.c - find glibc's allocator in a target and decide whether the
 * target is quiescent.
 *
 * Locating (doc/glibc-malloc.md §9):
 *
 *   1. libc is the mapping of libc.so.6 (or libc-2.N.so) at file offset 0;
 *      its load bias is that mapping's start (libc is linked at 0). A gcore
 *      of gdb < 9 lists no such mapping: then any libc mapping, and the
 *      bias from the PT_LOAD holding its offset. No libc mapping at all: a
 *      static binary or another libc. A mapped jemalloc, tcmalloc or
 *      mimalloc: malloc is not glibc's; refused.
 *   2. The on-disk file gives the version, the exported allocator entry
 *      points and the disassembly recipes (debuginfo/libcfile.c).
 *   3. With libc's debug info (separate file by build-id or debuglink,
 *      below the target's own root first: debug_path()): main_arena and
 *      mp_ are LOCAL symbols of its .symtab, `tcache` is an STT_TLS symbol
 *      whose GOT slot is the R_X86_64_TPOFF64 relocation with its offset as
 *      addend, layouts come from DWARF, and malloc.c's CU ranges say where
 *      allocator code is. Method "dwarf".
 *   4. Without: main_arena from the first RIP-relative lea in malloc_trim,
 *      mp_ from the cmp against mp_.tcache_bins in malloc, the tcache GOT
 *      slot from malloc's `mov reg, fs:[reg]`, layouts from the era table
 *      (heap/glibc-layout.c), allocator code = the hull of the exported
 *      allocator functions. Method "disasm".
 *   5. Every candidate is validated against the target's memory before use.
 *   6. Neither DWARF nor the table gives a layout (a glibc newer than 2.41
 *      without debug info, or whose malloc types changed shape): refused
 *      with one line saying which glibc and what would help
 *      (refuse_layout()), never guessed.
 *
 * Quiescence (doc/glibc-malloc.md §10): the tcache fast paths take no lock, so a
 * thread's PC is the primary test; a held arena mutex catches threads
 * waiting for or holding a lock outside malloc.o (memcpy in realloc); a
 * thread stopped in mmap/munmap/mremap/brk/mprotect/madvise may be in the
 * middle of sysmalloc or munmap_chunk and counts as busy too.
 */
#include "config.h"
#include "heap/glibc.h"
#include "heap/glibc-internal.h"
#include "heap/heap.h"
#include "debuginfo/libcfile.h"
#include "debuginfo/module.h"
#include "target/target.h"
#include "util/diag.h"
#include "util/errors.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "heap/glibc-walk.h"

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

bool glibc_is_libc_path(const char *path)
{
	const char *b = base_name(path);
	size_t n = strlen(b);

	if (!strcmp(b, "libc.so.6"))
		return true;
	return !strncmp(b, "libc-2.", 7) && n > 10 && !strcmp(b + n - 3, ".so");
}

static const char *const foreign_allocators[] = {
	"libjemalloc", "libtcmalloc", "libmimalloc", "libhoard", "libtbbmalloc_proxy",
};

/* Does the ELF file at HOST_PATH lack PT_INTERP (statically linked)? */
static bool file_is_static(const char *host_path)
{
	int fd = open(host_path, O_RDONLY | O_CLOEXEC);
	bool is_static = false;
	Elf *e;
	size_t n;

	if (fd < 0)
		return false;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (e && elf_kind(e) == ELF_K_ELF && elf_getphdrnum(e, &n) == 0) {
		is_static = true;
		for (size_t i = 0; i < n; i++) {
			GElf_Phdr ph;

			if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_INTERP)
				is_static = false;
		}
	}
	if (e)
		elf_end(e);
	close(fd);
	return is_static;
}

/*
 * Load bias of the ELF file at HOST_PATH, one of whose mappings is R:
 * R->start - R->offset for a mapping at file offset 0; otherwise through
 * the PT_LOAD that holds R->offset (page-rounded, as ld.so maps it). 0 and
 * *RET_BIAS set, or -HG_E_BAD_ELF.
 */
static int load_bias(const char *host_path, const struct target_region *r, taddr_t *ret_bias)
{
	int fd, err = -HG_E_BAD_ELF;
	Elf *e;
	size_t n;

	if (r->offset == 0) {
		*ret_bias = r->start;
		return 0;
	}
	fd = open(host_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (e && elf_kind(e) == ELF_K_ELF && elf_getphdrnum(e, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			GElf_Phdr ph;
			uint64_t off, vaddr;

			if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD)
				continue;
			off = ph.p_offset & ~(uint64_t)4095;
			vaddr = ph.p_vaddr & ~(uint64_t)4095;
			if (r->offset < off || r->offset - off >= ph.p_memsz + (ph.p_offset - off) ||
			    r->start < vaddr + (r->offset - off))
				continue;
			*ret_bias = r->start - (r->offset - off) - vaddr;
			err = 0;
			break;
		}
	}
	if (e)
		elf_end(e);
	close(fd);
	return err;
}

static int find_libc(struct target *t, struct strbuf *why, const struct target_region **ret)
{
	const struct target_region *libc = NULL;

	for (size_t i = 0; i < t->nr_regions; i++) {
		const struct target_region *r = &t->regions[i];
		const char *b;

		if (!r->path || r->path[0] != '/')
			continue;
		b = base_name(r->path);
		for (size_t k = 0; k < ARRAY_SIZE(foreign_allocators); k++) {
			if (!strncmp(b, foreign_allocators[k], strlen(foreign_allocators[k]))) {
				if (why)
					strbuf_addf(why, "malloc is not glibc's (%s is loaded)", b);
				return -HG_E_FOREIGN_MALLOC;
			}
		}
		if (!libc && r->offset == 0 && glibc_is_libc_path(r->path))
			libc = r;
	}
	/*
	 * gdb before 9 (Ubuntu bionic's 8.1) leaves a library's text out of a
	 * gcore's NT_FILE note: only its data mappings are listed, none at
	 * file offset 0. Any libc mapping will do then; glibc_locate() finds
	 * the load bias from the file's program headers.
	 */
	for (size_t i = 0; !libc && i < t->nr_regions; i++) {
		const struct target_region *r = &t->regions[i];

		if (r->path && r->path[0] == '/' && glibc_is_libc_path(r->path))
			libc = r;
	}
	if (!libc) {
		char *exe = t->exe ? target_host_path(t, t->exe) : NULL;

		if (why) {
			if (exe && file_is_static(exe))
				strbuf_addstr(why, "statically linked, no glibc malloc to walk");
			else
				strbuf_addstr(why, "no glibc (libc.so.6) mapped: not a glibc program");
		}
		free(exe);
		return -HG_E_NO_LIBC;
	}
	*ret = libc;
	return 0;
}

struct glibc {
	struct glibc_layout l;
	char version[16];
	const char *method;
	taddr_t libc_base;
	taddr_t main_arena;
	taddr_t mp;
	taddr_t tcache_slot;		/* GOT slot holding tcache's TPOFF; 0 if unknown */
	int64_t tpoff;
	bool have_tpoff;
	taddr_t *code;			/* allocator code ranges, pairs */
	size_t nr_code;
	taddr_t *libc_text;		/* libc's executable mappings, pairs */
	size_t nr_libc_text;
	struct dbg_module *dbg;
};

const char *glibc_version(const struct glibc *g)
{
	return g->version;
}

const char *glibc_method(const struct glibc *g)
{
	return g->method;
}

taddr_t glibc_main_arena(const struct glibc *g)
{
	return g->main_arena;
}

void glibc_free(struct glibc *g)
{
	if (!g)
		return;
	dbg_module_free(g->dbg);
	free(g->code);
	free(g->libc_text);
	free(g);
}

/* main_arena candidate check: its `next` ring comes back to it. */
static bool arena_ring_ok(struct target *t, const struct glibc_layout *l, taddr_t a)
{
	taddr_t p = a;

	for (int i = 0; i < 4096; i++) {
		uint64_t next;

		if (target_read_u64(t, p + l->ms_next, &next) < 0)
			return false;
		if (next == a)
			return true;
		/* Before malloc is initialised next is still the static
		 * self-pointer, so a zero next means "not main_arena". */
		if (!next || next & 7)
			return false;
		p = next;
	}
	return false;
}

static bool mp_ok(struct target *t, const struct glibc_layout *l, taddr_t mp)
{
	uint64_t bins, count;

	if (!l->has_tcache)
		return true;
	if (target_read_u64(t, mp + l->mp_tcache_bins, &bins) < 0 ||
	    target_read_u64(t, mp + l->mp_tcache_count, &count) < 0)
		return false;
	/* tunables: glibc.malloc.tcache_max shrinks tcache_bins;
	 * tcache_count is at most 65535 (UINT16_MAX) from 2.30, 127 before. */
	return bins <= l->tc_bins && count <= 65535;
}

static void set_version(struct glibc *g, const struct libc_file_info *fi)
{
	snprintf(g->version, sizeof(g->version), "%s", fi->version[0] ? fi->version : "unknown");
}

/* -v: which debug file the symbols came from (the resolved path, so a
 * file found through /proc/PID/root shows where it lies on this host). */
static void report_debug_file(struct glibc *g, struct diag_sink *diag)
{
	const char *f = dbg_debug_file(g->dbg);
	char *real = f ? realpath(f, NULL) : NULL;

	diag_report(diag, DIAG_NOTE, "libc debug info: %s",
		    real ? real : f ? f : "in libc itself");
	free(real);
}

static int locate_dwarf(struct glibc *g, struct target *t, const struct libc_file_info *fi,
			struct diag_sink *diag)
{
	taddr_t tls_off = 0;
	bool tls = false;

	if (dbg_symbol(g->dbg, "main_arena", &g->main_arena, NULL, NULL) ||
	    dbg_symbol(g->dbg, "mp_", &g->mp, NULL, NULL))
		return -ENOENT;
	if (fi->ver_major && glibc_layout_table(fi->ver_major, fi->ver_minor, &g->l) < 0)
		memset(&g->l, 0, sizeof(g->l));
	g->l.major = fi->ver_major;
	g->l.minor = fi->ver_minor;
	/* Behaviour switches the DWARF cannot show. */
	g->l.safe_linking = fi->ver_major > 2 || fi->ver_minor >= 32;
	if (glibc_layout_dwarf(g->dbg, &g->l) < 0) {
		if (!g->l.source)
			return -HG_E_NO_LIBC_LAYOUT;	/* glibc_locate() says why */
		diag_report(diag, DIAG_NOTE, "libc debug info lacks malloc.c types, using built-in layout");
	}
	if (g->l.has_tcache &&
	    dbg_symbol(g->dbg, "tcache", &tls_off, NULL, &tls) == 0 && tls) {
		if (dbg_tpoff_slot(g->dbg, tls_off, &g->tcache_slot) < 0)
			g->tcache_slot = 0;
	}
	if (!g->tcache_slot && fi->tcache_got)
		g->tcache_slot = g->libc_base + fi->tcache_got;
	if (dbg_cu_ranges(g->dbg, "malloc.c", &g->code, &g->nr_code) < 0)
		g->nr_code = 0;
	(void)t;
	g->method = "dwarf";
	return 0;
}

/*
 * The one-line refusal when neither DWARF nor the built-in table gives a
 * layout: which glibc, why the table does not cover it, and what would
 * help. A newer glibc may have moved any field (2.42 reworked the tcache),
 * so guessing would print a wrong census; its debug info gives the layout.
 */
static void refuse_layout(struct strbuf *why, const struct libc_file_info *fi, bool no_debug_info)
{
	const char *bid = fi->build_id[0] ? fi->build_id : "none";

	if (!fi->ver_major)
		strbuf_addstr(why, "cannot tell this libc's glibc version");
	else if (fi->ver_major > 2 || fi->ver_minor > GLIBC_TABLE_LAST_MINOR)
		strbuf_addf(why, "glibc %s is newer than the malloc layouts heapgrab knows "
			    "(2.%d to 2.%d)", fi->version, GLIBC_TABLE_FIRST_MINOR,
			    GLIBC_TABLE_LAST_MINOR);
	else
		strbuf_addf(why, "glibc %s is older than 2.%d (no tcache): not supported",
			    fi->version, GLIBC_TABLE_FIRST_MINOR);
	if (fi->ver_major == 2 && fi->ver_minor < GLIBC_TABLE_FIRST_MINOR)
		return;
	if (no_debug_info)
		strbuf_addf(why, ", and --no-debug-info was given (libc build-id %s)", bid);
	else
		strbuf_addf(why, ", and no debug info for this libc (build-id %s) was found: "
			    "install its debug symbols (Debian, Ubuntu: libc6-dbg), set "
			    "DEBUGINFOD_URLS, or use --debug-dir", bid);
}

static int locate_disasm(struct glibc *g, struct target *t, const struct libc_file_info *fi,
			 bool no_debug_info, struct diag_sink *diag, struct strbuf *why)
{
	taddr_t arena_data = fi->main_arena_data ? g->libc_base + fi->main_arena_data : 0;
	taddr_t arena_lea = fi->main_arena_lea ? g->libc_base + fi->main_arena_lea : 0;

	if (!fi->ver_major || glibc_layout_table(fi->ver_major, fi->ver_minor, &g->l) < 0) {
		if (why)
			refuse_layout(why, fi, no_debug_info);
		return -HG_E_NO_LIBC_LAYOUT;
	}
	if (arena_lea && arena_data && arena_lea != arena_data)
		diag_report(diag, DIAG_NOTE,
			    "main_arena recipes disagree (malloc_trim: 0x%llx, .data: 0x%llx)",
			    (unsigned long long)arena_lea, (unsigned long long)arena_data);
	if (arena_lea && arena_ring_ok(t, &g->l, arena_lea))
		g->main_arena = arena_lea;
	else if (arena_data && arena_ring_ok(t, &g->l, arena_data))
		g->main_arena = arena_data;
	else {
		if (why)
			strbuf_addf(why, "glibc %s: main_arena not found by disassembly", g->version);
		return -HG_E_NO_MAIN_ARENA;
	}
	if (fi->mp_tcache_bins && g->l.has_tcache)
		g->mp = g->libc_base + fi->mp_tcache_bins - g->l.mp_tcache_bins;
	if ((!g->mp || !mp_ok(t, &g->l, g->mp)) && fi->mp_data)
		g->mp = g->libc_base + fi->mp_data;
	if (!g->mp || !mp_ok(t, &g->l, g->mp)) {
		if (why)
			strbuf_addf(why, "glibc %s: mp_ not found by disassembly", g->version);
		return -HG_E_NO_MP;
	}
	if (fi->tcache_got)
		g->tcache_slot = g->libc_base + fi->tcache_got;
	if (fi->alloc_lo && fi->alloc_hi > fi->alloc_lo) {
		g->code = xmalloc(2 * sizeof(*g->code));
		g->code[0] = g->libc_base + fi->alloc_lo;
		g->code[1] = g->libc_base + fi->alloc_hi;
		g->nr_code = 1;
	}
	g->method = "disasm";
	return 0;
}

/*
 * libdwfl's search path for libc's debug file when the target has a root
 * of its own: a process in a chroot or a container (/proc/PID/root), or a
 * core read with --sysroot. Its libc6-dbg is below that root, so it is
 * searched first:
 *   ROOT/usr/lib/debug            by build-id (.build-id/xx/y.debug;
 *                                 Debian >= 2.28, Ubuntu >= 2.31)
 *   ../../usr/lib/debug/lib/x86_64-linux-gnu  (as many ".." as LIBC_PATH
 *                                 has directories) by .gnu_debuglink name:
 *                                 ROOT/usr/lib/debug/lib/.../libc-2.27.so,
 *                                 the only copy Ubuntu bionic's libc6-dbg
 *                                 ships. libdwfl takes a relative entry
 *                                 from the directory of the file it opened
 *                                 (ROOT/lib/x86_64-linux-gnu), and an
 *                                 absolute one would be prefixed with that
 *                                 host directory, so only a relative entry
 *                                 stays inside ROOT.
 * then the host's (libdw's default ":.debug:/usr/lib/debug": next to the
 * file, its .debug subdirectory, /usr/lib/debug). libdwfl accepts a file
 * only when its build-id (or debuglink CRC) matches libc's, so a search
 * that finds another build's file moves on. --debug-dir replaces all this.
 * Returns a malloc'd string.
 */
static char *debug_path(const char *root, const char *libc_path)
{
	struct strbuf sb = STRBUF_INIT;
	const char *slash = strrchr(libc_path, '/');

	strbuf_addf(&sb, ":.debug:%s/usr/lib/debug:", root);
	if (libc_path[0] == '/' && slash && slash != libc_path) {
		for (const char *c = libc_path; c < slash; c++)
			if (*c == '/')
				strbuf_addstr(&sb, "../");
		strbuf_addstr(&sb, "usr/lib/debug");
		strbuf_add(&sb, libc_path, (size_t)(slash - libc_path));
		strbuf_addch(&sb, ':');
	}
	strbuf_addstr(&sb, "/usr/lib/debug");
	return strbuf_detach(&sb, NULL);
}

int glibc_locate(struct target *t, const struct glibc_opts *opts, struct diag_sink *diag,
		 struct strbuf *why, struct glibc **ret_glibc)
{
	const struct target_region *libc;
	struct libc_file_info fi;
	struct glibc *g;
	char *host;
	int err;

	err = find_libc(t, why, &libc);
	if (err < 0)
		return err;
	g = xcalloc(1, sizeof(*g));
	for (size_t i = 0; i < t->nr_regions; i++) {
		const struct target_region *r = &t->regions[i];

		if (!(r->prot & TARGET_PROT_EXEC) || !r->path || strcmp(r->path, libc->path))
			continue;
		g->libc_text = xrealloc(g->libc_text, st_mult(2 * (g->nr_libc_text + 1),
							      sizeof(taddr_t)));
		g->libc_text[2 * g->nr_libc_text] = r->start;
		g->libc_text[2 * g->nr_libc_text + 1] = r->end;
		g->nr_libc_text++;
	}
	host = target_host_path(t, libc->path);
	err = load_bias(host, libc, &g->libc_base);
	if (err == 0)
		err = libc_file_analyze(host, glibc_libc_patterns(), &fi);
	if (err < 0) {
		if (why)
			strbuf_addf(why, "cannot read libc '%s': %s", host, hg_strerror(err));
		free(host);
		glibc_free(g);
		return err == -ENOENT ? -HG_E_FILE_NOT_FOUND : err;
	}
	set_version(g, &fi);

	err = -ENOENT;
	if (!opts || !opts->no_debug_info) {
		struct dbg_opts dopts = { .debug_dir = opts ? opts->debug_dir : NULL };
		char *dipath = NULL;
		int open_err;

		if (!dopts.debug_dir && t->root && t->root[0])
			dopts.debug_dir = dipath = debug_path(t->root, libc->path);
		open_err = dbg_module_open(host, g->libc_base, &dopts, &g->dbg);
		free(dipath);
		if (open_err == 0) {
			err = locate_dwarf(g, t, &fi, diag);
			if (err == 0 && (!arena_ring_ok(t, &g->l, g->main_arena) ||
					 !mp_ok(t, &g->l, g->mp))) {
				uint64_t probe;
				int gone = target_read_u64(t, g->main_arena, &probe);

				if (gone == -HG_E_TARGET_GONE) {
					free(host);
					glibc_free(g);
					return gone;
				}
				diag_report(diag, DIAG_WARNING,
					    "libc debug info does not match the process (main_arena check failed), trying disassembly");
				err = -ENOENT;
			}
			if (err == 0)
				report_debug_file(g, diag);
			if (err == -HG_E_NO_LIBC_LAYOUT) {
				free(host);
				glibc_free(g);
				if (why)
					strbuf_addf(why, "glibc %s: malloc's types in its debug info "
						    "are not a layout heapgrab can read (2.42 reworked the "
						    "tcache), and the built-in layouts cover 2.%d to 2.%d "
						    "only", fi.version,
						    GLIBC_TABLE_FIRST_MINOR, GLIBC_TABLE_LAST_MINOR);
				return err;
			}
		}
	}
	free(host);
	if (err < 0) {
		free(g->code);
		g->code = NULL;
		g->nr_code = 0;
		g->tcache_slot = 0;
		err = locate_disasm(g, t, &fi, opts && opts->no_debug_info, diag, why);
		if (err < 0) {
			glibc_free(g);
			return err;
		}
	}
	if (g->l.has_tcache) {
		uint64_t v;

		int r = g->tcache_slot ? target_read_u64(t, g->tcache_slot, &v) : -ENOENT;

		if (r == -HG_E_TARGET_GONE) {
			glibc_free(g);
			return r;
		}
		if (r == 0 && (int64_t)v < 0 && (int64_t)v > -(1LL << 30)) {
			g->tpoff = (int64_t)v;
			g->have_tpoff = true;
		} else {
			diag_report(diag, DIAG_WARNING,
				    "cannot find the tcache TLS slot: tcache chunks will be counted as in use");
		}
	}
	*ret_glibc = g;
	return 0;
}

/* ---- quiescence ---- */

static bool in_code(const struct glibc *g, taddr_t pc)
{
	for (size_t i = 0; i < g->nr_code; i++)
		if (pc >= g->code[2 * i] && pc < g->code[2 * i + 1])
			return true;
	return false;
}

static bool in_libc_text(const struct glibc *g, taddr_t pc)
{
	for (size_t i = 0; i < g->nr_libc_text; i++)
		if (pc >= g->libc_text[2 * i] && pc < g->libc_text[2 * i + 1])
			return true;
	return false;
}

static bool mm_syscall(long nr)
{
	switch (nr) {
	case SYS_mmap:
	case SYS_munmap:
	case SYS_mremap:
	case SYS_brk:
	case SYS_mprotect:
	case SYS_madvise:
		return true;
	default:
		return false;
	}
}

int glibc_busy_threads(struct glibc *g, struct target *t, bool *busy, bool *ret_lock_held)
{
	int nr_busy = 0;
	taddr_t a = g->main_arena;

	for (size_t i = 0; i < t->nr_threads; i++) {
		const struct user_regs_struct *r = &t->threads[i].regs;

		busy[i] = in_code(g, r->rip) || mm_syscall((long)r->orig_rax);
		if (!busy[i] && in_libc_text(g, r->rip)) {
			uint64_t ret;

			/*
			 * A leaf libc routine called from the allocator
			 * (memcpy in _int_realloc, memset, __lll_lock_wait)
			 * has the allocator's return address at [rsp].
			 */
			if (target_read_u64(t, r->rsp, &ret) == 0 && in_code(g, ret))
				busy[i] = true;
		}
		nr_busy += busy[i];
	}
	*ret_lock_held = false;
	for (int k = 0; k < 4096; k++) {
		uint32_t mutex;
		uint64_t next;
		int err = target_read(t, a + g->l.ms_mutex, &mutex, sizeof(mutex));

		if (err < 0)
			return err;
		if (mutex)
			*ret_lock_held = true;
		err = target_read_u64(t, a + g->l.ms_next, &next);
		if (err < 0)
			return err;
		if (next == g->main_arena || !next)
			break;
		a = next;
	}
	return nr_busy;
}

/* ---- walk entry point: heap/glibc-walk.c does the work ---- */

void glibc_get_walk_params(const struct glibc *g, struct glibc_walk_params *ret)
{
	*ret = (struct glibc_walk_params){
		.l = &g->l,
		.main_arena = g->main_arena,
		.mp = g->mp,
		.have_tpoff = g->have_tpoff,
		.tpoff = g->tpoff,
	};
}

int glibc_walk(struct glibc *g, struct target *t, struct diag_sink *diag,
	       struct heap_walk *ret_walk)
{
	struct glibc_walk_params p;

	glibc_get_walk_params(g, &p);
	return glibc_walk_heap(&p, t, diag, ret_walk);
}

int glibc_copy_plan(struct glibc *g, struct target *t, bool scan, struct glibc_plan *ret_plan)
{
	struct glibc_walk_params p;

	glibc_get_walk_params(g, &p);
	return glibc_walk_plan(&p, t, scan, ret_plan);
}

/* ---- parameters for the residency accounting and the trim model ---- */

void glibc_params_release(struct glibc_params *p)
{
	if (!p)
		return;
	free(p->threads);
	memset(p, 0, sizeof(*p));
}

static int read_u32(struct target *t, taddr_t addr, uint32_t *ret)
{
	return target_read(t, addr, ret, sizeof(*ret));
}

/*
 * narenas_limit is a function-local static of arena.c's arena_get2(), so
 * its symbol carries a compiler suffix ("narenas_limit.2" on Debian's
 * 2.36): try the plain name and the suffixes a compiler gives.
 */
static bool find_narenas_limit(struct glibc *g, taddr_t *ret)
{
	char name[32];

	if (dbg_symbol(g->dbg, "narenas_limit", ret, NULL, NULL) == 0)
		return true;
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "narenas_limit.%d", i);
		if (dbg_symbol(g->dbg, name, ret, NULL, NULL) == 0)
			return true;
	}
	return false;
}

int glibc_read_params(struct glibc *g, struct target *t, struct diag_sink *diag,
		      struct glibc_params *ret)
{
	const struct glibc_layout *l = &g->l;
	struct glibc_params p;
	taddr_t addr;
	int err;

	memset(&p, 0, sizeof(p));
	p.major = l->major;
	p.minor = l->minor;
	if (l->mp_trim_threshold != LAYOUT_ABSENT) {
		uint32_t n_mmaps_max = 0, no_dyn = 0;

		if ((err = target_read_u64(t, g->mp + l->mp_trim_threshold, &p.trim_threshold)) ||
		    (err = target_read_u64(t, g->mp + l->mp_top_pad, &p.top_pad)) ||
		    (err = target_read_u64(t, g->mp + l->mp_mmap_threshold, &p.mmap_threshold)) ||
		    (err = target_read_u64(t, g->mp + l->mp_arena_test, &p.arena_test)) ||
		    (err = target_read_u64(t, g->mp + l->mp_arena_max, &p.arena_max)) ||
		    (err = read_u32(t, g->mp + l->mp_n_mmaps_max, &n_mmaps_max)) ||
		    (err = read_u32(t, g->mp + l->mp_no_dyn_threshold, &no_dyn)))
			return err;
		p.n_mmaps_max = (int32_t)n_mmaps_max;
		p.no_dyn_threshold = no_dyn != 0;
		p.have_thresholds = true;
	}
	if (l->mp_thp_pagesize != LAYOUT_ABSENT &&
	    target_read_u64(t, g->mp + l->mp_thp_pagesize, &p.thp_pagesize) == 0)
		p.have_thp = true;
	if (g->dbg && dbg_symbol(g->dbg, "__curbrk", &addr, NULL, NULL) == 0 &&
	    target_read_u64(t, addr, &p.curbrk) == 0)
		p.have_curbrk = true;
	if (g->dbg && find_narenas_limit(g, &addr) &&
	    target_read_u64(t, addr, &p.narenas_limit) == 0)
		p.have_narenas_limit = true;
	p.threads = xcalloc(t->nr_threads + 1, sizeof(*p.threads));
	p.nr_threads = t->nr_threads;
	for (size_t i = 0; i < t->nr_threads; i++)
		p.threads[i].tid = t->threads[i].tid;
	{
		taddr_t off = 0, slot = 0;
		uint64_t tpoff;
		bool tls = false;

		/* thread_arena is a static TLS variable of libc, reached like
		 * tcache through a GOT slot that ld.so fills with its
		 * thread-pointer offset (doc/glibc-malloc.md §9). */
		if (g->dbg && dbg_symbol(g->dbg, "thread_arena", &off, NULL, &tls) == 0 && tls &&
		    dbg_tpoff_slot(g->dbg, off, &slot) == 0 &&
		    target_read_u64(t, slot, &tpoff) == 0 && (int64_t)tpoff < 0 &&
		    (int64_t)tpoff > -(1LL << 30)) {
			p.have_thread_arenas = true;
			for (size_t i = 0; i < t->nr_threads; i++) {
				const struct user_regs_struct *r = &t->threads[i].regs;

				if (!r->fs_base ||
				    target_read_u64(t, r->fs_base + tpoff, &p.threads[i].arena) < 0) {
					diag_report(diag, DIAG_NOTE,
						    "thread %d: thread_arena unreadable",
						    t->threads[i].tid);
					p.threads[i].arena = 0;
				}
			}
		}
	}
	*ret = p;
	return 0;
}
