#!/bin/sh
# live-typing-trailing.sh - structs ending in x[1], x[0] and a flexible array in
# a trailing anonymous union: one struct per chunk; an intrusive queue whose
# links live in element k of a batch's trailing array reaches the batches
# and what their elements point to (fx-typing-trailing).
# Checks every count the fixture notes exactly (tests/check-types.py:
# type=, inferred=, prefix= rows, the untyped chunks it made), that the
# rows add up to the live totals, the census relations (check_census),
# and the fixture's own checks after heapgrab leaves.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
require_ptrace_

start_fixture fx-typing-trailing
HG_OUT=live.json run_hg attach "$FX_PID" --format json
expect_rc 0 "attach --format json"
check_census live.json
HG_OUT=explain.txt run_hg attach "$FX_PID" --explain-types --top 30
expect_rc 0 "attach --explain-types"
sed 's/^/    /' explain.txt >&2
"$PYTHON3" "$srcdir/check-types.py" live.json --ready "$FX_READY" ||
	fail_ "census by type differs from the fixture's counts"

finish_fixture
