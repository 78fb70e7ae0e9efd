/*
 * verify-out.h - `attach --verify` output: the census against mallinfo2(),
 * relation by relation, as text and as the "verify" member of the census
 * JSON (doc/json-output.md).
 */
#ifndef HEAPGRAB_VERIFY_OUT_H
#define HEAPGRAB_VERIFY_OUT_H

#include "util/compiler.h"

struct strbuf;
struct verify;

/* Append a table, one relation per line, and a summary line. */
void verify_out_text(struct strbuf *sb, const struct verify *v);
/* Append the JSON object (no key) for the "verify" member. */
void verify_out_json(struct strbuf *sb, const struct verify *v);
/*
 * SB holds a census JSON document (census_out_json(): an object and a
 * newline): add "verify": V as its last member.
 */
void verify_out_json_append(struct strbuf *sb, const struct verify *v);

#endif /* HEAPGRAB_VERIFY_OUT_H */
