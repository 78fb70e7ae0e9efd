/*
 * make-image-seed.c - a seed for fuzz-image from a real core.
 *
 *   make-image-seed [--exe EXE] [--sysroot DIR] [--dwarf] FILES CORE OUT
 *
 * Opens CORE as `heapgrab core` does, finds glibc's allocator state
 * (glibc_locate: main_arena, mp_, the tcache TPOFF, the release) and
 * writes OUT in image-format.h's layout: every thread, every region, and
 * the bytes of the writable ones (a thread's stack from its rsp's page
 * to the end, split off as a region of its own; other regions' first
 * MAX_BYTES). File-backed regions are numbered by the list in the file
 * FILES (one host path a line), to which new paths are appended; the
 * fuzzer gets the same list in HG_FUZZ_FILES. --dwarf sets the flag that
 * makes the fuzzer type from the files' DWARF. A few typed roots for the
 * synthetic types point at words of the executable's data that hold
 * heap pointers.
 */
#include "config.h"
#include "image-format.h"
#include "heap/glibc-walk.h"
#include "heap/glibc.h"
#include "heap/glibc-internal.h"
#include "target/core.h"
#include "target/target.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_BYTES (512u << 10)	/* bytes kept of one region */

static char *paths[64];
static size_t nr_paths;

static void load_paths(const char *list)
{
	FILE *f = fopen(list, "r");
	char line[4096];

	while (f && fgets(line, sizeof(line), f) && nr_paths < 64) {
		line[strcspn(line, "\n")] = '\0';
		if (*line)
			paths[nr_paths++] = xstrdup(line);
	}
	if (f)
		fclose(f);
}

static unsigned path_index(const char *host)
{
	for (size_t i = 0; i < nr_paths; i++)
		if (!strcmp(paths[i], host))
			return (unsigned)i + 1;
	if (nr_paths == 64)
		return 0;
	paths[nr_paths++] = xstrdup(host);
	return (unsigned)nr_paths;
}

/* Where the file the target mapped at PATH is on this host: under the
 * sysroot, else --exe for the executable, else the path itself. */
static char *host_file(struct target *t, const char *path, const char *exe)
{
	char *host = target_host_path(t, path);

	if (access(host, R_OK) == 0)
		return host;
	free(host);
	if (exe && t->exe && !strcmp(path, t->exe))
		return xstrdup(exe);
	return xstrdup(path);
}

static void put(FILE *f, uint64_t v, unsigned n)
{
	fwrite(&v, n, 1, f);
}

struct out_region {
	taddr_t start, end;
	uint64_t offset;
	unsigned prot, file;
	uint64_t len;		/* bytes kept, from start */
};

int main(int argc, char **argv)
{
	struct core_opts copts = { 0 };
	struct glibc_opts gopts = { 0 };
	struct glibc_walk_params p;
	struct target *t;
	struct glibc *g;
	struct out_region *rs;
	size_t nr = 0, nr_roots = 0;
	taddr_t roots[8];
	bool dwarf = false;
	FILE *out, *pl;
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--exe") && i + 1 < argc)
			copts.exe = argv[++i];
		else if (!strcmp(argv[i], "--sysroot") && i + 1 < argc)
			copts.sysroot = argv[++i];
		else if (!strcmp(argv[i], "--dwarf"))
			dwarf = true;
	}
	if (argc - i != 3) {
		fprintf(stderr, "usage: make-image-seed [--exe EXE] [--sysroot DIR] [--dwarf] "
			"FILES CORE OUT\n");
		return 64;
	}
	load_paths(argv[i]);
	if (target_core_open(argv[i + 1], &copts, &t) < 0 ||
	    glibc_locate(t, &gopts, NULL, NULL, &g) < 0) {
		fprintf(stderr, "make-image-seed: cannot open '%s' as a glibc core\n", argv[i + 1]);
		return 2;
	}
	glibc_get_walk_params(g, &p);
	rs = xcalloc(2 * t->nr_regions + 1, sizeof(*rs));
	for (size_t k = 0; k < t->nr_regions; k++) {
		const struct target_region *r = &t->regions[k];
		struct out_region o = {
			.start = r->start, .end = r->end, .offset = r->offset,
			.prot = r->prot,
		};

		if (r->path && r->path[0] == '/') {
			char *host = host_file(t, r->path, copts.exe);

			o.file = path_index(host);
			free(host);
		}
		if (r->prot & TARGET_PROT_WRITE) {
			taddr_t split = 0;

			for (size_t th = 0; th < t->nr_threads; th++) {
				taddr_t sp = t->threads[th].regs.rsp & ~(taddr_t)4095;

				if (sp > r->start && sp < r->end)
					split = sp;
			}
			if (split) {
				o.end = split;
				rs[nr++] = o;
				o.start = split;
				o.end = r->end;
			}
			/* only what the core holds, from the start */
			uint64_t max = MIN(o.end - o.start, (uint64_t)MAX_BYTES);
			static unsigned char page[4096];

			while (o.len < max &&
			       target_read(t, o.start + o.len, page, MIN(max - o.len, 4096)) == 0)
				o.len += MIN(max - o.len, 4096);
		}
		rs[nr++] = o;
	}
	/* typed roots: words of the executable's writable data that point
	 * into anonymous memory or [heap] (a stand-in for its globals) */
	if (t->exe) {
		char *host = host_file(t, t->exe, copts.exe);
		unsigned exe = path_index(host);

		free(host);
		for (size_t k = 0; k < nr && nr_roots < 8; k++) {
			if (rs[k].file != exe || !(rs[k].prot & TARGET_PROT_WRITE))
				continue;
			for (taddr_t a = rs[k].start;
			     a + 8 <= rs[k].start + rs[k].len && nr_roots < 8; a += 8) {
				const struct target_region *r;
				uint64_t v;

				if (target_read_u64(t, a, &v) == 0 && !(v & 15) &&
				    (r = target_region_of(t, v)) &&
				    (!r->path || !strcmp(r->path, "[heap]")))
					roots[nr_roots++] = a;
			}
		}
	}
	out = fopen(argv[i + 2], "wb");
	if (!out)
		return 2;
	fwrite(FZ_MAGIC, 4, 1, out);
	put(out, FZ_VERSION, 1);
	put(out, p.l->minor, 1);
	put(out, (p.have_tpoff ? FZ_HAVE_TPOFF : 0) | (dwarf ? FZ_DWARF_TYPING : 0), 1);
	put(out, MIN(t->nr_threads, (size_t)FZ_MAX_THREADS), 1);
	put(out, p.main_arena, 8);
	put(out, p.mp, 8);
	put(out, (uint64_t)p.tpoff, 8);
	put(out, nr, 2);
	put(out, nr_roots, 2);
	for (size_t th = 0; th < t->nr_threads && th < FZ_MAX_THREADS; th++) {
		put(out, (uint32_t)t->threads[th].tid, 4);
		fwrite(&t->threads[th].regs, sizeof(t->threads[th].regs), 1, out);
	}
	for (size_t k = 0; k < nr_roots; k++) {
		put(out, roots[k], 8);
		put(out, k, 1);
		put(out, 3, 1);	/* ROOT_GLOBAL */
		put(out, 0, 6);
	}
	for (size_t k = 0; k < nr; k++) {
		unsigned char *b = xmalloc(rs[k].len + 1);

		put(out, rs[k].start, 8);
		put(out, rs[k].end, 8);
		put(out, rs[k].offset, 8);
		put(out, rs[k].prot, 1);
		put(out, rs[k].file, 1);
		put(out, 0, 2);
		put(out, rs[k].len, 4);
		if (rs[k].len && target_read(t, rs[k].start, b, rs[k].len) < 0)
			memset(b, 0, rs[k].len);
		fwrite(b, rs[k].len, 1, out);
		free(b);
	}
	fclose(out);
	pl = fopen(argv[i], "w");
	for (size_t k = 0; pl && k < nr_paths; k++)
		fprintf(pl, "%s\n", paths[k]);
	if (pl)
		fclose(pl);
	glibc_free(g);
	target_close(t);
	free(rs);
	return 0;
}
