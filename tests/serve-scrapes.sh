#!/bin/sh
# serve-scrapes.sh - 1,000 scrapes in a bounded loop: the rate limit
# holds, the target is unharmed, serve's memory stays flat.
#
# One curl process sends 1,000 requests over keep-alive, 100 a second
# (nine /metrics to one /debug/pprof/heap), to heapgrab serve
# --min-interval 1s on fx-grow: 10 to 20 s, in which serve takes about ten
# snapshots (each pauses the target, walks, types and is freed). Oracles:
#  - fx-grow's own record of the times it was stopped (an epoll_wait that
#    returns EINTR once per ptrace stop, fixtures/fx-grow.c): as many
#    snapshots as serve's heapgrab_snapshots_total, at most one per
#    second of the loop;
#  - every request answered 200;
#  - fx-grow's self-check afterwards (its items, canaries, mallinfo2);
#  - serve's VmRSS after 200 requests and after 1,000: the 800 between
#    add nothing but noise, which is up to a few MiB (seen: +1.5 MiB on
#    an idle machine, +6.3 MiB at load 30, where the snapshots fall
#    differently; 60 snapshots in a row hold flat within 0.3 MiB): at
#    most 10% + 8 MiB, so a leak of 10 KiB per request or 1 MiB per
#    snapshot still fails (with ASan, whose quarantine holds freed memory
#    by design, LeakSanitizer at exit checks instead: serve must exit 0);
#  - no snapshot once the requests stop;
#  - SIGTERM: exit 0.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
# shellcheck source-path=SCRIPTDIR source=serve-lib.sh
. "$srcdir/serve-lib.sh"
require_ptrace_
require_curl_

start_grow --initial 2000
start_serve -v --min-interval 1s "$FX_PID"

# scrape_cfg N: a curl config of N requests (every tenth the profile)
scrape_cfg() {
	awk -v n="$1" -v u="$SERVE_URL" 'BEGIN {
		for (i = 1; i <= n; i++) {
			p = i % 10 == 0 ? "/debug/pprof/heap" : "/metrics"
			printf "url = \"%s%s\"\noutput = \"/dev/null\"\n", u, p
		}
	}'
}
scrape_cfg 200 > first.cfg
scrape_cfg 800 > rest.cfg

now_ms() { date +%s%3N; }
t0=$(now_ms)
curl -s --rate 100/s --max-time 600 -w '%{http_code}\n' -K first.cfg > codes 2> curl.err ||
	fail_ "curl failed: $(cat curl.err)"
rss_a=$(rss_kib "$SERVE_PID")
curl -s --rate 100/s --max-time 600 -w '%{http_code}\n' -K rest.cfg >> codes 2>> curl.err ||
	fail_ "curl failed: $(cat curl.err)"
t1=$(now_ms)
rss_b=$(rss_kib "$SERVE_PID")
n=$(wc -l < codes)
ok=$(grep -c '^200$' codes)
[ "$n" -eq 1000 ] && [ "$ok" -eq 1000 ] ||
	fail_ "$ok of $n requests answered 200: $(sort codes | uniq -c | tr '\n' ' ')"

http_get /metrics final.txt > /dev/null
snaps=$(metric final.txt heapgrab_snapshots_total)
elapsed_ms=$((t1 - t0))
# starts are >= 1 s apart: at most elapsed / 1000 + 1 in the loop, plus
# the one the final scrape may have taken
max=$((elapsed_ms / 1000 + 2))
log_ "1000 requests in $elapsed_ms ms: $snaps snapshots (at most $max allowed); serve RSS $rss_a KiB after 200, $rss_b KiB after 1000"
[ "$snaps" -ge 2 ] || fail_ "only $snaps snapshot(s) in $elapsed_ms ms at --min-interval 1s"
[ "$snaps" -le "$max" ] || fail_ "$snaps snapshots in $elapsed_ms ms: more than one per second"
[ "$(metric final.txt heapgrab_snapshot_pause_seconds_count)" = "$snaps" ] ||
	fail_ "the pause histogram counts $(metric final.txt heapgrab_snapshot_pause_seconds_count) snapshots, not $snaps"
for r in gone denied busy error; do
	[ "$(metric final.txt heapgrab_snapshot_failures_total "reason=\"$r\"")" = 0 ] ||
		fail_ "snapshot failures ($r) during the loop"
done
[ "$(metric final.txt heapgrab_type_chunks 'type="struct grow_item"')" = "$(grow_value items)" ] ||
	fail_ "struct grow_item count is not the fixture's"

if ldd "$HG" 2> /dev/null | grep -q libasan; then
	log_ "ASan build: RSS not compared (its quarantine keeps freed memory); LeakSanitizer checks at exit"
else
	[ "$rss_b" -le $((rss_a + rss_a / 10 + 8192)) ] ||
		fail_ "serve's RSS grew from $rss_a KiB to $rss_b KiB over 800 requests"
fi

# No request, no snapshot: a spurious one (wanted by a request that an
# ongoing snapshot was about to satisfy) would come now and show in
# fx-grow's record below.
sleep 2.5
stop_serve
finish_fixture
stops=$(awk '$1 == "stops" { print $2 }' "$FX_OUT")
# shellcheck disable=SC2046 # two words: the groups and the smallest gap
set -- $(stop_groups "$FX_OUT")
log_ "fx-grow counted $stops stops: $1 snapshots, at least $2 ms apart"
[ "$1" = "$snaps" ] || {
	grep 'snapshot at' serve.err >&2
	awk '$1 == "stop" { printf "stop at %.3f\n", $2 / 1e9 }' "$FX_OUT" >&2
	fail_ "fx-grow was stopped in $1 snapshots, serve says $snaps"
}
# Serve starts a snapshot >= 1 s after the previous start; the stop comes
# after locating libc (files, a few ms, more under load), so two stops may
# be a little closer: allow 250 ms of that jitter.
[ "$2" -ge 750 ] || fail_ "two snapshots stopped fx-grow only $2 ms apart (--min-interval 1s)"
