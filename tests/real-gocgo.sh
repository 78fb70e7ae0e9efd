#!/bin/sh
# real-gocgo.sh - typing a real program: a Go service with cgo keeping 20,000 C structs (and
# their C name strings) alive from a Go slice, against its own len().
# Nothing typed reaches the structs (the slice's backing array is in Go's
# heap, an anonymous mapping without C types): typing by shape does
# (typing/shape.c: a link to a node of their own shape and a name that
# is a C string), marked inferred, and the names through them.
# At least 90% of the live bytes typed and the counts within 2%
# (tests/real-lib.sh; runs with HG_REAL_TESTS=1), then exactly: the
# rows of struct conn and of char[] are each the program's len().
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
# shellcheck source=real-lib.sh
. "$srcdir/real-lib.sh"
real_test gocgo
"$PYTHON3" - real.json own-counts <<'PY' || fail_ "gocgo: counts not exactly the program's len()"
import json, sys
d = json.load(open(sys.argv[1]))
bad = 0
for line in open(sys.argv[2]):
    if "=" not in line:
        continue
    ty, own = line.strip().rsplit("=", 1)
    rows = [r for r in d["by_type"] if r["type"] == ty]
    got = sum(r["count"] for r in rows)
    inferred = sum(r["count"] for r in rows if r.get("inferred"))
    print("%s: heapgrab %d (%d inferred), the program's len() %s" % (ty, got, inferred, own))
    bad += got != int(own)
sys.exit(1 if bad else 0)
PY
