#!/bin/sh
# live-types.sh - the census by type of fx-types, against its own counts.
#
# fx-types builds lists, a tree, a hash table, arrays, a flexible array
# member, unions, an intrusive list, a tagged object system, a list only a
# stack frame's local variable holds and objects only TLS variables hold,
# and notes how many chunks of each type it made (check-types.py). Checks:
#  - attach --format json: every by_type count exact, rows add up to the
#    live totals, coverage >= 99% of the typable bytes, and the mallinfo2
#    relations still hold (typing changes no number of the census);
#  - the text census shows the same rows; --explain-types names the root
#    each structure hangs from (global, TLS of a thread, a local of
#    lonely_holder(), the thread descriptor);
#  - --unwinder=libunwind (libunwind-ptrace during the stop) gives the
#    same by_type as libdw's unwinder; --unwinder=none loses exactly the
#    frame-only list;
#  - folded stacks are ownership paths (global g_table -> struct entry *[]
#    -> struct entry -> char[]; a local of lonely_holder() -> struct
#    lonely) and add up to the live chunks;
#  - a snapshot file (-o) read back with show gives the same by_type;
#  - a gcore of the same process gives the same by_type;
#  - --no-types: one "untyped" row with every live chunk;
#  - the fixture's own checks pass after heapgrab leaves.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
require_ptrace_
have_libc_debuginfo_ || skip_ "libc debug info (libc6-dbg) is needed for TLS and frames"

start_fixture fx-types -n 3
HG_OUT=live.json run_hg attach "$FX_PID" --format json
expect_rc 0 "attach --format json"
"$PYTHON3" "$srcdir/check-types.py" live.json --ready "$FX_READY" --coverage 99 ||
	fail_ "census by type differs from the fixture's counts"
check_census live.json

# the two unwinders agree; without stack roots the list only a local
# variable holds is untyped (so the frames are what types it)
HG_OUT=libunwind.json run_hg attach "$FX_PID" --format json --unwinder=libunwind
expect_rc 0 "attach --unwinder=libunwind"
"$PYTHON3" "$srcdir/check-types.py" libunwind.json --ready "$FX_READY" --same live.json ||
	fail_ "--unwinder=libunwind gives another census by type than libdw"
HG_OUT=nounwind.json run_hg attach "$FX_PID" --format json --unwinder=none
expect_rc 0 "attach --unwinder=none"
"$PYTHON3" - nounwind.json <<'PY' || fail_ "--unwinder=none still types the frame-only list"
import json, sys
rows = {r["type"]: r["count"] for r in json.load(open(sys.argv[1]))["by_type"]}
sys.exit(1 if rows.get("struct lonely", 0) else 0)
PY

HG_OUT=live.txt run_hg attach "$FX_PID" --explain-types --top 40
expect_rc 0 "attach --explain-types"
for t in 'struct node' 'struct lonely' 'struct tls_obj' 'struct obj_pair' 'struct job'; do
	grep -q "^$t  *[0-9]" live.txt || fail_ "text census has no '$t' row"
done
grep -q 'struct lonely <- local head in lonely_holder() (thread [0-9]*, frame #' live.txt ||
	fail_ "--explain-types: struct lonely not reached from lonely_holder()'s local"
grep -q 'struct tls_obj <- TLS t_objs (fx-types, thread [0-9]*)' live.txt ||
	fail_ "--explain-types: struct tls_obj not reached from the TLS variable"
grep -q 'struct job <- global g_jobs (fx-types)' live.txt ||
	fail_ "--explain-types: struct job not reached through the intrusive list head"
grep -q 'struct obj_int <- .*struct obj \*\|struct obj_int <- global g_an_int' live.txt ||
	fail_ "--explain-types: no path for struct obj_int"

# folded stacks are ownership paths: root, owner types, type
HG_OUT=live.folded run_hg attach "$FX_PID" --format folded --value count
expect_rc 0 "attach --format folded"
grep -q '^global g_table (fx-types);struct entry \*\[\];struct entry;char\[\] [0-9]' live.folded ||
	fail_ "folded: no path global g_table -> struct entry *[] -> struct entry -> char[]"
grep -q '^local head in lonely_holder() (thread [0-9]*, frame #[0-9]*);struct lonely [0-9]' live.folded ||
	fail_ "folded: no path from lonely_holder()'s local to struct lonely"
"$PYTHON3" - live.folded live.json <<'PY' || fail_ "folded counts do not add up to the live chunks"
import json, sys
total = sum(int(l.rsplit(" ", 1)[1]) for l in open(sys.argv[1]) if l.strip())
t = json.load(open(sys.argv[2]))["totals"]
sys.exit(0 if total == t["in_use"]["count"] + t["mmapped"]["count"] else 1)
PY

HG_OUT=save.out run_hg attach "$FX_PID" -o snap.hgs --quiet
expect_rc 0 "attach -o"
HG_OUT=show.json run_hg show snap.hgs --format json
expect_rc 0 "show"
"$PYTHON3" "$srcdir/check-types.py" show.json --ready "$FX_READY" --same live.json ||
	fail_ "the saved snapshot's by_type differs"

"${GDB:-gdb}" -nx -p "$FX_PID" -batch -ex "gcore fx.core" > gdb.log 2>&1 || :
if [ -s fx.core ]; then
	HG_OUT=core.json run_hg core fx.core --format json
	expect_rc 0 "core"
	"$PYTHON3" "$srcdir/check-types.py" core.json --ready "$FX_READY" --same live.json ||
		fail_ "the gcore's by_type differs from the live one"
else
	log_ "gdb could not gcore the fixture; core part skipped: $(tail -1 gdb.log)"
fi

HG_OUT=none.json run_hg attach "$FX_PID" --format json --no-types
expect_rc 0 "attach --no-types"
"$PYTHON3" - none.json <<'PY' || fail_ "--no-types: by_type is not one untyped row"
import json, sys
c = json.load(open(sys.argv[1]))
t = c["totals"]
live = (t["in_use"]["count"] + t["mmapped"]["count"],
        t["in_use"]["bytes"] + t["mmapped"]["bytes"])
rows = [(r["type"], r["count"], r["bytes"]) for r in c["by_type"]]
sys.exit(0 if rows == [("untyped",) + live] and not c["typing"]["typed"] else 1)
PY
finish_fixture
