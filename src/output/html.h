/*
 * html.h - one self-contained HTML file for people who would rather look
 * than read: an icicle of live bytes by ownership path and type, sortable
 * tables by type, by chunk size and by kind, and growth charts over time.
 *
 * The page (src/output/html-report.html, embedded at build time) needs no
 * network and no other file. html_write() fills it with the report's data
 * as JSON; the page's script draws it.
 *
 * Three kinds of report:
 *  - census (attach, core, show): CENSUS and PROFILE of one snapshot;
 *  - diff: DIFF and the diff PROFILE of two; the icicle shows the stacks
 *    that grew, the charts each top growing type from OLD to NEW (two
 *    points, at the snapshots' times);
 *  - watch: CENSUS and PROFILE of the last snapshot, SERIES the top
 *    suspects over every snapshot, LIVE the live total over time.
 *
 * Appends to SB; borrows everything in R for the call only.
 */
#ifndef HEAPGRAB_HTML_H
#define HEAPGRAB_HTML_H

#include "util/compiler.h"

struct strbuf;
struct census;
struct diff;
struct profile;
struct rss_report;

struct html_point {
	int64_t t_ms;			/* unix time, milliseconds */
	uint64_t count, bytes;
};

struct html_series {
	const char *label;
	const struct html_point *points;
	size_t nr_points;
};

enum html_mode { HTML_CENSUS, HTML_DIFF, HTML_WATCH };

struct html_report {
	enum html_mode mode;
	const char *title;		/* page title and heading */
	const char *subtitle;		/* one line: what, when */
	const struct profile *profile;	/* required */
	const struct census *census;	/* HTML_CENSUS, HTML_WATCH */
	const struct diff *diff;	/* HTML_DIFF */
	const struct html_series *series;	/* charts, in this order */
	size_t nr_series;
	const char *series_title;	/* heading over the charts; NULL: default */
	const struct html_series *live;	/* live total over time, or NULL */
	/* the resident memory (analysis/rss.h), drawn as a stacked bar and
	 * per arena; NULL: no such section */
	const struct rss_report *rss;
};

void html_write(struct strbuf *sb, const struct html_report *r);

/* The page template, with its @HG_TITLE@ and @HG_DATA@ markers
 * (generated from html-report.html: output/html-template.c). */
extern const char html_template[];

#endif /* HEAPGRAB_HTML_H */
