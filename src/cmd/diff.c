/*
 * diff.c - `heapgrab diff OLD NEW`: the growth between two snapshots.
 *
 * OLD and NEW may each be a snapshot file, a core dump or a live process
 * id, so `heapgrab diff before.hgs 4242` compares a saved snapshot with
 * the process as it is now. An argument is taken as:
 *   - a file that starts with "\x7fELF": a core (as `heapgrab core`);
 *   - any other existing file: a snapshot file (a damaged or foreign file
 *     gets the reader's one-line reason);
 *   - otherwise, all digits: a process id (as `heapgrab attach`);
 * OLD is taken first, then NEW: with two live arguments NEW is the later.
 *
 * Exit status: 0; 1 when either snapshot had walk warnings; 2 when either
 * cannot be taken or read; 3 busy target; 64 usage.
 */
#include "config.h"
#include "cmd/cmd.h"
#include "analysis/diff.h"
#include "analysis/rss.h"
#include "output/diff-out.h"
#include "output/rss-out.h"
#include "snapshot/file.h"
#include "snapshot/snapshot.h"
#include "target/core.h"
#include "util/diag.h"
#include "util/errors.h"
#include "util/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* --new lists at most this many chunks unless --max-new says otherwise:
 * a leak of millions of chunks must not print millions of lines; the
 * totals still count every one. */
#define DEFAULT_MAX_NEW 50

static int cmd_diff(int argc, char **argv);
static int by_cb(const struct cmd_option *row, const char *arg);

struct source_opts {
	struct snapshot_opts sopts;
	struct core_opts copts;
};

/* The command line (diff_options stores into it). */
static struct {
	struct source_opts so;
	struct diff_out_opts dopts;
	struct out_opts oo;
	uint64_t max_new;
} cl = { .so = { .sopts = { .types = true } }, .max_new = DEFAULT_MAX_NEW };

static const struct cmd_option diff_options[] = {
	OPT_GROUP_OUTPUT(&cl.oo, FORMATS_CENSUS),
	OPT_CALLBACK("by", &cl.dopts.by_type, "type|size", by_cb),
	OPT_BOOL(0, "new", &cl.dopts.list_new),
	{ .type = OPTION_U64, .long_name = "max-new", .value = &cl.max_new, .argh = "N",
	  .max = 100000000, .what = "a number", .flags = OPTF_NEST },
	OPT_TOP(&cl.dopts.top),
	OPT_GROUP_DEBUGINFO(&cl.so.copts.exe, &cl.so.copts.sysroot, &cl.so.sopts.debug_dir,
			    &cl.so.sopts.no_debug_info),
	OPT_RETRIES(&cl.so.sopts.max_rounds),
	OPT_RSS(&cl.so.sopts),
	OPT_VERBOSE(),
	OPT_END(),
};

const struct command command_diff = {
	.name = "diff",
	.fn = cmd_diff,
	.summary = "growth between two snapshots (files, cores or live PIDs)",
	.options = diff_options,
	.operands = "OLD NEW",
	.complete_operands = "file+pid",
	.notes = "       (OLD and NEW: a snapshot file, a core dump or a process id)\n",
};

static int by_cb(const struct cmd_option *row, const char *arg)
{
	if (!strcmp(arg, "type"))
		*(bool *)row->value = true;
	else if (strcmp(arg, "size"))
		return usage_error("--by takes 'type' or 'size', not '%s'", arg);
	return 0;
}

/*
 * Take or load the snapshot ARG names (see the top of the file). Returns
 * 0, or an exit status after one error line.
 */
static int take_source(const char *arg, const struct source_opts *o, struct diag_sink *diag,
		       struct snapshot **ret_snap, int64_t *ret_taken, unsigned *ret_warnings)
{
	struct snapshot_file_info info;
	unsigned char magic[4] = { 0 };
	unsigned long pid;
	unsigned before = diag->nr_warnings;
	struct stat st;
	int status, fd;

	if (stat(arg, &st) < 0 && parse_number(arg, INT_MAX, &pid) == 0 && pid) {
		install_detach_handlers();
		status = attach_snapshot(pid, &o->sopts, diag, ret_snap, NULL);
		*ret_taken = (int64_t)time(NULL);
		*ret_warnings = diag->nr_warnings - before;
		return status;
	}
	fd = open(arg, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, magic, sizeof(magic)) < 0)
			memset(magic, 0, sizeof(magic));
		close(fd);
	}
	if (!memcmp(magic, "\177ELF", 4)) {
		status = core_snapshot(arg, &o->copts, &o->sopts, diag, ret_snap);
		*ret_taken = (int64_t)time(NULL);
		*ret_warnings = diag->nr_warnings - before;
		return status;
	}
	status = load_snapshot(arg, ret_snap, &info);
	if (!status) {
		*ret_taken = info.taken;
		*ret_warnings = info.warnings;
	}
	return status;
}

static int cmd_diff(int argc, char **argv)
{
	struct source_opts so;
	struct diff_out_opts dopts;
	struct out_opts oo;
	struct diff_opts opts = { 0 };
	struct strbuf out = STRBUF_INIT;
	struct snapshot *old = NULL, *new_ = NULL;
	struct diag_sink diag;
	struct diff d;
	struct rss_report old_rss, new_rss;
	bool have_rss = false;
	unsigned old_warn = 0, new_warn = 0;
	int status;

	out_opts_init(&cl.oo);
	status = parse_options(&command_diff, argc, argv, &argc);
	if (status >= 0)
		return status;
	so = cl.so;
	dopts = cl.dopts;
	oo = cl.oo;
	opts.chunks = dopts.list_new;
	opts.max_new = (size_t)cl.max_new;
	if (argc != 2)
		return usage_error(argc < 2 ? "diff needs OLD and NEW" :
				   "diff takes two snapshots, OLD and NEW");
	if ((status = out_opts_check(&oo)))
		return status;

	cli_diag_init(&diag);
	status = take_source(argv[0], &so, &diag, &old, &dopts.old_taken, &old_warn);
	if (status)
		goto out;
	status = take_source(argv[1], &so, &diag, &new_, &dopts.new_taken, &new_warn);
	if (status)
		goto out;

	diff_build(old, new_, &opts, &d);
	dopts.color = out_color(&oo);
	status = 0;
	/* both with their residency: the resident figures side by side */
	if (old->rss && new_->rss && rss_build(old, NULL, &old_rss) == 0) {
		if (rss_build(new_, NULL, &new_rss) == 0)
			have_rss = true;
		else
			rss_release(&old_rss);
	}
	if (oo.format == FORMAT_JSON) {
		diff_out_json(&out, &d, &dopts);
		if (have_rss)
			rss_out_diff_json_append(&out, &old_rss, &new_rss);
	} else if (oo.format == FORMAT_TEXT) {
		diff_out_text(&out, old, new_, &d, &dopts);
		if (have_rss)
			rss_out_diff_text(&out, &old_rss, &new_rss);
	} else
		status = emit_diff(&out, old, new_, &d, &oo, dopts.old_taken, dopts.new_taken);
	diff_release(&d);
	if (status)
		goto out;
	status = write_stdout(&out);
	cli_diag_finish(&diag);
	if (!status && (old_warn || new_warn))
		status = EXIT_WARNINGS;
out:
	if (have_rss) {
		rss_release(&old_rss);
		rss_release(&new_rss);
	}
	strbuf_release(&out);
	snapshot_free(old);
	snapshot_free(new_);
	return status;
}
