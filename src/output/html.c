/*
 * html.c - fill the HTML report page with a census, a diff or a watch;
 * see html.h.
 *
 * The page is the template (html-report.html) with two markers replaced:
 * @HG_TITLE@ by the HTML-escaped title, @HG_DATA@ by one JSON object:
 *
 *   {"heapgrab": 1, "mode": "census" | "diff" | "watch",
 *    "title", "subtitle", "version",
 *    "live_total": {"count", "bytes"[, "count_delta", "bytes_delta"]},
 *    "totals":  [{"name": KIND, ["count_delta", "bytes_delta",] "count", "bytes"}],
 *    "by_type": [{"name": TYPE, ...same...}],
 *    "by_size": [{"name": SIZE, ...same...}],
 *    "strings": [FRAME, ...],
 *    "samples": [[[FRAME-ID, ...root first], count, bytes, old_count, old_bytes]],
 *    "series_title": STRING | null,
 *    "series": [{"label", "points": [[t_ms, count, bytes], ...]}],
 *    "live": {"label", "points"} | null,
 *    "rss": the "rss" object of doc/json-output.md | null}
 *
 * Rows come in the JSON output's orders (by_type: profile_by_type();
 * by_size: census or diff order), which the page shows first. The
 * overhead row of "totals" has count null (it has bytes only).
 *
 * The JSON sits in a <script type="application/json"> element; the only
 * way data could end that element early is a "</script" inside a string,
 * so every '<' of the JSON is written as \u003c (valid JSON: '<' only
 * ever occurs inside strings here).
 */
#include "config.h"
#include "output/html.h"
#include "output/json-writer.h"
#include "output/rss-out.h"
#include "analysis/census.h"
#include "analysis/diff.h"
#include "analysis/profile.h"
#include "util/errors.h"
#include "util/strbuf.h"

#include <stdlib.h>
#include <string.h>

static const enum chunk_state kinds[] = {
	CHUNK_INUSE, CHUNK_TCACHE, CHUNK_FASTBIN, CHUNK_BIN, CHUNK_TOP, CHUNK_MMAPPED,
};

static void html_escape(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': strbuf_addstr(sb, "&amp;"); break;
		case '<': strbuf_addstr(sb, "&lt;"); break;
		case '>': strbuf_addstr(sb, "&gt;"); break;
		case '"': strbuf_addstr(sb, "&quot;"); break;
		default: strbuf_addch(sb, *s); break;
		}
	}
}

/* One row object: name (string or number), deltas (diff), values. */
static void row(struct json_writer *jw, const char *name, const uint64_t *num_name,
		bool diff, int64_t count_delta, int64_t bytes_delta, const uint64_t *count,
		uint64_t bytes)
{
	jw_object_begin(jw);
	jw_key(jw, "name");
	if (num_name)
		jw_uint(jw, *num_name);
	else
		jw_string(jw, name);
	if (diff) {
		jw_key(jw, "count_delta");
		if (count)
			jw_int(jw, count_delta);
		else
			jw_string(jw, NULL);
		jw_object_int(jw, "bytes_delta", bytes_delta);
	}
	jw_key(jw, "count");
	if (count)
		jw_uint(jw, *count);
	else
		jw_string(jw, NULL);
	jw_object_uint(jw, "bytes", bytes);
	jw_object_end(jw);
}

static void totals(struct json_writer *jw, const struct html_report *r)
{
	bool diff = r->mode == HTML_DIFF;

	jw_key(jw, "live_total");
	jw_object_begin(jw);
	if (diff) {
		jw_object_uint(jw, "count", r->diff->live.count);
		jw_object_uint(jw, "bytes", r->diff->live.bytes);
		jw_object_int(jw, "count_delta", r->diff->live.count_delta);
		jw_object_int(jw, "bytes_delta", r->diff->live.bytes_delta);
	} else {
		const struct heap_count *t = r->census->totals;

		jw_object_uint(jw, "count", t[CHUNK_INUSE].count + t[CHUNK_MMAPPED].count);
		jw_object_uint(jw, "bytes", t[CHUNK_INUSE].bytes + t[CHUNK_MMAPPED].bytes);
	}
	jw_object_end(jw);

	jw_key(jw, "totals");
	jw_array_begin(jw);
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		const char *name = chunk_state_name(kinds[k]);

		if (diff) {
			const struct diff_value *v = &r->diff->totals[kinds[k]];

			row(jw, name, NULL, true, v->count_delta, v->bytes_delta, &v->count,
			    v->bytes);
		} else {
			const struct heap_count *h = &r->census->totals[kinds[k]];

			row(jw, name, NULL, false, 0, 0, &h->count, h->bytes);
		}
	}
	if (diff)
		row(jw, "overhead", NULL, true, 0, r->diff->overhead.bytes_delta, NULL,
		    r->diff->overhead.bytes);
	else
		row(jw, "overhead", NULL, false, 0, 0, NULL, r->census->overhead);
	jw_array_end(jw);
}

static void rows(struct json_writer *jw, const struct html_report *r)
{
	struct profile_type_row *tr;
	size_t n = profile_by_type(r->profile, &tr);
	bool diff = r->mode == HTML_DIFF;

	jw_key(jw, "by_type");
	jw_array_begin(jw);
	for (size_t i = 0; i < n; i++) {
		uint64_t count = (uint64_t)(tr[i].old_count + tr[i].count);

		row(jw, tr[i].type, NULL, diff, tr[i].count, tr[i].bytes, &count,
		    (uint64_t)(tr[i].old_bytes + tr[i].bytes));
	}
	jw_array_end(jw);
	free(tr);

	jw_key(jw, "by_size");
	jw_array_begin(jw);
	if (diff) {
		for (size_t i = 0; i < r->diff->nr_by_size; i++) {
			const struct diff_size_row *s = &r->diff->by_size[i];

			row(jw, NULL, &s->size, true, s->v.count_delta, s->v.bytes_delta,
			    &s->v.count, s->v.bytes);
		}
	} else {
		for (size_t i = 0; i < r->census->nr_by_size; i++) {
			const struct census_size_row *s = &r->census->by_size[i];

			row(jw, NULL, &s->size, false, 0, 0, &s->count, s->bytes);
		}
	}
	jw_array_end(jw);
}

static void profile_json(struct json_writer *jw, const struct profile *p)
{
	jw_key(jw, "strings");
	jw_array_begin(jw);
	for (size_t i = 0; i < p->nr_strings; i++)
		jw_string(jw, p->strings[i]);
	jw_array_end(jw);
	jw_key(jw, "samples");
	jw_array_begin(jw);
	for (size_t i = 0; i < p->nr_samples; i++) {
		const struct profile_sample *s = &p->samples[i];
		const uint32_t *stack = profile_stack(p, i);

		jw_array_begin(jw);
		jw_array_begin(jw);
		for (uint32_t k = 0; k < s->nr_frames; k++)
			jw_uint(jw, stack[k]);
		jw_array_end(jw);
		jw_int(jw, s->count);
		jw_int(jw, s->bytes);
		jw_int(jw, s->old_count);
		jw_int(jw, s->old_bytes);
		jw_array_end(jw);
	}
	jw_array_end(jw);
}

static void series_json(struct json_writer *jw, const struct html_series *s)
{
	jw_object_begin(jw);
	jw_object_string(jw, "label", s->label);
	jw_key(jw, "points");
	jw_array_begin(jw);
	for (size_t i = 0; i < s->nr_points; i++) {
		jw_array_begin(jw);
		jw_int(jw, s->points[i].t_ms);
		jw_uint(jw, s->points[i].count);
		jw_uint(jw, s->points[i].bytes);
		jw_array_end(jw);
	}
	jw_array_end(jw);
	jw_object_end(jw);
}

static void data_json(struct strbuf *sb, const struct html_report *r)
{
	static const char *const modes[] = {
		[HTML_CENSUS] = "census", [HTML_DIFF] = "diff", [HTML_WATCH] = "watch",
	};
	struct json_writer jw = JSON_WRITER_INIT(sb);

	jw_object_begin(&jw);
	jw_object_uint(&jw, "heapgrab", 1);
	jw_object_string(&jw, "mode", modes[r->mode]);
	jw_object_string(&jw, "title", r->title ? r->title : "heapgrab");
	jw_object_string(&jw, "subtitle", r->subtitle ? r->subtitle : "");
	jw_object_string(&jw, "version", PACKAGE_VERSION);
	totals(&jw, r);
	rows(&jw, r);
	profile_json(&jw, r->profile);
	jw_object_string(&jw, "series_title", r->series_title);
	jw_key(&jw, "series");
	jw_array_begin(&jw);
	for (size_t i = 0; i < r->nr_series; i++)
		series_json(&jw, &r->series[i]);
	jw_array_end(&jw);
	jw_key(&jw, "live");
	if (r->live)
		series_json(&jw, r->live);
	else
		jw_string(&jw, NULL);
	jw_key(&jw, "rss");
	if (r->rss)
		rss_out_json(&jw, r->rss);
	else
		jw_string(&jw, NULL);
	jw_object_end(&jw);
}

void html_write(struct strbuf *sb, const struct html_report *r)
{
	static const char title_mark[] = "@HG_TITLE@", data_mark[] = "@HG_DATA@";
	const char *t = html_template, *a = strstr(t, title_mark), *b;
	struct strbuf data = STRBUF_INIT;

	b = a ? strstr(a, data_mark) : NULL;
	if (!a || !b)
		BUG("html template: no %s or %s marker", title_mark, data_mark);
	strbuf_add(sb, t, (size_t)(a - t));
	html_escape(sb, r->title ? r->title : "heapgrab");
	a += sizeof(title_mark) - 1;
	strbuf_add(sb, a, (size_t)(b - a));
	data_json(&data, r);
	for (size_t i = 0; i < data.len; i++) {
		if (data.buf[i] == '<')
			strbuf_addstr(sb, "\\u003c");
		else
			strbuf_addch(sb, data.buf[i]);
	}
	strbuf_addstr(sb, b + sizeof(data_mark) - 1);
	strbuf_release(&data);
}
