# shellcheck shell=sh
# container-lib.sh - helpers for the container tests (tests/container-*.sh),
# sourced after init.sh and inject-lib.sh. The containers are
# systemd-nspawn ones of the root scripts/in-container builds (a minimal
# Debian 12), with nspawn's default seccomp filter and capabilities; the
# source and build trees are bound into them at the same paths, so the
# fixtures and heapgrab run there unchanged.
#
#   require_container_     skip unless this test may start containers: it
#                          runs once per CI run (HG_CONTAINER_TESTS=skip
#                          in the stages other than "container"), as root,
#                          with systemd-nspawn, with the root built
#                          (bash scripts/in-container --build), and not
#                          inside a container itself
#   ct_run [OPT...] -- CMD scripts/in-container run, with the tests' pinned
#                          GLIBC_TUNABLES
#   ct_start_fixture [--opt OPT]... NAME [ARGS...]
#                          start fixtures/NAME in a container of its own
#                          (each --opt goes to in-container run); sets
#                          FX_PID (its pid on the host), FX_NS_PID (its pid
#                          in the container, which its ready file names),
#                          CT_PID (systemd-nspawn's), FX_READY, FX_OUT,
#                          FX_ERR
#   ct_host_tid PID NS_TID the host's tid of the container's thread NS_TID
#   ct_finish_fixture      SIGUSR1; the container must end with status 0
#                          (the fixture's own checks) within 60 s
#   ct_env                 the --setenv options that give a test script
#                          run inside a container what init.sh needs

# shellcheck disable=SC2154 # srcdir, me_ and fx_seq_ come from init.sh
ct_script_=$(cd "$srcdir/.." && pwd)/scripts/in-container

require_container_() {
	[ "${HG_CONTAINER_TESTS:-}" != skip ] ||
		skip_ "the container tests run once, in the CI's container stage (HG_CONTAINER_TESTS=skip)"
	[ "$(id -u)" -eq 0 ] || skip_ "systemd-nspawn needs root"
	command -v systemd-nspawn > /dev/null 2>&1 ||
		skip_ "systemd-nspawn not installed (Debian: systemd-container)"
	[ "$(proc_field_ self Seccomp)" = 0 ] ||
		skip_ "this test runs under a seccomp filter (Seccomp: $(proc_field_ self Seccomp)): in a container already"
	bash "$ct_script_" --check -q ||
		skip_ "the container root is not built (bash scripts/in-container --build): $(bash "$ct_script_" --check 2>&1 | head -n 1)"
}

# (the tests' pinned tunables go in: nspawn starts with a clean
# environment)
ct_run() {
	# shellcheck disable=SC2154
	bash "$ct_script_" run --name "hg-$me_-$$-$fx_seq_" \
		--setenv "GLIBC_TUNABLES=${GLIBC_TUNABLES:-}" \
		--setenv "HG_FIXTURE_TUNABLES=${HG_FIXTURE_TUNABLES:-}" "$@"
}

# The pid on the host of the process that is NS_PID in the container of
# systemd-nspawn NSPAWN: a descendant of it whose NSpid ends in NS_PID.
ct_host_pid() {
	for st_ in /proc/[0-9]*/status; do
		hp_=${st_#/proc/}
		hp_=${hp_%/status}
		[ "$(awk '$1 == "NSpid:" { print $NF }' "$st_" 2> /dev/null)" = "$2" ] || continue
		p_=$hp_
		while [ -n "$p_" ] && [ "$p_" -gt 1 ]; do
			p_=$(proc_field_ "$p_" PPid)
			[ "$p_" = "$1" ] && { echo "$hp_"; return 0; }
		done
	done
	return 1
}

# The host tid of thread NS_TID (the container's number) of process PID.
ct_host_tid() {
	for st_ in /proc/"$1"/task/*/status; do
		[ "$(awk '$1 == "NSpid:" { print $NF }' "$st_" 2> /dev/null)" = "$2" ] || continue
		ht_=${st_#/proc/"$1"/task/}
		echo "${ht_%/status}"
		return 0
	done
	return 1
}

ct_start_fixture() {
	cs_opts_=
	while [ "$1" = --opt ]; do
		cs_opts_="$cs_opts_ $2"
		shift 2
	done
	cs_name_=$1
	shift
	[ -x "$FIXTURES/$cs_name_" ] ||
		framework_failure_ "fixture not built: $FIXTURES/$cs_name_"
	fx_seq_=$((fx_seq_ + 1))
	FX_READY=$(pwd)/$cs_name_.$fx_seq_.ready
	FX_OUT=$cs_name_.$fx_seq_.out
	FX_ERR=$cs_name_.$fx_seq_.err
	rm -f "$FX_READY"
	# shellcheck disable=SC2086 # the options are words
	ct_run $cs_opts_ -- "$FIXTURES/$cs_name_" --ready "$FX_READY" "$@" \
		> "$FX_OUT" 2> "$FX_ERR" < /dev/null &
	CT_PID=$!
	fx_all_="$fx_all_ $CT_PID"
	t_=0
	while ! grep -q '^ready ' "$FX_READY" 2> /dev/null; do
		if ! kill -0 "$CT_PID" 2> /dev/null; then
			st_=0
			wait "$CT_PID" || st_=$?
			framework_failure_ "$cs_name_ $* in a container ended with status $st_ before it was ready: $(cat "$FX_ERR")"
		fi
		t_=$((t_ + 1))
		[ "$t_" -le $((HG_READY_TIMEOUT * 20)) ] ||
			framework_failure_ "$cs_name_ in a container not ready after $HG_READY_TIMEOUT s"
		sleep 0.05
	done
	FX_NS_PID=$(awk '$1 == "ready" { print $2 }' "$FX_READY")
	FX_PID=$(ct_host_pid "$CT_PID" "$FX_NS_PID") ||
		framework_failure_ "no host pid for pid $FX_NS_PID of the container of nspawn $CT_PID"
	fx_all_="$fx_all_ $FX_PID"
	[ "$(readlink "/proc/$FX_PID/ns/pid")" != "$(readlink /proc/self/ns/pid)" ] ||
		framework_failure_ "$cs_name_ (pid $FX_PID) is in this PID namespace, not a container's"
	log_ "started $cs_name_ $* in a container: pid $FX_NS_PID there, $FX_PID here (Seccomp: $(proc_field_ "$FX_PID" Seccomp), $(proc_field_ "$FX_PID" Seccomp_filters) filters)"
}

ct_finish_fixture() {
	check_untouched "$FX_PID"
	kill -USR1 "$FX_PID" || fail_ "cannot signal fixture $FX_PID"
	cf_rc_=0
	wait_timeout_ "$CT_PID" 60 || cf_rc_=$?
	[ "$cf_rc_" -ne 124 ] || fail_ "the container of fixture $FX_PID did not end within 60 s"
	if [ "$cf_rc_" -ne 0 ]; then
		cat "$FX_ERR" >&2
		fail_ "fixture $FX_PID (in a container) failed its own checks (status $cf_rc_)"
	fi
	log_ "fixture $FX_PID (in a container) passed its own checks"
}

ct_env() {
	ce_src_=$(cd "$srcdir" && pwd)
	printf '%s\n' --setenv "HG=$HG" --setenv "FIXTURES=$FIXTURES" \
		--setenv "HG_TESTS_BUILDDIR=$HG_TESTS_BUILDDIR" --setenv "srcdir=$ce_src_" \
		--setenv PYTHON3=python3 --setenv GDB=gdb --setenv LC_ALL=C
}
