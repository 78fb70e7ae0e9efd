/*
 * metrics.h - heap censuses as Prometheus metrics: the text exposition
 * format (version 0.0.4) or OpenMetrics 1.0, for `heapgrab serve`'s
 * /metrics (doc/metrics.md lists every family and label).
 *
 * The caller fills one struct metrics_target per target it watches (its
 * latest census, or none when it is down, and its snapshot counters);
 * metrics_write() appends the whole exposition to a strbuf: every family
 * once, with one sample (or one per label value) per target. Nothing
 * here knows about HTTP, ptrace or time: it is a pure function of its
 * input, and tests/unit/t-metrics.c holds it to the formats.
 *
 * Label values come from the target (type names from its debug info, its
 * executable's path) and are hostile: they are escaped (backslash, double
 * quote, newline), invalid UTF-8 and control characters are replaced, and
 * they are cut to METRICS_LABEL_MAX bytes. Two type names that end up as
 * the same label value are one series (their counts added), so a scrape
 * never holds a duplicate series, which Prometheus would reject whole.
 *
 * Cardinality is bounded: at most TOP type series per target (the types
 * with the most bytes), plus one "(other)" series holding the rest, so
 * the type series of a target always add up to its live chunks
 * (in use + mmapped), whatever the number of types.
 */
#ifndef HEAPGRAB_METRICS_H
#define HEAPGRAB_METRICS_H

#include "util/compiler.h"

struct strbuf;
struct census;

enum metrics_format {
	METRICS_TEXT,		/* text/plain; version=0.0.4 */
	METRICS_OPENMETRICS,	/* application/openmetrics-text; version=1.0.0 */
};

/* The format an HTTP Accept header asks for (NULL or empty: text).
 * OpenMetrics when application/openmetrics-text has a q-value above 0
 * and at least that of text/plain; text otherwise. */
enum metrics_format metrics_negotiate(const char *accept);
/* The Content-Type header value of FMT (a static string). */
const char *metrics_content_type(enum metrics_format fmt);

/* Label values longer than this are cut (UTF-8 safe) and end in "...":
 * C++ template names run to kilobytes, and every byte is stored by the
 * scraper for every sample. */
#define METRICS_LABEL_MAX 256

/*
 * Append S as the inside of a quoted label value: \ " and newline escaped,
 * other control characters and DEL as '?', invalid UTF-8 as U+FFFD, cut
 * at MAX bytes of input (then "..." appended).
 */
void metrics_label_value(struct strbuf *out, const char *s, size_t max);

/* The snapshot pause histogram's upper bounds, in nanoseconds, ascending
 * (+Inf is implicit). */
#define METRICS_PAUSE_BUCKETS 12
extern const uint64_t metrics_pause_bounds_ns[METRICS_PAUSE_BUCKETS];

struct metrics_histogram {
	uint64_t bucket[METRICS_PAUSE_BUCKETS + 1];	/* not cumulative; last: > every bound */
	uint64_t count;
	uint64_t sum_ns;
};

void metrics_histogram_observe(struct metrics_histogram *h, uint64_t ns);

/* Why a snapshot failed (the "reason" label of the failures counter). */
enum metrics_failure {
	METRICS_FAIL_GONE,	/* the process exited (or the pidfile names none) */
	METRICS_FAIL_DENIED,	/* ptrace not permitted, or already traced */
	METRICS_FAIL_BUSY,	/* a thread stayed inside the allocator */
	METRICS_FAIL_ERROR,	/* anything else: not glibc, static, ... */
	METRICS_FAIL__COUNT
};

struct metrics_target {
	const char *target;		/* label "target": as given (PID or pidfile) */
	int pid;			/* label "pid"; 0: none known */
	const char *exe;		/* for heapgrab_target_info; NULL: unknown */
	const char *glibc;		/* likewise ("2.36"); NULL: unknown */
	bool up;			/* the latest snapshot succeeded */
	/* the census of that snapshot (NULL when down) */
	const struct census *census;
	uint64_t nr_arenas;
	unsigned warnings;		/* the walk's warnings in that snapshot */
	int64_t taken_ns;		/* unix time it was taken, nanoseconds */
	uint64_t duration_ns;		/* what it took, stop to typing done */
	/* counters since serve started */
	uint64_t snapshots;
	uint64_t failures[METRICS_FAIL__COUNT];
	struct metrics_histogram pause;
	uint64_t pause_last_hour_ns;
	/*
	 * Resident memory (heapgrab rss: the target's RSS and its breakdown
	 * by heap, free heap, stacks, code, other) will be one more pointer
	 * here, NULL when not measured, written as heapgrab_rss_* families
	 * after the heap ones. Not there yet.
	 */
};

struct metrics_opts {
	enum metrics_format format;
	unsigned top;			/* type series per target (>= 1) */
	const char *version;		/* heapgrab's, for heapgrab_build_info */
};

/* The exposition of targets T[0..N) (see the top of the file). */
void metrics_write(struct strbuf *out, const struct metrics_target *t, size_t n,
		   const struct metrics_opts *o);

#endif /* HEAPGRAB_METRICS_H */
