#!/bin/sh
# live-typing-o2.sh - roots only optimized code holds (fx-typing-o2, built
# -O2): a local kept in a callee-saved register of an outer frame, a
# parameter whose location at the PC is its entry value (the caller's call
# site says where it is), a static pointer in code without debug info
# (its list typed by shape). Also logs what the stack roots add
# (--unwinder=none against the default).
# Checks every count the fixture notes exactly (tests/check-types.py:
# type=, inferred=, prefix= rows, the untyped chunks it made), that the
# rows add up to the live totals, the census relations (check_census),
# and the fixture's own checks after heapgrab leaves.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
require_ptrace_

start_fixture fx-typing-o2
HG_OUT=live.json run_hg attach "$FX_PID" --format json
expect_rc 0 "attach --format json"
check_census live.json
HG_OUT=explain.txt run_hg attach "$FX_PID" --explain-types --top 30
expect_rc 0 "attach --explain-types"
sed 's/^/    /' explain.txt >&2
"$PYTHON3" "$srcdir/check-types.py" live.json --ready "$FX_READY" ||
	fail_ "census by type differs from the fixture's counts"

have_libc_debuginfo_ || log_ "no libc debug info: frames may stop early"
HG_OUT=nounwind.json run_hg attach "$FX_PID" --format json --unwinder=none
expect_rc 0 "attach --unwinder=none"
"$PYTHON3" - live.json nounwind.json <<'PY' >&2
import json, sys
def rows(f):
    return {(r["type"], r.get("inferred", False)): r["count"] for r in json.load(open(f))["by_type"]}
a, b = rows(sys.argv[1]), rows(sys.argv[2])
for k in sorted(set(a) | set(b), key=str):
    if a.get(k, 0) != b.get(k, 0):
        print("stack roots add: %s%s %d (without: %d)" % ("~" if k[1] else "", k[0], a.get(k, 0), b.get(k, 0)))
PY
finish_fixture
