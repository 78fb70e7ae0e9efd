#!/bin/sh
# container-inside-run.sh - the body of container-inside.sh: run inside a
# systemd-nspawn container (nspawn's default seccomp filter; with
# HG_CT_MODE=full nspawn's default capabilities, with HG_CT_MODE=noptrace
# all of them but CAP_SYS_PTRACE), heapgrab looks at its siblings.
#
# Without CAP_SYS_PTRACE (noptrace), nspawn's filter refuses the ptrace
# system call itself: attach and leaks exit 2 with one line naming the
# seccomp filter and CAP_SYS_PTRACE, and the sibling is untouched. With
# it (full):
#  - a sibling run by the same user (fx-messy): attach is exact (every
#    relation against its mallinfo2 line, and gdb's figures when gdb is
#    there), target.ns_pid = target.pid (the container's own namespace is
#    heapgrab's); the sibling's own checks pass.
#  - leaks of fx-leak: every count and byte as the fixture's bookkeeping;
#    a gcore made in the container, read with heapgrab core: the live
#    census.
#  - attach --fork: refused (exit 2, one line): heapgrab runs under the
#    same filter and cannot read it; --fork=auto copies.
#  - a sibling run by user nobody: attach works and is exact; a heapgrab
#    without CAP_SYS_PTRACE (setpriv) exits 2 with one line naming both
#    uids and CAP_SYS_PTRACE, and how to grant it in Docker and Kubernetes.
#  - heapgrab with fewer capabilities than its sibling (setpriv drops
#    cap_net_raw and cap_sys_ptrace from its bounding set): exit 2, one
#    line naming both and CAP_SYS_PTRACE.
# Nothing is left traced or stopped.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
# shellcheck source-path=SCRIPTDIR source=inject-lib.sh
. "$srcdir/inject-lib.sh"

mode=${HG_CT_MODE:?HG_CT_MODE is not set (run through container-inside.sh)}
[ "$(proc_field_ self Seccomp)" = 2 ] ||
	framework_failure_ "not in a container (Seccomp: $(proc_field_ self Seccomp))"
cap=$(proc_field_ self CapEff)
ptrace_cap=$(( (0x$cap >> 19) & 1 ))
case $mode:$ptrace_cap in
full:1|noptrace:0) ;;
*) framework_failure_ "HG_CT_MODE=$mode but CAP_SYS_PTRACE is $ptrace_cap (CapEff $cap)" ;;
esac
log_ "in a container: Seccomp $(proc_field_ self Seccomp), CapEff $cap, NSpid $(proc_field_ self NSpid)"

# --- without CAP_SYS_PTRACE: nspawn's filter refuses ptrace(2) itself ---
if [ "$mode" = noptrace ]; then
	start_fixture fx-messy --threads 1 --big-mib 0
	for cmd in attach leaks; do
		run_hg "$cmd" "$FX_PID"
		expect_rc 2 "heapgrab $cmd without CAP_SYS_PTRACE"
		expect_one_error "not permitted to trace it: ptrace\(2\) itself is refused to heapgrab here .*seccomp filter .*CAP_SYS_PTRACE.*give the container CAP_SYS_PTRACE" \
			"heapgrab $cmd without CAP_SYS_PTRACE"
		expect_empty hg.out "stdout of heapgrab $cmd without CAP_SYS_PTRACE"
		check_untouched "$FX_PID"
	done
	finish_fixture
	exit 0
fi
require_ptrace_

# --- a sibling of the same user ---
start_fixture fx-messy --threads 3 --big-mib 0
oracle=
if gdb_oracle "$FX_PID" oracle.json; then
	oracle=oracle.json
fi
HG_OUT=live.json run_hg attach "$FX_PID" --format json
expect_rc 0 "attach to a sibling in the container ($mode)"
expect_empty hg.err "stderr of attach to a sibling ($mode)"
set -- --ready "$FX_READY"
[ -z "$oracle" ] || set -- "$@" --oracle "$oracle"
! have_libc_debuginfo_ || set -- "$@" --symbols dwarf
check_census live.json "$@"
[ "$(json_field live.json 'd["target"]["ns_pid"]')" = "$FX_PID" ] ||
	fail_ "target.ns_pid is not the pid in the container's own namespace"
run_hg attach --fork "$FX_PID"
expect_rc 2 "attach --fork in the container"
expect_one_error "seccomp filter.*cannot tell what the filter allows" "attach --fork in the container"
HG_OUT=auto.json run_hg attach --fork=auto "$FX_PID" --format json
expect_rc 0 "attach --fork=auto in the container"
cmp live.json auto.json > /dev/null || fail_ "--fork=auto did not give the copy-mode census"
if command -v "$GDB" > /dev/null 2>&1; then
	"$GDB" -nx -batch -p "$FX_PID" -ex "gcore gcore" > gdb.log 2>&1 < /dev/null
	[ -s gcore ] || { cat gdb.log >&2; framework_failure_ "gdb could not gcore pid $FX_PID"; }
	HG_OUT=core.json run_hg core --format json gcore
	expect_rc 0 "heapgrab core of a gcore made in the container"
	"$PYTHON3" "$srcdir/check-census.py" same live.json core.json ||
		fail_ "the core's census differs from the live one"
	rm -f gcore
else
	log_ "no gdb in the container: the core part is not run"
fi
check_untouched "$FX_PID"
fx_children_ok "a sibling ($mode)"
finish_fixture

start_fixture fx-leak
HG_OUT=leaks.json run_hg leaks --format json "$FX_PID"
expect_rc 0 "leaks of a sibling ($mode)"
"$PYTHON3" "$srcdir/check-leaks.py" leaks "$FX_READY" leaks.json ||
	fail_ "leaks of a sibling: see above"
finish_fixture

# --- a sibling run by another user ---
command -v setpriv > /dev/null 2>&1 || skip_ "setpriv not found (util-linux)"
setpriv --reuid=65534 --regid=65534 --clear-groups -- test -x "$FIXTURES/fx-messy" ||
	skip_ "user nobody cannot run the fixtures (build directory not world-readable)"
chmod 1777 . && mkdir nobody
cat > nobody/fx-messy <<EOF
#!/bin/sh
exec setpriv --reuid=65534 --regid=65534 --clear-groups -- "$FIXTURES/fx-messy" "\$@"
EOF
chmod 755 nobody/fx-messy
fx_saved=$FIXTURES
FIXTURES=$(pwd)/nobody
start_fixture fx-messy --threads 1 --big-mib 0
FIXTURES=$fx_saved
HG_OUT=nobody.json run_hg attach "$FX_PID" --format json
expect_rc 0 "attach to nobody's sibling with CAP_SYS_PTRACE"
set -- --ready "$FX_READY"
! have_libc_debuginfo_ || set -- "$@" --symbols dwarf
check_census nobody.json "$@"
# and heapgrab without CAP_SYS_PTRACE (its filter still allows ptrace:
# the container has the capability): the kernel refuses for the uids
hg_saved=$HG_VALGRIND
HG_VALGRIND="setpriv --inh-caps=-sys_ptrace --bounding-set=-sys_ptrace -- $hg_saved"
run_hg attach "$FX_PID"
HG_VALGRIND=$hg_saved
expect_rc 2 "attach to nobody's sibling by a heapgrab without CAP_SYS_PTRACE"
expect_one_error "not permitted to trace it: it runs as uid 65534 gid 65534 and heapgrab as uid 0 gid 0, without CAP_SYS_PTRACE; .*give heapgrab CAP_SYS_PTRACE \(docker run --cap-add SYS_PTRACE; in Kubernetes, securityContext\.capabilities\.add: \[\"SYS_PTRACE\"\]\)" \
	"attach to nobody's sibling by a heapgrab without CAP_SYS_PTRACE"
check_untouched "$FX_PID"
finish_fixture

# --- heapgrab with fewer capabilities than its sibling ---
start_fixture fx-messy --threads 1 --big-mib 0
hg_saved=$HG_VALGRIND
HG_VALGRIND="setpriv --inh-caps=-net_raw,-sys_ptrace --bounding-set=-net_raw,-sys_ptrace -- $HG_VALGRIND"
run_hg attach "$FX_PID"
HG_VALGRIND=$hg_saved
expect_rc 2 "attach by a heapgrab with fewer capabilities"
expect_one_error "it holds capabilities heapgrab lacks \(cap_net_raw, cap_sys_ptrace\), and only a tracer with CAP_SYS_PTRACE may trace such a process" \
	"attach by a heapgrab with fewer capabilities"
check_untouched "$FX_PID"
finish_fixture
