#!/bin/bash
# shellcheck disable=SC2016  # sh -c scripts take their arguments as $0 $1 ...
# run-goals.sh [BUILD_DIR]: every figure of heapgrab's speed goals, on a
# fresh target, first run and later runs, next to gcore on the same target.
#
# For each heap size in SIZES (MiB; default "1024 4096"), starts
# `bigheap --mib M --chunks M*4096 --threads 4 --typed` (about M MiB of
# live heap in M*4096 chunks, half of them struct recs linking the others
# into one list per thread: four lists of M*1024 chunks) and measures, in
# this order, on that one target:
#   idle       the target's own longest gap, nobody attached (noise floor)
#   types      `attach --format json -v PID` (copy mode, typed): 1 + RUNS
#   notypes    `attach --no-types --format json -v PID`: 1 + RUNS
#   fork       `attach --fork --format json -v PID`: 1 + RUNS; each must
#              print the same JSON as the typed copy-mode attach
#   leaks      `leaks --format json -v PID`: 1 + RUNS
#   gcore      gdb's gcore: the target's pause, wall, core size
#   core       `core --format json CORE` on that core: 1 + RUNS
# Then, with SMALL=1 (default), the many-small-chunks heap
# (`bigheap --mib 512 --chunks 12582912`, 32..80-byte chunks): `attach
# --format json -v`, 1 + RUNS, for peak RSS against the bytes copied.
#
# "First run" is the first of each group, after COOL_S seconds (default 15)
# with no heapgrab running: on a VM, memory freed a few seconds ago is
# handed back to the host (free page reporting), and the next process to
# touch it pays for the host to back it again; later runs follow each
# other at once and reuse memory the previous run just freed. Each figure
# is the FIRST run and the min / median / max of the later ones, never the
# best; the load average (1 min) is taken before every run.
#
# Pauses are what the target measured itself (bigheap's pause-watch thread,
# the longest gap between 200 us sleeps); wall time and peak RSS come from
# /usr/bin/time; the bytes copied from heapgrab's -v line. Per GiB means
# per GiB of the target's resident memory (VmRSS).
#
# Prints figures, never fails because a goal was missed (exit 0 unless
# the benchmark itself could not run). Not part of make check. Needs root
# (ptrace of a non-child), gcc, python3, /usr/bin/time, gdb for gcore,
# about 3 x the largest heap in free memory (a size that does not fit in
# MemAvailable / 2.5 is skipped) and 1.4 x on disk for the core.
#
# Environment: HEAPGRAB, OUT, SIZES, RUNS (later runs, default 2), COOL_S,
# GCORE=0, SMALL=0, IDLE_S (default 3), THREADS (bigheap threads, default
# 4), PRIO (a command prefix for bigheap and every measured tool, e.g.
# "nice -n -19" on a loaded machine), CORE_DIR (where gcore writes, default
# OUT; the core is deleted after its census; gcore is skipped when the
# folder has less than 1.4 x the target's RSS free).
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
BUILD_DIR=${1:-}
if [ -n "$BUILD_DIR" ]; then
	BUILD_DIR=$(cd "$BUILD_DIR" && pwd) || exit 2
	HEAPGRAB=${HEAPGRAB:-$BUILD_DIR/src/heapgrab}
	OUT=${OUT:-$BUILD_DIR/bench-goals}
else
	HEAPGRAB=${HEAPGRAB:-$(command -v heapgrab || true)}
	OUT=${OUT:-/tmp/heapgrab-bench-goals}
fi
SIZES=${SIZES:-1024 4096}
RUNS=${RUNS:-2}
COOL_S=${COOL_S:-15}
GCORE=${GCORE:-1}
SMALL=${SMALL:-1}
IDLE_S=${IDLE_S:-3}
CORE_DIR=${CORE_DIR:-}
THREADS=${THREADS:-4}
CC=${CC:-gcc}
PRIO=${PRIO:-}

die() { echo "run-goals.sh: $*" >&2; exit 2; }

if [ -z "$HEAPGRAB" ] || [ ! -x "$HEAPGRAB" ]; then
	die "no heapgrab binary (give BUILD_DIR or set HEAPGRAB)"
fi
HEAPGRAB=$(cd "$(dirname "$HEAPGRAB")" && pwd)/$(basename "$HEAPGRAB")
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"
command -v python3 > /dev/null || die "python3 is missing"
if [ "$GCORE" = 1 ] && ! command -v gcore > /dev/null; then
	echo "run-goals.sh: gcore not found (apt-get install gdb); skipping it" >&2
	GCORE=0
fi

mkdir -p "$OUT" || exit 2
cd "$OUT" || exit 2
CORE_DIR=$(cd "${CORE_DIR:-.}" && pwd) || exit 2
rm -f ./*.json ./*.time ./*.err ./*.log phases.txt ready-* results-* core.* summary.txt
echo "== building bigheap into $OUT"
$CC -O2 -g -pthread -o bigheap "$HERE/bigheap.c" || die "cannot build bigheap"

BPID=
trap '[ -n "$BPID" ] && kill -TERM $BPID 2> /dev/null; wait 2> /dev/null; rm -f "$CORE_DIR"/core.*' EXIT
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
load1() { cut -d' ' -f1 /proc/loadavg; }
avail_mib() { awk '$1 == "MemAvailable:" { print int($2 / 1024) }' /proc/meminfo; }

# start_target TAG ARGS...: bigheap in the background; sets BPID, SEQ
start_target() {
	local tag=$1
	shift
	rm -f "ready-$tag" "results-$tag"
	# shellcheck disable=SC2086
	$PRIO ./bigheap "$@" --ready "ready-$tag" --results "results-$tag" 2> "bigheap-$tag.log" &
	BPID=$!
	for _ in $(seq 6000); do
		[ -s "ready-$tag" ] && break
		kill -0 $BPID 2> /dev/null || die "bigheap exited: $(cat "bigheap-$tag.log")"
		sleep 0.1
	done
	[ -s "ready-$tag" ] || die "bigheap not ready after 600 s"
	cat "bigheap-$tag.log"
	echo "target $tag $* rss_kib $(awk '$1 == "VmRSS:" { print $2 }' /proc/$BPID/status)" \
		>> phases.txt
	TAG=$tag
	SEQ=0
}

stop_target() {
	kill -TERM "$BPID"
	wait "$BPID" 2> /dev/null
	BPID=
}

# gap: the target's longest gap (us) since the last call; sets GAP
gap() {
	SEQ=$((SEQ + 1))
	kill -USR1 "$BPID" || die "target $BPID is gone"
	for _ in $(seq 1000); do
		GAP=$(awk -v s=$SEQ '$1 == s { print $2 }' "results-$TAG")
		[ -n "$GAP" ] && return
		sleep 0.01
	done
	die "target did not answer SIGUSR1 #$SEQ"
}

# phase NAME CMD...: one measured run. phases.txt gets
#   NAME status wall_ms time_s rss_kib gap_us load1
phase() {
	local name=$1 t0 t1 st ld
	shift
	ld=$(load1)
	gap
	t0=$(now_ms)
	# shellcheck disable=SC2086
	$PRIO /usr/bin/time -f '%e %M' -o "$name.time" "$@"
	st=$?
	t1=$(now_ms)
	gap
	echo "$name $st $((t1 - t0)) $(tail -1 "$name.time") $GAP $ld" >> phases.txt
	printf '   %-16s exit %d, wall %6d ms, target gap %8d us, load %s\n' \
		"$name" "$st" "$((t1 - t0))" "$GAP" "$ld"
}

cool() {
	[ "$COOL_S" -gt 0 ] && sleep "$COOL_S"
}

echo "start $(cut -d' ' -f1-3 /proc/loadavg)" > load.txt
export OUT_JSON OUT_ERR
for mib in $SIZES; do
	need=$((mib * 5 / 2))
	if [ "$(avail_mib)" -lt "$need" ]; then
		echo "== skipping $mib MiB: $(avail_mib) MiB available, $need MiB needed"
		echo "skipped $mib" >> phases.txt
		continue
	fi
	echo "== bigheap --mib $mib --chunks $((mib * 4096)) --threads $THREADS --typed"
	start_target "$mib" --mib "$mib" --chunks "$((mib * 4096))" --threads "$THREADS" --typed
	phase "$mib-idle" sleep "$IDLE_S"
	# One wrapper per group keeps each run's output apart.
	for g in types notypes fork leaks; do
		case $g in
		types) args="attach --format json -v" ;;
		notypes) args="attach --no-types --format json -v" ;;
		fork) args="attach --fork --format json -v" ;;
		leaks) args="leaks --format json -v" ;;
		esac
		cool
		for i in $(seq 0 "$RUNS"); do
			OUT_JSON=$mib-$g-$i.json OUT_ERR=$mib-$g-$i.err
			# shellcheck disable=SC2086
			phase "$mib-$g-$i" sh -c '"$0" "$@" > "$OUT_JSON" 2> "$OUT_ERR"' \
				"$HEAPGRAB" $args "$BPID"
		done
	done
	core_need=$(( $(awk '$1 == "VmRSS:" { print $2 }' /proc/$BPID/status) * 14 / 10 / 1024 ))
	core_free=$(df -Pm "$CORE_DIR" | awk 'NR == 2 { print $4 }')
	if [ "$GCORE" = 1 ] && [ "$core_free" -lt "$core_need" ]; then
		echo "== no gcore: $core_free MiB free in $CORE_DIR, $core_need MiB needed"
		echo "nocore $mib $core_free $core_need" >> phases.txt
		stop_target
	elif [ "$GCORE" = 1 ]; then
		cool
		phase "$mib-gcore" sh -c 'gcore -o "$1/core" "$0" > gcore.log 2>&1' "$BPID" "$CORE_DIR"
		CORE=$(find "$CORE_DIR" -maxdepth 1 -name 'core.*' | head -1)
		echo "coresize $mib $( [ -n "$CORE" ] && stat -c %s "$CORE" || echo 0)" >> phases.txt
		stop_target
		if [ -n "$CORE" ]; then
			for i in $(seq 0 "$RUNS"); do
				OUT_JSON=$mib-core-$i.json OUT_ERR=$mib-core-$i.err
				ld=$(load1)
				t0=$(now_ms)
				$PRIO /usr/bin/time -f '%e %M' -o "$mib-core-$i.time" \
					"$HEAPGRAB" core --format json "$CORE" > "$OUT_JSON" 2> "$OUT_ERR"
				st=$?
				t1=$(now_ms)
				echo "$mib-core-$i $st $((t1 - t0)) $(tail -1 "$mib-core-$i.time") 0 $ld" >> phases.txt
				printf '   %-16s exit %d, wall %6d ms, load %s\n' "$mib-core-$i" "$st" \
					"$((t1 - t0))" "$ld"
			done
		fi
		rm -f "$CORE_DIR"/core.*
	else
		stop_target
	fi
done
if [ "$SMALL" = 1 ]; then
	echo "== bigheap --mib 512 --chunks 12582912 --threads $THREADS (small chunks)"
	start_target small --mib 512 --chunks 12582912 --threads "$THREADS"
	cool
	for i in $(seq 0 "$RUNS"); do
		OUT_JSON=small-types-$i.json OUT_ERR=small-types-$i.err
		phase "small-types-$i" sh -c '"$0" "$@" > "$OUT_JSON" 2> "$OUT_ERR"' \
			"$HEAPGRAB" attach --format json -v "$BPID"
	done
	stop_target
fi
echo "end $(cut -d' ' -f1-3 /proc/loadavg)" >> load.txt

echo
PRIO="$PRIO" python3 - "$HEAPGRAB" "$RUNS" "$COOL_S" <<'EOF' | tee summary.txt
import filecmp, json, os, re, statistics, sys

heapgrab, runs, cool = sys.argv[1], int(sys.argv[2]), sys.argv[3]
GiB, MiB = 1 << 30, 1 << 20
ph, targets, cores, skipped, nocore = {}, {}, {}, [], []
for line in open("phases.txt"):
    f = line.split()
    if f[0] == "target":
        targets[f[1]] = dict(args=" ".join(f[2:-2]), rss=int(f[-1]) * 1024)
    elif f[0] == "coresize":
        cores[f[1]] = int(f[2])
    elif f[0] == "skipped":
        skipped.append(f[1])
    elif f[0] == "nocore":
        nocore.append("%s MiB (%s MiB free, %s needed)" % (f[1], f[2], f[3]))
    else:
        if len(f) < 7:
            f = f[:3] + ["nan", "nan"] + f[-2:]
        ph[f[0]] = dict(st=int(f[1]), wall=float(f[2]) / 1000, rss=float(f[4]) * 1024,
                        gap=float(f[5]) / 1000, load=f[6])

def err_of(name):
    try:
        return open(name + ".err").read()
    except OSError:
        return ""

def copied(name):
    m = re.search(r"copy [\d.]+ ms \((\d+) bytes\)", err_of(name))
    return int(m[1]) if m else None

def pause_hg(name):
    m = re.search(r"debug: pause ([\d.]+) ms", err_of(name))
    return float(m[1]) if m else None

def memory_field(name):
    try:
        return json.load(open(name + ".json"))["target"].get("memory", "-")
    except (OSError, ValueError, KeyError):
        return "?"

def group(tag, g):
    return [("%s-%s-%d" % (tag, g, i)) for i in range(runs + 1) if "%s-%s-%d" % (tag, g, i) in ph]

def fl(v, fmt):
    v = [x for x in v if x is not None]
    if not v:
        return "-"
    if len(v) == 1:
        return fmt.format(v[0])
    return "%s / %s / %s" % (fmt.format(min(v)), fmt.format(statistics.median(v)),
                             fmt.format(max(v)))

def loads(names):
    return ",".join(ph[n]["load"] for n in names)

rows = []
def row(fig, first, later, goal, ld):
    rows.append((fig, first, later, goal, ld))

def fmt_pair(names, key, fmt, scale=1.0):
    if not names:
        return "-", "-"
    vals = [ph[n][key] * scale for n in names]
    return fmt.format(vals[0]), fl(vals[1:], fmt)

for tag in sorted((t for t in targets if t != "small"), key=int):
    t = targets[tag]
    gib = t["rss"] / GiB
    rows.append(("## bigheap %s: RSS %.2f GiB" % (t["args"], gib), "", "", "", ""))
    row("target's own max gap, idle (noise floor)", "%.1f ms" % ph[tag + "-idle"]["gap"], "",
        "", ph[tag + "-idle"]["load"])
    ty, nt, fk, lk = (group(tag, g) for g in ("types", "notypes", "fork", "leaks"))
    # pauses
    for g, names, goal in (("copy mode, types", ty, "<= 120 ms/GiB"),
                           ("copy mode, no types", nt, "<= 120 ms/GiB")):
        if names:
            a, b = fmt_pair(names, "gap", "{:.1f}")
            pg = [ph[n]["gap"] / gib for n in names]
            row("pause, %s (ms)" % g, a, b, goal, loads(names))
            row("  per GiB of RSS (ms/GiB)", "%.1f" % pg[0], fl(pg[1:], "{:.1f}"), "", "")
            row("  heapgrab's own pause (ms)", fl([pause_hg(names[0])], "{:.1f}"),
                fl([pause_hg(n) for n in names[1:]], "{:.1f}"), "", "")
            cp = [copied(n) for n in names]
            row("  bytes copied (MiB), \"memory\"", fl([c / MiB if c else None for c in cp[:1]], "{:.0f}")
                + " " + memory_field(names[0]), fl([c / MiB if c else None for c in cp[1:]], "{:.0f}"),
                "", "")
    if fk:
        fg = [ph[n]["gap"] for n in fk]
        row("pause, fork mode (ms)", "%.1f" % fg[0], fl(fg[1:], "{:.1f}"), "", loads(fk))
        row("  median over all runs, per GiB of RSS", "%.1f ms/GiB" % (statistics.median(fg) / gib),
            "", "<= 20 ms/GiB", "")
        same = all(os.path.exists(n + ".json") and os.path.exists(ty[0] + ".json") and
                   filecmp.cmp(n + ".json", ty[0] + ".json", shallow=False) for n in fk) if ty else False
        row("  fork JSON = copy JSON (every byte)", "yes" if same else "NO", "", "", "")
    g = ph.get(tag + "-gcore")
    if g:
        row("gcore: pause seen by target (ms)", "%.1f" % g["gap"], "", "(anchor)", g["load"])
        row("  gcore wall / core size", "%.2f s / %.2f GiB" % (g["wall"], cores.get(tag, 0) / GiB),
            "", "", "")
    if ty:
        a, b = fmt_pair(ty, "wall", "{:.2f}")
        row("whole attach with types (s)", a, b, "<= 2 s first, <= 1.5 s later", loads(ty))
    if nt:
        a, b = fmt_pair(nt, "wall", "{:.2f}")
        row("whole attach without types (s)", a, b, "<= 1 s", loads(nt))
    if lk:
        a, b = fmt_pair(lk, "wall", "{:.2f}")
        row("leaks, whole command (s)", a, b, "<= 1.5 s", loads(lk))
        a, b = fmt_pair(lk, "gap", "{:.1f}")
        row("  leaks pause (ms)", a, b, "", "")
    if ty:
        cp = copied(ty[0])
        rss = [ph[n]["rss"] for n in ty]
        row("peak RSS, copy mode with types (MiB)", "%.0f" % (rss[0] / MiB), fl([r / MiB for r in rss[1:]], "{:.0f}"),
            "<= 1.2 x copied", "")
        if cp:
            row("  / bytes copied", "%.2f x" % (rss[0] / cp), fl([r / cp for r in rss[1:]], "{:.2f}") + " x", "", "")
    if nt:
        rss = [ph[n]["rss"] for n in nt]
        row("peak RSS, copy mode without types (MiB)", "%.0f" % (rss[0] / MiB),
            fl([r / MiB for r in rss[1:]], "{:.0f}"), "", "")
    if fk:
        rss = [ph[n]["rss"] for n in fk]
        row("peak RSS, fork mode (MiB)", "%.0f" % (rss[0] / MiB), fl([r / MiB for r in rss[1:]], "{:.0f}"),
            "<= 25% of the heap", "")
        row("  / target RSS", "%.0f%%" % (100 * rss[0] / t["rss"]), fl([100 * r / t["rss"] for r in rss[1:]], "{:.0f}") + "%", "", "")
    co = group(tag, "core")
    if co:
        a, b = fmt_pair(co, "wall", "{:.2f}")
        row("core census, gcore's core (s)", a, b, "<= 1 s", loads(co))
        a, b = fmt_pair(co, "rss", "{:.0f}", 1 / MiB)
        row("  peak RSS (MiB)", a, b, "", "")
        try:
            live = json.load(open(ty[0] + ".json"))
            cj = json.load(open(co[0] + ".json"))
            same = live["totals"] == cj["totals"] and live["by_size"] == cj["by_size"]
        except (OSError, ValueError, KeyError, IndexError):
            same = False
        row("  core census = live census (totals, by_size)", "yes" if same else "NO", "", "", "")
sm = group("small", "types")
if sm:
    t = targets["small"]
    rows.append(("## bigheap %s: RSS %.2f GiB" % (t["args"], t["rss"] / GiB), "", "", "", ""))
    cp = copied(sm[0])
    rss = [ph[n]["rss"] for n in sm]
    a, b = fmt_pair(sm, "wall", "{:.2f}")
    row("whole attach with types (s)", a, b, "", loads(sm))
    if cp:
        row("peak RSS / bytes copied", "%.2f x" % (rss[0] / cp), fl([r / cp for r in rss[1:]], "{:.2f}") + " x",
            "<= 1.2 x", "")

bad = [k for k, v in ph.items() if v["st"] not in (0,) and not k.endswith("-idle")]
print("heapgrab: %s" % heapgrab)
if os.environ.get("PRIO"):
    print("prio:     %s (target and tools)" % os.environ["PRIO"])
print("loadavg:  " + "; ".join(l.strip() for l in open("load.txt")) + " (on %d CPUs)" % os.cpu_count())
print("first run: after %s s with no heapgrab running; later: %d runs right after it (min / median / max)" % (cool, runs))
if skipped:
    print("skipped (not enough free memory): %s MiB" % ", ".join(skipped))
if nocore:
    print("no gcore (not enough free disk): %s" % "; ".join(nocore))
if bad:
    print("WARNING: a run exited non-zero: %s (see *.err)" % ", ".join(sorted(bad)))
w = [max(len(r[i]) for r in rows if not r[0].startswith("##")) for i in range(5)]
print()
print("%-*s  %-*s  %-*s  %-*s  %s" % (w[0], "figure", w[1], "first run", w[2], "later runs",
                                     w[3], "goal", "load (1 min) per run"))
for r in rows:
    if r[0].startswith("##"):
        print()
        print(r[0][3:])
        continue
    print("%-*s  %-*s  %-*s  %-*s  %s" % (w[0], r[0], w[1], r[1], w[2], r[2], w[3], r[3], r[4]))
EOF
