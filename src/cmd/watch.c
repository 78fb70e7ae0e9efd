/*
 * watch.c - `heapgrab watch PID`: a snapshot every interval, one growth
 * line per interval, and at the end the leak suspects.
 *
 * Each snapshot is an ordinary live snapshot (snapshot_take_live: the same
 * consistency loop and detach guarantees as attach; a fork snapshot with
 * --fork); the target runs freely between them. Snapshots are taken on a fixed schedule (start +
 * i * interval on the monotonic clock), so a slow snapshot does not make
 * the rest drift; when one takes longer than the interval the next
 * follows at once.
 *
 * Only two snapshots are in memory at a time (the previous and the
 * current): what the report needs is kept per size class in a small
 * sorted table: the bytes and count at the first snapshot (or 0 when the
 * class appeared later), at the last one, and in how many intervals the
 * count grew.
 *
 * A leak suspect is a size class that grew in (nearly) every interval:
 * at least SUSPECT_PERCENT of them, with a net growth over the whole watch
 * (a class that grows and shrinks again is churn, not a leak). Suspects
 * are ranked by net bytes, with growth per hour from the elapsed time.
 *
 * The watch ends after --count snapshots, on the first Ctrl-C (SIGINT:
 * the current snapshot finishes, its target is detached as always, then
 * the report is printed; a second Ctrl-C detaches and dies like attach),
 * or when a snapshot fails (target exited). A progress line on stderr
 * counts down to the next snapshot, only when stderr is a terminal.
 *
 * --format html: the same watch, with the per-interval lines and the
 * report on standard error, and at the end one HTML page on standard
 * output (output/html.h): the live total and each top suspect over time,
 * and the census of the last snapshot. The history behind the charts is
 * kept only then: at most MAX_POINTS snapshots, every STRIDE-th one,
 * STRIDE doubling (and every other kept point dropped) when it is full,
 * so an all-day watch keeps a bounded, evenly spread history; the last
 * snapshot is always the last point.
 *
 * Exit status: 0; 1 when a snapshot had warnings or a later snapshot
 * failed (the report covers the snapshots taken); the first snapshot's
 * failure status when there is none; 2 when -o DIR cannot be written.
 */
#include "config.h"
#include "cmd/cmd.h"
#include "analysis/census.h"
#include "analysis/diff.h"
#include "analysis/profile.h"
#include "analysis/rss.h"
#include "output/census-out.h"
#include "output/diff-out.h"
#include "output/html.h"
#include "snapshot/snapshot.h"
#include "typing/typing.h"
#include "util/backoff.h"
#include "util/clock.h"
#include "util/diag.h"
#include "util/errors.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* "Grew in (nearly) every interval": 80% tolerates an interval or two in
 * which a leaking program happened to free a little more than it leaked
 * (batch frees, a cache trim) without naming classes that only churn,
 * which grow in about half of them. */
#define SUSPECT_PERCENT 80
#define DEFAULT_INTERVAL_MS 10000
/* --format html: snapshots kept for the charts (see the top). 512 points
 * draw a smooth line in a 330-pixel chart; a thousand size classes then
 * cost 4 MB. */
#define MAX_POINTS 512

struct size_stat {
	uint64_t size;
	uint64_t first_count, first_bytes;
	uint64_t last_count, last_bytes;
	unsigned grew;		/* intervals in which the count grew */
	uint64_t *hist;		/* --format html: count at each kept point */
};

struct watch {
	struct size_stat *stats;
	size_t nr_stats, alloc_stats;
	unsigned intervals;
	/* --format html only (keep_history): the kept points */
	bool keep_history;
	struct html_point *live;	/* MAX_POINTS; live total */
	size_t nr_points;
	unsigned stride;		/* snapshots per kept point */
	unsigned last_kept;		/* snapshot index of the last kept point */
	struct html_point now;		/* the live total at the last snapshot */
};

static volatile sig_atomic_t stop_requested;
static struct sigaction saved_int;

static void on_int(int sig)
{
	(void)sig;
	stop_requested = 1;
	/* The next Ctrl-C goes to attach's handler: detach, then die. */
	sigaction(SIGINT, &saved_int, NULL);
}

/* "10s", "500ms", "2m", "1h", "10" -> milliseconds; -1 when invalid. */
long long parse_duration(const char *s)
{
	char *end;
	double v;
	long long ms;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !(v > 0))
		return -1;
	if (!*end || !strcmp(end, "s"))
		v *= 1000;
	else if (!strcmp(end, "m"))
		v *= 60000;
	else if (!strcmp(end, "h"))
		v *= 3600000;
	else if (strcmp(end, "ms"))
		return -1;
	if (v < 1 || v > 7 * 24 * 3600e3)
		return -1;
	ms = (long long)v;
	return ms;
}

static int interval_cb(const struct cmd_option *row, const char *arg)
{
	long long ms = parse_duration(arg);

	if (ms < 0)
		return usage_error("--interval needs a duration like 10s or 500ms, not '%s'", arg);
	*(long long *)row->value = ms;
	return 0;
}

static int cmd_watch(int argc, char **argv);

/* The command line (watch_options stores into it). */
static struct {
	struct typing_opts topts;
	struct snapshot_opts sopts;
	struct out_opts oo;
	const char *dir;
	long long interval_ms;
	unsigned count, top;
} cl = {
	/* one target, many snapshots: its debug info is read once
	 * (--no-keep-debug-info: at every snapshot) */
	.topts = { .keep_debuginfo = true },
	.sopts = { .types = true, .typing = &cl.topts },
	.interval_ms = DEFAULT_INTERVAL_MS,
	.top = 10,
};

static const struct cmd_option watch_options[] = {
	{ .type = OPTION_CALLBACK, .long_name = "interval", .value = &cl.interval_ms,
	  .argh = "DURATION", .cb = interval_cb, .complete = "500ms 1s 10s 1m 5m 1h" },
	OPT_UINT("count", &cl.count, "N", 1, UINT_MAX, "a positive number"),
	OPT_STRING_F('o', "output", &cl.dir, "DIR", OPTF_LONG_ALIAS, "@dir"),
	OPT_TOP(&cl.top),
	OPT_FORMAT(&cl.oo.format, FORMATS_TEXT_HTML),
	OPT_COLOR(&cl.oo.color),
	/* accepted as by the other commands; no format of watch's has a value */
	{ .type = OPTION_CALLBACK, .long_name = "value", .value = &cl.oo, .argh = "bytes|count",
	  .cb = opt_value_cb, .flags = OPTF_HIDDEN },
	OPT_BREAK(),
	OPT_DEBUG_DIR(&cl.sopts.debug_dir),
	OPT_NO_DEBUG_INFO(&cl.sopts.no_debug_info),
	OPT_RETRIES(&cl.sopts.max_rounds),
	OPT_BREAK(),
	OPT_GROUP_TYPING(&cl.sopts, &cl.topts, true),
	OPT_NO_KEEP_DEBUG_INFO(&cl.topts.keep_debuginfo),
	OPT_FORK(&cl.sopts.mode),
	OPT_RSS(&cl.sopts),
	OPT_VERBOSE(),
	OPT_END(),
};

const struct command command_watch = {
	.name = "watch",
	.fn = cmd_watch,
	.summary = "a snapshot every interval, growth per interval, leak suspects",
	.options = watch_options,
	.operands = "PID",
	.complete_operands = "pid",
	.notes = "       (DURATION: 500ms, 10s, 5m, 1h; a plain number is seconds)\n",
};

static struct size_stat *stat_for(struct watch *w, uint64_t size, bool *ret_new)
{
	size_t lo = 0, hi = w->nr_stats;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (w->stats[mid].size < size)
			lo = mid + 1;
		else
			hi = mid;
	}
	*ret_new = !(lo < w->nr_stats && w->stats[lo].size == size);
	if (*ret_new) {
		ALLOC_GROW(w->stats, w->nr_stats + 1, w->alloc_stats);
		memmove(&w->stats[lo + 1], &w->stats[lo], (w->nr_stats - lo) * sizeof(*w->stats));
		w->nr_stats++;
		memset(&w->stats[lo], 0, sizeof(w->stats[lo]));
		w->stats[lo].size = size;
		if (w->keep_history)
			w->stats[lo].hist = xcalloc(MAX_POINTS, sizeof(*w->stats[lo].hist));
	}
	return &w->stats[lo];
}

static void watch_update(struct watch *w, const struct diff *d)
{
	w->intervals++;
	for (size_t i = 0; i < d->nr_by_size; i++) {
		const struct diff_size_row *r = &d->by_size[i];
		bool fresh;
		struct size_stat *st = stat_for(w, r->size, &fresh);

		if (fresh) {	/* unchanged until now: its OLD value is the first */
			st->first_count = r->v.count - (uint64_t)r->v.count_delta;
			st->first_bytes = r->v.bytes - (uint64_t)r->v.bytes_delta;
			st->last_count = st->first_count;
			for (size_t k = 0; st->hist && k < w->nr_points; k++)
				st->hist[k] = st->first_count;
		}
		st->last_count = r->v.count;
		st->last_bytes = r->v.bytes;
		if (r->v.count_delta > 0)
			st->grew++;
	}
}

static int cmp_suspect(const void *a, const void *b)
{
	const struct size_stat *x = a, *y = b;
	int64_t gx = (int64_t)(x->last_bytes - x->first_bytes);
	int64_t gy = (int64_t)(y->last_bytes - y->first_bytes);

	if (gx != gy)
		return gx > gy ? -1 : 1;
	return x->size < y->size ? -1 : x->size > y->size;
}

/* The leak suspects, ranked; *RET_SUS is malloc'd (free() it), its hist
 * pointers borrowed from W. */
static size_t find_suspects(const struct watch *w, struct size_stat **ret_sus)
{
	unsigned need = (w->intervals * SUSPECT_PERCENT + 99) / 100;
	struct size_stat *sus = xmalloc(st_mult(w->nr_stats + 1, sizeof(*sus)));
	size_t n = 0;

	for (size_t i = 0; i < w->nr_stats; i++) {
		const struct size_stat *st = &w->stats[i];

		if (w->intervals && st->grew >= need && st->last_bytes > st->first_bytes)
			sus[n++] = *st;
	}
	qsort(sus, n, sizeof(*sus), cmp_suspect);
	*ret_sus = sus;
	return n;
}

static void watch_report(struct strbuf *sb, struct watch *w, double elapsed, unsigned top)
{
	unsigned need = (w->intervals * SUSPECT_PERCENT + 99) / 100;
	struct size_stat *sus;
	size_t n = find_suspects(w, &sus);
	strbuf_addf(sb, "\n%u snapshot%s, %u interval%s over %.0f s\n", w->intervals + 1,
		    w->intervals ? "s" : "", w->intervals, w->intervals == 1 ? "" : "s", elapsed);
	if (!w->intervals) {
		strbuf_addstr(sb, "no leak suspects: one snapshot is not enough to see growth\n");
		goto out;
	}
	if (!n) {
		strbuf_addf(sb, "no leak suspects: no size class grew in at least %u of %u "
			    "intervals\n", need, w->intervals);
		goto out;
	}
	strbuf_addf(sb, "leak suspects (grew in at least %u of %u intervals):\n", need,
		    w->intervals);
	for (size_t i = 0; i < n && i < top; i++) {
		const struct size_stat *st = &sus[i];
		int64_t db = (int64_t)(st->last_bytes - st->first_bytes);
		int64_t dc = (int64_t)(st->last_count - st->first_count);

		strbuf_addstr(sb, "  ");
		fmt_signed_thousands(sb, dc);
		strbuf_addstr(sb, " chunks of ");
		fmt_thousands(sb, st->size);
		strbuf_addstr(sb, " bytes, ");
		fmt_signed_bytes(sb, db);
		strbuf_addf(sb, " (grew in %u/%u intervals)", st->grew, w->intervals);
		if (elapsed > 0) {
			strbuf_addstr(sb, ", ");
			fmt_signed_bytes(sb, (int64_t)((double)db * 3600 / elapsed));
			strbuf_addstr(sb, "/hour");
		}
		strbuf_addch(sb, '\n');
	}
	if (n > top)
		strbuf_addf(sb, "(%zu more suspects; --top N)\n", n - top);
out:
	free(sus);
}

/* Keep the current state (w->now, the stats' last_count) as a point. */
static void history_push(struct watch *w, unsigned idx)
{
	if (w->nr_points == MAX_POINTS) {	/* drop every other point */
		for (size_t k = 0; k < MAX_POINTS / 2; k++) {
			w->live[k] = w->live[2 * k];
			for (size_t s = 0; s < w->nr_stats; s++)
				w->stats[s].hist[k] = w->stats[s].hist[2 * k];
		}
		w->nr_points = MAX_POINTS / 2;
		w->stride *= 2;
	}
	w->live[w->nr_points] = w->now;
	for (size_t s = 0; s < w->nr_stats; s++)
		w->stats[s].hist[w->nr_points] = w->stats[s].last_count;
	w->nr_points++;
	w->last_kept = idx;
}

/* Snapshot IDX was taken now with LIVE_COUNT/LIVE_BYTES live. */
static void history_add(struct watch *w, unsigned idx, uint64_t live_count,
			uint64_t live_bytes)
{
	if (!w->keep_history)
		return;
	w->now = (struct html_point){ wall_clock_ms(), live_count, live_bytes };
	if (idx % w->stride == 0)
		history_push(w, idx);
}

/* The HTML report: the census of LAST, the live total and the top
 * suspects over time. */
static void watch_html(struct strbuf *sb, struct watch *w, const struct snapshot *last,
		       unsigned last_idx, unsigned long pid, unsigned top)
{
	struct size_stat *sus;
	size_t n = find_suspects(w, &sus), nr_series = 0;
	struct html_series *series = xcalloc(n + 1, sizeof(*series));
	struct html_point *pts;
	struct strbuf title = STRBUF_INIT, sub = STRBUF_INIT, labels = STRBUF_INIT;
	size_t *label_at = xcalloc(n + 1, sizeof(*label_at));
	struct html_series live;
	struct census census;
	struct profile prof;
	struct html_report r = {
		.mode = HTML_WATCH,
		.series_title = "Live total and leak suspects over time",
		.live = &live,
	};

	if (w->last_kept != last_idx)
		history_push(w, last_idx);
	if (n > top)
		n = top;
	pts = xcalloc(st_mult(n + 1, w->nr_points + 1), sizeof(*pts));
	for (size_t i = 0; i < n; i++) {
		struct html_point *q = &pts[i * w->nr_points];

		for (size_t k = 0; k < w->nr_points; k++)
			q[k] = (struct html_point){ w->live[k].t_ms, sus[i].hist[k],
						    sus[i].hist[k] * sus[i].size };
		label_at[i] = labels.len;
		strbuf_addf(&labels, "[%" PRIu64 "-byte chunks]: grew in %u of %u intervals",
			    sus[i].size, sus[i].grew, w->intervals);
		strbuf_addch(&labels, '\0');
		series[nr_series++] = (struct html_series){ NULL, q, w->nr_points };
	}
	for (size_t i = 0; i < nr_series; i++)
		series[i].label = labels.buf + label_at[i];
	live = (struct html_series){ "live (in use + mmapped)", w->live, w->nr_points };

	census_build(last, &census);
	profile_from_snapshot(last, /* opts= */ NULL, &prof);
	strbuf_addf(&title, "heapgrab watch: process %lu", pid);
	if (last->meta.exe)
		strbuf_addf(&title, " (%s)", last->meta.exe);
	strbuf_addf(&sub, "%u snapshot%s over %u interval%s; %zu leak suspect%s "
		    "(size classes that grew in at least %u%% of the intervals)",
		    w->intervals + 1, w->intervals ? "s" : "", w->intervals,
		    w->intervals == 1 ? "" : "s", nr_series, nr_series == 1 ? "" : "s",
		    SUSPECT_PERCENT);
	r.title = title.buf;
	r.subtitle = sub.buf;
	r.profile = &prof;
	r.census = &census;
	r.series = series;
	r.nr_series = nr_series;
	html_write(sb, &r);

	profile_release(&prof);
	census_release(&census);
	strbuf_release(&title);
	strbuf_release(&sub);
	strbuf_release(&labels);
	free(label_at);
	free(pts);
	free(series);
	free(sus);
}

/* One line per interval. */
static void growth_line(struct strbuf *sb, unsigned idx, const struct diff *d, bool color)
{
	char clock[16];
	time_t t = time(NULL);
	struct tm tm;

	if (!localtime_r(&t, &tm) || !strftime(clock, sizeof(clock), "%H:%M:%S", &tm))
		snprintf(clock, sizeof(clock), "?");
	strbuf_addf(sb, "%s #%u live ", clock, idx);
	fmt_bytes(sb, d->live.bytes);
	strbuf_addstr(sb, " in ");
	fmt_thousands(sb, d->live.count);
	strbuf_addstr(sb, " chunks: ");
	sgr_delta(sb, color, d->live.bytes_delta);
	fmt_signed_bytes(sb, d->live.bytes_delta);
	strbuf_addstr(sb, ", ");
	fmt_signed_thousands(sb, d->live.count_delta);
	strbuf_addstr(sb, " chunks");
	sgr_end(sb, color && d->live.bytes_delta);
	if (d->nr_by_size && d->by_size[0].v.bytes_delta > 0) {
		strbuf_addstr(sb, "; most: ");
		fmt_signed_thousands(sb, d->by_size[0].v.count_delta);
		strbuf_addstr(sb, " of ");
		fmt_thousands(sb, d->by_size[0].size);
		strbuf_addstr(sb, " bytes");
	}
	strbuf_addch(sb, '\n');
}

/*
 * --rss: "; RSS 1.0 GiB (+2.0 MiB), free 900.1 MiB, a trim returns
 * 890.0 MiB" after an interval's line (its newline taken off), from S's
 * residency. *LAST holds the previous RSS (0: none yet).
 */
static void rss_part(struct strbuf *sb, struct snapshot *s, uint64_t *last)
{
	struct rss_report r;

	if (!s->rss || rss_build(s, NULL, &r) < 0)
		return;
	if (sb->len && sb->buf[sb->len - 1] == '\n')
		sb->buf[--sb->len] = '\0';
	strbuf_addstr(sb, "; RSS ");
	if (r.has_kernel_rss) {
		fmt_bytes(sb, r.kernel_rss);
		if (*last) {
			strbuf_addstr(sb, " (");
			fmt_signed_bytes(sb, (int64_t)(r.kernel_rss - *last));
			strbuf_addch(sb, ')');
		}
		*last = r.kernel_rss;
	} else {
		strbuf_addch(sb, '?');
	}
	if (r.live && r.pagemap && !r.unsplit) {
		strbuf_addstr(sb, ", free ");
		fmt_bytes(sb, r.free_resident);
		strbuf_addstr(sb, ", a trim returns ");
		fmt_bytes(sb, r.releasable);
	}
	strbuf_addch(sb, '\n');
	rss_release(&r);
}

/* Sleep until DEADLINE (monotonic seconds) or a stop request; counts down
 * on stderr when it is a terminal. */
static void wait_until(double deadline, unsigned next_idx, bool tty)
{
	while (!stop_requested) {
		double left = deadline - monotonic_ms() / 1e3;

		if (left <= 0)
			break;
		if (tty)
			fprintf(stderr, "\rheapgrab: snapshot %u in %.0f s (Ctrl-C: stop and report)\033[K",
				next_idx, left + 0.49);
		if (left > 1)
			left = 1;
		sleep_us((unsigned long)(left * 1e6));	/* EINTR: the loop checks the flag */
	}
	if (tty)
		fputs("\r\033[K", stderr);
}

/* Text lines go to standard output, or with --format html (TO_STDERR) to
 * standard error, where they do not mix with the page. */
static int write_lines(const struct strbuf *sb, bool to_stderr)
{
	if (!to_stderr)
		return write_stdout(sb);
	fwrite(sb->buf, 1, sb->len, stderr);
	return 0;
}

static int save_in_dir(const char *dir, unsigned long pid, unsigned idx,
		       const struct snapshot *s, unsigned warnings)
{
	char *path = xasprintf("%s/%lu-%04u.hgs", dir, pid, idx);
	int status = save_snapshot(s, warnings, path);

	free(path);
	return status;
}

static int cmd_watch(int argc, char **argv)
{
	struct snapshot_opts sopts;
	struct watch w = { 0 };
	struct snapshot *prev = NULL, *cur = NULL;
	struct diag_sink diag;
	struct strbuf out = STRBUF_INIT;
	struct sigaction sa;
	const char *dir;
	long long interval_ms;
	unsigned long pid, count;
	unsigned top, idx, warn_before, last_idx = 0;
	bool tty = isatty(STDERR_FILENO), html, color;
	struct out_opts oo;
	double start, last;
	uint64_t last_rss = 0;
	int status = 0;
	char *end;

	out_opts_init(&cl.oo);
	status = parse_options(&command_watch, argc, argv, &argc);
	if (status >= 0)
		return status;
	sopts = cl.sopts;
	oo = cl.oo;
	dir = cl.dir;
	interval_ms = cl.interval_ms;
	count = cl.count;
	top = cl.top;
	if (argc != 1)
		return usage_error(argc == 0 ? "watch needs a PID" : "watch takes one PID");
	errno = 0;
	pid = strtoul(argv[0], &end, 10);
	if (errno || *end || end == argv[0] || argv[0][0] == '-' || !pid || pid > INT_MAX)
		return usage_error("'%s' is not a process id", argv[0]);
	if ((status = out_opts_check(&oo)))
		return status;
	html = oo.format == FORMAT_HTML;
	color = !html && out_color(&oo);
	if (html) {
		w.keep_history = true;
		w.stride = 1;
		w.live = xcalloc(MAX_POINTS, sizeof(*w.live));
	}
	if (dir && mkdir(dir, 0700) < 0 && errno != EEXIST) {
		error_msg("cannot create directory '%s': %s", dir, strerror(errno));
		return EXIT_FAILURE_HG;
	}

	sopts.inject_tid = inject_tid_from_env();
	cli_diag_init(&diag);
	install_detach_handlers();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_int;
	sigfillset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &saved_int);

	start = last = monotonic_ms() / 1e3;
	status = attach_snapshot(pid, &sopts, &diag, &prev, NULL);
	if (status)
		goto out;
	if (dir && (status = save_in_dir(dir, pid, 0, prev, diag.nr_warnings)))
		goto out;
	history_add(&w, 0, prev->walk.totals[CHUNK_INUSE].count +
		    prev->walk.totals[CHUNK_MMAPPED].count,
		    prev->walk.totals[CHUNK_INUSE].bytes + prev->walk.totals[CHUNK_MMAPPED].bytes);
	strbuf_addf(&out, "watching process %lu", pid);
	if (prev->meta.exe)
		strbuf_addf(&out, " (%s)", prev->meta.exe);
	strbuf_addf(&out, " every %.3g s%s; live ", (double)interval_ms / 1000,
		    count ? "" : " until Ctrl-C");
	{
		uint64_t b = prev->walk.totals[CHUNK_INUSE].bytes +
			     prev->walk.totals[CHUNK_MMAPPED].bytes;
		uint64_t n = prev->walk.totals[CHUNK_INUSE].count +
			     prev->walk.totals[CHUNK_MMAPPED].count;

		fmt_bytes(&out, b);
		strbuf_addstr(&out, " in ");
		fmt_thousands(&out, n);
		strbuf_addstr(&out, " chunks\n");
		rss_part(&out, prev, &last_rss);
	}
	if ((status = write_lines(&out, html)))
		goto out;
	strbuf_reset(&out);

	for (idx = 1; !count || idx < count; idx++) {
		struct diff d;

		wait_until(start + (double)idx * (double)interval_ms / 1000, idx, tty);
		if (stop_requested)
			break;
		warn_before = diag.nr_warnings;
		status = attach_snapshot(pid, &sopts, &diag, &cur, NULL);
		if (status) {
			status = EXIT_WARNINGS;	/* the report covers what was taken */
			break;
		}
		last = monotonic_ms() / 1e3;
		if (dir && (status = save_in_dir(dir, pid, idx, cur,
						 diag.nr_warnings - warn_before))) {
			snapshot_free(cur);
			break;
		}
		diff_build(prev, cur, NULL, &d);
		watch_update(&w, &d);
		history_add(&w, idx, d.live.count, d.live.bytes);
		last_idx = idx;
		growth_line(&out, idx, &d, color);
		rss_part(&out, cur, &last_rss);
		diff_release(&d);
		snapshot_free(prev);
		prev = cur;
		cur = NULL;
		if (write_lines(&out, html)) {
			status = EXIT_FAILURE_HG;
			goto out;
		}
		strbuf_reset(&out);
	}
	watch_report(&out, &w, last - start, top);
	if (write_lines(&out, html))
		status = EXIT_FAILURE_HG;
	if (html) {
		strbuf_reset(&out);
		watch_html(&out, &w, prev, last_idx, pid, top);
		if (write_stdout(&out))
			status = EXIT_FAILURE_HG;
	}
	cli_diag_finish(&diag);
	if (!status && diag.nr_warnings)
		status = EXIT_WARNINGS;
out:
	strbuf_release(&out);
	for (size_t i = 0; i < w.nr_stats; i++)
		free(w.stats[i].hist);
	free(w.stats);
	free(w.live);
	snapshot_free(prev);
	typing_drop_debuginfo();
	return status;
}
