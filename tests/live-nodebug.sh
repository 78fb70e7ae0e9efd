#!/bin/sh
# live-nodebug.sh - without libc debug info the census is the same.
#
# fx-messy once; heapgrab attach --format json three times:
#   default                    "libc_symbols": "dwarf" when libc6-dbg is
#                              installed (otherwise this part is skipped)
#   --debug-dir EMPTY-DIR      must say "disasm" and satisfy every relation
#                              against mallinfo2 (and gdb's figures)
#   --no-debug-info            same, "disasm"
# and the three censuses must be identical apart from libc_symbols.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
require_ptrace_

start_fixture fx-messy
oracle=
if gdb_oracle "$FX_PID" oracle.json; then
	oracle=oracle.json
fi
mkdir empty-debug

HG_OUT=disasm.json run_hg attach "$FX_PID" --format json --debug-dir "$(pwd)/empty-debug"
expect_rc 0 "heapgrab attach --debug-dir EMPTY --format json"
expect_empty hg.err "stderr of heapgrab attach --debug-dir EMPTY"
check_untouched "$FX_PID"
set -- --ready "$FX_READY" --symbols disasm
[ -z "$oracle" ] || set -- "$@" --oracle "$oracle"
check_census disasm.json "$@"

HG_OUT=nodebug.json run_hg attach "$FX_PID" --format json --no-debug-info
expect_rc 0 "heapgrab attach --no-debug-info --format json"
expect_empty hg.err "stderr of heapgrab attach --no-debug-info"
check_untouched "$FX_PID"
check_census nodebug.json "$@"
"$PYTHON3" "$srcdir/check-census.py" same disasm.json nodebug.json ||
	fail_ "--debug-dir EMPTY and --no-debug-info censuses differ"

if have_libc_debuginfo_; then
	HG_OUT=dwarf.json run_hg attach "$FX_PID" --format json
	expect_rc 0 "heapgrab attach --format json"
	check_untouched "$FX_PID"
	set -- --ready "$FX_READY" --symbols dwarf
	[ -z "$oracle" ] || set -- "$@" --oracle "$oracle"
	check_census dwarf.json "$@"
	"$PYTHON3" "$srcdir/check-census.py" same dwarf.json disasm.json ||
		fail_ "the dwarf and disasm censuses differ"
else
	log_ "libc debug info not installed: dwarf comparison skipped"
fi

finish_fixture
