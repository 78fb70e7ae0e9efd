/*
 * cmd.h - heapgrab's commands.
 *
 * Each command is a struct command (cmd/parse-options.h) in its own file:
 * its name, one-line summary, option table and operands. Everything a
 * user sees of the command line comes from that table: the parser, the
 * synopsis of `heapgrab CMD --help` and `heapgrab --help`, and what bash
 * completion offers (`heapgrab --completion-helper`).
 *
 * How to add a command (say `heapgrab frob PID`):
 *   1. write src/cmd/frob.c: the parsed values in a static struct, the
 *      table, the command, and the function:
 *
 *        static int cmd_frob(int argc, char **argv);
 *        static struct { struct out_opts oo; struct snapshot_opts sopts;
 *                        struct typing_opts topts; } cl = {
 *                .sopts = { .types = true, .typing = &cl.topts } };
 *        static const struct cmd_option frob_options[] = {
 *                OPT_GROUP_OUTPUT(&cl.oo, FORMATS_TEXT_JSON),
 *                OPT_GROUP_TARGET(&cl.sopts),
 *                OPT_GROUP_TYPING(&cl.sopts, &cl.topts, true),
 *                OPT_VERBOSE(),
 *                OPT_END(),
 *        };
 *        const struct command command_frob = {
 *                .name = "frob", .fn = cmd_frob, .options = frob_options,
 *                .summary = "what it does, in one line",
 *                .operands = "PID", .complete_operands = "pid",
 *        };
 *
 *      cmd_frob(argc, argv) sets the defaults (out_opts_init()), calls
 *      parse_options() (argv[0] is "frob"; the operands come back at the
 *      front of argv), then checks the operands and the option
 *      combinations, all in one place right after it, before any work.
 *      It returns an exit status (util/errors.h EXIT_*); usage errors go
 *      through usage_error(); library errors become one message
 *      (hg_strerror()) and EXIT_FAILURE_HG.
 *   2. declare `extern const struct command command_frob;` below and add
 *      &command_frob to the commands[] list in main.c.
 *   3. add it to src/Makefile.am (sorted list), doc/heapgrab.1 (a section
 *      with the synopsis `heapgrab frob --help` prints: cli-manpage.sh
 *      compares them) and tests/cli-*.sh (usage and exit codes).
 * Adding an option is one row in the command's table: a shared one from
 * below (OPT_RETRIES(&cl.sopts.max_rounds)) or its own (OPT_UINT("count",
 * &cl.count, "N", 1, UINT_MAX, "a positive number")).
 */
#ifndef HEAPGRAB_CMD_H
#define HEAPGRAB_CMD_H

#include "cmd/parse-options.h"
#include "util/compiler.h"
#include "util/errors.h"

#include <limits.h>

struct diag_sink;
struct strbuf;

struct core_opts;
struct snapshot;
struct snapshot_opts;
struct snapshot_live_stats;
struct snapshot_file_info;

extern const struct command command_attach;
extern const struct command command_core;
extern const struct command command_diff;
extern const struct command command_leaks;
extern const struct command command_serve;
extern const struct command command_show;
extern const struct command command_top;
extern const struct command command_trim;
extern const struct command command_watch;
extern const struct command command_why;
extern const struct command command_rss;

/*
 * Snapshot sources shared by attach, core, diff and watch. Each prints its
 * own one-line error and returns 0 or an exit status (EXIT_*); on success
 * *RET_SNAP is the caller's to snapshot_free().
 */
/* -v: where typing's time went in SNAP (nothing when it was not typed). */
void typing_debug_phases(const struct snapshot *snap);

int attach_snapshot(unsigned long pid, const struct snapshot_opts *sopts,
		    struct diag_sink *diag, struct snapshot **ret_snap,
		    struct snapshot_live_stats *stats);
int core_snapshot(const char *path, const struct core_opts *copts,
		  const struct snapshot_opts *sopts, struct diag_sink *diag,
		  struct snapshot **ret_snap);
int load_snapshot(const char *path, struct snapshot **ret_snap,
		  struct snapshot_file_info *ret_info);
/* Write S to PATH (mode 0600): 0 or an exit status after a message. */
int save_snapshot(const struct snapshot *s, unsigned warnings, const char *path);
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
	bool types;			/* false: --no-types */
	unsigned max_rounds;		/* --retries */
	int mode;			/* enum snapshot_mode: --fork[=auto] */
	char **args;			/* operands after the options */
	int nr_args;
};
/* The rows leaks, why and top share, in their synopsis order (after
 * --format and --top): --exe ... --no-debug-info, then (after a break for
 * leaks and why) --no-types --retries -v. */
#define IMAGE_CMD_DEBUGINFO(ic) \
	OPT_GROUP_DEBUGINFO(&(ic)->exe, &(ic)->sysroot, &(ic)->debug_dir, &(ic)->no_debug_info)
#define IMAGE_CMD_REST(ic) \
	OPT_NO_TYPES(&(ic)->types), OPT_RETRIES(&(ic)->max_rounds), OPT_FORK(&(ic)->mode), \
	OPT_VERBOSE()
/* Parse argv (argv[0] is the command) against CMD's table, after setting
 * IC's defaults (IC is the table's storage); returns -1 to go on, else the
 * exit status (usage error, or 0 after --help). */
int image_cmd_parse(const struct command *cmd, int argc, char **argv, struct image_cmd *ic);
/* Take or load the snapshot ARG names, with its image. Returns 0 or an
 * exit status after one error line. *RET_WARNINGS: the walk's warnings;
 * *RET_SYSROOT (malloc'd): host prefix for the target's files. */
int image_snapshot(const char *arg, const struct image_cmd *ic, struct diag_sink *diag,
		   struct snapshot **ret_snap, unsigned *ret_warnings, char **ret_sysroot);
/* The snapshot ARG names and its heap graph (analysis/graph.h), roots named
 * by the roots layer. Returns 0 or an exit status after one error line;
 * image_graph_close() releases everything (also after a failure). */
struct heap_graph;
struct roots;
struct image_graph {
	struct snapshot *snap;
	struct roots *roots;
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
/* "10s", "500ms", "2m", "1h", "10" (seconds) -> milliseconds; -1 when
 * invalid (cmd/watch.c; also serve's --min-interval). */
long long parse_duration(const char *s);
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
 * Output options (cmd/formats.c). A command puts OPT_FORMAT() with the
 * formats it offers (and OPT_VALUE(), OPT_COLOR() if it prints text or
 * folded stacks) in its table, and calls out_opts_check() once the command
 * line is parsed, before any work. Text and JSON it prints itself; the
 * others go through emit_census() / emit_diff(), or emit_profile() for a
 * command with a profile of its own.
 *
 * leaks: build a struct profile of the leaked chunks with
 * profile_opts.include (which chunks) and profile_opts.path (their
 * ownership paths; analysis/profile.h), then emit_profile() writes it as
 * pprof or folded with no change to the writers.
 */
#define FORMATS_CENSUS	0x3fu	/* every format: attach, core, show, diff */
#define FORMATS_TEXT_HTML ((1u << FORMAT_TEXT) | (1u << FORMAT_HTML))	/* watch */
#define FORMATS_TEXT_JSON ((1u << FORMAT_TEXT) | (1u << FORMAT_JSON))	/* why, top, trim */
/* A command whose output is a profile (leaks): text, json, pprof, folded. */
#define FORMATS_PROFILE	((1u << FORMAT_TEXT) | (1u << FORMAT_JSON) | \
			 (1u << FORMAT_PPROF) | (1u << FORMAT_FOLDED))
enum color_mode { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };

struct out_opts {
	int format;		/* enum out_format */
	int color;		/* enum color_mode */
	int value;		/* enum folded_value (output/folded.h) */
	bool value_set;		/* --value was given */
	/* --format html: the resident memory section (analysis/rss.h), or
	 * NULL (attach --rss, show of a snapshot with residency) */
	const struct rss_report *rss;
};

/*
 * The rows more than one command takes (parse-options.h), each written
 * once: name, argument, range, message, values and the help line of
 * `heapgrab --help`. Their callbacks are in cmd/formats.c and
 * cmd/common.c.
 */
int opt_format_cb(const struct cmd_option *row, const char *arg);	/* int *, defval: formats */
int opt_color_cb(const struct cmd_option *row, const char *arg);	/* int * (color_mode) */
int opt_value_cb(const struct cmd_option *row, const char *arg);	/* struct out_opts * */
int opt_unwinder_cb(const struct cmd_option *row, const char *arg);	/* typing_opts *, defval: live */
int opt_fork_cb(const struct cmd_option *row, const char *arg);	/* enum snapshot_mode * */
int opt_no_debuginfod_cb(const struct cmd_option *row, const char *arg);	/* no value */

#define OPT_FORMAT(v, formats) \
	{ .type = OPTION_CALLBACK, .short_name = 'f', .long_name = "format", .value = (v), \
	  .cb = opt_format_cb, .defval = (formats), .flags = OPTF_FORMATS | OPTF_SHORT_ALIAS, \
	  .help = "text (default, for people), json (the contract of\n" \
		  "doc/json-output.md), pprof (gzipped profile.proto for\n" \
		  "go tool pprof), folded (flame graph stacks), csv, or\n" \
		  "html (one self-contained page); watch: text or html" }
#define OPT_VALUE(oo) \
	{ .type = OPTION_CALLBACK, .long_name = "value", .value = (oo), .argh = "bytes|count", \
	  .cb = opt_value_cb, .help = "(with --format folded) the value of each stack" }
#define OPT_COLOR(v) \
	{ .type = OPTION_CALLBACK, .long_name = "color", .value = (v), \
	  .argh = "auto|always|never", .cb = opt_color_cb, \
	  .help = "colours in text output (auto: on a terminal, unless\n" \
		  "NO_COLOR is set or TERM=dumb)" }
#define OPT_TOP(v) \
	{ .type = OPTION_UINT, .long_name = "top", .value = (v), .argh = "N", .min = 1, \
	  .max = UINT_MAX, .what = "a positive number", \
	  .help = "rows the text output lists (default 20)" }
#define OPT_EXE(v)		OPT_FILE(0, "exe", v, "BIN")
#define OPT_SYSROOT(v)		OPT_DIR(0, "sysroot", v, "DIR")
#define OPT_DEBUG_DIR(v) \
	{ .type = OPTION_STRING, .long_name = "debug-dir", .value = (v), .argh = "DIR", \
	  .complete = "@dir", \
	  .help = "search separate debug files below DIR instead of\n" \
		  "/usr/lib/debug (an empty DIR forces disassembly)" }
/* with --no-debuginfod: every command that reads debug info takes both */
#define OPT_NO_DEBUG_INFO(v) \
	{ .type = OPTION_BOOL, .long_name = "no-debug-info", .value = (v), .defval = true, \
	  .help = "do not use libc's debug info" }, \
	{ .type = OPTION_CALLBACK, .long_name = "no-debuginfod", .cb = opt_no_debuginfod_cb, \
	  .help = "ask no debuginfod server (DEBUGINFOD_URLS) for\n" \
		  "missing debug files" }
#define OPT_RETRIES(v)	OPT_UINT("retries", v, "N", 1, 1000000, "a positive number")
#define OPT_FORK(v) \
	OPT_CALLBACK_F(0, "fork", v, "auto", opt_fork_cb, 0, OPTF_OPTARG)
/* attach, core, watch, diff: the RSS accounting too (struct snapshot_opts *) */
#define OPT_RSS(sopts)	OPT_BOOL(0, "rss", &(sopts)->residency)
/* attach and core: -o FILE [--quiet] [--contents]; after parsing,
 * snapshot_file_opts_check() (cmd/common.c): 0, or EXIT_USAGE when
 * --quiet or --contents came without -o. */
int snapshot_file_opts_check(const char *output, bool quiet, bool contents);
#define OPT_SNAPSHOT_FILE(v) \
	{ .type = OPTION_STRING, .short_name = 'o', .long_name = "output", .value = (v), \
	  .argh = "FILE", .flags = OPTF_LONG_ALIAS, .complete = "@file", \
	  .help = "(attach, core) also save the snapshot to FILE" }
#define OPT_QUIET(v) \
	{ .type = OPTION_BOOL, .long_name = "quiet", .value = (v), .defval = true, \
	  .flags = OPTF_NEST, .help = "(attach, core, with -o) print no census" }
#define OPT_CONTENTS(v)	OPT_BOOL_F(0, "contents", v, true, OPTF_NEST)
#define OPT_NO_TYPES(v)	OPT_BOOL_F(0, "no-types", v, false, 0)	/* bool types */
#define OPT_EXPLAIN_TYPES(v) OPT_BOOL(0, "explain-types", v)
/* serve and watch: (bool keep_debuginfo, default true) */
#define OPT_NO_KEEP_DEBUG_INFO(v) \
	{ .type = OPTION_BOOL, .long_name = "no-keep-debug-info", .value = (v), .defval = false, \
	  .help = "read the debug info again for every snapshot (less\n" \
		  "memory between snapshots, more CPU for each)" }
/* LIVE: libunwind is offered too (it needs a stopped live process). */
#define OPT_UNWINDER(topts, live) \
	OPT_CALLBACK_F(0, "unwinder", topts, (live) ? "libdw|libunwind|none" : "libdw|none", \
		       opt_unwinder_cb, (live), 0)
#define OPT_VERBOSE() \
	{ .type = OPTION_COUNT, .short_name = 'v', .long_name = "verbose", .value = &hg_verbose, \
	  .help = "notes, timings and addresses" }

/* Shared groups: what a new command usually takes, in this order. */
#define OPT_GROUP_OUTPUT(oo, formats) \
	OPT_FORMAT(&(oo)->format, formats), OPT_VALUE(oo), OPT_COLOR(&(oo)->color)
#define OPT_GROUP_DEBUGINFO(exe, sysroot, debug_dir, no_debug_info) \
	OPT_EXE(exe), OPT_SYSROOT(sysroot), OPT_DEBUG_DIR(debug_dir), \
	OPT_NO_DEBUG_INFO(no_debug_info)
/* (struct snapshot_opts *, struct typing_opts *, bool) */
#define OPT_GROUP_TYPING(sopts, topts, live) \
	OPT_NO_TYPES(&(sopts)->types), OPT_EXPLAIN_TYPES(&(topts)->explain), \
	OPT_UNWINDER(topts, live)
/* a live target (struct snapshot_opts *) */
#define OPT_GROUP_TARGET(sopts) \
	OPT_RETRIES(&(sopts)->max_rounds), OPT_FORK(&(sopts)->mode)

struct census;
struct diff;
struct profile;

void out_opts_init(struct out_opts *o);
/* Option combinations, and no binary output to a terminal: 0 or EXIT_USAGE. */
int out_opts_check(struct out_opts *o);
/* Whether text output gets colours (--color, NO_COLOR, TERM, a tty). */
bool out_color(const struct out_opts *o);
/* Parse --format's argument (any format); -1 when unknown. */
int parse_format(const char *s);
/* "text|json" (SEP "|") or "text, json" for the formats in MASK. */
void formats_list(struct strbuf *sb, unsigned mask, const char *sep);
/*
 * The census of S (C: census_build(S)) or the diff D of OLD and NEW in
 * o->format (pprof, folded, csv or html), appended to OUT. TAKEN: unix
 * seconds (0: unknown). Return 0, or an exit status after an error line.
 */
int emit_census(struct strbuf *out, const struct snapshot *s, const struct census *c,
		const struct out_opts *o, int64_t taken);
/*
 * The census report of attach, core and show: JSON (census, then the
 * "rss" member when o->rss is set) and text (census, "what holds the
 * memory" when EXPLAIN, the resident memory section when o->rss is set)
 * here, the other formats through emit_census(). COPTS: the text and
 * JSON options (its color is set here from O). The caller appends its
 * own parts after (attach: --verify and the pause line; show: when it
 * was taken). Return 0, or an exit status after an error line.
 */
struct census_out_opts;
int emit_census_report(struct strbuf *out, const struct snapshot *s, const struct census *c,
		       struct census_out_opts *copts, const struct out_opts *o, bool explain,
		       int64_t taken);
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
