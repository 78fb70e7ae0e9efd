#!/bin/sh
# snap-diff.sh - two snapshots around a known growth: snap-grow allocates
# N blocks of 200 bytes (chunks of 208) on SIGUSR1.  The diff (file
# against live PID, and file against file) must show exactly +N chunks of
# 208 bytes as the top row, and in_use + tcache + overhead bytes deltas
# must equal the change of the target's own mallinfo2 uordblks; --new
# must find exactly the N new chunks.
. "${srcdir=.}/init.sh"
require_ptrace_

SG=$HG_TESTS_BUILDDIR/snap-grow
[ -x "$SG" ] || framework_failure_ "$SG not built"
N=5000

# ready_line_ KEY: wait for "KEY ..." in the ready file, print its value.
ready_value_() {
	for _ in $(seq 1 600); do
		v_=$(awk -v k="$1" '$1 == k { sub(/^[a-z]*=/, "", $2); print $2 }' ready 2> /dev/null)
		[ -n "$v_" ] && { echo "$v_"; return 0; }
		kill -0 "$SG_PID" 2> /dev/null || framework_failure_ "snap-grow exited: $(cat sg.err)"
		sleep 0.05
	done
	framework_failure_ "snap-grow: no '$1' line"
}

"$SG" --ready ready grow "$N" > sg.out 2> sg.err < /dev/null &
SG_PID=$!
fx_all_="$fx_all_ $SG_PID"
u1=$(ready_value_ mallinfo2)

run_hg attach "$SG_PID" -o old.hgs --quiet
expect_rc 0 "attach -o old.hgs --quiet"
check_untouched "$SG_PID"
kill -USR1 "$SG_PID"
u2=$(ready_value_ grown)
log_ "uordblks $u1 -> $u2"

HG_OUT=live.json run_hg diff old.hgs "$SG_PID" --format json --new
expect_rc 0 "diff old.hgs PID"
expect_empty hg.err "stderr of diff"
run_hg attach "$SG_PID" -o new.hgs --quiet
expect_rc 0 "attach -o new.hgs"
HG_OUT=files.json run_hg diff old.hgs new.hgs --format json --new
expect_rc 0 "diff old.hgs new.hgs"
cmp live.json files.json || {
	diff live.json files.json >&2
	fail_ "diff against the live process and against its snapshot differ"
}
HG_OUT=diff.txt run_hg diff old.hgs new.hgs
expect_rc 0 "diff (text)"
grep -q "^+5,000 untyped, +1015.6 KiB since " diff.txt ||
	fail_ "text diff lacks the growth line by type"
grep -q "^+5,000 chunks of 208 bytes, +1015.6 KiB since " diff.txt || {
	cat diff.txt >&2
	fail_ "text diff lacks the growth line"
}

"$PYTHON3" - live.json "$N" "$u1" "$u2" << 'PYEOF' || fail_ "diff does not match the growth (see above)"
import json, sys
d = json.load(open(sys.argv[1]))
n, u1, u2 = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
t = d["totals"]
errs = []
if list(d) != ["heapgrab", "totals", "by_type", "by_size", "new_chunks"]:
    errs.append("keys %s" % list(d))
# the grown chunks are held by a void *[]: nothing types them
bt = [(r["type"], r["count_delta"], r["bytes_delta"]) for r in d["by_type"]]
if bt != [("untyped", n, 208 * n)]:
    errs.append("by_type %s, want one untyped row +%d / +%d" % (bt, n, 208 * n))
for k in ("in_use", "tcache", "fastbin", "bin", "top", "mmapped"):
    if list(t[k]) != ["count_delta", "bytes_delta", "count", "bytes"]:
        errs.append("totals.%s keys %s" % (k, list(t[k])))
if list(t["overhead"]) != ["bytes_delta", "bytes"]:
    errs.append("overhead keys")
top = d["by_size"][0] if d["by_size"] else {}
want = {"size": 208, "count_delta": n, "bytes_delta": 208 * n}
if any(top.get(k) != v for k, v in want.items()):
    errs.append("top row %s, want %s" % (top, want))
if len(d["by_size"]) != 1:
    errs.append("%d size classes changed, want 1: %s" % (len(d["by_size"]), d["by_size"]))
got = t["in_use"]["bytes_delta"] + t["tcache"]["bytes_delta"] + t["overhead"]["bytes_delta"]
if got != u2 - u1:
    errs.append("in_use+tcache+overhead delta %d, uordblks delta %d" % (got, u2 - u1))
nc = d["new_chunks"]
if nc["count"] != n or nc["bytes"] != 208 * n or len(nc["chunks"]) > 50:
    errs.append("new_chunks %s" % {k: nc[k] for k in ("count", "bytes")})
if any(c["size"] != 208 for c in nc["chunks"]):
    errs.append("a listed new chunk is not 208 bytes")
rows = d["by_size"]
for a, b in zip(rows, rows[1:]):
    if (a["bytes_delta"], -a["size"]) < (b["bytes_delta"], -b["size"]):
        errs.append("by_size not sorted")
for e in errs:
    print("snap-diff:", e, file=sys.stderr)
sys.exit(1 if errs else 0)
PYEOF

check_untouched "$SG_PID"
kill -USR1 "$SG_PID"
rc=0
wait_timeout_ "$SG_PID" 60 || rc=$?
[ "$rc" -eq 0 ] || fail_ "snap-grow failed its own checks (status $rc): $(cat sg.err)"
