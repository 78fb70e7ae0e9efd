#!/bin/bash
# typing-real-interp.sh BUILD_DIR [lua|python]...: typing of two
# interpreters against their own counts (bench/typing-real.sh runs it; it
# also runs alone; default: both).
#
#   lua5.4       Debian's lua5.4 (the interpreter links liblua statically;
#                its debug info is in liblua5.4-0-dbg), 50,000 tables
#                { name = "table-I", id = I } (tests/real-lua.lua)
#   python3.11d  Debian's debug build of CPython 3.11 with
#                PYTHONMALLOC=malloc (every object a malloc chunk), 20,000
#                instances of a user class in a dict, each with a list
#                holding an int, a float and a str, and a list of 20,000
#                floats (tests/real-python.py)
#
# Each driver builds its heap, counts it from inside (a registry walk for
# Lua, gc.get_objects() and gc.get_referents() for Python) and waits;
# tests/check-real.py prints heapgrab's figures (live chunks and bytes,
# exact / inferred / untyped shares, conflicts, typing time from -v) and,
# per type, heapgrab's count against the program's. With
# BEFORE=/path/to/old/heapgrab the same lines are printed for that binary
# too (the figures before a change). Needs root (apt-get, ptrace); prints
# figures only, never fails because a figure is low.
set -u
BUILD=${1:?usage: bench/typing-real-interp.sh BUILD_DIR}
HG=$(cd "$BUILD" && pwd)/src/heapgrab
WORK=${WORK:-/tmp/heapgrab-typing-real}/interp
mkdir -p "$WORK" || exit 2
INTERP_TESTS=$(cd "$(dirname "$0")/../tests" && pwd)
cd "$WORK" || exit 2
export DEBIAN_FRONTEND=noninteractive
# shellcheck source=../tests/real-interp-lib.sh
. "$INTERP_TESTS/real-interp-lib.sh"

interp_report() {	# NAME OWN-COUNTS-FILE PID COUNT-SPECS...
	name=$1 own=$2 pid=$3
	shift 3
	for hg in ${BEFORE:+"$BEFORE"} "$HG"; do
		tag=$name
		[ "$hg" = "$HG" ] || tag="$name(before)"
		"$hg" attach "$pid" --format json > "$tag.json" 2> "$tag.err"
		ms=$("$hg" attach "$pid" -v --top 1 2> /dev/null |
			sed -n 's/.*typing \([0-9.]*\) ms.*/\1/p')
		counts=()
		for c in "$@"; do counts+=("--count=$c"); done
		python3 "$INTERP_TESTS/check-real.py" "$tag" "$tag.json" --own "$own" \
			--typing-ms "${ms:-?}" "${counts[@]}"
	done
}

interp_lua() {
	if ! command -v lua5.4 > /dev/null || [ -z "$(real_debug_file /usr/bin/lua5.4)" ]; then
		echo "lua5.4       skipped: needs Debian's lua5.4 and liblua5.4-0-dbg"
		return
	fi
	if real_start lua.out lua5.4 "$INTERP_TESTS/real-lua.lua" 50000; then
		interp_report lua5.4 lua.out "$REAL_PID" \
			"struct Table=lua.tables" "struct TString=lua.strings" \
			"struct LClosure=lua.lclosures"
		echo "  (the program: $(grep '^lua bytes' lua.out | cut -d' ' -f3) bytes allocated, collectgarbage(\"count\"))"
		real_stop
	else
		echo "lua5.4       the driver did not start: $(tail -1 lua.out)"
	fi
}

interp_python() {
	if ! command -v python3.11d > /dev/null; then
		echo "python3.11d  skipped: needs Debian's python3.11-dbg"
		return
	fi
	if PYTHONMALLOC=malloc real_start py.out python3.11d "$INTERP_TESTS/real-python.py" 20000; then
		interp_report python3.11d py.out "$REAL_PID" \
			"Session=py.gc.Session" "list=py.gc.list" "float=py.ref.float" \
			"dict=py.ref.dict"
		real_stop
	else
		echo "python3.11d  the driver did not start: $(tail -1 py.out)"
	fi
}

apt-get install -y -q lua5.4 liblua5.4-0-dbg python3.11-dbg > apt-interp.log 2>&1 ||
	echo "apt-get failed (see $WORK/apt-interp.log)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
shift
for p in "${@:-lua python}"; do
	for q in $p; do
		"interp_$q"
	done
done
