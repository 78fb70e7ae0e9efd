#!/bin/sh
# leak-live.sh - heapgrab leaks, why and top --retained on fx-leak, live.
#
# Every number against the fixture's own bookkeeping (tests/check-leaks.py):
# leaked, leak roots and possibly leaked chunks and bytes, the examples
# (the four heads of the leaked structures), the text report against the
# JSON; why: a chain through a stack frame, through TLS, through a
# register, through an anonymous mmap (a custom pool), three hops from a
# global, through an interior pointer (possibly leaked), and leaked chunks
# with the chunk that points to them; retained sizes of the two caches and
# of the single-root chunks. The same three with --fork (where heapgrab can
# inject): byte for byte the same. Then bad input, and the fixture's own
# checks after heapgrab left.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
# shellcheck source-path=SCRIPTDIR source=inject-lib.sh
. "$srcdir/inject-lib.sh"
require_ptrace_

check() { "$PYTHON3" "$srcdir/check-leaks.py" "$@" || fail_ "check-leaks.py $*"; }

start_fixture fx-leak
pid=$FX_PID

HG_OUT=leaks.json run_hg leaks --format json "$pid"
expect_rc 0 "leaks --format json"
expect_empty hg.err "stderr of leaks"
check leaks "$FX_READY" leaks.json
HG_OUT=leaks.txt run_hg leaks "$pid"
expect_rc 0 "leaks (text)"
check text leaks.txt leaks.json
! grep -q '0x[0-9a-f]\{6,\}' leaks.txt || fail_ "text leaks shows addresses without -v"

# why_ KEY STATE [ROOT_REGEX HOPS]: heapgrab why of the address noted as KEY
why_() {
	w_key=$1
	shift
	w_a=$(fx_note_ "$w_key")
	[ -n "$w_a" ] || framework_failure_ "fx-leak noted no '$w_key'"
	HG_OUT=why-$w_key.json run_hg why "$(printf '%x' "$w_a")" "$pid" --format json
	expect_rc 0 "why $w_key"
	check why "$FX_READY" "$w_key" "why-$w_key.json" "$@"
}
why_ stack reachable 'thread {pid} stack' 1
why_ tls reachable 'thread {tid_tls} TLS tls_keep \(fx-leak\)' 1
why_ reg reachable 'thread {tid_reg} register r12' 1
why_ pool0 reachable 'anonymous mapping 0x[0-9a-f]+-0x[0-9a-f]+' 1
why_ chain3 reachable 'global g_chain \(fx-leak, \.bss\)' 3
why_ interior_child possibly_leaked 'global g_interior \(fx-leak, \.bss\)' 2
why_ lost_2 leaked
why_ cycle_b leaked
why_ big_child leaked
# a leaked chunk's referrer is the leaked chunk before it
for pair in lost_2:lost_head cycle_b:cycle_a big_child:big chained_tail:chained_head; do
	k=${pair%%:*}
	r=$(fx_note_ "${pair#*:}")
	[ -f "why-$k.json" ] || { HG_OUT=why-$k.json run_hg why \
		"0x$(printf '%x' "$(fx_note_ "$k")")" "$pid" --format json; }
	"$PYTHON3" -c 'import json, sys
j = json.load(open(sys.argv[1]))
got = [int(r["address"], 16) for r in j["pointed_to_by"]]
sys.exit(0 if got == [int(sys.argv[2])] else 1)' "why-$k.json" "$r" ||
		fail_ "why $k: pointed_to_by is not just ${pair#*:}: $(cat "why-$k.json")"
done
# the text form names the frame's slot relative to the stack pointer
HG_OUT=why-stack.txt run_hg why "$(printf '0x%x' "$(fx_note_ stack)")" "$pid"
expect_rc 0 "why (text)"
grep -Eq "^  thread $pid stack \[0x[0-9a-f]+, sp\+0x[0-9a-f]+\]$" why-stack.txt ||
	fail_ "why (text): no stack slot line: $(cat why-stack.txt)"

HG_OUT=top.json run_hg top --retained --format json --top 1000 "$pid"
expect_rc 0 "top --retained --format json"
check retained "$FX_READY" top.json
HG_OUT=top.txt run_hg top --retained "$pid"
expect_rc 0 "top --retained (text)"
grep -q 'global cache_a (fx-leak, .bss)' top.txt || fail_ "top (text) lacks cache_a"

# --fork: the same reports from the frozen child (the target paused only
# for the fork), byte for byte, and the reaper left nothing behind
if injectable_; then
	HG_OUT=leaks-fork.json run_hg leaks --fork --format json "$pid"
	expect_rc 0 "leaks --fork"
	cmp -s leaks.json leaks-fork.json || {
		diff leaks.json leaks-fork.json >&2
		fail_ "leaks --fork differs from leaks"
	}
	HG_OUT=top-fork.json run_hg top --retained --fork --format json --top 1000 "$pid"
	expect_rc 0 "top --retained --fork"
	cmp -s top.json top-fork.json || fail_ "top --retained --fork differs from top --retained"
	HG_OUT=why-fork.json run_hg why "$(printf '%x' "$(fx_note_ chain3)")" "$pid" --fork \
		--format json
	expect_rc 0 "why --fork"
	cmp -s why-chain3.json why-fork.json || fail_ "why --fork differs from why"
	HG_OUT=x HG_ERR=fork.err run_hg leaks --fork -v --format json "$pid"
	grep -q 'copied [0-9]* bytes from the frozen child' fork.err ||
		fail_ "leaks --fork -v: no fork: $(cat fork.err)"
	fx_children_ok "leaks --fork"
else
	log_ "leaks --fork not checked: $ri_why_"
fi

# bad input
HG_OUT=x run_hg leaks --fork plain-no-such.core
expect_rc 64 "leaks --fork of a file"
grep -q "^heapgrab: --fork .*'plain-no-such.core' is no process id" hg.err ||
	fail_ "leaks --fork of a file: $(cat hg.err)"
HG_OUT=x run_hg why 0x10 "$pid"
expect_rc 2 "why of an address in no chunk"
expect_one_error 'not inside a live chunk' "why 0x10"
HG_OUT=x run_hg why zzz "$pid"
expect_rc 64 "why with a bad address"
HG_OUT=x run_hg leaks
expect_rc 64 "leaks without a target"
HG_OUT=x run_hg leaks "$pid" "$pid"
expect_rc 64 "leaks with two targets"
HG_OUT=x run_hg leaks --retained "$pid"
expect_rc 64 "leaks --retained"
HG_OUT=x run_hg attach "$pid" -o plain.hgs --quiet
expect_rc 0 "attach -o plain.hgs"
HG_OUT=x run_hg leaks plain.hgs
expect_rc 2 "leaks of a snapshot without contents"
expect_one_error 'no memory image' "leaks plain.hgs"
HG_OUT=x run_hg leaks no-such-file
expect_rc 2 "leaks of a missing file"
expect_one_error "cannot open 'no-such-file'" "leaks no-such-file"

check_untouched "$pid"
finish_fixture

# DWARF layouts: fx-leak --disguised keeps a lost block's address only in
# a double and a char array of a reachable struct. With types those words
# are no pointers: the block is leaked (the fixture counts it). Without
# types (--no-types: every word scanned, as valgrind does) it is not.
start_fixture fx-leak --disguised
HG_OUT=disguised.json run_hg leaks --format json "$FX_PID"
expect_rc 0 "leaks --format json (--disguised)"
check leaks "$FX_READY" disguised.json
HG_OUT=untyped.json run_hg leaks --format json --no-types "$FX_PID"
expect_rc 0 "leaks --no-types (--disguised)"
"$PYTHON3" - untyped.json "$(fx_note_ want_leaked_count)" <<'PY' ||
import json, sys
j = json.load(open(sys.argv[1]))
sys.exit(0 if j["leaked"]["count"] == int(sys.argv[2]) - 1 else 1)
PY
	fail_ "--no-types: the disguised block should look reachable"
finish_fixture
