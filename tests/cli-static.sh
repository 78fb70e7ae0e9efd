#!/bin/sh
# cli-static.sh - a statically linked target: exit 2, one line saying
# "statically linked", nothing on stdout, target untouched.  Skips when
# the toolchain cannot link statically (fixtures/static-link.sh).
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
require_ptrace_
start_fixture fx-static
run_hg attach "$FX_PID"
expect_rc 2 "heapgrab attach on a static binary"
expect_one_error "statically linked" "heapgrab attach on a static binary"
expect_empty hg.out "stdout of heapgrab attach on a static binary"
check_untouched "$FX_PID"
finish_fixture
