#!/usr/bin/env python3
"""check-rss.py - hold heapgrab's RSS accounting (doc/json-output.md, "rss")
against independent oracles: the fixture's own figures (its ready file and
its output), glibc's own mallinfo2 line, the kernel's smaps_rollup read by
the fixture itself, and heapgrab's other runs.

  check-rss.py accounting RSS.json READY MAPPINGS
        the accounting of fx-rss: its parts add up, it adds up to the
        fixture's own smaps_rollup Rss within a page per mapping, the
        arenas' bytes are glibc's own (mallinfo2), the mmapped chunks'
        resident bytes are the fixture's mincore() figure, the dynamic
        mmap threshold is where the fixture moved it, every worker has an
        arena of its own
  check-rss.py same COPY.json FORK.json MAPPINGS
        copy and fork snapshots give the same accounting: malloc's part
        identical, the rest within a page per mapping
  check-rss.py trim DRY.json TRIM.json READY FX_OUT
        the dry run predicts what the trim predicts; both are within 2%
        of the RSS the trim gave back (heapgrab's statm figures) and of
        the RSS the fixture lost (its own smaps_rollup before and after)
  check-rss.py outside RSS.json READY [--no-malloc] [--no-split] [--exact-total]
        fx-rss-outside: every thread's stack, the private pool, the shared
        memory and the file mapping appear outside malloc with exactly the
        resident bytes the fixture counted
Exit 0 when every check holds, 1 otherwise (each check printed).
"""
import json
import sys

PAGE = 4096
failures = 0


def check(name, ok, detail=""):
    global failures
    print("%s  %s%s" % ("ok  " if ok else "FAIL", name, (": " + str(detail)) if detail else ""))
    if not ok:
        failures += 1


def ready(path):
    notes, mi = {}, {}
    for line in open(path):
        w = line.split()
        if not w:
            continue
        if w[0] == "mallinfo2":
            mi = {k: int(v) for k, v in (x.split("=") for x in w[1:])}
        elif len(w) == 2:
            notes[w[0]] = int(w[1], 0)
    return notes, mi


def rss_of(path):
    d = json.load(open(path))
    return d["rss"] if "rss" in d else d["trim"]["rss"]


def parts_add_up(r):
    m, o, t = r["malloc"], r["outside"], r["total"]
    check("arenas + mmapped + unsplit + outside = accounted",
          m["arenas_resident_bytes"] + m["mmapped_resident_bytes"] + m["unsplit_bytes"] +
          o["resident_bytes"] == t["accounted_bytes"], t["accounted_bytes"])
    check("outside = the sum of its kinds",
          sum(o[k] for k in ("thread_stacks", "anonymous", "files", "shared_memory", "other")) ==
          o["resident_bytes"])
    check("outside = the sum of its rows",
          sum(x["resident_bytes"] for x in o["mappings"]) == o["resident_bytes"])
    bad = []
    for i, a in enumerate(r["arenas"]):
        parts = sum(a[k]["resident_bytes"] for k in
                    ("in_use", "tcache", "fastbin", "bin", "top", "overhead"))
        free = sum(a[k]["resident_bytes"] for k in ("tcache", "fastbin", "bin", "top"))
        if parts != a["resident_bytes"] or \
           a["releasable_bytes"] + sum(a["stranded"].values()) != free or \
           a["resident_bytes"] > a["mapped_bytes"]:
            bad.append(i)
    check("each arena: parts = resident, releasable + stranded = free resident", not bad, bad)
    tr = r["trim"]
    check("releasable + stranded = free resident (all arenas)",
          tr["releasable_bytes"] + tr["stranded_bytes"] == tr["free_resident_bytes"])


def accounting(path, ready_path, mappings):
    r = rss_of(path)
    notes, mi = ready(ready_path)
    t, m = r["total"], r["malloc"]
    parts_add_up(r)
    tol = PAGE * mappings
    check("accounted = the fixture's own smaps_rollup Rss within a page per mapping (%d)" %
          mappings, abs(t["accounted_bytes"] - notes["rss_before"]) <= tol,
          "%d vs %d" % (t["accounted_bytes"], notes["rss_before"]))
    check("kernel Rss read after the stop = accounted", t["difference_bytes"] == 0,
          t["difference_bytes"])
    check("arenas' system bytes = mallinfo2 arena", m["arenas_system_bytes"] == mi["arena"],
          "%d vs %d" % (m["arenas_system_bytes"], mi["arena"]))
    check("bin + top + fastbin bytes = mallinfo2 fordblks",
          m["bin"]["bytes"] + m["top"]["bytes"] + m["fastbin"]["bytes"] == mi["fordblks"])
    check("fastbin bytes = mallinfo2 fsmblks", m["fastbin"]["bytes"] == mi["fsmblks"])
    check("mmapped = mallinfo2 hblks, hblkhd",
          (r["mmapped"]["count"], r["mmapped"]["bytes"]) == (mi["hblks"], mi["hblkhd"]))
    check("mmapped resident = the fixture's mincore()",
          r["mmapped"]["resident_bytes"] == notes["mmapped_resident"],
          "%d vs %d" % (r["mmapped"]["resident_bytes"], notes["mmapped_resident"]))
    th = r["thresholds"]
    check("mmap_threshold = where the fixture's free moved it",
          th["mmap_threshold"]["value"] == notes["mmap_threshold"] and
          th["mmap_threshold"]["source"] == "dynamic" and th["dynamic_moved"],
          th["mmap_threshold"])
    check("trim_threshold = 2 x mmap_threshold",
          th["trim_threshold"]["value"] == 2 * notes["mmap_threshold"])
    n = notes["threads"]
    check("%d arenas" % n, len(r["arenas"]) == n, len(r["arenas"]))
    if r["threads"]["arenas_known"]:
        idx = [x["arena_index"] for x in r["threads"]["list"]]
        check("every worker has an arena of its own", sorted(idx) == list(range(n)), idx)
    freeb = r["trim"]["free_resident_bytes"]
    check("most of RSS is free (the fixture freed 90%)", freeb > t["accounted_bytes"] * 0.7,
          freeb)


def same(a_path, b_path, mappings):
    a, b = rss_of(a_path), rss_of(b_path)
    for k in ("arenas", "malloc", "mmapped", "trim", "thresholds", "arena_limit"):
        check("copy and fork: %s identical" % k, a[k] == b[k])
    tol = PAGE * mappings
    check("copy and fork: accounted within a page per mapping",
          abs(a["total"]["accounted_bytes"] - b["total"]["accounted_bytes"]) <= tol,
          "%d vs %d" % (a["total"]["accounted_bytes"], b["total"]["accounted_bytes"]))
    rows = {(x["kind"], x["name"], x["tid"], x["address"]): x["resident_bytes"]
            for x in a["outside"]["mappings"]}
    off = [k for k in rows if k in [(x["kind"], x["name"], x["tid"], x["address"])
                                    for x in b["outside"]["mappings"]] and
           abs(rows[k] - [x["resident_bytes"] for x in b["outside"]["mappings"]
                          if (x["kind"], x["name"], x["tid"], x["address"]) == k][0]) > PAGE]
    check("copy and fork: every mapping outside malloc within a page", not off, off)


def trim(dry_path, trim_path, ready_path, out_path):
    dry = json.load(open(dry_path))["trim"]
    tr = json.load(open(trim_path))["trim"]
    notes, _ = ready(ready_path)
    after = None
    for line in open(out_path):
        w = line.split()
        if len(w) == 2 and w[0] == "rss_after":
            after = int(w[1])
    check("dry run: nothing done", dry["dry_run"] and dry["released_bytes"] is None)
    check("dry run predicts what the trim predicts",
          dry["predicted_bytes"] == tr["predicted_bytes"],
          "%d vs %d" % (dry["predicted_bytes"], tr["predicted_bytes"]))
    pred = tr["predicted_bytes"]
    released = tr["released_bytes"]
    check("prediction within 2% of what the trim gave back (statm, in the stop)",
          abs(released - pred) <= 0.02 * pred, "predicted %d, released %d (%+.3f%%)" %
          (pred, released, 100.0 * (released - pred) / pred if pred else 0))
    check("the fixture printed rss_after", after is not None)
    if after is not None:
        lost = notes["rss_before"] - after
        check("prediction within 2% of what the fixture lost (its own smaps_rollup)",
              abs(lost - pred) <= 0.02 * pred, "predicted %d, lost %d (%+.3f%%)" %
              (pred, lost, 100.0 * (lost - pred) / pred if pred else 0))
    check("a trim that frees 90% of a fragmented heap gives most of it back",
          pred > 0.5 * notes["rss_before"], pred)


def outside(path, ready_path, flags):
    r = rss_of(path)
    notes, _ = ready(ready_path)
    rows = r["outside"]["mappings"]
    stacks = {x["tid"]: x["stack_resident_bytes"] for x in r["threads"]["list"]}
    bad = []
    nstacks = 0
    for k, v in notes.items():
        if k.startswith("stack_"):
            nstacks += 1
            tid = int(k[6:])
            if stacks.get(tid) != v:
                bad.append((tid, stacks.get(tid), v))
    check("%d thread stacks: the fixture's mincore() bytes" % nstacks,
          nstacks == notes["threads"] and not bad, bad)
    main = [x for x in rows if x["kind"] == "thread_stacks" and x["name"] == "main thread"]
    check("the main thread's [stack]", main and main[0]["resident_bytes"] == notes["main_stack"],
          "%s vs %d" % (main[0]["resident_bytes"] if main else None, notes["main_stack"]))
    pool = [x for x in rows if x["address"] == "0x%x" % notes["pool_addr"] or
            (notes["pool_named"] and x["name"] == "[anon:fx-pool]")]
    check("the private allocator's pool", len(pool) == 1 and
          pool[0]["resident_bytes"] == notes["pool_resident"],
          "%s vs %d" % (pool, notes["pool_resident"]))
    shm = [x for x in rows if x["kind"] == "shared_memory" and x["name"] == "/dev/zero"]
    check("the shared memory", len(shm) == 1 and shm[0]["resident_bytes"] == notes["shm_resident"],
          "%s vs %d" % (shm, notes["shm_resident"]))
    fm = [x for x in rows if x["kind"] == "files" and x["name"].endswith("/fx-rss-outside.data")]
    check("the file mapping", len(fm) == 1 and fm[0]["resident_bytes"] == notes["file_resident"],
          "%s vs %d" % (fm, notes["file_resident"]))
    if "--no-malloc" in flags:
        check("no arenas (malloc not walked, and it says why)",
              r["arenas"] == [] and r["mmapped"]["count"] == 0 and not r["malloc"]["walked"] and
              "jemalloc" in r["malloc"]["why_not_walked"], r["malloc"]["why_not_walked"])
    elif "--no-split" not in flags:
        parts_add_up(r)
    if "--exact-total" in flags:
        check("accounted = the kernel's Rss", r["total"]["difference_bytes"] == 0,
              r["total"])


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "accounting":
        accounting(args[0], args[1], int(args[2]))
    elif cmd == "same":
        same(args[0], args[1], int(args[2]))
    elif cmd == "trim":
        trim(*args[:4])
    elif cmd == "outside":
        outside(args[0], args[1], args[2:])
    else:
        print("check-rss.py: unknown command " + cmd)
        return 99
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
