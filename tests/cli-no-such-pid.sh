#!/bin/sh
# cli-no-such-pid.sh - heapgrab attach on a PID that does not exist:
# exit 2, nothing on stdout, one line "heapgrab: ... no such process".
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"

pid_max=$(cat /proc/sys/kernel/pid_max 2> /dev/null || echo 32768)
pid=$((pid_max - 1))
while [ -e "/proc/$pid" ] && [ "$pid" -gt 300 ]; do
	pid=$((pid - 1))
done
[ -e "/proc/$pid" ] && framework_failure_ "no free pid found"

run_hg attach "$pid"
expect_rc 2 "heapgrab attach $pid (no such process)"
expect_one_error "no such process" "heapgrab attach $pid"
expect_empty hg.out "stdout of heapgrab attach $pid"
grep -q "$pid" hg.err || fail_ "the error does not name pid $pid"

run_hg attach "$pid" --format json
expect_rc 2 "heapgrab attach $pid --format json"
expect_one_error "no such process" "heapgrab attach $pid --format json"
expect_empty hg.out "stdout of heapgrab attach $pid --format json"
