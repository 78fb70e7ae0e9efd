/*
 * modset.c - every module of a target reported into one Dwfl.
 *
 * The regions of a target (from /proc/PID/maps, a core's NT_FILE or a
 * snapshot file) name the files mapped; a file mapped at offset 0 is a
 * module. Its load bias is the start of that mapping minus the page of its
 * first PT_LOAD's p_vaddr (0 for PIE executables and shared libraries; an
 * ET_EXEC executable is linked at its address, bias 0). Each file is opened
 * through the target's root (/proc/PID/root for live targets, --sysroot for
 * cores) and reported with dwfl_report_elf(); libdwfl then finds separate
 * debug files by build-id (dwfl_standard_find_debuginfo, under --debug-dir
 * when given, else below the target's root first, then the host's
 * /usr/lib/debug: a container's own libc6-dbg, or the host's for the same
 * build).
 *
 * Each module's PT_TLS segment (size, alignment) is recorded; where the
 * block lies in a thread is the roots layer's model (roots/tls.c).
 */
#include "config.h"
#include "debuginfo/modset.h"
#include "target/target.h"
#include "util/errors.h"
#include "util/xalloc.h"

#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct elf_facts {
	bool ok, dyn;
	uint64_t first_vaddr;
	uint64_t tls_memsz, tls_align;
	struct stat st;
};

static struct elf_facts read_elf_facts(const char *host_path)
{
	struct elf_facts f = { 0 };
	int fd = open(host_path, O_RDONLY | O_CLOEXEC);
	Elf *elf;
	GElf_Ehdr eh;
	size_t nph;
	bool seen_load = false;

	if (fd < 0)
		return f;
	if (fstat(fd, &f.st) < 0)
		memset(&f.st, 0, sizeof(f.st));
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (elf && gelf_getehdr(elf, &eh) && elf_getphdrnum(elf, &nph) == 0) {
		f.ok = eh.e_type == ET_DYN || eh.e_type == ET_EXEC;
		f.dyn = eh.e_type == ET_DYN;
		for (size_t i = 0; i < nph; i++) {
			GElf_Phdr ph;

			if (!gelf_getphdr(elf, (int)i, &ph))
				continue;
			if (ph.p_type == PT_LOAD && !seen_load) {
				f.first_vaddr = ph.p_vaddr & ~(uint64_t)0xfff;
				seen_load = true;
			} else if (ph.p_type == PT_TLS) {
				f.tls_memsz = ph.p_memsz;
				f.tls_align = ph.p_align ? ph.p_align : 1;
			}
		}
	}
	if (elf)
		elf_end(elf);
	close(fd);
	return f;
}

static bool is_module_path(const char *p)
{
	return p && p[0] == '/';
}

static const struct target_region *first_mapping(const struct target *t, const char *path)
{
	const struct target_region *best = NULL;

	for (size_t i = 0; i < t->nr_regions; i++) {
		const struct target_region *r = &t->regions[i];

		if (!r->path || strcmp(r->path, path))
			continue;
		if (r->offset == 0 && (!best || r->start < best->start))
			best = r;
	}
	return best;
}

static void module_extent(const struct target *t, const char *path, taddr_t base,
			  taddr_t *start, taddr_t *end)
{
	*start = base;
	*end = base;
	/* regions of the file from its base on, with the anonymous .bss
	 * right after the last one */
	for (size_t i = 0; i < t->nr_regions; i++) {
		const struct target_region *r = &t->regions[i];

		if (r->start < base)
			continue;
		if (r->path && !strcmp(r->path, path))
			*end = r->end;
		else if (!r->path && r->start == *end && *end > base)
			*end = r->end;
		else if (r->start > *end)
			break;
	}
}

static bool seen_path(const struct modset *ms, const char *path)
{
	for (size_t i = 0; i < ms->nr_mods; i++)
		if (!strcmp(ms->mods[i].path, path))
			return true;
	return false;
}

int modset_list(struct target *t, const struct modset_opts *opts, struct modset **ret)
{
	struct modset *ms = xcalloc(1, sizeof(*ms));
	size_t alloc = 0;

	elf_version(EV_CURRENT);
	ms->cb.find_elf = dwfl_build_id_find_elf;
	ms->cb.find_debuginfo = dwfl_standard_find_debuginfo;
	ms->cb.section_address = dwfl_offline_section_address;
	if (opts && opts->debug_dir) {
		ms->dipath = xstrdup(opts->debug_dir);
		ms->cb.debuginfo_path = &ms->dipath;
	} else if (t->root && t->root[0]) {
		/* libdwfl's default path with the target's own debug files
		 * first: a container's, or a --sysroot's (as heap/glibc.c
		 * looks for libc's) */
		ms->dipath = xasprintf(":.debug:%s/usr/lib/debug:/usr/lib/debug", t->root);
		ms->cb.debuginfo_path = &ms->dipath;
	}
	for (size_t i = 0; i < t->nr_regions; i++) {
		const struct target_region *r = &t->regions[i];
		const struct target_region *first;
		struct modset_module *m;
		struct elf_facts f;

		if (!is_module_path(r->path) || r->shared || seen_path(ms, r->path))
			continue;
		first = first_mapping(t, r->path);
		if (!first)
			continue;
		if (ms->nr_mods == alloc) {
			alloc = alloc ? 2 * alloc : 16;
			ms->mods = xrealloc(ms->mods, alloc * sizeof(*ms->mods));
		}
		m = &ms->mods[ms->nr_mods];
		memset(m, 0, sizeof(*m));
		m->path = xstrdup(r->path);
		m->host_path = target_host_path(t, r->path);
		f = read_elf_facts(m->host_path);
		if (!f.ok) {
			/* not an ELF file (a mapped data file): not a module */
			free(m->path);
			free(m->host_path);
			continue;
		}
		ms->nr_mods++;
		m->bias = f.dyn ? first->start - f.first_vaddr : 0;
		module_extent(t, r->path, first->start, &m->start, &m->end);
		m->is_exe = t->exe && !strcmp(t->exe, r->path);
		m->tls_memsz = f.tls_memsz;
		m->tls_align = f.tls_align;
		m->dev = f.st.st_dev;
		m->ino = f.st.st_ino;
		m->size = (uint64_t)f.st.st_size;
		m->mtime_ns = (int64_t)f.st.st_mtim.tv_sec * 1000000000 + f.st.st_mtim.tv_nsec;
	}
	*ret = ms;
	return 0;
}

int modset_load(struct modset *ms, const struct modset_opts *opts)
{
	ms->dwfl = dwfl_begin(&ms->cb);
	if (!ms->dwfl)
		return -HG_E_BAD_ELF;
	dwfl_report_begin(ms->dwfl);
	for (size_t i = 0; i < ms->nr_mods; i++) {
		struct modset_module *m = &ms->mods[i];

		m->mod = dwfl_report_elf(ms->dwfl, m->path, m->host_path, -1, m->bias, false);
	}
	dwfl_report_end(ms->dwfl, NULL, NULL);
	for (size_t i = 0; i < ms->nr_mods; i++) {
		struct modset_module *m = &ms->mods[i];

		if (m->mod && !(opts && opts->no_dwarf))
			m->dw = dwfl_module_getdwarf(m->mod, &m->dw_bias);
		if (!m->dw)
			ms->nr_no_dwarf++;
	}
	return 0;
}

int modset_open(struct target *t, const struct modset_opts *opts, struct modset **ret)
{
	struct modset *ms;
	int err = modset_list(t, opts, &ms);

	if (err < 0)
		return err;
	err = modset_load(ms, opts);
	if (err < 0) {
		modset_free(ms);
		return err;
	}
	*ret = ms;
	return 0;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

bool modset_same(const struct modset *a, const struct modset *b)
{
	if (a->nr_mods != b->nr_mods || !same_str(a->dipath, b->dipath))
		return false;
	for (size_t i = 0; i < a->nr_mods; i++) {
		const struct modset_module *x = &a->mods[i], *y = &b->mods[i];

		if (strcmp(x->path, y->path) || !same_str(x->host_path, y->host_path) ||
		    x->start != y->start || x->end != y->end || x->bias != y->bias ||
		    x->is_exe != y->is_exe || x->tls_memsz != y->tls_memsz ||
		    x->tls_align != y->tls_align || x->dev != y->dev || x->ino != y->ino ||
		    x->size != y->size || x->mtime_ns != y->mtime_ns || !x->dev)
			return false;
	}
	return true;
}

void modset_free(struct modset *ms)
{
	if (!ms)
		return;
	if (ms->dwfl)
		dwfl_end(ms->dwfl);
	for (size_t i = 0; i < ms->nr_mods; i++) {
		free(ms->mods[i].path);
		free(ms->mods[i].host_path);
	}
	free(ms->mods);
	free(ms->dipath);
	free(ms);
}

struct modset_module *modset_module_at(struct modset *ms, taddr_t addr)
{
	for (size_t i = 0; i < ms->nr_mods; i++)
		if (addr >= ms->mods[i].start && addr < ms->mods[i].end)
			return &ms->mods[i];
	return NULL;
}

const char *modset_symbol_at(struct modset *ms, taddr_t addr, uint64_t *ret_off)
{
	struct modset_module *m = modset_module_at(ms, addr);
	GElf_Sym sym;
	GElf_Off off = 0;
	const char *name;

	if (!m || !m->mod)
		return NULL;
	name = dwfl_module_addrinfo(m->mod, addr, &off, &sym, NULL, NULL, NULL);
	if (!name)
		return NULL;
	if (ret_off)
		*ret_off = off;
	return name;
}
