#!/bin/sh
# serve-http.sh - heapgrab serve over HTTP: what it answers, what it
# refuses, how it stops.
#
# Oracles: fx-grow's own bookkeeping (its items and their chunk bytes) and
# its mallinfo2() line; heapgrab attach's JSON census (the profile
# /debug/pprof/heap serves must be the same, tests/check-formats.py); the
# fixture's count of its own stops (see fixtures/fx-grow.c); the kernel's
# TracerPid.
#  - /metrics: every heap figure against mallinfo2 and the fixture's items;
#    the text format, and OpenMetrics when the Accept header asks for it;
#    ten concurrent first scrapes, and every request after them within
#    --min-interval, share one snapshot;
#  - /debug/pprof/heap, /, /debug/pprof/ and HEAD;
#  - bad requests get an error status and harm nothing: unknown paths and
#    parameters, other methods, a body, huge headers and URLs, a PID that is
#    not a target, a slow client (closed after the idle timeout while
#    others are served), more connections than the limit;
#  - usage errors and a port in use;
#  - a target that exits is up 0 (a failure "gone", its profile 503); a
#    --pidfile target follows its file to the next process, and refuses a
#    file others may write; --fork=auto serves the same census;
#  - at most 8 delta profiles wait at a time;
#  - SIGTERM, also in the middle of a snapshot or with requests waiting:
#    exit 0, waiting requests 503, target untraced;
#    SIGKILL in the middle of a snapshot: the kernel lets the target go;
#    then the fixture's own checks pass.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
# shellcheck source-path=SCRIPTDIR source=serve-lib.sh
. "$srcdir/serve-lib.sh"
require_ptrace_
require_curl_

# ---- usage errors -----------------------------------------------------------
run_hg serve
expect_rc 64 "serve without a target"
run_hg serve --listen nowhere 1
expect_rc 64 "serve --listen nowhere"
run_hg serve --listen localhost:80 1
expect_rc 64 "serve --listen with a host name"
run_hg serve --min-interval 1ms 1
expect_rc 64 "serve --min-interval 1ms"
run_hg serve --top 0 1
expect_rc 64 "serve --top 0"
run_hg serve 1 1
expect_rc 64 "serve 1 1"
run_hg serve 2147483647
expect_rc 2 "serve of a process that does not exist"
expect_one_error 'process 2147483647.*no such process' "serve of a missing process"

start_grow --initial 100
items=$(grow_value items)
item_bytes=$(grow_value item_bytes)
uordblks=$(awk '$1 == "mallinfo2" { for (i = 2; i <= NF; i++) if ($i ~ /^uordblks=/) { sub(/.*=/, "", $i); print $i } }' "$FX_READY")
arena=$(awk '$1 == "mallinfo2" { for (i = 2; i <= NF; i++) if ($i ~ /^arena=/) { sub(/.*=/, "", $i); print $i } }' "$FX_READY")
keepcost=$(awk '$1 == "mallinfo2" { for (i = 2; i <= NF; i++) if ($i ~ /^keepcost=/) { sub(/.*=/, "", $i); print $i } }' "$FX_READY")

# A port in use: one line, status 2.
start_serve --min-interval 1h "$FX_PID"
port=${SERVE_URL##*:}
run_hg serve --listen "127.0.0.1:$port" "$FX_PID"
expect_rc 2 "serve on a port in use"
expect_one_error "cannot listen on 127.0.0.1:$port" "serve on a port in use"

# ---- /metrics -----------------------------------------------------------------
# 10 concurrent first scrapes share one snapshot (counted below)
cpids=
for i in 1 2 3 4 5 6 7 8 9 10; do
	curl -s -o "c$i.txt" -w '%{http_code}' --max-time 60 "$SERVE_URL/metrics" > "c$i.code" &
	cpids="$cpids $!"
done
for p in $cpids; do
	wait "$p" || fail_ "a concurrent scrape failed"
done
[ "$(cat c*.code)" = 200200200200200200200200200200 ] ||
	fail_ "concurrent scrapes: statuses $(cat c*.code)"
st=$(http_get /metrics m1.txt -D m1.hdr)
[ "$st" = 200 ] || fail_ "/metrics: status $st"
grep -qi '^content-type: text/plain; version=0.0.4; charset=utf-8' m1.hdr ||
	fail_ "/metrics: not the text format: $(cat m1.hdr)"
sel="target=\"$FX_PID\",pid=\"$FX_PID\""
want_metric() {
	wm_got_=$(metric m1.txt "$1" "${3:-}")
	[ "$wm_got_" = "$2" ] || fail_ "/metrics: $1{${3:-}} is '$wm_got_', want $2"
}
want_metric heapgrab_up 1 "$sel"
want_metric heapgrab_type_chunks "$items" 'type="struct grow_item"'
want_metric heapgrab_type_bytes "$item_bytes" 'type="struct grow_item"'
inuse=$(metric m1.txt heapgrab_heap_inuse_bytes)
tcache=$(metric m1.txt heapgrab_heap_free_bytes 'kind="tcache"')
overhead=$(metric m1.txt heapgrab_heap_overhead_bytes)
[ $((inuse + tcache + overhead)) -eq "$uordblks" ] ||
	fail_ "/metrics: in use $inuse + tcache $tcache + overhead $overhead != mallinfo2 uordblks $uordblks"
want_metric heapgrab_heap_arena_system_bytes "$arena"
want_metric heapgrab_heap_free_bytes "$keepcost" 'kind="top"'
# the type series add up to the live chunks
live=$(($(metric m1.txt heapgrab_heap_inuse_chunks) + $(metric m1.txt heapgrab_heap_mmapped_chunks)))
tsum=$(awk 'index($0, "heapgrab_type_chunks{") == 1 { s += $NF } END { print s + 0 }' m1.txt)
[ "$tsum" -eq "$live" ] || fail_ "/metrics: type series hold $tsum chunks, live chunks are $live"
want_metric heapgrab_snapshots_total 1
want_metric heapgrab_snapshot_pause_seconds_count 1
psum=$(metric m1.txt heapgrab_snapshot_pause_seconds_sum)
want_metric heapgrab_snapshot_pause_last_hour_seconds "$psum"
want_metric heapgrab_snapshot_pause_seconds_bucket 1 'le="+Inf"'
want_metric heapgrab_snapshot_failures_total 0 'reason="gone"'

# OpenMetrics when asked (Prometheus' own Accept header)
st=$(http_get /metrics m2.txt -D m2.hdr -H 'Accept: application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1')
[ "$st" = 200 ] || fail_ "/metrics (OpenMetrics): status $st"
grep -qi '^content-type: application/openmetrics-text; version=1.0.0; charset=utf-8' m2.hdr ||
	fail_ "/metrics: no OpenMetrics for an OpenMetrics Accept header: $(cat m2.hdr)"
[ "$(tail -n 1 m2.txt)" = "# EOF" ] || fail_ "OpenMetrics: no '# EOF' at the end"
grep -q '^# TYPE heapgrab_snapshots counter$' m2.txt || fail_ "OpenMetrics: counter family not named without _total"
grep -q '^# UNIT heapgrab_heap_inuse_bytes bytes$' m2.txt || fail_ "OpenMetrics: no UNIT line"
# the same samples in both formats
grep -v '^#' m1.txt | sort > s1
grep -v '^#' m2.txt | sort > s2
cmp -s s1 s2 || { diff s1 s2 >&2; fail_ "the text format and OpenMetrics hold different samples"; }
# text/plain preferred over OpenMetrics: text
st=$(http_get /metrics m3.txt -D m3.hdr -H 'Accept: text/plain;q=0.9, application/openmetrics-text;q=0.5')
grep -qi '^content-type: text/plain' m3.hdr || fail_ "/metrics: OpenMetrics although text/plain had the higher q"

# ---- the other pages ------------------------------------------------------------
st=$(http_get /debug/pprof/heap heap.pb.gz -D heap.hdr)
[ "$st" = 200 ] || fail_ "/debug/pprof/heap: status $st"
[ "$(od -An -N2 -tx1 heap.pb.gz | tr -d ' ')" = 1f8b ] || fail_ "/debug/pprof/heap: not gzip"
grep -qi '^content-type: application/octet-stream' heap.hdr || fail_ "/debug/pprof/heap: content type"
HG_OUT=census.json run_hg attach "$FX_PID" --format json
expect_rc 0 "attach --format json"
"$PYTHON3" "$srcdir/check-formats.py" census census.json pprof heap.pb.gz > cf.log ||
	{ cat cf.log >&2; fail_ "/debug/pprof/heap is not the census heapgrab attach prints"; }
st=$(http_get "/debug/pprof/heap?pid=$FX_PID" heap2.pb.gz)
[ "$st" = 200 ] || fail_ "/debug/pprof/heap?pid=$FX_PID: status $st"
cmp -s heap.pb.gz heap2.pb.gz || fail_ "?pid=N served another profile than the only target's"
st=$(http_get / root.html)
[ "$st" = 200 ] && grep -q "heap?pid=$FX_PID" root.html || fail_ "/: status $st or no link to the target"
st=$(http_get /debug/pprof/ index.html)
[ "$st" = 200 ] && grep -q "heap?pid=$FX_PID" index.html || fail_ "/debug/pprof/: status $st or no heap link"
st=$(curl -s -o /dev/null -w '%{http_code}' -I "$SERVE_URL/metrics")
[ "$st" = 200 ] || fail_ "HEAD /metrics: status $st"
# everything above came from the one snapshot
http_get /metrics m4.txt > /dev/null
want_snap=1
[ "$(metric m4.txt heapgrab_snapshots_total)" = "$want_snap" ] ||
	fail_ "requests within --min-interval took $(metric m4.txt heapgrab_snapshots_total) snapshots, want 1"

# ---- bad requests -------------------------------------------------------------------
expect_status() {
	es_want_=$1
	shift
	es_got_=$(curl -s -o bad.out -w '%{http_code}' --max-time 30 "$@" || :)
	# shellcheck disable=SC2254 # the wanted status is a pattern (4[0-9][0-9])
	case $es_got_ in
	$es_want_) log_ "$(printf '%.100s' "$*") -> $es_got_" ;;
	*) fail_ "$(printf '%.100s' "$*"): status $es_got_, want $es_want_ ($(head -c 200 bad.out))" ;;
	esac
}
expect_status 404 "$SERVE_URL/nope"
expect_status 404 --path-as-is "$SERVE_URL/debug/pprof/../../etc/passwd"
expect_status 404 "$SERVE_URL/debug/pprof/profile"
expect_status 405 -X POST -d x "$SERVE_URL/metrics"
expect_status 405 -X DELETE "$SERVE_URL/metrics"
expect_status 400 "$SERVE_URL/metrics?x=1"
expect_status 400 "$SERVE_URL/metrics?pid=$FX_PID"
expect_status 404 "$SERVE_URL/debug/pprof/heap?pid=1"
expect_status 404 "$SERVE_URL/debug/pprof/heap?pid=abc"
expect_status 400 "$SERVE_URL/debug/pprof/heap?pid=$FX_PID&pid=$FX_PID"
expect_status 400 "$SERVE_URL/debug/pprof/heap?seconds=0"
expect_status 400 "$SERVE_URL/debug/pprof/heap?seconds=3601"
expect_status 400 "$SERVE_URL/debug/pprof/heap?seconds=-1"
expect_status 400 "$SERVE_URL/debug/pprof/heap?debug=1"
expect_status 400 "$SERVE_URL/debug/pprof/heap?file=/etc/passwd"
big=$(head -c 30000 /dev/zero | tr '\0' a)
expect_status '4[0-9][0-9]' -H "X-Big: $big" "$SERVE_URL/metrics"
expect_status '4[0-9][0-9]' "$SERVE_URL/$big"
st=$(http_get /metrics m5.txt)
[ "$st" = 200 ] || fail_ "/metrics after the bad requests: status $st"

# A slow client (half a request line) is closed after the idle timeout,
# and meanwhile others are served.
"$PYTHON3" - "${SERVE_URL#http://}" > slow.out 2>&1 <<'EOF' &
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)))
s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ")
t0 = time.time()
s.settimeout(40)
try:
    data = s.recv(4096)
except OSError as e:
    data = None
print("closed after %.1f s: %r" % (time.time() - t0, data))
EOF
slow_pid=$!
bg_all_="$bg_all_ $slow_pid"
sleep 1
t0=$(date +%s)
st=$(http_get /metrics m6.txt)
[ "$st" = 200 ] || fail_ "/metrics while a slow client waits: status $st"
[ $(($(date +%s) - t0)) -le 5 ] || fail_ "/metrics took more than 5 s while a slow client waits"
wait_timeout_ "$slow_pid" 40 || fail_ "the slow client was not closed within 40 s"
log_ "slow client: $(cat slow.out)"
grep -Eq "^closed after ([0-9]|1[0-9])\.[0-9] s: b''" slow.out ||
	fail_ "the slow client was not closed by the idle timeout: $(cat slow.out)"

# More connections than the limit: the extra ones are closed, the server
# goes on, and answers once they are gone.
rss0=$(rss_kib "$SERVE_PID")
"$PYTHON3" - "${SERVE_URL#http://}" > many.out 2>&1 <<'EOF'
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
socks = []
for i in range(300):
    try:
        socks.append(socket.create_connection((host, int(port)), timeout=5))
    except OSError as e:
        print("connection %d: %s" % (i, e))
        break
for s in socks:
    try:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
    except OSError:
        pass
time.sleep(2)
closed = 0
for s in socks:
    s.settimeout(0.05)
    try:
        if s.recv(1) == b"":
            closed += 1
    except socket.timeout:
        pass
    except OSError:
        closed += 1
print("opened %d, closed by the server %d" % (len(socks), closed))
EOF
log_ "many connections: $(tail -n 1 many.out)"
kill -0 "$SERVE_PID" 2> /dev/null || fail_ "serve died under many connections"
# serve notices the closed connections as it gets to them: give it 5 s
for _ in $(seq 1 25); do
	st=$(http_get /metrics m7.txt)
	[ "$st" = 200 ] && break
	sleep 0.2
done
[ "$st" = 200 ] || fail_ "/metrics after many connections: status $st"
rss1=$(rss_kib "$SERVE_PID")
log_ "serve RSS $rss0 KiB before, $rss1 KiB after 300 connections"
[ "$rss1" -le $((rss0 + 16384)) ] || fail_ "serve's RSS grew from $rss0 to $rss1 KiB"
check_untouched "$FX_PID"

# Delta profiles wait for their snapshots (here: an hour, --min-interval
# 1h); at most 8 at a time, the 9th is refused at once; SIGTERM answers
# the waiting ones 503.
dpids=
for i in 1 2 3 4 5 6 7 8; do
	curl -s -o "delta$i.out" -w '%{http_code}' --max-time 60 \
		"$SERVE_URL/debug/pprof/heap?seconds=1" > "delta$i.code" 2> /dev/null &
	dpids="$dpids $!"
done
bg_all_="$bg_all_ $dpids"
sleep 1
expect_status 503 "$SERVE_URL/debug/pprof/heap?seconds=1"
grep -q 'in progress already' bad.out || fail_ "the 9th delta: $(cat bad.out)"
stop_serve
for p in $dpids; do
	wait_timeout_ "$p" 20 || fail_ "a waiting delta request did not end after SIGTERM"
done
log_ "waiting deltas after SIGTERM: $(cat delta*.code)"
for i in 1 2 3 4 5 6 7 8; do
	case $(cat "delta$i.code") in
	503|000) ;;
	*) fail_ "a delta waiting at SIGTERM got status $(cat "delta$i.code")" ;;
	esac
done
check_untouched "$FX_PID"

# ---- stopping in the middle of a snapshot ---------------------------------------------
# kill_mid SIG: a new serve, scrapes, SIG to serve while the target is
# traced (hg-tracer kill-when-traced). Sets kill_tp to the TracerPid seen
# at the kill (0: the snapshot was over).
kill_mid() {
	start_serve --min-interval 100ms "$FX_PID"
	# scrape until serve is gone (bounded): a snapshot every ~100 ms, so
	# hg-tracer sees one even when it starts after the first
	sh -c 'for i in $(seq 1 300); do
		curl -s -o /dev/null --max-time 10 "$0/metrics" || exit 0
	done' "$SERVE_URL" > /dev/null 2>&1 &
	km_curl_=$!
	bg_all_="$bg_all_ $km_curl_"
	km_tp_=$("$HG_TESTS_BUILDDIR/hg-tracer" kill-when-traced "$FX_PID" 20000 "$1" \
		"$SERVE_PID" 0) || km_tp_=
	km_rc_=0
	wait_timeout_ "$SERVE_PID" 30 || km_rc_=$?
	wait "$km_curl_" 2> /dev/null || :
	log_ "signal $1 to serve with the target's TracerPid ${km_tp_:-?}: status $km_rc_"
	[ "$km_rc_" -ne 124 ] || fail_ "serve did not end within 30 s of signal $1"
	case $1 in
	15) [ "$km_rc_" -eq 0 ] || { cat serve.err >&2; fail_ "serve exited $km_rc_ after SIGTERM mid-snapshot"; } ;;
	9) [ "$km_rc_" -eq 137 ] || fail_ "serve exited $km_rc_ after SIGKILL" ;;
	esac
	check_untouched "$FX_PID"
	kill_tp=${km_tp_:-0}
}
kill_runs=0
for sig in 15 9; do
	hits=0
	for _ in 1 2 3 4 5 6 7 8; do
		kill_mid "$sig"
		kill_runs=$((kill_runs + 1))
		[ "$kill_tp" = 0 ] || hits=$((hits + 1))
		[ "$hits" -ge 1 ] && break
	done
	[ "$hits" -ge 1 ] || fail_ "signal $sig never arrived while serve held the target"
	log_ "signal $sig arrived mid-snapshot $hits time(s); the target was let go each time"
done

# ---- a target that exits, a pidfile that follows restarts ----------------------------
fx_a=$FX_PID
fx_a_out=$FX_OUT
start_grow --initial 10
fx_b=$FX_PID
echo "$fx_b" > pf
chmod 644 pf
start_serve --min-interval 100ms --pidfile "$(pwd)/pf" "$fx_a"
pfsel="target=\"$(pwd)/pf\""
http_get /metrics t1.txt > /dev/null
[ "$(metric t1.txt heapgrab_up "target=\"$fx_a\",pid=\"$fx_a\"")" = 1 ] ||
	fail_ "two targets: the PID target is not up"
[ "$(metric t1.txt heapgrab_up "$pfsel,pid=\"$fx_b\"")" = 1 ] ||
	fail_ "two targets: the pidfile target is not up as process $fx_b: $(grep heapgrab_up t1.txt)"
expect_status 400 "$SERVE_URL/debug/pprof/heap"
expect_status 200 "$SERVE_URL/debug/pprof/heap?pid=$fx_b"
# the PID target exits: up 0, a failure "gone", its profile 503
finish_fixture "$fx_a"
sleep 0.2
http_get /metrics t2.txt > /dev/null
[ "$(metric t2.txt heapgrab_up "target=\"$fx_a\"")" = 0 ] ||
	fail_ "a target that exited is not up 0: $(grep heapgrab_up t2.txt)"
[ "$(metric t2.txt heapgrab_snapshot_failures_total "target=\"$fx_a\",pid=\"$fx_a\",reason=\"gone\"")" -ge 1 ] ||
	fail_ "a target that exited has no failure 'gone'"
! grep -q "heapgrab_heap_inuse_bytes{target=\"$fx_a\"" t2.txt ||
	fail_ "a target that exited still has heap series"
expect_status 503 "$SERVE_URL/debug/pprof/heap?pid=$fx_a"
grep -q 'has exited' bad.out || fail_ "503 without the reason: $(cat bad.out)"
# the pidfile's process is replaced: the same target, the new pid
finish_fixture "$fx_b"
start_grow --initial 20
fx_c=$FX_PID
echo "$fx_c" > pf.new
chmod 644 pf.new
mv pf.new pf
sleep 0.2
http_get /metrics t3.txt > /dev/null
[ "$(metric t3.txt heapgrab_up "$pfsel,pid=\"$fx_c\"")" = 1 ] ||
	fail_ "the pidfile target did not follow to process $fx_c: $(grep heapgrab_up t3.txt)"
[ "$(metric t3.txt heapgrab_type_chunks "$pfsel,pid=\"$fx_c\",type=\"struct grow_item\"")" = 20 ] ||
	fail_ "the pidfile target's figures are not the new process's"
expect_status 404 "$SERVE_URL/debug/pprof/heap?pid=$fx_b"
# a pidfile others may write is not trusted
chmod 666 pf
sleep 0.2
http_get /metrics t4.txt > /dev/null
[ "$(metric t4.txt heapgrab_up "$pfsel")" = 0 ] ||
	fail_ "a world-writable pidfile was trusted: $(grep heapgrab_up t4.txt)"
[ "$(metric t4.txt heapgrab_snapshot_failures_total "$pfsel,pid=\"$fx_c\",reason=\"error\"")" -ge 1 ] ||
	fail_ "a world-writable pidfile is not a failure 'error'"
grep -q "not trusted" serve.err || fail_ "no warning about the pidfile: $(cat serve.err)"
stop_serve

# ---- a fork snapshot (--fork=auto: a copy where the target cannot fork) ----------
start_serve --fork=auto --min-interval 1h "$fx_c"
http_get /metrics t5.txt > /dev/null
[ "$(metric t5.txt heapgrab_type_chunks 'type="struct grow_item"')" = 20 ] ||
	fail_ "--fork=auto: struct grow_item is not 20: $(grep grow_item t5.txt)"
check_untouched "$fx_c"
stop_serve
finish_fixture "$fx_c"

FX_OUT=$fx_a_out
# its stops: serve's first snapshot, attach, and at least one per kill_mid
# run (each waited until the target was traced; tests/serve-scrapes.sh
# holds the count to serve's exactly)
# shellcheck disable=SC2046 # two words: the groups and the smallest gap
set -- $(stop_groups "$FX_OUT")
[ "$1" -ge $((2 + kill_runs)) ] ||
	fail_ "fx-grow was stopped $1 times, want at least $((2 + kill_runs))"
