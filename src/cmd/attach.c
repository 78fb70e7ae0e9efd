/*
 * attach.c - `heapgrab attach PID`: snapshot a live process and print its
 * heap census; with -o FILE also save the snapshot (snapshot/file.h), and
 * with --quiet print nothing but errors.
 *
 * attach_snapshot() is the "take a live snapshot, explain failures" step,
 * shared with diff (a PID as OLD or NEW) and watch.
 */
#include "config.h"
#include "cmd/cmd.h"
#include "debuginfo/module.h"
#include "analysis/census.h"
#include "analysis/verify.h"
#include "inject/inject.h"
#include "output/census-out.h"
#include "output/verify-out.h"
#include "snapshot/file.h"
#include "snapshot/snapshot.h"
#include "typing/typing.h"
#include "util/diag.h"
#include "util/errors.h"
#include "util/strbuf.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char cmd_attach_usage[] =
	"usage: heapgrab attach [--format text|json|pprof|folded|csv|html] [--value bytes|count]\n"
	"                       [--color auto|always|never] [--debug-dir DIR] [--no-debug-info]\n"
	"                       [--no-debuginfod]\n"
	"                       [--retries N] [--top N] [-o FILE [--quiet] [--contents]]\n"
	"                       [--no-types] [--explain-types] [--unwinder libdw|libunwind|none]\n"
	"                       [--fork[=auto]] [--verify] [-v] PID\n";

enum {
	OPT_DEBUG_DIR = 256,
	OPT_NO_DEBUG_INFO,
	OPT_NO_DEBUGINFOD,
	OPT_RETRIES,
	OPT_TOP,
	OPT_QUIET,
	OPT_CONTENTS,
	OPT_FORK,
	OPT_VERIFY,
	OPT_HELP,
};

static const struct option attach_options[] = {
	OUT_LONG_OPTIONS,
	{ "debug-dir", required_argument, NULL, OPT_DEBUG_DIR },
	{ "no-debug-info", no_argument, NULL, OPT_NO_DEBUG_INFO },
	{ "no-debuginfod", no_argument, NULL, OPT_NO_DEBUGINFOD },
	{ "retries", required_argument, NULL, OPT_RETRIES },
	{ "top", required_argument, NULL, OPT_TOP },
	{ "output", required_argument, NULL, 'o' },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "contents", no_argument, NULL, OPT_CONTENTS },
	{ "fork", optional_argument, NULL, OPT_FORK },
	{ "verify", no_argument, NULL, OPT_VERIFY },
	{ "verbose", no_argument, NULL, 'v' },
	TYPING_LONG_OPTIONS,
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

int parse_fork_mode(const char *arg)
{
	if (!arg)
		return SNAPSHOT_FORK;
	if (!strcmp(arg, "auto"))
		return SNAPSHOT_FORK_AUTO;
	return -1;
}

int inject_tid_from_env(void)
{
	const char *s = getenv("HEAPGRAB_INJECT_TID");
	unsigned long v;

	return s && parse_number(s, INT_MAX, &v) == 0 ? (int)v : 0;
}

/*
 * Snapshot process PID. Returns 0, or an exit status after printing one
 * error line.
 */
int attach_snapshot(unsigned long pid, const struct snapshot_opts *sopts,
		    struct diag_sink *diag, struct snapshot **ret_snap,
		    struct snapshot_live_stats *stats)
{
	struct strbuf why = STRBUF_INIT;
	int err;

	err = snapshot_take_live((int)pid, sopts, diag, &why, ret_snap, stats);
	if (err < 0) {
		if (why.len)
			error_msg("process %lu: %s", pid, why.buf);
		else if (err == -HG_E_BUSY && sopts->mallinfo)
			error_msg("process %lu: a thread stayed inside the allocator (or held an "
				  "arena lock) for %u rounds; --verify refuses to call %s there "
				  "(it would wait for that lock)", pid,
				  sopts->max_rounds ? sopts->max_rounds : 2000, "mallinfo2()");
		else if (err == -HG_E_BUSY)
			error_msg("process %lu: a thread stayed inside the allocator for %u rounds; "
				  "try again or raise --retries", pid,
				  sopts->max_rounds ? sopts->max_rounds : 2000);
		else
			error_msg("cannot attach to process %lu: %s", pid, hg_strerror(err));
		strbuf_release(&why);
		return exit_status_for(err);
	}
	strbuf_release(&why);
	return 0;
}

int cmd_attach(int argc, char **argv)
{
	struct typing_opts topts = { 0 };
	struct snapshot_opts sopts = { .types = true, .typing = &topts };
	struct snapshot_live_stats stats;
	struct census_out_opts copts = { 0 };
	struct out_opts oo;
	struct strbuf out = STRBUF_INIT;
	struct snapshot *snap = NULL;
	struct diag_sink diag;
	struct census census;
	struct inject_mallinfo mallinfo;
	struct verify verify;
	const char *output = NULL;
	unsigned long pid, v;
	bool quiet = false, want_verify = false;
	int c, status, emitted = 0;

	out_opts_init(&oo);
	opterr = 0;	/* our own one-line messages */
	while ((c = getopt_long(argc, argv, "f:o:v", attach_options, NULL)) != -1) {
		switch (c) {
		case 'f':
		case OPT_COLOR:
		case OPT_VALUE:
			if ((status = out_opt(&oo, c, optarg, FORMATS_CENSUS)))
				return status;
			break;
		case OPT_DEBUG_DIR:
			sopts.debug_dir = optarg;
			break;
		case OPT_NO_DEBUG_INFO:
			sopts.no_debug_info = true;
			break;
		case OPT_NO_DEBUGINFOD:
			dbg_debuginfod_configure(false, false);
			break;
		case OPT_RETRIES:
			if (parse_number(optarg, 1000000, &v) < 0 || !v)
				return usage_error("--retries needs a positive number, not '%s'", optarg);
			sopts.max_rounds = (unsigned)v;
			break;
		case OPT_TOP:
			if (parse_number(optarg, UINT_MAX, &v) < 0 || !v)
				return usage_error("--top needs a positive number, not '%s'", optarg);
			copts.top = (unsigned)v;
			break;
		case 'o':
			output = optarg;
			break;
		case OPT_QUIET:
			quiet = true;
			break;
		case OPT_CONTENTS:
			sopts.keep_image = true;
			break;
		case OPT_FORK:
			c = parse_fork_mode(optarg);
			if (c < 0)
				return usage_error("--fork takes no value or 'auto', not '%s'", optarg);
			sopts.mode = (enum snapshot_mode)c;
			break;
		case OPT_VERIFY:
			want_verify = true;
			break;
		case 'v':
			hg_verbose++;
			break;
		case OPT_NO_TYPES:
		case OPT_EXPLAIN_TYPES:
		case OPT_UNWINDER:
			if (typing_opt(c, optarg, true, &sopts, &topts))
				return EXIT_USAGE;
			break;
		case OPT_HELP:
			fputs(cmd_attach_usage, stdout);
			return EXIT_OK;
		default:
			return usage_error("unknown option '%s' for attach", argv[optind - 1]);
		}
	}
	if (optind + 1 != argc)
		return usage_error(optind == argc ? "attach needs a PID" :
				   "attach takes one PID");
	if (parse_number(argv[optind], INT_MAX, &pid) < 0 || !pid)
		return usage_error("'%s' is not a process id", argv[optind]);
	if (quiet && !output)
		return usage_error("--quiet needs -o FILE (there would be no output at all)");
	if (sopts.keep_image && !output)
		return usage_error("--contents needs -o FILE (the image is saved there)");
	if (!quiet && (status = out_opts_check(&oo)))
		return status;

	if (want_verify)
		sopts.mallinfo = &mallinfo;
	sopts.inject_tid = inject_tid_from_env();

	cli_diag_init(&diag);
	install_detach_handlers();
	status = attach_snapshot(pid, &sopts, &diag, &snap, &stats);
	if (status)
		return status;

	census_build(snap, &census);
	if (want_verify)
		verify_build(snap, &census, &mallinfo, &verify);
	copts.warnings = diag.nr_warnings;
	copts.addresses = hg_verbose > 0;
	copts.color = out_color(&oo);
	if (oo.format == FORMAT_JSON) {
		census_out_json(&out, snap, &census, &copts);
		if (want_verify)
			verify_out_json_append(&out, &verify);
	} else if (oo.format != FORMAT_TEXT) {
		emitted = emit_census(&out, snap, &census, &oo, (int64_t)time(NULL));
	} else {
		census_out_text(&out, snap, &census, &copts);
		census_out_explain(&out, snap, &census, copts.top ? copts.top : 20);
		if (want_verify)
			verify_out_text(&out, &verify);
		if (stats.forked) {
			strbuf_addf(&out, "\ntarget paused %.1f ms (stop %.1f ms, %u consistency "
				    "round%s, fork %.1f ms); copied ", stats.pause_ms,
				    stats.stop_ms, stats.rounds, stats.rounds == 1 ? "" : "s",
				    stats.fork_ms);
			fmt_bytes(&out, stats.copied_bytes);
			strbuf_addf(&out, " from the frozen child in %.1f ms; walk %.1f ms",
				    stats.child_ms, stats.walk_ms);
		} else {
			if (stats.fallback[0])
				strbuf_addf(&out, "\nno fork snapshot: %s\n", stats.fallback);
			strbuf_addf(&out, "\ntarget paused %.1f ms (stop %.1f ms, %u consistency "
				    "round%s, copy %.1f ms of ", stats.pause_ms, stats.stop_ms,
				    stats.rounds, stats.rounds == 1 ? "" : "s", stats.copy_ms);
			fmt_bytes(&out, stats.copied_bytes);
			strbuf_addf(&out, "); walk %.1f ms", stats.walk_ms);
		}
		if (snap->types)
			strbuf_addf(&out, ", typing %.1f ms", stats.typing_ms);
		strbuf_addch(&out, '\n');
	}
	if (stats.forked)
		debug_msg("pause %.3f ms, stop %.3f ms, rounds %u, fork %.3f ms, child %.3f ms "
			  "(%llu bytes copied), walk %.3f ms", stats.pause_ms, stats.stop_ms,
			  stats.rounds, stats.fork_ms, stats.child_ms,
			  (unsigned long long)stats.copied_bytes, stats.walk_ms);
	else
		debug_msg("pause %.3f ms, stop %.3f ms, rounds %u, copy %.3f ms (%llu bytes), "
			  "walk %.3f ms", stats.pause_ms, stats.stop_ms, stats.rounds,
			  stats.copy_ms, (unsigned long long)stats.copied_bytes, stats.walk_ms);
	status = output ? save_snapshot(snap, diag.nr_warnings, output) : 0;
	if (!quiet && (emitted || write_stdout(&out)))
		status = EXIT_FAILURE_HG;
	cli_diag_finish(&diag);
	if (!status && (diag.nr_warnings || (want_verify && verify.nr_disagree)))
		status = EXIT_WARNINGS;
	strbuf_release(&out);
	census_release(&census);
	snapshot_free(snap);
	return status;
}
