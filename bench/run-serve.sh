#!/bin/bash
# shellcheck disable=SC2016  # sh -c scripts take their arguments as $0 $1 ...
# run-serve.sh [BUILD_DIR]: what `heapgrab serve` costs.
#
# Builds bench/bigheap.c (typed: structs linked from globals, so typing has
# work to do), starts it, starts `heapgrab serve --min-interval 100ms` on
# it, and measures:
#   first    the first scrape of /metrics (cold: libc's debug info is read
#            the first time), wall time
#   idle     from 1 s after that answer, serve's CPU time (utime + stime of every thread, in clock
#            ticks) and context switches over IDLE_S seconds with no
#            request: the goal is none measurable
#   scrape   RUNS scrapes of /metrics, each more than --min-interval after
#            the last, so each takes one snapshot: wall time (curl), serve's
#            CPU time, the pause the target measured itself (bigheap's
#            pause watch) and the pause serve reports
#            (heapgrab_snapshot_pause_seconds_sum)
#   pprof    /debug/pprof/heap right after a snapshot: the rendering alone
#   cached   100 scrapes within --min-interval of a second serve (the
#            answer from the cached census): wall time per scrape
#   1000     1,000 scrapes at 100 a second (nine /metrics to one
#            /debug/pprof/heap, --min-interval 1s, so about ten snapshots)
#            to that second serve: its VmRSS and VmHWM before and after
# and prints a table. It prints figures; it never fails because a goal was
# missed. Not part of make check. Needs root (or ptrace rights over the
# target) and curl.
#
# Environment: HEAPGRAB, OUT (as in run-attach.sh), RUNS=5,
#   BIGHEAP_ARGS (default "--mib 256 --chunks 1048576 --threads 2 --typed"),
#   IDLE_S=30, PRIO="nice -n -19" (prefix for bigheap, serve and curl).
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
BUILD_DIR=${1:-}
if [ -n "$BUILD_DIR" ]; then
	BUILD_DIR=$(cd "$BUILD_DIR" && pwd) || exit 2
	HEAPGRAB=${HEAPGRAB:-$BUILD_DIR/src/heapgrab}
	OUT=${OUT:-$BUILD_DIR/bench}
else
	HEAPGRAB=${HEAPGRAB:-$(command -v heapgrab || true)}
	OUT=${OUT:-/tmp/heapgrab-bench}
fi
RUNS=${RUNS:-5}
BIGHEAP_ARGS=${BIGHEAP_ARGS:---mib 256 --chunks 1048576 --threads 2 --typed}
IDLE_S=${IDLE_S:-30}
CC=${CC:-gcc}
PRIO=${PRIO:-}

die() { echo "run-serve.sh: $*" >&2; exit 2; }

[ -n "$HEAPGRAB" ] && [ -x "$HEAPGRAB" ] || die "no heapgrab binary (give BUILD_DIR or set HEAPGRAB)"
command -v curl > /dev/null || die "curl is missing (apt-get install curl)"

mkdir -p "$OUT" || exit 2
cd "$OUT" || exit 2
rm -f ready results.txt bigheap.log serve*.out serve*.err serve-figures.txt m*.txt

echo "== building bigheap into $OUT"
$CC -O2 -g -pthread -o bigheap "$HERE/bigheap.c" || die "cannot build bigheap"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" | tee serve-figures.txt

echo "== starting bigheap $BIGHEAP_ARGS"
# shellcheck disable=SC2086
$PRIO ./bigheap $BIGHEAP_ARGS --ready ready --results results.txt 2> bigheap.log &
BPID=$!
SPIDS=
trap 'kill -TERM $BPID $SPIDS 2> /dev/null; wait 2> /dev/null' EXIT
for _ in $(seq 1200); do
	[ -s ready ] && break
	kill -0 $BPID 2> /dev/null || die "bigheap exited: $(cat bigheap.log)"
	sleep 0.1
done
[ -s ready ] || die "bigheap not ready after 120 s"
PID=$(awk '$1 == "ready" { print $2 }' ready)
grep -E '^(VmRSS|Threads)' /proc/"$PID"/status

SEQ=0
# gap: the target's longest gap (us) since the last call; sets GAP
gap() {
	SEQ=$((SEQ + 1))
	kill -USR1 "$PID" || die "target $PID is gone"
	for _ in $(seq 500); do
		GAP=$(awk -v s=$SEQ '$1 == s { print $2 }' results.txt)
		[ -n "$GAP" ] && return
		sleep 0.01
	done
	die "target did not answer SIGUSR1 #$SEQ"
}
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
HZ=$(getconf CLK_TCK)
# cpu_ticks SPID: utime + stime of the process (all its threads)
cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
# ctxsw SPID: context switches of all its threads
ctxsw() {
	cat /proc/"$1"/task/*/status 2> /dev/null |
		awk '/^(non)?voluntary_ctxt_switches:/ { s += $2 } END { print s + 0 }'
}
# start_serve NAME ARGS: sets SURL, SPID
start_serve() {
	local name=$1
	shift
	$PRIO "$HEAPGRAB" serve -v --listen 127.0.0.1:0 "$@" "$PID" > "$name.out" 2> "$name.err" &
	SPID=$!
	SPIDS="$SPIDS $SPID"
	for _ in $(seq 200); do
		SURL=$(sed -n 's|^heapgrab serve: listening on \(http://[0-9.:]*\)/$|\1|p' "$name.out")
		[ -n "$SURL" ] && return
		sleep 0.05
	done
	die "serve did not start: $(cat "$name.err")"
}
metric() { awk -v n="$2" 'index($0, n "{") == 1 { print $NF; exit }' "$1"; }
fig() { printf '%-44s %s\n' "$1" "$2" | tee -a serve-figures.txt; }

start_serve serve1 --min-interval 100ms
t0=$(now_ms)
$PRIO curl -s -o m0.txt "$SURL/metrics" || die "first scrape failed"
fig "first scrape (cold), wall" "$(($(now_ms) - t0)) ms"
fig "  its snapshot took (serve's figure)" "$(metric m0.txt heapgrab_snapshot_duration_seconds) s"

echo "== idle: ${IDLE_S} s with no request"
sleep 1
c0=$(cpu_ticks "$SPID")
x0=$(ctxsw "$SPID")
n0=$(grep -c 'snapshot at' serve1.err)
sleep "$IDLE_S"
c1=$(cpu_ticks "$SPID")
x1=$(ctxsw "$SPID")
n1=$(grep -c 'snapshot at' serve1.err)
fig "idle CPU over ${IDLE_S} s" "$(( (c1 - c0) * 1000 / HZ )) ms ($((c1 - c0)) ticks of $((1000 / HZ)) ms)"
fig "idle context switches over ${IDLE_S} s" "$((x1 - x0))"
fig "snapshots during the idle phase" "$((n1 - n0))"

echo "== $RUNS scrapes, one snapshot each"
p_prev=$(metric m0.txt heapgrab_snapshot_pause_seconds_sum)
for i in $(seq "$RUNS"); do
	sleep 0.2
	gap
	c0=$(cpu_ticks "$SPID")
	t0=$(now_ms)
	$PRIO curl -s -o "m$i.txt" "$SURL/metrics" || die "scrape $i failed"
	t1=$(now_ms)
	c1=$(cpu_ticks "$SPID")
	gap
	p=$(metric "m$i.txt" heapgrab_snapshot_pause_seconds_sum)
	fig "scrape $i: wall / serve CPU / target's gap / serve's pause" \
		"$((t1 - t0)) ms / $(( (c1 - c0) * 1000 / HZ )) ms / $((GAP / 1000)) ms / $(awk -v a="$p" -v b="$p_prev" 'BEGIN { printf "%.1f", (a - b) * 1000 }') ms"
	p_prev=$p
done
t0=$(now_ms)
$PRIO curl -s -o heap.pb.gz "$SURL/debug/pprof/heap" || die "pprof failed"
fig "/debug/pprof/heap (snapshot + profile), wall" "$(($(now_ms) - t0)) ms, $(stat -c %s heap.pb.gz) bytes"
kill -TERM "$SPID"
wait "$SPID"
fig "serve exit status after SIGTERM" "$?"

echo "== a second serve: cached scrapes, 1,000 scrapes"
start_serve serve2 --min-interval 1s
$PRIO curl -s -o /dev/null "$SURL/metrics"
awk -v u="$SURL" 'BEGIN { for (i = 0; i < 100; i++) printf "url = \"%s/metrics\"\noutput = \"/dev/null\"\n", u }' > cached.cfg
t0=$(now_ms)
$PRIO curl -s -K cached.cfg -w '%{time_total}\n' > cached.times
t1=$(now_ms)
fig "cached scrape (within --min-interval), wall" "$(sort -n cached.times | awk '{ a[NR] = $1 } END { printf "median %.1f ms, max %.1f ms", a[int((NR + 1) / 2)] * 1000, a[NR] * 1000 }')"
rss0=$(awk '$1 == "VmRSS:" { print $2 }' /proc/"$SPID"/status)
awk -v u="$SURL" 'BEGIN { for (i = 1; i <= 1000; i++) printf "url = \"%s%s\"\noutput = \"/dev/null\"\n", u, i % 10 ? "/metrics" : "/debug/pprof/heap" }' > k.cfg
t0=$(now_ms)
$PRIO curl -s --rate 100/s -K k.cfg -w '%{http_code}\n' > k.codes
t1=$(now_ms)
curl -s -o mk.txt "$SURL/metrics"
rss1=$(awk '$1 == "VmRSS:" { print $2 }' /proc/"$SPID"/status)
hwm=$(awk '$1 == "VmHWM:" { print $2 }' /proc/"$SPID"/status)
fig "1,000 scrapes: wall, answered 200" "$((t1 - t0)) ms, $(grep -c '^200$' k.codes)"
fig "  snapshots taken meanwhile" "$(metric mk.txt heapgrab_snapshots_total)"
fig "  serve VmRSS before / after, VmHWM" "$rss0 KiB / $rss1 KiB, $hwm KiB"
kill -TERM "$SPID"
wait "$SPID"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a serve-figures.txt
echo "== figures in $OUT/serve-figures.txt"
