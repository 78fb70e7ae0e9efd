/*
 * tls.c - where each module's thread-local storage is: the one model of
 * TLS placement that typed roots (TLS variables) and located roots (the
 * TLS windows of roots/regions.c) share.
 *
 * x86-64 uses TLS variant II (elf/dl-tls.c, TLS_TCB_AT_TP): the thread
 * pointer (fs_base) points at the thread's descriptor, glibc's struct
 * pthread, and the modules loaded at startup have their static TLS blocks
 * below it, each at a fixed offset that is the same in every thread:
 *
 *        lower addresses                                 higher
 *   ... | surplus | block of module k | ... | exe block | struct pthread ...
 *                 ^ tp - offset(k)            ^ tp - offset(exe)
 *                                                        ^ tp (fs_base)
 *
 * offset(exe) = roundup(p_memsz, p_align) of the executable's PT_TLS
 * (module id 1, l_tls_firstbyte_offset 0). The shared libraries' offsets
 * depend on load order and alignment; ld.so keeps each in its link_map
 * (l_tls_offset), and the link_map list starts at _r_debug.r_map. The
 * internal struct link_map's layout (glibc's include/link.h) comes from
 * ld.so's DWARF (libc6-dbg); without it only the executable's block is
 * placed. 0 and -1 (NO_TLS_OFFSET, FORCED_DYNAMIC_TLS_OFFSET) mean no
 * static block.
 *
 * Modules loaded later (dlopen) have dynamic TLS, reached through each
 * thread's DTV: not placed yet (NEEDSWORK: dtv[l_tls_modid] of each
 * thread).
 *
 * The link_map list is target memory: hostile. It is followed at most
 * MAX_LINK_MAPS steps, every read checked.
 */
#include "config.h"
#include "roots/roots-internal.h"
#include "debuginfo/dwindex.h"
#include "debuginfo/modset.h"
#include "target/target.h"

#include <dwarf.h>
#include <gelf.h>
#include <string.h>

/* More link_maps than any process has (a list that long is a cycle). */
#define MAX_LINK_MAPS 4096

uint64_t tls_block_size(uint64_t memsz, uint64_t align)
{
	if (!align)
		align = 1;
	if (memsz > UINT64_MAX - (align - 1))
		return UINT64_MAX;
	return (memsz + align - 1) / align * align;
}

uint64_t tls_exe_offset(uint64_t memsz, uint64_t align)
{
	return memsz ? tls_block_size(memsz, align) : 0;
}

static bool module_symbol(const struct modset_module *m, const char *name, taddr_t *ret)
{
	int n = m->mod ? dwfl_module_getsymtab(m->mod) : 0;

	for (int i = 0; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *s = dwfl_module_getsym_info(m->mod, i, &sym, &addr, NULL, NULL, NULL);

		if (s && !strcmp(s, name) && sym.st_shndx != SHN_UNDEF) {
			*ret = addr;
			return true;
		}
	}
	return false;
}

/* ld.so's struct link_map definition: the one with l_tls_offset. */
static bool link_map_layout(const struct dw_index *idx, const struct modset_module *ld,
			    uint64_t *o_addr, uint64_t *o_next, uint64_t *o_tls)
{
	for (size_t i = 0; i < idx->nr_defs; i++) {
		Dwarf_Die lm = idx->defs[i];
		const char *n = dwarf_diename(&lm);
		uint64_t dummy;

		if (!n || strcmp(n, "link_map") || dwarf_cu_getdwarf(lm.cu) != ld->dw ||
		    !dw_member_offset(&lm, "l_tls_offset", &dummy))
			continue;
		return dw_member_offset(&lm, "l_addr", o_addr) &&
		       dw_member_offset(&lm, "l_next", o_next) &&
		       dw_member_offset(&lm, "l_tls_offset", o_tls);
	}
	return false;
}

void tls_module_offsets(struct target *image, const struct modset *ms,
			const struct dw_index *idx, uint64_t *offsets)
{
	const struct modset_module *ld = NULL;
	uint64_t o_addr, o_next, o_tls;
	taddr_t r_debug, map;

	for (size_t m = 0; m < ms->nr_mods; m++) {
		const struct modset_module *mm = &ms->mods[m];

		offsets[m] = mm->is_exe ? tls_exe_offset(mm->tls_memsz, mm->tls_align) : 0;
	}
	for (size_t m = 0; m < ms->nr_mods; m++) {
		const char *b = strrchr(ms->mods[m].path, '/');

		if (b && !strncmp(b + 1, "ld-linux", 8) && ms->mods[m].dw)
			ld = &ms->mods[m];
	}
	/* struct r_debug: int r_version; struct link_map *r_map at 8 */
	if (!ld || !link_map_layout(idx, ld, &o_addr, &o_next, &o_tls) ||
	    !module_symbol(ld, "_r_debug", &r_debug) ||
	    target_read_u64(image, r_debug + 8, &map) != 0)
		return;
	for (int n = 0; map && n < MAX_LINK_MAPS; n++) {
		uint64_t l_addr, tls;

		if (target_read_u64(image, map + o_addr, &l_addr) != 0 ||
		    target_read_u64(image, map + o_tls, &tls) != 0)
			return;
		/* a module whose l_addr is its load bias */
		for (size_t m = 0; m < ms->nr_mods; m++)
			if (ms->mods[m].bias == l_addr && ms->mods[m].tls_memsz && tls &&
			    tls != UINT64_MAX)
				offsets[m] = tls;
		if (target_read_u64(image, map + o_next, &map) != 0)
			return;
	}
}
