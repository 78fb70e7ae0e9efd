#!/bin/sh
# live-typing-keep.sh - watch keeps the modules' debug info from one
# snapshot to the next (typing_opts.keep_debuginfo): the second and third
# snapshots say so in the -v log, and every snapshot's census by type is
# the fixture's own counts (tests/check-types.py) and the same rows as a
# plain attach, which reads the debug info afresh. fx-typing-o2's roots
# are only in optimized frames (callee-saved registers, entry values), so
# a stack unwound wrong in a later snapshot shows in its counts. With
# --no-keep-debug-info no snapshot says it kept anything.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
require_ptrace_

start_fixture fx-typing-o2
HG_OUT=live.json run_hg attach "$FX_PID" --format json
expect_rc 0 "attach --format json"
"$PYTHON3" "$srcdir/check-types.py" live.json --ready "$FX_READY" ||
	fail_ "attach: census by type differs from the fixture's counts"

HG_OUT=watch.out HG_ERR=watch.err run_hg watch "$FX_PID" --interval 200ms --count 3 \
	-o snaps -v
expect_rc 0 "watch --count 3"
check_untouched "$FX_PID"
grep 'typing [0-9.]* ms' watch.err >&2
n=$(grep -c 'debug: typing [0-9.]* ms' watch.err)
[ "$n" -eq 3 ] || fail_ "$n typing lines in watch's -v log, want 3"
k=$(grep -c 'typing [0-9.]* ms (debug info kept from the last snapshot): ' watch.err)
[ "$k" -eq 2 ] || fail_ "$k snapshots typed with the kept debug info, want 2"
grep 'typing [0-9.]* ms' watch.err | head -n 1 | grep -q 'kept' &&
	fail_ "the first snapshot cannot have kept debug info"

# --no-keep-debug-info: every snapshot reads the debug info afresh
HG_OUT=x HG_ERR=nokeep.err run_hg watch "$FX_PID" --interval 200ms --count 2 \
	--no-keep-debug-info -v
expect_rc 0 "watch --no-keep-debug-info"
n=$(grep -c 'debug: typing [0-9.]* ms' nokeep.err)
[ "$n" -eq 2 ] || fail_ "--no-keep-debug-info: $n typing lines, want 2"
! grep -q 'debug info kept' nokeep.err || fail_ "--no-keep-debug-info kept the debug info"

nf=$(find snaps -name '*.hgs' | wc -l)
[ "$nf" -eq 3 ] || fail_ "$nf snapshots in snaps/, want 3"
i=0
for f in snaps/*.hgs; do
	i=$((i + 1))
	HG_OUT=show-$i.json run_hg show "$f" --format json
	expect_rc 0 "show $f"
	"$PYTHON3" "$srcdir/check-types.py" "show-$i.json" --ready "$FX_READY" ||
		fail_ "snapshot $i: census by type differs from the fixture's counts"
	"$PYTHON3" - live.json "show-$i.json" <<'PY' || fail_ "snapshot $i: rows differ from attach's"
import json, sys
def rows(f):
    return sorted((r["type"], r["count"], r["bytes"], r.get("inferred", False))
                  for r in json.load(open(f))["by_type"])
a, b = rows(sys.argv[1]), rows(sys.argv[2])
for r in sorted(set(a) ^ set(b)):
    print("only in %s: %s" % ("attach" if r in a else sys.argv[2], r), file=sys.stderr)
sys.exit(a != b)
PY
done
finish_fixture
