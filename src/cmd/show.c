/*
 * show.c - `heapgrab show FILE`: the census of a saved snapshot.
 *
 * The file gives back the same struct snapshot attach (or core) had, plus
 * the warning count it reported, so `show --format json` prints exactly
 * the bytes `attach --format json` printed when the snapshot was taken.
 * The text output ends with when and by which heapgrab it was taken.
 *
 * Exit status: as attach's for the snapshot (1 when its walk reported
 * warnings, which the JSON counts); 2 when the file cannot be read or is
 * damaged (one line saying why); 64 usage.
 *
 * Also here: save_snapshot(), the "-o FILE" step of attach, core and
 * watch.
 */
#include "config.h"
#include "cmd/cmd.h"
#include "analysis/census.h"
#include "analysis/rss.h"
#include "output/census-out.h"
#include "output/rss-out.h"
#include "snapshot/file.h"
#include "snapshot/snapshot.h"
#include "util/clock.h"
#include "util/errors.h"
#include "util/strbuf.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static int cmd_show(int argc, char **argv);

/* The command line (show_options stores into it). */
static struct {
	struct census_out_opts copts;
	struct out_opts oo;
} cl;

static const struct cmd_option show_options[] = {
	OPT_GROUP_OUTPUT(&cl.oo, FORMATS_CENSUS),
	OPT_TOP(&cl.copts.top),
	OPT_VERBOSE(),
	OPT_END(),
};

const struct command command_show = {
	.name = "show",
	.fn = cmd_show,
	.summary = "the census of a saved snapshot file (attach/core -o FILE)",
	.options = show_options,
	.operands = "FILE",
	.complete_operands = "file",
};

/* Save S (taken now, with WARNINGS) to PATH: 0, or an exit status after
 * one error line. */
int save_snapshot(const struct snapshot *s, unsigned warnings, const char *path)
{
	struct snapshot_file_info info;
	double t0, t1;
	struct stat st;
	int err;

	snapshot_file_info_now(&info, warnings);
	t0 = monotonic_ms();
	err = snapshot_write_file(s, &info, path);
	if (err < 0) {
		error_msg("cannot write snapshot '%s': %s", path, hg_strerror(err));
		return EXIT_FAILURE_HG;
	}
	t1 = monotonic_ms();
	if (hg_verbose && stat(path, &st) == 0)
		debug_msg("snapshot '%s': %zu chunks in %lld bytes (%.2f per chunk), written in "
			  "%.1f ms", path, s->walk.nr_chunks, (long long)st.st_size,
			  s->walk.nr_chunks ? (double)st.st_size / (double)s->walk.nr_chunks : 0.0,
			  t1 - t0);
	return 0;
}

/* Read PATH: 0, or an exit status after one error line. */
int load_snapshot(const char *path, struct snapshot **ret_snap,
		  struct snapshot_file_info *ret_info)
{
	struct strbuf why = STRBUF_INIT;
	int err = snapshot_read_file(path, &why, ret_snap, ret_info);

	if (err < 0) {
		if (why.len)
			error_msg("cannot read snapshot '%s': %s", path, why.buf);
		else
			error_msg("cannot read snapshot '%s': %s", path, hg_strerror(err));
		strbuf_release(&why);
		return EXIT_FAILURE_HG;
	}
	strbuf_release(&why);
	return 0;
}

static int cmd_show(int argc, char **argv)
{
	struct census_out_opts copts;
	struct out_opts oo;
	struct snapshot_file_info info;
	struct strbuf out = STRBUF_INIT;
	struct snapshot *snap = NULL;
	struct census census;
	struct rss_report report;
	bool have_rss = false;
	int status;

	out_opts_init(&cl.oo);
	status = parse_options(&command_show, argc, argv, &argc);
	if (status >= 0)
		return status;
	copts = cl.copts;
	oo = cl.oo;
	if (argc != 1)
		return usage_error(argc == 0 ? "show needs a snapshot file" :
				   "show takes one snapshot file");
	if ((status = out_opts_check(&oo)))
		return status;

	status = load_snapshot(argv[0], &snap, &info);
	if (status)
		return status;
	census_build(snap, &census);
	copts.warnings = info.warnings;
	copts.addresses = hg_verbose > 0;
	/* a snapshot saved with its residency (attach --rss -o, rss -o) shows
	 * it as attach did */
	if (snap->rss && rss_build(snap, NULL, &report) == 0) {
		have_rss = true;
		oo.rss = &report;
	}
	status = emit_census_report(&out, snap, &census, &copts, &oo, false, info.taken);
	if (status)
		goto out;
	if (oo.format == FORMAT_TEXT) {
		time_t t = (time_t)info.taken;
		struct tm tm;
		char when[64] = "?";

		if (localtime_r(&t, &tm))
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", &tm);
		strbuf_addf(&out, "\nsnapshot taken %s by heapgrab %s (file format %u.%u)",
			    when, info.version[0] ? info.version : "?", info.major, info.minor);
		if (info.warnings)
			strbuf_addf(&out, "; %u warning%s when taken", info.warnings,
				    info.warnings == 1 ? "" : "s");
		strbuf_addch(&out, '\n');
	}
	status = write_stdout(&out);
	if (!status && info.warnings)
		status = EXIT_WARNINGS;
out:
	strbuf_release(&out);
	census_release(&census);
	if (have_rss)
		rss_release(&report);
	snapshot_free(snap);
	return status;
}
