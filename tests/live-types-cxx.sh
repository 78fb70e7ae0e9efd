#!/bin/sh
# live-types-cxx.sh - C++ objects typed by their vtables, std::vector and
# std::string buffers through the templates' own DWARF (fx-types-cxx).
#  - every class is counted under its dynamic type (Circle, Square,
#    geo::Poly) although only Shape * pointers hold them;
#  - the vectors' element buffers ("Shape *[]", "double[]",
#    "std::string[]") and the strings' heap buffers ("char[]") are exact;
#  - the fixture's own checks pass afterwards.
# Coverage is printed, not asserted: libstdc++'s 71 KiB emergency
# exception pool is untyped, Debian ships no detached debug info for it.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
require_ptrace_

start_fixture fx-types-cxx -n 12
HG_OUT=cxx.json run_hg attach "$FX_PID" --format json
expect_rc 0 "attach --format json"
"$PYTHON3" "$srcdir/check-types.py" cxx.json --ready "$FX_READY" ||
	fail_ "C++ census by type differs from the fixture's counts"
check_census cxx.json
finish_fixture
