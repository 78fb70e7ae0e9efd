#!/bin/sh
# live-foreign-sbrk.sh - the program moved the break behind malloc's back.
#
# fx-messy --foreign-sbrk calls sbrk(40000) itself between mallocs; the next
# brk extension finds the break moved and sysmalloc counts the foreign
# bytes in system_mem (doc/glibc-malloc.md §8: they are overhead).  Every relation
# must still hold exactly.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
require_ptrace_
census_test_ fx-messy --foreign-sbrk --threads 1 --big-mib 0
