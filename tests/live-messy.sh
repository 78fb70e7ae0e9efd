#!/bin/sh
# live-messy.sh - the census of a messy heap is exact.
#
# fx-messy (4 threads, 5 arenas, one arena over 3+ heaps, full tcache bins,
# fastbins, unsorted/small/large bins, mmapped and aligned chunks, realloc)
# with libc debug info.  Checks (tests/check-census.py):
#  - heapgrab attach --format json exits 0, prints nothing on stderr;
#  - the JSON has every field of the contract with the right types;
#  - against the fixture's own mallinfo2(): in_use+tcache+overhead bytes =
#    uordblks, bin.count+top.count = ordblks, fastbin count/bytes =
#    smblks/fsmblks, bin+top+fastbin bytes = fordblks, mmapped count/bytes
#    = hblks/hblkhd, sum(system_bytes) = arena; and sum(system_bytes) = all
#    kinds + overhead; top.count = number of arenas;
#  - target.pid, target.threads, number of arenas, heaps of the big arena,
#    target.glibc, libc_symbols "dwarf" (when libc6-dbg is installed);
#  - against gdb (tests/gdb-oracle.py): main_arena address, every arena
#    address and its system_mem, tcache count and bytes over all threads,
#    fastbin count and bytes, mp_.n_mmaps and mp_.mmapped_mem, threads;
#  - a second attach gives an identical census (nothing moved);
#  - the text output: exit 0, not empty, no addresses, and every number
#    of its tables equal to the JSON's (tests/check-text.py);
#  - the target is not traced or stopped afterwards, and its own checks
#    pass (mallinfo2 unchanged, canaries, list links, free() of everything).
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
require_ptrace_

start_fixture fx-messy
oracle=
if gdb_oracle "$FX_PID" oracle.json; then
	oracle=oracle.json
fi

HG_OUT=census.json run_hg attach "$FX_PID" --format json
expect_rc 0 "heapgrab attach $FX_PID --format json"
expect_empty hg.err "stderr of heapgrab attach --format json"
check_untouched "$FX_PID"

set -- --ready "$FX_READY"
[ -z "$oracle" ] || set -- "$@" --oracle "$oracle"
! have_libc_debuginfo_ || set -- "$@" --symbols dwarf
check_census census.json "$@"

HG_OUT=again.json run_hg attach "$FX_PID" --format json
expect_rc 0 "second attach"
check_untouched "$FX_PID"
"$PYTHON3" "$srcdir/check-census.py" same census.json again.json ||
	fail_ "two attaches to an unchanged target differ"

HG_OUT=text.out run_hg attach "$FX_PID"
expect_rc 0 "heapgrab attach $FX_PID (text)"
expect_empty hg.err "stderr of heapgrab attach (text)"
[ -s text.out ] || fail_ "text output is empty"
sed 's/^/    /' text.out >&2
if grep -Eq '0x[0-9a-fA-F]{5,}' text.out; then
	fail_ "default text output contains addresses (doc/HACKING.md: use -v or JSON)"
fi
"$PYTHON3" "$srcdir/check-text.py" text.out census.json >&2 ||
	fail_ "the text census does not say what the JSON says"
check_untouched "$FX_PID"

finish_fixture
