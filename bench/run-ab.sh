#!/bin/bash
# shellcheck disable=SC2016  # sh -c scripts take their arguments as $0 $1 ...
# run-ab.sh HEAPGRAB_A HEAPGRAB_B [HEAPGRAB_C ...]: heapgrab binaries (or
# one binary with several environments, see A_ENV, B_ENV, ...) on ONE
# target, interleaved: the pause and wall time of the first run (after
# COOL_S seconds with no heapgrab running) and of the later runs, of each.
#
# Starts `bigheap --mib MIB --chunks MIB*4096 --threads 4 --typed` (as
# run-goals.sh), then ROUNDS rounds (default 3); in each round, for each
# mode in MODES (default "types notypes": `attach --format json -v` and
# `attach --no-types --format json -v`) and for each binary (the order
# turned by one every round, so none always follows another): sleep
# COOL_S (default 15), then 1 + RUNS (default 2) runs. Every run's JSON of
# one mode must be the same, byte for byte, whichever binary wrote it
# (the target does not change once ready): the table says so.
#
# Per run: the target's longest gap (bigheap's pause-watch thread: the
# pause it felt), wall time, heapgrab's own -v figures (pause, copy,
# walk, buffers before the stop, pre-copied / changed bytes where
# printed) and the load average (1 min) before it. The table gives, per
# mode and binary, the median of the first runs and of the later runs,
# with every value listed.
#
# Environment: MIB (default 1024), ROUNDS, RUNS, COOL_S, MODES, OUT
# (default /tmp/heapgrab-bench-ab), PRIO (command prefix for the target
# and the binaries, e.g. "nice -n -10"), A_ENV, B_ENV, ... (e.g.
# "HEAPGRAB_PRECOPY=0": passed through env), THREADS (bigheap threads).
# Needs root (ptrace of a non-child), gcc, python3, /usr/bin/time.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
if [ $# -lt 2 ] || [ $# -gt 6 ]; then
	echo "usage: run-ab.sh HEAPGRAB_A HEAPGRAB_B [... up to F]" >&2
	exit 2
fi
LETTERS=""
for l in A B C D E F; do
	[ $# -gt 0 ] || break
	[ -x "$1" ] || { echo "run-ab.sh: not executable: $1" >&2; exit 2; }
	printf -v "BIN_$l" '%s' "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
	v=${l}_ENV
	printf -v "ENV_$l" '%s' "${!v:-}"
	LETTERS="$LETTERS $l"
	shift
done
MIB=${MIB:-1024}
ROUNDS=${ROUNDS:-3}
RUNS=${RUNS:-2}
COOL_S=${COOL_S:-15}
MODES=${MODES:-types notypes}
OUT=${OUT:-/tmp/heapgrab-bench-ab}
PRIO=${PRIO:-}
THREADS=${THREADS:-4}
CC=${CC:-gcc}

die() { echo "run-ab.sh: $*" >&2; exit 2; }
mkdir -p "$OUT" && cd "$OUT" || exit 2
rm -f ./*.json ./*.err ./*.time runs.txt ready-ab results-ab
$CC -O2 -g -pthread -o bigheap "$HERE/bigheap.c" || die "cannot build bigheap"

BPID=
trap '[ -n "$BPID" ] && kill -TERM $BPID 2> /dev/null; wait 2> /dev/null' EXIT
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
load1() { cut -d' ' -f1 /proc/loadavg; }

# shellcheck disable=SC2086
$PRIO ./bigheap --mib "$MIB" --chunks $((MIB * 4096)) --threads "$THREADS" --typed \
	--ready ready-ab --results results-ab 2> bigheap.log &
BPID=$!
for _ in $(seq 6000); do
	[ -s ready-ab ] && break
	kill -0 $BPID 2> /dev/null || die "bigheap exited: $(cat bigheap.log)"
	sleep 0.1
done
[ -s ready-ab ] || die "bigheap not ready"
cat bigheap.log
SEQ=0
gap() {
	SEQ=$((SEQ + 1))
	kill -USR1 "$BPID" || die "target $BPID is gone"
	for _ in $(seq 1000); do
		GAP=$(awk -v s=$SEQ '$1 == s { print $2 }' results-ab)
		[ -n "$GAP" ] && return
		sleep 0.01
	done
	die "target did not answer SIGUSR1 #$SEQ"
}

# one WHICH MODE ROUND I
one() {
	local which=$1 mode=$2 round=$3 i=$4 bin envs args name t0 t1 st ld
	bin=BIN_$which envs=ENV_$which
	bin=${!bin} envs=${!envs}
	case $mode in
	types) args="--format json -v" ;;
	notypes) args="--no-types --format json -v" ;;
	*) die "unknown mode $mode" ;;
	esac
	name=$mode-$which-$round-$i
	ld=$(load1)
	gap
	t0=$(now_ms)
	# shellcheck disable=SC2086
	$PRIO /usr/bin/time -f '%e %M' -o "$name.time" env $envs "$bin" attach $args "$BPID" \
		> "$name.json" 2> "$name.err"
	st=$?
	t1=$(now_ms)
	gap
	echo "$name $st $((t1 - t0)) $GAP $ld" >> runs.txt
	printf '   %-22s exit %d, wall %6d ms, target gap %8d us, load %s\n' "$name" "$st" \
		"$((t1 - t0))" "$GAP" "$ld"
}

echo "start $(cut -d' ' -f1-3 /proc/loadavg)" > load.txt
order=$LETTERS
for r in $(seq 1 "$ROUNDS"); do
	for mode in $MODES; do
		for which in $order; do
			sleep "$COOL_S"
			for i in $(seq 0 "$RUNS"); do
				one "$which" "$mode" "$r" "$i"
			done
		done
	done
	# shellcheck disable=SC2086 # a word list
	set -- $order
	first=$1
	shift
	order="$* $first"
done
echo "end $(cut -d' ' -f1-3 /proc/loadavg)" >> load.txt

for l in $LETTERS; do
	b=BIN_$l e=ENV_$l
	echo "$l: ${!e} ${!b}"
done > binaries.txt
python3 - <<'EOF' | tee summary.txt
import filecmp, re, statistics, sys
runs = {}
for line in open("runs.txt"):
    name, st, wall, gap, ld = line.split()
    mode, which, rnd, i = name.split("-")
    err = open(name + ".err").read()
    def f(pat):
        m = re.search(pat, err)
        return float(m[1]) if m else float("nan")
    runs[name] = dict(mode=mode, which=which, first=i == "0", st=int(st), wall=int(wall),
                      gap=int(gap) / 1000, load=ld, pause=f(r"debug: pause ([\d.]+) ms"),
                      copy=f(r"copy ([\d.]+) ms \("), walk=f(r"walk ([\d.]+) ms"),
                      buffers=f(r"buffers ([\d.]+) ms"), pre=f(r"pre-copied (\d+) bytes"),
                      changed=f(r"(\d+) changed"))
print(open("binaries.txt").read(), end="")
print("loadavg: " + "; ".join(l.strip() for l in open("load.txt")))
bad = [n for n, r in runs.items() if r["st"] != 0]
if bad:
    print("WARNING: non-zero exit: " + ", ".join(sorted(bad)))
for mode in sorted({r["mode"] for r in runs.values()}):
    names = sorted(n for n, r in runs.items() if r["mode"] == mode)
    same = all(filecmp.cmp(n + ".json", names[0] + ".json", shallow=False) for n in names)
    print("\n%s: every JSON the same (all binaries, all runs): %s" % (mode, "yes" if same else "NO"))
    print("%-3s %-6s %-34s %s" % ("", "", "median", "all values (run order)"))
    for which in sorted({r["which"] for r in runs.values()}):
        for first in (True, False):
            sel = [runs[n] for n in names if runs[n]["which"] == which and runs[n]["first"] == first]
            if not sel:
                continue
            for key, unit in (("gap", "ms"), ("pause", "ms"), ("copy", "ms"), ("walk", "ms"),
                              ("buffers", "ms"), ("wall", "ms"), ("changed", "B")):
                v = [r[key] for r in sel]
                med = statistics.median(v)
                print("%-3s %-6s %-10s %10.1f %-10s %s" % (which, "first" if first else "later",
                      key, med, unit, " ".join("%.0f" % x for x in v)))
            print("%-3s %-6s %-10s %s" % (which, "first" if first else "later", "load",
                  " ".join(r["load"] for r in sel)))
EOF
