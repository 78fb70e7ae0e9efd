#!/bin/sh
# core-bad.sh - bad input for the core backend: never a crash, always the
# documented error (src/target/core.h):
#   not ELF / empty / garbage          HG_E_BAD_ELF
#   ELF but not ET_CORE                HG_E_NOT_CORE
#   not x86_64 (machine, class, order) HG_E_UNSUPPORTED
#   cut in the ELF header, program headers, notes or PT_LOAD data
#                                      HG_E_TRUNCATED (PT_LOAD data: opens
#                                      with allow_truncated, the cut bytes
#                                      unreadable, a "truncated" problem)
#   no file, a directory, a FIFO       ENOENT, EISDIR, EINVAL (no hang)
# The cores come from the glibc 2.36 frozen set (fixtures/cores/; the cuts
# below are placed for its layout), so this test runs on any machine with
# xz.
. "${srcdir:-.}/core-lib.sh"
core_init core-bad
need_cmd xz
need_cmd od

set_dir=$FIXTURE_CORES/glibc-2.36-x86_64
[ -f "$set_dir/core.xz" ] || framework_failure "no frozen core set $set_dir"
xz -dc "$set_dir/core.xz" >core && xz -dc "$set_dir/gcore.xz" >gcore &&
	xz -dc "$set_dir/exe.xz" >exe || framework_failure "cannot decompress"

# expect WANT FILE [core-tool options]: core-tool open FILE prints WANT.
expect()
{
	want=$1 file=$2
	shift 2
	got=$("$CORE_TOOL" "$@" open "$file" 2>"open.err")
	st=$?
	[ $st -eq 0 ] || fail "core-tool crashed or failed ($st) on $file: $(head -n 3 open.err)"
	[ "$got" = "$want" ] || fail "$file: '$got', expected '$want'"
	ncases=$((ncases + 1))
}
ncases=0

# u64 FILE OFFSET / u16 FILE OFFSET: little-endian integers from FILE.
u64() { od -An -v -tu8 -j "$2" -N 8 "$1" | tr -d ' '; }
u16() { od -An -v -tu2 -j "$2" -N 2 "$1" | tr -d ' '; }
# cut FILE LEN OUT
cut_at() { head -c "$2" "$1" >"$3"; }
# poke FILE OFFSET OCTAL...: overwrite bytes in place.
poke()
{
	f=$1 off=$2
	shift 2
	for b in "$@"; do
		# shellcheck disable=SC2059 # the format is the octal escape
		printf "\\$b" | dd of="$f" bs=1 seek="$off" conv=notrunc 2>/dev/null
		off=$((off + 1))
	done
}

expect "error ENOENT" no-such-file
mkdir adir
expect "error EISDIR" adir
if mkfifo afifo 2>/dev/null; then
	expect "error EINVAL" afifo
fi
: >empty
expect "error HG_E_BAD_ELF" empty
echo "this is not a core" >text
expect "error HG_E_BAD_ELF" text
dd if=core of=garbage bs=4096 skip=64 count=16 2>/dev/null
expect "error HG_E_BAD_ELF" garbage
expect "error HG_E_NOT_CORE" exe

expect ok core
expect ok gcore

# The layout of the kernel core.
phoff=$(u64 core 32)
phnum=$(u16 core 56)
notes_off='' notes_size='' load_off='' load_size='' load_vaddr='' prev_vaddr=''
i=0
while [ $i -lt "$phnum" ]; do
	ph=$((phoff + 56 * i))
	type=$(od -An -v -tu4 -j $ph -N 4 core | tr -d ' ')
	if [ "$type" = 4 ] && [ -z "$notes_off" ]; then
		notes_off=$(u64 core $((ph + 8)))
		notes_size=$(u64 core $((ph + 32)))
	fi
	if [ "$type" = 1 ] && [ "$(u64 core $((ph + 32)))" -ge 65536 ]; then
		# A big PT_LOAD near the middle of the file; remember the last
		# PT_LOAD before it that has data, to read from intact bytes.
		if [ -z "$load_off" ] && [ -n "$prev_vaddr" ]; then
			load_off=$(u64 core $((ph + 8)))
			load_size=$(u64 core $((ph + 32)))
			load_vaddr=$(u64 core $((ph + 16)))
		fi
	fi
	if [ "$type" = 1 ] && [ "$(u64 core $((ph + 32)))" -gt 0 ] && [ -z "$load_off" ]; then
		prev_vaddr=$(u64 core $((ph + 16)))
	fi
	i=$((i + 1))
done
[ -n "$notes_off" ] && [ -n "$load_off" ] || framework_failure "cannot parse the test core"

# Cut inside the ELF header.
cut_at core 3 cut; expect "error HG_E_BAD_ELF" cut
for n in 4 10 16 40 63; do cut_at core $n cut; expect "error HG_E_TRUNCATED" cut; done
# ... in the program headers, the notes, a PT_LOAD's data.
for n in 64 $((phoff + 10)) $((phoff + 56 * phnum - 1)) \
	 $notes_off $((notes_off + 100)) $((notes_off + notes_size - 1)) \
	 $((load_off + load_size / 2)) $(($(wc -c <core) - 1)); do
	cut_at core $n cut
	expect "error HG_E_TRUNCATED" cut
done
# Every 997th length through the headers and notes, and a few beyond.
n=4
while [ $n -lt $((notes_off + notes_size + 8192)) ]; do
	cut_at core $n cut
	expect "error HG_E_TRUNCATED" cut
	n=$((n + 997))
done
# Cut in PT_LOAD data: opens with --allow-truncated; bytes before the cut
# read, bytes after it do not, and the problem is recorded.
cut_at core $((load_off + load_size / 2)) cut
expect ok cut --allow-truncated
"$CORE_TOOL" --allow-truncated info cut >info.cut || fail "info on a cut core"
grep -q '^problem truncated HG_E_TRUNCATED ' info.cut ||
	fail "truncated PT_LOAD not reported"
[ "$("$CORE_TOOL" --allow-truncated read cut $((load_vaddr + load_size / 2 - 8)) 8)" != \
  "error HG_E_UNREADABLE" ] || fail "bytes before the cut unreadable"
[ "$("$CORE_TOOL" --allow-truncated read cut $((load_vaddr + load_size / 2)) 8)" = \
  "error HG_E_UNREADABLE" ] || fail "bytes after the cut readable"
[ "$("$CORE_TOOL" --allow-truncated read cut $((load_vaddr + load_size / 2 - 4)) 8)" = \
  "error HG_E_UNREADABLE" ] || fail "a read across the cut succeeded"
[ "$("$CORE_TOOL" --allow-truncated read cut $prev_vaddr 8)" != "error HG_E_UNREADABLE" ] ||
	fail "an intact earlier PT_LOAD unreadable"
# gcore puts its notes after the data: any cut loses them.
cut_at gcore $(($(wc -c <gcore) / 2)) cut
expect "error HG_E_TRUNCATED" cut
expect "error HG_E_TRUNCATED" cut --allow-truncated

# Headers that are not an x86_64 Linux core.
cp core bad; poke bad 18 267 000
expect "error HG_E_UNSUPPORTED" bad	# e_machine EM_AARCH64
cp core bad; poke bad 4 001
expect "error HG_E_UNSUPPORTED" bad	# ELFCLASS32
cp core bad; poke bad 5 002
expect "error HG_E_NOT_CORE" bad	# big endian: e_type reads 0x400
cp core bad; poke bad 5 002; poke bad 16 000 004
expect "error HG_E_UNSUPPORTED" bad	# big-endian core
cp core bad; poke bad 4 003
expect "error HG_E_BAD_ELF" bad		# no such class
cp core bad; poke bad 6 002
expect "error HG_E_BAD_ELF" bad		# EI_VERSION
cp core bad; poke bad 16 002 000
expect "error HG_E_NOT_CORE" bad	# ET_EXEC
cp core bad; poke bad 56 000 000
expect "error HG_E_BAD_ELF" bad		# e_phnum 0
cp core bad; poke bad 54 040 000
expect "error HG_E_BAD_ELF" bad		# e_phentsize 32
cp core bad; poke bad 32 000 000 000 000 000 001 000 000
expect "error HG_E_TRUNCATED" bad	# e_phoff past the end
cp core bad; poke bad 56 377 377
expect "error HG_E_BAD_ELF" bad		# PN_XNUM without section 0
# A PT_LOAD whose data offset points past the end of the file.
cp core bad; poke bad $((phoff + 56 + 8 + 7)) 177
expect "error HG_E_TRUNCATED" bad
expect ok bad --allow-truncated
# A note whose size runs past its PT_NOTE: the rest of the notes are
# dropped with a problem, the core still opens.
cp core bad; poke bad $((notes_off + 4)) 377 377 377 000
expect ok bad
"$CORE_TOOL" info bad >info.bad
grep -q '^problem bad-note ' info.bad || fail "malformed note not reported"

echo "bad-input cases: $ncases"
pass
