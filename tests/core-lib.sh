# core-lib.sh - shell helpers for the core tests (tests/core-*.sh).
#
# Sourced, never run. Each test calls core_init NAME first: it moves into a
# fresh NAME.dir (kept when the test fails, removed when it passes), pins
# the environment, and finds the programs:
#   CORE_TOOL  tests/core-tool (the core backend's test tool)
#   CORE_FX    tests/core-fx   (the fixture whose cores we make)
#   HEAPGRAB   src/heapgrab    (may not exist yet; tests that need it skip)
# each overridable from the environment. Exit codes follow the suite's
# protocol: 0 pass, 1 fail, 77 skip, 99 harness error.

LC_ALL=C
export LC_ALL
unset DEBUGINFOD_URLS

: "${srcdir:=.}"
# Absolute paths: the tests cd into their own directory.
case $srcdir in
/*) ;;
*) srcdir=$(cd "$srcdir" && pwd) ;;
esac
CORE_BUILDDIR=$(pwd)
# tests/Makefile.am exports HG_TESTS_BUILDDIR (built test programs) and HG
# (the heapgrab binary).
: "${HG_TESTS_BUILDDIR:=$CORE_BUILDDIR}"
: "${CORE_TOOL:=$HG_TESTS_BUILDDIR/core-tool}"
: "${CORE_FX:=$HG_TESTS_BUILDDIR/core-fx}"
: "${HEAPGRAB:=${HG:-$HG_TESTS_BUILDDIR/../src/heapgrab}}"
: "${FIXTURE_CORES:=$srcdir/../fixtures/cores}"
FX_TUNABLES='glibc.malloc.arena_max=2:glibc.malloc.tcache_count=7:glibc.malloc.mmap_threshold=131072:glibc.malloc.hugetlb=0'

CORE_TEST=
CORE_PIDS=

core_cleanup()
{
	for p in $CORE_PIDS; do
		kill -KILL "$p" 2>/dev/null
	done
	CORE_PIDS=
}

# The test's own exits, all through here so fixtures never outlive it.
pass()
{
	core_cleanup
	cd "$CORE_BUILDDIR" && rm -rf "$CORE_TEST.dir"
	exit 0
}
fail()
{
	echo "FAIL: $CORE_TEST: $*" >&2
	core_cleanup
	exit 1
}
skip()
{
	echo "SKIP: $CORE_TEST: $*" >&2
	core_cleanup
	exit 77
}
framework_failure()
{
	echo "ERROR: $CORE_TEST: $*" >&2
	core_cleanup
	exit 99
}

core_init()
{
	CORE_TEST=$1
	trap 'core_cleanup' EXIT
	trap 'framework_failure "interrupted"' HUP INT TERM
	rm -rf "$CORE_TEST.dir"
	mkdir "$CORE_TEST.dir" && cd "$CORE_TEST.dir" ||
		framework_failure "cannot make $CORE_TEST.dir"
	[ -x "$CORE_TOOL" ] || framework_failure "$CORE_TOOL not built"
}

need_cmd()
{
	command -v "$1" >/dev/null 2>&1 || skip "$1 not installed"
}

# 8 bytes of a little-endian u64 as core-tool read prints them.
le64()
{
	printf '%016x\n' "$1" | sed 's/../& /g' |
		awk '{ s = ""; for (i = NF; i > 0; i--) s = s $i; print s }'
}

# Hex dump of LEN bytes at OFFSET of FILE, as core-tool read prints it.
file_hex()
{
	od -An -v -tx1 -j "$(($2))" -N "$3" "$1" | tr -d ' \n'
	echo
}

# start_fx READY: run the fixture in the background with core dumps
# allowed, wait until it has written READY. Sets FX_PID, FX_TIDS.
start_fx()
{
	[ -x "$CORE_FX" ] || framework_failure "$CORE_FX not built"
	(
		ulimit -c unlimited 2>/dev/null || ulimit -c "$(ulimit -H -c)"
		GLIBC_TUNABLES=$FX_TUNABLES exec "$CORE_FX" "$1"
	) &
	FX_PID=$!
	CORE_PIDS="$CORE_PIDS $FX_PID"
	i=0
	while [ ! -s "$1" ]; do
		kill -0 "$FX_PID" 2>/dev/null || framework_failure "fixture died"
		i=$((i + 1))
		[ $i -lt 200 ] || framework_failure "fixture not ready in 20 s"
		sleep 0.1
	done
	set -- $(head -n 1 "$1")
	[ "$1" = ready ] && [ "$2" = "$FX_PID" ] ||
		framework_failure "fixture pid $2, expected $FX_PID"
	shift 2
	FX_TIDS="$*"
}

# kernel_core PID: SIGSEGV the fixture and find its core file. Sets KCORE
# (empty when the kernel wrote no core here: core_pattern pipes it to a
# handler such as systemd-coredump, or RLIMIT_CORE is 0).
kernel_core()
{
	pattern=$(cat /proc/sys/kernel/core_pattern 2>/dev/null)
	KCORE=
	kill -SEGV "$1"
	wait "$1" 2>/dev/null
	CORE_PIDS=
	case $pattern in
	'|'*|'') return 0 ;;
	esac
	comm=$(basename "$CORE_FX" | cut -c1-15)
	f=$(printf '%s' "$pattern" | sed -e "s/%[pP]/$1/g" -e "s/%e/$comm/g" \
		-e 's/%%/%/g' -e 's/%./*/g')
	for c in $f $f.$1; do
		if [ -f "$c" ]; then
			KCORE=$c
			return 0
		fi
	done
}

# Registers of every thread of CORE as gdb sees them, one "TID REG VALUE"
# line each, sorted.
GDB_REGS='rax rbx rcx rdx rsi rdi rbp rsp r8 r9 r10 r11 r12 r13 r14 r15 rip eflags cs ss ds es fs gs fs_base gs_base orig_rax'
gdb_regs()
{
	"${GDB:-gdb}" -nx -batch "$1" "$2" \
		-ex "thread apply all info registers $GDB_REGS" 2>/dev/null |
		awk '/^Thread .*LWP [0-9]+/ {
			match($0, /LWP [0-9]+/)
			tid = substr($0, RSTART + 4, RLENGTH - 4)
			next
		}
		tid != "" && NF >= 2 && $2 ~ /^0x/ { print tid, $1, $2 }' |
		sort
}

# The same from core-tool info output.
tool_regs()
{
	awk -v want="$GDB_REGS" 'BEGIN { n = split(want, w, " ");
			for (i = 1; i <= n; i++) keep[w[i]] = 1 }
		$1 == "thread" {
			for (i = 3; i <= NF; i++) {
				split($i, kv, "=")
				v = kv[2]; sub(/^0x0*/, "0x", v)
				if (v == "0x") v = "0x0"
				if (kv[1] in keep) print $2, kv[1], v
			}
		}' "$1" | sort
}

# check_regions KIND INFO: /proc/PID/maps against the core's regions.
check_regions()
{
	awk -v kind="$1" '
	FNR == NR {
		split($1, se, "-")
		key = se[1] "-" se[2]
		perm[key] = substr($2, 1, 3)
		off[key] = sprintf("%08s", $3)
		p = ""
		for (i = 6; i <= NF; i++) p = p (i > 6 ? " " : "") $i
		path[key] = p
		order[++n] = key
		next
	}
	$1 == "region" {
		key = $2
		seen[key] = 1
		if (!(key in perm)) { print "extra region " $0; bad = 1; next }
		want = perm[key]
		got = $3
		# gcore writes PF_R on every segment (PROT_NONE reserves
		# included) and cannot express --x.
		if (kind ~ /gcore$/ && got != want &&
		    ((want == "---" && got == "r--") || (want == "--x" && got == "r-x")))
			got = want
		if (got != want) { print "prot " key ": " got " != " want; bad = 1 }
		p = path[key]
		if (p ~ /^\//) {
			if ($5 != p) { print "path " key ": " $5 " != " p; bad = 1 }
			if ($4 != off[key]) { print "offset " key ": " $4 " != " off[key]; bad = 1 }
		} else if (p == "[vdso]" || p == "[stack]" || p == "[vsyscall]") {
			if ($5 != p) { print "name " key ": " $5 " != " p; bad = 1 }
		} else if ($5 != "-") {
			print "anonymous " key " named " $5; bad = 1
		}
	}
	END {
		for (i = 1; i <= n; i++) {
			key = order[i]
			if (key in seen) continue
			# gcore leaves out what gdb cannot read ([vvar*]);
			# gdb < 9 also leaves unmodified text and PROT_NONE
			# file mappings out of NT_FILE (CORE_OLD_GDB=1).
			if (kind ~ /gcore$/ && path[key] ~ /^\[vvar/) continue
			if (kind ~ /gcore$/ && ENVIRON["CORE_OLD_GDB"] == 1 &&
			    path[key] ~ /^\// && perm[key] !~ /w/) continue
			print "missing region " key " " path[key]; bad = 1
		}
		exit bad
	}' maps "$2"
}

# check_values KIND CORE INFO REGS: what the fixture
# wrote to ./ready (fs_base of each thread, globals, heap nodes) against
# the core, and /proc/PID/maps (./maps) against its regions. REGS is the
# tool_regs output for INFO. All these bytes are in the core itself.
check_values()
{
	cv_kind=$1 cv_c=$2 cv_info=$3 cv_regs=$4
	while read -r w tid fs; do
		[ "$w" = tls ] || continue
		grep -q "^$tid fs_base $fs\$" "$cv_regs" ||
			fail "$cv_kind: thread $tid fs_base is not $fs"
	done <ready

	check_regions "$cv_kind" "$cv_info" >"regions.$cv_kind.diff" ||
		fail "$cv_kind: regions differ from /proc/PID/maps (see regions.$cv_kind.diff)"

	# Globals of the executable (.data written, .bss).
	addr=$(awk '$2 == "g_data" { print $3 }' ready)
	text=$(awk '$2 == "g_data" { print $4 }' ready | tr -d '"')
	[ "$("$CORE_TOOL" str "$cv_c" "$addr")" = "$text" ] ||
		fail "$cv_kind: g_data is not '$text'"
	for g in g_counter g_bss; do
		set -- $(awk -v g=$g '$2 == g { print $3, $4 }' ready)
		[ "$("$CORE_TOOL" read "$cv_c" "$1" 8)" = "$(le64 "$2")" ] ||
			fail "$cv_kind: $g is not $2"
	done
	# Heap: every list node's value, and target_map on the heap.
	while read -r w node value; do
		[ "$w" = node ] || continue
		got=$("$CORE_TOOL" read "$cv_c" $((node + 8)) 8)
		[ "$got" = "$(le64 "$value")" ] ||
			fail "$cv_kind: node $node holds $got, not $value"
	done <ready
	node=$(awk '$1 == "heap" { print $3 }' ready)
	[ "$("$CORE_TOOL" map "$cv_c" "$node" 32)" = mapped ] ||
		fail "$cv_kind: heap bytes not mapped from the core"
}

# libc_text INFO: "ADDR FILE_OFFSET PATH" of libc's first r-x region.
libc_text()
{
	awk '$1 == "region" && $3 == "r-x" && $5 ~ /\/libc(\.so\.6|-2\.[0-9]+\.so)$/ {
		split($2, se, "-"); print "0x" se[1], "0x" $4, $5; exit }' "$1"
}
