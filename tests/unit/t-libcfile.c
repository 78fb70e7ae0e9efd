/*
 * t-libcfile.c - TAP test for debuginfo/libcfile.c.
 *
 * Analyses the libc.so.6 this test runs with (found through /proc/self/maps,
 * falling back to /lib/x86_64-linux-gnu/libc.so.6) and checks the result
 * against the truth from libc's separate debug file: main_arena, mp_, the
 * STT_TLS `tcache` symbol, _int_malloc/_int_free and malloc.o's extent
 * (the local functions between the FILE symbol "malloc.c" and the next one)
 * in its .symtab, found by build-id under /usr/lib/debug/.build-id/ or the
 * directories in $HG_TEST_DEBUG_DIRS (colon-separated roots holding
 * .build-id/). Without a debug file, the values recorded in doc/glibc-malloc.md §9
 * for Debian 2.36 (build-id 93ac61ec...) are used when the build-id matches;
 * otherwise only the recipes' agreement is checked.
 *
 * Also: every recipe agrees with the others; the version equals
 * gnu_get_libc_version(); missing, empty, garbage, truncated, wrong-machine
 * and forged files give the right errors; a few hundred randomly mutated
 * copies are analysed without crashing (run it under ASan/UBSan); and the
 * in-memory entry point does not write its buffer (a PROT_READ mapping).
 *
 * More libcs: $HG_TEST_LIBCS, colon-separated paths, get the same checks
 * (e.g. another Debian build extracted with dpkg-deb -x, its libc6-dbg next
 * to it, the .../usr/lib/debug root in $HG_TEST_DEBUG_DIRS).
 * $HG_TEST_SEED changes the mutation seed, $HG_TEST_MUTATIONS the count.
 *
 * Links with: libheapgrab.a (debuginfo/libcfile.c, util/), libelf, capstone.
 */
#include "config.h"
#include "debuginfo/libcfile.h"
#include "heap/glibc-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gelf.h>
#include <libelf.h>

#include "util/errors.h"

/* main_arena's and mp_'s patterns come from the heap layer */
#define PAT glibc_libc_patterns()

/* ---- a tiny TAP emitter (plan printed at the end) ---- */

static unsigned tap_n, tap_failed;

static bool ok(bool cond, const char *fmt, ...) ATTR_FORMAT(2, 3);
static bool ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s %u - ", cond ? "ok" : "not ok", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		tap_failed++;
	return cond;
}

static void skip(const char *why, const char *fmt, ...) ATTR_FORMAT(2, 3);
static void skip(const char *why, const char *fmt, ...)
{
	va_list ap;

	printf("ok %u - ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" # SKIP %s\n", why);
}

static void diag(const char *fmt, ...) ATTR_FORMAT(1, 2);
static void diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static bool is_x(uint64_t got, uint64_t want, const char *what)
{
	return ok(got == want, "%s: got %#" PRIx64 ", want %#" PRIx64, what,
		  got, want);
}

/* ---- the truth, from libc's debug file ---- */

struct truth {
	bool have;
	const char *source;
	uint64_t main_arena, mp, tcache_tls;
	bool have_tls;
	uint64_t int_malloc, int_malloc_size, int_free, int_free_size;
	uint64_t malloco_lo, malloco_hi;	/* malloc.o's functions */
	uint64_t malloc_, malloc_trim, mallinfo, mallinfo2, syscall_;
};

static const char *const entry_names[] = {
	"malloc", "free", "calloc", "realloc", "memalign", "aligned_alloc",
	"posix_memalign", "valloc", "pvalloc", "malloc_trim", "mallopt",
	"mallinfo", "mallinfo2", "malloc_stats", "malloc_info",
	"malloc_usable_size",
};

static bool is_entry_name(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(entry_names); i++)
		if (strcmp(name, entry_names[i]) == 0)
			return true;
	return false;
}

static void truth_func(struct truth *t, const GElf_Sym *s)
{
	t->malloco_lo = MIN(t->malloco_lo, s->st_value);
	t->malloco_hi = MAX(t->malloco_hi, s->st_value + s->st_size);
}

static bool read_truth(const char *debug, struct truth *t)
{
	Elf_Scn *scn = NULL;
	bool in_malloc_c = false;
	Elf *elf;
	int fd;

	memset(t, 0, sizeof(*t));
	t->malloco_lo = UINT64_MAX;
	fd = open(debug, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	while (elf && (scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		Elf_Data *data;
		size_t i, n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB ||
		    !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		n = sh.sh_size / sh.sh_entsize;
		for (i = 0; data && i < n; i++) {
			GElf_Sym s;
			const char *name;
			unsigned type;

			if (!gelf_getsym(data, (int)i, &s))
				break;
			name = elf_strptr(elf, sh.sh_link, s.st_name);
			if (!name)
				continue;
			type = GELF_ST_TYPE(s.st_info);
			if (type == STT_FILE) {
				in_malloc_c = strcmp(name, "malloc.c") == 0;
				continue;
			}
			if (type == STT_FUNC && s.st_value) {
				if (in_malloc_c &&
				    GELF_ST_BIND(s.st_info) == STB_LOCAL)
					truth_func(t, &s);
				else if (is_entry_name(name))
					truth_func(t, &s);
			}
			if (type == STT_TLS && strcmp(name, "tcache") == 0) {
				t->tcache_tls = s.st_value;
				t->have_tls = true;
			} else if (type == STT_OBJECT &&
				   strcmp(name, "main_arena") == 0) {
				t->main_arena = s.st_value;
			} else if (type == STT_OBJECT &&
				   strcmp(name, "mp_") == 0) {
				t->mp = s.st_value;
			} else if (type == STT_FUNC &&
				   strcmp(name, "_int_malloc") == 0) {
				t->int_malloc = s.st_value;
				t->int_malloc_size = s.st_size;
			} else if (type == STT_FUNC &&
				   strcmp(name, "_int_free") == 0) {
				t->int_free = s.st_value;
				t->int_free_size = s.st_size;
			} else if (type == STT_FUNC &&
				   GELF_ST_BIND(s.st_info) != STB_LOCAL) {
				if (strcmp(name, "malloc") == 0)
					t->malloc_ = s.st_value;
				else if (strcmp(name, "malloc_trim") == 0)
					t->malloc_trim = s.st_value;
				else if (strcmp(name, "mallinfo") == 0)
					t->mallinfo = s.st_value;
				else if (strcmp(name, "mallinfo2") == 0)
					t->mallinfo2 = s.st_value;
				else if (strcmp(name, "syscall") == 0)
					t->syscall_ = s.st_value;
			}
		}
	}
	if (elf)
		elf_end(elf);
	close(fd);
	t->have = t->main_arena && t->mp && t->int_malloc && t->int_free &&
		  t->malloco_lo < t->malloco_hi;
	t->source = "debug file";
	return t->have;
}

/* doc/glibc-malloc.md §9, checked for Debian 12 libc6 2.36-9+deb12u14. */
static bool internals_truth(const char *build_id, struct truth *t)
{
	if (strcmp(build_id, "93ac61ec5a8eb1396f9fbd350e3169a558528a40"))
		return false;
	*t = (struct truth){
		.have = true, .source = "doc/glibc-malloc.md",
		.main_arena = 0x1d3c60, .mp = 0x1d3340,
		.tcache_tls = 0x48, .have_tls = true,
		.int_malloc = 0x97360, .int_malloc_size = 1,
		.int_free = 0x96120, .int_free_size = 1,
		.malloco_lo = 0x94700, .malloco_hi = 0x9a340,
		.malloc_ = 0x98930,
	};
	return true;
}

/* DIR/.build-id/xx/yyyy.debug for each debug root; malloc'd or NULL. */
static char *find_debug_file(const char *build_id)
{
	const char *env = getenv("HG_TEST_DEBUG_DIRS");
	char *roots, *root, *save = NULL, *found = NULL;
	size_t len;

	if (strlen(build_id) < 4)
		return NULL;
	len = strlen(env ? env : "") + sizeof(":/usr/lib/debug");
	roots = malloc(len);
	if (!roots)
		return NULL;
	snprintf(roots, len, "%s:/usr/lib/debug", env ? env : "");
	for (root = strtok_r(roots, ":", &save); root && !found;
	     root = strtok_r(NULL, ":", &save)) {
		size_t n = strlen(root) + strlen(build_id) + 32;
		char *p = malloc(n);

		if (!p)
			break;
		snprintf(p, n, "%s/.build-id/%.2s/%s.debug", root, build_id,
			 build_id + 2);
		if (access(p, R_OK) == 0)
			found = p;
		else
			free(p);
	}
	free(roots);
	return found;
}

/* ---- checks on one libc ---- */

static uint64_t mp_bins_offset(const struct libc_file_info *f)
{
	/* doc/glibc-malloc.md §2: tcache_bins at 104 in 2.35+, 80 in 2.26-2.34. */
	return f->mp_size == 136 ? 104 : f->mp_size == 112 ? 80 : 0;
}

static void check_libc(const char *path, bool running)
{
	struct libc_file_info f;
	struct truth t;
	char *debug = NULL;
	int err;

	diag("analysing %s", path);
	err = libc_file_analyze(path, PAT, &f);
	if (!ok(err == 0, "%s: analysed (%s)", path, hg_strerror(err)))
		return;
	diag("build-id %s, version %s, debuglink %d", f.build_id, f.version,
	     f.has_debuglink);
	diag("(a) main_arena %#" PRIx64 "; (c) main_arena %#" PRIx64
	     " (sizeof %u)", f.main_arena_lea, f.main_arena_data,
	     f.arena_size);
	diag("(b) tcache GOT %#" PRIx64 " TLS offset %" PRId64
	     ", &mp_.tcache_bins %#" PRIx64 "; (c) mp_ %#" PRIx64
	     " (sizeof %u)", f.tcache_got, f.tcache_tls_offset,
	     f.mp_tcache_bins, f.mp_data, f.mp_size);
	diag("entry points [%#" PRIx64 ", %#" PRIx64 "), allocator [%#"
	     PRIx64 ", %#" PRIx64 ")", f.entry_lo, f.entry_hi, f.alloc_lo,
	     f.alloc_hi);

	ok(strlen(f.build_id) == 40 &&
	   strspn(f.build_id, "0123456789abcdef") == 40,
	   "%s: 40-digit hex build-id", path);
	ok(f.has_debuglink, "%s: .gnu_debuglink seen", path);
	if (running)
		ok(strcmp(f.version, gnu_get_libc_version()) == 0,
		   "%s: version \"%s\" equals gnu_get_libc_version() \"%s\"",
		   path, f.version, gnu_get_libc_version());
	ok(f.ver_major == 2 && f.ver_minor >= 26,
	   "%s: version %u.%u in range", path, f.ver_major, f.ver_minor);

	/* The recipes agree. */
	ok(f.main_arena_lea && f.main_arena_lea == f.main_arena_data,
	   "%s: main_arena (a) %#" PRIx64 " == (c) %#" PRIx64, path,
	   f.main_arena_lea, f.main_arena_data);
	ok(f.arena_size == (f.ver_minor >= 27 ? 2200u : 2192u),
	   "%s: main_arena pattern size %u fits %s", path, f.arena_size,
	   f.version);
	ok(f.mp_size == (f.ver_minor >= 35 ? 136u : 112u),
	   "%s: mp_ pattern size %u fits %s", path, f.mp_size, f.version);
	ok(f.mp_data && f.mp_tcache_bins == f.mp_data + mp_bins_offset(&f),
	   "%s: &mp_.tcache_bins (b) %#" PRIx64 " == (c) mp_ %#" PRIx64
	   " + %" PRIu64, path, f.mp_tcache_bins, f.mp_data,
	   mp_bins_offset(&f));
	ok(f.tcache_got && f.tcache_tls_offset >= 0 &&
	   f.tcache_tls_offset < 0x10000,
	   "%s: tcache GOT slot %#" PRIx64 " has a TPOFF64 relocation (%"
	   PRId64 ")", path, f.tcache_got, f.tcache_tls_offset);
	ok(f.entry_lo < f.entry_hi && f.alloc_lo <= f.entry_lo &&
	   f.alloc_hi >= f.entry_hi,
	   "%s: allocator range contains the entry hull", path);
	ok(f.sym_malloc && f.sym_malloc_trim && f.sym_mallinfo &&
	   f.sym_syscall && (f.ver_minor < 33 || f.sym_mallinfo2),
	   "%s: exported symbols found", path);

	/* Against the truth. */
	debug = find_debug_file(f.build_id);
	if (!(debug && read_truth(debug, &t)) &&
	    !internals_truth(f.build_id, &t)) {
		skip("no debug file for this build-id",
		     "%s: values against debug info", path);
		free(debug);
		return;
	}
	diag("truth from %s%s%s", t.source, debug ? " " : "",
	     debug ? debug : "");
	is_x(f.main_arena_lea, t.main_arena, "main_arena (a) vs truth");
	is_x(f.main_arena_data, t.main_arena, "main_arena (c) vs truth");
	is_x(f.mp_data, t.mp, "mp_ (c) vs truth");
	is_x(f.mp_tcache_bins, t.mp + mp_bins_offset(&f),
	     "&mp_.tcache_bins (b) vs truth");
	if (t.have_tls)
		is_x((uint64_t)f.tcache_tls_offset, t.tcache_tls,
		     "tcache TLS offset vs STT_TLS tcache");
	ok(f.alloc_lo <= t.int_malloc &&
	   t.int_malloc + t.int_malloc_size <= f.alloc_hi,
	   "allocator range contains _int_malloc %#" PRIx64, t.int_malloc);
	ok(f.alloc_lo <= t.int_free &&
	   t.int_free + t.int_free_size <= f.alloc_hi,
	   "allocator range contains _int_free %#" PRIx64, t.int_free);
	ok(f.alloc_lo >= t.malloco_lo && f.alloc_hi <= t.malloco_hi,
	   "allocator range [%#" PRIx64 ", %#" PRIx64 ") inside malloc.o's "
	   "functions [%#" PRIx64 ", %#" PRIx64 ")", f.alloc_lo, f.alloc_hi,
	   t.malloco_lo, t.malloco_hi);
	is_x(f.sym_malloc, t.malloc_, "malloc symbol");
	if (t.malloc_trim)
		is_x(f.sym_malloc_trim, t.malloc_trim, "malloc_trim symbol");
	if (t.syscall_)
		is_x(f.sym_syscall, t.syscall_, "syscall symbol");
	if (t.mallinfo2)
		is_x(f.sym_mallinfo2, t.mallinfo2, "mallinfo2 symbol");
	free(debug);
}

/* ---- bad input ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static bool load_file(const char *path, uint8_t **ret, size_t *ret_size)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return false;
	if (fstat(fd, &st) < 0 || st.st_size <= 0) {
		close(fd);
		return false;
	}
	buf = malloc((size_t)st.st_size);
	n = buf ? read(fd, buf, (size_t)st.st_size) : -1;
	close(fd);
	if (n != st.st_size) {
		free(buf);
		return false;
	}
	*ret = buf;
	*ret_size = (size_t)st.st_size;
	return true;
}

static int analyze_bytes(const uint8_t *buf, size_t size)
{
	struct libc_file_info f;

	return libc_file_analyze_mem(buf, size, PAT, &f);
}

static bool write_temp(const char *tmpl_dir, const void *buf, size_t size,
		       char *ret_path, size_t path_size)
{
	int fd;

	snprintf(ret_path, path_size, "%s/t-libcfile.XXXXXX", tmpl_dir);
	fd = mkstemp(ret_path);
	if (fd < 0)
		return false;
	if (size && write(fd, buf, size) != (ssize_t)size) {
		close(fd);
		unlink(ret_path);
		return false;
	}
	close(fd);
	return true;
}

static void check_errors(const char *libc)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	struct libc_file_info f;
	uint8_t *img = NULL, *copy, *garbage;
	size_t size = 0, i;
	char path[4096];
	int err;

	err = libc_file_analyze("/nonexistent/dir/libc.so.6", PAT, &f);
	ok(err == -ENOENT, "missing file: %s", hg_strerror(err));
	err = libc_file_analyze("/", PAT, &f);
	ok(err == -EISDIR, "directory: %s", hg_strerror(err));
	if (write_temp(tmp, "", 0, path, sizeof(path))) {
		err = libc_file_analyze(path, PAT, &f);
		ok(err == -HG_E_BAD_ELF, "empty file: %s", hg_strerror(err));
		unlink(path);
	} else {
		skip("cannot write a temporary file", "empty file");
	}

	garbage = malloc(65536);
	if (!garbage)
		return;
	for (i = 0; i < 65536; i++)
		garbage[i] = (uint8_t)rng();
	err = analyze_bytes(garbage, 65536);
	ok(err == -HG_E_BAD_ELF, "64 KiB of random bytes: %s",
	   hg_strerror(err));
	memcpy(garbage, "\177ELF\2\1\1", 7);
	err = analyze_bytes(garbage, 65536);
	ok(err < 0, "ELF64 magic then random bytes: %s", hg_strerror(err));
	err = analyze_bytes(garbage, 7);
	ok(err == -HG_E_BAD_ELF, "7-byte ELF magic: %s", hg_strerror(err));
	free(garbage);

	if (access("/usr/lib32/libc.so.6", R_OK) == 0) {
		err = libc_file_analyze("/usr/lib32/libc.so.6", PAT, &f);
		ok(err == -HG_E_UNSUPPORTED, "i386 libc: %s",
		   hg_strerror(err));
	}

	if (!load_file(libc, &img, &size) || size < 0x10000) {
		skip("cannot read libc", "truncation and mutation tests");
		free(img);
		return;
	}
	{
		const size_t cuts[] = { 16, 63, 64, 200, 4096, 0x20000,
					size / 2, size - 4096, size - 1 };

		for (i = 0; i < ARRAY_SIZE(cuts); i++) {
			err = analyze_bytes(img, cuts[i]);
			ok(err == -HG_E_BAD_ELF,
			   "libc truncated to %zu bytes: %s", cuts[i],
			   hg_strerror(err));
		}
	}
	/* The path API on a truncated copy, too. */
	if (write_temp(tmp, img, size / 3, path, sizeof(path))) {
		err = libc_file_analyze(path, PAT, &f);
		ok(err == -HG_E_BAD_ELF, "truncated file on disk: %s",
		   hg_strerror(err));
		unlink(path);
	}

	copy = malloc(size);
	if (!copy) {
		free(img);
		return;
	}
	{
		Elf64_Ehdr eh;
		Elf64_Shdr sh;
		uint64_t big = UINT64_MAX - 8;
		unsigned k;

		memcpy(&eh, img, sizeof(eh));

		memcpy(copy, img, size);
		eh.e_machine = EM_AARCH64;
		memcpy(copy + offsetof(Elf64_Ehdr, e_machine), &eh.e_machine,
		       sizeof(eh.e_machine));
		memcpy(&eh, img, sizeof(eh));
		err = analyze_bytes(copy, size);
		ok(err == -HG_E_UNSUPPORTED, "e_machine aarch64: %s",
		   hg_strerror(err));

		memcpy(copy, img, size);
		memcpy(copy + offsetof(Elf64_Ehdr, e_shoff), &big, 8);
		err = analyze_bytes(copy, size);
		ok(err == -HG_E_BAD_ELF, "e_shoff near 2^64: %s",
		   hg_strerror(err));

		memcpy(copy, img, size);
		memcpy(copy + offsetof(Elf64_Ehdr, e_phoff), &big, 8);
		err = analyze_bytes(copy, size);
		ok(err == -HG_E_BAD_ELF, "e_phoff near 2^64: %s",
		   hg_strerror(err));

		/* One section's contents moved past EOF: each section. */
		for (k = 1; k < eh.e_shnum; k++) {
			size_t at = eh.e_shoff + (size_t)k * sizeof(sh);
			uint64_t off;

			if (at + sizeof(sh) > size)
				break;
			memcpy(copy, img, size);
			memcpy(&sh, copy + at, sizeof(sh));
			if (sh.sh_type == SHT_NOBITS || !sh.sh_size)
				continue;
			off = size - sh.sh_size / 2;
			memcpy(copy + at + offsetof(Elf64_Shdr, sh_offset),
			       &off, 8);
			err = analyze_bytes(copy, size);
			if (err != -HG_E_BAD_ELF)
				break;
		}
		ok(k >= eh.e_shnum, "every section moved past EOF is refused "
		   "(%u sections)", k);
	}

	/* Mutations: no crash, no unexpected error code. */
	{
		const char *s = getenv("HG_TEST_MUTATIONS");
		unsigned n = s ? (unsigned)strtoul(s, NULL, 0) : 400;
		unsigned it, good = 0, bad = 0, unexpected = 0;
		struct libc_file_info pristine;
		uint64_t hot[4];

		if (getenv("HG_TEST_SEED"))
			rng_state = strtoull(getenv("HG_TEST_SEED"), NULL, 0)
				    ^ 0x9e3779b97f4a7c15ull;
		if (!rng_state)		/* xorshift's one bad state */
			rng_state = 1;
		diag("mutation seed %#" PRIx64, rng_state);
		if (libc_file_analyze_mem(img, size, PAT, &pristine))
			memset(&pristine, 0, sizeof(pristine));
		/* Code and data the recipes read (file offset == link-time
		 * address for the usual libc layout; only a hint here). */
		hot[0] = pristine.sym_malloc;
		hot[1] = pristine.sym_malloc_trim;
		hot[2] = pristine.main_arena_data;
		hot[3] = pristine.mp_data;
		for (it = 0; it < n; it++) {
			unsigned flips = 1 + (unsigned)(rng() % 8), j;

			memcpy(copy, img, size);
			for (j = 0; j < flips; j++) {
				uint64_t r = rng(), pos;

				switch (r % 5) {
				case 0:		/* headers */
					pos = rng() % 0x400;
					break;
				case 1:		/* dynsym, dynstr, relocs */
					pos = rng() % 0x26000;
					break;
				case 2:		/* section headers */
					pos = size - 1 - rng() % 0x1000;
					break;
				case 3:
					pos = hot[rng() % 4] + rng() % 0x900;
					break;
				default:
					pos = rng() % size;
					break;
				}
				if (pos >= size)
					pos = rng() % size;
				if ((r >> 8) % 4 == 0 && pos + 8 <= size) {
					static const uint64_t nasty[] = {
						0, 1, 0x7fffffffffffffffull,
						0xffffffffffffffffull,
						0x80000000ull, 0xffffffffull,
					};
					uint64_t v = nasty[rng() %
							   ARRAY_SIZE(nasty)];

					if (rng() % 2)
						v = size - rng() % 64;
					memcpy(copy + pos, &v, 8);
				} else {
					copy[pos] = (uint8_t)rng();
				}
			}
			err = analyze_bytes(copy, size);
			if (err == 0)
				good++;
			else if (err == -HG_E_BAD_ELF ||
				 err == -HG_E_UNSUPPORTED)
				bad++;
			else
				unexpected++;
		}
		ok(unexpected == 0, "%u mutated copies: %u analysed, %u "
		   "refused, %u unexpected errors", n, good, bad, unexpected);
	}
	free(copy);
	free(img);
}

/* The buffer API on a read-only mapping: libelf must not write it. */
static void check_readonly(const char *libc)
{
	struct libc_file_info a, b;
	struct stat st;
	void *map;
	int fd, e1, e2;

	fd = open(libc, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		skip("cannot open libc", "read-only buffer");
		return;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		skip("mmap failed", "read-only buffer");
		return;
	}
	e1 = libc_file_analyze_mem(map, (size_t)st.st_size, PAT, &a);
	e2 = libc_file_analyze(libc, PAT, &b);
	ok(e1 == 0 && e2 == 0 && a.main_arena_data == b.main_arena_data &&
	   a.mp_data == b.mp_data && a.tcache_got == b.tcache_got &&
	   a.alloc_lo == b.alloc_lo && a.alloc_hi == b.alloc_hi &&
	   strcmp(a.build_id, b.build_id) == 0,
	   "analysis of a PROT_READ mapping equals the file analysis");
	munmap(map, (size_t)st.st_size);
}

/* Without the heap layer's patterns the file analysis knows no struct
 * layout: (a), (c) and the mp_ half of (b) find nothing, the rest is the
 * same (what inject/ asks for). */
static void check_no_patterns(const char *libc)
{
	struct libc_file_info a, b;

	if (libc_file_analyze(libc, NULL, &a) || libc_file_analyze(libc, PAT, &b)) {
		skip("cannot analyse libc", "no patterns");
		return;
	}
	ok(!a.main_arena_lea && !a.main_arena_data && !a.mp_data && !a.mp_tcache_bins &&
	   !a.arena_size && !a.mp_size,
	   "without patterns: no main_arena or mp_ (recipes a, c and mp_ of b skipped)");
	ok(b.main_arena_data && b.mp_data && b.mp_tcache_bins &&
	   !strcmp(a.version, b.version) && a.tcache_got == b.tcache_got &&
	   a.sym_malloc_trim == b.sym_malloc_trim && a.alloc_lo == b.alloc_lo &&
	   a.alloc_hi == b.alloc_hi,
	   "without patterns: version, tcache GOT slot, symbols and code range unchanged");
}

/* The file that holds gnu_get_libc_version in this process. */
static char *running_libc(void)
{
	uintptr_t want = (uintptr_t)&gnu_get_libc_version;
	char line[4096];
	FILE *fp = fopen("/proc/self/maps", "re");
	char *found = NULL;

	while (fp && !found && fgets(line, sizeof(line), fp)) {
		unsigned long lo, hi;
		char *path = strchr(line, '/');

		if (sscanf(line, "%lx-%lx", &lo, &hi) != 2 || !path ||
		    want < lo || want >= hi)
			continue;
		path[strcspn(path, "\n")] = '\0';
		found = strdup(path);
	}
	if (fp)
		fclose(fp);
	return found ? found : strdup("/lib/x86_64-linux-gnu/libc.so.6");
}

int main(void)
{
	const char *extra = getenv("HG_TEST_LIBCS");
	char *libc = running_libc();

	if (!libc)
		return 99;
	elf_version(EV_CURRENT);
	setvbuf(stdout, NULL, _IOLBF, 0);

	check_libc(libc, true);
	check_readonly(libc);
	check_no_patterns(libc);
	check_errors(libc);

	if (extra && *extra) {
		char *list = strdup(extra), *p, *save = NULL;

		for (p = strtok_r(list, ":", &save); p;
		     p = strtok_r(NULL, ":", &save))
			check_libc(p, false);
		free(list);
	}
	free(libc);
	printf("1..%u\n", tap_n);
	return tap_failed ? 1 : 0;
}
