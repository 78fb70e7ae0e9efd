# gdb-oracle.py - an independent view of a glibc heap, read by gdb.
#
# Run inside gdb attached to a quiescent fixture, with libc debug info:
#   HG_ORACLE_OUT=oracle.json gdb -nx -batch -p PID -x gdb-oracle.py
# Writes a JSON object:
#   {"main_arena": "0x...", "arenas": [{"address": "0x...", "system_mem": N}],
#    "n_mmaps": N, "mmapped_mem": N, "threads": N,
#    "tcache": {"count": N, "bytes": N},
#    "tcache_per_thread": [N, ...],
#    "fastbin": {"count": N, "bytes": N}}
# The tcache figures are the part mallinfo2 cannot give (it counts tcache
# chunks as in use): sum over every thread of tcache->counts[i], bytes
# counts[i] * (i * 16 + 32) (tidx2usize + header, MINSIZE 32 on x86_64,
# glibc 2.26+ malloc.c).  Each bin's count is cross-checked against the
# length of its entries[] chain (pointers demangled for glibc >= 2.32).
import json
import os

import gdb


def ev(expr):
    return gdb.parse_and_eval(expr)


def u(v):
    return int(v) & 0xFFFFFFFFFFFFFFFF


out = {}
errors = []
inf = gdb.selected_inferior()

try:
    ver = ev("(const char *) __libc_version").string()
except gdb.error:
    ver = ""
try:
    major, minor = [int(x) for x in ver.split(".")[:2]]
except ValueError:
    major, minor = 2, 36
safe_linking = (major, minor) >= (2, 32)


def reveal(field_addr, stored):
    return (field_addr >> 12) ^ stored if safe_linking else stored


def read_u64(addr):
    return int.from_bytes(bytes(inf.read_memory(addr, 8)), "little")


ma = u(ev("&main_arena"))
out["main_arena"] = hex(ma)
arenas = []
fast_count = fast_bytes = 0
a = ma
for _ in range(4096):
    st = ev("*(struct malloc_state *) %d" % a)
    arenas.append({"address": hex(a), "system_mem": u(st["system_mem"])})
    for i in range(int(st["fastbinsY"].type.sizeof //
                       st["fastbinsY"][0].type.sizeof)):
        p = u(st["fastbinsY"][i])
        n = 0
        while p and n < 100000:
            size = read_u64(p + 8) & ~7
            fast_count += 1
            fast_bytes += size
            n += 1
            p = reveal(p + 16, read_u64(p + 16))
    a = u(st["next"])
    if a == ma:
        break
out["arenas"] = arenas
out["fastbin"] = {"count": fast_count, "bytes": fast_bytes}
out["n_mmaps"] = int(ev("mp_.n_mmaps"))
out["mmapped_mem"] = u(ev("mp_.mmapped_mem"))

tc_count = tc_bytes = 0
per_thread = []
threads = inf.threads()
for th in threads:
    th.switch()
    try:
        t = u(ev("tcache"))
    except gdb.error as e:
        errors.append("thread %d: cannot read tcache: %s" % (th.num, e))
        continue
    if t == 0:
        per_thread.append(0)
        continue
    tp = ev("*(tcache_perthread_struct *) %d" % t)
    nbins = tp["counts"].type.sizeof // tp["counts"][0].type.sizeof
    mine = 0
    for i in range(nbins):
        c = int(tp["counts"][i])
        e = u(tp["entries"][i])
        walked = 0
        while e and walked <= 1000:
            walked += 1
            e = reveal(e, read_u64(e))
        if walked != c:
            errors.append("thread %d tcache bin %d: counts %d, chain %d"
                          % (th.num, i, c, walked))
        mine += c
        tc_count += c
        tc_bytes += c * (i * 16 + 32)
    per_thread.append(mine)
out["threads"] = len(threads)
out["tcache"] = {"count": tc_count, "bytes": tc_bytes}
out["tcache_per_thread"] = per_thread
out["errors"] = errors
out["glibc"] = ver

with open(os.environ.get("HG_ORACLE_OUT", "oracle.json"), "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
