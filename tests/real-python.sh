#!/bin/sh
# real-python.sh - the census by type of CPython 3.11 (Debian's debug
# build, python3.11d, with PYTHONMALLOC=malloc so every object is a malloc
# chunk) against Python's own counts.
#
# tests/real-python.py builds 20,000 instances of a user class Session in
# a dict (each with a list of an int, a float and a str) and a list of
# 20,000 floats, collects, counts gc.get_objects() and everything
# gc.get_referents() reaches by type, prints the counts and waits. Checks,
# on the census of that process:
#  - rows named after the type objects, Session, list (gc.get_objects()),
#    float and dict (the referents walk), equal Python's counts within 2%;
#  - at least 90% of live bytes typed;
#  - no chunk typed as the object header or an array of it.
# Runs with HG_REAL_TESTS=1 (the CI's gcc stage). Skips unless
# python3.11d (Debian package python3.11-dbg) is installed.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
# shellcheck source=real-interp-lib.sh
. "$srcdir/real-interp-lib.sh"
real_gate "Debian python3.11-dbg"
require_ptrace_
PY=${PYTHON_DBG:-/usr/bin/python3.11d}
[ -x "$PY" ] || skip_ "python3.11d is not installed (Debian package python3.11-dbg)"

PYTHONMALLOC=malloc real_start py.out "$PY" "$srcdir/real-python.py" 20000 ||
	framework_failure_ "the Python driver did not get ready: $(tail -3 py.out)"
bg_all_="$bg_all_ $REAL_PID"
HG_OUT=py.json run_hg attach "$REAL_PID" --format json
expect_rc 0 "attach --format json"
"$PYTHON3" "$srcdir/check-real.py" python3.11d py.json --own py.out --tolerance 2 \
	--coverage 90 --count 'Session=py.gc.Session' --count 'list=py.gc.list' \
	--count 'float=py.ref.float' --count 'dict=py.ref.dict' \
	--max-wrong 'struct _object' --max-wrong 'struct _object[]' ||
	fail_ "the census by type differs from Python's own counts"
check_census py.json
check_untouched "$REAL_PID"
real_stop || fail_ "the Python driver failed after heapgrab left: $(tail -3 py.out)"
