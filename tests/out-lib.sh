# shellcheck shell=sh
# shellcheck disable=SC2034 # CORE, CORE_ARGS ...: set for the tests
# shellcheck disable=SC2154 # srcdir, HG_TESTS_BUILDDIR ...: from init.sh
# out-lib.sh - helpers for the output-format tests (tests/out-*.sh), sourced
# after init.sh.
#
#   grow_snapshots N   snap-grow (tests/snap-grow.c) before and after it
#                      allocates N chunks of 208 bytes: old.hgs/old.json
#                      and new.hgs/new.json (attach --format json -o), then
#                      lets it check itself and exit.  Between the two, the
#                      hook out_live_hook (if the test defines it) runs on
#                      the quiescent live target ($SG_PID).
#   frozen_core        the glibc 2.36 frozen core set (fixtures/cores) in
#                      ./frozen/: sets CORE, EXE, SYSROOT, EMPTY and
#                      CORE_ARGS (the options `heapgrab core` needs).
#   require_viewer_ WHAT
#                      the tests that run go tool pprof and Chromium are
#                      slow: they run only when HG_VIEWER_TESTS=1 (set by
#                      scripts/quickstart in its gcc stage, so CI runs
#                      them once, not in asan and distcheck too); skip
#                      (77) otherwise, and when WHAT is not installed.
#   check_formats ARGS tests/check-formats.py ARGS, failing the test with
#                      its report when anything disagrees.
#   require_pty_       skip (77) unless a pseudo-terminal can really be
#                      opened here (check-formats.py pty-probe forks on
#                      one, as pty_ does); the message says why not (a
#                      container without /dev/pts, no /dev/ptmx ...).
#   pty_ [VAR=VAL]... CMD ARGS
#                      run CMD on a pseudo-terminal (stdin, stdout and
#                      stderr), print what it wrote, return its status.

SG_PID=

# sg_value_ KEY: wait for "KEY ..." in snap-grow's ready file, print it.
sg_value_() {
	for _ in $(seq 1 600); do
		v_=$(awk -v k="$1" '$1 == k { sub(/^[a-z]*=/, "", $2); print $2 }' sg.ready \
			2> /dev/null)
		[ -n "$v_" ] && { echo "$v_"; return 0; }
		kill -0 "$SG_PID" 2> /dev/null ||
			framework_failure_ "snap-grow exited: $(cat sg.err)"
		sleep 0.05
	done
	framework_failure_ "snap-grow: no '$1' line"
}

grow_snapshots() {
	gs_sg_=$HG_TESTS_BUILDDIR/snap-grow
	[ -x "$gs_sg_" ] || framework_failure_ "$gs_sg_ not built"
	"$gs_sg_" --ready sg.ready grow "$1" > sg.out 2> sg.err < /dev/null &
	SG_PID=$!
	fx_all_="$fx_all_ $SG_PID"
	sg_value_ mallinfo2 > /dev/null
	HG_OUT=old.json run_hg attach "$SG_PID" --format json -o old.hgs
	expect_rc 0 "attach --format json -o old.hgs"
	if command -v out_live_hook > /dev/null 2>&1; then
		out_live_hook
	fi
	kill -USR1 "$SG_PID"
	sg_value_ grown > /dev/null
	HG_OUT=new.json run_hg attach "$SG_PID" --format json -o new.hgs
	expect_rc 0 "attach --format json -o new.hgs"
	check_untouched "$SG_PID"
	kill -USR1 "$SG_PID"
	gs_rc_=0
	wait_timeout_ "$SG_PID" 60 || gs_rc_=$?
	[ "$gs_rc_" -eq 0 ] ||
		fail_ "snap-grow failed its own checks (status $gs_rc_): $(cat sg.err)"
}

frozen_core() {
	command -v xz > /dev/null 2>&1 || skip_ "xz not installed (frozen cores)"
	# the 2.36 set: the other sets' sysroots hold other file names
	fc_set_=$srcdir/../fixtures/cores/glibc-2.36-x86_64
	[ -d "$fc_set_" ] || framework_failure_ "no frozen core set $fc_set_"
	mkdir -p frozen/empty
	for f_ in core exe sysroot/usr/lib/x86_64-linux-gnu/libc.so.6 \
		sysroot/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2; do
		mkdir -p "frozen/$(dirname "$f_")"
		xz -dc "$fc_set_/$f_.xz" > "frozen/$f_" ||
			framework_failure_ "cannot decompress $fc_set_/$f_.xz"
	done
	chmod +x frozen/exe
	CORE=$(pwd)/frozen/core
	EXE=$(pwd)/frozen/exe
	SYSROOT=$(pwd)/frozen/sysroot
	EMPTY=$(pwd)/frozen/empty
	CORE_ARGS="--exe $EXE --sysroot $SYSROOT --debug-dir $EMPTY"
}

require_viewer_() {
	[ "${HG_VIEWER_TESTS:-0}" = 1 ] ||
		skip_ "slow viewer test: runs with HG_VIEWER_TESTS=1 (scripts/quickstart's gcc stage sets it)"
	command -v "$1" > /dev/null 2>&1 || skip_ "$1 not installed"
}

require_pty_() {
	rp_why_=$("$PYTHON3" "$srcdir/check-formats.py" pty-probe 2>&1) ||
		skip_ "no pseudo-terminal can be opened here: $rp_why_"
}

pty_() { "$PYTHON3" "$srcdir/check-formats.py" pty "$@"; }

check_formats() {
	"$PYTHON3" "$srcdir/check-formats.py" "$@" > formats.log 2>&1 || {
		grep -v '^ok ' formats.log >&2
		fail_ "check-formats.py $1 $2 ...: the outputs disagree (above)"
	}
	log_ "check-formats.py $1 $2: $(grep -c '^ok ' formats.log) checks agree"
}
