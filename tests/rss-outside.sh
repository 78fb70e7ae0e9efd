#!/bin/sh
# rss-outside.sh - resident memory outside malloc, exact to the byte:
# fx-rss-outside has 20 threads with stacks of different depths, a private
# mmap-based allocator (a bump pointer over an anonymous mapping), shared
# anonymous memory and a private file mapping, and counts each one's
# resident bytes itself (mincore() and its own bookkeeping). For each run
# tests/check-rss.py outside checks every stack, the pool, the shared
# memory and the file mapping row against the fixture's figures:
#  - rss --fork without CAP_SYS_ADMIN (setpriv): the kernel hides page
#    frame numbers; with the PAGEMAP_SCAN ioctl (Linux 6.7+) the zero page
#    is still told apart, with read() (HEAPGRAB_PAGEMAP_READ=1) it is not
#    (zero_page_visible false); both exact on the fresh fixture;
#  - rss --fork with /proc/PID/pagemap unreadable (a bind mount of
#    /dev/null over it, in a mount namespace of its own): exit 1, one
#    warning naming pagemap; malloc's memory is counted per mapping
#    (unsplit), the rows outside malloc stay exact (smaps);
#  - rss --fork, rss (a copy): exact, and the fork's total is the kernel's;
#  - without CAP_SYS_ADMIN again, after the copy mapped the zero page into
#    the pool's untouched pages: by read() heapgrab says pagemap and smaps
#    disagree (mismatched_mappings) instead of hiding it; by the ioctl
#    the zero pages are counted apart and pagemap agrees with smaps;
#  - with libjemalloc.so.2 preloaded (malloc not glibc's): exit 1, one
#    warning, no arenas, and the same exact rows outside malloc.
# Each fixture checks its pool, pages and heap after heapgrab detached.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
require_ptrace_

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

check_outside() {
	"$PYTHON3" "$srcdir/check-rss.py" outside "$@" >&2 ||
		fail_ "the accounting outside malloc of $1 is wrong (see above)"
}

start_fixture fx-rss-outside
wait_sigsuspend_ "$FX_PID"

# nocap OUT [ENV...]: heapgrab rss --fork without CAP_SYS_ADMIN
nocap() {
	nc_out_=$1
	shift
	hg_rc=0
	timeout -k 5 120 env "$@" setpriv --bounding-set=-sys_admin "$HG" rss --fork "$FX_PID" \
		--format json > "$nc_out_" 2> hg.err || hg_rc=$?
	expect_rc 0 "heapgrab rss --fork without CAP_SYS_ADMIN $*"
	expect_empty hg.err "stderr of heapgrab rss without CAP_SYS_ADMIN $*"
}
# residency_ FILE: "METHOD ZERO_PAGE_VISIBLE MISMATCHED ZERO_PAGES"
residency_() {
	"$PYTHON3" -c 'import json, sys
r = json.load(open(sys.argv[1]))["rss"]
print(r["residency"]["pagemap_method"], int(r["residency"]["zero_page_visible"]),
      r["total"]["mismatched_mappings"], r["total"]["zero_pages"])' "$1"
}
can_nocap=
if command -v setpriv > /dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
	can_nocap=1
	# the ioctl tells the zero page apart itself; read() needs the
	# page frame numbers the kernel now hides
	nocap nocap.json
	set -- $(residency_ nocap.json)
	case $1:$2 in
	scan:1|read:0) ;;
	*) fail_ "without CAP_SYS_ADMIN: pagemap by $1, zero pages told apart: $2" ;;
	esac
	check_outside nocap.json "$FX_READY" --exact-total
	nocap nocap-read.json HEAPGRAB_PAGEMAP_READ=1
	set -- $(residency_ nocap-read.json)
	[ "$1:$2" = read:0 ] ||
		fail_ "read() without CAP_SYS_ADMIN: pagemap by $1, zero pages told apart: $2"
	check_outside nocap-read.json "$FX_READY" --exact-total
else
	log_ "setpriv or root missing: the runs without CAP_SYS_ADMIN are left out"
fi

if [ "$(id -u)" -eq 0 ] && unshare -m true 2> /dev/null; then
	hg_rc=0
	# shellcheck disable=SC2016 # expanded by the inner shell
	timeout -k 5 120 unshare -m sh -c 'mount --bind /dev/null "/proc/$1/pagemap" &&
		exec "$0" rss --fork "$1" --format json' "$HG" "$FX_PID" \
		> nopagemap.json 2> hg.err || hg_rc=$?
	expect_rc 1 "heapgrab rss with pagemap unreadable"
	expect_one_error "warning: cannot read /proc/$FX_PID/pagemap" \
		"heapgrab rss with pagemap unreadable"
	"$PYTHON3" - nopagemap.json <<'PY' || fail_ "without pagemap, heapgrab guessed or lost something"
import json, sys
r = json.load(open(sys.argv[1]))["rss"]
ok = (not r["residency"]["pagemap"] and r["residency"]["pagemap_error"] and
      r["malloc"]["arenas_resident_bytes"] is None and r["malloc"]["unsplit_bytes"] > 0 and
      r["trim"]["releasable_bytes"] is None and
      all(a["resident_bytes"] is None for a in r["arenas"]))
print("pagemap unreadable: unknowns are null, malloc's mappings counted whole:", ok)
sys.exit(0 if ok else 1)
PY
	check_outside nopagemap.json "$FX_READY" --no-split --exact-total
else
	log_ "not root or no mount namespace: the unreadable-pagemap run is left out"
fi

HG_OUT=fork.json run_hg rss --fork "$FX_PID" --format json
expect_rc 0 "heapgrab rss --fork"
expect_empty hg.err "stderr of heapgrab rss --fork"
check_outside fork.json "$FX_READY" --exact-total
HG_OUT=copy.json run_hg rss "$FX_PID" --format json
expect_rc 0 "heapgrab rss"
expect_empty hg.err "stderr of heapgrab rss"
check_outside copy.json "$FX_READY"
HG_OUT=copy.txt run_hg rss "$FX_PID"
expect_rc 0 "heapgrab rss (text)"
grep -q '^ *thread stacks ' copy.txt || fail_ "the text output has no thread stacks line"

if [ -n "$can_nocap" ]; then
	# the copy mapped the zero page into the pool's untouched pages: read()
	# without page frame numbers counts them, and says so (mismatched
	# mappings); the ioctl tells them apart and stays exact
	nocap nocap-read2.json HEAPGRAB_PAGEMAP_READ=1
	set -- $(residency_ nocap-read2.json)
	[ "$3" -ge 1 ] || fail_ "read() without CAP_SYS_ADMIN after a copy: no mismatch reported"
	nocap nocap2.json
	set -- $(residency_ nocap2.json)
	if [ "$1" = scan ]; then
		[ "$3" -eq 0 ] && [ "$4" -gt 0 ] ||
			fail_ "PAGEMAP_SCAN after a copy: $3 mismatched mappings, $4 zero pages"
	fi
fi
check_untouched "$FX_PID"
finish_fixture

if [ -z "$JEMALLOC_SO" ] || [ ! -f "$JEMALLOC_SO" ]; then
	for d in /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib /usr/local/lib; do
		[ -f "$d/libjemalloc.so.2" ] && JEMALLOC_SO=$d/libjemalloc.so.2 && break
	done
fi
if [ -n "$JEMALLOC_SO" ] && [ -f "$JEMALLOC_SO" ]; then
	LD_PRELOAD=$JEMALLOC_SO
	export LD_PRELOAD
	start_fixture fx-rss-outside
	unset LD_PRELOAD
	wait_sigsuspend_ "$FX_PID"
	HG_OUT=jemalloc.json run_hg rss "$FX_PID" --format json
	expect_rc 1 "heapgrab rss on a jemalloc program"
	expect_one_error "warning: process $FX_PID: malloc is not glibc's .*jemalloc.*only the memory outside malloc" \
		"heapgrab rss on a jemalloc program"
	check_outside jemalloc.json "$FX_READY" --no-malloc --exact-total
	check_untouched "$FX_PID"
	finish_fixture
else
	log_ "libjemalloc.so.2 not installed: the run on a foreign malloc is left out"
fi
