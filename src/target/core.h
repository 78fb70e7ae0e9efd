/*
 * core.h - the ELF core dump backend of struct target.
 *
 * target_core_open() maps an x86_64 Linux core file (from the kernel's
 * core_pattern or from gdb's gcore) and fills a struct target from it:
 *
 *   pid       NT_PRPSINFO pr_pid, else the first NT_PRSTATUS's pr_pid
 *   exe       the NT_FILE path of the mapping that holds AT_PHDR, else the
 *             AT_EXECFN string (read from the dumped stack), else opts->exe
 *   root      opts->sysroot, or ""
 *   regions   one per PT_LOAD, merged with the NT_FILE mapping table
 *             (path, byte offset); NT_FILE mappings that have no PT_LOAD
 *             at all (gcore leaves unmodified text out) are regions too.
 *             "[vdso]" (AT_SYSINFO_EHDR), "[stack]" (AT_EXECFN) and
 *             "[vsyscall]" are named; other pseudo names ("[heap]",
 *             "[vvar]") are not recorded in a core and stay NULL.
 *             "shared" is always false: cores do not record it. prot
 *             comes from p_flags; gcore marks every segment readable
 *             (PROT_NONE heap reserves show as r--), and for text it left
 *             out the file's own program headers (in the dumped first
 *             page) give it.
 *   threads   one per NT_PRSTATUS, in note order (threads[0] is the
 *             thread that dumped/faulted for kernel cores, gdb's current
 *             thread for gcore)
 *   auxv      NT_AUXV pairs, without the AT_NULL terminator
 *
 * Reads (target_read) are served, byte range by byte range, from:
 *   1. the PT_LOAD's data in the core file (p_filesz bytes, memory-mapped);
 *   2. for bytes a file-backed mapping has beyond p_filesz, or for NT_FILE
 *      mappings with no PT_LOAD: the mapped file, opened lazily as
 *      opts->exe (for the executable) or sysroot + NT_FILE path, after its
 *      GNU build-id was compared with the one in the core's copy of the
 *      file's first page (when the core holds that page);
 *   3. zeros for p_memsz beyond a non-zero p_filesz of an anonymous
 *      segment (ELF semantics; Linux itself never writes such segments);
 *   4. anything else fails with -HG_E_UNREADABLE: memory the dumper left
 *      out (p_filesz 0: PROT_NONE reserves, coredump_filter, VM_DONTDUMP),
 *      bytes past the end of a truncated core, files missing, deleted or
 *      with the wrong build-id. Zeros are never invented for them.
 * target_map() returns a pointer into the mapped core (or the mapped,
 * verified file) when the whole range lies in one piece of either.
 *
 * Memory: the core is memory-mapped, never read in. So that a walk over a
 * heap of gigabytes does not leave every page it touched resident, the
 * backend drops its mapping's pages from the page tables after every
 * 64 MiB of reads and maps (MADV_DONTNEED; they stay in the page cache and
 * fault back in): peak RSS from the core stays around 64 MiB whatever its
 * size. Pointers from target_map() remain valid throughout. The backend
 * only sees the calls, so a caller that maps a whole 1 GiB heap and walks
 * it through the pointer makes 1 GiB resident: map in windows (say 1 MiB)
 * instead.
 *
 * Nothing is printed. Non-fatal findings are recorded as "problems" (see
 * struct core_problem); some appear only later, when a read first needs a
 * mapped file, so callers that want them all up front call
 * target_core_check_files() first.
 *
 * Lifetime: every pointer handed out (problems, files, target_core_elf)
 * stays valid until target_close(), except the ARRAYS returned by
 * target_core_problems() and target_core_files(), which a later
 * target_read(), target_map() or target_core_check_files() may reallocate
 * (the strings they point to do not move).
 */
#ifndef HEAPGRAB_TARGET_CORE_H
#define HEAPGRAB_TARGET_CORE_H

#include "util/compiler.h"

struct target;
struct Elf;

struct core_opts {
	const char *exe;	/* host path of the executable, or NULL */
	const char *sysroot;	/* host prefix for NT_FILE paths, or NULL */
	/*
	 * A core whose PT_LOAD data runs past the end of the file (a dump
	 * cut short by RLIMIT_CORE or a full disk) makes target_core_open()
	 * fail with -HG_E_TRUNCATED, unless this is set: then it opens with
	 * one CORE_PROBLEM_TRUNCATED problem (start/end span the segments
	 * that lost data), and the missing bytes are unreadable.
	 */
	bool allow_truncated;
};

/*
 * Open the core file PATH. On success *RET_TARGET is a new target (free
 * with target_close()) and 0 is returned. Errors, with *RET_TARGET untouched:
 *   -errno               cannot open, stat or map PATH (-ENOENT, -EACCES, ...)
 *   -HG_E_BAD_ELF        not an ELF file (or its ELF header is nonsense,
 *                        or it has no program headers)
 *   -HG_E_NOT_CORE       an ELF file, but not ET_CORE
 *   -HG_E_UNSUPPORTED    a core for something else than x86_64 (ELFCLASS64,
 *                        little endian, EM_X86_64)
 *   -HG_E_TRUNCATED      ELF header, program headers or notes lie past the
 *                        end of the file; PT_LOAD data too unless
 *                        opts->allow_truncated
 * OPTS may be NULL. The file stays mapped (never read into memory) until
 * target_close().
 */
MUST_CHECK int target_core_open(const char *path, const struct core_opts *opts,
				struct target **ret_target);

/*
 * The same from a file descriptor (not closed; the core keeps its own
 * mapping). Used by the fuzzer on a memfd.
 */
MUST_CHECK int target_core_open_fd(int fd, const struct core_opts *opts,
				   struct target **ret_target);

enum core_problem_kind {
	CORE_PROBLEM_TRUNCATED = 1,	/* PT_LOAD data cut by end of file */
	CORE_PROBLEM_BAD_SEGMENT,	/* PT_LOAD ignored or clipped (overlap,
					 * wraps around, filesz > memsz) */
	CORE_PROBLEM_BAD_NOTE,		/* malformed note ignored */
	CORE_PROBLEM_FILE_MISSING,	/* mapped file cannot be opened */
	CORE_PROBLEM_FILE_DELETED,	/* deleted in the target */
	CORE_PROBLEM_FILE_SHORT,	/* file smaller than what was mapped */
	CORE_PROBLEM_BUILD_ID_MISMATCH,	/* not the file that was mapped */
};

struct core_problem {
	enum core_problem_kind kind;
	int err;		/* matching -HG_E_* or -errno code */
	taddr_t start, end;	/* target range affected; 0, 0 when none */
	const char *path;	/* target path concerned, or NULL */
	/* One line, no "heapgrab: " prefix, no trailing newline, without
	 * the core's name (the caller adds it); says what happens next
	 * ("..., its bytes not in the core are unreadable"). */
	const char *msg;
};

/*
 * Problems found so far, in the order found. Returns the count and sets
 * *RET_PROBLEMS to a borrowed array (see Lifetime above). At most
 * CORE_MAX_PROBLEMS are kept; target_core_problems_dropped() counts the
 * rest (a fuzzed or badly damaged core could otherwise yield millions).
 * Returns 0 for a target of another backend.
 */
#define CORE_MAX_PROBLEMS 256
size_t target_core_problems(const struct target *t,
			    const struct core_problem **ret_problems);
size_t target_core_problems_dropped(const struct target *t);

/* A file the core maps (NT_FILE), one per distinct path. */
struct core_file {
	const char *path;	/* as the target saw it, " (deleted)" removed */
	const char *host_path;	/* where heapgrab reads it: opts->exe for the
				 * executable, else sysroot + path */
	bool deleted;		/* shown as "PATH (deleted)" in the core */
	/* GNU build-id from the core's copy of the file's first page, or
	 * NULL (page not dumped, not an ELF file, no build-id note). */
	const unsigned char *core_build_id;
	size_t core_build_id_len;
	/*
	 * 1 not looked at yet; 0 opened and usable (build-id equal, or not
	 * checkable); else why its bytes are unreadable: -HG_E_FILE_NOT_FOUND
	 * (or another -errno), -HG_E_BUILD_ID_MISMATCH, -HG_E_UNREADABLE
	 * (deleted, not a regular file).
	 */
	int status;
};

/*
 * Mapped files (see Lifetime above for the array). The exe is among them
 * when NT_FILE names it. Returns 0 for a target of another backend.
 */
size_t target_core_files(const struct target *t,
			 const struct core_file **ret_files);

/*
 * Open and verify every mapped file now instead of on first need, adding
 * problems for those missing or mismatched. Returns how many files are
 * unusable (0 when all are fine).
 */
size_t target_core_check_files(struct target *t);

/*
 * The libelf handle of the core (for dwfl_core_file_report() and the
 * like), or NULL for a target of another backend. Borrowed: do not
 * elf_end() it; valid until target_close().
 */
struct Elf *target_core_elf(const struct target *t);

/*
 * Lending a core's bytes to a memory image (snapshot/build.c, the image
 * that leaks, why and top read): instead of a copy of every writable
 * mapping into fresh memory (on a VM the kernel zeroes each fresh page
 * first: most of a 1 GiB core's leak search once), the image borrows the
 * bytes where the core file holds them, from a read-only private mapping
 * of the file that the image owns (the page cache backs it; nothing is
 * copied).
 *
 * target_core_lend() maps the file for IMG (a memimage target, which
 * unmaps it when destroyed) and returns the mapping, or NULL (T is no
 * core, or the mapping failed: then copy). target_core_lent() gives the
 * host pointer, in LENT, of the bytes at ADDR and in *RET_LEN how many of
 * the LEN from ADDR the core file holds in one piece; NULL and 0 when the
 * byte at ADDR is not in the core file (zeros past a PT_LOAD's p_filesz,
 * a page of a mapped file, a core cut short: copy those through
 * target_read()).
 */
const unsigned char *target_core_lend(struct target *t, struct target *img);
const void *target_core_lent(struct target *t, const unsigned char *lent, taddr_t addr,
			     size_t len, size_t *ret_len);

#endif /* HEAPGRAB_TARGET_CORE_H */
