#!/bin/sh
# inject-churn.sh - fork snapshots of a target that never stops allocating.
#
# fx-inject --churn 6: 6 threads churn malloc/calloc/realloc/free with
# content checks, beside threads blocked in read(), nanosleep() (a loop
# and a one-hour one), epoll_wait() and a raw read() with FP/AVX registers
# loaded, and a SIGCHLD counter.  HG_FORK_LOOPS times (default 20; the
# CI's gcc stage runs 100) heapgrab attach --fork --verify --format json:
#  - exits 0 or 3 (busy: a thread stayed inside the allocator), nothing
#    else; at most a tenth are 3; with 0 stderr is empty;
#  - with 0, the allocator's own mallinfo2(), called at the instant of the
#    fork, agrees with the census taken from the frozen child, relation by
#    relation (tests/check-census.py batch checks the rest of the contract);
#  - afterwards the target has no child, live or zombie, nothing heapgrab
#    started is left, and no thread is traced or stopped.
# Then the fixture's own checks: no SIGCHLD, no EINTR where the kernel
# restarts, no damaged block, masks, pending signals and FP state intact.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
# shellcheck source-path=SCRIPTDIR source=inject-lib.sh
. "$srcdir/inject-lib.sh"
require_ptrace_
require_injectable_

loops=${HG_FORK_LOOPS:-20}
start_fixture fx-inject --churn 6
busy=0
good=
i=0
while [ "$i" -lt "$loops" ]; do
	HG_OUT=r$i.json HG_ERR=r$i.err run_hg attach --fork --verify "$FX_PID" --format json --no-types
	case $hg_rc in
	0)	HG_ERR=r$i.err expect_empty "r$i.err" "stderr of attach --fork $i"
		"$PYTHON3" - "r$i.json" <<'EOF' || fail_ "attach --fork $i: mallinfo2 disagrees"
import json, sys
d = json.load(open(sys.argv[1]))
v = d.pop("verify")
bad = [r for r in v["relations"] if not r["agree"]]
for r in bad:
    print("%s: heapgrab %d, %s %d" % (r["field"], r["heapgrab"], v["function"], r["allocator"]))
json.dump(d, open(sys.argv[1], "w"))
sys.exit(1 if bad or not v["agree"] else 0)
EOF
		good="$good r$i.json" ;;
	3)	busy=$((busy + 1))
		HG_ERR=r$i.err expect_one_error . "attach --fork $i (status 3)" ;;
	*)	sed 's/^/    /' "r$i.err" >&2
		fail_ "attach --fork $i: status $hg_rc (only 0 or 3 are allowed)" ;;
	esac
	fx_children_ok "attach --fork $i"
	check_untouched "$FX_PID"
	i=$((i + 1))
done
log_ "$loops fork snapshots: $busy busy (status 3)"
[ "$busy" -le $((loops / 10)) ] ||
	fail_ "$busy of $loops fork snapshots gave up as busy (limit $((loops / 10)))"
# shellcheck disable=SC2086 # a list of file names
[ -z "$good" ] || "$PYTHON3" "$srcdir/check-census.py" batch $good ||
	fail_ "inconsistent censuses (see above)"
finish_fixture
cat "$FX_ERR" >&2
