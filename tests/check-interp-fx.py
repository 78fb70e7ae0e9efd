#!/usr/bin/env python3
"""check-interp-fx.py - the declines of the interpreter fixtures.

  check-interp-fx.py census.json --ready FILE [--forbid ROW ...]

tests/check-types.py checks the rows the fixture typed; this checks what
must stay untyped. The fx-interp-* fixtures allocate nothing but their
own objects (no stdio before the census), so every live chunk is either
one of their typed objects, glibc's tcache struct (typed through its TLS
variable), or one of the chunks their "untyped.NAME COUNT" notes count:
the untyped row must hold exactly the sum of those notes, no more (a
decline typed) and no fewer (a guess). --forbid ROW: no row of that name
may exist (the header typed as itself or as an array of headers, a union
alternative's type taken by size). Exit 0 when both hold.
"""
import argparse
import json
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("census")
    ap.add_argument("--ready", required=True)
    ap.add_argument("--forbid", action="append", default=[])
    a = ap.parse_args()
    with open(a.census) as f:
        c = json.load(f)
    want = 0
    with open(a.ready) as f:
        for line in f:
            if line.startswith("untyped."):
                want += int(line.split()[1])
    rows = {}
    for r in c["by_type"]:
        rows[r["type"]] = rows.get(r["type"], 0) + r["count"]
    bad = []
    got = rows.get("untyped", 0)
    if got != want:
        bad.append("%d chunks untyped, the fixture made %d that nothing may type" % (got, want))
    for row in a.forbid:
        if rows.get(row):
            bad.append("%d chunks typed %s" % (rows[row], row))
    for b in bad:
        print("check-interp-fx: " + b, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
