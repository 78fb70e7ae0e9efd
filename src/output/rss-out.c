/*
 * rss-out.c - the RSS accounting as text and as JSON; see rss-out.h.
 *
 * The JSON follows the census rules (doc/json-output.md): every field is
 * always present, keys in a fixed order, bytes as integers, addresses as
 * "0x..." strings; a figure heapgrab could not measure is null, never a
 * guess. The text says what is missing in words.
 *
 * The sentences are built from measured figures only, each guarded by
 * the facts it states: no residency, no sentence about residency.
 */
#include "config.h"
#include "output/rss-out.h"
#include "analysis/rss.h"
#include "output/census-out.h"
#include "output/json-writer.h"
#include "snapshot/snapshot.h"
#include "util/errors.h"
#include "util/strbuf.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_TOP 10

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static void bytes(struct strbuf *sb, uint64_t v)
{
	fmt_bytes(sb, v);
}

/* The RSS the shares are taken of: the accounted total (the instant of
 * the stop), else the kernel's. */
static uint64_t rss_of(const struct rss_report *r)
{
	return r->live ? r->total : r->kernel_rss;
}

static uint64_t live_resident(const struct rss_report *r)
{
	return r->arena_total[RSS_IN_USE].resident;
}

static bool split_known(const struct rss_report *r)
{
	return r->live && r->pagemap && !r->unsplit;
}

static const char *arena_label(const struct rss_report *r, size_t i, char *buf, size_t n)
{
	if (r->arenas[i].main)
		snprintf(buf, n, "main");
	else
		snprintf(buf, n, "#%zu", i);
	return buf;
}

/* ---- sentences ---- */

void rss_sentences(struct strbuf *sb, const struct rss_report *r)
{
	uint64_t rss = rss_of(r);
	size_t arenas_with_threads = 0;

	if (!r->live) {
		strbuf_addstr(sb, "A core records no residency: only the allocator's own figures "
			      "are shown.\n");
		return;
	}
	if (split_known(r) && r->free_resident && !r->no_malloc) {
		bytes(sb, r->free_resident);
		strbuf_addf(sb, " (%.0f%% of RSS) is free memory inside malloc arenas; "
			    "`heapgrab trim` would return ", pct(r->free_resident, rss));
		bytes(sb, r->releasable);
		strbuf_addstr(sb, " of it");
		if (r->stranded_total) {
			strbuf_addstr(sb, ", and ");
			bytes(sb, r->stranded_total);
			strbuf_addstr(sb, " would stay resident");
		}
		strbuf_addstr(sb, ".\n");
	}
	if (split_known(r) && rss && !r->no_malloc) {
		bytes(sb, live_resident(r));
		strbuf_addf(sb, " (%.0f%% of RSS) is live malloc data, ", pct(live_resident(r), rss));
		bytes(sb, r->mmapped_resident);
		strbuf_addf(sb, " is in %" PRIu64 " mmapped chunk%s, ", r->mmapped.count,
			    r->mmapped.count == 1 ? "" : "s");
		bytes(sb, r->outside_total);
		strbuf_addf(sb, " (%.0f%%) is outside malloc.\n", pct(r->outside_total, rss));
	}
	if (r->stranded[RSS_TCACHE] && split_known(r)) {
		bytes(sb, r->stranded[RSS_TCACHE]);
		strbuf_addstr(sb, " of free memory sits in tcaches, which malloc_trim never "
			      "touches.\n");
	}
	if (split_known(r)) {
		uint64_t tops = 0;

		for (size_t i = 0; i < r->nr_arenas; i++)
			if (!r->arenas[i].main)
				tops += r->arenas[i].stranded[RSS_TOP];
		if (tops) {
			bytes(sb, tops);
			strbuf_addstr(sb, " is resident in the top chunks of non-main arenas, which "
				      "malloc_trim does not shrink.\n");
		}
	}
	if (r->no_malloc)
		goto outside;
	for (size_t i = 0; i < r->nr_arenas; i++)
		arenas_with_threads += r->arenas[i].threads > 0;
	strbuf_addf(sb, "%zu arena%s for %zu thread%s", r->nr_arenas,
		    r->nr_arenas == 1 ? "" : "s", r->nr_threads, r->nr_threads == 1 ? "" : "s");
	if (r->thread_arenas)
		strbuf_addf(sb, " (%zu arena%s in use by a thread now)", arenas_with_threads,
			    arenas_with_threads == 1 ? "" : "s");
	if (r->arena_limit && !strcmp(r->arena_limit_how, "cores"))
		strbuf_addf(sb, "; glibc allows %" PRIu64 " (8 x %u CPUs %s)", r->arena_limit,
			    r->cpus, r->cpus_how);
	else if (r->arena_limit)
		strbuf_addf(sb, "; glibc allows %" PRIu64 " (%s)", r->arena_limit,
			    r->arena_limit_how);
	strbuf_addstr(sb, ".\n");
	if (r->dynamic_moved) {
		strbuf_addstr(sb, "The mmap threshold moved from 128.0 KiB to ");
		bytes(sb, r->thresholds[0].value);
		strbuf_addstr(sb, " (a freed mmapped chunk raised it): smaller requests now come "
			      "from the arenas, and trim_threshold is ");
		bytes(sb, r->thresholds[1].value);
		strbuf_addstr(sb, ".\n");
	}
outside:
	if (r->nr_outside && r->outside[0].resident) {
		const struct rss_outside_row *big = &r->outside[0];

		for (size_t i = 1; i < r->nr_outside; i++)
			if (r->outside[i].resident > big->resident)
				big = &r->outside[i];
		strbuf_addstr(sb, "The largest resident mapping group outside malloc is ");
		if (big->kind == RSS_OUT_STACK)
			strbuf_addf(sb, "the stack of thread %d", big->tid);
		else
			strbuf_addf(sb, "%s (%s)", big->name, rss_outside_name(big->kind));
		strbuf_addstr(sb, ": ");
		bytes(sb, big->resident);
		strbuf_addstr(sb, ".\n");
	}
	if (r->has_kernel_rss && r->smaps) {
		int64_t d = (int64_t)(r->total - r->kernel_rss);

		strbuf_addstr(sb, "These parts add up to ");
		bytes(sb, r->total);
		strbuf_addstr(sb, "; the kernel counts ");
		bytes(sb, r->kernel_rss);
		if (!d)
			strbuf_addstr(sb, " (smaps_rollup), the same.\n");
		else
			strbuf_addf(sb, " (smaps_rollup, read after the stop): %+" PRId64
				    " bytes%s.\n", d, r->mismatched_maps ?
				    ", from mappings whose residency changed after the stop" : "");
	}
}

/* ---- text ---- */

static void cell(struct strbuf *sb, uint64_t v, int width, bool known)
{
	struct strbuf t = STRBUF_INIT;

	if (known)
		bytes(&t, v);
	else
		strbuf_addch(&t, '?');
	strbuf_addf(sb, "%*s", width, t.buf);
	strbuf_release(&t);
}

static void line(struct strbuf *sb, const char *label, uint64_t v, uint64_t rss, bool known)
{
	strbuf_addf(sb, "  %-34s", label);
	cell(sb, v, 12, known);
	if (known && rss)
		strbuf_addf(sb, "  %5.1f%%", pct(v, rss));
	strbuf_addch(sb, '\n');
}

static void text_header(struct strbuf *sb, const struct snapshot *s, const struct rss_report *r)
{
	strbuf_addf(sb, "process %d", s->meta.pid);
	if (s->meta.exe)
		strbuf_addf(sb, " (%s)", s->meta.exe);
	strbuf_addf(sb, ", glibc %s", r->glibc);
	if (!r->live) {
		strbuf_addstr(sb, ": no residency (a core records which pages were mapped, not "
			      "which were resident)\n");
		return;
	}
	strbuf_addstr(sb, ": resident ");
	if (r->has_kernel_rss)
		bytes(sb, r->kernel_rss);
	else
		strbuf_addstr(sb, "? (smaps_rollup unreadable)");
	strbuf_addch(sb, '\n');
	if (r->no_malloc)
		strbuf_addf(sb, "malloc was not walked (%s): only the memory outside malloc is "
			    "accounted\n", r->no_malloc);
	if (!r->pagemap)
		strbuf_addf(sb, "pagemap could not be read (%s): malloc's memory is counted per "
			    "mapping, not split between chunks; nothing below is estimated\n",
			    hg_strerror(r->pagemap_err));
	if (!r->smaps)
		strbuf_addf(sb, "smaps could not be read (%s): mappings outside malloc's memory "
			    "are not counted\n", hg_strerror(r->smaps_err));
	if (!r->pfn_visible && r->pagemap)
		strbuf_addstr(sb, "page frame numbers are hidden (no CAP_SYS_ADMIN): a page "
			      "mapped to the shared zero page counts as resident here\n");
}

static void text_breakdown(struct strbuf *sb, const struct rss_report *r)
{
	uint64_t rss = rss_of(r);
	bool k = split_known(r);
	char label[64];

	strbuf_addf(sb, "\n  %-34s%12s  %6s\n", "where the resident memory is", "resident",
		    "of RSS");
	snprintf(label, sizeof(label), "malloc arenas (%zu)", r->nr_arenas);
	line(sb, label, r->arenas_resident, rss, k);
	line(sb, "  live chunks", r->arena_total[RSS_IN_USE].resident, rss, k);
	line(sb, "  free: tcache", r->arena_total[RSS_TCACHE].resident, rss, k);
	line(sb, "  free: fastbins", r->arena_total[RSS_FASTBIN].resident, rss, k);
	line(sb, "  free: bins", r->arena_total[RSS_BIN].resident, rss, k);
	line(sb, "  free: top chunks", r->arena_total[RSS_TOP].resident, rss, k);
	line(sb, "  overhead (headers, fenceposts)", r->arena_total[RSS_OVERHEAD].resident, rss, k);
	snprintf(label, sizeof(label), "mmapped chunks (%" PRIu64 ")", r->mmapped.count);
	line(sb, label, r->mmapped_resident, rss, k);
	if (r->unsplit)
		line(sb, "malloc memory, not split (no pagemap)", r->unsplit, rss, true);
	line(sb, "outside malloc", r->outside_total, rss, r->live);
	for (int o = 0; o < RSS_OUT__COUNT; o++) {
		static const char *const label_of[RSS_OUT__COUNT] = {
			"  thread stacks", "  other anonymous memory", "  file mappings",
			"  shared memory", "  other (vdso...)",
		};

		line(sb, label_of[o], r->outside_resident[o], rss, r->live);
	}
	line(sb, "total", r->total, rss, r->live);
	if (r->has_kernel_rss) {
		int64_t d = (int64_t)(r->total - r->kernel_rss);

		strbuf_addf(sb, "  %-34s", "kernel (smaps_rollup Rss)");
		cell(sb, r->kernel_rss, 12, true);
		if (d)
			strbuf_addf(sb, "  differs by %+" PRId64 " bytes", d);
		else
			strbuf_addstr(sb, "  the same");
		strbuf_addch(sb, '\n');
	}
	if (r->changed)
		strbuf_addf(sb, "  (%" PRIu64 " bytes resident in mappings the target changed "
			    "after the stop are in no line)\n", r->changed);
	if (r->mismatched_maps)
		strbuf_addf(sb, "  (%" PRIu64 " mapping%s changed residency between the stop and "
			    "the smaps read: %+" PRId64 " bytes; a copy reads the never-touched "
			    "pages of private file mappings in, --fork does not)\n",
			    r->mismatched_maps, r->mismatched_maps == 1 ? "" : "s",
			    -r->mismatch_bytes);
	if (r->swap)
		strbuf_addf(sb, "  (swapped out, not in RSS: %" PRIu64 " bytes)\n", r->swap);
}

static void text_trim(struct strbuf *sb, const struct rss_report *r)
{
	if (!split_known(r))
		return;
	strbuf_addf(sb, "\nmalloc_trim(%" PRIu64 ") would return ", r->pad);
	bytes(sb, r->releasable);
	if (r->releasable_top) {
		strbuf_addstr(sb, " (");
		bytes(sb, r->releasable_top);
		strbuf_addstr(sb, " of it by shrinking the main arena's top)");
	}
	strbuf_addstr(sb, " of the ");
	bytes(sb, r->free_resident);
	strbuf_addstr(sb, " resident in free chunks; it would leave ");
	bytes(sb, r->stranded_total);
	strbuf_addstr(sb, ":\n  tcache ");
	bytes(sb, r->stranded[RSS_TCACHE]);
	strbuf_addstr(sb, " (never trimmed), fastbins ");
	bytes(sb, r->stranded[RSS_FASTBIN]);
	strbuf_addstr(sb, " and bins ");
	bytes(sb, r->stranded[RSS_BIN]);
	strbuf_addstr(sb, " (partial pages: a free chunk keeps its first 48 bytes and the "
		      "page ends), top chunks ");
	bytes(sb, r->stranded[RSS_TOP]);
	strbuf_addstr(sb, "\n");
}

void rss_out_trim_text(struct strbuf *sb, const struct rss_report *r)
{
	char label[64];

	if (!split_known(r)) {
		strbuf_addstr(sb, "no prediction: the residency of malloc's memory could not be "
			      "read\n");
		return;
	}
	text_trim(sb, r);
	strbuf_addstr(sb, "\n  arena   releasable  of it by sbrk   stranded  top\n");
	for (size_t i = 0; i < r->nr_arenas; i++) {
		const struct rss_arena *a = &r->arenas[i];

		strbuf_addf(sb, "  %-6s", arena_label(r, i, label, sizeof(label)));
		cell(sb, a->releasable, 11, true);
		cell(sb, a->releasable_top, 15, true);
		cell(sb, a->stranded[RSS_TCACHE] + a->stranded[RSS_FASTBIN] + a->stranded[RSS_BIN] +
		     a->stranded[RSS_TOP], 11, true);
		strbuf_addf(sb, "  %s\n", trim_top_name((enum trim_top)a->trim.top));
	}
}

static void text_arenas(struct strbuf *sb, const struct rss_report *r,
			const struct rss_out_opts *o)
{
	bool k = split_known(r);
	unsigned top = o && o->top ? o->top : DEFAULT_TOP;
	char label[64];

	strbuf_addf(sb, "\n  %-6s %10s %10s %10s %10s %10s %10s %10s %7s\n", "arena", "system",
		    "resident", "live", "free", "releasable", "stranded", "largest", "threads");
	for (size_t i = 0; i < r->nr_arenas && i < top; i++) {
		const struct rss_arena *a = &r->arenas[i];
		uint64_t free_res = a->parts[RSS_TCACHE].resident + a->parts[RSS_FASTBIN].resident +
				    a->parts[RSS_BIN].resident + a->parts[RSS_TOP].resident;
		uint64_t stranded = a->stranded[RSS_TCACHE] + a->stranded[RSS_FASTBIN] +
				    a->stranded[RSS_BIN] + a->stranded[RSS_TOP];

		strbuf_addf(sb, "  %-6s", arena_label(r, i, label, sizeof(label)));
		cell(sb, a->system, 11, true);
		cell(sb, a->resident, 11, a->known);
		cell(sb, a->parts[RSS_IN_USE].resident, 11, k);
		cell(sb, free_res, 11, k);
		cell(sb, a->releasable, 11, k);
		cell(sb, stranded, 11, k);
		cell(sb, a->largest_free, 11, true);
		if (r->thread_arenas)
			strbuf_addf(sb, " %7" PRIu64, a->threads);
		else
			strbuf_addf(sb, " %7s", "?");
		if (o && o->addresses)
			strbuf_addf(sb, "  0x%" PRIx64, (uint64_t)a->addr);
		strbuf_addch(sb, '\n');
	}
	if (r->nr_arenas > top)
		strbuf_addf(sb, "  (%zu more arenas; --top N)\n", r->nr_arenas - top);
	strbuf_addstr(sb, "  (largest: the largest free chunk below top; a non-main arena's top "
		      "is never trimmed)\n");
}

static void text_fragmentation(struct strbuf *sb, const struct rss_report *r)
{
	struct rss_count all[RSS_NR_CLASSES] = { { 0, 0 } };
	uint64_t total = 0;

	for (size_t i = 0; i < r->nr_arenas; i++)
		for (int c = 0; c < RSS_NR_CLASSES; c++) {
			all[c].count += r->arenas[i].classes[c].count;
			all[c].bytes += r->arenas[i].classes[c].bytes;
			total += r->arenas[i].classes[c].bytes;
		}
	if (!total)
		return;
	strbuf_addstr(sb, "\nfree chunks below top, by size (all arenas):\n");
	for (int c = 0; c < RSS_NR_CLASSES; c++) {
		struct strbuf lim = STRBUF_INIT;

		if (!all[c].count)
			continue;
		if (rss_class_limit((unsigned)c)) {
			strbuf_addstr(&lim, "below ");
			fmt_bytes(&lim, rss_class_limit((unsigned)c));
		} else {
			strbuf_addstr(&lim, "1.0 MiB and up");
		}
		strbuf_addf(sb, "  %-16s %12" PRIu64 " chunks ", lim.buf, all[c].count);
		cell(sb, all[c].bytes, 11, true);
		strbuf_addf(sb, "  %5.1f%%\n", pct(all[c].bytes, total));
		strbuf_release(&lim);
	}
}

static void text_outside(struct strbuf *sb, const struct rss_report *r,
			 const struct rss_out_opts *o)
{
	unsigned top = o && o->top ? o->top : DEFAULT_TOP, shown = 0;

	if (!r->nr_outside)
		return;
	strbuf_addstr(sb, "\noutside malloc, largest resident first:\n");
	for (size_t i = 0; i < r->nr_outside && shown < top; i++) {
		const struct rss_outside_row *row = &r->outside[i];

		if (!row->resident)
			continue;
		strbuf_addf(sb, "  %-14s ", rss_outside_name(row->kind));
		cell(sb, row->resident, 11, true);
		if (row->kind == RSS_OUT_STACK)
			strbuf_addf(sb, "  %s %d\n", row->name, row->tid);
		else if (row->start && o && o->addresses)
			strbuf_addf(sb, "  %s at 0x%" PRIx64 "\n", row->name, (uint64_t)row->start);
		else if (row->start)
			strbuf_addf(sb, "  %s (one mapping, %" PRIu64 " bytes)\n", row->name,
				    row->size);
		else
			strbuf_addf(sb, "  %s (%" PRIu64 " mapping%s)\n", row->name, row->mappings,
				    row->mappings == 1 ? "" : "s");
		shown++;
	}
}

static void text_threads(struct strbuf *sb, const struct rss_report *r)
{
	strbuf_addf(sb, "\nthreads and arenas: %zu thread%s, %zu arena%s", r->nr_threads,
		    r->nr_threads == 1 ? "" : "s", r->nr_arenas, r->nr_arenas == 1 ? "" : "s");
	if (r->arena_limit)
		strbuf_addf(sb, ", limit %" PRIu64 " (%s%s", r->arena_limit,
			    !strcmp(r->arena_limit_how, "cores") ? "8 x CPUs " : r->arena_limit_how,
			    !strcmp(r->arena_limit_how, "cores") ? r->cpus_how : "");
	if (r->arena_limit && !strcmp(r->arena_limit_how, "cores"))
		strbuf_addf(sb, ": %u)", r->cpus);
	else if (r->arena_limit)
		strbuf_addch(sb, ')');
	strbuf_addch(sb, '\n');
	if (!r->thread_arenas) {
		strbuf_addstr(sb, "  which thread uses which arena is not known: thread_arena needs "
			      "libc's debug info\n");
		return;
	}
	for (size_t i = 0; i < r->nr_threads && i < 64; i++) {
		const struct rss_thread *t = &r->threads[i];
		char label[64];

		strbuf_addf(sb, "  thread %-8d ", t->tid);
		if (t->arena >= 0)
			strbuf_addf(sb, "arena %-6s", arena_label(r, (size_t)t->arena, label,
							    sizeof(label)));
		else if (t->arena == -1)
			strbuf_addf(sb, "%-12s", "no arena yet");
		else
			strbuf_addf(sb, "arena 0x%" PRIx64 " (not in the arena list)",
				    (uint64_t)t->arena_addr);
		if (t->has_stack) {
			strbuf_addstr(sb, "  stack ");
			bytes(sb, t->stack_resident);
			strbuf_addstr(sb, " resident");
		}
		strbuf_addch(sb, '\n');
	}
	if (r->nr_threads > 64)
		strbuf_addf(sb, "  (%zu more threads)\n", r->nr_threads - 64);
}

static void text_thresholds(struct strbuf *sb, const struct rss_report *r)
{
	if (!r->have_thresholds) {
		strbuf_addstr(sb, "\nthresholds: mp_'s layout for this glibc is not known\n");
		return;
	}
	strbuf_addstr(sb, "\nthresholds in force:\n");
	for (int i = 0; i < RSS_NR_THRESHOLDS; i++) {
		const struct rss_threshold *h = &r->thresholds[i];
		bool in_bytes = i < 3;

		strbuf_addf(sb, "  %-15s ", h->name);
		if (in_bytes)
			cell(sb, h->value, 11, true);
		else
			strbuf_addf(sb, "%11" PRIu64, h->value);
		strbuf_addf(sb, "  (%s", rss_source_name(h->source));
		if (h->source != RSS_SRC_DEFAULT) {
			strbuf_addstr(sb, "; default ");
			if (in_bytes)
				bytes(sb, h->dflt);
			else
				strbuf_addf(sb, "%" PRIu64, h->dflt);
		}
		strbuf_addstr(sb, ")\n");
	}
	strbuf_addf(sb, "  dynamic mmap threshold: %s\n",
		    r->no_dyn_threshold ? "off (mallopt or a tunable set one of the thresholds)" :
		    r->dynamic_moved ? "on, and it moved" : "on, not moved");
	if (r->thp_pagesize)
		strbuf_addf(sb, "  thp_pagesize %" PRIu64 " (glibc.malloc.hugetlb=1: top is "
			    "trimmed in these units)\n", r->thp_pagesize);
	if (r->tunables)
		strbuf_addf(sb, "  GLIBC_TUNABLES=%s\n", r->tunables);
	if (r->malloc_env)
		for (const char *p = r->malloc_env; *p;) {
			const char *nl = strchr(p, '\n');
			size_t n = nl ? (size_t)(nl - p) : strlen(p);

			strbuf_addf(sb, "  %.*s\n", (int)n, p);
			p += n + (nl ? 1 : 0);
		}
}

void rss_out_text(struct strbuf *sb, const struct snapshot *s, const struct rss_report *r,
		  const struct rss_out_opts *o)
{
	text_header(sb, s, r);
	if (r->live)
		text_breakdown(sb, r);
	if (!r->no_malloc) {
		text_trim(sb, r);
		text_arenas(sb, r, o);
		text_fragmentation(sb, r);
	}
	if (r->live)
		text_outside(sb, r, o);
	if (!r->no_malloc) {
		text_threads(sb, r);
		text_thresholds(sb, r);
	}
	strbuf_addch(sb, '\n');
	rss_sentences(sb, r);
}

/* ---- JSON ---- */

static void juint_or_null(struct json_writer *jw, const char *key, uint64_t v, bool known)
{
	jw_key(jw, key);
	if (known)
		jw_uint(jw, v);
	else
		jw_string(jw, NULL);
}

static void json_err(struct json_writer *jw, const char *key, int err)
{
	jw_object_string(jw, key, err ? hg_strerror(err) : NULL);
}

static void json_parts(struct json_writer *jw, const struct rss_amount *parts, bool known)
{
	for (int p = 0; p < RSS_PART__COUNT; p++) {
		jw_key(jw, rss_part_name((enum rss_part)p));
		jw_object_begin(jw);
		jw_object_uint(jw, "bytes", parts[p].bytes);
		juint_or_null(jw, "resident_bytes", parts[p].resident, known);
		jw_object_end(jw);
	}
}

static void json_free4(struct json_writer *jw, const char *key, const uint64_t *v, bool known)
{
	jw_key(jw, key);
	jw_object_begin(jw);
	for (int p = RSS_TCACHE; p <= RSS_TOP; p++)
		juint_or_null(jw, rss_part_name((enum rss_part)p), v[p], known);
	jw_object_end(jw);
}

static void json_arena(struct json_writer *jw, const struct rss_report *r,
		       const struct rss_arena *a)
{
	bool k = split_known(r);

	jw_object_begin(jw);
	jw_object_addr(jw, "address", a->addr);
	jw_object_bool(jw, "main", a->main);
	jw_object_uint(jw, "heaps", a->nr_heaps);
	jw_object_uint(jw, "system_bytes", a->system);
	jw_object_uint(jw, "mapped_bytes", a->mapped);
	juint_or_null(jw, "resident_bytes", a->resident, a->known);
	json_parts(jw, a->parts, k);
	juint_or_null(jw, "releasable_bytes", a->releasable, k);
	juint_or_null(jw, "releasable_top_bytes", a->releasable_top, k);
	json_free4(jw, "stranded", a->stranded, k);
	jw_key(jw, "trim");
	jw_object_begin(jw);
	jw_object_uint(jw, "fastbin_chunks_merged", a->trim.merged_fastbin);
	jw_object_uint(jw, "merged_into_top_bytes", a->trim.into_top);
	jw_object_uint(jw, "top_after_bytes", a->trim.top_after);
	jw_object_string(jw, "top", trim_top_name((enum trim_top)a->trim.top));
	jw_object_uint(jw, "top_released_bytes", a->trim.top_extra);
	jw_object_end(jw);
	jw_key(jw, "fragmentation");
	jw_object_begin(jw);
	jw_object_uint(jw, "free_count", a->free_below_top.count);
	jw_object_uint(jw, "free_bytes", a->free_below_top.bytes);
	jw_object_uint(jw, "largest_free_bytes", a->largest_free);
	jw_object_uint(jw, "top_bytes", a->parts[RSS_TOP].bytes);
	jw_key(jw, "by_class");
	jw_array_begin(jw);
	for (unsigned c = 0; c < RSS_NR_CLASSES; c++) {
		jw_object_begin(jw);
		juint_or_null(jw, "below", rss_class_limit(c), rss_class_limit(c) != 0);
		jw_object_uint(jw, "count", a->classes[c].count);
		jw_object_uint(jw, "bytes", a->classes[c].bytes);
		jw_object_end(jw);
	}
	jw_array_end(jw);
	jw_object_end(jw);
	juint_or_null(jw, "threads", a->threads, r->thread_arenas);
	jw_object_end(jw);
}

void rss_out_json(struct json_writer *jw, const struct rss_report *r)
{
	bool k = split_known(r);

	jw_object_begin(jw);
	jw_key(jw, "residency");
	jw_object_begin(jw);
	jw_object_bool(jw, "live", r->live);
	jw_object_bool(jw, "pagemap", r->pagemap);
	json_err(jw, "pagemap_error", r->live ? r->pagemap_err : 0);
	jw_object_string(jw, "pagemap_method", r->pagemap_method);
	jw_object_bool(jw, "zero_page_visible", r->pfn_visible);
	jw_object_bool(jw, "smaps", r->smaps);
	json_err(jw, "smaps_error", r->live ? r->smaps_err : 0);
	jw_object_end(jw);

	jw_key(jw, "total");
	jw_object_begin(jw);
	juint_or_null(jw, "accounted_bytes", r->total, r->live);
	juint_or_null(jw, "kernel_rss_bytes", r->kernel_rss, r->has_kernel_rss);
	jw_key(jw, "difference_bytes");
	if (r->live && r->has_kernel_rss)
		jw_int(jw, (int64_t)(r->total - r->kernel_rss));
	else
		jw_string(jw, NULL);
	juint_or_null(jw, "swap_bytes", r->swap, r->has_kernel_rss);
	jw_object_uint(jw, "changed_after_stop_bytes", r->changed);
	jw_object_uint(jw, "mismatched_mappings", r->mismatched_maps);
	jw_object_int(jw, "mismatch_bytes", r->mismatch_bytes);
	jw_object_uint(jw, "zero_pages", r->zero_pages);
	jw_object_end(jw);

	jw_key(jw, "malloc");
	jw_object_begin(jw);
	jw_object_bool(jw, "walked", !r->no_malloc);
	jw_object_string(jw, "why_not_walked", r->no_malloc);
	juint_or_null(jw, "arenas_resident_bytes", r->arenas_resident, k);
	jw_object_uint(jw, "arenas_system_bytes", r->arenas_system);
	jw_object_uint(jw, "arenas_mapped_bytes", r->arenas_mapped);
	json_parts(jw, r->arena_total, k);
	juint_or_null(jw, "mmapped_resident_bytes", r->mmapped_resident, k);
	juint_or_null(jw, "unsplit_bytes", r->unsplit, r->live);
	jw_object_end(jw);

	jw_key(jw, "trim");
	jw_object_begin(jw);
	jw_object_uint(jw, "pad", r->pad);
	juint_or_null(jw, "free_resident_bytes", r->free_resident, k);
	juint_or_null(jw, "releasable_bytes", r->releasable, k);
	juint_or_null(jw, "releasable_top_bytes", r->releasable_top, k);
	juint_or_null(jw, "stranded_bytes", r->stranded_total, k);
	json_free4(jw, "stranded", r->stranded, k);
	jw_object_string(jw, "brk_from", r->brk_known ? "__curbrk" : "heap_mapping");
	jw_object_end(jw);

	jw_key(jw, "arenas");
	jw_array_begin(jw);
	for (size_t i = 0; i < r->nr_arenas; i++)
		json_arena(jw, r, &r->arenas[i]);
	jw_array_end(jw);

	jw_key(jw, "mmapped");
	jw_object_begin(jw);
	jw_object_uint(jw, "count", r->mmapped.count);
	jw_object_uint(jw, "bytes", r->mmapped.bytes);
	juint_or_null(jw, "resident_bytes", r->mmapped_resident, k);
	jw_object_end(jw);

	jw_key(jw, "outside");
	jw_object_begin(jw);
	juint_or_null(jw, "resident_bytes", r->outside_total, r->live);
	for (int o = 0; o < RSS_OUT__COUNT; o++)
		juint_or_null(jw, rss_outside_name((enum rss_outside_kind)o),
			      r->outside_resident[o], r->live);
	jw_key(jw, "mappings");
	jw_array_begin(jw);
	for (size_t i = 0; i < r->nr_outside; i++) {
		const struct rss_outside_row *row = &r->outside[i];

		jw_object_begin(jw);
		jw_object_string(jw, "kind", rss_outside_name(row->kind));
		jw_object_string(jw, "name", row->name);
		jw_key(jw, "tid");
		if (row->kind == RSS_OUT_STACK)
			jw_int(jw, row->tid);
		else
			jw_string(jw, NULL);
		jw_key(jw, "address");
		if (row->start)
			jw_addr(jw, row->start);
		else
			jw_string(jw, NULL);
		jw_object_uint(jw, "mappings", row->mappings);
		jw_object_uint(jw, "size_bytes", row->size);
		juint_or_null(jw, "resident_bytes", row->resident, r->live);
		juint_or_null(jw, "swap_bytes", row->swap, r->live);
		jw_object_end(jw);
	}
	jw_array_end(jw);
	jw_object_end(jw);

	jw_key(jw, "threads");
	jw_object_begin(jw);
	jw_object_uint(jw, "count", r->nr_threads);
	jw_object_bool(jw, "arenas_known", r->thread_arenas);
	jw_key(jw, "list");
	jw_array_begin(jw);
	for (size_t i = 0; i < r->nr_threads; i++) {
		const struct rss_thread *t = &r->threads[i];

		jw_object_begin(jw);
		jw_object_int(jw, "tid", t->tid);
		jw_key(jw, "arena");
		if (t->arena >= 0 || (t->arena == -2 && r->thread_arenas))
			jw_addr(jw, t->arena_addr);
		else
			jw_string(jw, NULL);
		jw_key(jw, "arena_index");
		if (t->arena >= 0)
			jw_uint(jw, (uint64_t)t->arena);
		else
			jw_string(jw, NULL);
		juint_or_null(jw, "stack_resident_bytes", t->stack_resident,
			      r->live && t->has_stack);
		jw_object_end(jw);
	}
	jw_array_end(jw);
	jw_object_end(jw);

	jw_key(jw, "arena_limit");
	jw_object_begin(jw);
	jw_object_uint(jw, "arenas", r->nr_arenas);
	juint_or_null(jw, "limit", r->arena_limit, r->arena_limit != 0);
	jw_object_string(jw, "how", r->arena_limit_how);
	juint_or_null(jw, "cpus", r->cpus, r->cpus != 0);
	jw_object_string(jw, "cpus_counted", r->cpus_how);
	jw_object_end(jw);

	jw_key(jw, "thresholds");
	jw_object_begin(jw);
	jw_object_bool(jw, "known", r->have_thresholds);
	for (int i = 0; i < RSS_NR_THRESHOLDS; i++) {
		const struct rss_threshold *h = &r->thresholds[i];

		jw_key(jw, h->name ? h->name : "unknown");
		jw_object_begin(jw);
		juint_or_null(jw, "value", h->value, r->have_thresholds);
		jw_object_uint(jw, "default", h->dflt);
		jw_object_string(jw, "source", r->have_thresholds ? rss_source_name(h->source) : NULL);
		jw_object_end(jw);
	}
	jw_object_bool(jw, "dynamic_moved", r->dynamic_moved);
	jw_object_bool(jw, "no_dyn_threshold", r->no_dyn_threshold);
	jw_object_uint(jw, "thp_pagesize", r->thp_pagesize);
	jw_object_string(jw, "tunables", r->tunables);
	jw_key(jw, "malloc_env");
	jw_array_begin(jw);
	for (const char *p = r->malloc_env; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		struct strbuf v = STRBUF_INIT;

		strbuf_add(&v, p, n);
		jw_string(jw, v.buf);
		strbuf_release(&v);
		p += n + (nl ? 1 : 0);
	}
	jw_array_end(jw);
	jw_object_end(jw);

	jw_key(jw, "summary");
	jw_array_begin(jw);
	{
		struct strbuf s = STRBUF_INIT;

		rss_sentences(&s, r);
		for (char *p = s.buf, *nl; *p; p = nl + 1) {
			nl = strchr(p, '\n');
			if (!nl)
				break;
			*nl = '\0';
			jw_string(jw, p);
		}
		strbuf_release(&s);
	}
	jw_array_end(jw);
	jw_object_end(jw);
}

void rss_out_json_doc(struct strbuf *sb, const struct snapshot *s, const struct rss_report *r,
		      unsigned warnings)
{
	struct json_writer jw = JSON_WRITER_INIT(sb);

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
	jw_object_end(&jw);
	jw_key(&jw, "rss");
	rss_out_json(&jw, r);
	jw_key(&jw, "warnings");
	jw_uint(&jw, warnings);
	jw_object_end(&jw);
	strbuf_addch(sb, '\n');
}

void rss_out_json_append(struct strbuf *sb, const struct rss_report *r)
{
	struct json_writer jw = JSON_WRITER_INIT(sb);

	/* census_out_json() ends with "}\n": reopen the object. */
	if (sb->len >= 2 && sb->buf[sb->len - 2] == '}' && sb->buf[sb->len - 1] == '\n') {
		sb->len -= 2;
		sb->buf[sb->len] = '\0';
	}
	strbuf_addstr(sb, ", \"rss\": ");
	rss_out_json(&jw, r);
	strbuf_addstr(sb, "}\n");
}

/* ---- diff ---- */

struct diff_field {
	const char *key, *label;
	uint64_t old, new_;
	bool known;
};

static size_t diff_fields(const struct rss_report *o, const struct rss_report *n,
			  struct diff_field *f)
{
	bool ko = split_known(o), kn = split_known(n);
	size_t k = 0;

	f[k++] = (struct diff_field){ "rss_bytes", "resident (kernel)", o->kernel_rss,
				      n->kernel_rss, o->has_kernel_rss && n->has_kernel_rss };
	f[k++] = (struct diff_field){ "accounted_bytes", "accounted", o->total, n->total,
				      o->live && n->live };
	f[k++] = (struct diff_field){ "arenas_bytes", "malloc arenas", o->arenas_resident,
				      n->arenas_resident, ko && kn };
	f[k++] = (struct diff_field){ "in_use_bytes", "  live chunks",
				      o->arena_total[RSS_IN_USE].resident,
				      n->arena_total[RSS_IN_USE].resident, ko && kn };
	f[k++] = (struct diff_field){ "free_bytes", "  free chunks", o->free_resident,
				      n->free_resident, ko && kn };
	f[k++] = (struct diff_field){ "releasable_bytes", "    releasable by a trim",
				      o->releasable, n->releasable, ko && kn };
	f[k++] = (struct diff_field){ "stranded_bytes", "    stranded", o->stranded_total,
				      n->stranded_total, ko && kn };
	f[k++] = (struct diff_field){ "overhead_bytes", "  overhead",
				      o->arena_total[RSS_OVERHEAD].resident,
				      n->arena_total[RSS_OVERHEAD].resident, ko && kn };
	f[k++] = (struct diff_field){ "mmapped_bytes", "mmapped chunks", o->mmapped_resident,
				      n->mmapped_resident, ko && kn };
	f[k++] = (struct diff_field){ "outside_bytes", "outside malloc", o->outside_total,
				      n->outside_total, o->live && n->live };
	for (int i = 0; i < RSS_OUT__COUNT; i++) {
		static const char *const keys[RSS_OUT__COUNT] = {
			"thread_stacks_bytes", "anonymous_bytes", "files_bytes",
			"shared_memory_bytes", "other_bytes",
		};
		static const char *const labels[RSS_OUT__COUNT] = {
			"  thread stacks", "  other anonymous memory", "  file mappings",
			"  shared memory", "  other (vdso...)",
		};

		f[k++] = (struct diff_field){ keys[i], labels[i], o->outside_resident[i],
					      n->outside_resident[i], o->live && n->live };
	}
	return k;
}

#define NR_DIFF_FIELDS (10 + RSS_OUT__COUNT)

void rss_out_diff_text(struct strbuf *sb, const struct rss_report *o, const struct rss_report *n)
{
	struct diff_field f[NR_DIFF_FIELDS];
	size_t nr = diff_fields(o, n, f);

	strbuf_addf(sb, "\nresident memory, OLD -> NEW:\n  %-28s %12s %12s %13s\n", "", "OLD",
		    "NEW", "change");
	for (size_t i = 0; i < nr; i++) {
		struct strbuf d = STRBUF_INIT;

		strbuf_addf(sb, "  %-28s", f[i].label);
		cell(sb, f[i].old, 13, f[i].known);
		cell(sb, f[i].new_, 13, f[i].known);
		if (!f[i].known)
			strbuf_addstr(&d, "?");
		else if (f[i].new_ == f[i].old)
			strbuf_addstr(&d, "0");
		else {
			strbuf_addch(&d, f[i].new_ > f[i].old ? '+' : '-');
			fmt_bytes(&d, f[i].new_ > f[i].old ? f[i].new_ - f[i].old :
				  f[i].old - f[i].new_);
		}
		strbuf_addf(sb, " %13s\n", d.buf);
		strbuf_release(&d);
	}
	strbuf_addf(sb, "  arenas %zu -> %zu, threads %zu -> %zu\n", o->nr_arenas, n->nr_arenas,
		    o->nr_threads, n->nr_threads);
}

void rss_out_diff_json_append(struct strbuf *sb, const struct rss_report *o,
			      const struct rss_report *n)
{
	struct json_writer jw = JSON_WRITER_INIT(sb);
	struct diff_field f[NR_DIFF_FIELDS];
	size_t nr = diff_fields(o, n, f);

	if (sb->len >= 2 && sb->buf[sb->len - 2] == '}' && sb->buf[sb->len - 1] == '\n') {
		sb->len -= 2;
		sb->buf[sb->len] = '\0';
	}
	strbuf_addstr(sb, ", \"rss\": ");
	jw_object_begin(&jw);
	for (size_t i = 0; i < nr; i++) {
		jw_key(&jw, f[i].key);
		jw_object_begin(&jw);
		jw_key(&jw, "bytes_delta");
		if (f[i].known)
			jw_int(&jw, (int64_t)(f[i].new_ - f[i].old));
		else
			jw_string(&jw, NULL);
		juint_or_null(&jw, "bytes", f[i].new_, f[i].known);
		jw_object_end(&jw);
	}
	jw_key(&jw, "arenas");
	jw_object_begin(&jw);
	jw_key(&jw, "count_delta");
	jw_int(&jw, (int64_t)n->nr_arenas - (int64_t)o->nr_arenas);
	jw_key(&jw, "count");
	jw_uint(&jw, n->nr_arenas);
	jw_object_end(&jw);
	jw_key(&jw, "threads");
	jw_object_begin(&jw);
	jw_key(&jw, "count_delta");
	jw_int(&jw, (int64_t)n->nr_threads - (int64_t)o->nr_threads);
	jw_key(&jw, "count");
	jw_uint(&jw, n->nr_threads);
	jw_object_end(&jw);
	jw_object_end(&jw);
	strbuf_addstr(sb, "}\n");
}
