#!/bin/sh
# container-inside.sh - heapgrab inside a systemd-nspawn container, on its
# siblings there: tests/container-inside-run.sh run in two containers of
# the scripts/in-container root, one with nspawn's default capabilities
# (CAP_SYS_PTRACE among them), one without CAP_SYS_PTRACE
# (--drop-capability). Both must pass; see container-inside-run.sh for
# what they check.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
# shellcheck source-path=SCRIPTDIR source=inject-lib.sh
. "$srcdir/inject-lib.sh"
# shellcheck source-path=SCRIPTDIR source=container-lib.sh
. "$srcdir/container-lib.sh"
require_container_

for mode in full noptrace; do
	set -- --setenv "HG_CT_MODE=$mode" --chdir "$(pwd)"
	# (an ASan build's LeakSanitizer stops the world with ptrace at exit,
	# which the container's filter then forbids: no leak check there)
	[ "$mode" = full ] ||
		set -- "$@" --drop-capability CAP_SYS_PTRACE --setenv ASAN_OPTIONS=detect_leaks=0
	rc=0
	# shellcheck disable=SC2046 # ct_env prints one word a line
	ct_run $(ct_env) "$@" -- sh "$srcdir/container-inside-run.sh" \
		> "inside-$mode.log" 2>&1 < /dev/null || rc=$?
	sed "s/^/    [$mode] /" "inside-$mode.log" >&2
	case $rc in
	0) log_ "inside a container ($mode): passed" ;;
	77) fail_ "inside a container ($mode): skipped, which it must not here" ;;
	*) fail_ "inside a container ($mode): status $rc (see above)" ;;
	esac
done
