/*
 * ptrace.h - the live backend: a running process, stopped for a moment.
 *
 * Life cycle (each step may fail; target_close() always detaches):
 *
 *   target_live_open(pid)   read /proc/PID/maps, exe, root; nothing stopped
 *   live_prepare()          allocate and fault in copy buffers (running)
 *   live_stop()             PTRACE_SEIZE + PTRACE_INTERRUPT every thread,
 *                           rescanning /proc/PID/task until no new thread
 *                           appears; registers of every thread are read
 *   live_resume_some() /    let some threads run on and stop them again
 *   live_interrupt_some()   (the consistency loop: threads caught inside
 *                           the allocator are let out of it)
 *   live_freeze()           copy the writable private memory of the process
 *                           into heapgrab (process_vm_readv, fallback
 *                           /proc/PID/mem); later reads come from the copy
 *   live_detach()           every thread resumes; signals that arrived
 *                           while stopped are delivered
 *
 * Reads before live_freeze() go to the live process. Reads after it come
 * from the copy first, then (for read-only file mappings that were not
 * copied, e.g. RELRO) from the live process if it still exists.
 *
 * This backend only reads: it never writes target memory or registers.
 */
#ifndef HEAPGRAB_PTRACE_H
#define HEAPGRAB_PTRACE_H

#include "target/target.h"

struct strbuf;

MUST_CHECK int target_live_open(int pid, struct target **ret_target);
/*
 * Before live_stop(): allocate and fault in the copy buffers of the large
 * writable regions, so the copy under the stop runs at memory speed.
 * RANGES (sorted; NULL: all of every region live_freeze() copies) says
 * which bytes will be copied: a region gets a buffer when at least 16 MiB
 * of it will.
 */
MUST_CHECK int live_prepare(struct target *t, const struct target_range *ranges, size_t nr);
/*
 * Wait for the faulting in live_prepare() started (live_stop() waits too;
 * a caller that times the stop waits first, since the target runs).
 */
void live_prepare_wait(struct target *t);
/*
 * The pre-copy (src/target/ptrace-precopy.c): bytes live_prepare() copied
 * into the buffers while the process ran, and bytes found changed (and
 * copied again) under the stop since live_prepare().
 */
void live_precopy_stats(const struct target *t, uint64_t *ret_precopied, uint64_t *ret_changed);
/* Whether live_prepare() pre-copies (default yes) or only faults in: a
 * --fork=auto snapshot copies only when the fork fails. */
void live_set_precopy(struct target *t, bool on);
MUST_CHECK int live_stop(struct target *t);
/* Resume (PTRACE_CONT) the threads whose index has which[i] set; threads in
 * a group-stop (the process was SIGSTOPped before we came) are never resumed. */
MUST_CHECK int live_resume_some(struct target *t, const bool *which);
/* Stop again the threads resumed by live_resume_some() and refresh their
 * registers. */
MUST_CHECK int live_interrupt_some(struct target *t, const bool *which);
/* Re-read /proc/PID/maps (after the process is stopped). */
MUST_CHECK int live_refresh_maps(struct target *t);
/* Copy writable private memory; *ret_bytes gets the number of bytes copied. */
MUST_CHECK int live_freeze(struct target *t, uint64_t *ret_bytes);
/*
 * Copy only COPY (ranges in any order; they may overlap): the image holds
 * those bytes and, for each of the ZERO ranges (whole mappings of the
 * process), zeros wherever COPY does not reach into it. For a reader that
 * knows what it will read (the census: heap/glibc.h glibc_copy_plan()),
 * and that reads zeros in the ZERO ranges the way it reads the bytes it
 * skipped. *ret_bytes gets the number of bytes copied.
 */
MUST_CHECK int live_freeze_ranges(struct target *t, const struct target_range *copy,
				  size_t nr_copy, const struct target_range *zero, size_t nr_zero,
				  uint64_t *ret_bytes);
/*
 * Read process PID instead of the target from now on (reads and freezes),
 * through /proc/PID/mem: the frozen copy-on-write child of a fork snapshot
 * (src/inject/fork.c), which has the target's memory as it was at the
 * fork. PID 0: the target again. The regions and the stacks' live parts
 * stay the target's (its maps and registers, read while it was stopped).
 * PID must be traced by us and stopped.
 */
void live_read_from(struct target *t, int pid);
/*
 * After live_read_from(T, PID): read PID in place from now on instead of
 * a copy (a fork snapshot's child, which holds the instant while it
 * lives): what live_freeze() would copy, read on demand through a cache
 * of about CACHE_BYTES (at least 8 MiB). Pointers from target_map() stay
 * valid while at least seven more 1 MiB blocks are read. Ends with
 * live_read_from(T, 0). 0, or -EINVAL when T reads the running target.
 */
MUST_CHECK int live_stream(struct target *t, size_t cache_bytes);
/* The bytes live_freeze() would copy (the regions' sizes, stacks from
 * their live part), whatever can be read of them. */
uint64_t live_copy_bytes(const struct target *t);
/* Bytes live_stream() has read from the process so far. */
uint64_t live_stream_bytes(const struct target *t);
/* After live_freeze(): move the frozen copy into a new memimage target
 * (regions, threads, pid, exe copied; the bytes moved, not copied) and
 * return it, or NULL when nothing was frozen. Later reads of T go to the
 * live process. */
struct target *live_take_image(struct target *t);
/* Resume and detach every thread. Safe to call twice. */
void live_detach(struct target *t);
/* Has process PID exited (gone, or a zombie waiting for its parent)? */
bool live_process_exited(int pid);
/* True between live_stop() and live_detach(). */
bool live_is_stopped(const struct target *t);
/* Raw syscall number the thread was stopped in, or -1 when not in a syscall. */
long live_thread_syscall(const struct target *t, size_t i);
/*
 * Is thread I parked in the ptrace-stop heapgrab caused (PTRACE_EVENT_STOP
 * after PTRACE_INTERRUPT), so that src/inject/ may run code in it? False
 * for a group-stop (the process was SIGSTOPped), a resumed or an exited
 * thread.
 */
bool live_thread_parked(const struct target *t, size_t i);
/* live_freeze() with the bytes read from process PID (live_read_from()). */
MUST_CHECK int live_freeze_from(struct target *t, int pid, uint64_t *ret_bytes);

/*
 * Why may heapgrab not trace a process? The kernel says only EPERM; these
 * are the facts its checks look at (kernel/ptrace.c __ptrace_may_access(),
 * security/commoncap.c cap_ptrace_access_check(), security/yama), as
 * /proc shows them. A field that could not be read is left as
 * ptrace_perm_gather() initialises it: unknown, and then not blamed.
 */
struct ptrace_perm {
	unsigned uid, gid;		/* heapgrab's real uid and gid */
	unsigned t_uid[3], t_gid[3];	/* the process's real, effective, saved */
	bool t_ids_known;
	bool cap_sys_ptrace;		/* CAP_SYS_PTRACE in heapgrab's effective set */
	uint64_t caps, t_caps;		/* permitted sets, heapgrab's and the process's */
	bool t_caps_known;
	bool t_dumpable;		/* false: set-uid, or PR_SET_DUMPABLE 0 */
	bool other_userns;		/* the process is in another user namespace */
	int yama;			/* Yama's ptrace_scope; -1: no Yama */
	bool descendant;		/* the process descends from heapgrab */
	int seccomp;			/* heapgrab's own "Seccomp:" mode */
	/* ptrace(2) fails before any permission check (a request on
	 * heapgrab itself gave this errno instead of ESRCH): a seccomp
	 * filter or a security module refuses the system call itself */
	int syscall_refused;
};

/* The facts about tracing PID from this process, from /proc. */
void ptrace_perm_gather(int pid, struct ptrace_perm *ret);
/* One sentence, for "heapgrab: process PID: ...": which check refused
 * (the first one the facts show), and what would pass it. Appended to
 * WHY. Pure: no system calls (the unit tests feed it facts). */
void ptrace_perm_explain(const struct ptrace_perm *p, struct strbuf *why);
/* Both: why the kernel refused PID to us (after -HG_E_NOT_PERMITTED). */
void live_permission_why(int pid, struct strbuf *why);

/*
 * Async-signal-safe: detach every thread heapgrab has seized (best effort).
 * For signal handlers of the CLI (SIGINT, SIGTERM, SIGHUP, SIGSEGV, ...).
 * The kernel also resumes seized threads when heapgrab dies, but detaching
 * first keeps group-stop state and pending signals right.
 */
void live_emergency_detach(void);

#endif /* HEAPGRAB_PTRACE_H */
