#!/bin/sh
# out-pprof.sh - go tool pprof reads heapgrab's pprof output and finds in
# it what the JSON census says; `pprof -base OLD NEW` agrees with heapgrab's
# own diff.
#
# Oracle: go tool pprof (Debian's golang-go), a decoder heapgrab does not
# share any code with.  For each census (snap-grow before and after a
# growth of 5000 chunks of 208 bytes, fx-messy, the frozen core):
#  - `-raw`: every sample's stack and values; per type, per size class and
#    in total they equal the JSON (tests/check-formats.py);
#  - `-top -unit=B -nodefraction=0`, for inuse_space (the default) and
#    inuse_objects: flat and cum of every function equal the JSON's rows;
#  - -tree, -peek, -traces and -dot run and name the frames.
# For the diff, both ways round: `-raw -base old.pb.gz new.pb.gz` equals
# `-raw` of `heapgrab diff --format pprof`, and both equal heapgrab diff's
# JSON (per size class, per type, live total); -top -base likewise.
# Slow (go): runs with HG_VIEWER_TESTS=1 only (tests/out-lib.sh).
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
# shellcheck source-path=SCRIPTDIR source=out-lib.sh
. "$srcdir/out-lib.sh"
require_viewer_ go
require_ptrace_
# Everything go and pprof might write stays in the test directory, and go
# never looks for another toolchain.
PPROF_TMPDIR=$(pwd)
GOCACHE=$(pwd)/gocache
GOTOOLCHAIN=local
HOME=${HOME:-$(pwd)}
export PPROF_TMPDIR GOCACHE GOTOOLCHAIN HOME
go tool pprof -h > /dev/null 2>&1 || skip_ "go tool pprof does not run"

# gopprof OUT ARGS...: go tool pprof ARGS > OUT, which must succeed.
gopprof() {
	gp_out_=$1
	shift
	go tool pprof "$@" > "$gp_out_" 2> gopprof.err || {
		cat gopprof.err >&2
		fail_ "go tool pprof $* failed"
	}
	[ -s "$gp_out_" ] || fail_ "go tool pprof $* printed nothing"
}

# census_pprof PREFIX: PREFIX.pprof against PREFIX.json through go.
census_pprof() {
	gopprof "$1.raw" -raw "$1.pprof"
	gopprof "$1.topb" -top -unit=B -nodefraction=0 "$1.pprof"
	gopprof "$1.topc" -top -unit=B -nodefraction=0 -sample_index=inuse_objects "$1.pprof"
	check_formats census "$1.json" go-raw "$1.raw" go-top-bytes "$1.topb" \
		go-top-count "$1.topc"
	for view in -tree -traces -dot; do
		gopprof "$1.view" "$view" "$1.pprof"
		grep -q untyped "$1.view" || fail_ "go tool pprof $view $1.pprof: no 'untyped' frame"
	done
	gopprof "$1.view" -peek 'untyped' "$1.pprof"
	grep -q 'byte chunks\]' "$1.view" ||
		fail_ "go tool pprof -peek untyped: no size frame under untyped"
}

grow_snapshots 5000
for s in old new; do
	HG_OUT=$s.pprof run_hg show "$s.hgs" --format pprof
	expect_rc 0 "show $s.hgs --format pprof"
	census_pprof "$s"
done

for pair in "old new" "new old"; do
	# shellcheck disable=SC2086 # two words
	set -- $pair
	d=diff-$1-$2
	HG_OUT=$d.json run_hg diff "$1.hgs" "$2.hgs" --format json
	expect_rc 0 "diff $1 $2 --format json"
	HG_OUT=$d.pprof run_hg diff "$1.hgs" "$2.hgs" --format pprof
	expect_rc 0 "diff $1 $2 --format pprof"
	gopprof "$d.base.raw" -raw -base "$1.pprof" "$2.pprof"
	gopprof "$d.raw" -raw "$d.pprof"
	gopprof "$d.base.topb" -top -unit=B -nodefraction=0 -base "$1.pprof" "$2.pprof"
	gopprof "$d.base.topc" -top -unit=B -nodefraction=0 -sample_index=inuse_objects \
		-base "$1.pprof" "$2.pprof"
	check_formats same go-raw "$d.base.raw" go-raw "$d.raw"
	check_formats diff "$d.json" go-raw "$d.base.raw" go-top-bytes "$d.base.topb" \
		go-top-count "$d.base.topc" go-raw "$d.raw"
done
grep -Eq '^ +5000 +1040000: ' diff-old-new.raw ||
	fail_ "go tool pprof does not see +5000 chunks of 208 bytes: $(cat diff-old-new.raw)"
grep -Eq '^ +-5000 +-1040000: ' diff-new-old.raw ||
	fail_ "go tool pprof does not see -5000 chunks of 208 bytes: $(cat diff-new-old.raw)"

start_fixture fx-messy
HG_OUT=messy.json run_hg attach "$FX_PID" --format json -o messy.hgs
expect_rc 0 "attach fx-messy"
finish_fixture
HG_OUT=messy.pprof run_hg show messy.hgs --format pprof
expect_rc 0 "show messy.hgs --format pprof"
census_pprof messy

frozen_core
# shellcheck disable=SC2086 # CORE_ARGS is a list of options
HG_OUT=core.json run_hg core $CORE_ARGS --format json "$CORE"
expect_rc 0 "core --format json"
# shellcheck disable=SC2086
HG_OUT=core.pprof run_hg core $CORE_ARGS --format pprof "$CORE"
expect_rc 0 "core --format pprof"
census_pprof core
