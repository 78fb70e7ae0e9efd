#!/bin/sh
# out-formats.sh - every output format says what the JSON census says.
#
# tests/check-formats.py reduces pprof (decoded here: gzip + protobuf),
# folded (bytes and count), csv and html (the data embedded in the page)
# to stacks and holds them against the JSON: totals, per type, per size
# class, row for row for csv and html; and a diff in every format against
# the diff JSON, both ways round (growth and shrink).  Shapes:
#  - snap-grow before and after it allocates 5000 chunks of 208 bytes:
#    attach in every format on the live target, show of both snapshots,
#    diff both ways; the growth in pprof is exactly +5000 chunks of 208
#    (the target's own number, not heapgrab's);
#  - fx-messy (arenas, mmapped and aligned chunks, many sizes) via show;
#  - the frozen core (fixtures/cores) via heapgrab core;
#  - the same snapshot gives the same pprof bytes twice.
# And the command line: pprof to a terminal is refused (one line, 64);
# --value without folded, an unknown format (the message lists the
# command's formats) and watch --format csv are usage errors (64, nothing
# on stdout).
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
# shellcheck source-path=SCRIPTDIR source=out-lib.sh
. "$srcdir/out-lib.sh"
require_ptrace_

# all_formats CMD ARGS... PREFIX: PREFIX.{json,pprof,csv,folded,fc,html}
all_formats() {
	af_pre_=$1
	shift
	for af_f_ in json pprof csv folded html; do
		HG_OUT=$af_pre_.$af_f_ run_hg "$@" --format "$af_f_"
		expect_rc 0 "heapgrab $* --format $af_f_"
		expect_empty hg.err "stderr of heapgrab $* --format $af_f_"
	done
	HG_OUT=$af_pre_.fc run_hg "$@" --format folded --value count
	expect_rc 0 "heapgrab $* --format folded --value count"
}

# census_formats PREFIX [JSON]: every format of PREFIX against JSON.
census_formats() {
	check_formats census "${2:-$1.json}" pprof "$1.pprof" csv "$1.csv" \
		folded-bytes "$1.folded" folded-count "$1.fc" html "$1.html"
}

# ---- snap-grow: attach on the live target, show, diff ----------------------------
out_live_hook() {
	for f in pprof csv folded html; do
		HG_OUT=live.$f run_hg attach "$SG_PID" --format "$f"
		expect_rc 0 "attach --format $f"
		expect_empty hg.err "stderr of attach --format $f"
	done
	HG_OUT=live.fc run_hg attach "$SG_PID" --format folded --value count
	expect_rc 0 "attach --format folded --value count"
	check_untouched "$SG_PID"
}
grow_snapshots 5000
check_formats census old.json pprof live.pprof csv live.csv folded-bytes live.folded \
	folded-count live.fc html live.html

for s in old new; do
	all_formats "$s-show" show "$s.hgs"
	cmp "$s.json" "$s-show.json" || fail_ "show --format json differs from attach's"
	census_formats "$s-show" "$s.json"
done
HG_OUT=again.pprof run_hg show new.hgs --format pprof
cmp new-show.pprof again.pprof || fail_ "two pprof outputs of one snapshot differ"

for pair in "old new" "new old"; do
	# shellcheck disable=SC2086 # two words
	set -- $pair
	all_formats "diff-$1-$2" diff "$1.hgs" "$2.hgs"
	check_formats diff "diff-$1-$2.json" pprof "diff-$1-$2.pprof" csv "diff-$1-$2.csv" \
		folded-bytes "diff-$1-$2.folded" folded-count "diff-$1-$2.fc" \
		html "diff-$1-$2.html"
done
# The target's own figure: exactly 5000 more chunks of 208 bytes.
"$PYTHON3" "$srcdir/check-formats.py" dump pprof diff-old-new.pprof > growth.txt
printf '%s\n' 'untyped;[208-byte chunks] [5000, 1040000, 0, 0]' > growth.want
cmp growth.want growth.txt || {
	diff growth.want growth.txt >&2
	fail_ "the pprof diff is not +5000 chunks of 208 bytes"
}
grep -qx 'untyped;\[208-byte chunks\] 0 1040000' diff-old-new.folded ||
	fail_ "differential folded line: $(cat diff-old-new.folded)"

# ---- fx-messy: many sizes, arenas, mmapped chunks ----------------------------------
start_fixture fx-messy
HG_OUT=messy.json run_hg attach "$FX_PID" --format json -o messy.hgs
expect_rc 0 "attach fx-messy -o messy.hgs"
finish_fixture
all_formats messy show messy.hgs
census_formats messy
grep -q '"mmapped": {"count": [1-9]' messy.json ||
	fail_ "fx-messy has no mmapped chunk: the test lost a shape"

# ---- the frozen core -------------------------------------------------------------------
frozen_core
# shellcheck disable=SC2086 # CORE_ARGS is a list of options
all_formats core core $CORE_ARGS "$CORE"
census_formats core

# ---- the command line ------------------------------------------------------------------
for bad in "show old.hgs --value count" "show old.hgs --format json --value count" \
	"show old.hgs --format folded --value lines" "show old.hgs --format svg" \
	"show old.hgs --color sometimes" "diff old.hgs new.hgs --format xml" \
	"watch 1 --format csv" "watch 1 --format pprof" "attach 1 --format yaml"; do
	# shellcheck disable=SC2086 # a command line
	run_hg $bad
	expect_rc 64 "heapgrab $bad"
	expect_empty hg.out "stdout of heapgrab $bad"
	grep -q '^heapgrab: ' hg.err || fail_ "heapgrab $bad: no error line"
done
run_hg show old.hgs --format svg
grep -q "unknown format 'svg' (text, json, pprof, folded, csv, html)" hg.err ||
	fail_ "show's unknown-format message does not list its formats: $(cat hg.err)"
run_hg watch 1 --format csv
grep -q "unknown format 'csv' (text, html)" hg.err ||
	fail_ "watch's unknown-format message does not list its formats: $(cat hg.err)"

# pprof to a terminal: last, it needs a pseudo-terminal (skip without one)
require_pty_
rc=0
pty_ "$HG" show old.hgs --format pprof > tty.out 2>&1 ||
	rc=$?
[ "$rc" -eq 64 ] || fail_ "pprof to a terminal: exit status $rc, want 64"
if [ "$(wc -l < tty.out)" -ne 1 ] || ! grep -q '^heapgrab: pprof output is binary' tty.out; then
	cat -v tty.out >&2
	fail_ "pprof to a terminal: not one error line"
fi
if od -An -tx1 tty.out | grep -q '1f 8b'; then
	fail_ "pprof to a terminal: gzip bytes were written"
fi

