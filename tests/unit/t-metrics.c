/*
 * t-metrics.c - output/metrics.c: content negotiation, label escaping of
 * hostile type names, bounded type series, the two exposition formats.
 *
 * The censuses are built by hand (struct census rows), so every expected
 * figure is known here; the checks read the exposition back line by line.
 */
#include "config.h"
#include "output/metrics.h"
#include "analysis/census.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include "tap.h"

#include <stdlib.h>
#include <string.h>

static char *label(const char *s, size_t max)
{
	struct strbuf sb = STRBUF_INIT;
	size_t len;

	metrics_label_value(&sb, s, max);
	return strbuf_detach(&sb, &len);
}

static void test_negotiate(void)
{
	static const struct {
		const char *accept;
		enum metrics_format want;
	} cases[] = {
		{ NULL, METRICS_TEXT },
		{ "", METRICS_TEXT },
		{ "*/*", METRICS_TEXT },
		{ "text/plain", METRICS_TEXT },
		{ "application/openmetrics-text", METRICS_OPENMETRICS },
		{ "APPLICATION/OpenMetrics-Text; version=1.0.0", METRICS_OPENMETRICS },
		/* Prometheus 2.x's scrape header */
		{ "application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
		  "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
		  METRICS_OPENMETRICS },
		{ "text/plain;q=0.9, application/openmetrics-text;q=0.5", METRICS_TEXT },
		{ "text/plain;q=0.5, application/openmetrics-text;q=0.5", METRICS_OPENMETRICS },
		{ "application/openmetrics-text;q=0", METRICS_TEXT },
		{ "application/openmetrics-text;q=0.000", METRICS_TEXT },
		{ "application/openmetrics-text;q=0.001", METRICS_OPENMETRICS },
		{ "application/openmetrics-text;q=x", METRICS_TEXT },
		{ "application/openmetrics-textual", METRICS_TEXT },
		{ "  application/openmetrics-text  ;  q=1", METRICS_OPENMETRICS },
		{ ",,,", METRICS_TEXT },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		ok(metrics_negotiate(cases[i].accept) == cases[i].want, "Accept '%s': %s",
		   cases[i].accept ? cases[i].accept : "(none)",
		   cases[i].want == METRICS_TEXT ? "text" : "OpenMetrics");
	ok(strstr(metrics_content_type(METRICS_TEXT), "version=0.0.4") != NULL,
	   "text content type");
	ok(strstr(metrics_content_type(METRICS_OPENMETRICS), "openmetrics-text; version=1.0.0") != NULL,
	   "OpenMetrics content type");
}

static void test_escape(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "struct session", "struct session" },
		{ "a\"b\\c\nd", "a\\\"b\\\\c\\nd" },
		/* C++ names keep their commas, angle brackets, spaces, colons */
		{ "std::map<std::string, int, std::less<std::string> >",
		  "std::map<std::string, int, std::less<std::string> >" },
		{ "(anonymous namespace)::Foo", "(anonymous namespace)::Foo" },
		{ "operator\"\" _x", "operator\\\"\\\" _x" },
		{ "tab\there\rcr\x7f", "tab?here?cr?" },
		{ "caf\xc3\xa9", "caf\xc3\xa9" },			/* UTF-8 kept */
		{ "bad\xff", "bad\xef\xbf\xbd" },			/* U+FFFD */
		{ "over\xc0\xaflong", "over\xef\xbf\xbd\xef\xbf\xbdlong" },
		{ "surrogate\xed\xa0\x80", "surrogate\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "cut\xe2\x82", "cut\xef\xbf\xbd\xef\xbf\xbd" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *got = label(cases[i].in, METRICS_LABEL_MAX);

		is_str(got, cases[i].want, "label value escaped");
		free(got);
	}
	{
		char in[301], *got, want[300];

		memset(in, 'x', 300);
		in[300] = '\0';
		got = label(in, METRICS_LABEL_MAX);
		memset(want, 'x', METRICS_LABEL_MAX);
		memcpy(want + METRICS_LABEL_MAX, "...", 4);
		is_str(got, want, "a long name is cut at METRICS_LABEL_MAX and ends in ...");
		free(got);
	}
	{
		/* 2-byte characters: the cut never splits one */
		char in[401], *got;

		for (int i = 0; i < 200; i++)
			memcpy(in + 2 * i, "\xc3\xa9", 2);
		in[400] = '\0';
		got = label(in, 255);
		is_u64(strlen(got), 254 + 3, "cut at a character boundary (127 of them, then ...)");
		ok(!strcmp(got + 254, "..."), "... after the last whole character");
		free(got);
	}
}

static void test_histogram(void)
{
	struct metrics_histogram h;

	memset(&h, 0, sizeof(h));
	metrics_histogram_observe(&h, 1000000);		/* exactly 1 ms: le="0.001" */
	metrics_histogram_observe(&h, 1000001);		/* just above: le="0.0025" */
	metrics_histogram_observe(&h, 20000000000ull);	/* 20 s: +Inf */
	metrics_histogram_observe(&h, 0);
	is_u64(h.bucket[0], 2, "bucket le=0.001 holds 0 and 1 ms (bounds are inclusive)");
	is_u64(h.bucket[1], 1, "bucket le=0.0025 holds 1 ms + 1 ns");
	is_u64(h.bucket[METRICS_PAUSE_BUCKETS], 1, "20 s is above every bound");
	is_u64(h.count, 4, "count");
	is_u64(h.sum_ns, 20002000001ull, "sum in nanoseconds");
}

/* The series (the text before the value) of every sample of OUT; they
 * must all differ. */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool unique_series(const char *out, size_t *ret_n)
{
	char *copy = xstrdup(out), **lines = NULL, *save = NULL;
	size_t n = 0;
	bool uniq = true;

	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *sp;

		if (l[0] == '#')
			continue;
		sp = strrchr(l, ' ');
		if (sp)
			*sp = '\0';
		lines = xrealloc(lines, (n + 1) * sizeof(*lines));
		lines[n++] = l;
	}
	qsort(lines, n, sizeof(*lines), cmp_str);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(lines[i - 1], lines[i])) {
			printf("# duplicate series %s\n", lines[i]);
			uniq = false;
		}
	free(lines);
	free(copy);
	*ret_n = n;
	return uniq;
}

/* The value of the first sample line starting with PREFIX, or -1. */
static long long value_of(const char *out, const char *prefix)
{
	for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (!strncmp(p, prefix, strlen(prefix))) {
			const char *nl = strchr(p, '\n'), *sp = p;

			for (const char *q = p; q < nl; q++)
				if (*q == ' ')
					sp = q;
			return atoll(sp + 1);
		}
	}
	return -1;
}

static void test_write(void)
{
	char longa[301], longb[301];
	struct census_type_row rows[] = {
		{ .name = "struct big", .count = 10, .bytes = 10000 },
		{ .name = "char[]", .count = 30, .bytes = 3000 },
		{ .name = "char[]", .inferred = true, .count = 5, .bytes = 500 },
		{ .name = longa, .count = 1, .bytes = 100 },
		{ .name = longb, .count = 2, .bytes = 200 },
		{ .name = "weird\"name\\\n", .count = 4, .bytes = 64 },
		{ .name = "untyped", .untyped = true, .count = 3, .bytes = 48 },
	};
	struct census c = { .by_type = rows, .nr_by_type = ARRAY_SIZE(rows) };
	struct metrics_target t[2] = {
		{ .target = "42", .pid = 42, .exe = "/srv/a \"b\"", .glibc = "2.36", .up = true,
		  .census = &c, .nr_arenas = 2, .taken_ns = 1700000000123456789ll,
		  .duration_ns = 1500000000, .snapshots = 3, .pause_last_hour_ns = 3000000 },
		{ .target = "/run/x.pid", .pid = 0, .up = false, .snapshots = 0,
		  .failures = { [METRICS_FAIL_GONE] = 7 } },
	};
	struct metrics_opts o = { .format = METRICS_TEXT, .top = 3, .version = "0.1.0" };
	struct strbuf sb = STRBUF_INIT;
	uint64_t live_count = 0, live_bytes = 0;
	bool uniq;
	size_t n;

	memset(longa, 'L', 300);
	memset(longb, 'L', 300);
	longa[300] = longb[300] = '\0';
	longb[299] = 'M';	/* differs only after the cut */
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		live_count += rows[i].count;
		live_bytes += rows[i].bytes;
	}
	c.totals[CHUNK_INUSE] = (struct heap_count){ live_count - 1, live_bytes - 4096 };
	c.totals[CHUNK_MMAPPED] = (struct heap_count){ 1, 4096 };
	c.totals[CHUNK_TOP] = (struct heap_count){ 2, 1234 };
	c.overhead = 77;
	c.system_bytes = 999999;
	metrics_histogram_observe(&t[0].pause, 1000000);
	metrics_histogram_observe(&t[0].pause, 2000000);

	metrics_write(&sb, t, 2, &o);
	uniq = unique_series(sb.buf, &n);
	ok(uniq && n >= 70, "text: no series twice (%zu samples)", n);
	is_u64((uint64_t)value_of(sb.buf, "heapgrab_up{target=\"42\",pid=\"42\"}"), 1, "up 1");
	is_u64((uint64_t)value_of(sb.buf, "heapgrab_up{target=\"/run/x.pid\",pid=\"\"}"), 0,
	       "a down target: up 0, empty pid");
	ok(!strstr(sb.buf, "heapgrab_heap_inuse_bytes{target=\"/run/x.pid\""),
	   "a down target has no heap series");
	is_u64((uint64_t)value_of(sb.buf, "heapgrab_snapshot_failures_total{target=\"/run/x.pid\","
				  "pid=\"\",reason=\"gone\"}"), 7, "failures by reason");
	is_u64((uint64_t)value_of(sb.buf, "heapgrab_heap_free_bytes{target=\"42\",pid=\"42\","
				  "kind=\"top\"}"), 1234, "free bytes, kind top");
	is_u64((uint64_t)value_of(sb.buf, "heapgrab_heap_arena_system_bytes{"), 999999,
	       "arena system bytes");
	is_u64((uint64_t)value_of(sb.buf, "heapgrab_heap_arenas{"), 2, "arenas");
	ok(strstr(sb.buf, "heapgrab_target_info{target=\"42\",pid=\"42\",exe=\"/srv/a \\\"b\\\"\","
		  "glibc=\"2.36\"} 1\n") != NULL, "target info, exe escaped");
	ok(strstr(sb.buf, "# TYPE heapgrab_snapshots_total counter\n") != NULL,
	   "text: counter family named with _total");
	ok(strstr(sb.buf, "# TYPE heapgrab_target_info gauge\n") != NULL, "text: info as a gauge");
	ok(!strstr(sb.buf, "# EOF") && !strstr(sb.buf, "# UNIT"), "text: no EOF, no UNIT");
	ok(strstr(sb.buf, "heapgrab_snapshot_timestamp_seconds{target=\"42\",pid=\"42\"} "
		  "1700000000.123456789\n") != NULL, "timestamp in seconds, exact");
	ok(strstr(sb.buf, "heapgrab_snapshot_pause_seconds_bucket{target=\"42\",pid=\"42\","
		  "le=\"0.001\"} 1\n") != NULL, "bucket le=0.001");
	ok(strstr(sb.buf, "heapgrab_snapshot_pause_seconds_bucket{target=\"42\",pid=\"42\","
		  "le=\"0.0025\"} 2\n") != NULL, "buckets are cumulative");
	ok(strstr(sb.buf, "le=\"1.0\"} 2\n") != NULL && strstr(sb.buf, "le=\"10.0\"} 2\n") != NULL,
	   "whole bounds written as canonical floats");
	ok(strstr(sb.buf, "heapgrab_snapshot_pause_seconds_sum{target=\"42\",pid=\"42\"} "
		  "0.003000000\n") != NULL, "pause sum");
	ok(strstr(sb.buf, "heapgrab_snapshot_pause_last_hour_seconds{target=\"42\",pid=\"42\"} "
		  "0.003000000\n") != NULL, "pause in the last hour");

	/* types: char[] exact + inferred merged (3500), the two long names one
	 * series after the cut (300), top 3 = struct big, char[], LLL...; the
	 * rest (weird name 64 + untyped 48) is "(other)" */
	{
		char prefix[400];
		uint64_t sum_c = 0;
		const char *p;

		is_u64((uint64_t)value_of(sb.buf, "heapgrab_type_bytes{target=\"42\",pid=\"42\","
					  "type=\"char[]\"}"), 3500, "exact and inferred rows: one series");
		is_u64((uint64_t)value_of(sb.buf, "heapgrab_type_chunks{target=\"42\",pid=\"42\","
					  "type=\"char[]\"}"), 35, "their chunks added");
		snprintf(prefix, sizeof(prefix), "heapgrab_type_bytes{target=\"42\",pid=\"42\","
			 "type=\"%.256s...\"}", longa);
		is_u64((uint64_t)value_of(sb.buf, prefix), 300,
		       "two names alike up to the cut: one series, bytes added");
		is_u64((uint64_t)value_of(sb.buf, "heapgrab_type_bytes{target=\"42\",pid=\"42\","
					  "type=\"(other)\"}"), 112, "the rest as (other)");
		ok(!strstr(sb.buf, "weird"), "a type past the top is not named");
		for (p = sb.buf; (p = strstr(p, "\nheapgrab_type_chunks{target=\"42\"")); p++) {
			const char *nl = strchr(p + 1, '\n'), *sp = p + 1;

			for (const char *q = p + 1; q < nl; q++)
				if (*q == ' ')
					sp = q;
			sum_c += strtoull(sp + 1, NULL, 10);
		}
		is_u64(sum_c, live_count, "type series add up to the live chunks");
	}
	strbuf_reset(&sb);

	o.format = METRICS_OPENMETRICS;
	metrics_write(&sb, t, 2, &o);
	uniq = unique_series(sb.buf, &n);
	ok(uniq && n >= 70, "OpenMetrics: no series twice (%zu samples)", n);
	ok(sb.len > 6 && !strcmp(sb.buf + sb.len - 6, "# EOF\n"), "OpenMetrics ends with # EOF");
	ok(strstr(sb.buf, "# TYPE heapgrab_snapshots counter\n") != NULL &&
	   strstr(sb.buf, "\nheapgrab_snapshots_total{") != NULL,
	   "OpenMetrics: counter family without _total, samples with it");
	ok(strstr(sb.buf, "# TYPE heapgrab_target info\n") != NULL &&
	   strstr(sb.buf, "\nheapgrab_target_info{") != NULL, "OpenMetrics: info family");
	ok(strstr(sb.buf, "# UNIT heapgrab_heap_inuse_bytes bytes\n") != NULL &&
	   strstr(sb.buf, "# UNIT heapgrab_snapshot_pause_seconds seconds\n") != NULL,
	   "OpenMetrics: UNIT lines");
	ok(strstr(sb.buf, "# HELP heapgrab_type_bytes ") && strstr(sb.buf, "as type=\\\"(other)\\\"."),
	   "OpenMetrics: quotes in HELP escaped");
	strbuf_release(&sb);
}

int main(void)
{
	plan(18 + 14 + 5 + 18 + 6 + 6);
	test_negotiate();
	test_escape();
	test_histogram();
	test_write();
	return done();
}
