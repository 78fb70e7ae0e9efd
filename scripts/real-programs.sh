# shellcheck shell=sh
# real-programs.sh - start real programs (nobody here wrote them) in a
# known state, for bench/typing-real.sh and tests/real-*.sh. Sourced;
# POSIX sh.
#
#   real_start_NAME WORKDIR    start NAME and drive it into its state;
#                              sets REAL_PID (the process to look at) and
#                              REAL_COUNTS: "TYPE=COUNT" lines, counts the
#                              program reports itself (TYPE may be a
#                              shell pattern with '*'); returns 1 (and
#                              REAL_WHY) when it cannot
#   real_stop                  stop what real_start_NAME started
#   REAL_PACKAGES_NAME         the Debian packages NAME needs
#
# Programs:
#   syslogng  syslog-ng 3.38 (+ syslog-ng-dbg, libivykis0-dbg): a TCP
#             source, 50,000 messages queued to a TCP destination nobody
#             listens on. Own counts: syslog-ng-ctl stats "queued" (one
#             chunk per message: LogMessage, its queue nodes and its
#             NVTable payload in one allocation) and its stats clusters:
#             the size of its cluster registry's hash tables, asked
#             through gdb (syslog-ng-ctl lists only the clusters that hold
#             counters of the stats level).
#   cupt      cupt (+ cupt-dbg), C++ on std containers: `cupt shell` after
#             `show bash`. Own counts: its record of each installed package
#             (std::map<std::string, InstalledRecord> nodes, and the
#             unordered_map of binary package records) against the
#             packages of the dpkg status file it read; its extended
#             states (a map of maps) against the packages of apt's
#             extended_states file (gdb's libstdc++ printers give the
#             same sizes for CacheImpl's containers).
#   gocgo     a Go service built here with cgo (golang-go): 20,000 C
#             structs calloc'd by C, kept alive from a Go slice, each with
#             a malloc'd name. Own counts: the len() it prints.
# Processes are stopped by their own pid, never by name.

# shellcheck disable=SC2034 # read through eval by the callers
REAL_PACKAGES_syslogng="syslog-ng-core syslog-ng-dbg libivykis0-dbg gdb"
# shellcheck disable=SC2034
REAL_PACKAGES_cupt="cupt cupt-dbg"
# shellcheck disable=SC2034
REAL_PACKAGES_gocgo="golang-go"

REAL_PID=
REAL_COUNTS=
# shellcheck disable=SC2034 # for the callers
REAL_WHY=
real_pids_=

# real_missing PACKAGE...: the packages not installed (empty: all are)
real_missing() {
	rm_out_=
	for rm_p_ in "$@"; do
		dpkg -s "$rm_p_" > /dev/null 2>&1 || rm_out_="$rm_out_ $rm_p_"
	done
	printf '%s' "${rm_out_# }"
}

real_stop() {
	for rs_p_ in $real_pids_; do
		kill "$rs_p_" 2> /dev/null
	done
	# what ignores SIGTERM gets SIGKILL after 2 s
	for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		rs_left_=
		for rs_p_ in $real_pids_; do
			kill -0 "$rs_p_" 2> /dev/null && rs_left_="$rs_left_ $rs_p_"
		done
		[ -z "$rs_left_" ] && break
		sleep 0.1
	done
	for rs_p_ in $rs_left_; do
		kill -KILL "$rs_p_" 2> /dev/null
	done
	for rs_p_ in $real_pids_; do
		wait "$rs_p_" 2> /dev/null
	done
	real_pids_=
	REAL_PID=
}

# real_free_port: a free TCP port on 127.0.0.1
real_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

real_start_syslogng() {
	rs_d_=$1/syslogng
	rm -rf "$rs_d_" && mkdir -p "$rs_d_" || return 1
	rs_in_=$(real_free_port)
	rs_out_=$(real_free_port)
	cat > "$rs_d_/sng.conf" <<EOF
@version: 3.38
options { stats-level(1); keep-hostname(yes); };
source s_in { network(ip("127.0.0.1") port($rs_in_) transport("tcp") max-connections(4)
	log-iw-size(100000)); };
destination d_out { network("127.0.0.1" port($rs_out_) transport("tcp")
	log-fifo-size(200000) time-reopen(3600)); };
log { source(s_in); destination(d_out); };
EOF
	syslog-ng -F -f "$rs_d_/sng.conf" -R "$rs_d_/persist" -p "$rs_d_/pid" \
		-c "$rs_d_/ctl" --no-caps > "$rs_d_/sng.log" 2>&1 &
	real_pids_="$real_pids_ $!"
	REAL_PID=$!
	python3 - "$rs_in_" <<'EOF' || { REAL_WHY="cannot send to syslog-ng: $(tail -2 "$rs_d_/sng.log")"; return 1; }
import socket, sys, time
for _ in range(100):
    try:
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit(1)
for i in range(50000):
    s.sendall(b"<13>Nov 25 10:00:00 host app[1]: message number %d with some text\n" % i)
s.close()
EOF
	rs_q_=0
	for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		rs_q_=$(syslog-ng-ctl stats -c "$rs_d_/ctl" 2> /dev/null |
			awk -F';' '$1 ~ /^dst.network/ && $2 ~ /^d_out/ && $5 == "queued" { print $6 }')
		[ "${rs_q_:-0}" -ge 50000 ] && break
		sleep 0.5
	done
	[ "${rs_q_:-0}" -ge 50000 ] || { REAL_WHY="syslog-ng queued ${rs_q_:-0} of 50000"; return 1; }
	# the cluster registry's two hash tables (glib's size function,
	# called by gdb; gdb leaves the process as it was)
	# shellcheck disable=SC2016 # $1 is gdb's first value, not the shell's
	rs_cl_=$(timeout 120 gdb -p "$REAL_PID" -batch -nx \
		-ex 'p (int)g_hash_table_size(stats_cluster_container.static_clusters) + (int)g_hash_table_size(stats_cluster_container.dynamic_clusters)' \
		2> /dev/null | sed -n 's/^\$1 = \([0-9][0-9]*\)$/\1/p')
	[ -n "$rs_cl_" ] || { REAL_WHY="gdb could not read syslog-ng's cluster registry"; return 1; }
	REAL_COUNTS="struct _LogMessage=$rs_q_
struct _StatsCluster=$rs_cl_"
}

real_start_cupt() {
	rc_d_=$1/cupt
	rm -rf "$rc_d_" && mkdir -p "$rc_d_" || return 1
	mkfifo "$rc_d_/in" || return 1
	# cupt's shell prints its prompt in an endless loop once its input
	# ends: the input stays open (a writer that sleeps) until real_stop,
	# and the output is cut at 1 MB (cupt then dies of SIGPIPE)
	sleep 900 > "$rc_d_/in" &
	real_pids_="$real_pids_ $!"
	sh -c 'echo $$ > "$1"; exec cupt shell' sh "$rc_d_/pid" < "$rc_d_/in" 2>&1 |
		python3 -c 'import os
n = 0
while n < 1000000:
    b = os.read(0, 65536)
    if not b:
        break
    n += os.write(1, b)' > "$rc_d_/out" &
	real_pids_="$real_pids_ $!"
	for _ in $(seq 100); do
		REAL_PID=$(cat "$rc_d_/pid" 2> /dev/null)
		[ -n "$REAL_PID" ] && break
		sleep 0.1
	done
	[ -n "$REAL_PID" ] || { REAL_WHY="cupt did not start"; return 1; }
	real_pids_="$real_pids_ $REAL_PID"
	echo "show bash" > "$rc_d_/in"
	# ready when the shell has printed bash's record
	for _ in $(seq 300); do
		grep -q 'Package: bash' "$rc_d_/out" 2> /dev/null && break
		sleep 0.1
	done
	grep -q 'Package: bash' "$rc_d_/out" ||
		{ REAL_WHY="cupt did not show bash: $(tail -c 200 "$rc_d_/out")"; return 1; }
	sleep 1
	rc_n_=$(grep -c '^Package:' /var/lib/dpkg/status)
	REAL_COUNTS="std::_Rb_tree_node<std::pair<const std::*string*, cupt::system::State::InstalledRecord> >=$rc_n_
std::__detail::_Hash_node<std::pair<const std::*string*, std::vector<cupt::internal::CacheImpl::PrePackageRecord*=$rc_n_
std::_Rb_tree_node<std::pair<const std::*string*, std::map<*=$(grep -c '^Package:' /var/lib/apt/extended_states)"
}

real_start_gocgo() {
	rg_d_=$1/gocgo
	mkdir -p "$rg_d_" || return 1
	cat > "$rg_d_/main.go" <<'EOF'
package main

/*
#include <stdlib.h>
#include <stdio.h>
struct conn {
	int fd;
	char *name;
	struct conn *peer;
	long bytes;
};
static struct conn *conn_new(int fd)
{
	struct conn *c = calloc(1, sizeof(*c));
	c->fd = fd;
	c->name = malloc(48);
	snprintf(c->name, 48, "connection number %d", fd);
	return c;
}
*/
import "C"

import (
	"fmt"
	"os"
	"time"
)

var conns []*C.struct_conn

func main() {
	for i := 0; i < 20000; i++ {
		c := C.conn_new(C.int(i))
		if i > 0 {
			c.peer = conns[i-1]
		}
		conns = append(conns, c)
	}
	fmt.Printf("conns %d\n", len(conns))
	os.Stdout.Sync()
	time.Sleep(600 * time.Second)
}
EOF
	# rebuilt when the source changed (main.go.built: the source built)
	if [ ! -x "$rg_d_/svc" ] || ! cmp -s "$rg_d_/main.go" "$rg_d_/main.go.built"; then
		(cd "$rg_d_" && { [ -f go.mod ] || go mod init svc > /dev/null 2>&1; } &&
			GOFLAGS=-mod=mod CGO_CFLAGS="-g -O2" go build -o svc . > build.log 2>&1) ||
			{ REAL_WHY="go build failed: $(tail -2 "$rg_d_/build.log")"; return 1; }
		cp "$rg_d_/main.go" "$rg_d_/main.go.built"
	fi
	"$rg_d_/svc" > "$rg_d_/out" 2>&1 &
	real_pids_="$real_pids_ $!"
	REAL_PID=$!
	for _ in $(seq 100); do
		grep -q '^conns ' "$rg_d_/out" 2> /dev/null && break
		sleep 0.1
	done
	rg_n_=$(awk '$1 == "conns" { print $2 }' "$rg_d_/out")
	[ -n "$rg_n_" ] || { REAL_WHY="the Go service did not start: $(tail -2 "$rg_d_/out")"; return 1; }
	REAL_COUNTS="struct conn=$rg_n_
char[]=$rg_n_"
}
