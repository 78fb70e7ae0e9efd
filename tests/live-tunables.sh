#!/bin/sh
# live-tunables.sh - the tunables users set, mallopt(), and more threads
# than arenas, under this machine's glibc: tests/glibc-lib.sh's
# tunables_suite and arena_reuse_test, each run a fixture whose census must
# hold every relation against its own mallinfo2, with and without libc
# debug info, and show the setting's effect:
#   glibc.malloc.tcache_count=0        no tcache chunk
#   glibc.malloc.mmap_threshold=1 MiB  no mmapped chunk
#   glibc.malloc.arena_max=2, MALLOC_ARENA_MAX=2, mallopt(M_ARENA_MAX, 3)
#                                      that many arenas
#   glibc.malloc.hugetlb=1, =2         (2.35+) THP madvise; heaps of 4 x
#                                      the huge page size
#   mallopt M_MXFAST=0 / =160, M_MMAP_MAX=0, M_TOP_PAD, M_TRIM_THRESHOLD,
#   M_MMAP_THRESHOLD, M_PERTURB
#   8 x CPUs + 4 threads, no arena limit: arenas reused, 8 x CPUs of them
# The same list runs under the roots' glibc releases (glibc-*-live.sh).
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
# shellcheck source-path=SCRIPTDIR source=glibc-lib.sh
. "$srcdir/glibc-lib.sh"
require_ptrace_
glibc_host_init

tunables_suite
arena_reuse_test
