/*
 * backoff.c - sleeps and the polling loops' backoff schedules
 * (backoff.h says what each schedule is for).
 */
#include "config.h"
#include "util/backoff.h"

#include <limits.h>
#include <sched.h>
#include <time.h>

const struct backoff_step backoff_thread_stop[] = {
	{ 4, 0 }, { 20, 20 }, { UINT_MAX, 200 },
};

const struct backoff_step backoff_consistency[] = {
	{ 50, 50 }, { 500, 200 }, { UINT_MAX, 1000 },
};

const struct backoff_step backoff_injected_call[] = {
	{ 200, 0 }, { 2000, 20 }, { UINT_MAX, 200 },
};

void sleep_us(unsigned long us)
{
	struct timespec ts = {
		.tv_sec = (time_t)(us / 1000000),
		.tv_nsec = (long)(us % 1000000) * 1000,
	};

	nanosleep(&ts, NULL);
}

unsigned backoff_wait_us(const struct backoff_step *schedule, unsigned round)
{
	while (round >= schedule->until)
		schedule++;
	return schedule->us;
}

void backoff_sleep(const struct backoff_step *schedule, unsigned round)
{
	unsigned us = backoff_wait_us(schedule, round);

	if (us)
		sleep_us(us);
	else
		sched_yield();
}
