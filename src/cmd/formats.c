/*
 * formats.c - the output options every command shares: --format, --color
 * and --value, and the formats beyond text and JSON (pprof, folded, csv,
 * html) for a census and for a diff.
 *
 * Commands keep printing text and JSON themselves (each adds its own
 * lines to text); everything else goes through emit_census() or
 * emit_diff(), which build the profile (analysis/profile.h) and call the
 * writer. A future command with a profile of its own (leaks: the leaked
 * chunks, with their ownership paths) calls emit_profile().
 *
 * Checks made before any work starts (out_opts_check), so that a bad
 * command line never stops a target:
 *  - the format is one the command offers;
 *  - --value goes with --format folded only;
 *  - pprof is binary (gzip): it is refused when standard output is a
 *    terminal, with one line and exit status 64, as gzip(1) refuses to
 *    write compressed data to a terminal. Redirect it to a file.
 */
#include "config.h"
#include "cmd/cmd.h"
#include "analysis/census.h"
#include "analysis/diff.h"
#include "analysis/profile.h"
#include "output/csv.h"
#include "output/folded.h"
#include "output/html.h"
#include "output/pprof.h"
#include "snapshot/snapshot.h"
#include "util/errors.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const format_names[] = {
	[FORMAT_TEXT] = "text",
	[FORMAT_JSON] = "json",
	[FORMAT_PPROF] = "pprof",
	[FORMAT_FOLDED] = "folded",
	[FORMAT_CSV] = "csv",
	[FORMAT_HTML] = "html",
};

int parse_format(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(format_names); i++)
		if (!strcmp(s, format_names[i]))
			return (int)i;
	return -1;
}

/* "text, json, pprof" for the formats in ALLOWED. */
static void list_formats(struct strbuf *sb, unsigned allowed)
{
	for (size_t i = 0; i < ARRAY_SIZE(format_names); i++) {
		if (!(allowed & (1u << i)))
			continue;
		if (sb->len)
			strbuf_addstr(sb, ", ");
		strbuf_addstr(sb, format_names[i]);
	}
}

void out_opts_init(struct out_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->format = FORMAT_TEXT;
	o->color = COLOR_AUTO;
	o->value = FOLDED_BYTES;
}

int out_opt(struct out_opts *o, int opt, const char *arg, unsigned allowed)
{
	struct strbuf sb = STRBUF_INIT;
	int f;

	switch (opt) {
	case 'f':
		f = parse_format(arg);
		if (f < 0 || !(allowed & (1u << f))) {
			list_formats(&sb, allowed);
			f = usage_error("unknown format '%s' (%s)", arg, sb.buf);
			strbuf_release(&sb);
			return f;
		}
		o->format = f;
		return 0;
	case OPT_COLOR:
		if (!strcmp(arg, "auto"))
			o->color = COLOR_AUTO;
		else if (!strcmp(arg, "always"))
			o->color = COLOR_ALWAYS;
		else if (!strcmp(arg, "never"))
			o->color = COLOR_NEVER;
		else
			return usage_error("--color takes auto, always or never, not '%s'", arg);
		return 0;
	case OPT_VALUE:
		if (!strcmp(arg, "bytes"))
			o->value = FOLDED_BYTES;
		else if (!strcmp(arg, "count"))
			o->value = FOLDED_COUNT;
		else
			return usage_error("--value takes bytes or count, not '%s'", arg);
		o->value_set = true;
		return 0;
	default:
		BUG("out_opt: option %d", opt);
	}
}

int out_opts_check(struct out_opts *o)
{
	if (o->value_set && o->format != FORMAT_FOLDED)
		return usage_error("--value goes with --format folded");
	if (o->format == FORMAT_PPROF && isatty(STDOUT_FILENO)) {
		error_msg("pprof output is binary; not writing it to a terminal "
			  "(redirect it: > FILE.pb.gz)");
		return EXIT_USAGE;
	}
	return 0;
}

bool out_color(const struct out_opts *o)
{
	const char *no_color = getenv("NO_COLOR"), *term = getenv("TERM");

	if (o->color != COLOR_AUTO)
		return o->color == COLOR_ALWAYS;
	/* https://no-color.org: set and not empty disables colour. */
	if (no_color && *no_color)
		return false;
	if (term && !strcmp(term, "dumb"))
		return false;
	return isatty(STDOUT_FILENO);
}

static void describe(struct strbuf *sb, const struct snapshot *s)
{
	strbuf_addf(sb, "process %d", s->meta.pid);
	if (s->meta.exe)
		strbuf_addf(sb, " (%s)", s->meta.exe);
}

static void when(struct strbuf *sb, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[64];

	if (t && localtime_r(&tt, &tm) && strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S %z", &tm))
		strbuf_addstr(sb, buf);
	else
		strbuf_addch(sb, '?');
}

static int gzip_failed(int err)
{
	error_msg("cannot compress the pprof output: %s", hg_strerror(err));
	return EXIT_FAILURE_HG;
}

int emit_profile(struct strbuf *out, const struct profile *p, const struct out_opts *o,
		 const char *const *comments, size_t nr_comments, int64_t time_s,
		 int64_t duration_s)
{
	struct pprof_meta meta = {
		.time_nanos = time_s * 1000000000,
		.duration_nanos = duration_s * 1000000000,
		.comments = comments,
		.nr_comments = nr_comments,
	};
	int err;

	switch (o->format) {
	case FORMAT_PPROF:
		err = pprof_write(out, p, &meta);
		return err < 0 ? gzip_failed(err) : 0;
	case FORMAT_FOLDED:
		folded_write(out, p, (enum folded_value)o->value);
		return 0;
	default:
		BUG("emit_profile: format %d", o->format);
	}
}

int emit_census(struct strbuf *out, const struct snapshot *s, const struct census *c,
		const struct out_opts *o, int64_t taken)
{
	struct strbuf title = STRBUF_INIT, sub = STRBUF_INIT;
	struct profile p;
	int status = 0;

	profile_from_snapshot(s, /* opts= */ NULL, &p);
	strbuf_addstr(&title, "heapgrab: ");
	describe(&title, s);
	strbuf_addf(&sub, "glibc %s, %zu thread%s, taken ", s->meta.glibc, s->meta.nr_threads,
		    s->meta.nr_threads == 1 ? "" : "s");
	when(&sub, taken);
	switch (o->format) {
	case FORMAT_PPROF:
	case FORMAT_FOLDED: {
		const char *comments[] = { title.buf, sub.buf };

		status = emit_profile(out, &p, o, comments, ARRAY_SIZE(comments), taken, 0);
		break;
	}
	case FORMAT_CSV:
		csv_census(out, c, &p);
		break;
	case FORMAT_HTML: {
		struct html_report r = {
			.mode = HTML_CENSUS,
			.title = title.buf,
			.subtitle = sub.buf,
			.profile = &p,
			.census = c,
		};

		html_write(out, &r);
		break;
	}
	default:
		BUG("emit_census: format %d", o->format);
	}
	profile_release(&p);
	strbuf_release(&title);
	strbuf_release(&sub);
	return status;
}

/* Charts for a diff: the live total and the top growing types, each from
 * OLD to NEW. At most MAX_DIFF_CHARTS types: a page of small charts is
 * read, a wall of them is not. */
#define MAX_DIFF_CHARTS 12

int emit_diff(struct strbuf *out, const struct snapshot *old, const struct snapshot *new_,
	      const struct diff *d, const struct out_opts *o, int64_t old_taken,
	      int64_t new_taken)
{
	struct strbuf title = STRBUF_INIT, sub = STRBUF_INIT;
	struct profile p;
	int status = 0;

	profile_from_diff(old, new_, /* opts= */ NULL, &p);
	strbuf_addstr(&title, "heapgrab diff: ");
	describe(&title, old);
	strbuf_addstr(&title, " -> ");
	describe(&title, new_);
	strbuf_addstr(&sub, "OLD taken ");
	when(&sub, old_taken);
	strbuf_addstr(&sub, ", NEW taken ");
	when(&sub, new_taken);
	switch (o->format) {
	case FORMAT_PPROF:
	case FORMAT_FOLDED: {
		const char *comments[] = { title.buf, sub.buf };

		status = emit_profile(out, &p, o, comments, ARRAY_SIZE(comments), new_taken,
				      old_taken && new_taken ? new_taken - old_taken : 0);
		break;
	}
	case FORMAT_CSV:
		csv_diff(out, d, &p);
		break;
	case FORMAT_HTML: {
		struct profile_type_row *rows;
		size_t n = profile_by_type(&p, &rows), nr_series = 0;
		struct html_point *pts = xcalloc(2 * (MAX_DIFF_CHARTS + 1), sizeof(*pts));
		struct html_series series[MAX_DIFF_CHARTS], live;
		struct html_report r = {
			.mode = HTML_DIFF,
			.title = title.buf,
			.subtitle = sub.buf,
			.profile = &p,
			.diff = d,
			.series = series,
			.series_title = "Growth from OLD to NEW (the live total and the types that grew most)",
			.live = &live,
		};

		pts[0] = (struct html_point){ old_taken * 1000,
					      d->live.count - (uint64_t)d->live.count_delta,
					      d->live.bytes - (uint64_t)d->live.bytes_delta };
		pts[1] = (struct html_point){ new_taken * 1000, d->live.count, d->live.bytes };
		live = (struct html_series){ "live (in use + mmapped)", pts, 2 };
		for (size_t i = 0; i < n && nr_series < MAX_DIFF_CHARTS && rows[i].bytes > 0; i++) {
			struct html_point *q = &pts[2 * (nr_series + 1)];

			q[0] = (struct html_point){ old_taken * 1000, (uint64_t)rows[i].old_count,
						    (uint64_t)rows[i].old_bytes };
			q[1] = (struct html_point){ new_taken * 1000,
						    (uint64_t)(rows[i].old_count + rows[i].count),
						    (uint64_t)(rows[i].old_bytes + rows[i].bytes) };
			series[nr_series++] = (struct html_series){ rows[i].type, q, 2 };
		}
		r.nr_series = nr_series;
		html_write(out, &r);
		free(pts);
		free(rows);
		break;
	}
	default:
		BUG("emit_diff: format %d", o->format);
	}
	profile_release(&p);
	strbuf_release(&title);
	strbuf_release(&sub);
	return status;
}
