#!/bin/sh
# cli-stdout-full.sh - a write error on stdout is an error.
#
# heapgrab attach PID > /dev/full (text and JSON), heapgrab --help and
# --version > /dev/full: each exits 2 with one "heapgrab: " line on stderr
# (the target is detached and untouched regardless).
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
[ -w /dev/full ] || skip_ "/dev/full not available"
require_ptrace_

start_fixture fx-messy --threads 1 --big-mib 0
HG_OUT=/dev/full run_hg attach "$FX_PID"
expect_rc 2 "heapgrab attach > /dev/full"
expect_one_error "write|space|output" "heapgrab attach > /dev/full"
check_untouched "$FX_PID"

HG_OUT=/dev/full run_hg attach "$FX_PID" --format json
expect_rc 2 "heapgrab attach --format json > /dev/full"
expect_one_error "write|space|output" "heapgrab attach --format json > /dev/full"
check_untouched "$FX_PID"
finish_fixture

HG_OUT=/dev/full run_hg --help
expect_rc 2 "heapgrab --help > /dev/full"
expect_one_error "write|space|output" "heapgrab --help > /dev/full"

HG_OUT=/dev/full run_hg --version
expect_rc 2 "heapgrab --version > /dev/full"
expect_one_error "write|space|output" "heapgrab --version > /dev/full"
