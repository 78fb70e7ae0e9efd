/*
 * t-util.c - JSON escaping, the address set, number formatting.
 */
#include "config.h"
#include "tap.h"
#include "output/census-out.h"
#include "output/json-writer.h"
#include "util/addrset.h"
#include "util/strbuf.h"

int main(void)
{
	struct strbuf sb = STRBUF_INIT;
	struct addrset s = ADDRSET_INIT;
	int all = 1;

	plan(9);
	json_escape(&sb, "a\"b\\c\n\x01\xff\xc3\xa9");
	is_str(sb.buf, "\"a\\\"b\\\\c\\n\\u0001\\ufffd\xc3\xa9\"", "json escaping");
	strbuf_reset(&sb);
	{
		struct json_writer jw = JSON_WRITER_INIT(&sb);

		jw_object_begin(&jw);
		jw_key(&jw, "a");
		jw_array_begin(&jw);
		jw_uint(&jw, 1);
		jw_uint(&jw, 2);
		jw_array_end(&jw);
		jw_key(&jw, "b");
		jw_addr(&jw, 0x10);
		jw_object_end(&jw);
	}
	is_str(sb.buf, "{\"a\": [1, 2], \"b\": \"0x10\"}", "json writer commas and nesting");

	for (uint64_t i = 1; i <= 100000; i++)
		all &= addrset_add(&s, i * 16);
	ok(all && s.nr == 100000, "addrset: 100000 distinct adds");
	ok(!addrset_add(&s, 16 * 777), "addrset: re-add reports present");
	ok(addrset_has(&s, 16 * 99999) && !addrset_has(&s, 16 * 100001) && !addrset_has(&s, 0),
	   "addrset: membership");
	addrset_release(&s);

	strbuf_reset(&sb);
	fmt_thousands(&sb, 1234567);
	is_str(sb.buf, "1,234,567", "thousands separators");
	strbuf_reset(&sb);
	fmt_thousands(&sb, 999);
	is_str(sb.buf, "999", "no separator below 1000");
	strbuf_reset(&sb);
	fmt_bytes(&sb, 1536);
	is_str(sb.buf, "1.5 KiB", "binary units");
	strbuf_reset(&sb);
	fmt_bytes(&sb, 1000);
	is_str(sb.buf, "1000 B", "bytes below 1 KiB");
	strbuf_release(&sb);
	return done();
}
