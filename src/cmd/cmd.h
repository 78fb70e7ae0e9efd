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
int cmd_show(int argc, char **argv);
int cmd_trim(int argc, char **argv);
int cmd_watch(int argc, char **argv);

/* Each command's synopsis ("usage: heapgrab NAME ..."), for --help. */
extern const char cmd_attach_usage[];
extern const char cmd_core_usage[];
extern const char cmd_diff_usage[];
extern const char cmd_show_usage[];
extern const char cmd_trim_usage[];
extern const char cmd_watch_usage[];

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

/* --fork's argument (NULL or "auto") as an enum snapshot_mode; -1 when
 * neither (cmd/attach.c). */
int parse_fork_mode(const char *arg);
/* HEAPGRAB_INJECT_TID from the environment: the thread tests want code
 * injected into (snapshot_opts.inject_tid); 0 when unset. */
int inject_tid_from_env(void);

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
