/*
 * top.c - `heapgrab top PID|CORE|FILE --retained`: the roots and chunks
 * that retain the most memory, from the dominator tree of the heap graph
 * (analysis/dominator.h): the bytes that would be freed if that reference
 * went away.
 *
 * --retained is the only ranking so far and may be left out.
 *
 * Exit status: 0 complete; 1 with warnings from the walk or the scan; 2
 * nothing (no snapshot); 3 busy target; 64 usage.
 */
#include "config.h"
#include "cmd/cmd.h"
#include "analysis/dominator.h"
#include "analysis/graph.h"
#include "output/leaks-out.h"
#include "util/clock.h"
#include "util/diag.h"
#include "util/errors.h"
#include "util/strbuf.h"

#include <stdio.h>
#include <time.h>

static int cmd_top(int argc, char **argv);

static struct image_cmd ic;	/* the command line */

static const struct cmd_option top_options[] = {
	OPT_BOOL(0, "retained", &ic.retained),
	OPT_FORMAT(&ic.format, FORMATS_TEXT_JSON),
	OPT_TOP(&ic.top),
	IMAGE_CMD_DEBUGINFO(&ic),
	OPT_BREAK(),
	IMAGE_CMD_REST(&ic),
	OPT_END(),
};

const struct command command_top = {
	.name = "top",
	.fn = cmd_top,
	.summary = "--retained: the roots and chunks that retain the most memory",
	.options = top_options,
	.operands = "PID|CORE|FILE",
	.complete_operands = "file+pid",
};

static int cmd_top(int argc, char **argv)
{
	struct retained_out_opts oopts = { 0 };
	struct strbuf out = STRBUF_INIT;
	struct image_graph ig;
	struct retained r;
	struct diag_sink diag;
	double t0;
	int status;

	status = image_cmd_parse(&command_top, argc, argv, &ic);
	if (status >= 0)
		return status;
	if (ic.nr_args != 1)
		return usage_error(ic.nr_args ? "top takes one PID, core or snapshot file" :
				   "top needs a PID, a core or a snapshot file");

	cli_diag_init(&diag);
	status = image_graph_open(ic.args[0], &ic, &diag, &ig);
	if (status)
		goto out;
	t0 = monotonic_ms();
	retained_compute(ig.graph, &r);
	debug_msg("dominators: %.1f ms", monotonic_ms() - t0);
	oopts.top = ic.top;
	oopts.addresses = hg_verbose > 0;
	if (ic.format == FORMAT_JSON)
		retained_out_json(&out, ig.graph, &r, &oopts);
	else
		retained_out_text(&out, ig.graph, &r, &oopts);
	retained_release(&r);
	status = write_stdout(&out);
	image_graph_done(&ig, "top --retained");
	if (!status && (ig.warnings || diag.nr_warnings))
		status = EXIT_WARNINGS;
out:
	cli_diag_finish(&diag);
	image_graph_close(&ig);
	strbuf_release(&out);
	return status;
}
