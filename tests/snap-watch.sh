#!/bin/sh
# snap-watch.sh - watch on a steadily leaking program (snap-grow leak:
# 4 x 100-byte blocks, chunks of 112, every 10 ms; a pool of chunks of 320
# that grows and shrinks on a 1.3 s sine).  The top suspect must be the
# 112-byte class; the 320-byte class must not be a suspect.  -o DIR keeps
# every snapshot, each readable by show.  The target must be left running
# and untraced.
. "${srcdir=.}/init.sh"
require_ptrace_

SG=$HG_TESTS_BUILDDIR/snap-grow
[ -x "$SG" ] || framework_failure_ "$SG not built"
"$SG" --ready ready leak > sg.out 2> sg.err < /dev/null &
SG_PID=$!
fx_all_="$fx_all_ $SG_PID"
for _ in $(seq 1 600); do
	grep -q '^ready ' ready 2> /dev/null && break
	sleep 0.05
done
grep -q '^ready ' ready 2> /dev/null || framework_failure_ "snap-grow leak not ready"

HG_OUT=watch.out run_hg watch "$SG_PID" --interval 300ms --count 11 -o snaps
expect_rc 0 "watch --count 11"
check_untouched "$SG_PID"
cat watch.out >&2
n=$(grep -c '^[0-9:]* #[0-9]* live ' watch.out)
[ "$n" -eq 10 ] || fail_ "$n growth lines, want 10"
first=$(sed -n '/^leak suspects/{n;p;q}' watch.out)
case $first in
*" chunks of 112 bytes, "*"/hour") ;;
*) fail_ "top suspect is not the 112-byte class: '$first'" ;;
esac
! sed -n '/^leak suspects/,$p' watch.out | grep -q ' of 320 bytes' ||
	fail_ "the fluctuating 320-byte class is named a suspect"

nf=$(ls snaps/*.hgs | wc -l)
[ "$nf" -eq 11 ] || fail_ "$nf snapshots in snaps/, want 11"
last=$(ls snaps/*.hgs | tail -n 1)
HG_OUT=show.json run_hg show "$last" --format json
expect_rc 0 "show $last"

# Ctrl-C ends the watch with a report and leaves the target running.
HG_OUT=int.out spawn_hg watch "$SG_PID" --interval 200ms
sleep 1.5
kill -INT "$HG_PID"
rc=0
wait_timeout_ "$HG_PID" 30 || rc=$?
[ "$rc" -eq 0 ] || { cat hg.err >&2; fail_ "watch after SIGINT: status $rc"; }
grep -q '^leak suspects\|^no leak suspects' int.out ||
	fail_ "no report after SIGINT"
check_untouched "$SG_PID"
