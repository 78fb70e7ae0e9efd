/*
 * leaks.c - `heapgrab leaks PID|CORE|FILE`: the live chunks no root can
 * reach, by type, with the heads of the leaked structures.
 *
 * The snapshot needs its memory image: a live process is attached as by
 * `heapgrab attach` (the frozen copy is kept), a core brings its own, a
 * snapshot file must have been saved with --contents (cmd/source.c). The
 * analysis runs after the target was detached.
 *
 * Exit status: 0 the report is complete (whether or not anything leaked);
 * 1 the walk or the scan had warnings (corrupt chunks, memory missing from
 * the image: leaks may be overstated); 2 no report (no such process, not a
 * core, a snapshot without contents, ...); 3 busy target; 64 usage.
 */
#include "config.h"
#include "cmd/cmd.h"
#include "analysis/graph.h"
#include "analysis/leaks.h"
#include "output/leaks-out.h"
#include "util/diag.h"
#include "util/errors.h"
#include "util/strbuf.h"

#include <stdio.h>
#include <time.h>

const char cmd_leaks_usage[] =
	"usage: heapgrab leaks [--format text|json] [--top N] [--exe BIN] [--sysroot DIR]\n"
	"                      [--debug-dir DIR] [--no-debug-info] [--retries N] [-v]\n"
	"                      PID|CORE|FILE\n";

int cmd_leaks(int argc, char **argv)
{
	struct leaks_out_opts oopts = { 0 };
	struct strbuf out = STRBUF_INIT;
	struct image_graph ig;
	struct leak_report r;
	struct diag_sink diag;
	struct image_cmd ic;
	struct timespec t0, t1;
	int status;

	status = image_cmd_parse(argc, argv, cmd_leaks_usage, &ic);
	if (status >= 0)
		return status;
	if (ic.nr_args != 1)
		return usage_error(ic.nr_args ? "leaks takes one PID, core or snapshot file" :
				   "leaks needs a PID, a core or a snapshot file");

	cli_diag_init(&diag);
	status = image_graph_open(ic.args[0], &ic, &diag, &ig);
	if (status)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	leaks_find(ig.graph, &r);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	debug_msg("leaks: %.1f ms", (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
		  (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	oopts.top = ic.top;
	oopts.addresses = hg_verbose > 0;
	if (ic.format == FORMAT_JSON)
		leaks_out_json(&out, ig.graph, &r, &oopts);
	else
		leaks_out_text(&out, ig.graph, &r, &oopts);
	leaks_release(&r);
	status = write_stdout(&out);
	image_graph_done(&ig, "leaks");
	if (!status && (ig.warnings || diag.nr_warnings))
		status = EXIT_WARNINGS;
out:
	cli_diag_finish(&diag);
	image_graph_close(&ig);
	strbuf_release(&out);
	return status;
}
