#!/bin/bash
# run-leaks.sh [BUILD_DIR]: heapgrab leaks and top --retained on the 1 GiB,
# 4M-chunk bigheap.
#
# Two heaps, each measured RUNS times (default 3) per command:
#   flat    the default bigheap: every chunk held by the threads' pointer
#           arrays (4M root edges, no chunk -> chunk edge)
#   lists   bigheap --links 64 --leak-pct 1: lists of 64 chunks, one edge
#           per chunk, only the heads in the arrays, 1% of the lists leaked;
#           heapgrab's leaked/leak_roots must equal what bigheap reports
# For each run: wall time and peak RSS (/usr/bin/time -f '%e %M'), and
# heapgrab's own -v split: the target's pause, the walk, the graph (scan),
# the analysis (leaks, or dominators), and the time after the detach (the
# goal: <= 3 s). Prints a table; never fails because a goal was missed.
# Not part of make check. Needs root (or ptrace rights), gcc, python3,
# /usr/bin/time and about 3 GiB of free memory.
#
# Environment: HEAPGRAB, OUT, RUNS, PRIO (as bench/run-attach.sh), CC,
# CONFIGS (default "flat lists").
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
RUNS=${RUNS:-3}
CC=${CC:-gcc}
PRIO=${PRIO:-}
CONFIGS=${CONFIGS:-flat lists}

die() { echo "run-leaks.sh: $*" >&2; exit 2; }

if [ -z "$HEAPGRAB" ] || [ ! -x "$HEAPGRAB" ]; then die "no heapgrab binary (give BUILD_DIR or set HEAPGRAB)"; fi
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"
command -v python3 > /dev/null || die "python3 is missing"
mkdir -p "$OUT" || exit 2
cd "$OUT" || exit 2
echo "== building bigheap into $OUT"
$CC -O2 -g -pthread -o bigheap "$HERE/bigheap.c" || die "cannot build bigheap"

BH_PID=
cleanup() {
	[ -n "$BH_PID" ] && kill "$BH_PID" 2> /dev/null
	wait 2> /dev/null
}
trap cleanup EXIT

# ms_of FILE BEFORE AFTER: the number between BEFORE and " ms"AFTER on a
# debug line of heapgrab -v
ms_of() {
	sed -n "s/.*$2\([0-9.]*\) ms$3/\1/p" "$1" | head -n 1
}

rm -f leaks-*.json leaks-*.err top-*.json top-*.err ./*.time summary.txt
printf '%-6s %-6s %3s %8s %9s %8s %7s %7s %8s %12s\n' config cmd run "wall s" "RSS MiB" \
	"pause" "walk" "graph" "analysis" "after detach" | tee summary.txt
for cfg in $CONFIGS; do
	case $cfg in
	flat) args= ;;
	lists) args="--links 64 --leak-pct 1" ;;
	*) die "unknown config '$cfg' (flat, lists)" ;;
	esac
	rm -f ready results
	# shellcheck disable=SC2086 # word splitting wanted
	$PRIO ./bigheap $args --ready ready --results results 2> "bigheap-$cfg.log" &
	BH_PID=$!
	for _ in $(seq 1200); do
		grep -q '^ready' ready 2> /dev/null && break
		kill -0 "$BH_PID" 2> /dev/null || die "bigheap exited: $(cat "bigheap-$cfg.log")"
		sleep 0.1
	done
	grep -q '^ready' ready || die "bigheap not ready after 120 s"
	sed 's/^/   /' "bigheap-$cfg.log"
	for cmd in leaks top; do
		for run in $(seq "$RUNS"); do
			base=$cmd-$cfg-$run
			if [ "$cmd" = leaks ]; then
				set -- leaks --format json -v "$BH_PID"
			else
				set -- top --retained --format json -v "$BH_PID"
			fi
			# shellcheck disable=SC2086
			$PRIO /usr/bin/time -o "$base.time" -f '%e %M' "$HEAPGRAB" "$@" \
				> "$base.json" 2> "$base.err" || die "heapgrab $* failed: $(cat "$base.err")"
			read -r wall rss < "$base.time"
			pause=$(ms_of "$base.err" "target paused " " .*")
			walk=$(ms_of "$base.err" "; walk " "")
			snap=$(ms_of "$base.err" "snapshot taken in " "")
			graph=$(ms_of "$base.err" "debug: graph: .* in " "")
			total=$(ms_of "$base.err" "debug: [a-z -]*: " " in all")
			if [ "$cmd" = leaks ]; then
				ana=$(ms_of "$base.err" "debug: leaks: " "")
			else
				ana=$(ms_of "$base.err" "debug: dominators: " "")
			fi
			after=$(awk -v t="$total" -v s="$snap" -v w="$walk" \
				'BEGIN { printf "%.0f", t - s + w }')
			printf '%-6s %-6s %3s %8s %9.0f %8s %7s %7s %8s %12s\n' "$cfg" "$cmd" \
				"$run" "$wall" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" \
				"$pause" "$walk" "$graph" "$ana" "$after ms" | tee -a summary.txt
		done
	done
	if [ "$cfg" = lists ]; then
		python3 - "leaks-$cfg-1.json" "bigheap-$cfg.log" << 'EOF' | tee -a summary.txt
import json, re, sys
j = json.load(open(sys.argv[1]))
m = re.search(r"leaked (\d+) chunks, (\d+) bytes, (\d+) leak roots", open(sys.argv[2]).read())
want = tuple(int(x) for x in m.groups())
got = (j["leaked"]["count"], j["leaked"]["bytes"], j["leak_roots"]["count"])
print("   lists: heapgrab leaked %d chunks, %d bytes, %d leak roots; bigheap says %d, %d, %d: %s"
      % (got + want + ("same" if got == want else "DIFFERENT",)))
EOF
	fi
	kill "$BH_PID"
	wait "$BH_PID" 2> /dev/null
	BH_PID=
done
echo "== figures in $OUT/summary.txt"
