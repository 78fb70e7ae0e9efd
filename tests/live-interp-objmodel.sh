#!/bin/sh
# live-interp-objmodel.sh - objects typed by their type object
# (fx-interp-objmodel).
#
# Every reference is a struct object *; the concrete struct comes from the
# object's type pointer (static type objects, and heap type objects whose
# name is their own name field), most objects behind a 16-byte GC header.
# Checks:
#  - rows named after the type objects (dict, list, float, str, tuple,
#    opaque, and the user classes Session and Point) with exactly the
#    fixture's counts, the heap type objects themselves as "type";
#  - typing goes on past one hop with the concrete layouts: every dict's
#    keys (struct dictkeys), every list's items (struct object *[]), the
#    dicts Session instances hold in a word after the header;
#  - the declines stay untyped, exactly: objects whose type word points to
#    a plain buffer or to a dict (not a type object), and those buffers;
#  - no row is the header struct, an array of it, or named after a symbol
#    with the header's layout ("struct object (Dict_Type)");
#  - the fixture's own checks pass after heapgrab leaves.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
require_ptrace_

start_fixture fx-interp-objmodel -n 2
HG_OUT=live.json run_hg attach "$FX_PID" --format json
expect_rc 0 "attach --format json"
"$PYTHON3" "$srcdir/check-types.py" live.json --ready "$FX_READY" ||
	fail_ "census by type differs from the fixture's counts"
"$PYTHON3" "$srcdir/check-interp-fx.py" live.json --ready "$FX_READY" \
	--forbid 'struct object' --forbid 'struct object[]' \
	--forbid 'struct object (Dict_Type)' --forbid 'struct object (List_Type)' ||
	fail_ "a chunk that must stay untyped was typed, or the other way round"
check_census live.json
finish_fixture
