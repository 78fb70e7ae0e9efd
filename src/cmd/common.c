/*
 * common.c - helpers shared by the command files: diagnostics sink,
 * stdout writing, exit statuses, signal handlers, and the callbacks of the
 * shared --unwinder and --fork rows (cmd/cmd.h).
 */
#include "config.h"
#include "cmd/cmd.h"
#include "debuginfo/module.h"
#include "snapshot/snapshot.h"
#include "typing/typing.h"
#include "target/ptrace.h"
#include "util/diag.h"
#include "util/errors.h"
#include "util/strbuf.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Beyond this many warnings only a count is printed: a badly corrupted
 * heap can produce one per chunk. */
#define MAX_PRINTED_WARNINGS 20

int parse_number(const char *s, unsigned long max, unsigned long *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || s[0] == '+' || v > max)
		return -1;
	*ret = v;
	return 0;
}

static void cli_report(struct diag_sink *sink, enum diag_level level, const char *msg)
{
	if (level == DIAG_NOTE) {
		if (hg_verbose)
			fprintf(stderr, "heapgrab: note: %s\n", msg);
		return;
	}
	if (sink->nr_warnings <= MAX_PRINTED_WARNINGS)
		warning_msg("%s", msg);
}

void cli_diag_init(struct diag_sink *sink)
{
	memset(sink, 0, sizeof(*sink));
	sink->report = cli_report;
}

void cli_diag_finish(struct diag_sink *sink)
{
	if (sink->nr_warnings > MAX_PRINTED_WARNINGS)
		warning_msg("%u more warnings not shown",
			    sink->nr_warnings - MAX_PRINTED_WARNINGS);
}

int write_stdout(const struct strbuf *sb)
{
	size_t off = 0;

	fflush(stdout);
	while (off < sb->len) {
		ssize_t n = write(STDOUT_FILENO, sb->buf + off, sb->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			error_msg("write error on standard output: %s", strerror(errno));
			return EXIT_FAILURE_HG;
		}
		off += (size_t)n;
	}
	return 0;
}

int exit_status_for(int err)
{
	if (err == -HG_E_BUSY)
		return EXIT_BUSY;
	return EXIT_FAILURE_HG;
}

static void on_signal(int sig)
{
	int saved = errno;

	live_emergency_detach();
	signal(sig, SIG_DFL);
	errno = saved;
	raise(sig);
}

void install_detach_handlers(void)
{
	static const int sigs[] = {
		SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE,
		SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL,
	};
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigfillset(&sa.sa_mask);
	sa.sa_flags = SA_RESETHAND;
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
}

int snapshot_file_opts_check(const char *output, bool quiet, bool contents)
{
	if (quiet && !output)
		return usage_error("--quiet needs -o FILE (there would be no output at all)");
	if (contents && !output)
		return usage_error("--contents needs -o FILE (the image is saved there)");
	return 0;
}

int opt_unwinder_cb(const struct cmd_option *row, const char *arg)
{
	struct typing_opts *to = row->value;
	bool live = row->defval;

	if (!strcmp(arg, "libdw"))
		to->unwinder = TYPING_UNWIND_LIBDW;
	else if (!strcmp(arg, "none"))
		to->unwinder = TYPING_UNWIND_NONE;
	else if (live && !strcmp(arg, "libunwind"))
		to->unwinder = TYPING_UNWIND_LIBUNWIND;
	else
		return usage_error("--unwinder must be libdw, %snone, not '%s'",
				   live ? "libunwind or " : "", arg);
	return 0;
}

/* --no-debuginfod: libdw's debuginfod client asks nothing (module.h) */
int opt_no_debuginfod_cb(const struct cmd_option *row, const char *arg)
{
	(void)row;
	(void)arg;
	dbg_debuginfod_configure(false, false);
	return 0;
}

int opt_fork_cb(const struct cmd_option *row, const char *arg)
{
	enum snapshot_mode *mode = row->value;

	if (!arg)
		*mode = SNAPSHOT_FORK;
	else if (!strcmp(arg, "auto"))
		*mode = SNAPSHOT_FORK_AUTO;
	else
		return usage_error("--fork takes no value or 'auto', not '%s'", arg);
	return 0;
}

void typing_debug_phases(const struct snapshot *snap)
{
	struct strbuf ph = STRBUF_INIT;
	double ms = 0;

	if (!snap || !snap->typing)
		return;
	for (int p = 0; p < TYPING_PHASE__COUNT; p++)
		ms += snap->typing->phase_ms[p];
	typing_phases_text(snap->typing, &ph);
	debug_msg("typing %.3f ms%s: %s", ms,
		  snap->typing->kept_debuginfo ? " (debug info kept from the last snapshot)" : "",
		  ph.buf);
	strbuf_release(&ph);
}
