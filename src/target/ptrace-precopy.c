/*
 * ptrace-precopy.c - the copy before the stop, and its check under it.
 *
 * On a VM, memory the host has not backed for a while (free page
 * reporting hands freed guest pages back) is slow on its first use, and
 * faulting it in with MADV_POPULATE_WRITE is not enough: the first run of
 * heapgrab copied 1 GiB under the stop in 347 ms into prefaulted buffers,
 * a later run (reusing memory freed just before) in 142 ms. So the
 * buffers are not only faulted in before the stop but filled: while the
 * target still runs, the copy threads read every range that will be
 * copied into its buffer (live_prepare(): live_precopy_fill()). That
 * touches the fresh memory outside the pause, and leaves in it the bytes
 * of a moment shortly before the stop.
 *
 * Under the stop every byte is read again, in pieces of PRECOPY_PIECE
 * (1 MiB: smaller pieces cost more system calls than they save in cache)
 * into a scratch piece per thread that stays in its cache, and compared
 * page by page with the pre-copy; only the pages that differ are copied
 * (live_precopy_refresh()). Every page of the result is therefore the
 * stopped process's page, exactly as a copy under the stop would have
 * been, whatever happened between the pre-copy and the stop (writes,
 * sbrk, mappings made, removed or moved: the pre-copy is never trusted,
 * only compared with), and a page that does not read under the stop is a
 * hole as before. The pause reads the target's memory once and the
 * buffers once, but writes only what changed. Measured on that VM (one
 * thread, 1 GiB): the first write into prefaulted fresh memory 0.7 - 4.9
 * s, a second write 262 ms, later ones 165 - 190 ms; the compare of
 * pre-copied memory 185 - 245 ms: reads of memory written once are not
 * slow, writes are. The walk after the detach reads these buffers too,
 * and no longer meets them fresh (main's first walk was up to 1.8 times
 * its later ones; with the pre-copy the first walk is as fast as those). The price: a copy pass before the stop on
 * top of the faulting in, and under the stop two passes over the bytes
 * (one in the cache) instead of one, about 1.1 times a direct copy's CPU
 * when the buffers are warm (bench/README.md).
 *
 * Two places see a buffer's bytes beyond what the stop copies: a hole
 * (an unreadable page would keep the pre-copy: the copy zeroes it, since
 * a zero range's segment shows the buffer's bytes where nothing read)
 * and a zero range (a census's anonymous mapping read as zeros outside
 * the headers copied, live_freeze_ranges(): what was pre-copied there but
 * is not copied under the stop is zeroed, live_precopy_clear()). Either
 * way the image is, byte for byte, the one of a copy under the stop into
 * zero-filled buffers.
 *
 * It is OFF by default: on an idle machine (2026-12-08 04:00, load 0.4 -
 * 0.9, bench/run-ab.sh, 1 GiB, 2 rounds) it lost on every figure to the
 * copy under the stop into prefaulted buffers: pause with types 175 /
 * 183 ms (first / later runs) against 149 / 149, without types 190 / 179
 * against 164 / 164, and the whole census without types 1.22 / 1.11 s
 * against 0.97 / 0.93. The first-run penalty it was built against (347
 * ms on the first run of a freshly booted VM) did not show on a VM whose
 * memory had been in use. HEAPGRAB_PRECOPY=1 turns it on (buffers filled
 * from the running target, compared under the stop), =direct pre-copies
 * but reads directly into the buffers under the stop (no compare), =0 or
 * unset: buffers faulted in as zeros, the copy under the stop.
 */
#include "config.h"
#include "target/ptrace.h"
#include "target/ptrace-internal.h"
#include "util/errors.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define PAGE_SZ 4096u
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23	/* Linux 5.14 */
#endif

bool live_precopy_enabled(void)
{
	const char *s = getenv("HEAPGRAB_PRECOPY");

	return s && *s && strcmp(s, "0") != 0;
}

bool live_precopy_compare(void)
{
	const char *s = getenv("HEAPGRAB_PRECOPY");

	return !s || strcmp(s, "direct") != 0;
}

uint64_t live_precopy_fill(const struct reader *rd, taddr_t addr, unsigned char *p, size_t len)
{
	uint64_t got = 0;
	size_t off = 0;

	while (off < len) {
		size_t want = MIN((size_t)COPY_PIECE, len - off);
		ssize_t n = live_reader_read(rd, addr + off, p + off, want);
		size_t next;

		if (n > 0) {
			off += (size_t)n;
			got += (uint64_t)n;
			continue;
		}
		if (n == -HG_E_TARGET_GONE) {
			next = len;
		} else {
			/* unreadable now: that page (to its end) as zeros */
			next = MIN(len, (size_t)(((addr + off + PAGE_SZ) & ~(taddr_t)(PAGE_SZ - 1)) -
						 addr));
		}
		if (madvise(p + off, next - off, MADV_POPULATE_WRITE) != 0)
			for (size_t k = off; k < next; k += PAGE_SZ)
				((volatile unsigned char *)p)[k] = 0;
		off = next;
	}
	return got;
}

ssize_t live_precopy_refresh(const struct reader *rd, taddr_t addr, unsigned char *dst,
			     size_t len, unsigned char *scratch, uint64_t *changed)
{
	ssize_t n = live_reader_read(rd, addr, scratch, MIN(len, (size_t)PRECOPY_PIECE));
	size_t off = 0;

	while (n > 0 && off < (size_t)n) {
		/* page by page, along the process's pages */
		size_t end = MIN((size_t)n, (size_t)(((addr + off + PAGE_SZ) &
						      ~(taddr_t)(PAGE_SZ - 1)) - addr));

		if (memcmp(dst + off, scratch + off, end - off) != 0) {
			memcpy(dst + off, scratch + off, end - off);
			*changed += end - off;
		}
		off = end;
	}
	return n;
}

void live_precopy_clear(const struct prebuf *pb, taddr_t start, taddr_t end,
			const struct target_range *keep, size_t nr_keep)
{
	size_t k = 0;

	for (size_t i = 0; i < pb->nr_filled; i++) {
		taddr_t a = MAX(pb->filled[i].start, start), e = MIN(pb->filled[i].end, end);

		/* keep is sorted: skip what ends before a */
		while (k < nr_keep && keep[k].end <= a)
			k++;
		for (size_t j = k; a < e; j++) {
			taddr_t gap_end = j < nr_keep ? MIN(e, keep[j].start) : e;

			if (gap_end > a)
				memset(pb->buf + (a - pb->start), 0, (size_t)(gap_end - a));
			if (j >= nr_keep)
				break;
			a = MAX(a, keep[j].end);
		}
	}
}

void live_precopy_scratch(struct live *l, unsigned n)
{
	size_t len = st_mult(n, PRECOPY_PIECE);
	void *p;

	if (l->nr_scratch >= n)
		return;
	if (l->scratch)
		munmap(l->scratch, l->scratch_len);
	l->scratch = NULL;
	l->scratch_len = 0;
	l->nr_scratch = 0;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return;		/* the copy under the stop reads directly */
	memset(p, 0, len);	/* faulted in and touched before the stop */
	l->scratch = p;
	l->scratch_len = len;
	l->nr_scratch = n;
}

void live_precopy_stats(const struct target *t, uint64_t *ret_precopied, uint64_t *ret_changed)
{
	const struct live *l = live_of(t);

	*ret_precopied = l ? l->precopied : 0;
	*ret_changed = l ? l->changed : 0;
}

void live_set_precopy(struct target *t, bool on)
{
	live_of(t)->no_precopy = !on;
}
