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
#include "target/ptrace-internal.h"
#include "util/backoff.h"
#include "util/clock.h"
#include "util/errors.h"
#include "util/strbuf.h"
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
#include <sys/stat.h>
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

bool live_proc_exists(int pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d", pid);
	return access(path, F_OK) == 0;
}


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
		struct target_region x;

		if (!target_parse_maps_line(line, &x))
			continue;
		ALLOC_GROW(r, nr + 1, alloc);
		r[nr++] = x;
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

int live_errno_to_hg(int e)
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

/* Returns bytes read (maybe short), 0 when nothing is left to read (the
 * process lost the memory), or a negative error. Thread-safe. */
ssize_t live_reader_read(const struct reader *r, taddr_t addr, void *buf, size_t len)
{
	if (!r->use_memfd) {
		struct iovec local = { buf, len };
		struct iovec remote = { (void *)(uintptr_t)addr, len };
		ssize_t n = process_vm_readv(r->pid, &local, 1, &remote, 1, 0);

		return n >= 0 ? n : live_errno_to_hg(errno);
	}
	for (;;) {
		ssize_t n = pread(r->memfd, buf, len, (off_t)addr);

		if (n >= 0)
			return n;
		if (errno != EINTR)
			return live_errno_to_hg(errno);
	}
}

/* Read from the live process: process_vm_readv, or /proc/PID/mem where
 * process_vm_readv is unavailable (ENOSYS, or refused by a seccomp or LSM
 * policy that still allows ptrace). Returns bytes read (maybe short) or a
 * negative error when nothing could be read. */
ssize_t live_raw_read(struct live *l, taddr_t addr, void *buf, size_t len)
{
	struct reader r = { l->read_pid, l->use_memfd, l->memfd };

	if (!l->use_memfd) {
		ssize_t n = live_reader_read(&r, addr, buf, len);

		if (n != -HG_E_NOT_PERMITTED && n != -ENOSYS)
			return n;
		l->use_memfd = true;
	}
	if (l->memfd < 0) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/mem", l->read_pid);
		l->memfd = open(path, O_RDONLY | O_CLOEXEC);
		if (l->memfd < 0)
			return live_errno_to_hg(errno == ENOENT ? ESRCH : errno);
	}
	r.use_memfd = true;
	r.memfd = l->memfd;
	return live_reader_read(&r, addr, buf, len);
}

static int live_read(struct target *t, taddr_t addr, void *buf, size_t len)
{
	struct live *l = live_of(t);
	unsigned char *p = buf;

	if (l->stream)
		return live_stream_read(t, addr, buf, len);
	if (l->frozen) {
		const struct target_region *r;

		if (memimage_read(l->frozen, addr, buf, len) == 0)
			return 0;
		/* Writable memory was frozen on purpose (what is missing was
		 * unreadable or a stack's dead part): never mix in bytes from
		 * a later moment. Read-only file mappings (RELRO, text) do not
		 * change and may still be read from the process. */
		r = target_region_of(t, addr);
		if (!r || live_worth_copying(r))
			return -HG_E_UNREADABLE;
	}
	while (len) {
		ssize_t n = live_raw_read(l, addr, p, len);

		if (n < 0)
			return (int)n;
		if (n == 0)
			return live_proc_exists(l->pid) ? -HG_E_UNREADABLE : -HG_E_TARGET_GONE;
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
	struct live *l = live_of(t);
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
	struct live *l = live_of(t);

	if (l->stream)
		return live_stream_map(t, addr, len);
	return l->frozen ? memimage_map(l->frozen, addr, len) : NULL;
}

/* ---- stopping ---- */

static int getregs(struct target *t, size_t i)
{
	if (ptrace(PTRACE_GETREGS, live_of(t)->th[i].tid, 0, &t->threads[i].regs) < 0)
		return live_errno_to_hg(errno);
	return 0;
}

/*
 * Wait until thread I is in a ptrace-stop we can read. Signals reported to
 * us on the way are handed back. Returns 0 (stopped, or the thread exited:
 * ->gone), -HG_E_TIMEOUT, or another error.
 */
static int wait_stop(struct target *t, size_t i)
{
	struct live_thread *th = &live_of(t)->th[i];
	long deadline = (long)monotonic_ms() + STOP_TIMEOUT_MS;
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
			if ((long)monotonic_ms() > deadline)
				return -HG_E_TIMEOUT;
			backoff_sleep(backoff_thread_stop, round++);
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
	struct live *l = live_of(t);
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

				if (!st || st == 'Z' || st == 'X')
					return 1;
				sleep_us(5000);
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
	struct live *l = live_of(t);
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
	struct live *l = live_of(t);
	int err = 0;

	/* The copy buffers are ready before the target stops. */
	live_populate_wait(l);

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
		return !live_proc_exists(t->pid) ? -HG_E_TARGET_GONE : err;
	return err;
}

int live_resume_some(struct target *t, const bool *which)
{
	struct live *l = live_of(t);

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
	struct live *l = live_of(t);
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
	const struct live *l = live_of(t);

	if (i >= l->nr || l->th[i].gone)
		return -2;
	return (long)t->threads[i].regs.orig_rax;
}

bool live_thread_parked(const struct target *t, size_t i)
{
	const struct live *l = live_of(t);

	return i < l->nr && l->stopped && l->th[i].stopped && !l->th[i].group_stop &&
	       !l->th[i].gone;
}

bool live_process_exited(int pid)
{
	char st = thread_state(pid, pid);

	return !live_proc_exists(pid) || st == 'Z' || st == 'X';
}

bool live_is_stopped(const struct target *t)
{
	return live_of(t)->stopped;
}

void live_detach(struct target *t)
{
	struct live *l = live_of(t);

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

/*
 * Hand the frozen copy over as a memimage target of its own, with the
 * live target's regions, threads, pid and exe. No byte is copied: the
 * segments move, and the prefaulted copy buffers (mmap'd, with segments
 * borrowed into them) move too, to be unmapped by the image. Afterwards
 * T reads the live process again (if it still exists).
 */
struct target *live_take_image(struct target *t)
{
	struct live *l = live_of(t);
	struct target *img;
	struct target_region *regs;

	if (!l || !l->frozen)
		return NULL;
	live_populate_wait(l);
	img = memimage_new();
	memimage_destroy(img->priv);
	img->priv = l->frozen;
	l->frozen = NULL;
	for (size_t i = 0; i < l->nr_pre; i++) {
		memimage_own_mapping(img->priv, l->pre[i].map, l->pre[i].map_len);
		free(l->pre[i].filled);
	}
	free(l->pre);
	l->pre = NULL;
	l->nr_pre = 0;
	img->pid = t->pid;
	img->ns_pid = t->ns_pid;
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
	const struct live *l = live_of(t);

	return l->frozen && !l->stream;
}

/* ---- open/close ---- */

static void live_close(struct target *t)
{
	struct live *l = live_of(t);

	if (!l)
		return;
	live_detach(t);
	live_copy_release(l);
	if (l->memfd >= 0)
		close(l->memfd);
	free(l->th);
	free(l);
	t->priv = NULL;
}

/* ---- why ptrace is refused ---- */

#define CAP_SYS_PTRACE_BIT 19

static const char *const cap_names[] = {
	"chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid",
	"setuid", "setpcap", "linux_immutable", "net_bind_service", "net_broadcast",
	"net_admin", "net_raw", "ipc_lock", "ipc_owner", "sys_module", "sys_rawio",
	"sys_chroot", "sys_ptrace", "sys_pacct", "sys_admin", "sys_boot", "sys_nice",
	"sys_resource", "sys_time", "sys_tty_config", "mknod", "lease", "audit_write",
	"audit_control", "setfcap", "mac_override", "mac_admin", "syslog", "wake_alarm",
	"block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore",
};

/* The value after "NAME:" in /proc/PID/status (PID 0: self), or "". */
static void status_value(int pid, const char *name, char *buf, size_t size)
{
	char path[64], line[512];
	size_t n = strlen(name);
	FILE *f;

	buf[0] = '\0';
	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/status", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, name, n) || line[n] != ':')
			continue;
		snprintf(buf, size, "%s", line + n + 1 + strspn(line + n + 1, " \t"));
		buf[strcspn(buf, "\n")] = '\0';
		break;
	}
	fclose(f);
}

void ptrace_perm_gather(int pid, struct ptrace_perm *p)
{
	char v[256], a[64], b[64];
	unsigned r, e, s;
	struct stat st;
	FILE *f;
	int cur = pid;

	memset(p, 0, sizeof(*p));
	p->uid = (unsigned)getuid();
	p->gid = (unsigned)getgid();
	p->t_dumpable = true;
	p->yama = -1;
	status_value(pid, "Uid", v, sizeof(v));
	if (sscanf(v, "%u %u %u", &r, &e, &s) == 3) {
		p->t_uid[0] = r, p->t_uid[1] = e, p->t_uid[2] = s;
		status_value(pid, "Gid", v, sizeof(v));
		if (sscanf(v, "%u %u %u", &r, &e, &s) == 3) {
			p->t_gid[0] = r, p->t_gid[1] = e, p->t_gid[2] = s;
			p->t_ids_known = true;
		}
	}
	status_value(0, "CapEff", v, sizeof(v));
	p->cap_sys_ptrace = (strtoull(v, NULL, 16) >> CAP_SYS_PTRACE_BIT) & 1;
	status_value(0, "CapPrm", v, sizeof(v));
	p->caps = strtoull(v, NULL, 16);
	status_value(pid, "CapPrm", v, sizeof(v));
	if (v[0]) {
		p->t_caps = strtoull(v, NULL, 16);
		p->t_caps_known = true;
	}
	/* proc gives a non-dumpable process's files to root (proc's
	 * task_dump_owner()): owned by root while its euid is not */
	snprintf(a, sizeof(a), "/proc/%d", pid);
	if (p->t_ids_known && p->t_uid[1] != 0 && stat(a, &st) == 0 && st.st_uid == 0)
		p->t_dumpable = false;
	{
		char path[64];
		ssize_t n1, n2;

		snprintf(path, sizeof(path), "/proc/%d/ns/user", pid);
		n1 = readlink(path, a, sizeof(a) - 1);
		n2 = readlink("/proc/self/ns/user", b, sizeof(b) - 1);
		if (n1 > 0 && n2 > 0) {
			a[n1] = '\0';
			b[n2] = '\0';
			p->other_userns = strcmp(a, b) != 0;
		}
	}
	f = fopen("/proc/sys/kernel/yama/ptrace_scope", "re");
	if (f) {
		if (fscanf(f, "%d", &p->yama) != 1)
			p->yama = -1;
		fclose(f);
	}
	for (int depth = 0; cur > 1 && depth < 4096; depth++) {
		status_value(cur, "PPid", v, sizeof(v));
		cur = atoi(v);
		if (cur == getpid()) {
			p->descendant = true;
			break;
		}
	}
	status_value(0, "Seccomp", v, sizeof(v));
	p->seccomp = atoi(v);
	/* PTRACE_CONT of ourselves, whom we do not trace: the kernel
	 * answers ESRCH; anything else came from before the kernel looked */
	errno = 0;
	if (ptrace(PTRACE_CONT, getpid(), 0, 0) < 0 && errno != ESRCH)
		p->syscall_refused = errno;
}

static bool same_ids(const struct ptrace_perm *p)
{
	for (int i = 0; i < 3; i++)
		if (p->t_uid[i] != p->uid || p->t_gid[i] != p->gid)
			return false;
	return true;
}

void ptrace_perm_explain(const struct ptrace_perm *p, struct strbuf *why)
{
	const char *grant = p->uid ? "run heapgrab as root, or give it CAP_SYS_PTRACE" :
			    "give heapgrab CAP_SYS_PTRACE (docker run --cap-add SYS_PTRACE; in "
			    "Kubernetes, securityContext.capabilities.add: [\"SYS_PTRACE\"])";

	strbuf_addstr(why, "not permitted to trace it: ");
	if (p->syscall_refused && p->seccomp) {
		strbuf_addf(why, "ptrace(2) itself is refused to heapgrab here (%s before the "
			    "kernel looks at either process): heapgrab runs under a seccomp filter "
			    "(Seccomp: %d in /proc/self/status) that forbids it, as systemd-nspawn's "
			    "does in a container without CAP_SYS_PTRACE, and Docker's on kernels "
			    "before 4.8; %s", strerror(p->syscall_refused), p->seccomp,
			    p->uid ? grant : "give the container CAP_SYS_PTRACE (systemd-nspawn "
			    "--capability=CAP_SYS_PTRACE; docker run --cap-add SYS_PTRACE; in "
			    "Kubernetes, securityContext.capabilities.add: [\"SYS_PTRACE\"])");
		return;
	}
	if (p->syscall_refused) {
		strbuf_addf(why, "ptrace(2) itself is refused to heapgrab here (%s before the "
			    "kernel looks at either process): a security module (AppArmor, "
			    "SELinux) forbids it", strerror(p->syscall_refused));
		return;
	}
	if (p->yama == 3) {
		strbuf_addstr(why, "Yama's ptrace_scope is 3 (/proc/sys/kernel/yama/ptrace_scope): "
			      "no process may be traced until the next boot");
		return;
	}
	if (p->t_ids_known && !same_ids(p) && !p->cap_sys_ptrace) {
		if (p->t_uid[0] == p->t_uid[1] && p->t_uid[1] == p->t_uid[2] &&
		    p->t_gid[0] == p->t_gid[1] && p->t_gid[1] == p->t_gid[2])
			strbuf_addf(why, "it runs as uid %u gid %u and heapgrab as uid %u gid %u, "
				    "without CAP_SYS_PTRACE; run heapgrab as that user, or %s",
				    p->t_uid[0], p->t_gid[0], p->uid, p->gid, grant);
		else
			strbuf_addf(why, "its real, effective and saved uids and gids (%u %u %u, "
				    "%u %u %u) are not all heapgrab's (%u, %u), and heapgrab lacks "
				    "CAP_SYS_PTRACE; %s", p->t_uid[0], p->t_uid[1], p->t_uid[2],
				    p->t_gid[0], p->t_gid[1], p->t_gid[2], p->uid, p->gid, grant);
		return;
	}
	if (!p->t_dumpable && !p->cap_sys_ptrace) {
		strbuf_addf(why, "it is not dumpable (a set-uid program, or it called "
			    "prctl(PR_SET_DUMPABLE, 0)), and only a tracer with CAP_SYS_PTRACE may "
			    "attach to it; %s", grant);
		return;
	}
	if (p->t_caps_known && (p->t_caps & ~p->caps) && !p->cap_sys_ptrace) {
		uint64_t extra = p->t_caps & ~p->caps;
		bool first = true;

		strbuf_addstr(why, "it holds capabilities heapgrab lacks (");
		for (unsigned i = 0; i < 64; i++) {
			if (!(extra >> i & 1))
				continue;
			if (!first)
				strbuf_addstr(why, ", ");
			first = false;
			if (i < ARRAY_SIZE(cap_names))
				strbuf_addf(why, "cap_%s", cap_names[i]);
			else
				strbuf_addf(why, "capability %u", i);
		}
		strbuf_addf(why, "), and only a tracer with CAP_SYS_PTRACE may trace such a "
			    "process; %s", grant);
		return;
	}
	if (p->yama == 2 && !p->cap_sys_ptrace) {
		strbuf_addf(why, "Yama's ptrace_scope is 2 (/proc/sys/kernel/yama/ptrace_scope): "
			    "only a tracer with CAP_SYS_PTRACE may attach, and heapgrab has none; %s",
			    grant);
		return;
	}
	if (p->yama == 1 && !p->cap_sys_ptrace && !p->descendant) {
		strbuf_addf(why, "Yama's ptrace_scope is 1 (/proc/sys/kernel/yama/ptrace_scope): "
			    "only an ancestor of the process, a tracer it named with "
			    "prctl(PR_SET_PTRACER), or one with CAP_SYS_PTRACE may attach, and "
			    "heapgrab is none of these; %s", grant);
		return;
	}
	if (p->other_userns && p->cap_sys_ptrace) {
		strbuf_addstr(why, "it is in a user namespace other than heapgrab's, where "
			      "heapgrab's CAP_SYS_PTRACE may not count; run heapgrab in that "
			      "namespace or in one above it");
		return;
	}
	if (p->seccomp) {
		strbuf_addf(why, "heapgrab runs under a seccomp filter (Seccomp: %d in "
			    "/proc/self/status) that may forbid ptrace(2) itself; container "
			    "runtimes' default filters allow it (Docker's with kernel 4.8 or "
			    "later, or with --cap-add SYS_PTRACE)", p->seccomp);
		return;
	}
	strbuf_addstr(why, "no rule heapgrab can see refuses it: a security module "
		      "(AppArmor, SELinux) probably does");
}

void live_permission_why(int pid, struct strbuf *why)
{
	struct ptrace_perm p;

	ptrace_perm_gather(pid, &p);
	ptrace_perm_explain(&p, why);
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

/* The last number of "NSpid:" in /proc/PID/status: PID as the innermost
 * PID namespace it belongs to numbers it (the container's own view). The
 * first is PID itself (the numbers start at the reader's namespace). 0
 * when the line is missing (kernels before 4.1). */
static int ns_pid_of(int pid)
{
	char path[64], line[512];
	int last = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *p = line + 6, *end;

		if (strncmp(line, "NSpid:", 6))
			continue;
		for (;;) {
			long v = strtol(p, &end, 10);

			if (end == p || v <= 0 || v > INT32_MAX)
				break;
			last = (int)v;
			p = end;
		}
		break;
	}
	fclose(f);
	return last;
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
	if (!live_proc_exists(pid))
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
	t->ns_pid = ns_pid_of(pid);
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
		return live_proc_exists(pid) ? -HG_E_ZOMBIE : -HG_E_NO_PROCESS;
	}
	if (!t->exe && !t->nr_regions) {
		/* Readable /proc entry but no maps: a kernel thread, a
		 * process we may not look into, or one in the middle of
		 * exiting (its memory already gone, not yet a zombie): give
		 * the last one a moment to show it. */
		for (int i = 0; i < 20 && !live_process_exited(pid); i++)
			sleep_us(5000);
		target_close(t);
		if (live_process_exited(pid))
			return live_proc_exists(pid) ? -HG_E_ZOMBIE : -HG_E_NO_PROCESS;
		return -HG_E_NOT_PERMITTED;
	}
	/* The files come through /proc/PID/root, which the kernel opens to a
	 * reader it would let trace the process (PTRACE_MODE_READ, laxer than
	 * attaching): refused here, the attach would be refused too. */
	if (access(t->root, F_OK) < 0 && (errno == EACCES || errno == EPERM)) {
		target_close(t);
		return -HG_E_NOT_PERMITTED;
	}
	strip_chroot_prefix(t, pid);
	*ret_target = t;
	return 0;
}
