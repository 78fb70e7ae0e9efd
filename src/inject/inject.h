/*
 * inject.h - running code in a stopped target: the one module that writes.
 *
 * heapgrab reads its targets and never writes them, except here. This
 * module injects one system call through the target's own `syscall`
 * instruction (clone for fork snapshots, wait4 to reap the snapshot's
 * child), and calls a function of the target's libc the way a debugger
 * does (mallinfo2 for --verify, malloc_trim for `heapgrab trim`). Every
 * write happens inside one save/restore protocol (inject.c's opening
 * comment): registers, FP/xstate, the signal mask and the stack bytes used
 * are saved first and put back afterwards, a thread that was blocked in a
 * system call restarts it exactly as it would have, and pending signals
 * stay pending. Should heapgrab die in the middle, the thread finds a
 * signal frame on its stack that returns it to where it was.
 *
 *   inject_libc_find()    before the stop: the libc addresses injection
 *                         needs (a syscall instruction, __restore_rt,
 *                         _exit, the malloc functions)
 *   inject_check()        may code be injected into this process at all?
 *                         (seccomp filters, 32-bit processes)
 *   inject_pick_thread()  a parked thread with room on its stack
 *   inject_syscall()      one system call in thread I
 *   inject_call()         one libc function call in thread I
 *   inject_mallinfo()     mallinfo2() (mallinfo() before glibc 2.33)
 *   inject_malloc_trim()  malloc_trim(PAD)
 *   inject_fork() ...     fork snapshots (inject/fork.c)
 *
 * Threads: every function that takes a thread index needs that thread
 * parked in the stop heapgrab caused (live_thread_parked(), target/ptrace.h)
 * and leaves it parked there with its registers unchanged, so the live
 * backend's view of the thread stays true. The other threads are not
 * touched; the caller keeps them stopped (a called function must not meet a
 * thread half way through the allocator).
 *
 * Errors: 0 or a negative code. -HG_E_SECCOMP (the thread's seccomp
 * filter would not allow a call the injection makes: nothing was written;
 * or a called function made a call it was not expected to make that the
 * filter would kill it for: the call was failed with ENOSYS instead, the
 * function finished and the thread was restored), -HG_E_NO_GADGET,
 * -HG_E_UNSUPPORTED (not an x86_64 process), -HG_E_INJECT_CRASH (a fault
 * inside a called function; the thread was restored), -HG_E_INJECT_STOPPED
 * (a SIGSTOP arrived; the thread was restored and stays group-stopped),
 * -HG_E_TIMEOUT (the call did not return in time; abandoned and restored),
 * -HG_E_TARGET_GONE, -errno. WHY (may be NULL) receives a sentence for the
 * user when there is more to say than the code.
 */
#ifndef HEAPGRAB_INJECT_H
#define HEAPGRAB_INJECT_H

#include "util/compiler.h"

struct strbuf;
struct target;

/* What injection needs from the target's libc, as target addresses. */
struct inject_libc {
	taddr_t base;		/* load address of libc (its first mapping) */
	char version[16];	/* "2.36", "" when unknown */
	unsigned ver_major, ver_minor;
	/*
	 * A `syscall` instruction after which the code returns at once
	 * (`syscall; cmp rax,-4095; jae ...; ret` in glibc's syscall(), or
	 * `syscall; ret`): both the injected thread and, should it ever run,
	 * the fork snapshot's child leave through that `ret`.
	 */
	taddr_t syscall_insn;
	taddr_t restore_rt;	/* `mov rax,15; syscall`: glibc's __restore_rt */
	taddr_t exit_fn;	/* _exit */
	taddr_t mallinfo2;	/* 0 before glibc 2.33 */
	taddr_t mallinfo;
	taddr_t malloc_trim;
	/* after the `syscall` of madvise() and brk(), 0 when not found */
	taddr_t madvise_ret, brk_ret;
};

/*
 * Find libc in T (mapped file libc.so.6 or libc-2.N.so at offset 0), read
 * the file (through T's root) and fill *RET. The instruction bytes are
 * checked against T's memory. Returns 0, -HG_E_NO_LIBC, -HG_E_NO_GADGET,
 * -HG_E_FILE_NOT_FOUND, or -errno.
 */
MUST_CHECK int inject_libc_find(struct target *t, struct strbuf *why,
				struct inject_libc *ret);

/*
 * May code be injected into process PID at all? Refuses (-HG_E_SECCOMP),
 * with WHY saying why, when every thread runs in seccomp strict mode or
 * under a filter heapgrab cannot read (it runs under one itself, or lacks
 * CAP_SYS_ADMIN). Reads /proc only. Whether a filter allows what a given
 * injection will do is decided later, under the stop, for the thread that
 * makes the calls (every injection function below may refuse with
 * -HG_E_SECCOMP and a WHY naming the call and the filter's verdict).
 */
MUST_CHECK int inject_check(int pid, struct strbuf *why);

/*
 * A thread of the stopped target T to inject into: parked, not in seccomp
 * strict mode nor under a filter heapgrab cannot read, a 64-bit process,
 * with room on its stack. PREFER_TID (0: none) is taken when it qualifies
 * (tests choose the thread this way); otherwise the main thread, otherwise
 * the first that does, threads without a filter first. Returns the
 * index in T->threads, or -HG_E_SECCOMP / -HG_E_UNSUPPORTED /
 * -HG_E_INJECT_STOPPED (every thread group-stopped) / -ENOSPC.
 */
MUST_CHECK int inject_pick_thread(struct target *t, int prefer_tid, struct strbuf *why);

/*
 * Run system call NR(ARGS) in thread I of T, through LC->syscall_insn.
 * *RET_RESULT gets the raw result (-errno on failure). With
 * RET_CHILD non-NULL the call may create a process (clone): the thread is
 * traced with PTRACE_O_TRACECLONE for the call and *RET_CHILD gets the new
 * child's pid (0 when none was created); the child is then stopped,
 * traced by us and owned by the caller. TIMEOUT_MS bounds the call.
 */
MUST_CHECK int inject_syscall(struct target *t, size_t i, const struct inject_libc *lc,
			      long nr, const uint64_t args[6], unsigned timeout_ms,
			      long *ret_result, int *ret_child, struct strbuf *why);

/*
 * Call FN(ARGS[0..NARGS-1]) in thread I of T. With SRET_LEN > 0 the
 * function returns a struct in memory: a buffer of SRET_LEN bytes is made
 * on the thread's stack, passed as the hidden first argument, and copied
 * to RET_SRET after the return. (The function's rax is not available:
 * the return path is glibc's signal return, see inject.c.) NAME is the
 * function's name for messages. TIMEOUT_MS bounds the call.
 */
MUST_CHECK int inject_call(struct target *t, size_t i, const struct inject_libc *lc,
			   const char *name, taddr_t fn, const uint64_t *args, size_t nargs,
			   size_t sret_len, void *ret_sret, unsigned timeout_ms,
			   struct strbuf *why);

/*
 * The allocator's own statistics, from an injected mallinfo2() (or
 * mallinfo() before glibc 2.33, whose int fields wrap above 2 GiB:
 * `wraps32` is then set and comparisons are modulo 2^32).
 */
struct inject_mallinfo {
	const char *function;		/* "mallinfo2" or "mallinfo" (static) */
	bool wraps32;
	uint64_t arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks,
		 uordblks, fordblks, keepcost;
};

MUST_CHECK int inject_mallinfo(struct target *t, size_t i, const struct inject_libc *lc,
			       struct inject_mallinfo *ret, struct strbuf *why);
/* malloc_trim(PAD) in thread I. */
MUST_CHECK int inject_malloc_trim(struct target *t, size_t i, const struct inject_libc *lc,
				  uint64_t pad, unsigned timeout_ms, struct strbuf *why);

/* ---- fork snapshots (inject/fork.c) ---- */

struct inject_child;

/*
 * Make the stopped, quiescent target T fork a frozen copy of itself: an
 * injected clone(0) in thread I (exit signal 0: no SIGCHLD, invisible to
 * the target's wait() without __WALL). The child is stopped before it runs
 * a single instruction, traced by heapgrab with PTRACE_O_EXITKILL (if
 * heapgrab dies, the child dies), and has the target's memory as it was at
 * the clone; its stack copy is put back as it was before the injection.
 * The caller detaches the target (it runs on), reads the child's memory,
 * then calls inject_child_release(). *RET_CHILD is the caller's.
 * A clone refused by the kernel (RLIMIT_NPROC, pids.max, memory) gives
 * -errno with WHY saying so.
 */
MUST_CHECK int inject_fork(struct target *t, size_t i, const struct inject_libc *lc,
			   struct inject_child **ret_child, struct strbuf *why);
int inject_child_pid(const struct inject_child *c);

/*
 * Kill the child, collect it as its tracer, and reap it in the target (it
 * is the target's child: until the target waits for it, it would stay a
 * zombie): one thread of the target (running again by now) is seized for a
 * moment and runs an injected wait4(child, NULL, __WALL|WNOHANG). Frees C.
 * Returns 0, or an error when the zombie could not be reaped (WHY says so;
 * the target itself is fine).
 */
MUST_CHECK int inject_child_release(struct target *t, struct inject_child *c,
				    const struct inject_libc *lc, struct strbuf *why);

/*
 * The reaper: a small helper process forked from heapgrab for the duration
 * of a fork snapshot. If heapgrab dies (even by SIGKILL) while a snapshot
 * child exists, PTRACE_O_EXITKILL kills the child, and the reaper, seeing
 * its pipe close, reaps the dead child in the target the way
 * inject_child_release() does, then exits. inject_reaper_start() before the
 * stop, inject_reaper_stop() when the snapshot is over (it exits and is
 * waited for). Both are harmless to call when no reaper runs.
 */
MUST_CHECK int inject_reaper_start(int target_pid);
void inject_reaper_stop(void);

#endif /* HEAPGRAB_INJECT_H */
