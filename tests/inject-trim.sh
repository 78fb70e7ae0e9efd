#!/bin/sh
# inject-trim.sh - heapgrab trim: the target gives its free heap back, and
# says so itself.
#
# fx-inject --trim 32: 2 x 32 MiB of 4000-byte chunks, filled (resident),
# freed behind a pinning chunk in the main arena and in a thread arena, so
# the memory is free in the arenas but still resident.  Its ready file has
# the RSS it measured itself (/proc/self/statm).
#  - heapgrab trim --format json exits 0; before.rss_bytes is the
#    fixture's own figure (within 1 MiB); before.free_bytes covers the 64
#    MiB freed; released_bytes = before - after RSS and is at least 80% of
#    the bytes freed; the arenas' free bytes stay (malloc_trim returns the
#    pages, not the chunks: glibc's mtrim() uses MADV_DONTNEED);
#  - the fixture, woken, measures its RSS again and prints it: it agrees
#    with heapgrab's after.rss_bytes within 1 MiB, and the fixture's own
#    check (RSS fell by at least 80% of what it freed) passes, as do its
#    canaries, blocked threads, masks and FP state.
# A second trim in text form exits 0 and reports what it returned (little).
# trim of fx-inject --busy exits 3 (it would wait for the held arena lock).
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
# shellcheck source-path=SCRIPTDIR source=inject-lib.sh
. "$srcdir/inject-lib.sh"
require_ptrace_
require_injectable_

start_fixture fx-inject --trim 32
HG_OUT=trim.json run_hg trim "$FX_PID" --format json
expect_rc 0 "heapgrab trim --format json"
expect_empty hg.err "stderr of heapgrab trim"
check_untouched "$FX_PID"
fx_children_ok "trim"
"$PYTHON3" - trim.json "$(fx_note_ rss_before)" "$(fx_note_ trim_bytes)" "$FX_PID" <<'EOF' ||
import json, sys
d = json.load(open(sys.argv[1]))
rss0, freed, pid = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
t = d["trim"]
b, a = t["before"], t["after"]
MiB = 1 << 20
checks = [
    ("target.pid", d["target"]["pid"] == pid, d["target"]["pid"]),
    ("before.rss_bytes = the fixture's own RSS +- 1 MiB", abs(b["rss_bytes"] - rss0) <= MiB,
     "%d vs %d" % (b["rss_bytes"], rss0)),
    ("before.free_bytes >= bytes freed", b["free_bytes"] >= freed,
     "%d vs %d" % (b["free_bytes"], freed)),
    ("released_bytes = before - after RSS",
     t["released_bytes"] == max(0, b["rss_bytes"] - a["rss_bytes"]), t["released_bytes"]),
    ("released_bytes >= 80% of bytes freed", t["released_bytes"] >= freed * 8 // 10,
     "%d vs %d" % (t["released_bytes"], freed)),
    ("after.free_bytes >= bytes freed (chunks stay free)", a["free_bytes"] >= freed,
     "%d vs %d" % (a["free_bytes"], freed)),
    ("in_use_bytes unchanged", a["in_use_bytes"] == b["in_use_bytes"],
     "%d vs %d" % (a["in_use_bytes"], b["in_use_bytes"])),
    ("statistics = mallinfo2", t["statistics"] == "mallinfo2", t["statistics"]),
]
bad = 0
for name, ok, val in checks:
    print("%s  %s: %s" % ("ok  " if ok else "FAIL", name, val))
    bad += not ok
sys.exit(1 if bad else 0)
EOF
	fail_ "heapgrab trim's figures are wrong (see above)"

HG_OUT=trim2.out run_hg trim "$FX_PID"
expect_rc 0 "second heapgrab trim (text)"
grep -q '^the target returned ' trim2.out || {
	cat trim2.out >&2
	fail_ "the text output of trim does not say what was returned"
}
sed 's/^/    /' trim2.out >&2
check_untouched "$FX_PID"
finish_fixture
after=$(awk '$1 == "rss_after" { print $2 }' "$FX_OUT")
[ -n "$after" ] || fail_ "the fixture printed no rss_after"
"$PYTHON3" - trim.json "$after" <<'EOF' || fail_ "heapgrab's RSS after the trim is not the fixture's"
import json, sys
a = json.load(open(sys.argv[1]))["trim"]["after"]["rss_bytes"]
own = int(sys.argv[2])
print("after.rss_bytes %d, the fixture's own RSS after %d" % (a, own))
sys.exit(0 if abs(a - own) <= (1 << 20) else 1)
EOF

start_fixture fx-inject --busy
run_hg trim --retries 20 "$FX_PID"
expect_rc 3 "trim while a thread holds an arena lock"
expect_one_error "malloc_trim" "trim while a thread holds an arena lock"
check_untouched "$FX_PID"
finish_fixture
