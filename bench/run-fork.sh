#!/bin/bash
# shellcheck disable=SC2016  # sh -c scripts take their arguments as $0 $1 ...
# run-fork.sh [BUILD_DIR]: the pause a target feels from heapgrab attach in
# copy mode, in fork mode (--fork) and from gcore, in one run.
#
# For each heap size in SIZES (default "1024:4194304 4096:16777216": 1 GiB
# in about 4M chunks and 4 GiB in about 16M, both over 4 thread arenas),
# builds bench/bigheap.c, starts it and measures on the same target:
#   idle     the target's own longest gap with nobody attached (noise floor)
#   copy N   `heapgrab attach --format json PID`, RUNS times: the pause the
#            target measured itself (its pause-watch thread: the longest gap
#            between 200 us sleeps), heapgrab's wall time and peak RSS
#   fork N   `heapgrab attach --fork --format json PID`, RUNS times: the same
#            figures; each fork census must equal the copy census (the heap
#            is idle), which the table says
#   fork -v  once, for heapgrab's own split of the pause (stop, fork) and the
#            time it read the frozen child
#   gcore    `gcore` (gdb) once: the target's pause, gcore's wall time
# and prints a table with ms per GiB of resident memory next to the goals of
# the goals (fork <= 20 ms per GiB, copy <= 250 ms per GiB). It prints
# figures; it never fails because a goal was missed. Not part of make check.
# Needs root (ptrace of a non-child), gcc, python3, /usr/bin/time, and gdb
# for gcore; about 3 x the largest heap in free memory and 1.2 x on disk in
# the output folder for the core (deleted afterwards).
#
# Environment: HEAPGRAB, OUT, RUNS (default 3), SIZES ("MIB:CHUNKS ..."),
# GCORE=0 (skip gcore), IDLE_S (default 3), PRIO (a command prefix for
# bigheap and every measured tool, e.g. "nice -n -19" on a loaded machine),
# THREADS (bigheap threads, default 4).
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
BUILD_DIR=${1:-}
if [ -n "$BUILD_DIR" ]; then
	BUILD_DIR=$(cd "$BUILD_DIR" && pwd) || exit 2
	HEAPGRAB=${HEAPGRAB:-$BUILD_DIR/src/heapgrab}
	OUT=${OUT:-$BUILD_DIR/bench-fork}
else
	HEAPGRAB=${HEAPGRAB:-$(command -v heapgrab || true)}
	OUT=${OUT:-/tmp/heapgrab-bench-fork}
fi
RUNS=${RUNS:-3}
SIZES=${SIZES:-1024:4194304 4096:16777216}
GCORE=${GCORE:-1}
IDLE_S=${IDLE_S:-3}
THREADS=${THREADS:-4}
CC=${CC:-gcc}
PRIO=${PRIO:-}

die() { echo "run-fork.sh: $*" >&2; exit 2; }

if [ -z "$HEAPGRAB" ] || [ ! -x "$HEAPGRAB" ]; then
	die "no heapgrab binary (give BUILD_DIR or set HEAPGRAB)"
fi
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"
command -v python3 >/dev/null || die "python3 is missing"
if [ "$GCORE" = 1 ] && ! command -v gcore >/dev/null; then
	echo "run-fork.sh: gcore not found (apt-get install gdb); skipping it" >&2
	GCORE=0
fi

mkdir -p "$OUT" || exit 2
cd "$OUT" || exit 2
rm -f ./*.json ./*.time ./*.err ./*.out phases-*.txt results-*.txt ready-* \
	core.* bigheap-*.log load.txt summary.txt
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
	cat "bigheap-$tag.log"
	rss_kib=$(awk '$1 == "VmRSS:" { print $2 }' /proc/$BPID/status)
	echo "rss $rss_kib" > "phases-$tag.txt"
	SEQ=0
	# gap: ask the target for its longest gap (us) since the last request
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
		phase "copy-$tag-$i" sh -c '"$0" attach --format json "$1" > "$2" 2> "$3"' \
			"$HEAPGRAB" "$BPID" "copy-$tag-$i.json" "copy-$tag-$i.err"
		phase "fork-$tag-$i" sh -c '"$0" attach --fork --format json "$1" > "$2" 2> "$3"' \
			"$HEAPGRAB" "$BPID" "fork-$tag-$i.json" "fork-$tag-$i.err"
	done
	phase "forkv-$tag" sh -c '"$0" attach --fork -v "$1" > "$2" 2> "$3"' \
		"$HEAPGRAB" "$BPID" "forkv-$tag.out" "forkv-$tag.err"
	tail -1 "forkv-$tag.out"
	if [ "$GCORE" = 1 ]; then
		phase "gcore-$tag" sh -c 'gcore -o core "$0" > gcore.log 2>&1' "$BPID"
		rm -f core.*
	fi
	kill -TERM "$BPID"
	wait "$BPID" 2>/dev/null
	BPID=
done
echo "end $(cut -d' ' -f1-3 /proc/loadavg)" >> load.txt

echo
PRIO="$PRIO" python3 - "$RUNS" "$HEAPGRAB" "$SIZES" "$THREADS" <<'EOF' | tee summary.txt
import filecmp, os, re, statistics, sys

runs, heapgrab, sizes, threads = int(sys.argv[1]), sys.argv[2], sys.argv[3].split(), sys.argv[4]
GiB = 1 << 30

def mmm(v):
    v = sorted(v)
    return "%.1f / %.1f / %.1f" % (v[0], statistics.median(v), v[-1]) if v else "-"

print("heapgrab: %s" % heapgrab)
if os.environ.get("PRIO"):
    print("prio:     %s (target and tools)" % os.environ["PRIO"])
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
    copy = [ph["copy-%s-%d" % (tag, i)] for i in range(1, runs + 1)]
    fork = [ph["fork-%s-%d" % (tag, i)] for i in range(1, runs + 1)]
    same = all(filecmp.cmp("copy-%s-%d.json" % (tag, i), "fork-%s-%d.json" % (tag, i),
                           shallow=False) for i in range(1, runs + 1))
    bad = [k for k, v in ph.items() if v["status"] not in (0,) and not k.startswith("idle")]
    text = open("forkv-%s.out" % tag).read()
    m = re.search(r"target paused ([\d.]+) ms \(stop ([\d.]+) ms, (\d+) consistency "
                  r"rounds?, fork ([\d.]+) ms\); copied (.*) from the frozen child in "
                  r"([\d.]+) ms; walk ([\d.]+) ms", text)
    print()
    print("target: bigheap --mib %s (%s), %d threads + pause watch; RSS %.2f GiB"
          % (tag, size.split(":")[1] + " chunks", int(threads), gib))
    if bad:
        print("WARNING: heapgrab or gcore failed in %s (see *.err)" % ", ".join(bad))
    rows = [("target's own max gap, idle (noise floor)", "%.1f ms" % ph["idle-%s" % tag]["gap"], "")]
    cg = [r["gap"] for r in copy]
    fg = [r["gap"] for r in fork]
    rows.append(("copy mode: pause seen by target, min/med/max", mmm(cg) + " ms",
                 "%.0f ms/GiB (goal <= 250)" % (statistics.median(cg) / gib)))
    rows.append(("fork mode: pause seen by target, min/med/max", mmm(fg) + " ms",
                 "%.1f ms/GiB (goal <= 20)" % (statistics.median(fg) / gib)))
    if m:
        rows.append(("  heapgrab's own split (fork -v run)",
                     "pause %s ms = stop %s + fork %s; child read %s ms (%s); walk %s ms"
                     % (m[1], m[2], m[4], m[6], m[5], m[7]), ""))
        rows.append(("  target's own gap in the -v run", "%.1f ms" % ph["forkv-%s" % tag]["gap"], ""))
    rows.append(("fork census = copy census (every JSON byte)", "yes" if same else "NO", ""))
    rows.append(("heapgrab wall, copy / fork (median)",
                 "%.2f / %.2f s" % (statistics.median(r["wall"] for r in copy) / 1000,
                                    statistics.median(r["wall"] for r in fork) / 1000), ""))
    rows.append(("heapgrab peak RSS, copy / fork (median)",
                 "%.0f / %.0f MiB" % (statistics.median(r["rss"] for r in copy) / (1 << 20),
                                      statistics.median(r["rss"] for r in fork) / (1 << 20)), ""))
    g = ph.get("gcore-%s" % tag)
    if g:
        rows.append(("gcore: pause seen by target", "%.1f ms" % g["gap"],
                     "%.0f ms/GiB" % (g["gap"] / gib)))
        rows.append(("gcore pause / fork pause (median)", "%.0f x" % (g["gap"] / statistics.median(fg)), ""))
    rows.append(("copy pause / fork pause (median)", "%.1f x" % (statistics.median(cg) / statistics.median(fg)), ""))
    w = max(len(r[0]) for r in rows)
    w2 = max(len(r[1]) for r in rows)
    for a, b, c in rows:
        print("%-*s  %-*s  %s" % (w, a, w2, b, c))
EOF
