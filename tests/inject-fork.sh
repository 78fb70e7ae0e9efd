#!/bin/sh
# inject-fork.sh - a fork snapshot is the copy-mode snapshot, and the
# target never knows.
#
# On fx-messy (default, --threads 12, --block-brk) and fx-inject:
#  - heapgrab attach --fork --format json exits 0 with nothing on stderr,
#    and its JSON is byte for byte the JSON of a copy-mode attach taken just
#    before (the heap does not change: every total, arena and size class);
#  - the census holds every relation against the fixture's own mallinfo2
#    (tests/check-census.py);
#  - afterwards the target has no child, live or zombie (the snapshot child
#    was reaped in it), no process heapgrab started is left (the reaper),
#    and the target is neither traced nor stopped;
#  - the fixture's own checks pass: heap unchanged, canaries; for fx-inject
#    also: no SIGCHLD arrived, the read() and nanosleep() threads saw no
#    EINTR, the one-hour nanosleep() did not return early, the queued
#    signal is still pending with its value, the masks are unchanged, the
#    FP/AVX registers of a thread blocked in a raw syscall are unchanged.
# fx-inject again, with the injection (clone, mallinfo2 for --verify) put
# into each of its blocked threads in turn (HEAPGRAB_INJECT_TID): main in
# sigsuspend, read, nanosleep loop, one-hour nanosleep, epoll_wait, the FP
# thread; each census equals the copy-mode one and --verify agrees.
# The text output of --fork names the fork and the frozen child;
# watch --fork takes its snapshots and leaves no child either.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
# shellcheck source-path=SCRIPTDIR source=inject-lib.sh
. "$srcdir/inject-lib.sh"
require_ptrace_
require_injectable_

same_as_copy() {
	HG_OUT=copy.json run_hg attach "$FX_PID" --format json
	expect_rc 0 "copy-mode attach"
	HG_OUT=fork.json run_hg attach --fork "$FX_PID" --format json
	expect_rc 0 "heapgrab attach --fork"
	expect_empty hg.err "stderr of heapgrab attach --fork"
	cmp copy.json fork.json > /dev/null || {
		diff copy.json fork.json | head -20 >&2
		fail_ "the fork snapshot differs from the copy-mode snapshot"
	}
	set -- --ready "$FX_READY"
	! have_libc_debuginfo_ || set -- "$@" --symbols dwarf
	check_census fork.json "$@"
	fx_children_ok "attach --fork"
	check_untouched "$FX_PID"
}

for args in "" "--threads 12" "--block-brk"; do
	# shellcheck disable=SC2086 # the fixture's options
	start_fixture fx-messy $args
	same_as_copy
	finish_fixture
done

start_fixture fx-inject
same_as_copy

HG_OUT=text.out run_hg attach --fork "$FX_PID"
expect_rc 0 "heapgrab attach --fork (text)"
grep -q 'fork [0-9.]* ms); copied .* from the frozen child' text.out || {
	tail -3 text.out >&2
	fail_ "the text output does not report the fork"
}
fx_children_ok "attach --fork (text)"

for k in tid_main tid_reader tid_sleeper tid_longsleep tid_epoll tid_fp; do
	tid=$(fx_note_ "$k")
	[ -n "$tid" ] || framework_failure_ "no $k in the ready file"
	HG_OUT=v.json run_hg_in "$tid" attach --fork --verify "$FX_PID" --format json
	expect_rc 0 "attach --fork --verify, injected into $k ($tid)"
	"$PYTHON3" - copy.json v.json "$k" <<'EOF' || fail_ "injection into $k: see above"
import json, sys
a = json.load(open(sys.argv[1]))
b = json.load(open(sys.argv[2]))
v = b.pop("verify")
if a != b:
    sys.exit("%s: the census differs from the copy-mode one" % sys.argv[3])
if not v["agree"]:
    sys.exit("%s: mallinfo2 disagrees: %r" % (sys.argv[3], v["relations"]))
EOF
	fx_children_ok "injection into $k"
	check_untouched "$FX_PID"
done

run_hg watch --fork --count 2 --interval 200ms "$FX_PID"
expect_rc 0 "heapgrab watch --fork"
fx_children_ok "watch --fork"
finish_fixture
cat "$FX_ERR" >&2
