/*
 * main.c - global options, the list of commands, dispatch, --help and
 * --completion-helper (the command names for bash completion).
 *
 * Exit statuses (heapgrab(1)):
 *   0 complete; 1 output produced with warnings; 2 nothing useful could be
 *   produced; 3 the target stayed busy in its allocator; 64 usage error.
 */
#include "config.h"
#include "cmd/cmd.h"
#include "util/errors.h"
#include "util/strbuf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The commands, in the order `heapgrab --help` lists them. */
static const struct command *const commands[] = {
	&command_attach,
	&command_core,
	&command_show,
	&command_diff,
	&command_watch,
	&command_leaks,
	&command_why,
	&command_top,
	&command_serve,
	&command_trim,
	&command_rss,
};

/* "Common options" of --help: the shared rows (cmd/cmd.h), with their
 * help text. Never parsed: the tables point nowhere. */
static const struct cmd_option common_options[] = {
	OPT_FORMAT(NULL, FORMATS_CENSUS),
	OPT_VALUE(NULL),
	OPT_COLOR(NULL),
	OPT_TOP(NULL),
	OPT_DEBUG_DIR(NULL),
	OPT_NO_DEBUG_INFO(NULL),
	OPT_SNAPSHOT_FILE(NULL),
	OPT_QUIET(NULL),
	OPT_VERBOSE(),
	OPT_END(),
};

static void print_help(void)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "usage: heapgrab [--help] [--version] COMMAND [ARGS]\n\n"
		      "Find memory leaks and growth in running programs: a census of a glibc\n"
		      "heap taken from outside, with a pause of milliseconds.\n\n"
		      "Commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		strbuf_addf(&sb, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
	strbuf_addch(&sb, '\n');
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		command_usage(&sb, commands[i]);
	strbuf_addstr(&sb, "\nCommon options:\n");
	options_help(&sb, common_options);
	strbuf_addstr(&sb, "\nRun 'heapgrab COMMAND --help' for a command's options.\n\n"
		      "Exit status:\n"
		      "  0   complete\n"
		      "  1   output produced, with warnings (e.g. corrupt chunks skipped)\n"
		      "  2   nothing useful could be produced (no such process, no permission,\n"
		      "      target exited, not a glibc program, damaged snapshot file, ...)\n"
		      "  3   a thread stayed inside the allocator for the whole retry budget\n"
		      "  64  usage error (also: pprof output to a terminal)\n");
	fputs(sb.buf, stdout);
	strbuf_release(&sb);
}

/*
 * --completion-helper: the command names; with a command, what bash
 * completion offers for it (cmd/parse-options.h), from its table.
 */
static int finish_stdout(void);

static int completion_helper(int argc, char **argv)
{
	static char helper[] = "--completion-helper";
	char *cmd_argv[] = { NULL, helper, NULL };

	if (argc == 2) {
		for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
			printf("%s\n", commands[i]->name);
		return finish_stdout();
	}
	for (size_t i = 0; argc == 3 && i < ARRAY_SIZE(commands); i++) {
		if (strcmp(argv[2], commands[i]->name))
			continue;
		cmd_argv[0] = argv[2];
		if (commands[i]->fn(2, cmd_argv))
			return EXIT_USAGE;
		return finish_stdout();
	}
	return usage_error("--completion-helper takes one command or none");
}

/* Flush stdout after --help/--version; a write error is exit status 2
 * with one line, as for every command (cmd/common.c write_stdout). */
static int finish_stdout(void)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return EXIT_OK;
	error_msg("write error on standard output: %s", strerror(errno));
	return EXIT_FAILURE_HG;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage_error("no command given");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		print_help();
		return finish_stdout();
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("heapgrab %s\n", PACKAGE_VERSION);
		return finish_stdout();
	}
	if (!strcmp(argv[1], "--completion-helper"))
		return completion_helper(argc, argv);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[1], commands[i]->name))
			return commands[i]->fn(argc - 1, argv + 1);
	return usage_error("unknown command '%s'", argv[1]);
}
