#!/bin/sh
# core-frozen.sh - the frozen core sets under fixtures/cores/ (the
# regression corpus; see fixtures/cores/README).
#
# For every set DIR (fixtures/cores/glibc-*-x86_64/):
#  1. check its MANIFEST (sha256) so a damaged fixture is reported as such;
#  2. decompress core, gcore, exe and sysroot/ into the test directory;
#  3. check both cores against what the fixture recorded at capture time
#     (ready: thread fs_base, globals, heap nodes; maps: the mapping table),
#     and libc's text (not in the cores) against the shipped libc copy;
#     and, when heapgrab is built, its census of both cores (equal to each
#     other and to the fixture's recorded mallinfo2());
#  4. run each DIR/expected/NAME.cmd and compare its stdout with NAME.out
#     (and its exit status with NAME.status, default 0). A .cmd without a
#     .out is reported and skipped: expected outputs are added when the
#     command exists (heapgrab core). With a NAME.err, stderr must match
#     too (the one-line errors of bad input). A .cmd may call skip_cmd
#     REASON; it runs in the test directory and may make files there.
# Commands see $CORE_TOOL $HEAPGRAB $CORE $GCORE $EXE $SYSROOT $EMPTY (an
# empty directory, e.g. for --debug-dir) $SET; the test directory's path
# in their output and errors is replaced by @WORK@, the set's by @SET@.
#
#   core-frozen.sh --regen   (re)write every NAME.out in the source tree
#                            from the current output; review the diff.
. "${srcdir:-.}/core-lib.sh"
core_init core-frozen
need_cmd xz
need_cmd sha256sum

regen=
[ "${1:-}" = --regen ] && regen=1
nsets=0 nran=0 nskipped=0

for set_dir in "$FIXTURE_CORES"/glibc-*-x86_64; do
	[ -d "$set_dir" ] || continue
	name=$(basename "$set_dir")
	nsets=$((nsets + 1))
	(cd "$set_dir" && sha256sum -c --quiet --strict MANIFEST) >"manifest.$name" 2>&1 ||
		fail "$name: fixture files damaged (MANIFEST): $(head -n 3 "manifest.$name")"

	work=$PWD/$name
	mkdir -p "$work/empty"
	for f in $(cd "$set_dir" && find . -name '*.xz' -type f); do
		mkdir -p "$work/$(dirname "$f")"
		xz -dc "$set_dir/$f" >"$work/${f%.xz}" ||
			framework_failure "$name: cannot decompress $f"
	done
	[ -s "$work/core" ] && [ -s "$work/gcore" ] && [ -s "$work/exe" ] ||
		framework_failure "$name: core, gcore or exe missing"
	chmod +x "$work/exe"
	cp "$set_dir/ready" "$set_dir/maps" .

	CORE=$work/core GCORE=$work/gcore EXE=$work/exe SYSROOT=$work/sysroot
	EMPTY=$work/empty SET=$set_dir
	export CORE_TOOL HEAPGRAB CORE GCORE EXE SYSROOT EMPTY SET

	# 3. The recorded facts, for both cores.
	gdb_major=$(awk '$1 == "gdb:" { split($NF, v, "."); print v[1] + 0 }' "$set_dir/RECIPE")
	for kind in core gcore; do
		c=$work/$kind
		CORE_OLD_GDB=0
		[ $kind = gcore ] && [ "${gdb_major:-99}" -lt 9 ] && CORE_OLD_GDB=1
		export CORE_OLD_GDB
		"$CORE_TOOL" --sysroot "$SYSROOT" --exe "$EXE" info "$c" >"info.$name.$kind" ||
			fail "$name/$kind: core-tool info failed"
		set -- $(head -n 1 ready)
		grep -qx "pid $2" "info.$name.$kind" || fail "$name/$kind: pid is not $2"
		tool_regs "info.$name.$kind" >"regs.$name.$kind"
		check_values "$name.$kind" "$c" "info.$name.$kind" "regs.$name.$kind"
		set -- $(libc_text "info.$name.$kind")
		if [ $# -eq 0 ] && [ $CORE_OLD_GDB = 1 ]; then
			# gdb < 9 lists no text mapping in NT_FILE.
			echo "note: $name/gcore: no libc text region (gdb < 9 gcore)"
		else
			[ $# -eq 3 ] || fail "$name/$kind: no libc text region"
			got=$("$CORE_TOOL" --sysroot "$SYSROOT" read "$c" "$1" 256)
			[ "$got" = "$(file_hex "$SYSROOT$3" "$2" 256)" ] ||
				fail "$name/$kind: libc text not read from the sysroot copy"
		fi
		"$CORE_TOOL" --sysroot "$SYSROOT" --exe "$EXE" check-files "$c" \
			>"files.$name.$kind"
		grep -qx "unusable 0" "files.$name.$kind" ||
			fail "$name/$kind: files unusable with the shipped sysroot"
	done

	# heapgrab's census of both cores: equal, and equal to the process's
	# own mallinfo2() (mallinfo() before 2.33), whatever this machine's
	# glibc is: target.glibc must be the set's.
	if [ -x "$HEAPGRAB" ] && "$HEAPGRAB" core --help >/dev/null 2>&1 &&
	   command -v "${PYTHON3:-python3}" >/dev/null 2>&1; then
		for kind in core gcore; do
			"$HEAPGRAB" core --exe "$EXE" --sysroot "$SYSROOT" \
				--debug-dir "$EMPTY" --format json "$work/$kind" \
				>"census.$name.$kind.json" 2>"census.$name.$kind.err" ||
				fail "$name/$kind: heapgrab core failed: $(head -n 3 "census.$name.$kind.err")"
		done
		"${PYTHON3:-python3}" "$srcdir/check-census.py" same \
			"census.$name.core.json" "census.$name.gcore.json" \
			>"census.$name.same" ||
			fail "$name: core and gcore censuses differ (see census.$name.same)"
		set_glibc=${name#glibc-}
		set_glibc=${set_glibc%-x86_64}
		"${PYTHON3:-python3}" "$srcdir/check-census.py" check \
			"census.$name.core.json" --ready ready --symbols disasm \
			--glibc "$set_glibc" >"census.$name.check" ||
			fail "$name: census does not match the recorded mallinfo2 (see census.$name.check)"
		echo "ok: $name: census of core = gcore = recorded mallinfo2 (glibc $set_glibc)"
	fi

	# 4. Recorded command outputs.
	for cmd in "$set_dir"/expected/*.cmd; do
		[ -f "$cmd" ] || continue
		base=${cmd%.cmd}
		t=$(basename "$base")
		case $(cat "$cmd") in
		*'$HEAPGRAB'*)
			if [ ! -x "$HEAPGRAB" ] ||
			   ! "$HEAPGRAB" core --help >/dev/null 2>&1; then
				echo "skip $name/$t: heapgrab core not built yet"
				nskipped=$((nskipped + 1))
				continue
			fi ;;
		esac
		st=0
		sh -c 'skip_cmd() { echo "$*" >&2; exit 77; }
		       . "$1"' sh "$cmd" >"$t.raw" 2>"$t.err" || st=$?
		if [ $st -eq 77 ]; then
			echo "skip $name/$t: $(cat "$t.err")"
			nskipped=$((nskipped + 1))
			continue
		fi
		sed "s|$set_dir|@SET@|g; s|$work|@WORK@|g; s|$PWD|@WORK@|g" "$t.raw" >"$t.out"
		sed "s|$set_dir|@SET@|g; s|$work|@WORK@|g; s|$PWD|@WORK@|g" "$t.err" >"$t.errn"
		want_st=0
		[ -f "$base.status" ] && want_st=$(cat "$base.status")
		if [ -n "$regen" ]; then
			cp "$t.out" "$base.out"
			rm -f "$base.status" "$base.err"
			[ $st -eq 0 ] || echo "$st" >"$base.status"
			[ -s "$t.errn" ] && cp "$t.errn" "$base.err"
			echo "regen $name/$t (status $st)"
			continue
		fi
		if [ ! -f "$base.out" ]; then
			echo "skip $name/$t: no expected output yet (run with --regen)"
			nskipped=$((nskipped + 1))
			continue
		fi
		[ "$st" = "$want_st" ] ||
			fail "$name/$t: exit status $st, expected $want_st ($(head -n 2 "$t.err"))"
		diff -u "$base.out" "$t.out" >"$t.diff" ||
			fail "$name/$t: output differs (see $t.diff)"
		if [ -f "$base.err" ]; then
			diff -u "$base.err" "$t.errn" >"$t.errdiff" ||
				fail "$name/$t: stderr differs (see $t.errdiff)"
		fi
		nran=$((nran + 1))
	done
	echo "ok: $name: recorded facts of core and gcore"
done

[ $nsets -gt 0 ] || framework_failure "no frozen core sets under $FIXTURE_CORES"
echo "frozen sets: $nsets, commands compared: $nran, skipped: $nskipped"
pass
