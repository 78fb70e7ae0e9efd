#!/bin/sh
# snap-bad.sh - damaged snapshot files and usage errors: show and diff
# give one line "heapgrab: cannot read snapshot 'F': REASON" and exit 2
# for a truncated file, a flipped byte, garbage, an empty file, a newer
# major version, a missing file and a directory; usage errors exit 64.
. "${srcdir=.}/init.sh"
require_ptrace_

start_fixture fx-messy --threads 0
run_hg attach "$FX_PID" -o good.hgs --quiet
expect_rc 0 "attach -o good.hgs --quiet"
finish_fixture

size=$(stat -c %s good.hgs)
head -c $((size / 2)) good.hgs > truncated.hgs
head -c 20 good.hgs > tiny.hgs
: > empty.hgs
printf 'hello, world\n' > text.hgs
head -c 4096 /dev/urandom > random.hgs
"$PYTHON3" - good.hgs << 'PYEOF' || framework_failure_ "cannot make damaged files"
import sys, zlib, struct
b = bytearray(open(sys.argv[1], "rb").read())
f = bytearray(b); f[len(f) - 3] ^= 0x10
open("flipped.hgs", "wb").write(f)
n = bytearray(b); n[8] = 2
n[44:48] = struct.pack("<I", zlib.crc32(bytes(n[:44])))
open("newer.hgs", "wb").write(n)
PYEOF

check_bad_() {
	run_hg show "$1"
	expect_rc 2 "show $1"
	expect_one_error "^heapgrab: cannot read snapshot '$1': $2" "show $1"
	run_hg diff "$1" good.hgs
	expect_rc 2 "diff $1 good.hgs"
	expect_one_error "^heapgrab: cannot read snapshot '$1': $2" "diff $1 good.hgs"
}
check_bad_ truncated.hgs "truncated"
check_bad_ tiny.hgs "truncated"
check_bad_ empty.hgs "not a heapgrab snapshot"
check_bad_ text.hgs "not a heapgrab snapshot"
check_bad_ random.hgs "not a heapgrab snapshot"
check_bad_ flipped.hgs "section [0-9]+: checksum mismatch"
check_bad_ newer.hgs "format version 2\.[0-9]+ is newer"
check_bad_ missing.hgs "no such file"
mkdir dir.hgs
check_bad_ dir.hgs "is a directory"

run_hg show good.hgs --format json
expect_rc 0 "show good.hgs"
run_hg diff good.hgs good.hgs --format json
expect_rc 0 "diff good.hgs good.hgs"
"$PYTHON3" -c 'import json, sys; d = json.load(open("hg.out")); sys.exit(d["by_size"] != [] or d["by_type"] != [])' ||
	fail_ "a snapshot against itself shows changes"

for args in "show" "show a b" "show --format xml good.hgs" "diff good.hgs" \
	"diff --by color good.hgs good.hgs" "attach 1 --quiet" "core x --quiet" \
	"watch" "watch 1 --interval 0" "watch 1 --interval 10parsecs" "watch 1 --count 0"; do
	# shellcheck disable=SC2086 # word splitting intended
	run_hg $args
	expect_rc 64 "heapgrab $args"
done
