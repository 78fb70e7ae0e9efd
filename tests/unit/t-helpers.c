/*
 * t-helpers.c - the util/ helpers every layer shares: little-endian
 * readers and writers, the ELF note walker and build-id finder (on
 * hand-built notes, well-formed and hostile), the backoff schedules, the
 * monotonic clock and sleep_us().
 */
#include "config.h"
#include "tap.h"
#include "util/backoff.h"
#include "util/clock.h"
#include "util/elf-note.h"
#include "util/le.h"

#include <elf.h>
#include <string.h>

/* Append one note (4-byte alignment) to BUF at *LEN. */
static void add_note(unsigned char *buf, size_t *len, uint32_t type, const char *name,
		     size_t namesz, const unsigned char *desc, uint32_t descsz)
{
	put_le32(buf + *len, (uint32_t)namesz);
	put_le32(buf + *len + 4, descsz);
	put_le32(buf + *len + 8, type);
	*len += 12;
	memcpy(buf + *len, name, namesz);
	*len += (namesz + 3) & ~(size_t)3;
	memcpy(buf + *len, desc, descsz);
	*len += (descsz + 3) & ~(size_t)3;
}

int main(void)
{
	unsigned char b[256], id[20];
	const unsigned char *got = NULL;
	struct elf_note n;
	size_t len = 0, pos = 0;
	double t0, t1;

	plan(22);

	memset(b, 0, sizeof(b));
	put_le64(b + 1, 0x0102030405060708ull);	/* unaligned on purpose */
	ok(b[1] == 8 && b[8] == 1, "put_le64: least significant byte first");
	ok(get_le64(b + 1) == 0x0102030405060708ull, "get_le64 reads put_le64 back");
	ok(get_le32(b + 1) == 0x05060708u && get_le16(b + 1) == 0x0708, "get_le32, get_le16");
	put_le16(b, 0xbeef);
	ok(b[0] == 0xef && b[1] == 0xbe, "put_le16");

	for (size_t i = 0; i < sizeof(id); i++)
		id[i] = (unsigned char)(0xa0 + i);
	memset(b, 0, sizeof(b));
	add_note(b, &len, NT_GNU_ABI_TAG, "GNU", 4, (const unsigned char *)"\0\0\0\0\3\0\0\0", 8);
	add_note(b, &len, NT_GNU_BUILD_ID, "GNU", 4, id, sizeof(id));
	ok(elf_notes_build_id(b, len, 4, &got) == sizeof(id) && !memcmp(got, id, sizeof(id)),
	   "build-id after another GNU note");
	ok(elf_note_next(b, len, &pos, 4, &n) == 1 && n.type == NT_GNU_ABI_TAG &&
	   elf_note_named(&n, "GNU") && n.descsz == 8, "first note: ABI tag");
	ok(elf_note_next(b, len, &pos, 4, &n) == 1 && n.type == NT_GNU_BUILD_ID, "second note");
	ok(elf_note_next(b, len, &pos, 4, &n) == 0 && pos == len, "then the end");
	ok(elf_notes_build_id(b, len - 1, 4, &got) == 0, "cut short: no build-id");

	len = 0;
	add_note(b, &len, NT_GNU_BUILD_ID, "GNX", 4, id, sizeof(id));	/* other owner */
	add_note(b, &len, NT_GNU_BUILD_ID, "GNU", 4, id, 0);		/* empty */
	add_note(b, &len, NT_GNU_BUILD_ID, "GNU", 3, id, 8);		/* no NUL: tolerated */
	ok(elf_notes_build_id(b, len, 4, &got) == 8, "other owners and empty ids skipped");

	len = 0;
	add_note(b, &len, NT_GNU_BUILD_ID, "GNU", 4, id, sizeof(id));
	put_le32(b, 0xfffffff0u);	/* namesz past the end */
	pos = 0;
	ok(elf_note_next(b, len, &pos, 4, &n) == -1, "hostile namesz: malformed");
	ok(elf_notes_build_id(b, len, 4, &got) == 0, "hostile namesz: no build-id");
	put_le32(b, 4);
	put_le32(b + 4, 0xffffffffu);	/* descsz past the end */
	ok(elf_notes_build_id(b, len, 4, &got) == 0, "hostile descsz: no build-id");
	pos = 0;
	ok(elf_note_next(b, 11, &pos, 4, &n) == -1, "11 bytes: not a note header");

	ok(backoff_wait_us(backoff_thread_stop, 0) == 0 &&
	   backoff_wait_us(backoff_thread_stop, 3) == 0 &&
	   backoff_wait_us(backoff_thread_stop, 4) == 20 &&
	   backoff_wait_us(backoff_thread_stop, 19) == 20 &&
	   backoff_wait_us(backoff_thread_stop, 20) == 200 &&
	   backoff_wait_us(backoff_thread_stop, 4000000000u) == 200,
	   "thread stop: yield x4, 20 us to round 20, then 200 us");
	ok(backoff_wait_us(backoff_consistency, 0) == 50 &&
	   backoff_wait_us(backoff_consistency, 49) == 50 &&
	   backoff_wait_us(backoff_consistency, 50) == 200 &&
	   backoff_wait_us(backoff_consistency, 499) == 200 &&
	   backoff_wait_us(backoff_consistency, 500) == 1000,
	   "consistency: 50 us to round 50, 200 us to 500, then 1 ms");
	ok(backoff_wait_us(backoff_injected_call, 199) == 0 &&
	   backoff_wait_us(backoff_injected_call, 200) == 20 &&
	   backoff_wait_us(backoff_injected_call, 1999) == 20 &&
	   backoff_wait_us(backoff_injected_call, 2000) == 200,
	   "injected call: yield x200, 20 us to round 2000, then 200 us");

	t0 = monotonic_ms();
	sleep_us(20000);
	t1 = monotonic_ms();
	ok(t1 - t0 >= 20.0, "sleep_us(20000) sleeps at least 20 ms (%.3f)", t1 - t0);
	ok(t1 - t0 < 5000.0, "... and not seconds");
	t0 = monotonic_ms();
	backoff_sleep(backoff_consistency, 600);
	ok(monotonic_ms() - t0 >= 1.0, "backoff_sleep at round 600 waits 1 ms");
	ok(monotonic_ns() >= (uint64_t)(t1 * 1e6), "the monotonic clock does not go back");
	ok(wall_clock_ms() > 1500000000000, "the wall clock is past 2017 (%lld)",
	   (long long)wall_clock_ms());
	return done();
}
