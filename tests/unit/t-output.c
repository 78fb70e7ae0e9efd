/*
 * t-output.c - the profile model and its writers on synthetic snapshots:
 *  - the protobuf encoder against the wire-format examples of the
 *    protobuf documentation (varints, 150, "testing", packed [3, 270,
 *    86942]) and negative int64s (ten bytes);
 *  - profile_from_snapshot: stacks TYPE / untyped;[N-byte chunks], only
 *    live chunks, the sample order, by-type rows; the ownership-path and
 *    include hooks;
 *  - profile_from_diff: deltas, OLD values, unchanged stacks dropped;
 *  - pprof_encode decoded again here (an independent little decoder):
 *    sample types, string table, leaf-first location ids, values;
 *    pprof_write is gzip of exactly that, with a deterministic header;
 *  - folded and csv text, html markers and escaping.
 */
#include "config.h"
#include "tap.h"
#include "analysis/census.h"
#include "analysis/profile.h"
#include "output/csv.h"
#include "output/folded.h"
#include "output/html.h"
#include "output/pprof.h"
#include "snapshot/snapshot.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static int is_bytes(const struct strbuf *sb, const char *hex, const char *what)
{
	struct strbuf want = STRBUF_INIT;
	int r;

	for (const char *p = hex; *p; p++) {
		unsigned v;

		if (*p == ' ')
			continue;
		if (sscanf(p, "%2x", &v) != 1)
			break;
		strbuf_addch(&want, (int)v);
		p++;
	}
	r = ok(sb->len == want.len && !memcmp(sb->buf, want.buf, want.len), "%s", what);
	if (!r) {
		printf("#   got ");
		for (size_t i = 0; i < sb->len; i++)
			printf("%02x ", (unsigned char)sb->buf[i]);
		printf("\n#   want %s\n", hex);
	}
	strbuf_release(&want);
	return r;
}

static void test_encoder(void)
{
	struct strbuf sb = STRBUF_INIT;
	uint64_t packed[] = { 3, 270, 86942 };

	pb_varint(&sb, 0);
	pb_varint(&sb, 1);
	pb_varint(&sb, 127);
	pb_varint(&sb, 128);
	pb_varint(&sb, 300);
	is_bytes(&sb, "00 01 7f 80 01 ac 02", "varints 0, 1, 127, 128, 300");
	strbuf_reset(&sb);
	pb_varint(&sb, UINT64_MAX);
	is_bytes(&sb, "ff ff ff ff ff ff ff ff ff 01", "varint 2^64-1: ten bytes");
	strbuf_reset(&sb);
	pb_uint(&sb, 2, (uint64_t)(int64_t)-1040);
	is_bytes(&sb, "10 f0 f7 ff ff ff ff ff ff ff 01", "int64 -1040: two's complement varint");
	strbuf_reset(&sb);
	pb_uint(&sb, 1, 150);
	is_bytes(&sb, "08 96 01", "field 1 = 150 (protobuf docs)");
	strbuf_reset(&sb);
	pb_uint(&sb, 1, 0);
	ok(sb.len == 0, "a zero scalar is left out");
	pb_bytes(&sb, 2, "testing", 7);
	is_bytes(&sb, "12 07 74 65 73 74 69 6e 67", "field 2 = \"testing\" (protobuf docs)");
	strbuf_reset(&sb);
	pb_packed(&sb, 4, packed, 3);
	is_bytes(&sb, "22 06 03 8e 02 9e a7 05", "packed field 4 = [3, 270, 86942] (protobuf docs)");
	strbuf_reset(&sb);
	pb_packed(&sb, 4, packed, 0);
	ok(sb.len == 0, "an empty packed field is left out");
	strbuf_release(&sb);
}

/* ---- synthetic snapshots ------------------------------------------------- */

static struct snapshot *snap_new(void)
{
	struct snapshot *s = xcalloc(1, sizeof(*s));

	heap_walk_init(&s->walk);
	s->walk.arenas = xcalloc(1, sizeof(*s->walk.arenas));
	s->walk.nr_arenas = 1;
	s->walk.arenas[0].main = true;
	s->meta.pid = 7;
	return s;
}

/* Type chunk I as NAMES[T] (T < 0: untyped); allocates the table lazily. */
static void set_type(struct snapshot *s, size_t i, const char *const *names, size_t nr, int t)
{
	struct snapshot_types *ty = s->types;

	if (!ty) {
		ty = s->types = xcalloc(1, sizeof(*ty));
		ty->names = xcalloc(nr, sizeof(*ty->names));
		for (size_t k = 0; k < nr; k++)
			ty->names[k] = xstrdup(names[k]);
		ty->nr_names = nr;
		ty->of_chunk = xmalloc(st_mult(s->walk.nr_chunks, sizeof(*ty->of_chunk)));
		ty->flags = xcalloc(s->walk.nr_chunks, 1);
		for (size_t k = 0; k < s->walk.nr_chunks; k++)
			ty->of_chunk[k] = SNAPSHOT_UNTYPED;
	}
	ty->of_chunk[i] = t < 0 ? SNAPSHOT_UNTYPED : (uint32_t)t;
}

static void snap_free(struct snapshot *s)
{
	snapshot_types_free(s->types);
	heap_walk_release(&s->walk);
	free(s);
}

/* "a;b;c count bytes [old_count old_bytes]" per sample, one per line. */
static void dump(struct strbuf *sb, const struct profile *p)
{
	for (size_t i = 0; i < p->nr_samples; i++) {
		const struct profile_sample *s = &p->samples[i];

		for (uint32_t k = 0; k < s->nr_frames; k++)
			strbuf_addf(sb, "%s%s", k ? ";" : "", p->strings[profile_stack(p, i)[k]]);
		strbuf_addf(sb, " %lld %lld", (long long)s->count, (long long)s->bytes);
		if (p->diff)
			strbuf_addf(sb, " %lld %lld", (long long)s->old_count, (long long)s->old_bytes);
		strbuf_addch(sb, '\n');
	}
}

static const char *const names[] = { "struct a", "struct b;x", "std::vector<int>" };

/* A heap: 4 struct a (3 x 48, 1 x 64), 1 "struct b;x" (32), one
 * std::vector<int> (96), untyped 2 x 80 and an mmapped 4096; and free
 * chunks of every kind, which must not count. */
static struct snapshot *heap1(void)
{
	struct snapshot *s = snap_new();
	static const struct { uint64_t size; uint8_t state; int type; } c[] = {
		{ 48, CHUNK_INUSE, 0 }, { 48, CHUNK_INUSE, 0 }, { 80, CHUNK_INUSE, -1 },
		{ 48, CHUNK_INUSE, 0 }, { 64, CHUNK_INUSE, 0 }, { 32, CHUNK_INUSE, 1 },
		{ 80, CHUNK_INUSE, -1 }, { 96, CHUNK_INUSE, 2 }, { 48, CHUNK_TCACHE, -1 },
		{ 64, CHUNK_FASTBIN, -1 }, { 1024, CHUNK_BIN, -1 }, { 4096, CHUNK_MMAPPED, -1 },
		{ 0x2000, CHUNK_TOP, -1 },
	};
	taddr_t a = 0x1000;

	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		heap_walk_add(&s->walk, a, c[i].size, c[i].state == CHUNK_MMAPPED ?
			      CHUNK_NO_ARENA : 0, c[i].state);
		a += c[i].size;
	}
	for (size_t i = 0; i < ARRAY_SIZE(c); i++)
		set_type(s, i, names, ARRAY_SIZE(names), c[i].type);
	return s;
}

static size_t owner_path(void *ctx, const struct snapshot *s, size_t chunk,
			 const char *const **ret_frames)
{
	static const char *const path[] = { "global cache", "struct owner" };
	const char *t = snapshot_chunk_type(s, chunk);

	(void)ctx;
	if (!t || strcmp(t, "struct a"))
		return 0;
	*ret_frames = path;
	return ARRAY_SIZE(path);
}

static bool small_only(void *ctx, const struct snapshot *s, size_t chunk)
{
	(void)ctx;
	return s->walk.chunks[chunk].state == CHUNK_INUSE && s->walk.chunks[chunk].size < 64;
}

static void test_profile(void)
{
	struct snapshot *s = heap1();
	struct profile_opts po = { .path = owner_path, .include = small_only };
	struct profile_type_row *rows;
	struct strbuf sb = STRBUF_INIT;
	struct profile p;
	size_t n;

	profile_from_snapshot(s, NULL, &p);
	dump(&sb, &p);
	is_str(sb.buf,
	       "untyped;[4096-byte chunks] 1 4096\n"
	       "struct a 4 208\n"
	       "untyped;[80-byte chunks] 2 160\n"
	       "std::vector<int> 1 96\n"
	       "struct b;x 1 32\n",
	       "profile: live chunks only, TYPE or untyped;[SIZE], bytes descending");
	ok(p.count == 9 && p.bytes == 4592 && p.nr_strings == 6,
	   "profile totals 9 chunks, 4592 bytes, 6 frame strings");
	n = profile_by_type(&p, &rows);
	ok(n == 4 && !strcmp(rows[0].type, "untyped") && rows[0].count == 3 &&
	   rows[0].bytes == 4256 && !strcmp(rows[1].type, "struct a") && rows[1].count == 4 &&
	   rows[1].bytes == 208 && !strcmp(rows[3].type, "struct b;x"),
	   "by type: untyped 3/4256, struct a 4/208, ..., struct b;x last");
	free(rows);

	strbuf_reset(&sb);
	folded_write(&sb, &p, FOLDED_BYTES);
	is_str(sb.buf,
	       "untyped;[4096-byte chunks] 4096\n"
	       "struct a 208\n"
	       "untyped;[80-byte chunks] 160\n"
	       "std::vector<int> 96\n"
	       "struct b:x 32\n",
	       "folded bytes; ';' in a frame becomes ':'");
	strbuf_reset(&sb);
	folded_write(&sb, &p, FOLDED_COUNT);
	ok(strstr(sb.buf, "struct a 4\n") && strstr(sb.buf, "untyped;[80-byte chunks] 2\n"),
	   "folded counts");
	profile_release(&p);

	profile_from_snapshot(s, &po, &p);
	strbuf_reset(&sb);
	dump(&sb, &p);
	is_str(sb.buf,
	       "global cache;struct owner;struct a 3 144\n"
	       "struct b;x 1 32\n",
	       "path hook before the type; include hook selects chunks");
	profile_release(&p);

	strbuf_reset(&sb);
	csv_field(&sb, "plain");
	strbuf_addch(&sb, '|');
	csv_field(&sb, "std::map<int, int>");
	strbuf_addch(&sb, '|');
	csv_field(&sb, "say \"hi\"");
	is_str(sb.buf, "plain|\"std::map<int, int>\"|\"say \"\"hi\"\"\"", "csv quoting");
	strbuf_release(&sb);
	snap_free(s);
}

static void test_diff(void)
{
	struct snapshot *o = heap1(), *n = snap_new();
	struct strbuf sb = STRBUF_INIT;
	struct profile_type_row *rows;
	struct profile p;
	size_t nr;

	/* NEW: struct a unchanged (same stack, same values), one 80 freed,
	 * three 208 untyped new, the vector gone, the mmapped chunk kept. */
	heap_walk_add(&n->walk, 0x1000, 48, 0, CHUNK_INUSE);
	heap_walk_add(&n->walk, 0x1030, 48, 0, CHUNK_INUSE);
	heap_walk_add(&n->walk, 0x1060, 48, 0, CHUNK_INUSE);
	heap_walk_add(&n->walk, 0x1090, 64, 0, CHUNK_INUSE);
	heap_walk_add(&n->walk, 0x10d0, 32, 0, CHUNK_INUSE);
	heap_walk_add(&n->walk, 0x10f0, 80, 0, CHUNK_INUSE);
	for (int i = 0; i < 3; i++)
		heap_walk_add(&n->walk, 0x2000 + 208 * (taddr_t)i, 208, 0, CHUNK_INUSE);
	heap_walk_add(&n->walk, 0x7000, 4096, CHUNK_NO_ARENA, CHUNK_MMAPPED);
	for (size_t i = 0; i < n->walk.nr_chunks; i++)
		set_type(n, i, names, ARRAY_SIZE(names), i < 4 ? 0 : i == 4 ? 1 : -1);

	profile_from_diff(o, n, NULL, &p);
	dump(&sb, &p);
	is_str(sb.buf,
	       "untyped;[208-byte chunks] 3 624 0 0\n"
	       "untyped;[80-byte chunks] -1 -80 2 160\n"
	       "std::vector<int> -1 -96 1 96\n",
	       "diff: deltas and OLD values, unchanged stacks left out, growth first");
	ok(p.diff && p.count == 1 && p.bytes == 448, "diff totals +1 chunk, +448 bytes");
	nr = profile_by_type(&p, &rows);
	ok(nr == 2 && !strcmp(rows[0].type, "untyped") && rows[0].count == 2 &&
	   rows[0].bytes == 544 && rows[0].old_count == 2 && !strcmp(rows[1].type,
	   "std::vector<int>") && rows[1].bytes == -96, "diff by type: untyped +2/+544, vector -96");
	free(rows);
	strbuf_reset(&sb);
	folded_write(&sb, &p, FOLDED_BYTES);
	is_str(sb.buf,
	       "untyped;[208-byte chunks] 0 624\n"
	       "untyped;[80-byte chunks] 160 80\n"
	       "std::vector<int> 96 0\n",
	       "diff folded: flamegraph.pl's differential form, OLD NEW");
	profile_release(&p);
	strbuf_release(&sb);
	snap_free(o);
	snap_free(n);
}

/* ---- a little profile.proto decoder, independent of pprof.c ------------------ */

struct dec {
	const unsigned char *p, *end;
	int bad;
};

static uint64_t get_varint(struct dec *d)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 70; shift += 7) {
		if (d->p >= d->end) {
			d->bad = 1;
			return 0;
		}
		v |= (uint64_t)(*d->p & 0x7f) << shift;
		if (!(*d->p++ & 0x80))
			return v;
	}
	d->bad = 1;
	return v;
}

/* Next field: returns its number (0 at the end); a varint in *V, or a
 * length-delimited field as a sub-decoder in *SUB. */
static unsigned next_field(struct dec *d, uint64_t *v, struct dec *sub)
{
	uint64_t key, len;

	if (d->p >= d->end || d->bad)
		return 0;
	key = get_varint(d);
	if ((key & 7) == 0) {
		*v = get_varint(d);
	} else if ((key & 7) == 2) {
		len = get_varint(d);
		if (len > (uint64_t)(d->end - d->p)) {
			d->bad = 1;
			return 0;
		}
		sub->p = d->p;
		sub->end = d->p + len;
		sub->bad = 0;
		d->p += len;
	} else {
		d->bad = 1;
		return 0;
	}
	return (unsigned)(key >> 3);
}

/* Decode ENC and print its samples as "leaf<-...<-root count bytes". */
static int decode(const struct strbuf *enc, struct strbuf *out, struct strbuf *types)
{
	struct dec d = { (const unsigned char *)enc->buf, (const unsigned char *)enc->buf + enc->len, 0 };
	struct dec sub, s2, s3;
	char *strings[64];
	uint64_t fn_name[64] = { 0 }, loc_fn[64] = { 0 }, v, dflt = 0;
	uint64_t samples[16][10], nsv[16] = { 0 }, nsl[16] = { 0 }, st[4][2];
	size_t ns = 0, nstr = 0, nst = 0;
	unsigned f;

	while ((f = next_field(&d, &v, &sub))) {
		if (f == 1 && nst < 4) {	/* ValueType */
			st[nst][0] = st[nst][1] = 0;
			while ((f = next_field(&sub, &v, &s2)))
				if (f == 1 || f == 2)
					st[nst][f - 1] = v;
			nst++;
		} else if (f == 2 && ns < 16) {	/* Sample */
			while ((f = next_field(&sub, &v, &s2))) {
				while (s2.p < s2.end && nsl[ns] + nsv[ns] < 10) {
					uint64_t x = get_varint(&s2);

					if (f == 1)
						samples[ns][nsl[ns]++] = x;
					else
						samples[ns][4 + nsv[ns]++] = x;
				}
			}
			ns++;
		} else if (f == 4) {	/* Location { id, line { function_id } } */
			uint64_t id = 0, fid = 0;

			while ((f = next_field(&sub, &v, &s2))) {
				if (f == 1)
					id = v;
				else if (f == 4)
					while (next_field(&s2, &v, &s3))
						fid = v;
			}
			if (id < 64)
				loc_fn[id] = fid;
		} else if (f == 5) {	/* Function { id, name, system_name } */
			uint64_t id = 0, name = 0;

			while ((f = next_field(&sub, &v, &s2))) {
				if (f == 1)
					id = v;
				else if (f == 2)
					name = v;
			}
			if (id < 64)
				fn_name[id] = name;
		} else if (f == 6 && nstr < 64) {
			strings[nstr++] = xstrndup((const char *)sub.p, (size_t)(sub.end - sub.p));
		} else if (f == 14) {
			dflt = v;
		}
	}
	for (size_t i = 0; i < nst; i++)
		strbuf_addf(types, "%s/%s ", st[i][0] < nstr ? strings[st[i][0]] : "?",
			    st[i][1] < nstr ? strings[st[i][1]] : "?");
	strbuf_addf(types, "default=%s empty0=%d", dflt < nstr ? strings[dflt] : "?",
		    nstr && !strings[0][0]);
	for (size_t i = 0; i < ns; i++) {
		for (size_t k = 0; k < nsl[i]; k++) {
			uint64_t fid = samples[i][k] < 64 ? loc_fn[samples[i][k]] : 0;
			uint64_t name = fid < 64 ? fn_name[fid] : 0;

			strbuf_addf(out, "%s%s", k ? "<-" : "", name < nstr ? strings[name] : "?");
		}
		strbuf_addf(out, " %lld %lld\n", (long long)samples[i][4],
			    (long long)samples[i][5]);
	}
	for (size_t i = 0; i < nstr; i++)
		free(strings[i]);
	return d.bad;
}

static void test_pprof(void)
{
	struct snapshot *o = heap1(), *n = heap1();
	struct strbuf enc = STRBUF_INIT, gz = STRBUF_INIT, out = STRBUF_INIT;
	struct strbuf types = STRBUF_INIT;
	const char *comments[] = { "heapgrab test" };
	struct pprof_meta m = { .time_nanos = 1700000000000000000, .comments = comments,
				.nr_comments = 1 };
	unsigned char buf[4096];
	uLongf len = sizeof(buf);
	z_stream z;
	struct profile p;

	profile_from_snapshot(o, NULL, &p);
	pprof_encode(&enc, &p, &m);
	ok(!decode(&enc, &out, &types), "pprof_encode output decodes");
	is_str(types.buf, "inuse_objects/count inuse_space/bytes default=inuse_space empty0=1",
	       "sample types, default inuse_space, string_table[0] empty");
	is_str(out.buf,
	       "[4096-byte chunks]<-untyped 1 4096\n"
	       "struct a 4 208\n"
	       "[80-byte chunks]<-untyped 2 160\n"
	       "std::vector<int> 1 96\n"
	       "struct b;x 1 32\n",
	       "samples: location ids leaf first, count and bytes");
	ok(!pprof_write(&gz, &p, &m), "pprof_write");
	ok(gz.len > 10 && (unsigned char)gz.buf[0] == 0x1f && (unsigned char)gz.buf[1] == 0x8b &&
	   gz.buf[2] == 8 && !gz.buf[4] && !gz.buf[5] && !gz.buf[6] && !gz.buf[7],
	   "gzip header: magic, deflate, mtime 0");
	memset(&z, 0, sizeof(z));
	ok(inflateInit2(&z, 15 + 16) == Z_OK, "inflateInit2");
	z.next_in = (Bytef *)gz.buf;
	z.avail_in = (uInt)gz.len;
	z.next_out = buf;
	z.avail_out = (uInt)len;
	ok(inflate(&z, Z_FINISH) == Z_STREAM_END && z.total_out == enc.len &&
	   !memcmp(buf, enc.buf, enc.len), "gunzip gives exactly the encoded profile");
	inflateEnd(&z);
	profile_release(&p);

	/* A diff: negative values survive the round trip. */
	heap_walk_add(&n->walk, 0x9000, 208, 0, CHUNK_INUSE);
	n->types->of_chunk = xrealloc(n->types->of_chunk,
				      n->walk.nr_chunks * sizeof(*n->types->of_chunk));
	n->types->flags = xrealloc(n->types->flags, n->walk.nr_chunks);
	n->types->of_chunk[n->walk.nr_chunks - 1] = SNAPSHOT_UNTYPED;
	n->types->flags[n->walk.nr_chunks - 1] = 0;
	profile_from_diff(n, o, NULL, &p);
	strbuf_reset(&enc);
	strbuf_reset(&out);
	strbuf_reset(&types);
	pprof_encode(&enc, &p, NULL);
	ok(!decode(&enc, &out, &types), "diff profile decodes");
	is_str(out.buf, "[208-byte chunks]<-untyped -1 -208\n", "diff: negative deltas");
	profile_release(&p);

	strbuf_release(&enc);
	strbuf_release(&gz);
	strbuf_release(&out);
	strbuf_release(&types);
	snap_free(o);
	snap_free(n);
}

static void test_html(void)
{
	struct snapshot *s = heap1();
	struct strbuf sb = STRBUF_INIT;
	struct census c;
	struct profile p;
	struct html_report r = { .mode = HTML_CENSUS, .title = "<x & \"y\">", .subtitle = "sub" };
	const char *data, *q;
	int scripts = 0;

	census_build(s, &c);
	profile_from_snapshot(s, NULL, &p);
	r.profile = &p;
	r.census = &c;
	html_write(&sb, &r);
	ok(!strstr(sb.buf, "@HG_"), "html: both markers replaced");
	ok(strstr(sb.buf, "<title>&lt;x &amp; &quot;y&quot;&gt;</title>") != NULL,
	   "html: the title is escaped");
	data = strstr(sb.buf, "<script id=\"hg-data\" type=\"application/json\">");
	ok(data && strstr(data, "std::vector\\u003cint>") && !strstr(data, "vector<int>"),
	   "html: '<' in the data is \\u003c");
	for (q = sb.buf; (q = strstr(q, "</script")); q++)
		scripts++;
	ok(scripts == 2, "html: two script elements end, nothing else does (%d)", scripts);
	ok(data && strstr(data, "\"by_size\": [{\"name\": 4096, \"count\": 1, \"bytes\": 4096}"),
	   "html: by_size rows in the census order");
	profile_release(&p);
	census_release(&c);
	strbuf_release(&sb);
	snap_free(s);
}

int main(void)
{
	plan(33);
	test_encoder();
	test_profile();
	test_diff();
	test_pprof();
	test_html();
	return done();
}
