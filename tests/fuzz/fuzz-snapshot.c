/*
 * fuzz-snapshot.c - libFuzzer target for the snapshot file reader
 * (src/snapshot/read.c).
 *
 * Every input goes through snapshot_decode(). When it decodes, the
 * harness uses the result the way heapgrab does (census, census JSON, a
 * diff against itself) and checks the round trip: encoding the decoded
 * snapshot and decoding that again must give the same census JSON, and
 * re-encoding must be byte-identical (the writer is deterministic).
 *
 * Built with configure --enable-fuzzers (tests/fuzz.am): the reader is
 * compiled into the harness in fuzzing mode (snapshot-read.c: checksum
 * mismatches ignored, so mutations reach the parsers; a small
 * SNAP_MAX_RAW, so a tiny zstd frame cannot legitimately ask for
 * gigabytes); the rest comes from libheapgrab.a (HG_FUZZ_FULL_LIB: its
 * snapshot_free()). Without HG_FUZZ_FULL_LIB the harness carries its own
 * snapshot_free(), for a build by hand without the live code.
 * Seeds: any .hgs files (attach -o), e.g. from tests/snap-*.sh runs, and
 * some with the RSS section (attach --rss -o, rss -o: tests/rss-snapshot.sh
 * makes one; a failing test keeps its directory).
 * Run: make -C tests fuzz-snapshot-run (seeds from the tests' .hgs), or
 *   ./fuzz-snapshot -max_len=100000 -timeout=10 CORPUS_DIR SEED_DIR
 *   (a contents snapshot of a small process is about 80 KB)
 */
#include "config.h"
#include "analysis/census.h"
#include "analysis/diff.h"
#include "output/census-out.h"
#include "output/diff-out.h"
#include "snapshot/file.h"
#include "snapshot/snapshot.h"
#include "target/residency.h"
#include "target/target.h"
#include "util/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifndef HG_FUZZ_FULL_LIB
/* The same as src/snapshot/build.c's, without linking the live code. */
void snapshot_free(struct snapshot *s)
{
	if (!s)
		return;
	heap_walk_release(&s->walk);
	target_close(s->image);
	if (s->types) {
		for (size_t i = 0; i < s->types->nr_names; i++)
			free(s->types->names[i]);
		for (size_t i = 0; i < s->types->nr_no_dwarf; i++)
			free(s->types->no_dwarf[i]);
		free(s->types->names);
		free(s->types->no_dwarf);
		free(s->types->of_chunk);
		free(s->types->flags);
		free(s->types);
	}
	if (s->rss) {
		residency_release(&s->rss->res);
		free(s->rss->threads);
		free(s->rss->tunables);
		free(s->rss->malloc_env);
		free(s->rss->no_malloc);
		free(s->rss);
	}
	free(s->meta.exe);
	free(s);
}
#endif

static void census_json(const struct snapshot *s, unsigned warnings, struct strbuf *out)
{
	struct census_out_opts o = { .warnings = warnings };
	struct census c;

	census_build(s, &c);
	census_out_json(out, s, &c, &o);
	census_out_text(out, s, &c, &o);
	census_release(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snapshot *s = NULL, *s2 = NULL;
	struct snapshot_file_info info, info2;
	struct strbuf why = STRBUF_INIT, j1 = STRBUF_INIT, j2 = STRBUF_INIT;
	struct strbuf e1 = STRBUF_INIT, e2 = STRBUF_INIT;
	struct diff d;
	struct diff_opts dopts = { .chunks = true, .max_new = 10 };

	if (snapshot_decode(data, size, &why, &s, &info) < 0) {
		if (!why.len || strchr(why.buf, '\n'))
			abort();	/* every error has a one-line reason */
		strbuf_release(&why);
		return 0;
	}
	census_json(s, info.warnings, &j1);
	diff_build(s, s, &dopts, &d);
	if (d.nr_by_size || d.new_count)
		abort();	/* a snapshot against itself changes nothing */
	diff_out_json(&j1, &d, NULL);
	diff_release(&d);

	snapshot_encode(s, &info, &e1);
	if (snapshot_decode(e1.buf, e1.len, &why, &s2, &info2) < 0) {
		fprintf(stderr, "re-encoded snapshot does not decode: %s\n", why.buf);
		abort();
	}
	census_json(s2, info2.warnings, &j2);
	diff_build(s2, s2, &dopts, &d);
	diff_out_json(&j2, &d, NULL);
	diff_release(&d);
	if (j1.len != j2.len || memcmp(j1.buf, j2.buf, j1.len))
		abort();	/* the round trip changed the census */
	snapshot_encode(s2, &info2, &e2);
	if (e1.len != e2.len || memcmp(e1.buf, e2.buf, e1.len))
		abort();	/* encoding is not deterministic */

	snapshot_free(s);
	snapshot_free(s2);
	strbuf_release(&why);
	strbuf_release(&j1);
	strbuf_release(&j2);
	strbuf_release(&e1);
	strbuf_release(&e2);
	return 0;
}
