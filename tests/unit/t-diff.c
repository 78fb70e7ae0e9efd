/*
 * t-diff.c - diff arithmetic on synthetic snapshots: totals per kind and
 * overhead, size classes (growth, shrink, unchanged rows left out, the
 * total order), chunk identity (survived / new, the bounded list) and
 * the exact JSON of the contract.
 */
#include "config.h"
#include "tap.h"
#include "analysis/diff.h"
#include "output/diff-out.h"
#include "snapshot/snapshot.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <stdlib.h>

static struct snapshot *snap_new(uint64_t overhead)
{
	struct snapshot *s = xcalloc(1, sizeof(*s));

	heap_walk_init(&s->walk);
	s->walk.arenas = xcalloc(1, sizeof(*s->walk.arenas));
	s->walk.nr_arenas = 1;
	s->walk.arenas[0].main = true;
	s->walk.overhead = overhead;
	s->walk.system_bytes = 0x100000;
	s->meta.pid = 1;
	return s;
}

int main(void)
{
	struct snapshot *o = snap_new(600), *n = snap_new(640);
	struct diff_opts opts = { .chunks = true, .max_new = 2 };
	struct diff_out_opts dopts = { .list_new = true };
	struct strbuf sb = STRBUF_INIT;
	struct diff d;

	plan(16);
	/* OLD */
	heap_walk_add(&o->walk, 0x1000, 80, 0, CHUNK_INUSE);	/* A: survives */
	heap_walk_add(&o->walk, 0x1050, 80, 0, CHUNK_INUSE);	/* B: freed later */
	heap_walk_add(&o->walk, 0x10a0, 48, 0, CHUNK_TCACHE);	/* C: reused as E */
	heap_walk_add(&o->walk, 0x10d0, 112, 0, CHUNK_INUSE);	/* shrink */
	heap_walk_add(&o->walk, 0x1140, 112, 0, CHUNK_INUSE);	/* shrink */
	heap_walk_add(&o->walk, 0x11b0, 0x1000, 0, CHUNK_TOP);
	heap_walk_add(&o->walk, 0x7f0000000000, 4096, CHUNK_NO_ARENA, CHUNK_MMAPPED); /* D */
	/* NEW: walk order deliberately not address order */
	heap_walk_add(&n->walk, 0x7f0000100000, 8192, CHUNK_NO_ARENA, CHUNK_MMAPPED); /* G */
	heap_walk_add(&n->walk, 0x1000, 80, 0, CHUNK_INUSE);	/* A */
	heap_walk_add(&n->walk, 0x1050, 80, 0, CHUNK_BIN);	/* B, now free */
	heap_walk_add(&n->walk, 0x10a0, 48, 0, CHUNK_INUSE);	/* E: new at C's place */
	heap_walk_add(&n->walk, 0x10d0, 224, 0, CHUNK_BIN);
	heap_walk_add(&n->walk, 0x11b0, 80, 0, CHUNK_INUSE);	/* F: new */
	heap_walk_add(&n->walk, 0x1200, 0xfb0, 0, CHUNK_TOP);
	heap_walk_add(&n->walk, 0x7f0000000000, 4096, CHUNK_NO_ARENA, CHUNK_MMAPPED); /* D */

	diff_build(o, n, &opts, &d);
	ok(d.totals[CHUNK_INUSE].count_delta == -1 && d.totals[CHUNK_INUSE].bytes_delta == -176 &&
	   d.totals[CHUNK_INUSE].count == 3 && d.totals[CHUNK_INUSE].bytes == 208,
	   "in_use: 4 -> 3 chunks, 384 -> 208 bytes");
	ok(d.totals[CHUNK_TCACHE].count_delta == -1 && d.totals[CHUNK_TCACHE].bytes_delta == -48,
	   "tcache: -1, -48");
	ok(d.totals[CHUNK_BIN].count_delta == 2 && d.totals[CHUNK_BIN].bytes_delta == 304 &&
	   d.totals[CHUNK_BIN].bytes == 304, "bin: +2, +304");
	ok(d.totals[CHUNK_TOP].count_delta == 0 && d.totals[CHUNK_TOP].bytes_delta == -80,
	   "top: 0, -80");
	ok(d.totals[CHUNK_MMAPPED].count_delta == 1 && d.totals[CHUNK_MMAPPED].bytes_delta == 8192,
	   "mmapped: +1, +8192");
	ok(d.overhead.bytes_delta == 40 && d.overhead.bytes == 640 && d.system.bytes_delta == 0,
	   "overhead +40, arena memory unchanged");
	ok(d.live.count_delta == 0 && d.live.bytes_delta == 8192 - 176, "live: in use + mmapped");
	is_u64(d.nr_by_size, 3, "3 size classes changed (80 and 4096 did not)");
	ok(d.nr_by_size == 3 && d.by_size[0].size == 8192 && d.by_size[0].v.bytes_delta == 8192 &&
	   d.by_size[1].size == 48 && d.by_size[1].v.count_delta == 1 &&
	   d.by_size[1].v.count == 1 && d.by_size[2].size == 112 &&
	   d.by_size[2].v.count_delta == -2 && d.by_size[2].v.bytes_delta == -224 &&
	   d.by_size[2].v.count == 0 && d.by_size[2].v.bytes == 0,
	   "by_size: bytes delta descending; a vanished class keeps its row");
	ok(d.new_count == 3 && d.new_bytes == 48 + 80 + 8192, "new chunks: E, F, G");
	ok(d.survived_count == 2 && d.survived_bytes == 80 + 4096, "survived: A and D");
	ok(d.nr_new_chunks == 2 && d.new_chunks[0].addr == 0x10a0 &&
	   d.new_chunks[1].addr == 0x11b0, "list bounded by max_new, in address order");

	diff_out_json(&sb, &d, NULL);
	is_str(sb.buf,
	       "{\"heapgrab\": 1, \"totals\": {"
	       "\"in_use\": {\"count_delta\": -1, \"bytes_delta\": -176, \"count\": 3, \"bytes\": 208}, "
	       "\"tcache\": {\"count_delta\": -1, \"bytes_delta\": -48, \"count\": 0, \"bytes\": 0}, "
	       "\"fastbin\": {\"count_delta\": 0, \"bytes_delta\": 0, \"count\": 0, \"bytes\": 0}, "
	       "\"bin\": {\"count_delta\": 2, \"bytes_delta\": 304, \"count\": 2, \"bytes\": 304}, "
	       "\"top\": {\"count_delta\": 0, \"bytes_delta\": -80, \"count\": 1, \"bytes\": 4016}, "
	       "\"mmapped\": {\"count_delta\": 1, \"bytes_delta\": 8192, \"count\": 2, \"bytes\": 12288}, "
	       "\"overhead\": {\"bytes_delta\": 40, \"bytes\": 640}}, "
	       "\"by_type\": [], "
	       "\"by_size\": ["
	       "{\"size\": 8192, \"count_delta\": 1, \"bytes_delta\": 8192, \"count\": 1, \"bytes\": 8192}, "
	       "{\"size\": 48, \"count_delta\": 1, \"bytes_delta\": 48, \"count\": 1, \"bytes\": 48}, "
	       "{\"size\": 112, \"count_delta\": -2, \"bytes_delta\": -224, \"count\": 0, \"bytes\": 0}]}\n",
	       "JSON contract, exactly");
	strbuf_reset(&sb);
	diff_out_json(&sb, &d, &dopts);
	ok(strstr(sb.buf, "\"new_chunks\": {\"count\": 3, \"bytes\": 8320, \"survived_count\": 2, "
		  "\"survived_bytes\": 4176, \"chunks\": [{\"address\": \"0x10a0\", \"size\": 48}, "
		  "{\"address\": \"0x11b0\", \"size\": 80}]}}") != NULL, "--new adds new_chunks");
	strbuf_reset(&sb);
	dopts.old_taken = 1700000000;
	dopts.new_taken = 1700000060;
	diff_out_text(&sb, o, n, &d, &dopts);
	ok(strstr(sb.buf, "+1 chunk of 8,192 bytes, +8.0 KiB since ") &&
	   strstr(sb.buf, "-2 chunks of 112 bytes, -224 B since "), "text growth lines");
	diff_release(&d);

	/* identical snapshots: nothing changed */
	diff_build(o, o, &opts, &d);
	ok(d.nr_by_size == 0 && d.new_count == 0 && d.survived_count == 5 &&
	   d.totals[CHUNK_INUSE].count_delta == 0, "a snapshot against itself: no change");
	diff_release(&d);
	strbuf_release(&sb);
	snapshot_free(o);
	snapshot_free(n);
	return done();
}
