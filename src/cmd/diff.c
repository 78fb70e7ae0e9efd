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
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char cmd_diff_usage[] =
	"usage: heapgrab diff [--format text|json|pprof|folded|csv|html] [--value bytes|count]\n"
	"                     [--color auto|always|never] [--by type|size] [--new [--max-new N]]\n"
	"                     [--top N] [--exe BIN] [--sysroot DIR] [--debug-dir DIR]\n"
	"                     [--no-debug-info] [--retries N] [--rss] [-v] OLD NEW\n"
	"       (OLD and NEW: a snapshot file, a core dump or a process id)\n";

/* --new lists at most this many chunks unless --max-new says otherwise:
 * a leak of millions of chunks must not print millions of lines; the
 * totals still count every one. */
#define DEFAULT_MAX_NEW 50

enum {
	OPT_BY = 256,
	OPT_NEW,
	OPT_MAX_NEW,
	OPT_TOP,
	OPT_EXE,
	OPT_SYSROOT,
	OPT_DEBUG_DIR,
	OPT_NO_DEBUG_INFO,
	OPT_RETRIES,
	OPT_RSS,
	OPT_HELP,
};

static const struct option diff_options[] = {
	OUT_LONG_OPTIONS,
	{ "by", required_argument, NULL, OPT_BY },
	{ "new", no_argument, NULL, OPT_NEW },
	{ "max-new", required_argument, NULL, OPT_MAX_NEW },
	{ "top", required_argument, NULL, OPT_TOP },
	{ "exe", required_argument, NULL, OPT_EXE },
	{ "sysroot", required_argument, NULL, OPT_SYSROOT },
	{ "debug-dir", required_argument, NULL, OPT_DEBUG_DIR },
	{ "no-debug-info", no_argument, NULL, OPT_NO_DEBUG_INFO },
	{ "retries", required_argument, NULL, OPT_RETRIES },
	{ "rss", no_argument, NULL, OPT_RSS },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

struct source_opts {
	struct snapshot_opts sopts;
	struct core_opts copts;
};

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

int cmd_diff(int argc, char **argv)
{
	struct source_opts so = { .sopts = { .types = true } };
	struct diff_out_opts dopts = { 0 };
	struct out_opts oo;
	struct diff_opts opts = { .max_new = DEFAULT_MAX_NEW };
	struct strbuf out = STRBUF_INIT;
	struct snapshot *old = NULL, *new_ = NULL;
	struct diag_sink diag;
	struct diff d;
	struct rss_report old_rss, new_rss;
	bool have_rss = false;
	unsigned old_warn = 0, new_warn = 0;
	int c, status;
	unsigned long v;

	out_opts_init(&oo);
	opterr = 0;	/* our own one-line messages */
	while ((c = getopt_long(argc, argv, "f:v", diff_options, NULL)) != -1) {
		switch (c) {
		case 'f':
		case OPT_COLOR:
		case OPT_VALUE:
			if ((status = out_opt(&oo, c, optarg, FORMATS_CENSUS)))
				return status;
			break;
		case OPT_BY:
			if (!strcmp(optarg, "type"))
				dopts.by_type = true;
			else if (strcmp(optarg, "size"))
				return usage_error("--by takes 'type' or 'size', not '%s'", optarg);
			break;
		case OPT_NEW:
			opts.chunks = true;
			dopts.list_new = true;
			break;
		case OPT_MAX_NEW:
			if (parse_number(optarg, 100000000, &v) < 0)
				return usage_error("--max-new needs a number, not '%s'", optarg);
			opts.max_new = v;
			break;
		case OPT_TOP:
			if (parse_number(optarg, UINT_MAX, &v) < 0 || !v)
				return usage_error("--top needs a positive number, not '%s'", optarg);
			dopts.top = (unsigned)v;
			break;
		case OPT_EXE:
			so.copts.exe = optarg;
			break;
		case OPT_SYSROOT:
			so.copts.sysroot = optarg;
			break;
		case OPT_DEBUG_DIR:
			so.sopts.debug_dir = optarg;
			break;
		case OPT_NO_DEBUG_INFO:
			so.sopts.no_debug_info = true;
			break;
		case OPT_RETRIES:
			if (parse_number(optarg, 1000000, &v) < 0 || !v)
				return usage_error("--retries needs a positive number, not '%s'", optarg);
			so.sopts.max_rounds = (unsigned)v;
			break;
		case OPT_RSS:
			so.sopts.residency = true;
			break;
		case 'v':
			hg_verbose++;
			break;
		case OPT_HELP:
			fputs(cmd_diff_usage, stdout);
			return EXIT_OK;
		default:
			return usage_error("unknown option '%s' for diff", argv[optind - 1]);
		}
	}
	if (optind + 2 != argc)
		return usage_error(optind + 2 > argc ? "diff needs OLD and NEW" :
				   "diff takes two snapshots, OLD and NEW");
	if ((status = out_opts_check(&oo)))
		return status;

	cli_diag_init(&diag);
	status = take_source(argv[optind], &so, &diag, &old, &dopts.old_taken, &old_warn);
	if (status)
		goto out;
	status = take_source(argv[optind + 1], &so, &diag, &new_, &dopts.new_taken, &new_warn);
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
