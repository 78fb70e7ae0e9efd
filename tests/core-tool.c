/*
 * core-tool.c - expose the core backend (src/target/core.c) to the shell
 * tests tests/core-*.sh, in the spirit of git's test-tool.
 *
 *   core-tool [OPTIONS] open CORE           "ok" or "error NAME" (exit 0)
 *   core-tool [OPTIONS] info CORE           pid, exe, threads + registers,
 *                                           regions, auxv, files, problems
 *   core-tool [OPTIONS] read CORE ADDR LEN  hex bytes, or "error NAME"
 *   core-tool [OPTIONS] str CORE ADDR       the C string at ADDR
 *   core-tool [OPTIONS] map CORE ADDR LEN   "mapped" or "not mapped"
 *   core-tool [OPTIONS] check-files CORE    target_core_check_files(),
 *                                           then files and problems
 *   core-tool [OPTIONS] scan CORE           read 16 bytes every 256 of
 *                                           every rw region; prints the
 *                                           count, time and peak RSS
 * OPTIONS: --exe FILE, --sysroot DIR, --allow-truncated.
 *
 * Output is line based and stable so scripts can grep and awk it. Error
 * names are the HG_E_* or errno macro names. Exit status: 0 when the
 * command ran (even if it printed "error ..."), 2 when a core that should
 * open did not (info, read, ...), 64 on usage errors.
 */
#include "config.h"
#include "target/core.h"
#include "target/target.h"
#include "util/errors.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *err_name(int err)
{
	static char buf[32];

	switch (-err) {
#define E(name, msg) case HG_E_##name: return "HG_E_" #name;
	HG_ERRORS
#undef E
	default:
		break;
	}
	switch (-err) {	/* strerrorname_np() needs glibc 2.32 */
#define N(e) case e: return #e;
	N(ENOENT) N(EISDIR) N(EINVAL) N(EACCES) N(EPERM) N(EFBIG) N(ENOMEM)
	N(ENODEV) N(ENOTDIR) N(ELOOP) N(ENAMETOOLONG) N(EIO)
#undef N
	default:
		break;
	}
	snprintf(buf, sizeof(buf), "%d", err);
	return buf;
}

static const char *const reg_names[] = {
	"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8",
	"rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags",
	"rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs",
};

static const char *kind_name(enum core_problem_kind k)
{
	switch (k) {
	case CORE_PROBLEM_TRUNCATED: return "truncated";
	case CORE_PROBLEM_BAD_SEGMENT: return "bad-segment";
	case CORE_PROBLEM_BAD_NOTE: return "bad-note";
	case CORE_PROBLEM_FILE_MISSING: return "file-missing";
	case CORE_PROBLEM_FILE_DELETED: return "file-deleted";
	case CORE_PROBLEM_FILE_SHORT: return "file-short";
	case CORE_PROBLEM_BUILD_ID_MISMATCH: return "build-id-mismatch";
	}
	return "?";
}

static void print_files(struct target *t)
{
	const struct core_file *f;
	size_t n = target_core_files(t, &f);

	for (size_t i = 0; i < n; i++) {
		printf("file %s host=%s status=%s%s build-id=", f[i].path,
		       f[i].host_path,
		       f[i].status == 1 ? "unchecked" :
		       f[i].status == 0 ? "ok" : err_name(f[i].status),
		       f[i].deleted ? " deleted" : "");
		if (!f[i].core_build_id)
			printf("-");
		for (size_t k = 0; f[i].core_build_id && k < f[i].core_build_id_len; k++)
			printf("%02x", f[i].core_build_id[k]);
		printf("\n");
	}
}

static void print_problems(struct target *t)
{
	const struct core_problem *p;
	size_t n = target_core_problems(t, &p);

	for (size_t i = 0; i < n; i++)
		printf("problem %s %s %s\n", kind_name(p[i].kind),
		       err_name(p[i].err), p[i].msg);
	if (target_core_problems_dropped(t))
		printf("problems-dropped %zu\n", target_core_problems_dropped(t));
}

static void print_info(struct target *t)
{
	printf("pid %d\n", t->pid);
	printf("exe %s\n", t->exe ? t->exe : "-");
	printf("root '%s'\n", t->root);
	printf("threads %zu\n", t->nr_threads);
	for (size_t i = 0; i < t->nr_threads; i++) {
		const uint64_t *w = (const uint64_t *)&t->threads[i].regs;

		printf("thread %d", t->threads[i].tid);
		for (size_t k = 0; k < sizeof(reg_names) / sizeof(reg_names[0]); k++)
			printf(" %s=0x%" PRIx64, reg_names[k], w[k]);
		printf("\n");
	}
	for (size_t i = 0; i < t->nr_regions; i++) {
		const struct target_region *r = &t->regions[i];

		printf("region %" PRIx64 "-%" PRIx64 " %c%c%c %08" PRIx64 " %s%s\n",
		       r->start, r->end,
		       r->prot & TARGET_PROT_READ ? 'r' : '-',
		       r->prot & TARGET_PROT_WRITE ? 'w' : '-',
		       r->prot & TARGET_PROT_EXEC ? 'x' : '-',
		       r->offset, r->path ? r->path : "-",
		       r->deleted ? " (deleted)" : "");
	}
	for (size_t i = 0; i < t->nr_auxv; i++)
		printf("auxv %" PRIu64 " 0x%" PRIx64 "\n", t->auxv[2 * i],
		       t->auxv[2 * i + 1]);
	print_files(t);
	print_problems(t);
}

static int usage(void)
{
	fprintf(stderr, "usage: core-tool [--exe F] [--sysroot D] [--allow-truncated] "
		"open|info|read|str|map|check-files CORE [ADDR [LEN]]\n");
	return 64;
}

int main(int argc, char **argv)
{
	struct core_opts opts = { 0 };
	struct target *t = NULL;
	const char *cmd, *core;
	int i = 1, r;

	for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
		if (!strcmp(argv[i], "--exe") && i + 1 < argc)
			opts.exe = argv[++i];
		else if (!strcmp(argv[i], "--sysroot") && i + 1 < argc)
			opts.sysroot = argv[++i];
		else if (!strcmp(argv[i], "--allow-truncated"))
			opts.allow_truncated = true;
		else
			return usage();
	}
	if (argc - i < 2)
		return usage();
	cmd = argv[i];
	core = argv[i + 1];
	i += 2;

	r = target_core_open(core, &opts, &t);
	if (!strcmp(cmd, "open")) {
		if (r < 0)
			printf("error %s\n", err_name(r));
		else
			printf("ok\n");
		target_close(t);
		return 0;
	}
	if (r < 0) {
		fprintf(stderr, "core-tool: cannot open core '%s': %s (%s)\n",
			core, hg_strerror(r), err_name(r));
		return 2;
	}
	if (!strcmp(cmd, "info")) {
		print_info(t);
	} else if (!strcmp(cmd, "check-files")) {
		printf("unusable %zu\n", target_core_check_files(t));
		print_files(t);
		print_problems(t);
	} else if (!strcmp(cmd, "read") && argc - i == 2) {
		uint64_t addr = strtoull(argv[i], NULL, 0);
		size_t len = strtoull(argv[i + 1], NULL, 0);
		unsigned char *buf = malloc(len ? len : 1);

		r = target_read(t, addr, buf, len);
		if (r < 0) {
			printf("error %s\n", err_name(r));
		} else {
			for (size_t k = 0; k < len; k++)
				printf("%02x", buf[k]);
			printf("\n");
		}
		free(buf);
	} else if (!strcmp(cmd, "str") && argc - i == 1) {
		uint64_t addr = strtoull(argv[i], NULL, 0);
		char ch;

		for (;; addr++) {
			r = target_read(t, addr, &ch, 1);
			if (r < 0) {
				printf("\nerror %s", err_name(r));
				break;
			}
			if (!ch)
				break;
			putchar(ch);
		}
		printf("\n");
	} else if (!strcmp(cmd, "map") && argc - i == 2) {
		uint64_t addr = strtoull(argv[i], NULL, 0);
		size_t len = strtoull(argv[i + 1], NULL, 0);
		const void *p = target_map(t, addr, len);
		unsigned char *buf = malloc(len ? len : 1);

		/* A mapped range must hold what target_read() returns. */
		if (p && (target_read(t, addr, buf, len) < 0 || memcmp(p, buf, len)))
			printf("map/read mismatch\n");
		else
			printf("%s\n", p ? "mapped" : "not mapped");
		free(buf);
	} else if (!strcmp(cmd, "scan")) {
		struct timespec t0, t1;
		unsigned long long reads = 0, bad = 0, bytes = 0;
		unsigned char buf[16];
		char line[256];
		FILE *f;

		/* A walker's access pattern: chunk headers through a heap. */
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (size_t k = 0; k < t->nr_regions; k++) {
			const struct target_region *rg = &t->regions[k];

			if (!(rg->prot & TARGET_PROT_WRITE))
				continue;
			for (taddr_t a = rg->start; a + 16 <= rg->end; a += 256) {
				reads++;
				if (target_read(t, a, buf, 16) < 0)
					bad++;
				else
					bytes += buf[0];
			}
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		printf("reads %llu unreadable %llu time %.3f s (checksum %llu)\n",
		       reads, bad, (double)(t1.tv_sec - t0.tv_sec) +
		       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, bytes);
		f = fopen("/proc/self/status", "r");
		while (f && fgets(line, sizeof(line), f))
			if (!strncmp(line, "VmHWM:", 6) || !strncmp(line, "VmRSS:", 6))
				fputs(line, stdout);
		if (f)
			fclose(f);
	} else {
		target_close(t);
		return usage();
	}
	target_close(t);
	return 0;
}
