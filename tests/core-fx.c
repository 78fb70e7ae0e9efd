/*
 * core-fx.c - the target program whose cores the core tests read.
 *
 * It builds a small, known heap (main arena, one thread arena, tcache,
 * fastbin and unsorted chunks, one mmapped chunk), fills a few globals with
 * recognisable values, starts two threads that park in a blocking read, and
 * then tells the test script it is ready:
 *
 *   core-fx READY_FILE
 *
 * writes "ready PID TID1 TID2 ..." plus the expectation lines below to
 * READY_FILE (written to a temporary name and renamed, so the script never
 * sees half a file), and blocks in pause() until killed. The format is the
 * one tests/check-census.py reads (fixtures/fixture.h): a "mallinfo2 k=v"
 * line and "NAME NUMBER" notes, so a census of the core can be checked
 * against the process's own mallinfo2(). The test script
 * then takes a gcore and/or makes it dump core (kill -SEGV / -ABRT) and
 * checks what the core reader sees against these lines:
 *
 *   mallinfo2 arena=N ...           mallinfo2() taken after the last malloc
 *   threads N, arenas N             notes for check-census.py
 *   global g_data ADDR "text"       a .data array (dumped: written page)
 *   global g_counter ADDR VALUE     a .data u64
 *   global g_bss ADDR VALUE         a .bss u64 set at run time
 *   heap g_list ADDR                head of a malloc'd list (in the core)
 *   node ADDR VALUE                 each list node and the value it holds
 *   tls THREAD FS_BASE              each thread's fs_base (register check)
 *
 * Built with -O0 -g and never with sanitizers: the heap must be glibc's.
 * This file is copied verbatim into each frozen core set under
 * fixtures/cores/ (see the RECIPE there); change it freely here, the frozen
 * copies keep the version their cores were made from.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* gettid() is glibc 2.30+; frozen sets are made under older glibc too. */
#if !(__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 30))
# define gettid() ((pid_t)syscall(SYS_gettid))
#endif

#define NR_THREADS 2
#define NR_NODES 8

struct node {
	struct node *next;
	uint64_t value;
	char tag[16];
};

char g_data[32] = "heapgrab-core-fixture-data";
uint64_t g_counter = 0x1122334455667788ull;
uint64_t g_bss;
struct node *g_list;
void *g_thread_blocks[NR_THREADS];
void *g_big;

static int g_pipe[2];
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER;
static int g_started;
static pid_t g_tids[NR_THREADS];
static unsigned long g_fs[NR_THREADS + 1];

#if __GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33)
#define MI_TYPE struct mallinfo2
#else
/* glibc < 2.33 has only mallinfo(); same fields, as size_t here. */
struct mi_compat {
	size_t arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks,
	       uordblks, fordblks, keepcost;
};
#define MI_TYPE struct mi_compat
#endif

static char g_report[8192];

/* Append to g_report at *LEN (never past its end). */
static void __attribute__((format(printf, 2, 3))) add(size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len >= sizeof(g_report))
		return;
	va_start(ap, fmt);
	n = vsnprintf(g_report + *len, sizeof(g_report) - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len += (size_t)n;
}

static unsigned long fs_base(void)
{
	unsigned long fs;

	__asm__ volatile("mov %%fs:0, %0" : "=r"(fs));
	return fs;
}

static void *thread_main(void *arg)
{
	int i = (int)(intptr_t)arg;
	char c;

	/* A few chunks from this thread's arena (arena_max permitting). */
	g_thread_blocks[i] = malloc(200 + 100 * (size_t)i);
	memset(g_thread_blocks[i], 'a' + i, 200 + 100 * (size_t)i);
	free(malloc(40));
	pthread_mutex_lock(&g_lock);
	g_tids[i] = gettid();
	g_fs[i + 1] = fs_base();
	g_started++;
	pthread_cond_signal(&g_cond);
	pthread_mutex_unlock(&g_lock);
	/* Park in a system call until the process dies. */
	while (read(g_pipe[0], &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th[NR_THREADS];
	pthread_attr_t attr;
	struct node *n;
	void *tc[4], *fb[3];
	static char tmp[4096];
	MI_TYPE mi;
	size_t len;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: core-fx READY_FILE\n");
		return 99;
	}
	prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	if (pipe(g_pipe))
		return 99;

	g_bss = 0xb55b55b55b55b55bull;
	/*
	 * Order matters: a request for a large chunk makes _int_malloc()
	 * consolidate the fastbins (glibc 2.36 malloc/malloc.c, _int_malloc:
	 * "if (atomic_load_relaxed (&av->have_fastchunks)) malloc_consolidate"),
	 * so the mmapped chunk and the large blocks come first and the
	 * fastbin chunks last, after the threads have started.
	 */
	g_big = malloc(256 * 1024);	/* mmapped: above the pinned threshold */
	memset(g_big, 0x5a, 4096);
	/* An unsorted/small-bin chunk: a block freed between two live ones. */
	{
		void *a = malloc(3000), *b = malloc(3000);

		(void)b;
		free(a);
	}
	for (int i = 0; i < NR_NODES; i++) {
		n = malloc(sizeof(*n));
		n->value = 0x1000 + (uint64_t)i * 0x111;
		snprintf(n->tag, sizeof(n->tag), "node-%d", i);
		n->next = g_list;
		g_list = n;
	}
	g_fs[0] = fs_base();
	/* Small stacks keep the cores small: the kernel dumps them whole. */
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (int i = 0; i < NR_THREADS; i++)
		if (pthread_create(&th[i], &attr, thread_main, (void *)(intptr_t)i))
			return 99;
	pthread_mutex_lock(&g_lock);
	while (g_started < NR_THREADS)
		pthread_cond_wait(&g_cond, &g_lock);
	pthread_mutex_unlock(&g_lock);

	/*
	 * tcache (size 0x70), then fastbin (size 0x30, its tcache bin full).
	 * After the threads exist: with them started first, mallinfo2()
	 * showed smblks 3 before and 0 after (glibc 2.36).
	 */
	for (int i = 0; i < 4; i++)
		tc[i] = malloc(100);
	for (int i = 0; i < 4; i++)
		free(tc[i]);
	{
		void *fill[7];

		for (int i = 0; i < 7; i++)
			fill[i] = malloc(32);
		for (int i = 0; i < 3; i++)
			fb[i] = malloc(32);
		for (int i = 0; i < 7; i++)
			free(fill[i]);
		for (int i = 0; i < 3; i++)
			free(fb[i]);
	}

	/*
	 * From here on nothing may allocate: the census of the core must
	 * match this mallinfo2(). The report is formatted into a static
	 * buffer (glibc's snprintf does not malloc for these conversions) and
	 * written with open/write/rename, not stdio (fopen mallocs a FILE).
	 */
#if __GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33)
	mi = mallinfo2();
#else
	{
		struct mallinfo m = mallinfo();	/* int fields: small heaps */

		mi = (struct mi_compat){ m.arena, m.ordblks, m.smblks, m.hblks,
			m.hblkhd, m.usmblks, m.fsmblks, m.uordblks, m.fordblks,
			m.keepcost };
	}
#endif
	len = 0;
	add(&len, "ready %d", getpid());
	for (int i = 0; i < NR_THREADS; i++)
		add(&len, " %d", g_tids[i]);
	add(&len, "\n");
	add(&len, "mallinfo2 arena=%zu ordblks=%zu smblks=%zu hblks=%zu "
	    "hblkhd=%zu usmblks=%zu fsmblks=%zu uordblks=%zu fordblks=%zu "
	    "keepcost=%zu\n", mi.arena, mi.ordblks, mi.smblks, mi.hblks,
	    mi.hblkhd, mi.usmblks, mi.fsmblks, mi.uordblks, mi.fordblks,
	    mi.keepcost);
	add(&len, "threads %d\n", NR_THREADS + 1);
	add(&len, "arenas %d\n", 2);
	add(&len, "global g_data %p \"%s\"\n", (void *)g_data, g_data);
	add(&len, "global g_counter %p 0x%llx\n", (void *)&g_counter,
	    (unsigned long long)g_counter);
	add(&len, "global g_bss %p 0x%llx\n", (void *)&g_bss,
	    (unsigned long long)g_bss);
	add(&len, "heap g_list %p\n", (void *)g_list);
	for (n = g_list; n; n = n->next)
		add(&len, "node %p 0x%llx\n", (void *)n,
		    (unsigned long long)n->value);
	add(&len, "tls %d 0x%lx\n", getpid(), g_fs[0]);
	for (int i = 0; i < NR_THREADS; i++)
		add(&len, "tls %d 0x%lx\n", g_tids[i], g_fs[i + 1]);
	if (len >= sizeof(g_report) - 1)
		return 99;
	snprintf(tmp, sizeof(tmp), "%s.tmp", argv[1]);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, g_report, len) != (ssize_t)len || close(fd) ||
	    rename(tmp, argv[1]))
		return 99;

	for (;;)
		pause();
}
