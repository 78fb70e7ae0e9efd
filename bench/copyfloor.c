/*
 * copyfloor: the floor under heapgrab's pause, and what a parallel copy buys.
 *
 * Does what heapgrab attach does around its stop window and nothing else:
 * reads /proc/PID/maps, picks the private writable anonymous mappings and
 * [heap] (where glibc malloc's arenas and mmapped chunks live), allocates
 * one destination buffer for them and faults it in before the stop (THP via
 * MADV_HUGEPAGE, like heapgrab's live_prepare), then stops every thread
 * (PTRACE_SEIZE + PTRACE_INTERRUPT, rescanning /proc/PID/task), copies the
 * mappings with process_vm_readv() in 1 MiB pieces using T threads (the
 * pieces are dealt out round-robin), and detaches.
 *
 * Prints, per repeat: bytes copied, ms to fault in the buffer (before the
 * stop: whole-attach time, not pause), ms to stop, ms to copy, ms stopped.
 * With -t 1 the copy is what heapgrab does today; with -t 2 on this 2-vCPU
 * machine it shows what splitting the copy over threads would buy.
 *
 * usage: copyfloor [-t threads] [-r repeats] PID
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PIECE (1ul << 20)
#define MAXT 4096

struct region { uintptr_t lo, hi; size_t off; };

static pid_t pid;
static struct region *reg;
static size_t nreg;
static unsigned char *dst;
static size_t npieces;
static size_t *piece_reg;	/* piece i -> region */
static size_t *piece_off;	/* offset of piece i in its region */
static atomic_size_t next_piece;
static atomic_size_t copied;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void read_maps(void)
{
	char path[64], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	if (!f) {
		perror(path);
		exit(2);
	}
	nreg = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi, off, ino;
		char perms[5], dev[16], name[256] = "";

		if (sscanf(line, "%lx-%lx %4s %lx %15s %lu %255s", &lo, &hi, perms,
			   &off, dev, &ino, name) < 6)
			continue;
		if (strcmp(perms, "rw-p") || (name[0] && strcmp(name, "[heap]") &&
					      strncmp(name, "[anon:", 6)))
			continue;
		reg = realloc(reg, (nreg + 1) * sizeof(*reg));
		reg[nreg].lo = lo;
		reg[nreg].hi = hi;
		nreg++;
	}
	fclose(f);
}

static int stop_all(pid_t *tids, int *ntids)
{
	char path[64];
	int n = 0, again = 1;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	while (again) {
		DIR *d = opendir(path);
		struct dirent *e;

		if (!d)
			return -1;
		again = 0;
		while ((e = readdir(d))) {
			pid_t tid = atoi(e->d_name);
			int k, st;

			if (tid <= 0)
				continue;
			for (k = 0; k < n && tids[k] != tid; k++)
				;
			if (k < n || n == MAXT)
				continue;
			if (ptrace(PTRACE_SEIZE, tid, 0, 0) < 0)
				continue;
			ptrace(PTRACE_INTERRUPT, tid, 0, 0);
			waitpid(tid, &st, __WALL);
			tids[n++] = tid;
			again = 1;
		}
		closedir(d);
	}
	*ntids = n;
	return 0;
}

static void *copier(void *arg)
{
	(void)arg;
	for (;;) {
		size_t i = atomic_fetch_add(&next_piece, 1);
		struct region *r;
		struct iovec l, rv;
		size_t len;
		ssize_t got;

		if (i >= npieces)
			return NULL;
		r = &reg[piece_reg[i]];
		len = r->hi - r->lo - piece_off[i];
		if (len > PIECE)
			len = PIECE;
		l.iov_base = dst + r->off + piece_off[i];
		l.iov_len = len;
		rv.iov_base = (void *)(r->lo + piece_off[i]);
		rv.iov_len = len;
		got = process_vm_readv(pid, &l, 1, &rv, 1, 0);
		if (got > 0)
			atomic_fetch_add(&copied, (size_t)got);
	}
}

int main(int argc, char **argv)
{
	int nthreads = 1, repeats = 3, c;
	static pid_t tids[MAXT];

	while ((c = getopt(argc, argv, "t:r:")) != -1) {
		if (c == 't')
			nthreads = atoi(optarg);
		else if (c == 'r')
			repeats = atoi(optarg);
		else
			goto usage;
	}
	if (optind + 1 != argc || nthreads < 1 || nthreads > 64) {
usage:
		fprintf(stderr, "usage: copyfloor [-t threads] [-r repeats] PID\n");
		return 64;
	}
	pid = atoi(argv[optind]);

	for (int rep = 0; rep < repeats; rep++) {
		pthread_t th[64];
		size_t total = 0, map_len;
		unsigned char *map;
		double t0, t1, t2, t3;
		int ntids;

		read_maps();
		npieces = 0;
		for (size_t i = 0; i < nreg; i++) {
			reg[i].off = total;
			total += reg[i].hi - reg[i].lo;
			npieces += (reg[i].hi - reg[i].lo + PIECE - 1) / PIECE;
		}
		piece_reg = realloc(piece_reg, npieces * sizeof(size_t));
		piece_off = realloc(piece_off, npieces * sizeof(size_t));
		npieces = 0;
		for (size_t i = 0; i < nreg; i++)
			for (size_t o = 0; o < reg[i].hi - reg[i].lo; o += PIECE) {
				piece_reg[npieces] = i;
				piece_off[npieces++] = o;
			}

		t0 = now_ms();
		map_len = total + (2ul << 20);
		map = mmap(NULL, map_len, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (map == MAP_FAILED) {
			perror("mmap");
			return 2;
		}
		dst = (unsigned char *)(((uintptr_t)map + (2ul << 20) - 1) &
					~(uintptr_t)((2ul << 20) - 1));
		madvise(dst, total, MADV_HUGEPAGE);
		for (size_t o = 0; o < total; o += 4096)
			dst[o] = 0;

		t1 = now_ms();
		if (stop_all(tids, &ntids) < 0) {
			fprintf(stderr, "copyfloor: process %d: %s\n", pid, strerror(errno));
			return 2;
		}
		t2 = now_ms();
		atomic_store(&next_piece, 0);
		atomic_store(&copied, 0);
		for (int i = 1; i < nthreads; i++)
			pthread_create(&th[i], NULL, copier, NULL);
		copier(NULL);
		for (int i = 1; i < nthreads; i++)
			pthread_join(th[i], NULL);
		for (int i = 0; i < ntids; i++)
			ptrace(PTRACE_DETACH, tids[i], 0, 0);
		t3 = now_ms();
		printf("threads %d copy-threads %d bytes %zu prefault_ms %.1f stop_ms %.1f "
		       "copy_ms %.1f stopped_ms %.1f GB/s %.2f\n", ntids, nthreads,
		       (size_t)atomic_load(&copied), t1 - t0, t2 - t1, t3 - t2, t3 - t1,
		       atomic_load(&copied) / ((t3 - t2) * 1e6));
		fflush(stdout);
		munmap(map, map_len);
		usleep(300000);
	}
	return 0;
}
