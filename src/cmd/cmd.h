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

int cmd_attach(int argc, char **argv);
int cmd_core(int argc, char **argv);

/* Each command's synopsis ("usage: heapgrab NAME ..."), for --help. */
extern const char cmd_attach_usage[];
extern const char cmd_core_usage[];

/* Shared by commands (cmd/common.c). */

enum out_format { FORMAT_TEXT, FORMAT_JSON };
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
