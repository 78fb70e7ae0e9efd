/*
 * seccomp.h - a thread's seccomp filters, read through ptrace and run on
 * the system calls an injection will make.
 *
 * Docker, Kubernetes, systemd services and systemd-nspawn put processes
 * under seccomp filters that allow almost every call. Rather than refuse
 * every filtered process, heapgrab reads the filters of the thread it is
 * about to inject into (PTRACE_SECCOMP_GET_FILTER), runs them itself
 * (inject/bpf.c) on each call the injection will make, with the thread's
 * architecture, the real arguments and instruction pointer (or "unknown"
 * where a value only exists later), and injects only when every call is
 * answered ALLOW or LOG. doc/containers.md lists the calls of each
 * injection and why.
 *
 *   seccomp_thread_mode()   "Seccomp:" of /proc/PID/task/TID/status
 *   seccomp_can_read()      may this heapgrab read filters at all? (it
 *                           must run under no filter itself and have
 *                           CAP_SYS_ADMIN in the initial user namespace)
 *   seccomp_filters_read()  every filter of a thread heapgrab has stopped
 *   seccomp_eval()          one call against every filter, with the
 *                           kernel's precedence of actions
 *   seccomp_check_calls()   every call of an injection: 0, or
 *                           -HG_E_SECCOMP and "CALL -> VERDICT by the
 *                           target's seccomp filter"
 *
 * Library code: errors are returned, sentences go to a WHY strbuf.
 */
#ifndef HEAPGRAB_INJECT_SECCOMP_H
#define HEAPGRAB_INJECT_SECCOMP_H

#include "inject/bpf.h"
#include "util/compiler.h"

struct strbuf;

/* seccomp return actions (include/uapi/linux/seccomp.h) */
#define HG_SECCOMP_RET_KILL_PROCESS	0x80000000u
#define HG_SECCOMP_RET_KILL_THREAD	0x00000000u
#define HG_SECCOMP_RET_TRAP		0x00030000u
#define HG_SECCOMP_RET_ERRNO		0x00050000u
#define HG_SECCOMP_RET_USER_NOTIF	0x7fc00000u
#define HG_SECCOMP_RET_TRACE		0x7ff00000u
#define HG_SECCOMP_RET_LOG		0x7ffc0000u
#define HG_SECCOMP_RET_ALLOW		0x7fff0000u
#define HG_SECCOMP_RET_ACTION_FULL	0xffff0000u
#define HG_SECCOMP_RET_DATA		0x0000ffffu

/* A thread's filters, newest first (the order the kernel runs them). */
struct seccomp_filters {
	size_t n;
	struct bpf_insn **prog;
	size_t *len;
};

void seccomp_filters_free(struct seccomp_filters *f);

/*
 * One system call an injection makes. Arguments and the instruction
 * pointer (the address after the `syscall` instruction) may be unknown:
 * a value the call only gets at run time (the pid a clone returns, the
 * address madvise() gets inside malloc_trim()).
 */
struct seccomp_call {
	const char *name;		/* "clone"; NULL: "syscall NR" */
	long nr;			/* its number on x86_64 */
	uint64_t args[6];
	unsigned args_known;		/* bit i: args[i] is known */
	unsigned nargs;			/* how many to show */
	const char *const *argnames;	/* NARGS names, or NULL: "arg0".. */
	taddr_t ip;
	bool ip_known;
	const char *where;		/* "inside malloc_trim()", or NULL */
};

/*
 * *C for system call NR with ARGS (NULL: none) of which KNOWN (bit i: args[i])
 * are known, at the instruction pointer IP (0: unknown); name and argument
 * names from a small table of the calls heapgrab makes (else no name).
 */
void seccomp_call_init(struct seccomp_call *c, long nr, const uint64_t *args, unsigned known,
		       taddr_t ip);

/* "Seccomp:" of /proc/PID/task/TID/status: 0 none, 1 strict, 2 filter;
 * -1 when unreadable (the thread is gone). */
int seccomp_thread_mode(int pid, int tid);

/*
 * Can this process read other processes' filters? 0, or -HG_E_SECCOMP with
 * WHY (may be NULL) saying which condition is missing: it runs under a
 * seccomp filter itself, or lacks CAP_SYS_ADMIN in the initial user
 * namespace (kernel/seccomp.c seccomp_get_filter()).
 */
MUST_CHECK int seccomp_can_read(struct strbuf *why);

/*
 * Every filter of thread TID, which must be traced by us and in a
 * ptrace-stop. *RET_F is NULL when the thread has no filter. Each program
 * is checked with bpf_check(). 0, -HG_E_SECCOMP (cannot be read or
 * checked: WHY says why), -HG_E_TARGET_GONE.
 */
MUST_CHECK int seccomp_filters_read(int tid, struct seccomp_filters **ret_f,
				    struct strbuf *why);

/* What the filters answer a call: the possible results (several when an
 * unknown value decides), or "anything" (ANY). */
struct seccomp_verdict {
	uint32_t ret[BPF_MAX_RESULTS];
	unsigned n;
	enum bpf_any any;
	bool unknown_read;
};

/* Run every filter of F on D and combine the results as the kernel does
 * (seccomp_run_filters(): the lowest action wins, the newest filter among
 * equals). 0, or -EINVAL for a program bpf_run() refuses. */
MUST_CHECK int seccomp_eval_data(const struct seccomp_filters *f, const struct bpf_data *d,
				 struct seccomp_verdict *ret);
MUST_CHECK int seccomp_eval(const struct seccomp_filters *f, const struct seccomp_call *c,
			    struct seccomp_verdict *ret);

/* Is every possible result SECCOMP_RET_ALLOW or SECCOMP_RET_LOG? */
bool seccomp_verdict_allows(const struct seccomp_verdict *v);
/*
 * Would the kernel leave the thread alive and running, whatever the call's
 * own result? ALLOW, LOG, ERRNO, and TRACE (with heapgrab as the tracer,
 * which takes no seccomp events, the kernel fails the call with ENOSYS) are;
 * KILL_*, TRAP (SIGSYS), USER_NOTIF (a supervisor answers, maybe never) and
 * unknown actions (the kernel kills) are not.
 */
bool seccomp_verdict_harmless(const struct seccomp_verdict *v);
/* "EPERM", "killed (SECCOMP_RET_KILL_PROCESS)", "EPERM or allowed (...)" */
void seccomp_verdict_describe(const struct seccomp_verdict *v, struct strbuf *sb);
/* "clone(flags=0x0, newsp=0x7ffd2000, ...)", "?" for unknown values */
void seccomp_call_describe(const struct seccomp_call *c, struct strbuf *sb);

/*
 * Every one of CALLS[0..N-1] must be allowed by F (NULL: no filter, all
 * are). 0, or -HG_E_SECCOMP with WHY "CALL -> VERDICT by the target's
 * seccomp filter" for the first that is not.
 */
MUST_CHECK int seccomp_check_calls(const struct seccomp_filters *f,
				   const struct seccomp_call *calls, size_t n,
				   struct strbuf *why);

#endif /* HEAPGRAB_INJECT_SECCOMP_H */
