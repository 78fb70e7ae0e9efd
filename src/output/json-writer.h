/*
 * json-writer.h - a minimal streaming JSON emitter (after git's).
 *
 * Not an object model: the caller emits begin/end and keys in order; the
 * writer handles commas, escaping and nothing else. Output accumulates in
 * a strbuf the caller owns.
 *
 *   struct json_writer jw = JSON_WRITER_INIT(&sb);
 *   jw_object_begin(&jw);
 *   jw_object_uint(&jw, "heapgrab", 1);
 *   jw_key(&jw, "arenas"); jw_array_begin(&jw); ... jw_array_end(&jw);
 *   jw_object_end(&jw);
 *
 * jw_object_KIND(jw, key, v) is a member of the object being written (a
 * key and its value); jw_KIND(jw, v) a value on its own: an array
 * element, or the value after jw_key().
 */
#ifndef HEAPGRAB_JSON_WRITER_H
#define HEAPGRAB_JSON_WRITER_H

#include "util/compiler.h"

struct strbuf;

struct json_writer {
	struct strbuf *sb;
	int depth;
	bool need_comma[64];
	bool after_key;
};

#define JSON_WRITER_INIT(sbp) { .sb = (sbp) }

void jw_object_begin(struct json_writer *jw);
void jw_object_end(struct json_writer *jw);
void jw_array_begin(struct json_writer *jw);
void jw_array_end(struct json_writer *jw);
void jw_key(struct json_writer *jw, const char *key);
void jw_string(struct json_writer *jw, const char *s);	/* NULL -> null */
void jw_uint(struct json_writer *jw, uint64_t v);
void jw_int(struct json_writer *jw, int64_t v);
void jw_bool(struct json_writer *jw, bool v);
void jw_addr(struct json_writer *jw, taddr_t a);	/* "0x..." string */

/* KEY: V, in the object being written. */
void jw_object_string(struct json_writer *jw, const char *key, const char *s);	/* NULL -> null */
void jw_object_uint(struct json_writer *jw, const char *key, uint64_t v);
void jw_object_int(struct json_writer *jw, const char *key, int64_t v);
void jw_object_bool(struct json_writer *jw, const char *key, bool v);
void jw_object_addr(struct json_writer *jw, const char *key, taddr_t a);
void jw_object_null(struct json_writer *jw, const char *key);

/* Append S to SB as a JSON string literal with quotes. */
void json_escape(struct strbuf *sb, const char *s);

#endif /* HEAPGRAB_JSON_WRITER_H */
