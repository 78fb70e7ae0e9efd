/*
 * main.c - global options, the command table, dispatch.
 *
 * Exit statuses (heapgrab(1)):
 *   0 complete; 1 output produced with warnings; 2 nothing useful could be
 *   produced; 3 the target stayed busy in its allocator; 64 usage error.
 */
#include "config.h"
#include "cmd/cmd.h"
#include "util/errors.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
	const char *usage;
};

static const struct command commands[] = {
	{ "attach", cmd_attach, "snapshot a live process and print its heap census",
	  cmd_attach_usage },
	{ "core", cmd_core, "the same census from an ELF core dump (kernel or gcore)",
	  cmd_core_usage },
	{ "show", cmd_show, "the census of a saved snapshot file (attach/core -o FILE)",
	  cmd_show_usage },
	{ "diff", cmd_diff, "growth between two snapshots (files, cores or live PIDs)",
	  cmd_diff_usage },
	{ "watch", cmd_watch, "a snapshot every interval, growth per interval, leak suspects",
	  cmd_watch_usage },
	{ "leaks", cmd_leaks, "live chunks no root can reach (needs memory: PID, core or --contents)",
	  cmd_leaks_usage },
	{ "why", cmd_why, "the shortest chain of pointers that keeps a chunk alive",
	  cmd_why_usage },
	{ "top", cmd_top, "--retained: the roots and chunks that retain the most memory",
	  cmd_top_usage },
	{ "trim", cmd_trim, "return free heap memory to the system (malloc_trim): RSS before/after",
	  cmd_trim_usage },
	{ "rss", cmd_rss, "where the resident memory is, and what a trim would give back",
	  cmd_rss_usage },
};

static void print_help(void)
{
	printf("usage: heapgrab [--help] [--version] COMMAND [ARGS]\n\n"
	       "Find memory leaks and growth in running programs: a census of a glibc\n"
	       "heap taken from outside, with a pause of milliseconds.\n\n"
	       "Commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		printf("  %-10s %s\n", commands[i].name, commands[i].summary);
	printf("\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fputs(commands[i].usage, stdout);
	printf("\nCommon options:\n"
	       "  --format FORMAT     text (default, for people), json (the contract of\n"
	       "                      doc/json-output.md), pprof (gzipped profile.proto for\n"
	       "                      go tool pprof), folded (flame graph stacks), csv, or\n"
	       "                      html (one self-contained page); watch: text or html\n"
	       "  --value bytes|count (with --format folded) the value of each stack\n"
	       "  --color auto|always|never\n"
	       "                      colours in text output (auto: on a terminal, unless\n"
	       "                      NO_COLOR is set or TERM=dumb)\n"
	       "  --top N             rows the text output lists (default 20)\n"
	       "  --debug-dir DIR     search separate debug files below DIR instead of\n"
	       "                      /usr/lib/debug (an empty DIR forces disassembly)\n"
	       "  --no-debug-info     do not use libc's debug info\n"
	       "  -o FILE             (attach, core) also save the snapshot to FILE\n"
	       "  --quiet             (attach, core, with -o) print no census\n"
	       "  -v, --verbose       notes, timings and addresses\n");
	printf("\nRun 'heapgrab COMMAND --help' for a command's options.\n\n"
	       "Exit status:\n"
	       "  0   complete\n"
	       "  1   output produced, with warnings (e.g. corrupt chunks skipped)\n"
	       "  2   nothing useful could be produced (no such process, no permission,\n"
	       "      target exited, not a glibc program, damaged snapshot file, ...)\n"
	       "  3   a thread stayed inside the allocator for the whole retry budget\n"
	       "  64  usage error (also: pprof output to a terminal)\n");
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
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	return usage_error("unknown command '%s'", argv[1]);
}
