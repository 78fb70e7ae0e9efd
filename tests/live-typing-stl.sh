#!/bin/sh
# live-typing-stl.sh - a C++ program on libstdc++'s containers: map,
# unordered_map, list, shared_ptr control blocks, unique_ptr, deque,
# optional and variant in map nodes; the program's own classes, the
# strings' buffers and libstdc++'s node types counted exactly
# (fx-typing-stl).
# Checks every count the fixture notes exactly (tests/check-types.py:
# type=, inferred=, prefix= rows, the untyped chunks it made), that the
# rows add up to the live totals, the census relations (check_census),
# and the fixture's own checks after heapgrab leaves.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
require_ptrace_

start_fixture fx-typing-stl
HG_OUT=live.json run_hg attach "$FX_PID" --format json
expect_rc 0 "attach --format json"
check_census live.json
HG_OUT=explain.txt run_hg attach "$FX_PID" --explain-types --top 30
expect_rc 0 "attach --explain-types"
sed 's/^/    /' explain.txt >&2
"$PYTHON3" "$srcdir/check-types.py" live.json --ready "$FX_READY" ||
	fail_ "census by type differs from the fixture's counts"

finish_fixture
