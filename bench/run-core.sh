#!/bin/bash
# run-core.sh [BUILD_DIR]: `heapgrab core` on cores of a ~1 GiB, ~4M-chunk
# heap, next to the same census taken live.
#
# Builds bench/bigheap.c and starts it with core dumps enabled, then:
#   live   `heapgrab attach --format json PID`: wall time, peak RSS
#   gcore  gdb's gcore of the same process; `heapgrab core` on it
#   kernel SIGSEGV to the target (core_pattern must write a file in the
#          target's directory, as Debian's default "core" does); `heapgrab
#          core` on that
# For each core: its size, heapgrab's wall time and peak RSS, RSS as a share
# of the core, and whether the JSON totals and by_size equal the live ones.
# Goals: core census <= 2 s, peak RSS <= 25% of the core size.
# Prints figures; never fails on a goal. Needs root and ~3 GB of disk in OUT.
#
# Environment: HEAPGRAB, OUT (default BUILD_DIR/bench-core or
# /tmp/heapgrab-bench-core), BIGHEAP_ARGS (default as run-attach.sh).
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
BUILD_DIR=${1:-}
if [ -n "$BUILD_DIR" ]; then
	BUILD_DIR=$(cd "$BUILD_DIR" && pwd) || exit 2
	HEAPGRAB=${HEAPGRAB:-$BUILD_DIR/src/heapgrab}
	OUT=${OUT:-$BUILD_DIR/bench-core}
else
	HEAPGRAB=${HEAPGRAB:-$(command -v heapgrab || true)}
	OUT=${OUT:-/tmp/heapgrab-bench-core}
fi
BIGHEAP_ARGS=${BIGHEAP_ARGS:---mib 1024 --chunks 4194304 --threads 4}

die() { echo "run-core.sh: $*" >&2; exit 2; }
[ -x "$HEAPGRAB" ] || die "no heapgrab binary (give BUILD_DIR or HEAPGRAB)"
command -v gdb > /dev/null || die "gdb is needed for gcore"
mkdir -p "$OUT" || die "cannot create $OUT"
cd "$OUT" || exit 2
rm -f core core.* gcore ready results ./*.json
${CC:-gcc} -O2 -g -pthread -o bigheap "$HERE/bigheap.c" || die "cannot build bigheap"

# shellcheck disable=SC2086 # BIGHEAP_ARGS is a word list
(ulimit -c unlimited; exec ./bigheap $BIGHEAP_ARGS --ready ready --results results) &
pid=$!
for _ in $(seq 600); do
	[ -s ready ] && break
	sleep 0.2
done
[ -s ready ] || { kill "$pid"; die "bigheap did not get ready"; }

timed() {	# timed LABEL OUTFILE CMD...: sets wall and rss
	local label=$1 out=$2
	shift 2
	/usr/bin/time -f '%e %M' -o time.out "$@" > "$out" 2> "$label.err"
	read -r wall rss < time.out
}

same() {	# same A.json B.json: totals and by_size equal?
	python3 - "$1" "$2" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
print("yes" if a["totals"] == b["totals"] and a["by_size"] == b["by_size"] else "NO")
PY
}

timed live live.json "$HEAPGRAB" attach --format json "$pid"
live_wall=$wall live_rss=$rss
gdb -p "$pid" -batch -ex "gcore $OUT/gcore" > gcore.log 2>&1 || die "gcore failed"
kill -SEGV "$pid"
wait "$pid" 2> /dev/null
kcore=$(find . -maxdepth 1 -name 'core*' -type f -printf '%f\n' | head -n 1)

chunks=$(python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["totals"]; print(sum(v.get("count", 0) for v in t.values()))' live.json)
printf '%s chunks; live attach: %s s, peak RSS %s MiB\n\n' "$chunks" "$live_wall" "$((live_rss / 1024))"
printf '%-8s %10s %9s %12s %10s %14s\n' core "size MiB" "wall s" "peak RSS MiB" "RSS/core" "same as live"
for c in gcore $kcore; do
	[ -f "$c" ] || continue
	timed "$c" "$c.json" "$HEAPGRAB" core --format json "$c"
	size=$(stat -c %s "$c")
	printf '%-8s %10d %9s %12d %9d%% %14s\n' "$c" "$((size >> 20))" "$wall" \
		"$((rss / 1024))" "$((rss * 1024 * 100 / size))" "$(same live.json "$c.json")"
done
[ -n "$kcore" ] || echo "(no kernel core: check ulimit -c and /proc/sys/kernel/core_pattern)"
echo
echo "goals: core census <= 2 s, peak RSS <= 25% of the core size"
rm -f core core.* gcore
