#!/bin/sh
# live-stopped.sh - a target that is already stopped (SIGSTOP, job control).
#
# heapgrab must not hang on a group-stopped target, must give the exact
# census (every relation, as live-messy.sh), and must leave it stopped: a
# debugger that resumes a process the user stopped has changed it (CRIU
# re-stops such tasks, doc/glibc-malloc.md §10).  After SIGCONT the fixture's
# own checks must pass.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
require_ptrace_

start_fixture fx-messy --threads 2 --big-mib 0
kill -STOP "$FX_PID"
for _ in 1 2 3 4 5 6 7 8 9 10; do
	[ "$(proc_field_ "$FX_PID" State)" = T ] && break
	sleep 0.1
done
[ "$(proc_field_ "$FX_PID" State)" = T ] ||
	framework_failure_ "fixture did not stop"

HG_RUN_TIMEOUT=60 HG_OUT=census.json run_hg attach "$FX_PID" --format json
expect_rc 0 "heapgrab attach on a stopped target"
check_untouched "$FX_PID" stopped
check_census census.json --ready "$FX_READY"

kill -CONT "$FX_PID"
finish_fixture
