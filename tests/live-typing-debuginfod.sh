#!/bin/sh
# live-typing-debuginfod.sh - debug info from a debuginfod server.
#
# A copy of fx-types with its debug info split off (objcopy
# --only-keep-debug, strip --strip-debug, a .gnu_debuglink to the debug
# file next to it) runs as the target. The debug files (the copy's and,
# when installed, libc's) are also served by a real debuginfod (Debian's
# package) that the test starts on a loopback port. Typed from the
# installed files first; then the copy's debug file is moved away and
# heapgrab's debug path (--debug-dir, libc's lookup) is an empty
# directory, so only the server has them. Checks:
#  - with DEBUGINFOD_URLS, the census (by_type, typing, by_size, totals,
#    libc symbols) is identical to the one typed from installed files, and
#    the fixture's own counts hold (check-types.py);
#  - the downloads land in the cache (DEBUGINFOD_CACHE_PATH), and with
#    the server stopped the census is the same again (from the cache);
#  - --no-debuginfod asks no server: nothing cached, the copy's module is
#    listed without debug info;
#  - on a terminal (script(1)), libdw's progress line appears on stderr;
#  - a server that accepts connections and never answers: heapgrab gives
#    up (DEBUGINFOD_TIMEOUT=1 and no retry here: about 1 s per module
#    looked up, 6-8 s in all) and still prints a census;
#  - the fixture's own checks pass afterwards.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
require_ptrace_
command -v debuginfod > /dev/null 2>&1 ||
	skip_ "debuginfod (Debian package debuginfod) is not installed"
if ! command -v objcopy > /dev/null 2>&1 || ! command -v strip > /dev/null 2>&1; then
	skip_ "objcopy and strip (binutils) are needed"
fi

build_id_() {
	readelf -n "$1" 2> /dev/null | awk '/Build ID:/ { print $3; exit }'
}

# the target: fx-types without its debug info, a debuglink to it
mkdir -p srv empty cache bin
cp "$FIXTURES/fx-types" bin/fx-types
objcopy --only-keep-debug bin/fx-types bin/fx-types.debug ||
	framework_failure_ "objcopy --only-keep-debug failed"
strip --strip-debug bin/fx-types || framework_failure_ "strip failed"
objcopy --add-gnu-debuglink=bin/fx-types.debug bin/fx-types ||
	framework_failure_ "objcopy --add-gnu-debuglink failed"
cp bin/fx-types.debug srv/fx-types.debug
exe_bid=$(build_id_ bin/fx-types)
[ -n "$exe_bid" ] || framework_failure_ "fx-types has no build-id"
if have_libc_debuginfo_; then
	lbid=$(build_id_ "$(libc_path_ "$FIXTURES/fx-types")")
	cp "/usr/lib/debug/.build-id/$(printf %s "$lbid" | cut -c1-2)/$(printf %s "$lbid" | cut -c3-).debug" \
		srv/libc.debug
else
	log_ "no libc debug info installed: the server serves the fixture's only"
fi

port=$("$PYTHON3" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
debuginfod -p "$port" -d "$PWD/db.sqlite" -F "$PWD/srv" > server.log 2>&1 &
srv_pid=$!
bg_all_="$bg_all_ $srv_pid"
"$PYTHON3" - "$port" "$exe_bid" <<'PY' || framework_failure_ "debuginfod did not serve the debug file in 60 s: $(tail -3 server.log)"
import sys, time, urllib.request
url = "http://127.0.0.1:%s/buildid/%s/debuginfo" % (sys.argv[1], sys.argv[2])
for _ in range(600):
    try:
        if urllib.request.urlopen(url, timeout=2).status == 200:
            sys.exit(0)
    except Exception:
        pass
    time.sleep(0.1)
sys.exit(1)
PY
requests_() { grep -c 'GET /buildid' server.log; }

FIXTURES=$PWD/bin start_fixture fx-types -n 3

HG_OUT=inst.json run_hg attach "$FX_PID" --format json
expect_rc 0 "attach with the installed debug files"
"$PYTHON3" "$srcdir/check-types.py" inst.json --ready "$FX_READY" ||
	fail_ "typed from installed files, the census differs from the fixture's counts"

mv bin/fx-types.debug hidden.debug
before=$(requests_)
HG_OUT=dbgi.json DEBUGINFOD_URLS=http://127.0.0.1:$port DEBUGINFOD_CACHE_PATH=$PWD/cache \
	run_hg attach "$FX_PID" --format json --debug-dir "$PWD/empty"
expect_rc 0 "attach through debuginfod"
[ "$(requests_)" -gt "$before" ] || fail_ "heapgrab asked the server nothing"
same_() {
	"$PYTHON3" - "$1" "$2" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
keys = ("by_type", "typing", "by_size", "totals")
bad = [k for k in keys if a[k] != b[k]]
if a["target"].get("libc_symbols") != b["target"].get("libc_symbols"):
    bad.append("target.libc_symbols")
if bad:
    print("differ: " + ", ".join(bad), file=sys.stderr)
    sys.exit(1)
PY
}
same_ dbgi.json inst.json ||
	fail_ "the census typed through debuginfod differs from the one typed from installed files"
[ -s "cache/$exe_bid/debuginfo" ] || fail_ "nothing cached for the fixture's build-id"

HG_OUT=nodbgi.json DEBUGINFOD_URLS=http://127.0.0.1:$port DEBUGINFOD_CACHE_PATH=$PWD/cache2 \
	run_hg attach "$FX_PID" --format json --debug-dir "$PWD/empty" --no-debuginfod
expect_rc 0 "attach --no-debuginfod"
before=$(requests_)
"$PYTHON3" - nodbgi.json <<'PY' || fail_ "--no-debuginfod: the fixture still has debug info"
import json, sys
m = json.load(open(sys.argv[1]))["typing"]["modules_without_debug_info"]
sys.exit(0 if any(p.endswith("/bin/fx-types") for p in m) else 1)
PY
[ ! -d cache2 ] || [ -z "$(ls cache2)" ] || fail_ "--no-debuginfod filled a cache"

# a terminal: libdw's progress line (a fresh cache, so it downloads)
if command -v script > /dev/null 2>&1; then
	DEBUGINFOD_URLS=http://127.0.0.1:$port DEBUGINFOD_CACHE_PATH=$PWD/cache3 \
		script -qec "$HG attach $FX_PID --format json --debug-dir $PWD/empty -o tty.hgs --quiet" \
		tty.log > /dev/null 2>&1 < /dev/null
	grep -q 'Downloading' tty.log || fail_ "no progress line on a terminal: $(tail -c 300 tty.log)"
else
	log_ "no script(1): progress line not checked"
fi

# from the cache, with the server gone
kill "$srv_pid"
wait "$srv_pid" 2> /dev/null
HG_OUT=cached.json DEBUGINFOD_URLS=http://127.0.0.1:$port DEBUGINFOD_CACHE_PATH=$PWD/cache \
	run_hg attach "$FX_PID" --format json --debug-dir "$PWD/empty"
expect_rc 0 "attach from the cache"
same_ cached.json inst.json || fail_ "the census typed from the cache differs"

# a server that accepts connections and never answers
"$PYTHON3" - "$port" > mute.log 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
print("listening", flush=True)
conns = []
end = time.time() + 120
while time.time() < end:
    s.settimeout(1)
    try:
        conns.append(s.accept()[0])
    except socket.timeout:
        pass
PY
mute_pid=$!
bg_all_="$bg_all_ $mute_pid"
for _ in $(seq 50); do grep -q listening mute.log && break; sleep 0.1; done
t0=$(date +%s)
HG_OUT=mute.json DEBUGINFOD_URLS=http://127.0.0.1:$port DEBUGINFOD_CACHE_PATH=$PWD/cache4 \
	DEBUGINFOD_TIMEOUT=1 DEBUGINFOD_RETRY_LIMIT=0 \
	run_hg attach "$FX_PID" --format json --debug-dir "$PWD/empty"
t1=$(date +%s)
expect_rc 0 "attach with a server that never answers"
log_ "with a mute server: $((t1 - t0)) s"
[ $((t1 - t0)) -le 40 ] || fail_ "heapgrab waited $((t1 - t0)) s for a mute server"
kill "$mute_pid" 2> /dev/null
finish_fixture
