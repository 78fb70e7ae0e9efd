#!/usr/bin/env python3
"""check-text.py TEXT JSON - the text census says what the JSON says.

heapgrab's text output is for people, but its numbers must be the same
numbers the JSON contract carries (which check-census.py holds against
mallinfo2 and gdb). Checks, from the text table: each kind's chunk count
and exact byte count, the overhead and arena-memory bytes, the number of
arenas, and every printed size-class row (size, count) in order.
Exit 0 when all agree, 1 otherwise (each mismatch printed).
"""
import json
import re
import sys


def num(s):
    return int(s.replace(",", ""))


def main():
    text = open(sys.argv[1]).read().splitlines()
    js = json.load(open(sys.argv[2]))
    t = js["totals"]
    bad = 0

    def check(what, got, want):
        nonlocal bad
        ok = got == want
        print("%s %s: text %s, json %s" % ("ok  " if ok else "FAIL", what, got, want))
        bad += not ok

    kinds = {"in use": "in_use", "free: tcache": "tcache", "free: fastbins": "fastbin",
             "free: bins": "bin", "free: top": "top", "mmapped": "mmapped"}
    seen = set()
    for line in text:
        for label, key in kinds.items():
            m = re.match(r"^%s\s+([\d,]+)\s+\S+ \S+\s+([\d,]+)$" % re.escape(label), line)
            if m:
                seen.add(key)
                check(key + " count", num(m.group(1)), t[key]["count"])
                check(key + " bytes", num(m.group(2)), t[key]["bytes"])
        m = re.match(r"^overhead\s+-\s+\S+ \S+\s+([\d,]+)$", line)
        if m:
            seen.add("overhead")
            check("overhead bytes", num(m.group(1)), t["overhead"]["bytes"])
        m = re.match(r"^arena memory\s+-\s+\S+ \S+\s+([\d,]+)$", line)
        if m:
            seen.add("arena")
            check("arena memory", num(m.group(1)), sum(a["system_bytes"] for a in js["arenas"]))
        m = re.match(r"^arenas: (\d+)$", line)
        if m:
            seen.add("arenas")
            check("arenas", int(m.group(1)), len(js["arenas"]))
    for key in list(kinds.values()) + ["overhead", "arena", "arenas"]:
        if key not in seen:
            print("FAIL no text line for %s" % key)
            bad += 1
    rows = []
    try:
        start = next(i for i, l in enumerate(text) if l.strip().startswith("chunk size"))
    except StopIteration:
        print("FAIL no size-class table")
        return 1
    for line in text[start + 1:]:
        m = re.match(r"^\s*([\d,]+)\s+([\d,]+)\s+\S+ \S+$", line)
        if not m:
            break
        rows.append((num(m.group(1)), num(m.group(2))))
    want = [(r["size"], r["count"]) for r in js["by_size"][:len(rows)]]
    check("size-class rows (%d shown)" % len(rows), rows, want)
    if not rows:
        print("FAIL no size-class rows")
        bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
