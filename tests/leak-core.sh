#!/bin/sh
# leak-core.sh - leaks, why and top --retained from a gcore and from a
# snapshot file saved with --contents give exactly what the live process
# gave: the same JSON, byte for byte, and the fixture's own numbers.
#
# Skips (77) without gdb or ptrace permission.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
require_ptrace_
command -v "$GDB" > /dev/null 2>&1 || skip_ "no gdb (gcore)"

check() { "$PYTHON3" "$srcdir/check-leaks.py" "$@" || fail_ "check-leaks.py $*"; }

start_fixture fx-leak
pid=$FX_PID
stack=$(printf '%x' "$(fx_note_ stack)")
tls=$(printf '%x' "$(fx_note_ tls)")

# run_all TAG SOURCE: leaks, top --retained and two whys of SOURCE
run_all() {
	HG_OUT=leaks.$1 run_hg leaks --format json "$2"
	expect_rc 0 "leaks $2"
	HG_OUT=top.$1 run_hg top --retained --format json --top 1000 "$2"
	expect_rc 0 "top --retained $2"
	HG_OUT=why-stack.$1 run_hg why "$stack" "$2" --format json
	expect_rc 0 "why $stack $2"
	HG_OUT=why-tls.$1 run_hg why "$tls" "$2" --format json
	expect_rc 0 "why $tls $2"
}

run_all live "$pid"
HG_OUT=attach.out run_hg attach "$pid" -o contents.hgs --contents --quiet
expect_rc 0 "attach -o contents.hgs --contents"
"$GDB" -nx -batch -p "$pid" -ex "gcore gcore" > gdb.log 2>&1 < /dev/null
[ -s gcore ] || skip_ "gdb could not gcore the fixture: $(tail -n 3 gdb.log)"
check_untouched "$pid"
finish_fixture

# The process is gone: everything below reads the core and the file only.
run_all core gcore
run_all file contents.hgs
for f in leaks top why-stack why-tls; do
	for src in core file; do
		cmp "$f.live" "$f.$src" || {
			diff "$f.live" "$f.$src" >&2
			fail_ "$f from the $src differs from the live one"
		}
	done
done
check leaks "$FX_READY" leaks.core
check retained "$FX_READY" top.file
check why "$FX_READY" stack why-stack.core reachable "thread {pid} stack" 1
check why "$FX_READY" tls why-tls.file reachable "thread {tid_tls} TLS tls_keep \(fx-leak\)" 1
