#!/bin/sh
# rss-trim-run.sh - the RSS accounting and the trim prediction on a big,
# fragmented heap, under the glibc of HG_GLIBC_RELEASE's root
# (scripts/glibc-roots) or, with HG_GLIBC_RELEASE empty, this machine's;
# the body of rss-trim.sh, rss-bullseye.sh and rss-trixie.sh.
#
# fx-rss --mib HG_RSS_MIB (8 workers, 8 arenas, 90% freed in a pattern
# that leaves holes; default 256 MiB, and 1 GiB in CI's gcc and glibc
# stages, where scripts/quickstart sets HG_RSS_MIB=1024) reports its own
# RSS (smaps_rollup), glibc's mallinfo2, its mmapped chunks' resident
# bytes (mincore) and the mmap threshold it moved (tests/check-rss.py):
#  - rss --fork and rss (a copy): exit 0, nothing on stderr; the fork's
#    accounting adds up, to the fixture's own RSS within a page per
#    mapping and to the kernel's Rss read after the stop; the arenas' bytes
#    are glibc's own; mmapped resident bytes and the dynamic threshold are
#    the fixture's; every worker has an arena; copy and fork agree;
#  - trim --dry-run predicts; trim predicts the same and does it: the
#    RSS given back (statm in the stop) and the RSS the fixture lost (its
#    own smaps_rollup before and after) are both within 2% of the
#    prediction;
#  - the fixture checks every surviving chunk afterwards.
# Cost at 1 GiB: 1 GiB of fixture and up to 2 GiB of heapgrab while it
# copies; about 30 s on a loaded 2-CPU machine (5 snapshots of the heap).
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
# shellcheck source-path=SCRIPTDIR source=glibc-lib.sh
. "$srcdir/glibc-lib.sh"
: "${HG_RSS_MIB:=256}"
require_ptrace_
if [ -n "${HG_GLIBC_RELEASE:-}" ]; then
	glibc_root_init "$HG_GLIBC_RELEASE"
	root_build fx-rss
else
	glibc_host_init
fi
HG_RUN_TIMEOUT=${HG_RUN_TIMEOUT:-300}

# wait_sigsuspend_ PID: until the fixture's main thread sleeps in
# rt_sigsuspend (fx_wait; x86_64 syscall 130): the ready file is written
# a moment before, and the pages it touches on the way would show as
# changes between heapgrab's stop and its smaps read.
wait_sigsuspend_() {
	for _ in $(seq 1 200); do
		[ "$(cut -d' ' -f1 "/proc/$1/syscall" 2> /dev/null)" = 130 ] && return 0
		sleep 0.05
	done
	log_ "fixture $1 not seen in rt_sigsuspend; going on"
}

start_any fx-rss --mib "$HG_RSS_MIB"
wait_sigsuspend_ "$FX_PID"
maps=$(wc -l < "/proc/$FX_PID/maps")

HG_OUT=fork.json run_hg rss --fork "$FX_PID" --format json
expect_rc 0 "heapgrab rss --fork (glibc $ROOT_GLIBC)"
expect_empty hg.err "stderr of heapgrab rss --fork"
HG_OUT=copy.json run_hg rss "$FX_PID" --format json
expect_rc 0 "heapgrab rss (glibc $ROOT_GLIBC)"
expect_empty hg.err "stderr of heapgrab rss"
"$PYTHON3" "$srcdir/check-rss.py" accounting fork.json "$FX_READY" "$maps" >&2 ||
	fail_ "the accounting of fx-rss (glibc $ROOT_GLIBC) is wrong (see above)"
"$PYTHON3" "$srcdir/check-rss.py" same copy.json fork.json "$maps" >&2 ||
	fail_ "copy and fork snapshots account differently (see above)"

HG_OUT=dry.json run_hg trim --dry-run "$FX_PID" --format json
expect_rc 0 "heapgrab trim --dry-run"
expect_empty hg.err "stderr of heapgrab trim --dry-run"
HG_OUT=dry.txt run_hg trim --dry-run "$FX_PID"
expect_rc 0 "heapgrab trim --dry-run (text)"
grep -q 'dry run, nothing was done' dry.txt || fail_ "trim --dry-run does not say it did nothing"
HG_OUT=trim.json run_hg trim "$FX_PID" --format json
expect_rc 0 "heapgrab trim"
expect_empty hg.err "stderr of heapgrab trim"
check_untouched "$FX_PID"
finish_fixture
"$PYTHON3" "$srcdir/check-rss.py" trim dry.json trim.json "$FX_READY" "$FX_OUT" >&2 ||
	fail_ "the trim prediction (glibc $ROOT_GLIBC) is off (see above)"
