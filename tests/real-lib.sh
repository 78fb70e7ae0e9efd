# shellcheck shell=sh
# real-lib.sh - sourced by tests/real-*.sh after init.sh: typing a real
# program nobody here wrote (scripts/real-programs.sh starts it).
#
#   real_test NAME   skips unless HG_REAL_TESTS=1 (each costs 10-30 s)
#                    and NAME's Debian packages are installed; starts NAME
#                    in its known state; heapgrab attach --format json;
#                    requires at least 90% of the live bytes typed and
#                    every count the program reports itself (REAL_COUNTS)
#                    equal to heapgrab's within 2%; stops the program.
: "${srcdir:=.}"
# shellcheck source=../scripts/real-programs.sh
. "$srcdir/../scripts/real-programs.sh"

real_test() {
	rt_name_=$1
	rt_pk_=
	eval "rt_pk_=\$REAL_PACKAGES_$rt_name_"
	[ "${HG_REAL_TESTS:-}" = 1 ] ||
		skip_ "set HG_REAL_TESTS=1 to run it (10-30 s; Debian packages: $rt_pk_)"
	# shellcheck disable=SC2086 # a list of packages
	rt_miss_=$(real_missing $rt_pk_)
	[ -z "$rt_miss_" ] || skip_ "needs the Debian packages: $rt_miss_"
	require_ptrace_
	if ! "real_start_$rt_name_" "$PWD"; then
		bg_all_="$bg_all_ $real_pids_"
		framework_failure_ "$rt_name_ did not reach its state: $REAL_WHY"
	fi
	bg_all_="$bg_all_ $real_pids_"
	printf '%s\n' "$REAL_COUNTS" > own-counts
	log_ "$rt_name_ pid $REAL_PID, its own counts: $(tr '\n' ';' < own-counts)"
	HG_OUT=real.json run_hg attach "$REAL_PID" --format json
	expect_rc 0 "attach $rt_name_"
	HG_OUT=real.txt run_hg attach "$REAL_PID" --explain-types --top 20
	sed 's/^/    /' real.txt >&2
	"$PYTHON3" - real.json own-counts <<'PY' || fail_ "$rt_name_: typed too little, or counts not the program's"
import fnmatch, json, sys
d = json.load(open(sys.argv[1]))
t = d["typing"]
live = t["exact"]["bytes"] + t["inferred"]["bytes"] + t["untyped"]["bytes"]
typed = 100.0 * (t["exact"]["bytes"] + t["inferred"]["bytes"]) / live if live else 0
bad = []
print("typed %.1f%% of %d live bytes (exact %d chunks, inferred %d, conflicts %d)"
      % (typed, live, t["exact"]["count"], t["inferred"]["count"], t["conflicts"]))
if typed < 90:
    bad.append("typed %.1f%% of the live bytes, not 90%%" % typed)
for line in open(sys.argv[2]):
    if "=" not in line:
        continue
    ty, own = line.strip().rsplit("=", 1)
    own = int(own)
    match = (lambda n: fnmatch.fnmatchcase(n, ty)) if "*" in ty else (lambda n: n == ty)
    got = sum(r["count"] for r in d["by_type"] if match(r["type"]))
    ok = own and abs(got - own) <= 0.02 * own
    print("%s: heapgrab %d, the program %d%s" % (ty, got, own, "" if ok else "  <- off by more than 2%"))
    if not ok:
        bad.append("%s: %d, the program says %d" % (ty, got, own))
for b in bad:
    print("real: " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
	real_stop
}
