#!/bin/sh
# inject-kill.sh - heapgrab SIGKILLed in the middle of a fork snapshot
# leaves nothing behind.
#
# fx-inject --live 48: about 100 MiB of live, tracked chunks (the copy
# from the frozen child takes tens of milliseconds), beside its blocked
# threads and SIGCHLD counter.  20 runs of heapgrab attach --fork, each
# killed with SIGKILL (which heapgrab cannot catch):
#  - odd runs: as soon as the snapshot child exists (the target has a
#    child): heapgrab dies while it reads the child;
#  - even runs: as soon as the target shows it is traced, plus 0-5 ms
#    (tests/hg-tracer kill-when-traced): heapgrab dies anywhere from the
#    stop through the injected clone to the reap.
# After each run, within 10 s: the target has no child, live or zombie
# (PTRACE_O_EXITKILL killed the child; the reaper reaped it in the target),
# nothing heapgrab started is left, and the target is neither traced nor
# stopped.  At the end the fixture's own checks pass (every block intact,
# no SIGCHLD, blocked threads undisturbed, masks and FP state intact).
# How many kills landed while the child existed is printed, not limited.
# Then 6 runs ended with SIGINT or SIGTERM (caught: heapgrab detaches, then
# dies of the signal) as soon as the child exists: the same guarantees.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
# shellcheck source-path=SCRIPTDIR source=inject-lib.sh
. "$srcdir/inject-lib.sh"
require_ptrace_
require_injectable_

start_fixture fx-inject --live 48
child_hits=0
run=0
while [ "$run" -lt 20 ]; do
	HG_OUT=k$run.out HG_ERR=k$run.err spawn_hg attach --fork "$FX_PID" --format json
	case $run in
	*[13579])
		# until the target has a child, at most 10 s
		n=0
		while [ "$n" -lt 2000 ] && kill -0 "$HG_PID" 2> /dev/null; do
			if [ -n "$(children_of "$FX_PID")" ]; then
				child_hits=$((child_hits + 1))
				break
			fi
			n=$((n + 1))
		done
		kill -KILL "$HG_PID" 2> /dev/null ;;
	*)
		"$HG_TESTS_BUILDDIR/hg-tracer" kill-when-traced "$FX_PID" 10000 9 \
			"$HG_PID" "$(rand_ 5001)" > /dev/null ||
			kill -KILL "$HG_PID" 2> /dev/null ;;
	esac
	rc=0
	wait_timeout_ "$HG_PID" 20 || rc=$?
	[ "$rc" -ne 124 ] || fail_ "heapgrab did not end within 20 s of SIGKILL"
	log_ "run $run: heapgrab status $rc"
	fx_children_ok "run $run (SIGKILL)"
	check_untouched "$FX_PID"
	run=$((run + 1))
done
log_ "$child_hits of 10 kills came while the snapshot child existed"

# SIGINT and SIGTERM, which heapgrab catches (it detaches, then dies of the
# signal): the same guarantees, 3 of each, as soon as the child exists.
for sig in INT TERM INT TERM INT TERM; do
	HG_OUT=s$run.out HG_ERR=s$run.err spawn_hg attach --fork "$FX_PID" --format json
	n=0
	while [ "$n" -lt 2000 ] && kill -0 "$HG_PID" 2> /dev/null &&
	      [ -z "$(children_of "$FX_PID")" ]; do
		n=$((n + 1))
	done
	kill "-$sig" "$HG_PID" 2> /dev/null
	rc=0
	wait_timeout_ "$HG_PID" 20 || rc=$?
	[ "$rc" -ne 124 ] || fail_ "heapgrab did not end within 20 s of SIG$sig"
	case $rc in
	134|135|136|139) sed 's/^/    /' "s$run.err" >&2
		fail_ "heapgrab crashed (status $rc) after SIG$sig" ;;
	esac
	log_ "SIG$sig: heapgrab status $rc"
	fx_children_ok "SIG$sig"
	check_untouched "$FX_PID"
	run=$((run + 1))
done
finish_fixture
cat "$FX_ERR" >&2
