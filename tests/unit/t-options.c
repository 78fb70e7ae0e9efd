/*
 * t-options.c - the option table machinery (cmd/parse-options.h) on a
 * made-up command: getopt_long's syntax (operands in any order and kept
 * in order, "--", prefixes, exact names winning, --opt=value, clusters,
 * -oFILE, optional arguments), the usage errors (unknown, ambiguous,
 * missing value, value on a flag, a number out of range), --help, the
 * synopsis (order, nesting, wrapping, breaks, hidden rows) and the
 * completion lines.
 */
#include "config.h"
#include "tap.h"
#include "cmd/cmd.h"
#include "snapshot/snapshot.h"
#include "typing/typing.h"
#include "util/errors.h"
#include "util/strbuf.h"

#include <stdio.h>
#include <string.h>

static struct {
	const char *output, *dir;
	bool quiet, verify, hidden;
	unsigned count;
	int format, color;
	const char *fork;
	int nr_fork;
} cl;

static int fork_cb(const struct cmd_option *row, const char *arg)
{
	(void)row;
	cl.fork = arg ? arg : "(none)";
	cl.nr_fork++;
	return 0;
}

static const struct cmd_option frob_options[] = {
	OPT_FORMAT(&cl.format, FORMATS_TEXT_JSON),
	OPT_COLOR(&cl.color),
	OPT_SNAPSHOT_FILE(&cl.output),
	OPT_QUIET(&cl.quiet),
	OPT_UINT("count", &cl.count, "N", 1, 99, "1 to 99"),
	OPT_BREAK(),
	OPT_DIR(0, "dir", &cl.dir, "DIR"),
	OPT_CALLBACK_F(0, "fork", NULL, "auto", fork_cb, 0, OPTF_OPTARG),
	OPT_BOOL(0, "verify", &cl.verify),
	OPT_BOOL_F(0, "very-hidden", &cl.hidden, true, OPTF_HIDDEN),
	OPT_VERBOSE(),
	OPT_END(),
};

static int cmd_frob(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static const struct command command_frob = {
	.name = "frob",
	.fn = cmd_frob,
	.summary = "a test",
	.options = frob_options,
	.operands = "PID...",
	.complete_operands = "- pid",
};

/* A command made of the shared groups only, as a new one would be. */
static struct {
	struct out_opts oo;
	struct snapshot_opts sopts;
	struct typing_opts topts;
	const char *exe, *sysroot, *debug_dir;
	bool no_debug_info;
} g;

static const struct cmd_option group_options[] = {
	OPT_GROUP_OUTPUT(&g.oo, FORMATS_CENSUS),
	OPT_GROUP_DEBUGINFO(&g.exe, &g.sysroot, &g.debug_dir, &g.no_debug_info),
	OPT_GROUP_TARGET(&g.sopts),
	OPT_GROUP_TYPING(&g.sopts, &g.topts, true),
	OPT_VERBOSE(),
	OPT_END(),
};

static const struct command command_group = {
	.name = "grp", .fn = cmd_frob, .summary = "groups", .options = group_options,
	.operands = "PID", .complete_operands = "pid",
};

/* Parse the words of LINE (at most 15): the status; *NR the operands,
 * joined by ',' into OPERANDS. */
static int parse(const char *line, int *nr, char *operands)
{
	static char buf[256], name[] = "frob";
	char *argv[16] = { name };
	int argc = 1, status;

	memset(&cl, 0, sizeof(cl));
	snprintf(buf, sizeof(buf), "%s", line);
	for (char *w = strtok(buf, " "); w && argc < 15; w = strtok(NULL, " "))
		argv[argc++] = w;
	*nr = -1;
	operands[0] = '\0';
	status = parse_options(&command_frob, argc, argv, nr);
	for (int i = 0; status < 0 && i < *nr; i++) {
		strcat(operands, argv[i]);
		strcat(operands, i + 1 < *nr ? "," : "");
	}
	return status;
}

int main(void)
{
	struct strbuf sb = STRBUF_INIT;
	char ops[256];
	int nr, saved_verbose;

	plan(26);
	ok(parse("1 --format json 2 -- --verify", &nr, ops) == -1 && nr == 3 &&
	   !strcmp(ops, "1,2,--verify") && cl.format == FORMAT_JSON && !cl.verify,
	   "operands in order, -- ends the options (%s)", ops);
	ok(parse("--form=json --verif -oFILE x", &nr, ops) == -1 && cl.format == FORMAT_JSON &&
	   cl.verify && !strcmp(cl.output, "FILE") && !strcmp(ops, "x"),
	   "prefixes, --opt=value, -oFILE");
	ok(parse("--output f -o g", &nr, ops) == -1 && !strcmp(cl.output, "g"),
	   "the last of an option wins; the long alias works");
	saved_verbose = hg_verbose;
	ok(parse("-vv -v -", &nr, ops) == -1 && hg_verbose == saved_verbose + 3 &&
	   !strcmp(ops, "-"), "a cluster counts; '-' is an operand");
	hg_verbose = saved_verbose;
	ok(parse("--fork x", &nr, ops) == -1 && !strcmp(cl.fork, "(none)") && !strcmp(ops, "x"),
	   "an optional argument is not taken from the next word");
	ok(parse("--fork=auto", &nr, ops) == -1 && !strcmp(cl.fork, "auto"), "--fork=auto");
	ok(parse("--very-hidden", &nr, ops) == -1 && cl.hidden, "a hidden option is accepted");
	ok(parse("--count 99", &nr, ops) == -1 && cl.count == 99, "a number at the top of its range");
	ok(parse("--count 100", &nr, ops) == EXIT_USAGE, "a number past it: usage error");
	ok(parse("--count 0", &nr, ops) == EXIT_USAGE, "a number below it: usage error");
	ok(parse("--v", &nr, ops) == EXIT_USAGE, "an ambiguous prefix (--verify, --verbose, --very-hidden)");
	ok(parse("--bogus", &nr, ops) == EXIT_USAGE, "an unknown option");
	ok(parse("-x", &nr, ops) == EXIT_USAGE, "an unknown short option");
	ok(parse("x --count", &nr, ops) == EXIT_USAGE, "a missing value");
	ok(parse("--quiet=1", &nr, ops) == EXIT_USAGE, "a value on a flag");
	ok(parse("--format csv", &nr, ops) == EXIT_USAGE, "a format the command does not offer");
	ok(parse("--bogus --help", &nr, ops) == EXIT_USAGE, "an error before --help comes first");
	ok(parse("--count 3 --he --bogus", &nr, ops) == EXIT_OK, "--help (a prefix) ends parsing");

	command_usage(&sb, &command_frob);
	is_str(sb.buf,
	       "usage: heapgrab frob [--format text|json] [--color auto|always|never]\n"
	       "                     [-o FILE [--quiet]] [--count N]\n"
	       "                     [--dir DIR] [--fork[=auto]] [--verify] [-v] PID...\n",
	       "synopsis: order, nesting, the break, no hidden row");
	strbuf_reset(&sb);
	options_help(&sb, frob_options);
	ok(strstr(sb.buf, "\n  -o FILE             (attach, core) also save") &&
	   strstr(sb.buf, "\n  -v, --verbose       notes") &&
	   strstr(sb.buf, "\n  --color auto|always|never\n                      colours"),
	   "help list: labels, columns, long labels on their own line");
	strbuf_reset(&sb);
	command_completion(&sb, &command_frob);
	ok(strstr(sb.buf, "--format words text json\n") && strstr(sb.buf, "-o file\n") &&
	   strstr(sb.buf, "--output file\n") && strstr(sb.buf, "--dir dir\n") &&
	   strstr(sb.buf, "--count arg\n") && strstr(sb.buf, "--fork optional auto\n") &&
	   strstr(sb.buf, "--verify flag\n") && strstr(sb.buf, "--help flag\n"),
	   "completion: one line per name, with its kind and words");
	ok(!strstr(sb.buf, "very-hidden") && !strstr(sb.buf, "\n-f "),
	   "completion: no hidden row, no short alias");
	ok(strstr(sb.buf, "operands - pid\n") != NULL, "completion: the operands line");
	ok(parse("--count 5 --verify", &nr, ops) == -1 && nr == 0, "no operands: 0");
	strbuf_reset(&sb);
	command_usage(&sb, &command_group);
	is_str(sb.buf,
	       "usage: heapgrab grp [--format text|json|pprof|folded|csv|html] [--value bytes|count]\n"
	       "                    [--color auto|always|never] [--exe BIN] [--sysroot DIR]\n"
	       "                    [--debug-dir DIR] [--no-debug-info] [--no-debuginfod] [--retries N]\n"
	       "                    [--fork[=auto]] [--no-types] [--explain-types]\n"
	       "                    [--unwinder libdw|libunwind|none] [-v] PID\n",
	       "the shared groups, in order");
	{
		static char w[][16] = { "grp", "--retries", "7", "--fork=auto", "--no-types",
					"--unwinder", "none", "--format", "csv", "--exe", "e", "9" };
		char *argv[12];
		int argc = 0;

		for (size_t i = 0; i < ARRAY_SIZE(w); i++)
			argv[argc++] = w[i];
		memset(&g, 0, sizeof(g));
		g.sopts.types = true;
		ok(parse_options(&command_group, argc, argv, &nr) == -1 && nr == 1 &&
		   g.sopts.max_rounds == 7 && g.sopts.mode == SNAPSHOT_FORK_AUTO &&
		   !g.sopts.types && g.topts.unwinder == TYPING_UNWIND_NONE &&
		   g.oo.format == FORMAT_CSV && !strcmp(g.exe, "e") && !strcmp(argv[0], "9"),
		   "the shared groups store where they say");
	}
	strbuf_release(&sb);
	return done();
}
