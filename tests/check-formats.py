#!/usr/bin/env python3
"""check-formats.py - heapgrab's pprof, folded, csv and html outputs say
what its JSON says (tests/out-*.sh).

Every format is reduced to the same model, a profile: {stack: [count,
bytes]} with stacks as tuples of frame names, root first (diffs: the
deltas, plus the OLD values where the format has them). The model is then
held against the JSON census (or diff), which check-census.py holds
against mallinfo2 and gdb:

  - the sum of all stacks is the live total (in_use + mmapped);
  - grouped by TYPE frame (the frame before "[N-byte chunks]" under
    "untyped", else the leaf) it is the JSON by_type (summed over rows of
    the same name); without by_type in the JSON (no typing yet) every
    chunk must be "untyped";
  - the untyped stacks grouped by their size frame are the JSON by_size
    when every chunk is untyped (else each is at most the by_size row).

Usage:
  check-formats.py census JSON [FORMAT FILE]...
  check-formats.py diff DIFF-JSON [FORMAT FILE]...
  check-formats.py same A-FORMAT A B-FORMAT B     two files, one profile
  check-formats.py dump FORMAT FILE               print the model (debug)
  check-formats.py dom DOM JSON census|diff|watch [WATCH-TEXT]
                   Chromium's --dump-dom of an html page: the script ran to
                   the end (data-rendered), the tables it built show the
                   JSON's rows formatted as the text output formats them
                   (1,234 and 1.5 MiB), the icicle has a box per frame
                   whose width is its share of the bytes, and the charts
                   exist (watch: the top suspect's net growth is the one
                   WATCH-TEXT, the watch's own report, names)
  check-formats.py png FILE       a screenshot: a PNG, not blank
  check-formats.py pty [VAR=VALUE...] CMD ARG...  run CMD with stdin, stdout
                   and stderr on a new pseudo-terminal (TERM=xterm unless
                   given); print what it wrote; exit with its status
  check-formats.py pty-probe      0 when a pseudo-terminal can be had here
                   (the same fork as pty), else 1 and why not
FORMAT is one of:
  pprof        a .pb.gz from heapgrab, decoded here (gzip + protobuf)
  go-raw       `go tool pprof -raw` output
  go-top-bytes / go-top-count
               `go tool pprof -top -unit=B -nodefraction=0` output for
               inuse_space / inuse_objects (checked as flat and cum per
               function against the model of the JSON, which needs the
               pprof stacks: give a pprof or go-raw file before it)
  folded-bytes / folded-count
               heapgrab --format folded [--value count]
  csv          heapgrab --format csv (every row against the JSON's)
  html         heapgrab --format html (its embedded data against the JSON)
Exit 0 when everything agrees, 1 otherwise (each mismatch printed).
"""
import csv
import gzip
import json
import os
import re
import sys

bad = 0


def check(what, got, want):
    global bad
    if got != want:
        bad += 1
        print("FAIL %s: got %s, want %s" % (what, got, want))
    else:
        print("ok   %s" % what)


# ---- protobuf (the profile.proto subset heapgrab writes) -------------------

def varint(b, i):
    v = shift = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7f) << shift
        shift += 7
        if not c & 0x80:
            return v, i


def fields(b):
    """(field, wire, value) of one message; value is int or bytes."""
    i = 0
    while i < len(b):
        key, i = varint(b, i)
        f, w = key >> 3, key & 7
        if w == 0:
            v, i = varint(b, i)
        elif w == 2:
            n, i = varint(b, i)
            v = b[i:i + n]
            i += n
        elif w == 1:
            v = int.from_bytes(b[i:i + 8], "little")
            i += 8
        elif w == 5:
            v = int.from_bytes(b[i:i + 4], "little")
            i += 4
        else:
            raise ValueError("wire type %d" % w)
        yield f, w, v


def int64(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def packed(w, v):
    if w == 0:
        return [v]
    out, i = [], 0
    while i < len(v):
        x, i = varint(v, i)
        out.append(x)
    return out


def decode_pprof(path):
    raw = gzip.open(path).read()
    strings, samples, locs, funcs = [], [], {}, {}
    sample_types, default = [], 0
    for f, w, v in fields(raw):
        if f == 1:
            st = dict((ff, vv) for ff, _, vv in fields(v))
            sample_types.append((st.get(1, 0), st.get(2, 0)))
        elif f == 2:
            ids, vals = [], []
            for ff, ww, vv in fields(v):
                if ff == 1:
                    ids += packed(ww, vv)
                elif ff == 2:
                    vals += [int64(x) for x in packed(ww, vv)]
            samples.append((ids, vals))
        elif f == 4:
            lid, fid = 0, None
            for ff, _, vv in fields(v):
                if ff == 1:
                    lid = vv
                elif ff == 4:
                    fid = dict((a, c) for a, _, c in fields(vv)).get(1)
            locs[lid] = fid
        elif f == 5:
            d = dict((ff, vv) for ff, _, vv in fields(v))
            funcs[d[1]] = d.get(2, 0)
        elif f == 6:
            strings.append(v.decode())
        elif f == 14:
            default = v
    types = ["%s/%s" % (strings[a], strings[b]) for a, b in sample_types]
    if types != ["inuse_objects/count", "inuse_space/bytes"]:
        check("pprof sample types", types, ["inuse_objects/count", "inuse_space/bytes"])
    if strings[0] != "" or strings[default] != "inuse_space":
        check("pprof string_table[0] and default_sample_type",
              (strings[0], strings[default]), ("", "inuse_space"))
    model = {}
    for ids, vals in samples:
        stack = tuple(strings[funcs[locs[i]]] for i in reversed(ids))  # leaf first
        add(model, stack, vals[0], vals[1])
    return model


# ---- the other formats --------------------------------------------------------

def add(model, stack, count, nbytes, old_count=None, old_bytes=None):
    m = model.setdefault(stack, [0, 0, 0, 0])
    m[0] += count
    m[1] += nbytes
    if old_count is not None:
        m[2] += old_count
        m[3] += old_bytes


def go_raw(path):
    model, locs, samples, part = {}, {}, [], None
    for line in open(path):
        line = line.rstrip("\n")
        if line.startswith("Samples:"):
            part = "s"
            continue
        if line.startswith("Locations"):
            part = "l"
            continue
        if line.startswith("Mappings"):
            part = None
            continue
        if part == "s":
            m = re.match(r"^\s*(-?\d+)\s+(-?\d+): ([\d ]+)$", line)
            if m:
                samples.append((int(m.group(1)), int(m.group(2)),
                                [int(x) for x in m.group(3).split()]))
        elif part == "l":
            m = re.match(r"^\s*(\d+): 0x[0-9a-f]+ M=\d+ (.*) :\d+ s=\d+$", line)
            if m:
                locs[int(m.group(1))] = m.group(2)
    for c, b, ids in samples:
        add(model, tuple(locs[i] for i in reversed(ids)), c, b)
    return model


def go_top(path):
    """{function: (flat, cum)} of `go tool pprof -top -unit=B`."""
    out = {}
    num = r"(-?[\d.]+)B?"
    for line in open(path):
        pct = r"-?[\d.]+(?:e[-+]?\d+)?%"   # 0.75%, 6.7e-05%
        m = re.match(r"^\s*%s\s+%s\s+%s\s+%s\s+%s\s+(.*)$" % (num, pct, pct, num, pct),
                     line.rstrip("\n"))
        if m:
            out[m.group(3)] = (int(m.group(1)), int(m.group(2)))
    return out


def folded(path, value):
    model = {}
    for line in open(path):
        parts = line.rstrip("\n").split(" ")
        diff = len(parts) >= 3 and re.match(r"^-?\d+$", parts[-2]) is not None
        if diff:
            stack, old, new = " ".join(parts[:-2]), int(parts[-2]), int(parts[-1])
            v, o = new - old, old
        else:
            stack, v, o = " ".join(parts[:-1]), int(parts[-1]), None
        key = tuple(stack.split(";"))
        if value == "count":
            add(model, key, v, 0, o, 0 if o is not None else None)
        else:
            add(model, key, 0, v, 0 if o is not None else None, o)
    return model


def html_data(path):
    text = open(path, encoding="utf-8").read()
    m = re.search(r'<script id="hg-data" type="application/json">(.*?)</script>', text, re.S)
    if not m:
        check("html has its data element", False, True)
        sys.exit(1)
    # Self-contained: nothing that loads anything.
    for pat in (r"<link\b", r"\bsrc\s*=", r"url\(", r"@import", r"https?://(?!www\.w3\.org/2000/svg)",
                r"\bfetch\(", r"XMLHttpRequest", r"\bimport\("):
        check("html has no /%s/" % pat, re.findall(pat, text), [])
    check("html data has no raw '<'", "<" in m.group(1), False)
    return json.loads(m.group(1))


def html_model(d):
    model = {}
    for stack, c, b, oc, ob in d["samples"]:
        add(model, tuple(d["strings"][i] for i in stack), c, b, oc, ob)
    return model


def load(fmt, path):
    if fmt == "pprof":
        return decode_pprof(path)
    if fmt == "go-raw":
        return go_raw(path)
    if fmt in ("folded-bytes", "folded-count"):
        return folded(path, fmt.split("-")[1])
    if fmt == "html":
        return html_model(html_data(path))
    raise SystemExit("check-formats.py: cannot load a model from %s" % fmt)


# ---- the model against the JSON --------------------------------------------------

SIZE = re.compile(r"^\[(\d+)-byte chunks\]$")


def type_of(stack):
    if len(stack) >= 2 and stack[-2] == "untyped" and SIZE.match(stack[-1]):
        return "untyped", int(SIZE.match(stack[-1]).group(1))
    return stack[-1], None


def group(model, idx):
    by_type, by_size = {}, {}
    for stack, v in model.items():
        t, size = type_of(stack)
        by_type[t] = by_type.get(t, 0) + v[idx]
        if size is not None:
            by_size[size] = by_size.get(size, 0) + v[idx]
    return by_type, by_size


def nonzero(d):
    return dict((k, v) for k, v in d.items() if v)


def want_census(js):
    t = js["totals"]
    live = (t["in_use"]["count"] + t["mmapped"]["count"], t["in_use"]["bytes"] + t["mmapped"]["bytes"])
    types = {}
    for r in js.get("by_type") or []:
        c, b = types.get(r["type"], (0, 0))
        types[r["type"]] = (c + r["count"], b + r["bytes"])
    if not types:
        types = {"untyped": live}
    sizes = dict((r["size"], (r["count"], r["bytes"])) for r in js["by_size"])
    return live, types, sizes


def want_diff(js):
    t = js["totals"]
    live = (t["in_use"]["count_delta"] + t["mmapped"]["count_delta"],
            t["in_use"]["bytes_delta"] + t["mmapped"]["bytes_delta"])
    types = {}
    for r in js.get("by_type") or []:
        c, b = types.get(r["type"], (0, 0))
        types[r["type"]] = (c + r["count_delta"], b + r["bytes_delta"])
    if not js.get("by_type"):
        types = {"untyped": live}
    sizes = dict((r["size"], (r["count_delta"], r["bytes_delta"])) for r in js["by_size"])
    return live, nonzero(dict((k, v) for k, v in types.items() if v != (0, 0))), sizes


def check_model(name, model, want, has_count=True, has_bytes=True):
    live, types, sizes = want
    idx = [i for i, h in ((0, has_count), (1, has_bytes)) if h]
    for i in idx:
        what = ("count", "bytes")[i]
        check("%s: total %s" % (name, what), sum(v[i] for v in model.values()), live[i])
        bt, bs = group(model, i)
        check("%s: %s by type" % (name, what), nonzero(bt),
              nonzero(dict((k, v[i]) for k, v in types.items())))
        if set(nonzero(bt)) <= {"untyped"}:
            check("%s: untyped %s by size = by_size" % (name, what), nonzero(bs),
                  nonzero(dict((k, v[i]) for k, v in sizes.items())))
        else:
            over = [s for s, v in bs.items() if abs(v) > abs(sizes.get(s, (0, 0))[i])]
            check("%s: untyped %s by size within by_size" % (name, what), over, [])


def check_old(name, model, js, i):
    """A diff's OLD values (differential folded, html): per untyped size
    class they are the JSON's NEW minus delta."""
    f = ("count", "bytes")[i - 2]
    _, bs = group(model, i)
    bt, _ = group(model, i - 2)
    if set(nonzero(bt)) <= {"untyped"}:
        check("%s: OLD %s by size" % (name, f), nonzero(bs),
              nonzero(dict((r["size"], r[f] - r[f + "_delta"]) for r in js["by_size"])))


def check_top(name, path, model, idx):
    top = go_top(path)
    flat, cum = {}, {}
    for stack, v in model.items():
        flat[stack[-1]] = flat.get(stack[-1], 0) + v[idx]
        for f in set(stack):
            cum[f] = cum.get(f, 0) + v[idx]
    want = dict((f, (flat.get(f, 0), cum[f])) for f in cum if cum[f] or flat.get(f, 0))
    check("%s: flat and cum of every function" % name, top, want)


def check_csv_census(path, js):
    rows = list(csv.reader(open(path, newline="")))
    check("csv header", rows[0], ["section", "name", "count", "bytes"])
    t = js["totals"]
    want = [["total", k, str(t[k]["count"]), str(t[k]["bytes"])]
            for k in ("in_use", "tcache", "fastbin", "bin", "top", "mmapped")]
    want.append(["total", "overhead", "", str(t["overhead"]["bytes"])])
    check("csv totals", [r for r in rows[1:] if r[0] == "total"], want)
    check("csv size rows", [r for r in rows[1:] if r[0] == "size"],
          [["size", str(r["size"]), str(r["count"]), str(r["bytes"])] for r in js["by_size"]])
    model = {}
    for r in rows[1:]:
        if r[0] == "type":
            add(model, (r[1],), int(r[2]), int(r[3]))
    live, types, _ = want_census(js)
    check("csv type rows", dict((k[0], tuple(v[:2])) for k, v in model.items()), types)
    order = [(-int(r[3]), -int(r[2]), r[1]) for r in rows[1:] if r[0] == "type"]
    check("csv type rows sorted (bytes, count desc, name)", order, sorted(order))
    check("csv sections", sorted(set(r[0] for r in rows[1:])) <= ["size", "total", "type"], True)


def check_csv_diff(path, js):
    rows = list(csv.reader(open(path, newline="")))
    check("csv header", rows[0], ["section", "name", "count_delta", "bytes_delta", "count", "bytes"])
    t = js["totals"]
    want = [["total", k] + [str(t[k][f]) for f in ("count_delta", "bytes_delta", "count", "bytes")]
            for k in ("in_use", "tcache", "fastbin", "bin", "top", "mmapped")]
    want.append(["total", "overhead", "", str(t["overhead"]["bytes_delta"]), "",
                 str(t["overhead"]["bytes"])])
    check("csv totals", [r for r in rows[1:] if r[0] == "total"], want)
    check("csv size rows", [r for r in rows[1:] if r[0] == "size"],
          [["size", str(r["size"])] + [str(r[f]) for f in ("count_delta", "bytes_delta",
                                                              "count", "bytes")]
           for r in js["by_size"]])
    got = dict((r[1], (int(r[2]), int(r[3]))) for r in rows[1:] if r[0] == "type")
    check("csv type rows", got, want_diff(js)[1])


def check_html(path, js, diff):
    d = html_data(path)
    check("html mode", d["mode"], "diff" if diff else "census")
    keys = ("count_delta", "bytes_delta", "count", "bytes") if diff else ("count", "bytes")
    check("html by_size", [[r["name"]] + [r[k] for k in keys] for r in d["by_size"]],
          [[r["size"]] + [r[k] for k in keys] for r in js["by_size"]])
    t = js["totals"]
    kinds = ("in_use", "tcache", "fastbin", "bin", "top", "mmapped")
    check("html totals", [[r["name"]] + [r[k] for k in keys] for r in d["totals"]][:6],
          [[k] + [t[k][f] for f in keys] for k in kinds])
    bt = dict((r["name"], (r[keys[0]], r[keys[1]])) for r in d["by_type"])
    check("html by_type", bt, want_diff(js)[1] if diff else want_census(js)[1])
    return html_model(d)


def thousands(n):
    return "{:,}".format(n)


def fmt_bytes(n):
    """fmt_bytes() of src/output/census-out.c."""
    a = abs(n)
    sign = "-" if n < 0 else ""
    if a < 1024:
        return "%s%d B" % (sign, a)
    units, u, d = ["KiB", "MiB", "GiB", "TiB", "PiB"], -1, float(a)
    while d >= 1024 and u < len(units) - 1:
        d /= 1024
        u += 1
    return "%s%.1f %s" % (sign, d, units[u])


def signed(f, n):
    return ("+" if n > 0 else "") + f(n)


def table_rows(dom, tid):
    m = re.search(r'<table id="%s">(.*?)</table>' % tid, dom, re.S)
    if not m:
        return None
    body = m.group(1).split("<tbody>", 1)[-1]
    return [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def unescape(t):
    return t.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def check_dom(dom_path, js_path, kind, watch_text=None):
    dom = open(dom_path, encoding="utf-8").read()
    js = json.load(open(js_path)) if js_path != "-" else None
    check("dom: the script ran to the end", bool(re.search(r'<body[^>]*data-rendered="1"', dom)), True)
    nodes = [(float(w), unescape(t)) for w, t in
             re.findall(r'<div class="node"[^>]*?width: ([\d.]+)px;[^>]*>([^<]*)</div>', dom)]
    names = set(t for _, t in nodes)
    if kind in ("census", "diff"):
        diff = kind == "diff"
        if diff:
            want = [[thousands(r["size"]), signed(thousands, r["count_delta"]),
                     signed(fmt_bytes, r["bytes_delta"]), thousands(r["count"]), fmt_bytes(r["bytes"])]
                    for r in js["by_size"]]
        else:
            want = [[thousands(r["size"]), thousands(r["count"]), fmt_bytes(r["bytes"])]
                    for r in js["by_size"]]
        got = table_rows(dom, "by-size")
        check("dom: by-size table = the JSON's rows, formatted", got, want)
        t = js["totals"]
        kinds = ("in_use", "tcache", "fastbin", "bin", "top", "mmapped")
        if diff:
            wt = [[k, signed(thousands, t[k]["count_delta"]), signed(fmt_bytes, t[k]["bytes_delta"]),
                   thousands(t[k]["count"]), fmt_bytes(t[k]["bytes"])] for k in kinds]
        else:
            wt = [[k, thousands(t[k]["count"]), fmt_bytes(t[k]["bytes"])] for k in kinds]
        check("dom: totals table = the JSON's totals", (table_rows(dom, "totals") or [])[:6], wt)
        types = table_rows(dom, "by-type") or []
        wtypes = want_diff(js)[1] if diff else want_census(js)[1]
        check("dom: by-type table names the JSON's types",
              sorted(unescape(r[0]) for r in types), sorted(wtypes))
        # The icicle: the root row spans the width; each size frame under
        # "untyped" is as wide as its share of the (growing) bytes.
        if nodes:
            width = nodes[0][0]
            sizes = js["by_size"]
            # (a diff draws what grew, or what shrank when nothing grew)
            sign = -1 if diff and not any(r["bytes_delta"] > 0 for r in sizes) else 1
            total = sum(max(sign * (r["bytes_delta"] if diff else r["bytes"]), 0) for r in sizes)
            bad_w = []
            for r in sizes:
                v = sign * (r["bytes_delta"] if diff else r["bytes"])
                if v <= 0 or width * v / total < 2:
                    continue
                name = "[%d-byte chunks]" % r["size"]
                w = [nw for nw, t in nodes if t == name]
                if not w or abs(w[0] - width * v / total) > 1.01:
                    bad_w.append((name, w, width * v / total))
            check("dom: icicle boxes as wide as their bytes", bad_w, [])
        check("dom: icicle has boxes", len(nodes) >= 2, True)
        for tname in list(wtypes)[:5]:
            check("dom: icicle has a box for %s" % tname, tname in names, True)
    charts = len(re.findall(r'<div class="chart">', dom))
    lines = len(re.findall(r"<polyline ", dom))
    if kind == "census":
        check("dom: no charts for a census", charts, 0)
    elif kind == "diff":
        # the live total, then each type that grew (at most 12)
        grew = sum(1 for r in (js.get("by_type") or []) if r["bytes_delta"] > 0) \
            if js.get("by_type") else int(want_diff(js)[1].get("untyped", (0, 0))[1] > 0)
        check("dom: charts: the live total and each type that grew",
              (charts, lines), (1 + min(grew, 12),) * 2)
    else:
        check("dom: charts drawn", charts >= 2 and lines == charts, True)
    if kind == "watch":
        m = re.search(r"^\s+\+([\d,]+) chunks of ([\d,]+) bytes, ", open(watch_text).read(), re.M)
        check("watch report names a suspect", bool(m), True)
        if m:
            label = "[%s-byte chunks]" % m.group(2).replace(",", "")
            titles = re.findall(r'<div class="t">([^<]*)</div>\s*<div class="s">([^<]*)</div>', dom)
            got = [s2 for t2, s2 in titles if t2.startswith(label)]
            check("dom: a chart for the top suspect %s" % label, len(got), 1)
            if got:
                check("dom: its chart shows the report's net growth",
                      got[0].split(", ")[1].split(" ")[0], "+" + m.group(1))


def check_png(path):
    import struct
    import zlib
    data = open(path, "rb").read()
    check("png signature", data[:8], b"\x89PNG\r\n\x1a\n")
    i, idat, w = 8, b"", 0
    while i < len(data):
        n, typ = struct.unpack(">I4s", data[i:i + 8])
        if typ == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", data[i + 8:i + 18])
        elif typ == b"IDAT":
            idat += data[i + 8:i + 8 + n]
        i += 12 + n
    raw = zlib.decompress(idat)
    bpp = {2: 3, 6: 4}.get(ctype, 0)
    check("png: 8-bit RGB or RGBA", (depth, bpp > 0), (8, True))
    if bpp:
        stride = 1 + w * bpp
        # Unfiltered colours are not needed: distinct filtered rows already
        # tell a blank page (every row alike) from a drawn one.
        rows = set(raw[r * stride:(r + 1) * stride] for r in range(min(h, len(raw) // stride)))
        check("png %dx%d: not blank (%d distinct rows)" % (w, h, len(rows)), len(rows) > 50, True)


def pty_probe():
    """Fork on a new pseudo-terminal, as run_pty does: 0 when that works,
    else 1 with the reason (no /dev/ptmx, /dev/pts not mounted, ...)."""
    import pty
    try:
        pid, fd = pty.fork()
    except OSError as e:
        print("forkpty: %s" % e)
        return 1
    if pid == 0:
        os._exit(0)
    os.close(fd)
    os.waitpid(pid, 0)
    return 0


def run_pty(args):
    import pty
    env = dict(os.environ, TERM="xterm")
    while args and re.match(r"^[A-Z_][A-Z0-9_]*=", args[0]):
        k, v = args.pop(0).split("=", 1)
        env[k] = v
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execvpe(args[0], args, env)
        finally:
            os._exit(127)
    out = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    _, st = os.waitpid(pid, 0)
    sys.stdout.buffer.write(out.replace(b"\r\n", b"\n"))
    return os.waitstatus_to_exitcode(st) if hasattr(os, "waitstatus_to_exitcode") else st >> 8


def main():
    global bad
    args = sys.argv[1:]
    if not args:
        print(__doc__)
        return 99
    cmd = args.pop(0)
    if cmd == "pty":
        return run_pty(args)
    if cmd == "pty-probe":
        return pty_probe()
    if cmd == "dom":
        check_dom(*args)
        return 1 if bad else 0
    if cmd == "png":
        check_png(args[0])
        return 1 if bad else 0
    if cmd == "dump":
        for k, v in sorted(load(args[0], args[1]).items()):
            print(";".join(k), v)
        return 0
    if cmd == "same":
        a, b = load(args[0], args[1]), load(args[2], args[3])
        strip = lambda m: dict((k, tuple(v[:2])) for k, v in m.items() if v[:2] != [0, 0])
        check("%s %s = %s %s" % tuple(args), strip(a), strip(b))
        return 1 if bad else 0
    js = json.load(open(args.pop(0)))
    diff = cmd == "diff"
    want = want_diff(js) if diff else want_census(js)
    stacks = None
    while args:
        fmt, path = args.pop(0), args.pop(0)
        name = "%s %s" % (fmt, path)
        if fmt == "csv":
            (check_csv_diff if diff else check_csv_census)(path, js)
        elif fmt == "html":
            check_model(name, check_html(path, js, diff), want)
        elif fmt in ("go-top-bytes", "go-top-count"):
            if stacks is None:
                raise SystemExit("check-formats.py: %s needs a pprof or go-raw file first" % fmt)
            check_top(name, path, stacks, 1 if fmt == "go-top-bytes" else 0)
        else:
            model = load(fmt, path)
            if fmt in ("pprof", "go-raw"):
                stacks = model
            check_model(name, model, want, has_count=fmt != "folded-bytes",
                        has_bytes=fmt != "folded-count")
            if diff and fmt.startswith("folded"):
                check_old(name, model, js, 2 if fmt == "folded-count" else 3)
        if diff and fmt == "html":
            model = html_model(html_data(path))
            check_old(name, model, js, 2)
            check_old(name, model, js, 3)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
