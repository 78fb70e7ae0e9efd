#!/bin/sh
# container-host.sh - heapgrab on the host, into processes in systemd-nspawn
# containers (a minimal Debian 12 root, nspawn's default seccomp filter:
# every process there has Seccomp: 2 and nspawn's filters).
#
# fx-inject in a container:
#  - attach --format json: exit 0, nothing on stderr; every relation
#    against the fixture's own mallinfo2 line (tests/check-census.py) with
#    target.pid = the host pid and target.ns_pid = the container's own pid
#    (the one in its ready file); the text output names both;
#  - attach --fork (the injected clone and wait4 checked against nspawn's
#    filters by heapgrab, then made): the copy-mode JSON, byte for byte; no
#    child left, live or zombie; nothing heapgrab started left;
#  - attach --fork --verify injected into the FP thread: mallinfo2 agrees;
#  - the fixture's own checks pass (masks, queued signal, FP state, ...).
# fx-inject --trim 8 in a container: trim releases at least 80% of what
#   was freed, and the fixture's own RSS check agrees.
# fx-leak in a container: leaks --format json: every count and byte
#   against the fixture's bookkeeping (tests/check-leaks.py).
# fx-messy in a container: a gcore taken on the host, read with
#   heapgrab core --sysroot /proc/PID/root (the container's files): the same
#   census as the live attach (target.ns_pid aside: a core does not know it).
# Debug info by build-id: libc's debug file is found inside the
#   container's root with the host's /usr/lib/debug hidden (a private mount
#   namespace), and on the host with the container's hidden (a tmpfs over
#   it in the container), when the host's libc6-dbg matches the container's
#   libc; with both hidden, heapgrab falls back to disassembly. The census
#   is the same every time (by size; without libc's debug info its types
#   go).
# fx-inject in user and PID namespaces of its own (unshare --user
#   --map-root-user --pid, no container): it is PID 1 there; attach is
#   exact with target.ns_pid 1, attach --fork gives the copy-mode JSON and
#   leaves no child (the reaping wait4 names the child by its number in
#   that namespace), --verify agrees.
# Everywhere: nothing left traced or stopped.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
# shellcheck source-path=SCRIPTDIR source=inject-lib.sh
. "$srcdir/inject-lib.sh"
# shellcheck source-path=SCRIPTDIR source=container-lib.sh
. "$srcdir/container-lib.sh"
require_ptrace_
require_container_
why=$(seccomp_unreadable_)
[ -z "$why" ] || skip_ "heapgrab cannot read the containers' seccomp filters here: $why"

census_args() {
	set -- --ready "$FX_READY" --host-pid "$FX_PID"
	! have_libc_debuginfo_ || set -- "$@" --symbols dwarf
	echo "$@"
}

# --- fx-inject: attach, --fork, --verify ---
ct_start_fixture fx-inject
[ "$(proc_field_ "$FX_PID" Seccomp)" = 2 ] ||
	framework_failure_ "a process in the container runs under no seccomp filter"
HG_OUT=copy.json run_hg attach "$FX_PID" --format json
expect_rc 0 "attach into a container"
expect_empty hg.err "stderr of attach into a container"
# shellcheck disable=SC2046 # the options are words
check_census copy.json $(census_args)
HG_OUT=text.out run_hg attach "$FX_PID"
expect_rc 0 "attach into a container (text)"
grep -q "^process $FX_PID (pid $FX_NS_PID in its PID namespace)" text.out || {
	head -n 2 text.out >&2
	fail_ "the text output does not name the container's own pid $FX_NS_PID"
}
check_untouched "$FX_PID"

HG_OUT=fork.json run_hg attach --fork "$FX_PID" --format json
expect_rc 0 "attach --fork into a container"
expect_empty hg.err "stderr of attach --fork into a container"
cmp copy.json fork.json > /dev/null || {
	diff copy.json fork.json | head -20 >&2
	fail_ "the fork snapshot in a container differs from the copy-mode snapshot"
}
check_untouched "$FX_PID"
fx_children_ok "attach --fork into a container"

tid=$(ct_host_tid "$FX_PID" "$(fx_note_ tid_fp)") ||
	framework_failure_ "no host tid for the FP thread"
HG_OUT=v.json run_hg_in "$tid" attach --fork --verify "$FX_PID" --format json
expect_rc 0 "attach --fork --verify into a container's FP thread"
"$PYTHON3" - copy.json v.json <<'EOF' || fail_ "--verify into a container: see above"
import json, sys
a = json.load(open(sys.argv[1]))
b = json.load(open(sys.argv[2]))
v = b.pop("verify")
if a != b:
    sys.exit("the census differs from the copy-mode one")
if not v["agree"]:
    sys.exit("mallinfo2 disagrees: %r" % v["relations"])
EOF
check_untouched "$FX_PID"
fx_children_ok "attach --fork --verify into a container"
ct_finish_fixture

# --- trim ---
ct_start_fixture fx-inject --trim 8
HG_OUT=trim.json run_hg trim "$FX_PID" --format json
expect_rc 0 "trim in a container"
expect_empty hg.err "stderr of trim in a container"
"$PYTHON3" - trim.json "$(fx_note_ trim_bytes)" <<'EOF' || fail_ "trim in a container released too little"
import json, sys
t = json.load(open(sys.argv[1]))["trim"]
freed = int(sys.argv[2])
print("released %d of %d freed" % (t["released_bytes"], freed))
sys.exit(0 if t["released_bytes"] >= freed * 8 // 10 else 1)
EOF
fx_children_ok "trim in a container"
ct_finish_fixture

# --- leaks ---
ct_start_fixture fx-leak
HG_OUT=leaks.json run_hg leaks --format json "$FX_PID"
expect_rc 0 "leaks in a container"
expect_empty hg.err "stderr of leaks in a container"
"$PYTHON3" "$srcdir/check-leaks.py" leaks "$FX_READY" leaks.json ||
	fail_ "leaks in a container: see above"
check_untouched "$FX_PID"
ct_finish_fixture

# --- a core taken on the host; debug info inside the root or on the host ---
ct_start_fixture fx-messy --threads 3 --big-mib 0
HG_OUT=live.json run_hg attach "$FX_PID" --format json
expect_rc 0 "attach into a container (fx-messy)"
# shellcheck disable=SC2046 # the options are words
check_census live.json $(census_args)
if command -v "$GDB" > /dev/null 2>&1; then
	"$GDB" -nx -batch -p "$FX_PID" -ex "gcore gcore" > gdb.log 2>&1 < /dev/null
	[ -s gcore ] || { cat gdb.log >&2; framework_failure_ "gdb could not gcore pid $FX_PID"; }
	check_untouched "$FX_PID"
	HG_OUT=core.json run_hg core --sysroot "/proc/$FX_PID/root" --format json gcore
	expect_rc 0 "heapgrab core --sysroot /proc/PID/root of a container's process"
	"$PYTHON3" "$srcdir/check-census.py" same live.json core.json ||
		fail_ "the core's census differs from the live one"
	rm -f gcore
else
	log_ "no gdb: the core part is not run"
fi
# The container's libc debug file alone (the host's hidden).
if command -v unshare > /dev/null 2>&1 && [ -d /usr/lib/debug ]; then
	unshare -m sh -c 'mount -t tmpfs none /usr/lib/debug && exec "$@"' sh \
		"$HG" attach "$FX_PID" --format json > root-dbg.json 2> root-dbg.err ||
		{ cat root-dbg.err >&2; fail_ "attach with the host's debug files hidden failed"; }
	json_field root-dbg.json 'd["target"]["libc_symbols"]' | grep -qx dwarf ||
		fail_ "libc's debug file inside the container's root was not used"
	"$PYTHON3" "$srcdir/check-census.py" same live.json root-dbg.json ||
		fail_ "the census with the root's debug file differs"
fi
ct_finish_fixture

# The host's debug file alone (the container's hidden), and neither.
ct_start_fixture --opt "--tmpfs /usr/lib/debug" fx-messy --threads 3 --big-mib 0
HG_OUT=host-dbg.json run_hg attach "$FX_PID" --format json
expect_rc 0 "attach with the container's debug files hidden"
bid=$(readelf -n "/proc/$FX_PID/root$(awk '$6 ~ /libc\.so\.6$/ { print $6; exit }' "/proc/$FX_PID/maps")" |
	awk '/Build ID:/ { print $3; exit }')
if [ -n "$bid" ] && [ -r "/usr/lib/debug/.build-id/$(echo "$bid" | cut -c1-2)/$(echo "$bid" | cut -c3-).debug" ]; then
	json_field host-dbg.json 'd["target"]["libc_symbols"]' | grep -qx dwarf ||
		fail_ "the host's debug file for the container's libc (build-id $bid) was not used"
else
	log_ "the host has no debug file for the container's libc (build-id $bid): disassembly expected"
	json_field host-dbg.json 'd["target"]["libc_symbols"]' | grep -qx disasm ||
		fail_ "libc_symbols is not disasm without any debug file"
fi
# shellcheck disable=SC2046 # the options are words
check_census host-dbg.json --ready "$FX_READY" --host-pid "$FX_PID"
if command -v unshare > /dev/null 2>&1 && [ -d /usr/lib/debug ]; then
	unshare -m sh -c 'mount -t tmpfs none /usr/lib/debug && exec "$@"' sh \
		"$HG" attach "$FX_PID" --format json > no-dbg.json 2> no-dbg.err ||
		{ cat no-dbg.err >&2; fail_ "attach with every debug file hidden failed"; }
	json_field no-dbg.json 'd["target"]["libc_symbols"]' | grep -qx disasm ||
		fail_ "with every debug file hidden, libc_symbols is not disasm"
	# libc's types are gone with its debug info: the census by size is not
	"$PYTHON3" - host-dbg.json no-dbg.json <<'EOF' || fail_ "the census without debug info differs"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
bad = [k for k in ("arenas", "totals", "by_size", "warnings") if a[k] != b[k]]
sys.exit("differ without debug info: %s" % bad if bad else 0)
EOF
fi
ct_finish_fixture

# --- user and PID namespaces without a container ---
if command -v unshare > /dev/null 2>&1 &&
   unshare --user --map-root-user --pid --fork --mount-proc true 2> /dev/null; then
	fx_seq_=$((fx_seq_ + 1))
	FX_READY=$(pwd)/userns.$fx_seq_.ready
	FX_ERR=userns.$fx_seq_.err
	unshare --user --map-root-user --pid --fork --mount-proc \
		"$FIXTURES/fx-inject" --ready "$FX_READY" > /dev/null 2> "$FX_ERR" < /dev/null &
	CT_PID=$!
	fx_all_="$fx_all_ $CT_PID"
	t_=0
	until grep -q '^ready ' "$FX_READY" 2> /dev/null; do
		kill -0 "$CT_PID" 2> /dev/null ||
			framework_failure_ "fx-inject in its own namespaces ended early: $(cat "$FX_ERR")"
		t_=$((t_ + 1))
		[ "$t_" -le $((HG_READY_TIMEOUT * 20)) ] || framework_failure_ "fx-inject in its own namespaces not ready"
		sleep 0.05
	done
	FX_NS_PID=$(awk '$1 == "ready" { print $2 }' "$FX_READY")
	FX_PID=$(ct_host_pid "$CT_PID" "$FX_NS_PID") ||
		framework_failure_ "no host pid for pid $FX_NS_PID of unshare $CT_PID"
	fx_all_="$fx_all_ $FX_PID"
	[ "$FX_NS_PID" = 1 ] || framework_failure_ "fx-inject is pid $FX_NS_PID in its namespace, not 1"
	[ "$(readlink "/proc/$FX_PID/ns/user")" != "$(readlink /proc/self/ns/user)" ] ||
		framework_failure_ "fx-inject is not in a user namespace of its own"
	HG_OUT=copy.json run_hg attach "$FX_PID" --format json
	expect_rc 0 "attach into user and PID namespaces"
	expect_empty hg.err "stderr of attach into user and PID namespaces"
	# shellcheck disable=SC2046 # the options are words
	check_census copy.json $(census_args)
	HG_OUT=fork.json run_hg attach --fork --verify "$FX_PID" --format json
	expect_rc 0 "attach --fork --verify into user and PID namespaces"
	"$PYTHON3" - copy.json fork.json <<'EOF' || fail_ "--fork --verify into user and PID namespaces: see above"
import json, sys
a = json.load(open(sys.argv[1]))
b = json.load(open(sys.argv[2]))
v = b.pop("verify")
if a != b:
    sys.exit("the fork snapshot differs from the copy-mode one")
if not v["agree"]:
    sys.exit("mallinfo2 disagrees: %r" % v["relations"])
EOF
	check_untouched "$FX_PID"
	fx_children_ok "attach --fork into user and PID namespaces"
	kill -USR1 "$FX_PID"
	rc=0
	wait_timeout_ "$CT_PID" 60 || rc=$?
	[ "$rc" -eq 0 ] || { cat "$FX_ERR" >&2; fail_ "fx-inject in its own namespaces failed its checks (status $rc)"; }
else
	log_ "unshare cannot make user and PID namespaces here: that part is not run"
fi
