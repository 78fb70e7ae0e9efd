#!/bin/sh
# real-lua.sh - the census by type of Debian's Lua 5.4 interpreter against
# Lua's own counts.
#
# tests/real-lua.lua builds 50,000 tables { name = "table-I", id = I },
# collects, walks everything reachable from the registry and prints how
# many tables, strings and Lua functions it found (and its
# collectgarbage("count") bytes), then waits. Checks, on the census of
# that process:
#  - struct Table and struct TString rows equal Lua's own counts within
#    2% (strings: the interpreter also holds strings no Lua value reaches,
#    reserved words and metamethod names). Lua functions are not checked:
#    nothing but the interpreter's optimized frames points to a closure
#    with its own type, so no tag value teaches what a closure is, and
#    closures stay untyped (a decline, not a guess);
#  - at least 90% of live bytes typed;
#  - no chunk typed as an array of the object header (struct GCObject[]).
# Runs with HG_REAL_TESTS=1 (the CI's gcc stage). Skips unless lua5.4 and
# its debug info (liblua5.4-0-dbg: the interpreter links liblua
# statically, the debug file is the executable's) are installed.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
# shellcheck source=real-interp-lib.sh
. "$srcdir/real-interp-lib.sh"
real_gate "Debian lua5.4 and liblua5.4-0-dbg"
require_ptrace_
LUA=${LUA:-/usr/bin/lua5.4}
[ -x "$LUA" ] || skip_ "lua5.4 is not installed (Debian package lua5.4)"
[ -n "$(real_debug_file "$LUA")" ] ||
	skip_ "no debug info for $LUA (Debian package liblua5.4-0-dbg)"

real_start lua.out "$LUA" "$srcdir/real-lua.lua" 50000 ||
	framework_failure_ "the Lua driver did not get ready: $(tail -3 lua.out)"
bg_all_="$bg_all_ $REAL_PID"
HG_OUT=lua.json run_hg attach "$REAL_PID" --format json
expect_rc 0 "attach --format json"
"$PYTHON3" "$srcdir/check-real.py" lua5.4 lua.json --own lua.out --tolerance 2 \
	--coverage 90 --count 'struct Table=lua.tables' --count 'struct TString=lua.strings' \
	--max-wrong 'struct GCObject[]' --max-wrong 'struct GCObject' ||
	fail_ "the census by type differs from Lua's own counts"
check_census lua.json
check_untouched "$REAL_PID"
real_stop || fail_ "the Lua driver failed after heapgrab left: $(tail -3 lua.out)"
