/*
 * json-writer.c - streaming JSON emitter; see json-writer.h.
 * Strings are escaped per RFC 8259; bytes >= 0x80 pass through (paths are
 * bytes; invalid UTF-8 is replaced by \ufffd so the output stays valid).
 */
#include "config.h"
#include "output/json-writer.h"
#include "util/errors.h"
#include "util/strbuf.h"

#include <inttypes.h>
#include <string.h>

static size_t utf8_len(const unsigned char *s)
{
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0 && s[0] >= 0xc2)
		n = 2;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3;
	else if ((s[0] & 0xf8) == 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

void json_escape(struct strbuf *sb, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	strbuf_addch(sb, '"');
	while (*s) {
		size_t n;

		switch (*s) {
		case '"': strbuf_addstr(sb, "\\\""); s++; continue;
		case '\\': strbuf_addstr(sb, "\\\\"); s++; continue;
		case '\n': strbuf_addstr(sb, "\\n"); s++; continue;
		case '\r': strbuf_addstr(sb, "\\r"); s++; continue;
		case '\t': strbuf_addstr(sb, "\\t"); s++; continue;
		default: break;
		}
		if (*s < 0x20) {
			strbuf_addf(sb, "\\u%04x", *s);
			s++;
			continue;
		}
		n = utf8_len(s);
		if (!n) {
			strbuf_addstr(sb, "\\ufffd");
			s++;
			continue;
		}
		strbuf_add(sb, s, n);
		s += n;
	}
	strbuf_addch(sb, '"');
}

static void pre_value(struct json_writer *jw)
{
	if (jw->after_key) {
		jw->after_key = false;
		return;
	}
	if (jw->need_comma[jw->depth])
		strbuf_addstr(jw->sb, ", ");
	jw->need_comma[jw->depth] = true;
}

static void open_(struct json_writer *jw, char c)
{
	pre_value(jw);
	strbuf_addch(jw->sb, c);
	if (jw->depth + 1 >= (int)ARRAY_SIZE(jw->need_comma))
		BUG("json nesting too deep");
	jw->need_comma[++jw->depth] = false;
}

static void close_(struct json_writer *jw, char c)
{
	if (jw->depth <= 0)
		BUG("json close without open");
	jw->depth--;
	strbuf_addch(jw->sb, c);
}

void jw_object_begin(struct json_writer *jw) { open_(jw, '{'); }
void jw_object_end(struct json_writer *jw) { close_(jw, '}'); }
void jw_array_begin(struct json_writer *jw) { open_(jw, '['); }
void jw_array_end(struct json_writer *jw) { close_(jw, ']'); }

void jw_key(struct json_writer *jw, const char *key)
{
	pre_value(jw);
	json_escape(jw->sb, key);
	strbuf_addstr(jw->sb, ": ");
	jw->after_key = true;
}

void jw_string(struct json_writer *jw, const char *s)
{
	pre_value(jw);
	if (s)
		json_escape(jw->sb, s);
	else
		strbuf_addstr(jw->sb, "null");
}

void jw_uint(struct json_writer *jw, uint64_t v)
{
	pre_value(jw);
	strbuf_addf(jw->sb, "%" PRIu64, v);
}

void jw_int(struct json_writer *jw, int64_t v)
{
	pre_value(jw);
	strbuf_addf(jw->sb, "%" PRId64, v);
}

void jw_bool(struct json_writer *jw, bool v)
{
	pre_value(jw);
	strbuf_addstr(jw->sb, v ? "true" : "false");
}

void jw_addr(struct json_writer *jw, taddr_t a)
{
	pre_value(jw);
	strbuf_addf(jw->sb, "\"0x%" PRIx64 "\"", a);
}

void jw_object_string(struct json_writer *jw, const char *key, const char *s)
{
	jw_key(jw, key);
	jw_string(jw, s);
}

void jw_object_uint(struct json_writer *jw, const char *key, uint64_t v)
{
	jw_key(jw, key);
	jw_uint(jw, v);
}

void jw_object_int(struct json_writer *jw, const char *key, int64_t v)
{
	jw_key(jw, key);
	jw_int(jw, v);
}

void jw_object_bool(struct json_writer *jw, const char *key, bool v)
{
	jw_key(jw, key);
	jw_bool(jw, v);
}

void jw_object_addr(struct json_writer *jw, const char *key, taddr_t a)
{
	jw_key(jw, key);
	jw_addr(jw, a);
}

void jw_object_null(struct json_writer *jw, const char *key)
{
	jw_key(jw, key);
	jw_string(jw, NULL);
}
