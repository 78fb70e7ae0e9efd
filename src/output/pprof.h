/*
 * pprof.h - a profile (analysis/profile.h) as pprof's profile.proto,
 * gzipped: the file `go tool pprof` and the standalone pprof read.
 *
 * The profile has two sample types, inuse_objects/count and
 * inuse_space/bytes (the default), in that order, like the in-use half of
 * a Go heap profile, so pprof's -sample_index, top, tree, peek, -base and
 * flame graph views work as users know them. Each distinct frame string is
 * one Function (its name) and one Location (one Line of that function);
 * a sample's location_id list is its stack leaf first, as profile.proto
 * requires. A diff profile's values are the deltas (NEW - OLD), so
 * `pprof -base old.pb.gz new.pb.gz` and the diff agree.
 *
 * The encoder below (pb_*) is the small subset of the protocol buffer wire
 * format this needs: varints (wire type 0) and length-delimited fields
 * (wire type 2); int64 values are two's complement varints (10 bytes when
 * negative), as protobuf encodes int64 (not sint64, which would zigzag).
 * Zero scalars are left out, as proto3 encoders do.
 *
 * Everything appends to a caller-owned strbuf. Nothing prints.
 */
#ifndef HEAPGRAB_PPROF_H
#define HEAPGRAB_PPROF_H

#include "util/compiler.h"

struct strbuf;
struct profile;

/* Wire types (protobuf encoding spec). */
#define PB_VARINT 0
#define PB_LEN 2

void pb_varint(struct strbuf *sb, uint64_t v);
/* Field key: (field << 3) | wire type, as a varint. */
void pb_key(struct strbuf *sb, unsigned field, unsigned wire);
/* uint64/int64/bool field; nothing when V is 0. int64 goes as (uint64_t)v. */
void pb_uint(struct strbuf *sb, unsigned field, uint64_t v);
/* Length-delimited field (a string, bytes or an embedded message). */
void pb_bytes(struct strbuf *sb, unsigned field, const void *data, size_t len);
/* Packed repeated varints; nothing when N is 0. */
void pb_packed(struct strbuf *sb, unsigned field, const uint64_t *v, size_t n);

struct pprof_meta {
	int64_t time_nanos;		/* when taken (NEW for a diff); 0: unknown */
	int64_t duration_nanos;		/* diff: NEW - OLD; 0: none */
	const char *const *comments;	/* shown by pprof -comments */
	size_t nr_comments;
};

/* The uncompressed profile.proto message. M may be NULL. */
void pprof_encode(struct strbuf *out, const struct profile *p, const struct pprof_meta *m);
/* gzip LEN bytes at DATA onto OUT (zlib, deterministic header: no name, no
 * time). Returns 0 or -ENOMEM / -EINVAL from zlib. */
MUST_CHECK int pprof_gzip(struct strbuf *out, const void *data, size_t len);
/* pprof_encode + pprof_gzip: the .pb.gz file. Returns 0 or a negative error. */
MUST_CHECK int pprof_write(struct strbuf *out, const struct profile *p,
			   const struct pprof_meta *m);

#endif /* HEAPGRAB_PPROF_H */
