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
#include "analysis/census.h"
#include "analysis/rss.h"
#include "analysis/verify.h"
#include "inject/inject.h"
#include "output/census-out.h"
#include "output/rss-out.h"
#include "output/verify-out.h"
#include "snapshot/file.h"
#include "snapshot/snapshot.h"
#include "typing/typing.h"
#include "util/diag.h"
#include "util/errors.h"
#include "util/strbuf.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int cmd_attach(int argc, char **argv);

/* The command line (attach_options stores into it). */
static struct {
	struct typing_opts topts;
	struct snapshot_opts sopts;
	struct census_out_opts copts;
	struct out_opts oo;
	const char *output;
	bool quiet, verify;
} cl = { .sopts = { .types = true, .typing = &cl.topts } };

static const struct cmd_option attach_options[] = {
	OPT_FORMAT(&cl.oo.format, FORMATS_CENSUS),
	OPT_VALUE(&cl.oo),
	OPT_COLOR(&cl.oo.color),
	OPT_DEBUG_DIR(&cl.sopts.debug_dir),
	OPT_NO_DEBUG_INFO(&cl.sopts.no_debug_info),
	OPT_RETRIES(&cl.sopts.max_rounds),
	OPT_TOP(&cl.copts.top),
	OPT_SNAPSHOT_FILE(&cl.output),
	OPT_QUIET(&cl.quiet),
	OPT_CONTENTS(&cl.sopts.keep_image),
	OPT_GROUP_TYPING(&cl.sopts, &cl.topts, true),
	OPT_FORK(&cl.sopts.mode),
	OPT_BOOL(0, "verify", &cl.verify),
	OPT_RSS(&cl.sopts),
	OPT_VERBOSE(),
	OPT_END(),
};

const struct command command_attach = {
	.name = "attach",
	.fn = cmd_attach,
	.summary = "snapshot a live process and print its heap census",
	.options = attach_options,
	.operands = "PID",
	.complete_operands = "pid",
};

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
	typing_debug_phases(*ret_snap);
	return 0;
}

static int cmd_attach(int argc, char **argv)
{
	struct snapshot_opts sopts;
	struct snapshot_live_stats stats;
	struct census_out_opts copts;
	struct out_opts oo;
	struct strbuf out = STRBUF_INIT;
	struct snapshot *snap = NULL;
	struct diag_sink diag;
	struct census census;
	struct inject_mallinfo mallinfo;
	struct verify verify;
	struct rss_report report;
	const char *output;
	unsigned long pid;
	bool quiet, want_verify, have_rss = false;
	int status, emitted = 0;

	out_opts_init(&cl.oo);
	status = parse_options(&command_attach, argc, argv, &argc);
	if (status >= 0)
		return status;
	sopts = cl.sopts;
	copts = cl.copts;
	oo = cl.oo;
	output = cl.output;
	quiet = cl.quiet;
	want_verify = cl.verify;
	if (argc != 1)
		return usage_error(argc == 0 ? "attach needs a PID" : "attach takes one PID");
	if (parse_number(argv[0], INT_MAX, &pid) < 0 || !pid)
		return usage_error("'%s' is not a process id", argv[0]);
	if ((status = snapshot_file_opts_check(output, quiet, sopts.keep_image)) ||
	    (!quiet && (status = out_opts_check(&oo))))
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
	if (snap->rss && rss_build(snap, NULL, &report) == 0) {
		have_rss = true;
		rss_warn_missing(&report, (int)pid, &diag);
		oo.rss = &report;
	}
	copts.warnings = diag.nr_warnings;
	copts.addresses = hg_verbose > 0;
	emitted = emit_census_report(&out, snap, &census, &copts, &oo, true, (int64_t)time(NULL));
	if (oo.format == FORMAT_JSON) {
		if (want_verify)
			verify_out_json_append(&out, &verify);
	} else if (oo.format == FORMAT_TEXT) {
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
			if (have_rss)
				strbuf_addf(&out, ", pagemap %.1f ms", stats.residency_ms);
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
			  "walk %.3f ms; before the stop: buffers %.3f ms, pre-copied %llu bytes, "
			  "%llu changed", stats.pause_ms, stats.stop_ms, stats.rounds, stats.copy_ms,
			  (unsigned long long)stats.copied_bytes, stats.walk_ms, stats.prepare_ms,
			  (unsigned long long)stats.precopied_bytes,
			  (unsigned long long)stats.changed_bytes);
	status = output ? save_snapshot(snap, diag.nr_warnings, output) : 0;
	if (!quiet && (emitted || write_stdout(&out)))
		status = EXIT_FAILURE_HG;
	cli_diag_finish(&diag);
	if (!status && (diag.nr_warnings || (want_verify && verify.nr_disagree)))
		status = EXIT_WARNINGS;
	strbuf_release(&out);
	census_release(&census);
	if (have_rss)
		rss_release(&report);
	snapshot_free(snap);
	return status;
}
