/*
 * diag.h - non-fatal findings from library code.
 *
 * Library code never prints. When it finds something worth telling the
 * user but can go on (a corrupt chunk, a list that is longer than its
 * count, a module without debug info), it calls diag_report() with a
 * severity and the addresses involved; the CLI's sink prints a line and
 * counts warnings for the exit status. A NULL sink swallows everything.
 */
#ifndef HEAPGRAB_DIAG_H
#define HEAPGRAB_DIAG_H

#include "util/compiler.h"

enum diag_level {
	DIAG_NOTE,	/* informational; does not change the exit status */
	DIAG_WARNING,	/* the result is incomplete or suspect: exit status 1 */
};

struct diag_sink {
	void (*report)(struct diag_sink *sink, enum diag_level level, const char *msg);
	unsigned nr_warnings;
	unsigned nr_notes;
	void *data;
};

/* Formats the message and passes it to SINK (which may be NULL). */
void diag_report(struct diag_sink *sink, enum diag_level level,
		 const char *fmt, ...) ATTR_FORMAT(3, 4);

#endif /* HEAPGRAB_DIAG_H */
