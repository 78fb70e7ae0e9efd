#!/bin/sh
# serve-pprof.sh - go tool pprof reads heapgrab serve's /debug/pprof/heap
# as it reads a Go program's, and ?seconds=N is heapgrab diff.
#
# Oracles: go tool pprof (Debian's golang-go, a decoder that shares no code
# with heapgrab) fetching the profile over HTTP; fx-grow's own count of its
# items; heapgrab attach's JSON census and heapgrab diff's JSON of two
# snapshot files taken around the delta (tests/check-formats.py holds a
# profile against them, per type and in total).
#  - `go tool pprof -top -sample_index=inuse_objects URL` lists struct
#    grow_item with the fixture's exact count; -raw and -top of the served
#    profile equal attach's census (the fixture is quiescent);
#  - `go tool pprof -raw -seconds 4 URL` while the fixture grows by 1,000
#    items: the delta equals `heapgrab diff before.hgs after.hgs`, files
#    taken before the request and after its answer.
# Slow (go): runs with HG_VIEWER_TESTS=1 only, like tests/out-pprof.sh.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
# shellcheck source-path=SCRIPTDIR source=out-lib.sh
. "$srcdir/out-lib.sh"
# shellcheck source-path=SCRIPTDIR source=serve-lib.sh
. "$srcdir/serve-lib.sh"
require_viewer_ go
require_ptrace_
require_curl_
PPROF_TMPDIR=$(pwd)
GOCACHE=$(pwd)/gocache
GOTOOLCHAIN=local
HOME=${HOME:-$(pwd)}
export PPROF_TMPDIR GOCACHE GOTOOLCHAIN HOME
go tool pprof -h > /dev/null 2>&1 || skip_ "go tool pprof does not run"

gopprof() {
	gp_out_=$1
	shift
	go tool pprof "$@" > "$gp_out_" 2> gopprof.err || {
		cat gopprof.err >&2
		fail_ "go tool pprof $* failed"
	}
	[ -s "$gp_out_" ] || fail_ "go tool pprof $* printed nothing"
}

start_grow --initial 500
start_serve -v --min-interval 1s "$FX_PID"
url=$SERVE_URL/debug/pprof/heap

# ---- the census, fetched by go tool pprof --------------------------------------
gopprof top.count -top -nodefraction=0 -sample_index=inuse_objects "$url"
grep -Eq "^ +$(grow_value items) +[0-9.]+% +[0-9.]+% +[0-9]+ +[0-9.]+% +struct grow_item\$" top.count || {
	cat top.count >&2
	fail_ "go tool pprof -top: struct grow_item is not listed with $(grow_value items) objects"
}
log_ "go tool pprof -top $url: $(grep 'struct grow_item$' top.count)"
HG_OUT=census.json run_hg attach "$FX_PID" --format json
expect_rc 0 "attach --format json"
gopprof served.raw -raw "$url"
gopprof served.topb -top -unit=B -nodefraction=0 "$url"
gopprof served.topc -top -unit=B -nodefraction=0 -sample_index=inuse_objects "$url"
check_formats census census.json go-raw served.raw go-top-bytes served.topb \
	go-top-count served.topc

# ---- ?seconds=4 against heapgrab diff -------------------------------------------------
HG_OUT=/dev/null run_hg attach "$FX_PID" -o before.hgs --quiet
expect_rc 0 "attach -o before.hgs"
before=$(grep -c 'snapshot at' serve.err)
go tool pprof -raw -seconds 4 "$url" > delta.raw 2> delta.err &
go_pid=$!
bg_all_="$bg_all_ $go_pid"
# grow once serve has taken the delta's first snapshot
for _ in $(seq 1 200); do
	[ "$(grep -c 'snapshot at' serve.err)" -gt "$before" ] && break
	sleep 0.05
done
[ "$(grep -c 'snapshot at' serve.err)" -gt "$before" ] ||
	fail_ "serve took no snapshot for ?seconds=4 within 10 s"
grow_now 1
rc=0
wait_timeout_ "$go_pid" 120 || rc=$?
[ "$rc" -eq 0 ] || { cat delta.err >&2; fail_ "go tool pprof -seconds 4 failed ($rc)"; }
HG_OUT=/dev/null run_hg attach "$FX_PID" -o after.hgs --quiet
expect_rc 0 "attach -o after.hgs"
HG_OUT=diff.json run_hg diff before.hgs after.hgs --format json
expect_rc 0 "diff before.hgs after.hgs"
check_formats diff diff.json go-raw delta.raw
grep -q '^Duration: 4s' delta.raw || fail_ "the delta profile does not span 4 s: $(head -5 delta.raw)"
grep -Eq "^ +1000 +$(grow_value grown_bytes): .*" delta.raw ||
	fail_ "the delta does not hold +1000 items of $(grow_value grown_bytes) bytes: $(cat delta.raw)"
log_ "delta over 4 s: $(grep -E '^ +1000 ' delta.raw)"

stop_serve
finish_fixture
