#!/bin/sh
# inject-refuse.sh - targets that must not or cannot run injected code.
#
#  - a seccomp filter heapgrab cannot read (this environment's, in a
#    container where heapgrab runs under the same filter; filters heapgrab
#    can read are tests/inject-seccomp.sh's): attach --fork, attach
#    --verify and trim exit 2 with one line naming the seccomp filter and
#    why it cannot be read, and inject nothing; attach --fork=auto copies
#    instead: exit 0, the same JSON as a plain attach, and the text output
#    says why there was no fork. The parts below that need an injection
#    are then not run (logged).
#  - RLIMIT_NPROC (fx-inject --nproc-limit run as user nobody: once its
#    threads run it sets the limit to 1): the injected clone fails with
#    EAGAIN; attach --fork
#    exits 2 with one line naming RLIMIT_NPROC; --fork=auto copies: exit 0
#    and the same JSON as a plain attach.
#  - a target stopped with SIGSTOP: no thread can run code; --fork exits 2,
#    --fork=auto copies, and the target stays stopped.
#  - usage errors: --fork=yes, trim without a PID, trim --timeout 0 (64).
# In every case the target is left untouched, has no child, and its own
# checks pass.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
# shellcheck source-path=SCRIPTDIR source=inject-lib.sh
. "$srcdir/inject-lib.sh"
require_ptrace_

# auto_copies WHAT: --fork=auto gives the copy-mode JSON.
auto_copies() {
	HG_OUT=copy.json run_hg attach "$FX_PID" --format json
	expect_rc 0 "$1: plain attach"
	HG_OUT=auto.json run_hg attach --fork=auto "$FX_PID" --format json
	expect_rc 0 "$1: attach --fork=auto"
	expect_empty hg.err "$1: stderr of attach --fork=auto"
	cmp copy.json auto.json > /dev/null ||
		fail_ "$1: --fork=auto did not give the copy-mode census"
	fx_children_ok "$1: --fork=auto"
}

# --- a seccomp filter heapgrab cannot read ---
mode=$(proc_field_ self Seccomp)
unreadable=$(seccomp_unreadable_)
if [ "${mode:-0}" != 0 ] && [ -n "$unreadable" ]; then
	start_fixture fx-inject
	[ "$(proc_field_ "$FX_PID" Seccomp)" = 2 ] ||
		framework_failure_ "a fixture started here runs under no filter"
	for cmd in "attach --fork" "attach --verify" "trim"; do
		# shellcheck disable=SC2086 # the command and its option
		run_hg $cmd "$FX_PID"
		expect_rc 2 "heapgrab $cmd under an unreadable filter"
		expect_one_error "seccomp filter.*cannot tell what the filter allows and injects nothing" \
			"heapgrab $cmd under an unreadable filter"
		expect_empty hg.out "stdout of heapgrab $cmd under an unreadable filter"
		check_untouched "$FX_PID"
	done
	auto_copies "an unreadable filter"
	HG_OUT=text.out run_hg attach --fork=auto "$FX_PID"
	expect_rc 0 "attach --fork=auto (text) under an unreadable filter"
	grep -q '^no fork snapshot: .*seccomp' text.out || {
		tail -4 text.out >&2
		fail_ "the text output does not say why there was no fork"
	}
	fx_children_ok "an unreadable filter"
	finish_fixture
fi

# --- RLIMIT_NPROC ---
rlimit_test() {
	command -v setpriv > /dev/null 2>&1 || { log_ "no setpriv: RLIMIT_NPROC part skipped"; return; }
	[ "$(id -u)" -eq 0 ] || { log_ "not root: RLIMIT_NPROC part skipped"; return; }
	setpriv --reuid=65534 --regid=65534 --clear-groups -- test -x "$FIXTURES/fx-inject" || {
		log_ "user nobody cannot run the fixtures: RLIMIT_NPROC part skipped"
		return
	}
	# The fixture runs as nobody (root is exempt from RLIMIT_NPROC) and
	# writes its ready file in this directory.
	chmod 1777 . && mkdir nobody
	cat > nobody/fx-inject <<EOF
#!/bin/sh
exec setpriv --reuid=65534 --regid=65534 --clear-groups -- "$FIXTURES/fx-inject" "\$@"
EOF
	chmod 755 nobody/fx-inject
	fx_saved=$FIXTURES
	FIXTURES=$(pwd)/nobody
	start_fixture fx-inject --nproc-limit
	FIXTURES=$fx_saved
	run_hg attach --fork "$FX_PID"
	expect_rc 2 "attach --fork at RLIMIT_NPROC"
	expect_one_error "clone.*RLIMIT_NPROC" "attach --fork at RLIMIT_NPROC"
	check_untouched "$FX_PID"
	auto_copies RLIMIT_NPROC
	finish_fixture
}

# --- a stopped target ---
stopped_test() {
	start_fixture fx-inject
	kill -STOP "$FX_PID"
	i=0
	while [ "$(proc_field_ "$FX_PID" State)" != T ] && [ "$i" -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	run_hg attach --fork "$FX_PID"
	expect_rc 2 "attach --fork of a stopped target"
	expect_one_error "stop" "attach --fork of a stopped target"
	check_untouched "$FX_PID" stopped
	auto_copies "stopped target"
	check_untouched "$FX_PID" stopped
	kill -CONT "$FX_PID"
	finish_fixture
}

if [ "${mode:-0}" != 0 ] && [ -n "$unreadable" ]; then
	log_ "the RLIMIT_NPROC and stopped-target parts need an injection, which this environment's seccomp filter rules out: $unreadable"
else
	rlimit_test
	stopped_test
fi

# --- usage ---
for args in "attach --fork=yes 1" "trim" "trim --timeout 0 1" "trim 1 2" "watch --fork=no 1"; do
	# shellcheck disable=SC2086 # the arguments
	run_hg $args
	expect_rc 64 "heapgrab $args"
done
