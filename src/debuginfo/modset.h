/*
 * modset.h - every ELF module of a target in one libdwfl session.
 *
 * Typing needs the DWARF of every module (the executable and each shared
 * library) to find typed roots, and one Dwfl holding all of them to unwind
 * the threads' stacks. A modset groups the target's file-backed regions by
 * path, reports each file once at its load bias and then gives access to
 * the module's Dwfl_Module, its DWARF and its PT_TLS segment.
 *
 * Modules whose file cannot be opened, or that have no DWARF, are kept in
 * the set (symbols still work) and counted, never fatal: the caller reports
 * them.
 *
 * Ownership: modset_free() releases everything; pointers handed out stay
 * valid until then.
 */
#ifndef HEAPGRAB_DEBUGINFO_MODSET_H
#define HEAPGRAB_DEBUGINFO_MODSET_H

#include "util/compiler.h"

#include <elfutils/libdwfl.h>

struct target;

struct modset_module {
	char *path;		/* as the target sees it */
	char *host_path;	/* where heapgrab opened it */
	taddr_t start, end;	/* lowest and highest mapped address */
	taddr_t bias;		/* load bias */
	Dwfl_Module *mod;	/* NULL when the file could not be reported */
	Dwarf *dw;		/* NULL when no DWARF was found */
	Dwarf_Addr dw_bias;
	/* static TLS (PT_TLS): size and alignment, 0 without; where the
	 * block is in each thread is roots/tls.c's business */
	uint64_t tls_memsz, tls_align;
	bool is_exe;
	/* the file (modset_same()): device, inode, size, mtime */
	uint64_t dev, ino, size;
	int64_t mtime_ns;
};

struct modset {
	Dwfl *dwfl;
	Dwfl_Callbacks cb;
	char *dipath;
	struct modset_module *mods;
	size_t nr_mods;
	size_t nr_no_dwarf;	/* modules without DWARF */
};

struct modset_opts {
	const char *debug_dir;	/* NULL: libdw's default path */
	/* report the modules only: no DWARF opened (dw NULL) until libdwfl
	 * itself needs it (an unwinder's fallback to .debug_frame) */
	bool no_dwarf;
};

/* Report every module of T. Returns 0 or a negative error (-HG_E_*). */
MUST_CHECK int modset_open(struct target *t, const struct modset_opts *opts,
			   struct modset **ret);
/* modset_open() in two steps: the modules of T found and placed (their
 * ELF headers read), nothing reported to libdwfl yet (no dwfl); then
 * reported, their DWARF opened. */
MUST_CHECK int modset_list(struct target *t, const struct modset_opts *opts,
			   struct modset **ret);
MUST_CHECK int modset_load(struct modset *ms, const struct modset_opts *opts);
/* Do A and B (from modset_list or modset_open) hold the same modules at the
 * same places, from the same files (device, inode, size and mtime), with
 * the same debug path? Then one's DWARF serves the other's target. */
bool modset_same(const struct modset *a, const struct modset *b);
void modset_free(struct modset *ms);

/* Module containing target address ADDR, or NULL. */
struct modset_module *modset_module_at(struct modset *ms, taddr_t addr);

/* Symbol containing ADDR: its name (owned by libdwfl) and ADDR's offset in
 * it. Returns NULL when no symbol covers ADDR. */
const char *modset_symbol_at(struct modset *ms, taddr_t addr, uint64_t *ret_off);

#endif /* HEAPGRAB_DEBUGINFO_MODSET_H */
