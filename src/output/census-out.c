/*
 * census-out.c - census as text and as JSON.
 *
 * The JSON shape is a contract (doc/json-output.md): every field is present
 * even when zero, keys come in a fixed order, bytes are chunk sizes with
 * their headers. Text output has no addresses by default except the arena
 * list, and numbers carry thousands separators and binary units.
 */
#include "config.h"
#include "output/census-out.h"
#include "typing/typing.h"
#include "output/json-writer.h"
#include "analysis/census.h"
#include "snapshot/snapshot.h"
#include "util/strbuf.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const enum chunk_state json_kinds[] = {
	CHUNK_INUSE, CHUNK_TCACHE, CHUNK_FASTBIN, CHUNK_BIN, CHUNK_TOP, CHUNK_MMAPPED,
};

void census_out_json(struct strbuf *sb, const struct snapshot *s, const struct census *c,
		     const struct census_out_opts *o)
{
	struct json_writer jw = JSON_WRITER_INIT(sb);
	const struct heap_walk *w = &s->walk;

	jw_object_begin(&jw);
	jw_key(&jw, "heapgrab");
	jw_uint(&jw, 1);

	jw_key(&jw, "target");
	jw_object_begin(&jw);
	jw_key(&jw, "pid");
	jw_int(&jw, s->meta.pid);
	jw_key(&jw, "exe");
	jw_string(&jw, s->meta.exe ? s->meta.exe : "");
	jw_key(&jw, "glibc");
	jw_string(&jw, s->meta.glibc);
	jw_key(&jw, "threads");
	jw_uint(&jw, s->meta.nr_threads);
	jw_key(&jw, "libc_symbols");
	jw_string(&jw, s->meta.libc_symbols ? s->meta.libc_symbols : "");
	jw_key(&jw, "memory");
	jw_string(&jw, s->meta.memory ? s->meta.memory : "unknown");
	jw_object_end(&jw);

	jw_key(&jw, "arenas");
	jw_array_begin(&jw);
	for (size_t i = 0; i < w->nr_arenas; i++) {
		jw_object_begin(&jw);
		jw_key(&jw, "address");
		jw_addr(&jw, w->arenas[i].addr);
		jw_key(&jw, "main");
		jw_bool(&jw, w->arenas[i].main);
		jw_key(&jw, "heaps");
		jw_uint(&jw, w->arenas[i].nr_heaps);
		jw_key(&jw, "system_bytes");
		jw_uint(&jw, w->arenas[i].system_bytes);
		jw_object_end(&jw);
	}
	jw_array_end(&jw);

	jw_key(&jw, "totals");
	jw_object_begin(&jw);
	for (size_t k = 0; k < ARRAY_SIZE(json_kinds); k++) {
		const struct heap_count *h = &c->totals[json_kinds[k]];

		jw_key(&jw, chunk_state_name(json_kinds[k]));
		jw_object_begin(&jw);
		jw_key(&jw, "count");
		jw_uint(&jw, h->count);
		jw_key(&jw, "bytes");
		jw_uint(&jw, h->bytes);
		jw_object_end(&jw);
	}
	jw_key(&jw, "overhead");
	jw_object_begin(&jw);
	jw_key(&jw, "bytes");
	jw_uint(&jw, c->overhead);
	jw_object_end(&jw);
	jw_object_end(&jw);

	jw_key(&jw, "by_size");
	jw_array_begin(&jw);
	for (size_t i = 0; i < c->nr_by_size; i++) {
		jw_object_begin(&jw);
		jw_key(&jw, "size");
		jw_uint(&jw, c->by_size[i].size);
		jw_key(&jw, "count");
		jw_uint(&jw, c->by_size[i].count);
		jw_key(&jw, "bytes");
		jw_uint(&jw, c->by_size[i].bytes);
		jw_object_end(&jw);
	}
	jw_array_end(&jw);

	jw_key(&jw, "by_type");
	jw_array_begin(&jw);
	for (size_t i = 0; i < c->nr_by_type; i++) {
		const struct census_type_row *r = &c->by_type[i];

		jw_object_begin(&jw);
		jw_key(&jw, "type");
		jw_string(&jw, r->name);
		jw_key(&jw, "count");
		jw_uint(&jw, r->count);
		jw_key(&jw, "bytes");
		jw_uint(&jw, r->bytes);
		if (r->inferred) {
			jw_key(&jw, "inferred");
			jw_bool(&jw, true);
		}
		jw_object_end(&jw);
	}
	jw_array_end(&jw);
	census_out_typing_json(&jw, s, c);
	jw_key(&jw, "warnings");
	jw_uint(&jw, o ? o->warnings : 0);
	jw_object_end(&jw);
	strbuf_addch(sb, '\n');
}

static void count_json(struct json_writer *jw, const char *key, const struct heap_count *h)
{
	jw_key(jw, key);
	jw_object_begin(jw);
	jw_key(jw, "count");
	jw_uint(jw, h->count);
	jw_key(jw, "bytes");
	jw_uint(jw, h->bytes);
	jw_object_end(jw);
}

void census_out_typing_json(struct json_writer *jw, const struct snapshot *s,
			    const struct census *c)
{
	jw_key(jw, "typing");
	jw_object_begin(jw);
	jw_key(jw, "typed");
	jw_bool(jw, c->has_types);
	count_json(jw, "exact", &c->typed);
	count_json(jw, "inferred", &c->inferred);
	count_json(jw, "untyped", &c->untyped);
	jw_key(jw, "conflicts");
	jw_uint(jw, s->types ? s->types->conflicts : 0);
	jw_key(jw, "modules_without_debug_info");
	jw_array_begin(jw);
	for (size_t i = 0; s->types && i < s->types->nr_no_dwarf; i++)
		jw_string(jw, s->types->no_dwarf[i]);
	jw_array_end(jw);
	jw_object_end(jw);
}

void census_out_explain(struct strbuf *sb, const struct snapshot *s, const struct census *c,
			unsigned top)
{
	const struct typing_result *r = s->typing;

	if (!r || !r->explain || !s->types)
		return;
	if (r->nr_conflict_examples) {
		strbuf_addstr(sb, "\nfirst conflicts (the higher rank wins; doc/typing.md)\n");
		for (size_t k = 0; k < r->nr_conflict_examples; k++)
			strbuf_addf(sb, "  %s\n", r->conflict_examples[k]);
	}
	strbuf_addstr(sb, "\nhow the largest types were reached (one chunk each, root last)\n");
	for (size_t k = 0; k < c->nr_by_type && k < top; k++) {
		const struct census_type_row *row = &c->by_type[k];

		if (row->untyped)
			continue;
		size_t best = SIZE_MAX;

		/* the shortest explanation: the chunk closest to its root */
		for (size_t i = 0; i < s->walk.nr_chunks && i < r->nr_explain; i++) {
			uint32_t t = s->types->of_chunk[i];

			if (t == SNAPSHOT_UNTYPED || strcmp(s->types->names[t], row->name) ||
			    !!(s->types->flags[i] & SNAPSHOT_TYPE_INFERRED) != row->inferred ||
			    !r->explain[i])
				continue;
			if (best == SIZE_MAX || strlen(r->explain[i]) < strlen(r->explain[best]))
				best = i;
		}
		if (best != SIZE_MAX)
			strbuf_addf(sb, "  0x%llx: %s\n",
				    (unsigned long long)s->walk.chunks[best].addr + 16,
				    r->explain[best]);
	}
}

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

/* Append S padded on the left to WIDTH columns. */
static void pad_left(struct strbuf *sb, const struct strbuf *s, size_t width)
{
	for (size_t i = s->len; i < width; i++)
		strbuf_addch(sb, ' ');
	strbuf_addstr(sb, s->buf);
}

static void num_cell(struct strbuf *sb, uint64_t v, size_t width)
{
	struct strbuf t = STRBUF_INIT;

	fmt_thousands(&t, v);
	pad_left(sb, &t, width);
	strbuf_release(&t);
}

static void bytes_cell(struct strbuf *sb, uint64_t v, size_t width)
{
	struct strbuf t = STRBUF_INIT;

	fmt_bytes(&t, v);
	pad_left(sb, &t, width);
	strbuf_release(&t);
}

static void percent(struct strbuf *sb, uint64_t part, uint64_t whole)
{
	strbuf_addf(sb, "%.1f%%", whole ? 100.0 * (double)part / (double)whole : 100.0);
}

void census_out_types_text(struct strbuf *sb, const struct snapshot *s,
			   const struct census *c, unsigned top, bool color)
{
	uint64_t live = c->typed.bytes + c->inferred.bytes + c->untyped.bytes;
	size_t width = 24;

	strbuf_addstr(sb, "\ntyped: ");
	percent(sb, c->typed.bytes + c->inferred.bytes, live);
	strbuf_addstr(sb, " of live bytes (exact ");
	percent(sb, c->typed.bytes, live);
	strbuf_addstr(sb, ", inferred ");
	percent(sb, c->inferred.bytes, live);
	strbuf_addf(sb, "), %llu conflict%s", (unsigned long long)s->types->conflicts,
		    s->types->conflicts == 1 ? "" : "s");
	if (s->types->nr_no_dwarf)
		strbuf_addf(sb, "; %zu module%s without debug info", s->types->nr_no_dwarf,
			    s->types->nr_no_dwarf == 1 ? "" : "s");
	strbuf_addch(sb, '\n');
	for (size_t i = 0; i < c->nr_by_type && i < top; i++)
		if (strlen(c->by_type[i].name) + 2 > width)
			width = strlen(c->by_type[i].name) + 2;
	if (width > 60)
		width = 60;
	strbuf_addch(sb, '\n');
	sgr(sb, color, SGR_BOLD);
	strbuf_addf(sb, "largest types (live chunks, by bytes; %zu rows; ~ = inferred)\n",
		    c->nr_by_type);
	strbuf_addf(sb, "%-*s %14s %12s", (int)width, "type", "count", "bytes");
	sgr_end(sb, color);
	strbuf_addch(sb, '\n');
	for (size_t i = 0; i < c->nr_by_type && i < top; i++) {
		const struct census_type_row *r = &c->by_type[i];

		strbuf_addf(sb, "%s%-*s ", r->inferred ? "~" : "",
			    (int)(r->inferred ? width - 1 : width), r->name);
		num_cell(sb, r->count, 14);
		strbuf_addch(sb, ' ');
		bytes_cell(sb, r->bytes, 12);
		strbuf_addch(sb, '\n');
	}
	if (c->nr_by_type > top)
		strbuf_addf(sb, "(%zu more; --top N or --format json for all)\n",
			    c->nr_by_type - top);
}

static const char *const text_names[CHUNK_STATE__COUNT] = {
	[CHUNK_INUSE] = "in use",
	[CHUNK_TCACHE] = "free: tcache",
	[CHUNK_FASTBIN] = "free: fastbins",
	[CHUNK_BIN] = "free: bins",
	[CHUNK_TOP] = "free: top",
	[CHUNK_MMAPPED] = "mmapped",
};

void census_out_text(struct strbuf *sb, const struct snapshot *s, const struct census *c,
		     const struct census_out_opts *o)
{
	const struct heap_walk *w = &s->walk;
	unsigned top = o && o->top ? o->top : 20;
	uint64_t live_count = c->totals[CHUNK_INUSE].count + c->totals[CHUNK_MMAPPED].count;
	uint64_t live_bytes = c->totals[CHUNK_INUSE].bytes + c->totals[CHUNK_MMAPPED].bytes;
	bool color = o && o->color;

	sgr(sb, color, SGR_BOLD);
	strbuf_addf(sb, "process %d", s->meta.pid);
	if (s->meta.exe)
		strbuf_addf(sb, " (%s)", s->meta.exe);
	strbuf_addf(sb, ", glibc %s, libc symbols from %s, %zu thread%s", s->meta.glibc,
		    s->meta.libc_symbols, s->meta.nr_threads, s->meta.nr_threads == 1 ? "" : "s");
	sgr_end(sb, color);
	strbuf_addch(sb, '\n');
	strbuf_addstr(sb, "live: ");
	fmt_bytes(sb, live_bytes);
	strbuf_addstr(sb, " in ");
	fmt_thousands(sb, live_count);
	strbuf_addstr(sb, " chunks\n\n");

	sgr(sb, color, SGR_BOLD);
	strbuf_addf(sb, "%-16s %14s %12s %16s", "kind", "chunks", "bytes", "");
	sgr_end(sb, color);
	strbuf_addch(sb, '\n');
	for (int k = 0; k < CHUNK_STATE__COUNT; k++) {
		strbuf_addf(sb, "%-16s ", text_names[k]);
		num_cell(sb, c->totals[k].count, 14);
		strbuf_addch(sb, ' ');
		bytes_cell(sb, c->totals[k].bytes, 12);
		strbuf_addch(sb, ' ');
		num_cell(sb, c->totals[k].bytes, 16);
		strbuf_addch(sb, '\n');
	}
	strbuf_addf(sb, "%-16s %14s ", "overhead", "-");
	bytes_cell(sb, c->overhead, 12);
	strbuf_addch(sb, ' ');
	num_cell(sb, c->overhead, 16);
	strbuf_addch(sb, '\n');
	strbuf_addf(sb, "%-16s %14s ", "arena memory", "-");
	bytes_cell(sb, c->system_bytes, 12);
	strbuf_addch(sb, ' ');
	num_cell(sb, c->system_bytes, 16);
	strbuf_addch(sb, '\n');

	strbuf_addch(sb, '\n');
	sgr(sb, color, SGR_BOLD);
	strbuf_addf(sb, "arenas: %zu", w->nr_arenas);
	sgr_end(sb, color);
	strbuf_addch(sb, '\n');
	for (size_t i = 0; i < w->nr_arenas; i++) {
		const struct heap_arena *a = &w->arenas[i];

		if (o && o->addresses)
			strbuf_addf(sb, "  0x%012" PRIx64 " ", a->addr);
		if (a->main)
			strbuf_addstr(sb, "  main    ");
		else
			strbuf_addf(sb, "  arena %-3zu", i);
		strbuf_addf(sb, " %3u heap%s ", a->nr_heaps, a->nr_heaps == 1 ? " " : "s");
		bytes_cell(sb, a->system_bytes, 12);
		strbuf_addstr(sb, "  in use ");
		bytes_cell(sb, a->kinds[CHUNK_INUSE].bytes, 10);
		strbuf_addstr(sb, "  free ");
		bytes_cell(sb, a->kinds[CHUNK_TCACHE].bytes + a->kinds[CHUNK_FASTBIN].bytes +
			       a->kinds[CHUNK_BIN].bytes + a->kinds[CHUNK_TOP].bytes, 10);
		strbuf_addch(sb, '\n');
	}

	if (c->has_types)
		census_out_types_text(sb, s, c, top, color);
	strbuf_addch(sb, '\n');
	sgr(sb, color, SGR_BOLD);
	strbuf_addf(sb, "largest size classes (live chunks, by bytes; %zu classes)\n",
		    c->nr_by_size);
	strbuf_addf(sb, "%12s %14s %12s", "chunk size", "count", "bytes");
	sgr_end(sb, color);
	strbuf_addch(sb, '\n');
	for (size_t i = 0; i < c->nr_by_size && i < top; i++) {
		num_cell(sb, c->by_size[i].size, 12);
		strbuf_addch(sb, ' ');
		num_cell(sb, c->by_size[i].count, 14);
		strbuf_addch(sb, ' ');
		bytes_cell(sb, c->by_size[i].bytes, 12);
		strbuf_addch(sb, '\n');
	}
	if (c->nr_by_size > top)
		strbuf_addf(sb, "(%zu more; --top N or --format json for all)\n",
			    c->nr_by_size - top);
}
