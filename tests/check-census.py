#!/usr/bin/env python3
"""check-census.py - check heapgrab's JSON census against its contract.

  check-census.py check JSON [--ready FILE] [--oracle ORACLE.json]
                  [--symbols dwarf|disasm] [--glibc VERSION]
                  [--allow-warnings] [--host-pid PID]
      Structure of the JSON (every field present, types, key order, address
      format, by_size sorted with bytes = size * count: doc/json-output.md),
      then every relation of the brief against the fixture's own mallinfo2
      line from the ready file (see fixtures/fixture.h), the always-true
      relation, top.count = arenas, sum(by_size) = in_use + mmapped,
      target.pid and target.ns_pid = the ready file's pid (with --host-pid:
      target.pid = PID and target.ns_pid = the ready file's pid), then
      the fixture's notes (threads, arenas, big_heaps_min, main_heaps_min),
      then, with --oracle, the figures gdb read (tests/gdb-oracle.py).  Without --ready only the relations that
      hold always are checked.  target.glibc must be this machine's glibc,
      or VERSION with --glibc (a chroot or a frozen core).  Prints every
      relation with both sides.
  check-census.py same A.json B.json
      The two censuses of the same quiescent target must be identical,
      byte for byte, except target.libc_symbols (dwarf vs disasm),
      target.memory (a live copy vs a core), and target.ns_pid when one
      side is a core (which has none).
  check-census.py census-same A.json B.json [--memory-a M,..] [--memory-b M,..]
      Two censuses of the same quiescent target, typed or not: heapgrab,
      arenas, totals, by_size, warnings and target identical (apart from
      target.memory, which may be required to be one of a list).
  check-census.py corrupt JSON --ready FILE [--where main|thread]
      A census of fx-corrupt: structure, warnings >= 1, every arena listed,
      the thread arenas' marker chunks counted (and the main arena's, when
      the damage is in a thread arena).  The always-relation is printed as
      information only: the contract does not say where skipped bytes go.
  check-census.py batch JSON...
      Structure and the always-true relation for each file (the reliability
      loop); prints one line per bad file and a summary.

Exit status: 0 all hold, 1 a check failed, 99 unusable input.
"""
import argparse
import json
import os
import re
import sys

KINDS = ("in_use", "tcache", "fastbin", "bin", "top", "mmapped")
HEAP_KINDS = ("in_use", "tcache", "fastbin", "bin", "top")
MALLINFO_FIELDS = ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                   "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")


class Checker:
    def __init__(self, label=""):
        self.failed = 0
        self.label = label
        self.quiet = False

    def ok(self, cond, text):
        if not cond:
            self.failed += 1
        if not self.quiet or not cond:
            print("%s%s  %s" % (self.label, "ok  " if cond else "FAIL", text))
        return cond

    def rel(self, name, lhs_terms, rhs_name, rhs):
        """lhs_terms: list of (name, value); asserts sum == rhs."""
        total = sum(v for _, v in lhs_terms)
        desc = " + ".join(n for n, _ in lhs_terms)
        vals = " + ".join(str(v) for _, v in lhs_terms)
        if len(lhs_terms) > 1:
            vals += " = %d" % total
        return self.ok(total == rhs, "%s: %s = %s: %s vs %d%s" % (
            name, desc, rhs_name, vals, rhs,
            "" if total == rhs else "  (off by %+d)" % (total - rhs)))


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


TOP_KEYS = ["heapgrab", "target", "arenas", "totals", "by_size", "warnings"]
TARGET_KEYS = ["pid", "ns_pid", "exe", "glibc", "threads", "libc_symbols", "memory"]
ARENA_KEYS = ["address", "main", "heaps", "system_bytes"]
TOTAL_KEYS = list(KINDS) + ["overhead"]
ROW_KEYS = ["size", "count", "bytes"]


def known_order(keys, want):
    """The contract's keys, in the contract's order (new keys may be added
    anywhere: doc/json-output.md, Stability)."""
    return [k for k in keys if k in want] == [k for k in want if k in keys]


def address_ok(s):
    """ "0x" + lower-case hex without leading zeros (doc/json-output.md)."""
    h = s[2:]
    return (s.startswith("0x") and len(h) > 0
            and all(ch in "0123456789abcdef" for ch in h)
            and (h == "0" or not h.startswith("0")))


def check_structure(c, d):
    """Every field of the contract present with the right type, in the
    documented order and format (doc/json-output.md)."""
    if not c.ok(isinstance(d, dict), "top level is an object"):
        return False
    good = True
    good &= c.ok(known_order(list(d), TOP_KEYS),
                 "top-level keys in the documented order: %s" % list(d))
    if isinstance(d.get("target"), dict):
        good &= c.ok(known_order(list(d["target"]), TARGET_KEYS),
                     "target keys in the documented order: %s"
                     % list(d["target"]))
    if isinstance(d.get("totals"), dict):
        good &= c.ok(known_order(list(d["totals"]), TOTAL_KEYS),
                     "totals keys in the documented order: %s"
                     % list(d["totals"]))
    good &= c.ok(d.get("heapgrab") == 1, '"heapgrab": 1 (got %r)'
                 % d.get("heapgrab"))
    t = d.get("target")
    if c.ok(isinstance(t, dict), '"target" is an object'):
        for k, typ in (("pid", int), ("exe", str), ("glibc", str),
                       ("threads", int), ("libc_symbols", str)):
            good &= c.ok(k in t and isinstance(t[k], typ)
                         and not isinstance(t[k], bool),
                         "target.%s present (%s): %r" % (k, typ.__name__,
                                                        t.get(k)))
        if "ns_pid" in t:
            good &= c.ok(is_int(t["ns_pid"]) and t["ns_pid"] > 0,
                         "target.ns_pid, when present, a positive integer: %r"
                         % t["ns_pid"])
        if "libc_symbols" in t:
            good &= c.ok(t["libc_symbols"] in ("dwarf", "disasm"),
                         'target.libc_symbols is "dwarf" or "disasm": %r'
                         % t["libc_symbols"])
        good &= c.ok(t.get("memory") in ("heap", "writable", "core"),
                     'target.memory is "heap", "writable" or "core": %r'
                     % t.get("memory"))
    else:
        good = False
    a = d.get("arenas")
    if c.ok(isinstance(a, list) and len(a) >= 1,
            '"arenas" is a non-empty array'):
        nmain = 0
        addrs = set()
        for i, ar in enumerate(a):
            ok = (isinstance(ar, dict)
                  and isinstance(ar.get("address"), str)
                  and ar["address"].startswith("0x")
                  and isinstance(ar.get("main"), bool)
                  and is_int(ar.get("heaps"))
                  and is_int(ar.get("system_bytes")))
            good &= c.ok(ok, "arenas[%d] has address (\"0x..\"), main "
                         "(bool), heaps, system_bytes: %r" % (i, ar))
            if ok:
                nmain += ar["main"]
                good &= c.ok(known_order(list(ar), ARENA_KEYS),
                             "arenas[%d] keys in order: %s" % (i, list(ar)))
                good &= c.ok(address_ok(ar["address"]),
                             "arenas[%d].address is 0x + lower-case hex "
                             "without leading zeros: %r" % (i, ar["address"]))
                try:
                    addrs.add(int(ar["address"], 16))
                except ValueError:
                    good &= c.ok(False, "arenas[%d].address parses: %r"
                                 % (i, ar["address"]))
                good &= c.ok(ar["heaps"] >= 1 and ar["system_bytes"] >= 0,
                             "arenas[%d]: heaps >= 1, system_bytes >= 0"
                             % i)
        good &= c.ok(nmain == 1, "exactly one arena has main: true (%d)"
                     % nmain)
        good &= c.ok(isinstance(a[0], dict) and a[0].get("main") is True,
                     "arenas[0] is the main arena (the list starts at "
                     "main_arena)")
        good &= c.ok(len(addrs) == len(a), "arena addresses are distinct")
    else:
        good = False
    tot = d.get("totals")
    if c.ok(isinstance(tot, dict), '"totals" is an object'):
        for k in KINDS:
            v = tot.get(k)
            good &= c.ok(isinstance(v, dict) and is_int(v.get("count"))
                         and is_int(v.get("bytes"))
                         and v["count"] >= 0 and v["bytes"] >= 0,
                         "totals.%s has count and bytes >= 0: %r" % (k, v))
        v = tot.get("overhead")
        good &= c.ok(isinstance(v, dict) and is_int(v.get("bytes"))
                     and v["bytes"] >= 0,
                     "totals.overhead has bytes >= 0: %r" % (v,))
    else:
        good = False
    bs = d.get("by_size")
    if c.ok(isinstance(bs, list), '"by_size" is an array'):
        sizes = set()
        for i, row in enumerate(bs):
            ok = (isinstance(row, dict) and is_int(row.get("size"))
                  and is_int(row.get("count")) and is_int(row.get("bytes"))
                  and row["size"] > 0 and row["count"] > 0
                  and row["bytes"] > 0 and row["size"] % 16 == 0)
            good &= c.ok(ok, "by_size[%d] has size (multiple of 16), "
                         "count, bytes > 0: %r" % (i, row))
            if ok:
                sizes.add(row["size"])
                good &= c.ok(row["bytes"] == row["size"] * row["count"],
                             "by_size[%d]: bytes = size * count: %d vs %d"
                             % (i, row["bytes"], row["size"] * row["count"]))
                good &= c.ok(known_order(list(row), ROW_KEYS),
                             "by_size[%d] keys in order: %s" % (i, list(row)))
        good &= c.ok(len(sizes) == len(bs), "by_size sizes are distinct")
        keyed = [(-r["bytes"], r["size"]) for r in bs
                 if isinstance(r, dict) and is_int(r.get("bytes"))
                 and is_int(r.get("size"))]
        good &= c.ok(keyed == sorted(keyed),
                     "by_size sorted by bytes descending, then size "
                     "ascending")
    else:
        good = False
    good &= c.ok(is_int(d.get("warnings")) and d["warnings"] >= 0,
                 '"warnings" is an integer >= 0: %r' % d.get("warnings"))
    return good


def by_size_relations(c, d):
    """doc/json-output.md: by_size covers every in_use and mmapped chunk."""
    tot = d["totals"]
    bs = d["by_size"]
    c.rel("by_size count", [("sum(by_size[].count)",
                             sum(r["count"] for r in bs))],
          "in_use.count + mmapped.count",
          tot["in_use"]["count"] + tot["mmapped"]["count"])
    c.rel("by_size bytes", [("sum(by_size[].bytes)",
                             sum(r["bytes"] for r in bs))],
          "in_use.bytes + mmapped.bytes",
          tot["in_use"]["bytes"] + tot["mmapped"]["bytes"])


def load(path):
    """The JSON of one heapgrab run: one object, then a newline."""
    with open(path) as f:
        text = f.read()
    d = json.loads(text)
    return d, text


def system_relation(c, d):
    tot = d["totals"]
    sysb = sum(a["system_bytes"] for a in d["arenas"])
    terms = [("%s.bytes" % k, tot[k]["bytes"]) for k in HEAP_KINDS]
    terms.append(("overhead.bytes", tot["overhead"]["bytes"]))
    return c.rel("always", terms, "sum(arenas[].system_bytes)", sysb)


def parse_ready(path):
    notes, mi, pid = {}, None, None
    with open(path) as f:
        for line in f:
            w = line.split()
            if not w:
                continue
            if w[0] == "mallinfo2":
                mi = {}
                for kv in w[1:]:
                    k, v = kv.split("=", 1)
                    mi[k] = int(v)
            elif w[0] == "ready":
                pid = int(w[1])
            elif len(w) == 2:
                notes[w[0]] = int(w[1], 0)
    return notes, mi, pid


def libc_version():
    try:
        v = os.confstr("CS_GNU_LIBC_VERSION")  # "glibc 2.36"
        return v.split()[1] if v else None
    except (ValueError, OSError, IndexError):
        return None


def cmd_check(args):
    c = Checker()
    try:
        d, text = load(args.json)
    except (OSError, ValueError) as e:
        print("FAIL  %s is not one valid JSON object: %s" % (args.json, e))
        return 1
    c.ok(text.endswith("}\n"), "the object is followed by one newline")
    if not check_structure(c, d):
        print("structure is wrong; relations not checked")
        return 1
    tot = d["totals"]
    arenas = d["arenas"]
    T = lambda k, f="bytes": tot[k][f]  # noqa: E731

    system_relation(c, d)
    c.rel("int_mallinfo: one top per arena", [("top.count", T("top", "count"))],
          "len(arenas)", len(arenas))

    notes = {}
    if args.ready:
        notes, mi, pid = parse_ready(args.ready)
        if mi is None:
            print("FAIL  no mallinfo2 line in %s" % args.ready)
            return 99
        missing = [k for k in MALLINFO_FIELDS if k not in mi]
        if missing:
            print("FAIL  mallinfo2 line lacks %s" % ", ".join(missing))
            return 99
        c.rel("uordblks", [("in_use.bytes", T("in_use")),
                           ("tcache.bytes", T("tcache")),
                           ("overhead.bytes", T("overhead"))],
              "uordblks", mi["uordblks"])
        c.rel("ordblks", [("bin.count", T("bin", "count")),
                          ("top.count", T("top", "count"))],
              "ordblks", mi["ordblks"])
        c.rel("smblks", [("fastbin.count", T("fastbin", "count"))],
              "smblks", mi["smblks"])
        c.rel("fsmblks", [("fastbin.bytes", T("fastbin"))],
              "fsmblks", mi["fsmblks"])
        c.rel("fordblks", [("bin.bytes", T("bin")), ("top.bytes", T("top")),
                           ("fastbin.bytes", T("fastbin"))],
              "fordblks", mi["fordblks"])
        c.rel("hblks", [("mmapped.count", T("mmapped", "count"))],
              "hblks", mi["hblks"])
        c.rel("hblkhd", [("mmapped.bytes", T("mmapped"))],
              "hblkhd", mi["hblkhd"])
        c.rel("arena", [("sum(arenas[].system_bytes)",
                         sum(a["system_bytes"] for a in arenas))],
              "arena", mi["arena"])
        if pid is not None and args.host_pid is None:
            c.ok(d["target"]["pid"] == pid, "target.pid = ready pid: %d vs %d"
                 % (d["target"]["pid"], pid))
            c.ok(d["target"].get("ns_pid", pid) == pid,
                 "target.ns_pid = ready pid (or absent: a core): %r vs %d"
                 % (d["target"].get("ns_pid"), pid))
        elif pid is not None:
            # a process in a container, seen from the host: the ready
            # file has the container's own pid
            c.ok(d["target"]["pid"] == args.host_pid,
                 "target.pid = host pid: %d vs %d"
                 % (d["target"]["pid"], args.host_pid))
            c.ok(d["target"].get("ns_pid") == pid,
                 "target.ns_pid = ready pid (the container's own): %r vs %d"
                 % (d["target"].get("ns_pid"), pid))

    if "threads" in notes:
        c.ok(d["target"]["threads"] == notes["threads"],
             "target.threads = fixture's thread count: %d vs %d"
             % (d["target"]["threads"], notes["threads"]))
    if "arenas" in notes:
        c.ok(len(arenas) == notes["arenas"],
             "len(arenas) = fixture's arena count: %d vs %d"
             % (len(arenas), notes["arenas"]))
    if "big_heaps_min" in notes:
        most = max([a["heaps"] for a in arenas if not a["main"]] or [0])
        c.ok(most >= notes["big_heaps_min"],
             "largest non-main arena has >= big_heaps_min heaps: %d vs %d"
             % (most, notes["big_heaps_min"]))
    if "main_heaps_min" in notes:
        m = [a for a in arenas if a["main"]][0]
        c.ok(m["heaps"] >= notes["main_heaps_min"],
             "main arena has >= main_heaps_min segments (heaps): %d vs %d"
             % (m["heaps"], notes["main_heaps_min"]))
    for a in arenas:
        if a["main"]:
            continue
        # A non-main arena's system_mem is the sum of its heaps' sizes,
        # each at most HEAP_MAX_SIZE (64 MiB on 64-bit).
        c.ok(a["system_bytes"] <= a["heaps"] * (64 << 20),
             "arena %s: system_bytes <= heaps * 64 MiB: %d vs %d"
             % (a["address"], a["system_bytes"], a["heaps"] * (64 << 20)))

    lv = args.glibc or libc_version()
    if lv:
        c.ok(d["target"]["glibc"] == lv, "target.glibc = this libc: %r vs %r"
             % (d["target"]["glibc"], lv))
    if args.symbols:
        c.ok(d["target"]["libc_symbols"] == args.symbols,
             "target.libc_symbols = %s: %r" % (args.symbols,
                                                d["target"]["libc_symbols"]))
    if not args.allow_warnings:
        c.ok(d["warnings"] == 0, "warnings = 0: %d" % d["warnings"])

    by_size_relations(c, d)

    if args.oracle:
        with open(args.oracle) as f:
            o = json.load(f)
        for e in o.get("errors", []):
            print("info  oracle: %s" % e)
        main = [a for a in arenas if a["main"]]
        c.ok(main and int(main[0]["address"], 16) == int(o["main_arena"], 16),
             "main arena address = gdb &main_arena: %s vs %s"
             % (main[0]["address"] if main else None, o["main_arena"]))
        mine = {int(a["address"], 16): a for a in arenas}
        theirs = {int(a["address"], 16): a for a in o["arenas"]}
        c.ok(set(mine) == set(theirs),
             "arena addresses = gdb's main_arena.next chain: %s vs %s"
             % (sorted(hex(x) for x in mine), sorted(hex(x) for x in theirs)))
        for addr in sorted(set(mine) & set(theirs)):
            c.ok(mine[addr]["system_bytes"] == theirs[addr]["system_mem"],
                 "arena %#x: system_bytes = gdb system_mem: %d vs %d"
                 % (addr, mine[addr]["system_bytes"],
                    theirs[addr]["system_mem"]))
        c.rel("gdb tcache count", [("tcache.count", T("tcache", "count"))],
              "sum of tcache->counts[] over threads", o["tcache"]["count"])
        c.rel("gdb tcache bytes", [("tcache.bytes", T("tcache"))],
              "sum of counts[i] * (16 i + 32)", o["tcache"]["bytes"])
        c.rel("gdb fastbin count", [("fastbin.count", T("fastbin", "count"))],
              "fastbinsY chains", o["fastbin"]["count"])
        c.rel("gdb fastbin bytes", [("fastbin.bytes", T("fastbin"))],
              "fastbinsY chains (bytes)", o["fastbin"]["bytes"])
        c.rel("gdb n_mmaps", [("mmapped.count", T("mmapped", "count"))],
              "mp_.n_mmaps", o["n_mmaps"])
        c.rel("gdb mmapped_mem", [("mmapped.bytes", T("mmapped"))],
              "mp_.mmapped_mem", o["mmapped_mem"])
        c.ok(d["target"]["threads"] == o["threads"],
             "target.threads = gdb's thread count: %d vs %d"
             % (d["target"]["threads"], o["threads"]))

    print("%d check(s) failed" % c.failed if c.failed else "all checks hold")
    return 1 if c.failed else 0


def cmd_same(args):
    a, ta_text = load(args.a)
    b, tb_text = load(args.b)
    c = Checker()
    # "The same target state always gives the same bytes of output."
    # Which modules lack debug info depends on the mappings the core kept:
    # a gcore of gdb < 9 has no text mappings, so fewer modules are seen.
    # target.memory says where the bytes came from (a live copy, a core).
    norm = [re.sub(r'"modules_without_debug_info": *\[[^\]]*\]',
                   '"modules_without_debug_info": []',
                   re.sub(r'"(libc_symbols|memory)": *"[^"]*"', r'"\1": ""', t))
            for t in (ta_text, tb_text)]
    # A core does not know the pid in the process's own namespace (no
    # ns_pid): against a live census of the same process, only that may
    # differ.
    nsa = a.get("target", {}).get("ns_pid")
    nsb = b.get("target", {}).get("ns_pid")
    ns_unknown = nsa != nsb and None in (nsa, nsb)
    if ns_unknown:
        norm = [re.sub(r'"ns_pid": *[0-9]+, *', '', t) for t in norm]
    c.ok(norm[0] == norm[1], "byte-identical output (apart from "
         "libc_symbols, memory, typing.modules_without_debug_info and an "
         "unknown ns_pid)")
    for key in ("arenas", "totals", "by_size", "by_type", "warnings", "heapgrab"):
        c.ok(a.get(key) == b.get(key), "%s identical%s" % (
            key, "" if a.get(key) == b.get(key)
            else ":\n    %s: %s\n    %s: %s" % (
                args.a, json.dumps(a.get(key))[:2000],
                args.b, json.dumps(b.get(key))[:2000])))
    ta = dict(a.get("target", {}))
    tb = dict(b.get("target", {}))
    for key in ("libc_symbols", "memory"):
        ta.pop(key, None)
        tb.pop(key, None)
    if ns_unknown:
        ta.pop("ns_pid", None)
        tb.pop("ns_pid", None)
    c.ok(ta == tb, "target identical except libc_symbols and memory (and an "
         "unknown ns_pid): %s vs %s" % (ta, tb))
    return 1 if c.failed else 0


def cmd_census_same(args):
    """Two censuses of the same quiescent target, one typed and one not
    (or read from different memory): the census itself identical."""
    a, _ = load(args.a)
    b, _ = load(args.b)
    c = Checker()
    for key in ("heapgrab", "arenas", "totals", "by_size", "warnings"):
        c.ok(a.get(key) == b.get(key), "%s identical%s" % (
            key, "" if a.get(key) == b.get(key)
            else ":\n    %s: %s\n    %s: %s" % (
                args.a, json.dumps(a.get(key))[:2000],
                args.b, json.dumps(b.get(key))[:2000])))
    ta = dict(a.get("target", {}))
    tb = dict(b.get("target", {}))
    ma, mb = ta.pop("memory", None), tb.pop("memory", None)
    c.ok(ta == tb, "target identical except memory: %s vs %s" % (ta, tb))
    for path, m, want in ((args.a, ma, args.memory_a), (args.b, mb, args.memory_b)):
        if want:
            c.ok(m in want.split(","), "%s: target.memory %r is one of %s"
                 % (path, m, want))
    return 1 if c.failed else 0


def cmd_corrupt(args):
    """A census of fx-corrupt: output still produced, other arenas counted."""
    c = Checker()
    d, _ = load(args.json)
    if not check_structure(c, d):
        return 1
    notes, mi, pid = parse_ready(args.ready)
    c.ok(d["warnings"] >= 1, "warnings >= 1: %d" % d["warnings"])
    if args.stderr:
        with open(args.stderr) as f:
            nwarn = sum(1 for line in f
                        if line.startswith("heapgrab: warning:"))
        c.ok(d["warnings"] == nwarn, "warnings = warning lines on stderr: "
             "%d vs %d" % (d["warnings"], nwarn))
    c.ok(len(d["arenas"]) == notes["threads"],
         "every arena listed (main + one per thread): %d vs %d"
         % (len(d["arenas"]), notes["threads"]))
    rows = {r["size"]: r for r in d["by_size"]}

    def at_least(size, count, what):
        got = rows.get(size, {}).get("count", 0)
        c.ok(got >= count, "%s: by_size[size=%d].count >= %d: %d"
             % (what, size, count, got))
    at_least(notes["marker_size"], notes["marker_count"],
             "thread arenas counted")
    if args.where == "thread":
        at_least(notes["main_marker_size"], notes["main_marker_count"],
                 "main arena counted")
    sc = Checker(label="info ")
    system_relation(sc, d)
    return 1 if c.failed else 0


def cmd_batch(args):
    bad = 0
    for path in args.json:
        c = Checker(label="%s: " % path)
        c.quiet = True
        try:
            d, text = load(path)
        except (OSError, ValueError) as e:
            print("%s: FAIL  not one valid JSON object: %s" % (path, e))
            bad += 1
            continue
        if check_structure(c, d):
            system_relation(c, d)
            by_size_relations(c, d)
            c.rel("int_mallinfo: one top per arena",
                  [("top.count", d["totals"]["top"]["count"])],
                  "len(arenas)", len(d["arenas"]))
        if c.failed:
            bad += 1
    print("batch: %d of %d censuses failed" % (bad, len(args.json)))
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("check")
    p.add_argument("json")
    p.add_argument("--ready")
    p.add_argument("--oracle")
    p.add_argument("--symbols", choices=("dwarf", "disasm"))
    p.add_argument("--glibc", help="the target's glibc version (default: "
                   "this machine's; for chroots and frozen cores)")
    p.add_argument("--allow-warnings", action="store_true")
    p.add_argument("--host-pid", type=int,
                   help="the target is in another PID namespace: target.pid "
                   "must be HOST_PID and target.ns_pid the ready file's pid")
    p = sub.add_parser("same")
    p.add_argument("a")
    p.add_argument("b")
    p = sub.add_parser("census-same")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--memory-a", help="target.memory A must have (a,b,...)")
    p.add_argument("--memory-b", help="target.memory B must have (a,b,...)")
    p = sub.add_parser("corrupt")
    p.add_argument("json")
    p.add_argument("--ready", required=True)
    p.add_argument("--where", choices=("main", "thread"), default="main")
    p.add_argument("--stderr")
    p = sub.add_parser("batch")
    p.add_argument("json", nargs="+")
    args = ap.parse_args()
    try:
        return {"check": cmd_check, "same": cmd_same, "census-same": cmd_census_same,
                "corrupt": cmd_corrupt, "batch": cmd_batch}[args.cmd](args)
    except (OSError, ValueError, KeyError) as e:
        print("check-census.py: %s" % e, file=sys.stderr)
        return 99


if __name__ == "__main__":
    sys.exit(main())
