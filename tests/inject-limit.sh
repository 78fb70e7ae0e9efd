#!/bin/sh
# inject-limit.sh - a fork snapshot of a heap bigger than a memory limit
# set on heapgrab succeeds.
#
# A fork snapshot reads the frozen child in place, through a bounded
# cache: heapgrab holds the cache and the chunk table, not the heap. Here
# the fixture's arenas hold more than 384 MiB (fx-messy --threads 1
# --big-mib 384: a thread arena over seven 64 MiB heaps) and heapgrab runs
# under RLIMIT_AS of 160 MiB (prlimit --as), its whole address space:
#  0. without the limit: attach --format json, with and without types
#     (copy mode), exit 0: the references; their arenas' system_bytes
#     exceed the limit (the census's own figure, and mallinfo2's arena
#     total in the ready file: both, or the test proves nothing)
#  1. the limit bites: attach --no-types (a copy under the stop) fails
#     cleanly under it: exit 2, one "heapgrab: " line that says memory,
#     the target untouched
#  2. attach --fork --format json, and the same with --no-types, under
#     the limit: exit 0, nothing on stderr, the same JSON as the references
#     byte for byte
#  3. no snapshot child left behind; the fixture's own checks pass.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
# shellcheck source-path=SCRIPTDIR source=inject-lib.sh
. "$srcdir/inject-lib.sh"
require_ptrace_
require_injectable_
command -v prlimit > /dev/null 2>&1 || skip_ "prlimit (util-linux) is not installed"
# ASan reserves terabytes of address space for its shadow at start-up:
# an ASan build cannot run under any RLIMIT_AS (the other stages test it)
if ldd "$HG" 2> /dev/null | grep -q libasan; then
	skip_ "an ASan build of heapgrab cannot start under RLIMIT_AS"
fi

limit_mib=160
start_fixture fx-messy --threads 1 --big-mib 384

HG_OUT=ref.json run_hg attach "$FX_PID" --format json
expect_rc 0 "attach --format json (no limit)"
HG_OUT=ref-nt.json run_hg attach "$FX_PID" --format json --no-types
expect_rc 0 "attach --no-types --format json (no limit)"
system=$(json_field ref.json 'sum(a["system_bytes"] for a in d["arenas"])')
arena=$(sed -n 's/^mallinfo2 arena=\([0-9]*\) .*/\1/p' "$FX_READY")
log_ "arenas: $system bytes (census), $arena bytes (mallinfo2); limit $limit_mib MiB"
[ "$system" -gt $((limit_mib << 20)) ] && [ "$arena" -gt $((limit_mib << 20)) ] ||
	framework_failure_ "the heap ($system / $arena bytes) is not bigger than the limit"

# limited ARGS...: run_hg ARGS under the limit
limited() {
	li_saved_=$HG_VALGRIND
	HG_VALGRIND="prlimit --as=$((limit_mib << 20)) $HG_VALGRIND"
	run_hg "$@"
	HG_VALGRIND=$li_saved_
}

HG_OUT=copy.json HG_ERR=copy.err limited attach "$FX_PID" --format json --no-types
expect_rc 2 "attach --no-types under RLIMIT_AS $limit_mib MiB (a copy)"
HG_ERR=copy.err expect_one_error "memory" "attach --no-types under the limit"
check_untouched "$FX_PID"

for t in "" --no-types; do
	# shellcheck disable=SC2086 # $t is one option or none
	HG_OUT=fork$t.json HG_ERR=fork$t.err limited attach "$FX_PID" --format json --fork $t
	expect_rc 0 "attach --fork $t under RLIMIT_AS $limit_mib MiB"
	expect_empty "fork$t.err" "stderr of attach --fork $t under the limit"
	ref=ref.json
	[ -z "$t" ] || ref="ref-nt.json"
	cmp -s "$ref" "fork$t.json" || {
		diff "$ref" "fork$t.json" >&2
		fail_ "attach --fork $t under the limit differs from the copy without it"
	}
	check_untouched "$FX_PID"
done
fx_children_ok "after the fork snapshots"
finish_fixture
