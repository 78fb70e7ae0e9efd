/*
 * rss.c - `heapgrab rss PID`: where the resident memory of a process is,
 * and what a trim would give back.
 *
 * One live snapshot with its residency (snapshot_opts.residency: pagemap
 * in the stop, smaps after it; doc/glibc-malloc.md §14), then the accounting of
 * analysis/rss.c printed as text, JSON (doc/json-output.md, "rss") or an
 * HTML page with the breakdown as a chart. --fork takes the snapshot
 * from a forked copy, as attach does; the accounting is the same. -o FILE
 * saves the snapshot, residency included, for `show` and `diff`.
 *
 * A process whose malloc heapgrab cannot walk (not glibc's, a static
 * binary, a glibc whose layout is unknown) still gets the accounting of
 * what is outside malloc, with a warning that says why malloc is missing.
 *
 * Exit status: 0; 1 with warnings (the walk's, a residency source that
 * could not be read, malloc not walked); 2 nothing (no such process, not
 * permitted...); 3 busy; 64 usage.
 */
#include "config.h"
#include "cmd/cmd.h"
#include "analysis/census.h"
#include "analysis/profile.h"
#include "analysis/rss.h"
#include "output/html.h"
#include "output/rss-out.h"
#include "snapshot/snapshot.h"
#include "util/diag.h"
#include "util/errors.h"
#include "util/strbuf.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int cmd_rss(int argc, char **argv);

#define FORMATS_RSS ((1u << FORMAT_TEXT) | (1u << FORMAT_JSON) | (1u << FORMAT_HTML))

/* The command line (rss_options stores into it). */
static struct {
	struct snapshot_opts sopts;
	struct out_opts oo;
	struct rss_out_opts ro;
	const char *output;
} cl = { .sopts = { .residency = true } };

static const struct cmd_option rss_options[] = {
	OPT_FORMAT(&cl.oo.format, FORMATS_RSS),
	OPT_COLOR(&cl.oo.color),
	OPT_TOP(&cl.ro.top),
	OPT_FORK(&cl.sopts.mode),
	OPT_DEBUG_DIR(&cl.sopts.debug_dir),
	OPT_NO_DEBUG_INFO(&cl.sopts.no_debug_info),
	OPT_RETRIES(&cl.sopts.max_rounds),
	OPT_STRING_F('o', "output", &cl.output, "FILE", OPTF_LONG_ALIAS, "@file"),
	OPT_VERBOSE(),
	OPT_END(),
};

const struct command command_rss = {
	.name = "rss",
	.fn = cmd_rss,
	.summary = "where the resident memory is, and what a trim would give back",
	.options = rss_options,
	.operands = "PID",
	.complete_operands = "pid",
};


/* Errors that mean "not a glibc heap heapgrab can walk": the rest of the
 * accounting is still possible. */
static bool malloc_unwalkable(int err)
{
	return err == -HG_E_NO_LIBC || err == -HG_E_FOREIGN_MALLOC ||
	       err == -HG_E_NO_LIBC_LAYOUT || err == -HG_E_NO_MAIN_ARENA ||
	       err == -HG_E_NO_MP;
}

/*
 * The snapshot of PID with its residency: a live snapshot, or, when its
 * malloc cannot be walked, the residency alone. Returns 0 or an exit
 * status after one error line.
 */
int rss_snapshot(unsigned long pid, const struct snapshot_opts *sopts,
		 struct diag_sink *diag, struct snapshot **ret_snap,
		 struct snapshot_live_stats *stats)
{
	struct strbuf why = STRBUF_INIT, why2 = STRBUF_INIT;
	int err, status = 0;

	err = snapshot_take_live((int)pid, sopts, diag, &why, ret_snap, stats);
	if (err == 0)
		goto out;
	if (!malloc_unwalkable(err)) {
		/* as attach_snapshot() says it */
		if (why.len)
			error_msg("process %lu: %s", pid, why.buf);
		else if (err == -HG_E_BUSY)
			error_msg("process %lu: a thread stayed inside the allocator for %u rounds; "
				  "try again or raise --retries", pid,
				  sopts->max_rounds ? sopts->max_rounds : 2000);
		else
			error_msg("cannot attach to process %lu: %s", pid, hg_strerror(err));
		status = exit_status_for(err);
		goto out;
	}
	if (!why.len)
		strbuf_addstr(&why, hg_strerror(err));
	err = snapshot_take_residency((int)pid, why.buf, sopts->pagemap_read, diag, &why2,
				      ret_snap);
	if (err < 0) {
		error_msg("cannot attach to process %lu: %s", pid,
			  why2.len ? why2.buf : hg_strerror(err));
		status = exit_status_for(err);
		goto out;
	}
	diag_report(diag, DIAG_WARNING, "process %lu: %s: only the memory outside malloc is "
		    "accounted", pid, why.buf);
	if (stats)
		memset(stats, 0, sizeof(*stats));
out:
	strbuf_release(&why);
	strbuf_release(&why2);
	return status;
}

/* A warning for every residency source that could not be read. */
void rss_warn_missing(const struct rss_report *r, int pid, struct diag_sink *diag)
{
	if (!r->live)
		return;
	if (!r->pagemap)
		diag_report(diag, DIAG_WARNING, "cannot read /proc/%d/pagemap (%s): malloc's "
			    "memory is not split between chunks", pid, hg_strerror(r->pagemap_err));
	if (!r->smaps)
		diag_report(diag, DIAG_WARNING, "cannot read /proc/%d/smaps (%s): memory outside "
			    "malloc is not counted", pid, hg_strerror(r->smaps_err));
}

static void rss_html(struct strbuf *out, const struct snapshot *s, const struct rss_report *r)
{
	struct strbuf title = STRBUF_INIT, sub = STRBUF_INIT;
	struct census census;
	struct profile prof;
	struct html_report hr = { .mode = HTML_CENSUS };

	census_build(s, &census);
	profile_from_snapshot(s, /* opts= */ NULL, &prof);
	strbuf_addf(&title, "heapgrab rss: process %d", s->meta.pid);
	if (s->meta.exe)
		strbuf_addf(&title, " (%s)", s->meta.exe);
	strbuf_addf(&sub, "glibc %s, %zu thread%s: where the resident memory is", s->meta.glibc,
		    s->meta.nr_threads, s->meta.nr_threads == 1 ? "" : "s");
	hr.title = title.buf;
	hr.subtitle = sub.buf;
	hr.profile = &prof;
	hr.census = &census;
	hr.rss = r;
	html_write(out, &hr);
	profile_release(&prof);
	census_release(&census);
	strbuf_release(&title);
	strbuf_release(&sub);
}

static int cmd_rss(int argc, char **argv)
{
	struct snapshot_opts sopts;
	struct snapshot_live_stats stats = { 0 };
	struct rss_out_opts ro;
	struct out_opts oo;
	struct strbuf out = STRBUF_INIT;
	struct snapshot *snap = NULL;
	struct rss_report report;
	struct diag_sink diag;
	const char *output;
	unsigned long pid;
	int status;

	out_opts_init(&cl.oo);
	status = parse_options(&command_rss, argc, argv, &argc);
	if (status >= 0)
		return status;
	sopts = cl.sopts;
	oo = cl.oo;
	ro = cl.ro;
	output = cl.output;
	if (argc != 1)
		return usage_error(argc == 0 ? "rss needs a PID" : "rss takes one PID");
	if (parse_number(argv[0], INT_MAX, &pid) < 0 || !pid)
		return usage_error("'%s' is not a process id", argv[0]);
	if ((status = out_opts_check(&oo)))
		return status;

	sopts.inject_tid = inject_tid_from_env();
	/* tests of the read() path on kernels with PAGEMAP_SCAN */
	sopts.pagemap_read = getenv("HEAPGRAB_PAGEMAP_READ") != NULL;
	cli_diag_init(&diag);
	install_detach_handlers();
	status = rss_snapshot(pid, &sopts, &diag, &snap, &stats);
	if (status)
		return status;
	if (rss_build(snap, NULL, &report) < 0)
		BUG("rss: snapshot without residency");
	rss_warn_missing(&report, (int)pid, &diag);
	ro.addresses = hg_verbose > 0;
	ro.color = out_color(&oo);
	if (oo.format == FORMAT_JSON)
		rss_out_json_doc(&out, snap, &report, diag.nr_warnings);
	else if (oo.format == FORMAT_HTML)
		rss_html(&out, snap, &report);
	else
		rss_out_text(&out, snap, &report, &ro);
	debug_msg("pause %.3f ms (pagemap %.3f ms for %llu pages, copy %.3f ms), smaps %.3f ms "
		  "after, walk %.3f ms", stats.pause_ms, stats.residency_ms,
		  (unsigned long long)(snap->rss ? snap->rss->res.pagemap_pages : 0),
		  stats.copy_ms, snap->rss ? snap->rss->res.smaps_ms : 0.0, stats.walk_ms);
	status = output ? save_snapshot(snap, diag.nr_warnings, output) : 0;
	if (write_stdout(&out))
		status = EXIT_FAILURE_HG;
	cli_diag_finish(&diag);
	if (!status && diag.nr_warnings)
		status = EXIT_WARNINGS;
	rss_release(&report);
	strbuf_release(&out);
	snapshot_free(snap);
	return status;
}
