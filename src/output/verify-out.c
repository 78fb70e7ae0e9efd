/*
 * verify-out.c - print a census/mallinfo2() comparison (analysis/verify.h).
 *
 * Text: one line per relation with both sides and "ok" or the difference,
 * then "N of M relations agree". JSON: the "verify" object of
 * doc/json-output.md, appended to the census document so that a consumer
 * of the census contract sees one more member and nothing else changes.
 */
#include "config.h"
#include "output/verify-out.h"
#include "analysis/verify.h"
#include "output/census-out.h"
#include "output/json-writer.h"
#include "util/strbuf.h"

#include <inttypes.h>
#include <string.h>

void verify_out_text(struct strbuf *sb, const struct verify *v)
{
	size_t w = 0;

	for (size_t i = 0; i < v->nr; i++)
		w = MAX(w, strlen(v->rel[i].terms));
	strbuf_addf(sb, "\nverify: the target's own %s(), called while it was stopped at the "
		    "instant of this census%s\n", v->function,
		    v->wraps32 ? " (its fields are int: compared modulo 2^32)" : "");
	strbuf_addf(sb, "  %-9s %-*s %15s %15s\n", "field", (int)w, "heapgrab adds up",
		    "heapgrab", v->function);
	for (size_t i = 0; i < v->nr; i++) {
		const struct verify_relation *r = &v->rel[i];
		struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;

		fmt_thousands(&a, r->heapgrab);
		fmt_thousands(&b, r->allocator);
		strbuf_addf(sb, "  %-9s %-*s %15s %15s  ", r->field, (int)w, r->terms, a.buf, b.buf);
		if (r->agree)
			strbuf_addstr(sb, "ok\n");
		else
			strbuf_addf(sb, "DIFFERS by %+" PRId64 "\n",
				    (int64_t)(r->heapgrab - r->allocator));
		strbuf_release(&a);
		strbuf_release(&b);
	}
	strbuf_addf(sb, "%zu of %zu relations agree%s\n", v->nr - v->nr_disagree, v->nr,
		    v->nr_disagree ? "" : ": the allocator confirms the census");
}

void verify_out_json(struct strbuf *sb, const struct verify *v)
{
	struct json_writer jw = JSON_WRITER_INIT(sb);

	jw_object_begin(&jw);
	jw_object_string(&jw, "function", v->function);
	jw_key(&jw, "wraps32");
	jw_bool(&jw, v->wraps32);
	jw_object_bool(&jw, "agree", v->nr_disagree == 0);
	jw_key(&jw, "relations");
	jw_array_begin(&jw);
	for (size_t i = 0; i < v->nr; i++) {
		const struct verify_relation *r = &v->rel[i];

		jw_object_begin(&jw);
		jw_object_string(&jw, "field", r->field);
		jw_object_string(&jw, "terms", r->terms);
		jw_object_uint(&jw, "heapgrab", r->heapgrab);
		jw_object_uint(&jw, "allocator", r->allocator);
		jw_object_bool(&jw, "agree", r->agree);
		jw_object_end(&jw);
	}
	jw_array_end(&jw);
	jw_object_end(&jw);
}

void verify_out_json_append(struct strbuf *sb, const struct verify *v)
{
	/* census_out_json() ends with "}\n": reopen the object. */
	if (sb->len >= 2 && sb->buf[sb->len - 2] == '}' && sb->buf[sb->len - 1] == '\n') {
		sb->len -= 2;
		sb->buf[sb->len] = '\0';
	}
	strbuf_addstr(sb, ", \"verify\": ");
	verify_out_json(sb, v);
	strbuf_addstr(sb, "}\n");
}
