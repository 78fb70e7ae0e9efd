#!/bin/sh
# live-interp-tagged.sh - tagged values (fx-interp-tagged).
#
# A union of pointer and scalar alternatives next to a tag byte (Lua's
# TValue) in a VM stack and in tables' array and hash parts; a hash
# node's key has its own tag byte, away from the key. Checks:
#  - strings and tables, reached only through tagged values (but for a
#    few a pointer of their own type reaches), have exactly the fixture's
#    counts, exact;
#  - the declines stay untyped, exactly: blobs (their tag is never learnt:
#    no blob is typed exactly), decoys (chunks of a table's or a string's
#    malloc size whose addresses are stored as integers) and the chunks
#    light pointers (void *) point to;
#  - no chunk is typed struct blob;
#  - the fixture's own checks pass after heapgrab leaves.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
require_ptrace_

start_fixture fx-interp-tagged -n 2
HG_OUT=live.json run_hg attach "$FX_PID" --format json
expect_rc 0 "attach --format json"
"$PYTHON3" "$srcdir/check-types.py" live.json --ready "$FX_READY" ||
	fail_ "census by type differs from the fixture's counts"
"$PYTHON3" "$srcdir/check-interp-fx.py" live.json --ready "$FX_READY" \
	--forbid 'struct blob' ||
	fail_ "a chunk that must stay untyped was typed, or the other way round"
check_census live.json
finish_fixture
