#!/bin/sh
# inject-verify.sh - attach --verify: the target's own mallinfo2() confirms
# the census, and --verify refuses where the call could hang or is unsafe.
#
# On fx-messy (default; --threads 12; --block-brk; --foreign-sbrk; with
# libc's debug info hidden, so the disassembly path) and fx-inject:
#  - attach --verify --format json exits 0 with nothing on stderr; its
#    "verify" member says agree, and every relation agrees (heapgrab's sum
#    equals the allocator's field: uordblks, fordblks, ordblks, smblks,
#    fsmblks, hblks, hblkhd, arena, keepcost);
#  - the allocator's figures equal the mallinfo2 line the fixture wrote
#    itself before it was ready (an independent third view);
#  - the census without "verify" is the plain attach's, byte for byte in
#    its values (check-census.py relations hold too);
#  - the text output ends the table with "9 of 9 relations agree";
#  - the fixture's own checks pass afterwards (mallinfo2 unchanged: the call
#    changed nothing).
# Refusals:
#  - fx-inject --busy (a thread blocked in malloc_stats() holds
#    main_arena's lock): attach --verify --retries 20 exits 3 with one line
#    saying it refuses; the target is untouched and passes its checks.
#  - fx-inject --corrupt-bin (a free chunk whose bk points nowhere): the
#    injected mallinfo2() faults walking the bins; heapgrab exits 2 with one
#    line naming the signal and mallinfo2(), and the target is neither
#    stopped nor traced (its arena lock stays taken, so it is killed).
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
# shellcheck source-path=SCRIPTDIR source=inject-lib.sh
. "$srcdir/inject-lib.sh"
require_ptrace_
require_injectable_

mkdir empty-debug
verify_fixture() {
	HG_OUT=plain.json run_hg attach "$FX_PID" --format json "$@"
	expect_rc 0 "plain attach $*"
	HG_OUT=v.json run_hg attach --verify "$FX_PID" --format json "$@"
	expect_rc 0 "attach --verify $*"
	expect_empty hg.err "stderr of attach --verify $*"
	"$PYTHON3" - v.json plain.json "$FX_READY" <<'EOF' || fail_ "attach --verify $*: see above"
import json, sys
d = json.load(open(sys.argv[1]))
plain = json.load(open(sys.argv[2]))
v = d.pop("verify")
bad = 0
mi = {}
for line in open(sys.argv[3]):
    if line.startswith("mallinfo2 "):
        mi = dict((k, int(x)) for k, x in (f.split("=") for f in line.split()[1:]))
want = ["uordblks", "fordblks", "ordblks", "smblks", "fsmblks", "hblks", "hblkhd",
        "arena", "keepcost"]
got = [r["field"] for r in v["relations"]]
if got != want:
    print("relations: %r, expected %r" % (got, want)); bad += 1
for r in v["relations"]:
    ok = r["agree"] and r["heapgrab"] == r["allocator"]
    own = mi.get(r["field"])
    if own is not None and own != r["allocator"]:
        print("%s: the injected %s gives %d, the fixture's own call gave %d"
              % (r["field"], v["function"], r["allocator"], own)); bad += 1
    print("%s  %-9s %-45s heapgrab %d, %s %d, fixture %s"
          % ("ok  " if ok else "FAIL", r["field"], r["terms"], r["heapgrab"],
             v["function"], r["allocator"], own))
    bad += not ok
if not v["agree"] or v["function"] != "mallinfo2" or v["wraps32"]:
    print("verify: %r" % {k: v[k] for k in ("function", "wraps32", "agree")}); bad += 1
if d != plain:
    print("the census of --verify differs from the plain attach"); bad += 1
sys.exit(1 if bad else 0)
EOF
	set -- --ready "$FX_READY"
	check_census v.json "$@"
	check_untouched "$FX_PID"
}

for args in "" "--threads 12" "--block-brk" "--foreign-sbrk"; do
	# shellcheck disable=SC2086 # the fixture's options
	start_fixture fx-messy $args
	verify_fixture
	[ -n "$args" ] || verify_fixture --debug-dir "$(pwd)/empty-debug"
	finish_fixture
done

start_fixture fx-inject
verify_fixture
HG_OUT=text.out run_hg attach --verify "$FX_PID"
expect_rc 0 "attach --verify (text)"
grep -q '^9 of 9 relations agree' text.out || {
	sed -n '/^verify:/,$p' text.out >&2
	fail_ "the text output of --verify does not say that all 9 agree"
}
fx_children_ok "attach --verify"
finish_fixture

start_fixture fx-inject --busy
run_hg attach --verify --retries 20 "$FX_PID" --format json
expect_rc 3 "attach --verify while a thread holds an arena lock"
expect_one_error "refuses" "attach --verify while a thread holds an arena lock"
expect_empty hg.out "stdout of a refused --verify"
check_untouched "$FX_PID"
finish_fixture

start_fixture fx-inject --corrupt-bin
run_hg attach --verify "$FX_PID" --format json
expect_rc 2 "attach --verify of a heap whose bins make mallinfo2 fault"
expect_one_error "SIGSEGV|Segmentation.*mallinfo2|mallinfo2.*(SIGSEGV|Segmentation)" \
	"attach --verify of a heap whose bins make mallinfo2 fault"
check_untouched "$FX_PID"
kill -KILL "$FX_PID"
