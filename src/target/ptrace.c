/*
 * ptrace.c - the live backend: seize, stop, copy, detach.
 *
 * Model (after gdb's linux_proc_attach_tgid_threads and CRIU's compel):
 * every thread of the process is seized with PTRACE_SEIZE (no signal is
 * sent, unlike PTRACE_ATTACH) and stopped with PTRACE_INTERRUPT. Threads
 * can be created while we work, so /proc/PID/task is scanned again until a
 * pass finds no thread we have not stopped; a stopped thread cannot create
 * new ones, so the loop ends.
 *
 * Stops and what we do with them (ptrace(2), "Stopped states"):
 *   PTRACE_EVENT_STOP, SIGTRAP    our interrupt: the thread is parked.
 *   PTRACE_EVENT_STOP, SIGSTOP..  group-stop: the process was being stopped
 *                                 (kill -STOP) before or while we came. We
 *                                 never PTRACE_CONT such a thread; detaching
 *                                 leaves it in its group-stop, as it was.
 *   signal-delivery-stop          a signal arrived for the thread. We hand it
 *                                 straight back (PTRACE_CONT with the signal)
 *                                 and wait for our interrupt: swallowing it
 *                                 would lose a real signal.
 *
 * Guarantees: the process is read, never written (no POKE, no SETREGS:
 * see check-no-poke). Every seized thread is detached by live_detach(),
 * which target_close() calls on every path; the CLI's signal handlers call
 * live_emergency_detach(); and if heapgrab is killed outright the kernel
 * resumes seized threads itself (doc/glibc-malloc.md §10).
 *
 * Side effect that cannot be avoided: a thread blocked in epoll_wait()
 * returns EINTR after the stop (read(), poll(), nanosleep() restart
 * transparently). Documented in heapgrab(1).
 */
#include "config.h"
#include "target/ptrace.h"
#include "util/errors.h"
#include "util/workers.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * How long we wait for one thread to report its stop. A thread in
 * uninterruptible sleep (D state, e.g. on NFS) reports only when the sleep
 * ends; past this bound we give up on the snapshot and detach.
 */
#define STOP_TIMEOUT_MS 5000
/* Bound on /proc/PID/task rescans: a process spawning threads faster than
 * we can stop them is refused rather than chased forever. */
#define MAX_SCAN_PASSES 100
/* process_vm_readv piece size: 1 MiB pieces measured fastest here. */
#define COPY_PIECE (1u << 20)

struct live_thread {
	int tid;
	bool stopped;		/* in a ptrace-stop we caused or accepted */
	bool group_stop;	/* that stop is a group-stop: never resume */
	bool gone;		/* exited while we held it */
};

/* A destination mapping allocated and faulted in before the stop. */
struct prebuf {
	taddr_t start, end;
	unsigned char *buf;	/* BUF_ALIGN aligned inside the mapping */
	void *map;
	size_t map_len;
};

struct live {
	int pid;
	int read_pid;		/* whose memory raw_read() reads: pid, or a
				 * fork snapshot's child (live_freeze_from) */
	struct prebuf *pre;
	size_t nr_pre;
	struct workers *workers;	/* copy threads, or NULL */
	struct populate *populating;	/* live_prepare() still at work */
	struct stream *stream;		/* live_stream(): reading in place */
	struct live_thread *th;	/* parallel to target->threads */
	size_t nr, alloc;
	bool stopped;
	struct memimage *frozen;
	int memfd;		/* /proc/PID/mem, opened on first need */
	bool use_memfd;		/* process_vm_readv unusable here */
	bool saved_use_memfd;	/* the target's, while reading a child */
};

/* ---- emergency detach registry (async-signal-safe) ---- */

/* Fixed size so a signal handler never sees a half-reallocated array.
 * Threads beyond this are still detached by the kernel when we exit. */
#define EMERG_MAX 16384
static volatile int emerg_tids[EMERG_MAX];
static volatile sig_atomic_t emerg_nr;

static void emerg_add(int tid)
{
	if (emerg_nr < EMERG_MAX) {
		emerg_tids[emerg_nr] = tid;
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		emerg_nr = emerg_nr + 1;
	}
}

static void emerg_clear(void)
{
	emerg_nr = 0;
}

void live_emergency_detach(void)
{
	sig_atomic_t n = emerg_nr;

	for (sig_atomic_t i = 0; i < n; i++) {
		int tid = emerg_tids[i];

		/* A running (resumed) thread cannot be detached without a stop;
		 * interrupting it first is the best we can do here, and the
		 * kernel finishes the job when we exit. */
		if (ptrace(PTRACE_DETACH, tid, 0, 0) < 0) {
			ptrace(PTRACE_INTERRUPT, tid, 0, 0);
			for (int k = 0; k < 1000; k++) {
				int st;

				if (waitpid(tid, &st, __WALL | WNOHANG) != 0)
					break;
			}
			ptrace(PTRACE_DETACH, tid, 0, 0);
		}
	}
	emerg_nr = 0;
}

/* ---- helpers ---- */

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void short_sleep(unsigned round)
{
	struct timespec ts = { 0, round < 20 ? 20000 : 200000 };

	if (round < 4)
		sched_yield();
	else
		nanosleep(&ts, NULL);
}

/* Read /proc/PID/task/TID/stat's state letter; 0 if unreadable. */
static char thread_state(int pid, int tid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return 0;
	return p[2];
}

/* TracerPid of PID from /proc/PID/status, -1 if unknown. */
static int tracer_pid(int pid)
{
	char path[64], line[256];
	FILE *f;
	int tracer = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "TracerPid: %d", &tracer) == 1)
			break;
	fclose(f);
	return tracer;
}

static int proc_exists(int pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d", pid);
	return access(path, F_OK) == 0;
}

static struct live *L(const struct target *t)
{
	return t->priv;
}

static void populate_wait(struct live *l);

static ssize_t find_thread(const struct live *l, int tid)
{
	for (size_t i = 0; i < l->nr; i++)
		if (l->th[i].tid == tid)
			return (ssize_t)i;
	return -1;
}

/* ---- /proc/PID/maps ---- */

static int parse_maps(int pid, struct target_region **ret, size_t *ret_nr)
{
	char path[64];
	char *line = NULL;
	size_t linecap = 0;
	struct target_region *r = NULL;
	size_t nr = 0, alloc = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return -HG_E_NO_PROCESS;
		if (errno == EACCES || errno == EPERM)
			return -HG_E_NOT_PERMITTED;
		return -errno;
	}
	while (getline(&line, &linecap, f) > 0) {
		unsigned long long start, end, off;
		char perms[8];
		int pathpos = 0;
		struct target_region *x;
		char *p;
		size_t len;

		if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %n",
			   &start, &end, perms, &off, &pathpos) < 4)
			continue;
		ALLOC_GROW(r, nr + 1, alloc);
		x = &r[nr++];
		memset(x, 0, sizeof(*x));
		x->start = start;
		x->end = end;
		x->offset = off;
		x->prot = (perms[0] == 'r' ? TARGET_PROT_READ : 0) |
			  (perms[1] == 'w' ? TARGET_PROT_WRITE : 0) |
			  (perms[2] == 'x' ? TARGET_PROT_EXEC : 0);
		x->shared = perms[3] == 's';
		p = line + pathpos;
		len = strlen(p);
		while (len && (p[len - 1] == '\n' || p[len - 1] == ' '))
			len--;
		if (len) {
			static const char del[] = " (deleted)";

			if (len > sizeof(del) - 1 && p[0] == '/' &&
			    !memcmp(p + len - (sizeof(del) - 1), del, sizeof(del) - 1)) {
				x->deleted = true;
				len -= sizeof(del) - 1;
			}
			x->path = xstrndup(p, len);
		}
	}
	free(line);
	fclose(f);
	*ret = r;
	*ret_nr = nr;
	return 0;
}

int live_refresh_maps(struct target *t)
{
	struct target_region *r;
	size_t nr;
	int err = parse_maps(t->pid, &r, &nr);

	if (err < 0)
		return err == -HG_E_NO_PROCESS ? -HG_E_TARGET_GONE : err;
	target_set_regions(t, r, nr);
	return 0;
}

/* ---- reading ---- */

static bool worth_copying(const struct target_region *r);

static int errno_to_hg(int e)
{
	switch (e) {
	case ESRCH:
		return -HG_E_TARGET_GONE;
	case EPERM:
	case EACCES:
		return -HG_E_NOT_PERMITTED;
	case EFAULT:
	case EIO:
		return -HG_E_UNREADABLE;
	default:
		return -e;
	}
}

/*
 * Whose memory a read goes to, and how. raw_read() settles the way on the
 * first read (process_vm_readv, or /proc/PID/mem where that is refused)
 * and opens the file; after that a copy of the struct is all the copy
 * threads need (reader_read() changes nothing, pread is positional).
 */
struct reader {
	int pid;
	bool use_memfd;
	int memfd;
};

/* Returns bytes read (maybe short), 0 when nothing is left to read (the
 * process lost the memory), or a negative error. Thread-safe. */
static ssize_t reader_read(const struct reader *r, taddr_t addr, void *buf, size_t len)
{
	if (!r->use_memfd) {
		struct iovec local = { buf, len };
		struct iovec remote = { (void *)(uintptr_t)addr, len };
		ssize_t n = process_vm_readv(r->pid, &local, 1, &remote, 1, 0);

		return n >= 0 ? n : errno_to_hg(errno);
	}
	for (;;) {
		ssize_t n = pread(r->memfd, buf, len, (off_t)addr);

		if (n >= 0)
			return n;
		if (errno != EINTR)
			return errno_to_hg(errno);
	}
}

/* Read from the live process: process_vm_readv, or /proc/PID/mem where
 * process_vm_readv is unavailable (ENOSYS, or refused by a seccomp or LSM
 * policy that still allows ptrace). Returns bytes read (maybe short) or a
 * negative error when nothing could be read. */
static ssize_t raw_read(struct live *l, taddr_t addr, void *buf, size_t len)
{
	struct reader r = { l->read_pid, l->use_memfd, l->memfd };

	if (!l->use_memfd) {
		ssize_t n = reader_read(&r, addr, buf, len);

		if (n != -HG_E_NOT_PERMITTED && n != -ENOSYS)
			return n;
		l->use_memfd = true;
	}
	if (l->memfd < 0) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/mem", l->read_pid);
		l->memfd = open(path, O_RDONLY | O_CLOEXEC);
		if (l->memfd < 0)
			return errno_to_hg(errno == ENOENT ? ESRCH : errno);
	}
	r.use_memfd = true;
	r.memfd = l->memfd;
	return reader_read(&r, addr, buf, len);
}

static int stream_read(struct target *t, taddr_t addr, void *buf, size_t len);
static const void *stream_map(struct target *t, taddr_t addr, size_t len);

static int live_read(struct target *t, taddr_t addr, void *buf, size_t len)
{
	struct live *l = L(t);
	unsigned char *p = buf;

	if (l->stream)
		return stream_read(t, addr, buf, len);
	if (l->frozen) {
		const struct target_region *r;

		if (memimage_read(l->frozen, addr, buf, len) == 0)
			return 0;
		/* Writable memory was frozen on purpose (what is missing was
		 * unreadable or a stack's dead part): never mix in bytes from
		 * a later moment. Read-only file mappings (RELRO, text) do not
		 * change and may still be read from the process. */
		r = target_region_of(t, addr);
		if (!r || worth_copying(r))
			return -HG_E_UNREADABLE;
	}
	while (len) {
		ssize_t n = raw_read(l, addr, p, len);

		if (n < 0)
			return (int)n;
		if (n == 0)
			return proc_exists(l->pid) ? -HG_E_UNREADABLE : -HG_E_TARGET_GONE;
		p += n;
		addr += (taddr_t)n;
		len -= (size_t)n;
	}
	return 0;
}

/* Remote iovecs per process_vm_readv (the kernel's UIO_MAXIOV). */
#define STRIDED_IOV 1024

/* target_read_strided(): one process_vm_readv per STRIDED_IOV pieces. */
static long live_read_strided(struct target *t, taddr_t addr, size_t stride, size_t len,
			      size_t count, void *buf)
{
	struct live *l = L(t);
	unsigned char *out = buf;
	size_t done = 0;

	while (done < count) {
		struct iovec remote[STRIDED_IOV], local;
		size_t k = MIN(count - done, (size_t)STRIDED_IOV);
		ssize_t n;

		if (l->frozen || l->use_memfd)
			break;
		for (size_t i = 0; i < k; i++) {
			remote[i].iov_base = (void *)(uintptr_t)(addr + (done + i) * stride);
			remote[i].iov_len = len;
		}
		local.iov_base = out + done * len;
		local.iov_len = k * len;
		n = process_vm_readv(l->read_pid, &local, 1, remote, k, 0);
		if (n < 0 && (errno == ENOSYS || errno == EPERM))
			break;	/* piece by piece below, through /proc/PID/mem */
		if (n < 0)
			return errno == ESRCH ? -HG_E_TARGET_GONE : (long)done;
		done += (size_t)n / len;
		if ((size_t)n < k * len)
			return (long)done;
	}
	for (; done < count; done++) {
		int err = live_read(t, addr + done * stride, out + done * len, len);

		if (err == -HG_E_TARGET_GONE)
			return err;
		if (err < 0)
			break;
	}
	return (long)done;
}

static const void *live_map(struct target *t, taddr_t addr, size_t len)
{
	struct live *l = L(t);

	if (l->stream)
		return stream_map(t, addr, len);
	return l->frozen ? memimage_map(l->frozen, addr, len) : NULL;
}

/* ---- stopping ---- */

static int getregs(struct target *t, size_t i)
{
	if (ptrace(PTRACE_GETREGS, L(t)->th[i].tid, 0, &t->threads[i].regs) < 0)
		return errno_to_hg(errno);
	return 0;
}

/*
 * Wait until thread I is in a ptrace-stop we can read. Signals reported to
 * us on the way are handed back. Returns 0 (stopped, or the thread exited:
 * ->gone), -HG_E_TIMEOUT, or another error.
 */
static int wait_stop(struct target *t, size_t i)
{
	struct live_thread *th = &L(t)->th[i];
	long deadline = now_ms() + STOP_TIMEOUT_MS;
	unsigned round = 0;

	for (;;) {
		int st;
		pid_t r = waitpid(th->tid, &st, __WALL | WNOHANG);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ECHILD) {
				th->gone = true;
				return 0;
			}
			return -errno;
		}
		if (r == 0) {
			if (now_ms() > deadline)
				return -HG_E_TIMEOUT;
			short_sleep(round++);
			continue;
		}
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			th->gone = true;
			return 0;
		}
		if (!WIFSTOPPED(st))
			continue;
		if ((st >> 16) == PTRACE_EVENT_STOP) {
			int sig = WSTOPSIG(st);

			th->stopped = true;
			th->group_stop = sig == SIGSTOP || sig == SIGTSTP ||
					 sig == SIGTTIN || sig == SIGTTOU;
			return 0;
		}
		if ((st >> 16) == 0) {
			/* signal-delivery-stop: deliver it; our interrupt
			 * is still pending and will stop the thread. */
			if (ptrace(PTRACE_CONT, th->tid, 0, WSTOPSIG(st)) < 0 &&
			    errno != ESRCH)
				return -errno;
			continue;
		}
		/* Another ptrace event (we set no options): resume quietly. */
		if (ptrace(PTRACE_CONT, th->tid, 0, 0) < 0 && errno != ESRCH)
			return -errno;
	}
}

static int list_tasks(int pid, int **ret, size_t *ret_nr)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int *v = NULL;
	size_t nr = 0, alloc = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? -HG_E_TARGET_GONE : -errno;
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		ALLOC_GROW(v, nr + 1, alloc);
		v[nr++] = atoi(de->d_name);
	}
	closedir(d);
	*ret = v;
	*ret_nr = nr;
	return 0;
}

static int seize_one(struct target *t, int tid)
{
	struct live *l = L(t);
	size_t i;

	if (ptrace(PTRACE_SEIZE, tid, 0, 0) < 0) {
		int e = errno;

		if (e == ESRCH)
			return 1;	/* exited meanwhile: not ours to stop */
		if (e == EPERM) {
			int tracer = tracer_pid(t->pid);

			if (tracer > 0 && tracer != getpid())
				return -HG_E_ALREADY_TRACED;
			/* A zombie (exiting) thread cannot be seized; one in
			 * the middle of exiting becomes a zombie in a moment. */
			for (int k = 0; k < 20; k++) {
				char st = thread_state(t->pid, tid);
				struct timespec ts = { 0, 5 * 1000 * 1000 };

				if (!st || st == 'Z' || st == 'X')
					return 1;
				nanosleep(&ts, NULL);
			}
			return -HG_E_NOT_PERMITTED;
		}
		return -e;
	}
	emerg_add(tid);
	ALLOC_GROW(l->th, l->nr + 1, l->alloc);
	t->threads = xrealloc(t->threads, st_mult(l->alloc, sizeof(*t->threads)));
	i = l->nr++;
	memset(&l->th[i], 0, sizeof(l->th[i]));
	memset(&t->threads[i], 0, sizeof(t->threads[i]));
	l->th[i].tid = tid;
	t->threads[i].tid = tid;
	t->nr_threads = l->nr;
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0 && errno != ESRCH)
		return -errno;
	return 0;
}

/* Drop threads that exited while we held them from both arrays. */
static void compact_threads(struct target *t)
{
	struct live *l = L(t);
	size_t j = 0;

	for (size_t i = 0; i < l->nr; i++) {
		if (l->th[i].gone)
			continue;
		l->th[j] = l->th[i];
		t->threads[j] = t->threads[i];
		j++;
	}
	l->nr = j;
	t->nr_threads = j;
}

int live_stop(struct target *t)
{
	struct live *l = L(t);
	int err = 0;

	/* The copy buffers are ready before the target stops. */
	populate_wait(l);

	for (unsigned pass = 0; pass < MAX_SCAN_PASSES; pass++) {
		int *tids = NULL;
		size_t nr = 0, added = 0;

		err = list_tasks(t->pid, &tids, &nr);
		if (err < 0)
			goto fail;
		for (size_t k = 0; k < nr; k++) {
			if (find_thread(l, tids[k]) >= 0)
				continue;
			err = seize_one(t, tids[k]);
			if (err < 0) {
				free(tids);
				goto fail;
			}
			if (err == 0)
				added++;
		}
		free(tids);
		l->stopped = true;
		for (size_t i = 0; i < l->nr; i++) {
			if (l->th[i].stopped || l->th[i].gone)
				continue;
			err = wait_stop(t, i);
			if (err < 0)
				goto fail;
		}
		if (!added && pass > 0)
			break;
		if (pass == MAX_SCAN_PASSES - 1) {
			err = -HG_E_BUSY;
			goto fail;
		}
	}
	compact_threads(t);
	if (!l->nr || find_thread(l, t->pid) < 0) {
		/* The leader may be a zombie after pthread_exit(); the process
		 * lives on while other threads do. Only "no thread at all" is
		 * a gone process. */
		if (!l->nr) {
			err = -HG_E_TARGET_GONE;
			goto fail;
		}
	}
	for (size_t i = 0; i < l->nr; i++) {
		err = getregs(t, i);
		if (err < 0)
			goto fail;
	}
	err = live_refresh_maps(t);
	if (err < 0)
		goto fail;
	return 0;
fail:
	live_detach(t);
	if (err == -HG_E_NOT_PERMITTED || err == -HG_E_TARGET_GONE ||
	    err == -HG_E_ALREADY_TRACED)
		return !proc_exists(t->pid) ? -HG_E_TARGET_GONE : err;
	return err;
}

int live_resume_some(struct target *t, const bool *which)
{
	struct live *l = L(t);

	for (size_t i = 0; i < l->nr; i++) {
		struct live_thread *th = &l->th[i];

		if (!which[i] || !th->stopped || th->group_stop || th->gone)
			continue;
		if (ptrace(PTRACE_CONT, th->tid, 0, 0) < 0) {
			if (errno == ESRCH) {
				th->gone = true;
				continue;
			}
			return -errno;
		}
		th->stopped = false;
	}
	return 0;
}

int live_interrupt_some(struct target *t, const bool *which)
{
	struct live *l = L(t);
	int err;

	for (size_t i = 0; i < l->nr; i++) {
		struct live_thread *th = &l->th[i];

		if (!which[i] || th->stopped || th->gone)
			continue;
		if (ptrace(PTRACE_INTERRUPT, th->tid, 0, 0) < 0 && errno != ESRCH)
			return -errno;
	}
	for (size_t i = 0; i < l->nr; i++) {
		if (!which[i] || l->th[i].stopped || l->th[i].gone)
			continue;
		err = wait_stop(t, i);
		if (err < 0)
			return err;
		if (!l->th[i].gone) {
			err = getregs(t, i);
			if (err < 0)
				return err;
		}
	}
	/* Keep which[] indices valid: gone threads stay in the arrays (with
	 * stale registers) until detach; callers skip them via
	 * live_thread_syscall() == -2. */
	return 0;
}

long live_thread_syscall(const struct target *t, size_t i)
{
	const struct live *l = L(t);

	if (i >= l->nr || l->th[i].gone)
		return -2;
	return (long)t->threads[i].regs.orig_rax;
}

bool live_thread_parked(const struct target *t, size_t i)
{
	const struct live *l = L(t);

	return i < l->nr && l->stopped && l->th[i].stopped && !l->th[i].group_stop &&
	       !l->th[i].gone;
}

bool live_process_exited(int pid)
{
	char st = thread_state(pid, pid);

	return !proc_exists(pid) || st == 'Z' || st == 'X';
}

bool live_is_stopped(const struct target *t)
{
	return L(t)->stopped;
}

void live_detach(struct target *t)
{
	struct live *l = L(t);

	if (!l || !l->stopped)
		return;
	for (size_t i = 0; i < l->nr; i++) {
		struct live_thread *th = &l->th[i];

		if (th->gone)
			continue;
		if (!th->stopped) {
			/* Resumed and not stopped again (error path): a
			 * detach needs a ptrace-stop. */
			if (ptrace(PTRACE_INTERRUPT, th->tid, 0, 0) == 0)
				(void)wait_stop(t, i);
		}
		if (th->gone)
			continue;
		ptrace(PTRACE_DETACH, th->tid, 0, 0);
		th->stopped = false;
	}
	emerg_clear();
	l->stopped = false;
}

/* ---- freezing ---- */

/* Regions whose bytes the analysis needs from the stopped instant. */
static bool worth_copying(const struct target_region *r)
{
	if ((r->prot & (TARGET_PROT_READ | TARGET_PROT_WRITE)) !=
	    (TARGET_PROT_READ | TARGET_PROT_WRITE) || r->shared)
		return false;
	if (!r->path || r->path[0] == '/')
		return true;
	return !strcmp(r->path, "[heap]") || !strncmp(r->path, "[stack", 6) ||
	       !strncmp(r->path, "[anon:", 6);
}

/*
 * The copy under the stop, in parallel.
 *
 * process_vm_readv copies at one core's memcpy speed (about 5-7 GB/s
 * here), so one thread copies a 1 GiB heap in about 175 ms. The ranges to
 * copy ("jobs", in address order) are cut into one share of bytes per
 * thread (as many threads as CPUs, up to COPY_THREADS_MAX, none for less
 * than SHARE_MIN); each thread reads its share in COPY_PIECE pieces into
 * the job's destination and notes the pages it could not read ("holes").
 * When all are done, the calling thread turns each job into memimage
 * segments, the runs between its holes: a page that cannot be read (a
 * file mapping past EOF, memory unmapped since the maps were read) is a
 * hole in the image, and reads of it fail, as they would have in the
 * process. The result is the same image, byte for byte, whatever the
 * number of threads (HEAPGRAB_THREADS=N forces N, for tests and
 * benchmarks).
 *
 * Destinations. A job of at least PREPARE_MIN bytes gets a mapping of its
 * own before the stop (live_prepare), faulted in there by the same
 * threads, each its share (MADV_POPULATE_WRITE: one system call instead
 * of a touch per page): faulting in destination pages under the stop was
 * most of the copy time once measured, and on a VM the first touch of a
 * page the host has not backed costs several times a memcpy of it. Huge
 * pages are not asked for: on this kind of VM a fresh 2 MiB page cost
 * 12 ms to fault in (6 s per GiB, against 1 s in 4 KiB pages), and the
 * first run of heapgrab is the one that meets fresh memory. Smaller jobs
 * (the live part of a thread stack, data of libraries) are malloc'd in
 * the stop. The image borrows the prepared mappings (no byte is copied
 * twice) and unmaps them when it is destroyed.
 */
#define COPY_THREADS_MAX 8
#define SHARE_MIN (4u << 20)
#define PREPARE_MIN (16u << 20)
#define BUF_ALIGN (2u << 20)
#define PAGE_SZ 4096u
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23	/* Linux 5.14 */
#endif

struct cjob {
	taddr_t start, end;
	unsigned char *dst;
	bool prepared;		/* dst lies in a prepared mapping */
	bool in_zero;		/* ... of a zero range: no segment of its own */
};

struct chole {
	taddr_t start, end;
};

struct cshare {
	struct chole *holes;
	size_t nr, alloc;
	int err;
};

struct copy {
	struct reader rd;
	const struct cjob *jobs;
	size_t nr;
	uint64_t total;		/* bytes of all jobs */
	unsigned nw;		/* shares */
	struct cshare share[WORKERS_MAX];
};

/* Threads for a job of BYTES bytes. */
static unsigned copy_threads(uint64_t bytes)
{
	const char *s = getenv("HEAPGRAB_THREADS");
	unsigned n;

	if (s && *s) {
		char *e;
		unsigned long v = strtoul(s, &e, 10);

		if (!*e && v >= 1 && v <= WORKERS_MAX)
			return (unsigned)v;
	}
	n = MIN(workers_cpus(), COPY_THREADS_MAX);
	if (bytes / SHARE_MIN + 1 < n)
		n = (unsigned)(bytes / SHARE_MIN + 1);
	return MAX(n, 1u);
}

/* The live backend's threads, at least N of them (or none: run inline). */
static struct workers *get_workers(struct live *l, unsigned n)
{
	if (n <= 1)
		return NULL;
	populate_wait(l);
	if (l->workers && workers_count(l->workers) >= n)
		return l->workers;
	workers_free(l->workers);
	l->workers = workers_new(n);
	return l->workers;
}

/* Byte offset where share I of NW starts in TOTAL: page-aligned cuts. */
static uint64_t share_start(uint64_t total, unsigned i, unsigned nw)
{
	if (i >= nw)
		return total;
	return (total / nw * i) & ~(uint64_t)(PAGE_SZ - 1);
}

static void add_hole(struct cshare *sh, taddr_t start, taddr_t end)
{
	ALLOC_GROW(sh->holes, sh->nr + 1, sh->alloc);
	sh->holes[sh->nr].start = start;
	sh->holes[sh->nr].end = end;
	sh->nr++;
}

/* Copy [A, E) of job J. 0, or -HG_E_TARGET_GONE. */
static int copy_part(const struct copy *c, struct cshare *sh, const struct cjob *j,
		     taddr_t a, taddr_t e)
{
	while (a < e) {
		size_t want = (size_t)MIN((taddr_t)COPY_PIECE, e - a);
		ssize_t n = reader_read(&c->rd, a, j->dst + (a - j->start), want);
		taddr_t next;

		if (n == -HG_E_TARGET_GONE)
			return (int)n;
		if (n > 0) {
			a += (taddr_t)n;
			continue;
		}
		/* Unreadable: one page (to its end) becomes a hole. */
		next = MIN(e, (a + PAGE_SZ) & ~(taddr_t)(PAGE_SZ - 1));
		add_hole(sh, a, next);
		a = next;
	}
	return 0;
}

static void copy_share(void *arg, unsigned i)
{
	struct copy *c = arg;
	struct cshare *sh = &c->share[i];
	uint64_t lo = share_start(c->total, i, c->nw), hi = share_start(c->total, i + 1, c->nw);
	uint64_t off = 0;

	for (size_t k = 0; k < c->nr && off < hi; k++) {
		const struct cjob *j = &c->jobs[k];
		uint64_t len = j->end - j->start;
		uint64_t a = MAX(lo, off), e = MIN(hi, off + len);

		if (a < e) {
			sh->err = copy_part(c, sh, j, j->start + (a - off), j->start + (e - off));
			if (sh->err < 0)
				return;
		}
		off += len;
	}
}

/* A prepared destination covering [START, END), or NULL. */
static struct prebuf *find_prebuf(struct live *l, taddr_t start, taddr_t end)
{
	for (size_t i = 0; i < l->nr_pre; i++)
		if (l->pre[i].start <= start && end <= l->pre[i].end)
			return &l->pre[i];
	return NULL;
}

static int cmp_hole(const void *a, const void *b)
{
	const struct chole *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Put [START, END) of job J into M: borrowed from a prepared mapping, or
 * a malloc'd copy of that part. */
static void put_run(struct memimage *m, const struct cjob *j, taddr_t start, taddr_t end)
{
	size_t len = (size_t)(end - start);
	unsigned char *src = j->dst + (start - j->start);
	void *part;

	if (j->prepared) {
		memimage_put_borrowed(m, start, src, len);
		return;
	}
	part = xmalloc(len);
	memcpy(part, src, len);
	memimage_put(m, start, part, len);
}

/*
 * Copy JOBS (sorted, non-overlapping; destinations set) into a new image
 * L->frozen, which also gets ZERO (sorted; ZERO[i] lies in L->pre[ZPRE[i]])
 * as whole segments. *RET_BYTES: the bytes read. Every job's
 * malloc'd destination is consumed (owned by the image or freed), on
 * error too.
 */
static int copy_jobs(struct live *l, struct cjob *jobs, size_t nr, const struct target_range *zero,
		     const size_t *zpre, size_t nr_zero, uint64_t *ret_bytes)
{
	struct copy *c = xcalloc(1, sizeof(*c));
	struct chole *holes = NULL;
	size_t nr_holes = 0, h = 0;
	struct workers *w;
	int err = 0;

	c->jobs = jobs;
	c->nr = nr;
	for (size_t k = 0; k < nr; k++)
		c->total += jobs[k].end - jobs[k].start;
	/* Settle how the process is read (raw_read() may switch to
	 * /proc/PID/mem) before the threads take a copy of the reader. */
	if (nr) {
		unsigned char probe;

		if (raw_read(l, jobs[0].start, &probe, 1) == -HG_E_TARGET_GONE) {
			err = -HG_E_TARGET_GONE;
			goto out;
		}
	}
	c->rd = (struct reader){ l->read_pid, l->use_memfd, l->memfd };
	c->nw = copy_threads(c->total);
	w = get_workers(l, c->nw);
	if (w)
		workers_run(w, copy_share, c);
	else
		for (unsigned i = 0; i < c->nw; i++)
			copy_share(c, i);
	for (unsigned i = 0; i < c->nw; i++) {
		if (c->share[i].err < 0)
			err = c->share[i].err;
		nr_holes += c->share[i].nr;
	}
	if (err < 0)
		goto out;
	holes = xmalloc(st_mult(nr_holes ? nr_holes : 1, sizeof(*holes)));
	nr_holes = 0;
	for (unsigned i = 0; i < c->nw; i++) {
		memcpy(holes + nr_holes, c->share[i].holes, c->share[i].nr * sizeof(*holes));
		nr_holes += c->share[i].nr;
	}
	qsort(holes, nr_holes, sizeof(*holes), cmp_hole);
	*ret_bytes = c->total;
	for (size_t i = 0; i < nr_holes; i++)
		*ret_bytes -= holes[i].end - holes[i].start;
	l->frozen = memimage_create();
	for (size_t i = 0; i < nr_zero; i++) {
		const struct prebuf *pb = &l->pre[zpre[i]];

		memimage_put_borrowed(l->frozen, zero[i].start, pb->buf + (zero[i].start - pb->start),
				      (size_t)(zero[i].end - zero[i].start));
	}
	for (size_t k = 0; k < nr; k++) {
		struct cjob *j = &jobs[k];
		taddr_t cur = j->start;

		if (j->in_zero) {
			/* its bytes are in the zero range's segment; a page
			 * that did not read stays zero there */
			while (h < nr_holes && holes[h].start < j->end)
				h++;
			continue;
		}
		if (h == nr_holes || holes[h].start >= j->end) {
			/* no hole: the whole job, without a copy */
			if (j->prepared)
				memimage_put_borrowed(l->frozen, j->start, j->dst,
						      (size_t)(j->end - j->start));
			else
				memimage_put(l->frozen, j->start, j->dst, (size_t)(j->end - j->start));
			j->dst = NULL;
			continue;
		}
		for (; h < nr_holes && holes[h].start < j->end; h++) {
			if (holes[h].start > cur)
				put_run(l->frozen, j, cur, holes[h].start);
			cur = MAX(cur, holes[h].end);
		}
		if (cur < j->end)
			put_run(l->frozen, j, cur, j->end);
	}
out:
	for (size_t k = 0; k < nr; k++)
		if (!jobs[k].prepared)
			free(jobs[k].dst);
	for (unsigned i = 0; i < WORKERS_MAX; i++)
		free(c->share[i].holes);
	free(holes);
	free(c);
	return err;
}

/* Give job J its destination: a prepared mapping, else malloc (not
 * xmalloc: a heapgrab under a memory limit fails cleanly and detaches).
 * 0 or -ENOMEM. */
static int set_dst(struct live *l, struct cjob *j)
{
	struct prebuf *pb = find_prebuf(l, j->start, j->end);

	j->prepared = pb != NULL;
	j->dst = pb ? pb->buf + (j->start - pb->start) : malloc((size_t)(j->end - j->start));
	return j->dst ? 0 : -ENOMEM;
}

/* Free the malloc'd destinations of the first NR jobs. */
static void free_dsts(struct cjob *jobs, size_t nr)
{
	for (size_t k = 0; k < nr; k++)
		if (!jobs[k].prepared)
			free(jobs[k].dst);
}

/* Faulting in prepared mappings: runs in the copy threads while the
 * caller goes on (live_prepare() to populate_wait()). */
struct pjob {
	unsigned char *p;
	size_t len;
};

struct populate {
	struct pjob *jobs;
	size_t nr;
	uint64_t total;
	unsigned nw;
};

static void populate_range(unsigned char *p, size_t len)
{
	if (madvise(p, len, MADV_POPULATE_WRITE) == 0)
		return;
	/* Before Linux 5.14: one write per page. */
	for (size_t off = 0; off < len; off += PAGE_SZ)
		((volatile unsigned char *)p)[off] = 0;
}

static void populate_share(void *arg, unsigned i)
{
	const struct populate *pp = arg;
	uint64_t lo = share_start(pp->total, i, pp->nw), hi = share_start(pp->total, i + 1, pp->nw);
	uint64_t off = 0;

	for (size_t k = 0; k < pp->nr && off < hi; k++) {
		uint64_t a = MAX(lo, off), e = MIN(hi, off + pp->jobs[k].len);

		if (a < e)
			populate_range(pp->jobs[k].p + (a - off), (size_t)(e - a));
		off += pp->jobs[k].len;
	}
}

/* Wait for a live_prepare() still faulting in. */
static void populate_wait(struct live *l)
{
	if (!l->populating)
		return;
	workers_wait(l->workers);
	free(l->populating->jobs);
	free(l->populating);
	l->populating = NULL;
}

/* Add a mapping for region R (not yet prepared). NULL if mmap failed. */
static struct prebuf *add_prebuf(struct live *l, taddr_t start, taddr_t end)
{
	size_t len = (size_t)(end - start), map_len = st_add(len, BUF_ALIGN);
	struct prebuf *pb;
	unsigned char *p;

	p = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	l->pre = xrealloc(l->pre, st_mult(l->nr_pre + 1, sizeof(*l->pre)));
	pb = &l->pre[l->nr_pre++];
	pb->map = p;
	pb->map_len = map_len;
	pb->buf = (unsigned char *)(((uintptr_t)p + BUF_ALIGN - 1) & ~(uintptr_t)(BUF_ALIGN - 1));
	pb->start = start;
	pb->end = end;
	return pb;
}

/* Bytes of the sorted RANGES inside [START, END). */
static uint64_t bytes_within(const struct target_range *ranges, size_t nr, taddr_t start,
			     taddr_t end)
{
	uint64_t n = 0;

	for (size_t i = 0; i < nr; i++)
		if (ranges[i].end > start && ranges[i].start < end)
			n += MIN(ranges[i].end, end) - MAX(ranges[i].start, start);
	return n;
}

int live_prepare(struct target *t, const struct target_range *ranges, size_t nr)
{
	struct live *l = L(t);
	struct populate *pp = xcalloc(1, sizeof(*pp));
	size_t alloc = 0;

	populate_wait(l);
	for (size_t i = 0; i < t->nr_regions; i++) {
		const struct target_region *r = &t->regions[i];
		uint64_t want = ranges ? bytes_within(ranges, nr, r->start, r->end) : r->end - r->start;
		struct prebuf *pb;

		if (!worth_copying(r) || want < PREPARE_MIN || find_prebuf(l, r->start, r->end) ||
		    !(pb = add_prebuf(l, r->start, r->end)))
			continue;	/* small, or the copy falls back to malloc */
		for (size_t k = 0; k < (ranges ? nr : 1); k++) {
			taddr_t a = ranges ? MAX(ranges[k].start, r->start) : r->start;
			taddr_t e = ranges ? MIN(ranges[k].end, r->end) : r->end;

			if (a >= e)
				continue;
			a &= ~(taddr_t)(PAGE_SZ - 1);
			e = MIN(r->end, (e + PAGE_SZ - 1) & ~(taddr_t)(PAGE_SZ - 1));
			ALLOC_GROW(pp->jobs, pp->nr + 1, alloc);
			pp->jobs[pp->nr].p = pb->buf + (a - pb->start);
			pp->jobs[pp->nr].len = (size_t)(e - a);
			pp->total += e - a;
			pp->nr++;
		}
	}
	pp->nw = copy_threads(pp->total);
	/* At least one thread, so the caller goes on meanwhile. */
	if (pp->total && get_workers(l, MAX(pp->nw, 2u))) {
		l->populating = pp;
		workers_start(l->workers, populate_share, pp);
		return 0;
	}
	for (unsigned i = 0; i < pp->nw; i++)
		populate_share(pp, i);
	free(pp->jobs);
	free(pp);
	return 0;
}

/*
 * What a copy of all writable memory holds: every region worth copying, a
 * stack from its live part (from the stack pointer, red zone included, to
 * the top, where glibc also keeps a thread's TLS and struct pthread).
 * Thread stacks are 8 MiB mappings that are mostly never touched; copying
 * them whole cost more than the heap itself in a 9-thread target. Sorted;
 * malloc'd, returns the count.
 */
static size_t full_extents(const struct target *t, struct target_range **ret)
{
	struct target_range *v = NULL;
	size_t nr = 0, alloc = 0;

	for (size_t i = 0; i < t->nr_regions; i++) {
		const struct target_region *r = &t->regions[i];
		taddr_t start = r->start;

		if (!worth_copying(r))
			continue;
		for (size_t k = 0; k < t->nr_threads; k++) {
			taddr_t sp = t->threads[k].regs.rsp;

			if (sp >= r->start && sp < r->end) {
				sp = sp >= r->start + 128 ? sp - 128 : r->start;
				start = MAX(r->start, sp & ~(taddr_t)(PAGE_SZ - 1));
				break;
			}
		}
		ALLOC_GROW(v, nr + 1, alloc);
		v[nr].start = start;
		v[nr].end = r->end;
		nr++;
	}
	*ret = v;
	return nr;
}

int live_freeze(struct target *t, uint64_t *ret_bytes)
{
	struct live *l = L(t);
	struct target_range *ext;
	struct cjob *jobs;
	size_t nr;
	uint64_t bytes = 0;
	int err;

	memimage_destroy(l->frozen);
	l->frozen = NULL;
	nr = full_extents(t, &ext);
	jobs = xcalloc(nr ? nr : 1, sizeof(*jobs));
	for (size_t k = 0; k < nr; k++) {
		jobs[k].start = ext[k].start;
		jobs[k].end = ext[k].end;
		if (set_dst(l, &jobs[k]) < 0) {
			free_dsts(jobs, k);
			free(jobs);
			free(ext);
			return -ENOMEM;
		}
	}
	free(ext);
	err = copy_jobs(l, jobs, nr, NULL, NULL, 0, &bytes);
	free(jobs);
	if (err < 0)
		return err;
	if (ret_bytes)
		*ret_bytes = bytes;
	return 0;
}

static int cmp_range(const void *a, const void *b)
{
	const struct target_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Sort RANGES and merge the ones that overlap (or with TOUCH, touch);
 * returns the count. */
static size_t merge_ranges(struct target_range *r, size_t nr, bool touch)
{
	size_t n = 0;

	qsort(r, nr, sizeof(*r), cmp_range);
	for (size_t i = 0; i < nr; i++) {
		if (r[i].end <= r[i].start)
			continue;
		if (n && (r[i].start < r[n - 1].end || (touch && r[i].start == r[n - 1].end)))
			r[n - 1].end = MAX(r[n - 1].end, r[i].end);
		else
			r[n++] = r[i];
	}
	return n;
}

int live_freeze_ranges(struct target *t, const struct target_range *copy, size_t nr_copy,
		       const struct target_range *zero, size_t nr_zero, uint64_t *ret_bytes)
{
	struct live *l = L(t);
	struct target_range *cp = xmalloc(st_mult(nr_copy ? nr_copy : 1, sizeof(*cp)));
	struct target_range *z = xmalloc(st_mult(nr_zero ? nr_zero : 1, sizeof(*z)));
	size_t *zpre = xmalloc(st_mult(nr_zero ? nr_zero : 1, sizeof(*zpre)));
	struct cjob *jobs = NULL;
	size_t nr = 0, alloc = 0, zi = 0;
	uint64_t bytes = 0;
	int err = 0;

	memimage_destroy(l->frozen);
	l->frozen = NULL;
	memcpy(cp, copy, nr_copy * sizeof(*cp));
	memcpy(z, zero, nr_zero * sizeof(*z));
	nr_copy = merge_ranges(cp, nr_copy, true);
	nr_zero = merge_ranges(z, nr_zero, false);
	/* Each zero range reads from a mapping: the one prepared for it, or
	 * a fresh one (never faulted in: its pages read as zeros for free). */
	for (size_t i = 0; i < nr_zero; i++) {
		struct prebuf *pb = find_prebuf(l, z[i].start, z[i].end);

		if (!pb)
			pb = add_prebuf(l, z[i].start, z[i].end);
		if (!pb) {
			err = -ENOMEM;
			goto out;
		}
		zpre[i] = (size_t)(pb - l->pre);
	}
	/* Jobs: the copy ranges, cut where zero ranges begin and end. */
	for (size_t i = 0; i < nr_copy; i++) {
		taddr_t a = cp[i].start;

		while (a < cp[i].end) {
			taddr_t e = cp[i].end;
			struct cjob *j;

			while (zi < nr_zero && z[zi].end <= a)
				zi++;
			if (zi < nr_zero && z[zi].start > a)
				e = MIN(e, z[zi].start);
			else if (zi < nr_zero)
				e = MIN(e, z[zi].end);
			/* ... and where prepared mappings begin and end */
			for (size_t k = 0; k < l->nr_pre; k++) {
				if (l->pre[k].start > a)
					e = MIN(e, l->pre[k].start);
				else if (l->pre[k].end > a)
					e = MIN(e, l->pre[k].end);
			}
			ALLOC_GROW(jobs, nr + 1, alloc);
			j = &jobs[nr++];
			j->start = a;
			j->end = e;
			j->in_zero = zi < nr_zero && z[zi].start <= a;
			if (j->in_zero) {
				/* into the zero range's own mapping */
				const struct prebuf *pb = &l->pre[zpre[zi]];

				j->prepared = true;
				j->dst = pb->buf + (a - pb->start);
			} else if (set_dst(l, j) < 0) {
				free_dsts(jobs, nr - 1);
				err = -ENOMEM;
				goto out;
			}
			a = e;
		}
	}
	err = copy_jobs(l, jobs, nr, z, zpre, nr_zero, &bytes);
	if (err == 0 && ret_bytes)
		*ret_bytes = bytes;
out:
	free(jobs);
	free(zpre);
	free(cp);
	free(z);
	return err;
}

/*
 * Reading in place (a fork snapshot's frozen child, live_stream()). The
 * child holds the instant for as long as it lives, so instead of a copy
 * of its memory the walk and typing read it on demand, through a bounded
 * cache: blocks of STREAM_BLOCK bytes (plus STREAM_SLACK of the next, so
 * that a small object across a boundary maps too), read with one pread()
 * of /proc/PID/mem each, least recently used first out. heapgrab's memory
 * is then the cache, not the heap.
 *
 * It reads what a copy of all writable memory would hold (full_extents):
 * the same bytes, the same holes, the same refusals (a stack below its
 * live part, writable memory not worth copying), so the census of the
 * stream is the census of the copy, byte for byte. Read-only mappings are
 * read from the child as they would have been from the process.
 *
 * A pointer from target_map() stays valid until its block is dropped,
 * after at least STREAM_MIN_BLOCKS - 1 other blocks were read: longer
 * than any caller holds one (the walk's window, one chunk's scan).
 */
#define STREAM_BLOCK (1u << 20)
#define STREAM_SLACK PAGE_SZ
#define STREAM_MIN_BLOCKS 8u

struct sblock {
	taddr_t base, end;	/* what it was asked to hold */
	taddr_t valid;		/* [base, valid) read (a hole ends it) */
	unsigned char *buf;
	uint64_t used;		/* LRU tick */
};

struct stream {
	struct target_range *ext;	/* full_extents() */
	size_t nr_ext;
	struct sblock *b;
	size_t nr, max;
	struct sblock *last;
	uint64_t tick;
	uint64_t bytes;			/* read from the process */
	/* read-ahead: one block, read by a thread of its own */
	struct workers *ra_thread;
	struct reader ra_rd;
	struct sblock ra;
	uint64_t ra_bytes;
	bool ra_busy, ra_ready;
	taddr_t last_aligned;		/* the block before, for the direction */
};

/* Index of the extent holding ADDR, or -1. */
static long stream_extent(const struct stream *st, taddr_t addr)
{
	size_t lo = 0, hi = st->nr_ext;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < st->ext[mid].start)
			hi = mid;
		else if (addr >= st->ext[mid].end)
			lo = mid + 1;
		else
			return (long)mid;
	}
	return -1;
}

/* Read [B->base, B->end) into B->buf (a hole ends it: B->valid). */
static ssize_t sblock_fill(const struct reader *rd, struct sblock *b)
{
	ssize_t total = 0;

	b->valid = b->base;
	while (b->valid < b->end) {
		ssize_t n = reader_read(rd, b->valid, b->buf + (b->valid - b->base),
					(size_t)(b->end - b->valid));

		if (n == -HG_E_TARGET_GONE)
			return n;
		if (n <= 0)
			break;
		b->valid += (taddr_t)n;
		total += n;
	}
	return total;
}

static void ra_job(void *arg, unsigned i)
{
	struct stream *st = arg;
	ssize_t n;

	if (i)
		return;
	n = sblock_fill(&st->ra_rd, &st->ra);
	st->ra_bytes = n > 0 ? (uint64_t)n : 0;
	if (n < 0)
		st->ra.base = st->ra.end = 0;	/* not used */
}

/* Wait for the read-ahead block; it is then ra_ready. */
static void ra_wait(struct stream *st)
{
	if (!st->ra_busy)
		return;
	workers_wait(st->ra_thread);
	st->ra_busy = false;
	st->ra_ready = true;
}

static bool cached(const struct stream *st, taddr_t base, taddr_t end)
{
	for (size_t i = 0; i < st->nr; i++)
		if (st->b[i].base == base && st->b[i].end == end)
			return true;
	return false;
}

/*
 * After a miss on the block at ALIGNED in extent E: when the misses walk
 * through memory block after block (the heap walk forward, a list
 * typed from its head backward), read the next block in that direction
 * meanwhile, in the read-ahead thread (the walk reads and works at once).
 */
static void read_ahead(struct live *l, long e, taddr_t aligned)
{
	struct stream *st = l->stream;
	taddr_t next, base, end;

	if (aligned == st->last_aligned + STREAM_BLOCK)
		next = aligned + STREAM_BLOCK;
	else if (aligned >= STREAM_BLOCK && aligned == st->last_aligned - STREAM_BLOCK)
		next = aligned - STREAM_BLOCK;
	else
		next = 0;
	st->last_aligned = aligned;
	if (!next || st->ra_busy || next + STREAM_BLOCK <= st->ext[e].start ||
	    next >= st->ext[e].end)
		return;
	base = MAX(st->ext[e].start, next);
	end = MIN(st->ext[e].end, next + STREAM_BLOCK + STREAM_SLACK);
	if (cached(st, base, end) || (st->ra_ready && st->ra.base == base && st->ra.end == end))
		return;
	if (!st->ra.buf && !(st->ra.buf = malloc(STREAM_BLOCK + STREAM_SLACK)))
		return;
	if (!st->ra_thread && !(st->ra_thread = workers_new(1)))
		return;
	st->ra.base = base;
	st->ra.end = end;
	st->ra_rd = (struct reader){ l->read_pid, l->use_memfd, l->memfd };
	st->ra_ready = false;
	st->ra_busy = true;
	workers_start(st->ra_thread, ra_job, st);
}

/* The block holding ADDR (inside extent E), read if need be; NULL when
 * the process is gone or memory is short. */
static struct sblock *stream_block(struct live *l, long e, taddr_t addr)
{
	struct stream *st = l->stream;
	taddr_t aligned = addr & ~(taddr_t)(STREAM_BLOCK - 1);
	taddr_t base = MAX(st->ext[e].start, aligned);
	taddr_t end = MIN(st->ext[e].end, aligned + STREAM_BLOCK + STREAM_SLACK);
	struct sblock *b = NULL;
	ssize_t n;

	for (size_t i = 0; i < st->nr; i++) {
		if (st->b[i].base == base && st->b[i].end == end) {
			b = &st->b[i];
			goto hit;
		}
	}
	ra_wait(st);
	if (st->nr < st->max) {
		b = &st->b[st->nr];
		b->buf = malloc(STREAM_BLOCK + STREAM_SLACK);
		if (!b->buf)
			return NULL;
		st->nr++;
	} else {
		b = &st->b[0];
		for (size_t i = 1; i < st->nr; i++)
			if (st->b[i].used < b->used)
				b = &st->b[i];
	}
	b->base = base;
	b->end = end;
	if (st->ra_ready && st->ra.base == base && st->ra.end == end) {
		unsigned char *swap = b->buf;

		b->buf = st->ra.buf;
		b->valid = st->ra.valid;
		st->ra.buf = swap;
		st->bytes += st->ra_bytes;
		st->ra_ready = false;
	} else {
		/* settle the way the process is read (raw_read() may switch to
		 * /proc/PID/mem) before the read-ahead thread copies it */
		n = raw_read(l, base, b->buf, (size_t)(end - base));
		if (n == -HG_E_TARGET_GONE) {
			b->base = b->end = 0;
			return NULL;
		}
		b->valid = base + (n > 0 ? (taddr_t)n : 0);
		st->bytes += n > 0 ? (uint64_t)n : 0;
		if (n > 0 && b->valid < end) {
			struct reader rd = { l->read_pid, l->use_memfd, l->memfd };
			struct sblock rest = { .base = b->valid, .end = end,
					       .buf = b->buf + (b->valid - base) };

			n = sblock_fill(&rd, &rest);
			if (n == -HG_E_TARGET_GONE) {
				b->base = b->end = 0;
				return NULL;
			}
			b->valid = rest.valid;
			st->bytes += n > 0 ? (uint64_t)n : 0;
		}
	}
	read_ahead(l, e, aligned);
hit:
	b->used = ++st->tick;
	st->last = b;
	return b;
}

static int stream_read(struct target *t, taddr_t addr, void *buf, size_t len)
{
	struct live *l = L(t);
	struct stream *st = l->stream;
	unsigned char *out = buf;

	while (len) {
		struct sblock *b = st->last;
		size_t n;

		if (!b || addr < b->base || addr >= b->end) {
			long e = stream_extent(st, addr);

			if (e < 0) {
				/* Outside the copy: read-only mappings are read
				 * as they are; the rest is refused, as a copy
				 * would have. */
				const struct target_region *r = target_region_of(t, addr);
				ssize_t k;

				if (!r || (r->prot & TARGET_PROT_WRITE))
					return -HG_E_UNREADABLE;
				n = (size_t)MIN((taddr_t)len, r->end - addr);
				k = raw_read(l, addr, out, n);
				if (k < 0)
					return (int)k;
				if ((size_t)k != n)
					return -HG_E_UNREADABLE;
				goto next;
			}
			b = stream_block(l, e, addr);
			if (!b)
				return proc_exists(l->read_pid) ? -ENOMEM : -HG_E_TARGET_GONE;
		}
		n = (size_t)MIN((taddr_t)len, b->end - addr);
		if (addr + n > b->valid) {
			/* past a hole: only what reads directly */
			ssize_t k = raw_read(l, addr, out, n);

			if (k < 0)
				return (int)k;
			if ((size_t)k != n)
				return -HG_E_UNREADABLE;
		} else {
			memcpy(out, b->buf + (addr - b->base), n);
		}
next:
		out += n;
		addr += n;
		len -= n;
	}
	return 0;
}

static const void *stream_map(struct target *t, taddr_t addr, size_t len)
{
	struct live *l = L(t);
	struct stream *st = l->stream;
	struct sblock *b = st->last;

	if (!b || addr < b->base || addr >= b->end) {
		long e = stream_extent(st, addr);

		if (e < 0 || !(b = stream_block(l, e, addr)))
			return NULL;
	}
	if (len > b->valid - addr || addr >= b->valid)
		return NULL;
	return b->buf + (addr - b->base);
}

static void stream_free(struct stream *st)
{
	if (!st)
		return;
	ra_wait(st);
	workers_free(st->ra_thread);
	free(st->ra.buf);
	for (size_t i = 0; i < st->nr; i++)
		free(st->b[i].buf);
	free(st->b);
	free(st->ext);
	free(st);
}

int live_stream(struct target *t, size_t cache_bytes)
{
	struct live *l = L(t);
	struct stream *st;

	if (l->read_pid == l->pid)
		return -EINVAL;	/* a process that runs: never in place */
	stream_free(l->stream);
	memimage_destroy(l->frozen);
	l->frozen = NULL;
	st = xcalloc(1, sizeof(*st));
	st->nr_ext = full_extents(t, &st->ext);
	st->max = MAX(cache_bytes / STREAM_BLOCK, (size_t)STREAM_MIN_BLOCKS);
	st->b = xcalloc(st->max, sizeof(*st->b));
	l->stream = st;
	return 0;
}

uint64_t live_copy_bytes(const struct target *t)
{
	struct target_range *ext;
	size_t nr = full_extents(t, &ext);
	uint64_t n = 0;

	for (size_t i = 0; i < nr; i++)
		n += ext[i].end - ext[i].start;
	free(ext);
	return n;
}

uint64_t live_stream_bytes(const struct target *t)
{
	const struct live *l = L(t);

	return l && l->stream ? l->stream->bytes : 0;
}

void live_read_from(struct target *t, int pid)
{
	struct live *l = L(t);

	/*
	 * A fork snapshot's child shares its pages copy-on-write with the
	 * target. Read them through /proc/PID/mem, never process_vm_readv():
	 * the latter pins the pages (FOLL_PIN), and since Linux 5.19 a pin of
	 * a shared anonymous page unshares it first (mm/gup.c
	 * gup_must_unshare()), which would copy every page of the child, as
	 * slow as a memcpy of it and twice the memory, charged to the
	 * target's cgroup. /proc/PID/mem takes plain references (FOLL_FORCE)
	 * and copies nothing. It is per process: drop the target's, open the
	 * child's on first need, and drop that again afterwards.
	 */
	if (l->memfd >= 0) {
		close(l->memfd);
		l->memfd = -1;
	}
	if (pid > 0) {
		if (l->read_pid == l->pid)
			l->saved_use_memfd = l->use_memfd;
		l->read_pid = pid;
		l->use_memfd = true;
	} else if (l->read_pid != l->pid) {
		stream_free(l->stream);
		l->stream = NULL;
		l->read_pid = l->pid;
		l->use_memfd = l->saved_use_memfd;
	}
}

int live_freeze_from(struct target *t, int pid, uint64_t *ret_bytes)
{
	int err;

	live_read_from(t, pid);
	err = live_freeze(t, ret_bytes);
	live_read_from(t, 0);
	return err;
}

/*
 * Hand the frozen copy over as a memimage target of its own, with the
 * live target's regions, threads, pid and exe. No byte is copied: the
 * segments move, and the prefaulted copy buffers (mmap'd, with segments
 * borrowed into them) move too, to be unmapped by the image. Afterwards
 * T reads the live process again (if it still exists).
 */
struct target *live_take_image(struct target *t)
{
	struct live *l = L(t);
	struct target *img;
	struct target_region *regs;

	if (!l || !l->frozen)
		return NULL;
	populate_wait(l);
	img = memimage_new();
	memimage_destroy(img->priv);
	img->priv = l->frozen;
	l->frozen = NULL;
	for (size_t i = 0; i < l->nr_pre; i++)
		memimage_own_mapping(img->priv, l->pre[i].map, l->pre[i].map_len);
	free(l->pre);
	l->pre = NULL;
	l->nr_pre = 0;
	img->pid = t->pid;
	img->exe = t->exe ? xstrdup(t->exe) : NULL;
	regs = xcalloc(t->nr_regions ? t->nr_regions : 1, sizeof(*regs));
	for (size_t i = 0; i < t->nr_regions; i++) {
		regs[i] = t->regions[i];
		regs[i].path = t->regions[i].path ? xstrdup(t->regions[i].path) : NULL;
	}
	target_set_regions(img, regs, t->nr_regions);
	for (size_t i = 0; i < t->nr_threads; i++)
		memimage_add_thread(img, t->threads[i].tid, &t->threads[i].regs);
	return img;
}

/* A frozen copy only reads its segments; the process itself and a
 * stream (its cache) are read by one thread. */
static bool live_concurrent(const struct target *t)
{
	const struct live *l = L(t);

	return l->frozen && !l->stream;
}

/* ---- open/close ---- */

static void live_close(struct target *t)
{
	struct live *l = L(t);

	if (!l)
		return;
	live_detach(t);
	populate_wait(l);
	stream_free(l->stream);
	memimage_destroy(l->frozen);
	for (size_t i = 0; i < l->nr_pre; i++)
		munmap(l->pre[i].map, l->pre[i].map_len);
	free(l->pre);
	workers_free(l->workers);
	if (l->memfd >= 0)
		close(l->memfd);
	free(l->th);
	free(l);
	t->priv = NULL;
}

/*
 * The kernel prints the paths of /proc/PID/maps and /proc/PID/exe relative
 * to the READER's root (d_path). For a process chrooted below our root,
 * say into /srv/root, they come out as /srv/root/usr/lib/.../libc.so.6,
 * while t->root ("/proc/PID/root") already leads into /srv/root. So when
 * /proc/PID/root names a directory other than "/", that prefix is taken
 * off every path that has it: paths then read as the target sees them, and
 * target_host_path() finds the file through /proc/PID/root. A process in
 * another mount namespace (a container) shows "/" here and its own paths
 * in maps, which need nothing.
 */
static void strip_chroot_prefix(struct target *t, int pid)
{
	char link[64], root[4096];
	ssize_t n;
	size_t len;

	snprintf(link, sizeof(link), "/proc/%d/root", pid);
	n = readlink(link, root, sizeof(root) - 1);
	if (n <= 1 || root[0] != '/')
		return;
	root[n] = '\0';
	len = (size_t)n;
	for (size_t i = 0; i <= t->nr_regions; i++) {
		char **pp = i < t->nr_regions ? &t->regions[i].path : &t->exe;

		if (*pp && !strncmp(*pp, root, len) && (*pp)[len] == '/')
			memmove(*pp, *pp + len, strlen(*pp + len) + 1);
	}
}

static const struct target_ops ptrace_ops = {
	.name = "ptrace",
	.read = live_read,
	.map = live_map,
	.close = live_close,
	.read_strided = live_read_strided,
	.concurrent = live_concurrent,
};

int target_live_open(int pid, struct target **ret_target)
{
	struct target *t;
	struct live *l;
	char path[64], buf[4096];
	ssize_t n;
	int err;

	if (pid <= 0)
		return -HG_E_NO_PROCESS;
	if (!proc_exists(pid))
		return -HG_E_NO_PROCESS;
	t = xcalloc(1, sizeof(*t));
	l = xcalloc(1, sizeof(*l));
	l->pid = pid;
	l->read_pid = pid;
	l->memfd = -1;
	t->ops = &ptrace_ops;
	t->priv = l;
	t->pid = pid;
	t->root = xasprintf("/proc/%d/root", pid);
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		t->exe = xstrdup(buf);
	}
	err = parse_maps(pid, &t->regions, &t->nr_regions);
	if (err < 0) {
		target_close(t);
		return err;
	}
	if (!t->nr_regions && live_process_exited(pid)) {
		target_close(t);
		return proc_exists(pid) ? -HG_E_ZOMBIE : -HG_E_NO_PROCESS;
	}
	if (!t->exe && !t->nr_regions) {
		/* Readable /proc entry but no maps: a kernel thread, a
		 * process we may not look into, or one in the middle of
		 * exiting (its memory already gone, not yet a zombie): give
		 * the last one a moment to show it. */
		for (int i = 0; i < 20 && !live_process_exited(pid); i++) {
			struct timespec ts = { 0, 5 * 1000 * 1000 };

			nanosleep(&ts, NULL);
		}
		target_close(t);
		if (live_process_exited(pid))
			return proc_exists(pid) ? -HG_E_ZOMBIE : -HG_E_NO_PROCESS;
		return -HG_E_NOT_PERMITTED;
	}
	strip_chroot_prefix(t, pid);
	*ret_target = t;
	return 0;
}
