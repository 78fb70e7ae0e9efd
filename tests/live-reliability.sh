#!/bin/sh
# live-reliability.sh - 100 attaches and 20 interrupted attaches on a
# target that never stops allocating.
#
# fx-churn: 6 threads churn malloc/calloc/realloc/free with content checks,
# one thread sits in read() on a pipe, one loops in nanosleep().
#  1. 100 x heapgrab attach --format json --no-types (the stop, not typing,
#     is what this tests; typing 100 times costs minutes on a loaded
#     machine): each exits 0 or 3 (busy), and
#     nothing else; at most 10 of the 100 may be 3; with 0 stderr is empty
#     and the census is complete and self-consistent (sum(system_bytes) =
#     in_use+tcache+fastbin+bin+top+overhead bytes; top.count = arenas);
#     with 3 stderr is one "heapgrab: " line.  After each run the target is
#     neither traced nor stopped (every thread).
#  2. 20 x heapgrab is sent SIGINT: odd runs after a random 0-50 ms, even
#     runs as soon as the target shows it is traced, plus 0-5 ms.  heapgrab
#     must end within 10 s and not crash (SIGSEGV/SIGABRT/SIGBUS/SIGFPE);
#     the target is not traced or stopped afterwards.
#  3. SIGUSR1: the fixture's workers check every block they hold, the
#     reader must get its 8 bytes with no EINTR or short read, the sleeper
#     must have seen no EINTR; it exits 0.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
require_ptrace_

start_fixture fx-churn
busy=0
good=
i=0
while [ "$i" -lt 100 ]; do
	HG_OUT=r$i.json HG_ERR=r$i.err run_hg attach "$FX_PID" --format json --no-types
	case $hg_rc in
	0)	good="$good r$i.json"
		HG_ERR=r$i.err expect_empty "r$i.err" "stderr of attach $i (status 0)" ;;
	3)	busy=$((busy + 1))
		HG_ERR=r$i.err expect_one_error . "attach $i (status 3)" ;;
	*)	sed 's/^/    /' "r$i.err" >&2
		fail_ "attach $i: status $hg_rc (only 0 or 3 are allowed)" ;;
	esac
	check_untouched "$FX_PID"
	i=$((i + 1))
done
log_ "100 attaches: $busy busy (status 3)"
[ "$busy" -le 10 ] || fail_ "$busy of 100 attaches gave up as busy (limit 10)"
# shellcheck disable=SC2086 # a list of file names
[ -z "$good" ] || "$PYTHON3" "$srcdir/check-census.py" batch $good ||
	fail_ "inconsistent censuses (see above)"


j=0
while [ "$j" -lt 20 ]; do
	interrupt_hg "$j" INT
	j=$((j + 1))
done
log_ "SIGINT: $int_hits of 20 signals arrived while the target was traced"

finish_fixture
cat "$FX_ERR" >&2
