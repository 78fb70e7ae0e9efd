/*
 * ptrace-copy.c - the live backend's copy of a stopped process, and its
 * reading of a fork snapshot's frozen child in place.
 *
 * What is copied is every private writable mapping, a stack from its live
 * part (live_freeze()), or a plan of ranges (live_freeze_ranges(): what a
 * census reads). The copy runs in one thread per CPU into buffers filled
 * before the stop (live_prepare(); under the stop only what changed since
 * is copied, ptrace-precopy.c), and the result is a memimage the reads
 * after the detach go to. A fork snapshot's child holds the instant
 * for as long as it lives, so a big one is not copied but read in place
 * through a bounded cache (live_stream()). Each part has its essay below.
 */
#include "config.h"
#include "target/ptrace.h"
#include "target/ptrace-internal.h"
#include "util/errors.h"
#include "util/workers.h"
#include "util/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Regions whose bytes the analysis needs from the stopped instant. */
bool live_worth_copying(const struct target_region *r)
{
	if ((r->prot & (TARGET_PROT_READ | TARGET_PROT_WRITE)) !=
	    (TARGET_PROT_READ | TARGET_PROT_WRITE) || r->shared)
		return false;
	if (!r->path || r->path[0] == '/')
		return true;
	return !strcmp(r->path, "[heap]") || !strncmp(r->path, "[stack", 6) ||
	       !strncmp(r->path, "[anon:", 6);
}

/*
 * The copy under the stop, in parallel.
 *
 * process_vm_readv copies at one core's memcpy speed (about 5-7 GB/s
 * here), so one thread copies a 1 GiB heap in about 175 ms. The ranges to
 * copy ("jobs", in address order) are cut into one share of bytes per
 * thread (as many threads as CPUs, up to COPY_THREADS_MAX, none for less
 * than SHARE_MIN); each share is read in COPY_PIECE pieces into the
 * job's destination, noting the pages that could not be read ("holes"),
 * and every share is read whatever the number of threads workers_new()
 * could make (workers_run_shares()).
 * When all are done, the calling thread turns each job into memimage
 * segments, the runs between its holes: a page that cannot be read (a
 * file mapping past EOF, memory unmapped since the maps were read) is a
 * hole in the image, and reads of it fail, as they would have in the
 * process. The result is the same image, byte for byte, whatever the
 * number of threads (HEAPGRAB_THREADS=N forces N, for tests and
 * benchmarks).
 *
 * Destinations. A job of at least PREPARE_MIN bytes gets a mapping of its
 * own before the stop (live_prepare), faulted in there by the same
 * threads, each its share (MADV_POPULATE_WRITE: one system call instead
 * of a touch per page): faulting in destination pages under the stop was
 * most of the copy time once measured, and on a VM the first touch of a
 * page the host has not backed costs several times a memcpy of it. Huge
 * pages are not asked for: on this kind of VM a fresh 2 MiB page cost
 * 12 ms to fault in (6 s per GiB, against 1 s in 4 KiB pages), and the
 * first run of heapgrab is the one that meets fresh memory. Faulted in
 * was not enough on that VM: the first copy into such pages under the
 * stop still took 2.4 times as long as into pages reused from the run
 * before, so the buffers are pre-copied instead (ptrace-precopy.c: filled
 * from the running process, and under the stop read again into a small
 * scratch piece per thread, compared page by page and corrected: "compare"
 * jobs). Smaller jobs (the live part of a thread stack, data of
 * libraries) are malloc'd in the stop and read directly. The image
 * borrows the prepared mappings (no byte is copied twice) and unmaps them
 * when it is destroyed.
 */
#define COPY_THREADS_MAX 8
#define SHARE_MIN (4u << 20)
#define PREPARE_MIN (16u << 20)
#define BUF_ALIGN (2u << 20)
#define PAGE_SZ 4096u
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23	/* Linux 5.14 */
#endif

struct cjob {
	taddr_t start, end;
	unsigned char *dst;
	bool prepared;		/* dst lies in a prepared mapping */
	bool in_zero;		/* ... of a zero range: no segment of its own */
	bool precopied;		/* ... which was pre-copied (ptrace-precopy.c) */
	bool compare;		/* ... and is compared, what changed copied */
};

struct chole {
	taddr_t start, end;
};

struct cshare {
	struct chole *holes;
	size_t nr, alloc;
	int err;
	unsigned char *scratch;	/* for compare jobs; NULL: read directly */
	uint64_t changed;
};

struct copy {
	struct reader rd;
	const struct cjob *jobs;
	size_t nr;
	uint64_t total;		/* bytes of all jobs */
	unsigned nw;		/* shares */
	struct cshare share[WORKERS_MAX];
};

/* Threads for a job of BYTES bytes. */
static unsigned copy_threads(uint64_t bytes)
{
	unsigned n = workers_forced();

	if (n)
		return n;
	n = MIN(workers_cpus(), COPY_THREADS_MAX);
	if (bytes / SHARE_MIN + 1 < n)
		n = (unsigned)(bytes / SHARE_MIN + 1);
	return MAX(n, 1u);
}

/* The live backend's threads, at least N of them (or none: run inline). */
static struct workers *get_workers(struct live *l, unsigned n)
{
	if (n <= 1)
		return NULL;
	live_populate_wait(l);
	if (l->workers && workers_count(l->workers) >= n)
		return l->workers;
	workers_free(l->workers);
	l->workers = workers_new(n);
	return l->workers;
}

/* Byte offset where share I of NW starts in TOTAL: page-aligned cuts. */
static uint64_t share_start(uint64_t total, unsigned i, unsigned nw)
{
	if (i >= nw)
		return total;
	return (total / nw * i) & ~(uint64_t)(PAGE_SZ - 1);
}

static void add_hole(struct cshare *sh, taddr_t start, taddr_t end)
{
	ALLOC_GROW(sh->holes, sh->nr + 1, sh->alloc);
	sh->holes[sh->nr].start = start;
	sh->holes[sh->nr].end = end;
	sh->nr++;
}

/* Copy [A, E) of job J. 0, or -HG_E_TARGET_GONE. */
static int copy_part(const struct copy *c, struct cshare *sh, const struct cjob *j,
		     taddr_t a, taddr_t e)
{
	bool compare = j->compare && sh->scratch;

	while (a < e) {
		size_t want = (size_t)MIN((taddr_t)COPY_PIECE, e - a);
		ssize_t n = compare ? live_precopy_refresh(&c->rd, a, j->dst + (a - j->start), want,
							  sh->scratch, &sh->changed)
				    : live_reader_read(&c->rd, a, j->dst + (a - j->start), want);
		taddr_t next;

		if (n == -HG_E_TARGET_GONE)
			return (int)n;
		if (n > 0) {
			a += (taddr_t)n;
			continue;
		}
		/* Unreadable: one page (to its end) becomes a hole. */
		next = MIN(e, (a + PAGE_SZ) & ~(taddr_t)(PAGE_SZ - 1));
		add_hole(sh, a, next);
		if (j->precopied)	/* the pre-copy's bytes are not the stop's */
			memset(j->dst + (a - j->start), 0, (size_t)(next - a));
		a = next;
	}
	return 0;
}

static void copy_share(void *arg, unsigned i)
{
	struct copy *c = arg;
	struct cshare *sh = &c->share[i];
	uint64_t lo = share_start(c->total, i, c->nw), hi = share_start(c->total, i + 1, c->nw);
	uint64_t off = 0;

	for (size_t k = 0; k < c->nr && off < hi; k++) {
		const struct cjob *j = &c->jobs[k];
		uint64_t len = j->end - j->start;
		uint64_t a = MAX(lo, off), e = MIN(hi, off + len);

		if (a < e) {
			sh->err = copy_part(c, sh, j, j->start + (a - off), j->start + (e - off));
			if (sh->err < 0)
				return;
		}
		off += len;
	}
}

/* A prepared destination covering [START, END), or NULL. */
static struct prebuf *find_prebuf(struct live *l, taddr_t start, taddr_t end)
{
	for (size_t i = 0; i < l->nr_pre; i++)
		if (l->pre[i].start <= start && end <= l->pre[i].end)
			return &l->pre[i];
	return NULL;
}

static int cmp_hole(const void *a, const void *b)
{
	const struct chole *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Put [START, END) of job J into M: borrowed from a prepared mapping, or
 * a malloc'd copy of that part. */
static void put_run(struct memimage *m, const struct cjob *j, taddr_t start, taddr_t end)
{
	size_t len = (size_t)(end - start);
	unsigned char *src = j->dst + (start - j->start);
	void *part;

	if (j->prepared) {
		memimage_put_borrowed(m, start, src, len);
		return;
	}
	part = xmalloc(len);
	memcpy(part, src, len);
	memimage_put(m, start, part, len);
}

/*
 * Copy JOBS (sorted, non-overlapping; destinations set) into a new image
 * L->frozen, which also gets ZERO (sorted; ZERO[i] lies in L->pre[ZPRE[i]])
 * as whole segments. *RET_BYTES: the bytes read. Every job's
 * malloc'd destination is consumed (owned by the image or freed), on
 * error too.
 */
static int copy_jobs(struct live *l, struct cjob *jobs, size_t nr, const struct target_range *zero,
		     const size_t *zpre, size_t nr_zero, uint64_t *ret_bytes)
{
	struct copy *c = xcalloc(1, sizeof(*c));
	struct chole *holes = NULL;
	size_t nr_holes = 0, h = 0;
	int err = 0;

	c->jobs = jobs;
	c->nr = nr;
	for (size_t k = 0; k < nr; k++)
		c->total += jobs[k].end - jobs[k].start;
	/* Settle how the process is read (live_raw_read() may switch to
	 * /proc/PID/mem) before the threads take a copy of the reader. */
	if (nr) {
		unsigned char probe;

		if (live_raw_read(l, jobs[0].start, &probe, 1) == -HG_E_TARGET_GONE) {
			err = -HG_E_TARGET_GONE;
			goto out;
		}
	}
	c->rd = (struct reader){ l->read_pid, l->use_memfd, l->memfd };
	c->nw = copy_threads(c->total);
	for (unsigned i = 0; i < c->nw && i < l->nr_scratch; i++)
		c->share[i].scratch = l->scratch + (size_t)i * PRECOPY_PIECE;
	/* Every share, on however many threads there are: workers_new()
	 * may have made fewer than asked, and a share no thread copied
	 * would leave its bytes unread without a hole to say so. */
	workers_run_shares(get_workers(l, c->nw), c->nw, copy_share, c);
	for (unsigned i = 0; i < c->nw; i++) {
		if (c->share[i].err < 0)
			err = c->share[i].err;
		nr_holes += c->share[i].nr;
		l->changed += c->share[i].changed;
	}
	if (err < 0)
		goto out;
	holes = xmalloc(st_mult(nr_holes ? nr_holes : 1, sizeof(*holes)));
	nr_holes = 0;
	for (unsigned i = 0; i < c->nw; i++) {
		if (!c->share[i].nr)
			continue;	/* no holes: NULL, not for memcpy */
		memcpy(holes + nr_holes, c->share[i].holes, c->share[i].nr * sizeof(*holes));
		nr_holes += c->share[i].nr;
	}
	qsort(holes, nr_holes, sizeof(*holes), cmp_hole);
	*ret_bytes = c->total;
	for (size_t i = 0; i < nr_holes; i++)
		*ret_bytes -= holes[i].end - holes[i].start;
	l->frozen = memimage_create();
	for (size_t i = 0; i < nr_zero; i++) {
		const struct prebuf *pb = &l->pre[zpre[i]];

		memimage_put_borrowed(l->frozen, zero[i].start, pb->buf + (zero[i].start - pb->start),
				      (size_t)(zero[i].end - zero[i].start));
	}
	for (size_t k = 0; k < nr; k++) {
		struct cjob *j = &jobs[k];
		taddr_t cur = j->start;

		if (j->in_zero) {
			/* its bytes are in the zero range's segment; a page
			 * that did not read stays zero there */
			while (h < nr_holes && holes[h].start < j->end)
				h++;
			continue;
		}
		if (h == nr_holes || holes[h].start >= j->end) {
			/* no hole: the whole job, without a copy */
			if (j->prepared)
				memimage_put_borrowed(l->frozen, j->start, j->dst,
						      (size_t)(j->end - j->start));
			else
				memimage_put(l->frozen, j->start, j->dst, (size_t)(j->end - j->start));
			j->dst = NULL;
			continue;
		}
		for (; h < nr_holes && holes[h].start < j->end; h++) {
			if (holes[h].start > cur)
				put_run(l->frozen, j, cur, holes[h].start);
			cur = MAX(cur, holes[h].end);
		}
		if (cur < j->end)
			put_run(l->frozen, j, cur, j->end);
	}
out:
	for (size_t k = 0; k < nr; k++)
		if (!jobs[k].prepared)
			free(jobs[k].dst);
	for (unsigned i = 0; i < WORKERS_MAX; i++)
		free(c->share[i].holes);
	free(holes);
	free(c);
	return err;
}

/* Give job J its destination: a prepared mapping, else malloc (not
 * xmalloc: a heapgrab under a memory limit fails cleanly and detaches).
 * 0 or -ENOMEM. */
static int set_dst(struct live *l, struct cjob *j)
{
	struct prebuf *pb = find_prebuf(l, j->start, j->end);

	j->prepared = pb != NULL;
	j->precopied = pb && pb->nr_filled;
	j->compare = j->precopied && live_precopy_compare();
	j->dst = pb ? pb->buf + (j->start - pb->start) : malloc((size_t)(j->end - j->start));
	return j->dst ? 0 : -ENOMEM;
}

/* Free the malloc'd destinations of the first NR jobs. */
static void free_dsts(struct cjob *jobs, size_t nr)
{
	for (size_t k = 0; k < nr; k++)
		if (!jobs[k].prepared)
			free(jobs[k].dst);
}

/* Faulting in prepared mappings: runs in the copy threads while the
 * caller goes on (live_prepare() to live_populate_wait()). */
struct pjob {
	unsigned char *p;
	size_t len;
	taddr_t addr;		/* the process's bytes there */
};

struct populate {
	struct pjob *jobs;
	size_t nr;
	uint64_t total;
	unsigned nw;
	bool precopy;		/* fill from the process (else zeros) */
	struct reader rd;
	uint64_t got[WORKERS_MAX];	/* bytes pre-copied, per share */
};

static void populate_range(unsigned char *p, size_t len)
{
	if (madvise(p, len, MADV_POPULATE_WRITE) == 0)
		return;
	/* Before Linux 5.14: one write per page. */
	for (size_t off = 0; off < len; off += PAGE_SZ)
		((volatile unsigned char *)p)[off] = 0;
}

static void populate_share(void *arg, unsigned i)
{
	struct populate *pp = arg;
	uint64_t lo = share_start(pp->total, i, pp->nw), hi = share_start(pp->total, i + 1, pp->nw);
	uint64_t off = 0;

	if (i >= pp->nw)
		return;		/* more threads than shares */
	for (size_t k = 0; k < pp->nr && off < hi; k++) {
		uint64_t a = MAX(lo, off), e = MIN(hi, off + pp->jobs[k].len);

		if (a < e && pp->precopy)
			pp->got[i] += live_precopy_fill(&pp->rd, pp->jobs[k].addr + (a - off),
							pp->jobs[k].p + (a - off), (size_t)(e - a));
		else if (a < e)
			populate_range(pp->jobs[k].p + (a - off), (size_t)(e - a));
		off += pp->jobs[k].len;
	}
}

/* Wait for a live_prepare() still faulting in. */
void live_populate_wait(struct live *l)
{
	if (!l->populating)
		return;
	workers_wait(l->workers);
	for (unsigned i = 0; i < l->populating->nw; i++)
		l->precopied += l->populating->got[i];
	free(l->populating->jobs);
	free(l->populating);
	l->populating = NULL;
}

void live_prepare_wait(struct target *t)
{
	live_populate_wait(live_of(t));
}

/* Add a mapping for region R (not yet prepared). NULL if mmap failed. */
static struct prebuf *add_prebuf(struct live *l, taddr_t start, taddr_t end)
{
	size_t len = (size_t)(end - start), map_len = st_add(len, BUF_ALIGN);
	struct prebuf *pb;
	unsigned char *p;

	p = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	l->pre = xrealloc(l->pre, st_mult(l->nr_pre + 1, sizeof(*l->pre)));
	pb = &l->pre[l->nr_pre++];
	pb->map = p;
	pb->map_len = map_len;
	pb->buf = (unsigned char *)(((uintptr_t)p + BUF_ALIGN - 1) & ~(uintptr_t)(BUF_ALIGN - 1));
	pb->start = start;
	pb->end = end;
	pb->filled = NULL;
	pb->nr_filled = 0;
	return pb;
}

/* Bytes of the sorted RANGES inside [START, END). */
static uint64_t bytes_within(const struct target_range *ranges, size_t nr, taddr_t start,
			     taddr_t end)
{
	uint64_t n = 0;

	for (size_t i = 0; i < nr; i++)
		if (ranges[i].end > start && ranges[i].start < end)
			n += MIN(ranges[i].end, end) - MAX(ranges[i].start, start);
	return n;
}

static size_t merge_ranges(struct target_range *r, size_t nr, bool touch);

int live_prepare(struct target *t, const struct target_range *ranges, size_t nr)
{
	struct live *l = live_of(t);
	struct populate *pp = xcalloc(1, sizeof(*pp));
	size_t alloc = 0;

	live_populate_wait(l);
	pp->precopy = !l->no_precopy && live_precopy_enabled();
	for (size_t i = 0; i < t->nr_regions; i++) {
		const struct target_region *r = &t->regions[i];
		uint64_t want = ranges ? bytes_within(ranges, nr, r->start, r->end) : r->end - r->start;
		struct target_range *pages;
		size_t nr_pages = 0;
		struct prebuf *pb;

		if (!live_worth_copying(r) || want < PREPARE_MIN || find_prebuf(l, r->start, r->end) ||
		    !(pb = add_prebuf(l, r->start, r->end)))
			continue;	/* small, or the copy falls back to malloc */
		pages = xmalloc(st_mult(ranges ? nr : 1, sizeof(*pages)));
		for (size_t k = 0; k < (ranges ? nr : 1); k++) {
			taddr_t a = ranges ? MAX(ranges[k].start, r->start) : r->start;
			taddr_t e = ranges ? MIN(ranges[k].end, r->end) : r->end;

			if (a >= e)
				continue;
			pages[nr_pages].start = a & ~(taddr_t)(PAGE_SZ - 1);
			pages[nr_pages].end = MIN(r->end, (e + PAGE_SZ - 1) & ~(taddr_t)(PAGE_SZ - 1));
			nr_pages++;
		}
		nr_pages = merge_ranges(pages, nr_pages, true);
		for (size_t k = 0; k < nr_pages; k++) {
			ALLOC_GROW(pp->jobs, pp->nr + 1, alloc);
			pp->jobs[pp->nr].p = pb->buf + (pages[k].start - pb->start);
			pp->jobs[pp->nr].len = (size_t)(pages[k].end - pages[k].start);
			pp->jobs[pp->nr].addr = pages[k].start;
			pp->total += pages[k].end - pages[k].start;
			pp->nr++;
		}
		if (pp->precopy) {
			pb->filled = pages;
			pb->nr_filled = nr_pages;
		} else {
			free(pages);
		}
	}
	pp->nw = copy_threads(pp->total);
	if (pp->precopy && pp->nr) {
		/* Settle how the process is read (live_raw_read() may switch
		 * to /proc/PID/mem) before the threads take a copy of the
		 * reader; if it does not read at all, fault in zeros. */
		unsigned char probe;

		if (live_raw_read(l, pp->jobs[0].addr, &probe, 1) < 0)
			pp->precopy = false;
		pp->rd = (struct reader){ l->read_pid, l->use_memfd, l->memfd };
		/* the in-stop check's scratch pieces, one per copy thread */
		live_precopy_scratch(l, pp->nw);
	}
	if (!pp->precopy) {
		for (size_t i = 0; i < l->nr_pre; i++) {
			free(l->pre[i].filled);
			l->pre[i].filled = NULL;
			l->pre[i].nr_filled = 0;
		}
	}
	/* At least one thread, so the caller goes on meanwhile. */
	if (pp->total && get_workers(l, MAX(pp->nw, 2u))) {
		l->populating = pp;
		workers_start_shares(l->workers, pp->nw, populate_share, pp);
		return 0;
	}
	for (unsigned i = 0; i < pp->nw; i++) {
		populate_share(pp, i);
		l->precopied += pp->got[i];
	}
	free(pp->jobs);
	free(pp);
	return 0;
}

/*
 * What a copy of all writable memory holds: every region worth copying, a
 * stack from its live part (from the stack pointer, red zone included, to
 * the top, where glibc also keeps a thread's TLS and struct pthread).
 * Thread stacks are 8 MiB mappings that are mostly never touched; copying
 * them whole cost more than the heap itself in a 9-thread target. Sorted;
 * malloc'd, returns the count.
 */
static size_t full_extents(const struct target *t, struct target_range **ret)
{
	struct target_range *v = NULL;
	size_t nr = 0, alloc = 0;

	for (size_t i = 0; i < t->nr_regions; i++) {
		const struct target_region *r = &t->regions[i];
		taddr_t start = r->start;

		if (!live_worth_copying(r))
			continue;
		for (size_t k = 0; k < t->nr_threads; k++) {
			taddr_t sp = t->threads[k].regs.rsp;

			if (sp >= r->start && sp < r->end) {
				sp = sp >= r->start + 128 ? sp - 128 : r->start;
				start = MAX(r->start, sp & ~(taddr_t)(PAGE_SZ - 1));
				break;
			}
		}
		ALLOC_GROW(v, nr + 1, alloc);
		v[nr].start = start;
		v[nr].end = r->end;
		nr++;
	}
	*ret = v;
	return nr;
}

int live_freeze(struct target *t, uint64_t *ret_bytes)
{
	struct live *l = live_of(t);
	struct target_range *ext;
	struct cjob *jobs;
	size_t nr;
	uint64_t bytes = 0;
	int err;

	memimage_destroy(l->frozen);
	l->frozen = NULL;
	nr = full_extents(t, &ext);
	jobs = xcalloc(nr ? nr : 1, sizeof(*jobs));
	for (size_t k = 0; k < nr; k++) {
		jobs[k].start = ext[k].start;
		jobs[k].end = ext[k].end;
		if (set_dst(l, &jobs[k]) < 0) {
			free_dsts(jobs, k);
			free(jobs);
			free(ext);
			return -ENOMEM;
		}
	}
	free(ext);
	err = copy_jobs(l, jobs, nr, NULL, NULL, 0, &bytes);
	free(jobs);
	if (err < 0)
		return err;
	if (ret_bytes)
		*ret_bytes = bytes;
	return 0;
}

static int cmp_range(const void *a, const void *b)
{
	const struct target_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Sort RANGES and merge the ones that overlap (or with TOUCH, touch);
 * returns the count. */
static size_t merge_ranges(struct target_range *r, size_t nr, bool touch)
{
	size_t n = 0;

	qsort(r, nr, sizeof(*r), cmp_range);
	for (size_t i = 0; i < nr; i++) {
		if (r[i].end <= r[i].start)
			continue;
		if (n && (r[i].start < r[n - 1].end || (touch && r[i].start == r[n - 1].end)))
			r[n - 1].end = MAX(r[n - 1].end, r[i].end);
		else
			r[n++] = r[i];
	}
	return n;
}

int live_freeze_ranges(struct target *t, const struct target_range *copy, size_t nr_copy,
		       const struct target_range *zero, size_t nr_zero, uint64_t *ret_bytes)
{
	struct live *l = live_of(t);
	struct target_range *cp = xmalloc(st_mult(nr_copy ? nr_copy : 1, sizeof(*cp)));
	struct target_range *z = xmalloc(st_mult(nr_zero ? nr_zero : 1, sizeof(*z)));
	size_t *zpre = xmalloc(st_mult(nr_zero ? nr_zero : 1, sizeof(*zpre)));
	struct cjob *jobs = NULL;
	size_t nr = 0, alloc = 0, zi = 0;
	uint64_t bytes = 0;
	int err = 0;

	memimage_destroy(l->frozen);
	l->frozen = NULL;
	memcpy(cp, copy, nr_copy * sizeof(*cp));
	memcpy(z, zero, nr_zero * sizeof(*z));
	nr_copy = merge_ranges(cp, nr_copy, true);
	nr_zero = merge_ranges(z, nr_zero, false);
	/* Each zero range reads from a mapping: the one prepared for it, or
	 * a fresh one (never faulted in: its pages read as zeros for free). */
	for (size_t i = 0; i < nr_zero; i++) {
		struct prebuf *pb = find_prebuf(l, z[i].start, z[i].end);

		if (!pb)
			pb = add_prebuf(l, z[i].start, z[i].end);
		if (!pb) {
			err = -ENOMEM;
			goto out;
		}
		zpre[i] = (size_t)(pb - l->pre);
	}
	/* Jobs: the copy ranges, cut where zero ranges begin and end. */
	for (size_t i = 0; i < nr_copy; i++) {
		taddr_t a = cp[i].start;

		while (a < cp[i].end) {
			taddr_t e = cp[i].end;
			struct cjob *j;

			while (zi < nr_zero && z[zi].end <= a)
				zi++;
			if (zi < nr_zero && z[zi].start > a)
				e = MIN(e, z[zi].start);
			else if (zi < nr_zero)
				e = MIN(e, z[zi].end);
			/* ... and where prepared mappings begin and end */
			for (size_t k = 0; k < l->nr_pre; k++) {
				if (l->pre[k].start > a)
					e = MIN(e, l->pre[k].start);
				else if (l->pre[k].end > a)
					e = MIN(e, l->pre[k].end);
			}
			ALLOC_GROW(jobs, nr + 1, alloc);
			j = &jobs[nr++];
			j->start = a;
			j->end = e;
			j->in_zero = zi < nr_zero && z[zi].start <= a;
			if (j->in_zero) {
				/* into the zero range's own mapping */
				const struct prebuf *pb = &l->pre[zpre[zi]];

				j->prepared = true;
				j->precopied = pb->nr_filled > 0;
				j->compare = j->precopied && live_precopy_compare();
				j->dst = pb->buf + (a - pb->start);
			} else if (set_dst(l, j) < 0) {
				free_dsts(jobs, nr - 1);
				err = -ENOMEM;
				goto out;
			}
			a = e;
		}
	}
	/* A zero range reads zeros where nothing is copied: not the bytes a
	 * pre-copy left there. */
	for (size_t i = 0; i < nr_zero; i++)
		if (l->pre[zpre[i]].nr_filled)
			live_precopy_clear(&l->pre[zpre[i]], z[i].start, z[i].end, cp, nr_copy);
	err = copy_jobs(l, jobs, nr, z, zpre, nr_zero, &bytes);
	if (err == 0 && ret_bytes)
		*ret_bytes = bytes;
out:
	free(jobs);
	free(zpre);
	free(cp);
	free(z);
	return err;
}

/*
 * Reading in place (a fork snapshot's frozen child, live_stream()). The
 * child holds the instant for as long as it lives, so instead of a copy
 * of its memory the walk and typing read it on demand, through a bounded
 * cache: blocks of STREAM_BLOCK bytes (plus STREAM_SLACK of the next, so
 * that a small object across a boundary maps too), read with one pread()
 * of /proc/PID/mem each, least recently used first out. heapgrab's memory
 * is then the cache, not the heap.
 *
 * It reads what a copy of all writable memory would hold (full_extents):
 * the same bytes, the same holes, the same refusals (a stack below its
 * live part, writable memory not worth copying), so the census of the
 * stream is the census of the copy, byte for byte. Read-only mappings are
 * read from the child as they would have been from the process.
 *
 * A pointer from target_map() stays valid until its block is dropped,
 * after at least STREAM_MIN_BLOCKS - 1 other blocks were read: longer
 * than any caller holds one (the walk's window, one chunk's scan).
 */
#define STREAM_BLOCK (1u << 20)
#define STREAM_SLACK PAGE_SZ
#define STREAM_MIN_BLOCKS 8u

struct sblock {
	taddr_t base, end;	/* what it was asked to hold */
	taddr_t valid;		/* [base, valid) read (a hole ends it) */
	unsigned char *buf;
	uint64_t used;		/* LRU tick */
};

struct stream {
	struct target_range *ext;	/* full_extents() */
	size_t nr_ext;
	struct sblock *b;
	size_t nr, max;
	struct sblock *last;
	uint64_t tick;
	uint64_t bytes;			/* read from the process */
	/* read-ahead: one block, read by a thread of its own */
	struct workers *ra_thread;
	struct reader ra_rd;
	struct sblock ra;
	uint64_t ra_bytes;
	bool ra_busy, ra_ready;
	taddr_t last_aligned;		/* the block before, for the direction */
};

/* Index of the extent holding ADDR, or -1. */
static long stream_extent(const struct stream *st, taddr_t addr)
{
	size_t lo = 0, hi = st->nr_ext;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < st->ext[mid].start)
			hi = mid;
		else if (addr >= st->ext[mid].end)
			lo = mid + 1;
		else
			return (long)mid;
	}
	return -1;
}

/* Read [B->base, B->end) into B->buf (a hole ends it: B->valid). */
static ssize_t sblock_fill(const struct reader *rd, struct sblock *b)
{
	ssize_t total = 0;

	b->valid = b->base;
	while (b->valid < b->end) {
		ssize_t n = live_reader_read(rd, b->valid, b->buf + (b->valid - b->base),
					(size_t)(b->end - b->valid));

		if (n == -HG_E_TARGET_GONE)
			return n;
		if (n <= 0)
			break;
		b->valid += (taddr_t)n;
		total += n;
	}
	return total;
}

static void ra_job(void *arg, unsigned i)
{
	struct stream *st = arg;
	ssize_t n;

	if (i)
		return;
	n = sblock_fill(&st->ra_rd, &st->ra);
	st->ra_bytes = n > 0 ? (uint64_t)n : 0;
	if (n < 0)
		st->ra.base = st->ra.end = 0;	/* not used */
}

/* Wait for the read-ahead block; it is then ra_ready. */
static void ra_wait(struct stream *st)
{
	if (!st->ra_busy)
		return;
	workers_wait(st->ra_thread);
	st->ra_busy = false;
	st->ra_ready = true;
}

static bool cached(const struct stream *st, taddr_t base, taddr_t end)
{
	for (size_t i = 0; i < st->nr; i++)
		if (st->b[i].base == base && st->b[i].end == end)
			return true;
	return false;
}

/*
 * After a miss on the block at ALIGNED in extent E: when the misses walk
 * through memory block after block (the heap walk forward, a list
 * typed from its head backward), read the next block in that direction
 * meanwhile, in the read-ahead thread (the walk reads and works at once).
 */
static void read_ahead(struct live *l, long e, taddr_t aligned)
{
	struct stream *st = l->stream;
	taddr_t next, base, end;

	if (aligned == st->last_aligned + STREAM_BLOCK)
		next = aligned + STREAM_BLOCK;
	else if (aligned >= STREAM_BLOCK && aligned == st->last_aligned - STREAM_BLOCK)
		next = aligned - STREAM_BLOCK;
	else
		next = 0;
	st->last_aligned = aligned;
	if (!next || st->ra_busy || next + STREAM_BLOCK <= st->ext[e].start ||
	    next >= st->ext[e].end)
		return;
	base = MAX(st->ext[e].start, next);
	end = MIN(st->ext[e].end, next + STREAM_BLOCK + STREAM_SLACK);
	if (cached(st, base, end) || (st->ra_ready && st->ra.base == base && st->ra.end == end))
		return;
	if (!st->ra.buf && !(st->ra.buf = malloc(STREAM_BLOCK + STREAM_SLACK)))
		return;
	if (!st->ra_thread && !(st->ra_thread = workers_new(1)))
		return;
	st->ra.base = base;
	st->ra.end = end;
	st->ra_rd = (struct reader){ l->read_pid, l->use_memfd, l->memfd };
	st->ra_ready = false;
	st->ra_busy = true;
	workers_start(st->ra_thread, ra_job, st);
}

/* The block holding ADDR (inside extent E), read if need be; NULL when
 * the process is gone or memory is short. */
static struct sblock *stream_block(struct live *l, long e, taddr_t addr)
{
	struct stream *st = l->stream;
	taddr_t aligned = addr & ~(taddr_t)(STREAM_BLOCK - 1);
	taddr_t base = MAX(st->ext[e].start, aligned);
	taddr_t end = MIN(st->ext[e].end, aligned + STREAM_BLOCK + STREAM_SLACK);
	struct sblock *b = NULL;
	ssize_t n;

	for (size_t i = 0; i < st->nr; i++) {
		if (st->b[i].base == base && st->b[i].end == end) {
			b = &st->b[i];
			goto hit;
		}
	}
	ra_wait(st);
	if (st->nr < st->max) {
		b = &st->b[st->nr];
		b->buf = malloc(STREAM_BLOCK + STREAM_SLACK);
		if (!b->buf)
			return NULL;
		st->nr++;
	} else {
		b = &st->b[0];
		for (size_t i = 1; i < st->nr; i++)
			if (st->b[i].used < b->used)
				b = &st->b[i];
	}
	b->base = base;
	b->end = end;
	if (st->ra_ready && st->ra.base == base && st->ra.end == end) {
		unsigned char *swap = b->buf;

		b->buf = st->ra.buf;
		b->valid = st->ra.valid;
		st->ra.buf = swap;
		st->bytes += st->ra_bytes;
		st->ra_ready = false;
	} else {
		/* settle the way the process is read (live_raw_read() may switch to
		 * /proc/PID/mem) before the read-ahead thread copies it */
		n = live_raw_read(l, base, b->buf, (size_t)(end - base));
		if (n == -HG_E_TARGET_GONE) {
			b->base = b->end = 0;
			return NULL;
		}
		b->valid = base + (n > 0 ? (taddr_t)n : 0);
		st->bytes += n > 0 ? (uint64_t)n : 0;
		if (n > 0 && b->valid < end) {
			struct reader rd = { l->read_pid, l->use_memfd, l->memfd };
			struct sblock rest = { .base = b->valid, .end = end,
					       .buf = b->buf + (b->valid - base) };

			n = sblock_fill(&rd, &rest);
			if (n == -HG_E_TARGET_GONE) {
				b->base = b->end = 0;
				return NULL;
			}
			b->valid = rest.valid;
			st->bytes += n > 0 ? (uint64_t)n : 0;
		}
	}
	read_ahead(l, e, aligned);
hit:
	b->used = ++st->tick;
	st->last = b;
	return b;
}

int live_stream_read(struct target *t, taddr_t addr, void *buf, size_t len)
{
	struct live *l = live_of(t);
	struct stream *st = l->stream;
	unsigned char *out = buf;

	while (len) {
		struct sblock *b = st->last;
		size_t n;

		if (!b || addr < b->base || addr >= b->end) {
			long e = stream_extent(st, addr);

			if (e < 0) {
				/* Outside the copy: read-only mappings are read
				 * as they are; the rest is refused, as a copy
				 * would have. */
				const struct target_region *r = target_region_of(t, addr);
				ssize_t k;

				if (!r || (r->prot & TARGET_PROT_WRITE))
					return -HG_E_UNREADABLE;
				n = (size_t)MIN((taddr_t)len, r->end - addr);
				k = live_raw_read(l, addr, out, n);
				if (k < 0)
					return (int)k;
				if ((size_t)k != n)
					return -HG_E_UNREADABLE;
				goto next;
			}
			b = stream_block(l, e, addr);
			if (!b)
				return live_proc_exists(l->read_pid) ? -ENOMEM : -HG_E_TARGET_GONE;
		}
		n = (size_t)MIN((taddr_t)len, b->end - addr);
		if (addr + n > b->valid) {
			/* past a hole: only what reads directly */
			ssize_t k = live_raw_read(l, addr, out, n);

			if (k < 0)
				return (int)k;
			if ((size_t)k != n)
				return -HG_E_UNREADABLE;
		} else {
			memcpy(out, b->buf + (addr - b->base), n);
		}
next:
		out += n;
		addr += n;
		len -= n;
	}
	return 0;
}

const void *live_stream_map(struct target *t, taddr_t addr, size_t len)
{
	struct live *l = live_of(t);
	struct stream *st = l->stream;
	struct sblock *b = st->last;

	if (!b || addr < b->base || addr >= b->end) {
		long e = stream_extent(st, addr);

		if (e < 0 || !(b = stream_block(l, e, addr)))
			return NULL;
	}
	if (len > b->valid - addr || addr >= b->valid)
		return NULL;
	return b->buf + (addr - b->base);
}

static void stream_free(struct stream *st)
{
	if (!st)
		return;
	ra_wait(st);
	workers_free(st->ra_thread);
	free(st->ra.buf);
	for (size_t i = 0; i < st->nr; i++)
		free(st->b[i].buf);
	free(st->b);
	free(st->ext);
	free(st);
}

int live_stream(struct target *t, size_t cache_bytes)
{
	struct live *l = live_of(t);
	struct stream *st;

	if (l->read_pid == l->pid)
		return -EINVAL;	/* a process that runs: never in place */
	stream_free(l->stream);
	memimage_destroy(l->frozen);
	l->frozen = NULL;
	st = xcalloc(1, sizeof(*st));
	st->nr_ext = full_extents(t, &st->ext);
	st->max = MAX(cache_bytes / STREAM_BLOCK, (size_t)STREAM_MIN_BLOCKS);
	st->b = xcalloc(st->max, sizeof(*st->b));
	l->stream = st;
	return 0;
}

uint64_t live_copy_bytes(const struct target *t)
{
	struct target_range *ext;
	size_t nr = full_extents(t, &ext);
	uint64_t n = 0;

	for (size_t i = 0; i < nr; i++)
		n += ext[i].end - ext[i].start;
	free(ext);
	return n;
}

uint64_t live_stream_bytes(const struct target *t)
{
	const struct live *l = live_of(t);

	return l && l->stream ? l->stream->bytes : 0;
}

void live_read_from(struct target *t, int pid)
{
	struct live *l = live_of(t);

	/*
	 * A fork snapshot's child shares its pages copy-on-write with the
	 * target. Read them through /proc/PID/mem, never process_vm_readv():
	 * the latter pins the pages (FOLL_PIN), and since Linux 5.19 a pin of
	 * a shared anonymous page unshares it first (mm/gup.c
	 * gup_must_unshare()), which would copy every page of the child, as
	 * slow as a memcpy of it and twice the memory, charged to the
	 * target's cgroup. /proc/PID/mem takes plain references (FOLL_FORCE)
	 * and copies nothing. It is per process: drop the target's, open the
	 * child's on first need, and drop that again afterwards.
	 */
	if (l->memfd >= 0) {
		close(l->memfd);
		l->memfd = -1;
	}
	if (pid > 0) {
		if (l->read_pid == l->pid)
			l->saved_use_memfd = l->use_memfd;
		l->read_pid = pid;
		l->use_memfd = true;
	} else if (l->read_pid != l->pid) {
		stream_free(l->stream);
		l->stream = NULL;
		l->read_pid = l->pid;
		l->use_memfd = l->saved_use_memfd;
	}
}

int live_freeze_from(struct target *t, int pid, uint64_t *ret_bytes)
{
	int err;

	live_read_from(t, pid);
	err = live_freeze(t, ret_bytes);
	live_read_from(t, 0);
	return err;
}

void live_copy_release(struct live *l)
{
	live_populate_wait(l);
	stream_free(l->stream);
	l->stream = NULL;
	memimage_destroy(l->frozen);
	l->frozen = NULL;
	for (size_t i = 0; i < l->nr_pre; i++) {
		munmap(l->pre[i].map, l->pre[i].map_len);
		free(l->pre[i].filled);
	}
	free(l->pre);
	if (l->scratch)
		munmap(l->scratch, l->scratch_len);
	l->scratch = NULL;
	l->scratch_len = 0;
	l->nr_scratch = 0;
	l->pre = NULL;
	l->nr_pre = 0;
	workers_free(l->workers);
	l->workers = NULL;
}
