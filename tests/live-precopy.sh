#!/bin/sh
# live-precopy.sh - the pre-copy (buffers filled while the target runs,
# compared and corrected under the stop) gives the stopped instant, on a
# target that writes its memory all the time.
#
# fx-scribble: one thread sweeps a 40 MiB buffer writing a generation
# number into every word, page after page, and records in one word how far
# it got; another churns a 24 MiB arena of its own (free one block,
# malloc another). Both run while heapgrab pre-copies, so the buffers
# hold bytes of an earlier moment when the target stops.
#  1. attach -o FILE --contents -v (a copy of all writable memory): the
#     -v line says bytes were pre-copied and some of them found changed
#     under the stop; in the saved image (read by a small reader below,
#     not by heapgrab) the buffer reads exactly as the image's own
#     progress word says, page by page and word by word: one instant.
#     The same with HEAPGRAB_PRECOPY=0 (no pre-copy: "pre-copied 0").
#  2. attach --verify, with and without --no-types, with and without the
#     pre-copy (the census's narrower
#     copy, where the churned heap is a zero range): the target's own
#     mallinfo2(), called in the stopped target after the copy, agrees
#     with the census of the copy on every relation.
# Then the fixture's own checks pass (canaries, the buffer's sweep).
# The pre-copy is off by default (measured slower on an idle machine:
# src/target/ptrace-precopy.c); HEAPGRAB_PRECOPY=1 turns it on, and both
# ways are checked.
# shellcheck source-path=SCRIPTDIR source=init.sh
. "${srcdir=.}/init.sh"
# shellcheck source-path=SCRIPTDIR source=inject-lib.sh
. "$srcdir/inject-lib.sh"
require_ptrace_
command -v zstd > /dev/null 2>&1 || skip_ "zstd is missing (the image reader needs it)"
start_fixture fx-scribble

buf=$(fx_note_ buf)
pages=$(fx_note_ buf_pages)
progress=$(fx_note_ progress)
if [ -z "$buf" ] || [ -z "$pages" ] || [ -z "$progress" ]; then
	framework_failure_ "fx-scribble wrote no buf/buf_pages/progress notes"
fi

# precopy FILE: "PRECOPIED CHANGED" from heapgrab's -v line
precopy() {
	sed -n 's/.*debug: pause .* pre-copied \([0-9]*\) bytes, \([0-9]*\) changed.*/\1 \2/p' \
		"$1" | head -n 1
}

# scribble.py FILE BUF PAGES PROGRESS: the buffer in the image reads as
# the image's progress word says (fixtures/fx-scribble.c).
cat > scribble.py << 'EOF'
import struct, subprocess, sys
b = open(sys.argv[1], "rb").read()
buf, pages, progress = int(sys.argv[2], 16), int(sys.argv[3]), int(sys.argv[4], 16)
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
pieces = []        # (address, stored bytes, compressed)
for start, length in segs:
    for p in range(0, length, piece):
        word, = struct.unpack_from("<I", b, pos)
        z = word & 0x7fffffff
        pieces.append((start + p, min(piece, length - p), pos + 4, z, not word & 0x80000000))
        pos += 4 + z
cache = {}
def read(addr, n):
    out = b""
    while n:
        for k, (a, ln, at, z, comp) in enumerate(pieces):
            if a <= addr < a + ln:
                break
        else:
            sys.exit("0x%x is not in the image" % addr)
        if k not in cache:
            data = b[at:at + z]
            if comp:
                data = subprocess.run(["zstd", "-d", "-c"], input=data,
                                      stdout=subprocess.PIPE, check=True).stdout
            cache.clear()
            cache[k] = data
        m = min(n, a + ln - addr)
        out += cache[k][addr - a:addr - a + m]
        addr += m
        n -= m
    return out
pr, = struct.unpack("<Q", read(progress, 8))
g, done = pr >> 32, pr & 0xffffffff
if g < 1 or done > pages:
    sys.exit("progress word %#x makes no sense" % pr)
if done == pages:        # the next sweep may have begun on page 0
    g, done = g + 1, 0
words = struct.unpack("<%dQ" % (pages * 512), read(buf, pages * 4096))
for p in range(pages):
    w = words[p * 512:(p + 1) * 512]
    if p < done:
        ok = all(x == g for x in w)
    elif p > done:
        ok = all(x == g - 1 for x in w)
    else:
        k = 0
        while k < 512 and w[k] == g:
            k += 1
        ok = all(x == g - 1 for x in w[k:])
    if not ok:
        sys.exit("page %d of %d reads %s..., progress says generation %d, page %d"
                 % (p, pages, sorted(set(w))[:4], g, done))
print("generation %d, page %d of %d: every page agrees" % (g, done, pages))
EOF

for pc in 1 0; do
	saved=$HG_VALGRIND
	HG_VALGRIND="env HEAPGRAB_PRECOPY=$pc $saved"
	HG_OUT=c$pc.json HG_ERR=c$pc.err run_hg attach "$FX_PID" --format json -o c$pc.hgs \
		--contents -v
	HG_VALGRIND=$saved
	HG_ERR=c$pc.err expect_rc 0 "attach --contents -v (HEAPGRAB_PRECOPY=$pc)"
	check_untouched "$FX_PID"
	# shellcheck disable=SC2046 # two numbers
	set -- $(precopy c$pc.err)
	[ $# -eq 2 ] || fail_ "no pre-copy figures in the -v line: $(grep 'debug: pause' c$pc.err)"
	log_ "HEAPGRAB_PRECOPY=$pc: pre-copied $1 bytes, $2 changed under the stop"
	if [ "$pc" = 1 ]; then
		# the 40 MiB buffer at least, and it was being written
		[ "$1" -ge $((pages * 4096)) ] || fail_ "pre-copied $1 bytes, less than the buffer"
		[ "$2" -gt 0 ] || fail_ "nothing changed between the pre-copy and the stop"
	else
		if [ "$1" -ne 0 ] || [ "$2" -ne 0 ]; then
			fail_ "HEAPGRAB_PRECOPY=0 still pre-copied ($1 bytes, $2 changed)"
		fi
	fi
	"$PYTHON3" scribble.py c$pc.hgs "$buf" "$pages" "$progress" > scribble.out 2>&1 || {
		cat scribble.out >&2
		fail_ "the image is not one instant (HEAPGRAB_PRECOPY=$pc)"
	}
	log_ "$(cat scribble.out)"
done

if injectable_; then
	for run in "1 " "1 --no-types" "0 " "0 --no-types"; do
		pc=${run%% *}
		args=${run#* }
		saved=$HG_VALGRIND
		HG_VALGRIND="env HEAPGRAB_PRECOPY=$pc $saved"
		# shellcheck disable=SC2086 # args is a word list
		HG_OUT=v.json HG_ERR=v.err run_hg attach --verify "$FX_PID" --format json -v $args
		HG_VALGRIND=$saved
		HG_ERR=v.err expect_rc 0 "attach --verify $args (HEAPGRAB_PRECOPY=$pc)"
		# shellcheck disable=SC2046 # two numbers
		set -- $(precopy v.err)
		log_ "attach --verify $args: pre-copied ${1:-?} bytes, ${2:-?} changed"
		[ "$pc" = 0 ] || [ "${2:-0}" -gt 0 ] ||
			fail_ "attach --verify $args: nothing changed under the stop"
		"$PYTHON3" - v.json <<'EOF' || fail_ "attach --verify $args: the census is not the stop's"
import json, sys
v = json.load(open(sys.argv[1]))["verify"]
bad = [r for r in v["relations"] if not r["agree"]]
if not v["agree"] or bad:
    sys.exit("mallinfo2 disagrees: %s" % bad)
print("%d relations agree" % len(v["relations"]), file=sys.stderr)
EOF
		check_untouched "$FX_PID"
	done
else
	log_ "2. (--verify) not checked: $ri_why_"
fi
finish_fixture
