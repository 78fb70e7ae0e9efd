#!/usr/bin/env python3
"""check-types.py - heapgrab's census by type against a fixture's own counts.

  check-types.py census.json --ready FILE [--coverage PCT] [--same OTHER.json]

The fixture's ready file has one line per type it built, "type=NAME COUNT",
"inferred=NAME COUNT" for chunks only their shape can type, and
"untyped.NAME COUNT" lines for chunks nothing can type, "prefix=NAME COUNT"
for types with long names (the exact rows whose name starts with NAME add
up to COUNT). Checks:
  - every "type=NAME" row of by_type has exactly COUNT chunks, exact (not
    inferred), and every "inferred=NAME" row COUNT inferred chunks; the
    exact rows starting with a "prefix=NAME" add up to COUNT;
  - by_type rows add up to the live totals (in_use + mmapped), in count
    and bytes, and the "typing" object agrees with them;
  - the "untyped" row holds at least the fixture's untyped chunks;
  - coverage: typed bytes / live bytes, not counting the fixture's
    deliberately untyped chunks, is at least PCT (printed either way);
  - --same: by_type equals OTHER's (a core of the same process, a saved
    snapshot read back).
Exit 0 when all hold; the failures are printed.
"""
import argparse
import json
import sys


def rows(census):
    return {(r["type"], bool(r.get("inferred", False))): (r["count"], r["bytes"])
            for r in census["by_type"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("census")
    ap.add_argument("--ready", required=True)
    ap.add_argument("--coverage", type=float, default=None)
    ap.add_argument("--same", default=None)
    a = ap.parse_args()
    with open(a.census) as f:
        c = json.load(f)
    want, untyped_min, untyped_bytes = {}, 0, 0
    want_inferred, want_prefix = {}, {}
    with open(a.ready) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("type="):
                name, count = line[5:].rsplit(" ", 1)
                want[name] = int(count)
            elif line.startswith("inferred="):
                name, count = line[9:].rsplit(" ", 1)
                want_inferred[name] = int(count)
            elif line.startswith("prefix="):
                name, count = line[7:].rsplit(" ", 1)
                want_prefix[name] = int(count)
            elif line.startswith("untyped."):
                untyped_min += int(line.rsplit(" ", 1)[1])
    bad = []
    have = rows(c)
    for name, count in sorted(want.items()):
        got = have.get((name, False), (0, 0))[0]
        if got != count:
            bad.append("%s: %d chunks, the fixture built %d" % (name, got, count))
        if (name, True) in have and name not in want_inferred:
            bad.append("%s: %d chunks only inferred" % (name, have[(name, True)][0]))
    for name, count in sorted(want_prefix.items()):
        got = sum(v[0] for (n, inf), v in have.items() if not inf and n.startswith(name))
        if got != count:
            bad.append("%s...: %d chunks, the fixture built %d" % (name, got, count))
    for name, count in sorted(want_inferred.items()):
        got = have.get((name, True), (0, 0))[0]
        if got != count:
            bad.append("~%s (inferred): %d chunks, the fixture left %d to infer"
                       % (name, got, count))
    t = c["totals"]
    live_n = t["in_use"]["count"] + t["mmapped"]["count"]
    live_b = t["in_use"]["bytes"] + t["mmapped"]["bytes"]
    sum_n = sum(v[0] for v in have.values())
    sum_b = sum(v[1] for v in have.values())
    if (sum_n, sum_b) != (live_n, live_b):
        bad.append("by_type adds up to %d chunks / %d bytes, live is %d / %d"
                   % (sum_n, sum_b, live_n, live_b))
    ty = c["typing"]
    parts = [ty["exact"], ty["inferred"], ty["untyped"]]
    if (sum(p["count"] for p in parts), sum(p["bytes"] for p in parts)) != (live_n, live_b):
        bad.append("typing object does not add up to the live totals: %r" % ty)
    un = have.get(("untyped", False), (0, 0))
    if un[0] != ty["untyped"]["count"]:
        bad.append("untyped row %d, typing.untyped %d" % (un[0], ty["untyped"]["count"]))
    if un[0] < untyped_min:
        bad.append("untyped row has %d chunks, the fixture made %d untypable"
                   % (un[0], untyped_min))
    # coverage without the fixture's deliberately untyped chunks: those are
    # the largest untyped ones only if the fixture says so; count them by
    # bytes through the "untyped.*" notes' sizes is not possible, so the
    # test excludes the whole untyped row up to its noted count's share.
    typed_b = ty["exact"]["bytes"] + ty["inferred"]["bytes"]
    cov_all = 100.0 * typed_b / live_b if live_b else 100.0
    print("coverage: %.2f%% of %d live bytes typed (exact %.2f%%, inferred %.2f%%)"
          % (cov_all, live_b, 100.0 * ty["exact"]["bytes"] / live_b,
             100.0 * ty["inferred"]["bytes"] / live_b))
    if a.coverage is not None:
        # untypable by design: untyped chunks the fixture announced
        excl = un[1] if un[0] <= untyped_min else 0
        cov = 100.0 * typed_b / (live_b - excl) if live_b > excl else 100.0
        print("coverage without the fixture's untypable chunks: %.2f%%" % cov)
        if cov < a.coverage:
            bad.append("coverage %.2f%% < %.2f%%" % (cov, a.coverage))
    if a.same:
        with open(a.same) as f:
            other = json.load(f)
        if rows(other) != have:
            diff = set(rows(other).items()) ^ set(have.items())
            bad.append("by_type differs from %s: %s" % (a.same, sorted(diff)[:10]))
    for b in bad:
        print("check-types: " + b, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
