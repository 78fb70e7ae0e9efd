#!/bin/sh
# live-threads.sh - more threads than arenas.
#
# fx-messy --threads 12 under arena_max=8: 13 threads share 8 arenas, so
# several threads' tcaches hold chunks of shared arenas, and one thread
# frees another arena's chunk into its own tcache.  Same checks as
# live-messy.sh (census_test_ in init.sh): every mallinfo2 relation, the
# fixture's notes (13 threads, 8 arenas), gdb's arenas, tcache and fastbin
# figures, target untouched, fixture's own checks.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
require_ptrace_
census_test_ fx-messy --threads 12 --big-mib 0
