#!/bin/bash
# typing-real.sh BUILD_DIR [PROGRAM...]: how much of real programs' heaps
# typing types, and whether the counts it gives are the programs' own.
#
# One row per program: live chunks and bytes, the share typed exactly, by
# shape (inferred) and untyped, conflicts, typing time (the text run's
# "typing N ms"), then for 2-3 types heapgrab's count against the count
# the program itself reports (its stats command, its own printout).
#
# Programs (default: all), one function prog_NAME each:
#   syslogng  Debian's syslog-ng 3.38 + syslog-ng-dbg, libivykis0-dbg: a
#             TCP source, 50,000 messages queued to a TCP destination
#             nobody listens on; own counts: syslog-ng-ctl stats "queued"
#             (one chunk per message: the LogMessage, its queue nodes and
#             its NVTable payload in one allocation) and the stats
#             clusters it lists
#   cupt      Debian's C++ package manager + cupt-dbg, `cupt shell` after
#             `show bash`; own count: its record of each installed package
#             (std::map<std::string, InstalledRecord> nodes) against the
#             packages in the dpkg status file it reads
#   gocgo     a Go service built here with cgo (golang-go), 20,000 C
#             structs malloc'd by C and kept alive from a Go slice, each
#             with a C name string; own counts: the program's len()
#   tmux      tmux 3.3a from Debian's source (deb-src line added for this
#             run only), built -g -O2: 4 windows of 15,000 lines each
#   vsftpd    Debian's vsftpd + vsftpd-dbg, one anonymous session
#   python    python3.11-dbg, PYTHONMALLOC=malloc, 20,000 small objects
# Another program is one more prog_NAME function calling report; keep
# each self-contained (it starts, measures and stops its program).
#
# Needs root, the Debian mirror (apt-get) and about 5 minutes for all.
# Prints figures only; never fails because a figure is low.
set -u
BUILD=${1:?usage: bench/typing-real.sh BUILD_DIR [PROGRAM...]}
shift
HG=$(cd "$BUILD" && pwd)/src/heapgrab
WORK=${WORK:-/tmp/heapgrab-typing-real}
mkdir -p "$WORK" && cd "$WORK" || exit 2
export DEBIAN_FRONTEND=noninteractive

need() {	# PACKAGE...: install what is missing; false when apt fails
	local missing=
	for p in "$@"; do
		dpkg -s "$p" > /dev/null 2>&1 || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	# shellcheck disable=SC2086
	apt-get install -y -q $missing > "apt-$$.log" 2>&1 ||
		{ echo "apt-get install$missing failed (see $WORK/apt-$$.log)"; return 1; }
}

# report NAME PID [TYPE=OWN_COUNT...]: one census, the row, the counts.
# TYPE is a by_type row name (exact and inferred rows of that name added)
# or, with '*' in it, a shell-style pattern (template arguments' spelling
# varies: std::string or std::__cxx11::basic_string<...>).
report() {
	local name=$1 pid=$2
	shift 2
	"$HG" attach "$pid" --format json > "$name.json" 2> "$name.err"
	"$HG" attach "$pid" --top 40 --explain-types > "$name.txt" 2>> "$name.err"
	python3 - "$name" "$name.json" "$name.txt" "$@" <<'PY'
import fnmatch, json, re, sys
name, jf, tf = sys.argv[1:4]
try:
    d = json.load(open(jf))
except Exception as e:
    print("%-10s no census (%s)" % (name, e)); sys.exit(0)
t = d["typing"]
live = t["exact"]["bytes"] + t["inferred"]["bytes"] + t["untyped"]["bytes"]
n = t["exact"]["count"] + t["inferred"]["count"] + t["untyped"]["count"]
pc = lambda x: 100.0 * x / live if live else 0.0
m = re.search(r"typing ([0-9.]+) ms", open(tf).read())
print("%-10s %8d chunks %11d bytes  typed %5.1f%% (exact %5.1f%%, inferred %5.1f%%)  "
      "conflicts %d  typing %s ms  warnings %d"
      % (name, n, live, pc(t["exact"]["bytes"] + t["inferred"]["bytes"]),
         pc(t["exact"]["bytes"]), pc(t["inferred"]["bytes"]), t["conflicts"],
         m.group(1) if m else "?", d["warnings"]))
for arg in sys.argv[4:]:
    ty, own = arg.rsplit("=", 1)
    own = int(own)
    if "*" in ty:
        got = sum(r["count"] for r in d["by_type"] if fnmatch.fnmatchcase(r["type"], ty))
    else:
        got = sum(r["count"] for r in d["by_type"] if r["type"] == ty)
    off = 100.0 * (got - own) / own if own else 0.0
    print("%-10s   %-40s heapgrab %8d  program %8d  (%+.1f%%)%s"
          % ("", ty, got, own, off, "" if abs(off) <= 2 else "  <- off"))
top = sorted(d["by_type"], key=lambda r: -r["bytes"])[:6]
print("%-10s   largest rows: %s" % ("", "; ".join(
    "%s%s %d" % ("~" if r.get("inferred") else "", r["type"], r["count"]) for r in top)))
PY
}

# the programs shared with tests/real-*.sh (scripts/real-programs.sh)
. "$(dirname "$0")/../scripts/real-programs.sh"
shared_prog() {	# NAME
	local pk
	eval "pk=\$REAL_PACKAGES_$1"
	# shellcheck disable=SC2086
	need $pk || return
	if "real_start_$1" "$WORK"; then
		local counts=()
		mapfile -t counts <<< "$REAL_COUNTS"
		report "$1" "$REAL_PID" "${counts[@]}"
	else
		echo "$1: $REAL_WHY"
	fi
	real_stop
}
prog_syslogng() { shared_prog syslogng; }
prog_cupt() { shared_prog cupt; }
prog_gocgo() { shared_prog gocgo; }

prog_tmux() {
	need libevent-dev libncurses-dev bison || return
	if [ ! -x tmux-3.3a/tmux ]; then
		echo "deb-src http://deb.debian.org/debian bookworm main" > srcs.list
		mkdir -p lists/partial
		apt-get -o Dir::Etc::SourceList="$PWD/srcs.list" -o Dir::Etc::SourceParts=/dev/null \
			-o Dir::State::Lists="$PWD/lists" update > src-update.log 2>&1
		apt-get -o Dir::Etc::SourceList="$PWD/srcs.list" -o Dir::Etc::SourceParts=/dev/null \
			-o Dir::State::Lists="$PWD/lists" source --download-only tmux > src.log 2>&1
		tar xzf tmux_3.3a.orig.tar.gz &&
			(cd tmux-3.3a && ./configure CFLAGS='-g -O2' > conf.log 2>&1 &&
			 make -j2 > make.log 2>&1)
	fi
	[ -x tmux-3.3a/tmux ] || { echo "tmux: build failed"; return; }
	export TMUX_TMPDIR=$WORK/sock
	mkdir -p "$TMUX_TMPDIR"
	local T="tmux-3.3a/tmux -L hgbench -f /dev/null"
	$T kill-server 2> /dev/null
	$T new-session -d -s s -x 200 -y 50 "bash --norc"
	$T set -g history-limit 20000
	for w in 1 2 3; do $T new-window -t s "bash --norc"; done
	for w in 0 1 2 3; do
		$T send-keys -t "s:$w" "seq -f 'line %g of some output text in window $w' 15000" Enter
	done
	sleep 8
	report tmux "$($T display -p '#{pid}')" "struct window=4"
	$T kill-server
}

prog_vsftpd() {
	need vsftpd vsftpd-dbg || return
	cat > vsftpd.conf <<EOC
listen=YES
listen_port=2121
anonymous_enable=YES
background=NO
secure_chroot_dir=/var/run/vsftpd/empty
EOC
	mkdir -p /var/run/vsftpd/empty
	vsftpd "$PWD/vsftpd.conf" > vsftpd.log 2>&1 &
	local vp=$!
	sleep 1
	python3 -c 'import ftplib, time; f = ftplib.FTP(); f.connect("127.0.0.1", 2121); f.login(); time.sleep(6)' &
	sleep 2
	for p in $(pgrep -x vsftpd); do report "vsftpd:$p" "$p"; done
	kill "$vp" 2> /dev/null
	pkill -P "$vp" 2> /dev/null
}

prog_python() {
	need python3.11-dbg || return
	cat > py.py <<'EOP'
import sys
class Session:
    def __init__(self, i):
        self.id = i
        self.name = "session-%d" % i
        self.data = [i, i * 2.5, str(i)]
sessions = {i: Session(i) for i in range(20000)}
print("ready", flush=True)
sys.stdin.read()
EOP
	rm -f py.fifo && mkfifo py.fifo
	PYTHONMALLOC=malloc python3.11d py.py < py.fifo > py.out 2>&1 &
	local pp=$!
	(exec 3> py.fifo; sleep 30) &
	sleep 4
	report python "$pp"
	kill "$pp" 2> /dev/null
}

echo "heapgrab $("$HG" --version 2>&1 | head -1); $(uptime)"
for p in "${@:-syslogng cupt gocgo tmux vsftpd python}"; do
	for q in $p; do
		"prog_$q"
	done
done
