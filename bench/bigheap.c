/*
 * bigheap: a large, idle glibc heap that measures its own pauses.
 *
 * This is the target of bench/run-attach.sh. It builds a heap of about
 * --mib MiB of live chunks (default 1024) in about --chunks chunks
 * (default 4,194,304), spread over --threads threads (default 4). Each
 * thread does its first malloc on its own, so glibc gives each one its own
 * arena (arena_get2() in glibc 2.36 malloc/arena.c creates a new arena while
 * fewer than 8 x cores exist); non-main arenas grow in 64 MiB heaps
 * (HEAP_MAX_SIZE), so each arena ends up with several heap_info heaps.
 *
 * Per thread: chunks/threads allocations of varied request sizes (uniform
 * in [avg/4, 7*avg/4], where avg = mib MiB / chunks, so 64..448 bytes for
 * the defaults), then a few per cent of them freed at random (fills the
 * tcache, the fastbins for the small sizes, the unsorted and small bins),
 * then a few mmapped chunks (above the mmap threshold). The pointer arrays
 * live in mmap()ed memory of their own, outside the heap, so the heap holds
 * only the workload. After that the threads park on a condition variable:
 * nothing allocates while the benchmark measures.
 *
 * When the heap is built, bigheap writes "ready PID\n" to the --ready file
 * (written to FILE.tmp and renamed, so a reader never sees half of it).
 *
 * Pause watch: a thread loops on 200 us nanosleep()s and records the
 * longest gap between two consecutive wake-ups (CLOCK_MONOTONIC). A tool
 * that stops every thread (ptrace, gdb) shows up as one long gap. On
 * SIGUSR1 the main thread appends one line "SEQ GAP_US\n" to the
 * --results file (SEQ counts from 1) and resets the maximum, so each phase
 * the benchmark measures gets its own figure: send SIGUSR1 before the phase
 * (discard that line), run the tool, send SIGUSR1 again (read that line).
 * SIGTERM or SIGINT ends the program. Signals are taken with sigwaitinfo()
 * in the main thread only, so no allocation thread is ever interrupted.
 *
 * --links N (for `heapgrab leaks` and `top --retained`, bench/run-leaks.sh):
 * after the frees, each thread's small chunks become lists of N chunks:
 * a chunk's first word points at the chunk before it in the thread's
 * array, and the array keeps only each list's last chunk (its head). The
 * heap graph then has one edge per chunk and dominator chains N deep.
 * --leak-pct P drops P per cent of the heads: those lists leak (N chunks
 * and one leak root each); the expected figures go to stderr.
 *
 * usage: bigheap [--mib N] [--chunks N] [--threads N] [--free-pct N] [--typed]
 *                [--mmapped N] [--links N [--leak-pct P]]
 *                --ready FILE --results FILE
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static unsigned long opt_mib = 1024;
static unsigned long opt_chunks = 4ul << 20;
static unsigned opt_threads = 4;
static unsigned opt_free_pct = 3;
/* --typed: every other chunk is a struct rec that links the chunks into
 * one list per worker from the global heads[] (typing has roots, structs
 * and char[] payloads to type); implies --free-pct 0 so no list breaks */
static int opt_typed;

struct rec {
	struct rec *next;
	char *payload;
	unsigned long len;
};

struct rec *heads[64];
static unsigned opt_mmapped = 4;	/* mmapped chunks per thread */
static unsigned long opt_links;		/* 0: no lists */
static unsigned opt_leak_pct;
static const char *opt_ready;
static const char *opt_results;

static pthread_mutex_t park_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t park_cond = PTHREAD_COND_INITIALIZER;
static unsigned nr_built;

static atomic_ullong max_gap_ns;

struct worker {
	pthread_t thread;
	unsigned idx;
	unsigned long n;
	void **ptrs;
	unsigned long live, bytes;	/* chunk bytes (malloc_usable_size+8) */
	unsigned long leaked, leaked_bytes, leaked_lists;	/* --links */
};

static void die(const char *what)
{
	fprintf(stderr, "bigheap: %s: %s\n", what, strerror(errno));
	exit(2);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* --links: see the top. The mmapped chunks at the end stay as they are. */
static void link_lists(struct worker *w, uint64_t *rng)
{
	unsigned long nsmall = w->n - opt_mmapped, i, start = 0;

	for (i = 0; i < nsmall; i++)
		((void **)w->ptrs[i])[0] = i % opt_links ? w->ptrs[i - 1] : NULL;
	for (i = 0; i < nsmall; i++) {
		int head = i % opt_links == opt_links - 1 || i == nsmall - 1;

		if (!head)
			continue;
		if (xorshift(rng) % 100 < opt_leak_pct) {
			for (unsigned long k = start; k <= i; k++) {
				w->leaked++;
				w->leaked_bytes += malloc_usable_size(w->ptrs[k]) + 8;
			}
			w->leaked_lists++;
			w->ptrs[i] = NULL;
		}
		for (unsigned long k = start; k < i; k++)
			w->ptrs[k] = NULL;
		start = i + 1;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t rng = 0x9e3779b97f4a7c15ull * (w->idx + 1);
	unsigned long avg = (opt_mib << 20) / opt_chunks;
	unsigned long lo, span;
	size_t arr = (w->n + opt_mmapped) * sizeof(void *);
	unsigned long i, nfree, n0 = w->n;

	/* --typed: every other chunk is a 32-byte struct rec; the payloads
	 * make up the rest, so the heap is still about --mib MiB */
	if (opt_typed && avg > 48)
		avg = 2 * avg - 32;
	lo = avg / 4 ? avg / 4 : 1;
	span = 2 * avg - 2 * lo + 1;
	w->ptrs = mmap(NULL, arr, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (w->ptrs == MAP_FAILED)
		die("mmap");
	for (i = 0; i < w->n; i++) {
		size_t sz = lo + xorshift(&rng) % span;
		char *p;

		if (opt_typed && (i & 1)) {
			struct rec *r = malloc(sizeof(*r));

			if (!r)
				die("malloc");
			r->next = heads[w->idx % 64];
			r->payload = w->ptrs[i - 1];
			r->len = i;
			heads[w->idx % 64] = r;
			w->ptrs[i] = r;
			continue;
		}
		p = malloc(sz);
		if (!p)
			die("malloc");
		p[0] = (char)i;	/* touch: the pages are resident */
		w->ptrs[i] = p;
	}
	/*
	 * The mmapped chunks come before the frees: a large request runs
	 * malloc_consolidate() (glibc 2.36 _int_malloc), which would empty
	 * the fastbins. They go after the small chunks in the array and are
	 * never freed.
	 */
	for (i = 0; i < opt_mmapped; i++) {
		size_t sz = (256u << 10) + i * (64u << 10);
		char *p = malloc(sz);

		if (!p)
			die("malloc");
		memset(p, 0x5a, sz);
		w->ptrs[n0 + i] = p;
	}
	nfree = w->n / 100 * opt_free_pct;
	for (i = 0; i < nfree; i++) {
		unsigned long k = xorshift(&rng) % w->n;

		free(w->ptrs[k]);
		w->ptrs[k] = w->ptrs[--w->n];
	}
	for (i = 0; i < opt_mmapped; i++)
		w->ptrs[w->n++] = w->ptrs[n0 + i];
	for (i = 0; i < w->n; i++)
		w->bytes += malloc_usable_size(w->ptrs[i]) + 8;
	w->live = w->n;
	if (opt_links) {
		/* the frees left stale copies of moved pointers past the end */
		memset(&w->ptrs[w->n], 0, (n0 + opt_mmapped - w->n) * sizeof(void *));
		link_lists(w, &rng);
	}

	pthread_mutex_lock(&park_lock);
	nr_built++;
	pthread_cond_broadcast(&park_cond);
	for (;;)	/* parked: never allocates again */
		pthread_cond_wait(&park_cond, &park_lock);
	return NULL;
}

static void *watch_main(void *arg)
{
	struct timespec d = { 0, 200000 };
	uint64_t prev, t, gap, cur;

	(void)arg;
	prctl(PR_SET_TIMERSLACK, 1UL);	/* 1 ns slack: wake-ups on time */
	prev = now_ns();
	for (;;) {
		nanosleep(&d, NULL);
		t = now_ns();
		gap = t - prev;
		prev = t;
		cur = atomic_load(&max_gap_ns);
		while (gap > cur &&
		       !atomic_compare_exchange_weak(&max_gap_ns, &cur, gap))
			;
	}
	return NULL;
}

static void write_ready(void)
{
	char tmp[4096], line[64];
	int fd, len;

	snprintf(tmp, sizeof(tmp), "%s.tmp", opt_ready);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die(tmp);
	len = snprintf(line, sizeof(line), "ready %d\n", (int)getpid());
	if (write(fd, line, (size_t)len) != len || close(fd) < 0)
		die(tmp);
	if (rename(tmp, opt_ready) < 0)
		die(opt_ready);
}

static unsigned long parse_num(const char *s, const char *name)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s) {
		fprintf(stderr, "bigheap: bad number for --%s: '%s'\n", name, s);
		exit(64);
	}
	return v;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "mib", required_argument, NULL, 'm' },
		{ "typed", no_argument, NULL, 'T' },
		{ "chunks", required_argument, NULL, 'c' },
		{ "threads", required_argument, NULL, 't' },
		{ "free-pct", required_argument, NULL, 'f' },
		{ "mmapped", required_argument, NULL, 'M' },
		{ "links", required_argument, NULL, 'l' },
		{ "leak-pct", required_argument, NULL, 'L' },
		{ "ready", required_argument, NULL, 'r' },
		{ "results", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	struct worker *w;
	pthread_t watcher;
	sigset_t set;
	siginfo_t si;
	unsigned long live = 0, bytes = 0, seq = 0;
	unsigned long leaked = 0, leaked_bytes = 0, leaked_lists = 0;
	unsigned i;
	uint64_t t0;
	int c, rfd;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': opt_mib = parse_num(optarg, "mib"); break;
		case 'T': opt_typed = 1; opt_free_pct = 0; break;
		case 'c': opt_chunks = parse_num(optarg, "chunks"); break;
		case 't': opt_threads = (unsigned)parse_num(optarg, "threads"); break;
		case 'f': opt_free_pct = (unsigned)parse_num(optarg, "free-pct"); break;
		case 'M': opt_mmapped = (unsigned)parse_num(optarg, "mmapped"); break;
		case 'l': opt_links = parse_num(optarg, "links"); break;
		case 'L': opt_leak_pct = (unsigned)parse_num(optarg, "leak-pct"); break;
		case 'r': opt_ready = optarg; break;
		case 'o': opt_results = optarg; break;
		default:
			fprintf(stderr, "usage: bigheap [--mib N] [--chunks N] [--threads N] "
				"[--free-pct N] [--mmapped N] [--links N [--leak-pct P]]\n"
				"               --ready FILE --results FILE\n");
			return 64;
		}
	}
	if (!opt_ready || !opt_results || !opt_threads || !opt_chunks ||
	    opt_chunks < opt_threads || opt_free_pct > 50 || opt_leak_pct > 100 ||
	    (opt_mib << 20) / opt_chunks < 24) {
		fprintf(stderr, "bigheap: need --ready and --results, threads >= 1, "
			"chunks >= threads, free-pct <= 50, mib/chunks >= 24 bytes\n");
		return 64;
	}
	rfd = open(opt_results, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	if (rfd < 0)
		die(opt_results);

	/* Every thread inherits this mask: only sigwaitinfo() below sees them. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	t0 = now_ns();
	w = calloc(opt_threads, sizeof(*w));
	if (!w)
		die("calloc");
	for (i = 0; i < opt_threads; i++) {
		w[i].idx = i;
		w[i].n = opt_chunks / opt_threads +
			 (i < opt_chunks % opt_threads ? 1 : 0);
		errno = pthread_create(&w[i].thread, NULL, worker_main, &w[i]);
		if (errno)
			die("pthread_create");
	}
	pthread_mutex_lock(&park_lock);
	while (nr_built < opt_threads)
		pthread_cond_wait(&park_cond, &park_lock);
	pthread_mutex_unlock(&park_lock);
	for (i = 0; i < opt_threads; i++) {
		live += w[i].live;
		bytes += w[i].bytes;
		leaked += w[i].leaked;
		leaked_bytes += w[i].leaked_bytes;
		leaked_lists += w[i].leaked_lists;
	}
	if (opt_links)
		fprintf(stderr, "bigheap: lists of %lu: leaked %lu chunks, %lu bytes, "
			"%lu leak roots\n", opt_links, leaked, leaked_bytes, leaked_lists);
	fprintf(stderr, "bigheap: %lu live chunks, %lu bytes (%.1f MiB) in %u threads, "
		"built in %.1f s\n", live, bytes, bytes / 1048576.0, opt_threads,
		(now_ns() - t0) / 1e9);

	errno = pthread_create(&watcher, NULL, watch_main, NULL);
	if (errno)
		die("pthread_create");
	write_ready();

	for (;;) {
		char line[64];
		int len, sig = sigwaitinfo(&set, &si);

		if (sig < 0) {
			if (errno == EINTR)
				continue;
			die("sigwaitinfo");
		}
		if (sig != SIGUSR1)
			break;
		len = snprintf(line, sizeof(line), "%lu %.0f\n", ++seq,
			       atomic_exchange(&max_gap_ns, 0) / 1000.0);
		if (write(rfd, line, (size_t)len) != len)
			die(opt_results);
	}
	return 0;
}
