/*
 * rss-out.h - the RSS accounting (analysis/rss.h) as text for people and
 * as the "rss" object of doc/json-output.md.
 *
 *   rss_out_text()         the breakdown, the trim, the arenas, threads,
 *                          thresholds and the plain sentences
 *   rss_out_json()         the "rss" object, into a writer positioned at
 *                          a value
 *   rss_out_json_doc()     the whole document of `heapgrab rss --format
 *                          json`: heapgrab, target, rss, warnings
 *   rss_out_json_append()  add "rss" as the last member of a census
 *                          document (attach --rss, show)
 *   rss_sentences()        the plain sentences, one per line
 *
 * Everything appends to SB; nothing here knows where the data came from.
 */
#ifndef HEAPGRAB_RSS_OUT_H
#define HEAPGRAB_RSS_OUT_H

#include "util/compiler.h"

struct json_writer;
struct rss_report;
struct snapshot;
struct strbuf;

struct rss_out_opts {
	unsigned top;		/* rows per list in text (0: 10) */
	bool addresses;		/* text: arena addresses (-v) */
	bool color;
};

void rss_out_text(struct strbuf *sb, const struct snapshot *s, const struct rss_report *r,
		  const struct rss_out_opts *o);
void rss_out_json(struct json_writer *jw, const struct rss_report *r);
void rss_out_json_doc(struct strbuf *sb, const struct snapshot *s, const struct rss_report *r,
		      unsigned warnings);
void rss_out_json_append(struct strbuf *sb, const struct rss_report *r);
void rss_sentences(struct strbuf *sb, const struct rss_report *r);
/*
 * diff of two snapshots that both carry their residency: the resident
 * figures of OLD and NEW side by side (text), or the "rss" member of the
 * diff document (appended like rss_out_json_append).
 */
void rss_out_diff_text(struct strbuf *sb, const struct rss_report *old,
		       const struct rss_report *new_);
void rss_out_diff_json_append(struct strbuf *sb, const struct rss_report *old,
			      const struct rss_report *new_);
/* What malloc_trim would return and leave, and per arena (trim --dry-run). */
void rss_out_trim_text(struct strbuf *sb, const struct rss_report *r);

#endif /* HEAPGRAB_RSS_OUT_H */
