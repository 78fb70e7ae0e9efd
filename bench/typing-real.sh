#!/bin/bash
# typing-real.sh BUILD_DIR: how much of real programs' heaps typing types.
#
# Prints, for each program, live bytes and the share typed exactly, by
# shape (inferred) and untyped (heapgrab attach --format json, "typing").
# Programs nobody here wrote, with debug info:
#   tmux 3.3a    Debian's source (apt-get source; needs a deb-src line,
#                added for this run only), built with -g -O2, a server with
#                4 windows of 15,000 lines of output each
#   vsftpd       Debian's vsftpd + vsftpd-dbg, standalone, one session
#   cupt         Debian's C++ package manager + cupt-dbg, `cupt shell`
#                after `show bash`
#   python3.11d  Debian's debug build of CPython, PYTHONMALLOC=malloc, a
#                dict of 20,000 small objects
# Needs root, network access to the Debian mirror, and about 5 minutes.
# Prints figures only; never fails because a figure is low.
set -u
BUILD=${1:?usage: bench/typing-real.sh BUILD_DIR}
HG=$BUILD/src/heapgrab
WORK=${WORK:-/tmp/heapgrab-typing-real}
mkdir -p "$WORK" && cd "$WORK" || exit 2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q libevent-dev libncurses-dev bison vsftpd vsftpd-dbg cupt cupt-dbg \
	python3.11-dbg > apt.log 2>&1 || echo "apt-get failed (see $WORK/apt.log)"

report() {	# NAME PID
	"$HG" attach "$2" --format json > "$1.json" 2> "$1.err" || true
	python3 - "$1" "$1.json" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[2]))
except Exception as e:
    print("%-12s no census (%s)" % (sys.argv[1], e)); sys.exit(0)
t = d["typing"]
live = t["exact"]["bytes"] + t["inferred"]["bytes"] + t["untyped"]["bytes"]
n = t["exact"]["count"] + t["inferred"]["count"] + t["untyped"]["count"]
pc = lambda x: 100.0 * x / live if live else 0.0
print("%-12s %10d chunks %12d bytes  exact %5.1f%%  inferred %5.1f%%  untyped %5.1f%%  "
      "conflicts %d, warnings %d" % (sys.argv[1], n, live, pc(t["exact"]["bytes"]),
      pc(t["inferred"]["bytes"]), pc(t["untyped"]["bytes"]), t["conflicts"], d["warnings"]))
PY
}

# tmux from source
if [ ! -x tmux-3.3a/tmux ]; then
	echo "deb-src http://deb.debian.org/debian bookworm main" > srcs.list
	mkdir -p lists/partial
	apt-get -o Dir::Etc::SourceList="$PWD/srcs.list" -o Dir::Etc::SourceParts=/dev/null \
		-o Dir::State::Lists="$PWD/lists" update > src-update.log 2>&1
	apt-get -o Dir::Etc::SourceList="$PWD/srcs.list" -o Dir::Etc::SourceParts=/dev/null \
		-o Dir::State::Lists="$PWD/lists" source --download-only tmux > src.log 2>&1
	tar xzf tmux_3.3a.orig.tar.gz &&
		(cd tmux-3.3a && ./configure CFLAGS='-g -O2' > conf.log 2>&1 && make -j2 > make.log 2>&1)
fi
if [ -x tmux-3.3a/tmux ]; then
	export TMUX_TMPDIR=$WORK/sock
	mkdir -p "$TMUX_TMPDIR"
	T="tmux-3.3a/tmux -L hgbench -f /dev/null"
	$T kill-server 2> /dev/null
	$T new-session -d -s s -x 200 -y 50 "bash --norc"
	$T set -g history-limit 20000
	for w in 1 2 3; do $T new-window -t s "bash --norc"; done
	for w in 0 1 2 3; do
		$T send-keys -t "s:$w" "seq -f 'line %g of some output text in window $w' 15000" Enter
	done
	sleep 8
	report tmux "$(pgrep -f 'tmux -L hgbench' | head -1)"
	$T kill-server
fi

# vsftpd with one session
cat > vsftpd.conf <<EOC
listen=YES
listen_port=2121
anonymous_enable=YES
background=NO
secure_chroot_dir=/var/run/vsftpd/empty
EOC
mkdir -p /var/run/vsftpd/empty
vsftpd "$PWD/vsftpd.conf" > vsftpd.log 2>&1 &
sleep 1
python3 -c 'import ftplib, time; f = ftplib.FTP(); f.connect("127.0.0.1", 2121); f.login(); time.sleep(6)' &
sleep 2
for p in $(pgrep -x vsftpd); do report "vsftpd:$p" "$p"; done
pkill -x vsftpd

# cupt shell
rm -f cupt.fifo && mkfifo cupt.fifo
cupt shell < cupt.fifo > cupt.out 2>&1 &
(exec 3> cupt.fifo; echo "show bash" >&3; sleep 20) &
sleep 12
report cupt "$(pgrep -x cupt | head -1)"
pkill -x cupt

# python debug build, everything on glibc's heap
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
(sleep 30 | PYTHONMALLOC=malloc python3.11d py.py > py.out 2>&1) &
sleep 4
report python3.11d "$(pgrep -f 'python3.11d py.py' | head -1)"
pkill -f 'python3.11d py.py'


# Lua 5.4 and CPython 3.11 with their own counts: bench/typing-real-interp.sh
interp_programs() {
	bash "$(sed -n 's/^abs_top_srcdir = //p' "$BUILD/Makefile")/bench/typing-real-interp.sh" \
		"$BUILD"
}
interp_programs
