#!/bin/sh
# live-typing-runtime.sh - C structs that only another runtime's heap (an
# anonymous mmap, as a Go slice's backing array) holds are typed by shape
# and marked inferred, their names through them; twins, a string alone,
# a size match alone and links with no string stay untyped
# (fx-typing-runtime).
# Checks every count the fixture notes exactly (tests/check-types.py),
# that nothing else was inferred (the inferred rows add up to what the
# fixture left to infer: a decline that typed its chunks as something
# else would show there), the census relations (check_census), and the
# fixture's own checks after heapgrab leaves.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
require_ptrace_

start_fixture fx-typing-runtime
HG_OUT=live.json run_hg attach "$FX_PID" --format json
expect_rc 0 "attach --format json"
check_census live.json
HG_OUT=explain.txt run_hg attach "$FX_PID" --explain-types --top 30
expect_rc 0 "attach --explain-types"
sed 's/^/    /' explain.txt >&2
"$PYTHON3" "$srcdir/check-types.py" live.json --ready "$FX_READY" ||
	fail_ "census by type differs from the fixture's counts"
"$PYTHON3" - live.json "$FX_READY" <<'PY' || fail_ "chunks inferred that the fixture did not leave to infer"
import json, sys
d = json.load(open(sys.argv[1]))
want = 0
for line in open(sys.argv[2]):
    if line.startswith("inferred="):
        want += int(line.rsplit(" ", 1)[1])
rows = [r for r in d["by_type"] if r.get("inferred")]
got = sum(r["count"] for r in rows)
print("inferred: %d chunks (%s), the fixture left %d to infer"
      % (got, ", ".join("%s %d" % (r["type"], r["count"]) for r in rows), want))
sys.exit(0 if got == want == d["typing"]["inferred"]["count"] else 1)
PY

finish_fixture
