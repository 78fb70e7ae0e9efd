/*
 * serve.c - `heapgrab serve PID...`: a long-running exporter that gives
 * any glibc process a Go-style /debug/pprof/heap endpoint and Prometheus
 * metrics, from outside, for continuous profilers and Prometheus.
 *
 *   GET /debug/pprof/heap[?pid=N][&seconds=S]
 *                       the gzipped pprof profile of a census, the same as
 *                       `attach --format pprof` (cmd/formats.c
 *                       emit_census); with seconds, the growth over S
 *                       seconds as a delta profile (emit_diff, the same as
 *                       `heapgrab diff`), Go's convention
 *   GET /debug/pprof/   an index of the profiles, like Go's
 *   GET /metrics        Prometheus text or OpenMetrics (output/metrics.h)
 *   GET /               a short HTML page listing the targets
 *
 * Threads. Three, each with one job:
 *   - main: parses options, opens the socket, starts the others, then
 *     waits in sigwaitinfo() for SIGINT/SIGTERM/SIGHUP (blocked in every
 *     thread), and shuts down: the worker finishes the snapshot it is in
 *     (so its target is detached the ordinary way), every waiting request
 *     is answered 503, the HTTP server stops, exit status 0;
 *   - the HTTP thread (libmicrohttpd's internal polling thread, epoll): it
 *     parses requests, answers from what is cached, and suspends requests
 *     that need a snapshot (MHD_suspend_connection); it never blocks on a
 *     target and never does heavy work except writing the metrics text;
 *   - the worker: the only thread that touches targets (ptrace requires
 *     that the thread that seized a process is the one that drives and
 *     detaches it, and live_emergency_detach(), the fork reaper and the
 *     typing caches are process-wide), so every snapshot is serialised,
 *     per target and across targets. It also renders the pprof profiles,
 *     then resumes the suspended requests, which look again at what they
 *     wait for.
 * A crash signal in the worker runs the detach handler of cmd/common.c in
 * the tracer thread, which can detach; SIGKILL (or a crash elsewhere)
 * ends the process, and the kernel detaches its tracees and lets them run
 * (PTRACE_SEIZE never leaves a SIGSTOP pending).
 *
 * Rate limit and sharing. Each target keeps its latest result (a census,
 * or why the snapshot failed) with the monotonic times its snapshot
 * started and ended. A request is served from it when it ended less than
 * --min-interval ago; otherwise the request waits for the snapshot in
 * progress, or asks the worker for one. The worker never starts a
 * snapshot of a target less than --min-interval after the start of the
 * previous one, whatever the requests, so concurrent and rapid requests
 * share snapshots and the target is stopped at most once per interval.
 * A delta (?seconds=S) waits for a snapshot started after it arrived,
 * then for one started S seconds after that (or --min-interval, when
 * longer): the profile's duration says which.
 *
 * Residency. Every snapshot reads the target's residency as `attach
 * --rss` does (pagemap in the same stop, smaps right after it) and keeps
 * the RSS accounting (analysis/rss.h) beside the census, for the
 * heapgrab_rss_* families. Always, not behind an option: the pagemap read
 * adds under a millisecond to the pause of a 256 MiB target whose copy
 * takes about 80 ms (doc/metrics.md has the figures).
 *
 * Identity. A PID operand names one process: its start time
 * (/proc/PID/stat) is recorded at start and checked before and after
 * every snapshot, so a recycled PID is not followed (a process that
 * takes the PID in the microseconds between the check and the seize is
 * stopped once, and its figures are thrown away); once the process is
 * gone the target stays "up 0". A --pidfile target reads the file again
 * before each snapshot and follows the process it names; the file must
 * not be writable by group or others, and must belong to root or to
 * heapgrab's user (whoever can write it chooses the process heapgrab
 * reads). Requests name a target only by the PID it has now (?pid=N);
 * nothing in a request can name another process, a file or an option.
 *
 * Bounds. libmicrohttpd closes connections beyond MAX_CONNECTIONS (half
 * that per client address), refuses requests whose line and headers
 * exceed REQUEST_MEMORY, and closes connections that send and receive
 * nothing for IDLE_TIMEOUT_S (a client trickling its headers a byte at a
 * time within that keeps its connection: the connection limit bounds
 * what such clients can hold); serve accepts GET and HEAD only, with no
 * body, and a closed set of query parameters. Responses hold types and
 * counts only (no memory contents: snapshots are taken without the
 * image). Memory: per target the latest snapshot and its rendered
 * profile, plus two snapshots per delta in progress; after each snapshot
 * the freed memory of the cycle is given back (malloc_trim).
 */
#include "config.h"
#include "cmd/cmd.h"
#include "analysis/census.h"
#include "analysis/diff.h"
#include "analysis/rss.h"
#include "output/metrics.h"
#include "snapshot/snapshot.h"
#include "typing/typing.h"
#include "util/clock.h"
#include "util/diag.h"
#include "util/errors.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_LISTEN "127.0.0.1:9756"
#define DEFAULT_MIN_INTERVAL_MS 10000
/* Below this a scrape loop could keep a target stopped a good part of the
 * time; the pause per hour metric shows what an interval costs. */
#define MIN_MIN_INTERVAL_MS 100
#define DEFAULT_TOP 20
/* Type series per target: cardinality is what a scraper pays for. */
#define MAX_TOP 1000
/* Targets per serve: each is a label value in every family. */
#define MAX_TARGETS 64
/* ?seconds=S: at most an hour; the request holds a connection meanwhile
 * (a suspended connection is not timed out, and its client's going away
 * is not noticed), so at most MAX_DELTAS at a time: more get 503. */
#define MAX_DELTA_SECONDS 3600
#define MAX_DELTAS 8
/* Connections at once (suspended ones count), and per client address:
 * scrapers use one or two each; beyond it libmicrohttpd closes them. */
#define MAX_CONNECTIONS 64
#define MAX_CONNECTIONS_PER_IP 32
/* A connection that sends or reads nothing for this long is closed (a
 * slow client, an idle keep-alive); a suspended request has no timeout. */
#define IDLE_TIMEOUT_S 10
/* Request line and headers of one request, and libmicrohttpd's own
 * bookkeeping: larger requests are refused with an error status. */
#define REQUEST_MEMORY (16 * 1024)
#define LISTEN_BACKLOG 64

/* ---- results: one snapshot attempt, shared by the requests that use it ---- */

struct result {
	int refs;			/* atomic */
	bool ok;
	int pid;			/* the process it is of (0: none known) */
	unsigned long long start_time;	/* and its start time */
	double start;			/* monotonic seconds, when the attempt started */
	double end;			/* and when it was published */
	int64_t taken;			/* unix seconds */
	int64_t taken_ns;
	/* ok */
	struct snapshot *snap;
	struct census census;
	struct rss_report rss;		/* its resident memory */
	bool has_rss;
	unsigned warnings;
	uint64_t duration_ns;		/* stop to typing done */
	uint64_t pause_ns;		/* the target stopped */
	/* the pprof profile, rendered by the worker when a request wants it */
	bool pprof_wanted, pprof_done;
	char *pprof;
	size_t pprof_len;
	/* !ok */
	enum metrics_failure failure;
	char error[256];
};

static struct result *result_ref(struct result *r)
{
	if (r)
		__atomic_add_fetch(&r->refs, 1, __ATOMIC_RELAXED);
	return r;
}

static void result_unref(struct result *r)
{
	if (!r || __atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL))
		return;
	if (r->ok)
		census_release(&r->census);
	if (r->has_rss)
		rss_release(&r->rss);
	snapshot_free(r->snap);
	free(r->pprof);
	free(r);
}

/* ---- targets ---- */

#define MINUTES 60

struct target {
	const char *name;		/* the operand: "4242" or the pidfile path */
	const char *pidfile;		/* NULL for a PID operand */
	int pid;			/* the process now (0: none known) */
	unsigned long long start_time;	/* its /proc/PID/stat start time */
	char *exe;			/* of the last good snapshot */
	char glibc[16];
	struct result *cur;		/* the latest attempt; NULL before one */
	bool busy;			/* the worker is taking a snapshot now */
	double busy_start;
	double last_start;		/* start of the latest attempt (-inf: none) */
	double want_at;			/* a request wants a snapshot then (inf: none) */
	bool logged_down;		/* the last failure was reported */
	/* counters (metrics) */
	uint64_t snapshots;
	uint64_t failures[METRICS_FAIL__COUNT];
	struct metrics_histogram pause;
	uint64_t minute_ns[MINUTES];	/* pause per minute, a ring */
	int64_t minute_of[MINUTES];	/* which minute each slot holds */
};

/* ---- requests ---- */

enum req_kind {
	REQ_METRICS,
	REQ_HEAP,
	REQ_DELTA,
};

enum delta_phase {
	DELTA_BASE,			/* waiting for a snapshot after arrival */
	DELTA_END,			/* waiting for one SECONDS after the base */
	DELTA_RENDER,			/* the worker renders the diff */
	DELTA_DONE,
};

struct request {
	enum req_kind kind;
	enum metrics_format format;	/* REQ_METRICS */
	size_t target;			/* REQ_HEAP, REQ_DELTA */
	double arrival;
	double *need;			/* per target: a result started at or after */
	unsigned seconds;		/* REQ_DELTA */
	enum delta_phase phase;
	struct result *base, *end;
	char *body;			/* rendered delta (malloc'd) */
	size_t body_len;
	int render_status;		/* 0 or an HTTP status */
	bool suspended;
	struct MHD_Connection *conn;
	struct request *next;		/* in serve.waiting while suspended */
};

struct serve {
	pthread_mutex_t lock;
	pthread_cond_t wake;		/* the worker: work to do, or stop */
	struct target *targets;
	size_t nr_targets;
	double min_interval;		/* seconds */
	unsigned top;
	struct snapshot_opts sopts;
	struct typing_opts topts;
	struct request *waiting;	/* suspended requests */
	int nr_deltas;			/* REQ_DELTA requests alive (atomic) */
	bool stopping;
	struct MHD_Daemon *daemon;
};

/* Seconds on the monotonic clock (util/clock.h): every interval and
 * deadline of serve. */
static double mono_now(void)
{
	return (double)monotonic_ns() / 1e9;
}

/* ---- process identity ---- */

/* Field 22 of /proc/PID/stat (start time in clock ticks): 0 and *RET set,
 * or -1 when the process does not exist (or the file is malformed). */
static int proc_start_time(int pid, unsigned long long *ret)
{
	char path[64], buf[1024], *p;
	unsigned long long v;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* the command name (field 2) may hold spaces and parentheses */
	p = strrchr(buf, ')');
	if (!p)
		return -1;
	for (field = 2; field < 22; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -1;
	}
	if (sscanf(p + 1, "%llu", &v) != 1)
		return -1;
	*ret = v;
	return 0;
}

/*
 * The PID a pidfile names. Returns 0 with *RET_PID set, or -1 with WHY
 * filled (and *RET_FAILURE: gone when the file or the process is not
 * there, error when the file is not to be trusted or holds no PID).
 */
static int read_pidfile(const char *path, int *ret_pid, enum metrics_failure *ret_failure,
			char *why, size_t why_len)
{
	char buf[64], *end;
	struct stat st;
	unsigned long v;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		snprintf(why, why_len, "pidfile '%s': %s", path, strerror(errno));
		*ret_failure = errno == ENOENT ? METRICS_FAIL_GONE : METRICS_FAIL_ERROR;
		return -1;
	}
	*ret_failure = METRICS_FAIL_ERROR;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, why_len, "pidfile '%s': not a regular file", path);
		goto err;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) || (st.st_uid != 0 && st.st_uid != geteuid())) {
		snprintf(why, why_len, "pidfile '%s': writable by group or others, or owned by "
			 "another user: not trusted", path);
		goto err;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		snprintf(why, why_len, "pidfile '%s': %s", path, strerror(errno));
		goto err;
	}
	close(fd);
	buf[n] = '\0';
	errno = 0;
	v = strtoul(buf, &end, 10);
	while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
		end++;
	if (errno || end == buf || *end || buf[0] < '0' || buf[0] > '9' || !v || v > INT_MAX) {
		snprintf(why, why_len, "pidfile '%s' holds no process id", path);
		return -1;
	}
	*ret_pid = (int)v;
	return 0;
err:
	close(fd);
	return -1;
}

/*
 * Which process target T is now: *RET_PID and *RET_START (for a PID
 * operand, the process it named at start, if it still exists; for a
 * pidfile, the process the file names now). Returns 0, or -1 with WHY and
 * *RET_FAILURE set (*RET_PID still set when a PID is known). Reads only
 * fields the worker alone writes.
 */
static int resolve_target(const struct target *t, int *ret_pid, unsigned long long *ret_start,
			  enum metrics_failure *ret_failure, char *why, size_t why_len)
{
	unsigned long long st;
	int pid = t->pid;

	*ret_pid = pid;
	*ret_start = t->start_time;
	if (t->pidfile) {
		if (read_pidfile(t->pidfile, &pid, ret_failure, why, why_len) < 0)
			return -1;
		*ret_pid = pid;
		if (proc_start_time(pid, &st) < 0) {
			snprintf(why, why_len, "pidfile '%s' names process %d, which does not exist",
				 t->pidfile, pid);
			*ret_failure = METRICS_FAIL_GONE;
			return -1;
		}
		*ret_start = st;
		return 0;
	}
	if (proc_start_time(pid, &st) == 0 && st == t->start_time)
		return 0;
	snprintf(why, why_len, "process %d has exited", pid);
	*ret_failure = METRICS_FAIL_GONE;
	return -1;
}

/* ---- the worker ---- */

/* The diagnostics of one snapshot: counted, printed with -v only (a
 * server would print the same warnings at every snapshot). */
static void serve_report(struct diag_sink *sink, enum diag_level level, const char *msg)
{
	const struct result *r = sink->data;

	if (hg_verbose)
		fprintf(stderr, "heapgrab: %s: process %d: %s\n",
			level == DIAG_NOTE ? "note" : "warning", r->pid, msg);
}

static enum metrics_failure failure_of(int err)
{
	switch (-err) {
	case HG_E_NO_PROCESS:
	case HG_E_TARGET_GONE:
	case HG_E_ZOMBIE:
		return METRICS_FAIL_GONE;
	case HG_E_NOT_PERMITTED:
	case HG_E_ALREADY_TRACED:
	case EPERM:
		return METRICS_FAIL_DENIED;
	case HG_E_BUSY:
		return METRICS_FAIL_BUSY;
	default:
		return METRICS_FAIL_ERROR;
	}
}

/* Take one snapshot of T, without the lock (T's identity fields are the
 * worker's: the HTTP thread only reads them, under the lock). Returns a
 * new result with one reference. */
static struct result *take_snapshot(struct serve *sv, struct target *t, double start)
{
	struct result *r = xcalloc(1, sizeof(*r));
	struct snapshot_live_stats stats;
	struct strbuf why = STRBUF_INIT;
	struct diag_sink diag = { .report = serve_report, .data = r };
	unsigned long long st;
	uint64_t t0;
	int err;

	r->refs = 1;
	r->start = start;
	r->taken_ns = wall_clock_ns();
	r->taken = r->taken_ns / 1000000000;
	if (resolve_target(t, &r->pid, &r->start_time, &r->failure, r->error,
			   sizeof(r->error)) < 0)
		return r;
	t0 = monotonic_ns();
	err = snapshot_take_live(r->pid, &sv->sopts, &diag, &why, &r->snap, &stats);
	if (err == 0 && (proc_start_time(r->pid, &st) < 0 || st != r->start_time)) {
		/* the PID was recycled between the check and the seize */
		snapshot_free(r->snap);
		r->snap = NULL;
		err = -HG_E_TARGET_GONE;
		strbuf_reset(&why);
	}
	if (err < 0) {
		r->failure = failure_of(err);
		snprintf(r->error, sizeof(r->error), "process %d: %s", r->pid,
			 why.len ? why.buf : hg_strerror(err));
		strbuf_release(&why);
		return r;
	}
	strbuf_release(&why);
	r->ok = true;
	r->warnings = diag.nr_warnings;
	census_build(r->snap, &r->census);
	if (r->snap->rss && rss_build(r->snap, NULL, &r->rss) == 0)
		r->has_rss = true;
	r->duration_ns = monotonic_ns() - t0;
	r->pause_ns = stats.pause_ms > 0 ? (uint64_t)(stats.pause_ms * 1e6 + 0.5) : 0;
	debug_msg("serve: process %d: snapshot at %.3f s (monotonic): pause %.3f ms (pagemap "
		  "%.3f ms), %u round%s, walk %.1f ms, typing %.1f ms, %zu chunks", r->pid, start,
		  stats.pause_ms, stats.residency_ms, stats.rounds, stats.rounds == 1 ? "" : "s",
		  stats.walk_ms, stats.typing_ms,
		  r->snap->walk.nr_chunks);
	if (r->snap->typing) {
		struct strbuf ph = STRBUF_INIT;

		typing_phases_text(r->snap->typing, &ph);
		debug_msg("serve: process %d: typing phases%s: %s", r->pid,
			  r->snap->typing->kept_debuginfo ? " (debug info kept)" : "", ph.buf);
		strbuf_release(&ph);
	}
	return r;
}

/* Record R as T's latest result (the lock held). The old one is returned
 * for the caller to release after unlocking. */
static struct result *publish(struct target *t, struct result *r)
{
	struct result *old = t->cur;

	if (r->pid != t->pid || r->start_time != t->start_time) {
		if (t->pidfile && r->pid && r->start_time)
			debug_msg("serve: pidfile '%s' names process %d", t->pidfile, r->pid);
		if (t->pidfile) {
			t->pid = r->pid;
			t->start_time = r->start_time;
		}
	}
	r->end = mono_now();
	t->cur = r;
	if (r->ok) {
		int64_t minute = (int64_t)(r->start / 60);
		size_t slot = (size_t)(minute % MINUTES);

		t->snapshots++;
		metrics_histogram_observe(&t->pause, r->pause_ns);
		if (t->minute_of[slot] != minute) {
			t->minute_of[slot] = minute;
			t->minute_ns[slot] = 0;
		}
		t->minute_ns[slot] += r->pause_ns;
		free(t->exe);
		t->exe = r->snap->meta.exe ? xstrdup(r->snap->meta.exe) : NULL;
		snprintf(t->glibc, sizeof(t->glibc), "%s", r->snap->meta.glibc);
		if (t->logged_down)
			fprintf(stderr, "heapgrab: note: target %s: snapshots work again "
				"(process %d)\n", t->name, r->pid);
		t->logged_down = false;
	} else {
		t->failures[r->failure]++;
		if (!t->logged_down)
			warning_msg("target %s: %s", t->name, r->error);
		t->logged_down = true;
	}
	return old;
}

/* Move every suspended request out of the waiting list (the lock held);
 * resume_all() resumes them after the lock is released. Each looks again
 * at what it waits for and answers or waits again. */
static struct request *take_waiting(struct serve *sv)
{
	struct request *list = sv->waiting;

	sv->waiting = NULL;
	for (struct request *q = list; q; q = q->next)
		q->suspended = false;
	return list;
}

static void resume_all(struct request *list)
{
	while (list) {
		struct request *next = list->next;

		list->next = NULL;
		MHD_resume_connection(list->conn);
		list = next;
	}
}

static const struct out_opts pprof_opts = {
	.format = FORMAT_PPROF,
	.color = COLOR_NEVER,
};

/* The profile of R (the worker; R is immutable but for these fields). */
static void render_census(struct result *r, char **ret_buf, size_t *ret_len)
{
	struct strbuf out = STRBUF_INIT;

	if (emit_census(&out, r->snap, &r->census, &pprof_opts, r->taken)) {
		strbuf_release(&out);
		*ret_buf = NULL;
		*ret_len = 0;
		return;
	}
	*ret_buf = strbuf_detach(&out, ret_len);
}

/* The delta profile of Q: the growth from its base to its end snapshot,
 * as `heapgrab diff OLD NEW --format pprof` writes it. */
static void render_delta(struct request *q)
{
	struct diff_opts dopts = { 0 };
	struct strbuf out = STRBUF_INIT;
	struct diff d;

	diff_build(q->base->snap, q->end->snap, &dopts, &d);
	if (emit_diff(&out, q->base->snap, q->end->snap, &d, &pprof_opts, q->base->taken,
		      q->end->taken)) {
		q->render_status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		strbuf_release(&out);
	} else {
		q->body = strbuf_detach(&out, &q->body_len);
	}
	diff_release(&d);
}

/* When the next snapshot of T may start: what a request wants, but no
 * earlier than --min-interval after the previous one started. */
static double due_at(const struct serve *sv, const struct target *t)
{
	if (t->busy || isinf(t->want_at))
		return INFINITY;
	return MAX(t->want_at, t->last_start + sv->min_interval);
}

static void *worker(void *arg)
{
	struct serve *sv = arg;

	pthread_mutex_lock(&sv->lock);
	while (!sv->stopping) {
		struct request *q = NULL, *resume;
		struct result *r = NULL, *old;
		struct target *t = NULL;
		double now = mono_now(), due = INFINITY;
		char *buf;
		size_t len;

		/* 1. profiles requests wait for: a delta to render, or the
		 *    profile of a target's latest census */
		for (q = sv->waiting; q; q = q->next)
			if (q->kind == REQ_DELTA && q->phase == DELTA_RENDER)
				break;
		if (q) {
			pthread_mutex_unlock(&sv->lock);
			render_delta(q);
			pthread_mutex_lock(&sv->lock);
			q->phase = DELTA_DONE;
			resume = take_waiting(sv);
			pthread_mutex_unlock(&sv->lock);
			resume_all(resume);
			pthread_mutex_lock(&sv->lock);
			continue;
		}
		for (size_t i = 0; i < sv->nr_targets && !r; i++) {
			struct result *c = sv->targets[i].cur;

			if (c && c->ok && c->pprof_wanted && !c->pprof_done)
				r = result_ref(c);
		}
		if (r) {
			pthread_mutex_unlock(&sv->lock);
			render_census(r, &buf, &len);
			pthread_mutex_lock(&sv->lock);
			r->pprof = buf;
			r->pprof_len = len;
			r->pprof_done = true;
			resume = take_waiting(sv);
			pthread_mutex_unlock(&sv->lock);
			resume_all(resume);
			result_unref(r);
			pthread_mutex_lock(&sv->lock);
			continue;
		}

		/* 2. the snapshot due first */
		for (size_t i = 0; i < sv->nr_targets; i++) {
			double d = due_at(sv, &sv->targets[i]);

			if (d < due) {
				due = d;
				t = &sv->targets[i];
			}
		}
		if (t && due <= now) {
			t->busy = true;
			t->busy_start = now;
			t->last_start = now;
			t->want_at = INFINITY;
			pthread_mutex_unlock(&sv->lock);
			r = take_snapshot(sv, t, now);
			pthread_mutex_lock(&sv->lock);
			t->busy = false;
			old = publish(t, r);
			resume = take_waiting(sv);
			pthread_mutex_unlock(&sv->lock);
			resume_all(resume);
			result_unref(old);
			/* A snapshot's walk and typing free hundreds of MB per GiB
			 * of target heap; glibc keeps free memory of this thread's
			 * arena mapped. Give it back, so that between snapshots
			 * serve holds the latest census, not the peak of the last
			 * cycle. */
			malloc_trim(0);
			pthread_mutex_lock(&sv->lock);
			continue;
		}

		/* 3. nothing to do yet */
		if (isinf(due)) {
			pthread_cond_wait(&sv->wake, &sv->lock);
		} else {
			struct timespec ts;
			double wake;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			wake = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + (due - now);
			ts.tv_sec = (time_t)wake;
			ts.tv_nsec = (long)((wake - (double)ts.tv_sec) * 1e9);
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&sv->wake, &sv->lock, &ts);
		}
	}
	pthread_mutex_unlock(&sv->lock);
	return NULL;
}

/* A request wants a snapshot of T at AT (the lock held). */
static void want(struct serve *sv, struct target *t, double at)
{
	if (at < t->want_at) {
		t->want_at = at;
		pthread_cond_signal(&sv->wake);
	}
}

/* What a request needs of T at arrival NOW: the start a result must have
 * (the latest one when it was published less than --min-interval ago,
 * else the one in progress, else a new one, asked for now). The lock
 * held. Counting from the publication, not the start, a snapshot that
 * takes longer than --min-interval still serves the requests that follow
 * it for an interval, instead of each of them waiting for a new one. */
static double need_fresh(struct serve *sv, struct target *t, double now)
{
	if (t->cur && t->cur->end >= now - sv->min_interval)
		return t->cur->start;
	if (t->busy)
		return t->busy_start;
	want(sv, t, now);
	return now;
}

/* T's latest result if it started at or after NEED; else ask for one,
 * unless the snapshot in progress will do (asking then would take a
 * second one as soon as it ends). */
static struct result *fresh(struct serve *sv, struct target *t, double need)
{
	if (t->cur && t->cur->start >= need)
		return t->cur;
	if (!t->busy || t->busy_start < need)
		want(sv, t, need);
	return NULL;
}

/* ---- HTTP ---- */

static enum MHD_Result send_buf(struct MHD_Connection *conn, unsigned status, const char *type,
				char *buf, size_t len)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(buf);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	if (!strcmp(type, "application/octet-stream"))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION,
					"attachment; filename=\"profile\"");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result send_sb(struct MHD_Connection *conn, unsigned status, const char *type,
			       struct strbuf *sb)
{
	size_t len;
	char *buf = strbuf_detach(sb, &len);

	return send_buf(conn, status, type, buf, len);
}

ATTR_FORMAT(3, 4)
static enum MHD_Result send_error(struct MHD_Connection *conn, unsigned status,
				  const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	strbuf_addch(&sb, '\n');
	return send_sb(conn, status, "text/plain; charset=utf-8", &sb);
}

static void html_escape(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': strbuf_addstr(sb, "&lt;"); break;
		case '>': strbuf_addstr(sb, "&gt;"); break;
		case '&': strbuf_addstr(sb, "&amp;"); break;
		case '"': strbuf_addstr(sb, "&quot;"); break;
		case '\'': strbuf_addstr(sb, "&#39;"); break;
		default: strbuf_addch(sb, *s); break;
		}
	}
}

/* GET /: the targets, each with its state and its profile's link. */
static enum MHD_Result page_root(struct serve *sv, struct MHD_Connection *conn)
{
	struct strbuf sb = STRBUF_INIT;
	double now = mono_now();

	strbuf_addstr(&sb, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
		      "<title>heapgrab serve</title></head><body>\n"
		      "<h1>heapgrab serve</h1>\n<p><a href=\"/metrics\">/metrics</a> (Prometheus) "
		      "&middot; <a href=\"/debug/pprof/\">/debug/pprof/</a> (pprof)</p>\n"
		      "<table border=\"1\" cellpadding=\"4\">\n<tr><th>target</th><th>pid</th>"
		      "<th>state</th><th>last snapshot</th><th>profile</th></tr>\n");
	pthread_mutex_lock(&sv->lock);
	for (size_t i = 0; i < sv->nr_targets; i++) {
		const struct target *t = &sv->targets[i];
		const struct result *r = t->cur;

		strbuf_addstr(&sb, "<tr><td>");
		html_escape(&sb, t->name);
		strbuf_addstr(&sb, "</td><td>");
		if (t->pid > 0)
			strbuf_addf(&sb, "%d", t->pid);
		strbuf_addstr(&sb, "</td><td>");
		if (!r)
			strbuf_addstr(&sb, "no snapshot yet");
		else if (r->ok)
			strbuf_addstr(&sb, "up");
		else
			html_escape(&sb, r->error);
		strbuf_addstr(&sb, "</td><td>");
		if (r)
			strbuf_addf(&sb, "%" PRId64 " s ago", (int64_t)(now - r->start));
		strbuf_addstr(&sb, "</td><td>");
		if (t->pid > 0)
			strbuf_addf(&sb, "<a href=\"/debug/pprof/heap?pid=%d\">heap</a>", t->pid);
		strbuf_addstr(&sb, "</td></tr>\n");
	}
	pthread_mutex_unlock(&sv->lock);
	strbuf_addf(&sb, "</table>\n<p>heapgrab %s: at most one snapshot per target every "
		    "%.3g s.</p>\n</body></html>\n", PACKAGE_VERSION, sv->min_interval);
	return send_sb(conn, MHD_HTTP_OK, "text/html; charset=utf-8", &sb);
}

/* GET /debug/pprof/: Go's index, with the one profile heapgrab has. */
static enum MHD_Result page_index(struct serve *sv, struct MHD_Connection *conn)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "<html>\n<head>\n<title>/debug/pprof/</title>\n</head>\n<body>\n"
		      "/debug/pprof/<br>\n<br>\nTypes of profiles available:\n"
		      "<table>\n<thead><td>Count</td><td>Profile</td></thead>\n");
	pthread_mutex_lock(&sv->lock);
	for (size_t i = 0; i < sv->nr_targets; i++) {
		const struct target *t = &sv->targets[i];
		const struct result *r = t->cur;

		if (t->pid <= 0)
			continue;
		strbuf_addf(&sb, "<tr><td>%" PRIu64 "</td><td><a href=\"heap?pid=%d\">heap</a> "
			    "(process %d, ", r && r->ok ? r->census.totals[CHUNK_INUSE].count +
			    r->census.totals[CHUNK_MMAPPED].count : 0, t->pid, t->pid);
		html_escape(&sb, t->name);
		strbuf_addstr(&sb, ")</td></tr>\n");
	}
	pthread_mutex_unlock(&sv->lock);
	strbuf_addstr(&sb, "</table>\n<br>\n<p>\n<ul>\n<li><div class=profile-name>heap: </div> "
		      "The live chunks of the target's glibc heap, by ownership path and type "
		      "(inuse_objects, inuse_space), taken from outside by heapgrab. Add "
		      "?seconds=N for the growth over N seconds (a delta profile).</li>\n"
		      "</ul>\n</p>\n</body>\n</html>\n");
	return send_sb(conn, MHD_HTTP_OK, "text/html; charset=utf-8", &sb);
}

/* GET /metrics, once every target's result is fresh enough (the lock
 * held on entry, released before the text is written). */
static enum MHD_Result page_metrics(struct serve *sv, struct request *q)
{
	struct metrics_target *mt = xcalloc(sv->nr_targets, sizeof(*mt));
	struct result **held = xcalloc(sv->nr_targets, sizeof(*held));
	char **exes = xcalloc(sv->nr_targets, sizeof(*exes));
	char (*glibcs)[16] = xcalloc(sv->nr_targets, sizeof(*glibcs));
	struct metrics_opts mo = {
		.format = q->format,
		.top = sv->top,
		.version = PACKAGE_VERSION,
	};
	struct strbuf sb = STRBUF_INIT;
	int64_t minute = (int64_t)(mono_now() / 60);
	enum MHD_Result ret;

	for (size_t i = 0; i < sv->nr_targets; i++) {
		const struct target *t = &sv->targets[i];
		struct metrics_target *m = &mt[i];
		struct result *r = held[i] = result_ref(t->cur);

		m->target = t->name;
		m->pid = r ? r->pid : t->pid;
		exes[i] = t->exe ? xstrdup(t->exe) : NULL;
		memcpy(glibcs[i], t->glibc, sizeof(glibcs[i]));
		m->exe = exes[i];
		m->glibc = glibcs[i][0] ? glibcs[i] : NULL;
		m->up = r && r->ok;
		if (m->up) {
			m->census = &r->census;
			m->nr_arenas = r->snap->walk.nr_arenas;
			m->warnings = r->warnings;
			m->taken_ns = r->taken_ns;
			m->duration_ns = r->duration_ns;
			m->rss = r->has_rss ? &r->rss : NULL;
		}
		m->snapshots = t->snapshots;
		memcpy(m->failures, t->failures, sizeof(m->failures));
		m->pause = t->pause;
		for (size_t k = 0; k < MINUTES; k++)
			if (t->minute_of[k] > minute - MINUTES && t->minute_of[k] <= minute)
				m->pause_last_hour_ns += t->minute_ns[k];
	}
	pthread_mutex_unlock(&sv->lock);
	metrics_write(&sb, mt, sv->nr_targets, &mo);
	ret = send_sb(q->conn, MHD_HTTP_OK, metrics_content_type(q->format), &sb);
	for (size_t i = 0; i < sv->nr_targets; i++) {
		result_unref(held[i]);
		free(exes[i]);
	}
	free(mt);
	free(held);
	free(exes);
	free(glibcs);
	return ret;
}

/* Suspend Q until the worker has something new (the lock held). */
static enum MHD_Result wait_for_worker(struct serve *sv, struct request *q)
{
	MHD_suspend_connection(q->conn);
	q->suspended = true;
	q->next = sv->waiting;
	sv->waiting = q;
	pthread_mutex_unlock(&sv->lock);
	return MHD_YES;
}

/* The profile of a failed result: 503 with its reason. */
static enum MHD_Result send_down(struct serve *sv, struct MHD_Connection *conn,
				 const struct result *r)
{
	char why[sizeof(r->error)];

	memcpy(why, r->error, sizeof(why));
	pthread_mutex_unlock(&sv->lock);
	return send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "heapgrab: %s", why);
}

/* Answer Q if what it needs is there, else wait (on entry the lock is
 * held; every path releases it). */
static enum MHD_Result serve_request(struct serve *sv, struct request *q)
{
	struct target *t = q->kind == REQ_METRICS ? NULL : &sv->targets[q->target];
	struct result *r;
	bool missing = false;

	if (sv->stopping) {
		pthread_mutex_unlock(&sv->lock);
		return send_error(q->conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				  "heapgrab: shutting down");
	}
	switch (q->kind) {
	case REQ_METRICS:
		for (size_t i = 0; i < sv->nr_targets; i++)
			if (!fresh(sv, &sv->targets[i], q->need[i]))
				missing = true;
		if (missing)
			return wait_for_worker(sv, q);
		return page_metrics(sv, q);
	case REQ_HEAP:
		r = fresh(sv, t, q->need[0]);
		if (!r)
			return wait_for_worker(sv, q);
		if (!r->ok)
			return send_down(sv, q->conn, r);
		if (!r->pprof_done) {
			r->pprof_wanted = true;
			pthread_cond_signal(&sv->wake);
			return wait_for_worker(sv, q);
		}
		if (!r->pprof) {
			pthread_mutex_unlock(&sv->lock);
			return send_error(q->conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
					  "heapgrab: cannot write the profile");
		} else {
			char *copy = xmalloc(r->pprof_len ? r->pprof_len : 1);
			size_t len = r->pprof_len;

			memcpy(copy, r->pprof, len);
			pthread_mutex_unlock(&sv->lock);
			return send_buf(q->conn, MHD_HTTP_OK, "application/octet-stream", copy, len);
		}
	case REQ_DELTA:
		if (q->phase == DELTA_BASE) {
			r = fresh(sv, t, q->arrival);
			if (!r)
				return wait_for_worker(sv, q);
			if (!r->ok)
				return send_down(sv, q->conn, r);
			q->base = result_ref(r);
			q->phase = DELTA_END;
		}
		if (q->phase == DELTA_END) {
			r = fresh(sv, t, q->base->start + q->seconds);
			if (!r)
				return wait_for_worker(sv, q);
			if (!r->ok)
				return send_down(sv, q->conn, r);
			if (r->pid != q->base->pid || r->start_time != q->base->start_time) {
				pthread_mutex_unlock(&sv->lock);
				return send_error(q->conn, MHD_HTTP_SERVICE_UNAVAILABLE,
						  "heapgrab: target %s restarted during the delta",
						  t->name);
			}
			q->end = result_ref(r);
			q->phase = DELTA_RENDER;
			pthread_cond_signal(&sv->wake);
		}
		if (q->phase == DELTA_RENDER)
			return wait_for_worker(sv, q);
		pthread_mutex_unlock(&sv->lock);
		if (q->render_status || !q->body)
			return send_error(q->conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
					  "heapgrab: cannot write the profile");
		{
			char *body = q->body;

			q->body = NULL;
			return send_buf(q->conn, MHD_HTTP_OK, "application/octet-stream", body,
					q->body_len);
		}
	}
	pthread_mutex_unlock(&sv->lock);
	return MHD_NO;
}

/* Query parameters: the names a path accepts, each at most once. */
struct args {
	const char *const *allowed;
	const char *bad;		/* the first unknown or repeated name */
	unsigned seen;			/* bit per allowed name */
};

static enum MHD_Result check_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				 const char *value)
{
	struct args *a = cls;

	(void)kind;
	(void)value;
	for (unsigned i = 0; a->allowed[i]; i++) {
		if (strcmp(key, a->allowed[i]))
			continue;
		if (a->seen & (1u << i))
			break;
		a->seen |= 1u << i;
		return MHD_YES;
	}
	a->bad = key;
	return MHD_NO;
}

/* A decimal in [1, MAX], or 0 when S is anything else. */
static unsigned long positive(const char *s, unsigned long max)
{
	unsigned long v;

	return s && parse_number(s, max, &v) == 0 ? v : 0;
}

static void request_free(struct serve *sv, struct request *q)
{
	if (!q)
		return;
	if (q->kind == REQ_DELTA)
		__atomic_sub_fetch(&sv->nr_deltas, 1, __ATOMIC_RELAXED);
	result_unref(q->base);
	result_unref(q->end);
	free(q->body);
	free(q->need);
	free(q);
}

/* A new request for PATH: validated, with what it needs at arrival; or an
 * answer at once (the lock is not held). */
static enum MHD_Result new_request(struct serve *sv, struct MHD_Connection *conn,
				   const char *url, struct request **ret)
{
	static const char *const no_args[] = { NULL };
	static const char *const heap_args[] = { "pid", "seconds", "gc", "debug", NULL };
	bool heap = !strcmp(url, "/debug/pprof/heap");
	struct args a = { .allowed = heap ? heap_args : no_args };
	struct request *q;
	const char *pid_s, *sec_s, *debug_s;
	double now = mono_now();
	size_t ti = 0;

	if (MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, check_arg, &a) < 0 || a.bad)
		return send_error(conn, MHD_HTTP_BAD_REQUEST, "heapgrab: unknown or repeated "
				  "query parameter%s%.64s%s", a.bad ? " '" : "",
				  a.bad ? a.bad : "", a.bad ? "'" : "");
	if (!strcmp(url, "/"))
		return page_root(sv, conn);
	if (!strcmp(url, "/debug/pprof/") || !strcmp(url, "/debug/pprof"))
		return page_index(sv, conn);
	if (!heap && strcmp(url, "/metrics"))
		return send_error(conn, MHD_HTTP_NOT_FOUND, "heapgrab: no such page "
				  "(/, /metrics, /debug/pprof/, /debug/pprof/heap)");

	q = xcalloc(1, sizeof(*q));
	q->conn = conn;
	q->arrival = now;
	if (!heap) {
		q->kind = REQ_METRICS;
		q->format = metrics_negotiate(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
									  MHD_HTTP_HEADER_ACCEPT));
		q->need = xcalloc(sv->nr_targets, sizeof(*q->need));
		pthread_mutex_lock(&sv->lock);
		for (size_t i = 0; i < sv->nr_targets; i++)
			q->need[i] = need_fresh(sv, &sv->targets[i], now);
		pthread_mutex_unlock(&sv->lock);
		*ret = q;
		return MHD_YES;
	}

	pid_s = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "pid");
	sec_s = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "seconds");
	debug_s = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "debug");
	if (debug_s && strcmp(debug_s, "0")) {
		free(q);
		return send_error(conn, MHD_HTTP_BAD_REQUEST,
				  "heapgrab: only debug=0 (the binary profile) is served");
	}
	if (sec_s) {
		q->seconds = (unsigned)positive(sec_s, MAX_DELTA_SECONDS);
		if (!q->seconds) {
			free(q);
			return send_error(conn, MHD_HTTP_BAD_REQUEST, "heapgrab: seconds must be "
					  "a whole number from 1 to %d", MAX_DELTA_SECONDS);
		}
		q->kind = REQ_DELTA;
	} else {
		q->kind = REQ_HEAP;
	}
	pthread_mutex_lock(&sv->lock);
	if (pid_s) {
		unsigned long pid = positive(pid_s, INT_MAX);

		for (ti = 0; ti < sv->nr_targets; ti++)
			if (pid && sv->targets[ti].pid == (int)pid)
				break;
		if (ti == sv->nr_targets) {
			pthread_mutex_unlock(&sv->lock);
			free(q);
			return send_error(conn, MHD_HTTP_NOT_FOUND,
					  "heapgrab: pid=%.20s is not a target of this server", pid_s);
		}
	} else if (sv->nr_targets > 1) {
		pthread_mutex_unlock(&sv->lock);
		free(q);
		return send_error(conn, MHD_HTTP_BAD_REQUEST,
				  "heapgrab: several targets: add ?pid=N (see /debug/pprof/)");
	}
	pthread_mutex_unlock(&sv->lock);
	if (q->kind == REQ_DELTA &&
	    __atomic_add_fetch(&sv->nr_deltas, 1, __ATOMIC_RELAXED) > MAX_DELTAS) {
		__atomic_sub_fetch(&sv->nr_deltas, 1, __ATOMIC_RELAXED);
		free(q);
		return send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "heapgrab: %d delta profiles "
				  "are in progress already; try again later", MAX_DELTAS);
	}
	q->target = ti;
	q->need = xcalloc(1, sizeof(*q->need));
	if (q->kind == REQ_HEAP) {
		pthread_mutex_lock(&sv->lock);
		q->need[0] = need_fresh(sv, &sv->targets[ti], now);
		pthread_mutex_unlock(&sv->lock);
	}
	*ret = q;
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **req_cls)
{
	struct serve *sv = cls;
	struct request *q = *req_cls;
	enum MHD_Result ret;

	(void)version;
	(void)upload_data;
	if (!q) {
		if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
			return send_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
					  "heapgrab: only GET and HEAD");
		if (*upload_data_size)
			return send_error(conn, MHD_HTTP_BAD_REQUEST,
					  "heapgrab: a request body is not accepted");
		ret = new_request(sv, conn, url, &q);
		if (!q)
			return ret;
		*req_cls = q;
	}
	if (*upload_data_size) {
		/* a body after all (chunked): refuse, once */
		*upload_data_size = 0;
		return MHD_NO;
	}
	pthread_mutex_lock(&sv->lock);
	return serve_request(sv, q);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)conn;
	(void)toe;
	/* never suspended here: only running connections complete */
	request_free(cls, *req_cls);
	*req_cls = NULL;
}

ATTR_FORMAT(2, 0)
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	if (hg_verbose < 2)
		return;
	fputs("heapgrab: note: http: ", stderr);
	vfprintf(stderr, fmt, ap);
}

/* ---- the command ---- */

static int cmd_serve(int argc, char **argv);

/* The command line (serve_options stores into it). */
static struct {
	struct typing_opts topts;
	struct snapshot_opts sopts;
	const char *listen;
	double min_interval;		/* seconds */
	unsigned top;
	const char *pidfiles[MAX_TARGETS + 1];
	size_t nr_pidfiles;
} cl = {
	/* the same targets again and again: their debug info is read once
	 * (--no-keep-debug-info: at every snapshot) */
	.topts = { .keep_debuginfo = true },
	.sopts = { .types = true, .typing = &cl.topts, .residency = true },
	.listen = DEFAULT_LISTEN,
	.min_interval = DEFAULT_MIN_INTERVAL_MS / 1000.0,
	.top = DEFAULT_TOP,
};

static int min_interval_cb(const struct cmd_option *row, const char *arg)
{
	long long ms = parse_duration(arg);

	if (ms < MIN_MIN_INTERVAL_MS)
		return usage_error("--min-interval needs a duration of at least %dms, like 10s "
				   "or 1m, not '%s'", MIN_MIN_INTERVAL_MS, arg);
	*(double *)row->value = (double)ms / 1000.0;
	return 0;
}

/* --pidfile is repeatable: one target each. */
static int pidfile_cb(const struct cmd_option *row, const char *arg)
{
	(void)row;
	if (cl.nr_pidfiles == MAX_TARGETS)
		return usage_error("at most %d targets", MAX_TARGETS);
	cl.pidfiles[cl.nr_pidfiles++] = arg;
	return 0;
}

static const struct cmd_option serve_options[] = {
	{ .type = OPTION_STRING, .long_name = "listen", .value = &cl.listen,
	  .argh = "ADDR:PORT", .complete = "127.0.0.1:9756 [::1]:9756 0.0.0.0:9756" },
	{ .type = OPTION_CALLBACK, .long_name = "min-interval", .value = &cl.min_interval,
	  .argh = "DURATION", .cb = min_interval_cb, .complete = "10s 1m 5m 500ms 1s" },
	OPT_FORK(&cl.sopts.mode),
	OPT_UINT("top", &cl.top, "N", 1, MAX_TOP, "a number from 1 to 1000"),
	{ .type = OPTION_CALLBACK, .long_name = "pidfile", .argh = "FILE", .cb = pidfile_cb,
	  .complete = "@file" },
	OPT_BREAK(),
	OPT_DEBUG_DIR(&cl.sopts.debug_dir),
	OPT_NO_DEBUG_INFO(&cl.sopts.no_debug_info),
	OPT_RETRIES(&cl.sopts.max_rounds),
	OPT_NO_TYPES(&cl.sopts.types),
	OPT_UNWINDER(&cl.topts, true),
	OPT_NO_KEEP_DEBUG_INFO(&cl.topts.keep_debuginfo),
	OPT_VERBOSE(),
	OPT_END(),
};

const struct command command_serve = {
	.name = "serve",
	.fn = cmd_serve,
	.summary = "a pprof endpoint and Prometheus metrics for processes, over HTTP",
	.options = serve_options,
	.operands = "[PID...]",
	.complete_operands = "pid",
	.notes = "       (--pidfile FILE may be given more than once)\n"
		 "       (DURATION: 500ms, 10s, 5m, 1h; a plain number is seconds)\n",
};

/*
 * Parse "ADDR:PORT" (ADDR a numeric IPv4 address, or an IPv6 one in
 * brackets) and open a listening socket on it: 0 with *RET_FD and SHOWN
 * (its URL, with the port the kernel chose for port 0), or an exit status
 * after one error line.
 */
static int open_listener(const char *spec, struct strbuf *shown, int *ret_fd)
{
	struct sockaddr_storage ss;
	socklen_t slen;
	const char *colon = strrchr(spec, ':');
	char host[64];
	unsigned long port;
	int fd, one = 1;
	size_t hl;

	memset(&ss, 0, sizeof(ss));
	if (!colon || parse_number(colon + 1, 65535, &port) < 0) {
		return usage_error("--listen takes ADDR:PORT (127.0.0.1:9756, [::1]:9756), "
				   "not '%s'", spec);
	}
	hl = (size_t)(colon - spec);
	if (hl >= sizeof(host)) {
		return usage_error("--listen: address too long in '%s'", spec);
	}
	memcpy(host, spec, hl);
	host[hl] = '\0';
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		host[hl - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1) {
			return usage_error("--listen: '%s' is not an IPv6 address", host + 1);
		}
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		slen = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1) {
			return usage_error("--listen: '%s' is not a numeric IPv4 address "
					   "(IPv6: [ADDR]:PORT)", host);
		}
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		slen = sizeof(*s4);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		error_msg("cannot create a socket: %s", strerror(errno));
		return EXIT_FAILURE_HG;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, slen) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		error_msg("cannot listen on %s: %s", spec, strerror(errno));
		close(fd);
		return EXIT_FAILURE_HG;
	}
	/* the port the kernel chose for port 0 */
	slen = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &slen) == 0)
		port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
			     ((struct sockaddr_in *)&ss)->sin_port);
	strbuf_addf(shown, "http://%.*s:%lu/", (int)hl, spec, port);
	*ret_fd = fd;
	return 0;
}

static int add_target(struct serve *sv, const char *name, const char *pidfile)
{
	struct target *t;
	unsigned long pid = 0;

	if (sv->nr_targets == MAX_TARGETS)
		return usage_error("at most %d targets", MAX_TARGETS);
	for (size_t i = 0; i < sv->nr_targets; i++)
		if (!strcmp(sv->targets[i].name, name))
			return usage_error("target '%s' given twice", name);
	if (!pidfile && (parse_number(name, INT_MAX, &pid) < 0 || !pid))
		return usage_error("'%s' is not a process id", name);
	sv->targets = xrealloc(sv->targets, (sv->nr_targets + 1) * sizeof(*sv->targets));
	t = &sv->targets[sv->nr_targets++];
	memset(t, 0, sizeof(*t));
	t->name = name;
	t->pidfile = pidfile;
	t->pid = (int)pid;
	t->last_start = -INFINITY;
	t->want_at = INFINITY;
	for (size_t k = 0; k < MINUTES; k++)
		t->minute_of[k] = INT64_MIN;
	return 0;
}

/* Every PID operand must name a live process now (its start time is its
 * identity from here on); a pidfile may name none yet. */
static int check_targets(struct serve *sv)
{
	for (size_t i = 0; i < sv->nr_targets; i++) {
		struct target *t = &sv->targets[i];
		enum metrics_failure f;
		char why[256];
		int pid;

		if (!t->pidfile) {
			if (proc_start_time(t->pid, &t->start_time) < 0) {
				error_msg("cannot serve process %d: %s", t->pid,
					  hg_strerror(-HG_E_NO_PROCESS));
				return EXIT_FAILURE_HG;
			}
			continue;
		}
		if (read_pidfile(t->pidfile, &pid, &f, why, sizeof(why)) < 0)
			warning_msg("%s; its target is down until it names a process", why);
	}
	return 0;
}

static void serve_release(struct serve *sv)
{
	for (size_t i = 0; i < sv->nr_targets; i++) {
		result_unref(sv->targets[i].cur);
		free(sv->targets[i].exe);
	}
	free(sv->targets);
	pthread_mutex_destroy(&sv->lock);
	pthread_cond_destroy(&sv->wake);
}

static int cmd_serve(int argc, char **argv)
{
	struct serve sv = { .top = DEFAULT_TOP };
	struct strbuf url = STRBUF_INIT;
	pthread_condattr_t ca;
	pthread_t worker_thread;
	sigset_t stop_sigs, old_mask;
	siginfo_t si;
	int status, fd = -1, sig;

	status = parse_options(&command_serve, argc, argv, &argc);
	if (status >= 0)
		return status;
	sv.min_interval = cl.min_interval;
	sv.top = cl.top;
	sv.sopts = cl.sopts;
	sv.topts = cl.topts;
	sv.sopts.typing = &sv.topts;
	for (size_t i = 0; i < cl.nr_pidfiles; i++)
		if ((status = add_target(&sv, cl.pidfiles[i], cl.pidfiles[i])))
			goto out_usage;
	for (int i = 0; i < argc; i++)
		if ((status = add_target(&sv, argv[i], NULL)))
			goto out_usage;
	if (!sv.nr_targets) {
		status = usage_error("serve needs a PID or --pidfile FILE");
		goto out_usage;
	}
	if ((status = check_targets(&sv)))
		goto out_usage;
	sv.sopts.inject_tid = inject_tid_from_env();

	if ((status = open_listener(cl.listen, &url, &fd)))
		goto out_usage;

	/* Signals: crashes detach (cmd/common.c); SIGINT, SIGTERM and SIGHUP
	 * are blocked in every thread (the threads started below inherit the
	 * mask) and taken by sigwaitinfo() here; a closed client never
	 * raises SIGPIPE. */
	install_detach_handlers();
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&stop_sigs);
	sigaddset(&stop_sigs, SIGINT);
	sigaddset(&stop_sigs, SIGTERM);
	sigaddset(&stop_sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop_sigs, &old_mask);

	pthread_mutex_init(&sv.lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&sv.wake, &ca);
	pthread_condattr_destroy(&ca);

	sv.daemon = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME |
				     MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, &sv,
				     MHD_OPTION_LISTEN_SOCKET, fd,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS,
				     MHD_OPTION_PER_IP_CONNECTION_LIMIT,
				     (unsigned)MAX_CONNECTIONS_PER_IP,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT_S,
				     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)REQUEST_MEMORY,
				     MHD_OPTION_NOTIFY_COMPLETED, on_completed, &sv,
				     MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, &sv,
				     MHD_OPTION_END);
	if (!sv.daemon) {
		error_msg("cannot start the HTTP server on %s", cl.listen);
		close(fd);
		status = EXIT_FAILURE_HG;
		goto out;
	}
	if (pthread_create(&worker_thread, NULL, worker, &sv)) {
		error_msg("cannot start the snapshot thread");
		MHD_stop_daemon(sv.daemon);
		status = EXIT_FAILURE_HG;
		goto out;
	}
	printf("heapgrab serve: listening on %s\n", url.buf);
	fflush(stdout);

	do
		sig = sigwaitinfo(&stop_sigs, &si);
	while (sig < 0 && errno == EINTR);
	debug_msg("serve: signal %d: stopping", sig);

	/* The worker ends the snapshot it is in (its target detached as
	 * always), then stops; waiting requests get 503. */
	pthread_mutex_lock(&sv.lock);
	sv.stopping = true;
	pthread_cond_signal(&sv.wake);
	pthread_mutex_unlock(&sv.lock);
	pthread_join(worker_thread, NULL);
	pthread_mutex_lock(&sv.lock);
	{
		struct request *list = take_waiting(&sv);

		pthread_mutex_unlock(&sv.lock);
		resume_all(list);
	}
	/* give the resumed requests a moment to be answered */
	for (int i = 0; i < 100 && MHD_get_daemon_info(sv.daemon,
			MHD_DAEMON_INFO_CURRENT_CONNECTIONS)->num_connections; i++) {
		struct timespec ts = { 0, 10000000 };

		nanosleep(&ts, NULL);
	}
	MHD_stop_daemon(sv.daemon);	/* closes the listening socket too */
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	status = EXIT_OK;
out:
	strbuf_release(&url);
	serve_release(&sv);
	typing_drop_debuginfo();
	return status;
out_usage:
	strbuf_release(&url);
	free(sv.targets);
	return status;
}
