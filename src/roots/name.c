/*
 * name.c - the one namer: every root spelt from its struct root, and the
 * small helpers every root finder shares.
 *
 * Spellings, by what the root is:
 *   register      "thread TID register NAME"
 *   region        stack "thread TID stack"; TLS "thread TID TLS", with a
 *                 detail "thread TID TLS (dtv)"; global "MODULE SECTION";
 *                 anonymous "anonymous mapping START-END", "mapping PATH
 *                 START-END" for a named pseudo mapping, "unmapped ADDR"
 *   symbol        global "global NAME (MODULE, SECTION)"; TLS "thread TID
 *                 TLS NAME (MODULE)"
 *   variable      global "global NAME (MODULE)"; TLS "TLS NAME (MODULE,
 *                 thread TID)"
 *   local/param   "local NAME in FUNCTION() (thread TID, frame #N)",
 *                 "parameter NAME in ..."
 *   descriptor    "thread TID descriptor (struct pthread)"
 * A missing name or function is "?", a missing section "data".
 */
#include "config.h"
#include "roots/roots.h"
#include "target/target.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

const char *root_kind_name(enum root_kind k)
{
	static const char *const names[ROOT_KIND__COUNT] = {
		[ROOT_REGISTER] = "register",
		[ROOT_STACK] = "stack",
		[ROOT_TLS] = "tls",
		[ROOT_GLOBAL] = "global",
		[ROOT_ANON] = "anonymous",
	};

	return (unsigned)k < ROOT_KIND__COUNT ? names[k] : "unknown";
}

static const char *or_q(const char *s)
{
	return s ? s : "?";
}

static void name_region(const struct root *r, struct strbuf *out)
{
	switch (r->kind) {
	case ROOT_STACK:
		strbuf_addf(out, "thread %d stack", r->tid);
		return;
	case ROOT_TLS:
		strbuf_addf(out, "thread %d TLS", r->tid);
		if (r->name)
			strbuf_addf(out, " (%s)", r->name);
		return;
	case ROOT_GLOBAL:
		strbuf_addf(out, "%s %s", or_q(r->module), r->section ? r->section : "data");
		return;
	default:
		break;
	}
	if (r->region && r->region->path)
		strbuf_addf(out, "mapping %s 0x%" PRIx64 "-0x%" PRIx64, r->region->path,
			    r->region->start, r->region->end);
	else if (r->region)
		strbuf_addf(out, "anonymous mapping 0x%" PRIx64 "-0x%" PRIx64, r->region->start,
			    r->region->end);
	else
		strbuf_addf(out, "unmapped 0x%" PRIx64, r->start);
}

void root_name(const struct root *r, struct strbuf *out)
{
	switch (r->what) {
	case ROOT_IS_REGION:
		name_region(r, out);
		break;
	case ROOT_IS_REGISTER:
		strbuf_addf(out, "thread %d register %s", r->tid, or_q(r->name));
		break;
	case ROOT_IS_SYMBOL:
		if (r->kind == ROOT_TLS)
			strbuf_addf(out, "thread %d TLS %s (%s)", r->tid, or_q(r->name),
				    or_q(r->module));
		else
			strbuf_addf(out, "global %s (%s, %s)", or_q(r->name), or_q(r->module),
				    r->section ? r->section : "data");
		break;
	case ROOT_IS_VARIABLE:
		if (r->kind == ROOT_TLS)
			strbuf_addf(out, "TLS %s (%s, thread %d)", or_q(r->name), or_q(r->module),
				    r->tid);
		else
			strbuf_addf(out, "global %s (%s)", or_q(r->name), or_q(r->module));
		break;
	case ROOT_IS_LOCAL:
	case ROOT_IS_PARAMETER:
		strbuf_addf(out, "%s %s in %s() (thread %d, frame #%u)",
			    r->what == ROOT_IS_PARAMETER ? "parameter" : "local", or_q(r->name),
			    or_q(r->function), r->tid, r->frame);
		break;
	case ROOT_IS_DESCRIPTOR:
		strbuf_addf(out, "thread %d descriptor (struct pthread)", r->tid);
		break;
	}
}

void root_list_add(struct root_list *l, const struct root *r)
{
	ALLOC_GROW(l->v, l->nr + 1, l->alloc);
	l->v[l->nr++] = *r;
}

void root_list_release(struct root_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}
