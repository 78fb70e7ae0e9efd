/*
 * table.h - what the census, diff and leaks reports (and trim, watch)
 * share: numbers for people ("1,234,567", "1.5 MiB", "+3 chunks"),
 * right-aligned cells with optional colour, and the JSON rows of their
 * type and size tables.
 *
 * One writer per thing, so that a count or a size looks the same in every
 * report, in text and in JSON (doc/json-output.md).
 */
#ifndef HEAPGRAB_TABLE_H
#define HEAPGRAB_TABLE_H

#include "heap/heap.h"
#include "util/compiler.h"

struct strbuf;
struct json_writer;

/*
 * Colours in text output (--color): headings bold; in diffs growth red and
 * shrink green. Only SGR sequences ("\033[...m"), so stripping them gives
 * exactly the uncoloured text (tests/out-color.sh checks).
 */
#define SGR_BOLD "\033[1m"
#define SGR_RED "\033[31m"
#define SGR_GREEN "\033[32m"
#define SGR_RESET "\033[m"
/* Append SGR when ON. */
void sgr(struct strbuf *sb, bool on, const char *sgr);
/* Red for V > 0, green for V < 0, nothing for 0 or when !ON. */
void sgr_delta(struct strbuf *sb, bool on, int64_t v);
/* Reset after sgr_delta()/sgr() (when ON and V != 0 / always). */
void sgr_end(struct strbuf *sb, bool on);

/* "1,234,567" */
void fmt_thousands(struct strbuf *sb, uint64_t v);
/* "1.2 MiB", "512 B": binary units, one decimal */
void fmt_bytes(struct strbuf *sb, uint64_t v);
/* "+1,234", "-5", "0" */
void fmt_signed_thousands(struct strbuf *sb, int64_t v);
/* "+1.5 KiB", "-512 B", "0 B" */
void fmt_signed_bytes(struct strbuf *sb, int64_t v);

/* A cell of a text table: V formatted as KIND, right-aligned in WIDTH
 * columns; signed cells red or green when COLOR and V != 0. */
enum table_cell {
	CELL_NUM,		/* fmt_thousands */
	CELL_SNUM,		/* fmt_signed_thousands */
	CELL_BYTES,		/* fmt_bytes */
	CELL_SBYTES,		/* fmt_signed_bytes */
	CELL_DASH,		/* "-" */
};
void table_cell(struct strbuf *sb, enum table_cell kind, int64_t v, size_t width, bool color);
/* The unsigned cells of a census. */
void table_num(struct strbuf *sb, uint64_t v, size_t width);
void table_bytes(struct strbuf *sb, uint64_t v, size_t width);
/* S padded with spaces to WIDTH columns, on the right (LEFT: aligned
 * left) or on the left. */
void table_pad(struct strbuf *sb, const char *s, size_t width, bool left);

/* "(N more; --top N or --format json for all)" when a table of NR rows
 * showed only TOP. */
void table_more(struct strbuf *sb, size_t nr, size_t top);
/* The text name of a chunk kind in the reports' totals ("free: tcache"). */
const char *table_kind_name(enum chunk_state k);
/* The kinds in the order of the reports' JSON "totals" (the text lists
 * them in enum order). */
extern const enum chunk_state table_json_kinds[6];

/*
 * One row of a table in JSON, its keys in this order, each where it
 * applies: "type" (ROW_TYPE) or "size" (ROW_SIZE) or neither (ROW_TOTAL:
 * a totals entry); "count_delta", "bytes_delta" (a diff); "count"
 * (unless no_count); "bytes"; "inferred": true (a type got by shape).
 */
enum table_row_kind { ROW_TYPE, ROW_SIZE, ROW_TOTAL };
struct table_row {
	enum table_row_kind kind;
	const char *type;
	uint64_t size;
	bool delta;
	int64_t count_delta, bytes_delta;
	bool no_count;
	uint64_t count, bytes;
	bool inferred;
};
void table_row_json(struct json_writer *jw, const struct table_row *r);
/* KEY: {"count": COUNT, "bytes": BYTES} in the object being written. */
void table_count_json(struct json_writer *jw, const char *key, uint64_t count,
		      uint64_t bytes);

#endif /* HEAPGRAB_TABLE_H */
