#!/bin/sh
# leak-valgrind.sh - heapgrab's leak report of fx-leak against valgrind
# memcheck's, on the same program run to exit.
#
# heapgrab looks at a native run just before it exits (the fixture waits
# in the frame it exits from); memcheck (--leak-check=full, no heuristics)
# checks a run under valgrind at exit. Same program, same shapes:
#   memcheck definitely lost blocks             = heapgrab leak_roots.count
#   memcheck definitely + indirectly lost       = heapgrab leaked.count
#   memcheck possibly lost, minus the loss
#   records allocated by glibc's allocate_dtv   = heapgrab possibly_leaked
# (memcheck does not know that the thread descriptor points at dtv[1],
# 16 bytes into the DTV chunk; heapgrab does, see roots/regions.c).
#
# memcheck's client heap starts near 0x5200000 by default (about 86
# million), a number plain integers in the roots reach: ld.so keeps the
# TSC cycles its relocation took in relocate_time (its .bss), 57 to 145
# million in 60 runs here. When that count falls inside a leaked block,
# memcheck takes it for an interior pointer: the 300000-byte mmapped leak
# and its child turn "possibly lost", and memcheck counts 3 roots and 9
# leaked chunks where the fixture made 4 and 11 (1 run in 60 here). So
# memcheck runs with its client memory above 8 GiB (--aspace-minaddr, the
# highest valgrind accepts), beyond such counts, and the test checks that
# the heap went there.
# Skips (77) without valgrind, or when valgrind cannot read the fixture's
# debug info (valgrind 3.19 and clang 14's DWARF 5).
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
require_ptrace_
command -v valgrind > /dev/null 2>&1 || skip_ "no valgrind"

start_fixture fx-leak
HG_OUT=leaks.json run_hg leaks --format json "$FX_PID"
expect_rc 0 "leaks --format json"
"$PYTHON3" "$srcdir/check-leaks.py" leaks "$FX_READY" leaks.json ||
	fail_ "heapgrab's report does not match fx-leak's bookkeeping"
finish_fixture

rm -f vg.ready
vg_minaddr=0x200000000
valgrind --leak-check=full --show-leak-kinds=all --leak-check-heuristics=none \
	--aspace-minaddr="$vg_minaddr" \
	--log-file=vg.log "$FIXTURES/fx-leak" --ready vg.ready > vg.out 2> vg.err < /dev/null &
vg_pid=$!
bg_all_="$bg_all_ $vg_pid"
t=0
while ! grep -q '^ready ' vg.ready 2> /dev/null; do
	if ! kill -0 "$vg_pid" 2> /dev/null; then
		# valgrind 3.19 cannot read clang 14's DWARF 5
		grep -q 'debuginfo reader' vg.log &&
			skip_ "valgrind cannot read the fixture's debug info (compiler: clang?)"
		framework_failure_ "fx-leak under valgrind exited early: $(cat vg.err vg.log)"
	fi
	t=$((t + 1))
	[ "$t" -le 1200 ] || framework_failure_ "fx-leak under valgrind not ready in 120 s"
	sleep 0.1
done
# the blocks memcheck gave out lie above the small integers
low=$(awk -v min=$((vg_minaddr)) '
	$1 ~ /^(lost_head|cycle_low|chained_head|big|big_child|interior_chunk)$/ &&
	$2 < min { print $1 }' vg.ready)
[ -z "$low" ] || framework_failure_ "memcheck's heap is below $vg_minaddr: $low"
kill -USR1 "$(awk '$1 == "ready" { print $2 }' vg.ready)"
rc=0
wait_timeout_ "$vg_pid" 120 || rc=$?
[ "$rc" -eq 0 ] || { cat vg.err >&2; fail_ "fx-leak under valgrind exited with $rc"; }
grep -A6 'LEAK SUMMARY' vg.log >&2
"$PYTHON3" "$srcdir/check-leaks.py" valgrind vg.log leaks.json ||
	fail_ "heapgrab and memcheck disagree"
