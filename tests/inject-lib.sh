# shellcheck shell=sh
# inject-lib.sh - helpers for the injection tests (tests/inject-*.sh),
# sourced after init.sh.
#
#   children_of PID        "PID STATE" of every child of PID (zombies too),
#                          from /proc/*/stat
#   expect_no_children PID WHAT
#                          PID must have no child left, live or zombie,
#                          within 10 s (a reaper may still be at work)
#   hg_tag_                a tag unique to this test; heapgrab runs with
#                          HG_TEST_TAG=$hg_tag_ in its environment (through
#                          HG_VALGRIND, the command prefix run_hg and
#                          spawn_hg use), and so does every process it
#                          starts (the reaper)
#   expect_no_tagged WHAT  no process carries the tag any more, within 10 s
#                          (heapgrab left nothing behind)
#   fx_children_ok WHAT    expect_no_children "$FX_PID" and expect_no_tagged
#   run_hg_in TID ARGS...  run_hg with HEAPGRAB_INJECT_TID=TID: heapgrab
#                          injects into thread TID
#   json_field FILE EXPR   a Python expression on the JSON document d

# shellcheck disable=SC2154 # me_ comes from init.sh
hg_tag_=hgtest-$me_-$$
HG_VALGRIND="env HG_TEST_TAG=$hg_tag_ $HG_VALGRIND"

children_of() {
	# "pid (comm) state ppid ...": the fields after the last ')'; cat
	# goes on past processes that vanish meanwhile.
	cat /proc/[0-9]*/stat 2> /dev/null | awk -v p="$1" '{
		n = 0
		for (i = length($0); i > 0; i--)
			if (substr($0, i, 1) == ")") { n = i; break }
		split(substr($0, n + 2), f, " ")
		if (f[2] == p) print $1, f[1]
	}'
}

expect_no_children() {
	i_=0
	while [ "$i_" -lt 200 ]; do
		left_=$(children_of "$1")
		[ -z "$left_" ] && return 0
		i_=$((i_ + 1))
		sleep 0.05
	done
	fail_ "$2: process $1 still has children (pid state): $left_"
}

tagged_pids() {
	grep -lsa "HG_TEST_TAG=$hg_tag_" /proc/[0-9]*/environ 2> /dev/null |
		sed 's|/proc/\([0-9]*\)/environ|\1|'
}

expect_no_tagged() {
	i_=0
	while [ "$i_" -lt 200 ]; do
		left_=$(tagged_pids)
		[ -z "$left_" ] && return 0
		i_=$((i_ + 1))
		sleep 0.05
	done
	for p_ in $left_; do
		log_ "left: $p_ $(tr '\0' ' ' < "/proc/$p_/cmdline" 2> /dev/null)"
	done
	fail_ "$1: processes heapgrab started are still there: $left_"
}

fx_children_ok() {
	expect_no_children "$FX_PID" "$1"
	expect_no_tagged "$1"
}

json_field() {
	"$PYTHON3" -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$1" "$2"
}

run_hg_in() {
	ri_saved_=$HG_VALGRIND
	HG_VALGRIND="env HEAPGRAB_INJECT_TID=$1 $HG_VALGRIND"
	shift
	run_hg "$@"
	HG_VALGRIND=$ri_saved_
}
