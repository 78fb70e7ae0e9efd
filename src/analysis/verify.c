/*
 * verify.c - the relations between a census and mallinfo2().
 *
 * glibc's int_mallinfo() (malloc/malloc.c, 2.26-2.41) counts, per arena:
 * every free chunk in the regular bins plus the top chunk (ordblks, and
 * their bytes in fordblks together with the fastbin chunks), the fastbin
 * chunks (smblks, fsmblks), and system_mem (arena); everything else in the
 * arena's system memory is "in use" (uordblks = system_mem - free), which
 * for heapgrab is in_use + tcache + overhead. The mmapped figures and
 * keepcost come from mp_ and the main arena's top. So each relation below
 * is one line of int_mallinfo() restated in heapgrab's terms.
 */
#include "config.h"
#include "analysis/verify.h"
#include "analysis/census.h"
#include "inject/inject.h"
#include "snapshot/snapshot.h"

#include <string.h>

static void add(struct verify *v, const char *field, const char *terms, uint64_t heapgrab,
		uint64_t allocator)
{
	struct verify_relation *r;

	if (v->nr >= VERIFY_MAX_RELATIONS)
		return;
	r = &v->rel[v->nr++];
	r->field = field;
	r->terms = terms;
	r->heapgrab = heapgrab;
	r->allocator = allocator;
	r->agree = v->wraps32 ? (uint32_t)heapgrab == (uint32_t)allocator : heapgrab == allocator;
	if (!r->agree)
		v->nr_disagree++;
}

void verify_build(const struct snapshot *s, const struct census *c,
		  const struct inject_mallinfo *mi, struct verify *ret)
{
	const struct heap_count *T = c->totals;
	uint64_t system = 0, keep = 0;
	struct verify v;

	memset(&v, 0, sizeof(v));
	v.function = mi->function;
	v.wraps32 = mi->wraps32;
	for (size_t i = 0; i < s->walk.nr_arenas; i++) {
		system += s->walk.arenas[i].system_bytes;
		if (s->walk.arenas[i].main)
			keep = s->walk.arenas[i].kinds[CHUNK_TOP].bytes;
	}
	add(&v, "uordblks", "in_use.bytes + tcache.bytes + overhead.bytes",
	    T[CHUNK_INUSE].bytes + T[CHUNK_TCACHE].bytes + c->overhead, mi->uordblks);
	add(&v, "fordblks", "bin.bytes + top.bytes + fastbin.bytes",
	    T[CHUNK_BIN].bytes + T[CHUNK_TOP].bytes + T[CHUNK_FASTBIN].bytes, mi->fordblks);
	add(&v, "ordblks", "bin.count + top.count", T[CHUNK_BIN].count + T[CHUNK_TOP].count,
	    mi->ordblks);
	add(&v, "smblks", "fastbin.count", T[CHUNK_FASTBIN].count, mi->smblks);
	add(&v, "fsmblks", "fastbin.bytes", T[CHUNK_FASTBIN].bytes, mi->fsmblks);
	add(&v, "hblks", "mmapped.count", T[CHUNK_MMAPPED].count, mi->hblks);
	add(&v, "hblkhd", "mmapped.bytes", T[CHUNK_MMAPPED].bytes, mi->hblkhd);
	add(&v, "arena", "sum(arenas[].system_bytes)", system, mi->arena);
	add(&v, "keepcost", "top bytes of the main arena", keep, mi->keepcost);
	*ret = v;
}
