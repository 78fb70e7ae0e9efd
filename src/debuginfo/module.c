/*
 * module.c - libdwfl session for one module: symbols, struct layouts, CU
 * ranges and TLS relocations.
 *
 * The module is reported with dwfl_report_elf() at its load bias, the same
 * way for a live process and for a core (the caller knows the bias from
 * /proc/PID/maps or NT_FILE), so one code path serves both.
 * dwfl_standard_find_debuginfo() then finds the separate debug file by
 * build-id below debuginfo_path (doc/glibc-malloc.md §9: main_arena and mp_ are
 * LOCAL symbols that exist only in the debug file's .symtab). When the
 * debug file is on no local path, libdwfl asks debuginfod servers
 * (DEBUGINFOD_URLS) through libdw's client; dbg_debuginfod_configure()
 * sets that client's switches (module.h).
 */
#include "config.h"
#include "debuginfo/module.h"
#include "util/errors.h"
#include "util/xalloc.h"

#include <elfutils/libdwfl.h>
#include <dwarf.h>
#include <errno.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct dbg_module {
	Dwfl *dwfl;
	Dwfl_Module *mod;
	Dwfl_Callbacks cb;
	char *dipath;		/* owned; cb.debuginfo_path points here */
	/* cache of the last CU looked up by suffix */
	char *cu_name;
	Dwarf_Die cu_die;
	bool cu_valid;
	Dwarf *dw;
	Dwarf_Addr dw_bias;
	bool dw_tried;
	/* address-sorted symbol tables for dbg_symbol_at(), built on first use */
	struct addr_sym *syms, *tls_syms;
	size_t nr_syms, nr_tls_syms;
	bool syms_built;
};

struct addr_sym {
	taddr_t start;		/* absolute address, or TLS block offset */
	uint64_t size;
	const char *name;	/* libdwfl's, valid while the Dwfl lives */
	bool global;
};

static bool debuginfod_configured;

/* NAME=VALUE unless the user set NAME. */
static void env_default(const char *name, unsigned long value)
{
	char buf[32];

	if (getenv(name))
		return;
	snprintf(buf, sizeof(buf), "%lu", value);
	(void)setenv(name, buf, 0);
}

void dbg_debuginfod_configure(bool enabled, bool progress)
{
	if (debuginfod_configured)
		return;
	debuginfod_configured = true;
	if (!enabled) {
		(void)unsetenv("DEBUGINFOD_URLS");
		return;
	}
	env_default("DEBUGINFOD_TIMEOUT", DBG_DEBUGINFOD_TIMEOUT);
	env_default("DEBUGINFOD_MAXTIME", DBG_DEBUGINFOD_MAXTIME);
	if (progress)
		env_default("DEBUGINFOD_PROGRESS", 1);
}

int dbg_module_open(const char *host_path, taddr_t bias, const struct dbg_opts *opts,
		    struct dbg_module **ret_mod)
{
	struct dbg_module *m = xcalloc(1, sizeof(*m));

	dbg_debuginfod_configure(true, isatty(STDERR_FILENO));
	m->cb.find_elf = dwfl_build_id_find_elf;
	m->cb.find_debuginfo = dwfl_standard_find_debuginfo;
	m->cb.section_address = dwfl_offline_section_address;
	if (opts && opts->debug_dir) {
		m->dipath = xstrdup(opts->debug_dir);
		m->cb.debuginfo_path = &m->dipath;
	}
	m->dwfl = dwfl_begin(&m->cb);
	if (!m->dwfl)
		goto bad;
	dwfl_report_begin(m->dwfl);
	m->mod = dwfl_report_elf(m->dwfl, "module", host_path, -1, bias, false);
	dwfl_report_end(m->dwfl, NULL, NULL);
	if (!m->mod)
		goto bad;
	*ret_mod = m;
	return 0;
bad:
	dbg_module_free(m);
	return -HG_E_BAD_ELF;
}

void dbg_module_free(struct dbg_module *m)
{
	if (!m)
		return;
	if (m->dwfl)
		dwfl_end(m->dwfl);
	free(m->dipath);
	free(m->cu_name);
	free(m->syms);
	free(m->tls_syms);
	free(m);
}

static Dwarf *get_dwarf(struct dbg_module *m)
{
	if (!m->dw_tried) {
		m->dw_tried = true;
		m->dw = dwfl_module_getdwarf(m->mod, &m->dw_bias);
	}
	return m->dw;
}

bool dbg_has_dwarf(struct dbg_module *m)
{
	return get_dwarf(m) != NULL;
}

const char *dbg_debug_file(struct dbg_module *m)
{
	const char *debugfile = NULL;

	(void)get_dwarf(m);
	dwfl_module_info(m->mod, NULL, NULL, NULL, NULL, NULL, NULL, &debugfile);
	return debugfile;
}

int dbg_symbol(struct dbg_module *m, const char *name, taddr_t *ret_value,
	       uint64_t *ret_size, bool *ret_tls)
{
	int n = dwfl_module_getsymtab(m->mod);

	for (int i = 0; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *s = dwfl_module_getsym_info(m->mod, i, &sym, &addr,
							NULL, NULL, NULL);
		bool tls;

		if (!s || strcmp(s, name) || sym.st_shndx == SHN_UNDEF)
			continue;
		tls = GELF_ST_TYPE(sym.st_info) == STT_TLS;
		*ret_value = tls ? sym.st_value : addr;
		if (ret_size)
			*ret_size = sym.st_size;
		if (ret_tls)
			*ret_tls = tls;
		return 0;
	}
	return -ENOENT;
}

static bool name_has_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), k = strlen(suffix);

	if (n < k || strcmp(name + n - k, suffix))
		return false;
	return n == k || name[n - k - 1] == '/';
}

static int find_cu(struct dbg_module *m, const char *suffix, Dwarf_Die *ret)
{
	Dwarf *dw = get_dwarf(m);
	Dwarf_Off off = 0, next;
	size_t hsize;

	if (m->cu_valid && !strcmp(m->cu_name, suffix)) {
		*ret = m->cu_die;
		return 0;
	}
	if (!dw)
		return -ENOENT;
	while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu;
		const char *name;

		if (dwarf_offdie(dw, off + hsize, &cu) &&
		    (name = dwarf_diename(&cu)) && name_has_suffix(name, suffix)) {
			free(m->cu_name);
			m->cu_name = xstrdup(suffix);
			m->cu_die = cu;
			m->cu_valid = true;
			*ret = cu;
			return 0;
		}
		off = next;
	}
	return -ENOENT;
}

static int find_struct(struct dbg_module *m, const char *cu_suffix, const char *sname,
		       Dwarf_Die *ret)
{
	Dwarf_Die cu, child;

	if (find_cu(m, cu_suffix, &cu) < 0)
		return -ENOENT;
	if (dwarf_child(&cu, &child) != 0)
		return -ENOENT;
	do {
		const char *n;

		if (dwarf_tag(&child) != DW_TAG_structure_type)
			continue;
		n = dwarf_diename(&child);
		if (!n || strcmp(n, sname) || dwarf_hasattr(&child, DW_AT_declaration))
			continue;
		*ret = child;
		return 0;
	} while (dwarf_siblingof(&child, &child) == 0);
	return -ENOENT;
}

int dbg_struct_size(struct dbg_module *m, const char *cu_suffix, const char *sname,
		    uint64_t *ret_size)
{
	Dwarf_Die die;
	Dwarf_Word size;

	if (find_struct(m, cu_suffix, sname, &die) < 0 ||
	    dwarf_aggregate_size(&die, &size) != 0)
		return -ENOENT;
	*ret_size = size;
	return 0;
}

int dbg_member(struct dbg_module *m, const char *cu_suffix, const char *sname,
	       const char *member, uint64_t *ret_offset, uint64_t *ret_size)
{
	Dwarf_Die die, child;

	if (find_struct(m, cu_suffix, sname, &die) < 0 || dwarf_child(&die, &child) != 0)
		return -ENOENT;
	do {
		Dwarf_Attribute attr;
		Dwarf_Word off = 0, size = 0;
		Dwarf_Die type;
		const char *n;

		if (dwarf_tag(&child) != DW_TAG_member)
			continue;
		n = dwarf_diename(&child);
		if (!n || strcmp(n, member))
			continue;
		if (dwarf_attr(&child, DW_AT_data_member_location, &attr) &&
		    dwarf_formudata(&attr, &off) != 0)
			return -ENOENT;
		if (ret_size) {
			if (dwarf_attr_integrate(&child, DW_AT_type, &attr) &&
			    dwarf_formref_die(&attr, &type) &&
			    dwarf_aggregate_size(&type, &size) != 0)
				size = 0;
			*ret_size = size;
		}
		*ret_offset = off;
		return 0;
	} while (dwarf_siblingof(&child, &child) == 0);
	return -ENOENT;
}

int dbg_cu_ranges(struct dbg_module *m, const char *cu_suffix, taddr_t **ret_ranges,
		  size_t *ret_nr)
{
	Dwarf_Die cu;
	Dwarf_Addr base, start, end;
	ptrdiff_t off = 0;
	taddr_t *v = NULL;
	size_t nr = 0, alloc = 0;

	if (find_cu(m, cu_suffix, &cu) < 0)
		return -ENOENT;
	while ((off = dwarf_ranges(&cu, off, &base, &start, &end)) > 0) {
		ALLOC_GROW(v, 2 * (nr + 1), alloc);
		v[2 * nr] = start + m->dw_bias;
		v[2 * nr + 1] = end + m->dw_bias;
		nr++;
	}
	if (!nr) {
		free(v);
		return -ENOENT;
	}
	*ret_ranges = v;
	*ret_nr = nr;
	return 0;
}

int dbg_tpoff_slot(struct dbg_module *m, uint64_t tls_offset, taddr_t *ret_slot)
{
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(m->mod, &bias);
	Elf_Scn *scn = NULL;

	if (!elf)
		return -ENOENT;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Rela r;

			if (!gelf_getrela(data, (int)i, &r))
				break;
			if (GELF_R_TYPE(r.r_info) == R_X86_64_TPOFF64 &&
			    GELF_R_SYM(r.r_info) == 0 &&
			    (uint64_t)r.r_addend == tls_offset) {
				*ret_slot = r.r_offset + bias;
				return 0;
			}
		}
	}
	return -ENOENT;
}

/* ---- symbols by address (root names) ---- */

static int addr_sym_cmp(const void *a, const void *b)
{
	const struct addr_sym *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	/* at one address, prefer the larger, then the global symbol */
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return (int)y->global - (int)x->global;
}

/*
 * Build the two sorted tables once: defined objects and functions with a
 * size (their absolute addresses), and TLS symbols (offsets in the
 * module's TLS block). Symbols of size 0 (labels, section symbols) name
 * nothing reliably and are left out.
 */
static void build_syms(struct dbg_module *m)
{
	int n = dwfl_module_getsymtab(m->mod);
	size_t alloc = 0, alloc_tls = 0;

	m->syms_built = true;
	for (int i = 0; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *name = dwfl_module_getsym_info(m->mod, i, &sym, &addr,
							   NULL, NULL, NULL);
		int type = GELF_ST_TYPE(sym.st_info);
		struct addr_sym e;

		if (!name || !*name || sym.st_shndx == SHN_UNDEF || !sym.st_size)
			continue;
		if (type != STT_OBJECT && type != STT_FUNC && type != STT_TLS &&
		    type != STT_NOTYPE)
			continue;
		e = (struct addr_sym){
			.start = type == STT_TLS ? sym.st_value : addr,
			.size = sym.st_size,
			.name = name,
			.global = GELF_ST_BIND(sym.st_info) != STB_LOCAL,
		};
		if (type == STT_TLS) {
			ALLOC_GROW(m->tls_syms, m->nr_tls_syms + 1, alloc_tls);
			m->tls_syms[m->nr_tls_syms++] = e;
		} else {
			ALLOC_GROW(m->syms, m->nr_syms + 1, alloc);
			m->syms[m->nr_syms++] = e;
		}
	}
	if (m->nr_syms)
		qsort(m->syms, m->nr_syms, sizeof(*m->syms), addr_sym_cmp);
	if (m->nr_tls_syms)
		qsort(m->tls_syms, m->nr_tls_syms, sizeof(*m->tls_syms), addr_sym_cmp);
}

/* The symbol of V (sorted by start) that holds A; symbols may nest
 * (a static array inside an object-sized alias), so the search looks back
 * a few entries from the last start <= A. */
static const struct addr_sym *sym_lookup(const struct addr_sym *v, size_t n, taddr_t a)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid].start <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* lo: first entry with start > a. Look back at most 8 entries:
	 * enough for aliases at one address; a symbol further back that
	 * still covers A would be a huge object holding smaller ones. */
	for (size_t k = lo, seen = 0; k > 0 && seen < 8; k--, seen++) {
		const struct addr_sym *e = &v[k - 1];

		if (a - e->start < e->size)
			return e;
	}
	return NULL;
}

int dbg_symbol_at(struct dbg_module *m, taddr_t addr, const char **ret_name,
		  uint64_t *ret_offset, uint64_t *ret_size)
{
	const struct addr_sym *e;

	if (!m->syms_built)
		build_syms(m);
	e = sym_lookup(m->syms, m->nr_syms, addr);
	if (!e)
		return -ENOENT;
	*ret_name = e->name;
	*ret_offset = addr - e->start;
	if (ret_size)
		*ret_size = e->size;
	return 0;
}

int dbg_tls_symbol_at(struct dbg_module *m, uint64_t offset, const char **ret_name,
		      uint64_t *ret_offset, uint64_t *ret_size)
{
	const struct addr_sym *e;

	if (!m->syms_built)
		build_syms(m);
	e = sym_lookup(m->tls_syms, m->nr_tls_syms, offset);
	if (!e)
		return -ENOENT;
	*ret_name = e->name;
	*ret_offset = offset - e->start;
	if (ret_size)
		*ret_size = e->size;
	return 0;
}

int dbg_section_at(struct dbg_module *m, taddr_t addr, const char **ret_name)
{
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(m->mod, &bias);
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (!elf || elf_getshdrstrndx(elf, &shstrndx) != 0)
		return -ENOENT;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_ALLOC) || !sh.sh_size ||
		    (sh.sh_flags & SHF_TLS))
			continue;
		if (addr < sh.sh_addr + bias || addr - (sh.sh_addr + bias) >= sh.sh_size)
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name)
			return -ENOENT;
		*ret_name = name;
		return 0;
	}
	return -ENOENT;
}

int dbg_tls_segment(struct dbg_module *m, uint64_t *ret_memsz, uint64_t *ret_align)
{
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(m->mod, &bias);
	size_t n;

	if (!elf || elf_getphdrnum(elf, &n) != 0)
		return -ENOENT;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_TLS)
			continue;
		*ret_memsz = ph.p_memsz;
		*ret_align = ph.p_align ? ph.p_align : 1;
		return 0;
	}
	return -ENOENT;
}
