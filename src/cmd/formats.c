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
 * The options themselves are rows of the commands' tables (OPT_FORMAT,
 * OPT_COLOR, OPT_VALUE in cmd/cmd.h); their callbacks are here. Checks
 * made before any work starts, so that a bad command line never stops a
 * target:
 *  - the format is one the command offers (opt_format_cb);
 *  - --value goes with --format folded only (out_opts_check, after
 *    parsing);
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
#include "output/census-out.h"
#include "output/html.h"
#include "output/pprof.h"
#include "output/rss-out.h"
#include "snapshot/snapshot.h"
#include "typing/typing.h"
#include "util/hashmap.h"
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

void formats_list(struct strbuf *sb, unsigned mask, const char *sep)
{
	bool first = true;

	for (size_t i = 0; i < ARRAY_SIZE(format_names); i++) {
		if (!(mask & (1u << i)))
			continue;
		if (!first)
			strbuf_addstr(sb, sep);
		strbuf_addstr(sb, format_names[i]);
		first = false;
	}
}

void out_opts_init(struct out_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->format = FORMAT_TEXT;
	o->color = COLOR_AUTO;
	o->value = FOLDED_BYTES;
}

int opt_format_cb(const struct cmd_option *row, const char *arg)
{
	struct strbuf sb = STRBUF_INIT;
	unsigned allowed = (unsigned)row->defval;
	int f = parse_format(arg);

	if (f < 0 || !(allowed & (1u << f))) {
		formats_list(&sb, allowed, ", ");
		f = usage_error("unknown format '%s' (%s)", arg, sb.buf);
		strbuf_release(&sb);
		return f;
	}
	*(int *)row->value = f;
	return 0;
}

int opt_color_cb(const struct cmd_option *row, const char *arg)
{
	int *color = row->value;

	if (!strcmp(arg, "auto"))
		*color = COLOR_AUTO;
	else if (!strcmp(arg, "always"))
		*color = COLOR_ALWAYS;
	else if (!strcmp(arg, "never"))
		*color = COLOR_NEVER;
	else
		return usage_error("--color takes auto, always or never, not '%s'", arg);
	return 0;
}

int opt_value_cb(const struct cmd_option *row, const char *arg)
{
	struct out_opts *o = row->value;

	if (!strcmp(arg, "bytes"))
		o->value = FOLDED_BYTES;
	else if (!strcmp(arg, "count"))
		o->value = FOLDED_COUNT;
	else
		return usage_error("--value takes bytes or count, not '%s'", arg);
	o->value_set = true;
	return 0;
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

/*
 * Ownership paths for the profiles: a chunk's stack is the root
 * that typing started from, then the types of the chunks whose pointers
 * led to it (runs of one type collapsed: a list of 10,000 nodes is one
 * "struct node" frame), then its own type, which the profile builder adds:
 * "global sessions (server);struct session;char[]". Known only when this
 * run typed the snapshot (typing keeps who typed whom); a snapshot read
 * from a file gives type-only stacks.
 *
 * Paths are interned in a trie (node = parent node + frame), and each
 * chunk's path is computed once, from its owner's (an iterative walk up
 * the owner chain, so long lists cost O(chunks) in all).
 */
#define PATH_MAX_FRAMES 24
#define PATH_UNKNOWN 0u			/* per-chunk pid: not computed yet */
#define PATH_NONE UINT32_MAX		/* no path: type only */
#define PATH_BUSY (UINT32_MAX - 1)	/* on the walk's stack (cycle guard) */

struct path_node {
	uint32_t parent;	/* node id, or PATH_NONE for a root frame */
	uint32_t frame;		/* frame id */
};

struct owner_paths {
	const struct snapshot *s;
	uint32_t *pid;			/* per chunk: node id + 1, or PATH_* */
	struct path_node *nodes;
	size_t nr_nodes, alloc_nodes;
	const char **frame_str;		/* frame id -> string */
	size_t nr_frames, alloc_frames;
	struct hashmap frame_ids;	/* string address -> frame id */
	struct hashmap children;	/* (parent + 1) << 32 | frame + 1 -> node id */
	uint32_t *stack;
	size_t alloc_stack;
	const char *out[PATH_MAX_FRAMES + 1];
};

static uint32_t frame_id(struct owner_paths *op, const char *str)
{
	const uint64_t *id = hashmap_find_u64(&op->frame_ids, (uint64_t)(uintptr_t)str);

	if (id)
		return (uint32_t)*id;
	ALLOC_GROW(op->frame_str, op->nr_frames + 1, op->alloc_frames);
	op->frame_str[op->nr_frames] = str;
	hashmap_put_u64(&op->frame_ids, (uint64_t)(uintptr_t)str, op->nr_frames);
	return (uint32_t)op->nr_frames++;
}

static uint32_t path_child(struct owner_paths *op, uint32_t parent, const char *str)
{
	uint32_t f = frame_id(op, str);
	uint64_t key = ((uint64_t)(parent == PATH_NONE ? 0 : parent + 1) << 32) | (f + 1);
	const uint64_t *id;

	if (parent != PATH_NONE && op->nodes[parent].frame == f)
		return parent;		/* a run of one type: one frame */
	if ((id = hashmap_find_u64(&op->children, key)))
		return (uint32_t)*id;
	ALLOC_GROW(op->nodes, op->nr_nodes + 1, op->alloc_nodes);
	op->nodes[op->nr_nodes] = (struct path_node){ parent, f };
	hashmap_put_u64(&op->children, key, op->nr_nodes);
	return (uint32_t)op->nr_nodes++;
}

/* The path node of the owners of CHUNK (its own type not included). */
static uint32_t owner_path_of(struct owner_paths *op, size_t chunk)
{
	const struct snapshot *s = op->s;
	size_t n = 0;
	uint32_t cur = (uint32_t)chunk, base;

	for (;;) {
		uint32_t from, v = op->pid[cur];
		const char *root;
		int k;

		if (v != PATH_UNKNOWN) {
			base = v == PATH_NONE || v == PATH_BUSY ? PATH_NONE : v - 1;
			break;
		}
		k = typing_owner(s->typing, cur, &from, &root);
		if (k < 0) {
			op->pid[cur] = PATH_NONE;
			base = PATH_NONE;
			break;
		}
		if (k == 0) {
			base = path_child(op, PATH_NONE, root);
			op->pid[cur] = base + 1;
			break;
		}
		ALLOC_GROW(op->stack, n + 1, op->alloc_stack);
		op->stack[n++] = cur;
		op->pid[cur] = PATH_BUSY;
		cur = from;
	}
	/* back down: each chunk's owners are its owner's plus the owner */
	while (n--) {
		uint32_t x = op->stack[n], owner, v = PATH_NONE;
		const char *root, *t;

		if (base != PATH_NONE && typing_owner(s->typing, x, &owner, &root) == 1 &&
		    (t = snapshot_chunk_type(s, owner)))
			v = path_child(op, base, t);
		op->pid[x] = v == PATH_NONE ? PATH_NONE : v + 1;
		base = v;
	}
	return op->pid[chunk] == PATH_NONE || op->pid[chunk] == PATH_BUSY ?
	       PATH_NONE : op->pid[chunk] - 1;
}

/* profile_path_fn over one or two snapshots (a diff's OLD and NEW). */
static size_t owner_path(void *ctx, const struct snapshot *s, size_t chunk,
			 const char *const **ret_frames)
{
	struct owner_paths *op = ctx;
	uint32_t node;
	size_t n = 0, depth = 0;

	if (op[0].s != s)
		op = &op[1];
	if (op->s != s || !op->pid)
		return 0;
	node = owner_path_of(op, chunk);
	if (node == PATH_NONE)
		return 0;
	for (uint32_t v = node; v != PATH_NONE; v = op->nodes[v].parent)
		depth++;
	n = depth > PATH_MAX_FRAMES ? PATH_MAX_FRAMES : depth;
	for (uint32_t v = node, k = (uint32_t)n; k > 0; v = op->nodes[v].parent)
		op->out[--k] = op->frame_str[op->nodes[v].frame];
	if (depth > PATH_MAX_FRAMES)
		op->out[0] = "...";
	/* the builder appends the chunk's own type: not twice */
	if (n > 1 && op->out[n - 1] == snapshot_chunk_type(s, chunk))
		n--;
	*ret_frames = op->out;
	return n;
}

static void owner_paths_init(struct owner_paths *op, const struct snapshot *s)
{
	memset(op, 0, sizeof(*op));
	hashmap_init(&op->frame_ids, HASHMAP_U64);
	hashmap_init(&op->children, HASHMAP_U64);
	op->s = s;
	if (s && s->typing && s->types)
		op->pid = xcalloc(s->walk.nr_chunks + 1, sizeof(*op->pid));
}

static void owner_paths_release(struct owner_paths *op)
{
	free(op->pid);
	free(op->nodes);
	free(op->frame_str);
	free(op->stack);
	hashmap_release(&op->frame_ids);
	hashmap_release(&op->children);
}

int emit_census(struct strbuf *out, const struct snapshot *s, const struct census *c,
		const struct out_opts *o, int64_t taken)
{
	struct strbuf title = STRBUF_INIT, sub = STRBUF_INIT;
	struct owner_paths paths[2];
	struct profile_opts popts = { .path = owner_path, .path_ctx = paths };
	struct profile p;
	int status = 0;

	owner_paths_init(&paths[0], s);
	owner_paths_init(&paths[1], NULL);
	profile_from_snapshot(s, &popts, &p);
	owner_paths_release(&paths[0]);
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
			.rss = o->rss,
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

int emit_census_report(struct strbuf *out, const struct snapshot *s, const struct census *c,
		       struct census_out_opts *copts, const struct out_opts *o, bool explain,
		       int64_t taken)
{
	copts->color = out_color(o);
	if (o->format == FORMAT_JSON) {
		census_out_json(out, s, c, copts);
		if (o->rss)
			rss_out_json_append(out, o->rss);
	} else if (o->format == FORMAT_TEXT) {
		census_out_text(out, s, c, copts);
		if (explain)
			census_out_explain(out, s, c, copts->top ? copts->top : 20);
		if (o->rss) {
			struct rss_out_opts ro = { .top = copts->top, .addresses = copts->addresses,
						   .color = copts->color };

			strbuf_addstr(out, "\nresident memory: ");
			rss_out_text(out, s, o->rss, &ro);
		}
	} else {
		return emit_census(out, s, c, o, taken);
	}
	return 0;
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

	{
		struct owner_paths paths[2];
		struct profile_opts popts = { .path = owner_path, .path_ctx = paths };

		owner_paths_init(&paths[0], old);
		owner_paths_init(&paths[1], new_);
		profile_from_diff(old, new_, &popts, &p);
		owner_paths_release(&paths[0]);
		owner_paths_release(&paths[1]);
	}
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
