#!/bin/sh
# rss-snapshot.sh - the residency everywhere a census goes: attach --rss,
# snapshot files (show, diff), watch --rss, core --rss, the HTML page, and
# the usage errors of rss and trim --dry-run. On fx-rss --mib 16 (two
# workers: two arenas).
#  - attach --rss -o FILE --format json exits 0; show FILE --format json
#    prints the same bytes (the RSS section travels in the file); show's
#    text has the resident memory part;
#  - diff FILE FILE has an "rss" member, every delta 0, and the text table;
#    a diff against a snapshot without residency has none;
#  - diff --rss of two live snapshots has one too;
#  - watch --rss prints the RSS beside the live bytes at every snapshot;
#  - rss --format html embeds the "rss" object (the page's chart data)
#    with the same arenas as rss --format json, and attach --rss --format
#    html too;
#  - core --rss on the frozen 2.36 core: exit 0, residency live false,
#    resident figures null, the text says a core records no residency;
#  - usage errors exit 64 and name the problem.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
require_ptrace_

start_fixture fx-rss --mib 16 --threads 2

HG_OUT=attach.json run_hg attach --rss --no-types -o snap.hgs "$FX_PID" --format json
expect_rc 0 "heapgrab attach --rss -o"
expect_empty hg.err "stderr of heapgrab attach --rss"
HG_OUT=show.json run_hg show snap.hgs --format json
expect_rc 0 "heapgrab show of a snapshot with residency"
cmp attach.json show.json > /dev/null || {
	diff attach.json show.json | head -n 5 >&2
	fail_ "show --format json does not print what attach --rss printed"
}
HG_OUT=show.txt run_hg show snap.hgs
expect_rc 0 "heapgrab show (text)"
grep -q '^resident memory: process ' show.txt || fail_ "show's text has no resident memory part"
grep -q 'malloc_trim(0) would return' show.txt || fail_ "show's text has no trim prediction"

HG_OUT=plain.out run_hg attach --no-types -o plain.hgs --quiet "$FX_PID"
expect_rc 0 "heapgrab attach -o (no residency)"
HG_OUT=diff.json run_hg diff snap.hgs snap.hgs --format json
expect_rc 0 "heapgrab diff of two snapshots with residency"
HG_OUT=diff2.json run_hg diff snap.hgs plain.hgs --format json
expect_rc 0 "heapgrab diff, one snapshot without residency"
HG_OUT=diff3.json run_hg diff --rss --no-debug-info "$FX_PID" "$FX_PID" --format json
expect_rc 0 "heapgrab diff --rss of two live snapshots"
"$PYTHON3" - diff.json diff2.json diff3.json <<'PY' || fail_ "diff's rss member is wrong"
import json, sys
a, b, c = (json.load(open(p)) for p in sys.argv[1:])
ok = ("rss" in a and all(v["bytes_delta"] == 0 for k, v in a["rss"].items()
                         if "bytes_delta" in v) and a["rss"]["arenas"]["count"] == 2 and
      "rss" not in b and "rss" in c and c["rss"]["arenas"]["count_delta"] == 0)
print("diff rss: same file all 0, missing residency no member, live --rss present:", ok)
sys.exit(0 if ok else 1)
PY
HG_OUT=diff.txt run_hg diff snap.hgs snap.hgs
expect_rc 0 "heapgrab diff (text)"
grep -q '^resident memory, OLD -> NEW' diff.txt || fail_ "diff's text has no resident memory table"

HG_OUT=watch.out run_hg watch --rss --no-types --count 2 --interval 300ms "$FX_PID"
expect_rc 0 "heapgrab watch --rss"
[ "$(grep -c '; RSS ' watch.out)" -eq 2 ] || {
	cat watch.out >&2
	fail_ "watch --rss does not print the RSS at each snapshot"
}

HG_OUT=rss.json run_hg rss "$FX_PID" --format json
expect_rc 0 "heapgrab rss --format json"
HG_OUT=rss.html run_hg rss "$FX_PID" --format html
expect_rc 0 "heapgrab rss --format html"
HG_OUT=attach.html run_hg attach --rss --no-types "$FX_PID" --format html
expect_rc 0 "heapgrab attach --rss --format html"
"$PYTHON3" - rss.html attach.html rss.json <<'PY' || fail_ "the html page lacks the resident memory data"
import json, re, sys
def data(p):
    m = re.search(r'<script id="hg-data" type="application/json">(.*?)</script>',
                  open(p).read(), re.S)
    return json.loads(m.group(1))
h, a = data(sys.argv[1]), data(sys.argv[2])
j = json.load(open(sys.argv[3]))["rss"]
ok = (h["rss"] is not None and a["rss"] is not None and
      [x["address"] for x in h["rss"]["arenas"]] == [x["address"] for x in j["arenas"]] and
      set(h["rss"]) == set(j) and "rss-section" in open(sys.argv[1]).read())
print("html: rss data present, same arenas and keys as the JSON:", ok)
sys.exit(0 if ok else 1)
PY
check_untouched "$FX_PID"

run_hg rss
expect_rc 64 "heapgrab rss without a PID"
run_hg rss --format pprof "$FX_PID"
expect_rc 64 "heapgrab rss --format pprof"
grep -q "^heapgrab: unknown format 'pprof' (text, json, html)" hg.err ||
	fail_ "rss --format pprof: no usage error naming the formats"
run_hg rss not-a-pid
expect_rc 64 "heapgrab rss not-a-pid"
run_hg trim --dry-run --format csv "$FX_PID"
expect_rc 64 "heapgrab trim --dry-run --format csv"
finish_fixture

set_dir=$srcdir/../fixtures/cores/glibc-2.36-x86_64
if command -v xz > /dev/null 2>&1 && [ -d "$set_dir" ]; then
	mkdir -p core-set
	for f in $(cd "$set_dir" && find . -name '*.xz' -type f); do
		mkdir -p "core-set/$(dirname "$f")"
		xz -dc "$set_dir/$f" > "core-set/${f%.xz}" || framework_failure_ "cannot decompress $f"
	done
	HG_OUT=core.json run_hg core --rss --no-types --debug-dir "$(pwd)/core-set/empty" \
		--exe core-set/exe --sysroot core-set/sysroot core-set/core --format json
	expect_rc 0 "heapgrab core --rss"
	"$PYTHON3" - core.json <<'PY' || fail_ "core --rss claims a residency"
import json, sys
r = json.load(open(sys.argv[1]))["rss"]
ok = (not r["residency"]["live"] and r["total"]["accounted_bytes"] is None and
      all(a["resident_bytes"] is None for a in r["arenas"]) and len(r["arenas"]) >= 1 and
      r["thresholds"]["known"])
print("core --rss: no residency, the allocator's own figures only:", ok)
sys.exit(0 if ok else 1)
PY
	HG_OUT=core.txt run_hg core --rss --no-types --debug-dir "$(pwd)/core-set/empty" \
		--exe core-set/exe --sysroot core-set/sysroot core-set/core
	expect_rc 0 "heapgrab core --rss (text)"
	grep -q 'no residency (a core records which pages were mapped' core.txt ||
		fail_ "core --rss does not say that a core has no residency"
else
	log_ "xz or the frozen 2.36 core set missing: core --rss left out"
fi
