/*
 * errors.c - error code messages and the CLI's message helpers.
 */
#include "config.h"
#include "util/errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int hg_verbose;

static const char *const hg_messages[] = {
#define E(name, msg) [HG_E_##name - HG_E__BASE] = msg,
	HG_ERRORS
#undef E
};

const char *hg_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err == 0)
		return "success";
	if (err > HG_E__BASE && err < HG_E__END)
		return hg_messages[err - HG_E__BASE];
	if (err < 4096)
		return strerror(err);
	return "unknown error";
}

ATTR_FORMAT(2, 0)
static void vmsg(const char *prefix, const char *fmt, va_list ap)
{
	char buf[4096];
	int n;

	n = snprintf(buf, sizeof(buf), "heapgrab: %s", prefix);
	if (n < 0 || (size_t)n >= sizeof(buf))
		n = 0;
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	/* One write per message so concurrent output does not interleave. */
	fprintf(stderr, "%s\n", buf);
}

void error_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

void warning_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("warning: ", fmt, ap);
	va_end(ap);
}

void debug_msg(const char *fmt, ...)
{
	va_list ap;

	if (!hg_verbose)
		return;
	va_start(ap, fmt);
	vmsg("debug: ", fmt, ap);
	va_end(ap);
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
	exit(EXIT_FAILURE_HG);
}

int usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
	fputs("Try 'heapgrab --help' for more information.\n", stderr);
	return EXIT_USAGE;
}

void hg_bug(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "heapgrab: BUG at %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}
