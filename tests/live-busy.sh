#!/bin/sh
# live-busy.sh - a target whose threads live inside malloc.
#
# fx-churn --hot: 6 threads loop malloc/calloc/realloc/free with almost no
# work in between, so nearly every stop finds a thread inside the allocator
# (doc/glibc-malloc.md §10, the hard case).  20 attaches: each must exit 0 with a
# complete, self-consistent census (sum(system_bytes) = all kinds +
# overhead; top.count = arenas) or 3 with one "heapgrab: " line, never
# anything else and never a half-updated arena reported as fact; the
# target is never left traced or stopped, and its own checks pass.  How
# many were 3 is printed, not limited.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
require_ptrace_

start_fixture fx-churn --hot
busy=0
good=
i=0
while [ "$i" -lt 20 ]; do
	HG_OUT=b$i.json HG_ERR=b$i.err run_hg attach "$FX_PID" --format json
	case $hg_rc in
	0)	good="$good b$i.json" ;;
	3)	busy=$((busy + 1))
		HG_ERR=b$i.err expect_one_error . "attach $i (status 3)" ;;
	*)	sed 's/^/    /' "b$i.err" >&2
		fail_ "attach $i: status $hg_rc (only 0 or 3 are allowed)" ;;
	esac
	check_untouched "$FX_PID"
	i=$((i + 1))
done
log_ "20 attaches to a hot target: $busy busy (status 3)"
# shellcheck disable=SC2086 # a list of file names
[ -z "$good" ] || "$PYTHON3" "$srcdir/check-census.py" batch $good ||
	fail_ "inconsistent censuses (see above)"
finish_fixture
cat "$FX_ERR" >&2
