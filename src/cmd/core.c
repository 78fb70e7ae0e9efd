/*
 * core.c - `heapgrab core CORE`: the census of a core dump, the same as
 * `heapgrab attach` gives on the live process.
 *
 * The walk cannot tell a core from a live process: target/core.c serves
 * the bytes (PT_LOAD data, then the mapped files, checked by build-id).
 * What differs is only here: problems with the core itself (truncated,
 * files missing or not the ones that were mapped) are reported first, and
 * a libc that cannot be read exactly is fatal, because every address of
 * the allocator comes from it.
 *
 * -o FILE saves the snapshot (snapshot/file.h); --quiet prints nothing but
 * errors. core_snapshot() is shared with diff (a core as OLD or NEW).
 */
#include "config.h"
#include "cmd/cmd.h"
#include "analysis/census.h"
#include "analysis/rss.h"
#include "heap/glibc.h"
#include "output/census-out.h"
#include "output/rss-out.h"
#include "snapshot/snapshot.h"
#include "typing/typing.h"
#include "target/core.h"
#include "target/target.h"
#include "util/diag.h"
#include "util/errors.h"
#include "util/strbuf.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int cmd_core(int argc, char **argv);

/* The command line (core_options stores into it). */
static struct {
	struct typing_opts topts;
	struct snapshot_opts sopts;
	struct core_opts copts;
	struct census_out_opts oopts;
	struct out_opts oo;
	const char *output;
	bool quiet;
} cl = { .sopts = { .types = true, .typing = &cl.topts } };

static const struct cmd_option core_options[] = {
	OPT_GROUP_OUTPUT(&cl.oo, FORMATS_CENSUS),
	OPT_GROUP_DEBUGINFO(&cl.copts.exe, &cl.copts.sysroot, &cl.sopts.debug_dir,
			    &cl.sopts.no_debug_info),
	OPT_TOP(&cl.oopts.top),
	OPT_SNAPSHOT_FILE(&cl.output),
	OPT_QUIET(&cl.quiet),
	OPT_CONTENTS(&cl.sopts.keep_image),
	OPT_GROUP_TYPING(&cl.sopts, &cl.topts, false),
	OPT_RSS(&cl.sopts),
	OPT_VERBOSE(),
	OPT_END(),
};

const struct command command_core = {
	.name = "core",
	.fn = cmd_core,
	.summary = "the same census from an ELF core dump (kernel or gcore)",
	.options = core_options,
	.operands = "CORE",
	.complete_operands = "file",
};

/*
 * Report the core's own problems. Returns 0, or an exit status when the
 * libc the core maps cannot be read exactly.
 */
static int check_core(struct target *t, const char *core, struct diag_sink *diag)
{
	const struct core_problem *probs;
	const struct core_file *files;
	size_t nr, nf;

	(void)target_core_check_files(t);
	nf = target_core_files(t, &files);
	for (size_t i = 0; i < nf; i++) {
		if (!glibc_is_libc_path(files[i].path) || files[i].status == 0)
			continue;
		if (files[i].status == -HG_E_BUILD_ID_MISMATCH)
			error_msg("core '%s': libc '%s' is not the one the process had mapped "
				  "(build-id mismatch); point --sysroot at the right root", core,
				  files[i].host_path);
		else
			error_msg("core '%s': cannot read libc '%s': %s (use --sysroot)", core,
				  files[i].host_path, hg_strerror(files[i].status));
		return EXIT_FAILURE_HG;
	}
	nr = target_core_problems(t, &probs);
	for (size_t i = 0; i < nr; i++)
		diag_report(diag, DIAG_WARNING, "core '%s': %s", core, probs[i].msg);
	if (target_core_problems_dropped(t))
		diag_report(diag, DIAG_WARNING, "core '%s': %zu more problems", core,
			    target_core_problems_dropped(t));
	return 0;
}

/*
 * Snapshot the core at PATH. Returns 0, or an exit status after printing
 * one error line. COPTS is copied (allow_truncated may be set on the copy).
 */
int core_snapshot(const char *path, const struct core_opts *copts_in,
		  const struct snapshot_opts *sopts, struct diag_sink *diag,
		  struct snapshot **ret_snap)
{
	struct core_opts copts = *copts_in;
	struct strbuf why = STRBUF_INIT;
	struct target *t = NULL;
	int err, status;

	err = target_core_open(path, &copts, &t);
	if (err == -HG_E_TRUNCATED) {
		/* Open what is there; the census says what it could not read. */
		copts.allow_truncated = true;
		err = target_core_open(path, &copts, &t);
	}
	if (err < 0) {
		error_msg("cannot read core '%s': %s", path, hg_strerror(err));
		return EXIT_FAILURE_HG;
	}
	status = check_core(t, path, diag);
	if (status) {
		target_close(t);
		return status;
	}
	err = snapshot_take_target(t, sopts, diag, &why, ret_snap);
	target_close(t);
	if (err < 0) {
		if (why.len)
			error_msg("core '%s': %s", path, why.buf);
		else
			error_msg("core '%s': %s", path, hg_strerror(err));
		strbuf_release(&why);
		return exit_status_for(err);
	}
	strbuf_release(&why);
	return 0;
}

static int cmd_core(int argc, char **argv)
{
	struct snapshot_opts sopts;
	struct core_opts copts;
	struct census_out_opts oopts;
	struct out_opts oo;
	struct strbuf out = STRBUF_INIT;
	struct snapshot *snap = NULL;
	struct diag_sink diag;
	struct census census;
	struct rss_report report;
	bool have_rss = false;
	const char *path, *output;
	bool quiet;
	int status, emitted = 0;

	out_opts_init(&cl.oo);
	status = parse_options(&command_core, argc, argv, &argc);
	if (status >= 0)
		return status;
	sopts = cl.sopts;
	copts = cl.copts;
	oopts = cl.oopts;
	oo = cl.oo;
	output = cl.output;
	quiet = cl.quiet;
	if (argc != 1)
		return usage_error(argc == 0 ? "core needs a core file" :
				   "core takes one core file");
	path = argv[0];
	if ((status = snapshot_file_opts_check(output, quiet, sopts.keep_image)) ||
	    (!quiet && (status = out_opts_check(&oo))))
		return status;

	cli_diag_init(&diag);
	status = core_snapshot(path, &copts, &sopts, &diag, &snap);
	if (status)
		return status;

	typing_debug_phases(snap);
	census_build(snap, &census);
	oopts.warnings = diag.nr_warnings;
	oopts.addresses = hg_verbose > 0;
	/* --rss: a core has no residency; the section says so and gives the
	 * allocator's own figures (thresholds, arenas, fragmentation) */
	if (snap->rss && rss_build(snap, NULL, &report) == 0) {
		have_rss = true;
		oo.rss = &report;
	}
	emitted = emit_census_report(&out, snap, &census, &oopts, &oo, true, (int64_t)time(NULL));
	/* NEEDSWORK: the snapshot's time is when it was read from the core;
	 * the core's own time (its file mtime) would be closer. */
	status = output ? save_snapshot(snap, diag.nr_warnings, output) : 0;
	if (!quiet && (emitted || write_stdout(&out)))
		status = EXIT_FAILURE_HG;
	cli_diag_finish(&diag);
	if (!status && diag.nr_warnings)
		status = EXIT_WARNINGS;
	strbuf_release(&out);
	census_release(&census);
	if (have_rss)
		rss_release(&report);
	snapshot_free(snap);
	return status;
}
