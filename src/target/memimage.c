/*
 * memimage.c - a target made of in-memory segments.
 *
 * Two uses: unit tests and fuzzers build a process image byte by byte
 * (memimage_new/memimage_add), and the ptrace backend keeps its frozen copy
 * of the target's writable memory in a struct memimage (memimage_create/
 * memimage_put) so that the walk after detach reads one consistent instant.
 *
 * Segments are kept sorted by address (callers add them in increasing order
 * in practice; an insertion sort step keeps it right otherwise) and never
 * overlap. A read must be satisfied entirely, possibly across adjacent
 * segments, or it fails.
 */
#include "config.h"
#include "target/target.h"
#include "util/errors.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct memseg {
	taddr_t start;
	size_t len;
	unsigned char *data;
	bool borrowed;		/* not ours to free */
};

/* A mapping the image owns and unmaps (the ptrace backend's prefaulted
 * copy buffers, handed over by live_take_image()). */
struct ownmap {
	void *map;
	size_t len;
};

struct memimage {
	struct memseg *segs;
	size_t nr, alloc;
	size_t bytes;
	struct ownmap *maps;
	size_t nr_maps;
};

struct memimage *memimage_create(void)
{
	return xcalloc(1, sizeof(struct memimage));
}

static void put(struct memimage *m, taddr_t start, void *data, size_t len, bool borrowed)
{
	size_t i;

	ALLOC_GROW(m->segs, m->nr + 1, m->alloc);
	i = m->nr;
	while (i > 0 && m->segs[i - 1].start > start) {
		m->segs[i] = m->segs[i - 1];
		i--;
	}
	m->segs[i] = (struct memseg){
		.start = start, .len = len, .data = data, .borrowed = borrowed,
	};
	m->nr++;
	m->bytes += len;
}

void memimage_put(struct memimage *m, taddr_t start, void *data, size_t len)
{
	put(m, start, data, len, false);
}

void memimage_put_borrowed(struct memimage *m, taddr_t start, void *data, size_t len)
{
	put(m, start, data, len, true);
}

/* Index of the segment containing ADDR, or -1. */
static long find_seg(const struct memimage *m, taddr_t addr)
{
	size_t lo = 0, hi = m->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct memseg *s = &m->segs[mid];

		if (addr < s->start)
			hi = mid;
		else if (addr - s->start >= s->len)
			lo = mid + 1;
		else
			return (long)mid;
	}
	return -1;
}

int memimage_read(const struct memimage *m, taddr_t addr, void *buf, size_t len)
{
	unsigned char *out = buf;
	long i = find_seg(m, addr);

	if (i < 0)
		return -HG_E_UNREADABLE;
	while (len) {
		const struct memseg *s;
		size_t off, n;

		if ((size_t)i >= m->nr)
			return -HG_E_UNREADABLE;
		s = &m->segs[i];
		if (addr < s->start || addr - s->start >= s->len)
			return -HG_E_UNREADABLE;
		off = addr - s->start;
		n = MIN(len, s->len - off);
		memcpy(out, s->data + off, n);
		out += n;
		addr += n;
		len -= n;
		i++;
	}
	return 0;
}

const void *memimage_map(const struct memimage *m, taddr_t addr, size_t len)
{
	long i = find_seg(m, addr);
	const struct memseg *s;

	if (i < 0)
		return NULL;
	s = &m->segs[i];
	if (len > s->len - (addr - s->start))
		return NULL;
	return s->data + (addr - s->start);
}

size_t memimage_bytes(const struct memimage *m)
{
	return m->bytes;
}

void memimage_own_mapping(struct memimage *m, void *map, size_t len)
{
	m->maps = xrealloc(m->maps, st_mult(m->nr_maps + 1, sizeof(*m->maps)));
	m->maps[m->nr_maps].map = map;
	m->maps[m->nr_maps].len = len;
	m->nr_maps++;
}

size_t memimage_nr_segments(const struct memimage *m)
{
	return m->nr;
}

const void *memimage_segment(const struct memimage *m, size_t i, taddr_t *ret_start,
			     size_t *ret_len)
{
	*ret_start = m->segs[i].start;
	*ret_len = m->segs[i].len;
	return m->segs[i].data;
}

void memimage_destroy(struct memimage *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nr; i++)
		if (!m->segs[i].borrowed)
			free(m->segs[i].data);
	for (size_t i = 0; i < m->nr_maps; i++)
		munmap(m->maps[i].map, m->maps[i].len);
	free(m->maps);
	free(m->segs);
	free(m);
}

/* ---- the memimage target backend ---- */

static int mi_read(struct target *t, taddr_t addr, void *buf, size_t len)
{
	return memimage_read(t->priv, addr, buf, len);
}

static const void *mi_map(struct target *t, taddr_t addr, size_t len)
{
	return memimage_map(t->priv, addr, len);
}

static void mi_close(struct target *t)
{
	memimage_destroy(t->priv);
	t->priv = NULL;
}

/* An image only reads its segments. */
static bool mi_concurrent(const struct target *t)
{
	(void)t;
	return true;
}

static const struct target_ops memimage_ops = {
	.name = "memimage",
	.read = mi_read,
	.map = mi_map,
	.close = mi_close,
	.concurrent = mi_concurrent,
};

struct memimage *memimage_of(struct target *t)
{
	return t && t->ops == &memimage_ops ? t->priv : NULL;
}

taddr_t target_next_held(struct target *t, taddr_t addr)
{
	const struct memimage *m = memimage_of(t);
	size_t lo = 0, hi;

	if (!m)
		return addr;
	/* the first segment that ends above addr */
	hi = m->nr;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->segs[mid].start + m->segs[mid].len <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == m->nr)
		return UINT64_MAX;
	return MAX(addr, m->segs[lo].start);
}

struct target *memimage_new(void)
{
	struct target *t = xcalloc(1, sizeof(*t));

	t->ops = &memimage_ops;
	t->priv = memimage_create();
	t->root = xstrdup("");
	return t;
}

void memimage_add(struct target *t, taddr_t start, void *data, size_t len, bool copy)
{
	void *buf = data;
	struct target_region *regs;

	if (copy) {
		buf = xmalloc(len);
		memcpy(buf, data, len);
	}
	memimage_put(t->priv, start, buf, len);
	if (target_region_of(t, start))
		return;
	regs = xcalloc(t->nr_regions + 1, sizeof(*regs));
	for (size_t i = 0; i < t->nr_regions; i++) {
		regs[i] = t->regions[i];
		t->regions[i].path = NULL;
	}
	regs[t->nr_regions] = (struct target_region){
		.start = start, .end = start + len,
		.prot = TARGET_PROT_READ | TARGET_PROT_WRITE,
	};
	target_set_regions(t, regs, t->nr_regions + 1);
}

void memimage_add_thread(struct target *t, int tid, const struct user_regs_struct *regs)
{
	t->threads = xrealloc(t->threads, st_mult(t->nr_threads + 1, sizeof(*t->threads)));
	t->threads[t->nr_threads].tid = tid;
	t->threads[t->nr_threads].regs = *regs;
	t->nr_threads++;
}
