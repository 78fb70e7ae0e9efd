/*
 * workers.h - a few helper threads that run one function in parallel.
 *
 * heapgrab is single-threaded except where a job splits into independent
 * shares of bytes: the copy of a stopped target's memory (one share per
 * CPU: process_vm_readv runs at one core's memcpy speed) and the faulting
 * in of its destination before the stop. A struct workers is N threads
 * that wait for a job; workers_run() hands every thread the same
 * function with its index and returns when all have finished;
 * workers_run_shares() runs a job's NR shares on however many threads
 * there are.
 *
 * The threads block every signal, so the CLI's handlers (which detach a
 * stopped target, and ptrace works only from the tracing thread) always
 * run in the main thread. They have small stacks: the jobs are loops over
 * system calls.
 *
 * Ownership: workers_free() joins and frees; accepts NULL.
 */
#ifndef HEAPGRAB_WORKERS_H
#define HEAPGRAB_WORKERS_H

#include "util/compiler.h"

struct workers;

/* The CPUs this process may run on (sched_getaffinity), at least 1. */
unsigned workers_cpus(void);
/* HEAPGRAB_THREADS=N (1 <= N <= WORKERS_MAX): the threads every parallel
 * job must use, for tests and benchmarks; 0 when unset or not such N. */
unsigned workers_forced(void);

/*
 * N threads (1 <= N <= WORKERS_MAX). Returns NULL when no thread could be
 * created (then run the job in the caller).
 */
#define WORKERS_MAX 64
struct workers *workers_new(unsigned n);
unsigned workers_count(const struct workers *w);

/*
 * Start FN(ARG, I) in thread I for every I < workers_count(W) and return
 * at once; workers_wait() waits for all of them. One job at a time.
 */
void workers_start(struct workers *w, void (*fn)(void *arg, unsigned i), void *arg);
void workers_wait(struct workers *w);
/* workers_start() then workers_wait(). */
void workers_run(struct workers *w, void (*fn)(void *arg, unsigned i), void *arg);

/*
 * Shares: FN(ARG, I) once for every I < NR, whatever the number of
 * threads (thread K runs K, K + workers_count(W), ...). workers_new() may
 * make fewer threads than asked (pthread_create failing under a thread or
 * pids limit), so a job cut into N shares runs them this way, never one
 * per thread. workers_start_shares() returns at once (W not NULL);
 * workers_run_shares() returns when all are done, and with W NULL runs
 * them in the caller.
 */
void workers_start_shares(struct workers *w, unsigned nr, void (*fn)(void *arg, unsigned i),
			  void *arg);
void workers_run_shares(struct workers *w, unsigned nr, void (*fn)(void *arg, unsigned i),
			void *arg);

void workers_free(struct workers *w);

#endif /* HEAPGRAB_WORKERS_H */
