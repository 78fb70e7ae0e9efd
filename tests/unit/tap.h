/*
 * tap.h - a tiny TAP emitter for the unit tests (automake's tap-driver.sh
 * reads it). Header-only: each test is one .c file.
 *
 *   plan(3); ok(x == 1, "x is one"); is_u64(got, want, "bytes"); return done();
 */
#ifndef HEAPGRAB_TAP_H
#define HEAPGRAB_TAP_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed, tap_planned;

static inline void plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
}

__attribute__((format(printf, 2, 3)))
static inline int ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", cond ? "ok" : "not ok", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!cond)
		tap_failed++;
	return cond;
}

static inline int is_u64(uint64_t got, uint64_t want, const char *what)
{
	if (!ok(got == want, "%s", what))
		printf("#   got %" PRIu64 ", want %" PRIu64 "\n", got, want);
	return got == want;
}

static inline int is_str(const char *got, const char *want, const char *what)
{
	int c = got && want && !strcmp(got, want);

	if (!ok(c, "%s", what))
		printf("#   got '%s', want '%s'\n", got ? got : "(null)", want ? want : "(null)");
	return c;
}

static inline int done(void)
{
	if (tap_planned != tap_n)
		printf("# planned %d tests, ran %d\n", tap_planned, tap_n);
	fflush(stdout);
	return tap_failed || tap_planned != tap_n;
}

#endif /* HEAPGRAB_TAP_H */
