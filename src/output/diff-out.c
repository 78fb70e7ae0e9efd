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
#include "analysis/diff.h"
#include "snapshot/snapshot.h"
#include "util/strbuf.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const enum chunk_state json_kinds[] = {
	CHUNK_INUSE, CHUNK_TCACHE, CHUNK_FASTBIN, CHUNK_BIN, CHUNK_TOP, CHUNK_MMAPPED,
};

static void json_value(struct json_writer *jw, const struct diff_value *v, bool counts)
{
	jw_object_begin(jw);
	if (counts) {
		jw_key(jw, "count_delta");
		jw_int(jw, v->count_delta);
	}
	jw_key(jw, "bytes_delta");
	jw_int(jw, v->bytes_delta);
	if (counts) {
		jw_key(jw, "count");
		jw_uint(jw, v->count);
	}
	jw_key(jw, "bytes");
	jw_uint(jw, v->bytes);
	jw_object_end(jw);
}

void diff_out_json(struct strbuf *sb, const struct diff *d, const struct diff_out_opts *o)
{
	struct json_writer jw = JSON_WRITER_INIT(sb);

	jw_object_begin(&jw);
	jw_key(&jw, "heapgrab");
	jw_uint(&jw, 1);
	jw_key(&jw, "totals");
	jw_object_begin(&jw);
	for (size_t k = 0; k < ARRAY_SIZE(json_kinds); k++) {
		jw_key(&jw, chunk_state_name(json_kinds[k]));
		json_value(&jw, &d->totals[json_kinds[k]], true);
	}
	jw_key(&jw, "overhead");
	json_value(&jw, &d->overhead, false);
	jw_object_end(&jw);

	jw_key(&jw, "by_type");
	jw_array_begin(&jw);
	for (size_t i = 0; i < d->nr_by_type; i++) {
		const struct diff_type_row *r = &d->by_type[i];

		jw_object_begin(&jw);
		jw_key(&jw, "type");
		jw_string(&jw, r->name);
		jw_key(&jw, "count_delta");
		jw_int(&jw, r->v.count_delta);
		jw_key(&jw, "bytes_delta");
		jw_int(&jw, r->v.bytes_delta);
		jw_key(&jw, "count");
		jw_uint(&jw, r->v.count);
		jw_key(&jw, "bytes");
		jw_uint(&jw, r->v.bytes);
		if (r->inferred) {
			jw_key(&jw, "inferred");
			jw_bool(&jw, true);
		}
		jw_object_end(&jw);
	}
	jw_array_end(&jw);

	jw_key(&jw, "by_size");
	jw_array_begin(&jw);
	for (size_t i = 0; i < d->nr_by_size; i++) {
		const struct diff_size_row *r = &d->by_size[i];

		jw_object_begin(&jw);
		jw_key(&jw, "size");
		jw_uint(&jw, r->size);
		jw_key(&jw, "count_delta");
		jw_int(&jw, r->v.count_delta);
		jw_key(&jw, "bytes_delta");
		jw_int(&jw, r->v.bytes_delta);
		jw_key(&jw, "count");
		jw_uint(&jw, r->v.count);
		jw_key(&jw, "bytes");
		jw_uint(&jw, r->v.bytes);
		jw_object_end(&jw);
	}
	jw_array_end(&jw);

	if (o && o->list_new) {
		jw_key(&jw, "new_chunks");
		jw_object_begin(&jw);
		jw_key(&jw, "count");
		jw_uint(&jw, d->new_count);
		jw_key(&jw, "bytes");
		jw_uint(&jw, d->new_bytes);
		jw_key(&jw, "survived_count");
		jw_uint(&jw, d->survived_count);
		jw_key(&jw, "survived_bytes");
		jw_uint(&jw, d->survived_bytes);
		jw_key(&jw, "chunks");
		jw_array_begin(&jw);
		for (size_t i = 0; i < d->nr_new_chunks; i++) {
			jw_object_begin(&jw);
			jw_key(&jw, "address");
			jw_addr(&jw, d->new_chunks[i].addr);
			jw_key(&jw, "size");
			jw_uint(&jw, d->new_chunks[i].size);
			jw_object_end(&jw);
		}
		jw_array_end(&jw);
		jw_object_end(&jw);
	}
	jw_object_end(&jw);
	strbuf_addch(sb, '\n');
}

void fmt_signed_thousands(struct strbuf *sb, int64_t v)
{
	if (v > 0)
		strbuf_addch(sb, '+');
	else if (v < 0)
		strbuf_addch(sb, '-');
	fmt_thousands(sb, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v);
}

void fmt_signed_bytes(struct strbuf *sb, int64_t v)
{
	if (v > 0)
		strbuf_addch(sb, '+');
	else if (v < 0)
		strbuf_addch(sb, '-');
	fmt_bytes(sb, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v);
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

static void pad_left(struct strbuf *sb, const struct strbuf *s, size_t width)
{
	for (size_t i = s->len; i < width; i++)
		strbuf_addch(sb, ' ');
	strbuf_addstr(sb, s->buf);
}

enum cell { CELL_NUM, CELL_SNUM, CELL_BYTES, CELL_SBYTES, CELL_DASH };

static void cell(struct strbuf *sb, enum cell kind, int64_t v, size_t width, bool color)
{
	struct strbuf t = STRBUF_INIT;

	switch (kind) {
	case CELL_NUM:
		fmt_thousands(&t, (uint64_t)v);
		break;
	case CELL_SNUM:
		fmt_signed_thousands(&t, v);
		break;
	case CELL_BYTES:
		fmt_bytes(&t, (uint64_t)v);
		break;
	case CELL_SBYTES:
		fmt_signed_bytes(&t, v);
		break;
	case CELL_DASH:
		strbuf_addch(&t, '-');
		break;
	}
	strbuf_addch(sb, ' ');
	color = color && (kind == CELL_SNUM || kind == CELL_SBYTES) && v;
	sgr_delta(sb, color, v);
	pad_left(sb, &t, width);
	sgr_end(sb, color);
	strbuf_release(&t);
}

static const char *const text_names[CHUNK_STATE__COUNT] = {
	[CHUNK_INUSE] = "in use",
	[CHUNK_TCACHE] = "free: tcache",
	[CHUNK_FASTBIN] = "free: fastbins",
	[CHUNK_BIN] = "free: bins",
	[CHUNK_TOP] = "free: top",
	[CHUNK_MMAPPED] = "mmapped",
};

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
	struct strbuf since = STRBUF_INIT;
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

		strbuf_addf(sb, "%-16s", text_names[k]);
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

			sgr_delta(sb, color, r->v.bytes_delta);
			fmt_signed_thousands(sb, r->v.count_delta);
			strbuf_addf(sb, " %s%s, ", r->inferred ? "~" : "", r->name);
			fmt_signed_bytes(sb, r->v.bytes_delta);
			strbuf_addf(sb, " %s (now ", since.buf);
			fmt_thousands(sb, r->v.count);
			strbuf_addch(sb, ')');
			sgr_end(sb, color && r->v.bytes_delta);
			strbuf_addch(sb, '\n');
		}
		if (d->nr_by_type > top)
			strbuf_addf(sb, "(%zu more; --top N or --format json for all)\n",
				    d->nr_by_type - top);
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

		sgr_delta(sb, color, r->v.bytes_delta);
		fmt_signed_thousands(sb, r->v.count_delta);
		strbuf_addf(sb, " chunk%s of ", r->v.count_delta == 1 ||
			    r->v.count_delta == -1 ? "" : "s");
		fmt_thousands(sb, r->size);
		strbuf_addstr(sb, " bytes, ");
		fmt_signed_bytes(sb, r->v.bytes_delta);
		strbuf_addf(sb, " %s (now ", since.buf);
		fmt_thousands(sb, r->v.count);
		strbuf_addch(sb, ')');
		sgr_end(sb, color && r->v.bytes_delta);
		strbuf_addch(sb, '\n');
	}
	if (d->nr_by_size > top)
		strbuf_addf(sb, "(%zu more; --top N or --format json for all)\n",
			    d->nr_by_size - top);
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
}
