/*
 * table.c - numbers, cells and JSON rows shared by the reports (table.h).
 */
#include "config.h"
#include "output/table.h"
#include "output/json-writer.h"
#include "heap/heap.h"
#include "util/strbuf.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void sgr(struct strbuf *sb, bool on, const char *code)
{
	if (on)
		strbuf_addstr(sb, code);
}

void sgr_delta(struct strbuf *sb, bool on, int64_t v)
{
	if (on && v)
		strbuf_addstr(sb, v > 0 ? SGR_RED : SGR_GREEN);
}

void sgr_end(struct strbuf *sb, bool on)
{
	if (on)
		strbuf_addstr(sb, SGR_RESET);
}

void fmt_thousands(struct strbuf *sb, uint64_t v)
{
	char digits[32];
	int n = snprintf(digits, sizeof(digits), "%" PRIu64, v);

	for (int i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			strbuf_addch(sb, ',');
		strbuf_addch(sb, digits[i]);
	}
}

void fmt_bytes(struct strbuf *sb, uint64_t v)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double d = (double)v;
	int u = -1;

	if (v < 1024) {
		strbuf_addf(sb, "%" PRIu64 " B", v);
		return;
	}
	while (d >= 1024 && u < (int)ARRAY_SIZE(units) - 1) {
		d /= 1024;
		u++;
	}
	strbuf_addf(sb, "%.1f %s", d, units[u]);
}

/* The sign of V, then its magnitude as FMT writes it. */
static void fmt_signed(struct strbuf *sb, int64_t v, void (*fmt)(struct strbuf *, uint64_t))
{
	if (v > 0)
		strbuf_addch(sb, '+');
	else if (v < 0)
		strbuf_addch(sb, '-');
	fmt(sb, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v);
}

void fmt_signed_thousands(struct strbuf *sb, int64_t v)
{
	fmt_signed(sb, v, fmt_thousands);
}

void fmt_signed_bytes(struct strbuf *sb, int64_t v)
{
	fmt_signed(sb, v, fmt_bytes);
}

void table_pad(struct strbuf *sb, const char *s, size_t width, bool left)
{
	size_t n = strlen(s);

	if (!left)
		for (size_t i = n; i < width; i++)
			strbuf_addch(sb, ' ');
	strbuf_addstr(sb, s);
	if (left)
		for (size_t i = n; i < width; i++)
			strbuf_addch(sb, ' ');
}

void table_cell(struct strbuf *sb, enum table_cell kind, int64_t v, size_t width, bool color)
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
	color = color && (kind == CELL_SNUM || kind == CELL_SBYTES) && v;
	sgr_delta(sb, color, v);
	table_pad(sb, t.buf, width, false);
	sgr_end(sb, color);
	strbuf_release(&t);
}

void table_num(struct strbuf *sb, uint64_t v, size_t width)
{
	table_cell(sb, CELL_NUM, (int64_t)v, width, false);
}

void table_bytes(struct strbuf *sb, uint64_t v, size_t width)
{
	table_cell(sb, CELL_BYTES, (int64_t)v, width, false);
}

void table_row_json(struct json_writer *jw, const struct table_row *r)
{
	jw_object_begin(jw);
	if (r->kind == ROW_TYPE)
		jw_object_string(jw, "type", r->type);
	else if (r->kind == ROW_SIZE)
		jw_object_uint(jw, "size", r->size);
	if (r->delta) {
		if (!r->no_count)
			jw_object_int(jw, "count_delta", r->count_delta);
		jw_object_int(jw, "bytes_delta", r->bytes_delta);
	}
	if (!r->no_count)
		jw_object_uint(jw, "count", r->count);
	jw_object_uint(jw, "bytes", r->bytes);
	if (r->inferred)
		jw_object_bool(jw, "inferred", true);
	jw_object_end(jw);
}

void table_count_json(struct json_writer *jw, const char *key, uint64_t count, uint64_t bytes)
{
	jw_key(jw, key);
	table_row_json(jw, &(struct table_row){ .kind = ROW_TOTAL, .count = count,
						 .bytes = bytes });
}

void table_more(struct strbuf *sb, size_t nr, size_t top)
{
	if (nr > top)
		strbuf_addf(sb, "(%zu more; --top N or --format json for all)\n", nr - top);
}

static const char *const kind_names[CHUNK_STATE__COUNT] = {
	[CHUNK_INUSE] = "in use",
	[CHUNK_TCACHE] = "free: tcache",
	[CHUNK_FASTBIN] = "free: fastbins",
	[CHUNK_BIN] = "free: bins",
	[CHUNK_TOP] = "free: top",
	[CHUNK_MMAPPED] = "mmapped",
};

const char *table_kind_name(enum chunk_state k)
{
	return kind_names[k];
}

const enum chunk_state table_json_kinds[6] = {
	CHUNK_INUSE, CHUNK_TCACHE, CHUNK_FASTBIN, CHUNK_BIN, CHUNK_TOP, CHUNK_MMAPPED,
};
