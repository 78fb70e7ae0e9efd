/*
 * why.c - `heapgrab why ADDR PID|CORE|FILE`: why is the chunk holding ADDR
 * alive? The shortest chain from a named root to it, or "unreachable" with
 * the chunks that point to it.
 *
 * ADDR is hexadecimal, with or without 0x, anywhere in the chunk (the
 * pointer the program holds, an interior address, or the chunk header).
 *
 * Exit status: 0 answered (reachable, possibly leaked or leaked); 1
 * answered, with warnings from the walk or the scan; 2 no answer (ADDR is
 * in no live chunk, or no snapshot); 3 busy target; 64 usage.
 */
#include "config.h"
#include "cmd/cmd.h"
#include "analysis/graph.h"
#include "analysis/why.h"
#include "output/leaks-out.h"
#include "snapshot/snapshot.h"
#include "util/diag.h"
#include "util/errors.h"
#include "util/strbuf.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static int cmd_why(int argc, char **argv);

static struct image_cmd ic;	/* the command line */

static const struct cmd_option why_options[] = {
	OPT_FORMAT(&ic.format, FORMATS_TEXT_JSON),
	/* accepted as leaks and top take it; why lists no rows */
	OPT_UINT_F("top", &ic.top, "N", 1, UINT_MAX, "a positive number", OPTF_HIDDEN),
	OPT_EXE(&ic.exe),
	OPT_SYSROOT(&ic.sysroot),
	OPT_BREAK(),
	OPT_DEBUG_DIR(&ic.debug_dir),
	OPT_NO_DEBUG_INFO(&ic.no_debug_info),
	IMAGE_CMD_REST(&ic),
	OPT_BREAK(),
	OPT_END(),
};

const struct command command_why = {
	.name = "why",
	.fn = cmd_why,
	.summary = "the shortest chain of pointers that keeps a chunk alive",
	.options = why_options,
	.operands = "ADDR PID|CORE|FILE",
	.complete_operands = "- file+pid",
};

static int parse_addr(const char *s, taddr_t *ret)
{
	char *end;
	unsigned long long v;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (!isxdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 16);
	if (errno || *end)
		return -1;
	*ret = v;
	return 0;
}

/* ADDR is in no live chunk: say what it is in, if it is in the heap. */
static void not_live(const struct snapshot *s, taddr_t addr, const char *src)
{
	for (size_t i = 0; i < s->walk.nr_chunks; i++) {
		const struct chunk *c = &s->walk.chunks[i];

		if (addr - c->addr < c->size) {
			error_msg("0x%" PRIx64 " is not inside a live chunk of '%s': it is in a "
				  "free chunk (%s) of %" PRIu64 " bytes at 0x%" PRIx64, addr, src,
				  chunk_state_name(c->state), (uint64_t)c->size, c->addr);
			return;
		}
	}
	error_msg("0x%" PRIx64 " is not inside a live chunk of '%s'", addr, src);
}

static int cmd_why(int argc, char **argv)
{
	struct strbuf out = STRBUF_INIT;
	struct image_graph ig = { 0 };
	struct why_result w;
	/* member names along the path, from the types (".next") */
	const struct why_hooks members = { .member_name = image_member_name };
	struct diag_sink diag;
	taddr_t addr;
	int status, err;

	status = image_cmd_parse(&command_why, argc, argv, &ic);
	if (status >= 0)
		return status;
	if (ic.nr_args != 2)
		return usage_error(ic.nr_args < 2 ? "why needs ADDR and a PID, core or snapshot file" :
				   "why takes ADDR and one PID, core or snapshot file");
	if (parse_addr(ic.args[0], &addr) < 0)
		return usage_error("'%s' is not a hexadecimal address", ic.args[0]);

	cli_diag_init(&diag);
	status = image_graph_open(ic.args[1], &ic, &diag, &ig);
	if (status)
		goto out;
	err = why_explain(ig.graph, addr, &w);
	if (err < 0) {
		not_live(ig.snap, addr, ic.args[1]);
		status = EXIT_FAILURE_HG;
		goto out;
	}
	if (ic.format == FORMAT_JSON)
		why_out_json(&out, ig.graph, addr, &w, &members);
	else
		why_out_text(&out, ig.graph, addr, &w, &members);
	why_release(&w);
	status = write_stdout(&out);
	image_graph_done(&ig, "why");
	if (!status && (ig.warnings || diag.nr_warnings))
		status = EXIT_WARNINGS;
out:
	cli_diag_finish(&diag);
	image_graph_close(&ig);
	strbuf_release(&out);
	return status;
}
