/*
 * metrics.c - the Prometheus exposition of heap censuses (metrics.h).
 *
 * Two formats, one writer. They differ in four places only:
 *
 *                      text 0.0.4                  OpenMetrics 1.0
 *   counter family     # TYPE x_total counter      # TYPE x counter
 *                      x_total 3                   x_total 3
 *   info family        # TYPE x_info gauge         # TYPE x info
 *                      x_info{...} 1               x_info{...} 1
 *   unit               (none)                      # UNIT x_bytes bytes
 *   end                (none)                      # EOF
 *
 * HELP text escapes backslash and newline (and, in OpenMetrics, the double
 * quote); label values escape all three in both. Histogram bounds are
 * written as canonical floats ("1.0", not "1"), as OpenMetrics asks, in
 * both formats, so a series keeps its "le" whichever format a scraper
 * negotiates.
 *
 * Values: counts and bytes are unsigned integers written in full (a
 * scraper parses them as float64: exact below 2^53 bytes, 8 PiB); times
 * are kept in integer nanoseconds by the caller and written as seconds
 * with nine decimals, so a sum of pauses is exact and two figures made of
 * the same pauses (the histogram's sum and the last hour's) compare
 * equal.
 *
 * Families are written in a fixed order, each with the samples of every
 * target in the caller's order; a target that is down has only heapgrab_up,
 * heapgrab_target_info (when its pid is known) and its snapshot counters.
 */
#include "config.h"
#include "output/metrics.h"
#include "analysis/census.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* 1 ms .. 10 s: a census of a small heap pauses its target for well
 * under a millisecond's worth of buckets, a 1 GiB copy for about 250 ms, a
 * fork snapshot for tens of ms per GiB; more than 10 s is "+Inf". */
const uint64_t metrics_pause_bounds_ns[METRICS_PAUSE_BUCKETS] = {
	1000000, 2500000, 5000000, 10000000, 25000000, 50000000,
	100000000, 250000000, 500000000, 1000000000, 2500000000, 10000000000,
};

static const char *const failure_names[METRICS_FAIL__COUNT] = {
	[METRICS_FAIL_GONE] = "gone",
	[METRICS_FAIL_DENIED] = "denied",
	[METRICS_FAIL_BUSY] = "busy",
	[METRICS_FAIL_ERROR] = "error",
};

/* ---- content negotiation ---- */

/* One media range of an Accept header: TYPE and its q-value (0..1000). */
static int media_q(const char *p, size_t len)
{
	const char *semi = memchr(p, ';', len), *end = p + len;
	int q = 1000;

	while (semi) {
		const char *par = semi + 1, *next;

		next = memchr(par, ';', (size_t)(end - par));
		while (par < end && (*par == ' ' || *par == '\t'))
			par++;
		if (end - par >= 2 && (par[0] == 'q' || par[0] == 'Q') && par[1] == '=') {
			/* qvalue = 0[.ddd] | 1[.000] (RFC 9110 12.4.2) */
			const char *v = par + 2;
			int digits = 0, frac = 0;

			if (v < end && (*v == '0' || *v == '1')) {
				q = (*v - '0') * 1000;
				v++;
				if (v < end && *v == '.')
					for (v++; v < end && *v >= '0' && *v <= '9' && digits < 3; v++) {
						frac = frac * 10 + (*v - '0');
						digits++;
					}
				while (digits++ < 3)
					frac *= 10;
				q += frac;
				if (q > 1000)
					q = 1000;
			} else {
				q = 0;	/* malformed: not acceptable */
			}
		}
		semi = next;
	}
	return q;
}

/* Whether the media range at P (LEN bytes, parameters included) is TYPE. */
static bool media_is(const char *p, size_t len, const char *type)
{
	size_t n = strlen(type);

	while (len && (*p == ' ' || *p == '\t')) {
		p++;
		len--;
	}
	if (len < n || strncasecmp(p, type, n))
		return false;
	p += n;
	len -= n;
	while (len && (*p == ' ' || *p == '\t')) {
		p++;
		len--;
	}
	return !len || *p == ';';
}

enum metrics_format metrics_negotiate(const char *accept)
{
	int om = -1, text = -1;

	if (!accept)
		return METRICS_TEXT;
	for (const char *p = accept; *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		int q = media_q(p, len);

		if (media_is(p, len, "application/openmetrics-text")) {
			if (q > om)
				om = q;
		} else if (media_is(p, len, "text/plain")) {
			if (q > text)
				text = q;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return om > 0 && om >= text ? METRICS_OPENMETRICS : METRICS_TEXT;
}

const char *metrics_content_type(enum metrics_format fmt)
{
	return fmt == METRICS_OPENMETRICS ?
	       "application/openmetrics-text; version=1.0.0; charset=utf-8" :
	       "text/plain; version=0.0.4; charset=utf-8";
}

/* ---- escaping ---- */

/* Length of the valid UTF-8 sequence at S (N bytes left), 0 if invalid
 * (overlong forms, surrogates and code points above U+10FFFF included). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp, min;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2, cp = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3, cp = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4, cp = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Append S (LEN bytes) with ESC_QUOTE deciding whether " is escaped. */
static void escape(struct strbuf *out, const char *s, size_t len, size_t max, bool esc_quote)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		size_t n = utf8_len(p + i, len - i);

		if (i + (n ? n : 1) > max) {
			strbuf_addstr(out, "...");
			return;
		}
		if (!n) {
			strbuf_addstr(out, "\xef\xbf\xbd");	/* U+FFFD */
			i++;
			continue;
		}
		if (n > 1) {
			strbuf_add(out, p + i, n);
		} else if (p[i] == '\\') {
			strbuf_addstr(out, "\\\\");
		} else if (p[i] == '\n') {
			strbuf_addstr(out, "\\n");
		} else if (p[i] == '"' && esc_quote) {
			strbuf_addstr(out, "\\\"");
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			strbuf_addch(out, '?');
		} else {
			strbuf_addch(out, p[i]);
		}
		i += n;
	}
}

void metrics_label_value(struct strbuf *out, const char *s, size_t max)
{
	escape(out, s, strlen(s), max, true);
}

void metrics_histogram_observe(struct metrics_histogram *h, uint64_t ns)
{
	size_t i = 0;

	while (i < METRICS_PAUSE_BUCKETS && ns > metrics_pause_bounds_ns[i])
		i++;
	h->bucket[i]++;
	h->count++;
	h->sum_ns += ns;
}

/* ---- the writer ---- */

struct mw {
	struct strbuf *out;
	bool om;
};

enum ftype { F_GAUGE, F_COUNTER, F_HISTOGRAM, F_INFO };

/*
 * The header of family NAME (its OpenMetrics name: no _total, no _info).
 * UNIT: "bytes", "seconds" or NULL.
 */
static void family(struct mw *w, const char *name, enum ftype type, const char *unit,
		   const char *help)
{
	static const char *const types[] = {
		[F_GAUGE] = "gauge", [F_COUNTER] = "counter",
		[F_HISTOGRAM] = "histogram", [F_INFO] = "info",
	};
	const char *suffix = "", *tname = types[type];

	if (!w->om && type == F_COUNTER)
		suffix = "_total";
	if (!w->om && type == F_INFO) {
		suffix = "_info";
		tname = "gauge";
	}
	strbuf_addf(w->out, "# TYPE %s%s %s\n", name, suffix, tname);
	if (w->om && unit)
		strbuf_addf(w->out, "# UNIT %s %s\n", name, unit);
	strbuf_addf(w->out, "# HELP %s%s ", name, suffix);
	escape(w->out, help, strlen(help), SIZE_MAX, w->om);
	strbuf_addch(w->out, '\n');
}

/* "NAME{target="...",pid="N"" (no closing brace: callers add labels). */
static void sample_start(struct mw *w, const char *name, const struct metrics_target *t)
{
	strbuf_addf(w->out, "%s{target=\"", name);
	metrics_label_value(w->out, t->target ? t->target : "", METRICS_LABEL_MAX);
	strbuf_addstr(w->out, "\",pid=\"");
	if (t->pid > 0)
		strbuf_addf(w->out, "%d", t->pid);
	strbuf_addch(w->out, '"');
}

static void label(struct mw *w, const char *name, const char *value)
{
	strbuf_addf(w->out, ",%s=\"", name);
	metrics_label_value(w->out, value, METRICS_LABEL_MAX);
	strbuf_addch(w->out, '"');
}

static void end_u64(struct mw *w, uint64_t v)
{
	strbuf_addf(w->out, "} %" PRIu64 "\n", v);
}

/* Nanoseconds as seconds, exact: "12.000345678". */
static void add_seconds(struct strbuf *out, int64_t ns)
{
	uint64_t a = ns < 0 ? (uint64_t)-(ns + 1) + 1 : (uint64_t)ns;

	strbuf_addf(out, "%s%" PRIu64 ".%09" PRIu64, ns < 0 ? "-" : "", a / 1000000000u,
		    a % 1000000000u);
}

static void end_seconds(struct mw *w, int64_t ns)
{
	strbuf_addstr(w->out, "} ");
	add_seconds(w->out, ns);
	strbuf_addch(w->out, '\n');
}

/* A histogram bound as a canonical float: "0.001", "1.0", "2.5", "10.0". */
static void add_bound(struct strbuf *out, uint64_t ns)
{
	uint64_t frac = ns % 1000000000u;
	char digits[16];
	int n;

	strbuf_addf(out, "%" PRIu64 ".", ns / 1000000000u);
	if (!frac) {
		strbuf_addch(out, '0');
		return;
	}
	n = snprintf(digits, sizeof(digits), "%09" PRIu64, frac);
	while (n > 1 && digits[n - 1] == '0')
		n--;
	strbuf_add(out, digits, (size_t)n);
}

/* ---- type rows: merged by label value, top N, the rest as "(other)" ---- */

struct type_row {
	char *label;		/* escaped label value */
	uint64_t count, bytes;
};

static int cmp_label(const void *a, const void *b)
{
	return strcmp(((const struct type_row *)a)->label, ((const struct type_row *)b)->label);
}

static int cmp_bytes(const void *a, const void *b)
{
	const struct type_row *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->label, y->label);
}

#define OTHER_LABEL "(other)"

/* The type series of census C: at most TOP rows plus "(other)"; sorted
 * by bytes. Returns the number of rows in *RET (caller frees each label
 * and the array). */
static size_t type_rows(const struct census *c, unsigned top, struct type_row **ret)
{
	struct type_row *rows = xcalloc(c->nr_by_type + 1, sizeof(*rows));
	size_t n = 0, m = 0;

	for (size_t i = 0; i < c->nr_by_type; i++) {
		struct strbuf sb = STRBUF_INIT;
		size_t len;

		metrics_label_value(&sb, c->by_type[i].name, METRICS_LABEL_MAX);
		rows[n].label = strbuf_detach(&sb, &len);
		rows[n].count = c->by_type[i].count;
		rows[n].bytes = c->by_type[i].bytes;
		n++;
	}
	/* merge equal labels: an exact and an inferred row of one type, or
	 * two names that are one once escaped and cut */
	if (n)
		qsort(rows, n, sizeof(*rows), cmp_label);
	for (size_t i = 0; i < n; i++) {
		if (m && !strcmp(rows[m - 1].label, rows[i].label)) {
			rows[m - 1].count += rows[i].count;
			rows[m - 1].bytes += rows[i].bytes;
			free(rows[i].label);
			continue;
		}
		rows[m++] = rows[i];
	}
	n = m;
	if (n)
		qsort(rows, n, sizeof(*rows), cmp_bytes);
	if (n > top) {
		/* the rest, under a name no C or C++ type has */
		struct type_row other = { .label = NULL };

		for (size_t i = top; i < n; i++) {
			other.count += rows[i].count;
			other.bytes += rows[i].bytes;
			free(rows[i].label);
		}
		other.label = xstrdup(OTHER_LABEL);
		rows[top] = other;
		n = top + 1;
	}
	*ret = rows;
	return n;
}

/* ---- families ---- */

static const struct census *up_census(const struct metrics_target *t)
{
	return t->up ? t->census : NULL;
}

static void gauge_kind(struct mw *w, const struct metrics_target *t, size_t n,
		       const char *name, enum chunk_state kind, bool bytes)
{
	for (size_t i = 0; i < n; i++) {
		const struct census *c = up_census(&t[i]);

		if (!c)
			continue;
		sample_start(w, name, &t[i]);
		end_u64(w, bytes ? c->totals[kind].bytes : c->totals[kind].count);
	}
}

static const enum chunk_state free_kinds[] = { CHUNK_TCACHE, CHUNK_FASTBIN, CHUNK_BIN, CHUNK_TOP };

static void gauge_free(struct mw *w, const struct metrics_target *t, size_t n, const char *name,
		       bool bytes)
{
	for (size_t i = 0; i < n; i++) {
		const struct census *c = up_census(&t[i]);

		if (!c)
			continue;
		for (size_t k = 0; k < ARRAY_SIZE(free_kinds); k++) {
			sample_start(w, name, &t[i]);
			label(w, "kind", chunk_state_name(free_kinds[k]));
			end_u64(w, bytes ? c->totals[free_kinds[k]].bytes :
				    c->totals[free_kinds[k]].count);
		}
	}
}

static void write_heap(struct mw *w, const struct metrics_target *t, size_t n)
{
	family(w, "heapgrab_heap_inuse_bytes", F_GAUGE, "bytes",
	       "Bytes of the arena chunks the program has allocated and not freed (census in_use).");
	gauge_kind(w, t, n, "heapgrab_heap_inuse_bytes", CHUNK_INUSE, true);
	family(w, "heapgrab_heap_inuse_chunks", F_GAUGE, NULL,
	       "Arena chunks the program has allocated and not freed (census in_use).");
	gauge_kind(w, t, n, "heapgrab_heap_inuse_chunks", CHUNK_INUSE, false);
	family(w, "heapgrab_heap_mmapped_bytes", F_GAUGE, "bytes",
	       "Bytes of the allocations glibc gave their own mmap (census mmapped).");
	gauge_kind(w, t, n, "heapgrab_heap_mmapped_bytes", CHUNK_MMAPPED, true);
	family(w, "heapgrab_heap_mmapped_chunks", F_GAUGE, NULL,
	       "Allocations glibc gave their own mmap (census mmapped).");
	gauge_kind(w, t, n, "heapgrab_heap_mmapped_chunks", CHUNK_MMAPPED, false);
	family(w, "heapgrab_heap_free_bytes", F_GAUGE, "bytes",
	       "Bytes of free chunks, by where glibc keeps them (tcache, fastbin, bin, top).");
	gauge_free(w, t, n, "heapgrab_heap_free_bytes", true);
	family(w, "heapgrab_heap_free_chunks", F_GAUGE, NULL,
	       "Free chunks, by where glibc keeps them (tcache, fastbin, bin, top).");
	gauge_free(w, t, n, "heapgrab_heap_free_chunks", false);
	family(w, "heapgrab_heap_overhead_bytes", F_GAUGE, "bytes",
	       "Bytes of the arenas' system memory in no chunk (heap headers, padding, fenceposts).");
	for (size_t i = 0; i < n; i++) {
		if (!up_census(&t[i]))
			continue;
		sample_start(w, "heapgrab_heap_overhead_bytes", &t[i]);
		end_u64(w, t[i].census->overhead);
	}
	family(w, "heapgrab_heap_arena_system_bytes", F_GAUGE, "bytes",
	       "Bytes the arenas got from the system, summed over arenas (mallinfo2 arena).");
	for (size_t i = 0; i < n; i++) {
		if (!up_census(&t[i]))
			continue;
		sample_start(w, "heapgrab_heap_arena_system_bytes", &t[i]);
		end_u64(w, t[i].census->system_bytes);
	}
	family(w, "heapgrab_heap_arenas", F_GAUGE, NULL, "Arenas (main_arena and thread arenas).");
	for (size_t i = 0; i < n; i++) {
		if (!up_census(&t[i]))
			continue;
		sample_start(w, "heapgrab_heap_arenas", &t[i]);
		end_u64(w, t[i].nr_arenas);
	}
}

static void write_types(struct mw *w, const struct metrics_target *t, size_t n, unsigned top)
{
	struct type_row **rows = xcalloc(n ? n : 1, sizeof(*rows));
	size_t *nr = xcalloc(n ? n : 1, sizeof(*nr));

	for (size_t i = 0; i < n; i++)
		if (up_census(&t[i]))
			nr[i] = type_rows(t[i].census, top ? top : 1, &rows[i]);
	for (int bytes = 1; bytes >= 0; bytes--) {
		const char *name = bytes ? "heapgrab_type_bytes" : "heapgrab_type_chunks";

		family(w, name, F_GAUGE, bytes ? "bytes" : NULL,
		       bytes ? "Bytes of live chunks (in use and mmapped) by type; the largest types, "
			       "the rest as type=\"(other)\"." :
			       "Live chunks (in use and mmapped) by type; the types with the most "
			       "bytes, the rest as type=\"(other)\".");
		for (size_t i = 0; i < n; i++)
			for (size_t k = 0; k < nr[i]; k++) {
				sample_start(w, name, &t[i]);
				/* already escaped */
				strbuf_addf(w->out, ",type=\"%s\"", rows[i][k].label);
				end_u64(w, bytes ? rows[i][k].bytes : rows[i][k].count);
			}
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < nr[i]; k++)
			free(rows[i][k].label);
		free(rows[i]);
	}
	free(rows);
	free(nr);
}

static void write_snapshots(struct mw *w, const struct metrics_target *t, size_t n)
{
	family(w, "heapgrab_snapshot_timestamp_seconds", F_GAUGE, "seconds",
	       "Unix time the census these figures come from was taken.");
	for (size_t i = 0; i < n; i++) {
		if (!up_census(&t[i]))
			continue;
		sample_start(w, "heapgrab_snapshot_timestamp_seconds", &t[i]);
		end_seconds(w, t[i].taken_ns);
	}
	family(w, "heapgrab_snapshot_duration_seconds", F_GAUGE, "seconds",
	       "What that snapshot took, from stopping the target to typing its chunks.");
	for (size_t i = 0; i < n; i++) {
		if (!up_census(&t[i]))
			continue;
		sample_start(w, "heapgrab_snapshot_duration_seconds", &t[i]);
		end_seconds(w, (int64_t)t[i].duration_ns);
	}
	family(w, "heapgrab_snapshot_warnings", F_GAUGE, NULL,
	       "Warnings (corrupt chunks and the like) in that snapshot's heap walk.");
	for (size_t i = 0; i < n; i++) {
		if (!up_census(&t[i]))
			continue;
		sample_start(w, "heapgrab_snapshot_warnings", &t[i]);
		end_u64(w, t[i].warnings);
	}
	family(w, "heapgrab_snapshots", F_COUNTER, NULL, "Snapshots taken.");
	for (size_t i = 0; i < n; i++) {
		sample_start(w, "heapgrab_snapshots_total", &t[i]);
		end_u64(w, t[i].snapshots);
	}
	family(w, "heapgrab_snapshot_failures", F_COUNTER, NULL,
	       "Snapshots that failed, by reason (gone, denied, busy, error).");
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < METRICS_FAIL__COUNT; k++) {
			sample_start(w, "heapgrab_snapshot_failures_total", &t[i]);
			label(w, "reason", failure_names[k]);
			end_u64(w, t[i].failures[k]);
		}
	family(w, "heapgrab_snapshot_pause_seconds", F_HISTOGRAM, "seconds",
	       "How long each snapshot stopped the target.");
	for (size_t i = 0; i < n; i++) {
		const struct metrics_histogram *h = &t[i].pause;
		uint64_t cum = 0;

		for (size_t k = 0; k <= METRICS_PAUSE_BUCKETS; k++) {
			cum += h->bucket[k];
			sample_start(w, "heapgrab_snapshot_pause_seconds_bucket", &t[i]);
			strbuf_addstr(w->out, ",le=\"");
			if (k < METRICS_PAUSE_BUCKETS)
				add_bound(w->out, metrics_pause_bounds_ns[k]);
			else
				strbuf_addstr(w->out, "+Inf");
			strbuf_addch(w->out, '"');
			end_u64(w, cum);
		}
		sample_start(w, "heapgrab_snapshot_pause_seconds_count", &t[i]);
		end_u64(w, h->count);
		sample_start(w, "heapgrab_snapshot_pause_seconds_sum", &t[i]);
		end_seconds(w, (int64_t)h->sum_ns);
	}
	family(w, "heapgrab_snapshot_pause_last_hour_seconds", F_GAUGE, "seconds",
	       "Time the target spent stopped by snapshots in the last hour "
	       "(this minute and the 59 before).");
	for (size_t i = 0; i < n; i++) {
		sample_start(w, "heapgrab_snapshot_pause_last_hour_seconds", &t[i]);
		end_seconds(w, (int64_t)t[i].pause_last_hour_ns);
	}
}

void metrics_write(struct strbuf *out, const struct metrics_target *t, size_t n,
		   const struct metrics_opts *o)
{
	struct mw w = { .out = out, .om = o->format == METRICS_OPENMETRICS };

	family(&w, "heapgrab_build", F_INFO, NULL, "The heapgrab serving these metrics.");
	strbuf_addstr(out, "heapgrab_build_info{version=\"");
	metrics_label_value(out, o->version ? o->version : "", METRICS_LABEL_MAX);
	strbuf_addstr(out, "\"} 1\n");
	family(&w, "heapgrab_up", F_GAUGE, NULL,
	       "1 when the latest snapshot of the target succeeded, else 0.");
	for (size_t i = 0; i < n; i++) {
		sample_start(&w, "heapgrab_up", &t[i]);
		end_u64(&w, t[i].up);
	}
	family(&w, "heapgrab_target", F_INFO, NULL,
	       "The target process: its executable and glibc release.");
	for (size_t i = 0; i < n; i++) {
		if (t[i].pid <= 0)
			continue;
		sample_start(&w, "heapgrab_target_info", &t[i]);
		label(&w, "exe", t[i].exe ? t[i].exe : "");
		label(&w, "glibc", t[i].glibc ? t[i].glibc : "");
		end_u64(&w, 1);
	}
	write_heap(&w, t, n);
	write_types(&w, t, n, o->top);
	write_snapshots(&w, t, n);
	if (w.om)
		strbuf_addstr(out, "# EOF\n");
}
