/*
 * folded.c - folded stacks for flame graph tools; see folded.h.
 *
 * The format has no quoting: the last space-separated field (two for the
 * differential form) is the value and everything before it is the stack,
 * split at ';'. So a frame may contain spaces ("struct session") but no
 * ';' and no line break; those are replaced, never dropped, so a stack
 * keeps its depth.
 */
#include "config.h"
#include "output/folded.h"
#include "analysis/profile.h"
#include "util/strbuf.h"

#include <inttypes.h>

static void add_frame(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == ';')
			c = ':';
		else if (c < 0x20 || c == 0x7f)
			c = ' ';
		strbuf_addch(sb, c);
	}
}

void folded_write(struct strbuf *sb, const struct profile *p, enum folded_value v)
{
	for (size_t i = 0; i < p->nr_samples; i++) {
		const struct profile_sample *s = &p->samples[i];
		const uint32_t *stack = profile_stack(p, i);

		for (uint32_t k = 0; k < s->nr_frames; k++) {
			if (k)
				strbuf_addch(sb, ';');
			add_frame(sb, p->strings[stack[k]]);
		}
		if (p->diff) {
			int64_t old = v == FOLDED_COUNT ? s->old_count : s->old_bytes;
			int64_t delta = v == FOLDED_COUNT ? s->count : s->bytes;

			strbuf_addf(sb, " %" PRId64 " %" PRId64 "\n", old, old + delta);
		} else {
			strbuf_addf(sb, " %" PRId64 "\n", v == FOLDED_COUNT ? s->count : s->bytes);
		}
	}
}
