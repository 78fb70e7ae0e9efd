/*
 * core.c - struct target over an ELF core dump (kernel or gdb gcore).
 *
 * The model. A Linux core is an ELF file of type ET_CORE with no sections
 * that matter, only program headers:
 *
 *   +-------------+  offset 0
 *   | Elf64_Ehdr  |  e_phoff, e_phnum (PN_XNUM: real count in shdr[0])
 *   +-------------+
 *   | Elf64_Phdr  |  PT_NOTE  -> the notes below
 *   | Elf64_Phdr  |  PT_LOAD  p_vaddr, p_memsz (the whole mapping),
 *   | ...         |           p_offset, p_filesz (what was written out),
 *   +-------------+           p_flags R/W/X
 *   | notes       |  per thread: NT_PRSTATUS (+ FP/XSAVE, ignored here);
 *   |             |  once: NT_PRPSINFO, NT_AUXV, NT_FILE, NT_SIGINFO
 *   +-------------+
 *   | PT_LOAD data|  page aligned for the kernel; packed (align 1) by gcore,
 *   | ...         |  whose PT_NOTE comes after the data instead
 *   +-------------+
 *
 * Notes used (all with owner "CORE"; x86_64 offsets, glibc <sys/procfs.h>):
 *
 *   NT_PRSTATUS (336 bytes)        NT_PRPSINFO (136 bytes)
 *     0   pr_info, pr_cursig, ...    24  pr_pid
 *     32  pr_pid  (the thread id)    40  pr_fname[16]
 *     112 pr_reg  (struct            56  pr_psargs[80]
 *         user_regs_struct, 216)
 *
 *   NT_FILE                          NT_AUXV
 *     u64 count, u64 page_size         (u64 type, u64 value) pairs up to
 *     count x (u64 start, end, pgoff)  AT_NULL
 *     count NUL-terminated paths
 *   The file offset of a mapping is pgoff * page_size: the kernel writes
 *   page_size 4096 (offsets in pages), gdb writes 1 (offsets in bytes).
 *
 * What each dumper leaves out (doc/glibc-malloc.md §13): the kernel writes
 * one PT_LOAD per VMA; never-written file mappings get p_filesz 0 except
 * for the first page of an ELF file (so the build-id note is in the core),
 * PROT_NONE reserves and coredump_filter-excluded or VM_DONTDUMP memory get
 * p_filesz 0 too. gcore writes no PT_LOAD at all for unmodified text, but
 * writes the PROT_NONE reserves out as zeros.
 *
 * So the address space is assembled from two sorted lists, PT_LOADs and
 * NT_FILE mappings, cut at every boundary of either into "segments" (one
 * per struct target_region, same index). A read walks the segments and
 * takes each byte from the first source that holds it: the core's data,
 * else the mapped file (found through the sysroot, mmapped on first use,
 * refused if its build-id differs from the one in the core's copy of its
 * first page), else zeros for the tail of a partially written anonymous
 * PT_LOAD; otherwise the read fails with -HG_E_UNREADABLE. Zeros are never
 * made up for memory the dumper skipped: a heap reserve that reads as zeros
 * would look like a valid empty heap to the walker.
 *
 * Robustness: the core is hostile input. Every offset and size from it is
 * range-checked against the file size before use, arithmetic is checked
 * for wrap-around, malformed notes and segments are skipped with a
 * recorded problem, and tests/fuzz/fuzz-core.c runs this file under
 * libFuzzer + ASan. Nothing is read into memory: the core and the mapped
 * files are mmapped PROT_READ, MAP_PRIVATE, so a 4 GiB core costs only the
 * pages the walk touches.
 *
 * Invariants: segs[] and t->regions[] are sorted, non-overlapping and
 * index-parallel; files[] is fixed after open (core_file pointers handed
 * out stay valid); problems[] may grow at read time.
 */
#include "config.h"
#include "target/core.h"
#include "target/target.h"
#include "util/elf-note.h"
#include "util/errors.h"
#include "util/le.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <pthread.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <unistd.h>

/* x86_64 note layouts (see the essay above). */
#define PRSTATUS_PID_OFF	32
#define PRSTATUS_REG_OFF	112
#define PRSTATUS_MIN_SIZE	\
	(PRSTATUS_REG_OFF + sizeof(struct user_regs_struct))
#define PRPSINFO_PID_OFF	24
#define PRPSINFO_MIN_SIZE	(PRPSINFO_PID_OFF + 4)

_Static_assert(sizeof(struct user_regs_struct) == 27 * 8,
	       "x86_64 user_regs_struct is 27 words");

#define VSYSCALL_ADDR		0xffffffffff600000ull
/* x86_64 page size: the granularity of mappings in the target. */
#define TARGET_PAGE		4096ull
/* A GNU build-id is 20 bytes (sha1) in practice; allow up to 64. */
#define BUILD_ID_MAX		64
/* The longest AT_EXECFN string we read from the dumped stack. */
#define EXECFN_MAX		4096
/* PT_NOTE segments of a mapped file larger than this are not searched for
 * a build-id (real ones are a few hundred bytes). */
#define FILE_NOTE_MAX		(64 * 1024)
/*
 * Resident-set budget for the core mapping. Every page of the mapping a
 * walk touches stays mapped, so walking a 1 GiB heap would leave 1 GiB
 * resident (measured: peak RSS 1.07 GB reading a 1.09 GB core). After
 * this many page changes, the mapping is dropped from the page tables
 * with MADV_DONTNEED: the pages stay in the page cache, pointers handed
 * out by target_map() stay valid (a read-only private file mapping just
 * faults them in again), and RSS stays near this budget.
 */
#define CORE_RSS_BUDGET_PAGES	(64u * 1024 * 1024 / 4096)
#define FAULT_AROUND_PAGES	16
/* Reads of at least this many bytes use pread() (see pread_all). */
#define CORE_PREAD_MIN		(64u * 1024)

/* A PT_LOAD after sanitising. */
struct load {
	taddr_t start, end;
	uint64_t offset;	/* p_offset */
	uint64_t filesz;	/* p_filesz, at most memsz */
	uint64_t avail;		/* bytes of filesz present in the file */
	unsigned prot;
};

/* An NT_FILE mapping after sanitising. */
struct fmap {
	taddr_t start, end;
	uint64_t offset;	/* in bytes */
	size_t file;		/* index into core->files */
};

/* Where the bytes of one segment come from. */
struct seg {
	taddr_t start, end;
	uint64_t core_off;	/* core file offset of the byte at start */
	uint64_t core_len;	/* bytes from start held in the core */
	uint64_t nominal_len;	/* bytes from start the PT_LOAD claims
				 * (> core_len when the core is cut short) */
	bool in_load;
	unsigned load_prot;	/* TARGET_PROT_* of the PT_LOAD (in_load) */
	bool zero_tail;		/* anonymous, 0 < p_filesz < p_memsz */
	long file;		/* index into core->files, or -1 */
	uint64_t file_off;	/* file offset of the byte at start */
};

struct cfile {
	struct core_file *pub;	/* &core->pub_files[same index] */
	char *path;
	char *host_path;
	bool needed;		/* some mapped byte is not in the core */
	bool user_supplied;	/* host_path is opts->exe */
	bool id_done;		/* core_id looked for */
	bool opened;		/* cfile_open() done (atomic) */
	unsigned char core_id[BUILD_ID_MAX];
	taddr_t first_start;	/* lowest mapping at file offset 0 */
	taddr_t first_end;
	bool has_first;
	const unsigned char *map;
	size_t size;
};

struct core {
	const unsigned char *map;
	size_t size;
	int fd;			/* the core, for pread() of large ranges */
	Elf *elf;
	struct seg *segs;
	size_t nr_segs;
	size_t last_seg;	/* lookup cache */
	uint64_t last_page;	/* core page of the last access */
	size_t touched;		/* page changes since the last trim */
	bool no_populate;	/* MADV_POPULATE_READ refused (old kernel) */
	pthread_mutex_t lock;	/* cfile_open() */
	struct cfile *files;
	struct core_file *pub_files;	/* target_core_files()'s array */
	size_t nr_files;
	struct core_problem *problems;
	size_t nr_problems, alloc_problems, dropped_problems;
};

static const struct target_ops core_ops;

static struct core *core_of(const struct target *t)
{
	if (!t || t->ops != &core_ops)
		return NULL;
	return t->priv;
}

/*
 * Account for an access to [OFF, OFF + LEN) of the core mapping; see
 * CORE_RSS_BUDGET_PAGES.
 */
static void core_touch(struct core *c, uint64_t off, uint64_t len)
{
	uint64_t page = off / TARGET_PAGE;

	/* Several threads may read at once (the walk's): the counters are
	 * updated atomically; a lost update only moves a trim a little. */
	if (page == __atomic_load_n(&c->last_page, __ATOMIC_RELAXED) && len <= TARGET_PAGE)
		return;
	__atomic_store_n(&c->last_page, page, __ATOMIC_RELAXED);
	/* A fault maps its neighbours too (the kernel's fault-around,
	 * 64 KiB by default): count a scattered touch as that many pages,
	 * or RSS outgrows the budget 16-fold (measured: 682 MB for a
	 * 1.2 GB core whose bins were cross-checked read by read). */
	if (__atomic_add_fetch(&c->touched, FAULT_AROUND_PAGES + len / TARGET_PAGE,
			       __ATOMIC_RELAXED) < CORE_RSS_BUDGET_PAGES)
		return;
	__atomic_store_n(&c->touched, 0, __ATOMIC_RELAXED);
	/* Pointers handed out stay valid: a read-only private file mapping
	 * faults the pages in again, in any thread. */
	(void)madvise((void *)c->map, c->size, MADV_DONTNEED);
}

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22	/* Linux 5.14 */
#endif

/*
 * Map [OFF, OFF + LEN) of the core in one system call before a large read
 * through the mapping (a heap walk window): MADV_POPULATE_READ fills the
 * page table entries for pages already in the page cache (and reads the
 * others) without a fault per page, and the walk then reads the bytes
 * where they lie, with no copy. Measured on a 1.4 GB gcore: pread() of
 * every 1 MiB window spent most of the census copying. False when the
 * kernel does not have it (before 5.14): then pread().
 */
static bool core_populate(struct core *c, uint64_t off, uint64_t len)
{
	uintptr_t a = (uintptr_t)(c->map + off) & ~(uintptr_t)(TARGET_PAGE - 1);
	uintptr_t e = (uintptr_t)(c->map + off + len);

	if (__atomic_load_n(&c->no_populate, __ATOMIC_RELAXED))
		return false;
	if (madvise((void *)a, e - a, MADV_POPULATE_READ) == 0)
		return true;
	if (errno == EINVAL)
		__atomic_store_n(&c->no_populate, true, __ATOMIC_RELAXED);
	return false;
}

/* ---- problems ---- */

static void ATTR_FORMAT(7, 8)
add_problem(struct core *c, enum core_problem_kind kind, int err,
	    taddr_t start, taddr_t end, const char *path, const char *fmt, ...)
{
	struct core_problem *p;
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	if (c->nr_problems >= CORE_MAX_PROBLEMS) {
		c->dropped_problems++;
		return;
	}
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	/* One line whatever the paths in the core contain. */
	for (size_t i = 0; i < sb.len; i++)
		if ((unsigned char)sb.buf[i] < 0x20 || sb.buf[i] == 0x7f)
			sb.buf[i] = '?';
	ALLOC_GROW(c->problems, c->nr_problems + 1, c->alloc_problems);
	p = &c->problems[c->nr_problems++];
	*p = (struct core_problem){
		.kind = kind, .err = err, .start = start, .end = end,
		.path = path ? xstrdup(path) : NULL,
		.msg = strbuf_detach(&sb, NULL),
	};
}

/* ---- small readers for untrusted bytes ---- */

/* True if [off, off + len) lies inside an object of SIZE bytes. */
static bool in_bounds(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

/* ---- GNU build-id of an ELF image reached through a reader ---- */

/* Read LEN bytes at file offset OFF of some ELF image; 0 or negative. */
typedef int (*image_read_fn)(void *ctx, uint64_t off, void *buf, size_t len);

/*
 * Find the NT_GNU_BUILD_ID note through the program headers. Returns the
 * id length (> 0) copied to ID, 0 when the image is an ELF file without a
 * build-id, -1 when the bytes are not readable or not a 64-bit LSB ELF.
 */
static int image_build_id(image_read_fn rd, void *ctx,
			  unsigned char id[BUILD_ID_MAX])
{
	Elf64_Ehdr eh;
	int found = 0;

	if (rd(ctx, 0, &eh, sizeof(eh)) < 0)
		return -1;
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_phentsize != sizeof(Elf64_Phdr))
		return -1;
	/* PN_XNUM (0xffff) would need section 0: not in a mapped first page
	 * anyway, and no shared object has that many segments. */
	for (unsigned i = 0; i < eh.e_phnum && eh.e_phnum != PN_XNUM; i++) {
		Elf64_Phdr ph;
		const unsigned char *desc;
		unsigned char *buf;
		size_t n;
		uint64_t off = eh.e_phoff + (uint64_t)i * sizeof(ph);

		if (off < eh.e_phoff || rd(ctx, off, &ph, sizeof(ph)) < 0)
			return -1;
		if (ph.p_type != PT_NOTE || !ph.p_filesz ||
		    ph.p_filesz > FILE_NOTE_MAX)
			continue;
		buf = xmalloc(ph.p_filesz);
		if (rd(ctx, ph.p_offset, buf, ph.p_filesz) < 0) {
			free(buf);
			continue;
		}
		n = elf_notes_build_id(buf, ph.p_filesz, ph.p_align == 8 ? 8 : 4, &desc);
		if (n > 0 && n <= BUILD_ID_MAX) {
			memcpy(id, desc, n);
			found = (int)n;
		}
		free(buf);
		if (found)
			return found;
	}
	return 0;
}

/* ---- segment lookup and core-only reads ---- */

static long find_seg(struct core *c, taddr_t addr)
{
	size_t lo = 0, hi = c->nr_segs;

	size_t last = __atomic_load_n(&c->last_seg, __ATOMIC_RELAXED);

	if (last < c->nr_segs && addr >= c->segs[last].start && addr < c->segs[last].end)
		return (long)last;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < c->segs[mid].start)
			hi = mid;
		else if (addr >= c->segs[mid].end)
			lo = mid + 1;
		else {
			__atomic_store_n(&c->last_seg, mid, __ATOMIC_RELAXED);
			return (long)mid;
		}
	}
	return -1;
}

/* Read only what the core itself holds (no files, no zero fill). */
static int core_only_read(struct core *c, taddr_t addr, void *buf, size_t len)
{
	unsigned char *out = buf;

	while (len) {
		long i = find_seg(c, addr);
		const struct seg *s;
		uint64_t off, n;

		if (i < 0)
			return -HG_E_UNREADABLE;
		s = &c->segs[i];
		off = addr - s->start;
		if (off >= s->core_len)
			return -HG_E_UNREADABLE;
		n = MIN((uint64_t)len, s->core_len - off);
		core_touch(c, s->core_off + off, n);
		memcpy(out, c->map + s->core_off + off, n);
		out += n;
		addr += n;
		len -= n;
	}
	return 0;
}

struct first_page_ctx {
	struct core *c;
	taddr_t start, end;	/* the file's mapping at offset 0 */
};

static int first_page_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	struct first_page_ctx *fp = ctx;
	uint64_t size = fp->end - fp->start;

	if (!in_bounds(off, len, size))
		return -HG_E_UNREADABLE;
	return core_only_read(fp->c, fp->start + off, buf, len);
}

struct file_image_ctx {
	const unsigned char *map;
	size_t size;
};

static int file_image_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	struct file_image_ctx *fi = ctx;

	if (!in_bounds(off, len, fi->size))
		return -HG_E_UNREADABLE;
	memcpy(buf, fi->map + off, len);
	return 0;
}

/* The build-id in the core's copy of F's first page, looked up once. */
static void cfile_core_id(struct core *c, struct cfile *f)
{
	struct first_page_ctx fp = { c, f->first_start, f->first_end };
	int n;

	if (f->id_done)
		return;
	f->id_done = true;
	if (!f->has_first)
		return;
	n = image_build_id(first_page_read, &fp, f->core_id);
	if (n > 0) {
		f->pub->core_build_id = f->core_id;
		f->pub->core_build_id_len = (size_t)n;
	}
}

static void hex_id(struct strbuf *sb, const unsigned char *id, size_t len)
{
	for (size_t i = 0; i < len; i++)
		strbuf_addf(sb, "%02x", id[i]);
}

/* V rounded up to a target page (saturating). */
static uint64_t page_up(uint64_t v)
{
	return v > UINT64_MAX - (TARGET_PAGE - 1) ? UINT64_MAX :
	       (v + TARGET_PAGE - 1) & ~(TARGET_PAGE - 1);
}

static void cfile_refuse(struct core *c, struct cfile *f, int err,
			 enum core_problem_kind kind, const char *why)
{
	f->pub->status = err;
	if (!f->needed && kind == CORE_PROBLEM_FILE_DELETED)
		return;
	add_problem(c, kind, err, 0, 0, f->path,
		    "mapped file '%s'%s%s%s: %s, its bytes not in the core are unreadable",
		    f->path, strcmp(f->path, f->host_path) ? " (looked for at '" : "",
		    strcmp(f->path, f->host_path) ? f->host_path : "",
		    strcmp(f->path, f->host_path) ? "')" : "", why);
}

/* End of the file range (offset + length) that the segments map from F. */
/*
 * End of the file bytes that the process could read through its mappings
 * of file IDX. Mappings the core shows without access do not count: ld.so
 * before glibc 2.28 (Ubuntu bionic's 2.27) maps a library's whole span
 * and then makes the gap between text and data PROT_NONE, a mapping that
 * runs up to 2 MiB past the file's end (kernel cores give it a PT_LOAD
 * with no flags). gcore writes no PT_LOAD at all for such a gap, nor for
 * unmodified text; those are left out too: text lies inside the file, and
 * a read past its end still fails when it happens (cfile_read).
 */
static uint64_t cfile_mapped_end(const struct core *c, size_t idx)
{
	uint64_t end = 0;

	for (size_t i = 0; i < c->nr_segs; i++) {
		const struct seg *s = &c->segs[i];

		uint64_t e = s->file_off + (s->end - s->start);

		if (s->file == (long)idx && s->in_load && s->load_prot && e > end)
			end = e;
	}
	return end;
}

static void cfile_open_locked(struct core *c, struct cfile *f);

/* Open, map and verify mapped file F once; sets f->pub->status. Threads
 * that read at once open it one at a time (the problems list grows). */
static void cfile_open(struct core *c, struct cfile *f)
{
	if (__atomic_load_n(&f->opened, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&c->lock);
	cfile_open_locked(c, f);
	__atomic_store_n(&f->opened, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&c->lock);
}

static void cfile_open_locked(struct core *c, struct cfile *f)
{
	unsigned char id[BUILD_ID_MAX];
	struct file_image_ctx fi;
	struct stat st;
	void *map = NULL;
	int fd, n;

	if (f->pub->status != 1)
		return;
	cfile_core_id(c, f);
	if (f->pub->deleted && !f->user_supplied) {
		cfile_refuse(c, f, -HG_E_UNREADABLE, CORE_PROBLEM_FILE_DELETED,
			     "deleted in the target");
		return;
	}
	fd = open(f->host_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		int err = errno == ENOENT ? -HG_E_FILE_NOT_FOUND : -errno;

		cfile_refuse(c, f, err, CORE_PROBLEM_FILE_MISSING,
			     err == -HG_E_FILE_NOT_FOUND ? "not found" :
			     hg_strerror(err));
		return;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		cfile_refuse(c, f, -HG_E_UNREADABLE, CORE_PROBLEM_FILE_MISSING,
			     "not a regular file");
		return;
	}
	if (st.st_size > 0) {
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE,
			   fd, 0);
		if (map == MAP_FAILED) {
			int err = -errno;

			close(fd);
			cfile_refuse(c, f, err, CORE_PROBLEM_FILE_MISSING,
				     hg_strerror(err));
			return;
		}
	}
	close(fd);
	fi = (struct file_image_ctx){ map, map ? (size_t)st.st_size : 0 };
	if (f->pub->core_build_id) {
		n = image_build_id(file_image_read, &fi, id);
		if (n != (int)f->pub->core_build_id_len ||
		    memcmp(id, f->pub->core_build_id, (size_t)n)) {
			struct strbuf sb = STRBUF_INIT;

			strbuf_addstr(&sb, "build-id ");
			if (n > 0)
				hex_id(&sb, id, (size_t)n);
			else
				strbuf_addstr(&sb, "(none)");
			strbuf_addstr(&sb, " does not match the core's ");
			hex_id(&sb, f->pub->core_build_id,
			       f->pub->core_build_id_len);
			if (map)
				munmap(map, fi.size);
			cfile_refuse(c, f, -HG_E_BUILD_ID_MISMATCH,
				     CORE_PROBLEM_BUILD_ID_MISMATCH, sb.buf);
			strbuf_release(&sb);
			return;
		}
	}
	f->map = map;
	f->size = fi.size;
	f->pub->status = 0;
	if (page_up(f->size) < cfile_mapped_end(c, (size_t)(f - c->files)))
		add_problem(c, CORE_PROBLEM_FILE_SHORT, -HG_E_UNREADABLE, 0, 0,
			    f->path,
			    "mapped file '%s' is shorter (%zu bytes) than the target mapped, bytes past its end are unreadable",
			    f->path, f->size);
}

/*
 * LEN bytes at offset OFF of mapped file IDX: the file's bytes, then zeros
 * up to the end of its last page (what the process saw there: the kernel
 * zero-fills the tail of a mapping's last page), then nothing (SIGBUS in
 * the process, unreadable here).
 */
static int cfile_read(struct core *c, long idx, uint64_t off, void *buf,
		      size_t len)
{
	struct cfile *f = &c->files[idx];
	uint64_t n;

	cfile_open(c, f);
	if (f->pub->status)
		return -HG_E_UNREADABLE;
	if (!in_bounds(off, len, page_up(f->size)))
		return -HG_E_UNREADABLE;
	n = off < f->size ? MIN((uint64_t)len, f->size - off) : 0;
	if (n)
		memcpy(buf, f->map + off, n);
	memset((unsigned char *)buf + n, 0, len - n);
	return 0;
}

/* ---- target_ops ---- */

/*
 * Large reads into the caller's buffer use pread() rather than a copy out
 * of the mapping: no page tables are filled and nothing stays resident
 * (faulted in page by page, a 1 GiB core cost 3.3 s of system time). A
 * large core_map() (the walk's 1 MiB windows) maps its pages in one call
 * instead (core_populate), and only falls back to this. True when all N
 * bytes were read.
 */
static bool pread_all(struct core *c, unsigned char *out, uint64_t n, uint64_t off)
{
	while (n) {
		ssize_t r = pread(c->fd, out, n, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		out += r;
		off += (uint64_t)r;
		n -= (uint64_t)r;
	}
	return true;
}

static int core_read(struct target *t, taddr_t addr, void *buf, size_t len)
{
	struct core *c = t->priv;
	unsigned char *out = buf;

	while (len) {
		long i = find_seg(c, addr);
		const struct seg *s;
		uint64_t off, n;
		int r;

		if (i < 0)
			return -HG_E_UNREADABLE;
		s = &c->segs[i];
		off = addr - s->start;
		n = MIN((uint64_t)len, s->end - addr);
		if (off < s->core_len) {
			n = MIN(n, s->core_len - off);
			if (n < CORE_PREAD_MIN || !pread_all(c, out, n, s->core_off + off)) {
				core_touch(c, s->core_off + off, n);
				memcpy(out, c->map + s->core_off + off, n);
			}
		} else if (off < s->nominal_len) {
			return -HG_E_UNREADABLE;	/* cut off by EOF */
		} else if (s->file >= 0) {
			r = cfile_read(c, s->file, s->file_off + off, out, n);
			if (r < 0)
				return r;
		} else if (s->zero_tail) {
			memset(out, 0, n);
		} else {
			return -HG_E_UNREADABLE;
		}
		out += n;
		addr += n;
		len -= n;
	}
	return 0;
}

static const void *core_map(struct target *t, taddr_t addr, size_t len)
{
	struct core *c = t->priv;
	long i = find_seg(c, addr);
	const struct seg *s;
	const struct cfile *f;
	uint64_t off;

	if (i < 0)
		return NULL;
	s = &c->segs[i];
	off = addr - s->start;
	if (off < s->core_len) {
		if (len > s->core_len - off)
			return NULL;
		/* Large ranges: the page tables filled in one call, or
		 * core_read's pread() when the kernel cannot. */
		if (len >= CORE_PREAD_MIN && c->fd >= 0 && !core_populate(c, s->core_off + off, len))
			return NULL;
		core_touch(c, s->core_off + off, len);
		return c->map + s->core_off + off;
	}
	if (off < s->nominal_len || s->file < 0 || len > s->end - addr)
		return NULL;
	f = &c->files[s->file];
	cfile_open(c, &c->files[s->file]);
	if (f->pub->status || !in_bounds(s->file_off + off, len, f->size))
		return NULL;
	return f->map + s->file_off + off;
}

const unsigned char *target_core_lend(struct target *t, struct target *img)
{
	struct core *c = core_of(t);
	struct memimage *m = memimage_of(img);
	void *p;

	if (!c || !m || c->fd < 0 || !c->size)
		return NULL;
	p = mmap(NULL, c->size, PROT_READ, MAP_PRIVATE, c->fd, 0);
	if (p == MAP_FAILED)
		return NULL;
	memimage_own_mapping(m, p, c->size);
	return p;
}

const void *target_core_lent(struct target *t, const unsigned char *lent, taddr_t addr,
			     size_t len, size_t *ret_len)
{
	struct core *c = core_of(t);
	const struct seg *s;
	uint64_t off;
	long i;

	*ret_len = 0;
	if (!c || !lent || (i = find_seg(c, addr)) < 0)
		return NULL;
	s = &c->segs[i];
	off = addr - s->start;
	if (off >= s->core_len)
		return NULL;
	*ret_len = (size_t)MIN((uint64_t)len, s->core_len - off);
	return lent + s->core_off + off;
}

static void core_close(struct target *t)
{
	struct core *c = t->priv;

	if (!c)
		return;
	for (size_t i = 0; i < c->nr_files; i++) {
		if (c->files[i].map)
			munmap((void *)c->files[i].map, c->files[i].size);
		free(c->files[i].path);
		free(c->files[i].host_path);
	}
	free(c->files);
	free(c->pub_files);
	for (size_t i = 0; i < c->nr_problems; i++) {
		free((char *)c->problems[i].path);
		free((char *)c->problems[i].msg);
	}
	free(c->problems);
	free(c->segs);
	pthread_mutex_destroy(&c->lock);
	if (c->fd >= 0)
		close(c->fd);
	if (c->elf)
		elf_end(c->elf);
	if (c->map)
		munmap((void *)c->map, c->size);
	free(c);
	t->priv = NULL;
}

/* Reads change nothing but atomic counters and, under a lock, the files
 * opened on first need: the walk may read from several threads. */
static bool core_concurrent(const struct target *t)
{
	(void)t;
	return true;
}

static const struct target_ops core_ops = {
	.name = "core",
	.read = core_read,
	.map = core_map,
	.close = core_close,
	.concurrent = core_concurrent,
};

/* ---- opening: ELF header ---- */

static int check_ehdr(const unsigned char *m, size_t size)
{
	unsigned cls, data, type, machine;

	if (size < SELFMAG || memcmp(m, ELFMAG, SELFMAG))
		return -HG_E_BAD_ELF;
	if (size < EI_NIDENT)
		return -HG_E_TRUNCATED;
	cls = m[EI_CLASS];
	data = m[EI_DATA];
	if ((cls != ELFCLASS32 && cls != ELFCLASS64) ||
	    (data != ELFDATA2LSB && data != ELFDATA2MSB) ||
	    m[EI_VERSION] != EV_CURRENT)
		return -HG_E_BAD_ELF;
	if (size < (cls == ELFCLASS64 ? sizeof(Elf64_Ehdr) :
					 sizeof(Elf32_Ehdr)))
		return -HG_E_TRUNCATED;
	/* e_type and e_machine sit at 16 and 18 in both classes. */
	if (data == ELFDATA2LSB) {
		type = m[16] | (unsigned)m[17] << 8;
		machine = m[18] | (unsigned)m[19] << 8;
	} else {
		type = (unsigned)m[16] << 8 | m[17];
		machine = (unsigned)m[18] << 8 | m[19];
	}
	if (type != ET_CORE)
		return -HG_E_NOT_CORE;
	if (cls != ELFCLASS64 || data != ELFDATA2LSB || machine != EM_X86_64)
		return -HG_E_UNSUPPORTED;
	return 0;
}

/* ---- opening: notes ---- */

/* One NT_FILE entry before sanitising. */
struct raw_fmap {
	taddr_t start, end;
	uint64_t offset;
	const char *path;
	size_t path_len;
	bool deleted;
	size_t file;
};

struct parse {
	struct core *c;
	struct target *t;
	const struct core_opts *opts;
	struct load *loads;
	size_t nr_loads, alloc_loads;
	size_t alloc_threads;
	bool have_prpsinfo, have_auxv, have_file;
	int prpsinfo_pid;
	struct raw_fmap *raw;
	size_t nr_raw;
	struct fmap *fmaps;
	size_t nr_fmaps;
	size_t nr_cut;		/* PT_LOADs cut short by the end of file */
	uint64_t cut_bytes, cut_lo, cut_hi;
};

static void bad_note(struct parse *p, const char *what, const char *fmt, ...)
	ATTR_FORMAT(3, 4);
static void bad_note(struct parse *p, const char *what, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	add_problem(p->c, CORE_PROBLEM_BAD_NOTE, -HG_E_BAD_ELF, 0, 0, NULL,
		    "malformed %s note (%s), ignoring it", what, sb.buf);
	strbuf_release(&sb);
}

static void parse_prstatus(struct parse *p, const struct elf_note *n)
{
	struct target *t = p->t;
	struct target_thread *th;

	if (n->descsz < PRSTATUS_MIN_SIZE) {
		bad_note(p, "NT_PRSTATUS", "%zu bytes", n->descsz);
		return;
	}
	ALLOC_GROW(t->threads, t->nr_threads + 1, p->alloc_threads);
	th = &t->threads[t->nr_threads++];
	th->tid = (int)get_le32(n->desc + PRSTATUS_PID_OFF);
	memcpy(&th->regs, n->desc + PRSTATUS_REG_OFF, sizeof(th->regs));
}

static void parse_prpsinfo(struct parse *p, const struct elf_note *n)
{
	if (p->have_prpsinfo)
		return;
	if (n->descsz < PRPSINFO_MIN_SIZE) {
		bad_note(p, "NT_PRPSINFO", "%zu bytes", n->descsz);
		return;
	}
	p->have_prpsinfo = true;
	p->prpsinfo_pid = (int)get_le32(n->desc + PRPSINFO_PID_OFF);
}

static void parse_auxv(struct parse *p, const struct elf_note *n)
{
	struct target *t = p->t;
	size_t nr = n->descsz / 16;

	if (p->have_auxv)
		return;
	p->have_auxv = true;
	t->auxv = xmalloc(st_mult(nr ? nr : 1, 16));
	for (size_t i = 0; i < nr; i++) {
		uint64_t type = get_le64(n->desc + 16 * i);

		if (type == AT_NULL)
			break;
		t->auxv[2 * i] = type;
		t->auxv[2 * i + 1] = get_le64(n->desc + 16 * i + 8);
		t->nr_auxv++;
	}
}

static void parse_file(struct parse *p, const struct elf_note *n)
{
	static const char deleted[] = " (deleted)";
	const size_t dlen = sizeof(deleted) - 1;
	uint64_t count, page_size;
	const char *names, *end;

	if (p->have_file)
		return;
	p->have_file = true;
	if (n->descsz < 16) {
		bad_note(p, "NT_FILE", "%zu bytes", n->descsz);
		return;
	}
	count = get_le64(n->desc);
	page_size = get_le64(n->desc + 8);
	if (count > (n->descsz - 16) / 24) {
		bad_note(p, "NT_FILE", "%llu entries do not fit in %zu bytes",
			 (unsigned long long)count, n->descsz);
		return;
	}
	names = (const char *)n->desc + 16 + count * 24;
	end = (const char *)n->desc + n->descsz;
	p->raw = xcalloc(count ? count : 1, sizeof(*p->raw));
	for (uint64_t i = 0; i < count; i++) {
		const unsigned char *e = n->desc + 16 + i * 24;
		struct raw_fmap *r = &p->raw[p->nr_raw];
		const char *nul = memchr(names, '\0', (size_t)(end - names));
		uint64_t pgoff = get_le64(e + 16);

		memset(r, 0, sizeof(*r));	/* may hold a skipped entry */
		if (!nul) {
			bad_note(p, "NT_FILE", "%llu of %llu paths missing",
				 (unsigned long long)(count - i),
				 (unsigned long long)count);
			break;
		}
		r->start = get_le64(e);
		r->end = get_le64(e + 8);
		r->path = names;
		r->path_len = (size_t)(nul - names);
		names = nul + 1;
		if (r->path_len > dlen &&
		    !memcmp(r->path + r->path_len - dlen, deleted, dlen)) {
			r->path_len -= dlen;
			r->deleted = true;
		}
		if (r->start >= r->end ||
		    (page_size && pgoff > UINT64_MAX / page_size)) {
			bad_note(p, "NT_FILE", "entry %llu: bad range or offset",
				 (unsigned long long)i);
			continue;
		}
		r->offset = pgoff * page_size;
		if (r->offset > UINT64_MAX - (r->end - r->start)) {
			bad_note(p, "NT_FILE", "entry %llu: offset wraps around",
				 (unsigned long long)i);
			continue;
		}
		p->nr_raw++;
	}
}

static int parse_notes(struct parse *p, const GElf_Phdr *ph)
{
	struct core *c = p->c;
	size_t pos = 0, size = ph->p_filesz;
	size_t align = ph->p_align == 8 ? 8 : 4;
	const unsigned char *buf = c->map + ph->p_offset;
	struct elf_note n;
	int r;

	while ((r = elf_note_next(buf, size, &pos, align, &n)) > 0) {
		if (!elf_note_named(&n, "CORE"))
			continue;
		switch (n.type) {
		case NT_PRSTATUS:
			parse_prstatus(p, &n);
			break;
		case NT_PRPSINFO:
			parse_prpsinfo(p, &n);
			break;
		case NT_AUXV:
			parse_auxv(p, &n);
			break;
		case NT_FILE:
			parse_file(p, &n);
			break;
		default:
			break;
		}
	}
	if (r < 0)
		add_problem(c, CORE_PROBLEM_BAD_NOTE, -HG_E_BAD_ELF, 0, 0, NULL,
			    "malformed note at offset 0x%llx, ignoring the rest of its PT_NOTE",
			    (unsigned long long)(ph->p_offset + pos));
	return 0;
}

/* ---- opening: segments ---- */

static unsigned prot_of_flags(uint64_t flags)
{
	return (flags & PF_R ? TARGET_PROT_READ : 0) |
	       (flags & PF_W ? TARGET_PROT_WRITE : 0) |
	       (flags & PF_X ? TARGET_PROT_EXEC : 0);
}

static int add_load(struct parse *p, const GElf_Phdr *ph)
{
	struct core *c = p->c;
	struct load *l;
	uint64_t filesz = ph->p_filesz;

	if (!ph->p_memsz)
		return 0;
	if (ph->p_vaddr > UINT64_MAX - ph->p_memsz) {
		add_problem(c, CORE_PROBLEM_BAD_SEGMENT, -HG_E_BAD_ELF,
			    ph->p_vaddr, 0, NULL,
			    "PT_LOAD at 0x%llx wraps around the address space, ignoring it",
			    (unsigned long long)ph->p_vaddr);
		return 0;
	}
	if (filesz > ph->p_memsz) {
		add_problem(c, CORE_PROBLEM_BAD_SEGMENT, -HG_E_BAD_ELF,
			    ph->p_vaddr, ph->p_vaddr + ph->p_memsz, NULL,
			    "PT_LOAD at 0x%llx has more file than memory bytes, using the first 0x%llx",
			    (unsigned long long)ph->p_vaddr,
			    (unsigned long long)ph->p_memsz);
		filesz = ph->p_memsz;
	}
	ALLOC_GROW(p->loads, p->nr_loads + 1, p->alloc_loads);
	l = &p->loads[p->nr_loads++];
	*l = (struct load){
		.start = ph->p_vaddr,
		.end = ph->p_vaddr + ph->p_memsz,
		.offset = ph->p_offset,
		.filesz = filesz,
		.avail = filesz,
		.prot = prot_of_flags(ph->p_flags),
	};
	if (filesz && !in_bounds(ph->p_offset, filesz, c->size)) {
		/* One problem for all of them, added by core_parse(): a cut
		 * core loses every segment past the cut. */
		if (!p->opts->allow_truncated)
			return -HG_E_TRUNCATED;
		l->avail = ph->p_offset < c->size ? c->size - ph->p_offset : 0;
		if (!p->nr_cut || l->start < p->cut_lo)
			p->cut_lo = l->start;
		if (!p->nr_cut || l->end > p->cut_hi)
			p->cut_hi = l->end;
		p->nr_cut++;
		p->cut_bytes += filesz - l->avail;
	}
	return 0;
}

static int cmp_load(const void *a, const void *b)
{
	const struct load *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->end < y->end ? -1 : x->end > y->end;
}

static int cmp_fmap(const void *a, const void *b)
{
	const struct fmap *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->end < y->end ? -1 : x->end > y->end;
}

static int cmp_u64(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

static void sort_loads(struct parse *p)
{
	size_t n = 0;

	if (!p->nr_loads)
		return;
	qsort(p->loads, p->nr_loads, sizeof(*p->loads), cmp_load);
	for (size_t i = 0; i < p->nr_loads; i++) {
		if (n && p->loads[i].start < p->loads[n - 1].end) {
			add_problem(p->c, CORE_PROBLEM_BAD_SEGMENT, -HG_E_BAD_ELF,
				    p->loads[i].start, p->loads[i].end, NULL,
				    "PT_LOAD 0x%llx-0x%llx overlaps another, ignoring it",
				    (unsigned long long)p->loads[i].start,
				    (unsigned long long)p->loads[i].end);
			continue;
		}
		p->loads[n++] = p->loads[i];
	}
	p->nr_loads = n;
}

/* Order of raw NT_FILE entries by (path, deleted) for deduplication. */
static int cmp_raw_path(const void *a, const void *b)
{
	const struct raw_fmap *x = *(struct raw_fmap *const *)a;
	const struct raw_fmap *y = *(struct raw_fmap *const *)b;
	size_t n = MIN(x->path_len, y->path_len);
	int r = memcmp(x->path, y->path, n);

	if (r)
		return r;
	if (x->path_len != y->path_len)
		return x->path_len < y->path_len ? -1 : 1;
	if (x->deleted != y->deleted)
		return x->deleted ? 1 : -1;
	return x < y ? -1 : x > y;
}

/* One cfile per distinct (path, deleted); sorted, non-overlapping fmaps. */
static void build_files(struct parse *p)
{
	struct core *c = p->c;
	struct raw_fmap **order;
	size_t n = 0;

	if (!p->nr_raw)
		return;
	order = xmalloc(st_mult(p->nr_raw, sizeof(*order)));
	for (size_t i = 0; i < p->nr_raw; i++)
		order[i] = &p->raw[i];
	qsort(order, p->nr_raw, sizeof(*order), cmp_raw_path);
	c->files = xcalloc(p->nr_raw, sizeof(*c->files));
	c->pub_files = xcalloc(p->nr_raw, sizeof(*c->pub_files));
	for (size_t i = 0; i < p->nr_raw; i++) {
		struct raw_fmap *r = order[i];

		if (!i || cmp_raw_path(&order[i - 1], &order[i]) > 0 ||
		    order[i - 1]->path_len != r->path_len ||
		    memcmp(order[i - 1]->path, r->path, r->path_len) ||
		    order[i - 1]->deleted != r->deleted) {
			struct cfile *f = &c->files[c->nr_files];

			f->pub = &c->pub_files[c->nr_files++];
			f->path = xstrndup(r->path, r->path_len);
			f->pub->deleted = r->deleted;
			f->pub->status = 1;
		}
		r->file = c->nr_files - 1;
	}
	free(order);
	for (size_t i = 0; i < c->nr_files; i++)
		c->files[i].pub->path = c->files[i].path;

	p->fmaps = xmalloc(st_mult(p->nr_raw, sizeof(*p->fmaps)));
	for (size_t i = 0; i < p->nr_raw; i++)
		p->fmaps[i] = (struct fmap){
			.start = p->raw[i].start, .end = p->raw[i].end,
			.offset = p->raw[i].offset, .file = p->raw[i].file,
		};
	qsort(p->fmaps, p->nr_raw, sizeof(*p->fmaps), cmp_fmap);
	for (size_t i = 0; i < p->nr_raw; i++) {
		if (n && p->fmaps[i].start < p->fmaps[n - 1].end) {
			add_problem(c, CORE_PROBLEM_BAD_NOTE, -HG_E_BAD_ELF,
				    p->fmaps[i].start, p->fmaps[i].end, NULL,
				    "NT_FILE mapping 0x%llx-0x%llx overlaps another, ignoring it",
				    (unsigned long long)p->fmaps[i].start,
				    (unsigned long long)p->fmaps[i].end);
			continue;
		}
		p->fmaps[n++] = p->fmaps[i];
	}
	p->nr_fmaps = n;

	/* The mapping of each file's first page, for its build-id. */
	for (size_t i = 0; i < p->nr_fmaps; i++) {
		struct cfile *f = &c->files[p->fmaps[i].file];

		if (p->fmaps[i].offset == 0 && !f->has_first) {
			f->has_first = true;
			f->first_start = p->fmaps[i].start;
			f->first_end = p->fmaps[i].end;
		}
	}
}

/*
 * Cut the address space at every PT_LOAD and NT_FILE boundary; each piece
 * covered by at least one of them becomes a segment and a region.
 */
static void build_segments(struct parse *p)
{
	struct core *c = p->c;
	struct target_region *regions;
	uint64_t *bounds;
	size_t nb = 0, li = 0, fi = 0, n = 0;

	if (!p->nr_loads && !p->nr_fmaps)
		return;
	bounds = xmalloc(st_mult(st_mult(st_add(p->nr_loads, p->nr_fmaps), 2),
				 sizeof(*bounds)));
	for (size_t i = 0; i < p->nr_loads; i++) {
		bounds[nb++] = p->loads[i].start;
		bounds[nb++] = p->loads[i].end;
	}
	for (size_t i = 0; i < p->nr_fmaps; i++) {
		bounds[nb++] = p->fmaps[i].start;
		bounds[nb++] = p->fmaps[i].end;
	}
	qsort(bounds, nb, sizeof(*bounds), cmp_u64);
	c->segs = xcalloc(nb, sizeof(*c->segs));
	regions = xcalloc(nb, sizeof(*regions));
	for (size_t k = 0; k + 1 < nb; k++) {
		taddr_t a = bounds[k], e = bounds[k + 1];
		const struct load *l = NULL;
		const struct fmap *f = NULL;
		struct seg *s;
		struct target_region *r;

		if (a == e)
			continue;
		while (li < p->nr_loads && p->loads[li].end <= a)
			li++;
		while (fi < p->nr_fmaps && p->fmaps[fi].end <= a)
			fi++;
		if (li < p->nr_loads && p->loads[li].start <= a)
			l = &p->loads[li];
		if (fi < p->nr_fmaps && p->fmaps[fi].start <= a)
			f = &p->fmaps[fi];
		if (!l && !f)
			continue;
		s = &c->segs[n];
		r = &regions[n];
		n++;
		*s = (struct seg){ .start = a, .end = e, .file = -1 };
		*r = (struct target_region){ .start = a, .end = e };
		if (l) {
			uint64_t rel = a - l->start;

			s->in_load = true;
			s->core_off = l->offset + rel;
			s->core_len = rel < l->avail ?
				      MIN(l->avail - rel, e - a) : 0;
			s->nominal_len = rel < l->filesz ?
					 MIN(l->filesz - rel, e - a) : 0;
			s->zero_tail = !f && l->filesz > 0;
			s->load_prot = l->prot;
			r->prot = l->prot;
		}
		if (f) {
			struct cfile *cf = &c->files[f->file];

			s->file = (long)f->file;
			s->file_off = f->offset + (a - f->start);
			r->offset = s->file_off;
			r->path = xstrdup(cf->path);
			r->deleted = cf->pub->deleted;
			if (s->core_len < e - a)
				cf->needed = true;
		}
	}
	free(bounds);
	c->nr_segs = n;
	/* Already sorted with distinct starts: target_set_regions' sort keeps
	 * the order, so segs[i] still describes regions[i]. */
	target_set_regions(p->t, regions, n);
}

/*
 * gcore writes no PT_LOAD for unmodified text, so those regions have no
 * p_flags. The file's own program headers say which segment a mapping at
 * file offset OFF came from; read them from the core's copy of the file's
 * first page. Falls back to read-only.
 */
static unsigned infer_prot(struct core *c, struct cfile *f, uint64_t off)
{
	struct first_page_ctx fp = { c, f->first_start, f->first_end };
	Elf64_Ehdr eh;

	if (!f->has_first || first_page_read(&fp, 0, &eh, sizeof(eh)) < 0 ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == PN_XNUM)
		return TARGET_PROT_READ;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		uint64_t poff = eh.e_phoff + (uint64_t)i * sizeof(ph);

		if (poff < eh.e_phoff ||
		    first_page_read(&fp, poff, &ph, sizeof(ph)) < 0)
			break;
		if (ph.p_type != PT_LOAD)
			continue;
		if (off >= (ph.p_offset & ~(TARGET_PAGE - 1)) &&
		    off < page_up(ph.p_offset + ph.p_filesz))
			return prot_of_flags(ph.p_flags);
	}
	return TARGET_PROT_READ;
}

/* ---- opening: identity ---- */

static bool auxv_get(const struct target *t, uint64_t type, uint64_t *ret)
{
	for (size_t i = 0; i < t->nr_auxv; i++) {
		if (t->auxv[2 * i] == type) {
			*ret = t->auxv[2 * i + 1];
			return true;
		}
	}
	return false;
}

/*
 * The NUL-terminated string at ADDR in the core's own data, or NULL. Only
 * the core: this runs before the mapped files' host paths are known, and
 * AT_EXECFN points into the stack, which is always dumped.
 */
static char *read_string(struct core *c, taddr_t addr, size_t max)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < max; i++) {
		char ch;

		if (addr + i < addr ||
		    core_only_read(c, addr + i, &ch, 1) < 0) {
			strbuf_release(&sb);
			return NULL;
		}
		if (!ch)
			return strbuf_detach(&sb, NULL);
		strbuf_addch(&sb, ch);
	}
	strbuf_release(&sb);
	return NULL;
}

/* Remove PREFIX (LEN bytes, no trailing slash) from *PATH when *PATH lies below it. */
static void strip_prefix(char *path, const char *prefix, size_t len)
{
	if (path && !strncmp(path, prefix, len) && path[len] == '/')
		memmove(path, path + len, strlen(path + len) + 1);
}

/*
 * A core of a chrooted process written from outside the chroot (gdb's
 * gcore on the host) names files as the host sees them
 * (/srv/root/usr/lib/.../libc.so.6), a kernel core as the process saw them
 * (/usr/lib/.../libc.so.6): the kernel resolves paths against the reading
 * or dumping task's root. With --sysroot /srv/root both must end up at the
 * same file, so paths that already lie below the sysroot (compared after
 * realpath) lose that prefix and read as the target saw them.
 */
static void strip_sysroot(struct parse *p)
{
	struct target *t = p->t;
	struct core *c = p->c;
	char *real;
	size_t len;

	if (!p->opts->sysroot || !p->opts->sysroot[0])
		return;
	real = realpath(p->opts->sysroot, NULL);
	if (!real)
		return;
	len = strlen(real);
	if (len > 1) {
		for (size_t i = 0; i < c->nr_files; i++)
			strip_prefix(c->files[i].path, real, len);
		for (size_t i = 0; i < t->nr_regions; i++)
			strip_prefix(t->regions[i].path, real, len);
	}
	free(real);
}

/*
 * gdb before 9 (Ubuntu bionic's 8.1) leaves the executable's text out of
 * a gcore's NT_FILE note, and with it the mapping AT_PHDR points into. The
 * executable is then the file of the first listed mapping above AT_PHDR
 * (its data follows its text), if that file's name ends like AT_EXECFN,
 * the name it was started by. Malloc'd path, or NULL.
 */
static char *exe_above_phdr(struct parse *p, uint64_t phdr)
{
	struct target *t = p->t;
	const struct target_region *next = NULL;
	char *execfn, *slash;
	const char *base;
	uint64_t v;
	size_t n, k;

	for (size_t i = 0; i < t->nr_regions && !next; i++)
		if (t->regions[i].start > phdr)
			next = &t->regions[i];
	if (!next || !next->path || next->path[0] != '/' ||
	    !auxv_get(t, AT_EXECFN, &v) || !(execfn = read_string(p->c, v, EXECFN_MAX)))
		return NULL;
	slash = strrchr(execfn, '/');
	base = slash ? slash + 1 : execfn;
	n = strlen(next->path);
	k = strlen(base);
	if (!k || n <= k || strcmp(next->path + n - k, base) || next->path[n - k - 1] != '/') {
		free(execfn);
		return NULL;
	}
	free(execfn);
	return xstrdup(next->path);
}

static void find_identity(struct parse *p)
{
	struct target *t = p->t;
	struct core *c = p->c;
	const char *sysroot = p->opts->sysroot ? p->opts->sysroot : "";
	uint64_t v;

	t->pid = p->have_prpsinfo ? p->prpsinfo_pid :
		 t->nr_threads ? t->threads[0].tid : 0;

	strip_sysroot(p);

	if (auxv_get(t, AT_PHDR, &v)) {
		const struct target_region *r = target_region_of(t, v);

		if (r && r->path && r->path[0] == '/')
			t->exe = xstrdup(r->path);
		else
			t->exe = exe_above_phdr(p, v);
	}
	if (!t->exe && auxv_get(t, AT_EXECFN, &v))
		t->exe = read_string(c, v, EXECFN_MAX);
	if (!t->exe && p->opts->exe)
		t->exe = xstrdup(p->opts->exe);

	for (size_t i = 0; i < c->nr_files; i++) {
		struct cfile *f = &c->files[i];

		if (p->opts->exe && t->exe && !strcmp(f->path, t->exe)) {
			f->host_path = xstrdup(p->opts->exe);
			f->user_supplied = true;
		} else {
			f->host_path = xasprintf("%s%s", sysroot, f->path);
		}
		f->pub->host_path = f->host_path;
		cfile_core_id(c, f);
	}

	/* Pseudo names the core lets us know for sure. */
	for (size_t i = 0; i < t->nr_regions; i++) {
		struct target_region *r = &t->regions[i];

		if (r->path)
			continue;
		if (auxv_get(t, AT_SYSINFO_EHDR, &v) && r->start == v)
			r->path = xstrdup("[vdso]");
		else if (auxv_get(t, AT_EXECFN, &v) && v >= r->start &&
			 v < r->end)
			r->path = xstrdup("[stack]");
		else if (r->start == VSYSCALL_ADDR)
			r->path = xstrdup("[vsyscall]");
	}
	for (size_t i = 0; i < c->nr_segs; i++)
		if (!c->segs[i].in_load && c->segs[i].file >= 0)
			t->regions[i].prot = infer_prot(c,
					&c->files[c->segs[i].file],
					c->segs[i].file_off);
}

/* ---- opening ---- */

static int core_parse(struct parse *p)
{
	struct core *c = p->c;
	GElf_Ehdr eh;
	size_t phnum;
	int r;

	r = check_ehdr(c->map, c->size);
	if (r < 0)
		return r;
	elf_version(EV_CURRENT);
	/* elf_memory() wants a char *, but with a native-endian image and no
	 * elf_update() libelf only reads it: the mapping is PROT_READ, and
	 * the fuzzer runs this exact path on a PROT_READ mapping. */
	c->elf = elf_memory((char *)c->map, c->size);
	if (!c->elf || elf_kind(c->elf) != ELF_K_ELF ||
	    !gelf_getehdr(c->elf, &eh))
		return -HG_E_BAD_ELF;
	/*
	 * The program header count: e_phnum, or with PN_XNUM (more than
	 * 65534 segments, a big process) section 0's sh_info. Checked here
	 * rather than trusted to elf_getphdrnum(), which quietly clamps the
	 * count to what the file holds: a cut core must say so.
	 */
	phnum = eh.e_phnum;
	if (eh.e_phnum == PN_XNUM) {
		Elf64_Shdr sh0;

		if (!eh.e_shoff)
			return -HG_E_BAD_ELF;
		if (!in_bounds(eh.e_shoff, sizeof(sh0), c->size))
			return -HG_E_TRUNCATED;
		memcpy(&sh0, c->map + eh.e_shoff, sizeof(sh0));
		phnum = sh0.sh_info;
	}
	if (!phnum || !eh.e_phoff || eh.e_phentsize != sizeof(Elf64_Phdr))
		return -HG_E_BAD_ELF;
	if (!in_bounds(eh.e_phoff, (uint64_t)phnum * sizeof(Elf64_Phdr),
		       c->size))
		return -HG_E_TRUNCATED;
	{
		size_t n;

		if (elf_getphdrnum(c->elf, &n) < 0 || n != phnum)
			return -HG_E_BAD_ELF;
	}

	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(c->elf, (int)i, &ph))
			return -HG_E_BAD_ELF;
		if (ph.p_type == PT_NOTE) {
			if (!in_bounds(ph.p_offset, ph.p_filesz, c->size))
				return -HG_E_TRUNCATED;
			r = parse_notes(p, &ph);
		} else if (ph.p_type == PT_LOAD) {
			r = add_load(p, &ph);
		}
		if (r < 0)
			return r;
	}
	if (p->nr_cut)
		add_problem(c, CORE_PROBLEM_TRUNCATED, -HG_E_TRUNCATED,
			    p->cut_lo, p->cut_hi, NULL,
			    "the file is truncated at %zu bytes: %zu memory segments between 0x%llx and 0x%llx lose 0x%llx bytes of data, which are unreadable",
			    c->size, p->nr_cut, (unsigned long long)p->cut_lo,
			    (unsigned long long)p->cut_hi,
			    (unsigned long long)p->cut_bytes);
	sort_loads(p);
	build_files(p);
	build_segments(p);
	find_identity(p);
	return 0;
}

int target_core_open_fd(int fd, const struct core_opts *opts,
			struct target **ret_target)
{
	static const struct core_opts no_opts;
	struct parse p = { .opts = opts ? opts : &no_opts };
	struct target *t;
	struct core *c;
	struct stat st;
	void *map;
	int r;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if ((uint64_t)st.st_size < SELFMAG)
		return -HG_E_BAD_ELF;
	if ((uint64_t)st.st_size > SIZE_MAX)
		return -EFBIG;
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return -errno;

	c = xcalloc(1, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->map = map;
	c->size = (size_t)st.st_size;
	c->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	t = xcalloc(1, sizeof(*t));
	t->ops = &core_ops;
	t->priv = c;
	t->root = xstrdup(p.opts->sysroot ? p.opts->sysroot : "");
	p.c = c;
	p.t = t;
	r = core_parse(&p);
	free(p.loads);
	free(p.raw);
	free(p.fmaps);
	if (r < 0) {
		target_close(t);
		return r;
	}
	*ret_target = t;
	return 0;
}

int target_core_open(const char *path, const struct core_opts *opts,
		     struct target **ret_target)
{
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -errno;
	r = target_core_open_fd(fd, opts, ret_target);
	close(fd);
	return r;
}

/* ---- queries ---- */

size_t target_core_problems(const struct target *t,
			    const struct core_problem **ret_problems)
{
	const struct core *c = core_of(t);

	*ret_problems = c ? c->problems : NULL;
	return c ? c->nr_problems : 0;
}

size_t target_core_problems_dropped(const struct target *t)
{
	const struct core *c = core_of(t);

	return c ? c->dropped_problems : 0;
}

size_t target_core_files(const struct target *t,
			 const struct core_file **ret_files)
{
	const struct core *c = core_of(t);

	*ret_files = c ? c->pub_files : NULL;
	return c ? c->nr_files : 0;
}

size_t target_core_check_files(struct target *t)
{
	struct core *c = core_of(t);
	size_t bad = 0;

	if (!c)
		return 0;
	for (size_t i = 0; i < c->nr_files; i++) {
		struct cfile *f = &c->files[i];

		/* A deleted file that is not needed (shared memory, memfd,
		 * dumped whole) gets its status without a problem. */
		cfile_open(c, f);
		if (f->pub->status && f->needed)
			bad++;
	}
	return bad;
}

struct Elf *target_core_elf(const struct target *t)
{
	const struct core *c = core_of(t);

	return c ? c->elf : NULL;
}
