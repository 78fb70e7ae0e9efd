/*
 * csv.h - a census or a diff as one CSV table (RFC 4180) for
 * spreadsheets.
 *
 * Census: a header line, then one row per value:
 *
 *     section,name,count,bytes
 *     total,in_use,14,5248          one per kind, in the JSON's order,
 *     ...                           then "overhead" (count empty)
 *     type,struct session,41000,3280000   by type (profile_by_type order);
 *     type,untyped,14,5248                 untyped chunks are one row
 *     size,208,5000,1040000         by chunk size (the JSON by_size order)
 *
 * Diff: section,name,count_delta,bytes_delta,count,bytes with the same
 * sections; count and bytes are NEW's, the deltas NEW - OLD; rows as in
 * the diff JSON (changed rows only for type and size).
 *
 * Numbers are plain integers (no separators, no units); a field holding a
 * comma, a double quote or a line break is quoted, quotes doubled. Lines
 * end with CRLF, as RFC 4180 says.
 */
#ifndef HEAPGRAB_CSV_H
#define HEAPGRAB_CSV_H

#include "util/compiler.h"

struct strbuf;
struct census;
struct diff;
struct profile;

/* P: the census profile of the same snapshot (for the type rows). */
void csv_census(struct strbuf *sb, const struct census *c, const struct profile *p);
/* P: the diff profile of the same two snapshots. */
void csv_diff(struct strbuf *sb, const struct diff *d, const struct profile *p);

/* One field, quoted when it needs to be. */
void csv_field(struct strbuf *sb, const char *s);

#endif /* HEAPGRAB_CSV_H */
