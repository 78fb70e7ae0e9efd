#!/usr/bin/env python3
"""check-leaks.py - check heapgrab leaks / why / top --retained against
fx-leak's own bookkeeping (the notes in its ready file, fixtures/fx-leak.c).

  check-leaks.py leaks READY LEAKS.json
      Structure (keys and order of doc/json-output.md), leaked, leak_roots
      and possibly_leaked counts and bytes equal the fixture's, by_type is
      one "untyped" row with the leaked totals, the examples are exactly the
      four leak heads (big, chained_head, lost_head, cycle_low), largest
      first, with their chunk sizes.
  check-leaks.py why READY KEY WHY.json STATE [ROOT_REGEX [HOPS]]
      heapgrab why of the address noted as KEY: its state; for a reachable
      or possibly leaked chunk the path starts at a root whose name matches
      ROOT_REGEX (with {tid_reg}, {tid_tls}, {pid} replaced) and has HOPS
      chunks; for a leaked one, the chunks pointing to it.
  check-leaks.py retained READY TOP.json
      The roots "global cache_a", "global cache_b", the register, TLS and
      stack roots retain exactly what the fixture allocated under them; the
      chunk both caches share is in "shared".
  check-leaks.py text LEAKS.txt LEAKS.json
      Every number of the text report equals the JSON's.
  check-leaks.py valgrind VG.log LEAKS.json
      memcheck's definitely lost blocks = leak_roots.count, definitely +
      indirectly lost = leaked.count, possibly lost = possibly_leaked.count
      once the loss records allocated by glibc's allocate_dtv are left out
      (heapgrab knows glibc's dtv[1] pointer, memcheck does not).

Exit status: 0 all hold, 1 a check failed, 99 unusable input.
"""
import json
import re
import sys

failed = 0


def ok(cond, text):
    global failed
    if not cond:
        failed += 1
    print("%s  %s" % ("ok  " if cond else "FAIL", text))
    return cond


def load_notes(path):
    notes = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[0] not in ("mallinfo2", "ready"):
                notes[parts[0]] = int(parts[1], 0)
            if parts and parts[0] == "ready":
                notes["pid"] = int(parts[1])
    return notes


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        print("check-leaks.py: %s: %s" % (path, e))
        sys.exit(99)


def keys_in_order(path):
    """Top-level keys in file order."""
    with open(path) as f:
        pairs = json.load(f, object_pairs_hook=lambda kv: kv)
    return [k for k, _ in pairs]


def addr(s):
    return int(s, 16)


def check_leaks(ready, path):
    n = load_notes(ready)
    j = load_json(path)
    ok(keys_in_order(path) == ["heapgrab", "leaked", "leak_roots", "possibly_leaked",
                               "by_type", "examples"],
       "keys in order: %s" % keys_in_order(path))
    ok(j["heapgrab"] == 1, "heapgrab: 1")
    for key, want in (("leaked", "want_leaked"), ("leak_roots", "want_roots"),
                      ("possibly_leaked", "want_possibly")):
        ok(j[key]["count"] == n[want + "_count"],
           "%s.count %d = fixture %d" % (key, j[key]["count"], n[want + "_count"]))
        ok(j[key]["bytes"] == n[want + "_bytes"],
           "%s.bytes %d = fixture %d" % (key, j[key]["bytes"], n[want + "_bytes"]))
    # typing infers the lost list's nodes and the cycle's two nodes (one
    # malloc'd 16 bytes bigger: a node with glibc's slack) from their
    # shape (typed by shape: "inferred"); every other leaked chunk has no
    # type
    bt = {(r["type"], r.get("inferred", False)): (r["count"], r["bytes"])
          for r in j["by_type"]}
    ok(sum(c for c, _ in bt.values()) == n["want_leaked_count"] and
       sum(b for _, b in bt.values()) == n["want_leaked_bytes"],
       "by_type adds up to the leaked totals: %s" % j["by_type"])
    ok(set(bt) <= {("untyped", False), ("struct node", True)} and
       bt.get(("struct node", True), (0, 0))[0] == n["lost_list_len"] + 2,
       "by_type: the %d lost list nodes and the cycle's 2 inferred, the rest untyped: %s"
       % (n["lost_list_len"], j["by_type"]))
    heads = {n["big"], n["chained_head"], n["lost_head"], n["cycle_low"]}
    if "disguised" in n:
        heads.add(n["disguised"])	# fx-leak --disguised
    got = [addr(e["address"]) for e in j["examples"]]
    ok(set(got) == heads and len(got) == len(heads),
       "examples are the %d leak heads: %s" % (len(heads), [hex(a) for a in got]))
    sizes = [e["size"] for e in j["examples"]]
    ok(sizes == sorted(sizes, reverse=True), "examples largest first: %s" % sizes)
    ok(sum(sizes) == n["want_roots_bytes"],
       "example sizes sum to leak_roots.bytes: %d" % sum(sizes))
    nodes = (n["lost_head"], n["cycle_low"])
    ok(all(e["type"] == ("struct node" if addr(e["address"]) in nodes else "untyped")
           for e in j["examples"]),
       "examples: the lost list's head and the cycle's root are struct node, the rest untyped")


def check_why(ready, key, path, state, root_re=None, hops=None):
    n = load_notes(ready)
    j = load_json(path)
    target = n[key]
    ok(addr(j["chunk"]["address"]) == target,
       "%s: chunk %s = noted 0x%x" % (key, j["chunk"]["address"], target))
    ok(j["state"] == state, "%s: state %s = %s" % (key, j["state"], state))
    if state == "leaked":
        ok(j["path"] == [], "%s: no path" % key)
        return j
    path = j["path"]
    ok(len(path) >= 2 and "root" in path[0], "%s: path starts at a root" % key)
    if root_re:
        rx = root_re.format(tid_reg=n.get("tid_reg"), tid_tls=n.get("tid_tls"),
                            pid=n.get("pid"))
        ok(re.fullmatch(rx, path[0]["root"]) is not None,
           "%s: root '%s' matches /%s/" % (key, path[0]["root"], rx))
    if hops is not None:
        ok(len(path) - 1 == hops, "%s: %d chunks in the chain, want %d" %
           (key, len(path) - 1, hops))
    ok(addr(path[-1]["address"]) == target, "%s: the chain ends at the chunk" % key)
    interior = any(s.get("interior") for s in path[1:])
    ok(interior == (state == "possibly_leaked"),
       "%s: interior pointer in the chain: %s" % (key, interior))
    for s in path[1:-1]:
        ok(s["pointer_offset"] is not None, "%s: pointer offset of %s known" %
           (key, s["address"]))
    return j


def check_retained(ready, path):
    n = load_notes(ready)
    j = load_json(path)
    ok(keys_in_order(path) == ["heapgrab", "reachable", "shared", "roots", "chunks"],
       "keys in order")
    roots = {r["root"]: r for r in j["roots"]}

    def root(rx):
        m = [r for name, r in roots.items() if re.fullmatch(rx, name)]
        ok(len(m) == 1, "one root matches /%s/: %s" % (rx, [r["root"] for r in m]))
        return m[0] if m else {"count": -1, "bytes": -1}

    for name, want in (("cache_a", "cache_a"), ("cache_b", "cache_b")):
        r = root(r"global %s \(fx-leak, \.bss\)" % name)
        ok(r["count"] == n[want + "_count"] and r["bytes"] == n[want + "_bytes"],
           "%s retains %d chunks, %d bytes = fixture %d, %d" %
           (name, r["count"], r["bytes"], n[want + "_count"], n[want + "_bytes"]))
    r = root(r"thread %d register r12" % n["tid_reg"])
    ok(r["count"] == 1, "register r12 retains one chunk (%d)" % r["count"])
    r = root(r"thread %d TLS tls_keep \(fx-leak\)" % n["tid_tls"])
    ok(r["count"] == 1, "tls_keep retains one chunk (%d)" % r["count"])
    r = root(r"thread %d stack" % n["pid"])
    ok(r["count"] == 1, "the main thread's stack retains one chunk (%d)" % r["count"])
    ok(j["shared"]["count"] >= 1 and j["shared"]["bytes"] >= n["shared_bytes"],
       "shared: %s includes the shared chunk (%d bytes)" % (j["shared"], n["shared_bytes"]))
    ok(j["roots"] == sorted(j["roots"], key=lambda r: (-r["bytes"], -r["count"])),
       "roots sorted by bytes")


def check_text(txt_path, json_path):
    j = load_json(json_path)
    text = open(txt_path).read()

    def num(label):
        m = re.search(r"^%s\s+([\d,]+) chunks" % label, text, re.M)
        return int(m.group(1).replace(",", "")) if m else None

    ok(num("leaked") == j["leaked"]["count"], "text leaked count = JSON")
    ok(num("possibly leaked") == j["possibly_leaked"]["count"], "text possibly count = JSON")
    m = re.search(r"\(([\d,]+) leak roots?:", text)
    ok(m and int(m.group(1).replace(",", "")) == j["leak_roots"]["count"],
       "text leak roots = JSON")
    for row in j["by_type"]:
        name = ("~" if row.get("inferred") else "") + row["type"]
        ok(re.search(r"^\s+%s\s+.*\s%s$" % (format(row["count"], ","), re.escape(name)),
                     text, re.M) is not None, "text by_type row %s" % name)


def vg_blocks(log, kind):
    m = re.search(r"%s: [\d,]+ bytes in ([\d,]+) blocks" % kind, log)
    if not m:
        print("check-leaks.py: no '%s' line in the valgrind log" % kind)
        sys.exit(99)
    return int(m.group(1).replace(",", ""))


def check_valgrind(log_path, json_path):
    log = open(log_path).read()
    j = load_json(json_path)
    definitely = vg_blocks(log, "definitely lost")
    indirectly = vg_blocks(log, "indirectly lost")
    possibly = vg_blocks(log, "possibly lost")
    # loss records: "N bytes in K blocks are possibly lost in loss record"
    # followed by the allocation stack up to the next blank record line
    dtv = 0
    for rec in re.split(r"^==\d+== \n", log, flags=re.M):
        m = re.search(r"in ([\d,]+) blocks are possibly lost", rec)
        if m and "allocate_dtv" in rec:
            dtv += int(m.group(1).replace(",", ""))
    ok(definitely == j["leak_roots"]["count"],
       "memcheck definitely lost %d blocks = heapgrab leak_roots %d" %
       (definitely, j["leak_roots"]["count"]))
    ok(definitely + indirectly == j["leaked"]["count"],
       "memcheck definitely + indirectly lost %d + %d = heapgrab leaked %d" %
       (definitely, indirectly, j["leaked"]["count"]))
    ok(possibly - dtv == j["possibly_leaked"]["count"],
       "memcheck possibly lost %d - %d DTV blocks = heapgrab possibly_leaked %d" %
       (possibly, dtv, j["possibly_leaked"]["count"]))


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 99
    cmd, args = argv[1], argv[2:]
    if cmd == "leaks" and len(args) == 2:
        check_leaks(*args)
    elif cmd == "why" and 4 <= len(args) <= 6:
        hops = int(args[5]) if len(args) == 6 else None
        check_why(args[0], args[1], args[2], args[3], args[4] if len(args) > 4 else None,
                  hops)
    elif cmd == "retained" and len(args) == 2:
        check_retained(*args)
    elif cmd == "text" and len(args) == 2:
        check_text(*args)
    elif cmd == "valgrind" and len(args) == 2:
        check_valgrind(*args)
    else:
        print(__doc__)
        return 99
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
