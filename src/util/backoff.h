/*
 * backoff.h - waiting for another process: sleeps, and the backoff
 * schedules of the polling loops, written down in one place.
 *
 * A polling loop (is the thread stopped yet? has the target left its
 * allocator? has the injected call returned?) calls backoff_sleep() with
 * its schedule and its round number (0, 1, 2 ...). A schedule is a list
 * of steps: rounds below `until` wait `us` microseconds, where 0 means
 * sched_yield() (give the CPU to the target, which on a loaded machine is
 * often what it is waiting for). The last step has until = UINT_MAX.
 *
 * The schedules, and why each is what it is:
 *
 *   backoff_thread_stop  (target/ptrace.c: a thread to report its
 *       group-stop after PTRACE_INTERRUPT): yield 4 rounds, then 20 us up
 *       to round 20, then 200 us. A running thread stops within
 *       microseconds; one in a system call a little later.
 *   backoff_consistency  (snapshot/build.c: between rounds of the
 *       consistency loop, with the target running so it can leave the
 *       allocator): 50 us up to round 50, 200 us up to 500, then 1 ms.
 *       About 2000 rounds then cover a couple of seconds.
 *   backoff_injected_call (inject/inject.c: a call or syscall running in
 *       the target): yield 200 rounds, then 20 us up to round 2000, then
 *       200 us. Most calls (mallinfo2) return within microseconds; a
 *       malloc_trim of a large heap takes milliseconds.
 */
#ifndef HEAPGRAB_BACKOFF_H
#define HEAPGRAB_BACKOFF_H

#include "util/compiler.h"

struct backoff_step {
	unsigned until;		/* rounds below this ... */
	unsigned us;		/* ... wait this long (0: sched_yield()) */
};

extern const struct backoff_step backoff_thread_stop[];
extern const struct backoff_step backoff_consistency[];
extern const struct backoff_step backoff_injected_call[];

/* What SCHEDULE says for round ROUND: microseconds, 0 for a yield. */
unsigned backoff_wait_us(const struct backoff_step *schedule, unsigned round);
/* Wait as SCHEDULE says for round ROUND. */
void backoff_sleep(const struct backoff_step *schedule, unsigned round);

/* Sleep US microseconds; a signal ends it early (callers loop on their
 * own condition or deadline). */
void sleep_us(unsigned long us);

#endif /* HEAPGRAB_BACKOFF_H */
