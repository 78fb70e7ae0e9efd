# shellcheck shell=sh
# init.sh - sourced by every tests/*.sh (POSIX sh; run through run.sh).
#
#   . "${srcdir=.}/init.sh"
#
# Environment (tests/Makefile.am exports it): HG (heapgrab binary), FIXTURES
# (built fixtures), HG_TESTS_BUILDDIR (built test helpers), srcdir,
# HG_VALGRIND (optional: a valgrind command line to run heapgrab under),
# PYTHON3, GDB, JEMALLOC_SO.
#
# Results: fail_ (exit 1), skip_ (exit 77), framework_failure_ (exit 99).
# Fixtures: start_fixture NAME [ARGS] starts fixtures/NAME --ready FILE,
# waits for "ready PID" and sets FX_PID, FX_READY (the ready file), FX_OUT
# and FX_ERR; finish_fixture sends SIGUSR1 and requires exit status 0 (the
# fixture's own checks passed); check_untouched PID requires TracerPid 0
# and a state other than t/T (stopped).  Every fixture still running when
# the test exits is killed.
# heapgrab: run_hg ARGS runs it with stdout in hg.out, stderr in hg.err and
# the status in hg_rc (override the files with HG_OUT / HG_ERR).

set -u

: "${HG:?HG is not set (run the tests through make check)}"
: "${FIXTURES:?FIXTURES is not set (run the tests through make check)}"
: "${HG_TESTS_BUILDDIR:=$(pwd)}"
: "${PYTHON3:=python3}"
: "${GDB:=gdb}"
: "${JEMALLOC_SO:=}"
: "${HG_VALGRIND:=}"
: "${srcdir:=.}"
: "${HG_READY_TIMEOUT:=60}"

me_=$(basename "$0" .sh)
hg_rc=0
fx_all_=
fx_seq_=0

log_() { printf '%s: %s\n' "$me_" "$*" >&2; }
fail_() { log_ "FAIL: $*"; exit 1; }
skip_() { log_ "SKIP: $*"; exit 77; }
framework_failure_() { log_ "HARNESS ERROR: $*"; exit 99; }

cleanup_() {
	cl_rc_=$?
	# Only the test's own shell cleans up, never a subshell.
	[ "$(exec sh -c 'echo $PPID')" = "$main_pid_" ] || return 0
	for p_ in $fx_all_ $bg_all_; do
		if kill -0 "$p_" 2> /dev/null; then
			kill -CONT "$p_" 2> /dev/null
			kill -KILL "$p_" 2> /dev/null
		fi
	done
	cd "$test_top_" || return
	case $cl_rc_ in
	0|77) rm -rf "$test_dir_" ;;
	*) log_ "status $cl_rc_; files kept in $test_top_/$test_dir_" ;;
	esac
}

# Each test runs in its own directory under the build directory.
test_top_=$(pwd)
test_dir_=$me_.dir
main_pid_=$$
bg_all_=
rm -rf "$test_dir_"
if ! mkdir "$test_dir_" || ! cd "$test_dir_"; then
	echo "$me_: cannot create $test_dir_" >&2
	exit 99
fi
trap 'cleanup_' EXIT
trap 'exit 99' HUP INT TERM

[ -x "$HG" ] || framework_failure_ "heapgrab not built: $HG"
command -v "$PYTHON3" > /dev/null 2>&1 ||
	skip_ "python3 not found (the JSON checks need it)"

# ---- small helpers --------------------------------------------------------

# rand_ N: a random integer in [0, N).
rand_() {
	od -An -N4 -tu4 /dev/urandom | awk -v n="$1" '{ print $1 % n }'
}

# msleep_ MS: sleep MS milliseconds (GNU sleep takes fractions).
msleep_() {
	sleep "$(awk -v m="$1" 'BEGIN { printf "%.3f", m / 1000 }')"
}

# proc_field_ PID FIELD: a field of /proc/PID/status ("" if gone).
proc_field_() {
	awk -v f="$2:" '$1 == f { print $2; exit }' "/proc/$1/status" \
		2> /dev/null
}

# ---- requirements ------------------------------------------------------------

require_root_() {
	[ "$(id -u)" -eq 0 ] || skip_ "needs root"
}

# require_ptrace_: skip when this environment does not allow ptrace at all
# (Yama scope 3, no CAP_SYS_PTRACE in a container, seccomp).  Probes a
# throwaway sleep process with tests/hg-tracer probe (seize, interrupt,
# detach).
require_ptrace_() {
	scope_=$(cat /proc/sys/kernel/yama/ptrace_scope 2> /dev/null || echo 0)
	[ "$scope_" = 3 ] && skip_ "ptrace disabled (yama ptrace_scope 3)"
	[ -x "$HG_TESTS_BUILDDIR/hg-tracer" ] ||
		framework_failure_ "$HG_TESTS_BUILDDIR/hg-tracer not built"
	sleep 30 &
	probe_pid_=$!
	probe_rc_=0
	"$HG_TESTS_BUILDDIR/hg-tracer" probe "$probe_pid_" 2> probe.err ||
		probe_rc_=$?
	kill "$probe_pid_" 2> /dev/null
	wait "$probe_pid_" 2> /dev/null
	case $probe_rc_ in
	0) ;;
	77) skip_ "ptrace not permitted here: $(cat probe.err)" ;;
	*) framework_failure_ "hg-tracer probe failed: $(cat probe.err)" ;;
	esac
}

# libc_path_ EXE: the libc.so.6 the program loads.
libc_path_() {
	ldd "$1" 2> /dev/null | awk '$1 == "libc.so.6" { print $3; exit }'
}

# have_libc_debuginfo_: the separate debug file of this libc is installed.
have_libc_debuginfo_() {
	lp_=$(libc_path_ "$FIXTURES/fx-messy")
	[ -n "$lp_" ] || return 1
	bid_=$(readelf -n "$lp_" 2> /dev/null |
		awk '/Build ID:/ { print $3; exit }')
	[ -n "$bid_" ] || return 1
	d_=$(printf '%s' "$bid_" | cut -c1-2)
	f_=$(printf '%s' "$bid_" | cut -c3-)
	[ -r "/usr/lib/debug/.build-id/$d_/$f_.debug" ]
}

# ---- fixtures ------------------------------------------------------------------

# start_fixture NAME [ARGS...]
start_fixture() {
	fx_name_=$1
	shift
	[ -x "$FIXTURES/$fx_name_" ] ||
		framework_failure_ "fixture not built: $FIXTURES/$fx_name_"
	fx_seq_=$((fx_seq_ + 1))
	FX_READY=$fx_name_.$fx_seq_.ready
	FX_OUT=$fx_name_.$fx_seq_.out
	FX_ERR=$fx_name_.$fx_seq_.err
	rm -f "$FX_READY"
	"$FIXTURES/$fx_name_" --ready "$FX_READY" "$@" \
		> "$FX_OUT" 2> "$FX_ERR" < /dev/null &
	FX_PID=$!
	fx_all_="$fx_all_ $FX_PID"
	t_=0
	while ! grep -q '^ready ' "$FX_READY" 2> /dev/null; do
		if ! kill -0 "$FX_PID" 2> /dev/null; then
			st_=0
			wait "$FX_PID" || st_=$?
			[ "$st_" -eq 77 ] && skip_ "$fx_name_: $(cat "$FX_ERR")"
			framework_failure_ "$fx_name_ $* exited with status $st_ before it was ready: $(cat "$FX_ERR")"
		fi
		t_=$((t_ + 1))
		[ "$t_" -le $((HG_READY_TIMEOUT * 20)) ] ||
			framework_failure_ "$fx_name_ not ready after $HG_READY_TIMEOUT s"
		sleep 0.05
	done
	rp_=$(awk '$1 == "ready" { print $2 }' "$FX_READY")
	[ "$rp_" = "$FX_PID" ] ||
		framework_failure_ "$fx_name_: ready file says pid $rp_, started $FX_PID"
	log_ "started $fx_name_ $* as pid $FX_PID"
}

# fx_note_ KEY: a note from the ready file (empty if absent).
fx_note_() {
	awk -v k="$1" '$1 == k { print $2; exit }' "$FX_READY"
}

# check_untouched PID [stopped]: TracerPid 0 and not stopped (or, with
# "stopped", group-stopped as before: state T).  A tracee is woken by the
# kernel when it is detached, but give the state a moment to settle.
check_untouched() {
	cu_pid_=$1
	cu_want_=${2:-running}
	kill -0 "$cu_pid_" 2> /dev/null || fail_ "process $cu_pid_ is gone"
	for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		cu_tracer_=$(proc_field_ "$cu_pid_" TracerPid)
		cu_state_=$(proc_field_ "$cu_pid_" State)
		case $cu_want_:$cu_state_ in
		running:[tT]) ;;
		stopped:T) [ "$cu_tracer_" = 0 ] && break ;;
		stopped:*) ;;
		*) [ "$cu_tracer_" = 0 ] && break ;;
		esac
		sleep 0.05
	done
	[ "$cu_tracer_" = 0 ] ||
		fail_ "process $cu_pid_ still traced (TracerPid $cu_tracer_)"
	case $cu_want_:$cu_state_ in
	running:[tT]) fail_ "process $cu_pid_ left stopped (State $cu_state_)" ;;
	stopped:T) ;;
	stopped:*) fail_ "process $cu_pid_ was group-stopped and is now State $cu_state_" ;;
	esac
	# Every thread, not just the leader.
	for cu_t_ in /proc/"$cu_pid_"/task/*; do
		cu_ts_=$(awk '$1 == "State:" { print $2 }' "$cu_t_/status" 2> /dev/null)
		cu_tt_=$(awk '$1 == "TracerPid:" { print $2 }' "$cu_t_/status" 2> /dev/null)
		[ -z "$cu_tt_" ] || [ "$cu_tt_" = 0 ] ||
			fail_ "thread ${cu_t_##*/} of $cu_pid_ still traced (TracerPid $cu_tt_)"
		if [ "$cu_want_" = running ]; then
			case $cu_ts_ in
			t|T) fail_ "thread ${cu_t_##*/} of $cu_pid_ left stopped (State $cu_ts_)" ;;
			esac
		fi
	done
}

# wait_timeout_ PID SECONDS: wait for a child; 124 if it had to be killed.
wait_timeout_() {
	# The watchdog is a separate sh, not a subshell: a subshell of this
	# shell killed early would run the test's traps.
	# shellcheck disable=SC2016 # expanded by the inner sh
	sh -c 'trap "kill \$s 2> /dev/null; exit 0" TERM
		sleep "$0" & s=$!; wait "$s" && kill -KILL "$1"' "$2" "$1" \
		> /dev/null 2>&1 &
	wt_dog_=$!
	wt_rc_=0
	wait "$1" || wt_rc_=$?
	if kill -0 "$wt_dog_" 2> /dev/null; then
		kill "$wt_dog_" 2> /dev/null
		wait "$wt_dog_" 2> /dev/null
	else
		wt_rc_=124
	fi
	return "$wt_rc_"
}

# shellcheck disable=SC2120 # the PID argument is optional
# finish_fixture [PID]: SIGUSR1, then the fixture must exit 0 within 60 s.
finish_fixture() {
	ff_pid_=${1:-$FX_PID}
	check_untouched "$ff_pid_"
	kill -USR1 "$ff_pid_" || fail_ "cannot signal fixture $ff_pid_"
	ff_rc_=0
	wait_timeout_ "$ff_pid_" 60 || ff_rc_=$?
	[ "$ff_rc_" -ne 124 ] ||
		fail_ "fixture $ff_pid_ did not exit within 60 s of SIGUSR1"
	if [ "$ff_rc_" -ne 0 ]; then
		cat "$FX_ERR" >&2
		fail_ "fixture $ff_pid_ failed its own checks (status $ff_rc_)"
	fi
	log_ "fixture $ff_pid_ passed its own checks"
}

# ---- heapgrab ---------------------------------------------------------------------

# run_hg ARGS...: status in hg_rc, output in $HG_OUT / $HG_ERR.  heapgrab
# gets HG_RUN_TIMEOUT seconds (default 120); a hang is a failure.
run_hg() {
	hg_out_=${HG_OUT:-hg.out}
	hg_err_=${HG_ERR:-hg.err}
	hg_rc=0
	# shellcheck disable=SC2086 # HG_VALGRIND is a command line
	timeout -k 5 "${HG_RUN_TIMEOUT:-120}" $HG_VALGRIND "$HG" "$@" \
		> "$hg_out_" 2> "$hg_err_" || hg_rc=$?
	log_ "heapgrab $* -> status $hg_rc"
	if [ "$hg_rc" -eq 124 ] || [ "$hg_rc" -eq 137 ]; then
		cat "$hg_err_" >&2
		fail_ "heapgrab $* did not finish within ${HG_RUN_TIMEOUT:-120} s"
	fi
	[ "$hg_rc" -ne 98 ] || {
		cat "$hg_err_" >&2
		fail_ "valgrind found errors in heapgrab $*"
	}
	[ "$hg_rc" -lt 128 ] || {
		cat "$hg_err_" >&2
		fail_ "heapgrab $* died of signal $((hg_rc - 128))"
	}
	return 0
}

# expect_rc WANT WHAT: heapgrab's last status must be WANT.
expect_rc() {
	[ "$hg_rc" -eq "$1" ] && return 0
	log_ "stderr of heapgrab:"
	sed 's/^/    /' "${HG_ERR:-hg.err}" >&2
	fail_ "$2: expected exit status $1, got $hg_rc"
}

# expect_one_error REGEX WHAT: stderr is exactly one line, starting
# "heapgrab: ", matching REGEX (extended, case-insensitive).
expect_one_error() {
	ee_file_=${HG_ERR:-hg.err}
	ee_n_=$(wc -l < "$ee_file_")
	[ "$ee_n_" -eq 1 ] || {
		sed 's/^/    /' "$ee_file_" >&2
		fail_ "$2: expected one line on stderr, got $ee_n_"
	}
	grep -q '^heapgrab: ' "$ee_file_" || {
		sed 's/^/    /' "$ee_file_" >&2
		fail_ "$2: the error does not start with 'heapgrab: '"
	}
	grep -Eqi -- "$1" "$ee_file_" || {
		sed 's/^/    /' "$ee_file_" >&2
		fail_ "$2: the error does not match /$1/"
	}
}

# expect_empty FILE WHAT
expect_empty() {
	[ ! -s "$1" ] || {
		sed 's/^/    /' "$1" >&2
		fail_ "$2: expected $1 to be empty"
	}
}

# check_census JSON [check-census.py options...]
check_census() {
	cc_json_=$1
	shift
	"$PYTHON3" "$srcdir/check-census.py" check "$cc_json_" "$@" ||
		fail_ "census $cc_json_ breaks the contract (see above)"
}

# gdb_oracle PID OUT: gdb's view of the heap (tests/gdb-oracle.py); returns
# 1 when gdb or libc debug info is missing (callers go on without it).
gdb_oracle() {
	command -v "$GDB" > /dev/null 2>&1 || { log_ "no gdb: oracle skipped"; return 1; }
	have_libc_debuginfo_ || { log_ "no libc debug info: gdb oracle skipped"; return 1; }
	rm -f "$2"
	HG_ORACLE_OUT=$2 "$GDB" -nx -batch -p "$1" -x "$srcdir/gdb-oracle.py" \
		> gdb.log 2>&1 < /dev/null
	[ -s "$2" ] || { cat gdb.log >&2; framework_failure_ "gdb oracle failed"; }
	check_untouched "$1"
	return 0
}

# spawn_hg ARGS...: start heapgrab in the background with the default
# dispositions for SIGINT/SIGQUIT (a non-interactive shell would start it
# with them ignored), output in $HG_OUT / $HG_ERR; sets HG_PID.
spawn_hg() {
	# shellcheck disable=SC2086 # HG_VALGRIND is a command line
	if env --default-signal=INT true > /dev/null 2>&1; then
		env --default-signal=INT,QUIT $HG_VALGRIND "$HG" "$@" \
			> "${HG_OUT:-hg.out}" 2> "${HG_ERR:-hg.err}" &
	else
		"$PYTHON3" -c 'import os, signal, sys
for s in (signal.SIGINT, signal.SIGQUIT):
    signal.signal(s, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])' $HG_VALGRIND "$HG" "$@" \
			> "${HG_OUT:-hg.out}" 2> "${HG_ERR:-hg.err}" &
	fi
	HG_PID=$!
	bg_all_="$bg_all_ $HG_PID"
}

# census_test_ FIXTURE [ARGS...]: the standard test on a quiescent fixture:
# gdb's view first (when gdb and libc debug info are there), then
# heapgrab attach --format json must exit 0 with nothing on stderr, leave
# the target untouched, and its census must satisfy every relation against
# the fixture's mallinfo2 line, the fixture's notes and gdb's figures; the
# fixture's own checks must pass afterwards.
census_test_() {
	ct_fx_=$1
	shift
	start_fixture "$ct_fx_" "$@"
	ct_oracle_=
	if gdb_oracle "$FX_PID" oracle.json; then
		ct_oracle_=oracle.json
	fi
	HG_OUT=census.json run_hg attach "$FX_PID" --format json
	check_untouched "$FX_PID"
	set -- --ready "$FX_READY"
	[ -z "$ct_oracle_" ] || set -- "$@" --oracle "$ct_oracle_"
	! have_libc_debuginfo_ || set -- "$@" --symbols dwarf
	if [ "$hg_rc" -ne 0 ]; then
		# Show every relation anyway: it tells where the bytes went.
		if [ -s census.json ]; then
			"$PYTHON3" "$srcdir/check-census.py" check census.json \
				"$@" --allow-warnings || :
		fi
		expect_rc 0 "heapgrab attach $FX_PID --format json"
	fi
	expect_empty hg.err "stderr of heapgrab attach --format json"
	check_census census.json "$@"
	# Without types only what the census reads is copied (target.memory
	# "heap", or "writable" for heap shapes that copy does not follow):
	# the census must not change.
	HG_OUT=census-nt.json run_hg attach "$FX_PID" --format json --no-types
	expect_rc 0 "heapgrab attach $FX_PID --format json --no-types"
	"$PYTHON3" "$srcdir/check-census.py" census-same census.json census-nt.json \
		--memory-a writable --memory-b heap,writable ||
		fail_ "the census without types differs from the typed one"
	check_untouched "$FX_PID"
	finish_fixture
}

# interrupt_hg N SIGNAL: start heapgrab attach $FX_PID --format json and
# send it SIGNAL: for N ending in an odd digit after a random 0-50 ms, else
# from hg-tracer kill-when-traced as soon as the target shows it is traced,
# plus 0-5 ms.  heapgrab must end within 10 s and not crash; the target
# must be untraced and running afterwards.  Signals that arrived while the
# target was traced are counted in int_hits.  Output in s$N.out / s$N.err.
int_hits=0
interrupt_hg() {
	HG_OUT=s$1.out HG_ERR=s$1.err spawn_hg attach "$FX_PID" --format json
	ih_tp_=
	case $1 in
	*[13579])
		msleep_ "$(rand_ 51)"
		ih_tp_=$(proc_field_ "$FX_PID" TracerPid)
		kill "-$2" "$HG_PID" 2> /dev/null ;;
	*)	case $2 in
		HUP) ih_num_=1 ;; INT) ih_num_=2 ;; QUIT) ih_num_=3 ;;
		KILL) ih_num_=9 ;; TERM) ih_num_=15 ;;
		*) framework_failure_ "interrupt_hg: unknown signal $2" ;;
		esac
		ih_tp_=$("$HG_TESTS_BUILDDIR/hg-tracer" kill-when-traced \
			"$FX_PID" 10000 "$ih_num_" "$HG_PID" "$(rand_ 5001)") ||
			{ ih_tp_=; kill "-$2" "$HG_PID" 2> /dev/null; } ;;
	esac
	ih_rc_=0
	wait_timeout_ "$HG_PID" 10 || ih_rc_=$?
	[ "$ih_rc_" -ne 124 ] || fail_ "heapgrab did not end within 10 s of SIG$2"
	case $ih_rc_ in
	134|135|136|139) sed 's/^/    /' "s$1.err" >&2
		fail_ "heapgrab crashed (status $ih_rc_) after SIG$2" ;;
	esac
	[ "${ih_tp_:-0}" = 0 ] || int_hits=$((int_hits + 1))
	log_ "SIG$2 run $1: status $ih_rc_, target traced at kill time: ${ih_tp_:-?}"
	check_untouched "$FX_PID"
}
