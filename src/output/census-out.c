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
#include "output/table.h"
#include "analysis/census.h"
#include "snapshot/snapshot.h"
#include "util/strbuf.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

void census_out_json(struct strbuf *sb, const struct snapshot *s, const struct census *c,
		     const struct census_out_opts *o)
{
	struct json_writer jw = JSON_WRITER_INIT(sb);
	const struct heap_walk *w = &s->walk;

	jw_object_begin(&jw);
	jw_object_uint(&jw, "heapgrab", 1);

	jw_key(&jw, "target");
	jw_object_begin(&jw);
	jw_object_int(&jw, "pid", s->meta.pid);
	if (s->meta.ns_pid > 0)	/* known for live targets only */
		jw_object_int(&jw, "ns_pid", s->meta.ns_pid);
	jw_object_string(&jw, "exe", s->meta.exe ? s->meta.exe : "");
	jw_object_string(&jw, "glibc", s->meta.glibc);
	jw_object_uint(&jw, "threads", s->meta.nr_threads);
	jw_object_string(&jw, "libc_symbols", s->meta.libc_symbols ? s->meta.libc_symbols : "");
	jw_object_string(&jw, "memory", s->meta.memory ? s->meta.memory : "unknown");
	jw_object_end(&jw);

	jw_key(&jw, "arenas");
	jw_array_begin(&jw);
	for (size_t i = 0; i < w->nr_arenas; i++) {
		jw_object_begin(&jw);
		jw_object_addr(&jw, "address", w->arenas[i].addr);
		jw_object_bool(&jw, "main", w->arenas[i].main);
		jw_object_uint(&jw, "heaps", w->arenas[i].nr_heaps);
		jw_object_uint(&jw, "system_bytes", w->arenas[i].system_bytes);
		jw_object_end(&jw);
	}
	jw_array_end(&jw);

	jw_key(&jw, "totals");
	jw_object_begin(&jw);
	for (size_t k = 0; k < ARRAY_SIZE(table_json_kinds); k++) {
		const struct heap_count *h = &c->totals[table_json_kinds[k]];

		table_count_json(&jw, chunk_state_name(table_json_kinds[k]), h->count, h->bytes);
	}
	jw_key(&jw, "overhead");
	table_row_json(&jw, &(struct table_row){ .kind = ROW_TOTAL, .no_count = true,
						  .bytes = c->overhead });
	jw_object_end(&jw);

	jw_key(&jw, "by_size");
	jw_array_begin(&jw);
	for (size_t i = 0; i < c->nr_by_size; i++)
		table_row_json(&jw, &(struct table_row){ .kind = ROW_SIZE,
							  .size = c->by_size[i].size,
							  .count = c->by_size[i].count,
							  .bytes = c->by_size[i].bytes });
	jw_array_end(&jw);

	jw_key(&jw, "by_type");
	jw_array_begin(&jw);
	for (size_t i = 0; i < c->nr_by_type; i++) {
		const struct census_type_row *r = &c->by_type[i];

		table_row_json(&jw, &(struct table_row){ .kind = ROW_TYPE, .type = r->name,
							  .count = r->count, .bytes = r->bytes,
							  .inferred = r->inferred });
	}
	jw_array_end(&jw);
	census_out_typing_json(&jw, s, c);
	jw_object_uint(&jw, "warnings", o ? o->warnings : 0);
	jw_object_end(&jw);
	strbuf_addch(sb, '\n');
}

void census_out_typing_json(struct json_writer *jw, const struct snapshot *s,
			    const struct census *c)
{
	jw_key(jw, "typing");
	jw_object_begin(jw);
	jw_object_bool(jw, "typed", c->has_types);
	table_count_json(jw, "exact", c->typed.count, c->typed.bytes);
	table_count_json(jw, "inferred", c->inferred.count, c->inferred.bytes);
	table_count_json(jw, "untyped", c->untyped.count, c->untyped.bytes);
	jw_object_uint(jw, "conflicts", s->types ? s->types->conflicts : 0);
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

/* The count and bytes cells ending a row of the type and size tables. */
static void count_bytes_cells(struct strbuf *sb, uint64_t count, uint64_t bytes)
{
	table_num(sb, count, 14);
	strbuf_addch(sb, ' ');
	table_bytes(sb, bytes, 12);
	strbuf_addch(sb, '\n');
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
		count_bytes_cells(sb, r->count, r->bytes);
	}
	table_more(sb, c->nr_by_type, top);
}

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
	if (s->meta.ns_pid > 0 && s->meta.ns_pid != s->meta.pid)
		strbuf_addf(sb, " (pid %d in its PID namespace)", s->meta.ns_pid);
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
		strbuf_addf(sb, "%-16s ", table_kind_name((enum chunk_state)k));
		table_num(sb, c->totals[k].count, 14);
		strbuf_addch(sb, ' ');
		table_bytes(sb, c->totals[k].bytes, 12);
		strbuf_addch(sb, ' ');
		table_num(sb, c->totals[k].bytes, 16);
		strbuf_addch(sb, '\n');
	}
	strbuf_addf(sb, "%-16s %14s ", "overhead", "-");
	table_bytes(sb, c->overhead, 12);
	strbuf_addch(sb, ' ');
	table_num(sb, c->overhead, 16);
	strbuf_addch(sb, '\n');
	strbuf_addf(sb, "%-16s %14s ", "arena memory", "-");
	table_bytes(sb, c->system_bytes, 12);
	strbuf_addch(sb, ' ');
	table_num(sb, c->system_bytes, 16);
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
		table_bytes(sb, a->system_bytes, 12);
		strbuf_addstr(sb, "  in use ");
		table_bytes(sb, a->kinds[CHUNK_INUSE].bytes, 10);
		strbuf_addstr(sb, "  free ");
		table_bytes(sb, a->kinds[CHUNK_TCACHE].bytes + a->kinds[CHUNK_FASTBIN].bytes +
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
		table_num(sb, c->by_size[i].size, 12);
		strbuf_addch(sb, ' ');
		count_bytes_cells(sb, c->by_size[i].count, c->by_size[i].bytes);
	}
	table_more(sb, c->nr_by_size, top);
}
