#!/bin/sh
# real-gocgo.sh - typing a real program: a Go service with cgo keeping 20,000 C structs (and
# their C name strings) alive from a Go slice, against its own len().
# At least 90% of the live bytes typed, the counts within 2%
# (tests/real-lib.sh; runs with HG_REAL_TESTS=1). Expected to fail
# (XFAIL_TESTS): typing does not follow Go's heap with Go's types, and
# the structs' own pointers are too little evidence for shapes.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
# shellcheck source=real-lib.sh
. "$srcdir/real-lib.sh"
real_test gocgo
