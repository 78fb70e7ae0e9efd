#!/bin/sh
# serve-prometheus.sh - a real Prometheus server scrapes heapgrab serve and
# sees exactly the target's own growth.
#
# Debian's prometheus, started here with a generated configuration on a
# loopback port (storage in the test directory, a scrape every 2 s),
# scrapes `heapgrab serve --min-interval 1s` of fx-grow. The test grows
# fx-grow by 1,000 items (SIGUSR2) and asks Prometheus' HTTP API:
#  - Prometheus parsed the scrapes (it negotiates OpenMetrics, so this is
#    the OpenMetrics exposition): most succeeded, and the only error
#    allowed is a scrape that outlasted the timeout on a loaded machine;
#  - heapgrab_heap_inuse_bytes took exactly two values over the whole run,
#    the second after the first, and their difference is the chunk bytes
#    fx-grow added (its own bookkeeping: malloc_usable_size() + 8 each);
#  - heapgrab_type_chunks{type="struct grow_item"} ends at the fixture's
#    item count.
# Slow (a Prometheus server): runs with HG_VIEWER_TESTS=1 only.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
# shellcheck source-path=SCRIPTDIR source=out-lib.sh
. "$srcdir/out-lib.sh"
# shellcheck source-path=SCRIPTDIR source=serve-lib.sh
. "$srcdir/serve-lib.sh"
require_viewer_ prometheus
require_ptrace_
require_curl_

start_grow --initial 100 --grow 1000
start_serve --min-interval 1s "$FX_PID"

# a free loopback port for Prometheus
pport=$("$PYTHON3" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
cat > prometheus.yml <<EOF
global:
  scrape_interval: 2s
  scrape_timeout: 2s
scrape_configs:
  - job_name: heapgrab
    static_configs:
      - targets: ['${SERVE_URL#http://}']
EOF
prometheus --config.file=prometheus.yml --storage.tsdb.path=data \
	--web.listen-address="127.0.0.1:$pport" --log.level=warn \
	> prometheus.out 2> prometheus.err < /dev/null &
prom_pid=$!
bg_all_="$bg_all_ $prom_pid"
api=http://127.0.0.1:$pport/api/v1

# prom_query QUERY: the value of the single series QUERY selects now
# (empty when none)
prom_query() {
	curl -s --max-time 10 -G --data-urlencode "query=$1" "$api/query" > q.json 2> /dev/null || :
	"$PYTHON3" -c 'import json, sys
try:
    r = json.load(open("q.json"))["data"]["result"]
except Exception:
    sys.exit(0)
if len(r) == 1:
    print(r[0]["value"][1])' 2> /dev/null
}

# wait_value QUERY NOT: poll until QUERY has a value other than NOT (60 s)
wait_value() {
	for _ in $(seq 1 240); do
		kill -0 "$prom_pid" 2> /dev/null ||
			fail_ "prometheus exited: $(cat prometheus.err)"
		wv_=$(prom_query "$1")
		[ -n "$wv_" ] && [ "$wv_" != "$2" ] && { echo "$wv_"; return 0; }
		sleep 0.25
	done
	fail_ "Prometheus has no new value of $1 after 60 s: $(cat prometheus.err | tail -5)"
}

t_start=$(date +%s)
sel="heapgrab_heap_inuse_bytes{job=\"heapgrab\",pid=\"$FX_PID\"}"
v0=$(wait_value "$sel" "")
log_ "Prometheus: $sel = $v0 before the growth"
# a few more scrapes at v0, so both values have samples
sleep 3
grow_now 1
grown=$(grow_value grown_bytes)
v1=$(wait_value "$sel" "$v0")
log_ "Prometheus: $sel = $v1 after fx-grow added $grown bytes"
[ "$((v1 - v0))" -eq "$grown" ] ||
	fail_ "Prometheus saw the in-use bytes grow by $((v1 - v0)), fx-grow added $grown"
sleep 3
n=$(prom_query "heapgrab_type_chunks{job=\"heapgrab\",type=\"struct grow_item\"}")
[ "$n" = "$(grow_value items)" ] ||
	fail_ "Prometheus: struct grow_item chunks $n, fx-grow has $(grow_value items)"

# the whole series: v0 ... v0 v1 ... v1, nothing else
t_end=$(date +%s)
curl -s --max-time 10 -G --data-urlencode "query=$sel" --data-urlencode "start=$t_start" \
	--data-urlencode "end=$t_end" --data-urlencode "step=1" "$api/query_range" > range.json
"$PYTHON3" - "$v0" "$v1" > range.out <<'EOF' || { cat range.out >&2; fail_ "the in-use bytes series holds other values"; }
import json, sys
v0, v1 = sys.argv[1], sys.argv[2]
r = json.load(open("range.json"))["data"]["result"]
assert len(r) == 1, "%d series" % len(r)
vals = [v for _, v in r[0]["values"]]
# drop repeats: the distinct values in order
seq = [v for i, v in enumerate(vals) if i == 0 or vals[i - 1] != v]
print("%d samples, values in order: %s" % (len(vals), seq))
sys.exit(0 if seq == [v0, v1] else 1)
EOF
log_ "query_range: $(cat range.out)"

# Prometheus parsed the scrapes: its last error, if any, is a scrape that
# outlasted scrape_timeout (a snapshot on a loaded machine), never a
# format error; and most scrapes succeeded.
curl -s --max-time 10 "$api/targets" > targets.json
"$PYTHON3" - > targets.out <<'EOF' || { cat targets.out >&2; fail_ "Prometheus reports a scrape error"; }
import json, sys
t = json.load(open("targets.json"))["data"]["activeTargets"]
print([(x["health"], x["lastError"]) for x in t])
sys.exit(0 if len(t) == 1 and (not t[0]["lastError"] or
                               "context deadline exceeded" in t[0]["lastError"]) else 1)
EOF
ok_scrapes=$(prom_query "sum_over_time(up{job=\"heapgrab\"}[10m])")
all_scrapes=$(prom_query "count_over_time(up{job=\"heapgrab\"}[10m])")
log_ "Prometheus: $ok_scrapes of $all_scrapes scrapes succeeded ($(cat targets.out))"
[ "${ok_scrapes:-0}" -ge 3 ] && [ $((ok_scrapes * 2)) -ge "${all_scrapes:-0}" ] ||
	fail_ "Prometheus: only ${ok_scrapes:-0} of ${all_scrapes:-0} scrapes succeeded"

kill -TERM "$prom_pid"
wait_timeout_ "$prom_pid" 30 || :
stop_serve
finish_fixture
