#!/bin/sh
# live-interp-header.sh - typing by common initial sequence (fx-interp-header).
#
# The fixture's objects repeat a header's members through a macro (Lua's
# CommonHeader) and are mostly reached through header pointers (the
# collector's list, tables' element arrays). Checks:
#  - every object struct has exactly the fixture's count, exact (the tag
#    byte picks the struct; tag values learnt from the objects a pointer of
#    their own type reaches);
#  - the declines stay untyped, exactly: threads (no thread typed exactly,
#    so their tag is never learnt) and userdata reached only through the
#    header (two structs of the same size learnt with the same tag);
#  - no chunk is typed as the header or as an array of headers;
#  - the fixture's own checks pass after heapgrab leaves.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
require_ptrace_

start_fixture fx-interp-header -n 2
HG_OUT=live.json run_hg attach "$FX_PID" --format json
expect_rc 0 "attach --format json"
"$PYTHON3" "$srcdir/check-types.py" live.json --ready "$FX_READY" ||
	fail_ "census by type differs from the fixture's counts"
"$PYTHON3" "$srcdir/check-interp-fx.py" live.json --ready "$FX_READY" \
	--forbid 'struct gcobj' --forbid 'struct gcobj[]' --forbid 'struct thread' ||
	fail_ "a chunk that must stay untyped was typed, or the other way round"
check_census live.json
finish_fixture
