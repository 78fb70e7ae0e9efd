#!/bin/sh
# run.sh TEST.sh - run one shell test the same way everywhere.
#
# automake's parallel harness calls it for every .sh test
# (SH_LOG_COMPILER = $(SHELL) $(srcdir)/run.sh).  It
#  - sets LC_ALL=C and unsets DEBUGINFOD_URLS (no network look-ups, and the
#    "dwarf" results come from the local libc6-dbg only);
#  - pins GLIBC_TUNABLES, for the fixtures' heap shapes and for heapgrab:
#      glibc.malloc.arena_max=8    fx-messy --threads 12 shares arenas the
#                                  same way on every machine (otherwise the
#                                  limit is 8 x cores)
#      glibc.malloc.tcache_count=7 the default, pinned against distribution
#                                  or environment changes
#      glibc.malloc.hugetlb=0      no THP/hugetlb heaps (2.35+; older glibc
#                                  ignores unknown tunables)
#    The mmap threshold is deliberately NOT pinned: pinning it turns off the
#    dynamic threshold, and fx-messy exercises the dynamic behaviour users
#    get (a freed mmapped chunk raises the threshold).  HG_FIXTURE_TUNABLES
#    carries the same value so each fixture can check it got it (exit 99).
#  - makes srcdir absolute (tests that source init.sh then move into their
#    own directory TEST.dir, removed after a pass, kept after a failure);
#  - wraps it in timeout (HG_TEST_TIMEOUT seconds, default 600): a hang is
#    reported as a failure, and the whole process group (fixtures included)
#    is killed.
# Exit statuses follow automake: 0 pass, 77 skip, 99 hard error, else fail.

test_script=$1
[ -n "$test_script" ] || { echo "run.sh: no test given" >&2; exit 99; }
case $test_script in
/*) ;;
*) test_script=$(pwd)/$test_script ;;
esac
[ -r "$test_script" ] || { echo "run.sh: cannot read $test_script" >&2; exit 99; }

LC_ALL=C
export LC_ALL
unset DEBUGINFOD_URLS DEBUGINFOD_CACHE_PATH MALLOC_CHECK_ MALLOC_PERTURB_ \
	LD_PRELOAD 2> /dev/null
GLIBC_TUNABLES=glibc.malloc.arena_max=8:glibc.malloc.tcache_count=7:glibc.malloc.hugetlb=0
HG_FIXTURE_TUNABLES=$GLIBC_TUNABLES
export GLIBC_TUNABLES HG_FIXTURE_TUNABLES

# The harness exports srcdir (relative to the build directory); make it
# absolute because the test runs elsewhere.
srcdir=$(cd "${srcdir:-.}" && pwd) || exit 99
export srcdir

name=$(basename "$test_script" .sh)

# The shell make runs tests with (HG_SHELL, from tests/Makefile.am), not
# the login shell that $SHELL may name.
sh=${HG_SHELL:-/bin/sh}
timeout=${HG_TEST_TIMEOUT:-600}
rc=0
if command -v timeout > /dev/null 2>&1; then
	timeout -k 10 "$timeout" "$sh" "$test_script" || rc=$?
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		echo "run.sh: $name: timed out after $timeout s (status $rc)" >&2
		rc=1
	fi
else
	"$sh" "$test_script" || rc=$?
fi

exit "$rc"
