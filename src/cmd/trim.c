/*
 * trim.c - `heapgrab trim PID`: make a running process give its free heap
 * memory back to the system, and show how much it gave.
 *
 * The question it answers: a process whose RSS stays high after its load
 * went away, is it a leak or fragmentation? glibc keeps freed memory in
 * its arenas; malloc_trim(0) returns every whole free page of every arena
 * (glibc 2.36 malloc.c mtrim(): MADV_DONTNEED on the pages inside free
 * chunks, and a shorter top). If RSS drops by the arenas' free bytes, the
 * memory was free, only held; if it does not, it is in use.
 *
 * How: the target is stopped and every thread brought out of the
 * allocator (snapshot_take_live(), the attach consistency loop, which also
 * copies the heap for the prediction below), then
 * one thread runs injected calls (src/inject/, the save/restore protocol):
 * mallinfo2(), malloc_trim(PAD), mallinfo2() again. RSS comes from
 * /proc/PID/statm before and after the trim. The other threads stay
 * stopped for the whole time, so the pause is the trim's duration.
 *
 * The prediction (doc/glibc-malloc.md §14): the same stop first takes a
 * snapshot with its residency (the copy, pagemap), and analysis/rss.c
 * replays malloc_trim on it the way the target's glibc does; the text and
 * the JSON put predicted and actual side by side. --dry-run stops there:
 * the snapshot and the prediction, nothing injected, the target untouched.
 *
 * Exit status: 0; 2 when it could not be done (the target's libc has no
 * malloc_trim, a seccomp filter, the call crashed or timed out: the
 * thread was restored in every case); 3 when a thread stayed inside the
 * allocator; 64 usage.
 */
#include "config.h"
#include "cmd/cmd.h"
#include "analysis/rss.h"
#include "inject/inject.h"
#include "output/census-out.h"
#include "output/json-writer.h"
#include "output/rss-out.h"
#include "snapshot/snapshot.h"
#include "target/target.h"
#include "util/clock.h"
#include "util/diag.h"
#include "util/errors.h"
#include "util/strbuf.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* malloc_trim on a heap of tens of GiB: madvise over every free page. */
#define DEFAULT_TIMEOUT_S 60

static int cmd_trim(int argc, char **argv);

/* The command line (trim_options stores into it). */
static struct {
	struct snapshot_opts sopts;
	int format;
	uint64_t pad;
	unsigned timeout_s;
	bool dry_run;
} cl = { .timeout_s = DEFAULT_TIMEOUT_S };

static const struct cmd_option trim_options[] = {
	OPT_FORMAT(&cl.format, FORMATS_TEXT_JSON),
	OPT_U64("pad", &cl.pad, "BYTES", 0, ULONG_MAX, "a number of bytes"),
	OPT_UINT("timeout", &cl.timeout_s, "SECONDS", 1, 3600, "1 to 3600 seconds"),
	OPT_BOOL(0, "dry-run", &cl.dry_run),
	OPT_RETRIES(&cl.sopts.max_rounds),
	OPT_DEBUG_DIR(&cl.sopts.debug_dir),
	OPT_NO_DEBUG_INFO(&cl.sopts.no_debug_info),
	OPT_VERBOSE(),
	OPT_END(),
};

const struct command command_trim = {
	.name = "trim",
	.fn = cmd_trim,
	.summary = "return free heap memory to the system (malloc_trim): RSS before/after",
	.options = trim_options,
	.operands = "PID",
	.complete_operands = "pid",
};

struct trim_side {
	uint64_t rss;			/* resident bytes (/proc/PID/statm) */
	struct inject_mallinfo mi;
};

struct trim {
	int pid;
	uint64_t pad;
	unsigned timeout_ms;
	int prefer_tid;
	struct inject_libc lc;
	struct strbuf why;
	int tid;			/* the thread that made the calls */
	double call_ms;			/* malloc_trim() alone */
	struct trim_side before, after;
	char glibc[16];
	bool dry_run;
	struct rss_report pred;		/* the prediction */
};

static int read_rss(int pid, uint64_t *ret)
{
	char path[64];
	unsigned long long size, resident;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/proc/%d/statm", pid);
	f = fopen(path, "re");
	if (!f)
		return -HG_E_TARGET_GONE;
	n = fscanf(f, "%llu %llu", &size, &resident);
	fclose(f);
	if (n != 2)
		return -HG_E_TARGET_GONE;
	*ret = (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
	return 0;
}

/* Before the stop: libc's addresses, and may we inject at all? */
static int trim_prepare(struct target *t, void *arg)
{
	struct trim *tr = arg;
	int err = inject_libc_find(t, &tr->why, &tr->lc);

	if (err == 0)
		err = inject_check(t->pid, &tr->why);
	if (err == 0 && !tr->lc.malloc_trim) {
		strbuf_addstr(&tr->why, "the target's libc does not export malloc_trim");
		err = -HG_E_NO_GADGET;
	}
	snprintf(tr->glibc, sizeof(tr->glibc), "%s", tr->lc.version);
	return err;
}

/* The same stop, after the copy the prediction is made from: prepare the
 * injection (libc's addresses; the reads go to the stopped process), then
 * measure, trim, measure. */
static int trim_stopped(struct target *t, void *arg);

static int trim_in_snapshot(struct target *t, void *arg)
{
	int err = trim_prepare(t, arg);

	return err < 0 ? err : trim_stopped(t, arg);
}

/* Stopped and quiescent: measure, trim, measure. */
static int trim_stopped(struct target *t, void *arg)
{
	struct trim *tr = arg;
	int i = inject_pick_thread(t, tr->prefer_tid, &tr->why);
	double t0;
	int err;

	if (i < 0)
		return i;
	tr->tid = t->threads[i].tid;
	err = read_rss(t->pid, &tr->before.rss);
	if (err == 0)
		err = inject_mallinfo(t, (size_t)i, &tr->lc, &tr->before.mi, &tr->why);
	if (err < 0)
		return err;
	t0 = monotonic_ms();
	err = inject_malloc_trim(t, (size_t)i, &tr->lc, tr->pad, tr->timeout_ms, &tr->why);
	tr->call_ms = monotonic_ms() - t0;
	if (err < 0)
		return err;
	err = read_rss(t->pid, &tr->after.rss);
	if (err == 0)
		err = inject_mallinfo(t, (size_t)i, &tr->lc, &tr->after.mi, &tr->why);
	return err;
}

static void side_json(struct json_writer *jw, const struct trim_side *s)
{
	jw_object_begin(jw);
	jw_object_uint(jw, "rss_bytes", s->rss);
	jw_object_uint(jw, "arena_bytes", s->mi.arena);
	jw_object_uint(jw, "free_bytes", s->mi.fordblks);
	jw_object_uint(jw, "in_use_bytes", s->mi.uordblks);
	jw_object_uint(jw, "mmapped_bytes", s->mi.hblkhd);
	jw_object_end(jw);
}

static void trim_json(struct strbuf *sb, const struct trim *tr, const char *exe)
{
	struct json_writer jw = JSON_WRITER_INIT(sb);

	jw_object_begin(&jw);
	jw_object_uint(&jw, "heapgrab", 1);
	jw_key(&jw, "target");
	jw_object_begin(&jw);
	jw_object_int(&jw, "pid", tr->pid);
	jw_object_string(&jw, "exe", exe);
	jw_object_string(&jw, "glibc", tr->glibc);
	jw_object_end(&jw);
	jw_key(&jw, "trim");
	jw_object_begin(&jw);
	jw_object_uint(&jw, "pad", tr->pad);
	if (tr->dry_run) {
		jw_object_null(&jw, "thread");
		jw_object_null(&jw, "statistics");
		jw_object_null(&jw, "before");
		jw_object_null(&jw, "after");
		jw_object_null(&jw, "released_bytes");
	} else {
		jw_object_int(&jw, "thread", tr->tid);
		jw_object_string(&jw, "statistics", tr->before.mi.function);
		jw_key(&jw, "before");
		side_json(&jw, &tr->before);
		jw_key(&jw, "after");
		side_json(&jw, &tr->after);
		jw_object_uint(&jw, "released_bytes",
			       tr->before.rss > tr->after.rss ? tr->before.rss - tr->after.rss : 0);
	}
	jw_object_bool(&jw, "dry_run", tr->dry_run);
	jw_object_uint(&jw, "predicted_bytes", tr->pred.releasable);
	jw_key(&jw, "rss");
	rss_out_json(&jw, &tr->pred);
	jw_object_end(&jw);
	jw_object_end(&jw);
	strbuf_addch(sb, '\n');
}

static void row(struct strbuf *sb, const char *name, uint64_t a, uint64_t b)
{
	struct strbuf x = STRBUF_INIT, y = STRBUF_INIT, d = STRBUF_INIT;

	fmt_bytes(&x, a);
	fmt_bytes(&y, b);
	if (a == b) {
		strbuf_addstr(&d, "0");
	} else {
		strbuf_addch(&d, b > a ? '+' : '-');
		fmt_bytes(&d, b > a ? b - a : a - b);
	}
	strbuf_addf(sb, "  %-26s %12s %12s %13s\n", name, x.buf, y.buf, d.buf);
	strbuf_release(&x);
	strbuf_release(&y);
	strbuf_release(&d);
}

/* Predicted and actual side by side (actual: RSS before - after). */
static void prediction_text(struct strbuf *sb, const struct trim *tr)
{
	uint64_t released = tr->before.rss > tr->after.rss ? tr->before.rss - tr->after.rss : 0;
	int64_t d = (int64_t)(released - tr->pred.releasable);

	strbuf_addstr(sb, "\npredicted (heapgrab's replay of this glibc's malloc_trim) ");
	fmt_bytes(sb, tr->pred.releasable);
	strbuf_addstr(sb, ", actual ");
	fmt_bytes(sb, released);
	strbuf_addf(sb, ": %+" PRId64 " bytes", d);
	if (tr->pred.releasable)
		strbuf_addf(sb, " (%+.2f%%)", 100.0 * (double)d / (double)tr->pred.releasable);
	strbuf_addch(sb, '\n');
}

static void dry_run_text(struct strbuf *sb, const struct trim *tr, const char *exe)
{
	strbuf_addf(sb, "process %d (%s), glibc %s: dry run, nothing was done\n", tr->pid, exe,
		    tr->pred.glibc);
	rss_out_trim_text(sb, &tr->pred);
}

static void trim_text(struct strbuf *sb, const struct trim *tr, const char *exe)
{
	uint64_t released = tr->before.rss > tr->after.rss ? tr->before.rss - tr->after.rss : 0;

	strbuf_addf(sb, "process %d (%s), glibc %s: malloc_trim(%" PRIu64 ") in thread %d "
		    "took %.1f ms\n\n", tr->pid, exe, tr->glibc, tr->pad, tr->tid, tr->call_ms);
	strbuf_addf(sb, "  %-26s %12s %12s %13s\n", "", "before", "after", "change");
	row(sb, "resident memory (RSS)", tr->before.rss, tr->after.rss);
	row(sb, "arenas' system memory", tr->before.mi.arena, tr->after.mi.arena);
	row(sb, "free in the arenas", tr->before.mi.fordblks, tr->after.mi.fordblks);
	row(sb, "in use in the arenas", tr->before.mi.uordblks, tr->after.mi.uordblks);
	row(sb, "mmapped chunks", tr->before.mi.hblkhd, tr->after.mi.hblkhd);
	strbuf_addf(sb, "\n(arena figures from the target's own %s()", tr->before.mi.function);
	if (tr->before.mi.wraps32)
		strbuf_addstr(sb, ", int fields: they wrap above 2 GiB");
	strbuf_addstr(sb, ")\n");
	strbuf_addstr(sb, "the target returned ");
	fmt_bytes(sb, released);
	strbuf_addstr(sb, " to the system");
	if (tr->before.mi.fordblks) {
		strbuf_addf(sb, ", %.0f%% of the ", 100.0 * (double)released /
			    (double)tr->before.mi.fordblks);
		fmt_bytes(sb, tr->before.mi.fordblks);
		strbuf_addstr(sb, " its arenas held free");
	}
	strbuf_addstr(sb, "\n");
	prediction_text(sb, tr);
}

static int cmd_trim(int argc, char **argv)
{
	struct snapshot_opts sopts;
	struct snapshot *snap = NULL;
	struct strbuf out = STRBUF_INIT, why = STRBUF_INIT;
	struct diag_sink diag;
	struct trim tr;
	unsigned long pid;
	int format, status = EXIT_OK, err;
	char exe[4096], path[64];
	ssize_t n;

	cl.format = FORMAT_TEXT;
	status = parse_options(&command_trim, argc, argv, &argc);
	if (status >= 0)
		return status;
	status = EXIT_OK;
	sopts = cl.sopts;
	format = cl.format;
	memset(&tr, 0, sizeof(tr));
	tr.pad = cl.pad;
	tr.timeout_ms = cl.timeout_s * 1000u;
	tr.dry_run = cl.dry_run;
	if (argc != 1)
		return usage_error(argc == 0 ? "trim needs a PID" : "trim takes one PID");
	if (parse_number(argv[0], INT_MAX, &pid) < 0 || !pid)
		return usage_error("'%s' is not a process id", argv[0]);

	tr.pid = (int)pid;
	tr.prefer_tid = inject_tid_from_env();
	strbuf_init(&tr.why, 0);
	cli_diag_init(&diag);
	install_detach_handlers();
	sopts.residency = true;
	if (!tr.dry_run) {
		sopts.stopped_fn = trim_in_snapshot;
		sopts.stopped_arg = &tr;
	}
	err = snapshot_take_live(tr.pid, &sopts, &diag, &why, &snap, NULL);
	if (err == 0) {
		struct rss_opts ro = { .pad = tr.pad };

		if (rss_build(snap, &ro, &tr.pred) < 0)
			BUG("trim: snapshot without residency");
		rss_warn_missing(&tr.pred, tr.pid, &diag);
		if (!tr.glibc[0])
			snprintf(tr.glibc, sizeof(tr.glibc), "%s", snap->meta.glibc);
	}
	if (err < 0) {
		const char *detail = why.len ? why.buf : tr.why.len ? tr.why.buf : NULL;

		if (err == -HG_E_BUSY)
			error_msg("process %lu: a thread stayed inside the allocator (or held an arena "
				  "lock) for %u rounds; malloc_trim() is not called there (it would "
				  "wait for that lock)", pid, sopts.max_rounds ? sopts.max_rounds : 2000);
		else if (detail)
			error_msg("process %lu: %s", pid, detail);
		else
			error_msg("cannot trim process %lu: %s", pid, hg_strerror(err));
		status = exit_status_for(err);
		goto out;
	}
	snprintf(path, sizeof(path), "/proc/%d/exe", tr.pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	if (format == FORMAT_JSON)
		trim_json(&out, &tr, exe);
	else if (tr.dry_run)
		dry_run_text(&out, &tr, exe);
	else
		trim_text(&out, &tr, exe);
	if (write_stdout(&out))
		status = EXIT_FAILURE_HG;
	cli_diag_finish(&diag);
	if (!status && diag.nr_warnings)
		status = EXIT_WARNINGS;
out:
	rss_release(&tr.pred);
	snapshot_free(snap);
	strbuf_release(&out);
	strbuf_release(&why);
	strbuf_release(&tr.why);
	return status;
}
