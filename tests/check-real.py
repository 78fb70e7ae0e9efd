#!/usr/bin/env python3
"""check-real.py - heapgrab's census by type of a real program against the
program's own counts.

  check-real.py NAME census.json --own FILE [--count ROW=KEY ...]
                [--tolerance PCT] [--coverage PCT] [--typing-ms MS]
                [--max-wrong ROW ...]

FILE holds the program's own counts, one "PREFIX KEY N" line each (the
drivers real-lua.lua and real-python.py print them: "lua tables 50020",
"py gc.list 20071"); KEY is matched as "PREFIX.KEY" (lua.tables,
py.gc.list). Each --count ROW=KEY compares the by_type row named ROW
(exact chunks; inferred rows of the same name are added and shown apart)
with the program's number: equal within --tolerance per cent (default 2).
ROW=KEY1+KEY2 adds several of the program's numbers.

Prints one summary line (what bench/typing-real.sh shows):
  NAME  chunks, live bytes, exact %, inferred %, untyped %, conflicts,
  typing ms (when given)
then one line per --count. --coverage PCT fails when less than PCT per
cent of the live bytes are typed (exact + inferred). --max-wrong ROW
fails when a row of that name exists at all (a type the program cannot
have, such as an array of header structs). Without --tolerance checks,
--coverage and --max-wrong it only prints (the benchmark's use).
Exit 0 when every requested check holds; the failures go to stderr.
"""
import argparse
import json
import sys


def own_counts(path):
    own = {}
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) == 3 and p[2].lstrip("-").isdigit():
                own["%s.%s" % (p[0], p[1])] = int(p[2])
    return own


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("name")
    ap.add_argument("census")
    ap.add_argument("--own", required=True)
    ap.add_argument("--count", action="append", default=[])
    ap.add_argument("--tolerance", type=float, default=None)
    ap.add_argument("--coverage", type=float, default=None)
    ap.add_argument("--typing-ms", default=None)
    ap.add_argument("--max-wrong", action="append", default=[])
    a = ap.parse_args()
    bad = []
    try:
        with open(a.census) as f:
            c = json.load(f)
    except (OSError, ValueError) as e:
        print("%-12s no census (%s)" % (a.name, e))
        return 1
    own = own_counts(a.own)
    t = c["typing"]
    live = t["exact"]["bytes"] + t["inferred"]["bytes"] + t["untyped"]["bytes"]
    n = t["exact"]["count"] + t["inferred"]["count"] + t["untyped"]["count"]

    def pc(x):
        return 100.0 * x / live if live else 0.0

    line = ("%-12s %8d chunks %11d bytes  exact %5.1f%%  inferred %5.1f%%  untyped %5.1f%%  "
            "conflicts %d" % (a.name, n, live, pc(t["exact"]["bytes"]),
                              pc(t["inferred"]["bytes"]), pc(t["untyped"]["bytes"]),
                              t["conflicts"]))
    if a.typing_ms:
        line += "  typing %s ms" % a.typing_ms
    print(line)
    rows, inferred = {}, {}
    for r in c["by_type"]:
        d = inferred if r.get("inferred") else rows
        d[r["type"]] = d.get(r["type"], 0) + r["count"]
    for spec in a.count:
        row, _, keys = spec.partition("=")
        want = 0
        for k in keys.split("+"):
            if k not in own:
                bad.append("%s: the program printed no %s" % (a.name, k))
            want += own.get(k, 0)
        got = rows.get(row, 0)
        inf = inferred.get(row, 0)
        diff = 100.0 * (got + inf - want) / want if want else (0.0 if got + inf == 0 else 100.0)
        print("  %-28s heapgrab %8d (+%d inferred)  program %8d (%s)  %+6.2f%%"
              % (row, got, inf, want, keys, diff))
        if a.tolerance is not None and abs(diff) > a.tolerance:
            bad.append("%s: %s: heapgrab %d (+%d inferred), the program %d: %+.2f%% > %.1f%%"
                       % (a.name, row, got, inf, want, diff, a.tolerance))
    if a.coverage is not None and pc(t["exact"]["bytes"] + t["inferred"]["bytes"]) < a.coverage:
        bad.append("%s: %.1f%% of live bytes typed, want at least %.1f%%"
                   % (a.name, pc(t["exact"]["bytes"] + t["inferred"]["bytes"]), a.coverage))
    for row in a.max_wrong:
        for d in (rows, inferred):
            if d.get(row):
                bad.append("%s: %d chunks typed %s" % (a.name, d[row], row))
    for b in bad:
        print("check-real: " + b, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
