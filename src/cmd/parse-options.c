/*
 * parse-options.c - the option parser, synopsis, help list and completion
 * data made from a command's table (parse-options.h).
 *
 * The syntax is GNU getopt_long's, which the commands used before they had
 * tables, so every command line that worked still works the same way:
 *   - options and operands mix freely; operands keep their order;
 *   - "--" ends the options; "-" alone is an operand;
 *   - a long name may be shortened to any prefix no other name has (an
 *     exact name always wins);
 *   - "--name VALUE" and "--name=VALUE" for a required argument, only
 *     "--name=VALUE" for an optional one; "-o FILE" and "-oFILE";
 *   - short options cluster: "-vv".
 * Every failure is one usage error naming the word as given ("unknown
 * option '--bogus' for attach"), also for a missing argument and for
 * "--flag=VALUE" on an option without one, as the getopt loops said.
 *
 * --help (or a unique prefix of it) prints the synopsis and ends parsing
 * with EXIT_OK; options before it were parsed (an error there comes
 * first). --completion-helper, alone, prints the completion data.
 */
#include "config.h"
#include "cmd/parse-options.h"
#include "cmd/cmd.h"
#include "util/errors.h"
#include "util/strbuf.h"

#include <stdio.h>
#include <string.h>

/* apply()'s status after --help: parsing ends with EXIT_OK. */
#define HELP_SHOWN (-2)

static const struct cmd_option help_row = {
	.type = OPTION_CALLBACK, .long_name = "help",
};

static bool takes_arg(const struct cmd_option *o)
{
	return o->argh || (o->flags & OPTF_FORMATS);
}

static bool is_row(const struct cmd_option *o)
{
	return o->type != OPTION_BREAK;
}

/*
 * The row named by the long option NAME (LEN bytes, no "--"): an exact
 * name, or the only row whose name starts with it. NULL when none or
 * ambiguous.
 */
static const struct cmd_option *find_long(const struct cmd_option *opts, const char *name,
					  size_t len)
{
	const struct cmd_option *found = NULL;
	int nr_found = 0;

	if (!strncmp(help_row.long_name, name, len) && !help_row.long_name[len])
		return &help_row;
	for (const struct cmd_option *o = opts; o->type != OPTION_END; o++)
		if (is_row(o) && o->long_name && !strncmp(o->long_name, name, len) &&
		    !o->long_name[len])
			return o;
	if (!strncmp(help_row.long_name, name, len)) {
		found = &help_row;
		nr_found++;
	}
	for (const struct cmd_option *o = opts; o->type != OPTION_END; o++) {
		if (!is_row(o) || !o->long_name || strncmp(o->long_name, name, len))
			continue;
		if (found != o)
			nr_found++;
		found = o;
	}
	return nr_found == 1 ? found : NULL;
}

static const struct cmd_option *find_short(const struct cmd_option *opts, int c)
{
	for (const struct cmd_option *o = opts; o->type != OPTION_END; o++)
		if (is_row(o) && o->short_name == c)
			return o;
	return NULL;
}

static int unknown(const struct command *cmd, const char *word)
{
	return usage_error("unknown option '%s' for %s", word, cmd->name);
}

/* Store ARG (NULL: none) as row O says: 0, HELP_SHOWN or an exit status. */
static int apply(const struct command *cmd, const struct cmd_option *o, const char *arg)
{
	struct strbuf sb = STRBUF_INIT;
	unsigned long v;

	switch (o->type) {
	case OPTION_BOOL:
		*(bool *)o->value = o->defval;
		return 0;
	case OPTION_COUNT:
		++*(int *)o->value;
		return 0;
	case OPTION_STRING:
		*(const char **)o->value = arg;
		return 0;
	case OPTION_UINT:
	case OPTION_U64:
		if (parse_number(arg, o->max, &v) < 0 || v < o->min)
			return usage_error("--%s needs %s, not '%s'", o->long_name, o->what, arg);
		if (o->type == OPTION_UINT)
			*(unsigned *)o->value = (unsigned)v;
		else
			*(uint64_t *)o->value = v;
		return 0;
	case OPTION_CALLBACK:
		if (o == &help_row) {
			command_usage(&sb, cmd);
			fputs(sb.buf, stdout);
			strbuf_release(&sb);
			return HELP_SHOWN;
		}
		return o->cb(o, arg);
	default:
		BUG("parse_options: row type %d", o->type);
	}
}

/* One "--name[=value]" word at ARGV[*I]; may take the next word too. */
static int parse_long(const struct command *cmd, int argc, char **argv, int *i)
{
	const char *word = argv[*i], *name = word + 2, *eq = strchr(name, '=');
	const struct cmd_option *o = find_long(cmd->options, name,
					       eq ? (size_t)(eq - name) : strlen(name));
	const char *arg = NULL;

	if (!o)
		return unknown(cmd, word);
	if (eq) {
		if (!takes_arg(o))
			return unknown(cmd, word);
		arg = eq + 1;
	} else if (takes_arg(o) && !(o->flags & OPTF_OPTARG)) {
		if (*i + 1 >= argc)
			return unknown(cmd, word);
		arg = argv[++*i];
	}
	return apply(cmd, o, arg);
}

/* One "-abc" cluster at ARGV[*I]; its last option may take the next word. */
static int parse_short(const struct command *cmd, int argc, char **argv, int *i)
{
	const char *word = argv[*i];

	for (const char *p = word + 1; *p; p++) {
		const struct cmd_option *o = find_short(cmd->options, (unsigned char)*p);
		const char *arg = NULL;
		int status;

		if (!o)
			return unknown(cmd, word);
		if (takes_arg(o)) {
			if (p[1])
				arg = p + 1;
			else if (*i + 1 < argc)
				arg = argv[++*i];
			else
				return unknown(cmd, word);
		}
		status = apply(cmd, o, arg);
		if (status || arg)
			return status;
	}
	return 0;
}

int parse_options(const struct command *cmd, int argc, char **argv, int *ret_argc)
{
	int nr = 0, status;
	bool options_done = false;

	if (argc == 2 && !strcmp(argv[1], "--completion-helper")) {
		struct strbuf sb = STRBUF_INIT;

		command_completion(&sb, cmd);
		fputs(sb.buf, stdout);
		strbuf_release(&sb);
		return EXIT_OK;
	}
	for (int i = 1; i < argc; i++) {
		const char *word = argv[i];

		if (options_done || word[0] != '-' || !word[1]) {
			argv[nr++] = argv[i];
			continue;
		}
		if (!strcmp(word, "--")) {
			options_done = true;
			continue;
		}
		status = word[1] == '-' ? parse_long(cmd, argc, argv, &i) :
					  parse_short(cmd, argc, argv, &i);
		if (status == HELP_SHOWN)
			return EXIT_OK;
		if (status)
			return status;
	}
	*ret_argc = nr;
	return -1;
}

/* Append O's synopsis name: its short name unless that is an alias. */
static void add_name(struct strbuf *sb, const struct cmd_option *o)
{
	if (o->short_name && !(o->flags & OPTF_SHORT_ALIAS))
		strbuf_addf(sb, "-%c", o->short_name);
	else
		strbuf_addf(sb, "--%s", o->long_name);
}

static void add_argh(struct strbuf *sb, const struct cmd_option *o)
{
	if (!takes_arg(o))
		return;
	strbuf_addstr(sb, o->flags & OPTF_OPTARG ? "[=" : " ");
	if (o->flags & OPTF_FORMATS)
		formats_list(sb, (unsigned)o->defval, "|");
	else
		strbuf_addstr(sb, o->argh);
	if (o->flags & OPTF_OPTARG)
		strbuf_addch(sb, ']');
}

/* Append FRAG to the synopsis in SB, wrapping under INDENT columns. */
static void add_frag(struct strbuf *sb, size_t *line_start, size_t indent, const char *frag,
		     bool force_break)
{
	size_t line_len = sb->len - *line_start;

	if (line_len > indent && (force_break || line_len + 1 + strlen(frag) > USAGE_WIDTH)) {
		strbuf_addch(sb, '\n');
		*line_start = sb->len;
		for (size_t k = 0; k < indent; k++)
			strbuf_addch(sb, ' ');
	} else if (line_len > indent) {
		strbuf_addch(sb, ' ');
	}
	strbuf_addstr(sb, frag);
}

void command_usage(struct strbuf *sb, const struct command *cmd)
{
	struct strbuf frag = STRBUF_INIT;
	size_t line_start = sb->len, indent;
	bool brk = false;

	strbuf_addf(sb, "usage: heapgrab %s ", cmd->name);
	indent = sb->len - line_start;
	for (const struct cmd_option *o = cmd->options; o->type != OPTION_END; o++) {
		if (o->type == OPTION_BREAK) {
			brk = true;
			continue;
		}
		if (o->flags & (OPTF_HIDDEN | OPTF_NEST))
			continue;
		strbuf_reset(&frag);
		strbuf_addch(&frag, '[');
		add_name(&frag, o);
		add_argh(&frag, o);
		/* the rows nested in this one */
		for (const struct cmd_option *n = o + 1;
		     n->type != OPTION_END && (n->flags & OPTF_NEST); n++) {
			strbuf_addstr(&frag, " [");
			add_name(&frag, n);
			add_argh(&frag, n);
			strbuf_addch(&frag, ']');
		}
		strbuf_addch(&frag, ']');
		add_frag(sb, &line_start, indent, frag.buf, brk);
		brk = false;
	}
	if (cmd->operands)
		add_frag(sb, &line_start, indent, cmd->operands, brk);
	strbuf_addch(sb, '\n');
	if (cmd->notes)
		strbuf_addstr(sb, cmd->notes);
	strbuf_release(&frag);
}

/* The label column of options_help(): the help text starts after it. */
#define HELP_LABEL_WIDTH 19

void options_help(struct strbuf *sb, const struct cmd_option *options)
{
	struct strbuf label = STRBUF_INIT;

	for (const struct cmd_option *o = options; o->type != OPTION_END; o++) {
		if (!is_row(o) || (o->flags & OPTF_HIDDEN) || !o->help)
			continue;
		strbuf_reset(&label);
		if (o->short_name && !(o->flags & OPTF_SHORT_ALIAS))
			strbuf_addf(&label, "-%c", o->short_name);
		if (o->long_name && !(o->flags & OPTF_LONG_ALIAS))
			strbuf_addf(&label, "%s--%s", label.len ? ", " : "", o->long_name);
		if (o->flags & OPTF_FORMATS)
			strbuf_addstr(&label, " FORMAT");
		else
			add_argh(&label, o);
		if (label.len > HELP_LABEL_WIDTH)
			strbuf_addf(sb, "  %s\n%*s", label.buf, HELP_LABEL_WIDTH + 3, "");
		else
			strbuf_addf(sb, "  %-*s ", HELP_LABEL_WIDTH, label.buf);
		for (const char *p = o->help; *p; p++) {
			strbuf_addch(sb, *p);
			if (*p == '\n')
				strbuf_addf(sb, "%*s", HELP_LABEL_WIDTH + 3, "");
		}
		strbuf_addch(sb, '\n');
	}
	strbuf_release(&label);
}

/* "NAME KIND [WORDS]" for one name of row O (see parse-options.h). */
static void completion_line(struct strbuf *sb, const char *name, const struct cmd_option *o)
{
	strbuf_addstr(sb, name);
	if (!takes_arg(o)) {
		strbuf_addstr(sb, " flag\n");
		return;
	}
	if (o->flags & OPTF_OPTARG)
		strbuf_addstr(sb, " optional ");
	else if (o->complete && !strcmp(o->complete, "@file"))
		strbuf_addstr(sb, " file");
	else if (o->complete && !strcmp(o->complete, "@dir"))
		strbuf_addstr(sb, " dir");
	else if (o->complete || (o->flags & OPTF_FORMATS) || strchr(o->argh, '|'))
		strbuf_addstr(sb, " words ");
	else
		strbuf_addstr(sb, " arg");
	if (o->flags & OPTF_FORMATS) {
		formats_list(sb, (unsigned)o->defval, " ");
	} else if (o->complete && o->complete[0] != '@') {
		strbuf_addstr(sb, o->complete);
	} else if (!o->complete && (strchr(o->argh, '|') || (o->flags & OPTF_OPTARG))) {
		for (const char *p = o->argh; *p; p++)
			strbuf_addch(sb, *p == '|' ? ' ' : *p);
	}
	strbuf_addch(sb, '\n');
}

void command_completion(struct strbuf *sb, const struct command *cmd)
{
	struct strbuf name = STRBUF_INIT;

	completion_line(sb, "--help", &(const struct cmd_option){ .type = OPTION_BOOL });
	for (const struct cmd_option *o = cmd->options; o->type != OPTION_END; o++) {
		if (!is_row(o) || (o->flags & OPTF_HIDDEN))
			continue;
		if (o->long_name) {
			strbuf_reset(&name);
			strbuf_addf(&name, "--%s", o->long_name);
			completion_line(sb, name.buf, o);
		}
		if (o->short_name && !(o->flags & OPTF_SHORT_ALIAS)) {
			strbuf_reset(&name);
			strbuf_addf(&name, "-%c", o->short_name);
			completion_line(sb, name.buf, o);
		}
	}
	strbuf_addf(sb, "operands %s\n", cmd->complete_operands ? cmd->complete_operands : "-");
	strbuf_release(&name);
}
