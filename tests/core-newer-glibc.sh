#!/bin/sh
# core-newer-glibc.sh - a glibc newer than the built-in layouts: refused
# without debug info, read through DWARF with it.
#
# The glibc 2.36 frozen core (fixtures/cores/glibc-2.36-x86_64) with a
# sysroot whose libc.so.6 says it is glibc 2.99: gnu_get_libc_version's
# string and the banner patched, build-id untouched (so the core reader
# still accepts the file and its debug file still matches).
#  - --debug-dir EMPTY: exit 2, one line on stderr naming 2.99, the known
#    range (2.26 to 2.41), the build-id and what to install; nothing on
#    stdout (no guessed census);
#  - --no-debug-info: the same, saying --no-debug-info was given;
#  - with this libc's debug file (where libc6-dbg 2.36-9+deb12u14 is
#    installed): exit 0, "glibc": "2.99", "dwarf", every relation against
#    the recorded mallinfo2.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
command -v xz > /dev/null 2>&1 || skip_ "xz not found"
set_dir=$srcdir/../fixtures/cores/glibc-2.36-x86_64
[ -f "$set_dir/core.xz" ] || framework_failure_ "no frozen set $set_dir"
lib=usr/lib/x86_64-linux-gnu
mkdir -p "sysroot/$lib" empty
for f in core exe sysroot/$lib/ld-linux-x86-64.so.2 sysroot/$lib/libc.so.6; do
	xz -dc "$set_dir/$f.xz" > "$f" || framework_failure_ "cannot decompress $f"
done
"$PYTHON3" - "sysroot/$lib/libc.so.6" << 'EOF2' || framework_failure_ "cannot patch libc"
import sys
p = sys.argv[1]
d = bytearray(open(p, "rb").read())
n = 0
i = d.find(b"2.36\0")
while i >= 0:
    if d[i - 6:i] != b"GLIBC_":      # keep the symbol versions
        d[i:i + 5] = b"2.99\0"
        n += 1
    i = d.find(b"2.36\0", i + 1)
b = d.find(b"release version 2.36.")
if b < 0 or n == 0:
    sys.exit("version strings not found")
d[b:b + 21] = b"release version 2.99."
open(p, "wb").write(d)
EOF2
bid=93ac61ec5a8eb1396f9fbd350e3169a558528a40

run_hg core --exe exe --sysroot sysroot --debug-dir "$(pwd)/empty" --format json core
expect_rc 2 "glibc 2.99 without debug info"
expect_one_error "core 'core': glibc 2\.99 is newer than the malloc layouts heapgrab knows \(2\.26 to 2\.41\), and no debug info for this libc \(build-id $bid\) was found: install its debug symbols" \
	"glibc 2.99 without debug info"
expect_empty hg.out "stdout of the refusal"

run_hg core --exe exe --sysroot sysroot --no-debug-info core
expect_rc 2 "glibc 2.99 --no-debug-info"
expect_one_error "glibc 2\.99 is newer than .*--no-debug-info was given \(libc build-id $bid\)" \
	"glibc 2.99 --no-debug-info"
expect_empty hg.out "stdout of the refusal"

f=/usr/lib/debug/.build-id/93/${bid#93}.debug
if [ -f "$f" ]; then
	HG_OUT=dwarf.json run_hg core --exe exe --sysroot sysroot --format json core
	expect_rc 0 "glibc 2.99 with its debug info"
	expect_empty hg.err "stderr with debug info"
	"$PYTHON3" "$srcdir/check-census.py" check dwarf.json --ready "$set_dir/ready" \
		--glibc 2.99 --symbols dwarf || fail_ "the DWARF census of 'glibc 2.99' is not exact"
else
	log_ "no debug file for build-id $bid here: the DWARF half is not checked"
fi
