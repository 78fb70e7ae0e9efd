#!/bin/sh
# live-demo.sh - the README quick start: heapgrab attach on fixtures/demo.
#
# The demo keeps allocating every 100 ms (one thread every 250 ms), so it is
# not quiescent: heapgrab must exit 0 (or 3 if it stayed busy; the demo
# sleeps most of the time, so 3 is reported as a failure here), print a
# non-empty text census with nothing on stderr, and a JSON census whose
# always-true relation holds; the demo keeps running, untraced and not
# stopped, and exits 0 on SIGTERM.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
require_ptrace_

[ -x "$FIXTURES/demo" ] || framework_failure_ "fixtures/demo not built"
"$FIXTURES/demo" > demo.out 2>&1 < /dev/null &
demo=$!
bg_all_="$bg_all_ $demo"
for _ in $(seq 100); do
	grep -q "^demo: pid $demo\$" demo.out && break
	sleep 0.05
done
grep -q "^demo: pid $demo\$" demo.out ||
	framework_failure_ "demo did not print 'demo: pid $demo': $(cat demo.out)"
sleep 0.5

run_hg attach "$demo"
expect_rc 0 "heapgrab attach demo"
expect_empty hg.err "stderr of heapgrab attach demo"
[ -s hg.out ] || fail_ "empty text output"
sed 's/^/    /' hg.out >&2
check_untouched "$demo"

HG_OUT=demo.json run_hg attach "$demo" --format json
expect_rc 0 "heapgrab attach demo --format json"
"$PYTHON3" "$srcdir/check-census.py" batch demo.json ||
	fail_ "demo census inconsistent"
check_untouched "$demo"

kill -TERM "$demo"
rc=0
wait_timeout_ "$demo" 10 || rc=$?
[ "$rc" -eq 0 ] || fail_ "demo exited with status $rc after SIGTERM"
