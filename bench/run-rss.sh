#!/bin/bash
# shellcheck disable=SC2016  # sh -c scripts take their arguments as $0 $1 ...
# run-rss.sh [BUILD_DIR]: what the RSS accounting costs the target, and what
# a user gets today instead (malloc_info through gdb).
#
# For each heap size in SIZES (default "1024:4194304 4096:16777216": 1 GiB
# in about 4M chunks and 4 GiB in about 16M, over THREADS thread arenas),
# builds bench/bigheap.c, starts it and measures, on the same target, the
# pause the target measures itself (its pause-watch thread: the longest gap
# between 200 us sleeps), the tool's wall time and peak RSS:
#   idle          nobody attached (noise floor)
#   attach N      `heapgrab attach --no-types -v PID`, RUNS times: the census
#                 pause without residency
#   attach-rss N  `heapgrab attach --no-types --rss -v PID`, RUNS times: the
#                 same with the pagemap read in the stop; heapgrab's own
#                 split ("pagemap X ms") is the pause residency adds
#   rss N         `heapgrab rss PID` end to end, RUNS times
#   rss-fork      `heapgrab rss --fork PID` once
#   rss-read      `heapgrab rss PID` once with HEAPGRAB_PAGEMAP_READ=1: the
#                 pagemap read entry by entry (kernels before 6.7) instead of
#                 the PAGEMAP_SCAN ioctl
#   gdb           `gdb -p PID -batch -ex 'call (int) malloc_info(0, stderr)'`
#                 once: what a user runs today (the XML goes to the target's
#                 stderr, bigheap-*.log)
# The first run of each is reported as well as the median: the machine may
# be shared (record the load, printed with the table). It prints figures;
# it never fails because a goal was missed (the goal: the pagemap read adds
# at most 20 ms per GiB to the pause). Not part of make check.
# Needs root, gcc, python3, /usr/bin/time, and gdb for the last phase;
# about 3 x the largest heap in free memory.
#
# Environment: HEAPGRAB, OUT, RUNS (default 3), SIZES ("MIB:CHUNKS ..."),
# GDB=0 (skip gdb), IDLE_S (default 3), PRIO (a command prefix for bigheap
# and every measured tool), THREADS (bigheap threads, default 4).
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
BUILD_DIR=${1:-}
if [ -n "$BUILD_DIR" ]; then
	BUILD_DIR=$(cd "$BUILD_DIR" && pwd) || exit 2
	HEAPGRAB=${HEAPGRAB:-$BUILD_DIR/src/heapgrab}
	OUT=${OUT:-$BUILD_DIR/bench-rss}
else
	HEAPGRAB=${HEAPGRAB:-$(command -v heapgrab || true)}
	OUT=${OUT:-/tmp/heapgrab-bench-rss}
fi
RUNS=${RUNS:-3}
SIZES=${SIZES:-1024:4194304 4096:16777216}
GDB=${GDB:-1}
IDLE_S=${IDLE_S:-3}
THREADS=${THREADS:-4}
CC=${CC:-gcc}
PRIO=${PRIO:-}

die() { echo "run-rss.sh: $*" >&2; exit 2; }

if [ -z "$HEAPGRAB" ] || [ ! -x "$HEAPGRAB" ]; then
	die "no heapgrab binary (give BUILD_DIR or set HEAPGRAB)"
fi
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"
command -v python3 >/dev/null || die "python3 is missing"
if [ "$GDB" = 1 ] && ! command -v gdb >/dev/null; then
	echo "run-rss.sh: gdb not found; skipping the malloc_info phase" >&2
	GDB=0
fi

mkdir -p "$OUT" || exit 2
cd "$OUT" || exit 2
rm -f ./*.json ./*.time ./*.err ./*.out phases-*.txt results-*.txt ready-* \
	bigheap-*.log load.txt summary.txt
echo "== building bigheap into $OUT"
$CC -O2 -g -pthread -o bigheap "$HERE/bigheap.c" || die "cannot build bigheap"
echo "start $(cut -d' ' -f1-3 /proc/loadavg)" > load.txt

BPID=
trap '[ -n "$BPID" ] && kill -TERM $BPID 2>/dev/null; wait 2>/dev/null' EXIT
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

for size in $SIZES; do
	mib=${size%%:*}
	chunks=${size##*:}
	tag=$mib
	echo "== starting bigheap --mib $mib --chunks $chunks --threads $THREADS"
	$PRIO ./bigheap --mib "$mib" --chunks "$chunks" --threads "$THREADS" \
		--ready "ready-$tag" --results "results-$tag.txt" 2> "bigheap-$tag.log" &
	BPID=$!
	for _ in $(seq 3000); do
		[ -s "ready-$tag" ] && break
		kill -0 $BPID 2>/dev/null || die "bigheap exited: $(cat "bigheap-$tag.log")"
		sleep 0.1
	done
	[ -s "ready-$tag" ] || die "bigheap not ready after 300 s"
	rss_kib=$(awk '$1 == "VmRSS:" { print $2 }' /proc/$BPID/status)
	echo "rss $rss_kib" > "phases-$tag.txt"
	echo "load-$tag $(cut -d' ' -f1-3 /proc/loadavg)" >> load.txt
	SEQ=0
	gap() {
		SEQ=$((SEQ + 1))
		kill -USR1 "$BPID" || die "target $BPID is gone"
		for _ in $(seq 1000); do
			GAP=$(awk -v s=$SEQ '$1 == s { print $2 }' "results-$tag.txt")
			[ -n "$GAP" ] && return
			sleep 0.01
		done
		die "target did not answer SIGUSR1 #$SEQ"
	}
	# phase NAME CMD...: name status wall_ms time_s rss_kib gap_us
	phase() {
		local name=$1 t0 t1 st; shift
		gap
		t0=$(now_ms)
		# shellcheck disable=SC2086
		$PRIO /usr/bin/time -f '%e %M' -o "$name.time" "$@"
		st=$?
		t1=$(now_ms)
		gap
		echo "$name $st $((t1 - t0)) $(tail -1 "$name.time") $GAP" >> "phases-$tag.txt"
		echo "   $name: exit $st, wall $((t1 - t0)) ms, target gap $GAP us"
	}
	phase "idle-$tag" sleep "$IDLE_S"
	for i in $(seq "$RUNS"); do
		phase "attach-$tag-$i" sh -c '"$0" attach --no-types -v "$1" > "$2" 2> "$3"' \
			"$HEAPGRAB" "$BPID" "attach-$tag-$i.out" "attach-$tag-$i.err"
		phase "attachrss-$tag-$i" sh -c '"$0" attach --no-types --rss -v "$1" > "$2" 2> "$3"' \
			"$HEAPGRAB" "$BPID" "attachrss-$tag-$i.out" "attachrss-$tag-$i.err"
		phase "rss-$tag-$i" sh -c '"$0" rss -v --format json "$1" > "$2" 2> "$3"' \
			"$HEAPGRAB" "$BPID" "rss-$tag-$i.json" "rss-$tag-$i.err"
	done
	phase "rssfork-$tag" sh -c '"$0" rss --fork -v --format json "$1" > "$2" 2> "$3"' \
		"$HEAPGRAB" "$BPID" "rssfork-$tag.json" "rssfork-$tag.err"
	phase "rssread-$tag" sh -c 'HEAPGRAB_PAGEMAP_READ=1 "$0" rss -v --format json "$1" \
		> "$2" 2> "$3"' "$HEAPGRAB" "$BPID" "rssread-$tag.json" "rssread-$tag.err"
	if [ "$GDB" = 1 ]; then
		phase "gdb-$tag" sh -c 'gdb -p "$0" -batch -ex "call (int) malloc_info(0, stderr)" \
			> "$1" 2>&1' "$BPID" "gdb-$tag.out"
	fi
	kill -TERM "$BPID"
	wait "$BPID" 2>/dev/null
	BPID=
done
echo "end $(cut -d' ' -f1-3 /proc/loadavg)" >> load.txt

echo
python3 - "$RUNS" "$HEAPGRAB" "$SIZES" "$THREADS" "$GDB" <<'EOF' | tee summary.txt
import json, os, re, statistics, sys

runs, heapgrab, sizes, threads, gdb = (int(sys.argv[1]), sys.argv[2], sys.argv[3].split(),
                                       sys.argv[4], sys.argv[5] == "1")
GiB = 1 << 30

def fm(v):
    """first / median / max"""
    return "%.1f / %.1f / %.1f" % (v[0], statistics.median(v), max(v)) if v else "-"

def split(path, key):
    m = re.search(key + r" ([\d.]+) ms", open(path).read())
    return float(m.group(1)) if m else float("nan")

print("heapgrab: %s" % heapgrab)
print("loadavg:  " + "; ".join(l.strip() for l in open("load.txt"))
      + " (on %d CPUs)" % os.cpu_count())
for size in sizes:
    tag = size.split(":")[0]
    ph, rss = {}, 0
    for line in open("phases-%s.txt" % tag):
        f = line.split()
        if f[0] == "rss":
            rss = int(f[1]) * 1024
            continue
        if len(f) < 6:
            f = f[:3] + ["nan", "nan"] + f[-1:]
        ph[f[0]] = dict(status=int(f[1]), wall=float(f[2]), rss=float(f[4]) * 1024,
                        gap=float(f[5]) / 1000)
    gib = rss / GiB
    att = [ph["attach-%s-%d" % (tag, i)] for i in range(1, runs + 1)]
    attr = [ph["attachrss-%s-%d" % (tag, i)] for i in range(1, runs + 1)]
    rs = [ph["rss-%s-%d" % (tag, i)] for i in range(1, runs + 1)]
    pm = [split("attachrss-%s-%d.out" % (tag, i), "pagemap") for i in range(1, runs + 1)]
    own_a = [split("attach-%s-%d.err" % (tag, i), "pause") for i in range(1, runs + 1)]
    own_r = [split("attachrss-%s-%d.err" % (tag, i), "pause") for i in range(1, runs + 1)]
    bad = [k for k, v in ph.items() if v["status"] not in (0,) and not k.startswith("idle")]
    r = json.load(open("rss-%s-1.json" % tag))["rss"]
    print()
    print("target: bigheap --mib %s (%s chunks), %s threads + pause watch; RSS %.2f GiB"
          % (tag, size.split(":")[1], threads, gib))
    if bad:
        print("WARNING: a tool failed in %s (see *.err, *.out)" % ", ".join(bad))
    rows = [("target's own max gap, idle (noise floor)", "%.1f ms" % ph["idle-%s" % tag]["gap"], "")]
    rows.append(("attach: pause seen by target, first/med/max", fm([x["gap"] for x in att]) + " ms", ""))
    rows.append(("attach --rss: pause seen by target", fm([x["gap"] for x in attr]) + " ms", ""))
    rows.append(("  heapgrab's own pause, attach / attach --rss (med)",
                 "%.1f / %.1f ms" % (statistics.median(own_a), statistics.median(own_r)), ""))
    rows.append(("  of which pagemap read in the stop, first/med/max", fm(pm) + " ms",
                 "%.1f ms/GiB first, %.1f med (goal <= 20)" % (pm[0] / gib, statistics.median(pm) / gib)))
    rows.append(("rss end to end: wall, first/med/max", fm([x["wall"] for x in rs]) + " ms", ""))
    rows.append(("rss: pause seen by target, first/med/max", fm([x["gap"] for x in rs]) + " ms", ""))
    rows.append(("rss: heapgrab peak RSS (first)", "%.0f MiB" % (rs[0]["rss"] / (1 << 20)), ""))
    rows.append(("  pagemap read() instead of PAGEMAP_SCAN (once)",
                 "%.1f ms" % split("rssread-%s.err" % tag, "pagemap"),
                 "%.1f ms/GiB" % (split("rssread-%s.err" % tag, "pagemap") / gib)))
    f = ph["rssfork-%s" % tag]
    rows.append(("rss --fork: wall, pause seen by target", "%.0f ms, %.1f ms" % (f["wall"], f["gap"]), ""))
    rows.append(("rss: accounted vs kernel Rss (first run)",
                 "%s vs %s" % (r["total"]["accounted_bytes"], r["total"]["kernel_rss_bytes"]), ""))
    g = ph.get("gdb-%s" % tag)
    if g:
        rows.append(("gdb malloc_info: wall, pause seen by target",
                     "%.0f ms, %.1f ms" % (g["wall"], g["gap"]), ""))
    w = max(len(x[0]) for x in rows)
    w2 = max(len(x[1]) for x in rows)
    for a, b, c in rows:
        print("%-*s  %-*s  %s" % (w, a, w2, b, c))
if gdb:
    print()
    print("What malloc_info through gdb cannot tell (it prints per arena the free")
    print("chunks by size and the system bytes, as XML, on the target's stderr):")
    print("  - residency: which of the free bytes are resident, what a trim returns;")
    print("  - memory outside malloc: stacks, other allocators, files, shared memory;")
    print("  - live data by type or size, mmapped chunks' residency, thread -> arena;")
    print("  - its pause is gdb's attach and symbol loading, and it runs code in the target.")
EOF
