/*
 * fuzz-core.c - libFuzzer target for the core backend (src/target/core.c).
 *
 * Each input is written to a memfd and opened with target_core_open_fd(),
 * so the fuzzer runs the real path: a PROT_READ, MAP_PRIVATE mapping handed
 * to libelf (a write into it by libelf would crash here too). The input is
 * opened twice, strictly and with allow_truncated; when it opens, the
 * harness exercises every query: each region's first and last bytes, reads
 * across region boundaries, target_map (checked against target_read), a few
 * addresses taken from the input's tail, the files and problems lists, and
 * target_core_check_files().
 *
 * Mapped files resolve under a private sysroot made once per process:
 *   SYSROOT/a  a copy of the host's libc.so.6 (real ELF, real build-id);
 *              also opts->exe when the input's last byte is odd
 *   SYSROOT/b  a short text file (not ELF, too short for most mappings)
 * Seeds made by make-seeds.py name these two, so build-id checks, file
 * reads and refusals are all reachable. Nothing outside SYSROOT is opened.
 *
 * Build (configure --enable-fuzzers CC=clang does this via tests/core.am):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Isrc \
 *     tests/fuzz/fuzz-core.c src/target/{core,target,memimage}.c \
 *     src/util/{errors,xalloc,strbuf}.c -lelf
 * Run:
 *   ./fuzz-core -max_len=65536 -timeout=10 CORPUS_DIR SEED_DIR
 */
#include "config.h"
#include "target/core.h"
#include "target/target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char sysroot[64];
static char exe_path[80];
static int memfd = -1;

static void copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	char buf[65536];
	size_t n;

	if (!in || !out)
		abort();
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			abort();
	fclose(in);
	if (fclose(out))
		abort();
}

static void cleanup(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/a", sysroot);
	unlink(path);
	snprintf(path, sizeof(path), "%s/b", sysroot);
	unlink(path);
	rmdir(sysroot);
}

static void setup(void)
{
	char path[128];
	FILE *f;

	strcpy(sysroot, "/tmp/fuzz-core-root-XXXXXX");
	if (!mkdtemp(sysroot))
		abort();
	snprintf(path, sizeof(path), "%s/a", sysroot);
	copy_file("/lib/x86_64-linux-gnu/libc.so.6", path);
	snprintf(exe_path, sizeof(exe_path), "%s/a", sysroot);
	snprintf(path, sizeof(path), "%s/b", sysroot);
	f = fopen(path, "w");
	if (!f)
		abort();
	fputs("not an ELF file\n", f);
	fclose(f);
	atexit(cleanup);
	memfd = memfd_create("fuzz-core", MFD_CLOEXEC);
	if (memfd < 0)
		abort();
}

static void poke(struct target *t, taddr_t addr, size_t len)
{
	unsigned char buf[256];
	const void *p;
	int r;

	if (len > sizeof(buf))
		len = sizeof(buf);
	r = target_read(t, addr, buf, len);
	p = target_map(t, addr, len);
	/* A mapped range must read back the same bytes. */
	if (p && (r < 0 || memcmp(p, buf, len)))
		abort();
}

static void exercise(struct target *t, const uint8_t *data, size_t size)
{
	const struct core_problem *probs;
	const struct core_file *files;
	size_t n;

	for (size_t i = 0; i < t->nr_regions; i++) {
		const struct target_region *r = &t->regions[i];

		if (r->start >= r->end || (i && r->start < t->regions[i - 1].end))
			abort();	/* sorted, non-overlapping */
		(void)target_region_of(t, r->start);
		poke(t, r->start, 64);
		poke(t, r->end - 1, 1);
		if (r->end - r->start >= 64)
			poke(t, r->end - 64, 64);
		poke(t, r->end - 8, 16);	/* across into the next one */
	}
	for (size_t i = 0; i + 8 <= size && i < 8 * 8; i += 8) {
		uint64_t a;

		memcpy(&a, data + size - 8 - i, 8);
		poke(t, a, 1 + (a & 0xff));
	}
	n = target_core_problems(t, &probs);
	for (size_t i = 0; i < n; i++)
		if (!probs[i].msg || strchr(probs[i].msg, '\n'))
			abort();
	if (n < CORE_MAX_PROBLEMS && target_core_problems_dropped(t))
		abort();
	(void)target_core_check_files(t);
	n = target_core_files(t, &files);
	for (size_t i = 0; i < n; i++)
		if (!files[i].path || !files[i].host_path || files[i].status == 1)
			abort();
	(void)target_core_elf(t);
	for (size_t i = 0; i < t->nr_threads; i++)
		(void)t->threads[i].regs.fs_base;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct core_opts opts = { 0 };
	struct target *t = NULL;

	if (memfd < 0)
		setup();
	if (ftruncate(memfd, 0) < 0 ||
	    (size && pwrite(memfd, data, size, 0) != (ssize_t)size))
		abort();
	opts.sysroot = sysroot;
	/* The last byte picks --exe (SYSROOT/a standing in for the exe). */
	if (size && (data[size - 1] & 1))
		opts.exe = exe_path;
	if (target_core_open_fd(memfd, &opts, &t) == 0) {
		exercise(t, data, size);
		target_close(t);
		t = NULL;
	}
	opts.allow_truncated = true;
	if (target_core_open_fd(memfd, &opts, &t) == 0) {
		exercise(t, data, size);
		target_close(t);
	}
	return 0;
}
