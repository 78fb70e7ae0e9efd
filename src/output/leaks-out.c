/*
 * leaks-out.c - leaks, why and retained sizes for people and for scripts.
 *
 * JSON follows doc/json-output.md: every field present even when zero or
 * empty, keys in a fixed order, addresses as "0x..." strings of the
 * pointer the program holds (chunk + 16), bytes as chunk sizes with their
 * headers. Text: tables like the census's (thousands separators, binary
 * units), no addresses unless asked (-v), except in why, whose subject is
 * an address. Rows are sorted by a total order so output is deterministic:
 * bytes descending, then count descending, then name or address.
 */
#include "config.h"
#include "output/leaks-out.h"
#include "output/census-out.h"
#include "output/json-writer.h"
#include "output/table.h"
#include "analysis/dominator.h"
#include "analysis/graph.h"
#include "analysis/leaks.h"
#include "roots/roots.h"
#include "analysis/why.h"
#include "snapshot/snapshot.h"
#include "target/target.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_EXAMPLES 10
#define DEFAULT_RETAINED_ROWS 20
#define MAX_TEXT_REFERRERS 20

static const char *node_type(const struct heap_graph *g, uint32_t n)
{
	const char *t = snapshot_chunk_type(g->snap, g->chunk[n]);

	return t ? t : "untyped";
}

static void header(struct strbuf *sb, const struct snapshot *s)
{
	strbuf_addf(sb, "process %d", s->meta.pid);
	if (s->meta.exe)
		strbuf_addf(sb, " (%s)", s->meta.exe);
	strbuf_addf(sb, ", glibc %s, %zu thread%s\n", s->meta.glibc, s->meta.nr_threads,
		    s->meta.nr_threads == 1 ? "" : "s");
}

/* ---- leaks ---- */

void leaks_out_json(struct strbuf *sb, const struct heap_graph *g, const struct leak_report *r,
		    const struct leaks_out_opts *o)
{
	struct json_writer jw = JSON_WRITER_INIT(sb);
	size_t nex = o && o->top ? o->top : DEFAULT_EXAMPLES;

	jw_object_begin(&jw);
	jw_object_uint(&jw, "heapgrab", 1);
	table_count_json(&jw, "leaked", r->leaked.count, r->leaked.bytes);
	table_count_json(&jw, "leak_roots", r->leak_roots.count, r->leak_roots.bytes);
	table_count_json(&jw, "possibly_leaked", r->possibly.count, r->possibly.bytes);
	jw_key(&jw, "by_type");
	jw_array_begin(&jw);
	for (size_t i = 0; i < r->nr_by_type; i++)
		table_row_json(&jw, &(struct table_row){ .kind = ROW_TYPE,
							  .type = r->by_type[i].type,
							  .count = r->by_type[i].count,
							  .bytes = r->by_type[i].bytes,
							  .inferred = r->by_type[i].inferred });
	jw_array_end(&jw);
	jw_key(&jw, "examples");
	jw_array_begin(&jw);
	for (size_t i = 0; i < r->nr_heads && i < nex; i++) {
		uint32_t n = r->heads[i];

		jw_object_begin(&jw);
		jw_object_addr(&jw, "address", g->start[n]);
		jw_object_uint(&jw, "size", heap_graph_size(g, n));
		jw_object_string(&jw, "type", node_type(g, n));
		jw_object_end(&jw);
	}
	jw_array_end(&jw);
	jw_object_end(&jw);
	strbuf_addch(sb, '\n');
}

static void count_line(struct strbuf *sb, const char *what, const struct heap_count *c)
{
	table_pad(sb, what, 17, true);
	table_num(sb, c->count, 12);
	strbuf_addstr(sb, " chunks ");
	table_bytes(sb, c->bytes, 11);
}

void leaks_out_text(struct strbuf *sb, const struct heap_graph *g, const struct leak_report *r,
		    const struct leaks_out_opts *o)
{
	size_t top = o && o->top ? o->top : DEFAULT_EXAMPLES;

	header(sb, g->snap);
	count_line(sb, "leaked", &r->leaked);
	strbuf_addstr(sb, "  (");
	fmt_thousands(sb, r->leak_roots.count);
	strbuf_addf(sb, " leak root%s: ", r->leak_roots.count == 1 ? "" : "s");
	fmt_bytes(sb, r->leak_roots.bytes);
	strbuf_addstr(sb, ")\n");
	count_line(sb, "possibly leaked", &r->possibly);
	strbuf_addstr(sb, "  (reached only through interior pointers)\n");
	count_line(sb, "reachable", &r->reachable);
	strbuf_addstr(sb, "\nbytes are chunk sizes with their headers, as in the census\n");

	if (!r->leaked.count)
		return;
	strbuf_addf(sb, "\nleaked by type (%zu type%s; ~ = inferred from its shape)\n",
		    r->nr_by_type, r->nr_by_type == 1 ? "" : "s");
	strbuf_addf(sb, "%12s %12s  %s\n", "count", "bytes", "type");
	for (size_t i = 0; i < r->nr_by_type && i < top; i++) {
		table_num(sb, r->by_type[i].count, 12);
		strbuf_addch(sb, ' ');
		table_bytes(sb, r->by_type[i].bytes, 12);
		strbuf_addf(sb, "  %s%s\n", r->by_type[i].inferred ? "~" : "", r->by_type[i].type);
	}
	table_more(sb, r->nr_by_type, top);

	strbuf_addf(sb, "\nlargest leak roots (heads of leaked structures; %zu of ",
		    MIN(top, r->nr_heads));
	fmt_thousands(sb, r->nr_heads);
	strbuf_addstr(sb, ")\n");
	strbuf_addf(sb, "%12s  %s\n", "size", o && o->addresses ? "type, address" : "type");
	for (size_t i = 0; i < r->nr_heads && i < top; i++) {
		uint32_t n = r->heads[i];

		table_bytes(sb, heap_graph_size(g, n), 12);
		strbuf_addf(sb, "  %s", node_type(g, n));
		if (o && o->addresses)
			strbuf_addf(sb, " @0x%" PRIx64, g->start[n]);
		strbuf_addch(sb, '\n');
	}
	if (!(o && o->addresses))
		strbuf_addstr(sb, "(addresses with -v or --format json; "
			      "then: heapgrab why ADDR ...)\n");
}

/* ---- why ---- */

static const char *state_name(enum leak_state s)
{
	switch (s) {
	case LEAK_REACHABLE:
		return "reachable";
	case LEAK_POSSIBLY:
		return "possibly_leaked";
	case LEAK_LEAKED:
		return "leaked";
	}
	return "?";
}

/* rsp of thread TID in the image, or 0 */
static taddr_t thread_sp(const struct heap_graph *g, int tid)
{
	for (size_t i = 0; i < g->image->nr_threads; i++)
		if (g->image->threads[i].tid == tid)
			return g->image->threads[i].regs.rsp;
	return 0;
}

static bool member(const struct heap_graph *g, const struct why_hooks *hooks, uint32_t n,
		   int64_t offset, struct strbuf *out)
{
	if (offset < 0 || !hooks || !hooks->member_name)
		return false;
	return hooks->member_name(hooks->data, g->snap, g->chunk[n], (uint64_t)offset, out);
}

void why_out_json(struct strbuf *sb, const struct heap_graph *g, taddr_t addr,
		  const struct why_result *w, const struct why_hooks *hooks)
{
	struct json_writer jw = JSON_WRITER_INIT(sb);
	struct strbuf m = STRBUF_INIT;
	uint32_t n = w->node;

	jw_object_begin(&jw);
	jw_object_uint(&jw, "heapgrab", 1);
	jw_object_addr(&jw, "address", addr);
	jw_key(&jw, "chunk");
	jw_object_begin(&jw);
	jw_object_addr(&jw, "address", g->start[n]);
	jw_object_uint(&jw, "size", heap_graph_size(g, n));
	jw_object_string(&jw, "type", node_type(g, n));
	jw_object_end(&jw);
	jw_object_int(&jw, "offset", (int64_t)(addr - g->start[n]));
	jw_object_string(&jw, "state", state_name(w->state));
	jw_key(&jw, "path");
	jw_array_begin(&jw);
	for (size_t i = 0; i < w->nr_path; i++) {
		const struct why_step *st = &w->path[i];

		jw_object_begin(&jw);
		if (st->node == GRAPH_NONE) {
			const struct graph_root *r = &g->roots[st->root];

			jw_object_string(&jw, "root", r->name);
			jw_object_string(&jw, "kind", root_kind_name(r->kind));
			jw_key(&jw, "thread");
			if (r->tid)
				jw_int(&jw, r->tid);
			else
				jw_string(&jw, NULL);
			jw_key(&jw, "slot");
			if (r->kind == ROOT_REGISTER)
				jw_string(&jw, NULL);
			else
				jw_addr(&jw, st->slot);
			jw_key(&jw, "register");
			jw_string(&jw, r->kind == ROOT_REGISTER ?
				  root_register_name((unsigned)st->slot) : NULL);
		} else {
			jw_object_addr(&jw, "address", g->start[st->node]);
			jw_object_uint(&jw, "size", heap_graph_size(g, st->node));
			jw_object_string(&jw, "type", node_type(g, st->node));
			jw_object_bool(&jw, "interior", st->interior);
			jw_key(&jw, "pointer_offset");
			if (st->offset >= 0)
				jw_uint(&jw, (uint64_t)st->offset);
			else
				jw_string(&jw, NULL);
			jw_key(&jw, "member");
			strbuf_reset(&m);
			jw_string(&jw, member(g, hooks, st->node, st->offset, &m) ? m.buf : NULL);
		}
		jw_object_end(&jw);
	}
	jw_array_end(&jw);
	jw_key(&jw, "pointed_to_by");
	jw_array_begin(&jw);
	for (size_t i = 0; i < w->nr_referrers; i++) {
		uint32_t k = w->referrers[i];
		int64_t off = heap_graph_edge_offset(g, k, n);

		jw_object_begin(&jw);
		jw_object_addr(&jw, "address", g->start[k]);
		jw_object_uint(&jw, "size", heap_graph_size(g, k));
		jw_object_string(&jw, "type", node_type(g, k));
		jw_key(&jw, "pointer_offset");
		if (off >= 0)
			jw_uint(&jw, (uint64_t)off);
		else
			jw_string(&jw, NULL);
		jw_object_end(&jw);
	}
	jw_array_end(&jw);
	jw_object_end(&jw);
	strbuf_addch(sb, '\n');
	strbuf_release(&m);
}

static void chunk_text(struct strbuf *sb, const struct heap_graph *g, uint32_t n)
{
	strbuf_addf(sb, "%s @0x%" PRIx64 " (", node_type(g, n), g->start[n]);
	fmt_thousands(sb, heap_graph_size(g, n));
	strbuf_addstr(sb, " bytes)");
}

static void offset_text(struct strbuf *sb, const struct heap_graph *g, const struct why_hooks *hooks,
			uint32_t n, int64_t off)
{
	struct strbuf m = STRBUF_INIT;

	if (member(g, hooks, n, off, &m))
		strbuf_addf(sb, " %s", m.buf);
	else if (off >= 0)
		strbuf_addf(sb, " +0x%" PRIx64, (uint64_t)off);
	strbuf_release(&m);
}

void why_out_text(struct strbuf *sb, const struct heap_graph *g, taddr_t addr,
		  const struct why_result *w, const struct why_hooks *hooks)
{
	uint32_t n = w->node;
	int64_t into = (int64_t)(addr - g->start[n]);

	strbuf_addf(sb, "0x%" PRIx64 " is ", addr);
	if (into)
		strbuf_addf(sb, "%s0x%" PRIx64 " into ", into < 0 ? "-" : "+",
			    (uint64_t)(into < 0 ? -into : into));
	strbuf_addstr(sb, "the chunk ");
	chunk_text(sb, g, n);
	switch (w->state) {
	case LEAK_REACHABLE:
		strbuf_addstr(sb, ": reachable\n");
		break;
	case LEAK_POSSIBLY:
		strbuf_addstr(sb, ": possibly leaked (reached only through interior pointers)\n");
		break;
	case LEAK_LEAKED:
		strbuf_addstr(sb, ": unreachable (leaked)\n");
		break;
	}
	for (size_t i = 0; i < w->nr_path; i++) {
		const struct why_step *st = &w->path[i];

		if (st->node == GRAPH_NONE) {
			const struct graph_root *r = &g->roots[st->root];

			strbuf_addf(sb, "  %s", r->name);
			if (r->kind == ROOT_STACK) {
				taddr_t sp = thread_sp(g, r->tid);

				strbuf_addf(sb, " [0x%" PRIx64, st->slot);
				if (sp)
					strbuf_addf(sb, ", sp%s0x%" PRIx64, st->slot >= sp ? "+" : "-",
						    st->slot >= sp ? st->slot - sp : sp - st->slot);
				strbuf_addstr(sb, "]");
			} else if (r->kind != ROOT_REGISTER) {
				strbuf_addf(sb, " [0x%" PRIx64 "]", st->slot);
			}
			strbuf_addch(sb, '\n');
			continue;
		}
		strbuf_addstr(sb, "  -> ");
		chunk_text(sb, g, st->node);
		if (st->interior)
			strbuf_addstr(sb, " (interior pointer)");
		offset_text(sb, g, hooks, st->node, st->offset);
		strbuf_addch(sb, '\n');
	}
	if (w->state != LEAK_LEAKED)
		return;
	if (!w->nr_referrers) {
		strbuf_addstr(sb, "no chunk points to it: it is the head of a leak\n");
		return;
	}
	strbuf_addf(sb, "pointed to by %zu leaked chunk%s:\n", w->nr_referrers,
		    w->nr_referrers == 1 ? "" : "s");
	for (size_t i = 0; i < w->nr_referrers && i < MAX_TEXT_REFERRERS; i++) {
		uint32_t k = w->referrers[i];

		strbuf_addstr(sb, "  ");
		chunk_text(sb, g, k);
		offset_text(sb, g, hooks, k, heap_graph_edge_offset(g, k, n));
		strbuf_addch(sb, '\n');
	}
	if (w->nr_referrers > MAX_TEXT_REFERRERS)
		strbuf_addf(sb, "  (%zu more; --format json for all)\n",
			    w->nr_referrers - MAX_TEXT_REFERRERS);
}

/* ---- retained ---- */

struct ret_row {
	uint32_t v;		/* vertex */
	uint64_t bytes;
	uint32_t count;
};

static int ret_row_cmp(const struct ret_row *x, const struct ret_row *y)
{
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->v < y->v ? -1 : x->v > y->v;
}

/* Keep the TOP best rows of a stream in ROWS (sorted). */
static void keep_top(struct ret_row *rows, size_t *nr, size_t top, const struct ret_row *r)
{
	size_t i;

	if (*nr == top && ret_row_cmp(r, &rows[top - 1]) >= 0)
		return;
	i = *nr < top ? (*nr)++ : top - 1;
	while (i > 0 && ret_row_cmp(r, &rows[i - 1]) < 0) {
		rows[i] = rows[i - 1];
		i--;
	}
	rows[i] = *r;
}

struct retained_view {
	struct ret_row *roots, *chunks;
	size_t nr_roots, nr_chunks;
	size_t roots_holding;		/* roots that retain anything */
	uint64_t shared_bytes, shared_count;
	uint64_t top_level;		/* chunks right below a root or shared */
};

static void retained_view(const struct heap_graph *g, const struct retained *r, size_t top,
			  struct retained_view *v)
{
	memset(v, 0, sizeof(*v));
	v->roots = xcalloc(MAX(1, MIN(top, g->nr_roots)), sizeof(*v->roots));
	v->chunks = xcalloc(MAX(1, MIN(top, g->nr_nodes)), sizeof(*v->chunks));
	for (size_t i = 0; i < g->nr_roots; i++) {
		uint32_t x = retained_root_vertex(r, i);
		struct ret_row row = { x, r->bytes[x], r->count[x] };

		if (!row.count)
			continue;
		v->roots_holding++;
		keep_top(v->roots, &v->nr_roots, MIN(top, g->nr_roots), &row);
	}
	for (uint32_t n = 0; n < g->nr_nodes; n++) {
		uint32_t x = retained_node_vertex(r, n), d = r->idom[x];
		struct ret_row row = { x, r->bytes[x], r->count[x] };

		if (d == GRAPH_NONE || d > g->nr_roots)
			continue;	/* unreachable, or below another chunk */
		v->top_level++;
		if (d == RETAINED_SUPER) {
			v->shared_bytes += row.bytes;
			v->shared_count += row.count;
		}
		keep_top(v->chunks, &v->nr_chunks, MIN(top, g->nr_nodes), &row);
	}
}

static void retained_view_release(struct retained_view *v)
{
	free(v->roots);
	free(v->chunks);
}

static const char *held_by(const struct heap_graph *g, const struct retained *r, uint32_t x)
{
	uint32_t d = r->idom[x];

	return d == RETAINED_SUPER || d == GRAPH_NONE ? NULL : g->roots[d - 1].name;
}

void retained_out_json(struct strbuf *sb, const struct heap_graph *g, const struct retained *r,
		       const struct retained_out_opts *o)
{
	struct json_writer jw = JSON_WRITER_INIT(sb);
	size_t top = o && o->top ? o->top : DEFAULT_RETAINED_ROWS;
	struct retained_view v;

	retained_view(g, r, top, &v);
	jw_object_begin(&jw);
	jw_object_uint(&jw, "heapgrab", 1);
	table_count_json(&jw, "reachable", r->count[RETAINED_SUPER], r->bytes[RETAINED_SUPER]);
	table_count_json(&jw, "shared", v.shared_count, v.shared_bytes);
	jw_key(&jw, "roots");
	jw_array_begin(&jw);
	for (size_t i = 0; i < v.nr_roots; i++) {
		const struct graph_root *gr = &g->roots[v.roots[i].v - 1];

		jw_object_begin(&jw);
		jw_object_string(&jw, "root", gr->name);
		jw_object_string(&jw, "kind", root_kind_name(gr->kind));
		jw_object_uint(&jw, "count", v.roots[i].count);
		jw_object_uint(&jw, "bytes", v.roots[i].bytes);
		jw_object_end(&jw);
	}
	jw_array_end(&jw);
	jw_key(&jw, "chunks");
	jw_array_begin(&jw);
	for (size_t i = 0; i < v.nr_chunks; i++) {
		uint32_t x = v.chunks[i].v, n = x - 1 - (uint32_t)g->nr_roots;

		jw_object_begin(&jw);
		jw_object_addr(&jw, "address", g->start[n]);
		jw_object_uint(&jw, "size", heap_graph_size(g, n));
		jw_object_string(&jw, "type", node_type(g, n));
		jw_object_uint(&jw, "count", v.chunks[i].count);
		jw_object_uint(&jw, "bytes", v.chunks[i].bytes);
		jw_object_string(&jw, "held_by", held_by(g, r, x));
		jw_object_end(&jw);
	}
	jw_array_end(&jw);
	jw_object_end(&jw);
	strbuf_addch(sb, '\n');
	retained_view_release(&v);
}

void retained_out_text(struct strbuf *sb, const struct heap_graph *g, const struct retained *r,
		       const struct retained_out_opts *o)
{
	size_t top = o && o->top ? o->top : DEFAULT_RETAINED_ROWS;
	struct retained_view v;

	retained_view(g, r, top, &v);
	header(sb, g->snap);
	strbuf_addstr(sb, "reachable: ");
	fmt_bytes(sb, r->bytes[RETAINED_SUPER]);
	strbuf_addstr(sb, " in ");
	fmt_thousands(sb, r->count[RETAINED_SUPER]);
	strbuf_addf(sb, " chunks from %zu root%s; shared by several roots: ", v.roots_holding,
		    v.roots_holding == 1 ? "" : "s");
	fmt_bytes(sb, v.shared_bytes);
	strbuf_addstr(sb, " in ");
	fmt_thousands(sb, v.shared_count);
	strbuf_addstr(sb, " chunks\n");

	strbuf_addf(sb, "\nroots by retained bytes (what freeing it would give back; %zu of %zu)\n",
		    v.nr_roots, v.roots_holding);
	strbuf_addf(sb, "%12s %12s  %s\n", "retained", "chunks", "root");
	for (size_t i = 0; i < v.nr_roots; i++) {
		table_bytes(sb, v.roots[i].bytes, 12);
		strbuf_addch(sb, ' ');
		table_num(sb, v.roots[i].count, 12);
		strbuf_addf(sb, "  %s\n", g->roots[v.roots[i].v - 1].name);
	}

	strbuf_addf(sb, "\nchunks by retained bytes (top of the dominator tree; %zu of ", v.nr_chunks);
	fmt_thousands(sb, v.top_level);
	strbuf_addstr(sb, ")\n");
	strbuf_addf(sb, "%12s %12s %10s  %s\n", "retained", "chunks", "size",
		    o && o->addresses ? "type, address, held by" : "type, held by");
	for (size_t i = 0; i < v.nr_chunks; i++) {
		uint32_t x = v.chunks[i].v, n = x - 1 - (uint32_t)g->nr_roots;
		const char *by = held_by(g, r, x);

		table_bytes(sb, v.chunks[i].bytes, 12);
		strbuf_addch(sb, ' ');
		table_num(sb, v.chunks[i].count, 12);
		strbuf_addch(sb, ' ');
		table_bytes(sb, heap_graph_size(g, n), 10);
		strbuf_addf(sb, "  %s", node_type(g, n));
		if (o && o->addresses)
			strbuf_addf(sb, " @0x%" PRIx64, g->start[n]);
		strbuf_addf(sb, ", %s\n", by ? by : "shared by several roots");
	}
	retained_view_release(&v);
}
