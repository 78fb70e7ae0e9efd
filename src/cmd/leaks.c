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
#include "analysis/profile.h"
#include "output/leaks-out.h"
#include "snapshot/snapshot.h"
#include "util/clock.h"
#include "util/diag.h"
#include "util/errors.h"
#include "util/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int cmd_leaks(int argc, char **argv);

static struct image_cmd ic;	/* the command line */

static const struct cmd_option leaks_options[] = {
	OPT_FORMAT(&ic.format, FORMATS_PROFILE),
	OPT_TOP(&ic.top),
	IMAGE_CMD_DEBUGINFO(&ic),
	OPT_BREAK(),
	IMAGE_CMD_REST(&ic),
	OPT_BREAK(),
	OPT_END(),
};

const struct command command_leaks = {
	.name = "leaks",
	.fn = cmd_leaks,
	.summary = "live chunks no root can reach (needs memory: PID, core or --contents)",
	.options = leaks_options,
	.operands = "PID|CORE|FILE",
	.complete_operands = "file+pid",
};

/* profile_include_fn: the leaked chunks (per walk chunk, set below) */
static bool is_leaked(void *ctx, const struct snapshot *s, size_t chunk)
{
	(void)s;
	return ((const uint8_t *)ctx)[chunk];
}

/* The leaked chunks as a pprof or folded profile: one stack per type (and
 * size, for untyped chunks), the values the leaked counts and bytes. */
static int emit_leaks_profile(struct strbuf *out, const struct heap_graph *g,
			      const struct leak_report *r, int format)
{
	const struct snapshot *s = g->snap;
	uint8_t *leaked = calloc(s->walk.nr_chunks + 1, 1);
	struct profile_opts popts = { .include = is_leaked };
	struct out_opts oo;
	struct profile p;
	int status;

	if (!leaked)
		return EXIT_FAILURE_HG;
	for (size_t n = 0; n < g->nr_nodes; n++)
		if (r->state[n] == LEAK_LEAKED)
			leaked[g->chunk[n]] = 1;
	popts.include_ctx = leaked;
	profile_from_snapshot(s, &popts, &p);
	out_opts_init(&oo);
	oo.format = format;
	status = out_opts_check(&oo);
	if (!status)
		status = emit_profile(out, &p, &oo, NULL, 0, (int64_t)time(NULL), 0);
	profile_release(&p);
	free(leaked);
	return status;
}

static int cmd_leaks(int argc, char **argv)
{
	struct leaks_out_opts oopts = { 0 };
	struct strbuf out = STRBUF_INIT;
	struct image_graph ig;
	struct leak_report r;
	struct diag_sink diag;
	double t0;
	int status;

	status = image_cmd_parse(&command_leaks, argc, argv, &ic);
	if (status >= 0)
		return status;
	if (ic.nr_args != 1)
		return usage_error(ic.nr_args ? "leaks takes one PID, core or snapshot file" :
				   "leaks needs a PID, a core or a snapshot file");

	cli_diag_init(&diag);
	status = image_graph_open(ic.args[0], &ic, &diag, &ig);
	if (status)
		goto out;
	t0 = monotonic_ms();
	leaks_find(ig.graph, &r);
	debug_msg("leaks: %.1f ms", monotonic_ms() - t0);
	oopts.top = ic.top;
	oopts.addresses = hg_verbose > 0;
	if (ic.format == FORMAT_PPROF || ic.format == FORMAT_FOLDED) {
		status = emit_leaks_profile(&out, ig.graph, &r, ic.format);
		leaks_release(&r);
		if (status)
			goto done;
	} else {
		if (ic.format == FORMAT_JSON)
			leaks_out_json(&out, ig.graph, &r, &oopts);
		else
			leaks_out_text(&out, ig.graph, &r, &oopts);
		leaks_release(&r);
	}
	status = write_stdout(&out);
done:
	image_graph_done(&ig, "leaks");
	if (!status && (ig.warnings || diag.nr_warnings))
		status = EXIT_WARNINGS;
out:
	cli_diag_finish(&diag);
	image_graph_close(&ig);
	strbuf_release(&out);
	return status;
}
