#!/bin/sh
# serve-rss.sh - heapgrab serve's resident memory families (heapgrab_rss_*)
# against oracles heapgrab does not compute.
#
# fx-rss --mib 16 --threads 2: a fragmented heap, 90% freed but resident,
# two mmapped chunks whose resident bytes it measures itself (mincore).
# One snapshot (--min-interval 1h), scraped as text and as OpenMetrics:
#  - the 13 heapgrab_rss_part_bytes add up to heapgrab_rss_bytes exactly;
#    releasable + stranded add up to the free parts' resident bytes;
#    each arena part is at most the chunk bytes of its heap family;
#  - heapgrab_rss_bytes and heapgrab_rss_kernel_bytes lie between the
#    fixture's smaps_rollup Rss read before and after the scrape, within
#    a page per mapping (the bound the heapgrab rss tests use);
#  - part="mmapped" is the fixture's own mincore() count, exactly;
#  - both formats carry the same rss samples;
#  - heapgrab_rss_releasable_bytes is what `heapgrab trim --dry-run`
#    predicts (the fixture is idle: the same heap), and then `heapgrab
#    trim` gives back that much within 2% (statm in the stop; not where
#    heapgrab cannot inject: under a seccomp filter it cannot read, as in
#    a container, that one check is left out and the log says why);
#  - the fixture's own checks pass afterwards.
# Cost: about 20 MiB of fixture, 4 snapshots of it (serve, dry run, trim
# with its own); 1 to 2 s on a quiet 2-CPU machine.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
# shellcheck source-path=SCRIPTDIR source=serve-lib.sh
. "$srcdir/serve-lib.sh"
# shellcheck source-path=SCRIPTDIR source=inject-lib.sh
. "$srcdir/inject-lib.sh"
require_ptrace_
require_curl_

rollup_rss() {
	awk '$1 == "Rss:" { print $2 * 1024 }' "/proc/$1/smaps_rollup"
}

start_fixture fx-rss --mib 16 --threads 2
# the ready file is written a moment before the fixture sleeps in
# rt_sigsuspend (x86_64 syscall 130): wait for it, so that it is idle
for _ in $(seq 1 200); do
	[ "$(cut -d' ' -f1 "/proc/$FX_PID/syscall" 2> /dev/null)" = 130 ] && break
	sleep 0.05
done
maps=$(wc -l < "/proc/$FX_PID/maps")
tol=$((4096 * maps))
mmapped_resident=$(awk '$1 == "mmapped_resident" { print $2 }' "$FX_READY")
[ -n "$mmapped_resident" ] || framework_failure_ "fx-rss wrote no mmapped_resident note"

start_serve --min-interval 1h "$FX_PID"
before=$(rollup_rss "$FX_PID")
st=$(http_get /metrics m.txt)
after=$(rollup_rss "$FX_PID")
[ "$st" = 200 ] || fail_ "GET /metrics: status $st"
st=$(http_get /metrics m.om -H 'Accept: application/openmetrics-text; version=1.0.0')
[ "$st" = 200 ] || fail_ "GET /metrics (OpenMetrics): status $st"
stop_serve
check_untouched "$FX_PID"
grep '^heapgrab_rss_' m.txt >&2

v() { metric m.txt "$@"; }
total=$(v heapgrab_rss_bytes)
[ -n "$total" ] || fail_ "no heapgrab_rss_bytes"
nparts=$(grep -c '^heapgrab_rss_part_bytes{' m.txt)
[ "$nparts" = 13 ] || fail_ "$nparts heapgrab_rss_part_bytes series, want 13"
sum=$(awk '/^heapgrab_rss_part_bytes\{/ { s += $NF } END { printf "%.0f\n", s }' m.txt)
[ "$sum" = "$total" ] || fail_ "the parts add up to $sum, heapgrab_rss_bytes is $total"
log_ "13 parts add up to heapgrab_rss_bytes $total"

free=0
for k in tcache fastbin bin top; do
	p=$(v heapgrab_rss_part_bytes "part=\"$k\"")
	c=$(v heapgrab_heap_free_bytes "kind=\"$k\"")
	[ "$p" -le "$c" ] || fail_ "resident $k bytes $p above its chunk bytes $c"
	free=$((free + p))
done
p=$(v heapgrab_rss_part_bytes 'part="in_use"')
c=$(v heapgrab_heap_inuse_bytes)
[ "$p" -le "$c" ] || fail_ "resident in_use bytes $p above its chunk bytes $c"
releasable=$(v heapgrab_rss_releasable_bytes)
stranded=$(awk '/^heapgrab_rss_stranded_bytes\{/ { s += $NF } END { printf "%.0f\n", s }' m.txt)
[ $((releasable + stranded)) = "$free" ] ||
	fail_ "releasable $releasable + stranded $stranded != the free parts' $free"
[ "$releasable" -gt $((8 * 1024 * 1024)) ] ||
	fail_ "releasable $releasable: most of the 14 MiB freed should be"
log_ "releasable $releasable + stranded $stranded = free resident $free"

lo=$before hi=$after
[ "$lo" -le "$hi" ] || { lo=$after; hi=$before; }
for name in heapgrab_rss_bytes heapgrab_rss_kernel_bytes; do
	x=$(v "$name")
	[ -n "$x" ] || fail_ "no $name"
	if [ "$x" -lt $((lo - tol)) ] || [ "$x" -gt $((hi + tol)) ]; then
		fail_ "$name $x outside the fixture's smaps_rollup Rss $before..$after ± $tol ($maps mappings)"
	fi
	log_ "$name $x: smaps_rollup Rss $before before, $after after (± $tol)"
done
p=$(v heapgrab_rss_part_bytes 'part="mmapped"')
[ "$p" = "$mmapped_resident" ] ||
	fail_ "part mmapped $p, the fixture's mincore() says $mmapped_resident"

grep '^heapgrab_rss_' m.txt > rss.txt
grep '^heapgrab_rss_' m.om > rss.om
cmp rss.txt rss.om > /dev/null || {
	diff rss.txt rss.om >&2
	fail_ "the text and OpenMetrics scrapes of one snapshot differ in their rss samples"
}
grep -q '^# UNIT heapgrab_rss_part_bytes bytes$' m.om ||
	fail_ "OpenMetrics: no UNIT line for heapgrab_rss_part_bytes"

HG_OUT=dry.json run_hg trim --dry-run "$FX_PID" --format json
expect_rc 0 "heapgrab trim --dry-run"
predicted=$("$PYTHON3" -c 'import json, sys; print(json.load(open(sys.argv[1]))["trim"]["predicted_bytes"])' dry.json)
[ "$predicted" = "$releasable" ] ||
	fail_ "heapgrab_rss_releasable_bytes $releasable, trim --dry-run predicts $predicted"
sm=$(proc_field_ self Seccomp)
why=
[ -z "$sm" ] || [ "$sm" = 0 ] || why=$(seccomp_unreadable_)
if [ -n "$why" ]; then
	log_ "releasable $releasable = trim --dry-run; no real trim: heapgrab cannot inject here ($why)"
else
	HG_OUT=trim.json run_hg trim "$FX_PID" --format json
	expect_rc 0 "heapgrab trim"
	released=$("$PYTHON3" -c 'import json, sys; print(json.load(open(sys.argv[1]))["trim"]["released_bytes"])' trim.json)
	d=$((released - releasable))
	[ "${d#-}" -le $((releasable / 50)) ] ||
		fail_ "heapgrab trim gave back $released bytes, the metric predicted $releasable (more than 2% off)"
	log_ "releasable $releasable = trim --dry-run; heapgrab trim gave back $released"
fi
finish_fixture
