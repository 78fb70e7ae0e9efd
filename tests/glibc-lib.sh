# shellcheck shell=sh
# shellcheck disable=SC2154 # srcdir, me_, main_pid_, fx_seq_... come from init.sh
# glibc-lib.sh - fixtures under another glibc: built and run inside a root
# made by scripts/glibc-roots (debootstrap: minbase + gcc + libc6-dbg),
# attached to from the host through /proc/PID/root, and dumped to cores read
# with `heapgrab core --sysroot ROOT`.  The same helpers run the host's own
# fixtures (glibc_host_init), so the tunables and arena tests are one list
# for every glibc.  Sourced by tests/glibc-*.sh and live-tunables.sh after
# init.sh:
#
#   glibc_root_init RELEASE   skip (77) unless the root is complete; sets
#                             ROOT, ROOT_GLIBC (its glibc version), RW (a
#                             work directory inside the root, host path)
#                             and RW_IN (the same as the root sees it)
#   glibc_host_init           no root: the fixtures of this build, this
#                             machine's glibc (ROOT empty)
#   root_build NAME...        compile fixtures/NAME.c + fixture.c (or
#                             tests/NAME.c alone) with the root's gcc into RW
#   start_root_fixture NAME [ARGS...]
#                             start_fixture for a program in RW, run by
#                             chroot in a private mount namespace with
#                             /proc mounted (fx_wait reads /proc/self);
#                             same results: FX_PID, FX_READY, FX_OUT, FX_ERR
#   start_any NAME [ARGS...]  start_root_fixture, or start_fixture (host)
#   root_census WHAT          attach twice, with libc's debug info (for a
#                             root it must be found through /proc/PID/root:
#                             "dwarf"; on the host only when libc6-dbg is
#                             installed) and with --debug-dir EMPTY
#                             ("disasm"); each must exit 0, say nothing on
#                             stderr and hold every relation against the
#                             fixture's ready file; the two must be equal.
#                             WHAT.disasm.json is always left for the caller
#   root_core_census WHAT CORE [ARGS...]
#                             heapgrab core --sysroot ROOT CORE, dwarf and
#                             disasm, the same checks
#   tunables_suite            the tunables and mallopt() runs (below)
#   arena_reuse_test          more threads than 8 x CPUs, no arena limit
#
# The root is shared by the tests that use it: RW is private to this test
# and removed when it passes.  Tunables: GLIBC_TUNABLES and
# HG_FIXTURE_TUNABLES from run.sh reach the fixture through chroot; a run
# may override both (with_tunables).
#
# HG_GLIBC_TESTS=skip makes the root tests skip (scripts/quickstart sets it
# outside its glibc stage, so the roots' tests run once per CI run).

: "${HG_ROOTS_DIR:=/var/cache/heapgrab/roots}"
export HG_ROOTS_DIR
RW=

glibc_cleanup_() {
	gc_rc_=$?
	# Kill the fixtures first (init.sh), then remove the work directory.
	(exit "$gc_rc_")
	cleanup_
	[ "$(exec sh -c 'echo $PPID')" = "$main_pid_" ] || return 0
	if [ -n "$RW" ] && [ -d "$RW" ]; then
		case $gc_rc_ in
		0|77) rm -rf "$RW" ;;
		*) log_ "files inside the root kept in $RW" ;;
		esac
	fi
}
trap 'glibc_cleanup_' EXIT

glibc_root_init() {
	gr_rel_=$1
	[ "${HG_GLIBC_TESTS:-}" != skip ] ||
		skip_ "HG_GLIBC_TESTS=skip (the roots' tests run in their own CI stage: make check-glibc)"
	require_root_
	for c_ in chroot unshare mount; do
		command -v "$c_" > /dev/null 2>&1 || skip_ "$c_ not found"
	done
	gr_script_=$srcdir/../scripts/glibc-roots
	[ -r "$gr_script_" ] || framework_failure_ "$gr_script_ not found"
	gr_state_=$(bash "$gr_script_" --check "$gr_rel_" 2>&1) ||
		skip_ "no complete $gr_rel_ root in $HG_ROOTS_DIR ($gr_state_); 'make check-glibc' builds it"
	ROOT=$HG_ROOTS_DIR/$gr_rel_
	ROOT_GLIBC=$(awk '$1 == "glibc" { print $2; exit }' "$ROOT.stamp")
	[ -n "$ROOT_GLIBC" ] || framework_failure_ "$ROOT.stamp names no glibc version"
	# A private mount namespace must be possible (root, no seccomp ban).
	unshare -m true 2> /dev/null || skip_ "unshare -m not permitted here"
	RW_IN=/tmp/hg-$me_-$$
	RW=$ROOT$RW_IN
	rm -rf "$RW"
	mkdir -p "$RW" "$RW/src" || framework_failure_ "cannot create $RW"
	mkdir -p empty-debug
	log_ "root $ROOT: glibc $ROOT_GLIBC ($gr_state_)"
}

# root_build NAME...: fixtures/NAME.c with fixture.c, or tests/NAME.c
# alone, compiled by the root's gcc the way fixtures/Makefile.am does it.
root_build() {
	cp "$srcdir/../fixtures/fixture.c" "$srcdir/../fixtures/fixture.h" "$RW/src/" ||
		framework_failure_ "cannot copy the fixture sources into $RW"
	for rb_ in "$@"; do
		if [ -f "$srcdir/../fixtures/$rb_.c" ]; then
			cp "$srcdir/../fixtures/$rb_.c" "$RW/src/"
			set -- "$RW_IN/src/$rb_.c" "$RW_IN/src/fixture.c"
		else
			cp "$srcdir/$rb_.c" "$RW/src/" || framework_failure_ "no source for $rb_"
			set -- "$RW_IN/src/$rb_.c"
		fi
		chroot "$ROOT" gcc -O0 -g -pthread -Wl,-z,now -o "$RW_IN/$rb_" "$@" \
			> "build-$rb_.log" 2>&1 || {
			cat "build-$rb_.log" >&2
			framework_failure_ "the $ROOT_GLIBC root's gcc cannot build $rb_"
		}
	done
}

# start_root_fixture NAME [ARGS...]: as start_fixture (init.sh).  The
# fixture's pid is the pid of the background job: unshare, sh and chroot
# each exec the next.  Its working directory is RW_IN, where a kernel core
# lands when core_pattern is relative.
start_root_fixture() {
	sr_name_=$1
	shift
	[ -x "$RW/$sr_name_" ] || framework_failure_ "not built in the root: $sr_name_"
	fx_seq_=$((fx_seq_ + 1))
	FX_READY=$RW/$sr_name_.$fx_seq_.ready
	FX_OUT=$sr_name_.$fx_seq_.out
	FX_ERR=$sr_name_.$fx_seq_.err
	rm -f "$FX_READY"
	# shellcheck disable=SC2016 # expanded by the inner shells
	unshare -m sh -c 'mount -t proc proc "$0/proc" || exit 99
		exec chroot "$0" /bin/sh -c "ulimit -c unlimited 2> /dev/null
			cd \"\$0\" && exec \"\$@\"" "$@"' \
		"$ROOT" "$RW_IN" "./$sr_name_" --ready "$RW_IN/${FX_READY##*/}" "$@" \
		> "$FX_OUT" 2> "$FX_ERR" < /dev/null &
	FX_PID=$!
	fx_all_="$fx_all_ $FX_PID"
	t_=0
	while ! grep -q '^ready ' "$FX_READY" 2> /dev/null; do
		if ! kill -0 "$FX_PID" 2> /dev/null; then
			st_=0
			wait "$FX_PID" || st_=$?
			framework_failure_ "$sr_name_ $* (glibc $ROOT_GLIBC) exited with status $st_ before it was ready: $(cat "$FX_ERR")"
		fi
		t_=$((t_ + 1))
		[ "$t_" -le $((HG_READY_TIMEOUT * 20)) ] ||
			framework_failure_ "$sr_name_ not ready after $HG_READY_TIMEOUT s"
		sleep 0.05
	done
	rp_=$(awk '$1 == "ready" { print $2 }' "$FX_READY")
	[ "$rp_" = "$FX_PID" ] ||
		framework_failure_ "$sr_name_: ready file says pid $rp_, started $FX_PID"
	[ "$(readlink "/proc/$FX_PID/root")" = "$(cd "$ROOT" && pwd -P)" ] ||
		framework_failure_ "$sr_name_: pid $FX_PID does not run in $ROOT"
	log_ "started $sr_name_ $* in the $ROOT_GLIBC root as pid $FX_PID"
}

glibc_host_init() {
	ROOT='' RW='' RW_IN=''
	ROOT_GLIBC=$(getconf GNU_LIBC_VERSION 2> /dev/null | awk '{ print $2 }')
	[ -n "$ROOT_GLIBC" ] || skip_ "not a glibc system (getconf GNU_LIBC_VERSION)"
	mkdir -p empty-debug
}

start_any() {
	if [ -n "$ROOT" ]; then
		start_root_fixture "$@"
	else
		start_fixture "$@"
	fi
}

# check_json_ JSON SYMBOLS WHAT [check-census.py options]: exit 0, empty
# stderr, every relation against $FX_READY, glibc $ROOT_GLIBC.
check_json_() {
	cj_json_=$1 cj_sym_=$2 cj_what_=$3
	shift 3
	expect_rc 0 "$cj_what_"
	expect_empty "${HG_ERR:-hg.err}" "stderr of $cj_what_"
	log_ "$cj_what_: checking the relations"
	"$PYTHON3" "$srcdir/check-census.py" check "$cj_json_" --ready "$FX_READY" \
		--glibc "$ROOT_GLIBC" --symbols "$cj_sym_" "$@" ||
		fail_ "$cj_what_: the census breaks the contract (see above)"
}

# root_census WHAT [check-census.py options]: see the header.
root_census() {
	rc_what_=$1
	shift
	HG_OUT=$rc_what_.disasm.json run_hg attach "$FX_PID" --format json \
		--debug-dir "$(pwd)/empty-debug"
	check_untouched "$FX_PID"
	check_json_ "$rc_what_.disasm.json" disasm "glibc $ROOT_GLIBC $rc_what_ (no debug info)" "$@"
	if [ -z "$ROOT" ] && ! have_libc_debuginfo_; then
		log_ "no libc debug info on this host: $rc_what_ checked without it only"
		return 0
	fi
	HG_OUT=$rc_what_.dwarf.json run_hg attach "$FX_PID" --format json
	check_untouched "$FX_PID"
	check_json_ "$rc_what_.dwarf.json" dwarf "glibc $ROOT_GLIBC $rc_what_ (libc debug info)" "$@"
	"$PYTHON3" "$srcdir/check-census.py" same "$rc_what_.dwarf.json" \
		"$rc_what_.disasm.json" ||
		fail_ "glibc $ROOT_GLIBC $rc_what_: the dwarf and disasm censuses differ"
}

# root_core_census WHAT CORE [ARGS...]: heapgrab core --sysroot ROOT, with
# the root's debug info and without.  ARGS go to heapgrab core.
root_core_census() {
	cc_what_=$1 cc_core_=$2
	shift 2
	HG_OUT=$cc_what_.dwarf.json run_hg core --sysroot "$ROOT" --format json "$@" "$cc_core_"
	check_json_ "$cc_what_.dwarf.json" dwarf "glibc $ROOT_GLIBC $cc_what_ --sysroot ROOT"
	HG_OUT=$cc_what_.disasm.json run_hg core --sysroot "$ROOT" --format json \
		--debug-dir "$(pwd)/empty-debug" "$@" "$cc_core_"
	check_json_ "$cc_what_.disasm.json" disasm "glibc $ROOT_GLIBC $cc_what_ --sysroot ROOT --debug-dir EMPTY"
	"$PYTHON3" "$srcdir/check-census.py" same "$cc_what_.dwarf.json" \
		"$cc_what_.disasm.json" ||
		fail_ "glibc $ROOT_GLIBC $cc_what_: the dwarf and disasm censuses differ"
}

# with_tunables VALUE CMD...: run CMD with GLIBC_TUNABLES (and the
# fixture's check variable) set to VALUE, or unset when VALUE is empty.
with_tunables() {
	wt_val_=$1
	shift
	wt_save_=$GLIBC_TUNABLES
	if [ -n "$wt_val_" ]; then
		GLIBC_TUNABLES=$wt_val_ HG_FIXTURE_TUNABLES=$wt_val_
		export GLIBC_TUNABLES HG_FIXTURE_TUNABLES
	else
		unset GLIBC_TUNABLES HG_FIXTURE_TUNABLES
	fi
	"$@"
	GLIBC_TUNABLES=$wt_save_ HG_FIXTURE_TUNABLES=$wt_save_
	export GLIBC_TUNABLES HG_FIXTURE_TUNABLES
}

# json_ FILE EXPR: EXPR (Python, over the parsed census d) of a census.
json_() {
	"$PYTHON3" -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$1" "$2" || framework_failure_ "cannot read $1"
}

# expect_json_ FILE EXPR OP VALUE WHAT: the value of EXPR compared with
# VALUE by test(1)'s OP (-eq, -ge, -lt, ...).
expect_json_() {
	ej_v_=$(json_ "$1" "$2")
	test "$ej_v_" "$3" "$4" ||
		fail_ "$5: $2 is $ej_v_, expected $3 $4"
	log_ "$5: $2 = $ej_v_ ($3 $4)"
}

# tun_run WHAT TUNABLES FIXTURE [ARGS...]: start FIXTURE with GLIBC_TUNABLES
# set to TUNABLES (unset when empty), check both censuses, let it check
# itself.  Leaves WHAT.disasm.json and the ready file for more checks.
tun_run() {
	tr_what_=$1 tr_tun_=$2 tr_fx_=$3
	shift 3
	with_tunables "$tr_tun_" start_any "$tr_fx_" "$@"
	root_census "$tr_what_"
	TR_READY=$tr_what_.ready
	cp "$FX_READY" "$TR_READY"
	finish_fixture
}

# The tunables users set and mallopt(), each one fixture run with every
# relation exact, with and without debug info, and a check that the
# setting had its effect where glibc documents one.  Unknown tunables are
# ignored by glibc, so the same list runs on every release; the hugetlb
# checks apply from 2.35 (the release that added the tunable).
tunables_suite() {
	ts_pin_=glibc.malloc.arena_max=8:glibc.malloc.tcache_count=7:glibc.malloc.hugetlb=0
	ts_minor_=${ROOT_GLIBC#2.}
	ts_minor_=${ts_minor_%%.*}

	# tcache_count=0: no chunk is ever put in a tcache.
	tun_run tcache0 glibc.malloc.arena_max=8:glibc.malloc.tcache_count=0 \
		fx-arenas --threads 3
	expect_json_ tcache0.disasm.json 'd["totals"]["tcache"]["count"]' -eq 0 \
		"glibc.malloc.tcache_count=0"
	expect_json_ tcache0.disasm.json 'd["totals"]["fastbin"]["count"]' -gt 0 \
		"glibc.malloc.tcache_count=0 (frees go to the fastbins)"

	# A fixed mmap_threshold of 1 MiB: the 300000-byte requests come
	# from the heaps, nothing is mmapped.
	tun_run mmap-threshold "$ts_pin_:glibc.malloc.mmap_threshold=1048576" \
		fx-arenas --threads 3
	expect_json_ mmap-threshold.disasm.json 'd["totals"]["mmapped"]["count"]' -eq 0 \
		"glibc.malloc.mmap_threshold=1048576"

	# arena_max=2, and the same through the MALLOC_ARENA_MAX variable
	# (the tunable's environment alias) with GLIBC_TUNABLES unset.
	tun_run arena-max glibc.malloc.arena_max=2:glibc.malloc.tcache_count=7 \
		fx-arenas --threads 5
	expect_json_ arena-max.disasm.json 'len(d["arenas"])' -eq 2 \
		"glibc.malloc.arena_max=2"
	MALLOC_ARENA_MAX=2
	export MALLOC_ARENA_MAX
	tun_run malloc-arena-max "" fx-arenas --threads 5
	unset MALLOC_ARENA_MAX
	expect_json_ malloc-arena-max.disasm.json 'len(d["arenas"])' -eq 2 \
		"MALLOC_ARENA_MAX=2"

	# hugetlb=1: transparent huge pages by madvise (mp_.thp_pagesize);
	# hugetlb=2: mp_.hp_pagesize = the default huge page size, and from
	# then on every non-main heap is 4 x hp_pagesize, aligned to that
	# (arena.c heap_max_size), whether or not MAP_HUGETLB pages can be
	# had (without reserved pages glibc falls back to normal pages).
	# fx-messy's thread 0 grows its arena by 20 MiB: 1 heap of 64 MiB,
	# or at least 3 heaps of 8 MiB with 2 MiB huge pages.
	tun_run hugetlb1 "$ts_pin_:glibc.malloc.hugetlb=1" \
		fx-messy --threads 2 --big-mib 20
	tun_run hugetlb2 glibc.malloc.arena_max=8:glibc.malloc.tcache_count=7:glibc.malloc.hugetlb=2 \
		fx-messy --threads 2 --big-mib 20
	ts_hp_=$(awk '$1 == "Hugepagesize:" && $3 == "kB" { print $2 * 1024 }' /proc/meminfo)
	if [ "$ts_minor_" -ge 35 ] && [ "${ts_hp_:-0}" -gt 0 ]; then
		ts_want_=$(( ((20 << 20) + 4 * ts_hp_ - 1) / (4 * ts_hp_) ))
		[ "$ts_want_" -ge 1 ] || ts_want_=1
		expect_json_ hugetlb2.disasm.json 'max(a["heaps"] for a in d["arenas"])' -ge "$ts_want_" \
			"glibc.malloc.hugetlb=2 (heaps of 4 x $ts_hp_ bytes)"
	fi

	# hugetlb=2 with huge pages the kernel can give (vm.nr_hugepages):
	# then sbrk is never used (ptmalloc_init sets __always_fail_morecore),
	# the main arena lives in MAP_HUGETLB segments ("/anon_hugepage" in
	# the maps) and requests of 2 MiB and more are mmapped huge pages.
	# The kernel here must have free huge pages (the glibc CI stage
	# reserves some); else this part is not checked, and says so.
	ts_free_=$(awk '$1 == "HugePages_Free:" { print $2 }' /proc/meminfo)
	if [ "$ts_minor_" -lt 35 ] || [ "${ts_hp_:-0}" -ne $((2 << 20)) ]; then
		log_ "glibc $ROOT_GLIBC, huge page size ${ts_hp_:-?}: MAP_HUGETLB case not applicable"
	elif [ "${ts_free_:-0}" -lt 32 ]; then
		log_ "only ${ts_free_:-0} free huge pages (vm.nr_hugepages): the MAP_HUGETLB case is NOT checked"
	else
		tun_run hugetlb2-pages glibc.malloc.arena_max=8:glibc.malloc.tcache_count=7:glibc.malloc.hugetlb=2 \
			fx-arenas --threads 3 --mmap-bytes 3000000
		expect_json_ hugetlb2-pages.disasm.json 'd["totals"]["mmapped"]["count"]' -eq 4 \
			"glibc.malloc.hugetlb=2 with huge pages (mmapped chunks)"
		expect_json_ hugetlb2-pages.disasm.json 'd["totals"]["mmapped"]["bytes"] % (2 << 20)' -eq 0 \
			"glibc.malloc.hugetlb=2 with huge pages (2 MiB pages)"
		expect_json_ hugetlb2-pages.disasm.json 'd["arenas"][0]["system_bytes"] % (2 << 20)' -eq 0 \
			"glibc.malloc.hugetlb=2 with huge pages (main arena segments)"
	fi

	# mallopt(): fastbins off, fastbins up to 160-byte requests, no
	# mmapped chunks at all, an arena limit, and padding/trimming/perturb.
	tun_run mxfast0 "$ts_pin_" fx-arenas --threads 3 --mallopt M_MXFAST=0
	expect_json_ mxfast0.disasm.json 'd["totals"]["fastbin"]["count"]' -eq 0 \
		"mallopt(M_MXFAST, 0)"
	# The 150-byte requests (160-byte chunks) beyond a full tcache bin go
	# to the unsorted bin by default (global_max_fast 128), to a fastbin
	# with M_MXFAST=160.
	tun_run plain "$ts_pin_" fx-arenas --threads 3
	ts_plain_=$(json_ plain.disasm.json 'd["totals"]["fastbin"]["count"]')
	tun_run mxfast160 "$ts_pin_" fx-arenas --threads 3 --mallopt M_MXFAST=160
	expect_json_ mxfast160.disasm.json 'd["totals"]["fastbin"]["count"]' -gt "$ts_plain_" \
		"mallopt(M_MXFAST, 160)"
	tun_run mmap-max0 "$ts_pin_" fx-arenas --threads 3 --mallopt M_MMAP_MAX=0
	expect_json_ mmap-max0.disasm.json 'd["totals"]["mmapped"]["count"]' -eq 0 \
		"mallopt(M_MMAP_MAX, 0)"
	tun_run mallopt-arena-max "" fx-arenas --threads 5 --mallopt M_ARENA_MAX=3
	expect_json_ mallopt-arena-max.disasm.json 'len(d["arenas"])' -eq 3 \
		"mallopt(M_ARENA_MAX, 3)"
	tun_run mallopt-misc "$ts_pin_" fx-arenas --threads 3 --mallopt \
		M_TOP_PAD=1048576,M_TRIM_THRESHOLD=0,M_MMAP_THRESHOLD=1048576,M_PERTURB=165
	expect_json_ mallopt-misc.disasm.json 'd["totals"]["mmapped"]["count"]' -eq 0 \
		"mallopt(M_MMAP_THRESHOLD, 1 MiB)"
}

# More threads than arena_get2's limit of 8 per CPU (no arena_max set):
# the first 8 x CPUs - 1 threads get an arena each, the others reuse them
# (arena.c reused_arena).  glibc counts CPUs itself (__get_nprocs: online
# CPUs, or the affinity mask in some releases), so the arena count must be
# 8 x one of the two counts the fixture noted, and below threads + 1.
arena_reuse_test() {
	ar_cpus_=$(getconf _NPROCESSORS_ONLN 2> /dev/null || echo 2)
	ar_n_=$((8 * ar_cpus_ + 4))
	if [ "$ar_n_" -gt 1000 ]; then
		log_ "$ar_cpus_ CPUs: the arena reuse test needs more than 1000 threads, skipped"
		return 0
	fi
	tun_run arena-reuse glibc.malloc.tcache_count=7:glibc.malloc.hugetlb=0 \
		fx-arenas --threads "$ar_n_"
	ar_got_=$(json_ arena-reuse.disasm.json 'len(d["arenas"])')
	ar_on_=$(awk '$1 == "cpus_online" { print $2 }' arena-reuse.ready)
	ar_al_=$(awk '$1 == "cpus_allowed" { print $2 }' arena-reuse.ready)
	[ "$ar_got_" -lt $((ar_n_ + 1)) ] ||
		fail_ "$ar_n_ threads got $ar_got_ arenas: no arena was reused"
	[ "$ar_got_" -eq $((8 * ar_on_)) ] || [ "$ar_got_" -eq $((8 * ${ar_al_:-0})) ] ||
		fail_ "$ar_got_ arenas, expected 8 x $ar_on_ online or 8 x $ar_al_ allowed CPUs"
	log_ "$((ar_n_ + 1)) threads share $ar_got_ arenas (8 x CPUs)"
}
