/*
 * diff-out.c - a diff as text (for people) and as JSON (the contract in
 * doc/json-output.md).
 *
 * JSON: {"heapgrab": 1, "totals": {KIND: {"count_delta", "bytes_delta",
 * "count", "bytes"}, ..., "overhead": {"bytes_delta", "bytes"}},
 * "by_type": [], "by_size": [{"size", "count_delta", "bytes_delta",
 * "count", "bytes"}]} and, with --new only, "new_chunks". by_type rows
 * ({"type", "count_delta", "bytes_delta", "count", "bytes"[, "inferred"]})
 * exist when both snapshots carry types, else it is empty. Every field is
 * present, keys in a fixed order, rows in diff.h's total order.
 *
 * Text: one line per size class in the style "+41,000 chunks of 80 bytes,
 * +3.1 MiB since 10:02", growth first.
 */
#include "config.h"
#include "output/diff-out.h"
#include "output/census-out.h"
#include "output/json-writer.h"
#include "output/table.h"
#include "analysis/diff.h"
#include "snapshot/snapshot.h"
#include "util/strbuf.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* One diff_value as a JSON row (ROW_TYPE, ROW_SIZE or ROW_TOTAL). */
static void json_value(struct json_writer *jw, struct table_row row, const struct diff_value *v)
{
	row.delta = true;
	row.count_delta = v->count_delta;
	row.bytes_delta = v->bytes_delta;
	row.count = v->count;
	row.bytes = v->bytes;
	table_row_json(jw, &row);
}

void diff_out_json(struct strbuf *sb, const struct diff *d, const struct diff_out_opts *o)
{
	struct json_writer jw = JSON_WRITER_INIT(sb);

	jw_object_begin(&jw);
	jw_object_uint(&jw, "heapgrab", 1);
	jw_key(&jw, "totals");
	jw_object_begin(&jw);
	for (size_t k = 0; k < ARRAY_SIZE(table_json_kinds); k++) {
		jw_key(&jw, chunk_state_name(table_json_kinds[k]));
		json_value(&jw, (struct table_row){ .kind = ROW_TOTAL }, &d->totals[table_json_kinds[k]]);
	}
	jw_key(&jw, "overhead");
	json_value(&jw, (struct table_row){ .kind = ROW_TOTAL, .no_count = true }, &d->overhead);
	jw_object_end(&jw);

	jw_key(&jw, "by_type");
	jw_array_begin(&jw);
	for (size_t i = 0; i < d->nr_by_type; i++) {
		const struct diff_type_row *r = &d->by_type[i];

		json_value(&jw, (struct table_row){ .kind = ROW_TYPE, .type = r->name,
						    .inferred = r->inferred }, &r->v);
	}
	jw_array_end(&jw);

	jw_key(&jw, "by_size");
	jw_array_begin(&jw);
	for (size_t i = 0; i < d->nr_by_size; i++) {
		const struct diff_size_row *r = &d->by_size[i];

		json_value(&jw, (struct table_row){ .kind = ROW_SIZE, .size = r->size }, &r->v);
	}
	jw_array_end(&jw);

	if (o && o->list_new) {
		jw_key(&jw, "new_chunks");
		jw_object_begin(&jw);
		jw_object_uint(&jw, "count", d->new_count);
		jw_object_uint(&jw, "bytes", d->new_bytes);
		jw_object_uint(&jw, "survived_count", d->survived_count);
		jw_object_uint(&jw, "survived_bytes", d->survived_bytes);
		jw_key(&jw, "chunks");
		jw_array_begin(&jw);
		for (size_t i = 0; i < d->nr_new_chunks; i++) {
			jw_object_begin(&jw);
			jw_object_addr(&jw, "address", d->new_chunks[i].addr);
			jw_object_uint(&jw, "size", d->new_chunks[i].size);
			jw_object_end(&jw);
		}
		jw_array_end(&jw);
		jw_object_end(&jw);
	}
	jw_object_end(&jw);
	strbuf_addch(sb, '\n');
}

void fmt_clock(struct strbuf *sb, int64_t t, int64_t now)
{
	struct tm tm, tn;
	time_t tt = (time_t)t, tnow = (time_t)now;
	char buf[32];

	if (!t || !localtime_r(&tt, &tm) || !localtime_r(&tnow, &tn)) {
		strbuf_addch(sb, '?');
		return;
	}
	if (tm.tm_year == tn.tm_year && tm.tm_yday == tn.tm_yday)
		strftime(buf, sizeof(buf), "%H:%M", &tm);
	else
		strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M", &tm);
	strbuf_addstr(sb, buf);
}

/* A cell of the diff's tables: a space, then the cell (table.h). */
static void cell(struct strbuf *sb, enum table_cell kind, int64_t v, size_t width, bool color)
{
	strbuf_addch(sb, ' ');
	table_cell(sb, kind, v, width, color);
}

/* "+3 WHAT, +1.5 KiB since 10:02 (now 7)": a row of the growth tables,
 * red or green by its bytes when COLOR. */
static void growth_row(struct strbuf *sb, const struct diff_value *v, const char *what,
		       const char *since, bool color)
{
	sgr_delta(sb, color, v->bytes_delta);
	fmt_signed_thousands(sb, v->count_delta);
	strbuf_addf(sb, " %s, ", what);
	fmt_signed_bytes(sb, v->bytes_delta);
	strbuf_addf(sb, " %s (now ", since);
	fmt_thousands(sb, v->count);
	strbuf_addch(sb, ')');
	sgr_end(sb, color && v->bytes_delta);
	strbuf_addch(sb, '\n');
}

static void describe(struct strbuf *sb, const struct snapshot *s)
{
	strbuf_addf(sb, "process %d", s->meta.pid);
	if (s->meta.exe)
		strbuf_addf(sb, " (%s)", s->meta.exe);
}

void diff_out_text(struct strbuf *sb, const struct snapshot *old, const struct snapshot *new_,
		   const struct diff *d, const struct diff_out_opts *o)
{
	unsigned top = o && o->top ? o->top : 20;
	int64_t ot = o ? o->old_taken : 0, nt = o ? o->new_taken : 0;
	struct strbuf since = STRBUF_INIT, what = STRBUF_INIT;
	bool color = o && o->color;

	strbuf_addstr(&since, "since ");
	fmt_clock(&since, ot, nt ? nt : ot);

	strbuf_addstr(sb, "old: ");
	describe(sb, old);
	strbuf_addstr(sb, " at ");
	fmt_clock(sb, ot, nt ? nt : ot);
	strbuf_addstr(sb, "\nnew: ");
	describe(sb, new_);
	strbuf_addstr(sb, " at ");
	fmt_clock(sb, nt, nt);
	if (ot && nt)
		strbuf_addf(sb, " (%+" PRId64 " s)", nt - ot);
	strbuf_addstr(sb, "\nlive: ");
	sgr_delta(sb, color, d->live.bytes_delta);
	fmt_signed_bytes(sb, d->live.bytes_delta);
	strbuf_addstr(sb, " in ");
	fmt_signed_thousands(sb, d->live.count_delta);
	strbuf_addf(sb, " chunks %s", since.buf);
	sgr_end(sb, color && d->live.bytes_delta);
	strbuf_addstr(sb, ", now ");
	fmt_bytes(sb, d->live.bytes);
	strbuf_addstr(sb, " in ");
	fmt_thousands(sb, d->live.count);
	strbuf_addstr(sb, " chunks\n\n");

	sgr(sb, color, SGR_BOLD);
	strbuf_addf(sb, "%-16s %14s %12s %14s %12s", "kind", "chunks +/-", "bytes +/-",
		    "chunks", "bytes");
	sgr_end(sb, color);
	strbuf_addch(sb, '\n');
	for (int k = 0; k < CHUNK_STATE__COUNT; k++) {
		const struct diff_value *v = &d->totals[k];

		strbuf_addf(sb, "%-16s", table_kind_name((enum chunk_state)k));
		cell(sb, CELL_SNUM, v->count_delta, 14, color);
		cell(sb, CELL_SBYTES, v->bytes_delta, 12, color);
		cell(sb, CELL_NUM, (int64_t)v->count, 14, color);
		cell(sb, CELL_BYTES, (int64_t)v->bytes, 12, color);
		strbuf_addch(sb, '\n');
	}
	strbuf_addf(sb, "%-16s", "overhead");
	cell(sb, CELL_DASH, 0, 14, color);
	cell(sb, CELL_SBYTES, d->overhead.bytes_delta, 12, color);
	cell(sb, CELL_DASH, 0, 14, color);
	cell(sb, CELL_BYTES, (int64_t)d->overhead.bytes, 12, color);
	strbuf_addf(sb, "\n%-16s", "arena memory");
	cell(sb, CELL_DASH, 0, 14, color);
	cell(sb, CELL_SBYTES, d->system.bytes_delta, 12, color);
	cell(sb, CELL_DASH, 0, 14, color);
	cell(sb, CELL_BYTES, (int64_t)d->system.bytes, 12, color);
	strbuf_addch(sb, '\n');

	if (d->has_types) {
		strbuf_addch(sb, '\n');
		sgr(sb, color, SGR_BOLD);
		strbuf_addf(sb, "growth by type (live chunks, by bytes; %zu type%s changed; "
			    "~ = inferred)", d->nr_by_type, d->nr_by_type == 1 ? "" : "s");
		sgr_end(sb, color);
		strbuf_addch(sb, '\n');
		for (size_t i = 0; i < d->nr_by_type && i < top; i++) {
			const struct diff_type_row *r = &d->by_type[i];

			strbuf_reset(&what);
			strbuf_addf(&what, "%s%s", r->inferred ? "~" : "", r->name);
			growth_row(sb, &r->v, what.buf, since.buf, color);
		}
		table_more(sb, d->nr_by_type, top);
		if (!d->nr_by_type)
			strbuf_addstr(sb, "no change\n");
	} else if (o && o->by_type) {
		strbuf_addstr(sb, "\nno types: one of the snapshots carries no type information; "
			      "growth by size class instead\n");
	}
	strbuf_addch(sb, '\n');
	sgr(sb, color, SGR_BOLD);
	strbuf_addf(sb, "growth by size class (live chunks, by bytes; %zu class%s changed)",
		    d->nr_by_size, d->nr_by_size == 1 ? "" : "es");
	sgr_end(sb, color);
	strbuf_addch(sb, '\n');
	for (size_t i = 0; i < d->nr_by_size && i < top; i++) {
		const struct diff_size_row *r = &d->by_size[i];

		strbuf_reset(&what);
		strbuf_addf(&what, "chunk%s of ", r->v.count_delta == 1 ||
			    r->v.count_delta == -1 ? "" : "s");
		fmt_thousands(&what, r->size);
		strbuf_addstr(&what, " bytes");
		growth_row(sb, &r->v, what.buf, since.buf, color);
	}
	table_more(sb, d->nr_by_size, top);
	if (!d->nr_by_size)
		strbuf_addstr(sb, "no change\n");

	if (o && o->list_new) {
		strbuf_addstr(sb, "\nnew chunks still alive: ");
		fmt_thousands(sb, d->new_count);
		strbuf_addstr(sb, " (");
		fmt_bytes(sb, d->new_bytes);
		strbuf_addstr(sb, "); survived: ");
		fmt_thousands(sb, d->survived_count);
		strbuf_addstr(sb, " (");
		fmt_bytes(sb, d->survived_bytes);
		strbuf_addstr(sb, ")\n");
		for (size_t i = 0; i < d->nr_new_chunks; i++) {
			strbuf_addf(sb, "  0x%012" PRIx64 " ", d->new_chunks[i].addr);
			fmt_thousands(sb, d->new_chunks[i].size);
			strbuf_addch(sb, '\n');
		}
		if (d->new_count > d->nr_new_chunks)
			strbuf_addf(sb, "(%" PRIu64 " more not listed; --max-new N)\n",
				    d->new_count - d->nr_new_chunks);
	}
	strbuf_release(&since);
	strbuf_release(&what);
}
