#!/bin/sh
# live-noncontig.sh - a non-contiguous main arena.
#
# fx-messy --block-brk maps a page right after the program break early, so
# brk cannot grow and sysmalloc continues the main arena in mmapped
# segments (NONCONTIGUOUS_BIT; only the segment holding top is reachable
# from the arena, doc/glibc-malloc.md §7 and §8).  Every relation must still hold
# exactly, in particular sum(system_bytes) = arena and the byte totals.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
require_ptrace_
census_test_ fx-messy --block-brk --threads 1 --big-mib 0
