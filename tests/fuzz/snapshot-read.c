/*
 * snapshot-read.c - the snapshot reader (src/snapshot/read.c) compiled
 * into the fuzz-snapshot harness with the fuzzing switches (see
 * fuzz-snapshot.c): checksums are not enforced, so that mutations reach
 * the parsers, and SNAP_MAX_RAW is small, so that a tiny zstd frame cannot
 * legitimately ask for gigabytes. The harness links this object ahead of
 * libheapgrab.a, whose own read.o is then never pulled in.
 */
#define FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION 1
#define SNAP_MAX_RAW ((uint64_t)64 << 20)
#include "snapshot/read.c"
