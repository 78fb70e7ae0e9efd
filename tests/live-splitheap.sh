#!/bin/sh
# live-splitheap.sh - a main heap that /proc/PID/maps shows as several
# adjacent "[heap]" VMAs (fx-splitheap: madvise splits it, as fork and
# growth split tmux's). The walk must cross the VMA boundaries: every
# mallinfo2 relation exact, no warning (census_test_, init.sh).
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
require_ptrace_
census_test_ fx-splitheap
