/*
 * verify.h - heapgrab's census against the allocator's own mallinfo2().
 *
 * `heapgrab attach --verify` calls mallinfo2() inside the stopped target at
 * the instant its census shows (inject/calls.c) and compares the two,
 * relation by relation: the relations of the census contract
 * (doc/json-output.md, "Relations with mallinfo2"), plus keepcost, the
 * main arena's top chunk (glibc 2.36 malloc.c int_mallinfo()). On a heap
 * heapgrab read right, every one holds exactly.
 *
 * With mallinfo() (glibc < 2.33) the allocator's fields are ints that wrap
 * above 2 GiB; the comparison is then modulo 2^32.
 */
#ifndef HEAPGRAB_VERIFY_H
#define HEAPGRAB_VERIFY_H

#include "util/compiler.h"

struct census;
struct inject_mallinfo;
struct snapshot;

#define VERIFY_MAX_RELATIONS 12

struct verify_relation {
	const char *field;	/* the mallinfo2 field: "uordblks" (static) */
	const char *terms;	/* what heapgrab adds up (static) */
	uint64_t heapgrab;
	uint64_t allocator;
	bool agree;
};

struct verify {
	const char *function;	/* "mallinfo2" or "mallinfo" (static) */
	bool wraps32;
	struct verify_relation rel[VERIFY_MAX_RELATIONS];
	size_t nr;
	size_t nr_disagree;
};

/* Compare census C of snapshot S with MI. */
void verify_build(const struct snapshot *s, const struct census *c,
		  const struct inject_mallinfo *mi, struct verify *ret);

#endif /* HEAPGRAB_VERIFY_H */
