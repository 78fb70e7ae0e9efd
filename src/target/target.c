/*
 * target.c - backend dispatch, region lookup and helpers shared by all
 * target backends. See target.h for the model.
 */
#include "config.h"
#include "target/target.h"
#include "util/errors.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

int target_read(struct target *t, taddr_t addr, void *buf, size_t len)
{
	if (!len)
		return 0;
	if (addr + len < addr)
		return -HG_E_UNREADABLE;
	return t->ops->read(t, addr, buf, len);
}

int target_read_u64(struct target *t, taddr_t addr, uint64_t *ret_val)
{
	uint64_t v;
	int r = target_read(t, addr, &v, sizeof(v));

	if (r < 0)
		return r;
	*ret_val = v;
	return 0;
}

const void *target_map(struct target *t, taddr_t addr, size_t len)
{
	if (!t->ops->map || addr + len < addr)
		return NULL;
	return t->ops->map(t, addr, len);
}

const struct target_region *target_region_of(const struct target *t, taddr_t addr)
{
	size_t lo = 0, hi = t->nr_regions;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct target_region *r = &t->regions[mid];

		if (addr < r->start)
			hi = mid;
		else if (addr >= r->end)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

char *target_host_path(const struct target *t, const char *path)
{
	return xasprintf("%s%s", t->root ? t->root : "", path);
}

static int cmp_region(const void *a, const void *b)
{
	const struct target_region *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

void target_region_release(struct target_region *r)
{
	FREE_AND_NULL(r->path);
}

void target_set_regions(struct target *t, struct target_region *regions, size_t nr)
{
	for (size_t i = 0; i < t->nr_regions; i++)
		target_region_release(&t->regions[i]);
	free(t->regions);
	qsort(regions, nr, sizeof(*regions), cmp_region);
	t->regions = regions;
	t->nr_regions = nr;
}

void target_close(struct target *t)
{
	if (!t)
		return;
	if (t->ops && t->ops->close)
		t->ops->close(t);
	for (size_t i = 0; i < t->nr_regions; i++)
		target_region_release(&t->regions[i]);
	free(t->regions);
	free(t->threads);
	free(t->auxv);
	free(t->exe);
	free(t->root);
	free(t);
}
