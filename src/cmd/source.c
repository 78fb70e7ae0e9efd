/*
 * source.c - "PID, CORE or FILE": one argument, three ways to get a
 * snapshot with its memory image, for leaks, why and top --retained.
 *
 * An argument is taken as (the same rule as diff's):
 *   - a file that starts with "\x7fELF": a core (as `heapgrab core`); its
 *     writable memory becomes the snapshot's image;
 *   - any other existing file: a snapshot file, which must have been saved
 *     with --contents;
 *   - otherwise, all digits: a process id, attached as `heapgrab attach`
 *     does, keeping the frozen copy of its memory (no second copy).
 * The host prefix for the target's files (module symbols for root names)
 * is /proc/PID/root for a live process, --sysroot for a core or a file.
 *
 * image_cmd_parse() parses the command line of the three commands into a
 * struct image_cmd; their tables (IMAGE_CMD_* rows in cmd/cmd.h) hold the
 * snapshot options (--exe, --sysroot, --debug-dir, --no-debug-info,
 * --no-types, --retries), --format, --top, -v, and --retained for top.
 */
#include "config.h"
#include "cmd/cmd.h"
#include "analysis/graph.h"
#include "roots/roots.h"
#include "snapshot/file.h"
#include "snapshot/snapshot.h"
#include "target/core.h"
#include "typing/typing.h"
#include "util/clock.h"
#include "util/diag.h"
#include "util/errors.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int image_snapshot(const char *arg, const struct image_cmd *ic, struct diag_sink *diag,
		   struct snapshot **ret_snap, unsigned *ret_warnings, char **ret_sysroot)
{
	struct typing_opts topts = { .debug_dir = ic->debug_dir };
	struct snapshot_opts sopts = {
		.debug_dir = ic->debug_dir,
		.no_debug_info = ic->no_debug_info,
		.max_rounds = ic->max_rounds,
		.mode = (enum snapshot_mode)ic->mode,
		.keep_image = true,
		/* leaked chunks and retainers by type (typing/, doc/typing.md) */
		.types = ic->types,
		.typing = &topts,
	};
	struct core_opts copts = { .exe = ic->exe, .sysroot = ic->sysroot };
	struct snapshot_file_info info;
	unsigned char magic[4] = { 0 };
	unsigned before = diag->nr_warnings;
	unsigned long pid;
	struct stat st;
	int status, fd;

	if (stat(arg, &st) < 0 && parse_number(arg, INT_MAX, &pid) == 0 && pid) {
		struct snapshot_live_stats stats;

		install_detach_handlers();
		status = attach_snapshot(pid, &sopts, diag, ret_snap, &stats);
		if (status)
			return status;
		if (stats.forked)
			debug_msg("target paused %.1f ms (fork %.1f ms); copied %llu bytes from the "
				  "frozen child; walk %.1f ms", stats.pause_ms, stats.fork_ms,
				  (unsigned long long)stats.copied_bytes, stats.walk_ms);
		else
			debug_msg("target paused %.1f ms (copy %.1f ms of %llu bytes); walk %.1f ms",
				  stats.pause_ms, stats.copy_ms,
				  (unsigned long long)stats.copied_bytes, stats.walk_ms);

		*ret_warnings = diag->nr_warnings - before;
		*ret_sysroot = xasprintf("/proc/%lu/root", pid);
		if (access(*ret_sysroot, R_OK) != 0)
			(*ret_sysroot)[0] = '\0';	/* gone: host paths */
		return 0;
	}
	if (ic->mode != SNAPSHOT_COPY)
		return usage_error("--fork takes a snapshot of a live process; '%s' is no process id",
				   arg);
	fd = open(arg, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		error_msg("cannot open '%s': %s (not a process id, a core or a snapshot file)",
			  arg, strerror(errno));
		return EXIT_FAILURE_HG;
	}
	if (read(fd, magic, sizeof(magic)) < 0)
		memset(magic, 0, sizeof(magic));
	close(fd);
	if (!memcmp(magic, "\177ELF", 4)) {
		status = core_snapshot(arg, &copts, &sopts, diag, ret_snap);
		if (status)
			return status;
		*ret_warnings = diag->nr_warnings - before;
		*ret_sysroot = xstrdup(ic->sysroot ? ic->sysroot : "");
		return 0;
	}
	status = load_snapshot(arg, ret_snap, &info);
	if (status)
		return status;
	if (!(*ret_snap)->image) {
		error_msg("snapshot '%s' has no memory image; take it with -o FILE --contents", arg);
		snapshot_free(*ret_snap);
		*ret_snap = NULL;
		return EXIT_FAILURE_HG;
	}
	*ret_warnings = info.warnings;
	*ret_sysroot = xstrdup(ic->sysroot ? ic->sysroot : "");
	return 0;
}

int image_cmd_parse(const struct command *cmd, int argc, char **argv, struct image_cmd *ic)
{
	int status;

	memset(ic, 0, sizeof(*ic));
	ic->format = FORMAT_TEXT;
	ic->types = true;
	status = parse_options(cmd, argc, argv, &argc);
	if (status >= 0)
		return status;
	ic->args = argv;
	ic->nr_args = argc;
	return -1;
}

/*
 * graph_hooks.layout: the pointer words of a chunk from its type, when this
 * run typed the snapshot (typing_result.layouts: exact types only, never
 * for chunks typed by shape); false, every word scanned, otherwise. So
 * string buffers and numbers in typed structs never keep a chunk alive.
 */
static bool type_layout(void *data, const struct snapshot *s, size_t chunk,
			struct ptr_layout *out)
{
	const struct typing_result *r = s->typing;
	uint32_t t;

	(void)data;
	if (!r || !s->types || !r->layouts)
		return false;
	t = s->types->of_chunk[chunk];
	if (t == SNAPSHOT_UNTYPED || t >= r->nr_layouts || !r->layouts[t].period ||
	    (s->types->flags[chunk] & SNAPSHOT_TYPE_INFERRED))
		return false;
	out->bits = r->layouts[t].bits;
	out->period = r->layouts[t].period;
	return true;
}

bool image_member_name(void *data, const struct snapshot *s, size_t chunk, uint64_t offset,
		       struct strbuf *out)
{
	(void)data;
	return typing_member_name(s->typing, chunk, offset, out);
}

int image_graph_open(const char *arg, const struct image_cmd *ic, struct diag_sink *diag,
		     struct image_graph *ig)
{
	struct roots_opts ropts = { .debug_dir = ic->debug_dir };
	struct graph_hooks hooks = { 0 };
	char *sysroot = NULL;
	double t0, t1;
	int status, err;

	memset(ig, 0, sizeof(*ig));
	ig->start_ms = monotonic_ms();
	status = image_snapshot(arg, ic, diag, &ig->snap, &ig->warnings, &sysroot);
	if (status)
		return status;
	t0 = monotonic_ms();
	debug_msg("snapshot taken in %.1f ms", t0 - ig->start_ms);
	ropts.sysroot = sysroot;
	ropts.exe = ig->snap->meta.exe;
	ig->roots = roots_open(ig->snap->image, &ropts);
	hooks.roots = ig->roots;
	hooks.layout = type_layout;
	ig->graph = xcalloc(1, sizeof(*ig->graph));
	err = heap_graph_build(ig->graph, ig->snap, &hooks, diag);
	free(sysroot);
	t1 = monotonic_ms();
	if (err < 0) {
		error_msg("'%s': cannot build the heap graph: %s", arg, hg_strerror(err));
		return EXIT_FAILURE_HG;
	}
	debug_msg("graph: %zu chunks, %zu edges, %zu roots with %zu root edges; scanned %llu chunk "
		  "words and %llu root words in %.1f ms", ig->graph->nr_nodes,
		  ig->graph->nr_edges, ig->graph->nr_roots, ig->graph->nr_root_edges,
		  (unsigned long long)ig->graph->chunk_words,
		  (unsigned long long)ig->graph->root_words, t1 - t0);
	return 0;
}

void image_graph_done(const struct image_graph *ig, const char *what)
{
	debug_msg("%s: %.1f ms in all", what, monotonic_ms() - ig->start_ms);
}

void image_graph_close(struct image_graph *ig)
{
	if (ig->graph)
		heap_graph_release(ig->graph);
	free(ig->graph);
	roots_close(ig->roots);
	snapshot_free(ig->snap);
	memset(ig, 0, sizeof(*ig));
}
