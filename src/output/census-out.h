/*
 * census-out.h - print a census as text (for people) or JSON (the
 * contract in doc/json-output.md).
 *
 * Both functions append to SB; the caller writes it out. Nothing here
 * knows where the snapshot came from.
 */
#ifndef HEAPGRAB_CENSUS_OUT_H
#define HEAPGRAB_CENSUS_OUT_H

#include "output/table.h"	/* fmt_bytes, sgr ... for the users of census-out */
#include "util/compiler.h"

struct strbuf;
struct snapshot;
struct census;

struct census_out_opts {
	unsigned top;		/* size classes shown in text (0: default 20) */
	unsigned warnings;	/* diagnostics emitted while taking it */
	bool addresses;		/* text: show arena addresses (-v) */
	bool color;		/* text: ANSI colours (--color) */
};

void census_out_json(struct strbuf *sb, const struct snapshot *s, const struct census *c,
		     const struct census_out_opts *o);
void census_out_text(struct strbuf *sb, const struct snapshot *s, const struct census *c,
		     const struct census_out_opts *o);

struct json_writer;

/* The "typing" object of the census JSON (coverage, conflicts, modules
 * without debug info). */
void census_out_typing_json(struct json_writer *jw, const struct snapshot *s,
			    const struct census *c);
/* The coverage line and the table of the largest types. */
void census_out_types_text(struct strbuf *sb, const struct snapshot *s,
			   const struct census *c, unsigned top, bool color);

/* --explain-types: for each of the TOP largest types, how one of its
 * chunks got its type. Nothing when the snapshot was not typed with
 * typing_opts.explain. */
void census_out_explain(struct strbuf *sb, const struct snapshot *s, const struct census *c,
			unsigned top);

#endif /* HEAPGRAB_CENSUS_OUT_H */
