#!/bin/sh
# cli-traced.sh - the target is already traced by another program.
#
# tests/hg-tracer holds every thread of the fixture with PTRACE_SEIZE
# (running, not stopped).  heapgrab attach must exit 2 with one line
# ("already traced"), nothing on stdout, and must not disturb the other
# tracer (TracerPid unchanged, process not stopped).  With strace
# installed the same is checked with strace -p as the other tracer.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
require_ptrace_

start_fixture fx-messy --threads 1 --big-mib 0

"$HG_TESTS_BUILDDIR/hg-tracer" hold "$FX_PID" held 2> tracer.err &
tracer=$!
bg_all_="$bg_all_ $tracer"
for _ in $(seq 100); do
	[ -s held ] && break
	kill -0 "$tracer" 2> /dev/null ||
		framework_failure_ "hg-tracer failed: $(cat tracer.err)"
	sleep 0.05
done
[ "$(proc_field_ "$FX_PID" TracerPid)" = "$tracer" ] ||
	framework_failure_ "hg-tracer does not trace $FX_PID"

run_hg attach "$FX_PID"
expect_rc 2 "heapgrab attach on a traced process"
expect_one_error "already traced" "heapgrab attach on a traced process"
expect_empty hg.out "stdout of heapgrab attach on a traced process"
[ "$(proc_field_ "$FX_PID" TracerPid)" = "$tracer" ] ||
	fail_ "the other tracer lost the process"
case $(proc_field_ "$FX_PID" State) in
t|T) fail_ "heapgrab left the traced process stopped" ;;
esac

# Release it; a seized tracee would stop on SIGUSR1 with nobody to resume it.
kill -TERM "$tracer"
wait "$tracer" 2> /dev/null || :
check_untouched "$FX_PID"

if command -v strace > /dev/null 2>&1; then
	strace -p "$FX_PID" -e trace=none -o /dev/null 2> strace.err &
	st=$!
	bg_all_="$bg_all_ $st"
	for _ in $(seq 100); do
		[ "$(proc_field_ "$FX_PID" TracerPid)" = "$st" ] && break
		sleep 0.05
	done
	if [ "$(proc_field_ "$FX_PID" TracerPid)" = "$st" ]; then
		run_hg attach "$FX_PID"
		expect_rc 2 "heapgrab attach on a process traced by strace"
		expect_one_error "already traced" "heapgrab attach (strace)"
		kill -INT "$st" 2> /dev/null
		wait "$st" 2> /dev/null || :
		check_untouched "$FX_PID"
	else
		log_ "strace did not attach: $(cat strace.err)"
		kill "$st" 2> /dev/null
	fi
fi
finish_fixture
