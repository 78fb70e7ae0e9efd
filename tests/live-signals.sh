#!/bin/sh
# live-signals.sh - SIGTERM, SIGHUP or SIGKILL of heapgrab during a snapshot.
#
# As the SIGINT half of live-reliability.sh, 10 runs per signal against
# fx-churn: half after a random 0-50 ms, half as soon as the target shows
# it is traced (+0-5 ms).  heapgrab must end within 10 s without crashing;
# afterwards no thread of the target is traced or stopped; at the end the
# fixture's own checks pass (no EINTR in read()/nanosleep(), no damaged
# block).  SIGKILL cannot be handled: there the kernel's detach on tracer
# exit is what is tested.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
require_ptrace_

start_fixture fx-churn

for sig in TERM HUP KILL; do
	int_hits=0
	j=0
	while [ "$j" -lt 10 ]; do
		interrupt_hg "$sig$j" "$sig"
		j=$((j + 1))
	done
	log_ "SIG$sig: $int_hits of 10 signals arrived while the target was traced"
done

finish_fixture
cat "$FX_ERR" >&2
