/*
 * diff-out.h - print a diff (analysis/diff.h) as text or as the JSON
 * contract of doc/json-output.md ("heapgrab diff").
 *
 * Both append to SB. The snapshots are only used for their metadata (pid,
 * exe) in the text header; times come from the options because a struct
 * snapshot does not carry one (snapshot/file.h does).
 */
#ifndef HEAPGRAB_DIFF_OUT_H
#define HEAPGRAB_DIFF_OUT_H

#include "output/table.h"	/* fmt_signed_bytes ... for the users of diff-out */
#include "util/compiler.h"

struct strbuf;
struct snapshot;
struct diff;

struct diff_out_opts {
	unsigned top;		/* size classes shown in text (0: default 20) */
	bool by_type;		/* text: --by type was asked for */
	bool list_new;		/* --new: print new_chunks */
	bool color;		/* ANSI colours (--color) */
	int64_t old_taken;	/* unix seconds; 0 = unknown */
	int64_t new_taken;
};

void diff_out_json(struct strbuf *sb, const struct diff *d, const struct diff_out_opts *o);
void diff_out_text(struct strbuf *sb, const struct snapshot *old, const struct snapshot *new_,
		   const struct diff *d, const struct diff_out_opts *o);

/* "10:02" today, "2024-05-01 10:02" otherwise (local time); "?" if 0. */
void fmt_clock(struct strbuf *sb, int64_t t, int64_t now);

#endif /* HEAPGRAB_DIFF_OUT_H */
