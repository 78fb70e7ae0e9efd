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
int cmd_show(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_why(int argc, char **argv);

/* Each command's synopsis ("usage: heapgrab NAME ..."), for --help. */
extern const char cmd_attach_usage[];
extern const char cmd_core_usage[];
extern const char cmd_diff_usage[];
extern const char cmd_leaks_usage[];
extern const char cmd_show_usage[];
extern const char cmd_top_usage[];
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
int image_graph_open(const char *arg, const struct image_cmd *ic, struct diag_sink *diag,
		     struct image_graph *ig);
/* -v: "WHAT: N ms in all" since image_graph_open() started. */
void image_graph_done(const struct image_graph *ig, const char *what);
void image_graph_close(struct image_graph *ig);

/* Shared by commands (cmd/common.c). */

enum out_format { FORMAT_TEXT, FORMAT_JSON };
/* A decimal number in [0, MAX] (no sign, no junk): 0, or -1 when not. */
int parse_number(const char *s, unsigned long max, unsigned long *ret);
/* Parse --format's argument; -1 when unknown. */
int parse_format(const char *s);
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
