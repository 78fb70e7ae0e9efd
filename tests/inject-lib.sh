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
#   seccomp_unreadable_    why heapgrab could not read a seccomp filter
#                          here (empty when it can): it runs under one
#                          itself, or lacks CAP_SYS_ADMIN in the initial
#                          user namespace (what PTRACE_SECCOMP_GET_FILTER
#                          requires)
#   injectable_            whether heapgrab can inject here (else the
#                          reason in $ri_why_)
#   require_injectable_    skip when the fixtures this test starts inherit
#                          this shell's seccomp filter (a container's) and
#                          heapgrab cannot read it, so injects nothing

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

seccomp_unreadable_() {
	su_mode_=$(proc_field_ self Seccomp)
	su_cap_=$(proc_field_ self CapEff)
	su_ns_=$(readlink /proc/self/ns/user 2> /dev/null)
	if [ -n "$su_mode_" ] && [ "$su_mode_" != 0 ]; then
		echo "heapgrab would run under a seccomp filter itself (Seccomp: $su_mode_), and the kernel shows filters only to an unfiltered tracer"
	elif [ -z "$su_cap_" ] || [ $(( (0x$su_cap_ >> 21) & 1 )) != 1 ]; then
		echo "heapgrab would lack CAP_SYS_ADMIN, which the kernel requires to show a seccomp filter"
	elif [ -n "$su_ns_" ] && [ "$su_ns_" != "user:[4026531837]" ]; then
		echo "heapgrab would run in a user namespace of its own ($su_ns_): reading a filter needs CAP_SYS_ADMIN in the initial one"
	fi
}

# injectable_: status 0 when heapgrab can inject into the fixtures this
# test starts; else 1, with the reason in $ri_why_
injectable_() {
	ri_mode_=$(proc_field_ self Seccomp)
	[ -z "$ri_mode_" ] || [ "$ri_mode_" = 0 ] && return 0
	ri_why_=$(seccomp_unreadable_)
	[ -z "$ri_why_" ] && return 0
	ri_why_="every process started here runs under a seccomp filter (Seccomp: $ri_mode_ in /proc/self/status) that heapgrab cannot read: $ri_why_"
	return 1
}

require_injectable_() {
	injectable_ || skip_ "$ri_why_"
}
