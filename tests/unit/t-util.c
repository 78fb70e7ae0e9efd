/*
 * t-util.c - JSON escaping, the address set, number formatting, and the
 * helper threads' shares (every share of a job runs once, however many
 * threads there are).
 */
#include "config.h"
#include "tap.h"
#include "output/census-out.h"
#include "output/json-writer.h"
#include "util/addrset.h"
#include "util/strbuf.h"
#include "util/workers.h"

#define SHARES_MAX 16

struct share_count {
	unsigned ran[SHARES_MAX];
};

static void count_share(void *arg, unsigned i)
{
	struct share_count *c = arg;

	if (i < SHARES_MAX)
		__atomic_add_fetch(&c->ran[i], 1, __ATOMIC_RELAXED);
}

/* Run NR shares on W; 1 if shares 0..NR-1 ran once each and no other. */
static int shares_once(struct workers *w, unsigned nr, int start)
{
	struct share_count c = { { 0 } };

	if (start) {
		workers_start_shares(w, nr, count_share, &c);
		workers_wait(w);
	} else {
		workers_run_shares(w, nr, count_share, &c);
	}
	for (unsigned i = 0; i < SHARES_MAX; i++)
		if (c.ran[i] != (i < nr))
			return 0;
	return 1;
}

int main(void)
{
	struct strbuf sb = STRBUF_INIT;
	struct addrset s = ADDRSET_INIT;
	int all = 1;

	plan(15);
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

	{
		struct workers *w = workers_new(2);
		struct share_count c = { { 0 } };

		ok(workers_count(w) == 2, "workers: 2 threads");
		/* more shares than threads: what the copy met when
		 * pthread_create made fewer threads than it asked for */
		ok(shares_once(w, 7, 0), "workers: 7 shares on 2 threads, each once");
		ok(shares_once(w, 1, 0), "workers: 1 share on 2 threads, once");
		ok(shares_once(w, 5, 1), "workers: 5 shares started and waited for, each once");
		ok(shares_once(NULL, 5, 0), "workers: 5 shares without threads, in the caller");
		workers_run(w, count_share, &c);
		ok(c.ran[0] == 1 && c.ran[1] == 1 && c.ran[2] == 0,
		   "workers: workers_run runs one share per thread");
		workers_free(w);
	}
	return done();
}
