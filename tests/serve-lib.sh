# shellcheck shell=sh
# shellcheck disable=SC2154 # HG, srcdir, FX_PID ...: from init.sh
# serve-lib.sh - helpers for the heapgrab serve tests (tests/serve-*.sh),
# sourced after init.sh. Everything listens on 127.0.0.1, on ports the
# kernel picks.
#
#   require_curl_        skip (77) without curl
#   start_grow [ARGS]    fixtures/fx-grow (start_fixture) with its state
#                        file in grow.state; sets FX_PID
#   grow_now N           SIGUSR2 to fx-grow and wait until its state file
#                        says it has grown N times
#   grow_value KEY       a line of fx-grow's state file
#   start_serve ARGS     heapgrab serve --listen 127.0.0.1:0 ARGS in the
#                        background (stdout serve.out, stderr serve.err),
#                        waits for its "listening on" line; sets SERVE_PID
#                        and SERVE_URL (http://127.0.0.1:PORT)
#   stop_serve           SIGTERM; serve must exit 0 within 30 s
#   http_get PATH OUT [CURL-ARGS]
#                        GET SERVE_URL/PATH into OUT; prints the status
#                        (000 when the connection failed)
#   metric FILE NAME [LABELS]
#                        the value of the sample NAME{...LABELS...} in a
#                        scraped FILE (LABELS: 'kind="top"', a substring of
#                        the label set); empty when absent
#   rss_kib PID          VmRSS of PID in KiB
#   stop_groups FILE     fx-grow's stops (its "stop T" lines in FILE) in
#                        groups: a stop less than 100 ms after the previous
#                        one belongs to the same snapshot (a consistency
#                        round that let every thread run); prints the
#                        number of groups, then the smallest gap between
#                        two groups' first stops in ms

require_curl_() {
	command -v curl > /dev/null 2>&1 || skip_ "curl not installed (apt-get install curl)"
}

start_grow() {
	start_fixture fx-grow --state grow.state "$@"
}

grow_value() {
	awk -v k="$1" '$1 == k { print $2; exit }' grow.state 2> /dev/null
}

grow_now() {
	kill -USR2 "$FX_PID" || fail_ "cannot signal fx-grow"
	for _ in $(seq 1 400); do
		[ "$(grow_value grows)" = "$1" ] && return 0
		sleep 0.05
	done
	framework_failure_ "fx-grow did not grow (grows $(grow_value grows), want $1)"
}

start_serve() {
	rm -f serve.out serve.err
	HG_OUT=serve.out HG_ERR=serve.err spawn_hg serve --listen 127.0.0.1:0 "$@"
	SERVE_PID=$HG_PID
	for _ in $(seq 1 400); do
		SERVE_URL=$(sed -n 's|^heapgrab serve: listening on \(http://[0-9.:]*\)/$|\1|p' \
			serve.out 2> /dev/null)
		[ -n "$SERVE_URL" ] && { log_ "serve $* at $SERVE_URL (pid $SERVE_PID)"; return 0; }
		kill -0 "$SERVE_PID" 2> /dev/null || {
			cat serve.err >&2
			fail_ "heapgrab serve $* exited before it listened"
		}
		sleep 0.05
	done
	fail_ "heapgrab serve $* did not say where it listens"
}

stop_serve() {
	kill -TERM "$SERVE_PID" 2> /dev/null
	ss_rc_=0
	wait_timeout_ "$SERVE_PID" 30 || ss_rc_=$?
	[ "$ss_rc_" -ne 124 ] || fail_ "heapgrab serve did not exit within 30 s of SIGTERM"
	[ "$ss_rc_" -eq 0 ] || {
		sed 's/^/    /' serve.err >&2
		fail_ "heapgrab serve exited with status $ss_rc_ after SIGTERM (want 0)"
	}
	log_ "serve exited 0 after SIGTERM"
}

http_get() {
	hg_path_=$1
	hg_file_=$2
	shift 2
	curl -s -o "$hg_file_" -w '%{http_code}' --max-time 60 "$@" "$SERVE_URL$hg_path_" ||
		:
}

metric() {
	# the value is the last field; type names hold spaces
	awk -v n="$2" -v l="${3:-}" '
		index($0, n "{") == 1 || index($0, n " ") == 1 {
			s = substr($0, 1, length($0) - length($NF) - 1)
			if (l == "" || index(s, l)) { print $NF; exit }
		}' "$1"
}

rss_kib() {
	awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"
}

stop_groups() {
	awk '$1 == "stop" {
		t = $2 / 1e6
		if (n == 0 || t - last > 100) {
			if (n && (min == "" || t - first < min))
				min = t - first
			n++
			first = t
		}
		last = t
	} END { printf "%d %d\n", n, min == "" ? -1 : min }' "$1"
}
