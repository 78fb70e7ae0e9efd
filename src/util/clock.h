/*
 * clock.h - the clocks heapgrab reads (after redis's monotonic.h: one
 * place that says which clock measures what).
 *
 * monotonic_ms(): CLOCK_MONOTONIC, for every interval, deadline, timeout
 * and timing (pause times, -v timings, watch's schedule). It never jumps
 * when the wall clock is set (NTP, a user, a VM resumed), so a deadline
 * computed from it cannot expire early or never.
 *
 * wall_clock_ms(): CLOCK_REALTIME, only for timestamps people read (the
 * time axis of watch's HTML charts), never for a duration.
 */
#ifndef HEAPGRAB_CLOCK_H
#define HEAPGRAB_CLOCK_H

#include "util/compiler.h"

#include <stdint.h>

/* Nanoseconds on the monotonic clock (its origin is arbitrary). */
uint64_t monotonic_ns(void);

/* The same in milliseconds, with fractions: t1 - t0 is a duration. */
static inline double monotonic_ms(void)
{
	return (double)monotonic_ns() / 1e6;
}

/* Milliseconds since the epoch, for a timestamp shown to people. */
int64_t wall_clock_ms(void);

#endif /* HEAPGRAB_CLOCK_H */
