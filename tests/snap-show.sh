#!/bin/sh
# snap-show.sh - attach -o FILE then show FILE: show's JSON is byte for
# byte attach's JSON; the file is mode 0600; --quiet prints nothing; the
# shown census still satisfies the contract against the fixture's
# mallinfo2 (fx-messy --threads 2).  The same for core -o when gcore can
# make a core (skipped otherwise).
. "${srcdir=.}/init.sh"
require_ptrace_

start_fixture fx-messy --threads 2
HG_OUT=attach.json run_hg attach "$FX_PID" --format json -o snap.hgs
expect_rc 0 "attach --format json -o snap.hgs"
expect_empty hg.err "stderr of attach -o"
[ -s snap.hgs ] || fail_ "attach -o did not write snap.hgs"
mode=$(stat -c %a snap.hgs)
[ "$mode" = 600 ] || fail_ "snap.hgs has mode $mode, want 600"

HG_OUT=quiet.out run_hg attach "$FX_PID" -o quiet.hgs --quiet
expect_rc 0 "attach -o quiet.hgs --quiet"
expect_empty quiet.out "stdout of attach --quiet"
[ -s quiet.hgs ] || fail_ "attach --quiet -o did not write the file"
check_untouched "$FX_PID"

HG_OUT=show.json run_hg show snap.hgs --format json
expect_rc 0 "show --format json"
expect_empty hg.err "stderr of show"
cmp attach.json show.json || {
	diff attach.json show.json >&2
	fail_ "show's JSON differs from attach's"
}
check_census show.json --ready "$FX_READY"

HG_OUT=show.txt run_hg show snap.hgs
expect_rc 0 "show (text)"
grep -q '^snapshot taken .* by heapgrab ' show.txt ||
	fail_ "show's text does not say when the snapshot was taken"

# A core of the same process, when gcore works here.
if command -v gcore > /dev/null 2>&1 &&
	gcore -o fx "$FX_PID" > gcore.log 2>&1 && [ -s "fx.$FX_PID" ]; then
	check_untouched "$FX_PID"
	HG_OUT=core.json run_hg core "fx.$FX_PID" --format json -o core.hgs
	expect_rc 0 "core --format json -o core.hgs"
	HG_OUT=coreshow.json run_hg show core.hgs --format json
	expect_rc 0 "show core.hgs"
	cmp core.json coreshow.json || fail_ "show's JSON differs from core's"
else
	log_ "no gcore: core -o not checked"
fi
finish_fixture
