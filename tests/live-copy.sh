#!/bin/sh
# live-copy.sh - what attach copies under the stop, and with how many
# threads.
#
# fx-messy --anon-mib 16 (a 16 MiB anonymous mapping outside the heap,
# every page written) in four ways, all of which must give one census:
#   1. attach --format json (typed): target.memory "writable"; the bytes
#      copied (-v) hold the whole 16 MiB mapping (smaps: its Rss)
#   2. attach --no-types: target.memory "heap"; at least 16 MiB fewer
#      bytes copied than in 1, and at least the arenas' system_bytes
#   3. the same with --fork: the same JSON as 2, byte for byte
#   4. HEAPGRAB_THREADS=1 and =3: the typed census (1) and the leak
#      report (which scans every word of the copy) byte for byte the same
#      as with the default thread count: the copy and the walk of the
#      thread arenas' heaps do not depend on how they were split
# and the fixture's own checks (heap, canaries, the 16 MiB pattern) pass.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
# shellcheck source-path=SCRIPTDIR source=inject-lib.sh
. "$srcdir/inject-lib.sh"
require_ptrace_
start_fixture fx-messy --threads 2 --big-mib 8 --anon-mib 16

anon=$(fx_note_ anon_buf)
anon_rss_kib=$(awk -v a="${anon#0x}" '
	$1 ~ /^[0-9a-f]+-[0-9a-f]+$/ { split($1, r, "-"); cur = (r[1] == a) }
	cur && $1 == "Rss:" { print $2; exit }' "/proc/$FX_PID/smaps")
[ -n "$anon_rss_kib" ] || framework_failure_ "no smaps entry for the mapping at $anon"
log_ "the --anon-mib mapping at $anon: Rss $anon_rss_kib KiB"
[ "$anon_rss_kib" -eq $((16 * 1024)) ] ||
	framework_failure_ "the 16 MiB mapping is not all resident ($anon_rss_kib KiB)"

# copied: the bytes copied, from heapgrab's -v line
copied() {
	sed -n 's/.*debug: pause .*(\([0-9]*\) bytes).*/\1/p' "$1" | head -n 1
}

HG_OUT=typed.json HG_ERR=typed.err run_hg attach "$FX_PID" --format json -v
expect_rc 0 "attach --format json -v"
HG_OUT=heap.json HG_ERR=heap.err run_hg attach "$FX_PID" --format json --no-types -v
expect_rc 0 "attach --no-types --format json -v"
"$PYTHON3" "$srcdir/check-census.py" census-same typed.json heap.json \
	--memory-a writable --memory-b heap || fail_ "census without types differs"
c_all=$(copied typed.err)
c_heap=$(copied heap.err)
[ -n "$c_all" ] && [ -n "$c_heap" ] || fail_ "no copy figure in the -v output"
log_ "copied: $c_all bytes typed, $c_heap bytes without types"
[ "$c_all" -ge $((c_heap + anon_rss_kib * 1024)) ] ||
	fail_ "without types $c_heap bytes copied, not at least the 16 MiB mapping fewer than $c_all"
system=$("$PYTHON3" -c 'import json, sys
print(sum(a["system_bytes"] for a in json.load(open(sys.argv[1]))["arenas"]))' heap.json)
[ "$c_heap" -ge "$system" ] ||
	fail_ "without types $c_heap bytes copied, less than the arenas' $system bytes"

if injectable_; then
	HG_OUT=fork.json HG_ERR=fork.err run_hg attach "$FX_PID" --format json --no-types --fork
	expect_rc 0 "attach --fork --no-types"
	cmp -s heap.json fork.json || {
		diff heap.json fork.json >&2
		fail_ "fork census without types differs from the copy census"
	}
else
	log_ "3. (--fork) not checked: $ri_why_"
fi

HG_OUT=leaks.json run_hg leaks "$FX_PID" --format json
expect_rc 0 "leaks --format json"
saved=$HG_VALGRIND
for n in 1 3; do
	HG_VALGRIND="env HEAPGRAB_THREADS=$n $saved"
	HG_OUT=typed-$n.json run_hg attach "$FX_PID" --format json
	expect_rc 0 "attach with $n threads"
	cmp -s typed.json "typed-$n.json" || fail_ "census with $n threads differs"
	HG_OUT=leaks-$n.json run_hg leaks "$FX_PID" --format json
	expect_rc 0 "leaks with $n threads"
	cmp -s leaks.json "leaks-$n.json" || fail_ "leak report with $n threads differs"
done
HG_VALGRIND=$saved
finish_fixture
