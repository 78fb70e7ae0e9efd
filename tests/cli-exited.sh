#!/bin/sh
# cli-exited.sh - the target exits during the snapshot.
#
# 30 runs: fx-messy (8 threads, 200 MiB arena) is killed with SIGKILL
# while heapgrab attaches to it: runs 0-19 sweep the snapshot window (the
# kill comes N ms after the target shows it is traced, N = 0..19; copying
# the heap takes about 20 ms here), runs 20-29 kill after a random 0-30 ms
# from heapgrab's start.  heapgrab must end within 30 s, never crash, and exit
# 0 (it finished first: then the census must be complete and consistent)
# or 2 with one line saying the target exited / no such process; never 1
# with a half-read census.  How many runs hit the snapshot itself is
# printed.  (A zombie target: cli-zombie.sh.)
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
require_ptrace_

mid=0
done_first=0
bad=0
i=0
while [ "$i" -lt 30 ]; do
	start_fixture fx-messy --threads 8 --big-mib 200
	HG_OUT=k$i.json HG_ERR=k$i.err spawn_hg attach "$FX_PID" --format json
	if [ "$i" -lt 20 ]; then
		tp=$("$HG_TESTS_BUILDDIR/hg-tracer" kill-when-traced "$FX_PID" \
			10000 9 "$FX_PID" "$((i * 1000))") || {
			tp=$(proc_field_ "$FX_PID" TracerPid)
			kill -KILL "$FX_PID"
		}
	else
		msleep_ "$(rand_ 31)"
		tp=$(proc_field_ "$FX_PID" TracerPid)
		kill -KILL "$FX_PID"
	fi
	wait "$FX_PID" 2> /dev/null
	rc=0
	wait_timeout_ "$HG_PID" 30 || rc=$?
	n=$(wc -l < "k$i.err")
	log_ "run $i: heapgrab status $rc, $n stderr line(s) (target traced at kill: ${tp:-?})"
	sed 's/^/    /' "k$i.err" >&2
	case $rc in
	0)	done_first=$((done_first + 1))
		"$PYTHON3" "$srcdir/check-census.py" batch "k$i.json" || {
			log_ "run $i: status 0 but the census is inconsistent"
			bad=$((bad + 1))
		} ;;
	2)	[ "${tp:-0}" = 0 ] || mid=$((mid + 1))
		if [ "$n" -ne 1 ] ||
		   ! grep -Eq '^heapgrab: .*(exited|no such process)' "k$i.err"; then
			log_ "run $i: want one line 'heapgrab: ... exited' (or no such process)"
			bad=$((bad + 1))
		fi ;;
	124)	log_ "run $i: heapgrab hung after the target was killed"
		bad=$((bad + 1)) ;;
	*)	log_ "run $i: heapgrab exited $rc (want 0 or 2)"
		bad=$((bad + 1)) ;;
	esac
	i=$((i + 1))
done
log_ "30 runs: $done_first finished before the kill, $mid were killed mid-snapshot, $bad bad"
[ "$bad" -eq 0 ] || fail_ "$bad of 30 runs misbehaved (see above)"
