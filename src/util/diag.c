/*
 * diag.c - route non-fatal findings to the caller's sink; see diag.h.
 */
#include "config.h"
#include "util/diag.h"

#include <stdarg.h>
#include <stdio.h>

void diag_report(struct diag_sink *sink, enum diag_level level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (!sink)
		return;
	if (level == DIAG_WARNING)
		sink->nr_warnings++;
	else
		sink->nr_notes++;
	if (!sink->report)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sink->report(sink, level, buf);
}
