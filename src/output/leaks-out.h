/*
 * leaks-out.h - leaks, why and retained sizes as text and as JSON.
 *
 * The JSON shapes are contracts (doc/json-output.md, sections "leaks",
 * "why" and "top --retained"): every field present, keys in a fixed order.
 * Addresses are the pointers the program holds (chunk + 16), as "0x..."
 * strings; bytes are chunk sizes with their headers, as in the census.
 * Text output shows addresses only with ADDRESSES set (-v), except why's,
 * which is about one address.
 */
#ifndef HEAPGRAB_OUTPUT_LEAKS_OUT_H
#define HEAPGRAB_OUTPUT_LEAKS_OUT_H

#include "util/compiler.h"

struct heap_graph;
struct leak_report;
struct retained;
struct strbuf;
struct why_hooks;
struct why_result;

struct leaks_out_opts {
	unsigned top;		/* rows of by_type (text) and examples; 0: default 10 */
	bool addresses;		/* text: show example addresses */
};

void leaks_out_json(struct strbuf *sb, const struct heap_graph *g, const struct leak_report *r,
		    const struct leaks_out_opts *o);
void leaks_out_text(struct strbuf *sb, const struct heap_graph *g, const struct leak_report *r,
		    const struct leaks_out_opts *o);

/* ADDR: what the user asked about. HOOKS may be NULL. */
void why_out_json(struct strbuf *sb, const struct heap_graph *g, taddr_t addr,
		  const struct why_result *w, const struct why_hooks *hooks);
void why_out_text(struct strbuf *sb, const struct heap_graph *g, taddr_t addr,
		  const struct why_result *w, const struct why_hooks *hooks);

struct retained_out_opts {
	unsigned top;		/* rows of each list; 0: default 20 */
	bool addresses;		/* text: show chunk addresses */
};

void retained_out_json(struct strbuf *sb, const struct heap_graph *g, const struct retained *r,
		       const struct retained_out_opts *o);
void retained_out_text(struct strbuf *sb, const struct heap_graph *g, const struct retained *r,
		       const struct retained_out_opts *o);

#endif /* HEAPGRAB_OUTPUT_LEAKS_OUT_H */
