#!/bin/sh
# cli-eperm.sh - not permitted: heapgrab run as user nobody against a
# fixture run by root must exit 2 with one line (not permitted / ptrace
# denied), print nothing on stdout, and leave the fixture untouched.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
require_root_
require_ptrace_
command -v setpriv > /dev/null 2>&1 || skip_ "setpriv not found (util-linux)"
as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"
}
as_nobody test -x "$HG" ||
	skip_ "user nobody cannot execute $HG (build directory not world-readable)"

start_fixture fx-messy --threads 1 --big-mib 0
hg_rc=0
as_nobody "$HG" attach "$FX_PID" > hg.out 2> hg.err || hg_rc=$?
log_ "heapgrab (as nobody) attach $FX_PID -> status $hg_rc"
expect_rc 2 "heapgrab attach as nobody"
expect_one_error "not permitted|permission|denied" "heapgrab attach as nobody"
expect_empty hg.out "stdout of heapgrab attach as nobody"
check_untouched "$FX_PID"
finish_fixture
