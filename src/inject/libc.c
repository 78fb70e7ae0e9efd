/*
 * libc.c - what an injection needs from the target's libc, and whether a
 * process and a thread may be injected into at all.
 *
 * Injection never writes code: it borrows instructions libc already has
 * (doc/glibc-malloc.md §11). From the libc file mapped by the target (read through
 * /proc/PID/root, parsed with libelf) it takes:
 *
 *   syscall_insn  the `syscall` of glibc's syscall() function
 *                 (sysdeps/unix/sysv/linux/x86_64/syscall.S, unchanged
 *                 since glibc 2.2.5):
 *                     0f 05                syscall
 *                     48 3d 01 f0 ff ff    cmp rax, -4095
 *                     73 xx                jae error
 *                     c3                   ret
 *                 or, failing that, any `syscall; ret` (0f 05 c3) in
 *                 libc's code. Either way the instruction is followed by a
 *                 `ret`, which inject.c relies on (its opening comment).
 *   restore_rt    glibc's signal return trampoline __restore_rt
 *                 (sysdeps/unix/sysv/linux/x86_64/libc_sigaction.c):
 *                     48 c7 c0 0f 00 00 00 mov rax, 15 (rt_sigreturn)
 *                     0f 05                syscall
 *                 a local symbol, so found by its bytes.
 *   exit_fn       _exit, from .dynsym.
 *   mallinfo2, mallinfo, malloc_trim, and the glibc version, from
 *                 debuginfo/libcfile.c's analysis of the same bytes.
 *
 * Every instruction address is checked against the target's memory (the
 * bytes there must be the file's), so a libc replaced on disk after the
 * process started is noticed rather than jumped into.
 *
 *   madvise_ret, brk_ret
 *                 the address after the `syscall` instruction of madvise()
 *                 and brk() (.dynsym, their only `syscall`): the
 *                 instruction pointer a seccomp filter sees when
 *                 malloc_trim() makes those calls; 0 when not found (a
 *                 filter that looks at it is then undecidable).
 *
 * inject_check() and inject_pick_thread() read /proc. A thread in seccomp
 * strict mode ("Seccomp: 1") is never injected into: it may make no call
 * but read, write, _exit and sigreturn. A thread under a filter ("Seccomp:
 * 2") is, when heapgrab can read filters (seccomp_can_read()); whether the
 * filter allows the calls of a given injection is decided under the stop,
 * for the thread chosen (inject.c's gate). Unfiltered threads are chosen
 * first.
 */
#include "config.h"
#include "inject/inject.h"
#include "inject/inject-internal.h"
#include "inject/seccomp.h"
#include "debuginfo/libcfile.h"
#include "target/ptrace.h"
#include "target/target.h"
#include "util/errors.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A libc.so.6 is about 2 MB; anything much larger is not one. */
#define LIBC_MAX_SIZE (256u << 20)
/* Where to look for the syscall instruction inside syscall(). */
#define SYSCALL_FN_SCAN 64
/* Stack a thread should have below its stack pointer to be chosen (the
 * frame, the xstate and CALL_STACK_ROOM, with margin). */
#define PICK_STACK_ROOM (48u << 10)

static const unsigned char restore_rt_bytes[] = {
	0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05,
};
static const unsigned char syscall_ret_bytes[] = { 0x0f, 0x05, 0xc3 };

static bool is_libc_path(const char *path)
{
	const char *b = strrchr(path, '/');
	size_t n;

	b = b ? b + 1 : path;
	n = strlen(b);
	/* the same test as heap/glibc.c's glibc_is_libc_path(), which this
	 * layer may not call */
	return !strcmp(b, "libc.so.6") ||
	       (!strncmp(b, "libc-2.", 7) && n > 10 && !strcmp(b + n - 3, ".so"));
}

static int read_file(const char *path, unsigned char **ret_buf, size_t *ret_len)
{
	struct stat st;
	unsigned char *buf;
	size_t done = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (uint64_t)st.st_size > LIBC_MAX_SIZE) {
		close(fd);
		return -HG_E_BAD_ELF;
	}
	buf = xmalloc((size_t)st.st_size);
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			close(fd);
			return n < 0 ? -errno : -HG_E_TRUNCATED;
		}
		done += (size_t)n;
	}
	close(fd);
	*ret_buf = buf;
	*ret_len = done;
	return 0;
}

/* The executable PT_LOAD segments: file ranges and their vaddrs. */
struct xseg {
	uint64_t off, len, vaddr;
};

static size_t exec_segments(Elf *e, size_t file_len, struct xseg *seg, size_t max)
{
	size_t nph, n = 0;

	if (elf_getphdrnum(e, &nph) < 0)
		return 0;
	for (size_t k = 0; k < nph && n < max; k++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e, (int)k, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
			continue;
		if (ph.p_offset > file_len || ph.p_filesz > file_len - ph.p_offset)
			continue;
		seg[n].off = ph.p_offset;
		seg[n].len = ph.p_filesz;
		seg[n].vaddr = ph.p_vaddr;
		n++;
	}
	return n;
}

/* File offset of link-time address VADDR inside an executable segment
 * with LEN bytes available, or -1. */
static int64_t vaddr_off(const struct xseg *seg, size_t nseg, uint64_t vaddr, size_t len)
{
	for (size_t k = 0; k < nseg; k++)
		if (vaddr >= seg[k].vaddr && vaddr - seg[k].vaddr <= seg[k].len &&
		    len <= seg[k].len - (vaddr - seg[k].vaddr))
			return (int64_t)(seg[k].off + (vaddr - seg[k].vaddr));
	return -1;
}

/* First occurrence of PAT in the executable segments: its vaddr, or 0. */
static uint64_t find_bytes(const unsigned char *file, const struct xseg *seg, size_t nseg,
			   const unsigned char *pat, size_t patlen)
{
	for (size_t k = 0; k < nseg; k++) {
		const unsigned char *p = memmem(file + seg[k].off, seg[k].len, pat, patlen);

		if (p)
			return seg[k].vaddr + (uint64_t)(p - (file + seg[k].off));
	}
	return 0;
}

/* Value of the defined function NAME in .dynsym, or 0; its size in
 * *RET_SIZE (may be NULL). */
static uint64_t dynsym_func_size(Elf *e, const char *name, uint64_t *ret_size)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM || !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d)
			continue;
		n = sh.sh_size / sh.sh_entsize;
		for (size_t k = 0; k < n; k++) {
			GElf_Sym sym;
			const char *s;

			if (!gelf_getsym(d, (int)k, &sym) || sym.st_shndx == SHN_UNDEF ||
			    GELF_ST_TYPE(sym.st_info) != STT_FUNC)
				continue;
			s = elf_strptr(e, sh.sh_link, sym.st_name);
			if (s && !strcmp(s, name)) {
				if (ret_size)
					*ret_size = sym.st_size;
				return sym.st_value;
			}
		}
	}
	return 0;
}

static uint64_t dynsym_func(Elf *e, const char *name)
{
	return dynsym_func_size(e, name, NULL);
}

/* Function NAME's only `syscall` instruction: the vaddr after it, or 0
 * (not found, several, or a function larger than a system call stub). */
static uint64_t only_syscall_in(Elf *e, const unsigned char *file, const struct xseg *seg,
				size_t nseg, const char *name)
{
	uint64_t size = 0, fn = dynsym_func_size(e, name, &size), found = 0;
	int64_t off;

	if (!fn || size < 2 || size > 512)
		return 0;
	off = vaddr_off(seg, nseg, fn, (size_t)size);
	if (off < 0)
		return 0;
	for (uint64_t k = 0; k + 1 < size; k++) {
		if (file[off + (int64_t)k] != 0x0f || file[off + (int64_t)k + 1] != 0x05)
			continue;
		if (found)
			return 0;
		found = fn + k + 2;
	}
	return found;
}

/* The `syscall` of syscall(): the documented pattern within its first
 * bytes. Returns its vaddr or 0. */
static uint64_t syscall_in_syscall_fn(const unsigned char *file, const struct xseg *seg,
				      size_t nseg, uint64_t fn)
{
	int64_t off = fn ? vaddr_off(seg, nseg, fn, SYSCALL_FN_SCAN + 11) : -1;

	if (off < 0)
		return 0;
	for (size_t k = 0; k < SYSCALL_FN_SCAN; k++) {
		const unsigned char *p = file + off + k;

		if (p[0] == 0x0f && p[1] == 0x05 && p[2] == 0x48 && p[3] == 0x3d &&
		    p[4] == 0x01 && p[5] == 0xf0 && p[6] == 0xff && p[7] == 0xff &&
		    p[8] == 0x73 && p[10] == 0xc3)
			return fn + k;
	}
	return 0;
}

/* The target's bytes at ADDR must be the file's at OFF. */
static int check_target_bytes(struct target *t, taddr_t addr, const unsigned char *want,
			      size_t len, struct strbuf *why, const char *what)
{
	unsigned char got[16];
	int err;

	if (len > sizeof(got))
		len = sizeof(got);
	err = target_read(t, addr, got, len);
	if (err < 0)
		return err;
	if (memcmp(got, want, len)) {
		if (why)
			strbuf_addf(why, "libc's code at 0x%llx (%s) differs from the libc file: "
				    "was libc replaced after the process started?",
				    (unsigned long long)addr, what);
		return -HG_E_NO_GADGET;
	}
	return 0;
}

int inject_libc_find(struct target *t, struct strbuf *why, struct inject_libc *ret)
{
	const struct target_region *libc = NULL;
	struct libc_file_info fi;
	struct inject_libc lc;
	struct xseg seg[8];
	unsigned char *file = NULL;
	size_t len = 0, nseg;
	uint64_t v;
	char *host;
	Elf *e = NULL;
	int err;

	for (size_t i = 0; i < t->nr_regions && !libc; i++) {
		const struct target_region *r = &t->regions[i];

		if (r->path && r->path[0] == '/' && r->offset == 0 && is_libc_path(r->path))
			libc = r;
	}
	if (!libc) {
		if (why)
			strbuf_addstr(why, "no glibc (libc.so.6) mapped: nothing to inject through");
		return -HG_E_NO_LIBC;
	}
	memset(&lc, 0, sizeof(lc));
	lc.base = libc->start;
	host = target_host_path(t, libc->path);
	err = read_file(host, &file, &len);
	if (err < 0) {
		if (why)
			strbuf_addf(why, "cannot read libc '%s': %s", host, hg_strerror(err));
		free(host);
		return err == -ENOENT ? -HG_E_FILE_NOT_FOUND : err;
	}
	err = libc_file_analyze_mem(file, len, NULL, &fi);
	if (err < 0) {
		if (why)
			strbuf_addf(why, "cannot analyse libc '%s': %s", host, hg_strerror(err));
		goto out;
	}
	snprintf(lc.version, sizeof(lc.version), "%s", fi.version);
	lc.ver_major = fi.ver_major;
	lc.ver_minor = fi.ver_minor;
	elf_version(EV_CURRENT);
	e = elf_memory((char *)file, len);
	if (!e || elf_kind(e) != ELF_K_ELF) {
		err = -HG_E_BAD_ELF;
		goto out;
	}
	nseg = exec_segments(e, len, seg, ARRAY_SIZE(seg));

	v = find_bytes(file, seg, nseg, restore_rt_bytes, sizeof(restore_rt_bytes));
	lc.restore_rt = v ? lc.base + v : 0;
	v = syscall_in_syscall_fn(file, seg, nseg, fi.sym_syscall);
	if (!v)
		v = find_bytes(file, seg, nseg, syscall_ret_bytes, sizeof(syscall_ret_bytes));
	lc.syscall_insn = v ? lc.base + v : 0;
	v = dynsym_func(e, "_exit");
	lc.exit_fn = v ? lc.base + v : 0;
	lc.mallinfo2 = fi.sym_mallinfo2 ? lc.base + fi.sym_mallinfo2 : 0;
	lc.mallinfo = fi.sym_mallinfo ? lc.base + fi.sym_mallinfo : 0;
	lc.malloc_trim = fi.sym_malloc_trim ? lc.base + fi.sym_malloc_trim : 0;
	v = only_syscall_in(e, file, seg, nseg, "madvise");
	lc.madvise_ret = v ? lc.base + v : 0;
	v = only_syscall_in(e, file, seg, nseg, "brk");
	lc.brk_ret = v ? lc.base + v : 0;

	if (!lc.restore_rt || !lc.syscall_insn || !lc.exit_fn) {
		if (why)
			strbuf_addf(why, "libc '%s' lacks %s", host,
				    !lc.restore_rt ? "the signal return trampoline (__restore_rt)" :
				    !lc.syscall_insn ? "a `syscall; ret` instruction sequence" :
				    "_exit");
		err = -HG_E_NO_GADGET;
		goto out;
	}
	err = check_target_bytes(t, lc.restore_rt, restore_rt_bytes, sizeof(restore_rt_bytes),
				 why, "__restore_rt");
	if (err == 0)
		err = check_target_bytes(t, lc.syscall_insn, syscall_ret_bytes, 2, why, "syscall");
	if (err == 0) {
		int64_t off = vaddr_off(seg, nseg, lc.exit_fn - lc.base, 8);

		if (off >= 0)
			err = check_target_bytes(t, lc.exit_fn, file + off, 8, why, "_exit");
	}
	if (err < 0)
		goto out;
	*ret = lc;
out:
	if (e)
		elf_end(e);
	free(file);
	free(host);
	return err;
}

int inject_check(int pid, struct strbuf *why)
{
	char path[64];
	struct dirent *de;
	unsigned strict = 0, filtered = 0, total = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? -HG_E_NO_PROCESS : -errno;
	while ((de = readdir(d))) {
		int m;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		m = seccomp_thread_mode(pid, atoi(de->d_name));
		if (m < 0)
			continue;	/* exited meanwhile */
		total++;
		strict += m == 1;
		filtered += m > 1;
	}
	closedir(d);
	if (!total || strict + filtered < total)
		return 0;	/* a thread without a filter */
	if (filtered && seccomp_can_read(NULL) == 0)
		return 0;	/* decided under the stop, call by call */
	if (why) {
		if (filtered) {
			strbuf_addf(why, "it runs under a seccomp filter (Seccomp: 2 in "
				    "/proc/%d/status) and ", pid);
			if (seccomp_can_read(why) == 0)
				strbuf_addstr(why, "heapgrab cannot read it");
			strbuf_addstr(why, ": heapgrab cannot tell what the filter allows and "
				      "injects nothing into it");
		} else {
			strbuf_addf(why, "it runs in seccomp strict mode (Seccomp: 1 in "
				    "/proc/%d/status), which kills it for any system call but "
				    "read, write, _exit and sigreturn: heapgrab injects nothing "
				    "into it", pid);
		}
	}
	return -HG_E_SECCOMP;
}

/* May thread I be injected into? FILTERED: accept one under a seccomp
 * filter (its calls are checked by the gate). */
static int pick_reason(struct target *t, size_t i, bool filtered)
{
	const struct target_thread *th = &t->threads[i];
	const struct target_region *r;
	taddr_t sp = th->regs.rsp;
	int mode;

	if (!live_thread_parked(t, i))
		return -HG_E_INJECT_STOPPED;
	if (th->regs.cs != 0x33)
		return -HG_E_UNSUPPORTED;
	mode = seccomp_thread_mode(t->pid, th->tid);
	if (mode == 1 || (mode == 2 && (!filtered || seccomp_can_read(NULL) < 0)))
		return -HG_E_SECCOMP;
	if (mode < 0)
		return -HG_E_INJECT_STOPPED;
	r = target_region_of(t, sp > 256 ? sp - 256 : sp);
	if (!r || !(r->prot & TARGET_PROT_WRITE) || sp < r->start + PICK_STACK_ROOM)
		return -ENOSPC;
	return 0;
}

int inject_pick_thread(struct target *t, int prefer_tid, struct strbuf *why)
{
	int last = -ENOENT;

	/* The preferred thread (filtered or not); then the main thread and
	 * any thread without a filter; then with one. */
	for (int pass = 0; pass < 5; pass++) {
		for (size_t i = 0; i < t->nr_threads; i++) {
			int tid = t->threads[i].tid, r;

			if ((pass == 0 && tid != prefer_tid) ||
			    ((pass == 1 || pass == 3) && tid != t->pid))
				continue;
			r = pick_reason(t, i, pass == 0 || pass >= 3);
			if (r == 0)
				return (int)i;
			last = r;
		}
	}
	if (why)
		strbuf_addf(why, "no thread can run injected code: %s",
			    last == -ENOSPC ? "none has room on its stack" :
			    last == -HG_E_INJECT_STOPPED ? "the process is stopped (SIGSTOP)" :
			    last == -HG_E_SECCOMP ? "every thread runs in seccomp strict mode, or "
			    "under a filter heapgrab cannot read" :
			    last == -HG_E_UNSUPPORTED ? "not a 64-bit process" : hg_strerror(last));
	return last;
}
