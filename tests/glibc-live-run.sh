#!/bin/sh
# glibc-live-run.sh - live censuses under the glibc of one root
# (scripts/glibc-roots), the body of glibc-RELEASE-live.sh; by hand:
#   HG_GLIBC_RELEASE=jammy make -C build/tests check TESTS=glibc-live-run.sh
#
# In the root (its own gcc, its own libc.so.6, its libc6-dbg), attached from
# the host through /proc/PID/root, each census twice: with the root's libc
# debug info ("dwarf", found through the root by build-id or debuglink) and
# with --debug-dir EMPTY ("disasm": the disassembly recipes and the built-in
# layout table); both must hold every relation against the fixture's own
# mallinfo2 (mallinfo before 2.33) and be equal (tests/glibc-lib.sh):
#   fx-messy                     5 arenas, one over 3+ heaps, every kind of
#                                chunk (tests/live-messy.sh's fixture)
#   fx-messy --block-brk         non-contiguous main arena (mmapped segments)
#   fx-arenas, 8 x CPUs + 4 threads, no arena limit set: more threads than
#                                arena_get2's 8-per-core limit, so arenas are
#                                reused; the count must be glibc's own
#                                (malloc_info) and below threads + 1
# then the tunables and mallopt() runs of tunables_suite (glibc-lib.sh).
# Each fixture checks itself after heapgrab has detached.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
# shellcheck source-path=SCRIPTDIR source=glibc-lib.sh
. "$srcdir/glibc-lib.sh"
: "${HG_GLIBC_RELEASE:?HG_GLIBC_RELEASE is not set (run glibc-RELEASE-live.sh)}"
require_ptrace_
glibc_root_init "$HG_GLIBC_RELEASE"
root_build fx-messy fx-arenas

start_root_fixture fx-messy
root_census messy
# Symbols really came from the root's debug file, found by build-id or by
# debuglink below the root (-v prints the file heapgrab used).
HG_OUT=verbose.json run_hg attach -v "$FX_PID" --format json
expect_rc 0 "heapgrab -v attach"
grep -F "note: libc debug info: $(cd "$ROOT" && pwd -P)/usr/lib/debug/" hg.err > /dev/null || {
	cat hg.err >&2
	fail_ "the libc debug file did not come from $ROOT/usr/lib/debug"
}
finish_fixture

start_root_fixture fx-messy --block-brk --big-mib 0 --threads 2
root_census block-brk
finish_fixture

arena_reuse_test
tunables_suite
