#!/bin/sh
# out-html.sh - the HTML report renders in a real browser (headless
# Chromium, offline, a fresh profile): no console message at all, the
# script runs to the end, and what it draws is the JSON's census.
#
# Pages: a census (show), a diff (both ways round) of snap-grow's growth
# of 5000 chunks of 208 bytes, and a watch of a steadily leaking target.
# For each, tests/check-formats.py dom reads Chromium's --dump-dom:
#  - the tables the script built hold the JSON's rows (by size, totals,
#    the types), formatted as the text output formats numbers;
#  - the icicle has a box per size class whose width is its share of the
#    (growing) bytes, within a pixel;
#  - diff and watch have growth charts; the watch's top suspect has one,
#    with the net growth the watch's own text report names;
# and a screenshot of each is made (a PNG that is not blank), kept as
# tests/out-html-*.png for people to look at.
# Slow (Chromium): runs with HG_VIEWER_TESTS=1 only (tests/out-lib.sh).
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
# shellcheck source-path=SCRIPTDIR source=out-lib.sh
. "$srcdir/out-lib.sh"
require_viewer_ chromium
require_ptrace_
HOME=${HOME:-$(pwd)}	# Chromium wants one; a CI runner may have none
export HOME

# chrome_ ARGS...: headless Chromium, offline, with a fresh profile.
chrome_() {
	rm -rf profile
	timeout -k 5 120 chromium --headless --no-sandbox --disable-gpu --disable-quic \
		--no-first-run --disable-background-networking --disable-component-update \
		--disable-sync --user-data-dir="$(pwd)/profile" --enable-logging=stderr --v=0 \
		--hide-scrollbars --window-size=1200,1600 "$@"
}

# browse PAGE: PAGE.dom (the DOM after the script ran), PAGE.png and
# PAGE.log (Chromium's log: console messages appear there as CONSOLE).
browse() {
	chrome_ --dump-dom "file://$(pwd)/$1.html" > "$1.dom" 2> "$1.log" ||
		{ tail -n 20 "$1.log" >&2; fail_ "chromium --dump-dom $1.html failed"; }
	chrome_ --screenshot="$(pwd)/$1.png" "file://$(pwd)/$1.html" > /dev/null 2>> "$1.log" ||
		{ tail -n 20 "$1.log" >&2; fail_ "chromium --screenshot $1.html failed"; }
	if grep CONSOLE "$1.log" >&2; then
		fail_ "$1.html: console messages (above)"
	fi
	[ -s "$1.png" ] || fail_ "no screenshot of $1.html"
	check_formats png "$1.png"
	cp "$1.png" "$HG_TESTS_BUILDDIR/out-html-$1.png" 2> /dev/null || :
}

grow_snapshots 5000
HG_OUT=census.html run_hg show new.hgs --format html
expect_rc 0 "show --format html"
browse census
check_formats dom census.dom new.json census

for pair in "old new" "new old"; do
	# shellcheck disable=SC2086 # two words
	set -- $pair
	HG_OUT=diff-$1.json run_hg diff "$1.hgs" "$2.hgs" --format json
	HG_OUT=diff-$1.html run_hg diff "$1.hgs" "$2.hgs" --format html
	expect_rc 0 "diff $1 $2 --format html"
	browse "diff-$1"
	check_formats dom "diff-$1.dom" "diff-$1.json" diff
done

"$HG_TESTS_BUILDDIR/snap-grow" --ready leak.ready leak > leak.out 2> leak.err < /dev/null &
LEAK_PID=$!
fx_all_="$fx_all_ $LEAK_PID"
for _ in $(seq 1 200); do
	grep -q '^ready ' leak.ready 2> /dev/null && break
	sleep 0.05
done
HG_ERR=watch.txt HG_OUT=watch.html run_hg watch "$LEAK_PID" --interval 300ms --count 8 \
	--format html
expect_rc 0 "watch --format html"
kill "$LEAK_PID"
grep -q '^leak suspects' watch.txt || {
	cat watch.txt >&2
	fail_ "watch --format html: no leak suspects in its report on stderr"
}
browse watch
check_formats dom watch.dom - watch watch.txt
