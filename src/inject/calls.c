/*
 * calls.c - the injections heapgrab makes, on top of inject.c's protocol:
 * a system call, a function call, and the two allocator functions it calls
 * (mallinfo2 for --verify, malloc_trim for `heapgrab trim`).
 *
 * Both allocator functions take arena locks (glibc 2.36 malloc.c:
 * __libc_mallinfo2() locks each arena in turn around int_mallinfo();
 * __malloc_trim() around mtrim()). They are only ever called while every
 * other thread of the target is stopped outside the allocator with no
 * arena lock held (the caller's consistency check, snapshot/build.c), so
 * the locks are free and the call cannot deadlock on a stopped thread;
 * the call's deadline covers the rest.
 *
 * mallinfo2() appeared in glibc 2.33. Before it, mallinfo() returns the
 * same ten fields as int, which wrap above 2 GiB (struct mallinfo in
 * malloc/malloc.h); inject_mallinfo() says so in `wraps32`.
 *
 * The system calls each function makes, which a seccomp filter must allow
 * (doc/containers.md, "What an injection asks of a seccomp filter", has
 * the reading of glibc 2.26 to 2.42 behind this):
 *   mallinfo2(), mallinfo()  none: int_mallinfo() only reads the arenas;
 *                            the arena locks are free (no futex).
 *   malloc_trim(pad)         madvise(addr, len, MADV_DONTNEED) for each
 *                            free chunk holding whole pages (mtrim()), and
 *                            for the main arena brk(addr) through
 *                            sbrk(-extra) (systrim() via MORECORE); the
 *                            addresses are known only inside the call.
 * ptmalloc_init() would make more (getrandom for the tcache key since
 * 2.34, reading /sys for glibc.malloc.hugetlb since 2.35), but only in a
 * process that never called malloc; the guard in inject.c stops any call
 * the filter would kill for.
 */
#include "config.h"
#include "inject/inject.h"
#include "inject/inject-internal.h"
#include "inject/seccomp.h"
#include "target/ptrace.h"
#include "target/target.h"
#include "util/errors.h"
#include "util/strbuf.h"

#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

/* mallinfo2 reads counters under each arena's lock: milliseconds even for
 * hundreds of arenas. */
#define MALLINFO_TIMEOUT_MS 5000

static int check_thread(struct target *t, size_t i, struct strbuf *why)
{
	if (i >= t->nr_threads || !live_thread_parked(t, i)) {
		if (why)
			strbuf_addf(why, "thread %zu of process %d is not parked for injection",
				    i, t->pid);
		return -HG_E_INJECT_STOPPED;
	}
	return 0;
}

int inject_syscall(struct target *t, size_t i, const struct inject_libc *lc, long nr,
		   const uint64_t args[6], unsigned timeout_ms, long *ret_result,
		   int *ret_child, struct strbuf *why)
{
	struct inject_req req = {
		.nr = nr,
		.name = "an injected system call",
		.timeout_ms = timeout_ms,
		.ret_result = ret_result,
		.ret_child = ret_child,
	};
	int err = check_thread(t, i, why);

	if (err < 0)
		return err;
	memcpy(req.args, args, sizeof(req.args));
	return inject_run(t, t->threads[i].tid, lc, &req, why);
}

int inject_call(struct target *t, size_t i, const struct inject_libc *lc, const char *name,
		taddr_t fn, const uint64_t *args, size_t nargs, size_t sret_len, void *ret_sret,
		unsigned timeout_ms, struct strbuf *why)
{
	struct inject_req req = {
		.fn = fn,
		.name = name,
		.nargs = nargs < 6 ? nargs : 6,
		.sret_len = sret_len,
		.ret_sret = ret_sret,
		.timeout_ms = timeout_ms,
	};
	int err = check_thread(t, i, why);

	if (err < 0)
		return err;
	if (!fn)
		return -HG_E_NO_GADGET;
	for (size_t k = 0; k < req.nargs; k++)
		req.args[k] = args[k];
	return inject_run(t, t->threads[i].tid, lc, &req, why);
}

int inject_mallinfo(struct target *t, size_t i, const struct inject_libc *lc,
		    struct inject_mallinfo *ret, struct strbuf *why)
{
	struct inject_mallinfo mi;
	int err;

	memset(&mi, 0, sizeof(mi));
	if (lc->mallinfo2) {
		/* struct mallinfo2: ten size_t, returned in memory */
		uint64_t v[10];

		err = inject_call(t, i, lc, "mallinfo2()", lc->mallinfo2, NULL, 0, sizeof(v), v,
				  MALLINFO_TIMEOUT_MS, why);
		if (err < 0)
			return err;
		mi.function = "mallinfo2";
		mi.arena = v[0];
		mi.ordblks = v[1];
		mi.smblks = v[2];
		mi.hblks = v[3];
		mi.hblkhd = v[4];
		mi.usmblks = v[5];
		mi.fsmblks = v[6];
		mi.uordblks = v[7];
		mi.fordblks = v[8];
		mi.keepcost = v[9];
	} else if (lc->mallinfo) {
		/* struct mallinfo: ten int (40 bytes: also returned in
		 * memory, being larger than 16 bytes) */
		uint32_t v[10];

		err = inject_call(t, i, lc, "mallinfo()", lc->mallinfo, NULL, 0, sizeof(v), v,
				  MALLINFO_TIMEOUT_MS, why);
		if (err < 0)
			return err;
		mi.function = "mallinfo";
		mi.wraps32 = true;
		mi.arena = v[0];
		mi.ordblks = v[1];
		mi.smblks = v[2];
		mi.hblks = v[3];
		mi.hblkhd = v[4];
		mi.usmblks = v[5];
		mi.fsmblks = v[6];
		mi.uordblks = v[7];
		mi.fordblks = v[8];
		mi.keepcost = v[9];
	} else {
		if (why)
			strbuf_addstr(why, "the target's libc exports neither mallinfo2 nor mallinfo");
		return -HG_E_NO_GADGET;
	}
	*ret = mi;
	return 0;
}

int inject_malloc_trim(struct target *t, size_t i, const struct inject_libc *lc, uint64_t pad,
		       unsigned timeout_ms, struct strbuf *why)
{
	const uint64_t madv[6] = { 0, 0, MADV_DONTNEED, 0, 0, 0 };
	struct seccomp_call plan[2];
	struct inject_req req = {
		.fn = lc->malloc_trim,
		.name = "malloc_trim()",
		.args = { pad },
		.nargs = 1,
		.timeout_ms = timeout_ms,
		.plan = plan,
		.nplan = ARRAY_SIZE(plan),
	};
	int err = check_thread(t, i, why);

	if (err < 0)
		return err;
	if (!lc->malloc_trim) {
		if (why)
			strbuf_addstr(why, "the target's libc does not export malloc_trim");
		return -HG_E_NO_GADGET;
	}
	/* the addresses and lengths, and brk's address, are the call's own */
	seccomp_call_init(&plan[0], SYS_madvise, madv, 1u << 2, lc->madvise_ret);
	plan[0].where = "inside malloc_trim()";
	seccomp_call_init(&plan[1], SYS_brk, NULL, 0, lc->brk_ret);
	plan[1].where = "inside malloc_trim()";
	return inject_run(t, t->threads[i].tid, lc, &req, why);
}
