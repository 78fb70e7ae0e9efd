/*
 * fork.c - fork snapshots: the target forks a frozen copy of itself.
 *
 * (doc/glibc-malloc.md §11.)
 * With every thread stopped and out of the allocator, one thread runs an
 * injected clone(flags 0): no CLONE_VM, so the child gets a copy-on-write
 * image of the whole address space, every thread's stack and TLS
 * included; exit signal 0, so the target gets no SIGCHLD and its own
 * wait()/waitpid() calls (without __WALL or __WCLONE) never see the child.
 * The injecting thread is traced with PTRACE_O_TRACECLONE for the call, so
 * the kernel attaches the child to heapgrab, seized, and stops it
 * (PTRACE_EVENT_STOP) before it runs a single user instruction. The cost
 * for the target is the fork's page-table copy (about 15-19 ms per GiB of
 * 4 KiB-page memory here), then copy-on-write faults on every page it
 * writes while the child lives.
 *
 * Then, in order:
 *   1. PTRACE_O_EXITKILL on the child: if heapgrab dies from now on, the
 *      kernel kills the child.
 *   2. The child's copy of the injecting thread's stack gets back the bytes
 *      the injection wrote below the red zone: the child's memory is then
 *      the target's memory of the instant before the injection, byte for
 *      byte, as a copy-mode snapshot would have read it.
 *   3. The caller restores and detaches the target (it runs on) and reads
 *      the child's memory (live_freeze_from()).
 *   4. inject_child_release(): SIGKILL to the child, which heapgrab
 *      collects as its tracer. The dead child is then the target's zombie
 *      (a traced child goes back to its real parent when the tracer has
 *      waited for it, kernel/exit.c wait_task_zombie()), and only the
 *      target can reap it: one of its threads is seized for a moment and
 *      runs an injected wait4(child, NULL, __WALL | WNOHANG, NULL), the
 *      child's pid as the target's PID namespace numbers it (in a
 *      container that is the container's number, not heapgrab's).
 *
 * Dying at the wrong moment. Should heapgrab die before step 1, the child
 * (not traced any more) would run: its stack pointer, clone's newsp, points
 * at a word holding _exit, so it leaves the syscall instruction's `ret`
 * into _exit(0) (inject.c). After step 1 it is killed. Either way a dead
 * child remains, a zombie of the target, which nobody but the target can
 * reap. That is the reaper's job: a small process forked from heapgrab for
 * the duration of a fork snapshot (inject_reaper_start()), which learns the
 * child's pid through a socket and, when the socket closes before heapgrab said
 * the child was reaped, waits for the child to die and reaps it exactly as
 * step 4 does. If heapgrab dies during the clone itself (the child's pid
 * never reached the reaper), the reaper reaps every zombie child of the
 * target with exit signal 0 that was started after the reaper. Killing the
 * reaper too (kill -9 of the whole process group) leaves the zombie until
 * the target exits; nothing else is left behind in any case.
 */
#include "config.h"
#include "inject/inject.h"
#include "inject/inject-internal.h"
#include "inject/seccomp.h"
#include "target/ptrace.h"
#include "target/target.h"
#include "util/backoff.h"
#include "util/errors.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The clone copies the page tables: about 15-75 ms for 1-4 GiB here,
 * seconds for very large processes on a loaded machine. */
#define CLONE_TIMEOUT_MS 120000
/* Stopping one thread for the reap, and the wait4 itself. */
#define REAP_TIMEOUT_MS 5000
/* A killed child frees its memory before it is a zombie: about as long
 * as the fork took. */
#define CHILD_DEATH_TIMEOUT_MS 60000
/* wait4(WNOHANG) that finds the zombie not yet handed back: retries. */
#define REAP_TRIES 50
/* A thread of the target that someone else traces at the moment of the
 * reap: how long to wait for it (the reaper waits longer: heapgrab's
 * tracees are let go only after its sockets are closed, kernel/exit.c). */
#define REAP_TRACED_WAIT_MS 1000
#define RESCUE_TRACED_WAIT_MS 10000
/* How long the reaper looks for the child of a clone heapgrab died in. */
#define RESCUE_SCAN_MS 2000

struct inject_child {
	int pid;
};

int inject_child_pid(const struct inject_child *c)
{
	return c ? c->pid : 0;
}

/* ---- the reaper's end of the socket, in heapgrab ---- */

static int reaper_fd = -1;
static pid_t reaper_pid;

/* One line to the reaper: "P" (a clone is coming), "C PID" (its child),
 * "R" (the child is reaped), "X" (exit now). */
static void reaper_say(char what, int pid)
{
	char line[32];
	int n;

	if (reaper_fd < 0)
		return;
	n = pid ? snprintf(line, sizeof(line), "%c %d\n", what, pid)
		: snprintf(line, sizeof(line), "%c\n", what);
	/* A socket, not a pipe: a dead reaper must not SIGPIPE heapgrab. */
	if (n > 0 && send(reaper_fd, line, (size_t)n, MSG_NOSIGNAL) < 0) {
		/* The reaper is gone; nothing to tell anyone. */
	}
}

/* ---- stopping one thread of a running process ---- */

/* Seize TID and park it. Signals that arrive first are delivered. */
static int seize_one(int tid, long deadline, bool *ret_group_stop)
{
	if (ptrace(PTRACE_SEIZE, tid, 0, 0) < 0)
		return errno == ESRCH ? -HG_E_TARGET_GONE :
		       errno == EPERM ? -HG_E_ALREADY_TRACED : -errno;
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0 && errno != ESRCH)
		return -errno;
	for (;;) {
		int st, err = inject_wait(tid, deadline, &st);

		if (err < 0)
			return err;
		if (!WIFSTOPPED(st))
			return -HG_E_TARGET_GONE;
		if ((st >> 16) == PTRACE_EVENT_STOP) {
			int sig = WSTOPSIG(st);

			*ret_group_stop = sig != SIGTRAP;
			return 0;
		}
		/* signal-delivery-stop: hand the signal back */
		if (ptrace(PTRACE_CONT, tid, 0, (st >> 16) ? 0 : WSTOPSIG(st)) < 0)
			return errno == ESRCH ? -HG_E_TARGET_GONE : -errno;
	}
}

static char task_state(int pid, int tid)
{
	char path[80], buf[512], *p;
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
	return p && p[1] == ' ' ? p[2] : 0;
}

static bool in_list(int tid, const int *list, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (list[k] == tid)
			return true;
	return false;
}

/* A thread of PID that can be stopped, not one of SKIP[0..NSKIP-1]: the
 * leader unless it is a zombie (it called pthread_exit), else the first
 * live one. 0 if none. */
static int live_tid(int pid, const int *skip, size_t nskip)
{
	char path[64];
	struct dirent *de;
	int tid = 0;
	DIR *d;

	if (task_state(pid, pid) && task_state(pid, pid) != 'Z' && !in_list(pid, skip, nskip))
		return pid;
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return 0;
	while (!tid && (de = readdir(d))) {
		char s;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		s = task_state(pid, atoi(de->d_name));
		if (s && s != 'Z' && s != 'X' && !in_list(atoi(de->d_name), skip, nskip))
			tid = atoi(de->d_name);
	}
	closedir(d);
	return tid;
}

/* The numbers of "NSpid:" in /proc/PID/status, ours first; how many. */
static size_t nspids(int pid, int *ret, size_t max)
{
	char path[64], line[512];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *p = line + 6, *end;

		if (strncmp(line, "NSpid:", 6))
			continue;
		while (n < max) {
			long v = strtol(p, &end, 10);

			if (end == p || v <= 0 || v > INT32_MAX)
				break;
			ret[n++] = (int)v;
			p = end;
		}
		break;
	}
	fclose(f);
	return n;
}

/*
 * CHILD (our pid for it) as process TARGET numbers it: the wait4 runs in
 * the target, and a target in a container (another PID namespace) knows
 * its child by the container's number, not ours. Both NSpid lists start at
 * our namespace; TARGET's own namespace is the last of its list, and the
 * child's entry at that depth is its number there. (Usually the child's
 * last entry; not when the target made its children a namespace of their
 * own.) CHILD itself when the lists cannot be read.
 */
static int pid_for_target(int child, int target)
{
	int c[32], t[32];
	size_t nc = nspids(child, c, ARRAY_SIZE(c)), nt = nspids(target, t, ARRAY_SIZE(t));

	if (!nc || !nt || nt > nc)
		return child;
	return c[nt - 1];
}

/*
 * One wait4(CHILD, NULL, __WALL | WNOHANG, NULL) in thread TID of T (which
 * must be parked), CHILD translated into T's PID namespace. 1 when the
 * zombie is gone (reaped now, or not a child any more), 0 when it is not
 * reapable yet, or an error.
 */
static int reap_once(struct target *t, int tid, int child, const struct inject_libc *lc,
		     struct strbuf *why)
{
	long result = 0;
	int their = pid_for_target(child, t->pid);
	struct inject_req req = {
		.nr = SYS_wait4,
		.name = "the injected wait4()",
		.args = { (uint64_t)their, 0, __WALL | WNOHANG, 0, 0, 0 },
		.timeout_ms = REAP_TIMEOUT_MS,
		.ret_result = &result,
	};
	int err = inject_run(t, tid, lc, &req, why);

	if (err < 0)
		return err;
	if (result == their || result == -ECHILD)
		return 1;
	if (result < 0) {
		if (why)
			strbuf_addf(why, "wait4() in process %d for its snapshot child %d failed: %s",
				    t->pid, child, strerror((int)-result));
		return (int)result;
	}
	return 0;
}

static void reap_pause(void)
{
	sleep_us(2000);
}

/*
 * Reap the zombie CHILD of the running process PID from inside it: seize
 * one thread, inject wait4, detach. 0 when reaped or not there any more
 * (the target may have exited, or waited for it itself). The memory map
 * the injection checks the stack against is read afresh into a target of
 * its own: the caller's target keeps the maps of the snapshot's instant.
 * A thread whose seccomp filter would not allow the wait4 (one it got
 * after the clone: the cloning thread's was checked) is passed over for
 * another.
 */
static int reap_in_target(int pid, int child, const struct inject_libc *lc,
			  long traced_wait_ms, struct strbuf *why)
{
	long traced_until = inject_now_ms() + traced_wait_ms;
	int err = 0, refused[64];
	size_t nrefused = 0;
	struct strbuf rwhy = STRBUF_INIT;

	for (int tries = 0; tries < REAP_TRIES; tries++) {
		long deadline = inject_now_ms() + REAP_TIMEOUT_MS;
		int tid = live_tid(pid, refused, nrefused);
		bool group_stop = false;
		struct target *m = NULL;

		if (!tid && nrefused) {
			if (why)
				strbuf_addf(why, "cannot reap snapshot child %d in process %d: %s",
					    child, pid, rwhy.buf);
			strbuf_release(&rwhy);
			return -HG_E_SECCOMP;
		}
		if (!tid) {
			strbuf_release(&rwhy);
			return 0;	/* the target is gone: so is its zombie */
		}
		err = target_live_open(pid, &m);
		if (err < 0) {
			strbuf_release(&rwhy);
			return err == -HG_E_NO_PROCESS || err == -HG_E_ZOMBIE ? 0 : err;
		}
		err = seize_one(tid, deadline, &group_stop);
		if (err == 0) {
			strbuf_reset(&rwhy);
			err = reap_once(m, tid, child, lc, &rwhy);
			(void)ptrace(PTRACE_DETACH, tid, 0, 0);
		} else if (err != -HG_E_ALREADY_TRACED) {
			(void)ptrace(PTRACE_DETACH, tid, 0, 0);
		}
		target_close(m);
		if (err == -HG_E_SECCOMP && nrefused < ARRAY_SIZE(refused)) {
			refused[nrefused++] = tid;
			tries--;
			continue;
		}
		if (err < 0 && why && rwhy.len)
			strbuf_add(why, rwhy.buf, rwhy.len);
		strbuf_reset(&rwhy);
		if (err == 1 || err == -HG_E_TARGET_GONE) {
			strbuf_release(&rwhy);
			return 0;	/* reaped; or the thread or the target went */
		}
		if (err == -HG_E_ALREADY_TRACED && inject_now_ms() < traced_until) {
			/* Someone holds it for a moment (a dying heapgrab
			 * whose tracees the kernel has not let go yet). */
			tries--;
			reap_pause();
			continue;
		}
		if (err < 0) {
			if (why)
				strbuf_addf(why, "%scannot reap snapshot child %d in process %d: %s",
					    why->len ? "; " : "", child, pid, hg_strerror(err));
			strbuf_release(&rwhy);
			return err;
		}
		reap_pause();	/* not handed back to the target yet */
	}
	strbuf_release(&rwhy);
	if (why)
		strbuf_addf(why, "process %d's snapshot child %d was not reapable after %d tries",
			    pid, child, REAP_TRIES);
	return -HG_E_TIMEOUT;
}

/* The same while heapgrab holds the target stopped: thread I is parked. */
static int reap_parked(struct target *t, size_t i, int child, const struct inject_libc *lc,
		       struct strbuf *why)
{
	for (int tries = 0; tries < REAP_TRIES; tries++) {
		int err = reap_once(t, t->threads[i].tid, child, lc, why);

		if (err < 0)
			return err == -HG_E_TARGET_GONE ? 0 : err;
		if (err == 1)
			return 0;
		reap_pause();
	}
	return -HG_E_TIMEOUT;
}

/* ---- the fork ---- */

static int kill_child(int child);


int inject_fork(struct target *t, size_t i, const struct inject_libc *lc,
		struct inject_child **ret_child, struct strbuf *why)
{
	long result = 0, deadline;
	int child = 0, err;
	taddr_t area_lo = 0;
	unsigned char *area = NULL;
	size_t area_len = 0;
	/* The reap that follows: wait4(child, NULL, __WALL | WNOHANG, NULL),
	 * the child's pid not known yet. */
	const uint64_t wargs[6] = { 0, 0, __WALL | WNOHANG, 0, 0, 0 };
	struct seccomp_call plan[1];
	struct inject_req req = {
		.nr = SYS_clone,
		.name = "the injected clone()",
		/* clone(flags, newsp, parent_tid, child_tid, tls): flags 0 is
		 * a plain copy of the process with exit signal 0; newsp is
		 * set by inject_run() (a word holding _exit) */
		.args = { 0, 0, 0, 0, 0, 0 },
		.timeout_ms = CLONE_TIMEOUT_MS,
		.ret_result = &result,
		.ret_child = &child,
		.ret_area_lo = &area_lo,
		.ret_area = &area,
		.ret_area_len = &area_len,
		.plan = plan,
		.nplan = ARRAY_SIZE(plan),
	};

	if (i >= t->nr_threads || !live_thread_parked(t, i))
		return -HG_E_INJECT_STOPPED;
	seccomp_call_init(&plan[0], SYS_wait4, wargs, 0x3e,
			  lc->syscall_insn ? lc->syscall_insn + 2 : 0);
	plan[0].where = "(to reap the snapshot's child afterwards)";
	reaper_say('P', 0);
	err = inject_run(t, t->threads[i].tid, lc, &req, why);
	if (child > 0)
		reaper_say('C', child);
	if (err == 0 && result < 0) {
		err = (int)result;
		if (why) {
			strbuf_addf(why, "the injected clone() failed: %s", strerror(-err));
			if (err == -EAGAIN)
				strbuf_addstr(why, " (the target's RLIMIT_NPROC or its pids "
					      "cgroup limit is reached)");
			else if (err == -ENOMEM)
				strbuf_addstr(why, " (not enough memory or address space "
					      "for a copy)");
			else if (err == -EPERM || err == -ENOSYS)
				strbuf_addstr(why, " (forbidden by a security policy)");
		}
	}
	if (err == 0 && child <= 0) {
		if (why)
			strbuf_addf(why, "clone() in process %d returned %ld but no child was "
				    "reported", t->pid, result);
		err = -EPROTO;
	}
	if (err < 0)
		goto fail;

	/* The child was attached seized and starts in PTRACE_EVENT_STOP. */
	deadline = inject_now_ms() + REAP_TIMEOUT_MS;
	for (;;) {
		int st;

		err = inject_wait(child, deadline, &st);
		if (err < 0)
			goto fail;
		if (!WIFSTOPPED(st)) {
			err = -ECHILD;
			if (why)
				strbuf_addf(why, "process %d's snapshot child %d died at once",
					    t->pid, child);
			goto fail;
		}
		if ((st >> 16) == PTRACE_EVENT_STOP)
			break;
		/* nothing else is expected; leave signals pending */
		if (ptrace(PTRACE_CONT, child, 0, 0) < 0) {
			err = -errno;
			goto fail;
		}
	}
	if (ptrace(PTRACE_SETOPTIONS, child, 0, PTRACE_O_EXITKILL) < 0) {
		err = -errno;
		goto fail;
	}
	/* Step 2: the child's stack as it was before the injection. */
	if (area) {
		err = inject_mem_io(child, area_lo, area, area_len, true);
		if (err < 0) {
			if (why)
				strbuf_addf(why, "cannot restore the stack of snapshot child %d: %s",
					    child, hg_strerror(err));
			goto fail;
		}
	}
	free(area);
	*ret_child = xcalloc(1, sizeof(**ret_child));
	(*ret_child)->pid = child;
	return 0;
fail:
	free(area);
	if (child > 0) {
		/* Something broke after the clone: the child must not stay.
		 * The target is still stopped: reap in the same thread. */
		if (kill_child(child) == 0 && reap_parked(t, i, child, lc, NULL) == 0)
			reaper_say('R', 0);
	}
	return err;
}

/* Kill CHILD (our tracee) and wait until it is dead for us. */
static int kill_child(int child)
{
	long deadline = inject_now_ms() + CHILD_DEATH_TIMEOUT_MS;

	if (kill(child, SIGKILL) < 0 && errno != ESRCH)
		return -errno;
	for (;;) {
		int st, err = inject_wait(child, deadline, &st);

		if (err == -HG_E_TARGET_GONE)
			return 0;	/* not our tracee any more */
		if (err < 0)
			return err;
		if (WIFEXITED(st) || WIFSIGNALED(st))
			return 0;
	}
}

int inject_child_release(struct target *t, struct inject_child *c,
			 const struct inject_libc *lc, struct strbuf *why)
{
	int child = c ? c->pid : 0, err;

	free(c);
	if (child <= 0)
		return 0;
	err = kill_child(child);
	if (err < 0) {
		if (why)
			strbuf_addf(why, "snapshot child %d did not die: %s", child, hg_strerror(err));
		return err;
	}
	err = reap_in_target(t->pid, child, lc, REAP_TRACED_WAIT_MS, why);
	if (err == 0)
		reaper_say('R', 0);
	return err;
}

/* ---- the reaper process ---- */

/* Start time (clock ticks since boot, field 22) and exit signal (field
 * 38) and parent (field 4) and state of /proc/PID/stat. */
static int proc_stat(int pid, char *ret_state, int *ret_ppid, unsigned long long *ret_start,
		     int *ret_exit_signal)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd, field = 2;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p)
		return -1;
	p++;
	*ret_exit_signal = -1;
	while (*p) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		field++;
		if (field == 3)
			*ret_state = *p;
		else if (field == 4)
			*ret_ppid = atoi(p);
		else if (field == 22)
			*ret_start = strtoull(p, NULL, 10);
		else if (field == 38) {
			*ret_exit_signal = atoi(p);
			break;
		}
		while (*p && *p != ' ')
			p++;
	}
	return 0;
}

/* Children of TARGET with exit signal 0 started at or after SINCE (clock
 * ticks since boot): snapshot children. Returns how many went to CAND. */
static size_t scan_children(int target, unsigned long long since, int *cand, size_t max)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	size_t n = 0;

	while (d && (de = readdir(d)) && n < max) {
		char st = 0;
		int ppid = 0, sig = -1, pid;
		unsigned long long start = 0;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = atoi(de->d_name);
		if (proc_stat(pid, &st, &ppid, &start, &sig) == 0 && ppid == target && sig == 0 &&
		    start >= since)
			cand[n++] = pid;
	}
	if (d)
		closedir(d);
	return n;
}

/* Is a thread of PID inside clone() (/proc/PID/task/TID/syscall)? */
static bool in_clone(int pid)
{
	char path[64];
	struct dirent *de;
	bool yes = false;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	while (d && !yes && (de = readdir(d))) {
		char sp[320], buf[64];
		ssize_t n;
		int fd;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(sp, sizeof(sp), "/proc/%d/task/%s/syscall", pid, de->d_name);
		fd = open(sp, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = '\0';
			yes = atoi(buf) == SYS_clone && isdigit((unsigned char)buf[0]);
		}
	}
	if (d)
		closedir(d);
	return yes;
}

/* TracerPid of every task of PID: true when none is traced by TRACER. */
static bool none_traced_by(int pid, int tracer)
{
	char path[64], line[256];
	struct dirent *de;
	bool ok = true;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return true;
	while (ok && (de = readdir(d))) {
		char sp[320];
		FILE *f;
		int tp = 0;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(sp, sizeof(sp), "/proc/%d/task/%s/status", pid, de->d_name);
		f = fopen(sp, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "TracerPid: %d", &tp) == 1)
				break;
		fclose(f);
		ok = tp != tracer;
	}
	closedir(d);
	return ok;
}

static void rescue_sleep(void)
{
	sleep_us(5000);
}

/*
 * heapgrab (pid HG) died during a fork snapshot of TARGET. Its tracees are
 * let go by the kernel after its files are closed, so first wait for
 * that; then the candidates: CHILD when heapgrab had told us, else (it
 * died during the clone) every child of TARGET with exit signal 0 started
 * after this reaper; each is dying (PTRACE_O_EXITKILL) or exiting (its
 * _exit path); once it is a zombie, reap it.
 */
static void reaper_rescue(int target, int hg, int child, bool pending,
			  unsigned long long since)
{
	long deadline = inject_now_ms() + RESCUE_TRACED_WAIT_MS;
	struct target *t = NULL;
	struct inject_libc lc;
	int cand[64];
	size_t nc = 0;

	while (!none_traced_by(target, hg) && inject_now_ms() < deadline)
		rescue_sleep();
	if (child > 0) {
		cand[nc++] = child;
	} else if (pending) {
		/* A thread let go with the clone's registers set runs the
		 * clone now, on its own: look until its child shows up, for
		 * a while, and as long as a thread is inside clone(). */
		long until = inject_now_ms() + RESCUE_SCAN_MS;
		long limit = inject_now_ms() + CHILD_DEATH_TIMEOUT_MS;

		while (!(nc = scan_children(target, since, cand, ARRAY_SIZE(cand)))) {
			long now = inject_now_ms();

			if (in_clone(target) && now < limit)
				until = MAX(until, now + RESCUE_SCAN_MS);
			if (now >= until)
				break;
			rescue_sleep();
		}
	}
	if (!nc || target_live_open(target, &t) < 0)
		return;
	if (inject_libc_find(t, NULL, &lc) == 0) {
		for (size_t k = 0; k < nc; k++) {
			char st = 0;
			int ppid = 0, sig;
			unsigned long long start;

			deadline = inject_now_ms() + CHILD_DEATH_TIMEOUT_MS;
			while (proc_stat(cand[k], &st, &ppid, &start, &sig) == 0 && st != 'Z' &&
			       inject_now_ms() < deadline)
				rescue_sleep();
			if (proc_stat(cand[k], &st, &ppid, &start, &sig) == 0 && st == 'Z' &&
			    ppid == target)
				(void)reap_in_target(target, cand[k], &lc, RESCUE_TRACED_WAIT_MS, NULL);
		}
	}
	target_close(t);
}

static void NORETURN reaper_main(int fd, int target)
{
	static const int ignore[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGUSR1,
				      SIGUSR2, SIGALRM, SIGTSTP, SIGTTIN, SIGTTOU };
	char buf[256];
	size_t len = 0;
	int child = 0, devnull, hg = getppid();
	bool pending = false;
	unsigned long long since = 0;
	char st;
	int ppid, sig;

	for (size_t k = 0; k < ARRAY_SIZE(ignore); k++)
		signal(ignore[k], SIG_IGN);
	(void)prctl(PR_SET_NAME, "heapgrab-reaper", 0, 0, 0);
	signal(SIGCHLD, SIG_DFL);
	/* Hold none of heapgrab's files (a pipe reading heapgrab's output
	 * must see EOF when heapgrab exits). */
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int k = 0; k < 3; k++)
		if (devnull >= 0 && k != fd)
			dup2(devnull, k);
	for (int k = 3; k < 1024; k++)
		if (k != fd)
			close(k);
	if (proc_stat(getpid(), &st, &ppid, &since, &sig) < 0)
		since = 0;
	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		char *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		while ((nl = strchr(buf, '\n'))) {
			*nl = '\0';
			if (buf[0] == 'P') {
				pending = true;
				child = 0;
			} else if (buf[0] == 'C') {
				child = atoi(buf + 1);
			} else if (buf[0] == 'R') {
				pending = false;
				child = 0;
			} else if (buf[0] == 'X') {
				_exit(0);
			}
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len + 1);
		}
		if (len >= sizeof(buf) - 1)
			len = 0;	/* garbage: drop it */
	}
	/* heapgrab is gone without saying "X". */
	if (pending || child > 0)
		reaper_rescue(target, hg, child, pending, since);
	_exit(0);
}

int inject_reaper_start(int target_pid)
{
	int p[2];
	pid_t pid;

	inject_reaper_stop();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) < 0)
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(p[0]);
		close(p[1]);
		return -e;
	}
	if (pid == 0) {
		close(p[1]);
		reaper_main(p[0], target_pid);
	}
	close(p[0]);
	reaper_fd = p[1];
	reaper_pid = pid;
	return 0;
}

void inject_reaper_stop(void)
{
	if (reaper_fd < 0)
		return;
	reaper_say('X', 0);
	close(reaper_fd);
	reaper_fd = -1;
	while (waitpid(reaper_pid, NULL, 0) < 0 && errno == EINTR)
		;
	reaper_pid = 0;
}
