#!/bin/sh
# core-live.sh - make a gcore and a kernel core of the running core-fx
# fixture and check what the core backend reads from each against the
# process itself: thread ids and registers (as gdb reads the same core),
# fs_base, the mapping table (/proc/PID/maps taken before), globals in the
# executable's .data/.bss, heap bytes, libc text bytes that the core left
# out (read from the mapped file), build-id checking through --sysroot,
# and --exe. When heapgrab is built: its census of each core equals its
# live census of the process and matches the fixture's mallinfo2().
#
# Skips (77) without gdb or ptrace permission; the kernel-core half is
# skipped alone when core_pattern pipes cores elsewhere.
. "${srcdir:-.}/core-lib.sh"
core_init core-live
need_cmd "${GDB:-gdb}"
need_cmd od

start_fx ready
cp "/proc/$FX_PID/maps" maps || framework_failure "cannot read maps"
FX_EXE=$(readlink "/proc/$FX_PID/exe")
# The live census first, when heapgrab is built (live, gcore and
# kernel core of one quiescent process give the same census).
have_hg=
if [ -x "$HEAPGRAB" ] && "$HEAPGRAB" core --help >/dev/null 2>&1 &&
   command -v "${PYTHON3:-python3}" >/dev/null 2>&1; then
	have_hg=1
	"$HEAPGRAB" attach --format json "$FX_PID" >live.json 2>live.err ||
		fail "heapgrab attach failed: $(head -n 3 live.err)"
fi
# Memory as the live process has it, for comparison with both cores: the
# writable mappings of libc (main_arena, mp_) and of the executable
# (.data, .bss), and the start of [heap]. The fixture is quiescent now.
awk '$2 ~ /^rw/ && ($6 ~ /\/libc\.so\.6$/ || $6 == "[heap]" || $6 == exe) {
	split($1, se, "-"); print se[1], se[2], $6 }' exe="$FX_EXE" maps >live-ranges
while read -r s e what; do
	len=$((0x$e - 0x$s))
	[ $len -le 65536 ] || len=65536
	dd if="/proc/$FX_PID/mem" of=live-mem.bin iflag=skip_bytes,count_bytes \
		bs=65536 skip=$((0x$s)) count=$len 2>/dev/null
	[ "$(wc -c <live-mem.bin)" -eq "$len" ] ||
		skip "cannot read /proc/$FX_PID/mem (ptrace not permitted?)"
	file_hex live-mem.bin 0 "$len" >"live-mem.$s"
	echo "$s $len $what" >>live-mem.list
done <live-ranges
[ -s live-mem.list ] || framework_failure "no writable libc/exe/heap mapping"
"${GDB:-gdb}" -nx -p "$FX_PID" -batch -ex "gcore gcore" >gdb-gcore.log 2>&1
[ -s gcore ] || skip "gdb could not gcore the fixture (ptrace not permitted?)"
kernel_core "$FX_PID"
[ -n "$KCORE" ] || echo "note: no kernel core (core_pattern '$(cat /proc/sys/kernel/core_pattern)'), checking gcore only" >&2

check_core()
{
	kind=$1 c=$2
	"$CORE_TOOL" info "$c" >"info.$kind" ||
		fail "$kind: core-tool info failed"

	grep -qx "pid $FX_PID" "info.$kind" || fail "$kind: wrong pid"
	grep -qx "exe $FX_EXE" "info.$kind" || fail "$kind: exe is not $FX_EXE"
	got=$(awk '$1 == "thread" { print $2 }' "info.$kind" | sort | tr '\n' ' ')
	want=$(for t in $FX_PID $FX_TIDS; do echo "$t"; done | sort | tr '\n' ' ')
	[ "$got" = "$want" ] || fail "$kind: threads '$got', expected '$want'"

	# Registers: identical to gdb's reading of the same core.
	gdb_regs "$FX_EXE" "$c" >"regs-gdb.$kind"
	tool_regs "info.$kind" >"regs-tool.$kind"
	[ -s "regs-gdb.$kind" ] || fail "$kind: gdb printed no registers"
	diff "regs-gdb.$kind" "regs-tool.$kind" >"regs.$kind.diff" ||
		fail "$kind: registers differ from gdb's (see regs.$kind.diff)"
	check_values "$kind" "$c" "info.$kind" "regs-tool.$kind"

	# Writable memory of libc, the executable and the heap: byte for
	# byte what the live process had.
	while read -r s len what; do
		[ "$("$CORE_TOOL" read "$c" "0x$s" "$len")" = "$(cat "live-mem.$s")" ] ||
			fail "$kind: $len bytes at 0x$s ($what) differ from the live process"
	done <live-mem.list

	# libc: its text is not in the core (kernel: p_filesz 0; gcore: no
	# PT_LOAD); its bytes must come from the file. Its .data is dumped.
	set -- $(libc_text "info.$kind")
	[ $# -eq 3 ] || fail "$kind: no libc text region"
	libc_text=$1 libc_off=$2 libc=$3
	got=$("$CORE_TOOL" read "$c" "$libc_text" 256)
	[ "$got" = "$(file_hex "$libc" "$libc_off" 256)" ] ||
		fail "$kind: libc text bytes differ from $libc"
	libc_data=$(awk '$1 == "region" && $3 == "rw-" && $5 ~ /\/libc\.so\.6$/ {
		split($2, se, "-"); print "0x" se[1]; exit }' "info.$kind")
	"$CORE_TOOL" read "$c" "$libc_data" 64 >"libc-data.$kind"
	grep -q error "libc-data.$kind" && fail "$kind: libc .data unreadable"

	"$CORE_TOOL" check-files "$c" >"files.$kind"
	grep -qx "unusable 0" "files.$kind" || fail "$kind: unusable files"
	grep -q '^problem' "files.$kind" && fail "$kind: problems on a clean core"

	# A sysroot whose libc is another build (one build-id byte changed)
	# and that lacks everything else.
	rm -rf sysroot
	mkdir -p "sysroot$(dirname "$libc")"
	cp "$libc" "sysroot$libc"
	id=$(awk -v l="$libc" '$1 == "file" && $2 == l {
		sub(/^build-id=/, "", $NF); print $NF }' "files.$kind")
	[ -n "$id" ] && [ "$id" != - ] || fail "$kind: no libc build-id in the core"
	flip_build_id "sysroot$libc" "$id" || framework_failure "cannot patch libc copy"
	"$CORE_TOOL" --sysroot "$PWD/sysroot" check-files "$c" >"files-sysroot.$kind"
	grep -q "^file $libc host=$PWD/sysroot$libc status=HG_E_BUILD_ID_MISMATCH" \
		"files-sysroot.$kind" || fail "$kind: libc build-id mismatch not seen"
	grep -q "^problem build-id-mismatch HG_E_BUILD_ID_MISMATCH mapped file '$libc'" \
		"files-sysroot.$kind" || fail "$kind: build-id mismatch not reported"
	grep -q "^file $FX_EXE .*status=HG_E_FILE_NOT_FOUND" "files-sysroot.$kind" ||
		fail "$kind: missing exe not reported"
	[ "$("$CORE_TOOL" --sysroot "$PWD/sysroot" read "$c" "$libc_text" 16)" = \
	  "error HG_E_UNREADABLE" ] || fail "$kind: read the wrong libc's text"
	[ "$("$CORE_TOOL" --sysroot "$PWD/sysroot" read "$c" "$libc_data" 64)" = \
	  "$(cat "libc-data.$kind")" ] || fail "$kind: libc .data must still read"

	# --exe: the executable found outside the sysroot.
	exe_text=$(awk -v e="$FX_EXE" '$1 == "region" && $3 == "r-x" && $5 == e {
		split($2, se, "-"); print "0x" se[1], "0x" $4; exit }' "info.$kind")
	set -- $exe_text
	cp "$FX_EXE" exe-copy
	got=$("$CORE_TOOL" --sysroot "$PWD/sysroot" --exe "$PWD/exe-copy" read "$c" "$1" 64)
	[ "$got" = "$(file_hex "$FX_EXE" "$2" 64)" ] ||
		fail "$kind: exe text not read through --exe"
	# heapgrab's census of the core: the live one, and mallinfo2's.
	if [ -n "$have_hg" ]; then
		"$HEAPGRAB" core --format json "$c" >"census.$kind.json" \
			2>"census.$kind.err" ||
			fail "$kind: heapgrab core failed: $(head -n 3 "census.$kind.err")"
		"${PYTHON3:-python3}" "$srcdir/check-census.py" check \
			"census.$kind.json" --ready ready >"census.$kind.check" ||
			fail "$kind: census does not match mallinfo2 (see census.$kind.check)"
		"${PYTHON3:-python3}" "$srcdir/check-census.py" same live.json \
			"census.$kind.json" >"census.$kind.same" ||
			fail "$kind: census differs from the live one (see census.$kind.same)"
	fi
	echo "ok: $kind core: $(grep -c '^thread ' "info.$kind") threads, $(grep -c '^region' "info.$kind") regions${have_hg:+, census = live = mallinfo2}"
}

# flip_build_id FILE HEXID: change the last byte of the build-id in FILE.
flip_build_id()
{
	if command -v python3 >/dev/null 2>&1; then
		python3 - "$1" "$2" <<'EOF'
import sys
p, hexid = sys.argv[1], sys.argv[2]
data = bytearray(open(p, 'rb').read())
i = data.find(bytes.fromhex(hexid))
if i < 0:
    sys.exit(1)
data[i + len(hexid) // 2 - 1] ^= 0xff
open(p, 'wb').write(data)
EOF
	else
		skip "python3 needed to patch a build-id"
	fi
}

check_core gcore gcore
[ -n "$KCORE" ] && check_core kernel "$KCORE"
pass
