/*
 * inject-internal.h - what inject/fork.c and inject/calls.c share with the
 * engine in inject/inject.c. Not for use outside src/inject/.
 */
#ifndef HEAPGRAB_INJECT_INTERNAL_H
#define HEAPGRAB_INJECT_INTERNAL_H

#include "util/compiler.h"

struct inject_libc;
struct seccomp_call;
struct strbuf;
struct target;

/* Bytes of glibc's __restore_rt up to the end of its `syscall`
 * (`mov rax,15; syscall`): where rip is at its rt_sigreturn. */
#define INJECT_RESTORE_RT_LEN 9
/* Calls an injection may plan beyond its own system call. */
#define INJECT_MAX_PLAN 8

/*
 * One injection into thread TID of process T->pid. The thread must be in a
 * ptrace-stop inside get_signal() (PTRACE_EVENT_STOP of an interrupt or of
 * a group-stop) and is left in such a stop with everything restored.
 * T supplies the memory map (for the stack room check); its thread list is
 * not used.
 *
 * Syscall (FN == 0): NR(ARGS[0..5]) through lc->syscall_insn; *RET_RESULT
 * is the raw result. With RET_CHILD non-NULL, PTRACE_O_TRACECLONE is on
 * for the call, the child's pid goes to *RET_CHILD (0 if none), and the
 * child's stack pointer (clone's newsp) is set to a word holding _exit, so
 * the child, should it ever run, exits at once.
 *
 * Call (FN != 0): FN(ARGS[0..NARGS-1]) with a SRET_LEN-byte return buffer
 * when SRET_LEN > 0 (copied to RET_SRET).
 *
 * RET_AREA_LO/RET_AREA (may be NULL): the stack bytes the injection
 * overwrote, as they were before it (malloc'd, the caller frees), so a fork
 * snapshot's child can be given them back.
 *
 * PLAN[0..NPLAN-1] (at most INJECT_MAX_PLAN): the other system calls this
 * injection will make, or lead to, that a seccomp filter must allow (the
 * calls inside a called function; the wait4 that will reap a clone's
 * child). The system call itself and the return through the signal frame
 * are added by inject_run().
 */
struct inject_req {
	long nr;			/* syscall number (FN == 0) */
	taddr_t fn;			/* function to call, or 0 */
	const char *name;		/* for messages */
	uint64_t args[6];
	size_t nargs;
	size_t sret_len;
	void *ret_sret;
	unsigned timeout_ms;
	long *ret_result;
	int *ret_child;
	taddr_t *ret_area_lo;
	unsigned char **ret_area;
	size_t *ret_area_len;
	const struct seccomp_call *plan;
	size_t nplan;
};

MUST_CHECK int inject_run(struct target *t, int tid, const struct inject_libc *lc,
			  const struct inject_req *req, struct strbuf *why);

/* Read (WRITE false) or write LEN bytes at ADDR of process PID:
 * process_vm_readv/writev, else /proc/PID/mem. 0 or an error. */
MUST_CHECK int inject_mem_io(int pid, taddr_t addr, void *buf, size_t len, bool write);

/* Milliseconds on the monotonic clock. */
long inject_now_ms(void);

/*
 * Wait for the next stop or exit of TID (a tracee of ours) until DEADLINE
 * (inject_now_ms() value). 0 with *RET_STATUS, -HG_E_TIMEOUT, -errno.
 */
MUST_CHECK int inject_wait(int tid, long deadline, int *ret_status);

#endif /* HEAPGRAB_INJECT_INTERNAL_H */
