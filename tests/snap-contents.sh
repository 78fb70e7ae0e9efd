#!/bin/sh
# snap-contents.sh - attach -o FILE --contents saves the memory image too.
#
# fx-messy: the file with contents is mode 0600 and bigger than without;
# show's JSON equals attach's JSON (the image changes nothing there); the
# image's bytes at the start of the [heap], a page into it and at every
# arena (main_arena lives in libc's data, the others in their heaps) equal
# what gdb reads from the live, unchanged target.  The image is read from
# the file by a small reader below (python3 + the zstd tool, following
# doc/snapshot-format.md), not by heapgrab; that part is skipped when gdb
# or zstd is missing.  --contents without -o is a usage error.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
require_ptrace_

HG_OUT=usage.out run_hg attach 1 --contents
expect_rc 64 "attach --contents without -o"
head -n 1 hg.err | grep -q '^heapgrab: --contents needs -o' ||
	fail_ "attach --contents without -o: no usage error naming --contents"

start_fixture fx-messy
HG_OUT=plain.json run_hg attach "$FX_PID" --format json -o plain.hgs
expect_rc 0 "attach -o plain.hgs"
HG_OUT=attach.json run_hg attach "$FX_PID" --format json -o f.hgs --contents -v
expect_rc 0 "attach -o f.hgs --contents"
grep 'snapshot .*written in' hg.err >&2 || fail_ "-v printed no timing line"
check_untouched "$FX_PID"
mode=$(stat -c %a f.hgs)
[ "$mode" = 600 ] || fail_ "f.hgs has mode $mode, want 600"
plain=$(stat -c %s plain.hgs)
full=$(stat -c %s f.hgs)
log_ "without contents $plain bytes, with contents $full bytes"
[ "$full" -gt "$plain" ] || fail_ "--contents did not make the file bigger"

HG_OUT=show.json run_hg show f.hgs --format json
expect_rc 0 "show f.hgs --format json"
expect_empty hg.err "stderr of show"
cmp attach.json show.json || {
	diff attach.json show.json >&2
	fail_ "show's JSON of a contents snapshot differs from attach's"
}
cmp plain.json attach.json || fail_ "attach --contents printed another census"

if ! command -v "$GDB" > /dev/null 2>&1 || ! command -v zstd > /dev/null 2>&1; then
	log_ "no gdb or zstd: image bytes not checked against the target"
	finish_fixture
	exit 0
fi

heap=$(awk '$6 == "[heap]" { split($1, a, "-"); print "0x" a[1]; exit }' \
	"/proc/$FX_PID/maps")
[ -n "$heap" ] || fail_ "fx-messy has no [heap] mapping"
addrs="$heap $(printf '0x%x' $((heap + 4096 + 0x40)))"
addrs="$addrs $("$PYTHON3" -c '
import json, sys
print(" ".join(a["address"] for a in json.load(open(sys.argv[1]))["arenas"]))' attach.json)"

# image.py FILE ADDR: the 4 words at ADDR in the image, as gdb prints them.
cat > image.py << 'EOF'
import struct, subprocess, sys
b = open(sys.argv[1], "rb").read()
addr = int(sys.argv[2], 16)
hdr, nr, ent = struct.unpack_from("<III", b, 12)
for i in range(nr):
    sid, flags, off, stored = struct.unpack_from("<IIQQ", b, hdr + i * ent)
    if sid == 5:
        break
else:
    sys.exit("no memory section")
nseg, piece = struct.unpack_from("<QI", b, off)
segs = [struct.unpack_from("<QQ", b, off + 16 + 16 * k) for k in range(nseg)]
pos = off + 16 + 16 * nseg
for start, length in segs:
    for p in range(0, length, piece):
        word, = struct.unpack_from("<I", b, pos)
        z = word & 0x7fffffff
        data = b[pos + 4:pos + 4 + z]
        pos += 4 + z
        if start + p <= addr < start + p + min(piece, length - p):
            if not word & 0x80000000:
                data = subprocess.run(["zstd", "-d", "-c"], input=data,
                                      stdout=subprocess.PIPE, check=True).stdout
            o = addr - start - p
            print(" ".join("0x%016x" % w for w in struct.unpack_from("<4Q", data, o)))
            sys.exit(0)
sys.exit("0x%x is not in the image" % addr)
EOF

for a in $addrs; do
	"$PYTHON3" image.py f.hgs "$a" > img.words || fail_ "image: $(cat img.words)"
	"$GDB" -nx -batch -p "$FX_PID" -ex "x/4gx $a" > gdb.out 2> gdb.err < /dev/null ||
		fail_ "gdb could not read $a: $(cat gdb.err)"
	grep -E '^0x[0-9a-f]+( <[^>]*>)?:' gdb.out | sed 's/^[^:]*://' | tr -s ' \t' '\n' |
		grep . | tr '\n' ' ' | sed 's/ $//' > gdb.words
	echo >> gdb.words
	log_ "$a: image $(cat img.words) / gdb $(cat gdb.words)"
	cmp -s img.words gdb.words || fail_ "the image's bytes at $a differ from the target's"
done
check_untouched "$FX_PID"
finish_fixture
