/*
 * snap-grow.c - a target with known growth, for tests/snap-*.sh.
 *
 *   snap-grow --ready FILE grow N
 *     Builds a small heap (1000 blocks of 72 bytes, some freed), writes
 *     "mallinfo2 uordblks=U" and "ready PID" to FILE, then waits for
 *     SIGUSR1. On it, allocates N more blocks of 200 bytes (chunks of 208:
 *     no block of that size existed, so they all come from the top chunk)
 *     and writes "grown uordblks=U2" and "ready PID" to FILE again (same
 *     file, through FILE.tmp and rename). On the next SIGUSR1 it checks the
 *     blocks and exits 0.
 *
 *   snap-grow --ready FILE leak
 *     A steadily leaking program: every 10 ms it leaks 4 blocks of 100
 *     bytes (chunks of 112), and it keeps a pool of 300-byte blocks
 *     (chunks of 320) whose size follows a sine of period 1.3 s between 0
 *     and 80 blocks: a size class that grows and shrinks but does not
 *     leak. Writes "ready PID" at once; runs until SIGTERM.
 *
 * Like the fixtures (fixtures/README.md): plain glibc malloc, -O0 -g,
 * never sanitizers, -Wl,-z,now; PR_SET_PTRACER_ANY for Yama scope 1;
 * nothing allocates between mallinfo2() and the "ready" line. SIGUSR1 is
 * blocked and taken with sigwaitinfo, so it can never arrive in malloc.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define BASE_BLOCKS 1000
#define GROW_SIZE 200
#define MAX_GROW 100000
#define POOL_MAX 80

static const char *ready_path;
static void *base[BASE_BLOCKS];
static void *grown[MAX_GROW];
static void *pool[POOL_MAX];

/* Write LINES to the ready file atomically (no stdio: no malloc). */
static void write_ready(const char *lines)
{
	char tmp[4096];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", ready_path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, lines, strlen(lines)) != (ssize_t)strlen(lines) ||
	    close(fd) < 0 || rename(tmp, ready_path) < 0) {
		perror("snap-grow: ready file");
		exit(99);
	}
}

static void wait_usr1(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	while (sigwaitinfo(&set, NULL) < 0 && errno == EINTR)
		;
}

static int grow(unsigned long n)
{
	struct mallinfo2 mi;
	char lines[256];
	int bad = 0;

	for (int i = 0; i < BASE_BLOCKS; i++) {
		base[i] = malloc(72);
		if (!base[i])
			return 2;
		memset(base[i], i & 0xff, 72);
	}
	for (int i = 0; i < BASE_BLOCKS; i += 10) {
		free(base[i]);
		base[i] = NULL;
	}
	mi = mallinfo2();
	snprintf(lines, sizeof(lines), "mallinfo2 uordblks=%zu\nready %d\n", mi.uordblks,
		 (int)getpid());
	write_ready(lines);
	wait_usr1();

	for (unsigned long i = 0; i < n; i++) {
		grown[i] = malloc(GROW_SIZE);
		if (!grown[i])
			return 2;
		memset(grown[i], (int)(i & 0xff), GROW_SIZE);
	}
	mi = mallinfo2();
	snprintf(lines, sizeof(lines), "grown uordblks=%zu\nready %d\n", mi.uordblks,
		 (int)getpid());
	write_ready(lines);
	wait_usr1();

	for (unsigned long i = 0; i < n; i++) {
		const unsigned char *p = grown[i];

		for (int k = 0; k < GROW_SIZE; k++)
			bad |= p[k] != (unsigned char)(i & 0xff);
		free(grown[i]);
	}
	for (int i = 0; i < BASE_BLOCKS; i++)
		free(base[i]);
	if (bad)
		fprintf(stderr, "snap-grow: a block changed\n");
	return bad;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *volatile leak_sink;

static int leak(void)
{
	double t0 = now_s();
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	unsigned n = 0;
	char lines[64];

	snprintf(lines, sizeof(lines), "ready %d\n", (int)getpid());
	write_ready(lines);
	for (;;) {
		double t = now_s() - t0;
		unsigned want = (unsigned)(POOL_MAX / 2 * (1 + sin(2 * M_PI * t / 1.3)));

		for (int i = 0; i < 4; i++) {
			/* Leaked on purpose. Through a volatile sink: clang
			 * at -O2 deletes a malloc whose result is unused. */
			leak_sink = malloc(100);
			if (!leak_sink)
				return 2;
		}
		if (want > POOL_MAX)
			want = POOL_MAX;
		while (n < want)
			if (!(pool[n++] = malloc(300)))
				return 2;
		while (n > want)
			free(pool[--n]);
		nanosleep(&tick, NULL);
	}
}

int main(int argc, char **argv)
{
	sigset_t set;

	prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (argc >= 4 && !strcmp(argv[1], "--ready")) {
		ready_path = argv[2];
		if (!strcmp(argv[3], "grow") && argc == 5) {
			unsigned long n = strtoul(argv[4], NULL, 10);

			if (n > MAX_GROW)
				n = MAX_GROW;
			return grow(n);
		}
		if (!strcmp(argv[3], "leak") && argc == 4)
			return leak();
	}
	fprintf(stderr, "usage: snap-grow --ready FILE grow N | leak\n");
	return 2;
}
