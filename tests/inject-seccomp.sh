#!/bin/sh
# inject-seccomp.sh - injection into processes under seccomp filters.
# heapgrab reads a filtered thread's filters, runs them on every system
# call the injection will make, and injects only when all are allowed;
# calls a called function makes that were not expected and would be
# killed for are failed with ENOSYS instead of reaching the filter.
#
# fx-inject --seccomp (clone answered EPERM, the rest allowed):
#  - attach --fork exits 2 with one line naming
#    "clone(flags=0x0, ...) -> EPERM by the target's seccomp filter";
#    --fork=auto gives the copy-mode JSON and the text says why;
#  - attach --verify injected into each blocked thread in turn (main in
#    sigsuspend, read, nanosleep loop, one-hour nanosleep, epoll_wait, the
#    FP thread; the called function runs guarded, under PTRACE_SYSEMU):
#    exit 0, the copy-mode census, mallinfo2 agrees; the fixture's own
#    checks pass afterwards (masks, queued signal, FP state, no early
#    wake-up).
# fx-inject --seccomp --trim 32: heapgrab trim works under the filter (its
#   madvise and brk calls checked and let through); RSS falls by 80% of
#   what was freed, as the fixture measures itself.
# fx-seccomp (an allow-list and SECCOMP_RET_KILL_PROCESS for anything
#   else): --fork refused naming clone and the kill; --fork=auto copies;
#   --verify agrees (mallinfo2 makes no call); trim refused naming madvise
#   inside malloc_trim(); the census is exact; the fixture survives.
# fx-seccomp --filter kill-fork (clone with flags 0 and wait4 allowed,
#   KILL for the rest): the fork snapshot works, its JSON is the copy-mode
#   JSON, no child is left.
# fx-seccomp --filter trace / notif (SECCOMP_RET_TRACE / USER_NOTIF for
#   clone and getppid): --fork refused naming the action; --verify and trim
#   work; afterwards the fixture's getppid still fails with ENOSYS
#   (TRACE) or is still answered by its supervisor thread (USER_NOTIF),
#   and an injection into the supervisor thread itself works.
# fx-seccomp --filter no-malloc (malloc never used, getrandom not in the
#   allow-list): trim's mallinfo2() runs ptmalloc_init(), whose getrandom
#   (glibc >= 2.34) the filter would kill for: exit 2 naming getrandom,
#   the call was failed with ENOSYS; the fixture lives and mallocs
#   afterwards.
# fx-seccomp --filter strict (Seccomp: 1): attach works and is exact;
#   --fork, --verify and trim exit 2 naming strict mode; the fixture then
#   exits 0.
# heapgrab itself under a filter (a wrapper installs one), or without
#   CAP_SYS_ADMIN (setpriv): it cannot read filters, refuses with one line
#   saying which, and --fork=auto copies.
# Everywhere: nothing left traced or stopped, no child left, no process
# heapgrab started left.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
# shellcheck source-path=SCRIPTDIR source=inject-lib.sh
. "$srcdir/inject-lib.sh"
require_ptrace_
why=$(seccomp_unreadable_)
[ -z "$why" ] || skip_ "heapgrab cannot read seccomp filters here: $why"

# copy_json: a plain attach, for comparison.
copy_json() {
	HG_OUT=copy.json run_hg attach "$FX_PID" --format json
	expect_rc 0 "copy-mode attach"
	expect_empty hg.err "stderr of the copy-mode attach"
	set -- --ready "$FX_READY"
	! have_libc_debuginfo_ || set -- "$@" --symbols dwarf
	check_census copy.json "$@"
}

# refused WHAT REGEX CMD...: heapgrab CMD $FX_PID exits 2, one line.
refused() {
	rf_what_=$1
	rf_re_=$2
	shift 2
	run_hg "$@" "$FX_PID"
	expect_rc 2 "$rf_what_"
	expect_one_error "$rf_re_" "$rf_what_"
	expect_empty hg.out "stdout of $rf_what_"
	check_untouched "$FX_PID"
	fx_children_ok "$rf_what_"
}

# auto_copies WHAT: --fork=auto gives the copy-mode JSON (copy.json).
auto_copies() {
	HG_OUT=auto.json run_hg attach --fork=auto "$FX_PID" --format json
	expect_rc 0 "$1: attach --fork=auto"
	expect_empty hg.err "$1: stderr of attach --fork=auto"
	cmp copy.json auto.json > /dev/null ||
		fail_ "$1: --fork=auto did not give the copy-mode census"
	fx_children_ok "$1: --fork=auto"
}

# verify_in TID WHAT: attach --verify injected into TID: the copy-mode
# census, and mallinfo2 agrees.
verify_in() {
	HG_OUT=v.json run_hg_in "$1" attach --verify "$FX_PID" --format json
	expect_rc 0 "attach --verify, injected into $2 ($1)"
	expect_empty hg.err "stderr of attach --verify into $2"
	"$PYTHON3" - copy.json v.json "$2" <<'EOF' || fail_ "injection into $2: see above"
import json, sys
a = json.load(open(sys.argv[1]))
b = json.load(open(sys.argv[2]))
v = b.pop("verify")
if a != b:
    sys.exit("%s: the census differs from the copy-mode one" % sys.argv[3])
if not v["agree"]:
    sys.exit("%s: mallinfo2 disagrees: %r" % (sys.argv[3], v["relations"]))
EOF
	check_untouched "$FX_PID"
	fx_children_ok "attach --verify into $2"
}

# --- fx-inject under a filter that answers clone with EPERM ---
start_fixture fx-inject --seccomp
[ "$(proc_field_ "$FX_PID" Seccomp)" = 2 ] || framework_failure_ "fx-inject --seccomp has no filter"
copy_json
refused "attach --fork (clone denied)" \
	"clone\(flags=0x0, newsp=0x[0-9a-f]+, parent_tid=0x0, child_tid=0x0, tls=0x0\) -> EPERM by the target's seccomp filter" \
	attach --fork
auto_copies "clone denied"
HG_OUT=text.out run_hg attach --fork=auto "$FX_PID"
expect_rc 0 "attach --fork=auto (text), clone denied"
grep -q '^no fork snapshot: clone(.*) -> EPERM by the target.s seccomp filter' text.out || {
	tail -4 text.out >&2
	fail_ "the text output does not say why there was no fork"
}
for k in tid_main tid_reader tid_sleeper tid_longsleep tid_epoll tid_fp; do
	tid=$(fx_note_ "$k")
	[ -n "$tid" ] || framework_failure_ "no $k in the ready file"
	verify_in "$tid" "$k"
done
finish_fixture

# --- trim under that filter ---
start_fixture fx-inject --seccomp --trim 32
HG_OUT=trim.json run_hg trim "$FX_PID" --format json
expect_rc 0 "heapgrab trim under a seccomp filter"
expect_empty hg.err "stderr of heapgrab trim under a seccomp filter"
"$PYTHON3" - trim.json "$(fx_note_ trim_bytes)" <<'EOF' || fail_ "trim under a filter released too little"
import json, sys
t = json.load(open(sys.argv[1]))["trim"]
freed = int(sys.argv[2])
print("released %d of %d freed" % (t["released_bytes"], freed))
sys.exit(0 if t["released_bytes"] >= freed * 8 // 10 else 1)
EOF
check_untouched "$FX_PID"
fx_children_ok "trim under a seccomp filter"
finish_fixture

# --- an allow-list that kills for anything else ---
start_fixture fx-seccomp --filter kill
copy_json
refused "attach --fork (kill filter)" \
	"clone\(flags=0x0, .*\) -> killed \(SECCOMP_RET_KILL_PROCESS\) by the target's seccomp filter" \
	attach --fork
auto_copies "kill filter"
verify_in "$(fx_note_ tid_reader)" "the reader thread under the kill filter"
verify_in "$(fx_note_ tid_main)" "the main thread under the kill filter"
refused "trim (kill filter)" \
	"madvise\(addr=\?, len=\?, advice=0x4\) inside malloc_trim\(\) -> killed \(SECCOMP_RET_KILL_PROCESS\)" \
	trim
finish_fixture

# --- an allow-list with exactly a fork snapshot's calls ---
start_fixture fx-seccomp --filter kill-fork
copy_json
HG_OUT=fork.json run_hg attach --fork "$FX_PID" --format json
expect_rc 0 "attach --fork (clone with flags 0 allowed)"
expect_empty hg.err "stderr of attach --fork (clone with flags 0 allowed)"
cmp copy.json fork.json > /dev/null || {
	diff copy.json fork.json | head -20 >&2
	fail_ "the fork snapshot under the kill-fork filter differs from the copy"
}
check_untouched "$FX_PID"
fx_children_ok "attach --fork under the kill-fork filter"
finish_fixture

# --- SECCOMP_RET_TRACE and SECCOMP_RET_USER_NOTIF ---
for mode in trace notif; do
	start_fixture fx-seccomp --filter "$mode" --may-trim
	copy_json
	if [ "$mode" = trace ]; then
		re='ENOSYS \(SECCOMP_RET_TRACE'
	else
		re='SECCOMP_RET_USER_NOTIF'
	fi
	refused "attach --fork ($mode filter)" "clone\(flags=0x0, .*\) -> $re" attach --fork
	auto_copies "$mode filter"
	verify_in "$(fx_note_ tid_main)" "the main thread under the $mode filter"
	if [ "$mode" = notif ]; then
		verify_in "$(fx_note_ tid_supervisor)" "the supervisor thread"
	fi
	run_hg trim "$FX_PID"
	expect_rc 0 "trim under the $mode filter"
	check_untouched "$FX_PID"
	fx_children_ok "trim under the $mode filter"
	finish_fixture
done

# --- a call nobody expected: ptmalloc_init's getrandom ---
case $(getconf GNU_LIBC_VERSION 2> /dev/null) in
"glibc 2."2[6-9]*|"glibc 2.3"[0-3]*)
	log_ "glibc before 2.34: ptmalloc_init makes no getrandom call; the no-malloc part is moot" ;;
*)
	start_fixture fx-seccomp --filter no-malloc
	run_hg trim "$FX_PID"
	expect_rc 2 "trim of a process that never used malloc"
	expect_one_error "mallinfo2\(\) made a system call heapgrab did not expect, getrandom\(.*\), which the target's seccomp filter would answer with killed \(SECCOMP_RET_KILL_PROCESS\): heapgrab did not let the filter see it, failed it with ENOSYS" \
		"trim of a process that never used malloc"
	check_untouched "$FX_PID"
	fx_children_ok "trim of a process that never used malloc"
	finish_fixture
	;;
esac

# --- strict mode ---
mkfifo wake.fifo
start_fixture fx-seccomp --filter strict --wake wake.fifo
[ "$(proc_field_ "$FX_PID" Seccomp)" = 1 ] || framework_failure_ "fx-seccomp --filter strict is not in strict mode"
copy_json
for cmd in "attach --fork" "attach --verify" "trim"; do
	# shellcheck disable=SC2086 # the command and its option
	refused "$cmd (strict mode)" "seccomp strict mode" $cmd
done
auto_copies "strict mode"
printf x > wake.fifo
st=0
wait_timeout_ "$FX_PID" 30 || st=$?
[ "$st" -eq 0 ] || fail_ "the strict-mode fixture exited with status $st"

# --- heapgrab unable to read filters ---
start_fixture fx-seccomp --filter kill-fork
copy_json
cat > filtered.py <<'EOF'
# Run a command under an allow-all seccomp filter (x86_64).
import ctypes, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(38, 1, 0, 0, 0):          # PR_SET_NO_NEW_PRIVS
    sys.exit(77)
prog = ctypes.create_string_buffer(struct.pack('<HBBI', 0x06, 0, 0, 0x7fff0000))
class FProg(ctypes.Structure):
    _fields_ = [('len', ctypes.c_ushort), ('filter', ctypes.c_void_p)]
fp = FProg(1, ctypes.addressof(prog))
if libc.syscall(317, 1, 0, ctypes.byref(fp)):   # seccomp(SET_MODE_FILTER)
    sys.exit(77)
os.execvp(sys.argv[1], sys.argv[1:])
EOF
saved=$HG_VALGRIND
HG_VALGRIND="$PYTHON3 $(pwd)/filtered.py $HG_VALGRIND"
refused "attach --fork by a filtered heapgrab" \
	"seccomp filter .* and heapgrab itself runs under a seccomp filter .*PTRACE_SECCOMP_GET_FILTER.*injects nothing" \
	attach --fork
auto_copies "a filtered heapgrab"
HG_VALGRIND=$saved
if [ "$(id -u)" -eq 0 ] && command -v setpriv > /dev/null 2>&1; then
	HG_VALGRIND="setpriv --inh-caps=-sys_admin --bounding-set=-sys_admin -- $HG_VALGRIND"
	refused "attach --fork without CAP_SYS_ADMIN" \
		"heapgrab lacks CAP_SYS_ADMIN.*PTRACE_SECCOMP_GET_FILTER.*injects nothing" \
		attach --fork
	HG_VALGRIND=$saved
else
	log_ "not root or no setpriv: the CAP_SYS_ADMIN part is not run"
fi
finish_fixture
