/*
 * pprof.c - profile.proto by hand, gzipped with zlib.
 *
 * The message (github.com/google/pprof proto/profile.proto; only the
 * fields written here):
 *
 *   Profile                          field  wire
 *     sample_type: ValueType           1    len   repeated
 *     sample: Sample                   2    len   repeated
 *     location: Location               4    len   repeated
 *     function: Function               5    len   repeated
 *     string_table: string             6    len   repeated, [0] = ""
 *     time_nanos: int64                9    varint
 *     duration_nanos: int64           10    varint
 *     period_type: ValueType          11    len
 *     period: int64                   12    varint
 *     comment: int64 (string index)   13    varint repeated
 *     default_sample_type: int64      14    varint (string index)
 *   ValueType  { type: 1, unit: 2 }               (string indices)
 *   Sample     { location_id: 1 packed uint64, value: 2 packed int64 }
 *   Location   { id: 1, line: 4 Line }
 *   Line       { function_id: 1 }
 *   Function   { id: 1, name: 2, system_name: 3 } (string indices)
 *
 * Varint: 7 bits per byte, least significant group first, the high bit
 * set on every byte but the last (300 = 0xac 0x02). A field starts with
 * its key varint (field << 3 | wire type); a length-delimited field then
 * has the byte length as a varint and the bytes.
 *
 * Ids: profile string k is string_table[FIXED + k] (after the fixed
 * strings, string_table[0] = "" among them); its Function and Location
 * have id k + 1 (ids must not be 0). There is no Mapping: the frames are
 * not code addresses, and pprof then never tries to symbolize them.
 * Samples keep the profile's order, so the same profile always gives the
 * same bytes.
 */
#include "config.h"
#include "output/pprof.h"
#include "analysis/profile.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

void pb_varint(struct strbuf *sb, uint64_t v)
{
	unsigned char buf[10];
	size_t n = 0;

	do {
		buf[n] = v & 0x7f;
		v >>= 7;
		if (v)
			buf[n] |= 0x80;
		n++;
	} while (v);
	strbuf_add(sb, buf, n);
}

void pb_key(struct strbuf *sb, unsigned field, unsigned wire)
{
	pb_varint(sb, ((uint64_t)field << 3) | wire);
}

void pb_uint(struct strbuf *sb, unsigned field, uint64_t v)
{
	if (!v)
		return;
	pb_key(sb, field, PB_VARINT);
	pb_varint(sb, v);
}

void pb_bytes(struct strbuf *sb, unsigned field, const void *data, size_t len)
{
	pb_key(sb, field, PB_LEN);
	pb_varint(sb, len);
	strbuf_add(sb, data, len);
}

void pb_packed(struct strbuf *sb, unsigned field, const uint64_t *v, size_t n)
{
	struct strbuf tmp = STRBUF_INIT;

	if (!n)
		return;
	for (size_t i = 0; i < n; i++)
		pb_varint(&tmp, v[i]);
	pb_bytes(sb, field, tmp.buf, tmp.len);
	strbuf_release(&tmp);
}

/* The fixed strings, at string_table[1 ..]. */
enum {
	S_EMPTY,
	S_INUSE_OBJECTS,
	S_COUNT,
	S_INUSE_SPACE,
	S_BYTES,
	S_SPACE,
	S__FIXED
};

static const char *const fixed_strings[S__FIXED] = {
	[S_EMPTY] = "",
	[S_INUSE_OBJECTS] = "inuse_objects",
	[S_COUNT] = "count",
	[S_INUSE_SPACE] = "inuse_space",
	[S_BYTES] = "bytes",
	[S_SPACE] = "space",
};

static void value_type(struct strbuf *sb, unsigned field, uint64_t type, uint64_t unit)
{
	struct strbuf m = STRBUF_INIT;

	pb_uint(&m, 1, type);
	pb_uint(&m, 2, unit);
	pb_bytes(sb, field, m.buf, m.len);
	strbuf_release(&m);
}

void pprof_encode(struct strbuf *out, const struct profile *p, const struct pprof_meta *meta)
{
	struct strbuf m = STRBUF_INIT, line = STRBUF_INIT;
	uint64_t *ids = NULL, values[2];
	size_t alloc_ids = 0, nr_comments = meta ? meta->nr_comments : 0;
	uint64_t comment_base = S__FIXED + p->nr_strings;

	value_type(out, 1, S_INUSE_OBJECTS, S_COUNT);
	value_type(out, 1, S_INUSE_SPACE, S_BYTES);

	for (size_t i = 0; i < p->nr_samples; i++) {
		const struct profile_sample *s = &p->samples[i];
		const uint32_t *stack = profile_stack(p, i);

		ALLOC_GROW(ids, s->nr_frames, alloc_ids);
		for (uint32_t k = 0; k < s->nr_frames; k++)	/* leaf first */
			ids[k] = (uint64_t)stack[s->nr_frames - 1 - k] + 1;
		values[0] = (uint64_t)s->count;
		values[1] = (uint64_t)s->bytes;
		strbuf_reset(&m);
		pb_packed(&m, 1, ids, s->nr_frames);
		pb_packed(&m, 2, values, 2);	/* one per sample type, even 0 */
		pb_bytes(out, 2, m.buf, m.len);
	}

	for (size_t k = 0; k < p->nr_strings; k++) {
		strbuf_reset(&line);
		pb_uint(&line, 1, k + 1);		/* Line.function_id */
		strbuf_reset(&m);
		pb_uint(&m, 1, k + 1);			/* Location.id */
		pb_bytes(&m, 4, line.buf, line.len);	/* Location.line */
		pb_bytes(out, 4, m.buf, m.len);
	}
	for (size_t k = 0; k < p->nr_strings; k++) {
		strbuf_reset(&m);
		pb_uint(&m, 1, k + 1);			/* Function.id */
		pb_uint(&m, 2, S__FIXED + k);		/* Function.name */
		pb_uint(&m, 3, S__FIXED + k);		/* Function.system_name */
		pb_bytes(out, 5, m.buf, m.len);
	}

	for (size_t k = 0; k < S__FIXED; k++)
		pb_bytes(out, 6, fixed_strings[k], strlen(fixed_strings[k]));
	for (size_t k = 0; k < p->nr_strings; k++)
		pb_bytes(out, 6, p->strings[k], strlen(p->strings[k]));
	for (size_t k = 0; k < nr_comments; k++)
		pb_bytes(out, 6, meta->comments[k], strlen(meta->comments[k]));

	if (meta) {
		pb_uint(out, 9, (uint64_t)meta->time_nanos);
		pb_uint(out, 10, (uint64_t)meta->duration_nanos);
	}
	value_type(out, 11, S_SPACE, S_BYTES);
	pb_uint(out, 12, 1);
	for (size_t k = 0; k < nr_comments; k++)
		pb_uint(out, 13, comment_base + k);
	pb_uint(out, 14, S_INUSE_SPACE);

	free(ids);
	strbuf_release(&m);
	strbuf_release(&line);
}

int pprof_gzip(struct strbuf *out, const void *data, size_t len)
{
	z_stream z;
	uLong bound;
	int ret;

	memset(&z, 0, sizeof(z));
	/* windowBits 15 + 16: a gzip wrapper with zlib's fixed header (no
	 * name, mtime 0), so the output depends on DATA only. */
	ret = deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
			   Z_DEFAULT_STRATEGY);
	if (ret != Z_OK)
		return ret == Z_MEM_ERROR ? -ENOMEM : -EINVAL;
	bound = deflateBound(&z, (uLong)len);
	strbuf_grow(out, bound);
	z.next_in = (Bytef *)(uintptr_t)data;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)out->buf + out->len;
	z.avail_out = (uInt)bound;
	if ((uLong)len != z.avail_in || bound != z.avail_out) {
		deflateEnd(&z);
		return -EINVAL;	/* above 4 GiB: far beyond any profile */
	}
	ret = deflate(&z, Z_FINISH);
	if (ret != Z_STREAM_END) {
		deflateEnd(&z);
		return ret == Z_MEM_ERROR ? -ENOMEM : -EINVAL;
	}
	out->len += z.total_out;
	out->buf[out->len] = '\0';
	deflateEnd(&z);
	return 0;
}

int pprof_write(struct strbuf *out, const struct profile *p, const struct pprof_meta *m)
{
	struct strbuf raw = STRBUF_INIT;
	int ret;

	pprof_encode(&raw, p, m);
	ret = pprof_gzip(out, raw.buf, raw.len);
	strbuf_release(&raw);
	return ret;
}
