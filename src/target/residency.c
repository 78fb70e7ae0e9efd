/*
 * residency.c - resident pages of a live process, from /proc/PID/pagemap
 * (in the stop) and /proc/PID/smaps (after it); see residency.h.
 *
 * pagemap (Documentation/admin-guide/mm/pagemap.rst) has one 64-bit
 * entry per virtual page, at file offset (address / 4096) * 8:
 *
 *    63 62 61     57 56 55 54                                     0
 *   +--+--+--+---+--+--+--+---------------------------------------+
 *   |P |S |F |...|WP|X |SD|  page frame number (0 without          |
 *   |  |  |  |   |  |  |  |  CAP_SYS_ADMIN, Linux 4.2+)            |
 *   +--+--+--+---+--+--+--+---------------------------------------+
 *   P present, S swapped, F file page or shared anonymous,
 *   X exclusively mapped, SD soft-dirty
 *
 * "Present" is not "resident" in one case: a read of anonymous memory
 * that was never written maps the shared zero page (or, with transparent
 * huge pages, the huge zero page), which the kernel counts in no Rss.
 * Programs rarely do that, but a debugger reading the process does: the
 * copy heapgrab takes with process_vm_readv maps the zero page into the
 * untouched pages it reads. So the pagemap is read before the copy, and
 * zero-page entries are told apart by their page frame number: the ones
 * heapgrab finds in its own memory after reading a page it never wrote
 * (zero_pfns()). Without CAP_SYS_ADMIN the frame numbers read 0, zero
 * pages cannot be told apart, and the accounting says so (pfn_visible).
 *
 * The same holds for a private file mapping the program never touched: the
 * copy reads its pages in from the file, and those do count in Rss. So
 * every mapping the copy reads (private and writable: anonymous memory,
 * [heap], stacks, the modules' data) is read from pagemap before it, and
 * the accounting describes the process as it was, not as heapgrab left it
 * (a fork snapshot reads the child and leaves the target alone).
 *
 * Two ways to read it. Since Linux 6.7 the PAGEMAP_SCAN ioctl on the same
 * file returns runs of pages with the same categories (present, swapped,
 * zero page), as { start, end, categories } records: a resident heap is
 * a handful of records instead of one entry per page, and the zero page
 * is told apart by the kernel itself (PAGE_IS_PFNZERO), page frame
 * numbers or not. Older kernels get read(), one entry per page.
 *
 * Cost: the kernel walks the page tables of each range; read() gets the
 * entries in batches of PAGEMAP_BATCH (128 MiB of address space per
 * read), the ioctl SCAN_REGIONS records at a time; only for the paged
 * mappings. smaps is read after the detach: it walks every page table of
 * the process again and would double the pause.
 */
#include "config.h"
#include "target/residency.h"
#include "target/target.h"
#include "util/clock.h"
#include "util/errors.h"
#include "util/xalloc.h"

#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PM_PRESENT	(1ULL << 63)
#define PM_SWAPPED	(1ULL << 62)
#define PM_PFN_MASK	((1ULL << 55) - 1)
/* Entries per pread: 256 KiB of buffer, 128 MiB of address space. */
#define PAGEMAP_BATCH	32768u
/* A mapping above this many pages (256 GiB: a sanitizer's shadow, a
 * runtime's reservation) is not read page by page: its smaps Rss counts. */
#define PAGEMAP_MAX_PAGES (1ULL << 26)
#define HUGE_ZERO_PAGES 512u
/* ioctl's "no such command" inside the kernel (not a user errno; some
 * paths leak it as 515) */
#define ENOIOCTLCMD_ 515

bool residency_paged(const struct target_region *r)
{
	if (r->shared || (r->prot & (TARGET_PROT_READ | TARGET_PROT_WRITE)) !=
	    (TARGET_PROT_READ | TARGET_PROT_WRITE))
		return false;
	if ((r->end - r->start) / RESIDENCY_PAGE > PAGEMAP_MAX_PAGES)
		return false;
	/* what the copy reads (target/ptrace.c worth_copying) */
	return !r->path || r->path[0] == '/' || !strcmp(r->path, "[heap]") ||
	       !strncmp(r->path, "[stack", 6) || !strncmp(r->path, "[anon:", 6);
}

/* ---- the zero pages' frame numbers ---- */

struct zero_pfns {
	bool done, visible, have_huge;
	uint64_t small, huge;		/* huge: first frame of 512 */
};

static struct zero_pfns zp;

static uint64_t self_entry(const volatile char *p)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (pread(fd, &e, sizeof(e), (off_t)((uintptr_t)p / RESIDENCY_PAGE * 8)) != sizeof(e))
		e = 0;
	close(fd);
	return e;
}

/*
 * Read a byte of anonymous memory we never wrote and look at our own
 * pagemap: the frame is the zero page. Then the same in a 2 MiB aligned,
 * MADV_HUGEPAGE range: the huge zero page when THP maps one (else the
 * small one again). Once per process.
 */
static void find_zero_pfns(void)
{
	size_t len = 4u << 20;
	char *m, *huge;
	uint64_t e;

	if (zp.done)
		return;
	zp.done = true;
	m = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return;
	(void)*(volatile char *)m;
	e = self_entry(m);
	if ((e & PM_PRESENT) && (e & PM_PFN_MASK)) {
		zp.visible = true;
		zp.small = e & PM_PFN_MASK;
		huge = (char *)(((uintptr_t)m + (2u << 20) - 1) & ~(uintptr_t)((2u << 20) - 1));
		(void)madvise(huge, 2u << 20, MADV_HUGEPAGE);
		(void)*(volatile char *)huge;
		e = self_entry(huge);
		if ((e & PM_PRESENT) && (e & PM_PFN_MASK) != zp.small) {
			zp.have_huge = true;
			zp.huge = (e & PM_PFN_MASK) & ~(uint64_t)(HUGE_ZERO_PAGES - 1);
		}
	}
	munmap(m, len);
}

static bool is_zero_pfn(uint64_t pfn)
{
	return zp.visible && (pfn == zp.small ||
			      (zp.have_huge && pfn - zp.huge < HUGE_ZERO_PAGES));
}

/* ---- maps ---- */

struct residency_map *residency_add_map(struct residency *r)
{
	struct residency_map *m;

	ALLOC_GROW(r->maps, r->nr_maps + 1, r->alloc_maps);
	m = &r->maps[r->nr_maps++];
	memset(m, 0, sizeof(*m));
	return m;
}

void residency_release(struct residency *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nr_maps; i++) {
		free(r->maps[i].name);
		free(r->maps[i].bits);
	}
	free(r->maps);
	memset(r, 0, sizeof(*r));
}

static int errno_hg(int e)
{
	if (e == ENOENT || e == ESRCH)
		return -HG_E_TARGET_GONE;
	return -e;
}

/* ---- PAGEMAP_SCAN (Linux 6.7, include/uapi/linux/fs.h) ---- */

/* The uapi layout, under heapgrab's own names: Debian 12's headers (6.1)
 * do not have it. */
struct hg_pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};

struct hg_page_region {
	uint64_t start, end, categories;
};

#define HG_PAGEMAP_SCAN		_IOWR('f', 16, struct hg_pm_scan_arg)
#define HG_PAGE_IS_PRESENT	(1u << 3)
#define HG_PAGE_IS_SWAPPED	(1u << 4)
#define HG_PAGE_IS_PFNZERO	(1u << 5)
/* Records per ioctl: 96 KiB of buffer. */
#define SCAN_REGIONS		4096u

/* Set bits [LO, HI). */
static void set_bits(uint64_t *b, uint64_t lo, uint64_t hi)
{
	while (lo < hi && lo % 64)
		b[lo / 64] |= 1ULL << (lo % 64), lo++;
	for (; lo + 64 <= hi; lo += 64)
		b[lo / 64] = ~0ULL;
	while (lo < hi)
		b[lo / 64] |= 1ULL << (lo % 64), lo++;
}

/*
 * M's bits by PAGEMAP_SCAN. Returns 0, -ENOTTY when the kernel has no
 * such ioctl (nothing done: read() then), or another error.
 */
static int scan_map(int fd, struct residency_map *m, struct hg_page_region *vec,
		    struct residency *r)
{
	uint64_t pages = (m->end - m->start) / RESIDENCY_PAGE;
	taddr_t cur = m->start;

	m->bits = xcalloc((pages + 63) / 64 + 1, sizeof(*m->bits));
	while (cur < m->end) {
		struct hg_pm_scan_arg a = {
			.size = sizeof(a),
			.start = cur,
			.end = m->end,
			.vec = (uint64_t)(uintptr_t)vec,
			.vec_len = SCAN_REGIONS,
			.category_anyof_mask = HG_PAGE_IS_PRESENT | HG_PAGE_IS_SWAPPED,
			.return_mask = HG_PAGE_IS_PRESENT | HG_PAGE_IS_SWAPPED | HG_PAGE_IS_PFNZERO,
		};
		int n = ioctl(fd, HG_PAGEMAP_SCAN, &a);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			FREE_AND_NULL(m->bits);
			m->resident_pages = m->zero_pages = m->swapped_pages = 0;
			return e == ENOTTY || e == EINVAL || e == ENOIOCTLCMD_ ? -ENOTTY :
			       errno_hg(e);
		}
		for (int i = 0; i < n; i++) {
			const struct hg_page_region *g = &vec[i];
			uint64_t lo, hi;

			if (g->start < cur || g->end > m->end || g->start >= g->end) {
				FREE_AND_NULL(m->bits);
				return -HG_E_UNREADABLE;	/* not what was asked */
			}
			lo = (g->start - m->start) / RESIDENCY_PAGE;
			hi = (g->end - m->start) / RESIDENCY_PAGE;
			if (g->categories & HG_PAGE_IS_SWAPPED)
				m->swapped_pages += hi - lo;
			if (!(g->categories & HG_PAGE_IS_PRESENT))
				continue;
			if (g->categories & HG_PAGE_IS_PFNZERO) {
				m->zero_pages += hi - lo;
				continue;
			}
			set_bits(m->bits, lo, hi);
			m->resident_pages += hi - lo;
		}
		r->pagemap_pages += (a.walk_end > cur ? a.walk_end - cur : 0) / RESIDENCY_PAGE;
		if (a.walk_end <= cur)
			break;	/* no progress: the kernel stopped */
		cur = a.walk_end;
	}
	m->flags |= RESMAP_PAGED;
	return 0;
}

/* Read the pagemap entries of M into its bits. */
static int read_map(int fd, struct residency_map *m, uint64_t *buf, struct residency *r)
{
	uint64_t n = (m->end - m->start) / RESIDENCY_PAGE, done = 0;

	m->bits = xcalloc((n + 63) / 64 + 1, sizeof(*m->bits));
	while (done < n) {
		uint64_t want = MIN(n - done, (uint64_t)PAGEMAP_BATCH), got;
		off_t off = (off_t)((m->start / RESIDENCY_PAGE + done) * 8);
		ssize_t k = pread(fd, buf, want * 8, off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? errno_hg(errno) : -HG_E_UNREADABLE;
		got = (uint64_t)k / 8;
		for (uint64_t i = 0; i < got; i++) {
			uint64_t e = buf[i], bit = done + i;

			if (e & PM_SWAPPED)
				m->swapped_pages++;
			if (!(e & PM_PRESENT))
				continue;
			if (is_zero_pfn(e & PM_PFN_MASK)) {
				m->zero_pages++;
				continue;
			}
			m->bits[bit / 64] |= 1ULL << (bit % 64);
			m->resident_pages++;
		}
		done += got;
		r->pagemap_pages += got;
	}
	m->flags |= RESMAP_PAGED;
	return 0;
}

const char *residency_method_name(enum residency_method m)
{
	return m == RESIDENCY_SCAN ? "scan" : m == RESIDENCY_READ ? "read" : NULL;
}

int residency_read_pagemap(struct target *t, bool no_scan, struct residency *ret)
{
	struct residency r = { .live = true };
	struct hg_page_region *vec = NULL;
	uint64_t *buf = NULL;
	char path[64];
	double t0 = monotonic_ms();
	int fd, err = 0;

	find_zero_pfns();
	r.pfn_visible = zp.visible;
	for (size_t i = 0; i < t->nr_regions; i++) {
		const struct target_region *g = &t->regions[i];
		struct residency_map *m = residency_add_map(&r);

		m->start = g->start;
		m->end = g->end;
		m->prot = g->prot;
		m->shared = g->shared;
		m->deleted = g->deleted;
		m->name = g->path ? xstrdup(g->path) : NULL;
		m->flags = RESMAP_STOPPED;
	}
	snprintf(path, sizeof(path), "/proc/%d/pagemap", t->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r.pagemap_err = errno_hg(errno);
		if (r.pagemap_err == -HG_E_TARGET_GONE) {
			err = r.pagemap_err;
			goto out;
		}
		goto done;
	}
	buf = xmalloc(PAGEMAP_BATCH * sizeof(*buf));
	r.method = no_scan ? RESIDENCY_READ : RESIDENCY_SCAN;
	if (!no_scan)
		vec = xmalloc(SCAN_REGIONS * sizeof(*vec));
	for (size_t i = 0; i < r.nr_maps; i++) {
		struct residency_map *m = &r.maps[i];

		if (!residency_paged(&t->regions[i]))
			continue;
		err = -ENOTTY;
		if (r.method == RESIDENCY_SCAN) {
			err = scan_map(fd, m, vec, &r);
			if (err == -ENOTTY)
				r.method = RESIDENCY_READ;	/* before Linux 6.7 */
		}
		if (err == -ENOTTY)
			err = read_map(fd, m, buf, &r);
		if (err == -HG_E_TARGET_GONE)
			break;
		if (err < 0) {
			/* one mapping unreadable: say so, keep the others */
			FREE_AND_NULL(m->bits);
			m->flags &= ~(unsigned)RESMAP_PAGED;
			m->resident_pages = m->zero_pages = m->swapped_pages = 0;
			if (!r.pagemap_err)
				r.pagemap_err = err;
			err = 0;
		}
	}
	close(fd);
	free(buf);
	free(vec);
	/* the kernel tells the zero page apart itself (PAGE_IS_PFNZERO) */
	if (r.method == RESIDENCY_SCAN)
		r.pfn_visible = true;
done:
	if (r.pagemap_err)
		r.method = RESIDENCY_NONE;
	r.pagemap_ms = monotonic_ms() - t0;
out:
	if (err < 0) {
		residency_release(&r);
		return err;
	}
	*ret = r;
	return 0;
}

/* ---- smaps ---- */

static int cmp_maps(const void *a, const void *b)
{
	const struct residency_map *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Index of the first map whose end is above ADDR (nr_maps if none). */
static size_t first_above(const struct residency *r, taddr_t addr)
{
	size_t lo = 0, hi = r->nr_maps;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->maps[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct residency_map *residency_map_of(const struct residency *r, taddr_t addr)
{
	size_t i = first_above(r, addr);

	return i < r->nr_maps && r->maps[i].start <= addr ? &r->maps[i] : NULL;
}

/* "Rss:     1234 kB" -> bytes; false when LINE is not KEY. */
static bool kb_field(const char *line, const char *key, uint64_t *ret)
{
	size_t n = strlen(key);
	unsigned long long v;

	if (strncmp(line, key, n) || sscanf(line + n, " %llu kB", &v) != 1)
		return false;
	*ret = (uint64_t)v * 1024;
	return true;
}

struct smaps_entry {
	taddr_t start, end;
	unsigned prot;
	bool shared, deleted;
	char *name;
	uint64_t rss, swap, anon;
};

/* Fold one parsed smaps entry into R. NEW_MAPS collects mappings the
 * stop did not know (added after the loop: R's maps must stay sorted
 * while it is searched). */
static void fold_entry(struct residency *r, struct smaps_entry *e, struct residency *new_maps)
{
	size_t i = first_above(r, e->start);
	struct residency_map *m;

	if (i < r->nr_maps && r->maps[i].start == e->start && r->maps[i].end == e->end) {
		m = &r->maps[i];
		m->flags |= RESMAP_SMAPS;
		m->rss = e->rss;
		m->swap = e->swap;
		m->anon = e->anon;
		free(e->name);
		return;
	}
	if (i < r->nr_maps && r->maps[i].start < e->end) {
		/* remapped since the stop: its pages are in no account */
		r->changed_rss += e->rss;
		free(e->name);
		return;
	}
	m = residency_add_map(new_maps);
	m->start = e->start;
	m->end = e->end;
	m->prot = e->prot;
	m->shared = e->shared;
	m->deleted = e->deleted;
	m->name = e->name;
	m->flags = RESMAP_SMAPS;
	m->rss = e->rss;
	m->swap = e->swap;
	m->anon = e->anon;
}

static bool parse_header(const char *line, struct smaps_entry *e)
{
	struct target_region r;

	if (!target_parse_maps_line(line, &r))
		return false;
	if (r.start >= r.end) {
		free(r.path);
		return false;
	}
	memset(e, 0, sizeof(*e));
	e->start = r.start;
	e->end = r.end;
	e->prot = r.prot;
	e->shared = r.shared;
	e->deleted = r.deleted;
	e->name = r.path;
	return true;
}

static int read_rollup(int pid, struct residency *r)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", pid);
	f = fopen(path, "re");
	if (!f)
		return errno_hg(errno);
	while (fgets(line, sizeof(line), f)) {
		if (kb_field(line, "Rss:", &r->rollup_rss))
			r->has_rollup = true;
		else
			(void)kb_field(line, "Swap:", &r->rollup_swap);
	}
	fclose(f);
	return 0;
}

int residency_read_smaps(int pid, struct residency *r)
{
	struct residency added = { 0 };
	struct smaps_entry e = { 0 };
	char path[64];
	char *line = NULL;
	size_t cap = 0;
	bool in = false;
	double t0 = monotonic_ms();
	FILE *f;
	int err;

	snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	f = fopen(path, "re");
	if (!f) {
		r->smaps_err = errno_hg(errno);
		return r->smaps_err == -HG_E_TARGET_GONE ? r->smaps_err : 0;
	}
	while (getline(&line, &cap, f) > 0) {
		/* a header starts with a hex digit, a field with a capital */
		if ((line[0] >= '0' && line[0] <= '9') || (line[0] >= 'a' && line[0] <= 'f')) {
			if (in)
				fold_entry(r, &e, &added);
			in = parse_header(line, &e);
			continue;
		}
		if (!in)
			continue;
		if (!kb_field(line, "Rss:", &e.rss) && !kb_field(line, "Swap:", &e.swap))
			(void)kb_field(line, "Anonymous:", &e.anon);
	}
	if (in)
		fold_entry(r, &e, &added);
	free(line);
	fclose(f);
	for (size_t i = 0; i < added.nr_maps; i++)
		*residency_add_map(r) = added.maps[i];
	free(added.maps);
	if (r->nr_maps > 1)
		qsort(r->maps, r->nr_maps, sizeof(*r->maps), cmp_maps);
	err = read_rollup(pid, r);
	if (err == -HG_E_TARGET_GONE)
		return err;
	r->smaps_ms = monotonic_ms() - t0;
	return 0;
}

/* ---- queries ---- */

static bool bit_at(const uint64_t *b, uint64_t i)
{
	return b[i / 64] >> (i % 64) & 1;
}

/* Bits set in [LO, HI). */
static uint64_t count_bits(const uint64_t *b, uint64_t lo, uint64_t hi)
{
	uint64_t n = 0;

	while (lo < hi && lo % 64) {
		n += bit_at(b, lo);
		lo++;
	}
	for (; lo + 64 <= hi; lo += 64)
		n += (uint64_t)__builtin_popcountll(b[lo / 64]);
	for (; lo < hi; lo++)
		n += bit_at(b, lo);
	return n;
}

uint64_t residency_map_bytes(const struct residency_map *m, taddr_t cs, taddr_t ce)
{
	uint64_t p0, p1, res = 0;

	if (ce <= cs || !m->bits)
		return 0;
	p0 = (cs - m->start) / RESIDENCY_PAGE;
	p1 = (ce - 1 - m->start) / RESIDENCY_PAGE;
	if (p0 == p1)
		return bit_at(m->bits, p0) ? ce - cs : 0;
	if (bit_at(m->bits, p0))
		res += m->start + (p0 + 1) * RESIDENCY_PAGE - cs;
	if (bit_at(m->bits, p1))
		res += ce - (m->start + p1 * RESIDENCY_PAGE);
	return res + count_bits(m->bits, p0 + 1, p1) * RESIDENCY_PAGE;
}

uint64_t residency_bytes(const struct residency *r, taddr_t start, taddr_t end,
			 uint64_t *ret_unknown)
{
	uint64_t res = 0, unknown = 0;

	for (size_t i = first_above(r, start); i < r->nr_maps && r->maps[i].start < end; i++) {
		const struct residency_map *m = &r->maps[i];
		taddr_t cs = MAX(start, m->start), ce = MIN(end, m->end);

		if (!(m->flags & RESMAP_PAGED))
			unknown += ce - cs;
		else
			res += residency_map_bytes(m, cs, ce);
	}
	if (ret_unknown)
		*ret_unknown = unknown;
	return res;
}

/* ---- the process's environment and CPUs ---- */

/* At most this much of /proc/PID/environ is read (the kernel limits the
 * environment to a quarter of the stack limit; 1 MiB covers any sane one). */
#define ENVIRON_MAX (1u << 20)

void residency_environ(int pid, char **ret_tunables, char **ret_malloc_env)
{
	char path[64];
	char *buf = xmalloc(ENVIRON_MAX + 1), *env = NULL;
	size_t len = 0, elen = 0;
	int fd;

	*ret_tunables = NULL;
	*ret_malloc_env = NULL;
	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto out;
	for (;;) {
		ssize_t n = read(fd, buf + len, ENVIRON_MAX - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == ENVIRON_MAX)
			break;
	}
	close(fd);
	buf[len] = '\0';
	for (size_t i = 0; i < len; i += strlen(buf + i) + 1) {
		const char *v = buf + i;
		size_t n = strlen(v);

		if (!strncmp(v, "GLIBC_TUNABLES=", 15) && !*ret_tunables) {
			*ret_tunables = xstrdup(v + 15);
		} else if (!strncmp(v, "MALLOC_", 7) && strchr(v, '=')) {
			env = xrealloc(env, elen + n + 2);
			memcpy(env + elen, v, n);
			elen += n;
			env[elen++] = '\n';
			env[elen] = '\0';
		}
	}
	*ret_malloc_env = env;
out:
	free(buf);
}

/* "0-3,8-11\n" -> 8 */
static unsigned count_cpu_list(const char *s)
{
	unsigned n = 0;

	while (*s && *s != '\n') {
		char *end;
		unsigned long a = strtoul(s, &end, 10), b = a;

		if (end == s)
			return 0;
		s = end;
		if (*s == '-') {
			b = strtoul(s + 1, &end, 10);
			if (end == s + 1 || b < a)
				return 0;
			s = end;
		}
		n += (unsigned)(b - a + 1);
		if (*s == ',')
			s++;
	}
	return n;
}

unsigned residency_online_cpus(void)
{
	char buf[4096];
	ssize_t n;
	int fd = open("/sys/devices/system/cpu/online", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return count_cpu_list(buf);
}

unsigned residency_affinity_cpus(int pid)
{
	cpu_set_t set;

	if (sched_getaffinity(pid, sizeof(set), &set) < 0)
		return 0;
	return (unsigned)CPU_COUNT(&set);
}
