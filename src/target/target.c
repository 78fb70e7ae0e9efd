/*
 * target.c - backend dispatch, region lookup and helpers shared by all
 * target backends. See target.h for the model.
 */
#include "config.h"
#include "target/target.h"
#include "util/errors.h"
#include "util/xalloc.h"

#include <inttypes.h>

#include <unistd.h>

#include <stdio.h>
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

long target_read_strided(struct target *t, taddr_t addr, size_t stride, size_t len,
			 size_t count, void *buf)
{
	unsigned char *out = buf;
	size_t i;

	if (!count || !len)
		return 0;
	if (stride < len || count > (UINT64_MAX - addr) / stride)
		return -HG_E_UNREADABLE;
	if (t->ops->read_strided)
		return t->ops->read_strided(t, addr, stride, len, count, buf);
	for (i = 0; i < count; i++) {
		int err = target_read(t, addr + i * stride, out + i * len, len);

		if (err == -HG_E_TARGET_GONE)
			return err;
		if (err < 0)
			break;
	}
	return (long)i;
}

bool target_concurrent_reads(const struct target *t)
{
	return t->ops->concurrent && t->ops->concurrent(t);
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

/*
 * A live process that chrooted after it loaded its libraries (vsftpd's
 * sessions, sandboxed workers) no longer shows them under /proc/PID/root.
 * The kernel still names the mapped file itself: /proc/PID/map_files/
 * START-END opens the very inode that is mapped (root, or CAP_SYS_ADMIN /
 * CAP_CHECKPOINT_RESTORE, is needed, which tracing such a process needs
 * anyway). Used only when the path through the root does not exist.
 */
char *target_host_path(const struct target *t, const char *path)
{
	char *p = xasprintf("%s%s", t->root ? t->root : "", path);

	if (t->pid > 0 && t->root && !strncmp(t->root, "/proc/", 6) && access(p, F_OK) != 0) {
		for (size_t i = 0; i < t->nr_regions; i++) {
			const struct target_region *r = &t->regions[i];
			char *m;

			if (!r->path || strcmp(r->path, path))
				continue;
			m = xasprintf("/proc/%d/map_files/%" PRIx64 "-%" PRIx64, t->pid,
				      (uint64_t)r->start, (uint64_t)r->end);
			if (access(m, F_OK) == 0) {
				free(p);
				return m;
			}
			free(m);
			break;
		}
	}
	return p;
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

bool target_parse_maps_line(const char *line, struct target_region *r)
{
	static const char del[] = " (deleted)";
	unsigned long long start, end, off;
	char perms[8];
	int pathpos = 0;
	const char *p;
	size_t len;

	if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %n", &start, &end, perms, &off,
		   &pathpos) < 4)
		return false;
	if (!pathpos)
		pathpos = (int)strlen(line);	/* nothing after the inode */
	memset(r, 0, sizeof(*r));
	r->start = start;
	r->end = end;
	r->offset = off;
	r->prot = (perms[0] == 'r' ? TARGET_PROT_READ : 0) |
		  (perms[1] == 'w' ? TARGET_PROT_WRITE : 0) |
		  (perms[2] == 'x' ? TARGET_PROT_EXEC : 0);
	r->shared = perms[3] == 's';
	p = line + pathpos;
	len = strlen(p);
	while (len && (p[len - 1] == '\n' || p[len - 1] == ' '))
		len--;
	if (len > sizeof(del) - 1 && p[0] == '/' &&
	    !memcmp(p + len - (sizeof(del) - 1), del, sizeof(del) - 1)) {
		r->deleted = true;
		len -= sizeof(del) - 1;
	}
	if (len)
		r->path = xstrndup(p, len);
	return true;
}
