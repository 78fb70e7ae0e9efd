/*
 * cmd.h - heapgrab's commands.
 *
 * How to add a command (say `heapgrab frob`):
 *   1. write src/cmd/frob.c with `int cmd_frob(int argc, char **argv)`;
 *      argv[0] is "frob"; return an exit status (util/errors.h EXIT_*).
 *      Parse options with getopt_long; usage errors go through
 *      usage_error(). Library calls return negative codes: turn them into
 *      messages with hg_strerror() and into EXIT_FAILURE_HG.
 *   2. declare it below and add a row to the commands[] table in main.c
 *      (name, function, one-line summary: --help is generated from it).
 *   3. add it to src/Makefile.am (sorted list), doc/heapgrab.1 (a
 *      section with the synopsis) and tests/cli-*.sh (usage and exit codes).
 */
#ifndef HEAPGRAB_CMD_H
#define HEAPGRAB_CMD_H

#include "util/compiler.h"

struct diag_sink;
struct strbuf;

struct core_opts;
struct snapshot;
struct snapshot_opts;
struct snapshot_live_stats;
struct snapshot_file_info;

int cmd_attach(int argc, char **argv);
int cmd_core(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_leaks(int argc, char **argv);
int cmd_rss(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_trim(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_why(int argc, char **argv);

/* Each command's synopsis ("usage: heapgrab NAME ..."), for --help. */
extern const char cmd_attach_usage[];
extern const char cmd_core_usage[];
extern const char cmd_diff_usage[];
extern const char cmd_leaks_usage[];
extern const char cmd_rss_usage[];
extern const char cmd_show_usage[];
extern const char cmd_top_usage[];
extern const char cmd_trim_usage[];
extern const char cmd_watch_usage[];
extern const char cmd_why_usage[];

/*
 * Snapshot sources shared by attach, core, diff and watch. Each prints its
 * own one-line error and returns 0 or an exit status (EXIT_*); on success
 * *RET_SNAP is the caller's to snapshot_free().
 */
int attach_snapshot(unsigned long pid, const struct snapshot_opts *sopts,
		    struct diag_sink *diag, struct snapshot **ret_snap,
		    struct snapshot_live_stats *stats);
int core_snapshot(const char *path, const struct core_opts *copts,
		  const struct snapshot_opts *sopts, struct diag_sink *diag,
		  struct snapshot **ret_snap);
int load_snapshot(const char *path, struct snapshot **ret_snap,
		  struct snapshot_file_info *ret_info);
/*
 * The RSS accounting's snapshot (cmd/rss.c): attach_snapshot() with
 * sopts->residency, or, for a process whose malloc cannot be walked, the
 * residency alone (a warning says so). rss_warn_missing() warns about
 * every residency source that could not be read.
 */
int rss_snapshot(unsigned long pid, const struct snapshot_opts *sopts,
		 struct diag_sink *diag, struct snapshot **ret_snap,
		 struct snapshot_live_stats *stats);
struct rss_report;
void rss_warn_missing(const struct rss_report *r, int pid, struct diag_sink *diag);
/* Write S to PATH (mode 0600): 0 or an exit status after a message. */
int save_snapshot(const struct snapshot *s, unsigned warnings, const char *path);

/*
 * leaks, why and top (cmd/source.c): options they share, and a snapshot
 * with its memory image from a PID, a core or a file saved with
 * --contents.
 */
struct image_cmd {
	int format;			/* enum out_format */
	unsigned top;			/* --top N, 0: default */
	bool retained;			/* top --retained */
	const char *exe, *sysroot, *debug_dir;
	bool no_debug_info;
	bool no_types;			/* --no-types */
	unsigned max_rounds;		/* --retries */
	char **args;			/* operands after the options */
	int nr_args;
};
/* Parse argv (argv[0] is the command); returns -1 to go on, else the exit
 * status (usage error, or 0 after --help). */
int image_cmd_parse(int argc, char **argv, const char *usage, struct image_cmd *ic);
/* Take or load the snapshot ARG names, with its image. Returns 0 or an
 * exit status after one error line. *RET_WARNINGS: the walk's warnings;
 * *RET_SYSROOT (malloc'd): host prefix for the target's files. */
int image_snapshot(const char *arg, const struct image_cmd *ic, struct diag_sink *diag,
		   struct snapshot **ret_snap, unsigned *ret_warnings, char **ret_sysroot);
/* The snapshot ARG names and its heap graph (analysis/graph.h), roots named
 * by the default namer. Returns 0 or an exit status after one error line;
 * image_graph_close() releases everything (also after a failure). */
struct heap_graph;
struct root_namer;
struct image_graph {
	struct snapshot *snap;
	struct root_namer *namer;
	struct heap_graph *graph;
	unsigned warnings;		/* the walk's */
	double start_ms;		/* CLOCK_MONOTONIC, for -v timings */
};
/* why_hooks.member_name from the snapshot's typing (".next"). */
struct strbuf;
bool image_member_name(void *data, const struct snapshot *s, size_t chunk, uint64_t offset,
		       struct strbuf *out);
int image_graph_open(const char *arg, const struct image_cmd *ic, struct diag_sink *diag,
		     struct image_graph *ig);
/* -v: "WHAT: N ms in all" since image_graph_open() started. */
void image_graph_done(const struct image_graph *ig, const char *what);
void image_graph_close(struct image_graph *ig);
/* --fork's argument (NULL or "auto") as an enum snapshot_mode; -1 when
 * neither (cmd/attach.c). */
int parse_fork_mode(const char *arg);
/* HEAPGRAB_INJECT_TID from the environment: the thread tests want code
 * injected into (snapshot_opts.inject_tid); 0 when unset. */
int inject_tid_from_env(void);

/* Shared by commands (cmd/common.c). */

enum out_format {
	FORMAT_TEXT,
	FORMAT_JSON,
	FORMAT_PPROF,
	FORMAT_FOLDED,
	FORMAT_CSV,
	FORMAT_HTML,
};
/* A decimal number in [0, MAX] (no sign, no junk): 0, or -1 when not. */
int parse_number(const char *s, unsigned long max, unsigned long *ret);

/*
 * Output options shared by every command (cmd/formats.c). A command adds
 * OUT_LONG_OPTIONS to its getopt table ('f' for --format is in its short
 * options), sends 'f', OPT_COLOR and OPT_VALUE to out_opt() with the
 * formats it offers, and calls out_opts_check() once the command line is
 * parsed, before any work. Text and JSON it prints itself; the others go
 * through emit_census() / emit_diff(), or emit_profile() for a command
 * with a profile of its own.
 *
 * leaks: build a struct profile of the leaked chunks with
 * profile_opts.include (which chunks) and profile_opts.path (their
 * ownership paths; analysis/profile.h), then emit_profile() writes it as
 * pprof or folded with no change to the writers.
 */
#define FORMATS_CENSUS	0x3fu	/* every format: attach, core, show, diff */
#define FORMATS_TEXT_HTML ((1u << FORMAT_TEXT) | (1u << FORMAT_HTML))	/* watch */
/* A command whose output is a profile (leaks): text, json, pprof, folded. */
#define FORMATS_PROFILE	((1u << FORMAT_TEXT) | (1u << FORMAT_JSON) | \
			 (1u << FORMAT_PPROF) | (1u << FORMAT_FOLDED))
enum { OPT_COLOR = 1000, OPT_VALUE };	/* above every command's own OPT_* */
#define OUT_LONG_OPTIONS \
	{ "format", required_argument, NULL, 'f' }, \
	{ "color", required_argument, NULL, OPT_COLOR }, \
	{ "value", required_argument, NULL, OPT_VALUE }
enum color_mode { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };

/*
 * The typing options of attach, core and watch (doc/typing.md): add
 * TYPING_LONG_OPTIONS to the getopt table and send OPT_NO_TYPES,
 * OPT_EXPLAIN_TYPES and OPT_UNWINDER to typing_opt(). LIVE: libunwind is
 * offered (it needs a stopped live process).
 */
enum { OPT_NO_TYPES = 1100, OPT_EXPLAIN_TYPES, OPT_UNWINDER };
#define TYPING_LONG_OPTIONS \
	{ "no-types", no_argument, NULL, OPT_NO_TYPES }, \
	{ "explain-types", no_argument, NULL, OPT_EXPLAIN_TYPES }, \
	{ "unwinder", required_argument, NULL, OPT_UNWINDER }
struct snapshot_opts;
struct typing_opts;
/* Returns 0, or EXIT_USAGE after a usage error. */
int typing_opt(int opt, const char *arg, bool live, struct snapshot_opts *so,
	       struct typing_opts *to);

struct out_opts {
	int format;		/* enum out_format */
	int color;		/* enum color_mode */
	int value;		/* enum folded_value (output/folded.h) */
	bool value_set;		/* --value was given */
	/* --format html: the resident memory section (analysis/rss.h), or
	 * NULL (attach --rss, show of a snapshot with residency) */
	const struct rss_report *rss;
};
struct census;
struct diff;
struct profile;

void out_opts_init(struct out_opts *o);
/* Parse one output option (OPT: 'f', OPT_COLOR or OPT_VALUE) for a
 * command that offers the formats in ALLOWED (bit 1 << FORMAT_*).
 * Returns 0, or EXIT_USAGE after a usage error. */
int out_opt(struct out_opts *o, int opt, const char *arg, unsigned allowed);
/* Option combinations, and no binary output to a terminal: 0 or EXIT_USAGE. */
int out_opts_check(struct out_opts *o);
/* Whether text output gets colours (--color, NO_COLOR, TERM, a tty). */
bool out_color(const struct out_opts *o);
/* Parse --format's argument (any format); -1 when unknown. */
int parse_format(const char *s);
/*
 * The census of S (C: census_build(S)) or the diff D of OLD and NEW in
 * o->format (pprof, folded, csv or html), appended to OUT. TAKEN: unix
 * seconds (0: unknown). Return 0, or an exit status after an error line.
 */
int emit_census(struct strbuf *out, const struct snapshot *s, const struct census *c,
		const struct out_opts *o, int64_t taken);
int emit_diff(struct strbuf *out, const struct snapshot *old, const struct snapshot *new_,
	      const struct diff *d, const struct out_opts *o, int64_t old_taken,
	      int64_t new_taken);
/* P as pprof or folded, with COMMENTS (pprof only), TIME_S when taken and
 * DURATION_S (a diff's span; 0: none). */
int emit_profile(struct strbuf *out, const struct profile *p, const struct out_opts *o,
		 const char *const *comments, size_t nr_comments, int64_t time_s,
		 int64_t duration_s);
/* A diagnostics sink that prints warnings (and notes with -v) to stderr. */
void cli_diag_init(struct diag_sink *sink);
/* Print any warnings the sink suppressed. */
void cli_diag_finish(struct diag_sink *sink);
/* Write SB to stdout and check for write errors: 0 or EXIT_FAILURE_HG. */
int write_stdout(const struct strbuf *sb);
/* Exit status for a library error code. */
int exit_status_for(int err);
/* Install handlers that detach a live target on SIGINT/SIGTERM/SIGHUP/
 * SIGQUIT/SIGPIPE and on crashes, then die of the same signal. */
void install_detach_handlers(void);

#endif /* HEAPGRAB_CMD_H */
