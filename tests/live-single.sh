#!/bin/sh
# live-single.sh - a single-threaded program: only the main arena, one
# tcache.  fx-messy --threads 0; checks as in census_test_ (init.sh).
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
require_ptrace_
census_test_ fx-messy --threads 0
