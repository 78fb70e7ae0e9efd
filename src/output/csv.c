/*
 * csv.c - census and diff as CSV; see csv.h for the layout.
 *
 * One table rather than one file per section: a spreadsheet filter on the
 * first column gives each section, and a script reads one stream. The rows
 * are the JSON's rows, in the JSON's order, so the two can be compared
 * value for value (tests/out-formats.sh does).
 */
#include "config.h"
#include "output/csv.h"
#include "analysis/census.h"
#include "analysis/diff.h"
#include "analysis/profile.h"
#include "util/strbuf.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const enum chunk_state kinds[] = {
	CHUNK_INUSE, CHUNK_TCACHE, CHUNK_FASTBIN, CHUNK_BIN, CHUNK_TOP, CHUNK_MMAPPED,
};

void csv_field(struct strbuf *sb, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		strbuf_addstr(sb, s);
		return;
	}
	strbuf_addch(sb, '"');
	for (; *s; s++) {
		if (*s == '"')
			strbuf_addch(sb, '"');
		strbuf_addch(sb, *s);
	}
	strbuf_addch(sb, '"');
}

static void row_start(struct strbuf *sb, const char *section, const char *name)
{
	strbuf_addstr(sb, section);
	strbuf_addch(sb, ',');
	csv_field(sb, name);
}

void csv_census(struct strbuf *sb, const struct census *c, const struct profile *p)
{
	struct profile_type_row *rows;
	size_t n = profile_by_type(p, &rows);

	strbuf_addstr(sb, "section,name,count,bytes\r\n");
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		row_start(sb, "total", chunk_state_name(kinds[k]));
		strbuf_addf(sb, ",%" PRIu64 ",%" PRIu64 "\r\n", c->totals[kinds[k]].count,
			    c->totals[kinds[k]].bytes);
	}
	strbuf_addf(sb, "total,overhead,,%" PRIu64 "\r\n", c->overhead);
	for (size_t i = 0; i < n; i++) {
		row_start(sb, "type", rows[i].type);
		strbuf_addf(sb, ",%" PRId64 ",%" PRId64 "\r\n", rows[i].count, rows[i].bytes);
	}
	for (size_t i = 0; i < c->nr_by_size; i++)
		strbuf_addf(sb, "size,%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\r\n",
			    c->by_size[i].size, c->by_size[i].count, c->by_size[i].bytes);
	free(rows);
}

void csv_diff(struct strbuf *sb, const struct diff *d, const struct profile *p)
{
	struct profile_type_row *rows;
	size_t n = profile_by_type(p, &rows);

	strbuf_addstr(sb, "section,name,count_delta,bytes_delta,count,bytes\r\n");
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		const struct diff_value *v = &d->totals[kinds[k]];

		row_start(sb, "total", chunk_state_name(kinds[k]));
		strbuf_addf(sb, ",%" PRId64 ",%" PRId64 ",%" PRIu64 ",%" PRIu64 "\r\n",
			    v->count_delta, v->bytes_delta, v->count, v->bytes);
	}
	strbuf_addf(sb, "total,overhead,,%" PRId64 ",,%" PRIu64 "\r\n",
		    d->overhead.bytes_delta, d->overhead.bytes);
	for (size_t i = 0; i < n; i++) {
		const struct profile_type_row *r = &rows[i];

		row_start(sb, "type", r->type);
		strbuf_addf(sb, ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 "\r\n",
			    r->count, r->bytes, r->old_count + r->count, r->old_bytes + r->bytes);
	}
	for (size_t i = 0; i < d->nr_by_size; i++) {
		const struct diff_size_row *r = &d->by_size[i];

		strbuf_addf(sb, "size,%" PRIu64 ",%" PRId64 ",%" PRId64 ",%" PRIu64 ",%" PRIu64
			    "\r\n", r->size, r->v.count_delta, r->v.bytes_delta, r->v.count,
			    r->v.bytes);
	}
	free(rows);
}
