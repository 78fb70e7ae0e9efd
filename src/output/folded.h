/*
 * folded.h - a profile as "folded stacks", the input of flamegraph.pl,
 * inferno, speedscope and most flame graph tools.
 *
 * One line per sample: the frames root first, joined by ';', a space and
 * the value:
 *
 *     untyped;[208-byte chunks] 1040000
 *     global cache;struct entry 65536
 *
 * The value is the sample's bytes (FOLDED_BYTES, the default) or its chunk
 * count (FOLDED_COUNT). A diff profile gives flamegraph.pl's differential
 * form, "stack OLD NEW" (what difffolded.pl prints), which `flamegraph.pl`
 * draws as a differential flame graph: growth in red, shrink in blue.
 *
 * Frame names cannot hold the separators: ';' becomes ':' and control
 * characters (newline, tab, ...) become spaces. Lines come in the
 * profile's order (bytes descending; profile.h).
 */
#ifndef HEAPGRAB_FOLDED_H
#define HEAPGRAB_FOLDED_H

#include "util/compiler.h"

struct strbuf;
struct profile;

enum folded_value {
	FOLDED_BYTES,
	FOLDED_COUNT,
};

void folded_write(struct strbuf *sb, const struct profile *p, enum folded_value v);

#endif /* HEAPGRAB_FOLDED_H */
