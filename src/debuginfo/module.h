/*
 * module.h - one ELF module of the target with its debug information.
 *
 * A dbg_module wraps a libdwfl session for a single file (libc.so.6 today,
 * every module once typing lands), reported at its load bias so that every
 * address it returns is already an address in the target. Separate debug
 * files are found by build-id in the debug directory (default
 * /usr/lib/debug, or --debug-dir), and through debuginfod when libdw has it
 * and DEBUGINFOD_URLS is set (libdw's own policy; heapgrab never sets it).
 *
 * Ownership: dbg_module_free() releases everything; strings returned are
 * owned by the module and valid until then.
 */
#ifndef HEAPGRAB_DEBUGINFO_MODULE_H
#define HEAPGRAB_DEBUGINFO_MODULE_H

#include "util/compiler.h"

struct dbg_module;

struct dbg_opts {
	/* Directory searched for separate debug files (DIR/.build-id/xx/y.debug
	 * and debuglink names below it). NULL: libdw's default path. */
	const char *debug_dir;
};

/*
 * Debug info from debuginfod servers. libdw's client fetches a module's
 * debug file when it is found nowhere on disk and DEBUGINFOD_URLS names
 * servers (libdwfl asks it from dwfl_standard_find_debuginfo, for every
 * Dwfl heapgrab opens), and caches what it fetched ($DEBUGINFOD_CACHE_PATH,
 * default ~/.cache/debuginfod_client). Its knobs are environment
 * variables it reads when a query starts, so this sets them for the
 * whole process, once, before the first query:
 *   ENABLED false (--no-debuginfod): DEBUGINFOD_URLS is removed, no
 *     server is asked;
 *   DEBUGINFOD_TIMEOUT (seconds to connect and to receive the first
 *     100 KiB) and DEBUGINFOD_MAXTIME (seconds for one whole download)
 *     get heapgrab's defaults, DBG_DEBUGINFOD_TIMEOUT and
 *     DBG_DEBUGINFOD_MAXTIME, unless the user set them;
 *   PROGRESS (stderr is a terminal and output is not quiet): libdw's own
 *     progress line on stderr ("Downloading from URL done/total"),
 *     DEBUGINFOD_PROGRESS=1, unless the user set that variable.
 * The first call wins; dbg_module_open() makes it with ENABLED true and
 * PROGRESS from isatty(2) when nobody did before.
 */
#define DBG_DEBUGINFOD_TIMEOUT 5
#define DBG_DEBUGINFOD_MAXTIME 300
void dbg_debuginfod_configure(bool enabled, bool progress);

/* Open HOST_PATH as loaded at BIAS. Returns 0, -HG_E_BAD_ELF or -errno. */
MUST_CHECK int dbg_module_open(const char *host_path, taddr_t bias,
			       const struct dbg_opts *opts, struct dbg_module **ret_mod);
void dbg_module_free(struct dbg_module *m);

/* Path of the separate debug file in use, or NULL when none was found. */
const char *dbg_debug_file(struct dbg_module *m);
/* True when DWARF (embedded or separate) is available. */
bool dbg_has_dwarf(struct dbg_module *m);

/*
 * Look a symbol up by name in the best symbol table (the debug file's
 * .symtab when found, else .dynsym). For STT_TLS symbols *ret_value is the
 * offset in the module's TLS block and *ret_tls is set. Returns 0 or
 * -ENOENT.
 */
MUST_CHECK int dbg_symbol(struct dbg_module *m, const char *name, taddr_t *ret_value,
			  uint64_t *ret_size, bool *ret_tls);

/*
 * DWARF struct layouts. CU_SUFFIX names the compilation unit to search
 * ("malloc.c"), which keeps lookups fast and unambiguous. Return 0 or
 * -ENOENT.
 */
MUST_CHECK int dbg_struct_size(struct dbg_module *m, const char *cu_suffix,
			       const char *struct_name, uint64_t *ret_size);
MUST_CHECK int dbg_member(struct dbg_module *m, const char *cu_suffix,
			  const char *struct_name, const char *member,
			  uint64_t *ret_offset, uint64_t *ret_size);

/* Address ranges of compilation unit CU_SUFFIX (absolute). Caller frees
 * *ret_ranges (pairs start, end). Returns 0 or -ENOENT. */
MUST_CHECK int dbg_cu_ranges(struct dbg_module *m, const char *cu_suffix,
			     taddr_t **ret_ranges, size_t *ret_nr);

/* The GOT slot that the dynamic linker fills with the thread-pointer offset
 * of the static TLS variable at module TLS offset TLS_OFFSET (an
 * R_X86_64_TPOFF64 relocation with that addend). Returns 0 or -ENOENT. */
MUST_CHECK int dbg_tpoff_slot(struct dbg_module *m, uint64_t tls_offset, taddr_t *ret_slot);

/*
 * Symbols by address, for naming roots (roots/regions.c): the defined
 * data or function symbol whose [value, value + size) holds ADDR, from
 * the best symbol table (as dbg_symbol). *RET_NAME is owned by the module;
 * *RET_OFFSET is ADDR - value; *RET_SIZE (may be NULL) the symbol's size.
 * Returns 0 or -ENOENT.
 */
MUST_CHECK int dbg_symbol_at(struct dbg_module *m, taddr_t addr, const char **ret_name,
			     uint64_t *ret_offset, uint64_t *ret_size);
/* The same for a thread-local symbol: OFFSET is an offset in the module's
 * TLS block (PT_TLS image). */
MUST_CHECK int dbg_tls_symbol_at(struct dbg_module *m, uint64_t offset, const char **ret_name,
				 uint64_t *ret_offset, uint64_t *ret_size);
/* Name of the allocated section (".data", ".bss", ...) holding ADDR.
 * Returns 0 or -ENOENT. */
MUST_CHECK int dbg_section_at(struct dbg_module *m, taddr_t addr, const char **ret_name);
/* The module's PT_TLS segment: its memory size and alignment. Returns 0,
 * or -ENOENT when the module has no TLS. */
MUST_CHECK int dbg_tls_segment(struct dbg_module *m, uint64_t *ret_memsz, uint64_t *ret_align);

#endif /* HEAPGRAB_DEBUGINFO_MODULE_H */
