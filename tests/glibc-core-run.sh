#!/bin/sh
# glibc-core-run.sh - cores of a process under the glibc of one root
# (scripts/glibc-roots), the body of glibc-RELEASE-core.sh; by hand:
#   HG_GLIBC_RELEASE=jammy make -C build/tests check TESTS=glibc-core-run.sh
#
# fx-messy (3 threads, 4 arenas, one over 2 heaps) runs in the root, then:
#  1. its live census (tests/glibc-lib.sh root_census: dwarf and disasm);
#  2. gdb's gcore of it, taken from the host: its NT_FILE notes name the
#     files as the host sees them (ROOT/usr/lib/...);
#  3. a kernel core (SIGSEGV; core_pattern "core" or "core.%p" puts it in
#     the fixture's working directory inside the root): its notes name the
#     files as the process saw them (/usr/lib/...).
# Each core is read with `heapgrab core --sysroot ROOT`, with the root's
# libc debug info (found below the sysroot) and with --debug-dir EMPTY;
# every census must hold every relation against the fixture's mallinfo2
# and equal the live census. The kernel-core half is skipped alone when
# core_pattern sends cores elsewhere (a pipe, an absolute path).
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
# shellcheck source-path=SCRIPTDIR source=glibc-lib.sh
. "$srcdir/glibc-lib.sh"
: "${HG_GLIBC_RELEASE:?HG_GLIBC_RELEASE is not set (run glibc-RELEASE-core.sh)}"
require_ptrace_
glibc_root_init "$HG_GLIBC_RELEASE"
command -v "$GDB" > /dev/null 2>&1 || skip_ "gdb not found (gcore)"
root_build fx-messy

start_root_fixture fx-messy --threads 3 --big-mib 70
root_census live

"$GDB" -nx -batch -p "$FX_PID" -ex "gcore $(pwd)/gcore" > gcore.log 2>&1 < /dev/null
[ -s gcore ] || { cat gcore.log >&2; fail_ "gdb could not gcore pid $FX_PID"; }
check_untouched "$FX_PID"
root_core_census gcore gcore
"$PYTHON3" "$srcdir/check-census.py" same live.dwarf.json gcore.dwarf.json ||
	fail_ "the gcore's census differs from the live one"
rm -f gcore

pattern=$(cat /proc/sys/kernel/core_pattern 2> /dev/null)
case $pattern in
core|core.%p) ;;
*)
	log_ "core_pattern '$pattern' does not write into the working directory: kernel core not checked"
	finish_fixture
	exit 0 ;;
esac
kill -SEGV "$FX_PID"
st=0
wait "$FX_PID" || st=$?
[ "$st" -eq $((128 + 11)) ] || fail_ "fx-messy ended with status $st after SIGSEGV"
kcore=
for f in "$RW/core" "$RW/core.$FX_PID"; do
	[ -f "$f" ] && kcore=$f
done
[ -n "$kcore" ] || skip_ "the kernel wrote no core (RLIMIT_CORE, or a core filter)"
root_core_census kcore "$kcore"
"$PYTHON3" "$srcdir/check-census.py" same live.dwarf.json kcore.dwarf.json ||
	fail_ "the kernel core's census differs from the live one"
