/*
 * parse-options.h - one table per command, and everything made from it.
 *
 * A command describes itself once, in a struct command (name, summary,
 * operands) with a table of struct cmd_option rows (after git's
 * parse-options: each row says what the option is called, what its
 * argument is called and where the parsed value goes). From that one
 * table come:
 *   - the parser, parse_options(): GNU getopt_long's command-line syntax
 *     (options and operands in any order, "--" ends the options, unique
 *     prefixes of long names, "--name=VALUE" or "--name VALUE", short
 *     clusters "-vv", "-oFILE") with heapgrab's one-line usage errors;
 *   - the synopsis that `heapgrab CMD --help` and `heapgrab --help`
 *     print, command_usage();
 *   - the "Common options" list of `heapgrab --help`, options_help();
 *   - what bash completion offers, `heapgrab --completion-helper [CMD]`
 *     (completion/heapgrab reads it; the format is below).
 *
 * The rows options share between commands (--format, --debug-dir,
 * --unwinder, --retries ...) are macros in cmd/cmd.h, so that a message,
 * a range or a value list is written once.
 *
 * Synopsis layout: "usage: heapgrab NAME" followed by one "[...]" per
 * visible row, in table order, then the operands, wrapped at USAGE_WIDTH
 * columns under the first option; an OPT_BREAK() row starts a new line
 * there. A row with OPTF_NEST goes inside the brackets of the row before
 * it ("[-o FILE [--quiet] [--contents]]").
 *
 * Completion helper output, one line each:
 *   heapgrab --completion-helper       the command names
 *   heapgrab --completion-helper CMD   "NAME KIND [WORDS...]" per option
 *       name offered: KIND is "flag" (no argument), "arg" (an argument
 *       with nothing to offer), "file", "dir", "words" (WORDS follow), or
 *       "optional" (WORDS after "--name="); then one line
 *       "operands K1 K2 ...": what each operand position offers (the last
 *       repeats): "pid", "file", "file+pid" or "-" (nothing).
 */
#ifndef HEAPGRAB_PARSE_OPTIONS_H
#define HEAPGRAB_PARSE_OPTIONS_H

#include "util/compiler.h"

#include <stdint.h>

struct strbuf;

/* Synopsis lines are filled up to this many columns. */
#define USAGE_WIDTH 88

enum cmd_option_type {
	OPTION_END,		/* the end of a table */
	OPTION_BREAK,		/* synopsis: a new line; parses nothing */
	OPTION_BOOL,		/* *(bool *)value = defval */
	OPTION_COUNT,		/* ++*(int *)value */
	OPTION_STRING,		/* *(const char **)value = the argument */
	OPTION_UINT,		/* *(unsigned *)value = a number in [min, max] */
	OPTION_U64,		/* *(uint64_t *)value = a number in [min, max] */
	OPTION_CALLBACK,	/* cb(row, argument) */
};

enum cmd_option_flags {
	OPTF_OPTARG = 1 << 0,		/* optional argument, only as --name=ARG */
	OPTF_HIDDEN = 1 << 1,		/* accepted; not shown, not completed */
	OPTF_SHORT_ALIAS = 1 << 2,	/* the short name is an undocumented alias */
	OPTF_LONG_ALIAS = 1 << 3,	/* the long name is only completed, not shown */
	OPTF_NEST = 1 << 4,		/* synopsis: inside the row before's brackets */
	OPTF_FORMATS = 1 << 5,		/* argument: the formats in defval (cmd.h) */
};

struct cmd_option {
	enum cmd_option_type type;
	int short_name;			/* 'o', or 0 */
	const char *long_name;		/* "output", or NULL */
	void *value;			/* where the parsed value goes */
	const char *argh;		/* "FILE", or the values "a|b"; NULL: no argument */
	unsigned flags;			/* OPTF_* */
	intptr_t defval;		/* BOOL: the value stored; else the row's own use */
	unsigned long min, max;		/* numbers: the accepted range */
	const char *what;		/* numbers: "a positive number" (usage error) */
	/* OPTION_CALLBACK: parse ARG (NULL: none given) into row->value;
	 * 0, or an exit status after a usage error. */
	int (*cb)(const struct cmd_option *row, const char *arg);
	const char *complete;		/* "@file", "@dir" or words; NULL: argh's a|b */
	const char *help;		/* for options_help() ("\n": a new line) */
};

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;		/* one line, for heapgrab --help */
	const struct cmd_option *options;
	const char *operands;		/* synopsis: "PID", "OLD NEW" */
	const char *complete_operands;	/* per position: "pid", "file+pid", "-" */
	const char *notes;		/* lines after the synopsis, or NULL */
};

#define OPT_END()	{ .type = OPTION_END }
#define OPT_BREAK()	{ .type = OPTION_BREAK }
#define OPT_BOOL_F(s, l, v, set, f) \
	{ .type = OPTION_BOOL, .short_name = (s), .long_name = (l), .value = (v), \
	  .defval = (set), .flags = (f) }
#define OPT_BOOL(s, l, v)	OPT_BOOL_F(s, l, v, true, 0)
#define OPT_COUNT(s, l, v) \
	{ .type = OPTION_COUNT, .short_name = (s), .long_name = (l), .value = (v) }
#define OPT_STRING_F(s, l, v, a, f, c) \
	{ .type = OPTION_STRING, .short_name = (s), .long_name = (l), .value = (v), \
	  .argh = (a), .flags = (f), .complete = (c) }
#define OPT_STRING(s, l, v, a)	OPT_STRING_F(s, l, v, a, 0, NULL)
#define OPT_FILE(s, l, v, a)	OPT_STRING_F(s, l, v, a, 0, "@file")
#define OPT_DIR(s, l, v, a)	OPT_STRING_F(s, l, v, a, 0, "@dir")
/* A number in [LO, HI]; else "--NAME needs WHAT, not 'ARG'". */
#define OPT_UINT_F(l, v, a, lo, hi, w, f) \
	{ .type = OPTION_UINT, .long_name = (l), .value = (v), .argh = (a), \
	  .min = (lo), .max = (hi), .what = (w), .flags = (f) }
#define OPT_UINT(l, v, a, lo, hi, w)	OPT_UINT_F(l, v, a, lo, hi, w, 0)
#define OPT_U64(l, v, a, lo, hi, w) \
	{ .type = OPTION_U64, .long_name = (l), .value = (v), .argh = (a), \
	  .min = (lo), .max = (hi), .what = (w) }
#define OPT_CALLBACK_F(s, l, v, a, fn, d, f) \
	{ .type = OPTION_CALLBACK, .short_name = (s), .long_name = (l), .value = (v), \
	  .argh = (a), .cb = (fn), .defval = (d), .flags = (f) }
#define OPT_CALLBACK(l, v, a, fn)	OPT_CALLBACK_F(0, l, v, a, fn, 0, 0)

/*
 * Parse ARGV (ARGV[0] is the command's name) against CMD's table. Returns
 * -1 to go on, with the operands moved to ARGV[0 .. *RET_ARGC - 1] in
 * their order; else the exit status to return: EXIT_OK after --help or
 * --completion-helper, EXIT_USAGE after a usage error (one message).
 */
int parse_options(const struct command *cmd, int argc, char **argv, int *ret_argc) MUST_CHECK;
/* CMD's synopsis and notes, as `heapgrab CMD --help` prints them. */
void command_usage(struct strbuf *sb, const struct command *cmd);
/* "  --top N             HELP" for each visible row of OPTIONS. */
void options_help(struct strbuf *sb, const struct cmd_option *options);
/* `heapgrab --completion-helper CMD` (see the top). */
void command_completion(struct strbuf *sb, const struct command *cmd);

#endif /* HEAPGRAB_PARSE_OPTIONS_H */
